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

from ..symbolic import naming
from ..symbolic.derive import format_value
from ..symbolic.evaluate import FloatPrinter, exact_decimal


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

    def _print_Add(self, expr, order=None):
        """SymPy's sum, except that a term led by a negative substituted number is subtracted:
        "a - 0.5 \\cdot b", not "a + -0.5 \\cdot b"."""
        tex = ""
        for i, term in enumerate(self._as_ordered_terms(expr, order=order)):
            if i == 0:
                pass
            elif term.could_extract_minus_sign():
                tex += " - "
                term = -term
            else:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = r"\left(%s\right)" % term_tex
            elif i and tex.endswith(" + ") and self._leads_negative(term):
                tex, term_tex = tex[:-3] + " - ", term_tex[1:]
            tex += term_tex
        return tex

    def _leads_negative(self, term) -> bool:
        """Whether *term* prints starting with a negative substituted number (-0.5 or -0.5 \\cdot x)."""
        lead = term.args[0] if isinstance(term, sp.Mul) and term.args else term
        return self._negative(lead) and self._print(term).startswith("-")

    def _print_Mul(self, expr):
        first, rest = expr.args[0], expr.args[1:]
        if first == -1 and rest and self.values is not None and any(
                isinstance(f, sp.Symbol) and self._number(f) == "0" for f in rest):
            return "0"  # minus a product with a zero factor (a zero target's cross-entropy term) is 0
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

    >>> from stepgrad.symbolic.model import symbol
    >>> latex(symbol("w5") * symbol("out_h1"))
    'out_{h1} \\\\cdot w_{5}'
    """
    return Latex(values).doprint(expr)


class Python(FloatPrinter):
    """Print expressions as plain Python over ``math``, with stable helpers for sigmoid and softplus.

    Terms print in SymPy's canonical order, for readable generated code.
    """

    def __init__(self):
        super().__init__({"order": None})


def python(expr: sp.Expr) -> str:
    """Print *expr* as a Python expression over ``math``."""
    return Python().doprint(expr)
