"""Check a student's answers against a derivation, and explain the wrong ones.

An answers file is TOML keyed by canonical quantity names::

    "out_h1" = 0.59327
    "dE_total/dw5" = 0.0821
    "net_h1" = "w_1 i_1 + w_2 i_2 + b_1 \\cdot 1"

A number is **correct** when it is the true value rounded to the digits the
student wrote (0.59327 for 0.593269992...).  Cutting digits off instead of
rounding (0.5932) is reported as a rounding slip (code ``rounding``), not as a
conceptual error; so is a last digit one unit off.

A wrong answer is explained by searching the space of plausible mistakes.
Each mistake is a *transformation of the derivation*: a step's right-hand
side with one weight swapped for another, a dout/dnet factor replaced by 1, a
sign flipped, a term of a sum dropped, another target or input, an updated
weight used early, or the whole spec wired differently.  Each candidate is
evaluated by re-running the derivation's steps with the transformation
applied and everything downstream recomputed (with floats: students write at
most a dozen digits).  A candidate explains a number when it matches at the
precision the student wrote, and a formula when it agrees as a function of the
spec's inputs and parameters at several points.  The search goes, most
plausible first: rounding slips; follow-through of the student's own earlier
wrong answers (``carried-error``); single conceptual mistakes; a carried
error plus one mistake; early rounding and digit slips; then pairs of
mistakes.
"""

from __future__ import annotations

import difflib
import itertools
import math
import random
import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from typing import Callable

import mpmath
import sympy as sp
from sympy.printing.str import StrPrinter

from . import formula, naming
from .derive import Derivation, Step, at_round, format_value, train
from .evaluate import FloatPrinter, float_sigmoid, float_softplus, mp
from .model import symbol
from .spec import SpecError, Spec, locate

#: Every diagnosis code, most plausible first; each is documented in ``explain``.
CODES = ("rounding", "carried-error", "wrong-wiring", "wrong-weight", "missing-activation-derivative",
         "sign-error", "wrong-target", "wrong-input", "updated-weights-used", "missing-sum-term",
         "early-rounding", "digit-slip")
VERDICTS = ("correct", "wrong", "unknown")
MAX_FORMULA_LENGTH = 2000
#: Decimal places to which early rounding of intermediates is tried (the post prints 9).
EARLY_ROUNDING = tuple(range(1, 10))
#: At most this many pairs of mistakes are tried (the most plausible first), to stay fast.
MAX_PAIRS = 12000
#: Random points (besides the spec's own) at which formulas are compared.
FORMULA_POINTS = 3
_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*\Z")
#: Bounds that keep a hostile answer from hanging the checker: 10**10**10 or 1e-999999999.
MAX_NESTING = 30
MAX_EXPONENT = 100
MAX_DECIMALS = 40
MAX_MAGNITUDE = Decimal(10) ** 15
_POWER = re.compile(r"\*\*|\^")


# -- answers ------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One answer as written: a number (its digits kept) or a formula."""

    quantity: str
    text: str
    number: Decimal | None = None
    line: int | None = None

    @property
    def is_formula(self) -> bool:
        return self.number is None


def parse_answers(text: str, where: str) -> tuple[Answer, ...]:
    """Read an answers file's TOML text; numbers keep the digits written.

    >>> parse_answers('"out_h1" = 0.59327', "a.toml")[0].number
    Decimal('0.59327')
    """
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except RecursionError:
        raise SpecError(f"{where}: not valid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML: {exc}") from None
    answers = []
    for key, value in doc.items():
        line = locate(text, key) or _line_of(text, key)

        def fail(message: str) -> SpecError:
            at = f":{line}" if line else ""
            return SpecError(f"{where}{at}: {key}: {message}")

        if isinstance(value, dict):
            raise fail('is a table, not an answer; write each answer as "name" = value, '
                       'quoting names that contain . / + or @')
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            raise fail("must be a number or a formula in quotes")
        if isinstance(value, str):
            if len(value) > MAX_FORMULA_LENGTH:
                raise fail(f"the formula is longer than {MAX_FORMULA_LENGTH} characters")
            if _NUMBER.match(value):
                value = Decimal(value.strip())
            else:
                problem = formula_problem(value)
                if problem:
                    raise fail(problem)
                answers.append(Answer(key, value.strip(), None, line))
                continue
        number = Decimal(value) if isinstance(value, int) else value
        if not number.is_finite():
            raise fail(f"{value} is not a finite number")
        if abs(number) > MAX_MAGNITUDE or decimals(number) > MAX_DECIMALS:
            raise fail(f"{value} is out of range: give at most {MAX_DECIMALS} decimal places and "
                       f"a size below 1e15")
        answers.append(Answer(key, _plain(number), number, line))
    if not answers:
        raise SpecError(f"{where}: has no answers; write one per line, like \"out_h1\" = 0.593269992")
    return tuple(answers)


def formula_problem(text: str) -> str | None:
    """Say why a formula is too deep or too explosive to read safely, or return None.

    >>> formula_problem("10**10**10")
    'a power of a power (like 10**10**10) is not allowed; write the exponent out'
    """
    depth = deepest = 0
    for ch in text:
        depth += (ch in "({[") - (ch in ")}]")
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        return f"brackets are nested {deepest} deep; at most {MAX_NESTING} are allowed"
    growth = 1
    for m in _POWER.finditer(text):
        exponent = _operand(text, m.end())
        if _POWER.search(exponent) or _POWER.match(text, m.end() + len(exponent)):
            return "a power of a power (like 10**10**10) is not allowed; write the exponent out"
        literals = [int(d) for d in re.findall(r"\d{1,4}", exponent)]
        if any(d > MAX_EXPONENT for d in literals):
            return f"an exponent above {MAX_EXPONENT} is not allowed"
        # ((10**99)**99)**99... grows without a power in any exponent
        growth *= max(literals, default=1) or 1
        if growth > MAX_EXPONENT ** 3:
            return "the powers in this formula make a number too large to evaluate"
    return None


