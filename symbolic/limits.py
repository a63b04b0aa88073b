"""Refuse, before any work starts, a network too large for what a command was asked to do.

A teaching tool is run on whatever a student has at hand; a fully expanded
worked example for thousands of weights, or 30-digit training of a large
network for a million steps, would run for an hour and then produce a
document nobody can read.  :func:`check_size` compares a cheap estimate of the
work with a documented budget and raises :class:`SpecError` saying why and
what to do instead.

The budgets were measured on one core (CPython 3.11, SymPy 1.12, mpmath):

* training (``symbolic.derive.train``, 30 digits) costs about 20 µs per
  parameter per sample per step (mazur, 10 parameters: 0.22 ms a step;
  a 16-32-16 network, 1072 parameters: 22 ms a step);
* the derivation and its verification cost about 1 s per 1000 parameters
  (4192 parameters: derive 3.7 s, verify 0.5 s); the gradient module 2.3 s
  per 1000 parameters;
* checking answers grows much faster than linearly (see MAX_CHECK_PARAMETERS);
* the fully expanded worked example costs about 3.5 s and 850 kB of LaTeX per
  1000 parameters before TeX runs (8-16-8, 280 parameters: 1.2 s, 230 kB).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .derive import training_precision
from .spec import Spec, SpecError

#: At most this many parameters for any command (derivation, verification, module: about 15 s).
MAX_PARAMETERS = 5000
#: The fully expanded worked example (every step of every weight written out, for every
#: sample of the first batch) up to this many parameter-samples: about 80 pages of PDF.
MAX_EXPANDED = 300
#: Training at 30 digits: parameters x samples x steps, about 100 s at 20 µs each.
TRAIN_BUDGET = 5_000_000
#: Microseconds per parameter-sample-step at 30 digits, and in float64 (which training
#: switches to for large runs, see symbolic.derive.training_precision).
TRAIN_US = 20
TRAIN_US_FLOAT = 2
#: The checker's mistake search tries every single mistake and pairs of them: with three wrong
#: answers a 4-8-4 network (76 parameters) takes 9 s, an 8-16-8 one (280) more than 5 minutes.
MAX_CHECK_PARAMETERS = 100
COMMANDS = ("example", "derive", "module", "values", "check")


def _option(options: Any, name: str, default: Any = None) -> Any:
    """Read an option from a mapping or an argparse namespace."""
    if options is None:
        return default
    if isinstance(options, Mapping):
        value = options.get(name, default)
    else:
        value = getattr(options, name, default)
    return default if value is None else value


def training_cost(spec: Spec, steps: int) -> int:
    """Training *spec* for *steps* updates, in 30-digit parameter-sample-steps (float64 ones cost less).

    >>> from symbolic.spec import load
    >>> training_cost(load("mazur"), 10000)
    100000
    """
    units = len(spec.parameters) * len(spec.samples) * steps
    if training_precision(spec, steps) == "float":
        return units * TRAIN_US_FLOAT // TRAIN_US
    return units


def expanded_size(spec: Spec) -> int:
    """Parameter-samples the fully expanded worked example writes out (its first batch)."""
    return len(spec.parameters) * spec.training.batch_size


def _reference_rounds(spec: Spec) -> int:
    """The largest round a reference figure names (each is trained in two variants)."""
    rounds = [int(name.rsplit("@", 1)[1]) for name, _ in spec.reference if "@" in name]
    return max(rounds, default=0)


def _minutes(cost: int) -> str:
    seconds = cost * TRAIN_US / 1e6
    return f"about {seconds / 60:.0f} minutes" if seconds >= 90 else f"about {seconds:.0f} s"


def check_size(spec: Spec, command: str, options: Any = None) -> None:
    """Raise SpecError when *command* on *spec* would exceed a budget; say why and what instead.

    *spec* has the command line's variants already applied (``--steps`` in
    ``spec.training.steps``).  *options* (a mapping or an argparse namespace)
    may give ``format`` (derive: pdf, tex or md), ``steps`` (values: the
    ``--steps`` given, or None), ``summary`` (true when the large-network
    document mode is asked for, which does not expand every step) and
    ``rounds`` (check: the largest N of the answers' ``X@N`` names).

    >>> from symbolic.spec import load
    >>> check_size(load("mazur"), "derive", {"format": "pdf"})
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    n = len(spec.parameters)
    where = spec.name
    if command == "module" and _option(options, "form", "scalar") == "numpy":
        return  # the vectorized module's generation does not grow with the network
    if n > MAX_PARAMETERS:
        instead = ("; 'stepgrad module --form numpy' writes a vectorized gradient module for any size"
                   if command != "check" else "")
        raise SpecError(f"{where}: {n} weights and biases; stepgrad derives and verifies at most "
                        f"{MAX_PARAMETERS}{instead}")
    if command in ("example", "derive"):
        size = expanded_size(spec)
        if size > MAX_EXPANDED and not _option(options, "summary", False):
            per = f" x {spec.training.batch_size} samples a batch" if spec.training.batch_size > 1 else ""
            raise SpecError(f"{where}: {n} parameters{per} are too many for a fully expanded worked example "
                            f"(at most {MAX_EXPANDED}); use 'stepgrad module' or 'stepgrad values' for this "
                            f"network, or a smaller one to learn from")
        steps = max(spec.training.steps, _reference_rounds(spec))
        cost = training_cost(spec, steps) * (2 if spec.reference else 1)
        if cost > TRAIN_BUDGET:
            raise SpecError(f"{where}: training {n} parameters on {len(spec.samples)} samples for {steps} "
                            f"updates at 30 digits would take {_minutes(cost)}; give --steps "
                            f"{max(1, TRAIN_BUDGET // max(1, cost // steps))} or fewer")
    elif command == "values":
        steps = _option(options, "steps", 0) or 1
        cost = training_cost(spec, steps)
        if cost > TRAIN_BUDGET:
            raise SpecError(f"{where}: training {n} parameters on {len(spec.samples)} samples for {steps} "
                            f"updates at 30 digits would take {_minutes(cost)}; give --steps "
                            f"{max(1, TRAIN_BUDGET // (cost // steps))} or fewer")
    elif command == "check":
        if n > MAX_CHECK_PARAMETERS:
            raise SpecError(f"{where}: {n} parameters; the checker's mistake search handles at most "
                            f"{MAX_CHECK_PARAMETERS}; check answers on a smaller network")
        rounds = int(_option(options, "rounds", 0))
        cost = training_cost(spec, rounds)
        if cost > TRAIN_BUDGET:
            raise SpecError(f"{where}: answers after {rounds} updates need {_minutes(cost)} of training; "
                            f"ask about an earlier round")
