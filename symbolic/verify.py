"""Check every chain-rule result by an independent route.

The chain rule (:mod:`symbolic.derive`) builds each derivative from the textbook
derivatives of :mod:`symbolic.functions`, layer by layer, the way the post
does.  Here the same quantities are recomputed by forward-mode differentiation
with dual numbers, at 50 digits, through a separate evaluator of the network's
forward definitions (``net = sum w out``, ``out = f(net)``, ``E_o``): every
value carries its derivatives with respect to chosen seed quantities, and each
primitive (exp, log, tanh, the logistic function, a power, a branch) applies
its own differentiation rule, written here and nowhere else.  Nothing is
flattened, so the cost grows with the network's size, not with its depth.

* each dE_total/dout and delta (dE_total/dnet) of a layer: seeds on that layer's
  outputs or nets;
* each dout/dnet: the same pass, read off the neuron's own output;
* each gradient dE_total/dp: seeds on the parameters (all of them up to
  ``FULL_LIMIT`` parameters, a deterministic selection beyond).

The textbook derivatives themselves are checked against SymPy's ``diff`` of each
forward rule, and each closed form of a delta against its chain-rule value.  A
disagreement raises :class:`DerivationError`; it is never printed as a result.
At a kink (a ReLU net input of exactly 0, a Huber residual of exactly delta) the
dual numbers take the branch the forward rule takes, which is the documented
convention of the textbook derivative.

An exercise's worked solution computed from rounded givens (the forward pass to 4 decimals,
say) is checked by :func:`verify_rounded` instead: the same routes started from the rounded
values, each given's derivative by its function's rule at the given value (out (1 - out) at
the given out, as a student computes it), and every printed formula evaluated again.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from dataclasses import dataclass

import mpmath
import sympy as sp

from . import naming
from .derive import DPS, Derivation, DerivationError, Kind, given_values
from .evaluate import fraction, mp
from .functions import ACTIVATIONS, ERRORS, sigmoid, softplus
from .model import symbol

#: Networks with at most this many parameters have every gradient checked; larger ones a selection.
FULL_LIMIT = 40
#: In a larger network, how many neurons of each layer have their dE/dout, delta and dout/dnet checked.
NEURON_LIMIT = 6
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
            raise DerivationError(f"{name}: chain rule gives {mpmath.nstr(chain, 20)} but {method} "
                                  f"gives {mpmath.nstr(direct, 20)}")
        worst = max(worst, abs(chain - direct) / max(1, abs(direct)))
    if pairs:
        checks.append(Check(what, method, len(pairs), float(worst)))


# -- dual numbers ------------------------------------------------------------------

class Dual:
    """A value and its derivatives with respect to the seeds (a list, one entry per seed; None if all 0)."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v = v
        self.d = d


def _real(x):
    """An exact Fraction as a number at the working precision; anything else as it is."""
    return mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else x


def _exact(*xs) -> bool:
    return all(isinstance(x, Fraction) for x in xs)


def _scale(d: list | None, c) -> list | None:
    c = _real(c)
    return None if d is None else [c * x for x in d]


def _combine(a: list | None, ca, b: list | None, cb) -> list | None:
    ca, cb = _real(ca), _real(cb)
    if a is None:
        return _scale(b, cb)
    if b is None:
        return _scale(a, ca)
    return [ca * x + cb * y for x, y in zip(a, b)]


