"""Generate a straight-line, dependency-free Python gradient module from a derivation.

The module's code is the derivation's own chain-rule steps: the named
quantities the post names (``net_h1``, ``out_h1``, ``delta_o1``) stay variables,
the factors in between are inlined, and SymPy's ``cse`` factors out work that
is shared.  Nothing is differentiated here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symbolic import naming
from symbolic.derive import Derivation, backward_steps
from symbolic.functions import softplus
from symbolic.model import ETA, symbol

from .printers import exact_decimal, python
from .render import render_template, source_line

#: Kinds of step kept as named variables; the rest are inlined.
KEPT = ("net", "out", "delta", "grad", "update")


@dataclass(frozen=True)
class Assignment:
    """One line of generated code."""

    target: str
    expr: str


@dataclass(frozen=True)
class Section:
    """Straight-line code and the operations it costs."""

    lines: tuple[Assignment, ...]
    ops: int


def _simplify(expr: sp.Expr) -> sp.Expr:
    """Cancel the division an error's derivative brings (cross-entropy), so saturated outputs stay finite."""
    if any(p.exp.is_negative for p in expr.atoms(sp.Pow)):
        return sp.factor_terms(sp.cancel(expr))
    return expr


def _ordered_cse(pairs: list[tuple[sp.Symbol, sp.Expr]], prefix: str) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Factor shared subexpressions out of assignments, each placed just before its first use."""
    if not pairs:
        return []
    temps = sp.numbered_symbols(prefix)
    replacements, reduced = sp.cse([e for _, e in pairs], symbols=temps, order="none")
    pending = dict(replacements)
    placed: set = set()
    out: list[tuple[sp.Symbol, sp.Expr]] = []

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


def _section(pairs: list[tuple[sp.Symbol, sp.Expr]]) -> Section:
    return Section(tuple(Assignment(naming.ident(s.name), python(e)) for s, e in pairs),
                   int(sum(sp.count_ops(e) for _, e in pairs)))


def _stable_forward(model, forward: list) -> list:
    """Rewrite softmax as exp(net - max) / sum, so large net inputs cannot overflow."""
    out = []
    for k, layer in enumerate(model.spec.layers):
        if k == 0:
            continue
        names = {symbol(naming.net(n)) for n in layer.neurons} | {symbol(naming.out(n)) for n in layer.neurons}
        mine = [(s, e) for s, e in forward if s in names]
        if layer.activation != "softmax":
            out += mine
            continue
        nets = [symbol(naming.net(n)) for n in layer.neurons]
        top, total = _softmax_symbols(k)
        out += [(s, e) for s, e in mine if s in set(nets)]
        out.append((top, sp.Max(*nets)))
        out.append((total, sp.Add(*[sp.exp(n - top) for n in nets])))
        out += [(symbol(naming.out(n)), sp.exp(symbol(naming.net(n)) - top) / total) for n in layer.neurons]
    return out


def _softmax_symbols(layer: int) -> tuple[sp.Symbol, sp.Symbol]:
    return symbol(f"_max_{layer}"), symbol(f"_sum_{layer}")


def _stable_error(model, o: str, expr: sp.Expr) -> sp.Expr:
    """Write cross-entropies from the net input, so saturated outputs never take log(0)."""
    net, t = symbol(naming.net(o)), symbol(naming.target(o))
    last = model.spec.layers[-1].activation
    if model.spec.error == "binary_cross_entropy" and last == "sigmoid":
        # -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)) = t softplus(-x) + (1 - t) softplus(x)
        return t * softplus(-net) + (1 - t) * softplus(net)
    if model.spec.error == "categorical_cross_entropy" and last == "softmax":
        top, total = _softmax_symbols(len(model.spec.layers) - 1)
        # -t log(softmax(x)_o) = -t (x_o - max - log(sum of exp(x - max)))
        return -t * (net - top - sp.log(total))
    return expr


def compact_program(derivation: Derivation) -> tuple[list, list, list]:
    """Return (forward, error, backward) assignments: named quantities kept, chain factors inlined."""
    model = derivation.model
    forward, error, backward = [], [], []
    inline: dict[sp.Symbol, sp.Expr] = {}
    for step in backward_steps(model):
        sym = symbol(step.name)
        if step.kind == "grad" and step.neuron is not None and not (
                step.layer == len(model.spec.layers) - 1 and model.softmax_output):
            # dE/dout * dout/dnet is delta by definition: reuse the named delta.
            dnet = symbol(naming.d(naming.net(step.neuron), step.note))
            expr = symbol(naming.delta(step.neuron)) * inline[dnet]
        else:
            expr = step.rhs.doit().xreplace(inline)
        if step.kind not in KEPT and step.kind not in ("E", "E_total"):
            inline[sym] = expr
            continue
        if step.section == "forward":
            forward.append((sym, expr))
        elif step.section == "error":
            error.append((sym, _stable_error(model, step.neuron, expr) if step.kind == "E" else expr))
        else:
            if step.kind == "delta":
                expr = _simplify(expr)
            backward.append((sym, expr))
    return _stable_forward(model, forward), error, _live(backward, {symbol(naming.d(naming.E_TOTAL, p)) for p in model.spec.parameters})


def _live(pairs: list, wanted: set) -> list:
    """Drop assignments nothing wanted depends on (the updates, unless hidden deltas use them)."""
    needed = set(wanted)
    kept = []
    for sym, expr in reversed(pairs):
        if sym in needed:
            kept.append((sym, expr))
            needed |= expr.free_symbols
    return kept[::-1]


@dataclass(frozen=True)
class Module:
    """Everything the module template lays out."""

    text: str
    forward_ops: int
    gradient_ops: int


def generate(derivation: Derivation, source: str) -> Module:
    """Generate the gradient module's source for a derivation.

    *source* names the spec in the header (a built-in name or the path as given).
    """
    spec = derivation.spec
    forward, error, backward = compact_program(derivation)
    fwd = _section(_ordered_cse(forward, "_f"))
    err = _section(_ordered_cse(error, "_e"))
    bwd = _section(_ordered_cse(backward, "_g"))
    uses_eta = any(ETA in e.free_symbols for _, e in backward)
    trainable = set(spec.trainable)
    text = render_template(
        "gradients.py.j2",
        header=source_line(spec, source),
        title=spec.title,
        parameters=[(p, naming.ident(p)) for p in spec.parameters],
        trainable=[p for p in spec.parameters if p in trainable],
        frozen=[p for p in spec.parameters if p not in trainable],
        inputs=[(n, naming.ident(n)) for n in spec.inputs],
        targets=[(n, naming.ident(naming.target(n))) for n in spec.outputs],
        forward=fwd.lines,
        forward_names=[(s.name, naming.ident(s.name)) for s, _ in forward if not s.name.startswith("_")],
        error=err.lines,
        backward=bwd.lines,
        gradient_names=[(p, naming.ident(naming.d(naming.E_TOTAL, p))) for p in spec.parameters],
        uses_eta=uses_eta,
        eta=exact_decimal(spec.training.learning_rate) or repr(float(spec.training.learning_rate)),
        reduction=spec.training.reduction,
        hidden_deltas=spec.training.hidden_deltas,
        forward_ops=fwd.ops + err.ops,
        gradient_ops=bwd.ops,
    )
    return Module(text, fwd.ops + err.ops, bwd.ops)
