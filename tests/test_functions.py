"""Every activation and error function against published values and closed forms, once, by hand.

The expected numbers here come from outside stepgrad: published values
(sigmoid(1), tanh(0.5), softmax([1, 2, 3]), the post's E_o1), or closed forms
evaluated with Python's ``math`` (ln 2, -ln 0.8).  They are checked through the
table entries of :mod:`symbolic.functions` and, end to end, through the
derivation and the generated module of a one-input, one-layer network whose
every value is worked out below.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp

from stepgrad.codegen import pymodule
from stepgrad.symbolic import naming
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.functions import ACTIVATIONS, ERRORS
from stepgrad.symbolic.model import Model, symbol
from stepgrad.symbolic.spec import parse
from tests.conftest import load_module

#: Published: softmax([1, 2, 3]) (e.g. the SciPy documentation of scipy.special.softmax).
SOFTMAX_123 = (0.09003057317038046, 0.24472847105479764, 0.6652409557748219)
#: Published: tanh(0.5), and 1/(1 + e^-1).
TANH_HALF = 0.46211715726000974
SIGMOID_ONE = 0.7310585786300049
LN2 = math.log(2)


def _num(expr) -> float:
    return float(sp.N(sp.sympify(expr), 30))


def _act(name: str, net, slope=None) -> tuple[float, float]:
    """(f(net), textbook dout/dnet) from the table entry, at a number."""
    act = ACTIVATIONS[name]
    params = {"slope": sp.Rational(slope) if slope is not None else None}
    net = sp.Rational(net)
    out = act.forward(net, params)
    return _num(out), _num(act.derivative(out, net, params))


def _err(name: str, t, y, **params) -> tuple[float, float]:
    """(E(t, y), textbook dE/dy) from the table entry, at numbers."""
    err = ERRORS[name]
    p = {k: sp.Rational(v) for k, v in params.items()}
    t, y = sp.Rational(t), sp.Rational(y)
    return _num(err.forward(t, y, p)), _num(err.derivative(t, y, p))


# -- the activation table ------------------------------------------------------

def test_sigmoid():
    """sigmoid(0) = 1/2 and sigmoid'(0) = 1/4 exactly; sigmoid(1) is the published 0.7310585786300049."""
    act = ACTIVATIONS["sigmoid"]
    assert act.forward(sp.Integer(0), {}) == sp.Rational(1, 2)
    assert act.derivative(sp.Rational(1, 2), sp.Integer(0), {}) == sp.Rational(1, 4)
    value, slope = _act("sigmoid", 1)
    assert value == pytest.approx(SIGMOID_ONE, rel=1e-15)
    assert slope == pytest.approx(SIGMOID_ONE * (1 - SIGMOID_ONE), rel=1e-15)


def test_tanh():
    """tanh(0.5) = 0.46211715726000974 and its derivative 1 - tanh^2 = sech^2(0.5)."""
    value, slope = _act("tanh", "0.5")
    assert value == pytest.approx(TANH_HALF, rel=1e-15)
    assert slope == pytest.approx(1 - TANH_HALF**2, rel=1e-15)
    assert slope == pytest.approx(1 / math.cosh(0.5) ** 2, rel=1e-15)
    assert _act("tanh", 0) == (0.0, 1.0)


def test_relu_and_its_convention_at_zero():
    """relu(+-1) = 1, 0 with slopes 1, 0; at net = 0 the derivative is 0 by convention."""
    assert _act("relu", 1) == (1.0, 1.0)
    assert _act("relu", -1) == (0.0, 0.0)
    assert _act("relu", 0) == (0.0, 0.0)


def test_leaky_relu_and_its_convention_at_zero():
    """leaky_relu(-1) = -slope with slope `slope`; at net = 0 the derivative is the slope by convention."""
    assert _act("leaky_relu", 1, "0.1") == (1.0, 1.0)
    assert _act("leaky_relu", -1, "0.1") == (-0.1, 0.1)
    assert _act("leaky_relu", 0, "0.1") == (0.0, 0.1)
    assert _act("leaky_relu", -2, "0.01") == (-0.02, 0.01)