def _operand(text: str, start: int) -> str:
    """The operand that starts at *start*: a bracketed group, or a run of name and number characters."""
    k = start
    while k < len(text) and text[k] in " \t+-":
        k += 1
    if k < len(text) and text[k] in "({[":
        depth, j = 0, k
        while j < len(text):
            depth += (text[j] in "({[") - (text[j] in ")}]")
            j += 1
            if depth == 0:
                break
        return text[start:j]
    j = k
    while j < len(text) and (text[j].isalnum() or text[j] in "_.\\"):
        j += 1
    return text[start:j]


def _line_of(text: str, key: str) -> int | None:
    """Find the line of a key that starts a dotted key (dE_total.dw5 = ...)."""
    pattern = re.compile(rf'\s*"?{re.escape(key)}"?\s*[.=]')
    for k, line in enumerate(text.splitlines()):
        if pattern.match(line):
            return k + 1
    return None


def _plain(number: Decimal) -> str:
    """Write a decimal in positional notation, with the digits given."""
    return format(number, "f")


def decimals(number: Decimal) -> int:
    """The decimal places written (negative for 1E+2)."""
    return -number.as_tuple().exponent


def _decimal(x) -> Decimal:
    with mpmath.workdps(50):  # mpf(x) at the default 15 digits would round x first
        return Decimal(mpmath.nstr(mpmath.mpf(x), 45, strip_zeros=False))


def rounded(x, places: int, mode: str = ROUND_HALF_UP) -> Decimal:
    """Round a value to *places* decimals (half away from zero, as students do)."""
    return _decimal(x).quantize(Decimal(1).scaleb(-places), rounding=mode)


def agrees(x, given: Decimal) -> bool:
    """Whether *given* is *x* rounded to the digits written (a tie either way is fine)."""
    half = Decimal(5).scaleb(-decimals(given) - 1)
    try:
        return abs(_decimal(x) - given) <= half
    except InvalidOperation:
        return False


def close(value: float, given: Decimal, places: int) -> bool:
    """Whether a float candidate matches *given* at *places* decimals."""
    if value is None or not math.isfinite(value):
        return False
    half = 0.5 * 10.0 ** (-places)
    return abs(value - float(given)) <= half * (1 + 1e-9) + 1e-13 * abs(value)


# -- results ------------------------------------------------------------------

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


# -- evaluating the derivation with floats ------------------------------------

class _Floats(FloatPrinter):
    """Print an expression as Python over floats, reading symbols from a dict ``v``."""

    def _print_Symbol(self, expr):
        return f"v[{expr.name!r}]"

    def _print_Heaviside(self, expr):
        return f"(1.0 if {self._print(expr.args[0])} > 0 else 0.0)"


_NAMESPACE = {"math": math, "_sigmoid": float_sigmoid, "_softplus": float_softplus}
_FAIL = (ArithmeticError, ValueError, TypeError, KeyError)


def compile_float(expr: sp.Expr) -> Callable[[dict], float]:
    """Compile *expr* into f(values) -> float."""
    code = _Floats().doprint(expr)
    return eval(compile(f"lambda v: {code}", "<stepgrad check>", "eval"), dict(_NAMESPACE))  # noqa: S307 - our own printed code


@dataclass(frozen=True)
class FlatStep:
    """A step of the derivation as evaluated: per-sample names carry their sample."""

    name: str
    rhs: sp.Expr
    step: Step
    sample: int | None
    deps: frozenset


@dataclass(frozen=True)
class Candidate:
    """A mistake: edits of step right-hand sides (structural first), with a diagnosis."""

    code: str
    rank: int
    message: str
    #: (step index, order, transform of the unevaluated rhs)
    edits: tuple[tuple[int, int, Callable[[sp.Expr], sp.Expr]], ...]
    key: str
    #: Student's quantity name -> name in the derivation (for a different wiring).
    rename: tuple[tuple[str, str], ...] = ()
    pairable: bool = True


