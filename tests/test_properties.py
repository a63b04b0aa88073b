"""Properties of random feedforward networks: the generated module, the derivation and the documents agree.

Every spec is drawn by :mod:`tests.network_strategies`.  Each numeric claim is
checked against a reference built without the code under test: central finite
differences of the module's own error, SymPy's diff of the fully expanded
error, and the 50-digit derivation.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp
from hypothesis import Phase, event, given, settings

from stepgrad.codegen import pdf, pipeline, pymodule
from stepgrad.symbolic import naming
from stepgrad.symbolic.derive import batches, derive, format_value
from stepgrad.symbolic.model import Model, symbol
from stepgrad.symbolic.spec import parse
from stepgrad.symbolic.verify import verify
from tests.conftest import load_module
from tests.network_strategies import KINKED, networks, small_networks

#: Central-difference step and the agreement demanded of it (float64).
H = 1e-6
FD_REL = 1e-6
FD_ABS = 1e-8
#: Agreement demanded between the float64 module and the 50-digit derivation.
EXACT_REL = 1e-10
#: A kinked activation's net input (or a Huber residual's distance from delta) closer than
#: this to the kink makes a finite difference straddle it: such points are not compared by FD.
NEAR_KINK = 1e-4
#: An exact net input this close to 0 may round to either side in float64.
FLOAT_AMBIGUOUS = 1e-12
#: Slow tests skip Hypothesis's explain phase, which reruns a failing example dozens of times.
NO_EXPLAIN = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)


# -- building --------------------------------------------------------------

@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """(spec, derivation, imported scalar module) for a spec text, built once per text."""
    folder = tmp_path_factory.mktemp("props")
    counter = itertools.count()
    cache: dict[str, tuple] = {}

    def get(text: str):
        if text not in cache:
            spec = parse(text, "<hypothesis>")
            derivation = derive(spec)
            module = load_module(pymodule.generate(derivation, "t").text, f"prop_{next(counter)}", folder)
            cache[text] = (spec, derivation, module)
        return cache[text]

    return get


def _params(spec) -> dict[str, float]:
    return {p: float(v) for p, v in spec.initial}


def _sample(spec, s: int) -> tuple[dict, dict]:
    sample = spec.samples[s]
    return {n: float(v) for n, v in sample.inputs}, {n: float(v) for n, v in sample.targets}


def _key(derivation, name: str, s: int) -> str:
    """The derivation's name for a per-sample quantity of sample s (0-based)."""
    return naming.in_sample(name, s + 1, derivation.n_samples) if len(derivation.batch) > 1 else name


def _batch_error(module, spec, params: dict, batch) -> float:
    """The batch's error from the module's per-sample error, combined by the spec's reduction."""
    total = sum(module.error(params, *_sample(spec, s)) for s in batch)
    return total / len(batch) if spec.training.reduction == "mean" else total


def _central_differences(f, params: dict) -> dict[str, float]:
    out = {}
    for p in params:
        up, down = dict(params), dict(params)
        up[p] += H
        down[p] -= H
        out[p] = (f(up) - f(down)) / (2 * H)
    return out


def _near_kink(spec, forwards: list[dict], targets: list[dict], margin: float) -> bool:
    """Whether a ReLU-like net input, or a Huber residual's size, lies within margin of its kink."""
    for k, layer in enumerate(spec.layers[1:], start=1):
        if layer.activation in KINKED:
            for fwd in forwards:
                if any(abs(fwd[naming.net(n)]) < margin for n in layer.neurons):
                    return True
    if spec.error == "huber":
        delta = float(dict(spec.error_params)["delta"])
        for fwd, tgt in zip(forwards, targets):
            if any(abs(abs(fwd[naming.out(o)] - tgt[o]) - delta) < margin for o in spec.outputs):
                return True
    return False


def _exact_near_zero_net(spec, derivation) -> bool:
    """Whether an exact ReLU-like net input is (nearly) 0, where float64 may take the other branch."""
    return any(abs(derivation.values[_key(derivation, naming.net(n), s)]) < FLOAT_AMBIGUOUS
               for layer in spec.layers[1:] if layer.activation in KINKED
               for n in layer.neurons for s in derivation.batch)


