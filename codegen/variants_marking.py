"""Mark a class's submissions to an exercise set, each against the student's own variant.

``stepgrad exercise`` gives every student a variant of one network (DIR/index.json,
DIR/variant-NN/key.json).  Here :func:`load_exercise` rebuilds those variants
from the spec and the index (refusing a folder whose keys the spec does not
rebuild), :func:`assign` finds each submission's variant (its answers file's
header line, or the roster by student ID, the roster winning), and
:func:`mark_class` marks each one with :func:`codegen.marking.mark_one`
against that variant's derivation, so every diagnosis and follow-through of
the checker applies.  :func:`copy_scores` and :func:`copied_from` tell when a
submission's numbers are another variant's ("these numbers are variant 7's"),
and :func:`shared_wrong` when two submissions share the same wrong numbers.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from functools import cached_property
from pathlib import Path
from typing import Callable

import sympy as sp

from . import marking
from .check_report import WORKING
from ..symbolic import exercise as core
from ..symbolic import inputs
from ..symbolic.check import Options
from ..symbolic.check.answers import half_unit, parse_answers, significant
from ..symbolic.check.working import Reader, read_lines
from ..symbolic.derive import Derivation
from ..symbolic.spec import Spec, SpecError

INDEX = "index.json"
KEY = "key.json"
SUMMARY_JSON = "class-summary.json"
INDEX_FORMAT = "stepgrad exercise index"
#: The class summary's JSON format name; its version goes up when a field changes meaning.
SUMMARY_FORMAT = "stepgrad class summary"
#: Bytes an exercise index or a variant's key may have (30 variants' index is about 3 KiB).
MAX_INDEX_BYTES = 1024 * 1024
MAX_KEY_BYTES = 4 * 1024 * 1024
#: Characters of a student ID, a folder name or a quantity name in the index.
MAX_NAME = 200
#: The answers file's first lines searched for the variant's header line.
HEADER_LINES = 40
#: The header line ``stepgrad exercise`` writes into each variant's answers template.
HEADER = re.compile(r"[#%]\s*stepgrad exercise variant (\d{1,6}) of (\d{1,6}), set ([0-9a-f]{8})"
                    r"(?:, student (.{1,200}?))?\s*\Z")
_FOLDER = re.compile(r"variant-\d{1,6}\Z")
#: An answer set is another variant's when it matches that variant's key in at least this many
#: quantities that its own variant's key does not explain, and in at least half of those answered.
MIN_COPIED = 3
#: Two submissions share wrong answers when at least this many are the same digits.
MIN_SHARED = 3


@dataclass(frozen=True)
class ExerciseSet:
    """An exercise set's variants, rebuilt from the spec, and what the folder's index says of them."""

    folder: Path
    seed: int
    variants: tuple
    #: Student ID -> variant number (from the index's roster, or --roster).
    roster: dict
    _made: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def count(self) -> int:
        return len(self.variants)

    def derivation(self, number: int) -> Derivation:
        """Variant *number*'s derivation, the one its key and its marking use (made once, when needed)."""
        if number not in self._made:
            self._made[number] = core.derivation_of(self.variants[number - 1])
        return self._made[number]

    @cached_property
    def names(self) -> marking.StudentChecker:
        """A checker of variant 1, for the names students write (every variant has the same network)."""
        return marking.StudentChecker(self.derivation(1))

    @cached_property
    def by_value(self) -> dict[str, tuple[list[float], list[int]]]:
        """For each quantity, every variant's key value as a float, sorted, with the variant numbers."""
        out = {}
        for name in self.keys[0] if self.keys else ():
            pairs = sorted((float(key[name]), k + 1) for k, key in enumerate(self.keys) if name in key)
            out[name] = ([x for x, _ in pairs], [k for _, k in pairs])
        return out

    @cached_property
    def keys(self) -> tuple[dict[str, Decimal], ...]:
        """Each variant's key: quantity -> exact decimal value."""
        return tuple({e.name: Decimal(e.value) for e in v.key} for v in self.variants)


# -- the folder ----------------------------------------------------------------------