class DualEvaluator:
    """Evaluate SymPy forward definitions on dual numbers, with rules of its own for each primitive."""

    def __init__(self, width: int):
        self.width = width

    def constant(self, v) -> Dual:
        return Dual(v, None)

    def seed(self, v, index: int) -> Dual:
        d = [mpmath.mpf(0)] * self.width
        d[index] = mpmath.mpf(1)
        return Dual(v, d)

    def __call__(self, expr: sp.Expr, env: dict[sp.Symbol, Dual]) -> Dual:
        if expr.is_Symbol:
            return env[expr]
        if expr.is_Number:
            return self.constant(fraction(sp.Rational(expr)) if expr.is_Rational else mpmath.mpf(str(expr)))
        args = expr.args
        if isinstance(expr, sp.Add):
            terms = [self(a, env) for a in args]
            moving = [t.d for t in terms if t.d is not None]
            values = [t.v for t in terms]
            return Dual(sum(values, Fraction(0)) if _exact(*values) else mpmath.fsum(map(_real, values)),
                        [mpmath.fsum(col) for col in zip(*moving)] if moving else None)
        if isinstance(expr, sp.Mul):
            result = self(args[0], env)
            for a in args[1:]:
                f = self(a, env)
                value = result.v * f.v if _exact(result.v, f.v) else _real(result.v) * _real(f.v)
                result = Dual(value, _combine(result.d, f.v, f.d, result.v))
            return result
        if isinstance(expr, sp.Pow):
            base, e = args
            if not e.is_Number:
                raise DerivationError(f"the dual-number check cannot differentiate a power {expr}")
            b = self(base, env)
            n = mp(sp.Rational(e))
            if e.is_Integer and _exact(b.v):
                k = int(e)
                value = b.v ** k
                slope = k * b.v ** (k - 1) if k != 1 else Fraction(1)
            elif e.is_Integer:
                k = int(e)
                value = b.v ** k
                slope = k * b.v ** (k - 1)
            else:
                value = _real(b.v) ** n
                slope = n * _real(b.v) ** (n - 1)
            return Dual(value, _scale(b.d, slope))
        if isinstance(expr, sp.exp):
            a = self._inexact(args[0], env)
            value = mpmath.exp(a.v)
            return Dual(value, _scale(a.d, value))
        if isinstance(expr, sp.log):
            a = self._inexact(args[0], env)
            if a.v <= 0:
                raise DerivationError(f"log of a value <= 0 in {expr}")
            return Dual(mpmath.log(a.v), _scale(a.d, 1 / a.v))
        if isinstance(expr, sp.tanh):
            a = self._inexact(args[0], env)
            value = mpmath.tanh(a.v)
            return Dual(value, _scale(a.d, 1 - value * value))
        if isinstance(expr, sigmoid):
            a = self._inexact(args[0], env)
            z = mpmath.exp(-abs(a.v))
            value = 1 / (1 + z) if a.v >= 0 else z / (1 + z)
            return Dual(value, _scale(a.d, value * (1 - value)))
        if isinstance(expr, softplus):
            a = self._inexact(args[0], env)
            value = max(a.v, 0) + mpmath.log1p(mpmath.exp(-abs(a.v)))
            logistic = 1 / (1 + mpmath.exp(-a.v))
            return Dual(value, _scale(a.d, logistic))
        if isinstance(expr, sp.Abs):
            a = self(args[0], env)
            s = (a.v > 0) - (a.v < 0)
            return Dual(abs(a.v), _scale(a.d, mpmath.mpf(s)))
        if isinstance(expr, sp.sign):
            a = self(args[0], env)
            return self.constant(Fraction((a.v > 0) - (a.v < 0)))
        if isinstance(expr, sp.Piecewise):
            for value, cond in args:
                if self._holds(cond, env):
                    return self(value, env)
            raise DerivationError(f"no branch of {expr} applies")
        raise DerivationError(f"the dual-number check has no rule for {type(expr).__name__}")

    def pinned(self, expr: sp.Expr, env: dict[sp.Symbol, Dual], value) -> Dual:
        """*expr*'s dual with its value pinned to *value* (a rounded given, exact).

        The derivative comes from the outermost primitive's own rule read at the pinned value
        where that rule is written in the function's value (the logistic function's value times
        one minus it, 1 - tanh^2, exp), and at the pinned inputs otherwise (a sum, a branch,
        softplus, a log): the factor a student uses, dout/dnet = out (1 - out) at the given out.
        """
        if isinstance(expr, (sigmoid, sp.tanh, sp.exp)):
            a = self(expr.args[0], env)
            v = _real(value)
            slope = v * (1 - v) if isinstance(expr, sigmoid) else 1 - v * v if isinstance(expr, sp.tanh) else v
            return Dual(value, _scale(a.d, slope))
        return Dual(value, self(expr, env).d)

    def _inexact(self, expr, env) -> Dual:
        """*expr*'s dual with its value at the working precision (for a transcendental function)."""
        a = self(expr, env)
        return Dual(_real(a.v), a.d)

    def _holds(self, cond, env) -> bool:
        if cond is sp.true:
            return True
        if cond is sp.false:
            return False
        lhs, rhs = self(cond.lhs, env).v, self(cond.rhs, env).v
        if not _exact(lhs, rhs):  # exact values decide a kink exactly (a net input of exactly 0)
            lhs, rhs = _real(lhs), _real(rhs)
        if isinstance(cond, sp.StrictGreaterThan):
            return lhs > rhs
        if isinstance(cond, sp.GreaterThan):
            return lhs >= rhs
        if isinstance(cond, sp.StrictLessThan):
            return lhs < rhs
        if isinstance(cond, sp.LessThan):
            return lhs <= rhs
        raise DerivationError(f"the dual-number check has no rule for the condition {cond}")


