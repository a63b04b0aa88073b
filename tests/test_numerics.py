"""Generated code stays finite and accurate at saturated net inputs (issue 6), against 50-digit references."""

from __future__ import annotations

import math

import mpmath
import pytest

from stepgrad.codegen import npmodule, pipeline
from stepgrad.symbolic.spec import parse

from .conftest import load_module



@pytest.fixture(autouse=True)
def fifty_digits():
    """Compute every reference at 50 significant digits."""
    with mpmath.workdps(50):
        yield


def _spec(error: str, activation: str, outputs: int, hidden: str | None = None) -> str:
    layers = '[[layers]]\nsize = 1\n'
    if hidden:
        layers += f'[[layers]]\nsize = 1\nactivation = "{hidden}"\nbias = "none"\n'
    layers += f'[[layers]]\nsize = {outputs}\nactivation = "{activation}"\n'
    weights = "\n".join(f"w{k} = 1" for k in range(1, outputs + (2 if hidden else 1)))
    biases = "\n".join(f"b_o{k} = 0" for k in range(1, outputs + 1))
    targets = ", ".join(["1"] + ["0"] * (outputs - 1))
    return (f'error = "{error}"\n{layers}[parameters]\n{weights}\n{biases}\n'
            f"[[samples]]\ninputs = [1]\ntargets = [{targets}]\n[training]\nlearning_rate = 0.1\n")


def _modules(text: str, tmp_path, name: str):
    spec = parse(text, f"{name}.toml")
    scalar = load_module(pipeline.module(spec, name), f"{name}_scalar", tmp_path)
    out = [scalar]
    try:
        import numpy  # noqa: F401
    except ImportError:
        return spec, out
    out.append(load_module(npmodule.generate(spec, name), f"{name}_numpy", tmp_path))
    return spec, out


def _close(got: float, want) -> bool:
    want = float(want)
    return math.isfinite(got) and abs(got - want) <= 1e-12 * max(1.0, abs(want))


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus(x):
    return mpmath.log(1 + mpmath.exp(x))


@pytest.mark.parametrize("net", [1000, -1000, 40, -40])
@pytest.mark.parametrize("target", [0, 1])
def test_sigmoid_binary_cross_entropy(tmp_path, net, target):
    """E = t softplus(-x) + (1 - t) softplus(x) and dE/dw = sigmoid(x) - t, at x = +-1000 and t in {0, 1}."""
    spec, modules = _modules(_spec("binary_cross_entropy", "sigmoid", 1), tmp_path, f"bce{net}{target}".replace("-", "m"))
    x = mpmath.mpf(net)
    want_e = target * _softplus(-x) + (1 - target) * _softplus(x)
    want_g = _sigmoid(x) - target
    for module in modules:
        params = {"w1": float(net), "b_o1": 0.0}
        e = float(module.error(params, {"i1": 1.0}, {"o1": float(target)}))
        g = module.gradients(params, {"i1": 1.0}, {"o1": float(target)})
        assert _close(e, want_e), (module.__name__, e, want_e)
        assert _close(float(g["w1"]), want_g) and _close(float(g["b_o1"]), want_g)


@pytest.mark.parametrize("net", [1000, -1000])
def test_softmax_categorical_cross_entropy(tmp_path, net):
    """Softmax with cross-entropy at net inputs +-1000: E = logsumexp(x) - x_1 and dE/dx_j = softmax_j - t_j."""
    spec, modules = _modules(_spec("categorical_cross_entropy", "softmax", 3), tmp_path, f"cce{net}".replace("-", "m"))
    weights = {"w1": float(net), "w2": 0.0, "w3": -float(net)}
    xs = [mpmath.mpf(net), mpmath.mpf(0), mpmath.mpf(-net)]
    lse = mpmath.log(sum(mpmath.exp(v) for v in xs))
    want_e = lse - xs[0]
    soft = [mpmath.exp(v - lse) for v in xs]
    for module in modules:
        params = {**weights, "b_o1": 0.0, "b_o2": 0.0, "b_o3": 0.0}
        targets = {"o1": 1.0, "o2": 0.0, "o3": 0.0}
        e = float(module.error(params, {"i1": 1.0}, targets))
        g = module.gradients(params, {"i1": 1.0}, targets)
        assert _close(e, want_e), (module.__name__, e, want_e)
        for j, t in enumerate((1, 0, 0)):
            assert _close(float(g[f"b_o{j + 1}"]), soft[j] - t), (module.__name__, j)


@pytest.mark.parametrize("net", [1000, -1000])
def test_softplus_hidden_layer(tmp_path, net):
    """A softplus hidden neuron at +-1000 gives out = softplus(x) and dout/dnet = sigmoid(x), finite."""
    spec, modules = _modules(_spec("half_sse", "identity", 1, hidden="softplus"), tmp_path, f"sp{net}".replace("-", "m"))
    x = mpmath.mpf(net)
    out_h = _softplus(x)
    out_o = out_h  # w2 = 1, b = 0, identity output
    want_e = (1 - out_o) ** 2 / 2
    want_dw1 = (out_o - 1) * 1 * _sigmoid(x) * 1
    for module in modules:
        params = {"w1": float(net), "w2": 1.0, "b_o1": 0.0}
        e = float(module.error(params, {"i1": 1.0}, {"o1": 1.0}))
        g = module.gradients(params, {"i1": 1.0}, {"o1": 1.0})
        assert _close(e, want_e), (module.__name__, e, want_e)
        assert _close(float(g["w1"]), want_dw1), (module.__name__, g["w1"], want_dw1)
