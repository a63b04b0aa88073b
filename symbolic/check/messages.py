"""Words for verdicts: the student's value, the expected value to their digits, the mistake, the fix.

Nothing here knows a particular network: every figure comes from the
derivation being checked.
"""

from __future__ import annotations

from decimal import Decimal

import sympy as sp
from sympy.printing.str import StrPrinter

from ..derive import format_value
from .answers import Answer, to_digits
from .program import Evaluator


class _Numbers(StrPrinter):
    """Print a rhs with each symbol replaced by its value."""

    def __init__(self, values: dict):
        super().__init__({"order": "none"})
        self.values = values

    def _print_Symbol(self, expr):
        x = self.values.get(expr.name)
        if x is None:
            return expr.name
        text = format_value(x)
        return f"({text})" if text.startswith("-") else text


class _Names(StrPrinter):
    def _print_Symbol(self, expr):
        return expr.name

    def _print_Piecewise(self, expr):
        parts = [f"{self._print(e)} if {self._print(c)}" for e, c in expr.args[:-1]]
        return "(" + " else ".join(parts + [self._print(expr.args[-1][0])]) + ")"


def step_line(ev: Evaluator, index: int) -> str:
    """The step written out: name = formula = numbers = value (the corrected step)."""
    f = ev.flat[index]
    rhs = f.rhs
    values = {**{k: ev.exact_leaves[k] for k in ev.exact_leaves}, **ev.truth}
    values = {k: (sp.Rational(v) if isinstance(v, sp.Rational) else v) for k, v in values.items()}
    symbolic = _Names({"order": "none"}).doprint(rhs)
    numbers = _Numbers({k: v for k, v in values.items()}).doprint(rhs)
    value = format_value(ev.truth[f.name])
    parts = [f.name, symbolic]
    if numbers != symbolic:
        parts.append(numbers)
    if parts[-1] != value:
        parts.append(value)
    return " = ".join(parts)


def lead(answer: Answer, truth) -> str:
    """You wrote X; the value is Y (to your digits)."""
    if answer.number is None:
        return f"You wrote {answer.text}; the value is {format_value(truth)}."
    return f"You wrote {answer.text}; the value is {to_digits(truth, answer.number)}."


def full(answer: Answer, truth, words: str, line: str | None) -> str:
    """The whole message of a wrong answer's first diagnosis."""
    fix = f" Correct: {line}." if line else ""
    return f"{lead(answer, truth)} {words}{fix}"


def digits_word(n: int) -> str:
    return f"{n} significant digit{'s' if n != 1 else ''}"


def too_few(answer: Answer, truth, options, written: int) -> str:
    """Too few digits: what was written, and what the marker asks for (*options*: judge.Options)."""
    like = to_digits_sig(truth, options.min_digits)
    if options.min_decimals:
        return (f"{answer.text} has {digits_word(written)}, too few to show the working: give at least "
                f"{options.wanted()}, like {like}.")
    return (f"{answer.text} has {digits_word(written)}, too few to show the working: give at least "
            f"{options.min_digits}, like {like}.")


def to_digits_sig(x, n: int) -> str:
    from .answers import rounded, to_decimal
    value = to_decimal(x)
    if value == 0:
        return "0"
    places = max(n - 1 - value.adjusted(), 0)
    return format(rounded(x, places), "f")


def plain(number: Decimal) -> str:
    return format(number, "f")
