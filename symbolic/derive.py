"""The derivation: every step of backpropagation as "formula = numbers = value".

Steps are built by the chain rule the way the post builds them, following the
layer structure (output deltas, then the delta recursion back through the
hidden layers), never by differentiating the flattened network.  Every value of
the first update is computed at 50 digits from the exact inputs; every
chain-rule result is then checked by an independent route (:mod:`symbolic.verify`).
Training (:func:`train`) runs in float64 and prints only the digits it proves.

This module knows nothing about LaTeX or files.
"""

from __future__ import annotations

import decimal
from fractions import Fraction
import functools
import math
import random
from dataclasses import dataclass
from enum import StrEnum

import mpmath
import sympy as sp
from mpmath.libmp import to_str

from . import naming
from .evaluate import DPS, compile_assignments, compile_exact, fraction, mp
from .model import ETA, Model, symbol
from .program import KINK_TOLERANCE, SHADOW_KICK, FloatTrainer, cancel_division, float_trainer, kink_scales
from .spec import Spec, SpecError

SECTIONS = {
    "forward": "The forward pass",
    "error": "The total error",
    "output": "The backward pass: output layer",
    "hidden": "The backward pass: hidden layers",
    "bias": "The biases",
    "batch": "Combining the batch",
    "update": "The updates",
}


class DerivationError(RuntimeError):
    """The chain rule and an independent route disagree: a bug, never printed as a result."""


class SaturationError(SpecError):
    """A value is infinite or undefined at the spec's numbers (an output of exactly 0 or 1 under
    cross-entropy, an overflow): said in one line instead of printing inf or nan."""


def _finite(x) -> bool:
    """Whether an mpmath number or a float is finite (inf - inf and nan - nan are nan)."""
    return x - x == 0


def _run_checked(program: "Program", params: dict, sample: int, when: str) -> dict:
    """Run the per-sample program; refuse to go on with an infinite or undefined value."""
    spec = program.model.spec
    try:
        values = program.run(program.env(params, sample))
    except (ZeroDivisionError, ValueError, OverflowError) as exc:
        why = f" ({exc})" if str(exc) else ""
        raise SaturationError(f"{spec.name}: {when}, sample {sample + 1}: a value is undefined{why}; an "
                              "output probably saturated at exactly 0 or 1: use smaller weights, inputs "
                              "or learning rate") from None
    bad = next((k for k, v in values.items() if not _finite(v)), None)
    if bad is not None:
        raise SaturationError(f"{spec.name}: {when}, sample {sample + 1}: {bad} is {values[bad]}; an output "
                              "probably saturated at exactly 0 or 1: use smaller weights, inputs or learning rate")
    return values


class Kind(StrEnum):
    """What a step computes; each member equals the short name used in tables and the checker."""

    NET = "net"
    OUT = "out"
    E = "E"
    E_TOTAL = "E_total"
    DE_DOUT = "dE/dout"
    DOUT_DNET = "dout/dnet"
    DELTA = "delta"
    DNET_DW = "dnet/dw"
    GRAD = "grad"
    DNET_DOUT = "dnet/dout"
    TERM = "term"
    BATCH = "batch"
    UPDATE = "update"


@dataclass(frozen=True)
class Step:
    """One line of the worked example: name = rhs (in other quantities' symbols)."""

    name: str
    section: str
    rhs: sp.Expr
    layer: int
    kind: Kind
    neuron: str | None = None
    per_sample: bool = True
    #: An explanation shown beside the step (why delta sums over the outputs), or "".
    note: str = ""
    #: A closed form of the same quantity (the delta rule written out), shown after rhs.
    alt: sp.Expr | None = None
    alt_note: str = ""
    #: The weight or bias a GRAD or DNET_DW step differentiates by, or an UPDATE step updates.
    param: str | None = None
    #: An UPDATE step of a frozen parameter (p+ = p).
    frozen: bool = False


def _mul(*factors: sp.Expr) -> sp.Expr:
    """A product kept in the order written (for display)."""
    return sp.Mul(*factors, evaluate=False)


def _add(*terms: sp.Expr) -> sp.Expr:
    """A sum kept in the order written; a single term stays itself."""
    return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)


def _sym(name: str) -> sp.Symbol:
    return symbol(name)


