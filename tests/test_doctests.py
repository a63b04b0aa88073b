"""Every docstring example in stepgrad's modules runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import codegen
import symbolic

#: Modules that run something when imported (python -m codegen).
SKIP = {"codegen.__main__"}


def _modules() -> list[str]:
    names = []
    for package in (symbolic, codegen):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name not in SKIP:
                names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    """The module's doctests pass (a module without examples passes trivially)."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found():
    """The collection is not empty: the modules with examples are among those collected."""
    names = _modules()
    assert "symbolic.limits" in names and "codegen.escape" in names
    attempted = sum(doctest.testmod(importlib.import_module(n)).attempted for n in ("symbolic.limits",))
    assert attempted >= 1
