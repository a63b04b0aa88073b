"""The derivation: every step of backpropagation as "formula = numbers = value".

Steps are built by the chain rule the way the post builds them, following the
layer structure (output deltas, then the delta recursion back through the
hidden layers), never by differentiating the flattened network.  Every value is
computed at high precision from the exact inputs, and every chain-rule result
is then checked against direct differentiation (:mod:`symbolic.verify`).

This module knows nothing about LaTeX or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import mpmath
import sympy as sp

from . import naming
from .evaluate import DPS, compile_assignments, mp
from .model import ETA, Model, symbol
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
    """The chain rule and direct differentiation disagree: a bug, never printed as a result."""


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


@dataclass(frozen=True)
class Step:
    """One line of the worked example: name = rhs (in other quantities' symbols)."""

    name: str
    section: str
    rhs: sp.Expr
    layer: int
    kind: str
    neuron: str | None = None
    per_sample: bool = True
    note: str = ""
    #: A closed form of the same quantity (the delta rule written out), shown after rhs.
    alt: sp.Expr | None = None
    alt_note: str = ""


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
        nets = [Step(naming.net(n), "forward", model.net_definition(n, evaluate=False), k, "net", n)
                for n in spec.layers[k].neurons]
        outs = [Step(naming.out(n), "forward", model.out_definition(n), k, "out", n) for n in spec.layers[k].neurons]
        if spec.layers[k].activation == "softmax":
            steps += nets + outs  # each output needs every net of the layer
        else:
            steps += [s for pair in zip(nets, outs) for s in pair]
    # error
    for o in spec.outputs:
        steps.append(Step(naming.err(o), "error", model.error_definition(o, evaluate=False), L, "E", o))
    steps.append(Step(naming.E_TOTAL, "error", _add(*[_sym(naming.err(o)) for o in spec.outputs]), L, "E_total"))

    def dname(num: str, den: str) -> str:
        return naming.d(num, den)

    def weight_grads(k: int, n: str) -> None:
        for w in model.incoming[n]:
            dnet = dname(naming.net(n), w.name)
            steps.append(Step(dnet, "output" if k == L else "hidden", model.out_symbol(w.src), k, "dnet/dw", n))
            if k == L and model.softmax_output:
                chain = _mul(_sym(naming.delta(n)), _sym(dnet))
            else:
                chain = _mul(_sym(dname(naming.E_TOTAL, naming.out(n))),
                             _sym(dname(naming.out(n), naming.net(n))), _sym(dnet))
            steps.append(Step(dname(naming.E_TOTAL, w.name), "output" if k == L else "hidden",
                              chain, k, "grad", n, note=w.name))

    def updates(k: int) -> None:
        if single:
            steps.extend(update_steps(model, [w.name for w in spec.weights if w.layer == k], "output" if k == L else "hidden"))

    # output layer
    act_L = model.activation(L)

    def error_derivative(o: str) -> Step:
        t, y = _sym(naming.target(o)), _sym(naming.out(o))
        with sp.evaluate(False):
            dEdy = model.error_function.derivative(t, y, model.error_params)
        return Step(dname(naming.E_TOTAL, naming.out(o)), "output", dEdy, L, "dE/dout", o)

    if model.softmax_output:
        steps.extend(error_derivative(o) for o in spec.outputs)
        for o in spec.outputs:
            for j in spec.outputs:
                y_o, y_j = _sym(naming.out(o)), _sym(naming.out(j))
                with sp.evaluate(False):
                    rhs = y_o * (1 - y_j) if o == j else -y_o * y_j
                steps.append(Step(dname(naming.out(o), naming.net(j)), "output", rhs, L, "dout/dnet", o))
        for j in spec.outputs:
            terms = [_mul(_sym(dname(naming.E_TOTAL, naming.out(o))), _sym(dname(naming.out(o), naming.net(j))))
                     for o in spec.outputs]
            alt, why = softmax_delta(model, j)
            steps.append(Step(naming.delta(j), "output", _add(*terms), L, "delta", j,
                              note="softmax couples the outputs, so delta sums over all of them",
                              alt=alt, alt_note=why))
    else:
        for o in spec.outputs:
            steps.append(error_derivative(o))
            y, net = _sym(naming.out(o)), _sym(naming.net(o))
            with sp.evaluate(False):
                dydnet = act_L.derivative(y, net, model.act_params(L))
            steps.append(Step(dname(naming.out(o), naming.net(o)), "output", dydnet, L, "dout/dnet", o))
            alt, why = output_delta(model, o, dydnet)
            steps.append(Step(naming.delta(o), "output",
                              _mul(_sym(dname(naming.E_TOTAL, naming.out(o))), _sym(dname(naming.out(o), naming.net(o)))),
                              L, "delta", o, alt=alt, alt_note=why))
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
                    steps.append(Step(dnet_dout, "hidden", weight, k, "dnet/dout", h))
                    term = dname(naming.err(o), naming.out(h))
                    steps.append(Step(term, "hidden", _mul(_sym(naming.delta(o)), _sym(dnet_dout)), k, "term", h,
                                      note=f"only E_{o} depends on net_{o}, so dE_{o}/dnet_{o} = delta_{o}"))
                    terms.append(_sym(term))
                else:
                    terms.append(_mul(_sym(naming.delta(w.dst)), weight))
            steps.append(Step(dname(naming.E_TOTAL, naming.out(h)), "hidden", _add(*terms), k, "dE/dout", h))
            y, net = _sym(naming.out(h)), _sym(naming.net(h))
            with sp.evaluate(False):
                dydnet = act.derivative(y, net, model.act_params(k))
            steps.append(Step(dname(naming.out(h), naming.net(h)), "hidden", dydnet, k, "dout/dnet", h))
            steps.append(Step(naming.delta(h), "hidden",
                              _mul(_sym(dname(naming.E_TOTAL, naming.out(h))), _sym(dname(naming.out(h), naming.net(h)))),
                              k, "delta", h))
        for h in spec.layers[k].neurons:
            weight_grads(k, h)
        updates(k)

    # biases
    for b in spec.biases:
        deltas = [_sym(naming.delta(n)) for n in b.neurons]
        rhs = _add(*deltas) if len(deltas) > 1 else _mul(deltas[0], sp.Integer(1))
        steps.append(Step(dname(naming.E_TOTAL, b.name), "bias", rhs, b.layer, "grad", note=b.name))
    if single:
        steps.extend(update_steps(model, [b.name for b in spec.biases], "bias"))
    return steps


def output_delta(model: Model, o: str, dydnet: sp.Expr) -> tuple[sp.Expr, str]:
    """The delta rule written out: dE/dout times dout/dnet, simplified where factors cancel."""
    t, y = _sym(naming.target(o)), _sym(naming.out(o))
    with sp.evaluate(False):
        dEdy = model.error_function.derivative(t, y, model.error_params)
        written = _mul(dEdy, dydnet)
    product = (dEdy * dydnet).doit()
    if any(p.exp.is_negative for p in product.atoms(sp.Pow)):
        simpler = sp.factor_terms(sp.cancel(product))
        if sp.simplify(simpler - product) == 0:
            return simpler, "the factors of out (1 - out) cancel"
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
        if sp.simplify(constrained) == 0:
            return candidate, "the terms collapse because the targets sum to 1"
    return sp.factor_terms(total), ""


def update_steps(model: Model, params: list[str], section: str) -> list[Step]:
    """p+ = p - eta * dE_total/dp for trainable p; frozen p+ = p."""
    trainable = set(model.spec.trainable)
    out = []
    for p in params:
        if p in trainable:
            rhs = sp.Add(_sym(p), _mul(sp.Integer(-1), ETA, _sym(naming.d(naming.E_TOTAL, p))), evaluate=False)
            note = ""
        else:
            rhs = _sym(p)
            note = "frozen"
        out.append(Step(naming.updated(p), section, rhs, 0, "update", None, per_sample=False, note=note))
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
        out.append(Step(name, "batch", rhs, 0, "batch", per_sample=False))
    out += update_steps(model, list(spec.parameters), "update")
    return out


def format_value(x) -> str:
    """Format a value as the post does: 9 decimal places, at least 6 significant digits.

    A value that is exactly a shorter decimal prints as that decimal (0.3775).

    >>> format_value(mpmath.mpf("0.5932699921071872"))
    '0.593269992'
    """
    with mpmath.workdps(DPS):
        return _format(mpmath.mpf(x))


def _format(x) -> str:
    if x == 0:
        return "0"
    magnitude = int(mpmath.floor(mpmath.log10(abs(x))))
    decimals = max(9, 6 - magnitude - 1)
    scaled = mpmath.nint(abs(x) * mpmath.mpf(10) ** decimals)
    digits = str(int(scaled)).rjust(decimals + 1, "0")
    text = f"{digits[:-decimals]}.{digits[-decimals:]}"
    if abs(abs(x) - scaled / mpmath.mpf(10) ** decimals) <= abs(x) * mpmath.mpf(10) ** -35:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return ("-" if x < 0 and scaled != 0 else "") + text


def full_value(x) -> str:
    """Format a value with 20 significant digits, for machines (JSON) and comparisons.

    A float64 value (from float64 training of a large network) prints only the digits it
    has: the shortest text that reads back as the same float.
    """
    if isinstance(x, float):
        return repr(x)
    with mpmath.workdps(DPS):
        return mpmath.nstr(mpmath.mpf(x), 20, min_fixed=-30, max_fixed=30, strip_zeros=False)


@dataclass
class Derivation:
    """A spec's derivation: ordered steps, and their values for the first batch."""

    model: Model
    steps: tuple[Step, ...]
    values: dict[str, mpmath.mpf]
    batch: tuple[int, ...]
    checks: list = field(default_factory=list)

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

    @cached_property
    def program(self) -> "Program":
        return Program(self.model)


class Program:
    """The per-sample steps compiled for fast evaluation, at high precision or in float64."""

    def __init__(self, model: Model, backend: str = "mpmath"):
        self.model = model
        spec = model.spec
        self.steps = [s for s in backward_steps(model)]
        self.single = spec.training.batch_size == 1
        per_sample = [s for s in self.steps if s.per_sample or self.single]
        args = model.input_symbols + model.target_symbols + model.param_symbols + (ETA,)
        self.args = args
        self.backend = backend
        self.run = compile_assignments(args, [(_sym(s.name), s.rhs.doit()) for s in per_sample], backend)
        self.run_forward = compile_assignments(args, list(model.forward), backend)
        self.number = mp if backend == "mpmath" else (lambda v: float(v))

    def env(self, params: dict, sample_index: int) -> dict:
        spec = self.model.spec
        sample = spec.samples[sample_index]
        env = {n: self.number(v) for n, v in sample.inputs}
        env.update({naming.target(n): self.number(v) for n, v in sample.targets})
        env.update(params)
        env["eta"] = self.number(spec.training.learning_rate)
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
    """Derive every step for the first batch, with values at high precision.

    >>> d = derive(load("mazur")); format_value(d.values["out_h1"])
    '0.593269992'
    """
    model = Model(spec)
    with mpmath.workdps(DPS):
        program = Program(model)
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
        derivation = Derivation(model, tuple(steps), values, batch)
        derivation.__dict__["program"] = program
    return derivation


#: Training runs at high precision while steps x samples x program lines stays under this.
HIGH_PRECISION_BUDGET = 4_000_000


@dataclass
class Trajectory:
    """What training for some number of updates gave."""

    #: E_total over the whole training set after u updates, for u = 0..steps.
    errors: list
    #: Forward quantities and parameters after u updates, for the requested u.
    snapshots: dict[int, dict]
    #: "mpmath" (30 significant digits) or "float" (float64, for large runs).
    precision: str = "mpmath"


def training_precision(spec: Spec, steps: int) -> str:
    """Choose 30-digit training when it is affordable, float64 otherwise."""
    lines = 8 * len(spec.parameters) + 12 * sum(len(layer.neurons) for layer in spec.layers)
    work = steps * len(spec.samples) * lines
    return "mpmath" if work <= HIGH_PRECISION_BUDGET else "float"


def train(spec: Spec, steps: int, snapshots: tuple[int, ...] = (), dps: int = 30,
          precision: str | None = None, tick=None) -> Trajectory:
    """Train for *steps* updates; record the error after each and the requested snapshots.

    Small runs use *dps* significant digits; large ones float64 (see :func:`training_precision`).
    *tick*, if given, is called with the number of updates done, for progress reports.
    """
    precision = precision or training_precision(spec, steps)
    model = Model(spec)
    with mpmath.workdps(dps):
        program = Program(model, precision)
        params = {n: program.number(v) for n, v in spec.initial}
        order = batches(spec)
        all_samples = range(len(spec.samples))
        mean = spec.training.reduction == "mean"

        def total_error(forwards: list[dict]):
            total = sum(f[naming.E_TOTAL] for f in forwards)
            return total / len(forwards) if mean else total

        def snapshot(forwards: list[dict]) -> dict:
            snap = dict(params)
            for s, f in zip(all_samples, forwards):
                for name, value in f.items():
                    snap[naming.in_sample(name, s + 1, len(spec.samples))] = value
            snap[naming.E_TOTAL] = total_error(forwards)
            return snap

        errors, snaps = [], {}
        forwards = [program.run_forward(program.env(params, s)) for s in all_samples]
        for u in range(steps + 1):
            errors.append(total_error(forwards))
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
    return Trajectory(errors, snaps, precision)


def at_round(spec: Spec, n: int) -> int:
    """The number of updates behind 'after round n', by the spec's way of counting rounds."""
    return n - 1 if spec.training.count_rounds == "forward_passes" else n