def forward_duals(derivation: Derivation, sample: int, seeds: list[str],
                  pinned: dict[str, Fraction] | None = None) -> dict[str, Dual]:
    """Every forward quantity of *sample* as a dual number over *seeds* (canonical names).

    Each seed gets a derivative component of its own, added where the seed is computed (a
    parameter, or a forward quantity such as out_h1 or net_h1): the component of E_total is
    then dE_total/d(seed) with everything before the seed held, what follows it moving.  The
    derivatives are linear, so seeds at every layer share one pass.

    *pinned* (forward quantity -> exact value: an exercise's rounded givens) replaces those
    values; what follows is computed from them, and the derivative through a pinned quantity
    is its function's rule at the pinned value (see :meth:`DualEvaluator.pinned`; a softmax
    layer with a pinned output uses out_k (1[k = j] - out_j) at the layer's values).
    """
    model = derivation.model
    evaluate = DualEvaluator(len(seeds))
    position = {name: k for k, name in enumerate(seeds)}

    def seeded(dual: Dual, name: str) -> Dual:
        k = position.get(name)
        if k is None:
            return dual
        d = list(dual.d) if dual.d is not None else [mpmath.mpf(0)] * len(seeds)
        d[k] += 1
        return Dual(dual.v, d)

    env: dict[sp.Symbol, Dual] = {}
    for name, value in given_values(derivation.spec, sample).items():
        env[symbol(name)] = seeded(evaluate.constant(fraction(value)), name)
    values: dict[str, Dual] = {}
    pinned = pinned or {}
    coupled = _pinned_softmax(derivation, pinned)
    definitions = dict(model.forward)
    for sym, definition in model.forward:
        if sym.name in coupled and sym.name not in values:
            values.update(_softmax_duals(evaluate, coupled[sym.name], definitions, env, pinned))
        if sym.name in coupled:
            dual = values[sym.name]
        elif sym.name in pinned:
            dual = evaluate.pinned(definition, env, pinned[sym.name])
        else:
            dual = evaluate(definition, env)
        env[sym] = values[sym.name] = seeded(dual, sym.name)
    return values


def _pinned_softmax(derivation: Derivation, pinned: dict) -> dict[str, tuple[tuple[str, str], ...]]:
    """out name -> its softmax layer's (net, out) names, for each softmax layer with a pinned output."""
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for layer in derivation.spec.layers[1:]:
        pairs = tuple((naming.net(n), naming.out(n)) for n in layer.neurons)
        if layer.activation == "softmax" and any(o in pinned for _, o in pairs):
            out.update({o: pairs for _, o in pairs})
    return out


