"""Check every chain-rule result against direct differentiation.

Small networks: each dE_total/dout, each delta (dE_total/dnet), each dout/dnet
and each gradient is compared with SymPy's ``diff`` of the error expanded down
to that quantity, evaluated at high precision.  Larger networks: gradients are
compared with high-precision central differences of the error on a
deterministic selection of parameters.  A disagreement raises
:class:`DerivationError`; it is never printed as a result.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from . import naming
from .derive import DPS, Derivation, DerivationError, initial_params
from .evaluate import compile_assignments
from .functions import ACTIVATIONS, ERRORS
from .model import symbol

#: Networks with at most this many parameters are verified symbolically.
SYMBOLIC_LIMIT = 40
#: Agreement demanded, relative to the size of the values compared.
TOLERANCE = mpmath.mpf(10) ** (-(DPS - 10))


@dataclass(frozen=True)
class Check:
    """One family of checks: what was compared, how many, and the worst difference."""

    what: str
    method: str
    count: int
    worst: float


def _close(a, b) -> bool:
    return abs(a - b) <= TOLERANCE * max(1, abs(a), abs(b))


def _record(checks: list, what: str, method: str, pairs: list[tuple[str, object, object]]) -> None:
    worst = mpmath.mpf(0)
    for name, chain, direct in pairs:
        if not _close(chain, direct):
            raise DerivationError(f"{name}: chain rule gives {mpmath.nstr(chain, 20)} but direct "
                                  f"differentiation gives {mpmath.nstr(direct, 20)}")
        worst = max(worst, abs(chain - direct) / max(1, abs(direct)))
    if pairs:
        checks.append(Check(what, method, len(pairs), float(worst)))


def check_textbook_forms(derivation: Derivation) -> list[Check]:
    """Check each activation's and the error's textbook derivative against diff, at sample points."""
    x, y, t = sp.Symbol("x", real=True), sp.Symbol("y", real=True), sp.Symbol("t", real=True)
    model, checks = derivation.model, []
    pairs = []
    points = [sp.Rational(-7, 4), sp.Rational(-1, 3), sp.Rational(2, 5), sp.Rational(9, 4)]
    for k in range(1, len(model.spec.layers)):
        name = model.spec.layers[k].activation
        if name == "softmax":
            continue
        act, params = ACTIVATIONS[name], model.act_params(k)
        f = act.forward(x, params)
        textbook = act.derivative(f, x, params)
        for p in points:
            pairs.append((f"d{name}/dnet at {p}", (textbook.subs(x, p)).evalf(DPS), sp.diff(f, x).subs(x, p).evalf(DPS)))
    err = ERRORS[model.spec.error]
    f = err.forward(t, y, model.error_params)
    for tv, yv in [(sp.Rational(1, 10), sp.Rational(3, 4)), (sp.Rational(9, 10), sp.Rational(1, 5)),
                   (sp.Rational(0), sp.Rational(1, 3)), (sp.Rational(-3), sp.Rational(5, 2))]:
        if err.target_range and not (0 <= tv <= 1):
            continue
        env = {t: tv, y: yv}
        pairs.append((f"d{err.name}/dout", err.derivative(t, y, model.error_params).subs(env).evalf(DPS),
                      sp.diff(f, y).subs(env).evalf(DPS)))
    _record(checks, "textbook derivatives of the activations and the error",
            "SymPy diff of the forward rule", [(n, mpmath.mpf(str(a)), mpmath.mpf(str(b))) for n, a, b in pairs])
    return checks


def _computed(derivation: Derivation, sample: int, name: str):
    key = naming.in_sample(name, sample + 1, derivation.n_samples) if len(derivation.batch) > 1 else name
    return derivation.values[key]


def _given(derivation: Derivation, sample: int) -> dict:
    """Exact inputs, targets and parameters of one sample, as mpmath numbers keyed by name."""
    spec = derivation.spec
    given = dict(spec.samples[sample].inputs)
    given.update({naming.target(n): v for n, v in spec.samples[sample].targets})
    given.update(dict(spec.initial))
    return {k: mpmath.mpf(v.p) / v.q for k, v in given.items()}


class _Direct:
    """Derivatives of one expression by SymPy's diff, compiled once for evaluation at 50 digits."""

    def __init__(self, expr: sp.Expr, wrt: list[str]):
        self.names = [naming.d("direct", w) for w in wrt]
        derivatives = [(symbol(n), sp.diff(expr, symbol(w))) for n, w in zip(self.names, wrt)]
        free = sorted(set().union(*(e.free_symbols for _, e in derivatives)), key=lambda s: s.name)
        self.args = [f.name for f in free]
        self.run = compile_assignments(free, derivatives)

    def __call__(self, env: dict) -> list:
        result = self.run({a: env[a] for a in self.args})
        return [result[n] for n in self.names]


