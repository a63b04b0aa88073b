"""The derivation as one flat program over floats, re-run under mistakes.

Students write at most a dozen digits, so candidate mistakes are evaluated in
float64.  The true values come from the derivation (50 digits); where a spec
has kinks (ReLU, leaky ReLU, Huber), they are recomputed here with exact
rationals wherever the value is rational (ReLU, identity and leaky layers keep
the spec's decimals rational), and at 60 digits otherwise, so a net input that
is exactly 0 (-0.6 + 0.4 + 0.2) is 0 and not 5.6e-17.

Every run counts the steps it evaluates in :attr:`Evaluator.work`, so the
checker's mistake search can stop at a fixed, machine-independent amount of work.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

import mpmath
import sympy as sp

from .. import naming
from ..derive import Derivation, Step
from ..evaluate import FloatPrinter, float_sigmoid, float_softplus
from ..model import symbol

_NAMESPACE = {"math": math, "_sigmoid": float_sigmoid, "_softplus": float_softplus}
FAIL = (ArithmeticError, ValueError, TypeError, KeyError)
#: A net input this close to 0 in float arithmetic is taken as exactly 0 (the kink).
KINK = 1e-12


class _Floats(FloatPrinter):
    """Print an expression as Python over floats, reading symbols from a dict ``v``."""

    def _print_Symbol(self, expr):
        return f"v[{expr.name!r}]"

    def _print_Heaviside(self, expr):
        return f"(1.0 if {self._print(expr.args[0])} > 0 else 0.0)"


def compile_float(expr: sp.Expr) -> Callable[[dict], float]:
    """Compile *expr* into f(values) -> float."""
    code = _Floats().doprint(expr)
    return eval(compile(f"lambda v: {code}", "<stepgrad check>", "eval"), dict(_NAMESPACE))  # noqa: S307 - our own printed code


def names_of(expr: sp.Expr) -> frozenset:
    return frozenset(s.name for s in expr.free_symbols)


def round_half_up(x: float, places: int) -> float:
    """Round as students do (half away from zero), from the float's shortest decimal form."""
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class FlatStep:
    """A step of the derivation as evaluated: per-sample names carry their sample."""

    name: str
    rhs: sp.Expr
    step: Step
    sample: int | None
    deps: frozenset

    @property
    def kind(self) -> str:
        return self.step.kind


@dataclass(frozen=True)
class Candidate:
    """One mistake: how it changes the computation, and what it is called."""

    code: str
    rank: int
    #: The mistake in words.
    message: str
    key: str
    #: (step index, order, transform of the unevaluated rhs): structural edits (order 0) first.
    edits: tuple = ()
    #: (step index, wrap): the step's float function f becomes wrap(f).
    hooks: tuple = ()
    #: (leaf name, value): a given value read differently.
    leaves: tuple = ()
    #: Student's quantity name -> name in the derivation (for a different wiring).
    rename: tuple[tuple[str, str], ...] = ()
    pairable: bool = True