def backward_steps(model: Model) -> list[Step]:
    """Build the per-sample steps of forward pass, error and backward pass, in the post's order."""
    spec = model.spec
    L = len(spec.layers) - 1
    single = spec.training.batch_size == 1
    updated_hidden = spec.training.hidden_deltas == "updated"
    steps: list[Step] = []

    # forward pass
    for k in range(1, L + 1):
        nets = [Step(naming.net(n), "forward", model.net_definition(n, evaluate=False), k, Kind.NET, n)
                for n in spec.layers[k].neurons]
        outs = [Step(naming.out(n), "forward", model.out_definition(n), k, Kind.OUT, n) for n in spec.layers[k].neurons]
        if spec.layers[k].activation == "softmax":
            steps += nets + outs  # each output needs every net of the layer
        else:
            steps += [s for pair in zip(nets, outs) for s in pair]
    # error
    for o in spec.outputs:
        steps.append(Step(naming.err(o), "error", model.error_definition(o, evaluate=False), L, Kind.E, o))
    steps.append(Step(naming.E_TOTAL, "error", _add(*[_sym(naming.err(o)) for o in spec.outputs]), L, Kind.E_TOTAL))

    def dname(num: str, den: str) -> str:
        return naming.d(num, den)

    def weight_grads(k: int, n: str) -> None:
        for w in model.incoming[n]:
            dnet = dname(naming.net(n), w.name)
            steps.append(Step(dnet, "output" if k == L else "hidden", model.out_symbol(w.src), k, Kind.DNET_DW, n,
                              param=w.name))
            if k == L and model.softmax_output:
                chain = _mul(_sym(naming.delta(n)), _sym(dnet))
            else:
                chain = _mul(_sym(dname(naming.E_TOTAL, naming.out(n))),
                             _sym(dname(naming.out(n), naming.net(n))), _sym(dnet))
            steps.append(Step(dname(naming.E_TOTAL, w.name), "output" if k == L else "hidden",
                              chain, k, Kind.GRAD, n, param=w.name))

    def updates(k: int) -> None:
        if single:
            steps.extend(update_steps(model, [w.name for w in spec.weights if w.layer == k], "output" if k == L else "hidden"))

    # output layer
    act_L = model.activation(L)

    def error_derivative(o: str) -> Step:
        t, y = _sym(naming.target(o)), _sym(naming.out(o))
        with sp.evaluate(False):
            dEdy = model.error_function.derivative(t, y, model.error_params)
        return Step(dname(naming.E_TOTAL, naming.out(o)), "output", dEdy, L, Kind.DE_DOUT, o)

    if model.softmax_output:
        steps.extend(error_derivative(o) for o in spec.outputs)
        for o in spec.outputs:
            for j in spec.outputs:
                y_o, y_j = _sym(naming.out(o)), _sym(naming.out(j))
                with sp.evaluate(False):
                    rhs = y_o * (1 - y_j) if o == j else -y_o * y_j
                steps.append(Step(dname(naming.out(o), naming.net(j)), "output", rhs, L, Kind.DOUT_DNET, o))
        for j in spec.outputs:
            terms = [_mul(_sym(dname(naming.E_TOTAL, naming.out(o))), _sym(dname(naming.out(o), naming.net(j))))
                     for o in spec.outputs]
            alt, why = softmax_delta(model, j)
            steps.append(Step(naming.delta(j), "output", _add(*terms), L, Kind.DELTA, j,
                              note="softmax couples the outputs, so delta sums over all of them",
                              alt=alt, alt_note=why))
    else:
        for o in spec.outputs:
            steps.append(error_derivative(o))
            y, net = _sym(naming.out(o)), _sym(naming.net(o))
            with sp.evaluate(False):
                dydnet = act_L.derivative(y, net, model.act_params(L))
            steps.append(Step(dname(naming.out(o), naming.net(o)), "output", dydnet, L, Kind.DOUT_DNET, o))
            alt, why = output_delta(model, o, dydnet)
            steps.append(Step(naming.delta(o), "output",
                              _mul(_sym(dname(naming.E_TOTAL, naming.out(o))), _sym(dname(naming.out(o), naming.net(o)))),
                              L, Kind.DELTA, o, alt=alt, alt_note=why))
    for o in spec.outputs:
        weight_grads(L, o)
    updates(L)

    # hidden layers, back to front
    for k in range(L - 1, 0, -1):
        act = model.activation(k)
        for h in spec.layers[k].neurons:
            terms = []
            for w in model.outgoing[h]:
                weight = _sym(naming.updated(w.name) if updated_hidden else w.name)
                if k == L - 1 and not model.softmax_output:
                    o = w.dst
                    dnet_dout = dname(naming.net(o), naming.out(h))
                    steps.append(Step(dnet_dout, "hidden", weight, k, Kind.DNET_DOUT, h))
                    term = dname(naming.err(o), naming.out(h))
                    steps.append(Step(term, "hidden", _mul(_sym(naming.delta(o)), _sym(dnet_dout)), k, Kind.TERM, h,
                                      note=f"only E_{o} depends on net_{o}, so dE_{o}/dnet_{o} = delta_{o}"))
                    terms.append(_sym(term))
                else:
                    terms.append(_mul(_sym(naming.delta(w.dst)), weight))
            steps.append(Step(dname(naming.E_TOTAL, naming.out(h)), "hidden", _add(*terms), k, Kind.DE_DOUT, h))
            y, net = _sym(naming.out(h)), _sym(naming.net(h))
            with sp.evaluate(False):
                dydnet = act.derivative(y, net, model.act_params(k))
            steps.append(Step(dname(naming.out(h), naming.net(h)), "hidden", dydnet, k, Kind.DOUT_DNET, h))
            steps.append(Step(naming.delta(h), "hidden",
                              _mul(_sym(dname(naming.E_TOTAL, naming.out(h))), _sym(dname(naming.out(h), naming.net(h)))),
                              k, Kind.DELTA, h))
        for h in spec.layers[k].neurons:
            weight_grads(k, h)
        updates(k)

    # biases
    for b in spec.biases:
        deltas = [_sym(naming.delta(n)) for n in b.neurons]
        rhs = _add(*deltas) if len(deltas) > 1 else _mul(deltas[0], sp.Integer(1))
        steps.append(Step(dname(naming.E_TOTAL, b.name), "bias", rhs, b.layer, Kind.GRAD, param=b.name))
    if single:
        steps.extend(update_steps(model, [b.name for b in spec.biases], "bias"))
    return steps