class Evaluator:
    """The derivation flattened into one program over floats, re-run under mistakes."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        spec = derivation.spec
        self.spec = spec
        batch = derivation.batch
        self.multi = len(batch) > 1
        n = len(spec.samples)
        flat: list[FlatStep] = []
        leaves: dict[str, float] = {n_: float(v) for n_, v in spec.initial}
        leaves["eta"] = float(spec.training.learning_rate)
        self.unsuffixed: dict[str, str] = {}
        if self.multi:
            per_sample = [s for s in derivation.steps if s.per_sample]
            for s in batch:
                local = [st.name for st in per_sample] + list(spec.inputs) + \
                    [naming.target(o) for o in spec.outputs]
                table = {symbol(x): symbol(naming.in_sample(x, s + 1, n)) for x in local}
                for st in per_sample:
                    rhs = st.rhs.xreplace(table)
                    name = naming.in_sample(st.name, s + 1, n)
                    flat.append(FlatStep(name, rhs, st, s, _names(rhs)))
                    self.unsuffixed[name] = st.name
                sample = spec.samples[s]
                leaves.update({naming.in_sample(k, s + 1, n): float(v) for k, v in sample.inputs})
                leaves.update({naming.in_sample(naming.target(k), s + 1, n): float(v)
                               for k, v in sample.targets})
            for st in derivation.steps:
                if not st.per_sample:
                    flat.append(FlatStep(st.name, st.rhs, st, None, _names(st.rhs)))
        else:
            sample = spec.samples[batch[0]]
            leaves.update({k: float(v) for k, v in sample.inputs})
            leaves.update({naming.target(k): float(v) for k, v in sample.targets})
            flat = [FlatStep(st.name, st.rhs, st, None, _names(st.rhs)) for st in derivation.steps]
        self.flat = flat
        self.leaves = leaves
        self.index = {f.name: i for i, f in enumerate(flat)}
        self.functions = [compile_float(f.rhs.doit()) for f in flat]
        self._variants: dict[str, Callable] = {}
        self.base = self.run_all(leaves)
        # every ancestor step of each step, for follow-through marking
        ancestors: list[frozenset] = []
        for f in flat:
            up = set()
            for d in f.deps:
                if d in self.index:
                    up.add(d)
                    up |= ancestors[self.index[d]]
            ancestors.append(frozenset(up))
        self.ancestors = ancestors

    # -- running
    def run_all(self, leaves: dict, pins: dict | None = None, places: int | None = None) -> dict | None:
        """Run every step from *leaves*; pinned steps keep the given value; optionally round each."""
        v = dict(leaves)
        try:
            for f, fn in zip(self.flat, self.functions):
                if pins and f.name in pins:
                    v[f.name] = pins[f.name]
                    continue
                x = fn(v)
                v[f.name] = _round_half_up(x, places) if places is not None else x
        except _FAIL:
            return None
        return v

    def replacements(self, *candidates: "Candidate") -> dict[int, Callable]:
        """Compiled replacement steps for one candidate or a pair, cached."""
        key = "|".join(c.key for c in candidates)
        if key not in self._variants:
            if len(candidates) == 2 and not ({e[0] for e in candidates[0].edits}
                                             & {e[0] for e in candidates[1].edits}):
                self._variants[key] = {**self.replacements(candidates[0]),
                                       **self.replacements(candidates[1])}
            else:
                self._variants[key] = self.edited(sum((c.edits for c in candidates), ()))
        return self._variants[key]

    def edited(self, edits) -> dict[int, Callable]:
        """Compile edits into replacement functions by step index (structural edits first)."""
        by_index: dict[int, list] = {}
        for index, order, fn in edits:
            by_index.setdefault(index, []).append((order, fn))
        out = {}
        for index, fns in by_index.items():
            rhs = self.flat[index].rhs
            for _, fn in sorted(fns, key=lambda t: t[0]):
                rhs = fn(rhs)
            out[index] = compile_float(rhs.doit())
        return out

    def run(self, base: dict, replace: dict[int, Callable], pins: dict | None = None) -> dict | None:
        """Re-run from the first replaced step, recomputing only what changed."""
        v = dict(base)
        changed: set = set()
        try:
            for i in range(min(replace), len(self.flat)):
                f = self.flat[i]
                if i in replace:
                    x = replace[i](v)
                elif f.deps & changed:
                    x = self.functions[i](v)
                else:
                    continue
                if pins and f.name in pins:
                    continue
                if x != v[f.name]:
                    v[f.name] = x
                    changed.add(f.name)
        except _FAIL:
            return None
        return v

    def random_leaves(self, seed: int) -> dict:
        """Leaves at a random point (deterministic), targets kept inside (0, 1)."""
        rng = random.Random(seed)
        out = {}
        targets = {naming.target(o) for o in self.spec.outputs}
        for name in sorted(self.leaves):
            base = name.split("[")[0]
            if base in targets:
                out[name] = rng.uniform(0.05, 0.95)
            elif base == "eta":
                out[name] = rng.uniform(0.1, 1.0)
            else:
                out[name] = rng.uniform(-1.0, 1.0)
        if self.spec.error == "categorical_cross_entropy":
            out.update({k: v for k, v in self.leaves.items() if k.split("[")[0] in targets})
        return out


def _round_half_up(x: float, places: int) -> float:
    """Round as students do (half away from zero), from the float's shortest decimal form."""
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _names(expr: sp.Expr) -> frozenset:
    return frozenset(s.name for s in expr.free_symbols)


# -- the space of mistakes -----------------------------------------------------

def _terms(rhs: sp.Expr) -> tuple[sp.Expr, ...]:
    return rhs.args if isinstance(rhs, sp.Add) else ()


def _drop(j: int) -> Callable:
    def fn(rhs):
        terms = [t for k, t in enumerate(_terms(rhs)) if k != j]
        return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)
    return fn


def _negate_term(j: int) -> Callable:
    def fn(rhs):
        terms = [sp.Mul(-1, t, evaluate=False) if k == j else t for k, t in enumerate(_terms(rhs))]
        return sp.Add(*terms, evaluate=False)
    return fn


def _swap(table: dict) -> Callable:
    mapping = {symbol(a): symbol(b) for a, b in table.items()}
    return lambda rhs: rhs.xreplace(mapping)


def _const(value) -> Callable:
    return lambda rhs: sp.Integer(value)


def _negate(rhs):
    return sp.Mul(-1, rhs, evaluate=False)


STRUCTURAL, SUBSTITUTION = 0, 1


def _expr_text(expr: sp.Expr) -> str:
    """Write a rhs with canonical names, in the order written."""
    return _Canonical({"order": "none"}).doprint(expr)


class _Canonical(StrPrinter):
    def _print_Symbol(self, expr):
        return expr.name


class _Identifiers(StrPrinter):
    """Write a rhs in SymPy syntax a student could type back (dE_total_dw5, w5_plus)."""

    def _print_Symbol(self, expr):
        return naming.ident(expr.name)


def _gradient_of(name: str) -> str | None:
    """The parameter of a gradient's name: 'dE_total/dw5' -> 'w5'."""
    prefix = naming.d(naming.E_TOTAL, "")
    return name[len(prefix):] if name.startswith(prefix) else None


def formula_text(expr: sp.Expr) -> str:
    """Write *expr* in SymPy syntax with identifier names, in the order written.

    >>> formula_text(symbol("w5") * symbol("dE_total/dw5"))
    'dE_total_dw5*w5'
    """
    return _Identifiers({"order": "none"}).doprint(expr)


