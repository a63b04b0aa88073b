"""Every figure the post prints, checked against stepgrad's values."""

from __future__ import annotations

import re

import mpmath
import pytest

from stepgrad.symbolic import reference
from stepgrad.symbolic.derive import format_value

#: Decimals with 4 or more places in the post's text (an exponent e^{-x} gives x).
NUMBER = re.compile(r"(?<![\w.{])-?\d+\.\d{4,}")


@pytest.fixture(scope="module")
def comparisons(mazur_worked):
    """The spec's reference figures compared under every variant, as the worked example shows them."""
    return {c.name: c for c in mazur_worked.comparisons}


def test_reference_figures_are_the_posts_own(mazur, blog_text):
    """Each figure in the built-in spec's reference table is printed, digit for digit, in the post."""
    for name, printed in mazur.reference:
        assert printed in blog_text, name


def test_every_number_in_the_post_is_a_computed_value(mazur, mazur_derivation, comparisons, blog_text):
    """Every decimal the post prints agrees with some value stepgrad computes (or explains)."""
    computed = list(mazur_derivation.values.values())
    computed += [v for c in comparisons.values() for _, _, v, _ in c.variants]
    unexplained = []
    found = sorted(set(NUMBER.findall(blog_text)))
    assert len(found) >= 30  # 31 distinct decimals of 4+ places
    for text in found:
        if any(reference.agrees(v, text) for v in computed):
            continue
        explained = [c for c in comparisons.values() if c.printed == text and c.from_rounded is not None]
        if not explained:
            unexplained.append(text)
    assert unexplained == []


def test_post_figures_agree_by_the_texts_method(comparisons):
    """Every first-update figure agrees with the text's method, except one computed from rounded values."""
    first = {k: c for k, c in comparisons.items() if "@" not in k}
    disagree = sorted(k for k, c in first.items() if not c.agrees)
    assert disagree == ["dE_o2/dout_h1"]
    c = first["dE_o2/dout_h1"]
    assert reference.agrees(c.from_rounded, c.printed)
    assert format_value(c.value) == "-0.019049118"


@pytest.mark.parametrize("name, variant", [
    ("E_total@1", ("updated", "updates")),
    ("E_total@10000", ("original", "forward_passes")),
    ("out_o1@10000", ("updated", "updates")),
    ("out_o2@10000", ("updated", "updates")),
])
def test_closing_figures_come_from_named_variants(comparisons, name, variant):
    """Each closing figure is reproduced by exactly one named variant, and not by the default."""
    c = comparisons[name]
    assert not c.agrees
    assert c.matching == (variant,)


def test_default_method_values_by_high_precision_recomputation(mazur_derivation):
    """Forward values agree with an independent mpmath evaluation of the post's formulas."""
    with mpmath.workdps(60):
        s = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
        m = mpmath.mpf
        out_h1 = s(m("0.15") * m("0.05") + m("0.2") * m("0.1") + m("0.35"))
        out_h2 = s(m("0.25") * m("0.05") + m("0.3") * m("0.1") + m("0.35"))
        out_o1 = s(m("0.4") * out_h1 + m("0.45") * out_h2 + m("0.6"))
        out_o2 = s(m("0.5") * out_h1 + m("0.55") * out_h2 + m("0.6"))
        e = (m("0.01") - out_o1) ** 2 / 2 + (m("0.99") - out_o2) ** 2 / 2
        v = mazur_derivation.values
        for mine, ref in [(v["out_h1"], out_h1), (v["out_o2"], out_o2), (v["E_total"], e)]:
            assert abs(mine - ref) < m(10) ** -45


def test_worked_example_prints_every_post_figure(mazur, mazur_worked):
    """The Markdown and LaTeX worked examples show every figure of the post as the post prints it."""
    for _, printed in mazur.reference:
        assert printed in mazur_worked.markdown
        assert printed in mazur_worked.tex


def test_readme_states_the_computed_figures(comparisons):
    """The README's table of the post's closing figures quotes stepgrad's own computed values."""
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text("utf-8")
    for name in ("E_total@1", "E_total@10000"):
        assert format_value(comparisons[name].value) in readme, name
    c = comparisons["dE_o2/dout_h1"]
    for value in (c.value, c.from_rounded):
        assert "−" + mpmath.nstr(abs(value), 9) in readme  # the README writes a real minus sign
