"""The vectorized NumPy module against the scalar module and central differences."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
import time

import pytest

np = pytest.importorskip("numpy")

from stepgrad.codegen import npmodule, pymodule  # noqa: E402 - after the skip
from stepgrad.codegen.render import MARKER  # noqa: E402
from stepgrad.symbolic import spec as spec_mod  # noqa: E402
from stepgrad.symbolic.derive import derive  # noqa: E402
from tests.conftest import ROOT, load_module  # noqa: E402

#: Agreement demanded between the two generated forms, relative to the largest gradient.
REL = 1e-12

SPECS = {
    "deep_tanh": """
        error = "half_sse"
        [[layers]]
        size = 3
        [[layers]]
        size = 4
        activation = "tanh"
        [[layers]]
        size = 4
        activation = "tanh"
        [[layers]]
        size = 4
        activation = "tanh"
        [[layers]]
        size = 2
        activation = "sigmoid"
        [initializer]
        seed = 1
        [[samples]]
        inputs = [0.1, -0.2, 0.3]
        targets = [0.2, 0.7]
        [training]
        learning_rate = 0.5
    """,
    "wide_relu_mse_shared": """
        error = "mse"
        [[layers]]
        size = 5
        [[layers]]
        size = 24
        activation = "relu"
        bias = "shared"
        [[layers]]
        size = 3
        activation = "identity"
        bias = "shared"
        [initializer]
        seed = 2
        [[samples]]
        inputs = [0.1, -0.2, 0.3, 0.4, 0.5]
        targets = [0.2, 0.7, -1.5]
        [training]
        learning_rate = 0.1
    """,
    "leaky_softplus_huber": """
        error = { function = "huber", delta = 0.5 }
        [[layers]]
        size = 3
        [[layers]]
        size = 4
        activation = "leaky_relu"
        slope = 0.2
        bias = "none"
        [[layers]]
        size = 4
        activation = "softplus"
        bias_trainable = false
        [[layers]]
        size = 2
        activation = "identity"
        [initializer]
        seed = 3
        [[samples]]
        inputs = [0.1, -0.2, 0.3]
        targets = [0.2, 2.0]
        [training]
        learning_rate = 0.1
    """,
    "bce_minibatch_mean": """
        error = "binary_cross_entropy"
        [[layers]]
        size = 3
        [[layers]]
        size = 5
        activation = "tanh"
        [[layers]]
        size = 2
        activation = "sigmoid"
        [initializer]
        seed = 4
        [[samples]]
        inputs = [0.1, -0.2, 0.3]
        targets = [0.0, 1.0]
        [[samples]]
        inputs = [0.5, 0.2, -0.3]
        targets = [0.3, 0.9]
        [[samples]]
        inputs = [0.0, 0.7, 0.1]
        targets = [1.0, 0.0]
        [[samples]]
        inputs = [-0.4, 0.1, 0.9]
        targets = [0.5, 0.5]
        [training]
        learning_rate = 0.1
        batch = 2
        reduction = "mean"
    """,
    "softmax_cce_full_sum": """
        error = "categorical_cross_entropy"
        [[layers]]
        size = 4
        [[layers]]
        size = 6
        activation = "sigmoid"
        [[layers]]
        size = 3
        activation = "softmax"
        [initializer]
        seed = 5
        [[samples]]
        inputs = [0.1, -0.2, 0.3, 0.4]
        targets = [0.0, 1.0, 0.0]
        [[samples]]
        inputs = [0.3, 0.2, -0.1, 0.0]
        targets = [0.2, 0.3, 0.5]
        [[samples]]
        inputs = [-0.3, 0.5, 0.1, 0.8]
        targets = [1.0, 0.0, 0.0]
        [training]
        learning_rate = 0.1
        batch = "full"
    """,
    "softmax_half_sse": """
        [[layers]]
        size = 3
        [[layers]]
        size = 4
        activation = "tanh"
        [[layers]]
        size = 3
        activation = "softmax"
        [initializer]
        seed = 6
        [[samples]]
        inputs = [0.1, -0.2, 0.3]
        targets = [0.1, 0.6, 0.3]
        [training]
        learning_rate = 0.1
    """,
    "sparse_named_shared_frozen": """
        [[layers]]
        neurons = ["x1", "x2", "x3"]
        [[layers]]
        neurons = ["a", "b", "c"]
        activation = "tanh"
        bias = "shared"
        bias_name = "bh"
        bias_trainable = false
        [[layers]]
        neurons = ["y1", "y2"]
        activation = "sigmoid"
        [wiring]
        u1 = "x1 -> a"
        u2 = "x2 -> a"
        u3 = "x2 -> b"
        u4 = "x3 -> c"
        u5 = "x1 -> c"
        v1 = "a -> y1"
        v2 = "b -> y1"
        v3 = "c -> y2"
        v4 = "b -> y2"
        [initializer]
        seed = 7
        [[samples]]
        inputs = [0.1, -0.2, 0.3]
        targets = [0.2, 0.7]
        [training]
        learning_rate = 0.5
    """,
    "sparse_deep_updated_mean": """
        [[layers]]
        size = 2
        [[layers]]
        size = 3
        activation = "sigmoid"
        [[layers]]
        size = 3
        activation = "tanh"
        [[layers]]
        size = 2
        activation = "sigmoid"
        bias = "shared"
        [wiring]
        w1 = "i1 -> h1_1"
        w2 = "i2 -> h1_2"
        w3 = "i1 -> h1_3"
        w4 = "i2 -> h1_3"
        w5 = "h1_1 -> h2_1"
        w6 = "h1_2 -> h2_2"
        w7 = "h1_3 -> h2_3"
        w8 = "h1_3 -> h2_1"
        w9 = "h2_1 -> o1"
        w10 = "h2_2 -> o1"
        w11 = "h2_3 -> o2"
        w12 = "h2_2 -> o2"
        [initializer]
        seed = 8
        [[samples]]
        inputs = [0.1, -0.2]
        targets = [0.2, 0.7]
        [[samples]]
        inputs = [0.4, 0.3]
        targets = [0.9, 0.1]
        [training]
        learning_rate = 0.5
        reduction = "mean"
        hidden_deltas = "updated"
    """,
    "no_hidden_layer": """
        error = "mse"
        [[layers]]
        size = 3
        [[layers]]
        size = 2
        activation = "identity"
        [initializer]
        seed = 9
        [[samples]]
        inputs = [0.1, -0.2, 0.3]
        targets = [0.2, 0.7]
        [training]
        learning_rate = 0.1
    """,
}

NAMES = ["mazur", "mazur_updated", *SPECS]


def _spec(name: str):
    if name == "mazur":
        return spec_mod.load("mazur")
    if name == "mazur_updated":
        return spec_mod.load("mazur").with_training(hidden_deltas="updated")
    return spec_mod.parse("\n".join(line.strip() for line in SPECS[name].splitlines()), name)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """(spec, scalar module, NumPy module) per spec name, generated from the same spec once."""
    folder = tmp_path_factory.mktemp("npmod")
    cache = {}

    def get(name):
        if name not in cache:
            spec = _spec(name)
            scalar = load_module(pymodule.generate(derive(spec), name).text, f"sc_{name}", folder)
            vector = load_module(npmodule.generate(spec, name), f"np_{name}", folder)
            cache[name] = (spec, scalar, vector)
        return cache[name]

    return get


def _point(rng: random.Random, spec, scale: float = 1.0):
    params = {p: rng.uniform(-scale, scale) for p in spec.parameters}
    inputs = {n: rng.uniform(-1, 1) for n in spec.inputs}
    raw = [rng.uniform(0.05, 0.95) for _ in spec.outputs]
    if spec.error == "categorical_cross_entropy":
        raw = [v / sum(raw) for v in raw]
    return params, inputs, dict(zip(spec.outputs, raw))


def _assert_close(got: dict, want: dict, rel: float = REL) -> None:
    assert list(got) == list(want)
    scale = max([abs(v) for v in want.values()] + [1e-300])
    for name in want:
        assert abs(got[name] - want[name]) <= rel * max(abs(want[name]), scale), (
            name, got[name], want[name])


@pytest.mark.parametrize("name", NAMES)
def test_constants_match_the_scalar_module(pairs, name):
    """Both forms name the same parameters, inputs, outputs, reduction and learning rate, in order."""
    _, scalar, vector = pairs(name)
    for constant in ("PARAMETERS", "TRAINABLE", "FROZEN", "INPUTS", "OUTPUTS", "REDUCTION",
                     "LEARNING_RATE", "HIDDEN_DELTAS"):
        assert getattr(vector, constant) == getattr(scalar, constant), constant


@pytest.mark.parametrize("name", NAMES)
def test_gradients_forward_and_error_match_the_scalar_module(pairs, name):
    """gradients, forward and error agree with the scalar module to 1e-12 at random points."""
    spec, scalar, vector = pairs(name)
    rng = random.Random(name)
    for _ in range(3):
        params, inputs, targets = _point(rng, spec)
        _assert_close(vector.gradients(params, inputs, targets), scalar.gradients(params, inputs, targets))
        _assert_close(vector.forward(params, inputs), scalar.forward(params, inputs))
        assert vector.error(params, inputs, targets) == pytest.approx(
            scalar.error(params, inputs, targets), rel=REL)


@pytest.mark.parametrize("name", NAMES)
def test_batch_gradients_and_step_match_the_scalar_module(pairs, name):
    """batch_gradients over four samples (combined by the spec's reduction) and step agree to 1e-12."""
    spec, scalar, vector = pairs(name)
    rng = random.Random(f"batch {name}")
    params, _, _ = _point(rng, spec)
    samples = [_point(rng, spec)[1:] for _ in range(4)]
    _assert_close(vector.batch_gradients(params, samples), scalar.batch_gradients(params, samples))
    _assert_close(vector.step(params, *samples[0], 0.3), scalar.step(params, *samples[0], 0.3))


@pytest.mark.parametrize("name", [n for n in NAMES if "updated" not in n])
def test_gradients_match_central_differences(pairs, name):
    """Every gradient agrees with central differences of the NumPy module's own error."""
    spec, _, vector = pairs(name)
    rng = random.Random(f"fd {name}")
    params, inputs, targets = _point(rng, spec)
    grads = vector.gradients(params, inputs, targets)
    h = 1e-6
    for p in spec.parameters:
        up, down = dict(params), dict(params)
        up[p] += h
        down[p] -= h
        fd = (vector.error(up, inputs, targets) - vector.error(down, inputs, targets)) / (2 * h)
        assert grads[p] == pytest.approx(fd, rel=1e-6, abs=1e-8), p


@pytest.mark.parametrize("name", ["bce_minibatch_mean", "softmax_cce_full_sum", "wide_relu_mse_shared"])
def test_array_gradients_on_a_batch_combine_by_reduction(pairs, name):
    """gradients_arrays on a batch equals the reduction of per-sample scalar gradients."""
    spec, scalar, vector = pairs(name)
    rng = random.Random(f"arrays {name}")
    params, _, _ = _point(rng, spec)
    samples = [_point(rng, spec)[1:] for _ in range(5)]
    X = np.array([[i[n] for n in spec.inputs] for i, _ in samples])
    T = np.array([[t[n] for n in spec.outputs] for _, t in samples])
    Ws, bs = vector.pack(params)
    got = vector.unpack(*vector.gradients_arrays(Ws, bs, X, T))
    per = [scalar.gradients(params, i, t) for i, t in samples]
    factor = 1 / len(samples) if spec.training.reduction == "mean" else 1.0
    _assert_close(got, {p: factor * sum(g[p] for g in per) for p in spec.parameters})
    errors = [scalar.error(params, i, t) for i, t in samples]
    assert vector.error_arrays(Ws, bs, X, T) == pytest.approx(factor * sum(errors), rel=REL)


def test_pack_and_unpack_are_inverse(pairs):
    """unpack(pack(params)) gives back every parameter, and pack lays weights out as (dst, src)."""
    spec, _, vector = pairs("sparse_named_shared_frozen")
    params, _, _ = _point(random.Random(0), spec)
    Ws, bs = vector.pack(params)
    assert [W.shape for W in Ws] == [(3, 3), (2, 3)]
    assert Ws[0][2, 0] == params["u5"] and Ws[0][1, 0] == 0.0
    assert list(bs[0]) == [params["bh"]] * 3
    assert vector.unpack(Ws, bs) == params


def test_sparse_weights_stay_zero_and_frozen_shared_bias_stays(pairs):
    """step_arrays keeps unwired entries at zero, the frozen shared bias fixed, trained biases tied."""
    spec, _, vector = pairs("sparse_deep_updated_mean")
    params, inputs, targets = _point(random.Random(1), spec)
    Ws, bs = vector.pack(params)
    X = np.array([[inputs[n] for n in spec.inputs]] * 3)
    T = np.array([[targets[n] for n in spec.outputs]] * 3)
    for _ in range(3):
        Ws, bs = vector.step_arrays(Ws, bs, X, T, 0.5)
    masks = [W0 != 0 for W0 in vector.pack(params)[0]]
    for W, mask in zip(Ws, masks):
        assert np.all(W[~mask] == 0.0) and np.all(W[mask] != 0.0)
    assert np.all(bs[-1] == bs[-1][0]) and bs[-1][0] != params["b3"]

    spec, _, vector = pairs("sparse_named_shared_frozen")
    params, inputs, targets = _point(random.Random(2), spec)
    new = vector.step(params, inputs, targets, 0.5)
    assert new["bh"] == params["bh"] and new["v1"] != params["v1"]


@pytest.mark.parametrize("name", ["bce_minibatch_mean", "softmax_cce_full_sum", "mazur"])
def test_saturated_outputs_give_finite_gradients_without_warnings(pairs, name):
    """Net inputs in the thousands give finite gradients and error, with no overflow or division warnings."""
    spec, scalar, vector = pairs(name)
    params, inputs, targets = _point(random.Random(3), spec, scale=2000.0)
    with np.errstate(all="raise", under="ignore"):
        grads = vector.gradients(params, inputs, targets)
        error = vector.error(params, inputs, targets)
    assert all(np.isfinite(g) for g in grads.values())
    assert np.isfinite(error) and error == pytest.approx(scalar.error(params, inputs, targets), rel=REL)


def test_output_deltas_are_cancelled(pairs):
    """Sigmoid with binary cross-entropy and softmax with categorical cross-entropy leave no division."""
    for name, line in (("bce_minibatch_mean", "delta2 = out2 - T"), ("softmax_cce_full_sum", "g2 = -T")):
        spec, _, _ = pairs(name)
        assert f"\n    {line}\n" in npmodule.generate(spec, name), name


def test_module_header_marker_and_imports(pairs):
    """The module says what generated it and not to edit it, and imports only numpy."""
    spec, _, vector = pairs("mazur")
    text = npmodule.generate(spec, "mazur")
    assert MARKER in vector.__doc__ and "'mazur'" in vector.__doc__ and "Do not edit" in vector.__doc__
    imports = [n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [a.name for n in imports for a in n.names] == ["numpy"]
    assert text == npmodule.generate(spec_mod.load("mazur"), "mazur")


def _dense_spec(sizes: list[int]):
    layers = "\n".join(f"[[layers]]\nsize = {n}\n" + ('activation = "sigmoid"\n' if k else "")
                       for k, n in enumerate(sizes))
    return spec_mod.parse(f"""{layers}
[initializer]
seed = 0
[[samples]]
inputs = {[0.5] * sizes[0]}
targets = {[0.5] * sizes[-1]}
[training]
learning_rate = 0.1
""")


def test_generation_does_not_grow_with_width():
    """A 64-64-64-8 network generates about as fast as a 2-2-2 one: no per-weight SymPy work."""
    small, big = _dense_spec([2, 2, 2]), _dense_spec([64, 64, 64, 8])
    npmodule.generate(small, "warm")
    start = time.perf_counter()
    npmodule.generate(small, "small")
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    text = npmodule.generate(big, "big")
    t_big = time.perf_counter() - start
    assert t_big < 5 * t_small + 0.2
    assert "_numbered('w', 1, 4096)" in text and len(text) < 20000


def test_choose_form_by_size():
    """Small networks get the scalar form, networks past SCALAR_LIMIT parameters the NumPy form."""
    assert npmodule.choose_form(spec_mod.load("mazur")) == "scalar"
    big = _dense_spec([20, 20, 20])
    assert len(big.parameters) > npmodule.SCALAR_LIMIT
    assert npmodule.choose_form(big) == "numpy"


def test_stepgrad_does_not_import_numpy():
    """Importing the generators leaves numpy unimported: it is not a stepgrad dependency."""
    code = "import sys, stepgrad.codegen.npmodule, stepgrad.codegen.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