class Mistakes:
    """Generate the single mistakes for a derivation, each with its diagnosis."""

    def __init__(self, ev: Evaluator):
        self.ev = ev
        self.spec = ev.spec
        self.weight = {w.name: w for w in self.spec.weights}
        self.bias = {b.name: b for b in self.spec.biases}

    def value(self, name: str) -> str:
        x = self.ev.base.get(name)
        if x is None:
            return "?"
        if name in self.ev.leaves:
            return f"{x:.12g}"
        return format_value(x)

    def describe(self, p: str) -> str:
        base = p.split("[")[0]
        if base in self.weight:
            w = self.weight[base]
            return f"{p} ({w.src} -> {w.dst})"
        if base in self.bias:
            return f"{p} (the bias of layer {self.bias[base].layer})"
        return p

    def all(self) -> list[Candidate]:
        out: list[Candidate] = []
        for gen in (self.wiring, self.weights, self.activation_derivatives, self.signs, self.targets,
                    self.inputs, self.updated_weights, self.sum_terms):
            out.extend(gen())
        seen, unique = set(), []
        for c in out:
            if c.key not in seen:
                seen.add(c.key)
                unique.append(c)
        return unique

    def _using(self, name: str) -> list[int]:
        return [i for i, f in enumerate(self.ev.flat) if name in f.deps]

    # wrong-wiring: the weights of a layer numbered differently, everywhere
    def wiring(self) -> list[Candidate]:
        out = []
        spec = self.spec
        for k in range(1, len(spec.layers)):
            ws = [w for w in spec.weights if w.layer == k]
            if len(ws) < 2:
                continue
            src_pos = {n: j for j, n in enumerate(spec.layers[k - 1].neurons)}
            dst_pos = {n: j for j, n in enumerate(spec.layers[k].neurons)}
            names = [w.name for w in ws]
            orders = {
                "by source neuron first": sorted(ws, key=lambda w: (src_pos[w.src], dst_pos[w.dst])),
                "by target neuron first": sorted(ws, key=lambda w: (dst_pos[w.dst], src_pos[w.src])),
            }
            perms: list[tuple[dict, str, int]] = []
            for label, order in orders.items():
                perm = {w.name: a for w, a in zip(order, names)}
                if any(a != b for a, b in perm.items()):
                    perms.append((perm, label, 0))
            if len(ws) <= 4:
                for p in itertools.permutations(names):
                    perm = dict(zip(names, p))
                    if any(a != b for a, b in perm.items()):
                        perms.append((perm, "", 8))
            else:
                for a, b in itertools.combinations(names, 2):
                    perms.append(({**{n: n for n in names}, a: b, b: a}, "", 8))
            for perm, label, rank in perms:
                moved = {a: b for a, b in perm.items() if a != b}
                edits = []
                for i, f in enumerate(self.ev.flat):
                    if f.deps & set(moved):
                        edits.append((i, SUBSTITUTION, _swap(moved)))
                rename = []
                by_name = {w.name: w for w in ws}
                for s, a in moved.items():
                    dst = by_name[s].dst
                    for pattern in (lambda w: naming.d(naming.E_TOTAL, w), naming.updated,
                                    lambda w: naming.d(naming.net(dst), w)):
                        rename.append((pattern(a), pattern(s)))
                where = "; ".join(f"{a} on {by_name[s].src} -> {by_name[s].dst}" for s, a in sorted(moved.items()))
                spec_has = ", ".join(f"{s} = {by_name[s].src} -> {by_name[s].dst}" for s in sorted(moved))
                how = f", numbering the weights {label}" if label else ""
                if label == "by source neuron first" and self.spec.name == "mazur":
                    how += " (the post's hidden-layer section slips into this: net_h1 = w1*i1 + w3*i2 + b1*1)"
                message = (f"You followed a different wiring of the weights into layer {k}{how}: "
                           f"{where}; this spec wires {spec_has}.")
                key = "wiring:" + repr(sorted(moved.items()))
                out.append(Candidate("wrong-wiring", rank, message, tuple(edits), key, tuple(rename),
                                     pairable=bool(label) or len(moved) == 2))
        return out

    # wrong-weight: one weight (or bias) swapped for another of its layer in one step
    def weights(self) -> list[Candidate]:
        out = []
        groups = {}
        for w in self.spec.weights:
            groups.setdefault(("w", w.layer), []).append(w.name)
        for b in self.spec.biases:
            groups.setdefault(("b",), []).append(b.name)
        group_of = {n: g for g, ns in groups.items() for n in ns}
        for i, f in enumerate(self.ev.flat):
            for p in sorted(f.deps):
                if p not in group_of:
                    continue
                for q in groups[group_of[p]]:
                    if q == p:
                        continue
                    message = (f"In {f.name} you used {self.describe(q)} = {self.value(q)} where "
                               f"{self.describe(p)} = {self.value(p)} belongs.")
                    # in pairs, only the misreadings that look likely: a weight of the same edge's
                    # source or target, in the forward pass or backward sums
                    neighbours = p in self.weight and q in self.weight and (
                        self.weight[p].src == self.weight[q].src or self.weight[p].dst == self.weight[q].dst)
                    out.append(Candidate("wrong-weight", 1, message, ((i, SUBSTITUTION, _swap({p: q})),),
                                         f"weight:{i}:{p}:{q}",
                                         pairable=neighbours and f.step.kind in ("net", "dnet/dout")))
        return out

    # missing-activation-derivative: a dout/dnet factor taken as 1
    def activation_derivatives(self) -> list[Candidate]:
        out = []
        for i, f in enumerate(self.ev.flat):
            if f.step.kind == "dout/dnet" and f.rhs != 1:
                message = (f"You left out the activation's derivative {f.name} = {_expr_text(f.step.rhs)} "
                           f"(it is {format_value(self.ev.base[f.name])}, not 1).")
                out.append(Candidate("missing-activation-derivative", 2, message,
                                     ((i, STRUCTURAL, _const(1)),), f"act:{i}"))
        for i, f in enumerate(self.ev.flat):
            if f.step.kind == "dout/dnet":
                continue
            for name in sorted(f.deps):
                j = self.ev.index.get(name)
                if j is None or self.ev.flat[j].step.kind != "dout/dnet":
                    continue
                message = (f"In {f.name} you left out the factor {self.ev.flat[j].step.name} = "
                           f"{_expr_text(self.ev.flat[j].step.rhs)}, the activation's derivative.")
                out.append(Candidate("missing-activation-derivative", 2, message,
                                     ((i, SUBSTITUTION, _swap_const(name, 1)),), f"actin:{i}:{name}"))
        return out

    # sign-error: target - out for out - target, or a dropped minus
    def signs(self) -> list[Candidate]:
        out = []
        for i, f in enumerate(self.ev.flat):
            kind = f.step.kind
            if kind == "update":
                for j, term in enumerate(_terms(f.rhs)):
                    if term.has(symbol("eta")):
                        p = f.step.name[:-1]
                        message = (f"In {f.name} you added eta * dE_total/d{p} instead of subtracting it: "
                                   f"gradient descent goes against the gradient.")
                        out.append(Candidate("sign-error", 3, message, ((i, STRUCTURAL, _negate_term(j)),),
                                             f"signterm:{i}:{j}"))
                continue
            if kind == "dE/dout" and f.step.layer == len(self.spec.layers) - 1:
                message = (f"{f.name} has the wrong sign: it is -(target - out) = out - target, "
                           f"and you wrote target - out.")
            else:
                message = f"{f.name} has the wrong sign (a dropped minus)."
            out.append(Candidate("sign-error", 3, message, ((i, STRUCTURAL, _negate),), f"sign:{i}",
                                 pairable=kind == "dE/dout"))
            terms = _terms(f.rhs)
            if len(terms) >= 2 and kind not in ("net",):
                for j, term in enumerate(terms):
                    message = f"In {f.name} the term {_expr_text(term)} has the wrong sign (a dropped minus)."
                    out.append(Candidate("sign-error", 3, message, ((i, STRUCTURAL, _negate_term(j)),),
                                         f"signterm:{i}:{j}", pairable=kind == "dE/dout"))
        return out

    def _leaf_swaps(self, code: str, rank: int, kind: str, names: list[str]) -> list[Candidate]:
        """Swap one leaf (a target or an input) for another: in one step, and everywhere."""
        out = []
        leaves = [n for n in sorted(self.ev.leaves) if n.split("[")[0] in names]
        for a in leaves:
            for b in leaves:
                if a == b:
                    continue
                steps = self._using(a)
                for i in steps:
                    message = (f"In {self.ev.flat[i].name} you used {b} = {self.value(b)} where "
                               f"{a} = {self.value(a)} belongs.")
                    out.append(Candidate(code, rank, message, ((i, SUBSTITUTION, _swap({a: b})),),
                                         f"{kind}:{i}:{a}:{b}"))
                if len(steps) > 1:
                    message = f"You used {b} = {self.value(b)} everywhere {a} = {self.value(a)} belongs."
                    out.append(Candidate(code, rank, message,
                                         tuple((i, SUBSTITUTION, _swap({a: b})) for i in steps),
                                         f"{kind}:all:{a}:{b}"))
        return out

    def targets(self) -> list[Candidate]:
        return self._leaf_swaps("wrong-target", 4, "target", [naming.target(o) for o in self.spec.outputs])

    def inputs(self) -> list[Candidate]:
        out = self._leaf_swaps("wrong-input", 5, "input", list(self.spec.inputs))
        # a weight's input from a hidden neuron: out_h1 where out_h2 belongs
        for i, f in enumerate(self.ev.flat):
            if f.step.kind != "dnet/dw" or f.step.layer < 2:
                continue
            sources = [naming.out(n) for n in self.spec.layers[f.step.layer - 1].neurons]
            for a in sorted(f.deps):
                base = a.split("[")[0]
                if base not in sources:
                    continue
                for other in sources:
                    if other == base:
                        continue
                    b = a.replace(base, other, 1)
                    weight = self.describe(self.ev.flat[i].name.split("/d", 1)[1].split("[")[0])
                    message = (f"In {f.name} you used {b} = {self.value(b)} where {a} = {self.value(a)} "
                               f"belongs: the weight {weight} carries that neuron's output.")
                    out.append(Candidate("wrong-input", 5, message, ((i, SUBSTITUTION, _swap({a: b})),),
                                         f"source:{i}:{a}:{b}"))
        return out

    # updated-weights-used: w+ where w belongs (or the reverse)
    def updated_weights(self) -> list[Candidate]:
        out = []
        index = self.ev.index
        hidden_global: list = []
        for i, f in enumerate(self.ev.flat):
            for p in sorted(f.deps):
                plus = naming.updated(p)
                if p in self.spec.parameters and index.get(plus, len(self.ev.flat)) < i \
                        and f.step.kind != "update":
                    message = (f"In {f.name} you used the updated {plus} = {self.value(plus)} where the "
                               f"original {p} = {self.value(p)} belongs: the weights change only after "
                               f"the whole backward pass.")
                    out.append(Candidate("updated-weights-used", 6, message,
                                         ((i, SUBSTITUTION, _swap({p: plus})),), f"upd:{i}:{p}"))
                    hidden_global.append((i, SUBSTITUTION, _swap({p: plus})))
                if p.endswith("+") and p[:-1] in self.spec.parameters:
                    message = (f"In {f.name} you used the original {p[:-1]} = {self.value(p[:-1])} where "
                               f"the updated {p} = {self.value(p)} belongs.")
                    out.append(Candidate("updated-weights-used", 6, message,
                                         ((i, SUBSTITUTION, _swap({p: p[:-1]})),), f"orig:{i}:{p}"))
        if len(hidden_global) > 1:
            message = ("You used the updated weights (w+) in the hidden layers' backward pass where the "
                       "original weights belong: the weights change only after the whole backward pass.")
            out.append(Candidate("updated-weights-used", 6, message, tuple(hidden_global), "upd:all"))
        return out

    # missing-sum-term: one term of a sum left out
    def sum_terms(self) -> list[Candidate]:
        out = []
        for i, f in enumerate(self.ev.flat):
            terms = _terms(f.rhs)
            if len(terms) < 2 or f.step.kind == "update":
                continue
            for j, term in enumerate(terms):
                shown = _expr_text(term)
                if f.step.kind == "net" and term.has(*[symbol(b.name) for b in self.spec.biases]):
                    what = f"the bias term {shown}"
                elif f.step.kind == "batch":
                    what = f"the term {shown} of the sum over the batch"
                elif f.step.kind in ("E_total", "dE/dout", "delta"):
                    what = f"the term {shown} of the sum over the outputs"
                else:
                    what = f"the term {shown}"
                message = f"In {f.name} you left out {what}."
                out.append(Candidate("missing-sum-term", 7, message, ((i, STRUCTURAL, _drop(j)),),
                                     f"drop:{i}:{j}"))
        return out