def test_softplus():
    """softplus(0) = ln 2 with derivative 1/2; softplus(1) = ln(1 + e) with derivative sigmoid(1)."""
    value, slope = _act("softplus", 0)
    assert value == pytest.approx(LN2, rel=1e-15)
    assert slope == 0.5
    value, slope = _act("softplus", 1)
    assert value == pytest.approx(1.3132616875182228, rel=1e-15)
    assert slope == pytest.approx(SIGMOID_ONE, rel=1e-15)


def test_identity():
    """identity(0.3) = 0.3 with derivative 1."""
    assert _act("identity", "0.3") == (0.3, 1.0)
    assert _act("identity", "-7") == (-7.0, 1.0)


SOFTMAX_SPEC = """
error = "categorical_cross_entropy"
[[layers]]
size = 1
[[layers]]
size = 3
activation = "softmax"
[parameters]
w1 = 0
w2 = 0
w3 = 0
b_o1 = 1
b_o2 = 2
b_o3 = 3
[[samples]]
inputs = [1]
targets = [0, 0, 1]
[training]
learning_rate = 0.5
"""


def test_softmax_of_one_two_three():
    """The model's softmax of nets (1, 2, 3) is the published (0.0900..., 0.2447..., 0.6652...)."""
    model = Model(parse(SOFTMAX_SPEC))
    nets = {symbol(naming.net(o)): sp.Integer(k) for k, o in enumerate(model.spec.outputs, start=1)}
    got = [_num(model.out_definition(o).xreplace(nets)) for o in model.spec.outputs]
    assert got == pytest.approx(SOFTMAX_123, rel=1e-15)


def test_softmax_jacobian():
    """d softmax_k / d net_j = s_k (1[k = j] - s_j), from SymPy's diff of the model's softmax and the derivation."""
    model = Model(parse(SOFTMAX_SPEC))
    outs = model.spec.outputs
    nets = {symbol(naming.net(o)): sp.Integer(k) for k, o in enumerate(outs, start=1)}
    derivation = derive(model.spec)
    s = SOFTMAX_123
    for k, o in enumerate(outs):
        for j, n in enumerate(outs):
            want = s[k] * ((k == j) - s[j])
            direct = _num(sp.diff(model.out_definition(o), symbol(naming.net(n))).xreplace(nets))
            assert direct == pytest.approx(want, rel=1e-14), (o, n)
            printed = float(derivation.values[naming.d(naming.out(o), naming.net(n))])
            assert printed == pytest.approx(want, rel=1e-14), (o, n)
    assert s[0] * (1 - s[0]) == pytest.approx(0.08192506906499324, rel=1e-14)
    assert -s[0] * s[1] == pytest.approx(-0.022033044520174298, rel=1e-14)


# -- the error table -------------------------------------------------------------

def test_half_sse_is_the_posts():
    """The post's E_o1 = 1/2 (0.01 - 0.75136507)^2 = 0.274811083 and dE/dout_o1 = 0.74136507."""
    value, slope = _err("half_sse", "0.01", "0.75136507")
    assert value == pytest.approx(0.74136507**2 / 2, rel=1e-15)
    assert f"{value:.8f}" == "0.27481108"  # the post's 0.274811083 used out_o1 unrounded
    assert slope == pytest.approx(0.74136507, rel=1e-15)


def test_mse():
    """mse over two outputs: one term (1 - 0.5)^2 / 2 = 0.125, with derivative -2 (1 - 0.5) / 2 = -0.5."""
    value, slope = _err("mse", 1, "0.5", n_outputs=2)
    assert (value, slope) == (0.125, -0.5)


def test_binary_cross_entropy():
    """t = 1, y = 0.8 gives -ln 0.8 = 0.2231435513142097 and -1/0.8; t = 0 gives -ln 0.2 and 1/0.2."""
    value, slope = _err("binary_cross_entropy", 1, "0.8")
    assert value == pytest.approx(0.2231435513142097, rel=1e-15)
    assert value == pytest.approx(-math.log(0.8), rel=1e-15)
    assert slope == pytest.approx(-1 / 0.8, rel=1e-15)
    value, slope = _err("binary_cross_entropy", 0, "0.8")
    assert value == pytest.approx(-math.log(0.2), rel=1e-15)
    assert slope == pytest.approx(1 / 0.2, rel=1e-14)


