"""From a spec to finished artifacts in memory: derive, verify, train, compare, render.

Nothing here touches the file system; :mod:`codegen.files` writes what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolic import reference
from symbolic.derive import Derivation, derive, train
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


def derivation(spec: Spec) -> Derivation:
    """Derive and verify: a disagreement raises instead of returning."""
    d = derive(spec)
    verify(d)
    return d


def worked_example(spec: Spec, source: str, expand: bool | None = None) -> WorkedExample:
    """Build the worked example's LaTeX and Markdown; *expand* None chooses by size."""
    d = derivation(spec)
    n = spec.training.steps
    with progress(f"training {spec.name}", n) as tick:
        trajectory = train(spec, n, snapshots=(1, n), tick=tick)
    comparisons = reference.compare(spec) if spec.reference else []
    if expand is None:
        expand = len(spec.parameters) <= document.FULL_LIMIT
    doc = document.build(document.Inputs(d, source, source_line(spec, source), trajectory, n,
                                         trajectory.snapshots[1], comparisons, expand))
    return WorkedExample(d, formats.to_latex(doc), formats.to_markdown(doc))


def module(spec: Spec, source: str) -> str:
    """Generate the gradient module's source."""
    return pymodule.generate(derivation(spec), source).text