def output_delta(model: Model, o: str, dydnet: sp.Expr) -> tuple[sp.Expr, str]:
    """The delta rule written out: dE/dout times dout/dnet, simplified where factors cancel.

    The simplification is derived, not assumed: SymPy cancels the product of the two textbook
    derivatives, and the simpler form is kept only when ``cancel`` proves it equal to the product
    (rational functions of out and target: exact).  So sigmoid with binary cross-entropy shows
    delta = out - target, and an identity output delta = (2/n)(out - target) under MSE or
    out - target under the halved squared error.
    """
    t, y = _sym(naming.target(o)), _sym(naming.out(o))
    with sp.evaluate(False):
        dEdy = model.error_function.derivative(t, y, model.error_params)
        written = _mul(dEdy, dydnet)
    product = (dEdy * dydnet).doit()
    if product.has(sp.Piecewise, sp.Abs, sp.sign):  # a kink: no single closed form
        return written, ""
    simpler = sp.factor_terms(sp.cancel(product))
    if sp.count_ops(simpler) < sp.count_ops(written) and sp.cancel(simpler - product) == 0:
        spec = model.spec
        activation = spec.layers[-1].activation
        if spec.error == "binary_cross_entropy" and activation == "sigmoid":
            why = "the factors of out (1 - out) cancel"
        elif activation == "identity" and spec.error == "mse":
            n = len(spec.outputs)
            why = (f"the identity's derivative is 1, and the mean squared error's 2/n is "
                   f"{sp.Rational(2, n)} with n = {n} output{'s' if n > 1 else ''}")
        elif activation == "identity":
            why = "the identity's derivative is 1"
        else:
            why = "the factors cancel"
        return simpler, why + " (SymPy proves the two forms equal)"
    return written, ""


def softmax_delta(model: Model, j: str) -> tuple[sp.Expr, str]:
    """Derive delta_j for a softmax output layer by summing over the outputs, and simplify it.

    With categorical cross-entropy, the sum collapses to out_j - target_j, because
    the targets sum to 1; this is proved here with SymPy, not assumed.
    """
    outs = model.spec.outputs
    ts = [_sym(naming.target(o)) for o in outs]
    ys = [_sym(naming.out(o)) for o in outs]
    k = outs.index(j)
    total = sp.Add(*[model.error_function.derivative(t, y, model.error_params)
                     * (y * (1 - ys[k]) if i == k else -y * ys[k])
                     for i, (t, y) in enumerate(zip(ts, ys))])
    total = sp.expand(sp.cancel(total))
    if model.spec.error == "categorical_cross_entropy":
        candidate = ys[k] - ts[k]
        last = ts[-1]
        constrained = (total - candidate).subs(last, 1 - sp.Add(*ts[:-1]))
        if sp.cancel(constrained) == 0:  # a rational function of targets and outputs: exact
            return candidate, "the terms collapse because the targets sum to 1"
    return sp.factor_terms(total), ""


def update_steps(model: Model, params: list[str], section: str) -> list[Step]:
    """p+ = p - eta * dE_total/dp for trainable p; frozen p+ = p."""
    trainable = set(model.spec.trainable)
    out = []
    for p in params:
        if p in trainable:
            rhs = sp.Add(_sym(p), _mul(sp.Integer(-1), ETA, _sym(naming.d(naming.E_TOTAL, p))), evaluate=False)
        else:
            rhs = _sym(p)
        out.append(Step(naming.updated(p), section, rhs, 0, Kind.UPDATE, None, per_sample=False, param=p,
                        frozen=p not in trainable))
    return out


def batch_steps(model: Model, batch: tuple[int, ...]) -> list[Step]:
    """Steps that combine per-sample gradients over a batch of several samples, then update."""
    spec = model.spec
    n = len(spec.samples)
    scale = sp.Rational(1, len(batch)) if spec.training.reduction == "mean" else None
    out = []
    for name in [naming.E_TOTAL] + [naming.d(naming.E_TOTAL, p) for p in spec.parameters]:
        terms = [_sym(naming.in_sample(name, s + 1, n)) for s in batch]
        rhs = _add(*terms)
        if scale is not None:
            rhs = _mul(scale, sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0])
        out.append(Step(name, "batch", rhs, 0, Kind.BATCH, per_sample=False))
    out += update_steps(model, list(spec.parameters), "update")
    return out


#: Activations with a kink at net = 0, where the derivative is a convention (functions.ACTIVATIONS' notes).
KINKED = ("relu", "leaky_relu")


def on_kink(derivation: "Derivation") -> list[tuple[str, int | None]]:
    """The neurons whose net input is exactly 0 in the first batch, with the sample (0-based, or
    None for a single sample): where a kinked activation's derivative is its convention."""
    spec = derivation.spec
    out = []
    for layer in spec.layers[1:]:
        if layer.activation not in KINKED:
            continue
        for n in layer.neurons:
            for s in derivation.batch:
                if derivation.value(naming.net(n), s) == 0:
                    out.append((n, s if len(derivation.batch) > 1 else None))
    return out


def format_value(x) -> str:
    """Format a value as the post does: 9 decimals, at least 6 significant digits.

    A value that is exactly a shorter decimal prints as that decimal (0.3775).
    """
    if isinstance(x, Proven):  # the post's form, cut to the decimals training proved
        with mpmath.workdps(DPS):
            magnitude = int(mpmath.floor(mpmath.log10(abs(x)))) if x else 0
        if magnitude >= MAX_FIXED_DIGITS:
            return x.scientific(10)
        return x.fixed(max(9, 6 - magnitude - 1))
    with mpmath.workdps(DPS):
        return _format(mpmath.mpf(x))


def _fixed(x, decimals: int) -> str:
    """*x* with exactly *decimals* decimal places (a value known only to that many)."""
    with mpmath.workdps(DPS):
        scaled = int(mpmath.nint(abs(x) * mpmath.mpf(10) ** decimals))
    digits = str(scaled).rjust(decimals + 1, "0")
    text = f"{digits[:-decimals]}.{digits[-decimals:]}" if decimals else digits
    return ("-" if x < 0 and scaled else "") + text


