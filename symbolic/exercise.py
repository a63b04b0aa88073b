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
import hashlib
import io
import math
import random
import re
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any, Sequence

import mpmath
import sympy as sp
from mpmath.libmp import to_str

from . import inputs, limits, naming
from .derive import (DPS, Derivation, Kind, describe, Program, SaturationError, Step, backward_steps, batch_steps, batches,
                     evaluate_batch, given_values, initial_params)
from .evaluate import compile_exact
from .functions import ERRORS
from .model import ETA, Model, symbol
from .spec import MAX_EXERCISE_NAMES, MAX_EXERCISE_PARAMETERS, Sample, Spec, SpecError

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
def set_draws(spec: Spec) -> int:
    """The draws one set of *spec*'s variants may take in all, whatever the ranges (ranges where good variants
    are rare are refused then): twice what :data:`limits.SET_BUDGET_S` pays for by the estimate, so that a set the
    estimate allows has room for twice the usual draws a variant (the estimate itself errs long, so this stays
    near the budget in fact)."""
    return max(MAX_DRAWS, int(2 * limits.SET_BUDGET_S / limits.draw_seconds(spec)))


#: Seeds below this can be found by trying them all against one variant's given values.
SHORT_SEED = 2 ** 32


def set_tag(seed: int) -> str:
    """The exercise set's tag, which the answers templates carry instead of the seed: eight hex
    digits of a SHA-256 of the seed, so a student's template tells ``check`` which set it is
    from without handing out the seed every key is drawn from.

    >>> set_tag(7), set_tag(8) != set_tag(7)
    ('5ef1fff4', True)
    """
    return hashlib.sha256(f"stepgrad exercise set {seed}".encode()).hexdigest()[:8]


def new_seed() -> int:
    """A seed for a set whose teacher gave none: 63 random bits, too many to find by trying."""
    return secrets.randbits(63)


#: The largest seed a set may have (63 bits, as :func:`new_seed` draws them and index.json keeps them).
MAX_SEED = 2 ** 63 - 1


def choose_seed(seed: int | None, option: str = "--seed") -> tuple[int, str]:
    """The set's seed and a warning about it ('' when none): *seed* when it is in range, else a one-line
    refusal naming *option*; a new long seed when it is None; a seed a student could find by trying is
    kept, with a warning that says so.

    >>> choose_seed(7)[1].startswith("seed 7 is short"), choose_seed(2 ** 40), choose_seed(None)[0] >= SHORT_SEED
    (True, (1099511627776, ''), True)
    """
    if seed is None:
        return new_seed(), ""
    if not 0 <= seed <= MAX_SEED:
        raise SpecError(f"{option}: between 0 and 2^63 - 1, not {seed}")
    if seed < SHORT_SEED:
        return seed, (f"seed {seed} is short: a student with the spec could find it by trying seeds against their "
                      f"sheet's values, and with it every key; leave out {option} to let stepgrad choose a long one")
    return seed, ""
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


