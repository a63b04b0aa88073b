"""symbolic.verify: the dual-number route that checks every chain-rule result."""

from __future__ import annotations

import dataclasses

import mpmath
import pytest
import sympy as sp

from stepgrad.symbolic import naming
from stepgrad.symbolic.derive import DerivationError, derive
from stepgrad.symbolic.functions import sigmoid, softplus
from stepgrad.symbolic.spec import load, parse
from stepgrad.symbolic.verify import DualEvaluator, verify

from .conftest import ROOT

X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)

EXPRESSIONS = [
    sp.exp(3 * X) * Y, sp.log(X + 2) / Y, sp.tanh(X * Y), sigmoid(X - Y), softplus(2 * X),
    (X - Y) ** 2 / 2, X ** sp.Rational(3, 2), 1 / (X * Y), sp.Abs(X - 3) * Y,
    sp.Piecewise((X * Y, X > 0), (X / 100, True)),
    sp.Piecewise(((X - Y) ** 2 / 2, sp.Abs(X - Y) <= 1), (sp.Abs(X - Y) - sp.Rational(1, 2), True)),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
@pytest.mark.parametrize("point", [(sp.Rational(7, 10), sp.Rational(3, 2)), (sp.Rational(5, 2), sp.Rational(-1, 4))])
def test_dual_numbers_agree_with_sympy_diff(expr, point):
    """Each primitive's own rule gives the derivative SymPy's diff gives, to 45 digits."""
    x, y = point
    with mpmath.workdps(50):
        evaluate = DualEvaluator(2)
        env = {X: evaluate.seed(mpmath.mpf(x.p) / x.q, 0), Y: evaluate.seed(mpmath.mpf(y.p) / y.q, 1)}
        dual = evaluate(expr, env)
        for k, s in enumerate((X, Y)):
            want = mpmath.mpf(str(sp.diff(expr, s).subs({X: x, Y: y}).evalf(50)))
            assert abs(dual.d[k] - want) <= mpmath.mpf(10) ** -45 * max(1, abs(want)), (expr, s)
        assert abs(dual.v - mpmath.mpf(str(expr.subs({X: x, Y: y}).evalf(50)))) <= mpmath.mpf(10) ** -45


def test_verify_does_not_change_the_derivation(mazur):
    """verify returns its checks and leaves the derivation as it was."""
    d = derive(mazur)
    before = dict(d.values)
    checks = verify(d)
    assert isinstance(checks, tuple) and checks
    assert d.values == before
    assert not hasattr(d, "checks")


def test_a_wrong_chain_rule_value_is_caught(mazur):
    """One gradient off in its 20th digit stops verification."""
    d = derive(mazur)
    values = dict(d.values)
    values["dE_total/dw1"] = values["dE_total/dw1"] * (1 + mpmath.mpf(10) ** -20)
    with pytest.raises(DerivationError, match="dE_total/dw1"):
        verify(dataclasses.replace(d, values=values))


def test_a_wrong_hidden_delta_is_caught(mazur):
    """A hidden delta with the wrong sign stops verification."""
    d = derive(mazur)
    values = dict(d.values)
    values["delta_h2"] = -values["delta_h2"]
    with pytest.raises(DerivationError, match="delta_h2"):
        verify(dataclasses.replace(d, values=values))


def test_every_quantity_of_a_deep_kinked_network_is_checked():
    """A 1-3-3-4 ReLU network under Huber error (the case that took 88 s by SymPy diff): every
    dE/dout, delta, dout/dnet and gradient of both samples is compared."""
    spec = load(str(ROOT / "benchmarks" / "specs" / "relu_huber_1334.toml"))
    counts = {c.what: c.count for c in verify(derive(spec))}
    neurons = sum(len(layer.neurons) for layer in spec.layers[1:])
    assert counts["dE_total/d(every weight and bias)"] == len(spec.parameters) * 2
    assert counts["every node delta dE_total/dnet"] == neurons * 2
    assert counts["dE_total/dout for every neuron"] == neurons * 2
    assert counts["every activation derivative dout/dnet"] == neurons * 2


KINK = """
[[layers]]
size = 1
[[layers]]
size = 2
activation = "relu"
[[layers]]
size = 1
activation = "identity"
bias = "none"
[parameters]
w1 = 1
w2 = 0.5
w3 = 0.5
w4 = 0.25
b_h1 = -0.5
b_h2 = 0.25
[[samples]]
inputs = [0.5]
targets = [1]
[training]
learning_rate = 0.1
"""


def test_a_net_input_exactly_at_the_kink_verifies_with_the_convention():
    """net_h1 = 1 * 0.5 - 0.5 = 0 exactly: the derivative there is the documented 0, and the
    dual numbers take the same branch, so verification passes and the gradient of w1 is 0."""
    d = derive(parse(KINK, "<kink>"))
    assert d.values[naming.net("h1")] == 0
    checks = {c.what: c for c in verify(d)}
    assert checks["dE_total/d(every weight and bias)"].count == 6
    assert d.values[naming.d(naming.E_TOTAL, "w1")] == 0


def test_large_networks_check_a_spread_selection():
    """Beyond 40 parameters the gradients of a selection (spread over all, and the last) are checked."""
    text = """
[[layers]]
size = 4
[[layers]]
size = 6
activation = "tanh"
[[layers]]
size = 4
activation = "sigmoid"
[initializer]
seed = 2
[[samples]]
inputs = [0.1, 0.2, 0.3, 0.4]
targets = [0.1, 0.9, 0.5, 0.5]
[training]
learning_rate = 0.5
"""
    spec = parse(text, "<4-6-4>")
    assert len(spec.parameters) > 40
    checks = [c for c in verify(derive(spec)) if c.what.startswith("dE_total/d(parameter)")]
    assert len(checks) == 1 and 40 <= checks[0].count < len(spec.parameters)
