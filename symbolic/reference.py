"""Compare a source's printed figures with stepgrad's, and find which variant reproduces each.

The post's closing figures do not all follow from the method its text
describes.  Two variations explain them: whether the hidden layer's deltas use
the output layer's weights before or after their update
(``hidden_deltas``), and whether "after N rounds" means after N updates or in
the N-th forward pass (``count_rounds``).  This module runs every combination
and reports, for each printed figure, which ones agree with it.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import mpmath

import sympy as sp

from .derive import Trajectory, derive, format_value, train
from .spec import Spec, SpecError

VARIANTS = tuple(itertools.product(("original", "updated"), ("updates", "forward_passes")))


@dataclass(frozen=True)
class Comparison:
    """One printed figure against stepgrad's value under each variant."""

    name: str
    printed: str
    #: stepgrad's value by the spec's own method.
    value: mpmath.mpf
    agrees: bool
    #: (hidden_deltas, count_rounds, value, agrees) for every variant.
    variants: tuple[tuple[str, str, mpmath.mpf, bool], ...]
    #: The step's formula evaluated from its inputs rounded as printed, when that
    #: reproduces a figure the exact value does not.
    from_rounded: mpmath.mpf | None = None

    @property
    def matching(self) -> tuple[tuple[str, str], ...]:
        return tuple((h, c) for h, c, _, ok in self.variants if ok)


def agrees(value, printed: str) -> bool:
    """Whether *value* is within half a unit of *printed*'s last decimal (either way at a tie)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    with mpmath.workdps(60):
        half = mpmath.mpf(10) ** (-decimals) / 2
        return abs(mpmath.mpf(value) - mpmath.mpf(printed)) <= half * (1 + mpmath.mpf(10) ** -40)


def split_name(name: str) -> tuple[str, int | None]:
    """Split 'E_total@10000' into ('E_total', 10000); a plain name gives (name, None)."""
    m = re.fullmatch(r"(.+)@(\d+)", name)
    return (m.group(1), int(m.group(2))) if m else (name, None)


@functools.lru_cache(maxsize=8)
def compare(spec: Spec) -> tuple[Comparison, ...]:
    """Compare every reference figure of *spec* with stepgrad's values under each variant.

    Cached: the same spec (a frozen value) always gives the same comparisons.
    """
    if not spec.reference:
        return ()
    rounds = sorted({n for _, n in (split_name(k) for k, _ in spec.reference) if n is not None})
    derivations = {h: derive(spec.with_training(hidden_deltas=h)) for h in ("original", "updated")}
    first_step = {h: d.values for h, d in derivations.items()}
    trajectories: dict[str, Trajectory] = {}
    if rounds and spec.training.batch_size == 1:
        needed = tuple(sorted({r for n in rounds for r in (n, n - 1) if r >= 0}))
        for h in ("original", "updated"):
            trajectories[h] = train(spec.with_training(hidden_deltas=h), max(rounds), needed)
    elif rounds:
        trajectories["original"] = train(spec, max(rounds), tuple(sorted({r for n in rounds for r in (n, n - 1) if r >= 0})))

    def value_of(name: str, hidden: str, count: str):
        base, n = split_name(name)
        if n is None:
            table = first_step[hidden]
            if base not in table:
                raise SpecError(f"reference.figures: {name!r} is not a quantity stepgrad computes")
            return table[base]
        if hidden not in trajectories:
            return None
        updates = n - 1 if count == "forward_passes" else n
        snapshot = trajectories[hidden].snapshots.get(updates)
        if snapshot is None or base not in snapshot:
            raise SpecError(f"reference.figures: {name!r} is not a quantity stepgrad computes after updates")
        return snapshot[base]

    rows = []
    for name, printed in spec.reference:
        variants = []
        for hidden, count in VARIANTS:
            v = value_of(name, hidden, count)
            if v is not None:
                variants.append((hidden, count, v, agrees(v, printed)))
        mine = value_of(name, spec.training.hidden_deltas, spec.training.count_rounds)
        ok = agrees(mine, printed)
        rounded = None
        if not ok and split_name(name)[1] is None:
            rounded = from_rounded_inputs(derivations[spec.training.hidden_deltas], name)
            if rounded is not None and not agrees(rounded, printed):
                rounded = None
        rows.append(Comparison(name, printed, mine, ok, tuple(variants), rounded))
    return tuple(rows)


def from_rounded_inputs(derivation, name: str):
    """Evaluate the step defining *name* from its inputs rounded as the document prints them."""
    step = next((s for s in derivation.steps if s.name == name), None)
    if step is None:
        return None
    expr = step.rhs.doit()
    with mpmath.workdps(60):
        env = {}
        for sym in expr.free_symbols:
            value = derivation.values.get(sym.name)
            if value is None:
                return None
            env[sym] = mpmath.mpf(format_value(value))
        return mpmath.mpf(str(expr.xreplace({k: sp.Float(str(v), 60) for k, v in env.items()}).evalf(60)))
