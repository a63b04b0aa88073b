"""Judging: a verdict for every answer, and the most plausible mistake behind each wrong one.

**Precision.**  A written number stands for an interval: 0.593 for
0.593 +- 0.0005.  It is correct when the true value lies in that interval and it
has at least ``min_digits`` significant digits (or is exactly the value), or
when it is what the student gets from rounded inputs they plausibly used: the
figures the spec's source printed (``reference``), or their own earlier answers;
the interval is widened by how much the rounding of those figures can move the
result.  A mistake that reproduces the value more tightly than the true value
wins over "correct".  Too few digits is its own verdict's reason
(``too-few-digits``); truncation or a last digit one unit off is a rounding slip
(``rounding``); a written 0 is the value 0.

**Follow-through.**  An answer that follows from the student's own earlier wrong
answer (also by shortcuts such as dE/dw = delta * out) is ``consistent``: credited,
with the mistake counted once, where it was made.  Earlier answers that make the
later step trivial (0, 1, or a copy of a given value) are not credited
(``trivial-carry``).

**Mistakes.**  Candidates come from :mod:`symbolic.check.mistakes` and are tried
most plausible first: single mistakes (ranked by simplicity, then by how tightly
they reproduce the value), the student's own earlier answers plus one mistake,
another quantity's value, rounding along the way, digit slips, then pairs of
mistakes when no single one explains the value.  The search stops after a fixed
amount of work (``Options.work``, counted in evaluated steps, so verdicts do not
depend on the machine), and says so (``search-stopped``).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext
from functools import cached_property

import mpmath
import sympy as sp

from .. import formula, naming
from ..derive import Derivation, Step, at_round, format_value, train
from ..evaluate import exact_decimal
from ..model import symbol
from ..spec import Spec, SpecError
from . import messages
from .answers import (Answer, decimals, half_unit, parse_answers, plain, rounded, significant, to_decimal,
                      to_digits)
from .mistakes import REGISTRY, STRUCTURAL, all_candidates
from .program import FAIL, Candidate, Evaluator, compile_float, edited

VERDICTS = ("correct", "consistent", "wrong", "unknown")
#: Codes the judge itself gives (the mistakes' codes come from the registry), with their README line.
JUDGE_CODES = {
    "too-few-digits": "Fewer significant digits than asked (default 3) and not the exact value.",
    "rounding": "A rounding slip: digits cut off instead of rounded, or the last digit one unit off.",
    "early-rounding": "Every intermediate rounded to k decimals along the way (or your own rounded answers).",
    "digit-slip": "A digit of the answer changed, two swapped, or the decimal point moved.",
    "carried-error": "Consistent with your own earlier wrong answer: credited, the mistake counted there.",
    "trivial-carry": "Follows from a trivial earlier answer (0, 1, a copy of a given value): not credited.",
    "wrong-quantity": "The value of another quantity (δ given for ∂E/∂w, another weight's gradient).",
    "round-count": "A value after training counted by forward passes (N − 1 updates) instead of N updates.",
    "no-value": "A formula with no finite value at the spec's numbers.",
    "search-stopped": "The mistake search reached its work limit before explaining this answer.",
    "unknown": "A name stepgrad does not know (with a did-you-mean).",
    "formula": "A formula given for a given value or a value after training.",
}
#: Codes of answers that are right but for their rounding: later answers may build on them.
PRECISION = {"rounding", "too-few-digits", "early-rounding"}
#: Formula comparison points besides the spec's own.
FORMULA_POINTS = 3
#: Decimal places tried for every intermediate rounded along the way (the post prints 9).
EARLY_ROUNDING = tuple(range(1, 10))
#: Ranks of simplicity that a mistake loses for landing at the edge of the written digits' interval.
TIGHTNESS = 1.0
#: With fewer significant digits than asked, only mistakes up to this rank explain a value exactly.
EXACT_RANK = 4
MAX_PAIRS = 4000
#: Mistakes made throughout that replace, on a sheet, the same slip found step by step.
SHEET_WIDE = {"swapped-weights": "wrong-weight", "wrong-wiring": "wrong-weight"}
#: At most this many other explanations of the very same value are offered.
MAX_ALTERNATIVES = 3
#: Unknown names get a did-you-mean up to this many per file.
MAX_HINTS = 100
#: At most this many combinations of true and printed inputs are tried for one answer.
REFERENCE_COMBINATIONS = 729
#: Simple mistakes that may win over "correct" or "too few digits" when they reproduce a value more
#: tightly than the true value (a weight written unchanged after its update).
TIGHT = ("no-update", "bias-not-updated", "frozen-bias-updated", "eta-one", "update-sign")
#: Relative float noise allowed on top of the interval a written number stands for.
_EPS = 1e-9


@dataclass(frozen=True)
class Options:
    """How strictly to judge: minimum significant digits, an optional relative tolerance, search work."""

    min_digits: int = 3
    rtol: float | None = None
    #: An exercise that says "give it to 4 decimal places" takes 0.0015 as enough: an answer with at
    #: least this many decimals has enough digits whatever its significant digits (None: no such rule).
    min_decimals: int | None = None
    #: The mistake search stops after this much work: evaluated steps, plus 300 for each step
    #: compiled anew and 20 for each re-run (about 3 s; see benchmarks/check_search.py).
    work: int = 1_000_000

    def enough(self, number: Decimal) -> bool:
        """Whether a written number has the digits a marker asks for: ``min_digits`` significant
        digits, or at least ``min_decimals`` decimals when the exercise asks for decimals.

        >>> Options().enough(Decimal("0.0015")), Options(min_decimals=4).enough(Decimal("0.0015"))
        (False, True)
        """
        return significant(number) >= self.min_digits or (
            self.min_decimals is not None and decimals(number) >= self.min_decimals)

    def wanted(self) -> str:
        """The digits asked for, in words: '3 significant digits' or '3 significant digits or 4 decimals'."""
        more = f" or {self.min_decimals} decimal{'s' if self.min_decimals != 1 else ''}" if self.min_decimals else ""
        return messages.digits_word(self.min_digits) + more


@dataclass(frozen=True)
class Diagnosis:
    """One explanation of a wrong answer: a stable code and a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class Result:
    """The verdict on one answer."""

    answer: Answer
    verdict: str
    expected: str
    diagnoses: tuple[Diagnosis, ...] = ()
    #: The derivation's step for the quantity, when there is one.
    step: Step | None = None
    #: The sample (0-based) the step belongs to, for several-sample batches.
    sample: int | None = None
    #: Other explanations that reproduce the value exactly as well and are as simple.
    alternatives: tuple[Diagnosis, ...] = ()

    @property
    def quantity(self) -> str:
        return self.answer.quantity

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.diagnoses)


