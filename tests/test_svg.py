"""The Markdown figures: SVG of the network and the training curve, deterministic and escaped."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from stepgrad.codegen import diagram as dg
from stepgrad.codegen import svg
from stepgrad.codegen.document import Document, Plot, Section
from stepgrad.symbolic.spec import load

NS = {"s": "http://www.w3.org/2000/svg"}
#: A training run's points as document.training_section makes them: (update, error printed to 6 digits).
POINTS = tuple((u, f"{0.3 * math.exp(-u / 1500) + 2e-5:.6g}") for u in range(0, 10001, 50))


def mazur_doc(title: str = "A Step by Step Backpropagation Example", points=POINTS) -> Document:
    return Document(title, "% header", (
        Section("The network", (dg.layout(load("mazur")),)),
        Section("Training", (Plot(points, "updates", "E_{total}"),)),
    ))


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data.decode("utf-8"))


def all_text(el: ET.Element) -> str:
    return "".join(el.itertext())


def test_figures_names_and_determinism():
    """figures() gives both files, named after the stem, with the same bytes every time."""
    a = svg.figures(mazur_doc(), "mazur")
    b = svg.figures(mazur_doc(), "mazur")
    assert sorted(a) == ["mazur-network.svg", "mazur-training.svg"]
    assert a == b
    for data in a.values():
        assert parse(data).tag == "{http://www.w3.org/2000/svg}svg"


def test_unsafe_stem_keeps_its_own_names_and_is_linked_percent_encoded():
    """A stem that could break a Markdown link still names its own figures (two documents in one folder
    never share one), and the document links them percent-encoded: no space, bracket or break survives."""
    stem = "a b](x)\n%"
    assert sorted(svg.figures(mazur_doc(), stem)) == [f"{stem}-network.svg", f"{stem}-training.svg"]
    doc = svg.with_figure_names(mazur_doc(), stem)
    links = [b.figure for s in doc.sections for b in s.blocks if getattr(b, "figure", None)]
    assert links and all(re.fullmatch(r"[A-Za-z0-9._~%-]+", link) for link in links), links
    assert "a%20b%5D%28x%29%0A%25-network.svg" in links


def _ticks(root, cls):
    return [(t.get("x"), t.get("y"), all_text(t)) for t in root.iterfind(f".//s:text[@class='{cls}']", NS)]


def test_curve_points_sit_where_the_axes_say():
    """Every point of the curve lies where its update and error fall between the printed ticks."""
    root = parse(svg.figures(mazur_doc())["figure-training.svg"])
    xt = {label: float(x) for x, _, label in _ticks(root, "xtick")}
    yt = {label: float(y) for _, y, label in _ticks(root, "ytick")}
    x0, x1 = xt["0"], xt["10,000"]
    # the decades printed, read back as powers of ten from their superscripts
    sup = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    powers = {int(label[2:].translate(sup)): y for label, y in yt.items()}
    p_lo, p_hi = min(powers), max(powers)
    coords = root.find(".//s:polyline[@class='curve']", NS).get("points").split()
    assert len(coords) == len(POINTS)
    for (u, e), pair in zip(POINTS, coords):
        x, y = map(float, pair.split(","))
        assert x == pytest.approx(x0 + (x1 - x0) * u / 10000, abs=0.01)
        frac = (math.log10(float(e)) - p_lo) / (p_hi - p_lo)
        assert y == pytest.approx(powers[p_lo] + (powers[p_hi] - powers[p_lo]) * frac, abs=0.01)


def test_curve_axes_and_tick_labels():
    """Axis labels are present; x ticks use thousands commas and y ticks are whole powers of ten."""
    root = parse(svg.figures(mazur_doc())["figure-training.svg"])
    xlabels = [label for _, _, label in _ticks(root, "xtick")]
    ylabels = [label for _, _, label in _ticks(root, "ytick")]
    assert xlabels == ["0", "2,000", "4,000", "6,000", "8,000", "10,000"]
    # errors run from 0.30002 down to 0.3 e^(-20/3) + 2e-5, about 4.0e-4: decades 10^-4 to 10^0
    assert min(float(e) for _, e in POINTS) == pytest.approx(4.0e-4, rel=0.01)
    assert ylabels == ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]
    assert all_text(root.find(".//s:text[@class='xlabel']", NS)) == "updates"
    assert all_text(root.find(".//s:text[@class='ylabel']", NS)) == "Etotal (log scale)"
    body = svg.figures(mazur_doc())["figure-training.svg"].decode()
    assert ", 0" not in body and "^" not in body and "10^{" not in body


def test_short_range_still_has_two_decades():
    """Errors within one decade still get a lower and an upper power of ten, never a fraction."""
    points = ((0, "0.29"), (1, "0.28"), (2, "0.27"))
    root = parse(svg.figures(mazur_doc(points=points))["figure-training.svg"])
    assert [label for _, _, label in _ticks(root, "ytick")] == ["10⁻¹", "10⁰"]
    assert [label for _, _, label in _ticks(root, "xtick")] == ["0", "1", "2"]


def test_network_draws_every_neuron_edge_and_label():
    """The network SVG has a circle per neuron, a line per edge and each weight's name and value."""
    d = dg.layout(load("mazur"))
    root = parse(svg.figures(mazur_doc())["figure-network.svg"])
    circles = root.findall(".//s:circle", NS)
    assert len(circles) == 6
    assert len(root.findall(".//s:line", NS)) == len(d.edges)
    texts = [all_text(t) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for e in d.edges:
        if e.label:
            name, value = e.text.split(" = ")
            assert f"{name} = {value.replace('-', '−')}" in texts
    assert "b1 = 0.35" in texts and "h1" in texts
    # neurons sit where the layout put them, at 40 px per centimetre, y upwards
    cx = sorted({float(c.get("cx")) for c in circles})
    assert [round(b - a, 2) for a, b in zip(cx, cx[1:])] == [round(4.6 * svg.PX, 2)] * 2


def test_stacked_bias_boxes_and_subscripts():
    """A per-neuron bias box keeps its name and value; subscripts are tspans shifted down."""
    from tests.test_diagram import shape_spec

    d = dg.layout(shape_spec("2-4-4-3"))
    doc = Document("t", "", (Section("", (d,)),))
    data = svg.figures(doc)["figure-network.svg"]
    root = parse(data)
    texts = [all_text(t) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for n in d.nodes:
        if n.bias:
            assert svg.minus(n.value.replace("=", "= ")) in texts or any(t.endswith(svg.minus(n.label.split("=")[1])) for t in texts)
    assert b'<tspan dy="' in data


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "Tom & Jerry", "x ]]> y", '"quoted" <b>',
                                     "&amp; &#x3C;", "<![CDATA[x]]>", "<!-- c -->"])
