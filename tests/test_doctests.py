"""Every docstring example in stepgrad's modules runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import stepgrad
import stepgrad.codegen
import stepgrad.symbolic

#: Modules that run something when imported (python -m stepgrad).
SKIP = {"stepgrad.__main__"}


def _modules() -> list[str]:
    # stepgrad's own modules, then its two packages (installed beside it, not inside its folder).
    names = ["stepgrad"] + [info.name for info in pkgutil.iter_modules(stepgrad.__path__, "stepgrad.")]
    for package in (stepgrad.symbolic, stepgrad.codegen):
        names.append(package.__name__)
        names += [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return sorted(name for name in names if name not in SKIP)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    """The module's doctests pass (a module without examples passes trivially)."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found():
    """The collection is not empty: the modules with examples are among those collected."""
    names = _modules()
    assert "stepgrad.symbolic.limits" in names and "stepgrad.codegen.escape" in names
    attempted = sum(doctest.testmod(importlib.import_module(n)).attempted for n in ("stepgrad.symbolic.limits",))
    assert attempted >= 1