def test_categorical_cross_entropy():
    """A one-hot target's term is -ln y with derivative -1/y; a zero target's term is 0."""
    value, slope = _err("categorical_cross_entropy", 1, "0.7")
    assert value == pytest.approx(0.35667494393873245, rel=1e-15)
    assert slope == pytest.approx(-1 / 0.7, rel=1e-15)
    assert _err("categorical_cross_entropy", 0, "0.7") == (0.0, 0.0)


def test_huber():
    """delta = 1: r = 0.5 gives 0.125 (slope 0.5), r = +-2 gives 1.5 (slope +-1); delta = 0.5, r = 1 gives 0.375."""
    assert _err("huber", 0, "0.5", delta=1) == (0.125, 0.5)
    assert _err("huber", 0, 2, delta=1) == (1.5, 1.0)
    assert _err("huber", 0, -2, delta=1) == (1.5, -1.0)
    assert _err("huber", "0.25", "1.25", delta="0.5") == (0.375, 0.5)
    assert _err("huber", 0, 1, delta=1) == (0.5, 1.0)  # the two pieces meet at |r| = delta


# -- end to end: one input, one neuron -------------------------------------------

def _one_to_one(activation: str, error: str, x: str, w: str, b: str, t: str, extra: str = "") -> str:
    error_line = (f'error = {{ function = "huber", delta = {error.split(":")[1]} }}' if error.startswith("huber")
                  else f'error = "{error}"')
    return f"""{error_line}
[[layers]]
size = 1
[[layers]]
size = 1
activation = "{activation}"
{extra}
[parameters]
w1 = {w}
b_o1 = {b}
[[samples]]
inputs = [{x}]
targets = [{t}]
[training]
learning_rate = 0.5
"""


S = 1 / 2  # sigmoid(0)

#: (id, spec, out_o1, E_total, dE_total/dw1, dE_total/db_o1), each worked out by hand.
#: With one input x, net = w x + b and dE/dw = dE/dout * dout/dnet * x, dE/db = dE/dout * dout/dnet.
ONE_TO_ONE = [
    # net = 0, out = 1/2, E = 1/2 (1 - 1/2)^2; dE/dout = -(1 - 1/2), dout/dnet = 1/4.
    ("sigmoid half_sse", _one_to_one("sigmoid", "half_sse", "1.0", "0.5", "-0.5", "1.0"),
     S, 0.125, -0.125, -0.125),
    # net = 0.5, out = tanh(0.5), E = 1/2 out^2; dE/dw = out (1 - out^2) x with x = 1.
    ("tanh half_sse", _one_to_one("tanh", "half_sse", "1.0", "0.5", "0.0", "0.0"),
     TANH_HALF, TANH_HALF**2 / 2, TANH_HALF * (1 - TANH_HALF**2), TANH_HALF * (1 - TANH_HALF**2)),
    # net = 1, out = 1, E = (1 - 0.5)^2 / 1; dE/dout = 2 (1 - 0.5) = 1, x = 2.
    ("relu mse", _one_to_one("relu", "mse", "2.0", "0.5", "0.0", "0.5"), 1.0, 0.25, 2.0, 1.0),
    # net = -1: a dead ReLU passes no gradient.
    ("relu dead", _one_to_one("relu", "half_sse", "1.0", "-0.5", "-0.5", "1.0"), 0.0, 0.5, 0.0, 0.0),
    # net = 0 exactly: ReLU's derivative there is 0 by convention.
    ("relu at 0", _one_to_one("relu", "half_sse", "1.0", "0.5", "-0.5", "1.0"), 0.0, 0.5, 0.0, 0.0),
    # net = -1, out = -0.1, E = 1/2 0.01; dE/dout = out = -0.1, dout/dnet = 0.1.
    ("leaky_relu negative", _one_to_one("leaky_relu", "half_sse", "1.0", "-0.5", "-0.5", "0.0", "slope = 0.1"),
     -0.1, 0.005, -0.01, -0.01),
    # net = 0 exactly: leaky ReLU's derivative there is the slope; dE/dout = -(1 - 0) = -1.
    ("leaky_relu at 0", _one_to_one("leaky_relu", "half_sse", "1.0", "0.5", "-0.5", "1.0", "slope = 0.1"),
     0.0, 0.5, -0.1, -0.1),
    # net = 0, out = ln 2, E = 1/2 (ln 2)^2; dE/dout = ln 2, dout/dnet = 1/2.
    ("softplus half_sse", _one_to_one("softplus", "half_sse", "1.0", "0.5", "-0.5", "0.0"),
     LN2, LN2**2 / 2, LN2 / 2, LN2 / 2),
    # out = r = 2 > delta = 1: E = 1 (2 - 1/2) = 1.5, dE/dout = 1.
    ("identity huber outer", _one_to_one("identity", "huber:1.0", "1.0", "2.0", "0.0", "0.0"), 2.0, 1.5, 1.0, 1.0),
    # out = r = 0.5 <= delta: E = 0.125, dE/dout = 0.5, x = 2 (w = 0.25).
    ("identity huber inner", _one_to_one("identity", "huber:1.0", "2.0", "0.25", "0.0", "0.0"),
     0.5, 0.125, 1.0, 0.5),
    # out = 1/2, t = 1: E = -ln(1/2) = ln 2; delta = out - t = -1/2.
    ("sigmoid binary_cross_entropy", _one_to_one("sigmoid", "binary_cross_entropy", "1.0", "0.5", "-0.5", "1.0"),
     S, LN2, -0.5, -0.5),
]


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """The generated module of each one-to-one network, imported."""
    folder = tmp_path_factory.mktemp("one_to_one")
    return {case[0]: load_module(pymodule.generate(derive(parse(case[1])), "t").text,
                                 f"one_{k}", folder) for k, case in enumerate(ONE_TO_ONE)}


