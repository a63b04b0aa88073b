"""Printers: SymPy expressions to LaTeX and to Python, in the post's notation.

Appearance is changed by overriding ``_print_X`` methods of SymPy's printers,
never by editing printed text.
"""

from __future__ import annotations

from typing import Mapping

import mpmath
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from symbolic import naming
from symbolic.derive import format_value


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


def number_text(value) -> str:
    """Print a given (exact) or computed value the way the post does."""
    if isinstance(value, sp.Rational):
        text = exact_decimal(value)
        return text if text is not None else format_value(mpmath.mpf(value.p) / value.q)
    return format_value(value)


class Latex(LatexPrinter):
    """LaTeX in the post's notation; with *values*, every symbol prints as its number."""

    def __init__(self, values: Mapping[str, object] | None = None):
        super().__init__({"order": "none", "mul_symbol": "dot", "fold_short_frac": False})
        self.values = values

    def _number(self, expr: sp.Symbol) -> str | None:
        if self.values is None or expr.name not in self.values:
            return None
        return number_text(self.values[expr.name])

    def _print_Symbol(self, expr, style="plain"):
        number = self._number(expr)
        if number is not None:
            return number
        return naming.latex_symbol(expr.name)

    def _negative(self, item) -> bool:
        number = self._number(item) if isinstance(item, sp.Symbol) else None
        return number is not None and number.startswith("-")

    def parenthesize(self, item, level, is_neg=False, strict=False):
        if self._negative(item) and level >= PRECEDENCE["Mul"] - 1:
            return rf"\left({self._print(item)}\right)"
        return super().parenthesize(item, level, is_neg, strict)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        if self._negative(expr) and not first:
            return True
        return super()._needs_mul_brackets(expr, first, last)

    def _exponent(self, arg) -> str:
        text = self._print(arg)
        return rf"\left({text}\right)" if self._negative(arg) or not arg.is_Atom else text

    def _print_Mul(self, expr):
        first, rest = expr.args[0], expr.args[1:]
        if first == -1 and rest:
            body = sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
            text = self._print(body)
            return rf"-\left({text}\right)" if body.is_Add or self._negative(body) else "-" + text
        if rest and first.is_Rational and not first.is_Integer and abs(first.p) == 1:
            sign = "-" if first.p < 0 else ""
            body = sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
            return rf"{sign}\frac{{1}}{{{first.q}}} {self.parenthesize(body, PRECEDENCE['Mul'])}"
        return super()._print_Mul(expr)

    def _print_sigmoid(self, expr, exp=None):
        return rf"\frac{{1}}{{1+e^{{-{self._exponent(expr.args[0])}}}}}"

    def _print_softplus(self, expr, exp=None):
        return rf"\ln\left(1+e^{{{self._print(expr.args[0])}}}\right)"

    def _print_log(self, expr, exp=None):
        return rf"\ln\left({self._print(expr.args[0])}\right)"

    def _print_exp(self, expr, exp=None):
        return rf"e^{{{self._print(expr.args[0])}}}"

    def _print_Abs(self, expr, exp=None):
        return rf"\left|{self._print(expr.args[0])}\right|"


def latex(expr: sp.Expr, values: Mapping[str, object] | None = None) -> str:
    """Print *expr* as LaTeX; with *values*, substitute each symbol's number.

    >>> from symbolic.model import symbol
    >>> latex(symbol("w5") * symbol("out_h1"))
    'out_{h1} \\\\cdot w_{5}'
    """
    return Latex(values).doprint(expr)


class Python(PythonCodePrinter):
    """Print expressions as plain Python over ``math``, with stable helpers for sigmoid and softplus."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "standard": "python3",
                          "allow_unknown_functions": False})

    def _print_Symbol(self, expr):
        return naming.ident(expr.name)

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"

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


def python(expr: sp.Expr) -> str:
    """Print *expr* as a Python expression over ``math``."""
    return Python().doprint(expr)