def _softmax_duals(evaluate: DualEvaluator, pairs, definitions: dict, env: dict, pinned: dict) -> dict[str, Dual]:
    """A softmax layer's outputs, pinned where given, with dout_k = out_k (dnet_k - sum_j out_j dnet_j)."""
    by_name = {sym.name: sym for sym in definitions}
    value = {o: pinned[o] if o in pinned else evaluate(definitions[by_name[o]], env).v for _, o in pairs}
    nets = {o: env[by_name[n]] for n, o in pairs}
    mean = None
    for o in value:
        mean = _combine(mean, 1, nets[o].d, value[o])
    return {o: Dual(value[o], _combine(nets[o].d, value[o], mean, -_real(value[o]))) for o in value}


# -- the checks ------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _textbook_pairs(act, slope, err, error_params: tuple) -> tuple:
    """The textbook derivatives against SymPy's diff of the forward rule, at sample points.

    Both sides are evaluated at 50 digits by the dual-number evaluator (as plain values).
    Cached by the function rows themselves (an Activation, an ErrorFunction), so a changed row
    is checked afresh.
    """
    x, y, t = sp.Symbol("x", real=True), sp.Symbol("y", real=True), sp.Symbol("t", real=True)
    evaluate = DualEvaluator(0)

    def at(expr, env):
        return _real(evaluate(expr, {k: evaluate.constant(mp(v)) for k, v in env.items()}).v)

    pairs = []
    points = [sp.Rational(-7, 4), sp.Rational(-1, 3), sp.Rational(2, 5), sp.Rational(9, 4)]
    if act is not None and act.name != "softmax":
        params = {"slope": slope}
        f = act.forward(x, params)
        textbook, direct = act.derivative(f, x, params), sp.diff(f, x)
        for p in points:
            pairs.append((f"d{act.name}/dnet at {p}", at(textbook, {x: p}), at(direct, {x: p})))
    if err is not None:
        params = dict(error_params)
        f = err.forward(t, y, params)
        textbook, direct = err.derivative(t, y, params), sp.diff(f, y)
        for tv, yv in [(sp.Rational(1, 10), sp.Rational(3, 4)), (sp.Rational(9, 10), sp.Rational(1, 5)),
                       (sp.Rational(0), sp.Rational(1, 3)), (sp.Rational(-3), sp.Rational(5, 2))]:
            if err.target_range and not (0 <= tv <= 1):
                continue
            pairs.append((f"d{err.name}/dout", at(textbook, {t: tv, y: yv}), at(direct, {t: tv, y: yv})))
    return tuple(pairs)


def check_textbook_forms(derivation: Derivation) -> list[Check]:
    """Check each activation's and the error's textbook derivative against diff, at sample points."""
    model, checks, pairs = derivation.model, [], []
    for k in range(1, len(model.spec.layers)):
        layer = model.spec.layers[k]
        pairs += _textbook_pairs(ACTIVATIONS[layer.activation], layer.slope, None, ())
    pairs += _textbook_pairs(None, None, ERRORS[model.spec.error], tuple(sorted(model.error_params.items())))
    _record(checks, "textbook derivatives of the activations and the error",
            "SymPy diff of the forward rule", pairs)
    return checks


def _selection(names: list[str], limit: int | None = FULL_LIMIT) -> list[str]:
    """Every name up to *limit* (None: no limit); beyond, that many spread evenly, and the last."""
    if limit is None or len(names) <= limit:
        return list(names)
    step = len(names) / limit
    chosen = [names[int(k * step)] for k in range(limit)] + [names[-1]]
    return list(dict.fromkeys(chosen))


def _derivative(dual: Dual, index: int):
    return mpmath.mpf(0) if dual.d is None else dual.d[index]