#: Beyond this many digits before the point (a diverging value), a value prints in scientific form.
MAX_FIXED_DIGITS = 40


_DECIMAL = decimal.Context(prec=120, rounding=decimal.ROUND_HALF_EVEN)


def _format(x) -> str:
    if x == 0:
        return "0"
    if not mpmath.isfinite(x):
        return str(x)
    # x's decimal expansion to 55 digits, rounded by Python's decimal module (fast and exact)
    d = decimal.Decimal(to_str(x._mpf_, DPS + 5)).copy_abs()
    magnitude = d.adjusted()  # floor(log10 |x|)
    if magnitude >= MAX_FIXED_DIGITS:
        return mpmath.nstr(x, 10, min_fixed=1, max_fixed=0)
    decimals = max(9, 6 - magnitude - 1)
    q = d.quantize(decimal.Decimal(1).scaleb(-decimals), context=_DECIMAL)
    text = f"{q:.{decimals}f}"
    if _DECIMAL.subtract(d, q).copy_abs() <= _DECIMAL.multiply(d, _TINY):  # exactly a shorter decimal (0.3775)
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return ("-" if x < 0 and q != 0 else "") + text


_TINY = decimal.Decimal("1e-35")


def full_value(x) -> str:
    """Format a value with 20 significant digits, for machines (JSON) and comparisons.

    A float64 value prints only the digits it has: the shortest text that reads back as the
    same float.  A trained value known to fewer digits (a :class:`Proven`) prints those.
    """
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, Proven):
        with mpmath.workdps(DPS):
            magnitude = int(mpmath.floor(mpmath.log10(abs(x)))) if x else 0
        if magnitude >= 20:
            return x.scientific(20)
        return x.fixed(max(0, 20 - magnitude - 1))
    with mpmath.workdps(DPS):
        return mpmath.nstr(mpmath.mpf(x), 20, min_fixed=-30, max_fixed=30, strip_zeros=False)


class Proven(mpmath.mpf):
    """A value after float64 training: the 50-digit evaluation of the trained parameters, and
    ``error``, a bound on how far the exact training's value may lie from it.

    It computes like any mpmath number (results are plain numbers).  :func:`format_value` and
    :func:`full_value` print it with only the decimals on which every value within ``error``
    agrees, so a printed digit is never one the bound leaves open.
    """

    __slots__ = ("error",)

    def fixed(self, decimals: int) -> str:
        """The value with at most *decimals* decimals: as many as x - error and x + error share."""
        with mpmath.workdps(DPS):
            low, high = mpmath.mpf(self) - self.error, mpmath.mpf(self) + self.error
            while decimals > 0 and _fixed(low, decimals) != _fixed(high, decimals):
                decimals -= 1
            return _fixed(mpmath.mpf(self), decimals)

    def scientific(self, digits: int) -> str:
        """The value in scientific form with at most *digits* significant digits, all certain."""
        with mpmath.workdps(DPS):
            low, high = mpmath.mpf(self) - self.error, mpmath.mpf(self) + self.error

            def text(v, n):
                return mpmath.nstr(v, n, min_fixed=1, max_fixed=0, strip_zeros=False)

            while digits > 1 and text(low, digits) != text(high, digits):
                digits -= 1
            return text(mpmath.mpf(self), digits)


def proven(x, error) -> Proven:
    """*x* marked as known to within *error*."""
    with mpmath.workdps(DPS):
        value = Proven(x)
        value.error = mpmath.mpf(error)
    return value


@dataclass(frozen=True, eq=False)
class Derivation:
    """A spec's derivation: ordered steps, and their values for the first batch.

    ``sample_steps`` are the per-sample steps (forward, error, backward, and for online
    training the updates); ``steps`` adds the steps that combine a batch.
    """

    model: Model
    steps: tuple[Step, ...]
    values: dict[str, mpmath.mpf]
    batch: tuple[int, ...]
    sample_steps: tuple[Step, ...] = ()

    @property
    def spec(self) -> Spec:
        return self.model.spec

    @property
    def n_samples(self) -> int:
        return len(self.spec.samples)

    def value_name(self, step: Step, sample: int) -> str:
        """The canonical name of step's value in sample (0-based)."""
        if step.per_sample and len(self.batch) > 1:
            return naming.in_sample(step.name, sample + 1, self.n_samples)
        return step.name

    def value(self, name: str, sample: int):
        """The value of per-sample quantity *name* in *sample* (0-based) of the first batch."""
        key = naming.in_sample(name, sample + 1, self.n_samples) if len(self.batch) > 1 else name
        return self.values[key]


def given_values(spec: Spec, sample: int | None = None) -> dict[str, sp.Rational]:
    """The exact given values: the parameters, eta, and with *sample* its inputs and targets."""
    values: dict[str, sp.Rational] = {}
    if sample is not None:
        values.update(spec.samples[sample].inputs)
        values.update({naming.target(n): v for n, v in spec.samples[sample].targets})
    values.update(dict(spec.initial))
    values["eta"] = spec.training.learning_rate
    return values


