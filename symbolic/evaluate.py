"""Evaluate a list of symbolic assignments at high precision with mpmath.

The assignments are printed once, by a SymPy printer subclass, into the body of
a Python function over mpmath numbers; evaluating it is then cheap enough to
train a small network for ten thousand steps at 30 significant digits.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, Sequence

import mpmath
import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from . import naming

#: Working precision (decimal digits) of every value stepgrad reports.
DPS = 50


class _Names:
    """Symbols print as identifiers; sigmoid and softplus as calls of the stable helpers."""

    def _print_Symbol(self, expr):
        return naming.ident(expr.name)

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"


class _Printer(_Names, MpmathPrinter):
    """Print stepgrad's expressions as mpmath code over identifier names."""

    def _print_Rational(self, expr):
        return f"mpf({expr.p})/mpf({expr.q})"

    def _print_Integer(self, expr):
        return f"mpf({expr.p})"

    def _print_Heaviside(self, expr):
        return f"(mpf(1) if {self._print(expr.args[0])} > 0 else mpf(0))"

    def _print_sign(self, expr):
        return f"mpmath.sign({self._print(expr.args[0])})"


class FloatPrinter(_Names, PythonCodePrinter):
    """Print stepgrad's expressions as float code over ``math``, with stable sigmoid and softplus.

    The generated gradient module's printer (``codegen.printers.Python``) is this one.
    """

    def __init__(self, settings=None):
        super().__init__({"fully_qualified_modules": True, "standard": "python3",
                          "allow_unknown_functions": False, "order": "none", **(settings or {})})

    def _print_Rational(self, expr):
        text = exact_decimal(expr)
        return text if text is not None else f"({expr.p}/{expr.q})"

    def _print_Integer(self, expr):
        return f"{expr.p}.0" if expr.p >= 0 else f"({expr.p}.0)"

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_sign(self, expr):
        arg = self._print(expr.args[0])
        return f"(({arg} > 0) - ({arg} < 0))"

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e == 2 and base.is_Symbol:
            b = self._print(base)
            return f"{b}*{b}"
        if e.is_Integer and e > 0:
            return f"{self.parenthesize(base, PRECEDENCE['Pow'])}**{e.p}"
        if e == -1:
            return f"1.0/{self.parenthesize(base, PRECEDENCE['Pow'])}"
        return super()._print_Pow(expr, rational)


def float_sigmoid(x):
    """Return 1 / (1 + e^-x) in float64 without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def float_softplus(x):
    """Return log(1 + e^x) in float64 without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def exact_decimal(value: sp.Rational) -> str | None:
    """Write a rational as a terminating decimal (0.15), or None when it does not terminate."""
    q = value.q
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return None
    places = max(twos, fives)
    scaled = abs(value.p) * 10**places // value.q
    text = str(scaled).rjust(places + 1, "0")
    body = f"{text[:-places]}.{text[-places:]}" if places else text
    return ("-" if value < 0 else "") + body


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus(x):
    return mpmath.log1p(mpmath.exp(-abs(x))) + max(x, 0)


