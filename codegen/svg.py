"""Draw the worked example's figures as SVG for Markdown: the network and the training curve.

The SVG is written by hand, element by element, rather than by a plotting
library: stepgrad's runtime needs only SymPy and Jinja2, and both figures are a
few dozen lines, circles and labels whose places are already computed (the
network by :mod:`codegen.diagram`, the same layout the PDF's picture uses; the
curve from the same points as the PDF's plot).  Writing the XML directly keeps
the bytes deterministic (no timestamps, hash salts or font caches) and every
piece of text goes through one escaping function.  GitHub shows SVG files
linked from Markdown as images.
"""

from __future__ import annotations

import math
import re

from ..symbolic import naming

from . import escape
from .diagram import FONT_CM, Diagram

#: Pixels per centimetre of the diagram's layout.
PX = 50
#: Neuron names' size in pixels, by the LaTeX size the PDF's picture uses.
NEURON_PX = {"normalsize": 17, "small": 14, "tiny": 10}
FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def text(value: str) -> str:
    """Escape text for an SVG element's content (:func:`codegen.escape.xml`)."""
    return escape.xml(value)


def stamp(header: str) -> str:
    """The first line of a figure: the document's header line as an XML comment, which marks the
    file as stepgrad's (codegen.files lets a later run replace it)."""
    return f"<!-- {escape.xml_comment(header)} -->"


def num(x: float) -> str:
    """A coordinate with two decimals, no negative zero: the same bytes every run."""
    s = f"{x:.2f}"
    return "0.00" if s == "-0.00" else s


def minus(value: str) -> str:
    """Use the typographic minus sign in a printed number."""
    return value.replace("-", "−")


def runs(name: str) -> list[tuple[str, bool]]:
    """Split a safe quantity name into (text, is_subscript) runs: w13 -> [("w", False), ("13", True)]."""
    latex = naming.latex_name(name)
    m = re.fullmatch(r"([^_]*)_\{(.*)\}", latex)
    if not m:
        return [(latex, False)]
    return [(m.group(1), False), (m.group(2), True)]


def rich(parts: list[tuple[str, bool]], size: float) -> str:
    """SVG text content with subscripts as shifted, smaller tspans (dy works in every browser)."""
    out, down = [], 0.0
    for part, sub in parts:
        if not part:
            continue
        shift = (0.3 * size if sub else 0.0) - down
        down += shift
        attrs = f' dy="{num(shift)}"' if shift else ""
        attrs += f' font-size="{num(size * 0.72)}"' if sub else ""
        out.append(f"<tspan{attrs}>{text(part)}</tspan>" if attrs else text(part))
    return "".join(out)


def _label_parts(name: str, value: str) -> list[tuple[str, bool]]:
    return runs(name) + ([(" = " + minus(value), False)] if value else [])


# -- the network ------------------------------------------------------------------

