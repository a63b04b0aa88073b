"""The network diagram is legible: checked on the layout and on the compiled PDF's text boxes."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import pytest

from stepgrad.codegen import diagram as dg
from stepgrad.codegen import formats, pdf
from stepgrad.codegen.document import Document, Section
from stepgrad.symbolic.spec import load, parse

CM = 72 / 2.54  # PDF points (bp) per centimetre

SHAPES = {
    "2-2-2": ("sigmoid", "shared"),
    "3-3-2": ("tanh", "per_neuron"),
    "2-4-4-3": ("relu", "per_neuron"),
    "4-8-8-3": ("sigmoid", "per_neuron"),
    "3-4-4-2": ("tanh", "per_neuron"),
    "2-2-2-2-2-2": ("sigmoid", "per_neuron"),
    "4-8-3": ("relu", "shared"),
}
#: The shapes compiled to PDF (each takes a TeX run).
PDF_SHAPES = ("2-2-2", "3-3-2", "2-4-4-3", "4-8-8-3", "2-2-2-2-2-2")


def spec_text(shape: str, activation: str, bias: str, seed: int = 3) -> str:
    """A spec of the given shape with seeded two-decimal weights and nonzero biases."""
    widths = [int(w) for w in shape.split("-")]
    text = f'title = "diagram {shape}"\nerror = "half_sse"\n[[layers]]\nsize = {widths[0]}\n'
    for w in widths[1:]:
        text += f'[[layers]]\nsize = {w}\nactivation = "{activation}"\nbias = "{bias}"\n'
    text += f'[initializer]\nscheme = "uniform"\nseed = {seed}\ndigits = 2\n'
    text += "[parameters]\n"
    spec = parse(text + _sample(widths))
    text += "".join(f"{b.name} = -0.{(k * 37) % 90 + 10}\n" for k, b in enumerate(spec.biases))
    return text + _sample(widths)


def _sample(widths) -> str:
    return ("[[samples]]\ninputs = [%s]\ntargets = [%s]\n[training]\nlearning_rate = 0.5\n"
            % (",".join(["0.5"] * widths[0]), ",".join(["0.5"] * widths[-1])))


def shape_spec(shape: str):
    activation, bias = SHAPES[shape]
    return parse(spec_text(shape, activation, bias))


# -- independent geometry: sampled points, not the layout's own separating-axis tests ----------

def _rect(cx, cy, w, h, angle_deg):
    return cx, cy, w / 2, h / 2, math.radians(angle_deg)


def _inside(rect, x, y, grow=0.0) -> bool:
    cx, cy, hw, hh, a = rect
    dx, dy = x - cx, y - cy
    lx, ly = dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a)
    return abs(lx) <= hw + grow and abs(ly) <= hh + grow


def _points(rect, n=12):
    cx, cy, hw, hh, a = rect
    for i in range(n + 1):
        for j in range(n + 1):
            lx, ly = -hw + 2 * hw * i / n, -hh + 2 * hh * j / n
            yield cx + lx * math.cos(a) - ly * math.sin(a), cy + lx * math.sin(a) + ly * math.cos(a)


def _rects(d: dg.Diagram) -> dict[str, tuple]:
    out = {}
    for n in d.nodes:
        if n.bias:
            out[n.name] = _rect(n.x, n.y, n.w, n.h, 0)
    for e in d.edges:
        if e.label:
            out[f"{e.src}->{e.dst}"] = _rect(e.x, e.y, e.w, e.h, e.angle)
    return out


def _segments(d: dg.Diagram):
    """Each weight edge's visible part, from border to border of its neurons' circles."""
    r = d.node_mm / 20
    where = {n.name: n for n in d.nodes}
    for e in d.edges:
        if e.text:
            a, b = where[e.src], where[e.dst]
            length = math.hypot(b.x - a.x, b.y - a.y)
            ux, uy = (b.x - a.x) / length, (b.y - a.y) / length
            yield e, (a.x + r * ux, a.y + r * uy), (b.x - r * ux, b.y - r * uy)


def layout_problems(d: dg.Diagram) -> list[str]:
    """Every overlap in a diagram's layout: label with label or box, label in a neuron, edge through a box."""
    problems = []
    rects = _rects(d)
    names = sorted(rects)
    r = d.node_mm / 20
    neurons = [n for n in d.nodes if not n.bias]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if any(_inside(rects[b], x, y) for x, y in _points(rects[a])) or \
                    any(_inside(rects[a], x, y) for x, y in _points(rects[b])):
                problems.append(f"{a} overlaps {b}")
        for n in neurons:
            if any(math.hypot(x - n.x, y - n.y) < r for x, y in _points(rects[a])):
                problems.append(f"{a} overlaps neuron {n.name}")
    for e, p, q in _segments(d):
        for n in d.nodes:
            if not n.bias:
                continue
            steps = 400
            if any(_inside(rects[n.name], p[0] + (q[0] - p[0]) * k / steps, p[1] + (q[1] - p[1]) * k / steps)
                   for k in range(steps + 1)):
                problems.append(f"edge {e.src}->{e.dst} crosses bias box {n.name}")
    return problems


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_layout_has_no_overlap(shape):
    """No label or bias box overlaps another, a neuron, or lies under a weight's edge."""
    d = dg.layout(shape_spec(shape))
    assert layout_problems(d) == []
    assert d.biases_drawn or shape in ("4-8-8-3", "4-8-3")


