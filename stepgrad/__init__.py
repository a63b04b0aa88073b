"""stepgrad: derive, explain and check backpropagation, step by step, with every number proven.

The repository keeps its two packages at the top (``symbolic/`` derives and checks,
``codegen/`` renders and runs the command line); installed, they live under this
namespace as :mod:`stepgrad.symbolic` and :mod:`stepgrad.codegen`, so that no import
name collides with another distribution's.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("stepgrad")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
    __version__ = "0+unknown"