@dataclass(frozen=True)
class Report:
    """Every verdict, in the order of the answers file."""

    derivation: Derivation
    where: str
    results: tuple[Result, ...]

    @property
    def exit_code(self) -> int:
        return 0 if all(r.verdict == "correct" for r in self.results) else 1

    @property
    def spec(self) -> Spec:
        return self.derivation.spec


@dataclass
class _Pending:
    """A wrong answer still looking for its explanation."""

    index: int
    answer: Answer
    target: str
    step_index: int
    value: float | None = None         # the number written, as a float
    half: float = 0.0                  # half a unit in its last place
    formula_values: list | None = None  # a formula's values at the comparison points
    points: list | None = None
    mine: dict = field(default_factory=dict)
    wrong_up: list = field(default_factory=list)
    found: list = field(default_factory=list)   # (tier, rank, tightness, diagnoses)
    fallback: list = field(default_factory=list)
    #: The single mistakes that reproduce the value: candidate key -> candidate.
    singles: dict = field(default_factory=dict)


def _same(a, b) -> bool:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


class Checker:
    """Check answers against one derivation; build once, check many files."""

    def __init__(self, derivation: Derivation, options: Options | None = None):
        self.derivation = derivation
        self.spec = derivation.spec
        self.options = options or Options()
        self.ev = Evaluator(derivation)
        self.names = sorted(set(self.ev.index) | set(self.ev.leaves) | set(self.ev.unsuffixed.values())
                            | {n.split("[")[0] for n in self.ev.leaves})
        self.reference = {k: Decimal(v) for k, v in self.spec.reference
                          if "@" not in k and k in self.ev.index and _decimal_text(v)}

    @cached_property
    def candidates(self) -> list[Candidate]:
        return all_candidates(self.ev)

    @cached_property
    def _compiled(self) -> dict:
        return {}

    @cached_property
    def _touched(self) -> dict:
        return {}

    def replacements(self, *cs: Candidate) -> dict:
        if len(cs) == 1:
            c = cs[0]
            if c.key not in self._compiled:
                self._compiled[c.key] = edited(self.ev, c)
            return self._compiled[c.key]
        a, b = cs
        if {e[0] for e in a.edits} & {e[0] for e in b.edits}:
            merged = Candidate(a.code, a.rank, a.message, a.key + "|" + b.key, a.edits + b.edits,
                               a.hooks + b.hooks, a.leaves + b.leaves)
            return edited(self.ev, merged)
        return {**self.replacements(a), **self.replacements(b)}

    def _first(self, c: Candidate) -> int:
        idx = [e[0] for e in c.edits] + [h[0] for h in c.hooks]
        for name, _ in c.leaves:
            idx += self.ev.users.get(name, [])
        return min(idx) if idx else len(self.ev.flat)

    def _touches(self, c: Candidate, target: int) -> bool:
        """Whether candidate *c* can change the step at index *target*."""
        names = self._touched.get(c.key)
        if names is None:
            names = frozenset({self.ev.flat[e[0]].name for e in c.edits} | {self.ev.flat[h[0]].name for h in c.hooks})
            self._touched[c.key] = names
        t = self.ev.flat[target].name
        if t in names or not names.isdisjoint(self.ev.ancestors[target]):
            return True
        return any(name in self.ev.leaf_ancestors[target] for name, _ in c.leaves)

    def run_candidate(self, base: dict, cs: tuple, pins=None, upto=None) -> dict | None:
        leaves = {}
        for c in cs:
            leaves.update(dict(c.leaves))
        return self.ev.run(base, self.replacements(*cs), pins, leaves or None, upto)

    # -- the whole file
    def check(self, answers: tuple[Answer, ...], where: str = "<answers>") -> Report:
        """Judge every answer; explain the wrong ones."""
        self.ev.work = 0
        self._hints = 0
        self._carries: dict = {}
        self._train_spent = 0.0
        self._pin_half: dict[str, float] = {}
        results: dict[int, Result] = {}
        pins: dict[str, float] = {}
        verdicts: dict[str, Result] = {}
        order = sorted(range(len(answers)), key=lambda k: self.ev.index.get(answers[k].quantity, -1))
        pending: list[_Pending] = []
        after = [a for a in answers if self._after(a.quantity)]
        trained = self._train(after) if after else {}
        for k in order:
            a = answers[k]
            if not self.known(a.quantity):
                results[k] = self._unknown(a)
                continue
            if a.quantity in self.ev.leaves or self._after(a.quantity):
                results[k] = self._simple(a, trained)
                continue
            if a.is_formula:
                result, p = self._formula(k, a, where)
            else:
                result, p = self._number(k, a, pins, verdicts)
                pins[a.quantity] = float(a.number)
                # a written 0 is the value 0, not 0 +- 0.5
                self._pin_half[a.quantity] = float(half_unit(a.number)) if a.number != 0 else 0.0
            results[k] = result
            verdicts[a.quantity] = result
            if p is not None:
                pending.append(p)
        if pending:
            self._search(pending, verdicts)
            for p in pending:
                results[p.index] = self._final(results[p.index], p)
        self._sheet_rounding(answers, results)
        self._sheet_global(pending, results)
        # an earlier answer that copies a given value is trivial only when no mistake explains it:
        # decided again now that every earlier answer has its explanation
        final = {r.quantity: r for r in results.values()}
        for k, r in list(results.items()):
            if r.codes == ("trivial-carry",) and r.quantity in self._carries:
                results[k] = self._carried(*self._carries[r.quantity], final)
        return Report(self.derivation, where, tuple(results[k] for k in range(len(answers))))

    def known(self, name: str) -> bool:
        return name in self.ev.index or name in self.ev.leaves or self._after(name) is not None

    def _after(self, name: str) -> tuple[str, int] | None:
        m = re.fullmatch(r"(.+)@(\d{1,12})", name)
        if not m or int(m.group(2)) > self.spec.training.steps:
            return None
        base = m.group(1)
        forward = {s.name for s in self.derivation.steps if s.section in ("forward", "error")}
        if base in forward or base in self.spec.parameters or base.split("[")[0] in forward:
            return base, int(m.group(2))
        return None

    # -- training for X@N answers, within the training budget
    def _train(self, answers) -> dict:
        from .. import limits
        rounds = sorted({self._after(a.quantity)[1] for a in answers})
        updates = {n: max(at_round(self.spec, n), 0) for n in rounds}
        most = max(updates.values())
        # estimated as the training that runs (the variants below are trained only within the budget)
        cost = limits.training_seconds(self.spec, most)
        if cost > limits.TRAIN_BUDGET_S:
            raise SpecError(f"{self.spec.name}: answers after {max(rounds)} updates need about "
                            f"{cost:.0f} s of training (the budget is {limits.TRAIN_BUDGET_S:.0f} s); "
                            f"ask about an earlier round")
        self._train_spent = cost
        trajectory = train(self.spec, most, snapshots=tuple(sorted(set(updates.values()))), dps=20)
        out = {}
        for n, u in updates.items():
            snap = dict(trajectory.snapshots[u])
            snap[naming.E_TOTAL] = trajectory.errors[u]
            out[n] = snap
        return out

    def _unknown(self, a: Answer) -> Result:
        self._hints = getattr(self, "_hints", 0) + 1
        # a did-you-mean for the first names only: thousands of unknown keys stay fast
        hint = difflib.get_close_matches(a.quantity[:100], self.names, n=1, cutoff=0.5) \
            if self._hints <= MAX_HINTS else []
        extra = f"; did you mean {hint[0]!r}?" if hint and hint[0] != a.quantity else ""
        shown = a.quantity if len(a.quantity) <= 80 else a.quantity[:77] + "..."
        message = f"stepgrad does not know a quantity named {shown!r}{extra}"
        return Result(a, "unknown", "", (Diagnosis("unknown", message),))

    def _simple(self, a: Answer, trained: dict) -> Result:
        """Judge a given value or a value after training: correct, digits, rounding, variants, slips."""
        after = self._after(a.quantity)
        if after:
            x = trained[after[1]][after[0]]
        else:
            exact = self.ev.exact_leaves.get(a.quantity)
            x = mpmath.mpf(exact.p) / exact.q if exact is not None else mpmath.mpf(self.ev.leaves[a.quantity])
        expected = format_value(x)
        if a.is_formula:
            return Result(a, "wrong", expected, (Diagnosis(
                "formula", "Give this one as a number: it is a given or trained value, not a step."),))
        verdict, why = self._precision(x, a.number)
        if verdict == "correct":
            return Result(a, "correct", expected)
        if why:
            return Result(a, "wrong", expected, why)
        d = self._rounding(x, a.number)
        if not d and after:
            d = self._variants_after(after[0], after[1], a.number)
        d = d or self._digit_slip(float(x), a.number)
        return Result(a, "wrong", expected, tuple(d))

    # -- precision
    def _precision(self, x, given: Decimal) -> tuple[str, tuple]:
        """('correct', ()) when *given* stands for *x*; ('few', diagnoses) for too few digits; ('no', ())."""
        value = to_decimal(x)
        with localcontext() as ctx:
            ctx.prec = 100  # 20-digit answers are compared digit for digit, not in floats
            miss = abs(value - given)
            if miss <= Decimal("1e-40"):
                return "correct", ()
            if given == 0:
                return "no", ()
            inside = miss <= half_unit(given) * (1 + Decimal("1e-12"))
        xf = float(value)
        inside = inside or (self.options.rtol is not None and float(miss) <= self.options.rtol * abs(xf))
        if not inside:
            return "no", ()
        if self.options.enough(given):
            return "correct", ()
        return "few", (Diagnosis("too-few-digits", messages.too_few(
            Answer("", plain(given), given), x, self.options, significant(given))),)

    def _matches(self, got, value: float, half: float) -> bool:
        if got is None or not math.isfinite(got):
            return False
        if value == 0.0:
            return abs(got) <= 1e-12
        return abs(got - value) <= half * (1 + _EPS) + 1e-13 * abs(got)

    @cached_property
    def reference_worlds(self) -> list[dict]:
        """What a student gets from the printed figures: copying every printed figure, or only the
        printed forward pass (net, out, errors) and computing the derivatives from it."""
        if not self.reference:
            return []
        pins = {k: float(v) for k, v in self.reference.items()}
        forward = {k: v for k, v in pins.items()
                   if self.ev.flat[self.ev.index[k]].kind in ("net", "out", "E", "E_total")}
        worlds = [self.ev.run_all(self.ev.leaves, pins), self.ev.run_all(self.ev.leaves, forward)]
        return [w for w in worlds if w is not None]

    # -- numbers
    def _number(self, k: int, a: Answer, pins: dict, verdicts: dict):
        ev = self.ev
        i = ev.index[a.quantity]
        f = ev.flat[i]
        x = ev.truth[a.quantity]
        expected = format_value(x)
        given = a.number
        value, half = float(given), float(half_unit(given))
        # with fewer digits than asked, only a mistake that gives the value exactly explains it
        search_half = half if self.options.enough(given) else 1e-9 * max(1.0, abs(value))
        p = _Pending(k, a, a.quantity, i, value, search_half)
        wrong = lambda d=(): Result(a, "wrong", expected, tuple(d), f.step, f.sample)  # noqa: E731
        verdict, few = self._precision(x, given)
        if verdict == "correct":
            return Result(a, "correct", expected, (), f.step, f.sample), None
        mine = {n: pins[n] for n in self._frontier(i, pins)}
        # an earlier answer off only by its rounding is a right input, rounded
        wrong_up = sorted((n for n in mine if verdicts[n].verdict != "correct"
                           and not ((set(verdicts[n].codes) | {d.code for d in verdicts[n].alternatives})
                                    & PRECISION and verdicts[n].answer.number is not None
                                    and self.options.enough(verdicts[n].answer.number))),
                          key=ev.index.get)
        p.mine, p.wrong_up = mine, wrong_up
        # inputs the student plausibly used: their own earlier answers, or the source's printed figures
        enough = self.options.enough(given) or given == 0
        right_pins = {n: v for n, v in mine.items() if n not in wrong_up}
        if right_pins and enough and self._world_matches(right_pins, i, value, half):
            return Result(a, "correct", expected, (), f.step, f.sample), None
        if wrong_up and self._world_matches(mine, i, value, half if enough else 1e-12):
            self._carries[a.quantity] = (a, expected, f, mine, wrong_up)
            return self._carried(a, expected, f, mine, wrong_up, verdicts), None
        if enough and verdict == "no" and self._from_reference(i, value, half, x, given):
            tight = self._tight(i, value, half, x)
            if not tight:
                return Result(a, "correct", expected, (), f.step, f.sample), None
            return wrong(self._say(a, x, i, tight)), None
        if verdict == "few":
            tight = self._tight(i, value, half, x) or self._exact(i, value)
            return wrong(self._say(a, x, i, tight) if tight else few), None
        if given == 0 and 0 < decimals(given) and abs(float(x)) < half:
            return wrong(self._say(a, x, i, [Diagnosis("too-few-digits", messages.too_few(
                a, x, self.options, 0))], fix=False)), None
        rounding = self._rounding(x, given) if given != 0 or decimals(given) > 0 else []
        if rounding:
            truncated = given == rounded(x, decimals(given), ROUND_DOWN)
            early = [] if truncated else self._early(i, value, half, within=True, places=decimals(given))
            # a rounded intermediate used onward reproduces the value, a slip of the last digit only
            # comes near it: unless the digits are the true value's cut off, an intermediate kept to at
            # least two decimals fewer than the answer shows is named first (y-hat to 4 decimals, answers
            # to 6 or more); otherwise it is offered beside the slip
            source, k = self._rounded_source(i, value, half)
            slip = early or rounding
            if source and not truncated and k <= decimals(given) - 2:
                slip, source = source, slip[:1]
            return Result(a, "wrong", expected, tuple(self._say(a, x, i, slip, fix=False)), f.step, f.sample,
                          tuple(source)), None
        return wrong(), p

    def _sheet_global(self, pending: list, results: dict) -> None:
        """One mistake made throughout (two weights swapped, a target read for another) that explains
        several answers which single-step slips explain one by one: named once for all of them."""
        ev = self.ev
        explained = [p for p in pending if p.singles and results[p.index].verdict == "wrong"]
        if len(explained) < 2:
            return
        best_rank = {p.index: min(c.rank for c in p.singles.values()) for p in explained}
        counts: dict[str, list] = {}
        for p in explained:
            for key, c in p.singles.items():
                steps = {e[0] for e in c.edits} | {h[0] for h in c.hooks}
                if len(steps) >= 2 or c.leaves:
                    if c.rank <= best_rank[p.index] + 2:
                        counts.setdefault(key, []).append(p)
        choice = None
        for key, ps in counts.items():
            if len(ps) < 2:
                continue
            c = ps[0].singles[key]
            # only in place of the same slip made step by step: one weight for another in each step
            if c.code not in SHEET_WIDE or any(results[p.index].codes[:1] != (SHEET_WIDE[c.code],) for p in ps):
                continue
            score = (-len(ps), c.rank, key)
            if choice is None or score < choice[0]:
                choice = (score, c, ps)
        if choice is None:
            return
        _, c, ps = choice
        for p in ps:
            r = results[p.index]
            d = self._say(p.answer, ev.truth[p.target], p.step_index, [Diagnosis(c.code, c.message)])
            results[p.index] = Result(r.answer, r.verdict, r.expected, tuple(d), r.step, r.sample, r.alternatives)

    def _sheet_rounding(self, answers, results: dict) -> None:
        """One rounded intermediate behind several answers: a cause for the whole sheet.

        A value rounded to k decimals (the output, say, to 4) and then used onward explains a
        pattern of last-digit differences; it is adopted when it explains at least two answers
        that nothing else explains better (rounding slips, digit slips, nothing) and contradicts
        none of the student's other numbers.
        """
        ev = self.ev
        weak = {"rounding", "early-rounding", "digit-slip", "search-stopped"}
        numbers = [(k, a) for k, a in enumerate(answers) if not a.is_formula and a.quantity in ev.index]
        open_ = [(k, a) for k, a in numbers if results[k].verdict == "wrong"
                 and (not results[k].codes or results[k].codes[0] in weak)]
        if len(open_) < 2:
            return
        best = None
        for c in self.candidates:
            if c.code != "rounded-intermediate" or ev.work > self.options.work:
                continue
            touched = [(k, a) for k, a in numbers if self._touches(c, ev.index[a.quantity])]
            if len(touched) < 2:
                continue
            values = self.run_candidate(ev.base, (c,))
            if values is None:
                continue
            explained, contradicted = [], False
            for k, a in touched:
                got, v, h = values[a.quantity], float(a.number), float(half_unit(a.number))
                hit = self._matches(got, v, h)
                if (k, a) in open_ and hit:
                    explained.append(k)
                elif results[k].verdict == "correct" and not hit:
                    contradicted = True
                    break
            # plain truncations are explained by a rounding slip already: the cause must explain more
            if contradicted or len(explained) < 2 or all(
                    results[k].codes[:1] == ("rounding",) and answers[k].number == rounded(
                        ev.truth[answers[k].quantity], decimals(answers[k].number), ROUND_DOWN)
                    for k in explained):
                continue
            key = (-len(explained), c.rank, c.key)
            if best is None or key < best[0]:
                best = (key, c, explained)
        if best is None:
            return
        _, c, explained = best
        for k in explained:
            r = results[k]
            i = ev.index[r.quantity]
            d = self._say(r.answer, ev.truth[r.quantity], i, [Diagnosis(c.code, c.message)])
            results[k] = Result(r.answer, r.verdict, r.expected, tuple(d), r.step, r.sample)

    def _frontier(self, i: int, pins: dict) -> list[str]:
        """The student's answers that step *i* is computed from, not hidden behind later answers."""
        ev = self.ev
        out, seen, todo = [], set(), [i]
        while todo:
            j = todo.pop()
            f = ev.flat[j]
            deps = set(f.deps)
            if j in ev.delta_forms:
                deps.add(naming.in_sample(naming.delta(f.step.neuron), f.sample + 1, len(self.spec.samples))
                         if f.sample is not None else naming.delta(f.step.neuron))
            for d in deps:
                if d in seen or d not in ev.index:
                    continue
                seen.add(d)
                if d in pins:
                    out.append(d)
                else:
                    todo.append(ev.index[d])
        return sorted(out, key=ev.index.get)

    def _world_matches(self, pins: dict, i: int, value: float, half: float) -> bool:
        """Whether the value follows from the student's own earlier answers (*pins*), allowing for
        the digits they kept of those answers beyond the ones they wrote."""
        ev = self.ev
        for shortcuts in (False, True):
            world = ev.run_all(ev.leaves, pins, shortcuts=shortcuts, upto=i)
            if world is None:
                continue
            got = world[ev.flat[i].name]
            if self._matches(got, value, half):
                return True
            if half <= 1e-12:
                continue
            fn = ev.delta_forms.get(i, ev.functions[i]) if shortcuts else ev.functions[i]
            widen = 0.0
            for d in sorted(ev.flat[i].deps | set(ev.delta_forms_deps.get(i, ()))):
                h = self._pin_half.get(d)
                if d in pins and h:
                    try:
                        widen += abs(fn({**world, d: world[d] + h}) - got)
                    except FAIL:
                        pass
            if widen and self._matches(got, value, half + widen):
                return True
        return False

    def _from_reference(self, i: int, value: float, half: float, x, given: Decimal) -> bool:
        """Whether the value is what the student gets from the source's printed (rounded) figures.

        Each input of the step may be its true value, its printed figure, or what the printed
        figures before it give; every combination is tried (up to REFERENCE_COMBINATIONS).
        """
        if value == 0 or not self.reference:
            return False
        ev = self.ev
        f = ev.flat[i]
        worlds = self.reference_worlds
        if any(self._matches(w.get(f.name), value, half) for w in worlds):
            return True
        choices = []
        for d in sorted(f.deps):
            if d not in ev.index:
                continue
            options = {ev.base[d]}
            if d in self.reference:
                options.add(float(self.reference[d]))
            options.update(w[d] for w in worlds if d in w)
            if len(options) > 1:
                choices.append((d, sorted(options)))
        total = 1
        for _, options in choices:
            total *= len(options)
        if not choices or total > REFERENCE_COMBINATIONS:
            return False
        fn = ev.functions[i]
        for combo in itertools.product(*[options for _, options in choices]):
            v = dict(ev.base)
            v.update({d: c for (d, _), c in zip(choices, combo)})
            try:
                if self._matches(fn(v), value, half):
                    return True
            except FAIL:
                continue
        return False

    def _tight(self, i: int, value: float, half: float, x) -> list:
        """Simple mistakes that reproduce the value more tightly than the true value does (w+ = w)."""
        ev = self.ev
        name = ev.flat[i].name
        miss = abs(float(x) - value)
        best = None
        for c in self.candidates:
            if c.code not in TIGHT or not self._touches(c, i):
                continue
            got = self.run_candidate(ev.base, (c,), upto=i)
            got = None if got is None else got.get(name)
            if self._matches(got, value, half) and abs(got - value) < 0.25 * miss:
                key = (REGISTRY[c.code].rank, abs(got - value))
                if best is None or key < best[0]:
                    best = (key, c)
        return [Diagnosis(best[1].code, best[1].message)] if best else []

    def _exact(self, i: int, value: float) -> list:
        """A mistake that gives exactly the short value written (0.39 for a wiring that makes 0.39)."""
        ev = self.ev
        name = ev.flat[i].name
        budget = ev.work + self.options.work // 4
        for c in self.candidates:
            if ev.work > budget:
                break
            if c.rank > EXACT_RANK:
                continue  # with so few digits, a less simple mistake landing on them is a coincidence
            if c.code == "rounded-intermediate" or not self._touches(c, i):
                continue
            got = self.run_candidate(ev.base, (c,), upto=None if c.rename else i)
            got = None if got is None else got.get(dict(c.rename).get(name, name))
            if got is not None and abs(got - value) <= 1e-9 * max(1.0, abs(value)):
                return [Diagnosis(c.code, c.message)]
        return []

    def _say(self, a: Answer, x, i: int | None, diagnoses: list, fix: bool = True) -> list:
        """Put the student's value, the expected value and the corrected step into the first message."""
        if not diagnoses:
            return diagnoses
        line = messages.step_line(self.ev, i) if (fix and i is not None) else None
        first = Diagnosis(diagnoses[0].code, messages.full(a, x, diagnoses[0].message, line))
        return [first] + list(diagnoses[1:])

    def _carried(self, a, expected, f, mine, wrong_up, verdicts) -> Result:
        given = ", ".join(f"{n} = {verdicts[n].answer.text}" for n in wrong_up)
        trivial = [n for n in wrong_up if self._trivial(verdicts[n], n)]
        value = a.number
        if trivial and (value in (0, 1, -1) or any(value == verdicts[n].answer.number for n in trivial)
                        or self._copies_given(value, self.ev.index[a.quantity])
                        or self._copies_input(value, self.ev.index[a.quantity], mine)):
            return Result(a, "wrong", expected, (Diagnosis(
                "trivial-carry",
                f"You wrote {a.text}, which follows from your earlier {given}; that answer makes this step "
                f"trivial, so this is not credited. The value is {to_digits(self.ev.truth[a.quantity], value)}."),),
                f.step, f.sample)
        return Result(a, "consistent", expected, (Diagnosis(
            "carried-error",
            f"Consistent with your earlier answer ({given}), which was wrong: right working from it, "
            f"credited here; the mistake is counted there. With the right values it is "
            f"{to_digits(self.ev.truth[a.quantity], value)}."),), f.step, f.sample)

    def _copies_input(self, value: Decimal, i: int, mine: dict) -> bool:
        """Whether the value is just one of the step's inputs (delta = 1 makes delta * out = out)."""
        ev = self.ev
        f = ev.flat[i]
        v = float(value)
        for shortcuts in (False, True):
            world = ev.run_all(ev.leaves, mine, shortcuts=shortcuts, upto=i)
            if world is None:
                continue
            deps = set(f.deps)
            if shortcuts and i in ev.delta_forms:
                deps = set(ev.delta_forms_deps.get(i, deps))
            for d in deps:
                x = world.get(d)
                if x is not None and abs(x - v) <= float(half_unit(value)) * (1 + _EPS) and x != 0:
                    return True
        return False

    def _trivial(self, result: Result, name: str) -> bool:
        """An earlier answer that trivialises what follows: 0, 1 or -1, or a copy of a given value
        that no mistake explains (a copy that a mistake explains, w5 not updated, is that mistake)."""
        answer = result.answer
        if answer.number is None:
            return False
        v = answer.number
        if v in (0, 1, -1):
            return True
        explained = [c for c in result.codes if c not in ("search-stopped", "trivial-carry", "too-few-digits")]
        return not explained and self._copies_given(v, self.ev.index[name])

    def _copies_given(self, v: Decimal, i: int) -> bool:
        for leaf in self.ev.flat[i].deps | self.ev.leaf_ancestors[i]:
            exact = self.ev.exact_leaves.get(leaf)
            if exact is not None and abs(float(v) - float(exact)) < 1e-15 and v != 0:
                return True
        return False

    # -- the search
    def _search(self, pending: list[_Pending], verdicts: dict) -> None:
        ev = self.ev
        budget = self.options.work
        need = [p for p in pending if p.formula_values is None or p.points is not None]
        by_target: dict[int, list[_Pending]] = {}
        for p in need:
            by_target.setdefault(p.step_index, []).append(p)
        stopped = False
        settled: dict[int, int] = {}
        # single mistakes
        for c in self.candidates:
            if ev.work > budget:
                stopped = True
                break
            first = self._first(c)
            # an answer explained by a mistake of rank r needs only mistakes up to rank r + 2 more
            # (its equally good alternatives); its search is over for the others
            targets = [t for t in by_target if t >= first and c.rank <= settled.get(t, 99) + 2
                       and self._touches(c, t)]
            if not targets:
                continue
            values = self.run_candidate(ev.base, (c,), upto=max(targets))
            if values is None:
                continue
            rename = dict(c.rename)
            for t in targets:
                for p in by_target[t]:
                    got = values.get(rename.get(p.target, p.target))
                    if self._explains(p, got, (c,)):
                        p.found.append((2, c.rank, self._miss(p, got), [Diagnosis(c.code, c.message)]))
                        p.singles[c.key] = c
                if all(p.found for p in by_target[t]):
                    settled[t] = max(min(f[1] for f in p.found) for p in by_target[t])
        # the student's own earlier answers plus one mistake
        for p in need:
            if p.found or not p.wrong_up or stopped or p.value is None:
                continue
            world = ev.run_all(ev.leaves, p.mine, upto=p.step_index)
            if world is None:
                continue
            for c in self.candidates:
                if ev.work > budget:
                    stopped = True
                    break
                if c.rename or not self._touches(c, p.step_index) or \
                        all(ev.flat[e[0]].name in p.mine for e in c.edits) and c.edits:
                    continue
                values = self.run_candidate(world, (c,), pins=p.mine, upto=p.step_index)
                if values is not None and self._matches(values[p.target], p.value, p.half):
                    given = ", ".join(f"{n} = {verdicts[n].answer.text}" for n in p.wrong_up)
                    p.found.append((3, c.rank, self._miss(p, values[p.target]), [
                        Diagnosis("carried-error", f"You worked from your earlier answer ({given}), counted there."),
                        Diagnosis(c.code, c.message)]))
        # another quantity, rounding along the way, digit slips
        for p in need:
            if p.found or p.value is None:
                continue
            other = self._other_quantity(p.target, p.value, p.half)
            if other:
                p.found.append((4, 0, 0.0, other))
                continue
            if not stopped:
                early = self._early(p.step_index, p.value, p.half, within=False, places=decimals(p.answer.number))
                if early:
                    p.found.append((4, 1, 0.0, early))
                    continue
            slip = self._digit_slip(ev.base[p.target], p.answer.number)
            if slip:
                p.found.append((4, 2, 0.0, slip))
        # pairs, only when no single mistake explains the value
        rest = [p for p in need if not p.found]
        if rest and not stopped:
            stopped = self._pairs(rest, budget)
        if stopped:
            for p in need:
                if not p.found:
                    p.fallback = [Diagnosis("search-stopped", (
                        f"stepgrad stopped searching after {budget:,} evaluated steps on this network before "
                        f"finding what explains this value; compare your working with the corrected step."))]

    def _explains(self, p: _Pending, got, cs: tuple) -> bool:
        if p.value is not None:
            return self._matches(got, p.value, p.half)
        if not _same(p.formula_values[0], got):
            return False
        rename = {}
        for c in cs:
            rename.update(dict(c.rename))
        target = rename.get(p.target, p.target)
        for v, point in zip(p.formula_values[1:], p.points):
            run = self.run_candidate(point, cs, upto=p.step_index if not rename else None)
            if run is None or not _same(v, run.get(target)):
                return False
        return True

    def _miss(self, p: _Pending, got) -> float:
        if p.value is None or got is None:
            return 0.0
        return abs(got - p.value) / max(p.half, 1e-300)

    def _pairs(self, rest: list[_Pending], budget: int) -> bool:
        ev = self.ev
        singles = [c for c in self.candidates if c.pairable]
        targets = {p.step_index for p in rest}
        useful = [c for c in singles if any(self._touches(c, t) for t in targets)]
        pairs = sorted(itertools.combinations(useful, 2), key=lambda t: t[0].rank + t[1].rank)
        for c1, c2 in pairs[:MAX_PAIRS]:
            if ev.work > budget:
                return True
            if c1.code == c2.code == "wrong-wiring" or c1.key == c2.key:
                continue
            overlap = {e[0] for e in c1.edits} & {e[0] for e in c2.edits}
            if overlap and (len(c1.edits) > 1 or len(c2.edits) > 1
                            or any(e[1] == STRUCTURAL for e in c1.edits + c2.edits)):
                continue
            both = [p for p in rest if self._touches(c1, p.step_index) and self._touches(c2, p.step_index)]
            if not both:
                continue
            values = self.run_candidate(ev.base, (c1, c2), upto=max(p.step_index for p in both))
            if values is None:
                continue
            rename = dict(c1.rename + c2.rename)
            for p in both:
                got = values.get(rename.get(p.target, p.target))
                if self._explains(p, got, (c1, c2)):
                    p.found.append((5, c1.rank + c2.rank, self._miss(p, got),
                                    [Diagnosis(c1.code, c1.message), Diagnosis(c2.code, c2.message)]))
        return False

    def _final(self, result: Result, p: _Pending) -> Result:
        x = self.ev.truth[p.target]
        if not p.found:
            d = self._say(p.answer, x, p.step_index, p.fallback) if p.fallback else []
            return Result(result.answer, result.verdict, result.expected, tuple(d), result.step, result.sample)
        best = min(p.found, key=_plausibility)
        d = list(self._say(p.answer, x, p.step_index, best[3]))
        # every other explanation that gives the very same value (the spec's symmetry can make two
        # mistakes indistinguishable from one number): offered as alternatives
        others = [f[3][-1] for f in sorted(p.found, key=_plausibility)
                  if f is not best and f[0] == best[0] and abs(f[2] - best[2]) <= 1e-6
                  and f[1] <= best[1] + 2 and f[3][-1].code != best[3][-1].code]
        seen, alternatives = set(), []
        for o in others:
            if o.code not in seen:
                seen.add(o.code)
                alternatives.append(o)
        if alternatives:
            d[0] = Diagnosis(d[0].code, f"{d[0].message} The same value also comes from another mistake: "
                                        f"{alternatives[0].message}")
        return Result(result.answer, result.verdict, result.expected, tuple(d), result.step, result.sample,
                      tuple(alternatives[:MAX_ALTERNATIVES]))

    # -- other explanations
    def _other_quantity(self, name: str, value: float, half: float) -> list[Diagnosis]:
        """A value that is exactly another quantity's: a gradient of another weight, or a factor."""
        weights = {w.name: w for w in self.spec.weights}
        mine = _gradient_of(name)
        for other, x in self.ev.base.items():
            if other == name or other in self.ev.leaves or not self._matches(x, value, half):
                continue
            if value == 0:
                continue
            theirs = _gradient_of(other)
            if mine in weights and theirs in weights and weights[mine].layer == weights[theirs].layer:
                a, b = weights[mine], weights[theirs]
                return [Diagnosis("wrong-wiring",
                                  f"That is {other}, the gradient of {b.name} ({b.src} -> {b.dst}); {name} belongs "
                                  f"to {a.name}, which this spec wires {a.src} -> {a.dst}.")]
            hint = ""
            if mine in weights and other.startswith("delta_"):
                w = weights[mine]
                hint = (f" To get {name}, multiply it by the last factor of the chain rule, "
                        f"{naming.d(naming.net(w.dst), w.name)} = {'out_' + w.src if w.layer > 1 else w.src}.")
            return [Diagnosis("wrong-quantity", f"That is the value of {other}, not of {name}.{hint}")]
        return []

    def _variants_after(self, name: str, n: int, given: Decimal) -> list[Diagnosis]:
        """A value after training under the other ways of counting: updated weights, rounds by passes."""
        from .. import limits
        base = self.spec.training
        found = []
        spent = getattr(self, "_train_spent", 0)
        for hidden, count in (("updated", base.count_rounds), (base.hidden_deltas, "forward_passes"),
                              ("updated", "forward_passes"), ("original", base.count_rounds)):
            if (hidden, count) == (base.hidden_deltas, base.count_rounds):
                continue
            if hidden == "updated" and base.batch_size != 1:
                continue
            variant = self.spec.with_training(hidden_deltas=hidden, count_rounds=count)
            updates = at_round(variant, n)
            if updates < 0:
                continue
            cost = limits.training_seconds(variant, updates)
            if spent + cost > limits.TRAIN_BUDGET_S:
                break  # the variants are an explanation, not worth more than the training budget
            spent += cost
            trajectory = train(variant, updates, snapshots=(updates,), dps=20)
            snap = dict(trajectory.snapshots[updates])
            snap[naming.E_TOTAL] = trajectory.errors[updates]
            if self._precision(snap[name], given)[0] != "correct":
                continue
            if hidden != base.hidden_deltas:
                found.append(Diagnosis(
                    "updated-weights-used",
                    f"{plain(given)} is what you get when the hidden deltas use the output weights already "
                    f"updated in the same round; the method uses the original weights there."))
            if count != base.count_rounds:
                found.append(Diagnosis(
                    "round-count",
                    f"{plain(given)} is the value in round {n}'s forward pass, after {n - 1} updates; "
                    f"{name}@{n} here means after {n} updates."))
            break
        # the biases: frozen ones trained, or trained ones frozen
        frozen = any(not b.trainable for b in self.spec.biases)
        trained = any(b.trainable for b in self.spec.biases)
        for code, variant, words in (
                ("frozen-bias-updated", self.spec.with_biases_trainable() if frozen else None,
                 "what you get when the biases this spec freezes are trained too"),
                ("bias-not-updated", Spec(**{**self.spec.__dict__, "biases": tuple(
                    type(b)(b.name, b.layer, b.neurons, False) for b in self.spec.biases)}) if trained else None,
                 "what you get when the biases are left alone; this spec trains them")):
            if found or variant is None:
                continue
            updates = at_round(variant, n)
            cost = limits.training_seconds(variant, updates)
            if updates < 0 or spent + cost > limits.TRAIN_BUDGET_S:
                continue
            spent += cost
            trajectory = train(variant, updates, snapshots=(updates,), dps=20)
            snap = dict(trajectory.snapshots[updates])
            snap[naming.E_TOTAL] = trajectory.errors[updates]
            if name in snap and self._precision(snap[name], given)[0] == "correct":
                found.append(Diagnosis(code, f"{plain(given)} is {words}."))
        self._train_spent = spent
        return found

    def _rounding(self, x, given: Decimal) -> list[Diagnosis]:
        places = decimals(given)
        right = rounded(x, places)
        cut = rounded(x, places, ROUND_DOWN)
        if given == cut and cut != right:
            return [Diagnosis("rounding",
                              f"{plain(given)} cuts {format_value(x)} off after {places} decimals; rounded, "
                              f"it is {plain(right)}. Almost there: round instead of truncating.")]
        unit = Decimal(1).scaleb(-places)
        if abs(given - right) <= unit and self.options.enough(given):
            return [Diagnosis("rounding",
                              f"Only the last digit is off: {format_value(x)} rounded to {places} decimals "
                              f"is {plain(right)}.")]
        return []

    def _rounded_source(self, i: int, value: float, half: float) -> tuple[list[Diagnosis], int]:
        """A net input or output before step *i*, rounded to k decimals and used onward exactly, that
        gives the value written, and k (the fewest decimals, then the earliest layer)."""
        ev = self.ev
        budget = ev.work + self.options.work // 8
        best = None
        for c in self.candidates:
            if ev.work > budget:
                break
            if c.code != "rounded-intermediate" or not self._touches(c, i) or i in {h[0] for h in c.hooks}:
                continue
            parts = c.key.split(":")  # rounded:LAYER:KIND:k or rounded:STEP:k, maybe :every-sample
            k = int(parts[3] if parts[2] in ("net", "out") else parts[2])
            kept = [rounded(ev.base[ev.flat[h[0]].name], k) for h in c.hooks]
            if any(v != 0 and not self.options.enough(v) for v in kept):
                continue  # an intermediate cut to fewer digits than an answer needs is no student's data
            got = self.run_candidate(ev.base, (c,), upto=i)
            got = None if got is None else got.get(ev.flat[i].name)
            if self._matches(got, value, half) and (best is None or k < best[1]):
                best = ([Diagnosis(c.code, c.message)], k)
        return best or ([], 0)

    def _early(self, i: int, value: float, half: float, within: bool, places: int | None) -> list[Diagnosis]:
        ev = self.ev
        name = ev.flat[i].name
        for k in EARLY_ROUNDING:
            if places is not None and not within and k >= places:
                break
            world = ev.run_all(ev.leaves, places=k, upto=i)
            if world is None:
                continue
            # the student reports the last value at their own precision, not k
            last = ev.run_all(ev.leaves, {n: v for n, v in world.items() if n in ev.ancestors[i]}, upto=i)
            if last is not None and self._matches(last[name], value, half):
                return [Diagnosis("early-rounding",
                                  f"This is what you get when every intermediate result is rounded to "
                                  f"{k} decimals: keep more digits along the way.")]
        return []

    def _digit_slip(self, x: float, given: Decimal) -> list[Diagnosis]:
        if not self.options.enough(given):
            return []
        places = decimals(given)
        right = rounded(x, places)
        a, b = plain(abs(right)), plain(abs(given))
        if (right < 0) == (given < 0) and len(a) == len(b):
            diff = [j for j in range(len(a)) if a[j] != b[j]]
            if len(diff) == 1 and a[diff[0]] != ".":
                return [Diagnosis("digit-slip", f"One digit slipped: you wrote {b[diff[0]]} where "
                                                f"{plain(right)} has {a[diff[0]]}.")]
            if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
                    and a[diff[1]] == b[diff[0]] and "." not in (a[diff[0]], a[diff[1]]):
                return [Diagnosis("digit-slip", f"Two digits swapped places: {plain(right)} has "
                                                f"{a[diff[0]]}{a[diff[1]]}, you wrote {b[diff[0]]}{b[diff[1]]}.")]
        if given != 0:
            h = float(half_unit(given))
            for shift in (1, -1, 2, -2, 3, -3):
                if x != 0 and self._matches(x * 10.0 ** shift, float(given), h):
                    return [Diagnosis("digit-slip", f"The decimal point moved {abs(shift)} place"
                                                    f"{'s' if abs(shift) > 1 else ''}: the value is "
                                                    f"{format_value(x)}.")]
        return []

    # -- formulas
    def _formula(self, k: int, a: Answer, where: str):
        ev = self.ev
        i = ev.index[a.quantity]
        f = ev.flat[i]
        at = f"{where}:{a.line}" if a.line else where
        try:
            expr = formula.parse(a.text, self.names)
        except formula.FormulaError as exc:
            raise SpecError(f"{at}: {a.quantity}: {exc}") from None
        except RecursionError:
            raise SpecError(f"{at}: {a.quantity}: the formula is nested too deeply to read") from None
        expected = formula_text(f.step.rhs)
        if f.sample is not None:
            n = len(self.spec.samples)
            local = {x: naming.in_sample(x, f.sample + 1, n) for x in
                     set(ev.unsuffixed.values()) | set(self.spec.inputs)
                     | {naming.target(o) for o in self.spec.outputs}}
            expr = expr.xreplace({symbol(x): symbol(y) for x, y in local.items()})
        unknown = sorted(s.name for s in expr.free_symbols if s.name not in ev.base)
        if unknown:
            raise SpecError(f"{at}: {a.quantity}: {unknown[0]} belongs to several samples; "
                            f"name the sample, like {unknown[0]}[1]")
        if not expr.free_symbols:
            return self._constant(k, a, expr, f)
        fn = compile_float(expr)
        # a number written for a given symbol (0.5 for eta, 0.1 for i2) is correct work: a given whose
        # value the formula writes as a number, and which it does not name, is held at its value
        used = {s.name for s in expr.free_symbols}
        written_numbers = {Decimal(m) for m in re.findall(r"\d+\.\d*|\.\d+|\d+", a.text)}
        held = {n for n, x in ev.exact_leaves.items() if n not in used
                and _decimal_text(exact_decimal(x) or "x") and abs(Decimal(exact_decimal(x))) in written_numbers}
        vary = set(ev.leaves) - held
        points = []
        for seed in range(FORMULA_POINTS):
            v = ev.run_all(ev.random_leaves(seed, vary))
            if v is not None:
                points.append(v)
        bases = [ev.base] + points
        try:
            values = [fn(b) for b in bases]
        except FAIL:
            values = [math.nan for _ in bases]
        if all(_same(v, b[a.quantity]) for v, b in zip(values, bases)):
            return Result(a, "correct", expected, (), f.step, f.sample), None
        if not all(math.isfinite(v) for v in values[:1]):
            return Result(a, "wrong", expected, (Diagnosis(
                "no-value", f"The formula has no finite value at this spec's numbers; the step is "
                            f"{messages.step_line(ev, i)}."),), f.step, f.sample), None
        p = _Pending(k, a, a.quantity, i, None, 0.0, values, points)
        return Result(a, "wrong", expected, (), f.step, f.sample), p

    def _constant(self, k: int, a: Answer, expr: sp.Expr, f):
        """A formula with only numbers: judged as a number, at its least precise literal."""
        literals = re.findall(r"\d+\.(\d+)", a.text)
        places = min((len(x) for x in literals), default=9)
        try:
            x = compile_float(expr)({})
            if not math.isfinite(x):
                raise ValueError
            exact = exact_decimal(expr) if expr.is_Rational else None
            # exact arithmetic on the numbers written (0.15*0.05 + 0.2*0.1 + 0.35) is the value itself
            value = Decimal(exact) if exact is not None and len(exact) <= 40 else \
                Decimal(repr(x)).quantize(Decimal(1).scaleb(-places))
        except (*FAIL, ArithmeticError):
            return Result(a, "wrong", format_value(self.ev.truth[a.quantity]), (Diagnosis(
                "no-value", "The formula has no finite value (it overflows or is undefined)."),),
                f.step, f.sample), None
        number = Answer(a.quantity, a.text, value, a.line)
        result, pending = self._number(k, number, {}, {})
        if pending is not None:
            pending.answer = number
        return Result(a, result.verdict, result.expected, result.diagnoses, result.step, result.sample), pending


