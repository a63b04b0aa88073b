"""Compile LaTeX to PDF with a real TeX engine, safely and reproducibly.

latexmk runs pdflatex in a private temporary folder with shell escape off and
TeX's file access limited to that folder (``openout_any=p``, ``openin_any=p``),
under a fixed job name: nothing the user chose is on its command line.  The
whole process group is killed on a timeout or an interrupt.
The PDF's dates come from ``SOURCE_DATE_EPOCH`` (0 when unset), so the same
input gives the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import zlib
from pathlib import Path

from symbolic.inputs import one_line

INSTALL_HINT = ("no TeX engine found (latexmk and pdflatex); install one with: apt-get install "
                "--no-install-recommends texlive-latex-base texlive-latex-recommended texlive-pictures latexmk")
TIMEOUT_S = 120


class TexError(RuntimeError):
    """The TeX run failed; the message quotes TeX's first error line and where it happened."""


def engine_available() -> bool:
    """Whether latexmk and pdflatex are both on PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


#: The one job name of every TeX run: no file name, title or path of the user's reaches TeX's command line.
JOB = "document"


def _run(cmd: list[str], folder: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run *cmd* in *folder* in its own process group; on a timeout or an interrupt, kill the whole group.

    latexmk starts pdflatex as its own child: killing only latexmk would leave
    pdflatex writing into a folder that is being removed.
    """
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except BaseException:
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.kill()
    proc.communicate()


def first_error(log: str) -> str:
    """TeX's first error ('! ...') with the line it names ('l.12 ...'), on one line; '' when none."""
    lines = log.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("!"):
            message = line[1:].strip()
            where = next((m for m in lines[k + 1:k + 12] if re.match(r"l\.\d+ ", m)), "")
            if where:
                number, _, context = where.partition(" ")
                message += f" (at line {number[2:]} of the LaTeX source: {context.strip()[-60:]!r})"
            return one_line(message)[:300]
    return ""


def compile_pdf(tex: str, stem: str = JOB) -> bytes:
    """Compile LaTeX source and return the PDF's bytes.

    The run happens in a private temporary folder under the fixed job name
    :data:`JOB`; *stem* is accepted for callers' convenience and ignored, so
    that no user-chosen name (``-pdflatex=...``, ``50%``) reaches latexmk or TeX.
    """
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    env.update(FORCE_SOURCE_DATE="1", openout_any="p", openin_any="p", shell_escape="f")
    with tempfile.TemporaryDirectory(prefix="stepgrad-tex-") as folder:
        source = Path(folder) / f"{JOB}.tex"
        source.write_text(tex, encoding="utf-8")
        cmd = ["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
               "-quiet", f"-jobname={JOB}", f"./{JOB}.tex"]
        try:
            run = _run(cmd, folder, env)
        except subprocess.TimeoutExpired:
            raise TexError(f"the TeX run took longer than {TIMEOUT_S} s") from None
        pdf = Path(folder) / f"{JOB}.pdf"
        if run.returncode != 0 or not pdf.exists():
            log = Path(folder) / f"{JOB}.log"
            text = log.read_text("utf-8", "replace") if log.exists() else run.stdout + run.stderr
            first = first_error(text) or one_line((run.stderr.strip().splitlines() or ["no error line"])[-1])[:200]
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
        try:
            run = _run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                        str(source), str(Path(folder) / "page")], folder)
        except subprocess.TimeoutExpired:
            raise TexError(f"pdftoppm took longer than {TIMEOUT_S} s") from None
        if run.returncode != 0 or not (Path(folder) / "page.png").exists():
            raise TexError(f"pdftoppm failed: {one_line(run.stderr.strip())[:200] or 'no message'}")
        return mark_png((Path(folder) / "page.png").read_bytes())


#: The PNG text chunk that marks a preview as stepgrad's.
PNG_MARK = b"Software\x00stepgrad"


def mark_png(png: bytes) -> bytes:
    """Insert a tEXt chunk 'Software: stepgrad' after the PNG header chunk."""
    end_of_ihdr = 8 + 8 + 13 + 4
    chunk = b"tEXt" + PNG_MARK
    crc = zlib.crc32(chunk).to_bytes(4, "big")
    return png[:end_of_ihdr] + len(PNG_MARK).to_bytes(4, "big") + chunk + crc + png[end_of_ihdr:]