class FastCode:
    """Print an expression tree as Python code directly, fully bracketed, without SymPy's printers.

    For code that is compiled and run but never read (the derivation's 50-digit program, the
    training loop): SymPy's printers cost more than everything else for large networks.
    Unevaluated products and sums (the steps as written) print as they stand, so no ``doit``
    is needed.  A node it does not know goes to *fallback*, a SymPy printer.
    """

    _RELATIONS = {sp.StrictGreaterThan: ">", sp.GreaterThan: ">=", sp.StrictLessThan: "<", sp.LessThan: "<=",
                  sp.Equality: "==", sp.Unequality: "!="}

    def __init__(self, backend: str, name: Callable[[sp.Symbol], str] | None = None):
        self.mp = backend == "mpmath"
        self.name = name or (lambda sym: naming.ident(sym.name))
        self.fallback = _Printer({"fully_qualified_modules": False, "inline": True, "order": "none",
                                  "allow_unknown_functions": False}) if self.mp else FloatPrinter()
        fns = ("exp", "log", "tanh") if self.mp else ("math.exp", "math.log", "math.tanh")
        self.functions = {sp.exp: fns[0], sp.log: fns[1], sp.tanh: fns[2], sp.Abs: "abs",
                          sp.Max: "max", sp.Min: "min"}

    def number(self, expr) -> str:
        if expr.is_Integer:
            return f"mpf({expr.p})" if self.mp else f"{expr.p}.0"
        if expr.is_Rational:
            if self.mp:
                return f"(mpf({expr.p})/mpf({expr.q}))"
            text = exact_decimal(expr)
            return f"({text})" if text is not None else f"({expr.p}/{expr.q})"
        return f"mpf({str(expr)!r})" if self.mp else repr(float(expr))

    def __call__(self, expr) -> str:
        if expr.is_Symbol:
            return self.name(expr)
        if expr.is_Number:
            return self.number(expr)
        args = expr.args
        if isinstance(expr, sp.Add):
            return "(" + " + ".join(self(a) for a in args) + ")"
        if isinstance(expr, sp.Mul):
            return "(" + "*".join(self(a) for a in args) + ")"
        if isinstance(expr, sp.Pow):
            base, e = args
            if e == -1:
                return f"(1/{self(base)})"
            return f"({self(base)}**{self(e) if not e.is_Integer else e.p})"
        kind = type(expr)
        if kind in self.functions:
            return f"{self.functions[kind]}(" + ", ".join(self(a) for a in args) + ")"
        if kind.__name__ == "sigmoid":
            return f"_sigmoid({self(args[0])})"
        if kind.__name__ == "softplus":
            return f"_softplus({self(args[0])})"
        if isinstance(expr, sp.sign):
            x = self(args[0])
            return f"(({x} > 0) - ({x} < 0))" if not self.mp else f"mpmath.sign({x})"
        if isinstance(expr, sp.Piecewise) and args[-1][1] is sp.true:
            text = self(args[-1][0])
            for value, cond in reversed(args[:-1]):
                text = f"({self(value)} if {self(cond)} else {text})"
            return text
        if kind in self._RELATIONS:
            return f"({self(expr.lhs)} {self._RELATIONS[kind]} {self(expr.rhs)})"
        if expr is sp.true or expr is sp.false:
            return str(bool(expr))
        return "(" + self.fallback.doprint(expr) + ")"


#: Node types whose value is rational when all their arguments are (Pow only with an integer exponent).
_RATIONAL_NODES = (sp.Add, sp.Mul, sp.Piecewise, sp.Abs, sp.sign, sp.Max, sp.Min) + tuple(FastCode._RELATIONS)


def _is_rational(expr, rational: set) -> bool:
    """Whether *expr* is rational whenever the symbols in *rational* are (decided from its form)."""
    if expr.is_Symbol:
        return expr in rational
    if expr.is_Number:
        return bool(expr.is_Rational)
    if expr is sp.true or expr is sp.false:
        return True
    if isinstance(expr, sp.Pow):
        return expr.args[1].is_Integer and _is_rational(expr.args[0], rational)
    if isinstance(expr, sp.functions.elementary.piecewise.ExprCondPair) or isinstance(expr, _RATIONAL_NODES):
        return all(_is_rational(a, rational) for a in expr.args)
    return False


class _RationalCode(FastCode):
    """Exact code over Python Fractions: a statement whose inputs are all rational."""

    def __init__(self):
        super().__init__("float")
        self.fallback = None

    def number(self, expr) -> str:
        return f"_Q({expr.p}, {expr.q})"

    def __call__(self, expr) -> str:
        if isinstance(expr, sp.sign):
            x = self(expr.args[0])
            return f"_Q(({x} > 0) - ({x} < 0))"
        return super().__call__(expr)


