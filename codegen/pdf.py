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