def check_chain_rule(derivation: Derivation) -> list[Check]:
    """Compare chain-rule values with direct differentiation (symbolic on small networks)."""
    spec, model = derivation.spec, derivation.model
    checks: list[Check] = []
    original = spec.training.hidden_deltas == "original"
    if len(spec.parameters) > SYMBOLIC_LIMIT:
        return checks + check_finite_differences(derivation)
    L = len(spec.layers) - 1
    outs, deltas, douts, grads = [], [], [], []
    for k in range(L, 0, -1):
        if k < L and not original:
            break  # the post's variant deliberately uses updated weights here: not the gradient
        names = spec.layers[k].neurons
        by_out = _Direct(model.expanded_error("out", k), [naming.out(n) for n in names])
        by_net = _Direct(model.expanded_error("net", k), [naming.net(n) for n in names])
        act = [] if spec.layers[k].activation == "softmax" else [
            (n, _Direct(model.out_definition(n), [naming.net(n)])) for n in names]
        for sample in derivation.batch:
            env = _given(derivation, sample)
            env.update({naming.out(n): _computed(derivation, sample, naming.out(n)) for n in names})
            env.update({naming.net(n): _computed(derivation, sample, naming.net(n)) for n in names})
            for n, direct in zip(names, by_out(env)):
                name = naming.d(naming.E_TOTAL, naming.out(n))
                outs.append((name, _computed(derivation, sample, name), direct))
            for n, direct in zip(names, by_net(env)):
                deltas.append((naming.delta(n), _computed(derivation, sample, naming.delta(n)), direct))
            for n, derivative in act:
                name = naming.d(naming.out(n), naming.net(n))
                douts.append((name, _computed(derivation, sample, name), derivative(env)[0]))
    if original:
        full = _Direct(model.expanded_error("params"), list(spec.parameters))
        for sample in derivation.batch:
            for p, direct in zip(spec.parameters, full(_given(derivation, sample))):
                name = naming.d(naming.E_TOTAL, p)
                grads.append((name, _computed(derivation, sample, name), direct))
    _record(checks, "dE_total/dout for every neuron", "SymPy diff of E_total expanded to that layer's outputs", outs)
    _record(checks, "every node delta dE_total/dnet", "SymPy diff of E_total expanded to that layer's nets", deltas)
    _record(checks, "every activation derivative dout/dnet", "SymPy diff of the activation", douts)
    _record(checks, "dE_total/d(every weight and bias)", "SymPy diff of the fully expanded error", grads)
    return checks


def check_finite_differences(derivation: Derivation, count: int = 12) -> list[Check]:
    """Compare gradients with central differences at high precision, for large networks."""
    spec = derivation.spec
    if spec.training.hidden_deltas != "original":
        return []
    program = derivation.program
    params = initial_params(spec)
    names = list(spec.parameters)
    chosen = names[:: max(1, len(names) // count)][:count] + [names[-1]]
    h = mpmath.mpf(10) ** (-(DPS // 2))
    pairs = []
    with mpmath.workdps(DPS + 20):
        for p in chosen:
            total = mpmath.mpf(0)
            for sign in (1, -1):
                shifted = dict(params)
                shifted[p] = params[p] + sign * h
                errors = [program.run_forward(program.env(shifted, s))[naming.E_TOTAL] for s in derivation.batch]
                e = mpmath.fsum(errors)
                if spec.training.reduction == "mean":
                    e /= len(derivation.batch)
                total += sign * e
            fd = total / (2 * h)
            grad = derivation.values[naming.d(naming.E_TOTAL, p)]
            pairs.append((naming.d(naming.E_TOTAL, p), grad, fd))
    tolerance_checks: list[Check] = []
    worst = mpmath.mpf(0)
    for name, grad, fd in pairs:
        if abs(grad - fd) > mpmath.mpf(10) ** (-(DPS // 2 - 8)) * max(1, abs(fd)):
            raise DerivationError(f"{name}: chain rule gives {mpmath.nstr(grad, 20)} but central "
                                  f"differences give {mpmath.nstr(fd, 20)}")
        worst = max(worst, abs(grad - fd))
    tolerance_checks.append(Check(f"dE_total/d(parameter) for {len(pairs)} parameters",
                                  "central differences at high precision", len(pairs), float(worst)))
    return tolerance_checks


def check_closed_forms(derivation: Derivation) -> list[Check]:
    """Compare each delta's closed form (the delta rule written out) with its chain-rule value."""
    pairs = []
    for step in derivation.steps:
        if step.alt is None:
            continue
        for sample in derivation.batch:
            env = {}
            for sym in step.alt.free_symbols:
                key = sym.name
                if key.startswith("target_"):
                    value = dict(derivation.spec.samples[sample].targets)[key[len("target_"):]]
                    env[sym] = sp.Float(mpmath.nstr(mpmath.mpf(value.p) / value.q, DPS + 5), DPS + 5)
                else:
                    env[sym] = sp.Float(mpmath.nstr(_computed(derivation, sample, key), DPS + 5), DPS + 5)
            closed = mpmath.mpf(str(sp.N(step.alt.doit().xreplace(env), DPS)))
            pairs.append((step.name, _computed(derivation, sample, step.name), closed))
    checks: list[Check] = []
    _record(checks, "every output delta's closed form (the delta rule, simplified)",
            "the chain-rule value", pairs)
    return checks


def verify(derivation: Derivation) -> list[Check]:
    """Run every check; raise DerivationError on any disagreement."""
    with mpmath.workdps(DPS):
        checks = (check_textbook_forms(derivation) + check_chain_rule(derivation)
                  + check_closed_forms(derivation))
    derivation.checks = checks
    return checks