def compile_exact(args: Sequence[sp.Symbol], assignments: Sequence[tuple[sp.Symbol, sp.Expr]]) -> Callable[[dict], dict]:
    """Compile assignments into f(values) -> dict of 50-digit mpmath values, computed exactly where
    they are rational.

    *values* maps the names of *args* to Fractions.  Each assignment whose form keeps rationals
    rational (sums, products, integer powers, ReLU's and leaky ReLU's branches, |x|) over rational
    quantities is evaluated exactly in Fractions; the rest (exp, log, tanh, the logistic function)
    at the working precision from the exact values.  So a net input that is exactly 0 is 0, and
    every branch at a kink is decided by the exact value.
    """
    exact, approx = _RationalCode(), FastCode("mpmath", name=lambda sym: naming.ident(sym.name) + (
        "__m" if sym in rational else ""))
    rational = set(args)
    lines = ["def _program(_v):"]
    for a in args:
        lines += [f"    {naming.ident(a.name)} = _v[{a.name!r}]",
                  f"    {naming.ident(a.name)}__m = _m({naming.ident(a.name)})"]
    for sym, expr in assignments:
        if _is_rational(expr, rational):
            lines.append(f"    {naming.ident(sym.name)} = {exact(expr)}")
            lines.append(f"    {naming.ident(sym.name)}__m = _m({naming.ident(sym.name)})")
            rational.add(sym)
        else:
            rational.discard(sym)
            lines.append(f"    {naming.ident(sym.name)} = {approx(expr)}")
    pairs = ", ".join(f"{sym.name!r}: {naming.ident(sym.name)}{'__m' if sym in rational else ''}"
                      for sym, _ in dict(assignments).items())
    lines.append(f"    return {{{pairs}}}")
    namespace = {name: getattr(mpmath, name) for name in dir(mpmath) if not name.startswith("_")}
    namespace.update(mpmath=mpmath, mpf=mpmath.mpf, _sigmoid=_sigmoid, _softplus=_softplus, _Q=Fraction,
                     _m=lambda q: mpmath.mpf(q.numerator) / q.denominator)
    exec(compile("\n".join(lines), "<stepgrad exact program>", "exec"), namespace)  # noqa: S102 - our own printed code
    return namespace["_program"]


def compile_assignments(args: Sequence[sp.Symbol], assignments: Sequence[tuple[sp.Symbol, sp.Expr]],
                        backend: str = "mpmath", kinks: dict | None = None) -> Callable[[dict], dict]:
    """Compile assignments into f(values) -> dict of every assigned name's value.

    *values* maps canonical names of *args* to mpmath numbers (backend "mpmath")
    or floats (backend "float").  *kinks* maps a ReLU or leaky ReLU net input to the sum of its
    terms' sizes: a value within rounding error of 0 (10^(5 - digits) of that sum at mpmath's
    working precision) is taken as exactly 0, the kink, as exact arithmetic would have it.
    """
    code = FastCode(backend)
    kinks = kinks or {}
    lines = ["def _program(_v):"]
    lines += [f"    {naming.ident(a.name)} = _v[{a.name!r}]" for a in args]
    for sym, expr in assignments:
        lines.append(f"    {naming.ident(sym.name)} = {code(expr)}")
        if sym in kinks and backend == "mpmath":
            x = naming.ident(sym.name)
            lines.append(f"    {x} = mpf(0) if abs({x}) <= _kink_tolerance() * ({code(kinks[sym])}) else {x}")
    pairs = ", ".join(f"{sym.name!r}: {naming.ident(sym.name)}" for sym, _ in assignments)
    lines.append(f"    return {{{pairs}}}")
    if backend == "float":
        namespace = {"math": math, "_sigmoid": float_sigmoid, "_softplus": float_softplus}
    else:
        namespace = {name: getattr(mpmath, name) for name in dir(mpmath) if not name.startswith("_")}
        namespace.update(mpmath=mpmath, mpf=mpmath.mpf, _sigmoid=_sigmoid, _softplus=_softplus,
                         _kink_tolerance=lambda: mpmath.mpf(10) ** (5 - mpmath.mp.dps))
    exec(compile("\n".join(lines), "<stepgrad program>", "exec"), namespace)  # noqa: S102 - our own printed code
    return namespace["_program"]


def fraction(value) -> Fraction:
    """An exact rational (SymPy's, a float, an int) as a Fraction."""
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    return Fraction(value)


def mp(value: sp.Rational) -> mpmath.mpf:
    """Convert an exact rational to an mpmath number at the working precision."""
    return mpmath.mpf(value.p) / mpmath.mpf(value.q)