def _assert_close(got: dict, want: dict, rel: float, abs_: float = 0.0, what: str = "") -> None:
    """Each value agrees to rel of itself, or of the largest value compared times 1e-3 (cancellation)."""
    assert list(got) == list(want), what
    scale = max([abs(v) for v in want.values()] + [0.0])
    for name in want:
        bound = rel * max(abs(want[name]), 1e-3 * scale) + abs_
        assert abs(got[name] - want[name]) <= bound, (what, name, got[name], want[name])


# -- gradients -------------------------------------------------------------

@settings(derandomize=True, deadline=None, max_examples=40)
@given(networks())
def test_gradients_agree_with_central_differences_and_the_derivation(build, text):
    """Per-sample and batch gradients match central differences and the 50-digit derivation's values."""
    spec, derivation, module = build(text)
    params = _params(spec)
    batch = batches(spec)[0]
    forwards = [module.forward(params, _sample(spec, s)[0]) for s in range(len(spec.samples))]
    targets = [_sample(spec, s)[1] for s in range(len(spec.samples))]

    if _near_kink(spec, forwards, targets, NEAR_KINK):
        event("near a kink: finite differences skipped")
    else:
        for s in range(len(spec.samples)):
            inputs, target = _sample(spec, s)
            fd = _central_differences(lambda p: module.error(p, inputs, target), params)
            scale = max(1.0, abs(module.error(params, inputs, target)))
            _assert_close(module.gradients(params, inputs, target), fd, FD_REL, FD_ABS * scale, f"sample {s}")
        samples = [_sample(spec, s) for s in batch]
        fd = _central_differences(lambda p: _batch_error(module, spec, p, batch), params)
        scale = max(1.0, abs(_batch_error(module, spec, params, batch)))
        _assert_close(module.batch_gradients(params, samples), fd, FD_REL, FD_ABS * scale, "batch")

    if _exact_near_zero_net(spec, derivation):
        event("an exact ReLU net input of 0: derivation comparison skipped")
        return
    exact = {p: float(derivation.values[naming.d(naming.E_TOTAL, p)]) for p in spec.parameters}
    grads = module.batch_gradients(params, [_sample(spec, s) for s in batch])
    _assert_close(grads, exact, EXACT_REL, 1e-300, "derivation")
    if len(batch) == 1:
        assert grads == module.gradients(params, *_sample(spec, batch[0]))


# -- small networks: direct differentiation ---------------------------------

@settings(derandomize=True, deadline=None, max_examples=12, phases=NO_EXPLAIN)
@given(small_networks(max_parameters=12))
def test_small_networks_agree_with_direct_differentiation(build, text):
    """verify() checks every gradient by SymPy diff, and the module matches diff of the expanded error."""
    spec, derivation, module = build(text)
    check = {c.what: c for c in verify(derivation)}["dE_total/d(every weight and bias)"]
    assert check.count == len(spec.parameters) * len(derivation.batch)
    assert check.worst < 1e-30

    # The module against SymPy's diff of the fully expanded error, at the exact sample values.
    full = Model(spec).expanded_error("params")
    wrt = [sp.diff(full, symbol(p)) for p in spec.parameters]
    if _exact_near_zero_net(spec, derivation):
        event("an exact ReLU net input of 0: module comparison skipped")
        return
    params = _params(spec)
    for s in derivation.batch:
        sample = spec.samples[s]
        env = {symbol(p): v for p, v in spec.initial}
        env.update({symbol(n): v for n, v in sample.inputs})
        env.update({symbol(naming.target(n)): v for n, v in sample.targets})
        direct = {p: float(g.xreplace(env).evalf(30)) for p, g in zip(spec.parameters, wrt)}
        _assert_close(module.gradients(params, *_sample(spec, s)), direct, EXACT_REL, 1e-300, f"sample {s}")


SOFTPLUS_HUBER = """
error = { function = "huber", delta = 0.25 }
[[layers]]
size = 1
[[layers]]
size = 1
activation = "softplus"
[[layers]]
size = 1
activation = "identity"
bias = "none"
[parameters]
w1 = 0.5
w2 = 0.5
b_h1 = 0.5
[[samples]]
inputs = [0.5]
targets = [0.0]
[training]
learning_rate = 0.1
"""


def test_softplus_with_huber_verifies():
    """A softplus layer under a Huber error verifies by direct differentiation like any other network."""
    derivation = derive(parse(SOFTPLUS_HUBER, "<softplus-huber>"))
    checks = {c.what: c for c in verify(derivation)}
    assert checks["dE_total/d(every weight and bias)"].count == 3


