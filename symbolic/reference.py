"""Compare a source's printed figures with stepgrad's, and find which variant reproduces each.

The post's closing figures do not all follow from the method its text
describes.  Two variations explain them: whether the hidden layer's deltas use
the output layer's weights before or after their update
(``hidden_deltas``), and whether "after N rounds" means after N updates or in
the N-th forward pass (``count_rounds``).  This module reads every combination
from the spec's own derivation and training and the other ``hidden_deltas``
variant's (each derived and trained once, by :mod:`codegen.pipeline`), and
reports, for each printed figure, which ones agree with it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import mpmath
import sympy as sp

from . import naming
from .derive import Derivation, Trajectory, format_value
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
    return naming.split_after(name)


def rounds(spec: Spec) -> tuple[int, ...]:
    """The rounds the reference figures name (E_total@10000 names round 10000), ascending."""
    return tuple(sorted({n for n in (split_name(k)[1] for k, _ in spec.reference) if n is not None}))


def needed_snapshots(spec: Spec) -> tuple[int, ...]:
    """The update counts whose snapshots the comparison reads: N and N - 1 for each round N
    (after N updates, or in the N-th forward pass)."""
    return tuple(sorted({r for n in rounds(spec) for r in (n, n - 1) if r >= 0}))


def other_variant(spec: Spec) -> Spec | None:
    """The spec under the other way of computing hidden deltas, when the comparison needs it.

    Only online training (one sample per update) has the 'updated' variant.
    """
    if not spec.reference or spec.training.batch_size != 1:
        return None
    other = "updated" if spec.training.hidden_deltas == "original" else "original"
    return spec.with_training(hidden_deltas=other)


def compare(derivation: Derivation, trajectory: Trajectory | None,
            variant: tuple[Derivation, Trajectory | None] | None = None) -> tuple[Comparison, ...]:
    """Compare every reference figure of the spec with stepgrad's values under each variant.

    *derivation* and *trajectory* are the spec's own (the trajectory holding the snapshots
    of :func:`needed_snapshots`); *variant* is the derivation and trajectory of
    :func:`other_variant`, computed once by the caller, or None when there is none.
    """
    spec = derivation.spec
    if not spec.reference:
        return ()
    own = spec.training.hidden_deltas
    first_step = {own: derivation.values}
    trajectories: dict[str, Trajectory] = {own: trajectory} if trajectory is not None else {}
    if variant is not None:
        other_derivation, other_trajectory = variant
        hidden = other_derivation.spec.training.hidden_deltas
        first_step[hidden] = other_derivation.values
        if other_trajectory is not None:
            trajectories[hidden] = other_trajectory

    def value_of(name: str, hidden: str, count: str):
        base, n = split_name(name)
        if n is None:
            table = first_step.get(hidden)
            if table is None:
                return None
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
        mine = value_of(name, own, spec.training.count_rounds)
        ok = agrees(mine, printed)
        rounded = None
        if not ok and split_name(name)[1] is None:
            rounded = from_rounded_inputs(derivation, name)
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
