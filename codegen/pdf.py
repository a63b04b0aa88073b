"""Compile LaTeX to PDF with a real TeX engine, safely and reproducibly.

latexmk runs pdflatex in a private temporary folder with shell escape off and
TeX's file access limited to that folder (``openout_any=p``, ``openin_any=p``).
The PDF's dates come from ``SOURCE_DATE_EPOCH`` (0 when unset), so the same
input gives the same bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

INSTALL_HINT = ("no TeX engine found (latexmk and pdflatex); install one with: apt-get install "
                "--no-install-recommends texlive-latex-base texlive-latex-recommended texlive-pictures latexmk")
TIMEOUT_S = 300


class TexError(RuntimeError):
    """The TeX run failed; the message quotes TeX's first error line."""


def engine_available() -> bool:
    """Whether latexmk and pdflatex are both on PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def compile_pdf(tex: str, stem: str = "document") -> bytes:
    """Compile LaTeX source and return the PDF's bytes."""
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    env.update(FORCE_SOURCE_DATE="1", openout_any="p", openin_any="p", shell_escape="f")
    with tempfile.TemporaryDirectory(prefix="stepgrad-tex-") as folder:
        source = Path(folder) / f"{stem}.tex"
        source.write_text(tex, encoding="utf-8")
        cmd = ["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               "-quiet", f"{stem}.tex"]
        try:
            run = subprocess.run(cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise TexError(f"the TeX run took longer than {TIMEOUT_S} s") from None
        pdf = Path(folder) / f"{stem}.pdf"
        if run.returncode != 0 or not pdf.exists():
            log = (Path(folder) / f"{stem}.log")
            text = log.read_text("utf-8", "replace") if log.exists() else run.stdout + run.stderr
            first = next((line for line in text.splitlines() if line.startswith("!")), "see the TeX log")
            raise TexError(f"pdflatex failed: {first}")
        return pdf.read_bytes()


def preview_available() -> bool:
    """Whether pdftoppm (poppler) is on PATH."""
    return shutil.which("pdftoppm") is not None


def preview_png(pdf_bytes: bytes, page: int, dpi: int = 80) -> bytes:
    """Render one page of a PDF as PNG bytes with pdftoppm."""
    with tempfile.TemporaryDirectory(prefix="stepgrad-png-") as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf_bytes)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                        str(source), str(Path(folder) / "page")], check=True, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
        return mark_png((Path(folder) / "page.png").read_bytes())


#: The PNG text chunk that marks a preview as stepgrad's.
PNG_MARK = b"Software\x00stepgrad"


def mark_png(png: bytes) -> bytes:
    """Insert a tEXt chunk 'Software: stepgrad' after the PNG header chunk."""
    end_of_ihdr = 8 + 8 + 13 + 4
    chunk = b"tEXt" + PNG_MARK
    crc = zlib.crc32(chunk).to_bytes(4, "big")
    return png[:end_of_ihdr] + len(PNG_MARK).to_bytes(4, "big") + chunk + crc + png[end_of_ihdr:]