def check_chain_rule(derivation: Derivation, pinned: dict[str, Fraction] | None = None) -> list[Check]:
    """Compare the chain rule's dE/dout, deltas, dout/dnet and gradients with dual numbers.

    With *pinned* forward values (rounded givens) the duals start from them; a quantity whose
    formula reads a pinned backward value (a given delta, say) is left to :func:`check_recomputed`.
    """
    spec = derivation.spec
    checks: list[Check] = []
    original = spec.training.hidden_deltas == "original"
    L = len(spec.layers) - 1
    large = len(spec.parameters) > FULL_LIMIT
    method = "forward-mode dual numbers at 50 digits" + (PINNED if pinned else "")
    skip = _after_backward_pins(derivation, pinned or {})
    layers = [k for k in range(L, 0, -1) if k == L or original]  # the post's variant: not the gradient
    neurons = {k: _selection(list(spec.layers[k].neurons), NEURON_LIMIT if large else None) for k in layers}
    chosen = _selection(list(spec.parameters)) if original else []
    seeds = chosen + [q(n) for k in layers for n in neurons[k] for q in (naming.out, naming.net)]
    at = {name: j for j, name in enumerate(seeds)}
    outs, deltas, douts, grads = [], [], [], []
    for sample in derivation.batch:
        duals = forward_duals(derivation, sample, seeds, pinned)  # one pass: every seed at once
        total = duals[naming.E_TOTAL]
        for k in layers:
            softmax = spec.layers[k].activation == "softmax"
            for n in neurons[k]:
                name = naming.d(naming.E_TOTAL, naming.out(n))
                outs.append((name, derivation.value(name, sample), _derivative(total, at[naming.out(n)])))
                deltas.append((naming.delta(n), derivation.value(naming.delta(n), sample),
                               _derivative(total, at[naming.net(n)])))
                if not softmax:
                    name = naming.d(naming.out(n), naming.net(n))
                    douts.append((name, derivation.value(name, sample),
                                  _derivative(duals[naming.out(n)], at[naming.net(n)])))
        for p in chosen:
            name = naming.d(naming.E_TOTAL, p)
            grads.append((name, derivation.value(name, sample), _derivative(total, at[p])))
    if skip:
        outs, deltas, douts, grads = ([x for x in xs if x[0] not in skip] for xs in (outs, deltas, douts, grads))
        method += "; those computed from a given backward value are recomputed below"
    every = "every weight and bias" if len(spec.parameters) <= FULL_LIMIT else "parameter"
    _record(checks, "dE_total/dout for every neuron", method + ", seeded at the outputs", outs)
    _record(checks, "every node delta dE_total/dnet", method + ", seeded at the nets", deltas)
    _record(checks, "every activation derivative dout/dnet", method + ", seeded at the nets", douts)
    _record(checks, f"dE_total/d({every})" if every != "parameter" else
            f"dE_total/d(parameter) for {len(grads) // max(1, len(derivation.batch))} parameters",
            method + ", seeded at the parameters", grads)
    return checks


def check_closed_forms(derivation: Derivation) -> list[Check]:
    """Compare each delta's closed form (the delta rule written out) with its chain-rule value."""
    pairs = []
    for step in derivation.steps:
        if step.alt is None:
            continue
        expr = step.alt.doit()
        for sample in derivation.batch:
            given = given_values(derivation.spec, sample)
            env = {}
            for sym in expr.free_symbols:
                value = mp(given[sym.name]) if sym.name in given else derivation.value(sym.name, sample)
                env[sym] = DualEvaluator(0).constant(value)
            closed = _real(DualEvaluator(0)(expr, env).v)
            pairs.append((step.name, derivation.value(step.name, sample), closed))
    checks: list[Check] = []
    _record(checks, "every output delta's closed form (the delta rule, simplified)",
            "the chain-rule value", pairs)
    return checks


