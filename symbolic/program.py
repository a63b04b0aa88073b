"""The derivation's per-sample steps as straight-line code: the gradient module's and training's.

:func:`compact_program` keeps the quantities the post names (``net_h1``,
``out_h1``, ``delta_o1``, the gradients) as variables, inlines the factors in
between and writes softmax and the cross-entropies in their stable forms.
:func:`ordered_cse` factors out shared work.  The generated gradient module
(:mod:`codegen.pymodule`) prints this program; :func:`float_trainer` compiles
the same program into a float64 training loop.  Nothing is differentiated here.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

from . import naming
from .evaluate import FastCode, float_sigmoid, float_softplus
from .functions import sigmoid, softplus
from .model import Model, symbol

Pairs = list[tuple[sp.Symbol, sp.Expr]]


def cancel_division(expr: sp.Expr) -> sp.Expr:
    """Cancel a division an error's derivative brings (cross-entropy's 1/(y(1 - y)), 1/y).

    So saturated outputs stay finite; an expression without a negative power is returned as it is.
    """
    if any(p.exp.is_negative for p in expr.atoms(sp.Pow)):
        return sp.factor_terms(sp.cancel(expr))
    return expr


def softmax_symbols(layer: int) -> tuple[sp.Symbol, sp.Symbol]:
    """The helper variables of a softmax layer: the largest net input and the sum of exponentials."""
    return symbol(f"_max_{layer}"), symbol(f"_sum_{layer}")


def stable_forward(model: Model, forward: Pairs) -> Pairs:
    """Rewrite softmax as exp(net - max) / sum, so large net inputs cannot overflow."""
    out: Pairs = []
    for k, layer in enumerate(model.spec.layers):
        if k == 0:
            continue
        names = {symbol(naming.net(n)) for n in layer.neurons} | {symbol(naming.out(n)) for n in layer.neurons}
        mine = [(s, e) for s, e in forward if s in names]
        if layer.activation != "softmax":
            out += mine
            continue
        nets = [symbol(naming.net(n)) for n in layer.neurons]
        top, total = softmax_symbols(k)
        out += [(s, e) for s, e in mine if s in set(nets)]
        out.append((top, sp.Max(*nets)))
        out.append((total, sp.Add(*[sp.exp(n - top) for n in nets])))
        out += [(symbol(naming.out(n)), sp.exp(symbol(naming.net(n)) - top) / total) for n in layer.neurons]
    return out


def stable_cross_entropy(error: str, activation: str, t: sp.Expr, net: sp.Expr,
                         log_out: sp.Expr | None = None) -> sp.Expr | None:
    """A cross-entropy written from the net input, so a saturated output never takes log(0).

    Sigmoid with binary cross-entropy: -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)) =
    t softplus(-x) + (1 - t) softplus(x).  Softmax with categorical cross-entropy:
    -t log(out), with *log_out* the caller's stable log of the softmax output
    (x_o - max - log(sum of exp(x - max))).  None for any other pair.  The scalar module,
    training and the NumPy module all use this one form.
    """
    if error == "binary_cross_entropy" and activation == "sigmoid":
        return t * softplus(-net) + (1 - t) * softplus(net)
    if error == "categorical_cross_entropy" and activation == "softmax" and log_out is not None:
        return -t * log_out
    return None


def stable_error(model: Model, o: str, expr: sp.Expr) -> sp.Expr:
    """E_o in its stable form when there is one (see stable_cross_entropy), else *expr*."""
    net, t = symbol(naming.net(o)), symbol(naming.target(o))
    top, total = softmax_symbols(len(model.spec.layers) - 1)
    stable = stable_cross_entropy(model.spec.error, model.spec.layers[-1].activation, t, net,
                                  net - top - sp.log(total))
    return expr if stable is None else stable


#: Kinds of step kept as named variables; the rest are inlined.
KEPT = ("net", "out", "delta", "grad", "update", "E", "E_total")


@dataclass(frozen=True)
class CompactProgram:
    """Forward, error and backward assignments of one sample, named quantities kept."""

    forward: tuple[tuple[sp.Symbol, sp.Expr], ...]
    error: tuple[tuple[sp.Symbol, sp.Expr], ...]
    backward: tuple[tuple[sp.Symbol, sp.Expr], ...]


@functools.lru_cache(maxsize=16)
def compact_program(model: Model, steps: tuple, evaluate: bool = True) -> CompactProgram:
    """Turn the per-sample steps into (forward, error, backward) assignments; chain factors inlined.

    With *evaluate* the steps are brought to SymPy's canonical form first (for the readable
    gradient module); without, they stay as written (for the training loop, where that form
    would cost more than all the rest for a large network).  Cached per derivation.
    """
    from .derive import Kind  # the step kinds live beside the steps

    forward, error, backward = [], [], []
    inline: dict[sp.Symbol, sp.Expr] = {}
    last = len(model.spec.layers) - 1
    for step in steps:
        sym = symbol(step.name)
        if step.kind == Kind.GRAD and step.neuron is not None and not (
                step.layer == last and model.softmax_output):
            # dE/dout * dout/dnet is delta by definition: reuse the named delta.
            dnet = symbol(naming.d(naming.net(step.neuron), step.param))
            expr = sp.Mul(symbol(naming.delta(step.neuron)), inline[dnet], evaluate=evaluate)
        else:
            expr = (step.rhs.doit() if evaluate else step.rhs).xreplace(inline)
        if step.kind not in KEPT:
            inline[sym] = expr
            continue
        if step.section == "forward":
            forward.append((sym, expr))
        elif step.section == "error":
            error.append((sym, stable_error(model, step.neuron, expr) if step.kind == Kind.E else expr))
        else:
            if step.kind == Kind.DELTA:
                expr = cancel_division(expr)
            backward.append((sym, expr))
    wanted = {symbol(naming.d(naming.E_TOTAL, p)) for p in model.spec.parameters}
    return CompactProgram(tuple(stable_forward(model, forward)), tuple(error), tuple(_live(backward, wanted)))


def _live(pairs: list, wanted: set) -> list:
    """Drop assignments nothing wanted depends on (the updates, unless hidden deltas use them)."""
    needed = set(wanted)
    kept = []
    for sym, expr in reversed(pairs):
        if sym in needed:
            kept.append((sym, expr))
            needed |= expr.free_symbols
    return kept[::-1]


def ordered_cse(pairs: Sequence[tuple[sp.Symbol, sp.Expr]], prefix: str) -> Pairs:
    """Factor shared subexpressions out of assignments, each placed just before its first use.

    SymPy's ``CodeBlock.cse`` gives the same assignments in the same order (checked on the
    built-in examples and the property tests), but it first checks for duplicate targets with
    ``lhs in left_hand_sides[:i]``, quadratic in the number of assignments: 0.48 s instead of
    0.07 s for the 456 backward assignments of a 4-16-16-4 network, about half a minute for
    4,000 parameters.  So this places SymPy's ``cse`` results itself, in one pass.
    """
    if not pairs:
        return []
    temps = sp.numbered_symbols(prefix)
    replacements, reduced = sp.cse([e for _, e in pairs], symbols=temps, order="none")
    pending = dict(replacements)
    placed: set = set()
    out: Pairs = []

    def place(expr: sp.Expr) -> None:
        for sym in sorted(expr.free_symbols & set(pending), key=lambda s: int(s.name[len(prefix):])):
            if sym not in placed:
                place(pending[sym])
                placed.add(sym)
                out.append((sym, pending[sym]))

    for (target, _), expr in zip(pairs, reduced):
        place(expr)
        out.append((target, expr))
    return out


# -- kinks in float64 -----------------------------------------------------------

#: A float64 net input of a ReLU or leaky ReLU neuron within this fraction of the sum of its terms'
#: sizes (|w1 x1| + |w2 x2| + |b|) is rounding error around 0: it is taken as exactly 0, the kink,
#: where the derivative is the documented convention.  Decimals that cancel exactly
#: (0.4 + 0.2 - 0.6) leave at most a few units of 2^-53 of that sum in float64, and the shadow
#: run's moves of 2^-50 per parameter about 2^-50 of it; 2^-46 (1.4e-14) leaves a margin of 16
#: over the latter and is below what float64 can tell from 0 after a sum of rounded terms.
KINK_TOLERANCE = 2.0 ** -46


def kink_scales(model: Model) -> dict[sp.Symbol, sp.Expr]:
    """For each net input of a ReLU or leaky ReLU neuron, the sum of its terms' sizes."""
    out = {}
    for k, layer in enumerate(model.spec.layers):
        if k == 0 or layer.activation not in ("relu", "leaky_relu"):
            continue
        for n in layer.neurons:
            terms = sp.Add.make_args(model.net_definition(n))
            out[symbol(naming.net(n))] = sp.Add(*[sp.Abs(t) for t in terms])
    return out


