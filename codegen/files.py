"""The one place stepgrad writes files: atomically, and never over a file it did not make.

A file is stepgrad's only when it starts the way stepgrad starts every file
it writes (:func:`generated_by_stepgrad`): the exact header line at the very
top (for the Python module, the line after its docstring's first line; for an
XML file, the line after its declaration), the PDF's own creator entry in its
trailer, the PNG's own text chunk right after its header, a zip's comment.  A
file that merely mentions stepgrad is not.

Only regular files are ever read or replaced: a device, FIFO, socket or
folder is refused, even with ``--force``, and so is a symbolic link unless
``--force`` is given (then the link itself is replaced, never its target).
Everything is checked before the first byte is written, and
:func:`check_writable` can be called before any expensive work.  A replaced
file keeps its permissions; a new one gets the user's umask.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from ..symbolic.inputs import kind_of, shorten
from ..symbolic.spec import SpecError

from .pdf import PNG_MARK, signals_deferred
from .render import MARKER

#: The header line stepgrad writes (codegen.render.source_line), as a pattern.
HEADER = re.compile(re.escape(MARKER) + r" \d+\.\d+\.\d+ from the spec ('[A-Za-z0-9][A-Za-z0-9._-]{0,80}'|file) "
                    r"\(.*\)\. Do not edit\.")
#: The first line of each kind of text file stepgrad writes: LaTeX and Markdown carry the header there.
_FIRST_LINES = (re.compile(r"% (?P<h>.*)"), re.compile(r"<!-- (?P<h>.*) -->"))
#: The generated Python module: its docstring's first line, an empty line, then the header.
_PY_FIRST = re.compile(r'"""[^"\\]*(?:"[^"\\]*"[^"\\]*)?')

#: The PDF's trailer entries hyperref writes for stepgrad: plain, or UTF-16 with octal escapes.
_PDF_MARKS = (b"/Creator(stepgrad)/Producer(stepgrad)",
              b"/Creator(\\376\\377" + b"".join(b"\\000" + bytes([c]) for c in b"stepgrad") + b")/Producer(\\376\\377"
              + b"".join(b"\\000" + bytes([c]) for c in b"stepgrad") + b")")
#: A PDF's trailer (its /Info entries) lies within this many bytes of its end.
_PDF_TAIL = 16384
#: A zip's end record (22 bytes and a comment of at most 65535) lies within this many bytes of its end.
_ZIP_TAIL = 22 + 65535
#: The first line of an XML file stepgrad writes; its header comment is the second.
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
#: The PNG signature and header chunk, then stepgrad's tEXt chunk (codegen.pdf.mark_png).
_PNG_AT = 8 + 8 + 13 + 4
_PNG_CHUNK = len(PNG_MARK).to_bytes(4, "big") + b"tEXt" + PNG_MARK


def _shown(path: Path) -> str:
    return shorten(str(path), 200)


def generated_by_stepgrad(path: Path) -> bool:
    """Whether an existing regular file starts the way every file stepgrad writes starts.

    Never blocks: only a regular file is opened, without following a FIFO.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        head = os.pread(fd, 4096, 0)
        if head.startswith(b"%PDF-"):
            start = max(0, st.st_size - _PDF_TAIL)
            tail = os.pread(fd, st.st_size - start, start)
            return tail.rstrip().endswith(b"%%EOF") and any(mark in tail for mark in _PDF_MARKS)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return head[_PNG_AT:_PNG_AT + len(_PNG_CHUNK)] == _PNG_CHUNK
        if head.startswith(b"PK\x03\x04"):  # a zip (the LMS packages): the header is the archive's comment
            start = max(0, st.st_size - _ZIP_TAIL)
            tail = os.pread(fd, st.st_size - start, start)
            end = tail.rfind(b"PK\x05\x06")
            comment = tail[end + 22:] if end >= 0 and len(tail) - end >= 22 else b""
            return (end >= 0 and int.from_bytes(tail[end + 20:end + 22], "little") == len(comment)
                    and bool(HEADER.fullmatch(comment.decode("utf-8", "replace"))))
        if head.startswith(_XML_DECLARATION.encode() + b"\n"):  # the Moodle quiz: the header is the second line
            m = _FIRST_LINES[1].fullmatch(head.split(b"\n", 2)[1].decode("utf-8", "replace"))
            return bool(m and HEADER.fullmatch(m.group("h")))
    except OSError:
        return False
    finally:
        os.close(fd)
    try:
        lines = head.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return False
    if len(lines) < 2:
        return False
    for pattern in _FIRST_LINES:
        m = pattern.fullmatch(lines[0])
        if m and HEADER.fullmatch(m.group("h")):
            return True
    return (len(lines) > 3 and bool(_PY_FIRST.fullmatch(lines[0])) and lines[1] == ""
            and bool(HEADER.fullmatch(lines[2])))


def _check_folder(path: Path) -> None:
    """The folder *path* goes in must be a folder we may write in, or creatable there."""
    parent = path.parent
    while True:
        try:
            st = os.stat(parent)
        except NotADirectoryError:  # a file further up: find it
            parent = parent.parent
            continue
        except FileNotFoundError:
            if parent.parent == parent:
                raise SpecError(f"{_shown(path)}: cannot write: no such folder") from None
            parent = parent.parent
            continue
        except OSError as exc:
            raise SpecError(f"{_shown(path)}: cannot write: {exc.strerror or exc}") from None
        break
    if not stat.S_ISDIR(st.st_mode):
        raise SpecError(f"{_shown(path)}: cannot write: {_shown(parent)} is {kind_of(st.st_mode)}, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SpecError(f"{_shown(path)}: cannot write: no permission to write in the folder {_shown(parent)}")


def check_writable(paths: list[Path], force: bool) -> None:
    """Refuse, before anything is written (and before any work), an output stepgrad may not write.

    Refused: two outputs to one file, a folder or a special file (device,
    FIFO, socket, or a link to one) in the way, a folder that cannot hold the
    file, and, without *force*, a symbolic link or a file stepgrad did not write.
    """
    seen: dict[str, Path] = {}
    for path in paths:
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            raise SpecError(f"{_shown(path)}: two outputs would go to the same file")
        seen[key] = path
        try:
            link = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            _check_folder(Path(path))
            continue
        except OSError as exc:
            raise SpecError(f"{_shown(path)}: cannot write: {exc.strerror or exc}") from None
        try:
            st = os.stat(path)
        except OSError:
            st = link  # a dangling link: the link itself would be replaced
        if stat.S_ISDIR(st.st_mode):
            raise SpecError(f"{_shown(path)}: is a folder; give a file name")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise SpecError(f"{_shown(path)}: is {kind_of(st.st_mode)}; stepgrad writes only regular files, "
                            "even with --force")
        _check_folder(Path(path))
        if stat.S_ISLNK(link.st_mode) and not force:
            raise SpecError(f"{_shown(path)}: is a symbolic link; use --force to replace the link "
                            "(its target is left alone)")
        if not force and not generated_by_stepgrad(Path(path)):
            raise SpecError(f"{_shown(path)}: exists and was not generated by stepgrad; "
                            "use --force to overwrite it")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The permissions a file written at *path* gets: those of the regular file it replaces, else the umask's."""
    try:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode) & 0o777
    except OSError:
        pass
    return 0o666 & ~_umask()


def write_all(outputs: dict[Path, bytes], force: bool = False) -> None:
    """Write every output atomically, after checking them all: all temporary files first, then renames.

    A failure while writing (a full disk, an interrupt, SIGTERM turned into an
    exception by the command line) leaves every existing file as it was and no
    temporary file or newly made folder behind; only the renames, each atomic,
    come after the last byte is safely on disk.
    """
    paths = list(outputs)
    check_writable(paths, force)
    temps: list[tuple[str, Path]] = []
    made: list[Path] = []  # folders made here, removed again if the writing fails
    renamed = 0
    path = paths[0] if paths else Path()
    try:
        for path, data in outputs.items():
            _make_folders(path.parent, made)
            mode = _mode_for(path)
            with signals_deferred():  # no interrupt between making the temporary file and recording it
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
                temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fchmod(fh.fileno(), mode)
                os.fsync(fh.fileno())
        with signals_deferred():  # the renames are quick: an interrupt waits until all are done
            while temps:
                tmp, path = temps[0]
                os.replace(tmp, path)
                temps.pop(0)
                renamed += 1
    except OSError as exc:
        changed = "nothing was changed" if renamed == 0 else f"{renamed} of {len(outputs)} files were replaced"
        raise SpecError(f"{_shown(path)}: cannot write: {exc.strerror or exc}; {changed}") from None
    finally:
        with signals_deferred():
            for tmp, _ in temps:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
            if renamed < len(outputs):
                for folder in reversed(made):
                    try:
                        folder.rmdir()
                    except OSError:  # not empty: an earlier rename put a file there
                        pass


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Make *folder* and the missing folders above it, recording each (signals held) in *made*."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        with signals_deferred():
            try:
                new.mkdir()
            except FileExistsError:
                continue
            made.append(new)
