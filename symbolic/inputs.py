"""Read untrusted files (specs, answers files) with every size bounded, before any parser runs.

Everything a student hands in is untrusted: its name, its size, its contents.
This module is the one place that turns such a file into text:

* :func:`read_text` opens only a regular file (never a device, a FIFO or a
  socket, which could block or never end), reads at most ``max_bytes + 1``
  bytes, and decodes UTF-8 (a leading byte-order mark is accepted and dropped);
* :func:`prescan` bounds, in one linear pass and before ``tomllib`` sees the
  text, what would make parsing slow or a later step blow up: the number of
  keys, the parts of a dotted key, the nesting depth, the digits of a number
  and the size of an exponent;
* :func:`parse_toml` runs both and reports TOML's own errors as one line
  naming the file and the line.

Every refusal is a :class:`SpecError` (a ``ValueError``) of one line that
states the limit.  Long user text in a message is cut by :func:`shorten`, and
:func:`one_line` shows control and invisible characters as escapes, so a
hostile name can neither flood nor rewrite the terminal.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from decimal import Decimal

#: Characters of user text shown in a message before it is cut with an ellipsis.
SHOWN = 60
#: A message is never longer than this (a safety net behind :func:`shorten`).
MAX_MESSAGE = 600


def one_line(text: str) -> str:
    """Show non-printable characters (ESC, newlines, RTL marks, NUL) as escapes, keeping text on one line.

    This is stepgrad's one terminal escaper: everything that reaches a terminal
    and may hold user text passes through it.

    >>> one_line("a\\x1b[31mb\\n")
    'a\\\\x1b[31mb\\\\n'
    """
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def shorten(text: object, limit: int = SHOWN) -> str:
    """Cut user text for a message: its first *limit* characters and '…' when it is longer.

    >>> shorten("x" * 100)[-3:], len(shorten("x" * 100))
    ('xx…', 61)
    """
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


class SpecError(ValueError):
    """A problem in user input (a spec, an answers file, a command line), told in one line.

    Control, format and line-separator characters in the message (from a
    hostile key or file name) are shown escaped, and an overlong message is cut.
    """

    def __init__(self, message: object = ""):
        text = one_line(str(message))
        super().__init__(text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…")

    def _render_traceback_(self) -> list[str]:
        """Jupyter (IPython) shows a SpecError as its one line, as the command line does, not as a
        traceback into stepgrad's code: the problem is in the input, not the program."""
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Caps:
    """Size limits for one kind of input file; each refusal states the one it met."""

    #: Bytes of the whole file.
    max_bytes: int = 4 * 1024 * 1024
    #: Key-value pairs (every '=' outside strings and comments counts as one).
    max_keys: int = 20_000
    #: Parts of one dotted key or table header (a.b.c has 3).
    max_key_parts: int = 8
    #: Nesting of arrays, inline tables and table headers.
    max_depth: int = 16
    #: Digits of one number, before and after the point together.
    max_digits: int = 60
    #: Digits of a number's exponent (1e999 has 3).
    max_exponent_digits: int = 3
    #: Characters of one bare key.
    max_key_length: int = 200


#: A spec: up to 4 MiB (the benchmark's 784-input samples need about 1 MiB).
SPEC_CAPS = Caps()
#: An answers file: one line per answer, far fewer than a spec's numbers.
ANSWERS_CAPS = Caps(max_bytes=1024 * 1024, max_keys=5_000)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else (
        f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} bytes")


