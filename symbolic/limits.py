"""Refuse, before any work starts, a network or a run too large for what a command was asked to do.

A teaching tool is run on whatever a student has at hand; a fully expanded
worked example for thousands of weights, or 30-digit training of a large
network for a million steps, would run for an hour and then produce a
document nobody can read.  :func:`check_size` compares a cheap estimate of the
work with a documented budget and raises :class:`SpecError` saying why, the
estimate, and what to do instead.  It takes plain values, not a command line.

The costs it estimates with are measured, and live in one place,
:data:`TRAINING_COSTS` (re-measure them with ``benchmarks/training_costs.py``
whenever training changes):

* training costs a fixed time per update plus a time per parameter per
  sample, different at 30 digits (mpmath) and in float64 (which training
  switches to for large runs, see :func:`symbolic.derive.training_precision`);
* the derivation and its verification cost about 1 s per 1000 parameters
  (4192 parameters: derive 3.7 s, verify 0.5 s); the gradient module 2.3 s
  per 1000 parameters;
* checking answers grows much faster than linearly (see MAX_CHECK_PARAMETERS);
* the fully expanded worked example costs about 3.5 s and 850 kB of LaTeX per
  1000 parameters before TeX runs (8-16-8, 280 parameters: 1.2 s, 230 kB);
* an exercise set costs a few draws a variant, each a derivation and its judging
  (:func:`check_set_size`; re-measure with ``benchmarks/exercise_draws.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .derive import training_precision
from .spec import MAX_PARAMETERS as SPEC_MAX_PARAMETERS, MAX_STEPS, Spec, SpecError

#: At most this many parameters for any command (derivation, verification, module: about 15 s).
MAX_PARAMETERS = 5000
#: The fully expanded worked example (every step of every weight written out, for every
#: sample of the first batch) up to this many parameter-samples: about 80 pages of PDF.
MAX_EXPANDED = 300


@dataclass(frozen=True)
class Cost:
    """Seconds of training: *per_update* for each update, plus *per_unit* per parameter per sample."""

    per_update: float
    per_unit: float


#: Measured costs of symbolic.derive.train, by precision (benchmarks/training_costs.py, 2 cores
#: shared with other work, CPython 3.11).  float64 (the compiled loop run twice, the second
#: perturbed): mazur (10 parameters, 1 sample) 0.016 ms an update, a 2-3-2 tanh network on
#: 2 samples 0.022 ms, an 8-16-8 network (280 parameters) 0.36 ms.  30 digits: mazur 0.84 ms,
#: tanh232 (17 parameters, 2 samples) 1.26 ms, 8-16-8 10.1 ms.  Rounded up, so estimates err long.
TRAINING_COSTS = {"float": Cost(per_update=8e-6, per_unit=1.6e-6),
                  "mpmath": Cost(per_update=600e-6, per_unit=40e-6)}
#: Seconds of estimated training a command may start; more is refused up front with the estimate.
TRAIN_BUDGET_S = 30.0


@dataclass(frozen=True)
class Growth:
    """Seconds of work that grows with n parameter-samples: *linear* * n + *quadratic* * n**2."""

    linear: float
    quadratic: float

    def seconds(self, n: int) -> float:
        return self.linear * n + self.quadratic * n * n


#: Measured seconds of a whole command (start-up, derivation and its verification, output) on
#: square networks of n = 992, 2550 and 4970 parameters (one sample; 2 cores shared with other
#: work): ``values`` 3.8, 8.1 and 22.9 s; ``module --form scalar`` 4.1, 11.3 and 45 s.  Fitted
#: through the smallest and the largest, so they err long in between (``benchmarks/work_costs.py``
#: re-measures both in-process; most of ``values`` is compiling the training program, not the
#: derivation).  ``derive`` and ``check`` cost what ``values`` does before their own (bounded) work;
#: ``example`` adds the module.
WORK_COSTS = {"derivation": Growth(linear=2.5e-3, quadratic=4.0e-7),
              "scalar module": Growth(linear=1.7e-3, quadratic=1.5e-6)}
#: A softmax output layer of k neurons costs far more than its parameters suggest: ``values`` of a
#: 2-k softmax network with cross-entropy took 1.7 s (k = 10), 3.9 s (20), 4.8 s (30), 9.2 s (50),
#: 54 s (100) and 100 s (200): about SOFTMAX_COST * k**SOFTMAX_POWER seconds per sample of a batch.
SOFTMAX_COST = 2.2e-4
SOFTMAX_POWER = 2.7
#: Seconds of estimated derivation work a command may start; more is refused up front.
WORK_BUDGET_S = 15.0
#: Seconds of a TeX run of the worked example: measured 2.0 s (10 parameters), 8.1 s (280),
#: 14.6 s (544) and 20.6 s (992, compact); the network diagram dominates.
TEX_COST = Growth(linear=0.022, quadratic=0.0)
TEX_BASE_S = 2.0
#: Seconds a whole command may be estimated to take (derivation, training and TeX together).
TOTAL_BUDGET_S = 30.0
#: The checker's mistake search tries every single mistake and pairs of them: with three wrong
#: answers a 4-8-4 network (76 parameters) takes 9 s, an 8-16-8 one (280) more than 5 minutes.
MAX_CHECK_PARAMETERS = 100
COMMANDS = ("example", "derive", "module", "values", "check")


def training_seconds(spec: Spec, steps: int) -> float:
    """Estimated seconds to train *spec* for *steps* updates, at the precision training would choose.

    >>> from stepgrad.symbolic.spec import load
    >>> 0.05 < training_seconds(load("mazur"), 10000) < 3
    True
    """
    if steps <= 0:
        return 0.0
    cost = TRAINING_COSTS[training_precision(spec, steps)]
    return steps * (cost.per_update + cost.per_unit * len(spec.parameters) * len(spec.samples))


def softmax_seconds(spec: Spec) -> float:
    """Estimated seconds the softmax output layer (if any) adds to deriving and verifying *spec*."""
    if spec.layers[-1].activation != "softmax":
        return 0.0
    return SOFTMAX_COST * len(spec.outputs) ** SOFTMAX_POWER * max(1, spec.training.batch_size)


def affordable_steps(spec: Spec, budget_s: float = TRAIN_BUDGET_S) -> int:
    """The most updates of *spec* that fit in *budget_s* seconds (at least 1)."""
    low, high = 1, 1
    while high <= MAX_STEPS and training_seconds(spec, high) <= budget_s:
        low, high = high, high * 2
    while low + 1 < high:
        mid = (low + high) // 2
        if training_seconds(spec, mid) <= budget_s:
            low = mid
        else:
            high = mid
    return min(low, MAX_STEPS)


def expanded_size(spec: Spec) -> int:
    """Parameter-samples the fully expanded worked example writes out (its first batch)."""
    return len(spec.parameters) * spec.training.batch_size


def _reference_rounds(spec: Spec) -> int:
    """The largest round a reference figure names (each is trained in two variants)."""
    rounds = [int(name.rsplit("@", 1)[1]) for name, _ in spec.reference if "@" in name]
    return max(rounds, default=0)


def _duration(seconds: float) -> str:
    return f"about {seconds / 60:.0f} minutes" if seconds >= 90 else f"about {seconds:.0f} s"


def check_size(spec: Spec, command: str, *, steps: int | None = None, summary: bool = False,
               rounds: int = 0, form: str = "scalar", pdf: bool = False) -> None:
    """Raise SpecError when *command* on *spec* would exceed a budget; say why and what instead.

    *spec* has the command line's variants already applied (``--steps`` in
    ``spec.training.steps``).  *steps* is the number of updates ``values``
    trains for (None: only the first); *summary* is true when the
    large-network document (which does not expand every step) is asked for;
    *rounds* is the largest N of the answers' ``X@N`` names (check); *form*
    is the module's form (``numpy`` has no size limit); *pdf* is true when
    TeX will compile the worked example.

    >>> from stepgrad.symbolic.spec import load
    >>> check_size(load("mazur"), "derive")
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    n = len(spec.parameters)
    where = spec.name
    if command == "module" and form == "numpy":
        return  # the vectorized module's generation does not grow with the network
    if n > MAX_PARAMETERS:
        instead = ("; 'stepgrad module --form numpy' writes a vectorized gradient module for up to "
                   f"{SPEC_MAX_PARAMETERS} parameters"
                   if command != "check" else "")
        raise SpecError(f"{where}: {n} weights and biases; stepgrad derives and verifies at most "
                        f"{MAX_PARAMETERS}{instead}")
    units = n * max(1, spec.training.batch_size)
    seconds = WORK_COSTS["derivation"].seconds(units) + softmax_seconds(spec)
    if command in ("module", "example"):
        seconds = max(seconds, WORK_COSTS["scalar module"].seconds(units))
    if seconds > WORK_BUDGET_S:
        instead = ("; 'stepgrad module --form numpy' writes a vectorized gradient module for it"
                   if command != "check" else "; check answers on a smaller network")
        what = f"{n} parameters" + (f" and a softmax of {len(spec.outputs)} outputs" if softmax_seconds(spec) else "")
        raise SpecError(f"{where}: deriving and verifying {what} would take {_duration(seconds)} "
                        f"(the budget is {WORK_BUDGET_S:.0f} s){instead}")
    if command in ("example", "derive"):
        size = expanded_size(spec)
        if size > MAX_EXPANDED and not summary:
            per = f" x {spec.training.batch_size} samples a batch" if spec.training.batch_size > 1 else ""
            raise SpecError(f"{where}: {n} parameters{per} are too many for a fully expanded worked example "
                            f"(at most {MAX_EXPANDED}); use 'stepgrad module' or 'stepgrad values' for this "
                            f"network, or a smaller one to learn from")
        total = max(spec.training.steps, _reference_rounds(spec))
        trainings = 2 if spec.reference else 1
        _refuse_long_training(spec, total, trainings, f"training {n} parameters on {len(spec.samples)} samples "
                                                      f"for {total} updates")
        if pdf:
            training = trainings * training_seconds(spec, total)
            tex = TEX_BASE_S + TEX_COST.seconds(n)
            if seconds + training + tex > TOTAL_BUDGET_S:
                raise SpecError(f"{where}: the worked example of {n} parameters as a PDF would take "
                                f"{_duration(seconds + training + tex)} (derivation {seconds:.0f} s, training "
                                f"{training:.0f} s, TeX {tex:.0f} s; the budget is {TOTAL_BUDGET_S:.0f} s); "
                                "give --format tex or md, or fewer --steps")
    elif command == "values":
        total = steps or 1
        _refuse_long_training(spec, total, 1, f"training {n} parameters on {len(spec.samples)} samples for "
                                              f"{total} updates")
    elif command == "check":
        if n > MAX_CHECK_PARAMETERS:
            raise SpecError(f"{where}: {n} parameters; the checker's mistake search handles at most "
                            f"{MAX_CHECK_PARAMETERS}; check answers on a smaller network")
        seconds = training_seconds(spec, int(rounds))
        if seconds > TRAIN_BUDGET_S:
            raise SpecError(f"{where}: answers after {rounds} updates need {_duration(seconds)} of training "
                            f"(the budget is {TRAIN_BUDGET_S:.0f} s); ask about round "
                            f"{affordable_steps(spec)} or earlier")