def _read_json(path: Path, what: str, max_bytes: int) -> object:
    shown = inputs.shorten(str(path), 200)
    text = inputs.read_text(path, what, max_bytes, shown=shown)
    try:
        return json.loads(text)
    except RecursionError:
        raise SpecError(f"{shown}: not valid JSON: nested too deeply") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise SpecError(f"{shown}{f':{line}' if line else ''}: not valid JSON; "
                        f"write the exercise again with stepgrad exercise") from None


def _int(value: object, where: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise SpecError(f"{where}: expected a whole number from {low} to {high}")
    return value


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME or not value.isprintable():
        raise SpecError(f"{where}: expected a name of 1 to {MAX_NAME} printable characters")
    return value


#: A range's end as Exercise.summary writes it: a decimal or a fraction.
_RATIONAL = re.compile(r"-?\d{1,6}(\.\d{1,12})?(/\d{1,6})?\Z")
#: Exercise fields that are a (low, high) range drawn from.
_RANGES = ("weights", "biases", "inputs", "targets")


def _exercise(spec: Spec, raw: object, where: str):
    """The index's exercise options (as Exercise.summary writes them) as an Exercise, each checked."""
    if raw is None:
        return core.exercise_of(spec)
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a table of the exercise's options")
    fields = {f.name: f for f in dataclasses.fields(core.Exercise)}
    values: dict = {}
    for key in sorted(raw):
        at = f"{where}.{inputs.shorten(key, 40)}"
        value = raw[key]
        if key == "tolerance":  # follows from answer_decimals
            if not isinstance(value, str):
                raise SpecError(f"{at}: expected decimal text")
            continue
        if key not in fields:
            raise SpecError(f"{at}: not an exercise option; expected one of: {', '.join(fields)}")
        if key in _RANGES:
            if value is None:
                continue
            if not isinstance(value, list) or len(value) != 2 or \
                    not all(isinstance(x, str) and _RATIONAL.match(x) for x in value):
                raise SpecError(f"{at}: expected [low, high] as decimal text")
            try:
                low, high = (sp.Rational(x) for x in value)
            except ZeroDivisionError:
                raise SpecError(f"{at}: expected [low, high] as decimal text, not a fraction over 0") from None
            if not low <= high:  # equal ends fix a value (biases = [0, 0]), as [exercise] allows
                raise SpecError(f"{at}: expected [low, high] with low below high, or equal to it")
            values[key] = (low, high)
        elif isinstance(fields[key].default, tuple):
            if not isinstance(value, list) or len(value) > 10_000:
                raise SpecError(f"{at}: expected a list of quantity names")
            names = tuple(_name(v, f"{at}[{k}]") for k, v in enumerate(value))
            values[key] = () if key == "ask" and names == ("all",) else names
        else:
            values[key] = _int(value, at, 0, 40)
    try:
        exercise = core.exercise_of(spec, **values)
    except TypeError:
        raise SpecError(f"{where}: options that do not go together; write the exercise again") from None
    except ValueError as exc:  # SpecError among them
        raise SpecError(f"{where}: {exc}") from None
    if "tolerance" in raw and raw["tolerance"] != exercise.tolerance:
        raise SpecError(f"{where}.tolerance: is not half a unit in the last of answer_decimals")
    return exercise


def read_index(spec: Spec, folder: Path) -> tuple[int, int, tuple[str | None, ...], tuple[str, ...], object]:
    """Read and check DIR/index.json: (seed, count, each variant's student, each variant's folder, exercise)."""
    path = folder / INDEX
    where = inputs.shorten(str(path), 200)
    doc = _read_json(path, "exercise index", MAX_INDEX_BYTES)
    if not isinstance(doc, dict) or doc.get("format") != INDEX_FORMAT:
        raise SpecError(f"{where}: not an exercise index written by stepgrad exercise "
                        f"(its \"format\" is not {INDEX_FORMAT!r})")
    if doc.get("version") != 1:
        raise SpecError(f"{where}: \"version\": this stepgrad reads version 1 of the exercise index")
    seed = _int(doc.get("seed"), f"{where}: \"seed\"", 0, core.MAX_SEED)
    count = _int(doc.get("count"), f"{where}: \"count\"", 1, core.MAX_VARIANTS)
    listed = doc.get("variants")
    if not isinstance(listed, list) or len(listed) != count:
        raise SpecError(f"{where}: \"variants\": expected a list of {count} variants (\"count\")")
    students: list[str | None] = []
    folders: list[str] = []
    for k, item in enumerate(listed):
        at = f"{where}: \"variants\"[{k}]"
        if not isinstance(item, dict):
            raise SpecError(f"{at}: expected a table with \"variant\", \"student\" and \"folder\"")
        if _int(item.get("variant"), f"{at}.variant", 1, count) != k + 1:
            raise SpecError(f"{at}.variant: expected {k + 1} (the variants in order)")
        student = item.get("student")
        students.append(None if student is None else _name(student, f"{at}.student"))
        name = _name(item.get("folder"), f"{at}.folder")
        if not _FOLDER.match(name):
            raise SpecError(f"{at}.folder: expected a folder name like variant-01")
        folders.append(name)
    if len(set(folders)) != count:
        raise SpecError(f"{where}: \"variants\": two variants share a folder")
    named = [s for s in students if s is not None]
    if named and len(named) != count:
        raise SpecError(f"{where}: \"variants\": some variants name a student and some do not")
    if len(set(named)) != len(named):
        raise SpecError(f"{where}: \"variants\": two variants name the same student")
    return seed, count, tuple(students), tuple(folders), _exercise(spec, doc.get("exercise"), f"{where}: \"exercise\"")


#: Fields of a key.json that only label it: a spec file renamed, or retitled, sets the same exercise.
_LABELS = ("spec", "title")


def _normal(doc: object) -> object:
    """A key document as JSON reads it back (tuples as lists), for comparing with a key.json."""
    return json.loads(json.dumps(doc))


def key_difference(found: object, rebuilt: dict) -> str:
    """What differs between a key.json and the key rebuilt from the spec ("" when nothing but labels
    does): the first field, and for an answer or given value its name and both values."""
    if not isinstance(found, dict):
        return "it is not a key (a JSON object)"
    for field_ in rebuilt:
        if field_ in _LABELS or found.get(field_) == rebuilt[field_]:
            continue
        mine, theirs = found.get(field_), rebuilt[field_]
        if field_ in ("answers", "given") and isinstance(mine, list) and len(mine) == len(theirs):
            for a, b in zip(mine, theirs):
                if a != b and isinstance(a, dict):
                    return (f"{field_}: {inputs.shorten(b['name'], 40)} is {inputs.shorten(a.get('value'), 30)} "
                            f"in the file and {b['value']} from the spec")
        return f"its {field_!r} differs"
    extra = sorted(set(found) - set(rebuilt))
    return f"it has a field {inputs.shorten(extra[0], 40)!r} a key does not have" if extra else ""


def load_exercise(spec: Spec, folder: Path, roster_path: str | None = None) -> ExerciseSet:
    """Rebuild the variants of the exercise set in *folder* from *spec*; refuse when a key differs.

    The variants come from the index's seed and count (or its roster), as
    ``stepgrad exercise`` drew them; a variant whose rebuilt key is not its
    key.json means another spec (or a changed folder), and marking against it
    would be wrong, so nothing is marked.
    """
    shown = inputs.shorten(str(folder), 200)
    if not folder.is_dir():
        raise SpecError(f"--exercise {shown}: is not a folder; give the folder stepgrad exercise wrote")
    seed, count, students, folders, exercise = read_index(spec, folder)
    roster = list(core.read_roster(roster_path)) if roster_path else None
    indexed = [s for s in students if s is not None]
    if roster is not None and indexed and roster != indexed:
        first = next((k for k, (a, b) in enumerate(zip(roster, indexed)) if a != b), min(len(roster), len(indexed)))
        raise SpecError(f"--roster {inputs.shorten(roster_path, 200)}: differs from the roster the exercise "
                        f"was made for ({shown}/{INDEX}), first at row {first + 1}")
    if roster is not None and len(roster) > count:
        raise SpecError(f"--roster {inputs.shorten(roster_path, 200)}: {len(roster)} students for "
                        f"{count} variants")
    try:
        if indexed:
            variants = core.make_variants(spec, exercise, roster=indexed, seed=seed)
        else:
            variants = core.make_variants(spec, exercise, count=count, seed=seed)
    except (ValueError, ArithmeticError) as exc:  # SpecError among them
        raise SpecError(f"{shown}/{INDEX}: the spec does not make these variants: {exc}") from None
    if len(variants) != count:
        raise SpecError(f"{shown}/{INDEX}: the spec makes {len(variants)} variants, the index lists {count}")
    for v, name in zip(variants, folders):
        path = folder / name / KEY
        why = key_difference(_read_json(path, "variant's key", MAX_KEY_BYTES), _normal(core.key_document(v)))
        if why:
            raise SpecError(f"{inputs.shorten(str(path), 200)}: is not variant {v.number}'s key as the spec "
                            f"{spec.name!r} makes it (seed {seed}): {why}; check against the spec the "
                            f"exercise was made from")
    ids = indexed or roster or []
    return ExerciseSet(folder, seed, tuple(variants), {s: k + 1 for k, s in enumerate(ids)})


# -- which variant a submission is ---------------------------------------------------

@dataclass(frozen=True)
class Header:
    """What an answers file's header line says: its variant, of how many, the set's tag, the student."""

    variant: int
    of: int
    set: str
    student: str | None


def header_of(text: str) -> Header | None | str:
    """The answers file's header line, None when it has none, or why it cannot be used (two differ).

    >>> header_of("# stepgrad exercise variant 3 of 30, set 5ef1fff4, student s17\\n\\"net_h1\\" = 0.3775\\n")
    Header(variant=3, of=30, set='5ef1fff4', student='s17')
    """
    found = set()
    for line in text.splitlines()[:HEADER_LINES]:
        m = HEADER.match(line.strip())
        if m:
            found.add(Header(int(m.group(1)), int(m.group(2)), m.group(3),
                             m.group(4).strip() if m.group(4) else None))
    if len(found) > 1:
        return "its first lines name more than one exercise variant"
    return found.pop() if found else None


@dataclass(frozen=True)
class Assignment:
    """A submission's variant (or None, with why not), and what its feedback says about how it was found."""

    variant: int | None
    student: str
    notes: tuple[str, ...] = ()
    error: str = ""


def assign(path: Path, text: str, ex: ExerciseSet, name: str | None = None) -> Assignment:
    """Find a submission's variant: the roster, or the header line; the roster wins when the two disagree,
    and the feedback says so.

    On the roster, a submission is its student's *name* in the class run (:func:`marking.student_names`),
    else its file name's stem, else its folder's name (a learning platform's folder per student), else
    the student its header names: the first of these the roster lists.
    """
    header = header_of(text)
    problem = header if isinstance(header, str) else ""
    header = header if isinstance(header, Header) else None
    if header is not None and (header.of != ex.count or header.set != core.set_tag(ex.seed)):
        problem = (f"its header names variant {header.variant} of {header.of}, set {header.set}, "
                   f"not this exercise set ({ex.count} variants, set {core.set_tag(ex.seed)})")
        header = None
    if header is not None and not 1 <= header.variant <= ex.count:
        problem, header = f"its header names variant {header.variant}, and there are {ex.count}", None
    tried = (name or path.stem, path.stem, path.parent.name, header.student if header is not None else None)
    student = next((s for s in tried if s and s in ex.roster), name or path.stem)
    listed = ex.roster.get(student)
    shown = inputs.shorten(student, 60)
    if listed is not None:
        notes = [f"Variant {listed} of {ex.count}: the class roster's variant for {shown}."]
        if header is not None and header.variant != listed:
            notes.append(f"Your answers file says variant {header.variant}; the roster gives {shown} "
                         f"variant {listed}, so your answers were marked against variant {listed}.")
        elif problem:
            notes.append(f"Your answers file's first lines were not used: {problem}.")
        return Assignment(listed, student, tuple(notes))
    if header is not None:
        note = f"Variant {header.variant} of {ex.count}, as your answers file's first lines say."
        if ex.roster:
            note += f" ({shown} is not on the class roster.)"
        return Assignment(header.variant, student, (note,))
    why = problem or ("it has no line '# stepgrad exercise variant N of M, set TAG' (the answers template's "
                      "first lines)" + (f" and {shown} is not on the class roster" if ex.roster else
                                        "; give --roster to find it by student ID"))
    return Assignment(None, student, error=f"{path.name}: its exercise variant is unknown: {why}")


# -- copied answers ------------------------------------------------------------------

#: A value part of pasted working that is a plain number.
_PLAIN = re.compile(r"[-+]?(\d{1,20}(\.\d{0,40})?|\.\d{1,40})\Z")


def numeric_answers(text: str, path: Path, ex: ExerciseSet) -> dict[str, Decimal]:
    """The numbers of a submission by canonical quantity, for the quantities a key asks: an answers file's
    numbers, or the values (last parts) of pasted working's lines; {} for a file that cannot be read (the
    marking reports it)."""
    asked = ex.keys[0]
    if path.suffix.lower() in WORKING:
        try:
            lines, _ = read_lines(text, Reader(ex.derivation(1), ex.names))
        except ValueError:  # SpecError among them
            return {}
        out: dict[str, Decimal] = {}
        for line in lines:
            for part in line.parts:
                if part.kind == "value" and not part.reason and _PLAIN.match(part.text.strip()) \
                        and line.quantity in asked:
                    out.setdefault(line.quantity, Decimal(part.text.strip()))
        return out
    try:
        answers = parse_answers(text, path.name, [])
    except SpecError:
        return {}
    return {a.quantity: a.number for a in ex.names.canonical_answers(answers)
            if a.number is not None and a.quantity in asked}


def stands_for(number: Decimal, value: Decimal, options: Options) -> bool:
    """Whether a written number is *value* by the checker's precision rules: the value within half a unit
    of its last digit (or --rtol) and enough significant digits, or the value exactly.

    >>> stands_for(Decimal("0.5933"), Decimal("0.593269992"), Options())
    True
    >>> stands_for(Decimal("0.59"), Decimal("0.593269992"), Options())
    False
    """
    with localcontext() as ctx:
        ctx.prec = 100
        miss = abs(value - number)
        if miss <= Decimal("1e-40"):
            return True
        if number == 0 or significant(number) < options.min_digits:
            return False
        inside = miss <= half_unit(number) * (1 + Decimal("1e-9")) + abs(value) * Decimal("1e-14")
        return inside or (options.rtol is not None and float(miss) <= options.rtol * abs(float(value)))


def copy_scores(numbers: dict[str, Decimal], ex: ExerciseSet, options: Options) -> tuple[int, ...]:
    """For each variant, how many of the numbers its key explains.

    Each number looks up only the variants whose value lies near it (a bisection in the sorted values),
    so a class of many students over many variants stays fast; each candidate is then judged exactly.
    """
    scores = [0] * ex.count
    for name, x in numbers.items():
        found = ex.by_value.get(name)
        if found is None:
            continue
        values, numbers_of = found
        reach = float(half_unit(x)) * 2 + abs(float(x)) * (options.rtol or 0) * 2 + 1e-12 * (1 + abs(float(x)))
        lo, hi = bisect.bisect_left(values, float(x) - reach), bisect.bisect_right(values, float(x) + reach)
        for k in numbers_of[lo:hi]:
            if stands_for(x, ex.keys[k - 1][name], options):
                scores[k - 1] += 1
    return tuple(scores)


def copied_from(numbers: dict[str, Decimal], own: int, ex: ExerciseSet, options: Options) -> int | None:
    """The other variant whose key explains the numbers strictly better than the student's own, or None.

    It must explain at least :data:`MIN_COPIED` numbers that the own key does
    not (a quantity that is the same in both variants, a given learning rate
    say, counts for neither), at least half of the numbers, and more than
    every other variant does.
    """
    if not numbers:
        return None
    own_key = ex.keys[own - 1]
    scores = copy_scores(numbers, ex, options)
    best = max((s, k + 1) for k, s in enumerate(scores) if k + 1 != own) if ex.count > 1 else (0, 0)
    score, other = best
    if score <= scores[own - 1] or 2 * score < len(numbers):
        return None
    if sum(s == score for k, s in enumerate(scores) if k + 1 != own) > 1:
        return None  # two other variants explain them equally well: no one variant to name
    key = ex.keys[other - 1]
    only = sum(stands_for(x, key[n], options) and not stands_for(x, own_key[n], options)
               for n, x in numbers.items())
    return other if only >= MIN_COPIED else None


def partly_copied(numbers: dict[str, Decimal], own: int, ex: ExerciseSet, options: Options) -> tuple[int, int] | None:
    """The other variant whose key explains the most of the numbers the student's own key does not, and how
    many, when that is at least :data:`MIN_COPIED` and no other variant explains as many; else None.

    :func:`copied_from` names a whole answer set that is another variant's; this names a part (the forward
    pass copied from a classmate, say), which follow-through would otherwise credit.  Another variant's
    values are drawn independently of the student's, so matching three of them to the digits written is no
    coincidence.
    """
    own_key = ex.keys[own - 1]
    rest = {n: x for n, x in numbers.items() if not stands_for(x, own_key[n], options)}
    if len(rest) < MIN_COPIED:
        return None
    scores = copy_scores(rest, ex, options)
    best = max((s, k + 1) for k, s in enumerate(scores) if k + 1 != own) if ex.count > 1 else (0, 0)
    if best[0] < MIN_COPIED or sum(s == best[0] for k, s in enumerate(scores) if k + 1 != own) > 1:
        return None
    return best[1], best[0]


def shared_wrong(found: list[tuple[str, int | None, dict[str, Decimal]]], ex: ExerciseSet,
                 options: Options) -> dict[str, list[tuple[str, int]]]:
    """Submissions sharing at least :data:`MIN_SHARED` wrong answers digit for digit: student -> [(other
    student, how many)], sorted.  A wrong answer is one its writer's own key does not explain, with enough
    significant digits that two students writing it by chance is unlikely."""
    by_answer: dict[tuple[str, str], list[str]] = {}
    for student, variant, numbers in found:
        if variant is None:
            continue
        key = ex.keys[variant - 1]
        for name, x in numbers.items():
            if significant(x) >= max(options.min_digits, 3) and not stands_for(x, key[name], options):
                by_answer.setdefault((name, str(x.normalize())), []).append(student)
    pairs: dict[tuple[str, str], int] = {}
    for students in by_answer.values():
        if len(students) > 50:  # the same number written by a crowd is a common mistake, not a copy
            continue
        for a in students:
            for b in students:
                if a < b:
                    pairs[(a, b)] = pairs.get((a, b), 0) + 1
    out: dict[str, list[tuple[str, int]]] = {}
    for (a, b), n in sorted(pairs.items()):
        if n >= MIN_SHARED:
            out.setdefault(a, []).append((b, n))
            out.setdefault(b, []).append((a, n))
    return {k: sorted(v) for k, v in sorted(out.items())}


# -- the class -------------------------------------------------------------------------

def copied_note(other: int) -> str:
    """The feedback's and the summary's words for answers that are another variant's."""
    return (f"These numbers are variant {other}'s: its key explains more of your answers than your own "
            f"variant's key does.")


def mark_class(ex: ExerciseSet, paths: list[Path], fmt: str, options: Options,
               compile_pdf: Callable[[str], bytes] | None, students: list[str] | None = None) -> list[marking.Marked]:
    """Mark every submission against its own variant; a submission whose variant is unknown is a row saying
    why, and answers that are another variant's say whose.  *students* are the submissions' names in the
    class run (:func:`marking.student_names` of *paths* when not given).

    The sheets ask for answers to the exercise's decimals ("give it to 4 decimal places"), so an
    answer written to that many decimals has enough digits, whatever its significant digits.
    """
    options = dataclasses.replace(options, min_decimals=ex.variants[0].exercise.answer_decimals)
    students = marking.student_names(paths) if students is None else students
    prepared = []
    for path, name in zip(paths, students):
        if path.is_symlink():  # not followed: marking.mark_one says why
            prepared.append((path, None, {}))
            continue
        try:
            text = marking.read_submission(path)
        except SpecError as exc:
            prepared.append((path, Assignment(None, name, error=str(exc).replace(str(path), path.name)), {}))
            continue
        a = assign(path, text, ex, name)
        prepared.append((path, a, numeric_answers(text, path, ex) if a.variant is not None else {}))
    shared = shared_wrong([(a.student, a.variant, nums) for _, a, nums in prepared if a is not None], ex, options)
    files_of: dict[str, list[Path]] = {}  # a roster student's submissions: two files may name one student
    for (path, a, _), name in zip(prepared, students):
        if a is not None and a.variant is not None and a.student in ex.roster:
            files_of.setdefault(a.student, []).append((path, name))
    marked = []
    for (path, a, numbers), name in zip(prepared, students):
        if a is None:
            marked.append(dataclasses.replace(marking.mark_one(ex.derivation(1), path, fmt, options, compile_pdf),
                                              student=name))
            continue
        if a.variant is None:
            marked.append(marking.Marked(path, None, a.error, exercise=True, student=name))
            continue
        other = copied_from(numbers, a.variant, ex, options)
        notes = list(a.notes)
        part = partly_copied(numbers, a.variant, ex, options) if other is None else None
        if other is not None:
            notes.append(copied_note(other))
        elif part is not None:
            notes.append(f"{part[1]} of your answers are not your variant's numbers but variant {part[0]}'s.")
        for student, n in shared.get(a.student, ()):
            notes.append(f"{n} of your wrong answers are, digit for digit, {inputs.shorten(student, 60)}'s.")
        twins = tuple(sorted(marking.label(f, n) for f, n in files_of.get(a.student, ()) if f is not path))
        if twins:
            notes.append(f"{len(twins) + 1} submissions are marked as {inputs.shorten(a.student, 60)}'s: this one and "
                         + ", ".join(inputs.shorten(f, 60) for f in twins[:10]) + ("..." if len(twins) > 10 else "")
                         + "; only one of them can be theirs.")
        m = marking.mark_one(ex.derivation(a.variant), path, fmt, options, compile_pdf, notes=tuple(notes),
                             about={"variant": a.variant, "of": ex.count, "student": a.student,
                                    "copied_from": other})
        marked.append(dataclasses.replace(m, variant=a.variant, copied_from=other, exercise=True,
                                          shared=tuple(s for s, _ in shared.get(a.student, ())), same_student=twins,
                                          partly_from=part, student=name))
    return marked


def summary_json(spec: Spec, ex: ExerciseSet, marked: list[marking.Marked]) -> str:
    """The class summary as JSON: one record per submission (variant, copied-from, score, counts, codes,
    error) and the mistakes with how many students made each."""
    read = [m for m in marked if not m.error]
    doc = {"format": SUMMARY_FORMAT, "version": 1, "spec": spec.name, "title": spec.title,
           "exercise": {"seed": ex.seed, "variants": ex.count},
           "read": len(read), "submissions": len(marked),
           "students": [{"student": m.name, "file": m.path.name, "variant": m.variant,
                         "copied_from": m.copied_from, "shares_wrong_answers_with": list(m.shared),
                         "same_student_as": list(m.same_student),
                         "partly_copied_from": (None if m.partly_from is None else
                                                {"variant": m.partly_from[0], "answers": m.partly_from[1]}),
                         "score": None if m.error else m.score, "total": None if m.error else m.total,
                         "counts": dict(m.counts), "codes": list(m.codes), "error": m.error}
                        for m in marked],
           "mistakes": [{"code": code, "students": n} for code, n in marking.common_mistakes(read)],
           "copied": [{"student": m.name, "variant": m.variant, "copied_from": m.copied_from}
                      for m in marked if m.copied_from is not None]}
    return "".join(map(_json_char, json.dumps(doc, ensure_ascii=False, indent=2))) + "\n"


def _json_char(ch: str) -> str:
    return ch if ch.isprintable() or ch in " \n" else json.dumps(ch)[1:-1]


__all__ = ["Assignment", "ExerciseSet", "Header", "assign", "copied_from", "copy_scores", "header_of",
           "load_exercise", "mark_class", "numeric_answers", "read_index", "shared_wrong", "stands_for",
           "summary_json"]
