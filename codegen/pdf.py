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
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

from ..symbolic.inputs import one_line

INSTALL_HINT = ("no TeX engine found (latexmk and pdflatex); install one with: apt-get install "
                "--no-install-recommends texlive-latex-base texlive-latex-recommended texlive-pictures latexmk")
TIMEOUT_S = 120
#: What a TeX run costs, from its LaTeX source: measured 5.4 s for a feedback sheet of 1,500 answers
#: (0.7 MB, 9,000 lines), 8.0 s for 1,000 long answers (2.0 MB, 6,000 lines), 10.4 s for 1,800 answers in
#: Greek (1.3 MB); the largest worked example stepgrad derives is under 0.2 MB and 4,000 lines.
TEX_START_S = 1.5
TEX_S_PER_MB = 2.5
TEX_S_PER_LINE = 0.0007
#: Seconds of TeX a source may be estimated to need; a larger one is refused before TeX starts.
MAX_TEX_S = 12.0


def tex_seconds(tex: str) -> float:
    """The estimated seconds of TeX for LaTeX source *tex* (a quiet two-core machine).

    >>> round(tex_seconds("x\\n" * 9000 + "y" * 700_000), 1)
    9.5
    """
    return TEX_START_S + TEX_S_PER_MB * len(tex.encode("utf-8")) / 1024 ** 2 + TEX_S_PER_LINE * tex.count("\n")


class TexError(RuntimeError):
    """The TeX run failed; the message quotes TeX's first error line and where it happened."""


def engine_available() -> bool:
    """Whether latexmk and pdflatex are both on PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


#: The signals stepgrad's command line turns into an exception (SIGINT, SIGTERM, SIGHUP).
_DEFERRED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@contextmanager
def signals_deferred():
    """Hold SIGINT, SIGTERM and SIGHUP back while a resource is made and registered for cleanup.

    A signal that arrives inside the block is delivered when it ends, so it can
    never land between creating a temporary folder, file or process and
    recording it where the cleanup will find it.  A process started inside
    inherits the held signals; stepgrad stops its children with SIGKILL, which
    cannot be held.
    """
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    except (AttributeError, ValueError, OSError):  # no signal masks here: nothing to hold
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


#: The one job name of every TeX run: no file name, title or path of the user's reaches TeX's command line.
JOB = "document"


def _run(cmd: list[str], folder: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run *cmd* in *folder* in its own process group; on a timeout or an interrupt, kill the whole group.

    latexmk starts pdflatex as its own child: killing only latexmk would leave
    pdflatex writing into a folder that is being removed.  The process is
    started with signals held, so an interrupt cannot land after it exists and
    before it is known here; and the group is waited for before returning.
    """
    proc = None
    try:
        with signals_deferred():
            proc = subprocess.Popen(cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except BaseException:
        if proc is not None:
            with signals_deferred():
                _kill_group(proc)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of *proc*, reap it, and wait (up to 5 s) until no member is left."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:  # pdflatex, latexmk's child, dies after it
        time.sleep(0.01)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group *pgid* still runs (a zombie no longer writes; init reaps it)."""
    try:
        entries = os.listdir("/proc")
    except OSError:  # no /proc: SIGKILL was sent, and a killed process stops at once
        return False
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


@contextmanager
def private_folder(prefix: str):
    """A private temporary folder, removed on the way out whatever happens (an interrupt included).

    It is made and registered with signals held, and removed with them held,
    so no signal can land between its creation and the cleanup knowing of it.
    """
    folder = None
    try:
        with signals_deferred():
            folder = tempfile.mkdtemp(prefix=prefix)
        yield folder
    finally:
        if folder is not None:
            with signals_deferred():
                shutil.rmtree(folder, ignore_errors=True)


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
    A source estimated (:func:`tex_seconds`) beyond :data:`MAX_TEX_S` is refused before TeX starts.
    """
    seconds = tex_seconds(tex)
    if seconds > MAX_TEX_S:
        raise TexError(f"this PDF would need about {seconds:.0f} s of TeX ({len(tex.encode('utf-8')) / 1024 ** 2:.1f} MB, "
                       f"{tex.count(chr(10)):,} lines of LaTeX; at most {MAX_TEX_S:.0f} s): use --format md, "
                       f"or fewer answers")
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    env.update(FORCE_SOURCE_DATE="1", openout_any="p", openin_any="p", shell_escape="f")
    with private_folder("stepgrad-tex-") as folder:
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
    with private_folder("stepgrad-png-") as folder:
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
