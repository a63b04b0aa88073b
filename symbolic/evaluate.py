"""Evaluate a list of symbolic assignments at high precision with mpmath.

The assignments are printed once, by a SymPy printer subclass, into the body of
a Python function over mpmath numbers; evaluating it is then cheap enough to
train a small network for ten thousand steps at 30 significant digits.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import mpmath
import sympy as sp
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from . import naming

#: Working precision (decimal digits) of every value stepgrad reports.
DPS = 50


class _Printer(MpmathPrinter):
    """Print stepgrad's expressions as mpmath code over identifier names."""

    def _print_Symbol(self, expr):
        return naming.ident(expr.name)

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return f"mpf({expr.p})/mpf({expr.q})"

    def _print_Integer(self, expr):
        return f"mpf({expr.p})"

    def _print_Heaviside(self, expr):
        return f"(mpf(1) if {self._print(expr.args[0])} > 0 else mpf(0))"

    def _print_sign(self, expr):
        return f"mpmath.sign({self._print(expr.args[0])})"


class _FloatPrinter(PythonCodePrinter):
    """Print stepgrad's expressions as float code over ``math`` (for long training runs)."""

    def _print_Symbol(self, expr):
        return naming.ident(expr.name)

    def _print_sigmoid(self, expr):
        return f"_fsigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_fsoftplus({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return repr(expr.p / expr.q)

    def _print_Integer(self, expr):
        return repr(float(expr.p))

    def _print_sign(self, expr):
        arg = self._print(expr.args[0])
        return f"(({arg} > 0) - ({arg} < 0))"


def _fsigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _fsoftplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus(x):
    return mpmath.log1p(mpmath.exp(-abs(x))) + max(x, 0)


def compile_assignments(args: Sequence[sp.Symbol], assignments: Sequence[tuple[sp.Symbol, sp.Expr]],
                        backend: str = "mpmath") -> Callable[[dict], dict]:
    """Compile assignments into f(values) -> dict of every assigned name's value.

    *values* maps canonical names of *args* to mpmath numbers (backend "mpmath")
    or floats (backend "float").
    """
    if backend == "float":
        printer = _FloatPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False,
                                 "order": "none"})
    else:
        printer = _Printer({"fully_qualified_modules": False, "inline": True, "order": "none",
                            "allow_unknown_functions": False})
    lines = ["def _program(_v):"]
    lines += [f"    {naming.ident(a.name)} = _v[{a.name!r}]" for a in args]
    for sym, expr in assignments:
        lines.append(f"    {naming.ident(sym.name)} = {printer.doprint(expr)}")
    pairs = ", ".join(f"{sym.name!r}: {naming.ident(sym.name)}" for sym, _ in assignments)
    lines.append(f"    return {{{pairs}}}")
    namespace = {name: getattr(mpmath, name) for name in dir(mpmath) if not name.startswith("_")}
    namespace.update(mpmath=mpmath, mpf=mpmath.mpf, _sigmoid=_sigmoid, _softplus=_softplus,
                     math=math, _fsigmoid=_fsigmoid, _fsoftplus=_fsoftplus)
    exec(compile("\n".join(lines), "<stepgrad program>", "exec"), namespace)  # noqa: S102 - our own printed code
    return namespace["_program"]


def mp(value: sp.Rational) -> mpmath.mpf:
    """Convert an exact rational to an mpmath number at the working precision."""
    return mpmath.mpf(value.p) / mpmath.mpf(value.q)