class Program:
    """The per-sample steps compiled for evaluation at high precision (mpmath)."""

    def __init__(self, model: Model, steps: tuple[Step, ...] | None = None, exact: bool = False):
        self.model = model
        #: Whether the given values are read as exact rationals (the derivation's first update).
        self.exact = exact
        spec = model.spec
        self.steps = list(steps) if steps is not None else backward_steps(model)
        self.single = spec.training.batch_size == 1
        per_sample = [s for s in self.steps if s.per_sample or self.single]
        self.args = model.input_symbols + model.target_symbols + model.param_symbols + (ETA,)
        # the steps as written (unevaluated products and sums print as they stand)
        assignments = [(_sym(s.name), s.rhs) for s in per_sample]
        self.run = (compile_exact(self.args, assignments) if exact else
                    compile_assignments(self.args, assignments, kinks=kink_scales(model)))
        self.number = mp

    @functools.cached_property
    def run_forward(self):
        """The forward pass and the error alone (for 30-digit training)."""
        return compile_assignments(self.args, list(self.model.forward), kinks=kink_scales(self.model))

    def env(self, params: dict, sample_index: int) -> dict:
        """Sample *sample_index*'s inputs and targets, *params*, and eta, as mpmath numbers."""
        spec = self.model.spec
        if self.exact:  # the spec's own values, as exact rationals (params are the initial ones)
            return {k: fraction(v) for k, v in given_values(spec, sample_index).items()}
        env = {k: mp(v) for k, v in given_values(spec, sample_index).items() if k not in params}
        env.update(params)
        return env


def initial_params(spec: Spec) -> dict:
    return {n: mp(v) for n, v in spec.initial}


def batches(spec: Spec) -> list[tuple[int, ...]]:
    """The batches of sample indices, in training order."""
    k = spec.training.batch_size
    return [tuple(range(i, i + k)) for i in range(0, len(spec.samples), k)]


def evaluate_batch(model: Model, program: Program, params: dict, batch: tuple[int, ...],
                   when: str = "the first update"):
    """Return (per-sample value dicts, batch value dict with gradients and updates)."""
    spec = model.spec
    per = [_run_checked(program, params, s, when) for s in batch]
    if program.single:
        return per, dict(per[0])
    combined = {}
    one = program.number(sp.Integer(1))
    scale = one / len(batch) if spec.training.reduction == "mean" else one
    for name in [naming.E_TOTAL] + [naming.d(naming.E_TOTAL, p) for p in spec.parameters]:
        combined[name] = sum(v[name] for v in per) * scale
    eta = program.number(spec.training.learning_rate)
    trainable = set(spec.trainable)
    for p in spec.parameters:
        grad = combined[naming.d(naming.E_TOTAL, p)]
        combined[naming.updated(p)] = params[p] - eta * grad if p in trainable else params[p]
    return per, combined


def derive(spec: Spec) -> Derivation:
    """Derive every step for the first batch, with values at high precision (unverified)."""
    model = Model(spec)
    with mpmath.workdps(DPS):
        program = Program(model, exact=True)
        steps = list(program.steps)
        batch = batches(spec)[0]
        params = initial_params(spec)
        per, combined = evaluate_batch(model, program, params, batch)
        values: dict[str, mpmath.mpf] = {}
        for s_index, v in zip(batch, per):
            for name, value in v.items():
                key = naming.in_sample(name, s_index + 1, len(spec.samples)) if len(batch) > 1 else name
                values[key] = value
        values.update(combined)
        if not program.single:
            steps += batch_steps(model, batch)
        _refuse_hairline_kinks(model, per, batch)
    return Derivation(model, tuple(steps), values, batch, tuple(program.steps))


def _refuse_hairline_kinks(model: Model, per: list[dict], batch: tuple[int, ...]) -> None:
    """Refuse a ReLU or leaky ReLU net input that is above 0 but closer to it than float64 can tell
    (within KINK_TOLERANCE of its terms' sizes): training and the generated module would take it
    as the kink, with the derivative of the left side, where the exact derivation takes the right."""
    scales = kink_scales(model)
    if not scales:
        return
    spec = model.spec
    for s, values in zip(batch, per):
        given = {k: mp(v) for k, v in given_values(spec, s).items()}
        for sym, scale in scales.items():
            net = values[sym.name]
            if net <= 0:  # at and left of 0 the derivative is the same (0, or the slope): no branch to mistake
                continue
            size = scale.xreplace({x: given.get(x.name, values.get(x.name)) for x in scale.free_symbols})
            if abs(net) <= KINK_TOLERANCE * mpmath.mpf(str(sp.Float(size, DPS))):
                raise SpecError(f"{spec.name}: sample {s + 1}: {sym.name} = {mpmath.nstr(net, 6)} is not 0 but "
                                "closer to 0 than float64 training can tell from it; change an initial value, "
                                "input or bias so that it is exactly 0 or clearly not")


# -- training -------------------------------------------------------------------

#: The 30-digit fallback runs while steps x samples x program lines stays under this (about 1 s).
HIGH_PRECISION_BUDGET = 250_000
#: The float64 run's disagreement with its perturbed shadow run is multiplied by this before
#: it decides how many digits are kept.
SAFETY = 16
#: Significant digits of the error curve the plot prints, plus one.
CURVE_DIGITS = 7
#: Training falls back to 30 digits (when affordable) if a value keeps fewer significant digits.
MIN_DIGITS = 6
#: The most significant digits reported for a disagreement of zero (what full_value prints).
MAX_DIGITS = 20


@dataclass(frozen=True)
class TrainingCheck:
    """How training's printed digits were proven (a row of the document's table of checks)."""

    what: str
    method: str
    count: int
    worst: float