def _swap_const(name: str, value: int) -> Callable:
    mapping = {symbol(name): sp.Integer(value)}
    return lambda rhs: rhs.xreplace(mapping)


# -- judging -----------------------------------------------------------------------

@dataclass
class _Pending:
    """A wrong answer still looking for its explanation."""

    index: int
    answer: Answer
    target: str          # flat name of the quantity
    places: int | None   # decimals written, for numbers
    formula_values: list | None = None  # the formula's values at the points, for formulas
    found: list = field(default_factory=list)


class Checker:
    """Check answers against one derivation; build once, check many files."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        self.spec = derivation.spec
        self.ev = Evaluator(derivation)
        self.leaf_names = sorted(self.ev.leaves)
        self.names = sorted(set(self.ev.index) | set(self.ev.leaves) | set(self.ev.unsuffixed.values())
                            | {n.split("[")[0] for n in self.ev.leaves})

    @cached_property
    def candidates(self) -> list[Candidate]:
        return Mistakes(self.ev).all()

    @cached_property
    def singles(self) -> list[tuple[Candidate, dict]]:
        """Each candidate with its values at the spec's own point (None when it fails)."""
        out = []
        for c in self.candidates:
            values = self.ev.run(self.ev.base, self.ev.replacements(c))
            if values is not None:
                out.append((c, values))
        return out

    @cached_property
    def points(self) -> list[dict]:
        """True values at random points, for comparing formulas."""
        pts = []
        for seed in range(FORMULA_POINTS):
            v = self.ev.run_all(self.ev.random_leaves(seed))
            if v is not None:
                pts.append(v)
        return pts

    def known(self, name: str) -> bool:
        return name in self.ev.index or name in self.ev.leaves or self._after(name) is not None

    def _after(self, name: str) -> tuple[str, int] | None:
        m = re.fullmatch(r"(.+)@(\d+)", name)
        if not m or int(m.group(2)) > self.spec.training.steps:
            return None
        base = m.group(1)
        forward = {s.name for s in self.derivation.steps if s.section in ("forward", "error")}
        if base in forward or base in self.spec.parameters or base.split("[")[0] in forward:
            return base, int(m.group(2))
        return None

    # -- the whole file
    def check(self, answers: tuple[Answer, ...], where: str = "<answers>") -> Report:
        """Judge every answer; explain the wrong ones."""
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
            results[k] = result
            verdicts[a.quantity] = result
            if p is not None:
                pending.append(p)
        if pending:
            self._pairs(pending)
            for p in pending:
                results[p.index] = self._final(results[p.index], p)
        return Report(self.derivation, where, tuple(results[k] for k in range(len(answers))))

    def _train(self, answers) -> dict:
        rounds = sorted({self._after(a.quantity)[1] for a in answers})
        updates = {n: at_round(self.spec, n) for n in rounds}
        trajectory = train(self.spec, max(updates.values()), snapshots=tuple(sorted(set(updates.values()))),
                           dps=20)
        out = {}
        for n, u in updates.items():
            snap = dict(trajectory.snapshots[u])
            snap[naming.E_TOTAL] = trajectory.errors[u]
            out[n] = snap
        return out

    def _unknown(self, a: Answer) -> Result:
        hint = difflib.get_close_matches(a.quantity, self.names, n=1, cutoff=0.5)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        message = f"stepgrad does not know a quantity named {a.quantity!r}{extra}"
        return Result(a, "unknown", "", (Diagnosis("unknown", message),))

    def _simple(self, a: Answer, trained: dict) -> Result:
        """Judge a given value or a value after training: correct, rounding or digit slip only."""
        after = self._after(a.quantity)
        if after:
            x = trained[after[1]][after[0]]
        else:
            exact = dict(self.spec.initial).get(a.quantity)
            x = mp(exact) if exact is not None else mpmath.mpf(self.ev.leaves[a.quantity])
        expected = format_value(x)
        if a.is_formula:
            return Result(a, "wrong", expected, (Diagnosis(
                "formula", "Give this one as a number: it is a given or trained value, not a step."),))
        if agrees(x, a.number):
            return Result(a, "correct", expected)
        d = self._rounding(x, a.number)
        if not d and after:
            d = self._variants_after(after[0], after[1], a.number)
        d = d or self._digit_slip(float(x), a.number)
        return Result(a, "wrong", expected, tuple(d))

    # -- numbers
    def _number(self, k: int, a: Answer, pins: dict, verdicts: dict):
        i = self.ev.index[a.quantity]
        f = self.ev.flat[i]
        x = self.derivation.values[a.quantity]
        expected = format_value(x)
        if agrees(x, a.number):
            return Result(a, "correct", expected, (), f.step, f.sample), None
        places = decimals(a.number)
        rounding = self._rounding(x, a.number)
        if rounding:
            # a last digit one unit off may come from rounding along the way; a cut-off never does
            truncated = a.number == rounded(x, places, ROUND_DOWN)
            early = [] if truncated else self._early(i, a.number, places, within=True)
            return Result(a, "wrong", expected, tuple(early or rounding), f.step, f.sample), None
        # follow-through: the student's own earlier answers, wrong ones included
        mine = {n: v for n, v in pins.items() if n in self.ev.ancestors[i]}
        wrong_up = sorted((n for n in mine if verdicts[n].verdict != "correct"), key=self.ev.index.get)
        pending = _Pending(k, a, a.quantity, places)
        found: list = []
        if mine:
            world = self.ev.run_all(self.ev.leaves, mine)
            if world is not None and close(world[a.quantity], a.number, places):
                found.append((1, self._carried(wrong_up, mine, verdicts), 0))
        if not found:
            found = self._search_number(i, a.number, places, mine, wrong_up, verdicts)
        pending.found = found
        result = Result(a, "wrong", expected, (), f.step, f.sample)
        return result, pending

    def _carried(self, wrong_up: list[str], mine: dict, verdicts: dict) -> list[Diagnosis]:
        if not wrong_up:
            names = ", ".join(sorted(mine, key=self.ev.index.get))
            return [Diagnosis("early-rounding",
                              f"This follows from your own rounded answers ({names}); keep more digits "
                              f"in intermediate results.")]
        given = ", ".join(f"{n} = {verdicts[n].answer.text}" for n in wrong_up)
        return [Diagnosis("carried-error",
                          f"Right for your own earlier answer ({given}), which was wrong: the mistake "
                          f"is counted there, not again here.")]

    def _search_number(self, i, given, places, mine, wrong_up, verdicts) -> list:
        name = self.ev.flat[i].name
        found = []
        for c, values in self.singles:
            target = dict(c.rename).get(name, name)
            if close(values.get(target), given, places):
                found.append((2, [Diagnosis(c.code, c.message)], c.rank))
        if found:
            return found
        if mine and wrong_up:
            world = self.ev.run_all(self.ev.leaves, mine)
            if world is not None:
                for c in self.candidates:
                    if c.rename or all(self.ev.flat[e[0]].name in mine for e in c.edits):
                        continue
                    values = self.ev.run(world, self.ev.replacements(c), mine)
                    if values is not None and close(values[name], given, places):
                        found.append((3, self._carried(wrong_up, mine, verdicts) +
                                      [Diagnosis(c.code, c.message)], c.rank))
                if found:
                    return found
        confused = self._other_quantity(name, given, places)
        if confused:
            return [(4, confused, 0)]
        early = self._early(i, given, places, within=False)
        if early:
            return [(4, early, 0)]
        slip = self._digit_slip(self.ev.base[name], given)
        if slip:
            return [(4, slip, 1)]
        return []

    def _other_quantity(self, name: str, given: Decimal, places: int) -> list[Diagnosis]:
        """Explain a value that is exactly another quantity's: a gradient of another weight, or a factor."""
        weights = {w.name: w for w in self.spec.weights}
        mine = _gradient_of(name)
        for other, value in self.ev.base.items():
            if other == name or other in self.ev.leaves or not close(value, given, places):
                continue
            theirs = _gradient_of(other)
            if mine in weights and theirs in weights and weights[mine].layer == weights[theirs].layer:
                a, b = weights[mine], weights[theirs]
                post = (" The post's hidden-layer section slips into such a numbering "
                        "(net_h1 = w1*i1 + w3*i2 + b1*1), while its forward pass and its numbers use "
                        "w2 for i2 -> h1." if self.spec.name == "mazur" else "")
                return [Diagnosis("wrong-wiring",
                                  f"{_plain(given)} is {other}, the gradient of {b.name} ({b.src} -> {b.dst}); "
                                  f"{name} belongs to {a.name}, which this spec wires {a.src} -> {a.dst}.{post}")]
            hint = ""
            if mine in weights and other.startswith("delta_"):
                w = weights[mine]
                hint = (f" To get {name}, multiply it by the last factor of the chain rule, "
                        f"{naming.d(naming.net(w.dst), w.name)} = {'out_' + w.src if w.layer > 1 else w.src}.")
            return [Diagnosis("wrong-quantity", f"{_plain(given)} is the value of {other}, not of {name}.{hint}")]
        return []

    def _variants_after(self, name: str, n: int, given: Decimal) -> list[Diagnosis]:
        """Explain a value after training by the post's variants: updated weights, or rounds counted by passes."""
        base = self.spec.training
        found = []
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
            trajectory = train(variant, updates, snapshots=(updates,), dps=20)
            snap = dict(trajectory.snapshots[updates])
            snap[naming.E_TOTAL] = trajectory.errors[updates]
            if not agrees(snap[name], given):
                continue
            if hidden != base.hidden_deltas:
                found.append(Diagnosis(
                    "updated-weights-used",
                    f"{_plain(given)} is what you get when the hidden deltas use the output weights already "
                    f"updated in the same round (the post's 0.291027924 after one round comes from this); the "
                    f"method uses the original weights there."))
            if count != base.count_rounds:
                found.append(Diagnosis(
                    "round-count",
                    f"{_plain(given)} is the value in round {n}'s forward pass, after {n - 1} updates; "
                    f"{name}@{n} here means after {n} updates (the post's 0.0000351085 counts this way)."))
            break
        return found

    def _rounding(self, x, given: Decimal) -> list[Diagnosis]:
        places = decimals(given)
        right = rounded(x, places)
        cut = rounded(x, places, ROUND_DOWN)
        if given == cut and cut != right:
            return [Diagnosis("rounding",
                              f"{_plain(given)} cuts {format_value(x)} off after {places} decimals; rounded, "
                              f"it is {_plain(right)}. Almost there: round instead of truncating.")]
        unit = Decimal(1).scaleb(-places)
        if abs(given - right) <= unit:
            return [Diagnosis("rounding",
                              f"Only the last digit is off: {format_value(x)} rounded to {places} decimals "
                              f"is {_plain(right)}.")]
        return []

    def _early(self, i: int, given: Decimal, places: int, within: bool) -> list[Diagnosis]:
        name = self.ev.flat[i].name
        for k in EARLY_ROUNDING:
            if within and k < places:
                continue
            if not within and k >= places:
                break
            world = self.ev.run_all(self.ev.leaves, places=k)
            if world is None:
                continue
            # the student reports the last value at their own precision, not k
            last = self.ev.run_all(self.ev.leaves, {n: v for n, v in world.items()
                                                    if n in self.ev.ancestors[i]})
            if last is not None and close(last[name], given, places):
                return [Diagnosis("early-rounding",
                                  f"This is what you get when every intermediate result is rounded to "
                                  f"{k} decimals: keep more digits along the way (the post keeps 9).")]
        return []

    def _digit_slip(self, x: float, given: Decimal) -> list[Diagnosis]:
        places = decimals(given)
        right = rounded(x, places)
        a, b = _plain(abs(right)), _plain(abs(given))
        if (right < 0) == (given < 0) and len(a) == len(b):
            diff = [j for j in range(len(a)) if a[j] != b[j]]
            if len(diff) == 1 and a[diff[0]] != ".":
                return [Diagnosis("digit-slip", f"One digit slipped: you wrote {b[diff[0]]} where "
                                                f"{_plain(right)} has {a[diff[0]]}.")]
            if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
                    and a[diff[1]] == b[diff[0]] and "." not in (a[diff[0]], a[diff[1]]):
                return [Diagnosis("digit-slip", f"Two digits swapped places: {_plain(right)} has "
                                                f"{a[diff[0]]}{a[diff[1]]}, you wrote {b[diff[0]]}{b[diff[1]]}.")]
        for shift in (1, -1, 2, -2, 3, -3):
            if x != 0 and close(x * 10.0 ** shift, given, places):
                return [Diagnosis("digit-slip", f"The decimal point moved {abs(shift)} place"
                                                f"{'s' if abs(shift) > 1 else ''}: the value is "
                                                f"{format_value(x)}.")]
        return []

    # -- formulas
    def _formula(self, k: int, a: Answer, where: str):
        i = self.ev.index[a.quantity]
        f = self.ev.flat[i]
        try:
            expr = formula.parse(a.text, self.names)
        except formula.FormulaError as exc:
            at = f":{a.line}" if a.line else ""
            raise SpecError(f"{where}{at}: {a.quantity}: {exc}") from None
        except RecursionError:
            at = f":{a.line}" if a.line else ""
            raise SpecError(f"{where}{at}: {a.quantity}: the formula is nested too deeply to read") from None
        expected = formula_text(f.step.rhs)
        if f.sample is not None:
            n = len(self.spec.samples)
            local = {x: naming.in_sample(x, f.sample + 1, n) for x in
                     set(self.ev.unsuffixed.values()) | set(self.spec.inputs)
                     | {naming.target(o) for o in self.spec.outputs}}
            expr = expr.xreplace({symbol(x): symbol(y) for x, y in local.items()})
        unknown = [s.name for s in expr.free_symbols if s.name not in self.ev.base]
        if unknown:
            at = f":{a.line}" if a.line else ""
            raise SpecError(f"{where}{at}: {a.quantity}: {sorted(unknown)[0]} belongs to several samples; "
                            f"name the sample, like {sorted(unknown)[0]}[1]")
        if not expr.free_symbols:
            return self._constant(k, a, expr, f)
        fn = compile_float(expr)
        bases = [self.ev.base] + self.points
        try:
            values = [fn(b) for b in bases]
        except _FAIL:
            values = [math.nan for _ in bases]
        if all(_same(v, b[a.quantity]) for v, b in zip(values, bases)):
            return Result(a, "correct", expected, (), f.step, f.sample), None
        found = []
        for c, single in self.singles:
            target = dict(c.rename).get(a.quantity, a.quantity)
            if _same(values[0], single.get(target)) and self._formula_holds((c,), values, target):
                found.append((2, [Diagnosis(c.code, c.message)], c.rank))
        p = _Pending(k, a, a.quantity, None, values, found)
        return Result(a, "wrong", expected, (), f.step, f.sample), p

    def _formula_holds(self, cs: tuple, values: list, target: str) -> bool:
        edits = self.ev.replacements(*cs)
        for v, point in zip(values[1:], self.points):
            run = self.ev.run(point, edits)
            if run is None or not _same(v, run.get(target)):
                return False
        return True

    def _constant(self, k: int, a: Answer, expr: sp.Expr, f: FlatStep):
        """A formula with only numbers: judged as a number, at its least precise literal."""
        literals = re.findall(r"\d+\.(\d+)", a.text)
        places = min((len(x) for x in literals), default=9)
        try:
            value = Decimal(mpmath.nstr(mpmath.mpf(sp.N(expr, 30)), 30)).quantize(Decimal(1).scaleb(-places),
                                                                                   rounding=ROUND_HALF_UP)
        except (TypeError, ValueError, InvalidOperation):
            raise SpecError(f"{a.quantity}: the formula has no real value") from None
        number = Answer(a.quantity, a.text, value, a.line)
        result, pending = self._number(k, number, {}, {})
        return Result(a, result.verdict, result.expected, result.diagnoses, result.step, result.sample), pending

    # -- pairs, and the final word
    def _pairs(self, pending: list[_Pending]) -> None:
        need = [p for p in pending if not p.found]
        if not need:
            return
        singles = [(c, v) for c, v in self.singles if c.pairable]
        affects = {}
        for c, values in singles:
            affects[c.key] = {p.target for p in need
                              if values.get(dict(c.rename).get(p.target, p.target)) != self.ev.base.get(p.target)}
        useful = [(c, v) for c, v in singles if affects[c.key]]
        pairs = sorted(itertools.combinations(useful, 2), key=lambda t: t[0][0].rank + t[1][0].rank)
        for (c1, _), (c2, _) in pairs[:MAX_PAIRS]:
            both = affects[c1.key] & affects[c2.key]
            if not both or c1.code == c2.code == "wrong-wiring":
                continue
            overlap = {e[0] for e in c1.edits} & {e[0] for e in c2.edits}
            # two edits of one step must compile anew: only for one-step mistakes, and never two
            # structural ones (a dropped term of a negated sum means little)
            if overlap and (len(c1.edits) > 1 or len(c2.edits) > 1
                            or any(e[1] == STRUCTURAL for e in c1.edits + c2.edits)):
                continue
            values = self.ev.run(self.ev.base, self.ev.replacements(c1, c2))
            if values is None:
                continue
            rename = dict(c1.rename + c2.rename)
            for p in need:
                if p.target not in both:
                    continue
                got = values.get(rename.get(p.target, p.target))
                if p.places is not None:
                    ok = close(got, p.answer.number, p.places)
                else:
                    ok = _same(p.formula_values[0], got) and self._formula_holds(
                        (c1, c2), p.formula_values, rename.get(p.target, p.target))
                if ok:
                    p.found.append((5, [Diagnosis(c1.code, c1.message), Diagnosis(c2.code, c2.message)],
                                    c1.rank + c2.rank))

    def _final(self, result: Result, p: _Pending) -> Result:
        if not p.found:
            return result
        best = min(p.found, key=lambda t: (t[0], t[2]))
        return Result(result.answer, result.verdict, result.expected, tuple(best[1]), result.step, result.sample)


def _same(a, b) -> bool:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def check_text(derivation: Derivation, text: str, where: str) -> Report:
    """Check an answers file's text against a derivation.

    >>> from symbolic import spec, derive
    >>> r = check_text(derive.derive(spec.load("mazur")), '"out_h1" = 0.59327', "a.toml")
    >>> r.results[0].verdict
    'correct'
    """
    return Checker(derivation).check(parse_answers(text, where), where)
