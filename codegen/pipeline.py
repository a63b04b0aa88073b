"""From a spec to finished artifacts in memory: derive, verify, train, compare, render.

Nothing here touches the file system; :mod:`codegen.files` writes what this returns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from symbolic import reference
from symbolic.derive import Derivation, Trajectory, derive, train
from symbolic.spec import Spec
from symbolic.verify import verify

from . import document, formats, pymodule
from .progress import progress
from .render import source_line


@dataclass(frozen=True)
class WorkedExample:
    """The rendered worked example and the derivation behind it."""

    derivation: Derivation
    tex: str
    markdown: str


@functools.lru_cache(maxsize=8)
def trained(spec: Spec, steps: int) -> Trajectory:
    """Train for the worked example, with progress on a terminal; cached per spec."""
    with progress(f"training {spec.name}", steps) as tick:
        return train(spec, steps, snapshots=(1, steps), tick=tick)


@functools.lru_cache(maxsize=8)
def derivation(spec: Spec) -> Derivation:
    """Derive and verify: a disagreement raises instead of returning. Cached per spec, since
    the worked example, the module and the values of one command all start from it."""
    d = derive(spec)
    verify(d)
    return d


def worked_example(spec: Spec, source: str, expand: bool | None = None) -> WorkedExample:
    """Build the worked example's LaTeX and Markdown; *expand* None chooses by size."""
    d = derivation(spec)
    n = spec.training.steps
    trajectory = trained(spec, n)
    comparisons = list(reference.compare(spec))
    if expand is None:
        expand = len(spec.parameters) <= document.FULL_LIMIT
    doc = document.build(document.Inputs(d, source, source_line(spec, source), trajectory, n,
                                         trajectory.snapshots[1], comparisons, expand))
    return WorkedExample(d, formats.to_latex(doc), formats.to_markdown(doc))


def module(spec: Spec, source: str) -> str:
    """Generate the gradient module's source."""
    return pymodule.generate(derivation(spec), source).text
