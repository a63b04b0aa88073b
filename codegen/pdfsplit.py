"""Cut a PDF that pdfTeX wrote into parts at its page-number restarts, in pure Python.

An exercise's question sheets (and its solutions) are compiled as one LaTeX
document, so TeX runs once instead of once per variant; each variant starts a
new page with its page number set back to 1, which the document's page labels
record.  :func:`split_at_restarts` cuts the PDF there and returns each part as
a PDF of its own: the part's pages, only the objects they use (renumbered
from 1), and the document's information dictionary, written last so that the
part ends the way :func:`codegen.files.generated_by_stepgrad` recognises.

It reads what pdfTeX writes with ``\\pdfobjcompresslevel=0``: a classic
cross-reference table and no object streams; anything else is refused with
:class:`PdfSplitError`.  No program is run.  The same PDF gives the same
parts, byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Characters that end a PDF token (white space and delimiters).
_WHITE = b" \t\r\n\f\x00"
_DELIMS = b"()<>[]{}/%"
_TOKEN = re.compile(rb"[^ \t\r\n\f\x00()<>\[\]{}/%]+")
_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")
_STREAM = re.compile(rb"stream\r?\n")
#: A part may not hold more than this many objects (a pdfTeX page uses tens).
MAX_OBJECTS = 200_000


class PdfSplitError(ValueError):
    """The PDF is not one this module can cut (not pdfTeX's uncompressed object layout)."""


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``N G R`` and where it stands in the object's bytes."""

    num: int
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Name:
    """A PDF name such as /Type."""

    text: str


def _skip(data: bytes, i: int, end: int) -> int:
    """Skip white space and comments."""
    while i < end:
        c = data[i]
        if c in _WHITE:
            i += 1
        elif c == 0x25:  # % comment to the end of the line
            while i < end and data[i] not in b"\r\n":
                i += 1
        else:
            break
    return i


def _string_end(data: bytes, i: int, end: int) -> int:
    """The index after a literal string (balanced parentheses, backslash escapes) starting at *i*."""
    depth = 0
    while i < end:
        c = data[i]
        if c == 0x5C:  # backslash: the next byte is escaped
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise PdfSplitError("a string is not closed")


def _value(data: bytes, i: int, end: int, refs: list[Ref]) -> tuple[object, int]:
    """Parse one PDF value at *i*; every indirect reference met is appended to *refs*."""
    i = _skip(data, i, end)
    if i >= end:
        raise PdfSplitError("a value is missing")
    c = data[i:i + 1]
    if data.startswith(b"<<", i):
        out: dict = {}
        i += 2
        while True:
            i = _skip(data, i, end)
            if data.startswith(b">>", i):
                return out, i + 2
            key, i = _value(data, i, end, refs)
            if not isinstance(key, Name):
                raise PdfSplitError("a dictionary key is not a name")
            out[key.text], i = _value(data, i, end, refs)
    if c == b"[":
        items = []
        i += 1
        while True:
            i = _skip(data, i, end)
            if data.startswith(b"]", i):
                return items, i + 1
            item, i = _value(data, i, end, refs)
            items.append(item)
    if c == b"(":
        stop = _string_end(data, i, end)
        return data[i + 1:stop - 1], stop
    if c == b"<":
        stop = data.find(b">", i)
        if stop < 0 or stop >= end:
            raise PdfSplitError("a hex string is not closed")
        return data[i + 1:stop], stop + 1
    if c == b"/":
        m = _TOKEN.match(data, i + 1, end)
        return Name(m.group().decode("latin-1") if m else ""), (m.end() if m else i + 1)
    m = _TOKEN.match(data, i, end)
    if not m:
        raise PdfSplitError(f"unexpected byte {c!r}")
    word = m.group()
    if re.fullmatch(rb"\d+", word):
        ref = re.compile(rb"\s+(\d+)\s+R(?![^ \t\r\n\f\x00()<>\[\]{}/%])").match(data, m.end(), end)
        if ref:
            r = Ref(int(word), i, ref.end())
            refs.append(r)
            return r, ref.end()
        return int(word), m.end()
    if re.fullmatch(rb"[+-]?(\d+\.?\d*|\.\d+)", word):
        return float(word), m.end()
    return {b"true": True, b"false": False, b"null": None}.get(word, Name("?" + word.decode("latin-1"))), m.end()


@dataclass(frozen=True)
class _Object:
    """An object's value bytes (between ``obj`` and ``stream``/``endobj``), its parsed value, its stream.

    Its references' places are counted in the whole PDF; *head* starts at *base*.
    """

    head: bytes
    base: int
    value: object
    refs: tuple[Ref, ...]
    stream: bytes | None


class _Reader:
    """The objects of a pdfTeX PDF, read through its cross-reference table."""

    def __init__(self, data: bytes):
        self.data = data
        m = _STARTXREF.search(data[-64:])
        if not m:
            raise PdfSplitError("no startxref at the end")
        at = int(m.group(1))
        if not data.startswith(b"xref", at):
            raise PdfSplitError("the cross-reference is a stream (compressed objects); compile with "
                                "\\pdfobjcompresslevel=0")
        self.offsets: dict[int, int] = {}
        i = _skip(data, at + 4, len(data))
        while True:
            head = re.compile(rb"(\d+) (\d+)\s*\r?\n").match(data, i)
            if not head:
                break
            first, count = int(head.group(1)), int(head.group(2))
            i = head.end()
            for k in range(count):
                entry = data[i:i + 20]
                if len(entry) < 18 or entry[17:18] not in (b"n", b"f"):
                    raise PdfSplitError("a cross-reference entry is malformed")
                if entry[17:18] == b"n":
                    self.offsets[first + k] = int(entry[:10])
                i += 20
        i = _skip(data, i, len(data))
        if not data.startswith(b"trailer", i):
            raise PdfSplitError("no trailer after the cross-reference table")
        self.trailer, _ = _value(data, i + 7, len(data), [])
        if "Prev" in self.trailer:
            raise PdfSplitError("the PDF was updated incrementally")
        self._cache: dict[int, _Object] = {}

    def get(self, num: int) -> _Object:
        if num in self._cache:
            return self._cache[num]
        if num not in self.offsets:
            raise PdfSplitError(f"object {num} is missing")
        data = self.data
        m = _OBJ.match(data, self.offsets[num])
        if not m or int(m.group(1)) != num:
            raise PdfSplitError(f"object {num} is not where the cross-reference says")
        refs: list[Ref] = []
        value, i = _value(data, m.end(), len(data), refs)
        head = data[m.end():i]
        j = _skip(data, i, len(data))
        stream = None
        s = _STREAM.match(data, j)
        if s:
            length = value.get("Length") if isinstance(value, dict) else None
            if isinstance(length, Ref):
                length = self.get(length.num).value
            if not isinstance(length, int):
                raise PdfSplitError(f"object {num}: a stream without a length")
            stream = data[s.end():s.end() + length]
            if not re.compile(rb"\s*endstream").match(data, s.end() + length):
                raise PdfSplitError(f"object {num}: the stream's length is wrong")
        obj = _Object(head, m.end(), value, tuple(refs), stream)
        self._cache[num] = obj
        return obj

    def resolve(self, value):
        return self.get(value.num).value if isinstance(value, Ref) else value

    def pages(self) -> list[int]:
        """The page objects in order (a depth-first walk of the page tree)."""
        root = self.resolve(self.trailer.get("Root"))
        out: list[int] = []
        stack = [root.get("Pages")]
        seen = set()
        while stack:
            node = stack.pop()
            if not isinstance(node, Ref) or node.num in seen:
                raise PdfSplitError("the page tree is malformed")
            seen.add(node.num)
            value = self.get(node.num).value
            kind = value.get("Type")
            if kind == Name("Page"):
                out.append(node.num)
            elif kind == Name("Pages"):
                stack.extend(reversed(self.resolve(value.get("Kids", []))))
            else:
                raise PdfSplitError("the page tree holds something that is not a page")
        return out

    def label_starts(self) -> list[int]:
        """The page indices (from 0) where a page-label range starts: where numbering restarts."""
        root = self.resolve(self.trailer.get("Root"))
        labels = self.resolve(root.get("PageLabels"))
        if not isinstance(labels, dict):
            return [0]
        nums = self.resolve(labels.get("Nums", []))
        return [n for n in nums[0::2] if isinstance(n, int)]


def split_at_restarts(pdf: bytes, parts: int) -> list[bytes]:
    """Cut *pdf* into *parts* PDFs, each from one page-label start to the next.

    Refused (:class:`PdfSplitError`) unless the PDF has exactly *parts* page-label
    ranges, the first starting on page 1.
    """
    reader = _Reader(pdf)
    pages = reader.pages()
    starts = reader.label_starts()
    if len(starts) != parts or starts[0] != 0 or starts != sorted(set(starts)) or starts[-1] >= len(pages):
        raise PdfSplitError(f"expected {parts} page ranges, found {len(starts)} in {len(pages)} pages")
    bounds = starts + [len(pages)]
    return [_part(reader, pages[a:b]) for a, b in zip(bounds, bounds[1:])]


def _part(reader: _Reader, pages: list[int]) -> bytes:
    """One PDF of *pages*: the objects they reach (not their parent, not other pages), renumbered."""
    all_pages = set(reader.pages())
    keep: list[int] = []
    seen: set[int] = set()
    stack = list(reversed(pages))
    while stack:
        num = stack.pop()
        if num in seen or num not in reader.offsets or (num in all_pages and num not in pages):
            continue
        seen.add(num)
        keep.append(num)
        if len(keep) > MAX_OBJECTS:
            raise PdfSplitError("too many objects in one part")
        obj = reader.get(num)
        parent = obj.value.get("Parent") if isinstance(obj.value, dict) else None
        stack.extend(reversed([r.num for r in obj.refs if r is not parent]))
    info = reader.trailer.get("Info")
    info_num = info.num if isinstance(info, Ref) else None
    order = sorted(keep, key=lambda n: (n == info_num, n))  # the information dictionary last
    if info_num is not None and info_num not in seen:
        order.append(info_num)
    number = {old: k + 1 for k, old in enumerate(order)}
    pages_num, catalog_num = len(order) + 1, len(order) + 2
    out = bytearray(b"%PDF-1.5\n%\xd0\xd4\xc5\xd8\n")
    offsets: dict[int, int] = {}
    for old in order:
        obj = reader.get(old)
        offsets[number[old]] = len(out)
        head = bytearray()
        at = 0
        parent = obj.value.get("Parent") if old in pages and isinstance(obj.value, dict) else None
        for r in obj.refs:
            head += obj.head[at:r.start - obj.base]
            new = pages_num if r is parent else number.get(r.num)
            head += f"{new} 0 R".encode() if new is not None else b"null"
            at = r.end - obj.base
        head += obj.head[at:]
        out += f"{number[old]} 0 obj\n".encode() + bytes(head).strip() + b"\n"
        if obj.stream is not None:
            out += b"stream\n" + obj.stream + b"\nendstream\n"
        out += b"endobj\n"
    offsets[pages_num] = len(out)
    kids = " ".join(f"{number[p]} 0 R" for p in pages)
    out += f"{pages_num} 0 obj\n<< /Type /Pages /Count {len(pages)} /Kids [{kids}] >>\nendobj\n".encode()
    offsets[catalog_num] = len(out)
    out += (f"{catalog_num} 0 obj\n<< /Type /Catalog /Pages {pages_num} 0 R "
            f"/PageLabels << /Nums [0 << /S /D >>] >> >>\nendobj\n").encode()
    xref = len(out)
    size = catalog_num + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for k in range(1, size):
        out += f"{offsets[k]:010d} 00000 n \n".encode()
    digest = hashlib.md5(bytes(out)).hexdigest().upper()
    info_ref = f" /Info {number[info_num]} 0 R" if info_num is not None else ""
    out += (f"trailer\n<< /Size {size} /Root {catalog_num} 0 R{info_ref} /ID [<{digest}> <{digest}>] >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