@dataclass
class Trajectory:
    """What training for some number of updates gave."""

    #: E_total over the whole training set after u updates, for u = 0..steps.
    errors: list
    #: Forward quantities and parameters after u updates, for the requested u.
    snapshots: dict[int, dict]
    #: "float" (float64 with a perturbed shadow run) or "mpmath" (30 significant digits).
    precision: str = "mpmath"
    #: Significant digits of ``errors`` both float64 runs agree on (with SAFETY), everywhere.
    curve_digits: int = MAX_DIGITS
    #: The fewest significant digits kept of any snapshot value.
    digits: int = MAX_DIGITS
    check: TrainingCheck | None = None
    #: Whether every snapshot value kept MIN_DIGITS significant digits, and the curve CURVE_DIGITS.
    complete: bool = True
    #: E_total after u updates from the perturbed second float64 run (float training only).
    shadow_errors: list | None = None

    def certain_digits(self, u: int) -> int:
        """Significant digits of ``errors[u]`` that training proves (MAX_DIGITS when exact)."""
        x = self.errors[u]
        if isinstance(x, Proven):
            if not x.error:
                return MAX_DIGITS
            if not x:
                return 0
            return max(0, min(MAX_DIGITS, int(mpmath.floor(mpmath.log10(abs(x) / x.error)))))
        if self.shadow_errors is None or not isinstance(x, float):
            return MAX_DIGITS
        y = self.shadow_errors[u]
        return MAX_DIGITS if x == y else _digits(abs(x - y) / abs(x)) if x else 0


def training_precision(spec: Spec, steps: int) -> str:
    """The precision training starts in: float64, checked by a perturbed second run.

    It falls back to 30 digits when that check leaves a value fewer than MIN_DIGITS significant
    digits and the run is small (:func:`high_precision_affordable`).
    """
    return "float"


def high_precision_affordable(spec: Spec, steps: int) -> bool:
    """Whether 30-digit training of *steps* updates stays within HIGH_PRECISION_BUDGET."""
    lines = 8 * len(spec.parameters) + 12 * sum(len(layer.neurons) for layer in spec.layers)
    return steps * len(spec.samples) * lines <= HIGH_PRECISION_BUDGET


_TRAINERS: dict = {}


def _trainer(model: Model, steps: tuple[Step, ...]) -> FloatTrainer:
    """The compiled float64 training loop of a spec (compiled once per spec)."""
    key = model.spec
    if key not in _TRAINERS:
        if len(_TRAINERS) > 16:
            _TRAINERS.clear()
        _TRAINERS[key] = float_trainer(model, steps)
    return _TRAINERS[key]


def train(source: Derivation | Spec, steps: int, snapshots: tuple[int, ...] = (), dps: int = 30,
          precision: str | None = None, tick=None) -> Trajectory:
    """Train for *steps* updates; record the error after each and the requested snapshots.

    *source* is the spec's derivation (or the spec itself, derived here).  Training runs in
    float64 through the straight-line code of :mod:`symbolic.program`, twice: once as is, and
    once with every parameter moved at random by up to 2^-50 of itself after each update.
    Each snapshot is evaluated at 50 digits from both runs' parameters, and each value becomes
    a :class:`Proven` whose error bound is SAFETY times the two runs' difference: the printers
    show only the digits that bound leaves certain.  When a value keeps fewer than MIN_DIGITS
    significant digits, or the error curve fewer than CURVE_DIGITS, and the run is small,
    training falls back to *dps* digits (``precision="mpmath"`` forces that).  The first
    snapshots (no update, one update) are the spec's and the derivation's exact values.
    *tick*, if given, is called with the number of updates done, for progress reports.
    """
    derivation = source if isinstance(source, Derivation) else None
    spec = derivation.spec if derivation else source
    model = derivation.model if derivation else Model(spec)
    sample_steps = derivation.sample_steps if derivation else tuple(backward_steps(model))
    if (precision or training_precision(spec, steps)) == "float":
        trajectory = _train_float(model, sample_steps, steps, snapshots, tick, derivation)
        if trajectory.complete or not high_precision_affordable(spec, steps):
            return trajectory
    return _train_mpmath(model, sample_steps, steps, snapshots, dps, tick)


def _diverged(spec: Spec, u: int, value) -> SaturationError:
    return SaturationError(f"{spec.name}: training diverged: E_total is {mpmath.nstr(mpmath.mpf(value), 6)} after {u} "
                           "updates; use a smaller learning rate, or smaller weights or inputs")


