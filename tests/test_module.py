"""The generated gradient module against independent references."""

from __future__ import annotations

import ast
import random

import mpmath
import pytest
import sympy as sp

from stepgrad.symbolic import naming
from stepgrad.symbolic.model import Model, symbol


def _point(rng: random.Random, spec):
    params = {p: rng.uniform(-2, 2) for p in spec.parameters}
    inputs = {n: rng.uniform(-1, 1) for n in spec.inputs}
    targets = {n: rng.uniform(0.05, 0.95) for n in spec.outputs}
    return params, inputs, targets


def _post_point(spec):
    sample = spec.samples[0]
    return ({p: float(v) for p, v in spec.initial}, {n: float(v) for n, v in sample.inputs},
            {n: float(v) for n, v in sample.targets})


def test_module_matches_high_precision_derivation(mazur, mazur_derivation, mazur_module):
    """Every gradient, forward value and the error agree with the 50-digit derivation to 1e-13."""
    params, inputs, targets = _post_point(mazur)
    grads = mazur_module.gradients(params, inputs, targets)
    for p in mazur.parameters:
        exact = mazur_derivation.values[naming.d(naming.E_TOTAL, p)]
        assert grads[p] == pytest.approx(float(exact), rel=1e-13, abs=1e-16), p
    fwd = mazur_module.forward(params, inputs)
    for name, value in fwd.items():
        assert value == pytest.approx(float(mazur_derivation.values[name]), rel=1e-14)
    assert mazur_module.error(params, inputs, targets) == pytest.approx(float(mazur_derivation.values["E_total"]), rel=1e-14)


def test_module_matches_the_posts_printed_gradient(mazur, mazur_module):
    """The module's dE/dw5 and dE/dw1 round to the post's printed figures."""
    grads = mazur_module.gradients(*_post_point(mazur))
    assert f"{grads['w5']:.9f}" == "0.082167041"
    assert f"{grads['w1']:.9f}" == "0.000438568"


@pytest.mark.parametrize("seed", range(5))
def test_module_matches_central_differences(mazur, mazur_module, seed):
    """Gradients agree with central finite differences of the module's own error at random points."""
    rng = random.Random(seed)
    params, inputs, targets = _point(rng, mazur)
    grads = mazur_module.gradients(params, inputs, targets)
    h = 1e-6
    for p in mazur.parameters:
        up, down = dict(params), dict(params)
        up[p] += h
        down[p] -= h
        fd = (mazur_module.error(up, inputs, targets) - mazur_module.error(down, inputs, targets)) / (2 * h)
        assert grads[p] == pytest.approx(fd, rel=1e-6, abs=1e-9), p


@pytest.mark.parametrize("seed", range(3))
def test_module_matches_direct_differentiation(mazur, mazur_module, seed):
    """Gradients agree with SymPy's diff of the fully expanded error, evaluated at 30 digits."""
    model = Model(mazur)
    full = model.expanded_error("params")
    rng = random.Random(100 + seed)
    params, inputs, targets = _point(rng, mazur)
    env = {symbol(k): sp.Float(v, 30) for k, v in params.items()}
    env.update({symbol(k): sp.Float(v, 30) for k, v in inputs.items()})
    env.update({symbol(naming.target(k)): sp.Float(v, 30) for k, v in targets.items()})
    grads = mazur_module.gradients(params, inputs, targets)
    for p in mazur.parameters:
        direct = float(sp.diff(full, symbol(p)).xreplace(env).evalf(30))
        assert grads[p] == pytest.approx(direct, rel=1e-12, abs=1e-15), p


def test_step_respects_frozen_biases(mazur, mazur_derivation, mazur_module):
    """One step changes every weight by -eta * gradient and leaves the frozen biases alone."""
    params, inputs, targets = _post_point(mazur)
    new = mazur_module.step(params, inputs, targets, 0.5)
    assert new["b1"] == params["b1"] and new["b2"] == params["b2"]
    for w in ("w1", "w5", "w8"):
        assert new[w] == pytest.approx(float(mazur_derivation.values[naming.updated(w)]), rel=1e-14)


def test_module_trains_to_the_posts_closing_outputs(mazur, mazur_module):
    """10,000 float64 steps of the hidden-deltas variant reproduce the post's final outputs."""
    from stepgrad.codegen import pipeline
    from tests.conftest import load_module
    import tempfile, pathlib

    variant = mazur.with_training(hidden_deltas="updated")
    with tempfile.TemporaryDirectory() as folder:
        mod = load_module(pipeline.module(variant, "mazur"), "mazur_variant", pathlib.Path(folder))
    params, inputs, targets = _post_point(mazur)
    for _ in range(10000):
        params = mod.step(params, inputs, targets, 0.5)
    out = mod.forward(params, inputs)
    assert f"{out['out_o1']:.9f}" == "0.015912196"
    assert f"{out['out_o2']:.9f}" == "0.984065734"


def test_module_uses_only_math(mazur_module):
    """The generated module imports nothing but the standard library's math."""
    tree = ast.parse(open(mazur_module.__file__).read())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [a.name for n in imports for a in n.names] == ["math"]


def test_module_header_says_do_not_edit(mazur_module):
    """The module says what generated it, from which spec, and not to edit it."""
    doc = mazur_module.__doc__
    assert "Generated by stepgrad" in doc and "'mazur'" in doc and "Do not edit" in doc


def test_module_is_stable_at_extreme_net_inputs(mazur_module):
    """Net inputs of +-1000 give finite gradients (the sigmoid does not overflow)."""
    params = {p: 0.0 for p in mazur_module.PARAMETERS}
    params["b1"], params["b2"] = 1000.0, -1000.0
    grads = mazur_module.gradients(params, {"i1": 0.05, "i2": 0.1}, {"o1": 0.01, "o2": 0.99})
    assert all(mpmath.isfinite(g) for g in grads.values())


def test_shared_subexpressions_are_placed_as_codeblock_cse_places_them():
    """The module's cse placement gives the assignments SymPy's CodeBlock.cse gives (which it
    does not call, for speed: see symbolic.program.ordered_cse)."""
    from sympy.codegen.ast import Assignment, CodeBlock

    from stepgrad.symbolic.derive import derive
    from stepgrad.symbolic.program import compact_program, ordered_cse
    from stepgrad.symbolic.spec import load

    for name in ("mazur", "softmax_batch"):
        d = derive(load(name))
        program = compact_program(d.model, d.sample_steps)
        for pairs, prefix in ((program.forward, "_f"), (program.error, "_e"), (program.backward, "_g")):
            block = CodeBlock(*[Assignment(s, e) for s, e in pairs]).cse(symbols=sp.numbered_symbols(prefix),
                                                                         order="none")
            assert ordered_cse(pairs, prefix) == [(a.lhs, a.rhs) for a in block.args], (name, prefix)