def kink_line(net: str, scale: str) -> str:
    """Python that sets a float net input within rounding error of 0 to exactly 0."""
    return f"{net} = 0.0 if abs({net}) <= {KINK_TOLERANCE!r} * ({scale}) else {net}"


# -- float64 training --------------------------------------------------------

#: Relative size of the perturbation the shadow run gives every parameter after each update:
#: 2^-50, four to eight times the rounding error of storing the parameter in float64.
SHADOW_KICK = 2.0 ** -50


class _Code(FastCode):
    """Float code in which each sample's quantities get their own names (net_h1__s1: a double
    underscore, which no user's name can contain), and the
    logistic function of a variable is inlined (a call per neuron per update is most of a
    small network's training time), stable both ways."""

    def __init__(self, rename: dict[str, str]):
        super().__init__("float", lambda sym: rename.get(sym.name) or naming.ident(sym.name))

    def __call__(self, expr) -> str:
        if isinstance(expr, sigmoid) and expr.args[0].is_Symbol:
            v = self(expr.args[0])
            return f"(1.0 / (1.0 + _exp(-{v})) if {v} >= 0.0 else (_z := _exp({v})) / (1.0 + _z))"
        return super().__call__(expr)


@dataclass
class FloatTrainer:
    """A compiled float64 training loop over a spec's samples.

    ``run(state, u0, n, errors)`` performs updates u0 .. u0+n-1 from the parameter tuple
    *state*, appends E_total before each update to *errors*, and returns the new state;
    ``error(state)`` is E_total at *state*.  ``shadow(state, u0, n, errors, random)`` is the
    same loop with every trainable parameter multiplied by 1 + 2^-50 (2 random() - 1) after
    each update, and its inputs, targets and learning rate each moved once by as much.
    """

    parameters: tuple[str, ...]
    run: Callable
    shadow: Callable
    error: Callable
    source: str