class Evaluator:
    """The derivation flattened into one program over floats."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        spec = derivation.spec
        self.spec = spec
        batch = derivation.batch
        self.multi = len(batch) > 1
        n = len(spec.samples)
        flat: list[FlatStep] = []
        exact: dict[str, sp.Rational] = dict(spec.initial)
        exact["eta"] = spec.training.learning_rate
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
                    flat.append(FlatStep(name, rhs, st, s, names_of(rhs)))
                    self.unsuffixed[name] = st.name
                sample = spec.samples[s]
                exact.update({naming.in_sample(k, s + 1, n): v for k, v in sample.inputs})
                exact.update({naming.in_sample(naming.target(k), s + 1, n): v for k, v in sample.targets})
            for st in derivation.steps:
                if not st.per_sample:
                    flat.append(FlatStep(st.name, st.rhs, st, None, names_of(st.rhs)))
        else:
            sample = spec.samples[batch[0]]
            exact.update(dict(sample.inputs))
            exact.update({naming.target(k): v for k, v in sample.targets})
            flat = [FlatStep(st.name, st.rhs, st, None, names_of(st.rhs)) for st in derivation.steps]
        self.flat = flat
        self.exact_leaves = exact
        self.leaves = {k: float(v) for k, v in exact.items()}
        self.index = {f.name: i for i, f in enumerate(flat)}
        self.functions = [compile_float(f.rhs.doit()) for f in flat]
        self.nets = frozenset(i for i, f in enumerate(flat) if f.kind == "net")
        self.work = 0
        self.truth = self._truth()
        self.base = dict(self.leaves)
        self.base.update({name: float(x) for name, x in self.truth.items()})
        ancestors: list[frozenset] = []
        leaf_up: list[frozenset] = []
        for f in flat:
            up, lv = set(), set()
            for d in f.deps:
                if d in self.index:
                    up.add(d)
                    up |= ancestors[self.index[d]]
                    lv |= leaf_up[self.index[d]]
                elif d in self.leaves:
                    lv.add(d)
            ancestors.append(frozenset(up))
            leaf_up.append(frozenset(lv))
        self.ancestors = ancestors
        self.leaf_ancestors = leaf_up
        self.users: dict[str, list[int]] = {}
        for i, f in enumerate(flat):
            for d in f.deps:
                self.users.setdefault(d, []).append(i)
        self.delta_forms_deps: dict[int, tuple] = {}
        self.delta_forms = self._delta_forms()

    # -- the true values, with exact kinks
    def _truth(self) -> dict:
        kinked = any(f.rhs.has(sp.Piecewise, sp.Heaviside, sp.sign, sp.Abs) for f in self.flat)
        values = self.derivation.values
        if not kinked and all(f.name in values for f in self.flat):
            return {f.name: values[f.name] for f in self.flat}
        known: dict = {symbol(k): v for k, v in self.exact_leaves.items()}
        out = {}
        for f in self.flat:
            x = f.rhs.doit().xreplace(known)
            if not x.is_Rational:
                x = sp.Float(x.evalf(60), 60)
            known[symbol(f.name)] = x
            with mpmath.workdps(60):
                out[f.name] = mpmath.mpf(x.p) / x.q if x.is_Rational else mpmath.mpf(str(x))
        return out

    def exact(self, name: str):
        """The exact rational value of a quantity when it has one (givens; rational steps of kinked specs)."""
        if name in self.exact_leaves:
            return self.exact_leaves[name]
        return None

    def _delta_forms(self) -> dict[int, Callable]:
        """Each weight gradient written as delta times the last factor: the student's shortcut."""
        out = {}
        n = len(self.spec.samples)
        for i, f in enumerate(self.flat):
            if f.kind != "grad" or f.step.neuron is None:
                continue
            dnet = [d for d in f.deps if d.startswith("dnet_")]
            delta = naming.delta(f.step.neuron)
            if f.sample is not None:
                delta = naming.in_sample(delta, f.sample + 1, n)
            if len(dnet) == 1 and delta in self.index and delta not in f.deps:
                out[i] = compile_float(symbol(delta) * symbol(dnet[0]))
                self.delta_forms_deps[i] = (delta, dnet[0])
        return out

    # -- running
    def run_all(self, leaves: dict, pins: dict | None = None, places: int | None = None,
                shortcuts: bool = False, upto: int | None = None) -> dict | None:
        """Run every step from *leaves*; pinned steps keep the given value; optionally round each.

        With *shortcuts*, weight gradients are delta times the last factor, as students often write.
        """
        v = dict(leaves)
        last = len(self.flat) if upto is None else upto + 1
        try:
            for i in range(last):
                f = self.flat[i]
                if pins and f.name in pins:
                    v[f.name] = pins[f.name]
                    continue
                fn = self.delta_forms.get(i, self.functions[i]) if shortcuts else self.functions[i]
                x = fn(v)
                if i in self.nets and abs(x) < KINK:
                    x = 0.0
                v[f.name] = round_half_up(x, places) if places is not None else x
        except FAIL:
            return None
        finally:
            self.work += last
        return v

    def run(self, base: dict, replace: dict[int, Callable], pins: dict | None = None,
            leaves: dict | None = None, upto: int | None = None) -> dict | None:
        """Re-run from the first replaced step, recomputing only what changed."""
        v = dict(base)
        changed: set = set()
        if leaves:
            v.update(leaves)
            changed |= set(leaves)
            replace = dict(replace)
            for name in leaves:
                for i in self.users.get(name, ()):
                    replace.setdefault(i, self.functions[i])
        if not replace:
            return v
        last = len(self.flat) if upto is None else upto + 1
        count = 0
        try:
            for i in range(min(replace), last):
                f = self.flat[i]
                if i in replace:
                    x = replace[i](v)
                elif f.deps & changed:
                    x = self.functions[i](v)
                else:
                    continue
                count += 1
                if i in self.nets and abs(x) < KINK:
                    x = 0.0
                if pins and f.name in pins:
                    continue
                if x != v[f.name]:
                    v[f.name] = x
                    changed.add(f.name)
        except FAIL:
            return None
        finally:
            self.work += count + 20
        return v

    def random_leaves(self, seed: int, vary: set | None = None) -> dict:
        """Leaves at a random point (deterministic), targets kept inside (0, 1).

        Only the leaves in *vary* move (all when None): a formula that writes a given number
        for its symbol is compared with the others held at the spec's values.
        """
        rng = random.Random(seed)
        out = {}
        targets = {naming.target(o) for o in self.spec.outputs}
        for name in sorted(self.leaves):
            base = name.split("[")[0]
            if base in targets:
                x = rng.uniform(0.05, 0.95)
            elif base == "eta":
                x = rng.uniform(0.1, 1.0)
            else:
                x = rng.uniform(-1.0, 1.0)
            out[name] = x if vary is None or name in vary else self.leaves[name]
        if self.spec.error == "categorical_cross_entropy":
            out.update({k: v for k, v in self.leaves.items() if k.split("[")[0] in targets})
        return out


