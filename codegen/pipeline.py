"""From a spec to finished artifacts in memory, one stage at a time.

    spec -> model -> derivation (verified once) -> training -> comparison -> renderers

Each stage takes the one result of the stage before and nothing else: the
derivation is built and verified once per spec and command (:func:`verified`),
training consumes that derivation, the comparison with a source's printed figures
consumes the derivation and the trajectory, and the renderers (the worked
example, the gradient modules, the values table) consume those results.  Nothing
here touches the file system; :mod:`codegen.files` writes what this returns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..symbolic import naming, reference
from ..symbolic.derive import Derivation, Trajectory, at_round, derive, train
from ..symbolic.model import Model
from ..symbolic.spec import Spec
from ..symbolic.verify import Check, verify

from . import document, formats, npmodule, pymodule
from .progress import progress
from .render import source_line


@dataclass(frozen=True)
class Verified:
    """A derivation and the checks that verified it."""

    derivation: Derivation
    checks: tuple[Check, ...]

    @property
    def spec(self) -> Spec:
        return self.derivation.spec


@dataclass(frozen=True)
class WorkedExample:
    """The worked example's document, the results behind it, and its LaTeX and Markdown
    (each rendered when first asked for: ``derive --format md`` never renders the LaTeX)."""

    derivation: Derivation
    document: document.Document
    trajectory: Trajectory
    checks: tuple[Check, ...] = ()
    comparisons: tuple[reference.Comparison, ...] = ()

    @functools.cached_property
    def tex(self) -> str:
        return formats.to_latex(self.document)

    @functools.cached_property
    def markdown(self) -> str:
        return formats.to_markdown(self.document)


@functools.lru_cache(maxsize=8)
def verified(spec: Spec) -> Verified:
    """Derive and verify: a disagreement raises instead of returning.

    Cached per spec (a frozen value), since the worked example, the module and the values
    of one command all start from it.
    """
    d = derive(spec)
    return Verified(d, verify(d))


def derivation(spec: Spec) -> Derivation:
    """The spec's verified derivation."""
    return verified(spec).derivation


def training(stage: Verified, steps: int, snapshots: tuple[int, ...]) -> Trajectory:
    """Train from the verified derivation, with progress on stderr for long runs."""
    with progress(f"training {stage.spec.name}", steps) as tick:
        return train(stage.derivation, steps, snapshots=snapshots, tick=tick)


def comparisons(stage: Verified, trajectory: Trajectory) -> tuple[reference.Comparison, ...]:
    """Compare the source's printed figures; the other hidden-deltas variant is derived and
    trained here, once, and only when the spec has figures to compare."""
    other = reference.other_variant(stage.spec)
    variant = None
    if other is not None:
        other_stage = verified(other)
        rounds = reference.rounds(other)
        other_trajectory = (training(other_stage, max(rounds), reference.needed_snapshots(other))
                            if rounds else None)
        variant = (other_stage.derivation, other_trajectory)
    return reference.compare(stage.derivation, trajectory, variant)


def worked_example(spec: Spec, source: str, expand: bool | None = None) -> WorkedExample:
    """Build the worked example's LaTeX and Markdown; *expand* None chooses by size."""
    stage = verified(spec)
    n = spec.training.steps
    rounds = reference.rounds(spec)
    steps = max((n,) + rounds)
    snapshots = tuple(sorted(set(document.checkpoints(n)) | set(reference.needed_snapshots(spec))))
    trajectory = training(stage, steps, snapshots)
    found = comparisons(stage, trajectory) if spec.reference else ()
    if expand is None:
        expand = len(spec.parameters) <= document.FULL_LIMIT
    doc = document.build(document.Inputs(stage.derivation, source, source_line(spec, source), trajectory, n,
                                         trajectory.snapshots[1], list(found), expand, stage.checks))
    return WorkedExample(stage.derivation, doc, trajectory, stage.checks, tuple(found))


def module(spec: Spec, source: str, form: str = "scalar") -> str:
    """Generate the gradient module's source: the scalar form from the verified derivation,
    the NumPy form from the model alone (it is written per layer, for any size)."""
    if form == "numpy":
        return npmodule.generate(Model(spec), source)
    return pymodule.generate(derivation(spec), source).text


def values(spec: Spec, steps: int | None) -> dict[str, object]:
    """Every canonical quantity of the first update, E_total@1, and with *steps* the state after
    round *steps*.

    A round is counted the spec's way (``count_rounds``): after n updates, or, with
    "forward_passes", in the n-th forward pass, after n - 1 updates.
    """
    stage = verified(spec)
    d = stage.derivation
    out: dict[str, object] = {}
    for step in d.steps:
        for s in d.batch:
            key = d.value_name(step, s)
            out.setdefault(key, d.values[key])
    wanted = sorted({1} | ({steps} if steps else set()))
    updates = {n: at_round(spec, n) for n in wanted}
    trajectory = training(stage, max(updates.values()), tuple(sorted(set(updates.values()))))
    for n in wanted:
        snap = trajectory.snapshots[updates[n]]
        if n == 1:
            out[naming.after(naming.E_TOTAL, 1)] = snap[naming.E_TOTAL]
            continue
        for name, value in snap.items():
            out[naming.after(name, n)] = value
    return out
