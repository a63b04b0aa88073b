"""The registry of mistakes: one small module each, with a stable code.

A mistake is a function of the network's structure that yields
:class:`~symbolic.check.program.Candidate` changes of the computation (a step's
right-hand side edited, a step's result transformed, a given value read
differently).  Nothing here knows a particular network: every candidate is
generated from the spec's layers, weights, biases, activations, error and
training options.  Adding a mistake is one module here, registered with
:func:`mistake`, and one test.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Callable, Iterable

import sympy as sp
from sympy.printing.str import StrPrinter

from ...derive import format_value
from ...model import symbol
from ..program import Candidate, Evaluator

STRUCTURAL, SUBSTITUTION = 0, 1


@dataclass(frozen=True)
class Mistake:
    """A registered mistake: code, rank (lower is simpler), one line for the README, generator."""

    code: str
    rank: int
    description: str
    generate: Callable[["Context"], Iterable[Candidate]]


REGISTRY: dict[str, Mistake] = {}


def mistake(code: str, rank: int, description: str):
    """Register a generator of candidates under a stable code."""
    def register(fn):
        REGISTRY[code] = Mistake(code, rank, description, fn)
        return fn
    return register


class Context:
    """What a mistake's generator may use: the flat program and words for its quantities."""

    def __init__(self, ev: Evaluator):
        self.ev = ev
        self.spec = ev.spec
        self.flat = ev.flat
        self.weight = {w.name: w for w in self.spec.weights}
        self.bias = {b.name: b for b in self.spec.biases}
        self.last_layer = len(self.spec.layers) - 1

    def value(self, name: str) -> str:
        x = self.ev.base.get(name)
        if x is None:
            return "?"
        if name in self.ev.leaves:
            return f"{x:.12g}"
        return format_value(self.ev.truth.get(name, x))

    def describe(self, p: str) -> str:
        base = p.split("[")[0]
        if base in self.weight:
            w = self.weight[base]
            return f"{p} ({w.src} -> {w.dst})"
        if base in self.bias:
            return f"{p} (the bias of layer {self.bias[base].layer})"
        return p

    def using(self, name: str) -> list[int]:
        return list(self.ev.users.get(name, ()))

    def of_kind(self, *kinds: str):
        for i, f in enumerate(self.flat):
            if f.kind in kinds:
                yield i, f


def all_candidates(ev: Evaluator) -> list[Candidate]:
    """Every candidate of every registered mistake, most plausible first, without duplicates.

    In a batch of several samples, a mistake in one sample's step is also tried in that step of
    every sample: a student who makes it once makes it for each sample.
    """
    ctx = Context(ev)
    out, seen = [], set()
    for m in sorted(REGISTRY.values(), key=lambda m: (m.rank, m.code)):
        for c in m.generate(ctx):
            for variant in (c, _every_sample(ev, c)):
                if variant is not None and variant.key not in seen:
                    seen.add(variant.key)
                    out.append(variant)
    return out


_SAMPLE = re.compile(r"\[(\d+)\]$")


def _resample(expr, frm: int, to: int):
    table = {sym: sp.Symbol(sym.name[: -len(f"[{frm}]")] + f"[{to}]", **sym.assumptions0)
             for sym in expr.free_symbols if sym.name.endswith(f"[{frm}]")}
    return expr.xreplace(table)


def _translated(fn: Callable, mine: int, other: int) -> Callable:
    """A transform written for sample *mine*'s step, applied to the same step of sample *other*."""
    return lambda rhs: _resample(fn(_resample(rhs, other, mine)), mine, other)


def _every_sample(ev: Evaluator, c: Candidate) -> Candidate | None:
    """The candidate applied to the same step of every sample of the batch, or None."""
    if not ev.multi or c.leaves or c.rename:
        return None
    steps = [e[0] for e in c.edits] + [h[0] for h in c.hooks]
    samples = {ev.flat[i].sample for i in steps}
    if len(samples) != 1 or None in samples:
        return None
    (mine,) = samples
    edits, hooks = list(c.edits), list(c.hooks)
    for other in ev.derivation.batch:
        if other == mine:
            continue

        def move(name: str) -> str:
            return _SAMPLE.sub(f"[{other + 1}]", name)

        def at(i: int) -> int | None:
            return ev.index.get(move(ev.flat[i].name))

        for i, order, fn in c.edits:
            j = at(i)
            if j is None:
                return None
            if isinstance(fn, Substitution):
                fn = Substitution({move(a): (move(b) if isinstance(b, str) else b) for a, b in fn.table.items()})
            else:
                fn = _translated(fn, mine + 1, other + 1)
            edits.append((j, order, fn))
        for i, wrap in c.hooks:
            j = at(i)
            if j is None:
                return None
            hooks.append((j, wrap))
    return Candidate(c.code, c.rank, c.message.rstrip(".") + " (in every sample of the batch).",
                     c.key + ":every-sample", tuple(edits), tuple(hooks), (), (), c.pairable)


# -- shared rhs transforms ------------------------------------------------------------

def terms(rhs: sp.Expr) -> tuple[sp.Expr, ...]:
    return rhs.args if isinstance(rhs, sp.Add) else ()


def drop(j: int) -> Callable:
    def fn(rhs):
        kept = [t for k, t in enumerate(terms(rhs)) if k != j]
        return kept[0] if len(kept) == 1 else sp.Add(*kept, evaluate=False)
    return fn


def negate_term(j: int) -> Callable:
    def fn(rhs):
        return sp.Add(*[sp.Mul(-1, t, evaluate=False) if k == j else t for k, t in enumerate(terms(rhs))],
                      evaluate=False)
    return fn


class Substitution:
    """Read other quantities (or numbers) in place of some: a transform of the rhs that needs no
    recompiling, since the step's function can read a changed copy of its inputs instead."""

    def __init__(self, table: dict):
        self.table = dict(table)
        self.mapping = {symbol(a): (symbol(b) if isinstance(b, str) else sp.Integer(b))
                        for a, b in self.table.items()}

    def __call__(self, rhs):
        return rhs.xreplace(self.mapping)


def swap(table: dict) -> Callable:
    return Substitution(table)


def substitute(name: str, value) -> Callable:
    return Substitution({name: value})


def replace_with(expr: sp.Expr) -> Callable:
    return lambda rhs: expr


def constant(value) -> Callable:
    return lambda rhs: sp.Integer(value)


def negate(rhs):
    return sp.Mul(-1, rhs, evaluate=False)


def scale(factor) -> Callable:
    """Wrap a step's float function to multiply its result."""
    return lambda fn: (lambda v: factor * fn(v))


class _Canonical(StrPrinter):
    def _print_Symbol(self, expr):
        return expr.name

    def _print_Piecewise(self, expr):
        parts = [f"{self._print(e)} if {self._print(c)}" for e, c in expr.args[:-1]]
        return "(" + " else ".join(parts + [self._print(expr.args[-1][0])]) + ")"


def expr_text(expr: sp.Expr) -> str:
    """Write a rhs with canonical names, in the order written."""
    return _Canonical({"order": "none"}).doprint(expr)


def _load() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_load()