def test_small_networks_are_labelled():
    """Networks up to 2-4-4-3 with per-neuron biases carry every weight's label and every bias box."""
    for shape in ("2-2-2", "3-3-2", "2-4-4-3", "3-4-4-2", "2-2-2-2-2-2"):
        d = dg.layout(shape_spec(shape))
        spec = shape_spec(shape)
        assert d.labelled and d.biases_drawn, shape
        assert sum(1 for e in d.edges if e.label) == len(spec.weights)
        assert sum(1 for n in d.nodes if n.bias) == len(spec.biases)


def test_dense_network_is_unlabelled_and_tabled():
    """4-8-8-3 is drawn without labels, and its worked example says where the weights are listed."""
    d = dg.layout(shape_spec("4-8-8-3"))
    assert not d.labelled
    assert all(not e.label for e in d.edges)
    assert sum(1 for n in d.nodes if not n.bias) == 4 + 8 + 8 + 3


def test_mazur_looks_as_the_post():
    """The post's network keeps its layout: columns 4.6 cm apart, shared biases under the layers."""
    d = dg.layout(load("mazur"))
    where = {n.name: (n.x, n.y) for n in d.nodes}
    assert where["i1"] == (0, 1.2) and where["h2"] == (4.6, -1.2) and where["o1"] == (9.2, 1.2)
    assert where["b1"][0] == 0 and where["b2"][0] == 4.6 and where["b1"][1] < -2
    assert d.labelled and d.weight_font == "scriptsize" and d.bias_font == "small"
    assert layout_problems(d) == []


def test_layout_is_deterministic():
    """Laying the same network out twice gives the same diagram."""
    assert dg.layout(shape_spec("2-4-4-3")) == dg.layout(shape_spec("2-4-4-3"))


def test_overlap_check_can_fail():
    """The independent overlap check notices two labels on one spot."""
    d = dg.layout(load("mazur"))
    labelled = [e for e in d.edges if e.label]
    moved = dg.Edge(**{**labelled[1].__dict__, "x": labelled[0].x, "y": labelled[0].y})
    edges = tuple(moved if e is labelled[1] else e for e in d.edges)
    assert layout_problems(dg.Diagram(d.nodes, edges, True, d.node_mm)) != []


# -- on the PDF ------------------------------------------------------------------------------

needs_tex = pytest.mark.skipif(not (pdf.engine_available() and shutil.which("pdftotext")),
                               reason="needs latexmk, pdflatex and pdftotext")

MARK = "ORIGINMARK"


def diagram_pdf(d: dg.Diagram, tmp_path) -> list[tuple[str, float, float, float, float]]:
    """Compile a document holding only *d*, with a marker 1 cm above its top, and return its words.

    Each word is (text, x0, y0, x1, y1) in the layout's centimetres (y up), found from the marker.
    """
    tex = formats.to_latex(Document("", "% diagram test", (Section("", (d,)),)))
    top = max(n.y for n in d.nodes) + 2
    tex = tex.replace(r"\end{tikzpicture}", f"\\node at (0,{top}) {{{MARK}}};\n\\end{{tikzpicture}}", 1)
    path = tmp_path / "d.pdf"
    path.write_bytes(pdf.compile_pdf(tex, "d"))
    xml = subprocess.run(["pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    words = [(w, *map(float, c)) for *c, w in
             re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xml)]
    mark = next(w for w in words if w[0] == MARK)
    ox, oy = (mark[1] + mark[3]) / 2, (mark[2] + mark[4]) / 2 + top * CM  # the PDF point of (0, 0)
    out = []
    bottom = min(n.y - n.h for n in d.nodes) - 2
    for text, x0, y0, x1, y1 in words:
        if text == MARK or not bottom < (oy - y1) / CM < top - 1:  # the marker, the page number
            continue
        out.append((text, (x0 - ox) / CM, (oy - y1) / CM, (x1 - ox) / CM, (oy - y0) / CM))
    return out


def _centre(word):
    _, x0, y0, x1, y1 = word
    return (x0 + x1) / 2, (y0 + y1) / 2


def _owner(d: dg.Diagram, word) -> list[str]:
    """The drawn things whose area holds the word's centre: neurons, bias boxes, weight labels."""
    x, y = _centre(word)
    r = d.node_mm / 20
    owners = [n.name for n in d.nodes if not n.bias and math.hypot(x - n.x, y - n.y) < r]
    owners += [k for k, rect in _rects(d).items() if _inside(rect, x, y, 0.1)]
    return owners


def _aabb_overlap(a, b, shrink) -> bool:
    return (min(a[3], b[3]) - max(a[1], b[1]) > shrink) and (min(a[4], b[4]) - max(a[2], b[2]) > shrink)


