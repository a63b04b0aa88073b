"""Render a worked-example :class:`~codegen.document.Document` as LaTeX or Markdown.

Each renderer turns the document's segments into already-escaped strings for
its format; the templates then only lay them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import escape
from .document import Diagram, Document, Equation, Paragraph, Plot, Segments, Table
from .render import render_template

#: The one TeX and Markdown escapers (codegen.escape), under the names the renderers use.
tex_escape = escape.tex
md_escape = escape.markdown


def tex_segments(segments: Segments) -> str:
    """Join segments as LaTeX: text escaped, math in $...$, code in \\texttt."""
    out = []
    for kind, t in segments:
        if kind == "text":
            out.append(tex_escape(t))
        elif kind == "code":
            out.append(r"\texttt{" + tex_escape(t).replace("-", "-{}") + "}")
        else:
            out.append(f"${t}$")
    return "".join(out)


def md_segments(segments: Segments) -> str:
    """Join segments as Markdown: text escaped, math in $...$, code in backticks."""
    out = []
    for kind, t in segments:
        if kind == "text":
            out.append(md_escape(t))
        elif kind == "code":
            out.append(escape.md_code(t, table=True))
        else:
            out.append(f"${t}$")
    return "".join(out)


@dataclass(frozen=True)
class Block:
    """A block flattened for one format."""

    kind: str
    text: str = ""
    lines: tuple = ()
    header: tuple = ()
    rows: tuple = ()
    align: str = ""
    data: object = None


#: An equation whose LaTeX (markup aside) is shorter than this stays on one line.
ONE_LINE = 80


def _visible_length(text: str) -> int:
    """Estimate an equation's printed width, in characters, from its LaTeX source."""
    text = re.sub(r"\\(left|right|frac|partial)", "", text)
    text = text.replace(r"\cdot", "~~~")  # the dot and the space around it
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    text = re.sub(r"[{}_^ &]", "", text)
    return round(len(text) + 0.3 * sum(ch.isdigit() for ch in text))  # digits are wider


def equation_lines(b: Equation) -> list[str]:
    """Lay an equation out on one line, or on as many as it needs: formula, numbers, value."""
    whole = f"{b.lhs} &= " + " = ".join(b.forms)
    if len(b.forms) == 1 or _visible_length(whole) < ONE_LINE:
        return [whole]
    lines = [f"{b.lhs} &= {b.forms[0]}"]
    rest = list(b.forms[1:])
    while rest:
        line = "&= " + rest.pop(0)
        while rest and _visible_length(line + " = " + rest[0]) < ONE_LINE:
            line += " = " + rest.pop(0)
        lines.append(line)
    return lines


def _flatten(doc: Document, seg, text) -> list:
    sections = []
    for sec in doc.sections:
        blocks: list[Block] = []
        for b in sec.blocks:
            if isinstance(b, Paragraph):
                blocks.append(Block("paragraph", seg(b.segments)))
            elif isinstance(b, Equation):
                lines = [(line, "") for line in equation_lines(b)]
                if b.note:
                    lines[-1] = (lines[-1][0], seg(b.note))
                if blocks and blocks[-1].kind == "equations":
                    blocks[-1] = Block("equations", lines=blocks[-1].lines + tuple(lines))
                else:
                    blocks.append(Block("equations", lines=tuple(lines)))
            elif isinstance(b, Table):
                blocks.append(Block("table", header=tuple(seg(h) for h in b.header),
                                    rows=tuple(tuple(seg(c) for c in row) for row in b.rows), align=b.align))
            elif isinstance(b, (Diagram, Plot)):
                blocks.append(Block(b.kind, data=b))
        sections.append((text(sec.title), sec.anchor, tuple(blocks)))
    return sections


def to_latex(doc: Document) -> str:
    """Render the document as a complete LaTeX file."""
    return render_template("worked_example.tex.j2", title=tex_escape(doc.title), header=doc.header,
                           sections=_flatten(doc, tex_segments, tex_escape), compact=doc.compact)


def latex_sections(doc: Document) -> list:
    """The document's sections as the LaTeX templates lay them out: (title, anchor, blocks), text escaped."""
    return _flatten(doc, tex_segments, tex_escape)


def to_markdown(doc: Document) -> str:
    """Render the document as Markdown with $$ math (GitHub, Jupyter)."""
    return render_template("worked_example.md.j2", title=md_escape(doc.title), header=doc.header,
                           sections=_flatten(doc, md_segments, md_escape))