def read_text(path: str | os.PathLike, what: str = "file", max_bytes: int = SPEC_CAPS.max_bytes,
              shown: str | None = None) -> str:
    """Return the UTF-8 text of the regular file at *path*, refusing anything else in one line.

    *what* names the file's role in messages ("spec file", "answers file");
    *shown* is how the path is written in them (default: the path, escaped).
    Only a regular file is opened (a symbolic link to one is followed); a
    device, FIFO, socket or folder is refused before it is opened, and the
    opened file is checked again, so a swap in between cannot block the read.
    """
    name = shown if shown is not None else os.fspath(path)
    a = ("an " if what[:1] in "aeiou" else "a ") + what
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SpecError(f"{name}: no such {what}") from None
    except OSError as exc:
        raise SpecError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise SpecError(f"{name}: is a folder, not {a}")
    if not stat.S_ISREG(st.st_mode):
        raise SpecError(f"{name}: is {kind_of(st.st_mode)}, not a regular file; give {a}")
    if st.st_size > max_bytes:
        raise SpecError(f"{name}: is {st.st_size} bytes; {a} may have at most {_size(max_bytes)}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SpecError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SpecError(f"{name}: is not a regular file; give {a}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise SpecError(f"{name}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise SpecError(f"{name}: is larger than {_size(max_bytes)}, the most {a} may have")
    return decode(b"".join(chunks), name)


def decode(raw: bytes, name: str) -> str:
    """Decode UTF-8 text, dropping a leading byte-order mark; refuse other encodings in one line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError(f"{name}: is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SpecError(f"{name}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8") from None


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words, for messages ("a named pipe (FIFO)")."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


# -- the pre-scan ---------------------------------------------------------------------

#: TOML strings and comments, which the pre-scan skips (their text is data, not structure).
_SKIP = re.compile(r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)|"(?:[^"\\\n]|\\.)*"?|\'[^\'\n]*\'?|#[^\n]*')
_BARE = r"(?:[A-Za-z0-9_\-]++|\x00)"


@functools.cache
def _patterns(caps: Caps) -> dict[str, re.Pattern]:
    """Patterns that match only what breaks a cap, so a clean document is scanned at C speed.

    Each starts only where its kind of run starts, and its quantifiers never
    give back, so no text makes a pattern slower than linear.
    """
    return {
        # key parts (bare, or a string shown as NUL) joined by more dots than the cap allows
        "dotted": re.compile(rf"(?<![A-Za-z0-9_\-]){_BARE}(?:[ \t]*+\.[ \t]*+{_BARE}){{{caps.max_key_parts},}}+"),
        # a number run (digits, underscores, a point) long enough to hold too many digits
        "digits": re.compile(rf"(?<![0-9_.])[0-9][0-9_.]{{{caps.max_digits},}}+"),
        "exponent": re.compile(rf"(?<=[0-9.])[eE][+-]?+0*+([0-9_]{{{caps.max_exponent_digits + 1},}}+)"),
        "bare": re.compile(rf"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{{{caps.max_key_length + 1},}}+"),
    }


def prescan(text: str, where: str, caps: Caps = SPEC_CAPS) -> None:
    """Refuse, in time linear in the text, a TOML document whose parsing or use would be unbounded.

    Strings and comments are skipped (each counts as one key part); what is
    left is the document's structure, whose keys, dotted parts, nesting and
    numbers are counted against *caps*.
    """
    def fail(index: int, message: str) -> SpecError:
        line = structure.count("\n", 0, index) + 1
        key = _key_at(text, line)
        return SpecError(f"{where}:{line}: {key + ': ' if key else ''}{message}")

    structure = _SKIP.sub(lambda m: "\n" * m.group().count("\n") + ("" if m.group().startswith("#") else "\x00"),
                          text)
    keys = structure.count("=")
    if keys > caps.max_keys:
        raise SpecError(f"{where}: has {keys} keys; at most {caps.max_keys} are allowed")
    found = _patterns(caps)
    m = found["dotted"].search(structure)
    if m:
        raise fail(m.start(), f"a dotted key or name of {m.group().count('.') + 1} parts; at most "
                              f"{caps.max_key_parts} are allowed")
    brackets = re.sub(r"[^\[\]{}]++", "", structure)
    if brackets and max(itertools.accumulate(map(_DEPTH.__getitem__, brackets))) > caps.max_depth:
        depth = 0
        for m in re.finditer(r"[\[\]{}]", structure):
            depth = max(0, depth + (1 if m.group() in "[{" else -1))
            if depth > caps.max_depth:
                raise fail(m.start(), f"arrays or tables nested too deeply (at most {caps.max_depth} levels)")
    for m in found["digits"].finditer(structure):
        digits = sum(ch.isdigit() for ch in m.group())
        if digits > caps.max_digits:
            raise fail(m.start(), f"a number of {digits} digits; at most {caps.max_digits} are allowed")
    m = found["exponent"].search(structure)
    if m:
        raise fail(m.start(), f"the exponent e{shorten(m.group(1), 12)} is too large; "
                              f"exponents have at most {caps.max_exponent_digits} digits")
    m = found["bare"].search(structure)
    if m:
        raise fail(m.start(), f"a key or value of {len(m.group())} characters "
                              f"({shorten(m.group(), 20)}); at most {caps.max_key_length} are allowed")


#: The depth step of each bracket and brace.
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}


def _key_at(text: str, line: int) -> str:
    """The dotted key a line of TOML sets, with its table's name: 'parameters.w1' (or '' when unclear)."""
    lines = text.split("\n", line)[:line]
    if len(lines) < line:
        return ""
    m = re.match(r"\s*([A-Za-z0-9_\-\"'. ]{1,80}?)\s*=", lines[-1])
    if not m:
        return ""
    table = ""
    for previous in reversed(lines[:-1]):
        h = re.match(r"\s*\[\[?\s*([A-Za-z0-9_\-\"'. ]{1,80}?)\s*\]\]?\s*(#.*)?$", previous)
        if h:
            table = h.group(1).replace(" ", "") + "."
            break
    return shorten((table + m.group(1).replace(" ", "")).replace('"', "").replace("'", ""), 80)


def parse_toml(text: str, where: str, caps: Caps = SPEC_CAPS) -> dict:
    """Pre-scan, then parse TOML text with floats kept exact (Decimal), or raise SpecError with the line."""
    prescan(text, where, caps)
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except RecursionError:
        raise SpecError(f"{where}: not valid TOML: arrays or tables nested too deeply") from None
    except (tomllib.TOMLDecodeError, ValueError, ArithmeticError) as exc:
        message = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", message)
        if m:
            line, message = m.group(1), message[:m.start()] + message[m.end():]
        else:
            line = str(max(1, text.count("\n") + (0 if text.endswith("\n") else 1)))
            message = message.replace(" (at end of document)", " at the end of the file")
        if not isinstance(exc, tomllib.TOMLDecodeError):
            message = f"a value cannot be read ({shorten(message, 80)})"
        raise SpecError(f"{where}:{line}: not valid TOML: {message}") from None
