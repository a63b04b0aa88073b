"""Exercise sets: one variant of a spec's network per student, with its answer key.

A variant is the spec's network with its own initial values, inputs and targets,
drawn from the seed and rounded as the post's are (two decimals).  Each draw is
kept only if it makes a good exercise (:func:`problems`): no ReLU neuron near its
kink, no saturated output, no two quantities to compute that coincide, no
gradient asked that is 0 to the decimals asked, and enough difference from every
earlier variant that a copied answer shows.

An exercise may hand chosen intermediates to students as rounded data (the
forward pass to 4 decimals, say).  The key is then computed from those rounded
values, as a student carries them: :func:`derivation_of` replaces each given
step's formula by its rounded value, so every quantity downstream (and the
checker's follow-through) starts from the same numbers the student was given.

This module knows nothing about files or documents; ``stepgrad exercise`` writes them.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Sequence

import mpmath
import sympy as sp
from mpmath.libmp import to_str

from . import inputs, naming
from .derive import (DPS, Derivation, Kind, Program, SaturationError, Step, backward_steps, batch_steps, batches,
                     evaluate_batch, given_values, initial_params)
from .evaluate import compile_exact
from .model import ETA, Model, symbol
from .spec import Sample, Spec, SpecError

__all__ = ["Exercise", "KeyEntry", "Variant", "GROUPS", "exercise_of", "make_variants", "derivation_of",
           "key_document", "read_roster", "asked_names", "problems", "variant_of", "parse_roster"]

#: The groups ``ask`` and ``given`` may name, besides canonical quantity names.
GROUPS = ("forward", "errors", "output_deltas", "hidden_deltas", "gradients", "updates", "all")
#: A ReLU or leaky ReLU net input must lie at least this far from 0 (the kink).
KINK_MARGIN = sp.Rational(1, 20)
#: A logistic output must lie within [SIGMOID_LOW, 1 - SIGMOID_LOW]; tanh within +-TANH_HIGH;
#: no softmax probability above SOFTMAX_HIGH.
SIGMOID_LOW = sp.Rational(2, 100)
TANH_HIGH = sp.Rational(96, 100)
SOFTMAX_HIGH = sp.Rational(98, 100)
#: Two variants differ "enough" when at least this share of the asked quantities differ by more
#: than COPY_FACTOR tolerances.
COPY_SHARE = sp.Rational(1, 2)
COPY_FACTOR = 10
#: Draws tried per variant before the set is refused.
MAX_DRAWS = 200
MAX_VARIANTS = 500
MAX_ROSTER_BYTES = 256 * 1024
MAX_ID_LENGTH = 64
#: A roster ID: ASCII letters, digits and . _ @ + - (no spaces, quotes or control characters).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+\-]*\Z")
#: Significant digits of a key value.
KEY_DIGITS = 15


@dataclass(frozen=True)
class Exercise:
    """What an exercise asks, gives, and how its values are drawn.

    >>> Exercise().value_decimals, Exercise().answer_decimals
    (2, 4)
    """

    #: Canonical quantity names and/or groups (GROUPS) to compute; () means "all".
    ask: tuple[str, ...] = ()
    #: Parameters whose update is asked (their gradients and updated values); () = every trainable one.
    update: tuple[str, ...] = ()
    #: Intermediate quantities (names and/or groups) handed out as rounded data.
    given: tuple[str, ...] = ()
    given_decimals: int = 4
    #: Decimals of drawn weights, biases, inputs and targets (the post's two).
    value_decimals: int = 2
    #: Decimals an answer is asked to; the key's tolerance is half a unit in the last of them.
    answer_decimals: int = 4
    #: Ranges (low, high) drawn from, as exact rationals; None takes the default.
    weights: tuple[sp.Rational, sp.Rational] | None = None
    biases: tuple[sp.Rational, sp.Rational] | None = None
    inputs: tuple[sp.Rational, sp.Rational] | None = None
    targets: tuple[sp.Rational, sp.Rational] | None = None

    @property
    def tolerance(self) -> str:
        """Half a unit in the last decimal asked, as decimal text ('0.00005' for 4 decimals)."""
        return _plain(Decimal(5).scaleb(-(self.answer_decimals + 1)))

    def summary(self) -> dict:
        """The exercise as plain JSON-ready data (for an index or a key)."""
        out: dict[str, Any] = {"ask": list(self.ask) or ["all"], "update": list(self.update),
                               "given": list(self.given), "given_decimals": self.given_decimals,
                               "value_decimals": self.value_decimals, "answer_decimals": self.answer_decimals,
                               "tolerance": self.tolerance}
        for key in ("weights", "biases", "inputs", "targets"):
            rng = getattr(self, key)
            if rng is not None:
                out[key] = [_rational_text(rng[0]), _rational_text(rng[1])]
        return out


@dataclass(frozen=True)
class KeyEntry:
    """One quantity a student computes: its canonical name, value, tolerance and words."""

    name: str
    value: str
    tolerance: str
    words: str


@dataclass(frozen=True)
class Variant:
    """One student's exercise: its network, what is given, and the key."""

    number: int
    of: int
    seed: int
    student: str | None
    spec: Spec
    exercise: Exercise
    #: (canonical name, text shown to the student): parameters, inputs, targets and the learning
    #: rate when needed, then the rounded intermediates.
    givens: tuple[tuple[str, str], ...]
    key: tuple[KeyEntry, ...]

    @property
    def rounded(self) -> tuple[tuple[str, str], ...]:
        """The intermediates given as rounded data, as (name, text)."""
        names = set(_given_names_of(self))
        return tuple((n, t) for n, t in self.givens if n in names)