def _decimal_text(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except ArithmeticError:
        return False


def _gradient_of(name: str) -> str | None:
    prefix = naming.d(naming.E_TOTAL, "")
    return name[len(prefix):] if name.startswith(prefix) else None


def _plausibility(found: tuple) -> tuple:
    """How plausible an explanation is, lowest first: its tier (one mistake before a carried one
    before a pair), then how simple it is and how tightly it gives the value: a mistake that lands
    anywhere inside the written digits' interval counts up to TIGHTNESS ranks less simple than one
    that gives them exactly (a y-hat rounded to 4 decimals before a wiring that only comes near)."""
    tier, rank, miss = found[0], found[1], found[2]
    return tier, rank + TIGHTNESS * min(miss, 1.0), miss


class _Identifiers(sp.printing.str.StrPrinter):
    """Write a rhs in SymPy syntax a student could type back (dE_total_dw5, w5_plus)."""

    def _print_Symbol(self, expr):
        return naming.ident(expr.name)


def formula_text(expr: sp.Expr) -> str:
    """Write *expr* in SymPy syntax with identifier names, in the order written.

    >>> formula_text(symbol("w5") * symbol("dE_total/dw5"))
    'dE_total_dw5*w5'
    """
    return _Identifiers({"order": "none"}).doprint(expr)


def check_text(derivation: Derivation, text: str, where: str, options: Options | None = None) -> Report:
    """Check an answers file's text against a derivation.

    >>> from stepgrad.symbolic import spec, derive
    >>> r = check_text(derive.derive(spec.load("mazur")), '"out_h1" = 0.59327', "a.toml")
    >>> r.results[0].verdict
    'correct'
    """
    return Checker(derivation, options).check(parse_answers(text, where), where)