def network_svg(d: Diagram, title: str, header: str = "") -> str:
    """Draw the diagram: edges first, then neurons and bias boxes, then weight labels on top."""
    r = d.node_mm / 20
    xs = [n.x - (n.w / 2 if n.bias else r) for n in d.nodes] + [n.x + (n.w / 2 if n.bias else r) for n in d.nodes]
    ys = [n.y - (n.h / 2 if n.bias else r) for n in d.nodes] + [n.y + (n.h / 2 if n.bias else r) for n in d.nodes]
    for e in d.edges:
        if e.label:
            reach = math.hypot(e.w, e.h) / 2
            xs += [e.x - reach, e.x + reach]
            ys += [e.y - reach, e.y + reach]
    pad = 0.3
    x0, y1 = min(xs) - pad, max(ys) + pad
    width, height = (max(xs) - min(xs) + 2 * pad) * PX, (max(ys) - min(ys) + 2 * pad) * PX

    def X(x: float) -> str:
        return num((x - x0) * PX)

    def Y(y: float) -> str:
        return num((y1 - y) * PX)

    where = {n.name: n for n in d.nodes}
    # Text as large as the TeX picture's, so labels keep inside the boxes the layout kept clear.
    weight_px, bias_px = FONT_CM[d.weight_font] * PX * 0.9, FONT_CM[d.bias_font] * PX * 0.88
    lines = ([stamp(header)] if header else []) + [f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" height="{num(height)}" '
             f'viewBox="0 0 {num(width)} {num(height)}" xml:space="preserve" {FONT} font-size="13">',
             f"<title>{text(title)}</title>",
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>',
             '<rect width="100%" height="100%" fill="white"/>']
    for e in d.edges:
        (px, py), (qx, qy) = _ends(where[e.src], where[e.dst], r)
        style = ('stroke="#333" stroke-width="1"' if e.text else
                 'stroke="#b35900" stroke-width="1" stroke-dasharray="4 3"')
        lines.append(f'<line x1="{X(px)}" y1="{Y(py)}" x2="{X(qx)}" y2="{Y(qy)}" {style} marker-end="url(#arrow)"/>')
    for n in d.nodes:
        if n.bias:
            name, value = _bias_text(n)
            lines.append(f'<rect x="{X(n.x - n.w / 2)}" y="{Y(n.y + n.h / 2)}" width="{num(n.w * PX)}" '
                         f'height="{num(n.h * PX)}" rx="4" fill="#fff3e6" stroke="#333"/>')
            if n.value:
                lines.append(_text_at(X(n.x), Y(n.y + n.h * 0.18), runs(n.name), bias_px))
                lines.append(_text_at(X(n.x), Y(n.y - n.h * 0.28), [("= " + minus(value), False)], bias_px))
            else:
                lines.append(_text_at(X(n.x), Y(n.y - 0.08), _label_parts(name, value), bias_px))
        else:
            lines.append(f'<circle cx="{X(n.x)}" cy="{Y(n.y)}" r="{num(r * PX)}" fill="#eef0fb" '
                         f'stroke="#333" stroke-width="1.5"/>')
            lines.append(_text_at(X(n.x), Y(n.y - 0.12), runs(n.name), NEURON_PX[d.neuron_font] * n.scale))
    for e in d.edges:
        if e.label:
            name, value = e.text.split(" = ", 1)
            w, h = e.w * PX, e.h * PX
            lines.append(f'<g transform="translate({X(e.x)} {Y(e.y)}) rotate({num(-e.angle)})">'
                         f'<rect x="{num(-w / 2)}" y="{num(-h / 2)}" width="{num(w)}" height="{num(h)}" fill="white"/>'
                         + _text_at("0", num(h * 0.22), _label_parts(name, value), weight_px) + "</g>")
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def _ends(a, b, r: float):
    """The visible part of an edge: from border to border of its two ends."""
    from .diagram import border_point

    return border_point(a, (b.x, b.y), r), border_point(b, (a.x, a.y), r)


def _bias_text(n) -> tuple[str, str]:
    """A bias box's name and value (plain), from its node."""
    if n.value:
        return n.name, n.value.lstrip("=")
    _, _, value = n.label.partition("=")
    return n.name, value


def _text_at(x: str, y: str, parts, size: float) -> str:
    return f'<text x="{x}" y="{y}" font-size="{num(size)}" text-anchor="middle">{rich(parts, size)}</text>'


# -- the training curve -----------------------------------------------------------

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 34, 20, 50


def decade_label(power: int) -> str:
    """A power of ten as the post's readers write it: 10⁻¹, 10⁰, 10³."""
    return "10" + str(power).translate(_SUPERSCRIPT)


def count_label(value: int) -> str:
    """A whole number with thousands separators: 1,000 (never '1, 000')."""
    return f"{value:,}"


def x_ticks(n: int) -> list[int]:
    """Round tick values from 0 to n: steps of 1, 2 or 5 times a power of ten, at most 8 ticks."""
    power = 0
    while True:
        for factor in (1, 2, 5):
            step = factor * 10 ** power
            if n // step <= 7:
                return list(range(0, n + 1, step))
        power += 1


