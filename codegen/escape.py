"""The one escaper for each language stepgrad writes user text into: TeX, Markdown/HTML, the terminal.

Every string that comes from a user (a title, ``reference.source``, a file
name, an answer key or value, a checker message quoting them) passes through
exactly one of these on its way out; nothing else in stepgrad escapes text.

* :func:`tex` makes any string plain text for LaTeX's text mode: the ten
  special characters become their text commands, Greek letters and common
  symbols become math (``δ`` → ``\\ensuremath{\\delta}``), accented and
  full-width letters their ASCII base, anything else ``?``; so pdflatex can
  neither run a command from it nor stop on an unknown character.
* :func:`markdown` escapes Markdown and HTML markup (no raw HTML, no emphasis,
  links, math or table cells can open), :func:`md_code` makes a code span that
  no backtick inside can close, :func:`html_comment` keeps text inside
  ``<!-- ... -->``, :func:`link` makes a file name a relative link target
  (percent-encoded: no space, parenthesis, bracket or line break is left).
* :func:`xml` escapes text for an SVG (XML) element's content and
  :func:`xml_comment` keeps text inside an XML comment; characters XML
  cannot carry at all become U+FFFD.
* :func:`cloze` escapes text as HTML for a Moodle Cloze question, where no
  subquestion (``{1:NUMERICAL:=1}``) can open.
* :func:`terminal` shows control characters (ESC sequences, carriage returns,
  RTL marks) as escapes, so a message cannot rewrite the teacher's terminal.
"""

from __future__ import annotations

import os
import re
import unicodedata
from urllib.parse import quote

from ..symbolic.inputs import one_line

__all__ = ["decodable", "tex", "markdown", "md_code", "html_comment", "link", "xml", "xml_comment", "cloze", "terminal"]

#: The terminal escaper (shared with the one-line error messages of symbolic.inputs).
terminal = one_line

#: Lone surrogates: how Python holds the bytes of a file name that are not UTF-8 (b"\xff" is "\udcff").
_SURROGATE = re.compile("[\ud800-\udfff]")


def decodable(text: str) -> str:
    """Text that can be written as UTF-8: a file name's undecodable bytes become U+FFFD.

    For outputs without markup of their own (a CSV cell, a TOML comment); the
    escapers below already show such bytes as escapes or replacements.

    >>> decodable("bad\\udcff.toml")
    'bad\\ufffd.toml'
    """
    return _SURROGATE.sub("\ufffd", text)


# -- TeX --------------------------------------------------------------------------

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
                "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "\t": " "}

_TEX_UNICODE = {"−": "-", "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}",
                "\u00a0": " ", "«": "``", "»": "''", "°": r"\ensuremath{^\circ}",
                "✓": r"\ensuremath{\surd}", "✗": r"\ensuremath{\times}", "×": r"\ensuremath{\times}",
                "·": r"\ensuremath{\cdot}", "±": r"\ensuremath{\pm}", "≤": r"\ensuremath{\leq}",
                "≥": r"\ensuremath{\geq}", "≠": r"\ensuremath{\neq}", "≈": r"\ensuremath{\approx}",
                "→": r"\ensuremath{\rightarrow}", "←": r"\ensuremath{\leftarrow}", "∂": r"\ensuremath{\partial}",
                "∑": r"\ensuremath{\sum}", "√": r"\ensuremath{\surd}", "∞": r"\ensuremath{\infty}",
                "∈": r"\ensuremath{\in}", "∇": r"\ensuremath{\nabla}", "′": "'", "ß": "ss", "æ": "ae",
                "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}

#: Greek capitals LaTeX has a command for; the others look like Latin letters.
_TEX_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_GREEK_LATIN = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
                "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X", "omicron": "o"}


def _tex_char(ch: str) -> str:
    if ch in _TEX_SPECIAL:
        return _TEX_SPECIAL[ch]
    if " " <= ch <= "~":
        return ch
    if ch in _TEX_UNICODE:
        return _TEX_UNICODE[ch]
    name = unicodedata.name(ch, "")
    greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", name)
    if greek:
        letter = greek.group(2).lower() if greek.group(1) == "SMALL" else greek.group(2).title()
        letter = {"lamda": "lambda", "Lamda": "Lambda"}.get(letter, letter)
        if letter in _GREEK_LATIN:
            return _GREEK_LATIN[letter]
        if greek.group(1) == "SMALL" or letter in _TEX_GREEK_CAPITALS:
            return rf"\ensuremath{{\{letter}}}"
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if " " <= c <= "~")
    if base and not unicodedata.category(ch).startswith("C"):
        return "".join(_tex_char(c) for c in base)
    return "?"