def _chunk(trainer: FloatTrainer) -> int:
    """Updates per call of the compiled loop: about 0.2 s of work, so progress stays current."""
    return max(1, 2_000_000 // max(1, trainer.source.count("\n")))


def _train_float(model: Model, sample_steps, steps: int, snapshots, tick, derivation) -> Trajectory:
    spec = model.spec
    trainer = _trainer(model, sample_steps)
    initial = dict(spec.initial)
    start = tuple(float(initial[p]) for p in spec.parameters)
    marks = sorted({u for u in snapshots if 0 <= u <= steps} | {steps} | ({1} if steps >= 1 else set()))
    states, shadows = {0: start}, {0: start}
    errors: list = []
    shadow_errors: list = []
    rand = random.Random(20140317).random
    state = shadow = start
    u = 0
    chunk = _chunk(trainer)
    try:
        for mark in marks:
            while u < mark:
                n = min(chunk, mark - u)
                state = trainer.run(state, u, n, errors)
                shadow = trainer.shadow(shadow, u, n, shadow_errors, rand)
                u += n
                if not math.isfinite(errors[-1]) or not all(map(math.isfinite, state)):
                    bad = next((k for k, e in enumerate(errors) if not math.isfinite(e)), u)
                    raise _diverged(spec, bad, errors[bad - 1] if 0 < bad <= len(errors) else math.inf)
                if tick is not None:
                    tick(u)
            states[u], shadows[u] = state, shadow
        errors.append(trainer.error(state))
        shadow_errors.append(trainer.error(shadow))
    except OverflowError:
        finite = [e for e in errors[-3:] if math.isfinite(e)]
        raise _diverged(spec, max(0, len(errors) - 1), finite[-1] if finite else math.inf) from None
    except (ValueError, ZeroDivisionError) as exc:
        why = f" ({exc})" if str(exc) else ""
        raise SaturationError(f"{spec.name}: training, between updates {u + 1} and {min(u + chunk, steps)}: a "
                              f"value is undefined{why}; an output probably saturated at exactly 0 or 1, or "
                              "training diverged: use a smaller learning rate, weights or inputs") from None
    bad = None if all(map(math.isfinite, errors)) else next(k for k, e in enumerate(errors) if not math.isfinite(e))
    if bad is not None or not all(math.isfinite(v) for v in state):
        raise _diverged(spec, bad if bad is not None else steps, errors[bad] if bad is not None else math.inf)

    exact = _ExactForward(model)
    nudge = random.Random(19700101).random
    if derivation is not None and steps >= 1:
        _check_first_update(derivation, states[1])
    snaps: dict[int, dict] = {}
    worst = 0.0
    fewest = MAX_DIGITS
    count = 0
    complete = True
    with mpmath.workdps(DPS):
        for mark in marks:
            if mark not in snapshots and mark != steps:
                continue
            exactly = mark == 0 or (mark == 1 and derivation is not None)
            if mark == 0:  # before any update the parameters are the spec's, exactly
                main = other = exact(None)
            elif exactly:  # after one, they are the derivation's 50-digit updates
                main = other = nudged = exact(tuple(derivation.values[naming.updated(p)] for p in spec.parameters))
            else:
                main, other = exact(states[mark]), exact(shadows[mark])
                # how much each value moves when the final parameters move by a few units in the
                # last place: the rounding left in them, which the two runs may share
                nudged = exact(tuple(v * (1 + SHADOW_KICK * (2 * nudge() - 1)) for v in states[mark]))
            kept = {}
            for name, x in main.items():
                if name in exact.frozen or exactly:
                    kept[name] = x  # given exactly, never trained
                    continue
                spread = max(abs(x - other[name]), abs(x - nudged[name]))
                if x == 0 and spread == 0:
                    kept[name] = x  # exactly 0 however the parameters move (a target of 0 under cross-entropy)
                    continue
                digits, rel = _proven_digits(x, x + spread if x >= 0 else x - spread)
                # SAFETY x the larger difference, and never less than float64's own resolution
                kept[name] = proven(x, max(SAFETY * spread, abs(x) * 2.0 ** -50))
                complete = complete and digits >= MIN_DIGITS
                worst = max(worst, rel)
                if x != 0:
                    fewest = min(fewest, digits)
                count += 1
            if mark in snapshots:
                snaps[mark] = kept
            errors[mark] = kept[naming.E_TOTAL]
    # the curve (for the plot) is judged on at most about 20,000 evenly spaced points and the last
    stride = max(1, len(errors) // 20000)
    marks_curve = list(range(0, len(errors), stride)) + [len(errors) - 1]
    curve = _digits(max((0.0 if errors[u] == shadow_errors[u] else
                         abs(errors[u] - shadow_errors[u]) / abs(errors[u]) if errors[u] else math.inf)
                        for u in marks_curve))

    check = TrainingCheck(
        f"training: every value after {steps} updates (parameters, forward values, E_total)",
        "float64, against a second float64 run with every parameter moved at random by up to 9e-16 of its "
        "value after each update (and the inputs, targets and learning rate once), and against the final "
        "parameters moved as much; values evaluated at 50 "
        f"digits from each and printed to the digits they share after a safety factor of {SAFETY} (at least "
        f"{fewest} significant); the first update against the 50-digit derivation",
        count, worst)
    return Trajectory(errors, snaps, "float", curve, fewest, check, complete and curve >= CURVE_DIGITS,
                      shadow_errors)


def _proven_digits(x, y) -> tuple[int, float]:
    """Significant digits of x that y confirms (SAFETY x their difference), and their relative difference."""
    if x == 0:
        return MAX_DIGITS, 0.0
    rel = float(abs(mpmath.mpf(x) - mpmath.mpf(y)) / abs(mpmath.mpf(x)))
    return _digits(rel), rel


def _digits(rel: float) -> int:
    """Significant digits left by a relative disagreement *rel* (SAFETY x it, at most float64's)."""
    bound = max(SAFETY * rel, 2.0 ** -50)
    if not bound < 1:
        return 0
    return max(0, min(MAX_DIGITS, int(math.floor(-math.log10(bound)))))


class _ExactForward:
    """Every forward quantity of every sample from float64-trained parameters, exactly where the
    value is rational (the trained parameters are binary fractions) and at 50 digits otherwise.

    A parameter training never moved (its float is the spec's value read as a float, or the
    derivation's 50-digit value of it) keeps its exact given value, so a ReLU neuron sitting at
    its kink (net exactly 0, no gradient) stays exactly there.
    """

    def __init__(self, model: Model):
        self.spec = model.spec
        args = model.input_symbols + model.target_symbols + model.param_symbols + (ETA,)
        self.run = compile_exact(args, list(model.forward))
        with mpmath.workdps(DPS):
            self.frozen = {p: mp(v) for p, v in self.spec.initial if p not in set(self.spec.trainable)}
            self.given = {p: (fraction(v), float(v), mp(v)) for p, v in self.spec.initial}

    def _exact(self, p: str, v) -> Fraction:
        exact, as_float, as_mp = self.given[p]
        if p in self.frozen or v == as_float or v == as_mp:
            return exact
        if isinstance(v, float):
            return Fraction(v)
        sign, man, exp, _ = mpmath.mpf(v)._mpf_
        value = Fraction(man) * Fraction(2) ** exp if man else Fraction(0)
        value = -value if sign else value
        # a 50-digit update that is a short rational (0.3 - 0.5 * 0.12) is that rational: the
        # nearest fraction with a denominator up to 10^20 lies within 10^-45 only if it is the value
        short = value.limit_denominator(10 ** 20)
        return short if abs(short - value) <= Fraction(1, 10 ** 45) * max(1, abs(value)) else value

    def __call__(self, state: tuple | None) -> dict:
        """Evaluate at *state* (parameters in spec order: floats or 50-digit numbers), or at the
        spec's own with None."""
        spec = self.spec
        if state is None:
            exact = {p: fraction(v) for p, v in spec.initial}
            params = {p: mp(v) for p, v in spec.initial}
        else:
            exact = {p: self._exact(p, v) for p, v in zip(spec.parameters, state)}
            params = {p: self.frozen.get(p, mpmath.mpf(v)) for p, v in zip(spec.parameters, state)}
        snap = dict(params)
        totals = []
        n = len(spec.samples)
        for s in range(n):
            env = {k: fraction(v) for k, v in given_values(spec, s).items() if k not in exact}
            env.update(exact)
            values = self.run(env)
            totals.append(values[naming.E_TOTAL])
            for name, value in values.items():
                snap[naming.in_sample(name, s + 1, n)] = value
        total = mpmath.fsum(totals)
        snap[naming.E_TOTAL] = total / n if spec.training.reduction == "mean" else total
        return snap


def _check_first_update(derivation: Derivation, state: tuple[float, ...]) -> None:
    """The float64 loop's first update must match the 50-digit derivation's (a bug otherwise)."""
    for p, v in zip(derivation.spec.parameters, state):
        exact = derivation.values[naming.updated(p)]
        if abs(mpmath.mpf(v) - exact) > mpmath.mpf(10) ** -12 * max(1, abs(exact)):
            raise DerivationError(f"{naming.updated(p)}: float64 training gives {v!r} after the first update "
                                  f"but the derivation gives {mpmath.nstr(exact, 20)}")


def _train_mpmath(model: Model, sample_steps, steps: int, snapshots, dps: int, tick) -> Trajectory:
    """Train at *dps* significant digits with mpmath (the slow, small-run fallback)."""
    spec = model.spec
    with mpmath.workdps(dps):
        program = Program(model, sample_steps)
        params = {n: program.number(v) for n, v in spec.initial}
        order = batches(spec)
        all_samples = range(len(spec.samples))
        mean = spec.training.reduction == "mean"
        limit = mpmath.mpf(10) ** 300

        def total_error(forwards: list[dict]):
            total = sum(f[naming.E_TOTAL] for f in forwards)
            return total / len(forwards) if mean else total

        with mpmath.workdps(DPS):
            frozen = {p: mp(v) for p, v in spec.initial if p not in set(spec.trainable)}

        def snapshot(forwards: list[dict]) -> dict:
            snap = {**params, **frozen}  # a frozen parameter keeps its exact value
            for s, f in zip(all_samples, forwards):
                for name, value in f.items():
                    snap[naming.in_sample(name, s + 1, len(spec.samples))] = value
            snap[naming.E_TOTAL] = total_error(forwards)
            return snap

        errors, snaps = [], {}
        forwards = [program.run_forward(program.env(params, s)) for s in all_samples]
        for u in range(steps + 1):
            errors.append(total_error(forwards))
            if not abs(errors[-1]) < limit:
                raise _diverged(spec, u, errors[-1])
            if u in snapshots:
                snaps[u] = snapshot(forwards)
            if u == steps:
                break
            batch = order[u % len(order)]
            _, combined = evaluate_batch(model, program, params, batch, f"update {u + 1}")
            if tick is not None:
                tick(u + 1)
            params = {p: combined[naming.updated(p)] for p in spec.parameters}
            forwards = [program.run_forward(program.env(params, s)) for s in all_samples]
    check = TrainingCheck(f"training: every value after {steps} updates", f"{dps} significant digits (mpmath)",
                          len(snaps), 0.0)
    return Trajectory(errors, snaps, "mpmath", check=check)


def describe(step: Step, spec: Spec) -> str:
    """Say in words what a step computes: the answers template's comments, the exercise key's words.

    >>> from stepgrad.symbolic import spec, derive
    >>> d = derive.derive(spec.load("mazur"))
    >>> describe(d.steps[1], d.spec), describe(d.steps[-1], d.spec)
    ('output of h1', 'b2 after the update (frozen: it keeps its value)')
    """
    kind, n = step.kind, step.neuron
    if kind == Kind.NET:
        return f"total net input of {n}"
    if kind == Kind.OUT:
        return f"output of {n}"
    if kind == Kind.E:
        return f"error of {n}"
    if kind == Kind.DELTA:
        return f"delta of {n} (dE_total/dnet_{n})"
    if kind == Kind.UPDATE:
        return f"{step.param} after the update" + (" (frozen: it keeps its value)" if step.frozen else "")
    if step.name == naming.E_TOTAL:
        words = "total error"
    else:
        parts = naming.split_d(step.name)
        if parts is None:
            return step.name
        num, den = parts
        words = ("gradient of E_total with respect to " + den if kind in (Kind.GRAD, Kind.BATCH)
                 else f"derivative of {num} with respect to {den}")
    if kind == Kind.BATCH:
        how = "sum" if spec.training.reduction == "sum" else "mean"
        words += f" over the batch (the {how} of the samples')"
    return words


def at_round(spec: Spec, n: int) -> int:
    """The number of updates behind 'after round n', by the spec's way of counting rounds."""
    return n - 1 if spec.training.count_rounds == "forward_passes" else n