def y_range(errors: list[float]) -> tuple[int, int]:
    """The decades the axis spans: from below the smallest positive error to above the largest."""
    positive = [e for e in errors if e > 0] or [1.0]
    lo = math.floor(math.log10(min(positive)))
    hi = math.ceil(math.log10(max(positive)))
    return lo, hi if hi > lo else lo + 1


def training_svg(points, xlabel: str, title: str, header: str = "") -> str:
    """Plot the error against updates on a log scale, with labelled axes and decade ticks.

    A point whose error is exactly 0 has no logarithm; it sits on the axis' floor.
    """
    updates = [int(u) for u, _ in points]
    errors = [float(e) for _, e in points]
    n = max(updates) or 1
    lo, hi = y_range(errors)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def X(u: float) -> float:
        return LEFT + plot_w * u / n

    def Y(e: float) -> float:
        ratio = (math.log10(e) - lo) / (hi - lo) if e > 0 else 0.0
        return TOP + plot_h * (1 - ratio)

    out = ([stamp(header)] if header else []) + [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" xml:space="preserve" {FONT} font-size="12">',
           f"<title>{text(title)}</title>",
           '<rect width="100%" height="100%" fill="white"/>']
    for power in range(lo, hi + 1):
        y = num(Y(10.0 ** power))
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#ddd"/>')
        out.append(f'<text class="ytick" x="{LEFT - 6}" y="{y}" dy="4" text-anchor="end">{text(decade_label(power))}</text>')
    for u in x_ticks(n):
        x = num(X(u))
        out.append(f'<line class="grid" x1="{x}" y1="{TOP}" x2="{x}" y2="{HEIGHT - BOTTOM}" stroke="#ddd"/>')
        out.append(f'<text class="xtick" x="{x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{text(count_label(u))}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    coords = " ".join(f"{num(X(u))},{num(Y(e))}" for u, e in zip(updates, errors))
    out.append(f'<polyline class="curve" points="{coords}" fill="none" stroke="#1f4e99" stroke-width="2"/>')
    out.append(f'<text class="xlabel" x="{num(LEFT + plot_w / 2)}" y="{HEIGHT - 10}" text-anchor="middle">'
               f"{text(xlabel)}</text>")
    out.append(f'<text class="ylabel" transform="translate(16 {num(TOP + plot_h / 2)}) rotate(-90)" '
               f'text-anchor="middle">{rich(runs(naming.E_TOTAL), 12)} (log scale)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- the figures of a document ----------------------------------------------------

def figure_names(stem: str) -> tuple[str, str]:
    """The network's and the curve's file names beside STEM.md, whatever STEM is (so two documents in one
    folder never share a figure); the Markdown links them through :func:`codegen.escape.link`."""
    return f"{stem}-network.svg", f"{stem}-training.svg"


def with_figure_names(doc, stem: str):
    """The same Document, its diagram and plot naming the SVG files :func:`figures` writes for *stem*.

    Render the Markdown from the returned document only when those files are written beside it:
    the Markdown template links a figure exactly when its block names one.
    """
    from dataclasses import replace

    from .document import Plot

    network_name, curve_name = (escape.link(name) for name in figure_names(stem))

    def named(block):
        if isinstance(block, Diagram):
            return replace(block, figure=network_name)
        if isinstance(block, Plot):
            return replace(block, figure=curve_name)
        return block

    sections = tuple(replace(s, blocks=tuple(named(b) for b in s.blocks)) for s in doc.sections)
    return replace(doc, sections=sections)


def figures(doc, stem: str = "figure") -> dict[str, bytes]:
    """Every figure of a worked-example Document as SVG: file name -> bytes.

    The names are those :func:`figure_names` gives for *stem*, the Markdown file's stem.
    """
    from .document import Plot

    network_name, curve_name = figure_names(stem)
    out: dict[str, bytes] = {}
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Diagram) and network_name not in out:
                out[network_name] = network_svg(block, doc.title, doc.header).encode()
            elif isinstance(block, Plot) and curve_name not in out:
                out[curve_name] = training_svg(block.points, block.xlabel, doc.title, doc.header).encode()
    return out