def float_trainer(model: Model, steps: Sequence) -> FloatTrainer:
    """Compile the spec's training loop (forward, error, backward, update) into float64 Python."""
    spec = model.spec
    program = compact_program(model, tuple(steps), evaluate=False)
    # No cse here: the named quantities (net, out, delta) already share the work, and cse of a
    # large network costs more than the little it would save in training.
    forward, error, backward = list(program.forward), list(program.error), list(program.backward)
    params = list(spec.parameters)
    pid = {p: naming.ident(p) for p in params}
    n = len(spec.samples)
    order = [tuple(range(i, i + spec.training.batch_size)) for i in range(0, n, spec.training.batch_size)]
    mean = spec.training.reduction == "mean"
    trainable = set(spec.trainable)
    assigned = {s.name for s, _ in forward + error + backward}

    def moved(value: float, key: str) -> float:
        # the shadow run's inputs, targets and learning rate: each moved by up to 2^-50 of itself
        return value * (1 + SHADOW_KICK * (2 * random.Random(key).random() - 1))

    def printer(s: int, shadow: bool) -> _Code:
        sample = spec.samples[s]
        rename = {name: f"{naming.ident(name)}__s{s + 1}" for name in assigned}
        consts = {n_: v for n_, v in sample.inputs}
        consts.update({naming.target(o): v for o, v in sample.targets})
        rename.update({name: f"({moved(float(v), f'{s}:{name}') if shadow else float(v)!r})"
                       for name, v in consts.items()})
        rename["eta"] = "_eta_shadow" if shadow else "_eta"
        return _Code(rename)

    kinks = kink_scales(model)

    def block(pairs: Pairs, s: int, indent: str, shadow: bool = False) -> list[str]:
        p = printer(s, shadow)
        lines = []
        for sym, expr in pairs:
            lines.append(f"{indent}{p(sym)} = {p(expr)}")
            if sym in kinks:
                lines.append(indent + kink_line(p(sym), p(kinks[sym])))
        return lines

    def total(names: list[str]) -> str:
        text = " + ".join(names)
        return f"({text}) / {len(names)}.0" if mean and len(names) > 1 else text

    state = ", ".join(pid[p] for p in params) + ("," if len(params) == 1 else "")
    lines = ["def _error(_state):", f"    {state} = _state", "    _exp = math.exp"]
    for s in range(n):
        lines += block(forward + error, s, "    ")
    lines.append(f"    return {total([f'E_total__s{s + 1}' for s in range(n)])}")

    for name, kick in (("_run", False), ("_shadow", True)):
        lines += [f"def {name}(_state, _u0, _count, _errors, _random=None):", f"    {state} = _state",
                  "    _append = _errors.append", "    _exp = math.exp"]
        lines.append("    for _u in range(_u0, _u0 + _count):")
        for s in range(n):
            lines += block(forward + error, s, "        ", kick)
        lines.append(f"        _append({total([f'E_total__s{s + 1}' for s in range(n)])})")
        if len(order) > 1:
            lines.append(f"        _b = _u % {len(order)}")
        for b, batch in enumerate(order):
            indent = "        "
            if len(order) > 1:
                lines.append(f"        {'if' if b == 0 else 'elif'} _b == {b}:")
                indent = "            "
            for s in batch:
                lines += block(backward, s, indent, kick)
            updates = []
            for p in params:
                if p not in trainable:
                    continue
                grads = [f"{naming.ident(naming.d(naming.E_TOTAL, p))}__s{s + 1}" for s in batch]
                grad = " + ".join(grads)
                if mean and len(grads) > 1:
                    grad = f"({grad}) / {len(grads)}.0"
                elif len(grads) > 1:
                    grad = f"({grad})"
                updates.append(f"{pid[p]} - {'_eta_shadow' if kick else '_eta'} * {grad}")
            trained = [pid[p] for p in params if p in trainable]
            if trained:
                lines.append(f"{indent}{', '.join(trained)}{',' if len(trained) == 1 else ''} = "
                             f"{', '.join(updates)}{',' if len(trained) == 1 else ''}")
            if kick:
                for p in params:
                    if p in trainable:
                        lines.append(f"{indent}{pid[p]} *= 1.0 + _kick * (2.0 * _random() - 1.0)")
        lines.append(f"    return ({state})")
    source = "\n".join(lines) + "\n"
    namespace = {"math": math, "_sigmoid": float_sigmoid, "_softplus": float_softplus,
                 "_eta": float(spec.training.learning_rate), "_kick": SHADOW_KICK,
                 "_eta_shadow": moved(float(spec.training.learning_rate), "eta")}
    exec(compile(source, "<stepgrad training>", "exec"), namespace)  # noqa: S102 - our own printed code
    return FloatTrainer(tuple(params), namespace["_run"], namespace["_shadow"], namespace["_error"], source)