@pytest.mark.parametrize("case", ONE_TO_ONE, ids=[c[0] for c in ONE_TO_ONE])
def test_one_to_one_network_by_hand(case, modules):
    """The derivation and the module give the hand-computed output, error and gradients."""
    name, text, out, error, dw, db = case
    values = derive(parse(text)).values
    want = {"out_o1": out, "E_total": error, "dE_total/dw1": dw, "dE_total/db_o1": db}
    for key, expected in want.items():
        assert float(values[key]) == pytest.approx(expected, rel=1e-14, abs=1e-300), key
    module = modules[name]
    spec = parse(text)
    params = {p: float(v) for p, v in spec.initial}
    inputs = {n: float(v) for n, v in spec.samples[0].inputs}
    targets = {n: float(v) for n, v in spec.samples[0].targets}
    assert module.forward(params, inputs)["out_o1"] == pytest.approx(out, rel=1e-14, abs=1e-300)
    assert module.error(params, inputs, targets) == pytest.approx(error, rel=1e-14, abs=1e-300)
    assert module.gradients(params, inputs, targets) == pytest.approx({"w1": dw, "b_o1": db}, rel=1e-14, abs=1e-300)


def test_softmax_with_cross_entropy_by_hand(tmp_path):
    """Nets (1, 2, 3) and target (0, 0, 1): E = -ln 0.6652..., and dE/db_o = out_o - target_o."""
    spec = parse(SOFTMAX_SPEC)
    values = derive(spec).values
    s = SOFTMAX_123
    want = {"out_o1": s[0], "out_o2": s[1], "out_o3": s[2], "E_total": -math.log(s[2]),
            "dE_total/db_o1": s[0], "dE_total/db_o2": s[1], "dE_total/db_o3": s[2] - 1,
            "dE_total/dw1": s[0], "dE_total/dw3": s[2] - 1}
    for key, expected in want.items():
        assert float(values[key]) == pytest.approx(expected, rel=1e-14), key
    assert float(values["E_total"]) == pytest.approx(0.40760596444437, rel=1e-13)
    module = load_module(pymodule.generate(derive(spec), "t").text, "softmax_by_hand", tmp_path)
    params = {p: float(v) for p, v in spec.initial}
    grads = module.gradients(params, {"i1": 1.0}, {"o1": 0.0, "o2": 0.0, "o3": 1.0})
    assert [grads[b] for b in ("b_o1", "b_o2", "b_o3")] == pytest.approx([s[0], s[1], s[2] - 1], rel=1e-14)
