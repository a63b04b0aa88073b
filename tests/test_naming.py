"""Canonical names: built and parsed in symbolic.naming, typeset from the parse."""

from __future__ import annotations

import pytest

from stepgrad.symbolic import naming

NEURONS = ["h1", "o2", "h2_1", "a", "c", "d", "t1", "delta1", "net"]


@pytest.mark.parametrize("neuron", NEURONS)
def test_built_names_parse_back(neuron):
    """Every per-neuron name the builders make splits back into its kind and neuron."""
    for kind, build in (("net", naming.net), ("out", naming.out), ("target", naming.target),
                        ("delta", naming.delta), ("E", naming.err)):
        assert naming.split_neuron(build(neuron)) == (kind, neuron)
    name = naming.d(naming.out(neuron), naming.net(neuron))
    assert naming.split_d(name) == (naming.out(neuron), naming.net(neuron))
    assert naming.derivative_by(naming.d(naming.E_TOTAL, "w5")) == "w5"


def test_after_sample_and_update_parse_back():
    """'@N', '[s]' and '+' come off as they went on; plain names are left alone."""
    assert naming.split_after(naming.after("out_o1", 10000)) == ("out_o1", 10000)
    assert naming.split_after("out_o1") == ("out_o1", None)
    assert naming.split_sample(naming.in_sample("dE_total/dw5", 2, 3)) == ("dE_total/dw5", 2)
    assert naming.in_sample("net_h1", 1, 1) == "net_h1"
    assert naming.split_sample("net_h1") == ("net_h1", None)
    assert naming.split_updated(naming.updated("w5")) == "w5"
    assert naming.split_updated("w5") is None
    assert naming.split_neuron(naming.E_TOTAL) is None
    assert naming.split_d("delta_h1") is None


def test_identifiers_and_latex():
    """Generated code and documents spell the same quantity their own way."""
    assert naming.ident("dE_total/dw5") == "dE_total_dw5"
    assert naming.ident("w5+") == "w5_plus"
    assert naming.ident("E_total@10") == "E_total_at_10"
    assert naming.ident("net_h1[2]") == "net_h1_s2"
    assert naming.latex_symbol("dE_total/dw5") == r"\frac{\partial E_{total}}{\partial w_{5}}"
    assert naming.latex_symbol("w5+") == "w_{5}^{+}"
    assert naming.latex_symbol("delta_h2_1") == r"\delta_{h2,1}"
    assert naming.latex_symbol("out_o1[2]") == "{out_{o1}}^{(2)}"
    assert naming.latex_symbol("b_h1") == "b_{h1}"
    with pytest.raises(ValueError):
        naming.ident("w 5")


@pytest.mark.parametrize("neuron", ["a", "c", "d", "t", "l"])
def test_placeholder_neuron_touches_only_the_neuron(neuron):
    """A table header writes the neuron as a dot without touching \\partial, \\delta or \\frac,
    whatever letters the neuron's name shares with them."""
    dot = {neuron: r"\cdot"}
    assert naming.latex_quantity(naming.d(naming.out(neuron), naming.net(neuron)), dot) == \
        r"\frac{\partial out_{\cdot}}{\partial net_{\cdot}}"
    assert naming.latex_quantity(naming.delta(neuron), dot) == r"\delta_{\cdot}"
    assert naming.latex_quantity(naming.d(naming.E_TOTAL, naming.out(neuron)), dot) == \
        r"\frac{\partial E_{total}}{\partial out_{\cdot}}"


def test_name_problems():
    """Unsafe names are refused with a reason; safe ones pass."""
    assert naming.name_problem("h1") is None
    assert naming.name_problem("h2_1") is None
    for bad in ("", "1h", "h__1", "h-1", "lambda", "eta", "x" * 25, 3):
        assert naming.name_problem(bad) is not None, bad