@needs_tex
@pytest.mark.parametrize("shape", ("mazur",) + PDF_SHAPES)
def test_pdf_labels_do_not_overlap(shape, tmp_path):
    """In the compiled picture every word sits in its own label, box or neuron, and no two collide."""
    d = dg.layout(load("mazur") if shape == "mazur" else shape_spec(shape))
    words = diagram_pdf(d, tmp_path)
    assert len(words) >= 2 * sum(1 for n in d.nodes if not n.bias)
    owner = {}
    for k, word in enumerate(words):
        owners = _owner(d, word)
        assert len(owners) == 1, f"{word} lies in {owners or 'nothing drawn'}"
        owner[k] = owners[0]
    rects = _rects(d)
    for k, word in enumerate(words):
        # The text stays inside the box the layout kept free for it.  (pdftotext's boxes of turned
        # glyphs are only approximate, so only level labels are held to their corners.)
        if owner[k] in rects and rects[owner[k]][4] == 0:
            for x, y in ((word[1], word[2]), (word[1], word[4]), (word[3], word[2]), (word[3], word[4])):
                assert _inside(rects[owner[k]], x, y, 0.05), (word, owner[k])
        for j in range(k):
            if owner[j] != owner[k]:
                assert not _aabb_overlap(word, words[j], 0.03), (word, words[j])
    r = d.node_mm / 20
    for k, word in enumerate(words):  # no label's glyph reaches into a neuron's circle
        if owner[k] in rects:
            for n in d.nodes:
                if not n.bias:
                    x, y = max(word[1], min(n.x, word[3])), max(word[2], min(n.y, word[4]))
                    assert math.hypot(x - n.x, y - n.y) >= r, (word, n.name)


@needs_tex
def test_pdf_bias_boxes_are_not_crossed(tmp_path):
    """No weight edge passes through a bias box as TeX typeset it (its words plus TikZ's padding)."""
    d = dg.layout(shape_spec("2-4-4-3"))
    words = diagram_pdf(d, tmp_path)
    pad = 0.3333 * 8 / 72.27 * 2.54  # TikZ's inner sep at scriptsize, at most
    for n in d.nodes:
        if not n.bias:
            continue
        mine = [w for w in words if _owner(d, w) == [n.name]]
        assert mine, n.name
        x0, y0 = min(w[1] for w in mine) - pad, min(w[2] for w in mine) - pad
        x1, y1 = max(w[3] for w in mine) + pad, max(w[4] for w in mine) + pad
        for e, p, q in _segments(d):
            for k in range(401):
                x, y = p[0] + (q[0] - p[0]) * k / 400, p[1] + (q[1] - p[1]) * k / 400
                assert not (x0 < x < x1 and y0 < y < y1), (e.src, e.dst, n.name)


def test_unlabelled_network_lists_its_wiring_in_tables():
    """When the edges carry no labels, the network section's tables give every weight's two neurons."""
    from types import SimpleNamespace

    from stepgrad.codegen import document
    from stepgrad.codegen.formats import tex_segments
    from stepgrad.symbolic import naming

    spec = shape_spec("4-8-8-3")
    section = document.network_section(SimpleNamespace(derivation=SimpleNamespace(spec=spec)))
    text = " ".join(tex_segments(b.segments) for b in section.blocks if b.kind == "paragraph")
    assert "unlabelled" in text and "Every edge in the picture" not in text
    tables = [b for b in section.blocks if b.kind == "table"]
    found = {}
    for table in tables:
        sources = [h[-1][1] for h in table.header[1:]]
        for row in table.rows:
            for src, cell in zip(sources, row[1:]):
                found[cell[-1][1]] = (src, row[0][-1][1])
    assert found == {naming.latex_name(w.name): (naming.latex_name(w.src), naming.latex_name(w.dst))
                     for w in spec.weights}


def test_long_neuron_names_are_scaled_into_their_circles(tmp_path):
    """A neuron's long name is scaled down to fit its circle, so circles keep the size the layout assumed."""
    text = ('title = "long names"\n[[layers]]\nneurons = ["firstInputNeuron", "x2"]\n'
            '[[layers]]\nneurons = ["hiddenNeuronNumberOne12", "hB"]\nactivation = "sigmoid"\n'
            '[[layers]]\nneurons = ["outputNeuron"]\nactivation = "sigmoid"\n'
            '[initializer]\nseed = 1\ndigits = 2\n' + _sample([2, 2, 1]))
    d = dg.layout(parse(text))
    scale = {n.name: n.scale for n in d.nodes if not n.bias}
    assert scale["x2"] == 1 and scale["hB"] == 1 and scale["hiddenNeuronNumberOne12"] < 0.3
    if pdf.engine_available() and shutil.which("pdftotext"):
        r = d.node_mm / 20
        for word in diagram_pdf(d, tmp_path):
            owners = _owner(d, word)
            assert len(owners) == 1, word
            if owners[0] in scale:  # the name's glyphs stay inside its circle
                n = next(n for n in d.nodes if n.name == owners[0])
                assert all(math.hypot(x - n.x, y - n.y) <= r for x in (word[1], word[3]) for y in (word[2], word[4]))