# -- forward values ----------------------------------------------------------

@settings(derandomize=True, deadline=None, max_examples=30)
@given(networks())
def test_forward_values_agree_with_the_derivation(build, text):
    """Every net_* and out_* of forward(), and each sample's error, match the derivation's values."""
    spec, derivation, module = build(text)
    params = _params(spec)
    expected = sorted(naming.net(n) for layer in spec.layers[1:] for n in layer.neurons) + sorted(
        naming.out(n) for layer in spec.layers[1:] for n in layer.neurons)
    for s in derivation.batch:
        inputs, targets = _sample(spec, s)
        fwd = module.forward(params, inputs)
        assert sorted(k for k in fwd if k.startswith("net_")) + sorted(
            k for k in fwd if k.startswith("out_")) == expected
        want = {name: float(derivation.values[_key(derivation, name, s)]) for name in fwd}
        _assert_close(fwd, want, 1e-12, 1e-15, f"sample {s}")
        e = float(derivation.values[_key(derivation, naming.E_TOTAL, s)])
        assert module.error(params, inputs, targets) == pytest.approx(e, rel=1e-12, abs=1e-15)
    total = _batch_error(module, spec, params, derivation.batch)
    assert total == pytest.approx(float(derivation.values[naming.E_TOTAL]), rel=1e-12, abs=1e-15)


# -- documents ---------------------------------------------------------------

@settings(derandomize=True, deadline=None, max_examples=8, phases=NO_EXPLAIN)
@given(networks(hidden_layers=(1, 2), widths=(1, 3)))
def test_worked_example_renders(build, text):
    """The worked example renders to LaTeX and Markdown that print the first gradient and the error."""
    spec, derivation, _ = build(text)
    worked = pipeline.worked_example(spec.with_training(steps=5), "t")
    assert r"\documentclass" in worked.tex and worked.tex.rstrip().endswith(r"\end{document}")
    first = naming.d(naming.E_TOTAL, spec.parameters[0])
    for name in (naming.E_TOTAL, first):
        value = format_value(worked.derivation.values[name])
        assert value == format_value(derivation.values[name])
        assert value in worked.markdown and value in worked.tex, name


@pytest.mark.tex
@settings(derandomize=True, deadline=None, max_examples=3, phases=NO_EXPLAIN)
@given(networks(hidden_layers=(1, 2), widths=(1, 3)))
def test_worked_example_compiles(text):
    """The worked example's LaTeX compiles to a PDF with a real TeX engine."""
    if not pdf.engine_available():
        pytest.skip("no TeX engine (latexmk and pdflatex)")
    spec = parse(text, "<hypothesis>")
    worked = pipeline.worked_example(spec.with_training(steps=5), "t")
    assert pdf.compile_pdf(worked.tex, "t").startswith(b"%PDF")


# -- the NumPy module ----------------------------------------------------------

_NUMPY_NAMES = itertools.count()


@settings(derandomize=True, deadline=None, max_examples=12)
@given(networks())
def test_numpy_module_agrees_with_the_scalar_module(build, tmp_path_factory, text):
    """The vectorized module's forward, error, gradients and batch gradients match the scalar one to 1e-12."""
    pytest.importorskip("numpy")
    from stepgrad.codegen import npmodule

    spec, derivation, scalar = build(text)
    folder = tmp_path_factory.getbasetemp()
    vector = load_module(npmodule.generate(spec, "t"), f"np_prop_{next(_NUMPY_NAMES)}", folder)
    params = _params(spec)
    for s in range(len(spec.samples)):
        inputs, targets = _sample(spec, s)
        _assert_close(vector.forward(params, inputs), scalar.forward(params, inputs), 1e-12, 0.0, "forward")
        _assert_close(vector.gradients(params, inputs, targets), scalar.gradients(params, inputs, targets),
                      1e-12, 0.0, "gradients")
        assert vector.error(params, inputs, targets) == pytest.approx(
            scalar.error(params, inputs, targets), rel=1e-12, abs=1e-300)
    samples = [_sample(spec, s) for s in range(len(spec.samples))]
    _assert_close(vector.batch_gradients(params, samples), scalar.batch_gradients(params, samples),
                  1e-12, 0.0, "batch")