def tex(text: str) -> str:
    r"""Escape any text for LaTeX's text mode (also inside \texttt, \section and table cells).

    >>> tex(r"50% of \def\x{\x}\x, δ_o1")
    '50\\% of \\textbackslash{}def\\textbackslash{}x\\{\\textbackslash{}x\\}\\textbackslash{}x, \\ensuremath{\\delta}\\_o1'
    """
    return "".join(_tex_char(ch) for ch in text)


# -- Markdown and HTML ------------------------------------------------------------------

_MD_SPECIAL = set("\\`*_[]<>#|$~&!{}")


def markdown(text: str) -> str:
    r"""Escape text for Markdown (GitHub's, with its math and tables): markup and HTML come out literally.

    >>> markdown("<b>x</b> | `y` *z*")
    '\\<b\\>x\\</b\\> \\| \\`y\\` \\*z\\*'
    """
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in one_line(text))


def md_code(text: str, table: bool = False) -> str:
    """A Markdown code span holding *text* literally: its fence is longer than any backtick run inside.

    In a table cell (*table*), '|' is written '\\|', as GitHub's tables need.

    >>> md_code("a`b"), md_code("x|y", table=True)
    ('``a`b``', '`x\\\\|y`')
    """
    text = one_line(text)
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def html_comment(text: str) -> str:
    """Text that stays inside an HTML comment: no '--' (so neither '-->' nor '--!>' can close it).

    >>> html_comment("a --!> b --> c")
    'a - -!> b - -> c'
    """
    text = one_line(text)
    while "--" in text:
        text = text.replace("--", "- -")
    return (" " + text) if text.startswith((">", "->")) else text


def link(file_name: str) -> str:
    """A file name as a Markdown (and HTML) link's target: every byte but letters, digits and ``-._~``
    percent-encoded, so no name can end the link, open markup or leave the folder.

    A name the file system gave with bytes that are not UTF-8 links to those very bytes.

    >>> link("mazur-network.svg"), link("a b)[x]%\\n.svg")
    ('mazur-network.svg', 'a%20b%29%5Bx%5D%25%0A.svg')
    """
    return quote(os.fsencode(file_name), safe="")


# -- XML (the SVG figures) ------------------------------------------------------------------

#: Characters XML 1.0 does not allow at all, even escaped (control characters, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml(text: str) -> str:
    """Escape text for an XML element's content or a double-quoted attribute: &, <, >, " (so neither a tag
    nor the CDATA end ']]>' can appear); characters XML cannot carry become U+FFFD.

    >>> xml('<a href="x">]]> & \x1b')
    '&lt;a href=&quot;x&quot;&gt;]]&gt; &amp; \ufffd'
    """
    text = _NOT_XML.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def xml_comment(text: str) -> str:
    """Text that stays inside ``<!-- ... -->`` in XML: one line, no '--', not ending in '-'.

    >>> xml_comment("a --> b -")
    'a - -> b'
    """
    text = _NOT_XML.sub("\ufffd", one_line(text))
    while "--" in text:
        text = text.replace("--", "- -")
    return text.rstrip("-").rstrip()


#: Moodle Cloze syntax: '{n:NUMERICAL:' opens a subquestion, '}' '~' '#' '=' ':' and '\\' are its punctuation.
_CLOZE_SYNTAX = {ch: f"&#{ord(ch)};" for ch in "{}~#=:\\"}


def cloze(text: str) -> str:
    """Escape text as HTML for a Moodle Cloze question's text: markup as :func:`xml`, and the Cloze syntax
    characters as character references, so no subquestion (``{1:NUMERICAL:=1}``) can open in it.

    Moodle finds subquestions in the HTML source before it is shown, so ``&#123;`` is never one; the
    student still reads ``{``. The result is HTML: write it into the XML file through :func:`xml`.

    >>> cloze("{1:NUMERICAL:=1} <b>")
    '&#123;1&#58;NUMERICAL&#58;&#61;1&#125; &lt;b&gt;'
    """
    return "".join(_CLOZE_SYNTAX.get(ch, ch) for ch in xml(text))
