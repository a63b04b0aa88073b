"""Generate a straight-line, dependency-free Python gradient module from a derivation.

The module's code is the derivation's own chain-rule steps: the named
quantities the post names (``net_h1``, ``out_h1``, ``delta_o1``) stay variables,
the factors in between are inlined, and SymPy's ``cse`` factors out work that
is shared (:mod:`symbolic.program`, whose float64 training loop is the same
program).  Nothing is differentiated here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..symbolic import naming
from ..symbolic.derive import Derivation
from ..symbolic.model import ETA
from ..symbolic.program import compact_program, kink_line, kink_scales, ordered_cse

from .printers import exact_decimal, python
from .render import render_template, source_line


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


def _section(pairs: list[tuple[sp.Symbol, sp.Expr]]) -> Section:
    return Section(tuple(Assignment(naming.ident(s.name), python(e)) for s, e in pairs),
                   int(sum(sp.count_ops(e) for _, e in pairs)))


def _kinked(section: Section, scales: dict) -> Section:
    """After each ReLU or leaky ReLU net input, a line that makes one within rounding error of 0
    exactly 0 (the kink, where the derivative takes its documented convention), as training does."""
    if not scales:
        return section
    by_name = {naming.ident(s.name): python(scale) for s, scale in scales.items()}
    lines = []
    for line in section.lines:
        lines.append(line)
        if line.target in by_name:
            target = line.target
            lines.append(Assignment(target, kink_line(target, by_name[target]).split(" = ", 1)[1]))
    return Section(tuple(lines), section.ops)


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
    program = compact_program(derivation.model, derivation.sample_steps)
    forward, error, backward = program.forward, program.error, program.backward
    fwd = _kinked(_section(ordered_cse(forward, "_f")), kink_scales(derivation.model))
    err = _section(ordered_cse(error, "_e"))
    bwd = _section(ordered_cse(backward, "_g"))
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
        forward_names=[(s.name, naming.ident(s.name)) for s, _ in forward if not naming.is_helper(s.name)],
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