#: Work units (evaluated steps) charged for compiling one edited step: compiling costs about as
#: much as evaluating a few thousand steps.
COMPILE_COST = 300


def edited(ev: Evaluator, c: Candidate) -> dict[int, Callable]:
    """Turn a candidate's edits and hooks into replacement functions by step index.

    Substitutions (another quantity or a number read in place of one) only change what the
    step's compiled function reads; other edits compile the edited right-hand side.
    """
    by_index: dict[int, list] = {}
    for index, order, fn in c.edits:
        by_index.setdefault(index, []).append((order, fn))
    out = {}
    for index, fns in by_index.items():
        tables = [getattr(fn, "table", None) for _, fn in fns]
        if all(t is not None for t in tables):
            table: dict = {}
            for t in tables:
                table.update(t)
            out[index] = _reading(ev.functions[index], table)
            continue
        rhs = ev.flat[index].rhs
        for _, fn in sorted(fns, key=lambda t: t[0]):
            rhs = fn(rhs)
        out[index] = compile_float(rhs.doit())
        ev.work += COMPILE_COST
    for index, wrap in c.hooks:
        out[index] = wrap(out.get(index, ev.functions[index]))
    return out


def _reading(fn: Callable, table: dict) -> Callable:
    names = tuple((a, b) for a, b in table.items() if isinstance(b, str))
    numbers = {a: float(b) for a, b in table.items() if not isinstance(b, str)}

    def read(v):
        w = dict(v)
        for a, b in names:
            w[a] = v[b]
        w.update(numbers)
        return fn(w)
    return read