def test_hostile_title_is_escaped(hostile):
    """Text from the spec is escaped: the SVG still parses and shows the text itself."""
    for data in svg.figures(mazur_doc(title=hostile)).values():
        root = parse(data)
        assert root.find("s:title", NS).text == hostile
        assert b"<script" not in data and b"]]>" not in data


def test_zero_error_sits_on_the_floor():
    """An error of exactly 0 has no logarithm: the point is drawn on the axis' floor, not dropped."""
    points = ((0, "0.5"), (1, "0.01"), (2, "0"))
    root = parse(svg.figures(mazur_doc(points=points))["figure-training.svg"])
    coords = root.find(".//s:polyline[@class='curve']", NS).get("points").split()
    assert len(coords) == 3
    assert float(coords[2].split(",")[1]) == svg.HEIGHT - svg.BOTTOM


def test_markdown_links_figures_only_when_named():
    """The Markdown links the SVG files only for a document whose figures are written beside it."""
    from stepgrad.codegen import formats

    plain = formats.to_markdown(mazur_doc())
    assert ".svg" not in plain and "plotted in the PDF" in plain
    named = svg.with_figure_names(mazur_doc(), "mazur")
    md = formats.to_markdown(named)
    written = svg.figures(named, "mazur")
    assert "](mazur-network.svg)" in md and "](mazur-training.svg)" in md
    assert sorted(written) == ["mazur-network.svg", "mazur-training.svg"]
    assert "```mermaid" not in md  # the picture replaces the text-only diagram


def test_characters_xml_cannot_carry_are_replaced():
    """A control character (never valid in XML 1.0, even escaped) becomes U+FFFD; the SVG still parses."""
    for data in svg.figures(mazur_doc(title="a\x01b\x1b[31m")).values():
        assert parse(data).find("s:title", NS).text == "a\ufffdb\ufffd[31m"


def test_figures_carry_stepgrads_mark(tmp_path):
    """A written figure is recognised as stepgrad's, so the next run may replace it, and no other file is."""
    from stepgrad.codegen import files

    from stepgrad.codegen.render import source_line

    spec = load("mazur")
    doc = mazur_doc(title="a -- b")
    doc = Document(doc.title, source_line(spec, "mazur").replace("(A Step", "(a -- b -- A Step"), doc.sections)
    for name, data in svg.figures(doc, "mazur").items():
        path = tmp_path / name
        files.write_all({path: data})
        assert files.generated_by_stepgrad(path)
        files.write_all({path: data})  # replacing its own file is allowed
        parse(data)  # the title's "--" stays out of the comment
    foreign = tmp_path / "mazur-network.svg"
    foreign.write_text("<svg/>")
    with pytest.raises(Exception, match="not generated by stepgrad"):
        files.write_all({foreign: b"<svg/>"})