def _shown(x: sp.Rational, decimals: int) -> str:
    """A given value with *decimals* places ("0.20"), or more when it has more (never rounded).

    >>> _shown(sp.Rational(1, 5), 2), _shown(sp.Rational(1234, 10000), 2)
    ('0.20', '0.1234')
    """
    exponent = (Decimal(int(x.p)) / Decimal(int(x.q))).normalize().as_tuple().exponent
    return _fixed(x, max(decimals, -exponent if isinstance(exponent, int) else decimals))


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
    """A high-precision value (or a rational) rounded half away from zero to *decimals* places, exactly.

    >>> round_to(mpmath.mpf("0.59326999"), 4), round_to(sp.Rational(-5, 100), 1)
    (5933/10000, -1/10)
    """
    d = Decimal(int(x.p)) / Decimal(int(x.q)) if isinstance(x, sp.Rational) else _decimal(x)
    return sp.Rational(format(d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f"))


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
        if key in _RANGES and value is not None:
            value = tuple(sp.Rational(str(x)) for x in value)  # 0.1 means 1/10, as in a spec
        fields[key] = tuple(value) if isinstance(value, list) else value
    exercise = Exercise(**fields)
    _validate(spec, exercise, table)
    return exercise


_RANGES = ("weights", "biases", "inputs", "targets")


def _fail(table, key: str, message: str) -> SpecError:
    """A one-line error about exercise.KEY, with the spec's file and line when known."""
    if table is not None:
        return table.fail(key, message)
    return SpecError(f"exercise.{key}: {message}")


def _validate(spec: Spec, exercise: Exercise, table=None) -> None:
    """Check every field: names in ask, update and given are the spec's, values in range.

    The derivation's steps are built once per network structure (cached).
    """
    if len(spec.parameters) > MAX_EXERCISE_PARAMETERS:
        raise _fail(table, "ask", f"an exercise set is for networks of up to {MAX_EXERCISE_PARAMETERS} weights "
                                  f"and biases; this one has {len(spec.parameters)}")
    for key in ("ask", "update", "given"):  # the command line's and an index's lists, as the spec's are
        if len(getattr(exercise, key)) > MAX_EXERCISE_NAMES:
            raise _fail(table, key, f"at most {MAX_EXERCISE_NAMES} names, not {len(getattr(exercise, key))}")
    listed = any(item not in GROUPS for key in ("ask", "given") for item in getattr(exercise, key))
    names = _step_names(spec) if listed else frozenset()
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
    for key, (low, high) in (("given_decimals", (1, 12)), ("value_decimals", (0, 6)), ("answer_decimals", (1, 12))):
        value = getattr(exercise, key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(table, key, f"must be a whole number between {low} and {high}, not {value!r}")
    scale = 10 ** exercise.value_decimals
    for key in _RANGES:
        bounds = getattr(exercise, key)
        if bounds is None:
            continue
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            raise _fail(table, key, "must be a range (low, high) with low <= high")
        if math.ceil(bounds[0] * scale) > math.floor(bounds[1] * scale):
            raise _fail(table, key, f"holds no value with {exercise.value_decimals} decimals")
    if exercise.targets is not None and spec.layers[-1].activation == "softmax":
        raise _fail(table, "targets", "softmax targets are drawn one-hot; leave the range out")
    plan = _plan(_structure(spec), exercise)
    if not plan.asked:
        raise _fail(table, "ask", "leaves nothing to compute: every quantity asked is given or not updated")
    for what in spec.omitted:
        if plan.targets if what == "targets" else plan.eta:
            raise _fail(table, "ask", f"asks for quantities that need the {what.replace('_', ' ')}, which the spec "
                                    "leaves out; give it in the spec or ask only the forward pass")
    allowed = ERRORS[spec.error].target_range
    if exercise.targets is not None and allowed is not None and not (
            allowed[0] <= exercise.targets[0] and exercise.targets[1] <= allowed[1]):
        raise _fail(table, "targets", f"targets must be {allowed[2]}, as {spec.error} needs")


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
    return _plan(_structure(derivation.spec), exercise).given


@dataclass(frozen=True)
class _Plan:
    """What an exercise asks and gives on a network's structure (the same for every variant)."""

    asked: tuple[str, ...]
    given: tuple[str, ...]
    words: tuple[str, ...]
    targets: bool
    eta: bool


@functools.lru_cache(maxsize=32)
def _plan(structure: Spec, exercise: Exercise) -> _Plan:
    shape = _shape(structure)
    chosen = _chosen(structure, exercise)
    entries = _entries(shape)
    given_set = _expand(shape, exercise.given, chosen)
    given = tuple(n for n, _ in entries if n in given_set)
    asked = _asked(shape, exercise, given)
    needs = _ancestors(shape, set(asked + given))
    targets = {naming.target(o) for o in structure.outputs}
    by_name = dict(entries)
    words = []
    for name in asked:
        text = describe(by_name[name], structure)
        sample = naming.split_sample(name)[1]
        words.append(text + (f", sample {sample}" if sample is not None else ""))
    return _Plan(asked, given, tuple(words), any(naming.split_sample(x)[0] in targets for x in needs),
                 "eta" in needs)


@functools.lru_cache(maxsize=32)
def _shape(structure: Spec) -> Derivation:
    """The steps of a structure's derivation, without values (names, kinds, dependencies)."""
    steps, program = _compiled(structure, ())
    model = Model(structure)
    batch = batches(structure)[0]
    extra = tuple(batch_steps(model, batch)) if structure.training.batch_size != 1 else ()
    return Derivation(model, steps + extra, {}, batch, steps)


def asked_names(derivation: Derivation, exercise: Exercise) -> tuple[str, ...]:
    """The quantities a student computes, in derivation order.

    ``ask`` (default "all") and, when ``update`` names parameters, their gradients and
    updates; with ``update``, the backward quantities are those the chosen updates need.
    Given intermediates are not asked.

    >>> from stepgrad.symbolic.spec import load
    >>> from stepgrad.symbolic.derive import derive
    >>> asked_names(derive(load("mazur")), Exercise(ask=("forward",)))[:3]
    ('net_h1', 'out_h1', 'net_h2')
    """
    return _plan(_structure(derivation.spec), exercise).asked


def _asked(derivation: Derivation, exercise: Exercise, given: tuple[str, ...]) -> tuple[str, ...]:
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
        if step.kind == Kind.GRAD and step.neuron is not None:  # dE/dw is delta times dnet/dw, however written
            symbols.append(naming.delta(step.neuron))
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
    return _plan(_structure(variant.spec), variant.exercise).given


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

    >>> r = ranges(_the_post(), Exercise())
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


def _the_post() -> Spec:
    """The post's network (for examples)."""
    from .spec import load
    return load("mazur")


def _draw(rng: random.Random, bounds: tuple[sp.Rational, sp.Rational], decimals: int) -> sp.Rational:
    scale = 10 ** decimals
    lo, hi = math.ceil(bounds[0] * scale), math.floor(bounds[1] * scale)
    return sp.Rational(rng.randint(lo, hi), scale)


def _drawn_spec(spec: Spec, exercise: Exercise, rng: random.Random, r: dict | None = None) -> Spec:
    """The spec with every weight, bias, input and target drawn from *r* (default: :func:`ranges`),
    the learning rate kept."""
    r = r or ranges(spec, exercise)
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


#: Local redraws (of the neurons a rule names) tried before the whole variant is drawn again.
MAX_MENDS = 12


def _mend(spec: Spec, exercise: Exercise, r: dict, culprits: set[str], rng: random.Random,
          shrink: set[str] = frozenset()) -> Spec:
    """Draw again the incoming weights and bias of each culprit neuron (an input: its value in every
    sample), and halve those of each saturated neuron (rounded to the value decimals).

    A neuron that is off, on its kink or saturated is mended where it is, instead of drawing the
    whole network again (a deep ReLU network seldom comes out right in one draw).  *r* holds
    the ranges of the spec the set is drawn from (:func:`ranges`).
    """
    d = exercise.value_decimals

    def half(x: sp.Rational, bounds) -> sp.Rational:
        y = round_to(mpmath.mpf(int(x.p)) / (2 * int(x.q)), d)
        return y if bounds[0] <= y <= bounds[1] else x

    values = dict(spec.initial)
    for w in spec.weights:
        if w.dst in culprits:
            values[w.name] = _draw(rng, r["weights"], d)
        elif w.dst in shrink:
            values[w.name] = half(values[w.name], r["weights"])
    for b in spec.biases:
        if any(n in culprits for n in b.neurons):
            values[b.name] = _draw(rng, r["biases"], d)
        elif any(n in shrink for n in b.neurons):
            values[b.name] = half(values[b.name], r["biases"])
    samples = tuple(Sample(tuple((n, _draw(rng, r["inputs"], d)) if n in culprits else (n, x) for n, x in s.inputs),
                           s.targets) for s in spec.samples)
    return dataclasses.replace(spec, initial=tuple((n, values[n]) for n, _ in spec.initial), samples=samples)


def _givens(spec: Spec, exercise: Exercise, exact: Derivation) -> tuple[tuple[str, str], ...]:
    """What the student is given: parameters, the first batch's inputs (and targets, learning rate
    when needed), then the rounded intermediates."""
    d = exercise.value_decimals
    plan = _plan(_structure(spec), exercise)
    rounded, targets, eta = plan.given, plan.targets, plan.eta
    out = [(n, _shown(v, d)) for n, v in spec.initial]
    n_samples = len(spec.samples) if len(exact.batch) > 1 else 1  # one sample per update: plain names
    for s in exact.batch:
        sample = spec.samples[s]
        out += [(naming.in_sample(n, s + 1, n_samples), _shown(v, d)) for n, v in sample.inputs]
        if targets:
            out += [(naming.in_sample(naming.target(n), s + 1, n_samples), _shown(v, d)) for n, v in sample.targets]
    if eta:
        out.append(("eta", _rational_text(spec.training.learning_rate)))
    out += [(n, _fixed(round_to(exact.values[n], exercise.given_decimals), exercise.given_decimals))
            for n in rounded]
    return tuple(out)


def _key(derivation: Derivation, exercise: Exercise) -> tuple[KeyEntry, ...]:
    plan = _plan(_structure(derivation.spec), exercise)
    tolerance = exercise.tolerance
    return tuple(KeyEntry(name, key_text(derivation.values[name]), tolerance, words)
                 for name, words in zip(plan.asked, plan.words))


def variant_of(spec: Spec, exercise: Exercise, number: int = 1, of: int = 1, seed: int = 0,
               student: str | None = None) -> Variant:
    """The variant of *spec*'s own values (no drawing): givens, rounded intermediates and key.

    >>> v = variant_of(_the_post(), Exercise(ask=("forward",)))
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


def _sources(derivation: Derivation) -> dict[str, str]:
    """For each value that only copies another (dnet_o1/dw5 = out_h1, dnet_o1/dout_h1 = w5), what it copies."""
    n = derivation.n_samples
    multi = len(derivation.batch) > 1
    out = {}
    for step in derivation.steps:
        rhs = step.rhs.doit() if step.rhs.args else step.rhs
        if not rhs.is_Symbol:
            continue
        for s in derivation.batch:
            name = derivation.value_name(step, s)
            copied = rhs.name
            if multi and step.per_sample and copied not in derivation.spec.parameters and copied != "eta":
                copied = naming.in_sample(copied, s + 1, n)
            out[name] = out.get(copied, copied)
    return out


def _decimals(n: int) -> str:
    return f"{n} decimal" + ("" if n == 1 else "s")


#: Up to this many asked quantities, no two may coincide; beyond it (hundreds of quantities at four
#: decimals would almost always hold a pair), no two of the same kind (_families).
MAX_ALL_PAIRS = 120


def _families(derivation: Derivation, variant: Variant) -> dict[str, str]:
    """The kind of each asked and given quantity, for the coincidence rule of large exercises.

    Quantities a student could mistake for one another share a kind: net inputs, outputs, inputs
    and targets; errors; derivatives and deltas; gradients; updated and given parameters.
    """
    kinds = {Kind.NET: "forward", Kind.OUT: "forward", Kind.E: "error", Kind.E_TOTAL: "error",
             Kind.GRAD: "gradient", Kind.UPDATE: "parameter", Kind.DNET_DW: "forward",
             Kind.DNET_DOUT: "parameter"}
    out = {}
    for name, step in _entries(derivation):
        if step.kind == Kind.BATCH:
            out[name] = "error" if name == naming.E_TOTAL else "gradient"
        else:
            out[name] = kinds.get(step.kind, "derivative")
    params = set(variant.spec.parameters)
    for name, _ in variant.givens:
        if name not in out:
            out[name] = "parameter" if name in params else "forward"
    return out


class _Judge:
    """The good-variant rules over one variant's 50-digit values."""

    def __init__(self, variant: Variant):
        self.variant = variant
        self.derivation = derivation_of(variant)
        self.values = self.derivation.values
        self.asked = [e.name for e in variant.key]
        self.order = {n: k for k, n in enumerate(self.asked)}
        #: Neurons (or inputs) whose incoming values a local redraw changes to mend a problem.
        self.culprits: set[str] = set()
        #: Saturated neurons, whose incoming weights and bias a mend halves.
        self.shrink: set[str] = set()
        self.unit = sp.Rational(1, 10 ** variant.exercise.answer_decimals)

    def problems(self, others: Sequence[Variant], first_only: bool = False) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for rule in (self.kinks, self.saturation, self.zero_gradients, lambda: self.copyable(others),
                     self.coincidences):
            out += rule()
            if out and first_only:
                break
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
                        self.culprits.add(n)
                        out.append(("kink", f"net_{n} = {mpmath.nstr(x, 6)} lies within {KINK_MARGIN} of the "
                                            f"{layer.activation} kink at 0"))
        if spec.error == "huber":  # the Huber loss has kinks where |out - target| = delta
            delta = dict(spec.error_params)["delta"]
            delta_mp = mpmath.mpf(int(delta.p)) / int(delta.q)
            n_samples = len(spec.samples)
            for o in spec.outputs:
                for s in self.derivation.batch:
                    target = dict(spec.samples[s].targets)[o]
                    r = self.derivation.value(naming.out(o), s) - mpmath.mpf(int(target.p)) / int(target.q)
                    if abs(abs(r) - delta_mp) < margin:
                        self.culprits.add(o)
                        out.append(("kink", f"out_{o} - target_{o} = {mpmath.nstr(r, 6)} lies within {KINK_MARGIN} "
                                            f"of the Huber loss's kink at +-{delta}"
                                            + (f" (sample {s + 1})" if n_samples > 1 else "")))
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
                        self.shrink.add(n)
                        out.append(("saturated", f"out_{n} = {mpmath.nstr(y, 6)} is saturated ({act})"))
        return out

    def zero_gradients(self) -> list[tuple[str, str]]:
        out = []
        unit = mpmath.mpf(self.unit.p) / self.unit.q
        spec = self.variant.spec
        feeds = {w.name: (w.src, w.dst) for w in spec.weights}
        feeds.update({b.name: b.neurons for b in spec.biases})
        culprits = set()
        for name in self.asked:
            base = naming.split_sample(name)[0]
            parts = naming.split_d(base)
            if parts and parts[0] == naming.E_TOTAL and parts[1] in spec.parameters:
                if abs(self._value(name)) < unit:
                    culprits.update(feeds[parts[1]])
                    out.append(("zero_gradient", f"{name} = {mpmath.nstr(self._value(name), 6)} is 0 to "
                                                 f"{_decimals(self.variant.exercise.answer_decimals)}"))
        if out:  # a ReLU neuron that is off passes no gradient back: draw its weights again
            dead = {n for layer in spec.layers[1:] if layer.activation == "relu" for n in layer.neurons
                    for s in self.derivation.batch if self.derivation.value(naming.net(n), s) <= 0}
            self.culprits.update(dead or culprits)
        return out

    def coincidences(self) -> list[tuple[str, str]]:
        """Asked quantities equal to one another or to a given value to the decimals asked, unless
        they are equal by the network's form (still equal when every value is moved slightly)."""
        decimals = self.variant.exercise.answer_decimals
        every = len(self.asked) <= MAX_ALL_PAIRS
        family = {} if every else _families(self.derivation, self.variant)
        groups: dict[tuple, list[tuple[str, bool]]] = {}
        for name in self.asked:  # grouped by the text a student writes: the value to the decimals asked
            groups.setdefault((family.get(name), round_to(self._value(name), decimals)), []).append((name, True))
        for name, text in self.variant.givens:
            key = (family.get(name), round_to(sp.Rational(text), decimals))
            if key in groups:
                groups[key].append((name, False))
        given = {n for n, _ in self.variant.givens}
        source = _sources(self.derivation)
        close = []
        for members in groups.values():
            for i, (a, asked_a) in enumerate(members):
                for b, asked_b in members[i + 1:]:
                    if not (asked_a or asked_b):
                        continue
                    if source.get(a, a) in given and source.get(b, b) in given:
                        continue  # both only copy given numbers (dnet_o1/dout_h1 is w5): two givens that agree
                    close.append((a, b) if asked_a else (b, a))
        if not close:
            return []
        moved = self._moved()
        out = []
        for a, b in close:
            if moved[a] == moved[b]:
                continue  # equal by form (dnet_o1/dw5 is out_h1; ReLU's out is its net input)
            rule = "equals_given" if b in given else "coincide"
            first, second = sorted((a, b), key=self.order.get) if rule == "coincide" else (a, b)
            out.append((rule, f"{first} and {second} agree to {_decimals(decimals)}"))
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
            n_samples = len(spec.samples) if len(d.batch) > 1 else 1
            for s in d.batch:
                for n, x in moved_spec.samples[s].inputs:
                    out[naming.in_sample(n, s + 1, n_samples)] = mpmath.mpf(x.p) / x.q
                for n, x in moved_spec.samples[s].targets:
                    out[naming.in_sample(naming.target(n), s + 1, n_samples)] = mpmath.mpf(x.p) / x.q
            eta = moved_spec.training.learning_rate
            out["eta"] = mpmath.mpf(eta.p) / eta.q
            return {k: int(mpmath.nint(x * mpmath.mpf(10) ** 30)) for k, x in out.items()}

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

#: What to change in [exercise] when most draws break a rule.
_HINTS = {
    "kink": "move or widen the ranges in [exercise] (weights, biases, inputs)",
    "saturated": "narrow the ranges in [exercise] (smaller weights and biases)",
    "undefined": "narrow the ranges in [exercise] (smaller weights and biases)",
    "zero_gradient": "ask fewer gradients (exercise.update), more decimals (answer_decimals), or move the ranges",
    "coincide": "ask fewer quantities (exercise.ask, exercise.update) or more decimals (answer_decimals)",
    "equals_given": "ask fewer quantities (exercise.ask, exercise.update) or more decimals (answer_decimals)",
    "copyable": "make fewer variants or widen the ranges in [exercise]",
}


def make_variants(spec: Spec, exercise: Exercise, *, count: int | None = None,
                  roster: Sequence[str] | None = None, seed: int = 0) -> tuple[Variant, ...]:
    """Draw one good variant per count (or per roster ID), deterministically from *seed*.

    Variant k is drawn from its own generator, ``random.Random(f"stepgrad exercise {seed} {k}")``;
    a draw that breaks a rule (:func:`problems`) is drawn again, at most MAX_DRAWS times.

    >>> vs = make_variants(_the_post(), Exercise(ask=("forward",)), count=2, seed=1)
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
    bounds = ranges(spec, exercise)
    left = set_draws(spec)  # for the whole set: ranges where good variants are rare must not run for hours
    for k, student in enumerate(students, start=1):
        rng = random.Random(f"stepgrad exercise {seed} {k}")
        reasons: dict[str, int] = {}
        drawn, mended = _drawn_spec(spec, exercise, rng, bounds), 0
        for _ in range(MAX_DRAWS):
            if left <= 0:
                ranked = sorted(reasons.items(), key=lambda t: (-t[1], t[0])) or [("kink", 0)]
                raise SpecError(f"{spec.name}: good variants are rare with these ranges: {set_draws(spec)} draws "
                                f"made only {k - 1} of {n} variants; "
                                f"{_HINTS.get(ranked[0][0], _HINTS['kink'])}")
            left -= 1
            try:
                variant = variant_of(drawn, exercise, k, n, seed, student)
            except SpecError:  # a value undefined at these numbers (an output of exactly 0 or 1)
                reasons["undefined"] = reasons.get("undefined", 0) + 1
                drawn, mended = _drawn_spec(spec, exercise, rng, bounds), 0
                continue
            judge = _Judge(variant)
            found = judge.problems(out, first_only=True)
            if not found:
                out.append(variant)
                break
            reasons[found[0][0]] = reasons.get(found[0][0], 0) + 1
            if (judge.culprits or judge.shrink) and mended < MAX_MENDS:
                drawn, mended = _mend(drawn, exercise, bounds, judge.culprits, rng, judge.shrink), mended + 1
            else:
                drawn, mended = _drawn_spec(spec, exercise, rng, bounds), 0
        else:
            ranked = sorted(reasons.items(), key=lambda t: (-t[1], t[0]))
            common = ", ".join(f"{rule} ({count_})" for rule, count_ in ranked)
            raise SpecError(f"{spec.name}: variant {k}: no good variant in {MAX_DRAWS} draws (rejected for: "
                            f"{common}); {_HINTS.get(ranked[0][0], _HINTS['kink'])}")
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
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []  # (the line a row starts on, its cells): a quoted cell may span lines
    try:
        end = 0
        for row in reader:
            rows.append((end + 1, row))
            end = reader.line_num
    except csv.Error as exc:
        raise SpecError(f"{where}:{reader.line_num}: not CSV: {exc}") from None
    column, start = 0, 0
    if rows:
        header = [c.strip().casefold() for c in rows[0][1]]
        for name in ("id", "student"):
            if name in header:
                column, start = header.index(name), 1
                break
    found = []
    for line, row in rows[start:]:
        if not row or all(not c.strip() for c in row):
            continue
        if column >= len(row):
            raise SpecError(f"{where}:{line}: no ID in column {column + 1}")
        found.append((line, row[column]))
    return check_ids(found, where)


def check_ids(rows: Sequence[tuple[int, str]], where: str) -> list[str]:
    """Strip and check (line, ID) pairs: none empty, over-long, unsafe or repeated."""
    ids: list[str] = []
    seen: dict[str, tuple[int, str]] = {}
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
        first = seen.get(value.casefold())
        if first is not None:  # S17 and s17 name one student to a case-blind file system, LMS or marker
            also = (f" as {first[1]!r}; IDs that differ only in case name the same student"
                    if first[1] != value else "")
            raise SpecError(f"{where}:{line}: student ID {value!r} is already on line {first[0]}{also}")
        seen[value.casefold()] = (line, value)
        ids.append(value)
        if len(ids) > MAX_VARIANTS:
            raise SpecError(f"{where}:{line}: more than {MAX_VARIANTS} students")
    if not ids:
        raise SpecError(f"{where}: no student IDs")
    return ids
