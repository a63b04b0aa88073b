"""The worked example's equations are consistent: each numbers line evaluates to the value it prints."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from stepgrad.codegen import document
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.spec import load

from .conftest import ROOT

SPECS = ["mazur", "softmax_batch", str(ROOT / "tests" / "data" / "tanh232.toml")]


def _number(value) -> sp.Float:
    if isinstance(value, sp.Rational):
        return sp.Float(value, 60)
    return sp.Float(mpmath.nstr(value, 55), 60)


@pytest.mark.parametrize("name", SPECS)
def test_every_equation_evaluates_to_its_printed_value(name):
    """Substituting the document's numbers into each step's formula gives the value the step prints."""
    d = derive(load(name))
    combined = document.batch_values(d)
    checked = 0
    with mpmath.workdps(50):
        for s in d.batch:
            own = document.sample_values(d, s)
            for step in d.steps:
                values = own if step.per_sample or len(d.batch) == 1 else combined
                expr = step.rhs.doit()
                env = {sym: _number(values[sym.name]) for sym in expr.free_symbols}
                got = mpmath.mpf(str(sp.N(expr.xreplace(env), 50)))
                want = mpmath.mpf(values[step.name]) if not isinstance(values[step.name], sp.Rational) else \
                    mpmath.mpf(values[step.name].p) / values[step.name].q
                assert abs(got - want) <= mpmath.mpf(10) ** -40 * max(1, abs(want)), (name, s, step.name)
                checked += 1
    assert checked >= len(d.steps)


def test_per_sample_gradient_is_not_the_batch_gradient():
    """In a batch, a sample's dE_total/dw prints that sample's value, not the batch's combination."""
    d = derive(load("softmax_batch"))
    own = document.sample_values(d, d.batch[0])
    assert own["dE_total/dw16"] == d.values["dE_total/dw16[1]"]
    assert own["dE_total/dw16"] != d.values["dE_total/dw16"]


SHORT_NAMES = """
[[layers]]
neurons = ["x", "y"]
[[layers]]
neurons = ["a", "c", "d"]
activation = "sigmoid"
[[layers]]
neurons = ["o"]
activation = "sigmoid"
[initializer]
seed = 4
[[samples]]
inputs = [0.5, 0.25]
targets = [0.75]
[training]
learning_rate = 0.5
steps = 3
"""


def test_compact_table_headers_write_the_neuron_as_a_dot_whatever_its_name():
    """Neurons named a, c and d: each column header is the quantity with its neuron as a dot,
    built from the parsed name, so \\partial, \\delta and \\frac come out whole."""
    from stepgrad.codegen import pipeline
    from stepgrad.symbolic import naming
    from stepgrad.symbolic.spec import parse

    spec = parse(SHORT_NAMES, "<short names>")
    doc = pipeline.worked_example(spec, "short", expand=False).document
    headers = [cell for section in doc.sections for block in section.blocks
               if isinstance(block, document.Table) for cell in block.header]
    maths = {text for cell in headers for kind, text in cell if kind == "math"}
    dot = r"\cdot"
    for want in (naming.latex_quantity("dout_a/dnet_a", {"a": dot}), naming.latex_quantity("delta_a", {"a": dot}),
                 naming.latex_quantity("dE_total/dout_a", {"a": dot})):
        assert want in maths
    assert r"\frac{\partial out_{\cdot}}{\partial net_{\cdot}}" in maths
    assert not any(bad in m for m in maths for bad in (r"\p\cdot", r"\fr\cdot", r"\delt\cdot", r"\cdotelta"))