def check_feedback_sheets(spec: Spec, count: int) -> None:
    """Refuse, before any work, marking *count* submissions with a PDF feedback sheet each when their TeX
    runs together are estimated beyond :data:`TOTAL_BUDGET_S`; say how many fit.

    >>> from stepgrad.symbolic.spec import load
    >>> check_feedback_sheets(load("mazur"), 2)
    """
    each = TEX_BASE_S + TEX_COST.seconds(len(spec.parameters))
    if count * each > TOTAL_BUDGET_S:
        fit = max(1, int(TOTAL_BUDGET_S // each))
        raise SpecError(f"{count} PDF feedback sheets would take {_duration(count * each)} of TeX (the budget "
                        f"is {TOTAL_BUDGET_S:.0f} s); mark at most {fit} submissions at a time as PDF, "
                        f"or use --format md")


def _refuse_long_training(spec: Spec, steps: int, trainings: int, what: str) -> None:
    seconds = trainings * training_seconds(spec, steps)
    if seconds > TRAIN_BUDGET_S:
        fit = affordable_steps(spec, TRAIN_BUDGET_S / trainings)
        raise SpecError(f"{spec.name}: {what} would take {_duration(seconds)} (the budget is "
                        f"{TRAIN_BUDGET_S:.0f} s); give --steps {fit} or fewer")


# -- exercise sets -------------------------------------------------------------------

#: Seconds of drawing and writing an exercise set may be estimated to need (its TeX has its own budget).
SET_BUDGET_S = 60.0
#: Measured seconds of one draw (a variant derived and judged) of a network of n weights and biases:
#: about ``DRAW_BASE_S + DRAW_PER_PARAMETER_S * n`` (the post's network 0.025 s, a 5-8-4 network of 84
#: parameters 0.09 s; 2 cores shared with other work), rounded up so that estimates err long.
DRAW_BASE_S = 0.01
DRAW_PER_PARAMETER_S = 0.001
#: Draws a good variant takes on average, with the writing of its files counted as one more
#: (the post's exercise: 3.1 draws a variant over 100 variants; the 5-8-4 network 4.6).
DRAWS_PER_VARIANT = 5
#: Seconds of writing a variant's files per weight or bias, beyond that one draw: a worked solution grows
#: faster than a draw (127 variants of the 5-8-4 network: 92 s in all, 34 s of it drawing, under load).
WRITE_PER_PARAMETER_S = 0.0015


def draw_seconds(spec: Spec) -> float:
    """The estimated seconds of one draw of a variant of *spec*."""
    return DRAW_BASE_S + DRAW_PER_PARAMETER_S * len(spec.parameters)


def check_set_size(spec: Spec, count: int) -> None:
    """Refuse, before drawing, *count* variants of *spec* estimated beyond :data:`SET_BUDGET_S`; say how many fit.

    >>> from stepgrad.symbolic.spec import load
    >>> check_set_size(load("mazur"), 30)
    """
    each = DRAWS_PER_VARIANT * draw_seconds(spec) + WRITE_PER_PARAMETER_S * len(spec.parameters)
    if count * each > SET_BUDGET_S:
        fit = max(1, int(SET_BUDGET_S // each))
        raise SpecError(f"{spec.name}: drawing and writing {count} variants of {len(spec.parameters)} weights and "
                        f"biases would take about {count * each:.0f} s (the budget is {SET_BUDGET_S:.0f} s); make at "
                        f"most {fit} variants of this network at a time, or use a smaller network")
