"""Shared fixtures: the post's network, derived once per test session."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from stepgrad.codegen import pipeline
from stepgrad.symbolic import spec as spec_mod
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.verify import verify

ROOT = Path(__file__).resolve().parent.parent
BLOG = ROOT.parent / "shared" / "reference" / "mazur-blog.md"


@pytest.fixture(scope="session")
def mazur():
    """The built-in spec of the post's network."""
    return spec_mod.load("mazur")


@pytest.fixture(scope="session")
def mazur_derivation(mazur):
    """The post's derivation, verified."""
    d = derive(mazur)
    verify(d)
    return d


@pytest.fixture(scope="session")
def mazur_worked(mazur):
    """The post's worked example (LaTeX and Markdown), built once."""
    return pipeline.worked_example(mazur, "mazur")


def load_module(text: str, name: str, folder: Path):
    """Write generated module text to *folder* and import it under *name*."""
    path = folder / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules.pop(name, None)
    return module


@pytest.fixture(scope="session")
def mazur_module(mazur, tmp_path_factory):
    """The generated gradient module for the post's network, imported."""
    return load_module(pipeline.module(mazur, "mazur"), "mazur_gradients", tmp_path_factory.mktemp("mod"))


@pytest.fixture(scope="session")
def blog_text():
    """The post's text, when the shared reference folder is beside the repository."""
    if not BLOG.exists():
        pytest.skip("../shared/reference/mazur-blog.md is not beside the repository")
    return BLOG.read_text("utf-8")