#: How the dual numbers of a derivation with rounded givens start (appended to the method).
PINNED = ", from the rounded givens (each given's derivative by its function's rule at the given value)"
#: What a worked solution shows, for :func:`verify_rounded`: everything, all but the updates, the forward pass.
SHOWN = ("all", "no_updates", "forward")


def _from(pinned: dict) -> str:
    return "the rounded givens" if pinned else "the given values"


def _after_backward_pins(derivation: Derivation, pinned: dict) -> set[str]:
    """The values whose formulas read, directly or through others, a pinned backward value."""
    forward = {sym.name for sym, _ in derivation.model.forward}
    tainted = {n for n in pinned if n not in forward}
    for step in derivation.steps:
        if step.name not in pinned and any(x.name in tainted for x in step.rhs.free_symbols):
            tainted.add(step.name)
    return tainted


def check_pinned_forward(derivation: Derivation, pinned: dict[str, Fraction], errors: bool = True) -> list[Check]:
    """Compare every forward value (nets, outs and, with *errors*, the errors) with the network's
    definitions run from *pinned*."""
    kinds = {s.name: s.kind for s in derivation.steps}
    pairs = []
    with mpmath.workdps(DPS):
        for sample in derivation.batch:
            duals = forward_duals(derivation, sample, [], pinned)
            for sym, _ in derivation.model.forward:
                if errors or kinds.get(sym.name) in (Kind.NET, Kind.OUT):
                    pairs.append((sym.name, derivation.value(sym.name, sample), _real(duals[sym.name].v)))
    checks: list[Check] = []
    what = "every forward value and error" if errors else "every net input and output"
    _record(checks, what + (", the rounded givens included" if pinned else ""),
            f"the network's definitions (net = sum w out, out = f(net){', E_o' if errors else ''}), evaluated "
            f"again from {_from(pinned)} at 50 digits", pairs)
    return checks


def check_pinned_updates(derivation: Derivation, pinned: dict[str, Fraction]) -> list[Check]:
    """Compare each update p+ with p - eta dE_total/dp, the gradient by dual numbers from *pinned*.

    A frozen parameter's p+ is p.  Rounded givens need one sample per update, so a batch of
    several samples is left to :func:`check_recomputed`, as are updates computed from a pinned
    backward value.
    """
    spec = derivation.spec
    if len(derivation.batch) != 1:
        return []
    params = _selection(list(spec.parameters))
    trainable = set(spec.trainable)
    skip = _after_backward_pins(derivation, pinned)
    total = forward_duals(derivation, derivation.batch[0], params, pinned)[naming.E_TOTAL]
    gradient = {p: _derivative(total, j) for j, p in enumerate(params)}
    pairs = []
    for p in params:
        name = naming.updated(p)
        if name in skip:
            continue
        start = mp(dict(spec.initial)[p])
        want = start - mp(spec.training.learning_rate) * gradient[p] if p in trainable else start
        pairs.append((name, derivation.value(name, derivation.batch[0]), want))
    checks: list[Check] = []
    _record(checks, "every update p+ = p - eta dE_total/dp" if len(pairs) == len(spec.parameters) else
            f"the update of {len(pairs)} parameters", "dE_total/dp by forward-mode dual numbers at 50 digits"
            + (PINNED if pinned else "") + ", seeded at the parameters", pairs)
    return checks


