"""codegen.pipeline: each stage consumes the one result of the stage before, once."""

from __future__ import annotations

import ast
import collections
import inspect

import pytest

from stepgrad.codegen import npmodule, pipeline, pymodule
from stepgrad.symbolic import derive as derive_mod
from stepgrad.symbolic import program, reference
from stepgrad.symbolic.model import Model
from stepgrad.symbolic.spec import load


@pytest.fixture
def calls(monkeypatch):
    """Count derivations, verifications and trainings the pipeline starts (caches cleared)."""
    pipeline.verified.cache_clear()
    counts: collections.Counter = collections.Counter()

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pipeline, "derive", counting("derive", pipeline.derive))
    monkeypatch.setattr(pipeline, "verify", counting("verify", pipeline.verify))
    monkeypatch.setattr(pipeline, "train", counting("train", pipeline.train))
    yield counts
    pipeline.verified.cache_clear()


def test_the_post_is_derived_verified_and_trained_once_per_variant(calls):
    """The worked example derives and verifies the spec once and the other variant of the post's
    closing figures once, trains each once; the module and the values after it reuse the result."""
    spec = load("mazur")
    worked = pipeline.worked_example(spec, "mazur")
    assert calls == {"derive": 2, "verify": 2, "train": 2}
    pipeline.module(spec, "mazur")
    pipeline.values(spec, None)
    assert calls["derive"] == 2 and calls["verify"] == 2
    assert worked.trajectory.precision == "float"
    assert "float64" in worked.trajectory.check.method
    # the document's table of checks states how training's digits were proven
    assert "second float64 run" in worked.markdown and "second float64 run" in worked.tex


def test_a_spec_without_figures_trains_no_variant(calls):
    spec = load("softmax_batch").with_training(steps=20)
    pipeline.worked_example(spec, "softmax_batch")
    assert calls == {"derive": 1, "verify": 1, "train": 1}


def test_the_same_spec_gives_the_same_bytes(calls):
    """Training's perturbed run is seeded: two fresh runs give identical documents."""
    spec = load("mazur").with_training(steps=500)
    first = pipeline.worked_example(spec, "mazur").markdown
    pipeline.verified.cache_clear()
    program.compact_program.cache_clear()
    derive_mod._TRAINERS.clear()
    assert pipeline.worked_example(spec, "mazur").markdown == first


def _called_names(module) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))}


@pytest.mark.parametrize("module", [reference, pymodule, npmodule])
def test_consumers_never_rebuild_the_derivation(module):
    """reference.compare and the module generators take results; none derives, trains or builds steps."""
    called = _called_names(module)
    assert not called & {"derive", "train", "backward_steps", "verify", "Program"}, module.__name__


def test_the_numpy_module_starts_from_the_model():
    spec = load("mazur")
    assert npmodule.generate(Model(spec), "mazur") == pipeline.module(spec, "mazur", "numpy")


def test_progress_shows_every_few_seconds_when_stderr_is_not_a_terminal(monkeypatch):
    """Without a terminal (a log, CI), long work still reports, every LOG_INTERVAL_S seconds."""
    import io

    from stepgrad.codegen import progress

    monkeypatch.delenv("STEPGRAD_PROGRESS", raising=False)
    now = [0.0]
    log = io.StringIO()  # not a terminal
    with progress.progress("training", 1000, log, clock=lambda: now[0]) as tick:
        for k in range(1, 1001):
            now[0] += 0.02  # 20 s in all
            tick(k)
    lines = log.getvalue().splitlines()
    assert 3 <= len(lines) <= 4 and all(line.startswith("stepgrad: training ") for line in lines)
    assert "\r" not in log.getvalue()