# -- text of numbers --------------------------------------------------------------------

def _plain(d: Decimal) -> str:
    """A Decimal in plain positional notation, never scientific."""
    text = format(d, "f")
    return "0" if text in ("-0", "0", "-0.0") else text


def _rational_text(x: sp.Rational) -> str:
    """An exact decimal rational as its shortest decimal text (0.15, -1, 0.5)."""
    d = Decimal(int(x.p)) / Decimal(int(x.q))
    return _plain(d.normalize())


def _fixed(x: sp.Rational, decimals: int) -> str:
    """An exact rational with exactly *decimals* decimal places ("0.20")."""
    d = (Decimal(int(x.p)) / Decimal(int(x.q))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return _plain(d)


def _decimal(x) -> Decimal:
    """A 50-digit mpmath value as a Decimal (its first 45 significant digits)."""
    if isinstance(x, mpmath.mpf):
        return Decimal(to_str(x._mpf_, 45))
    return Decimal(str(x))


def key_text(x) -> str:
    """A value with KEY_DIGITS significant digits in positional notation.

    >>> key_text(mpmath.mpf("0.3775"))
    '0.377500000000000'
    """
    d = _decimal(x)
    if d == 0:
        return "0"
    q = Context(prec=KEY_DIGITS, rounding=ROUND_HALF_UP).plus(d)
    decimals = max(0, KEY_DIGITS - 1 - q.adjusted())
    return _plain(q.quantize(Decimal(1).scaleb(-decimals)))


def round_to(x, decimals: int) -> sp.Rational:
    """A high-precision value rounded half away from zero to *decimals* places, exactly."""
    d = _decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return sp.Rational(str(d))


# -- the exercise from a spec ----------------------------------------------------------

def exercise_of(spec: Spec, **overrides: Any) -> Exercise:
    """The spec's [exercise] table as an Exercise, with *overrides* (field = value) applied.

    >>> from stepgrad.symbolic.spec import load
    >>> exercise_of(load("mazur"), ask=("forward",)).ask
    ('forward',)
    """
    table = getattr(spec, "exercise", None)
    fields: dict[str, Any] = dict(table.values) if table is not None else {}
    for key, value in overrides.items():
        if key not in Exercise.__dataclass_fields__:
            raise TypeError(f"exercise_of: no field {key!r}")
        fields[key] = tuple(value) if isinstance(value, list) else value
    exercise = Exercise(**fields)
    _validate(spec, exercise, table)
    return exercise


def _fail(table, key: str, message: str) -> SpecError:
    """A one-line error about exercise.KEY, with the spec's file and line when known."""
    if table is not None:
        return table.fail(key, message)
    return SpecError(f"exercise.{key}: {message}")


def _validate(spec: Spec, exercise: Exercise, table=None) -> None:
    """Check that every name in ask, update and given is one the spec's derivation has."""
    names = _step_names(spec)
    for key in ("ask", "given"):
        for item in getattr(exercise, key):
            if item not in GROUPS and item not in names:
                raise _fail(table, key, f"no quantity or group named {inputs.shorten(item)!r}; groups are "
                                        f"{', '.join(GROUPS)}, names are like net_h1, delta_o1, dE_total/dw5, w5+")
    trainable = spec.trainable
    for p in exercise.update:
        if p not in trainable:
            why = "is frozen (bias_trainable = false)" if p in spec.parameters else "is no weight or bias of the spec"
            raise _fail(table, "update", f"{inputs.shorten(p)!r} {why}")
    if exercise.update and spec.training.hidden_deltas == "updated":
        raise _fail(table, "update", 'choosing parameters to update needs training.hidden_deltas = "original" '
                                     "(the hidden deltas would use every output weight updated)")
    if exercise.given and len(batches(spec)[0]) > 1:
        raise _fail(table, "given", "rounded givens need one sample per update (online training); "
                                    "this spec's first update uses several samples")
    if "all" in exercise.given:
        raise _fail(table, "given", '"all" would leave nothing to compute; give groups like "forward"')
    if not 0 <= exercise.given_decimals <= 12 or not 0 <= exercise.value_decimals <= 6 \
            or not 1 <= exercise.answer_decimals <= 12:
        raise _fail(table, "given_decimals", "decimals out of range")


@functools.lru_cache(maxsize=32)
def _step_names(spec: Spec) -> frozenset:
    """Every value name of the spec's derivation (structure only; the values do not matter)."""
    model = Model(spec)
    steps = _compiled(_structure(spec), ())[0]
    n = len(spec.samples)
    batch = batches(spec)[0]
    out = set()
    for s in steps:
        for k in batch:
            out.add(naming.in_sample(s.name, k + 1, n) if len(batch) > 1 and s.per_sample else s.name)
    if len(batch) > 1:
        out |= {s.name for s in batch_steps(model, batch)}
    return frozenset(out)


# -- what is asked ----------------------------------------------------------------------

_SECTION_KINDS = {
    "output_deltas": ("output", (Kind.DE_DOUT, Kind.DOUT_DNET, Kind.DELTA)),
    "hidden_deltas": ("hidden", (Kind.DNET_DOUT, Kind.TERM, Kind.DE_DOUT, Kind.DOUT_DNET, Kind.DELTA)),
}


def _entries(derivation: Derivation) -> list[tuple[str, Step]]:
    """(value name, step) for every value of the first batch, in derivation order."""
    out, seen = [], set()
    for step in derivation.steps:
        for s in derivation.batch:
            name = derivation.value_name(step, s)
            if name not in seen:
                seen.add(name)
                out.append((name, step))
    return out


def _chosen(spec: Spec, exercise: Exercise) -> tuple[str, ...]:
    """The parameters whose update is asked: the exercise's list, or every trainable one."""
    return exercise.update or spec.trainable


def _param_of(name: str, step: Step) -> str | None:
    if step.param is not None:
        return step.param
    parts = naming.split_d(naming.split_sample(name)[0])
    return parts[1] if parts and parts[0] == naming.E_TOTAL else None


def _in_group(group: str, name: str, step: Step, chosen: tuple[str, ...]) -> bool:
    kind = step.kind
    if group == "forward":
        return kind in (Kind.NET, Kind.OUT)
    if group == "errors":
        return kind in (Kind.E, Kind.E_TOTAL) or (kind == Kind.BATCH and name == naming.E_TOTAL)
    if group in _SECTION_KINDS:
        section, kinds = _SECTION_KINDS[group]
        return step.section == section and kind in kinds
    if group == "gradients":
        if kind in (Kind.GRAD, Kind.DNET_DW) or (kind == Kind.BATCH and name != naming.E_TOTAL):
            return _param_of(name, step) in chosen
        return False
    if group == "updates":
        return kind == Kind.UPDATE and not step.frozen and step.param in chosen
    if group == "all":
        return any(_in_group(g, name, step, chosen) for g in GROUPS[:-1])
    return False


def _expand(derivation: Derivation, items: Sequence[str], chosen: tuple[str, ...]) -> set[str]:
    entries = _entries(derivation)
    out = set()
    for item in items:
        if item in GROUPS:
            out |= {n for n, st in entries if _in_group(item, n, st, chosen)}
        else:
            out.add(item)
    return out


def given_names(derivation: Derivation, exercise: Exercise) -> tuple[str, ...]:
    """The intermediates handed out rounded, in derivation order."""
    chosen = _chosen(derivation.spec, exercise)
    names = _expand(derivation, exercise.given, chosen)
    return tuple(n for n, _ in _entries(derivation) if n in names)


def asked_names(derivation: Derivation, exercise: Exercise) -> tuple[str, ...]:
    """The quantities a student computes, in derivation order.

    ``ask`` (default "all") and, when ``update`` names parameters, their gradients and
    updates; with ``update``, the backward quantities are those the chosen updates need.
    Given intermediates are not asked.

    >>> from stepgrad.symbolic.spec import load
    >>> from stepgrad.symbolic.derive import derive
    >>> from stepgrad.symbolic.derive import derive
    >>> asked_names(derive(load("mazur")), Exercise(ask=("forward",)))[:3]
    ('net_h1', 'out_h1', 'net_h2')
    """
    spec = derivation.spec
    chosen = _chosen(spec, exercise)
    entries = _entries(derivation)
    wanted = _expand(derivation, exercise.ask or ("all",), chosen)
    if exercise.update:
        updates = _expand(derivation, ("gradients", "updates"), chosen)
        wanted |= updates
        needed = _ancestors(derivation, updates)
        forward_error = _expand(derivation, ("forward", "errors"), chosen)
        explicit = {a for a in exercise.ask if a not in GROUPS}
        wanted = {n for n in wanted if n in needed or n in updates or n in forward_error or n in explicit}
    given = set(given_names(derivation, exercise))
    return tuple(n for n, _ in entries if n in wanted and n not in given)


def _ancestors(derivation: Derivation, names: set[str]) -> set[str]:
    """Every value the values *names* are computed from (themselves included)."""
    deps = _dependencies(derivation)
    out, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n in out:
            continue
        out.add(n)
        todo.extend(deps.get(n, ()))
    return out


def _dependencies(derivation: Derivation) -> dict[str, tuple[str, ...]]:
    n = derivation.n_samples
    per_sample_names = {s.name for s in derivation.steps if s.per_sample}
    multi = len(derivation.batch) > 1
    out = {}
    for step in derivation.steps:
        symbols = sorted(x.name for x in step.rhs.free_symbols)
        for s in derivation.batch:
            name = derivation.value_name(step, s)
            if multi and step.per_sample:
                out[name] = tuple(naming.in_sample(x, s + 1, n) if x in per_sample_names else x for x in symbols)
            else:
                out[name] = tuple(symbols)
    return out


# -- the derivation with rounded givens -------------------------------------------------

def _structure(spec: Spec) -> Spec:
    """The spec with every value set to 0 (and eta to 1): what its steps and program depend on."""
    zero = sp.Integer(0)
    samples = tuple(Sample(tuple((n, zero) for n, _ in s.inputs), tuple((n, zero) for n, _ in s.targets))
                    for s in spec.samples)
    return dataclasses.replace(spec, title="network", initial=tuple((n, zero) for n, _ in spec.initial),
                               samples=samples, reference=(), reference_source="",
                               training=dataclasses.replace(spec.training, learning_rate=sp.Integer(1)))


class _Bound(Program):
    """A compiled program of the same structure, reading the given values of another spec."""

    def __init__(self, model: Model, template: Program):  # noqa: D107 - no compiling: the template's code
        self.__dict__.update(template.__dict__)
        self.model = model


@functools.lru_cache(maxsize=16)
def _compiled(structure: Spec, given: tuple[str, ...]):
    """The steps of a structure and its 50-digit program, the *given* steps read as inputs.

    Steps depend only on the network's structure, so every variant of a set shares them.
    """
    model = Model(structure)
    steps = tuple(backward_steps(model))
    if not given:
        return steps, Program(model, steps=steps, exact=True)
    args = model.input_symbols + model.target_symbols + model.param_symbols + (ETA,) + tuple(
        symbol(n) for n in given)
    assignments = [(symbol(s.name), s.rhs) for s in steps if s.name not in given]
    return steps, compile_exact(args, assignments)


def _exact(value) -> Fraction:
    return Fraction(int(value.p), int(value.q))


@functools.lru_cache(maxsize=64)
def _derive(spec: Spec, overrides: tuple[tuple[str, sp.Rational], ...], decimals: int) -> Derivation:
    """Derive *spec* at 50 digits (exactly where rational), each given step replaced by its rounded value.

    Without *overrides* the values are those of :func:`symbolic.derive.derive` (the same
    steps and program, compiled once per structure).
    """
    given = tuple(n for n, _ in overrides)
    steps, program = _compiled(_structure(spec), given)
    model = Model(spec)
    batch = batches(spec)[0]
    with mpmath.workdps(DPS):
        if not overrides:
            bound = _Bound(model, program)
            per, combined = evaluate_batch(model, bound, initial_params(spec), batch)
            values = {}
            for s, v in zip(batch, per):
                values.update({naming.in_sample(k, s + 1, len(spec.samples)) if len(batch) > 1 else k: x
                               for k, x in v.items()})
            values.update(combined)
            all_steps = list(steps)
            if not bound.single:
                all_steps += batch_steps(model, batch)
            return Derivation(model, tuple(all_steps), values, batch, steps)
        env = {k: _exact(v) for k, v in given_values(spec, batch[0]).items()}
        env.update({n: _exact(v) for n, v in overrides})
        try:
            values = program(env)
        except (ZeroDivisionError, ValueError, OverflowError):
            raise SaturationError(f"{spec.name}: a value is undefined at these numbers") from None
        values.update({n: mpmath.mpf(int(v.p)) / int(v.q) for n, v in overrides})
        bad = next((k for k, v in values.items() if not mpmath.isfinite(v)), None)
        if bad is not None:
            raise SaturationError(f"{spec.name}: {bad} is {values[bad]} at these numbers")
    note = f"given, rounded to {decimals} decimals; the quantities after it are computed from this value"
    fixed = dict(overrides)
    shown = tuple(dataclasses.replace(s, rhs=fixed[s.name], note=note, alt=None, alt_note="")
                  if s.name in fixed else s for s in steps)
    return Derivation(model, shown, values, batch, shown)


def _given_names_of(variant: Variant) -> tuple[str, ...]:
    return given_names(_derive(variant.spec, (), 0), variant.exercise) if variant.exercise.given else ()


def derivation_of(variant: Variant) -> Derivation:
    """The derivation the variant's key, worked solution and checker use.

    With rounded givens, each given step's formula is replaced by the rounded value the
    student was given (its ``note`` says so), and everything after it is computed from it.
    """
    rounded = tuple((n, sp.Rational(t)) for n, t in variant.rounded)
    return _derive(variant.spec, rounded, variant.exercise.given_decimals)


# -- drawing ------------------------------------------------------------------------------

def _around(values: list[sp.Rational], decimals: int) -> tuple[sp.Rational, sp.Rational]:
    """A range around *values*: their span widened by a quarter of it, at least 0.1 each side."""
    if not values:
        return sp.Integer(0), sp.Integer(0)
    lo, hi = min(values), max(values)
    margin = max(sp.Rational(1, 10), (hi - lo) / 4)
    scale = 10 ** decimals
    return (sp.Rational(math.floor((lo - margin) * scale), scale),
            sp.Rational(math.ceil((hi + margin) * scale), scale))


def ranges(spec: Spec, exercise: Exercise) -> dict[str, tuple[sp.Rational, sp.Rational] | None]:
    """The ranges values are drawn from: the exercise's, or defaults from the spec.

    Targets of a softmax output are one-hot (None here).

    >>> r = ranges(load_mazur(), Exercise())
    >>> [str(x) for x in r["weights"]], [str(x) for x in r["inputs"]], [str(x) for x in r["targets"]]
    (['1/20', '13/20'], ['0', '1'], ['1/100', '99/100'])
    """
    initial = dict(spec.initial)
    d = exercise.value_decimals
    out: dict[str, Any] = {
        "weights": exercise.weights or _around([initial[w.name] for w in spec.weights], d),
        "biases": exercise.biases or _around([initial[b.name] for b in spec.biases], d),
        "inputs": exercise.inputs or (sp.Integer(0), sp.Integer(1)),
    }
    last = spec.layers[-1].activation
    if last == "softmax":
        out["targets"] = None
    elif exercise.targets is not None:
        out["targets"] = exercise.targets
    elif last == "sigmoid":
        out["targets"] = (sp.Rational(1, 100), sp.Rational(99, 100))
    elif last == "tanh":
        out["targets"] = (sp.Rational(-99, 100), sp.Rational(99, 100))
    else:
        lo, hi = _around([v for s in spec.samples for _, v in s.targets], d)
        if last in ("relu", "softplus"):
            lo = max(lo, sp.Integer(0))
        out["targets"] = (lo, hi)
    return out


def load_mazur() -> Spec:
    """The post's network (for examples)."""
    from .spec import load
    return load("mazur")


def _draw(rng: random.Random, bounds: tuple[sp.Rational, sp.Rational], decimals: int) -> sp.Rational:
    scale = 10 ** decimals
    lo, hi = math.ceil(bounds[0] * scale), math.floor(bounds[1] * scale)
    return sp.Rational(rng.randint(lo, hi), scale)


def _drawn_spec(spec: Spec, exercise: Exercise, rng: random.Random) -> Spec:
    """The spec with every weight, bias, input and target drawn (the learning rate kept)."""
    r = ranges(spec, exercise)
    d = exercise.value_decimals
    values = {w.name: _draw(rng, r["weights"], d) for w in spec.weights}
    values.update({b.name: _draw(rng, r["biases"], d) for b in spec.biases})
    samples = []
    for _ in spec.samples:
        ins = tuple((n, _draw(rng, r["inputs"], d)) for n in spec.inputs)
        if r["targets"] is None:
            hot = rng.randrange(len(spec.outputs))
            ts = tuple((n, sp.Integer(1 if k == hot else 0)) for k, n in enumerate(spec.outputs))
        else:
            ts = tuple((n, _draw(rng, r["targets"], d)) for n in spec.outputs)
        samples.append(Sample(ins, ts))
    return dataclasses.replace(spec, initial=tuple((n, values[n]) for n, _ in spec.initial),
                               samples=tuple(samples), reference=(), reference_source="")


def _needs_targets(derivation: Derivation, asked: Sequence[str]) -> bool:
    """Whether any asked quantity depends on a target."""
    targets = {naming.target(o) for o in derivation.spec.outputs}
    deps = _ancestors(derivation, set(asked))
    return any(naming.split_sample(x)[0] in targets for x in deps)


def _needs_eta(derivation: Derivation, asked: Sequence[str]) -> bool:
    return "eta" in _ancestors(derivation, set(asked))


def _givens(spec: Spec, exercise: Exercise, exact: Derivation) -> tuple[tuple[str, str], ...]:
    """What the student is given: parameters, the first batch's inputs (and targets, learning rate
    when needed), then the rounded intermediates."""
    d = exercise.value_decimals
    asked = asked_names(exact, exercise)
    rounded = given_names(exact, exercise)
    need_from = tuple(asked) + rounded
    targets = _needs_targets(exact, need_from)
    eta = _needs_eta(exact, need_from)
    out = [(n, _fixed(v, d)) for n, v in spec.initial]
    n_samples = len(spec.samples)
    for s in exact.batch:
        sample = spec.samples[s]
        out += [(naming.in_sample(n, s + 1, n_samples), _fixed(v, d)) for n, v in sample.inputs]
        if targets:
            out += [(naming.in_sample(naming.target(n), s + 1, n_samples), _fixed(v, d)) for n, v in sample.targets]
    if eta:
        out.append(("eta", _rational_text(spec.training.learning_rate)))
    out += [(n, _fixed(round_to(exact.values[n], exercise.given_decimals), exercise.given_decimals))
            for n in rounded]
    return tuple(out)


def _words(step: Step, spec: Spec) -> str:
    """Say in words what a step computes ('output of h1')."""
    kind, n = step.kind, step.neuron
    if kind == Kind.NET:
        return f"total net input of {n}"
    if kind == Kind.OUT:
        return f"output of {n}"
    if kind == Kind.E:
        return f"error of {n}"
    if kind == Kind.DELTA:
        return f"delta of {n} (dE_total/dnet_{n})"
    if kind == Kind.UPDATE:
        return f"{step.param} after the update"
    if step.name == naming.E_TOTAL:
        return "total error" + (" over the batch" if kind == Kind.BATCH else "")
    parts = naming.split_d(step.name)
    if parts is None:
        return step.name
    num, den = parts
    if kind in (Kind.GRAD, Kind.BATCH):
        return "gradient of E_total with respect to " + den + (" over the batch" if kind == Kind.BATCH else "")
    return f"derivative of {num} with respect to {den}"


def _key(derivation: Derivation, exercise: Exercise) -> tuple[KeyEntry, ...]:
    by_name = dict(_entries(derivation))
    out = []
    for name in asked_names(derivation, exercise):
        step = by_name[name]
        words = _words(step, derivation.spec)
        sample = naming.split_sample(name)[1]
        if sample is not None:
            words += f", sample {sample}"
        out.append(KeyEntry(name, key_text(derivation.values[name]), exercise.tolerance, words))
    return tuple(out)


def variant_of(spec: Spec, exercise: Exercise, number: int = 1, of: int = 1, seed: int = 0,
               student: str | None = None) -> Variant:
    """The variant of *spec*'s own values (no drawing): givens, rounded intermediates and key.

    >>> v = variant_of(load_mazur(), Exercise(ask=("forward",)))
    >>> v.key[0]
    KeyEntry(name='net_h1', value='0.377500000000000', tolerance='0.00005', words='total net input of h1')
    """
    exact = _derive(spec, (), 0)
    givens = _givens(spec, exercise, exact)
    shell = Variant(number, of, seed, student, spec, exercise, givens, ())
    return dataclasses.replace(shell, key=_key(derivation_of(shell), exercise))


# -- good variants ------------------------------------------------------------------------

def problems(variant: Variant, others: Sequence[Variant] = ()) -> list[tuple[str, str]]:
    """Why *variant* is not a good exercise, as (rule, words); [] when it is.

    Rules: "kink", "saturated", "coincide", "equals_given", "zero_gradient", "copyable" (too
    close to one of *others*).
    """
    return _Judge(variant).problems(others)


class _Judge:
    """The good-variant rules over one variant's 50-digit values."""

    def __init__(self, variant: Variant):
        self.variant = variant
        self.derivation = derivation_of(variant)
        self.values = self.derivation.values
        self.asked = [e.name for e in variant.key]
        self.unit = sp.Rational(1, 10 ** variant.exercise.answer_decimals)

    def problems(self, others: Sequence[Variant]) -> list[tuple[str, str]]:
        out = []
        out += self.kinks()
        out += self.saturation()
        out += self.zero_gradients()
        out += self.coincidences()
        out += self.copyable(others)
        return out

    def _value(self, name: str) -> mpmath.mpf:
        return self.values[name]

    def kinks(self) -> list[tuple[str, str]]:
        spec = self.variant.spec
        out = []
        margin = mpmath.mpf(KINK_MARGIN.p) / KINK_MARGIN.q
        for k, layer in enumerate(spec.layers[1:], start=1):
            if layer.activation not in ("relu", "leaky_relu"):
                continue
            for n in layer.neurons:
                for s in self.derivation.batch:
                    x = self.derivation.value(naming.net(n), s)
                    if abs(x) < margin:
                        out.append(("kink", f"net_{n} = {mpmath.nstr(x, 6)} lies within {KINK_MARGIN} of the "
                                            f"{layer.activation} kink at 0"))
        return out

    def saturation(self) -> list[tuple[str, str]]:
        spec = self.variant.spec
        out = []
        low, tanh_high, soft_high = (mpmath.mpf(float(x)) for x in (SIGMOID_LOW, TANH_HIGH, SOFTMAX_HIGH))
        for layer in spec.layers[1:]:
            for n in layer.neurons:
                for s in self.derivation.batch:
                    y = self.derivation.value(naming.out(n), s)
                    act = layer.activation
                    bad = ((act == "sigmoid" and not low <= y <= 1 - low)
                           or (act == "tanh" and abs(y) > tanh_high)
                           or (act == "softmax" and y > soft_high))
                    if bad:
                        out.append(("saturated", f"out_{n} = {mpmath.nstr(y, 6)} is saturated ({act})"))
        return out

    def zero_gradients(self) -> list[tuple[str, str]]:
        out = []
        unit = mpmath.mpf(self.unit.p) / self.unit.q
        for name in self.asked:
            base = naming.split_sample(name)[0]
            parts = naming.split_d(base)
            if parts and parts[0] == naming.E_TOTAL and parts[1] in self.variant.spec.parameters:
                if abs(self._value(name)) < unit:
                    out.append(("zero_gradient", f"{name} = {mpmath.nstr(self._value(name), 6)} is 0 to "
                                                 f"{self.variant.exercise.answer_decimals} decimals"))
        return out

    def coincidences(self) -> list[tuple[str, str]]:
        """Asked quantities equal to one another or to a given value to the decimals asked, unless
        they are equal by the network's form (still equal when every value is moved slightly)."""
        unit = mpmath.mpf(self.unit.p) / self.unit.q
        found = []
        asked = [(n, self._value(n)) for n in self.asked]
        for i, (a, x) in enumerate(asked):
            for b, y in asked[i + 1:]:
                if abs(x - y) < unit:
                    found.append(("coincide", a, b))
        givens = [(n, mpmath.mpf(sp.Rational(t).p) / sp.Rational(t).q) for n, t in self.variant.givens]
        for a, x in asked:
            for b, y in givens:
                if abs(x - y) < unit:
                    found.append(("equals_given", a, b))
        if not found:
            return []
        moved = self._moved()
        out = []
        for rule, a, b in found:
            if abs(moved[a] - moved[b]) < mpmath.mpf(10) ** -30:
                continue  # equal by form (dnet_o1/dw5 is out_h1; ReLU's out is its net input)
            out.append((rule, f"{a} and {b} agree to {self.variant.exercise.answer_decimals} decimals"))
        return out

    def _moved(self) -> dict:
        """Every value (and given) with all givens moved by a few parts in 10^7 (deterministically)."""
        v = self.variant
        rng = random.Random(f"stepgrad exercise form test {v.seed} {v.number}")

        def nudge(x: sp.Rational) -> sp.Rational:
            return x + sp.Rational(rng.randint(1, 1000), 10 ** 10) * rng.choice((-1, 1))

        spec = v.spec
        samples = tuple(Sample(tuple((n, nudge(x)) for n, x in s.inputs),
                               s.targets if spec.layers[-1].activation == "softmax"
                               else tuple((n, nudge(x)) for n, x in s.targets)) for s in spec.samples)
        moved_spec = dataclasses.replace(spec, initial=tuple((n, nudge(x)) for n, x in spec.initial),
                                         samples=samples,
                                         training=dataclasses.replace(spec.training,
                                                                      learning_rate=nudge(spec.training.learning_rate)))
        rounded = tuple((n, nudge(sp.Rational(t))) for n, t in v.rounded)
        d = _derive(moved_spec, rounded, v.exercise.given_decimals)
        out = dict(d.values)
        with mpmath.workdps(DPS):
            for n, x in moved_spec.initial:
                out[n] = mpmath.mpf(x.p) / x.q
            n_samples = len(spec.samples)
            for s in d.batch:
                for n, x in moved_spec.samples[s].inputs:
                    out[naming.in_sample(n, s + 1, n_samples)] = mpmath.mpf(x.p) / x.q
                for n, x in moved_spec.samples[s].targets:
                    out[naming.in_sample(naming.target(n), s + 1, n_samples)] = mpmath.mpf(x.p) / x.q
            eta = moved_spec.training.learning_rate
            out["eta"] = mpmath.mpf(eta.p) / eta.q
        return out

    def copyable(self, others: Sequence[Variant]) -> list[tuple[str, str]]:
        out = []
        far = self.unit * sp.Rational(1, 2) * COPY_FACTOR
        mine = {e.name: Decimal(e.value) for e in self.variant.key}
        far_d = Decimal(int(far.p)) / Decimal(int(far.q))
        for other in others:
            theirs = {e.name: Decimal(e.value) for e in other.key}
            common = [n for n in mine if n in theirs]
            differ = sum(1 for n in common if abs(mine[n] - theirs[n]) > far_d)
            if common and differ < COPY_SHARE * len(common):
                out.append(("copyable", f"only {differ} of {len(common)} answers differ from variant "
                                        f"{other.number}'s by more than {_plain(far_d)}"))
        return out


# -- the set -------------------------------------------------------------------------------

def make_variants(spec: Spec, exercise: Exercise, *, count: int | None = None,
                  roster: Sequence[str] | None = None, seed: int = 0) -> tuple[Variant, ...]:
    """Draw one good variant per count (or per roster ID), deterministically from *seed*.

    Variant k is drawn from its own generator, ``random.Random(f"stepgrad exercise {seed} {k}")``;
    a draw that breaks a rule (:func:`problems`) is drawn again, at most MAX_DRAWS times.

    >>> vs = make_variants(load_mazur(), Exercise(ask=("forward",)), count=2, seed=1)
    >>> [v.number for v in vs], vs[0].key[0].name
    ([1, 2], 'net_h1')
    """
    if (count is None) == (roster is None):
        raise SpecError("give a count of variants or a roster, not both or neither")
    students: list[str | None] = list(roster) if roster is not None else [None] * int(count)
    if roster is not None:
        check_ids([(k, x) for k, x in enumerate(roster, start=1)], "roster")
    n = len(students)
    if not 1 <= n <= MAX_VARIANTS:
        raise SpecError(f"variants: between 1 and {MAX_VARIANTS}, not {n}")
    out: list[Variant] = []
    for k, student in enumerate(students, start=1):
        rng = random.Random(f"stepgrad exercise {seed} {k}")
        reasons: dict[str, int] = {}
        for _ in range(MAX_DRAWS):
            drawn = _drawn_spec(spec, exercise, rng)
            try:
                variant = variant_of(drawn, exercise, k, n, seed, student)
            except SpecError as exc:  # a saturated or hairline-kink draw
                reasons["undefined"] = reasons.get("undefined", 0) + 1
                del exc
                continue
            found = problems(variant, out)
            if not found:
                out.append(variant)
                break
            for rule, _ in found[:1]:
                reasons[rule] = reasons.get(rule, 0) + 1
        else:
            common = ", ".join(f"{rule} ({count_})" for rule, count_ in
                               sorted(reasons.items(), key=lambda t: (-t[1], t[0])))
            raise SpecError(f"{spec.name}: variant {k}: no good variant in {MAX_DRAWS} draws (rejected for: "
                            f"{common}); widen the ranges in [exercise] or ask fewer decimals")
    return tuple(out)


# -- the key as JSON ------------------------------------------------------------------------

def key_document(variant: Variant) -> dict:
    """The variant's answer key as JSON-ready data (the contract's key.json)."""
    rounded = variant.rounded
    return {
        "format": "stepgrad exercise key", "version": 1, "title": variant.spec.title, "spec": variant.spec.name,
        "seed": variant.seed, "variant": variant.number, "of": variant.of, "student": variant.student,
        "given": [{"name": n, "value": t} for n, t in variant.givens],
        "rounded_givens": ({"decimals": variant.exercise.given_decimals, "names": [n for n, _ in rounded]}
                           if rounded else None),
        "answers": [{"name": e.name, "value": e.value, "tolerance": e.tolerance, "words": e.words}
                    for e in variant.key],
    }


# -- rosters -------------------------------------------------------------------------------

def read_roster(path) -> list[str]:
    """Read student IDs from a CSV file: column 'id' or 'student' when a header names one, else the first."""
    shown = inputs.shorten(str(path), 200)
    text = inputs.read_text(path, "roster file", MAX_ROSTER_BYTES, shown=shown)
    return parse_roster(text, shown)


def parse_roster(text: str, where: str = "<roster>") -> list[str]:
    """Parse roster CSV text into IDs, refusing empty, over-long, unsafe or repeated IDs by line.

    >>> parse_roster("id,name\\ns1,Ann\\n s2 ,Bo\\n")
    ['s1', 's2']
    """
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise SpecError(f"{where}: not CSV: {exc}") from None
    column, start = 0, 0
    if rows:
        header = [c.strip().casefold() for c in rows[0]]
        for name in ("id", "student"):
            if name in header:
                column, start = header.index(name), 1
                break
    found = []
    for line, row in enumerate(rows[start:], start=start + 1):
        if not row or all(not c.strip() for c in row):
            continue
        if column >= len(row):
            raise SpecError(f"{where}:{line}: no ID in column {column + 1}")
        found.append((line, row[column]))
    return check_ids(found, where)


def check_ids(rows: Sequence[tuple[int, str]], where: str) -> list[str]:
    """Strip and check (line, ID) pairs: none empty, over-long, unsafe or repeated."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        if not isinstance(raw, str):
            raise SpecError(f"{where}:{line}: a student ID must be text")
        value = raw.strip()
        if not value:
            raise SpecError(f"{where}:{line}: empty student ID")
        if len(value) > MAX_ID_LENGTH:
            raise SpecError(f"{where}:{line}: student ID {inputs.shorten(value, 20)!r} is longer than "
                            f"{MAX_ID_LENGTH} characters")
        if not ID_PATTERN.match(value):
            raise SpecError(f"{where}:{line}: student ID {inputs.shorten(value, 20)!r} must be ASCII letters, "
                            "digits and . _ @ + -, starting with a letter or digit")
        if value in seen:
            raise SpecError(f"{where}:{line}: student ID {value!r} is already on line {seen[value]}")
        seen[value] = line
        ids.append(value)
        if len(ids) > MAX_VARIANTS:
            raise SpecError(f"{where}:{line}: more than {MAX_VARIANTS} students")
    if not ids:
        raise SpecError(f"{where}: no student IDs")
    return ids