def check_recomputed(derivation: Derivation, pinned: dict[str, Fraction], kinds=None) -> list[Check]:
    """Recompute every value of the worked solution from its printed formula, starting from *pinned*.

    Each formula (and closed form) is evaluated by the dual-number evaluator at 50 digits, in the
    derivation's order, reading only the given values, the rounded givens and what this pass
    computed itself: the values printed are exactly what the formulas shown give from the givens.
    With *kinds* (step kinds), only the values of those kinds are compared (those a solution shows).
    """
    evaluate = DualEvaluator(0)
    pairs, closed = [], []
    for sample in derivation.batch:
        known = {n: fraction(v) for n, v in given_values(derivation.spec, sample).items()}
        known.update(pinned)
        for step in derivation.steps:
            name = derivation.value_name(step, sample)
            if step.name in pinned:
                value = pinned[step.name]
            else:
                env = {x: evaluate.constant(known[x.name]) for x in step.rhs.free_symbols}
                value = evaluate(step.rhs, env).v
                known[step.name] = value
            if kinds is not None and step.kind not in kinds:
                continue
            pairs.append((name, derivation.value(name, sample), _real(value)))
            if step.alt is not None and step.name not in pinned:
                alt = step.alt.doit()
                env = {x: evaluate.constant(known[x.name]) for x in alt.free_symbols}
                closed.append((name, derivation.value(name, sample), _real(evaluate(alt, env).v)))
    checks: list[Check] = []
    _record(checks, "every value of the solution" + (", from the rounded givens" if pinned else ""),
            f"its formula as printed, evaluated again from {_from(pinned)} by the dual-number evaluator "
            "at 50 digits", pairs)
    _record(checks, "every closed form shown (the delta rule, simplified)",
            f"the same closed form evaluated again from {_from(pinned)}", closed)
    return checks


def verify_rounded(derivation: Derivation, pinned, shown: str = "all") -> tuple[Check, ...]:
    """Check a derivation computed from rounded givens; raise DerivationError on any disagreement.

    *pinned* maps each given quantity to its rounded value (decimal text, a SymPy Rational or a
    Fraction).  Every value is recomputed from those values by routes of this module: the
    network's definitions for the forward pass, dual numbers started at the rounded givens for
    every derivative (a given out's dout/dnet is its function's rule at the given value, as a
    student computes it), and each printed formula evaluated again.  *shown* (one of
    :data:`SHOWN`) limits the checks to what a solution prints: "no_updates" leaves out the
    updates, "forward" checks the nets and outputs only.

    >>> from stepgrad.symbolic.spec import load
    >>> from stepgrad.symbolic.exercise import Exercise, make_variants, derivation_of
    >>> v = make_variants(load("mazur"), Exercise(given=("forward",)), count=1, seed=1)[0]
    >>> checks = verify_rounded(derivation_of(v), dict(v.rounded))
    >>> [(c.what, c.count) for c in checks][-2]
    ('every value of the solution, from the rounded givens', 59)
    """
    if shown not in SHOWN:
        raise ValueError(f"shown must be one of {SHOWN}, not {shown!r}")
    exact = {n: _pin(v) for n, v in dict(pinned).items()}
    with mpmath.workdps(DPS):
        if shown == "forward":
            return tuple(check_pinned_forward(derivation, exact, errors=False)
                         + check_recomputed(derivation, exact, (Kind.NET, Kind.OUT)))
        checks = (check_textbook_forms(derivation) + check_pinned_forward(derivation, exact)
                  + check_chain_rule(derivation, exact))
        if shown == "all":
            checks += check_pinned_updates(derivation, exact)
        checks += check_recomputed(derivation, exact, None if shown == "all" else
                                   tuple(k for k in Kind if k != Kind.UPDATE))
    return tuple(checks)


def _pin(value) -> Fraction:
    """A rounded given as an exact Fraction (from decimal text, a SymPy Rational or a Fraction)."""
    if isinstance(value, str):
        return Fraction(value)
    return value if isinstance(value, Fraction) else fraction(sp.Rational(value))


def verify(derivation: Derivation) -> tuple[Check, ...]:
    """Run every check and return them; raise DerivationError on any disagreement.

    The derivation is not changed: the checks are a result of their own.
    """
    with mpmath.workdps(DPS):
        checks = (check_textbook_forms(derivation) + check_chain_rule(derivation)
                  + check_closed_forms(derivation))
    return tuple(checks)
