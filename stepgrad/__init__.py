"""stepgrad: derive, explain and check backpropagation, step by step, with every number proven.

The public API (see :mod:`stepgrad.api` and the README's "Using stepgrad from Python")::

    >>> import stepgrad
    >>> stepgrad.derive("mazur").shown["E_total"]
    '0.298371109'

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

#: The public API, imported on first use: ``python -m stepgrad`` starts without loading SymPy
#: before the command line's interrupt handlers are in place.
__all__ = ["SpecError", "TexError", "DerivationError", "FrozenMap", "Network", "Step", "Derivation", "Training",
           "Verdict", "CheckResult", "ExerciseVariant", "ExerciseSet", "Marks", "ShortSeedWarning", "load",
           "configure", "derive", "render", "gradient_module", "train", "check", "exercise", "__version__"]


def __getattr__(name: str):
    if name in __all__ and name != "__version__":
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'stepgrad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
