"""Typography of the worked example, on the LaTeX and Markdown text: the post's look as the standard."""

from __future__ import annotations

import re

import pytest

from stepgrad.codegen import pipeline
from stepgrad.symbolic.spec import load

from .conftest import ROOT

RELU_TWO = str(ROOT / "tests" / "data" / "networks" / "relu2443_two.toml")


@pytest.fixture(scope="module")
def texts():
    """LaTeX and Markdown of the post's network, the softmax batch and a compact and an expanded
    2-4-4-3 ReLU network with two samples."""
    out = {}
    for name, spec_arg, expand in (("mazur", "mazur", None), ("softmax_batch", "softmax_batch", None),
                                   ("relu", RELU_TWO, None), ("relu-expanded", RELU_TWO, True)):
        worked = pipeline.worked_example(load(spec_arg), name, expand)
        out[name] = (worked.tex, worked.markdown)
    return out


NAMES = ["mazur", "softmax_batch", "relu", "relu-expanded"]


@pytest.mark.parametrize("name", NAMES)
def test_a_negative_term_is_subtracted_not_added(texts, name):
    """'a + -0.5' is printed 'a - 0.5' (a plus followed by a negative number is a minus)."""
    for text in texts[name]:
        assert not re.search(r"\+\s*-\s*[0-9]", text), re.search(r".{40}\+\s*-\s*[0-9].{20}", text)
        assert not re.search(r"\+\s*−", text)


def test_the_posts_sum_with_a_negative_term_reads_as_a_difference(texts):
    tex, md = texts["mazur"]
    for text in (tex, md):
        assert "0.055399425 - 0.019049118 = 0.036350306" in text


def test_a_zero_target_times_a_log_is_not_minus_zero(texts):
    for name in NAMES:
        for text in texts[name]:
            assert not re.search(r"-\s*0\s*\\cdot", text), name


@pytest.mark.parametrize("name", NAMES)
def test_value_after_updates_is_written_outside_the_subscript(texts, name):
    """E_total after one update is E_{total}@1, as the reference figures are named, never E_{total@1}."""
    for text in texts[name]:
        assert "E_{total@" not in text and "@1}" not in text
        assert "E_{total}@1" in text


@pytest.mark.parametrize("name", NAMES)
def test_plot_axes_have_whole_decades_and_no_spaced_thousands(texts, name):
    tex = texts[name][0]
    assert "1000 sep={,}" not in tex
    ticks = re.search(r"ytick=\{([^}]*)\}", tex).group(1).split(",")
    assert ticks and all(re.fullmatch(r"1e-?[0-9]+", t) for t in ticks)
    lo, hi = (int(x) for x in re.search(r"ymin=1e(-?\d+),ymax=1e(-?\d+)", tex).groups())
    assert int(ticks[0][2:]) == lo and int(ticks[-1][2:]) == hi
    # every plotted error lies within the axis
    points = re.findall(r"\( \d+,([0-9.e+-]+)\)", tex)
    assert points and all(10.0 ** lo <= float(p) <= 10.0 ** hi for p in points if float(p) > 0)


@pytest.mark.parametrize("name", NAMES)
def test_tables_keep_their_header_and_introduction(texts, name):
    """Every table repeats its header on a continuation page, and a paragraph introducing a table
    asks for room for itself and the table's first rows, so neither is left alone at a page's foot."""
    tex = texts[name][0]
    tables = tex.count(r"\begin{longtable}")
    assert tables and tex.count(r"\endhead") == tables and tex.count(r"\endfirsthead") == tables
    lines = tex.split(r"\begin{document}")[1].split("\n")
    introduced = 0
    for k, line in enumerate(lines):
        if not line.startswith(r"\begin{longtable}"):
            continue
        j = k - 1
        while lines[j] in ("", r"{\footnotesize"):
            j -= 1
        if lines[j][:1] in ("\\", "}", "{", "$", "(", ""):
            continue  # a table after a picture or a plot
        introduced += 1
        above = [line for line in lines[:j] if line][-2:]
        assert above[-1].startswith(r"\needspace{") or (
            above[-1].startswith(r"\section{") and above[-2].startswith(r"\needspace{")), lines[j][:60]
    assert introduced
