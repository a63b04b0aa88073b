"""codegen.printers and the number formats: LaTeX, Python and the post's decimals."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp

from stepgrad.codegen.printers import latex, number_text, python
from stepgrad.symbolic.derive import format_value, full_value, proven
from stepgrad.symbolic.functions import sigmoid, softplus
from stepgrad.symbolic.model import symbol

W5, OUT, NET, T = symbol("w5"), symbol("out_h1"), symbol("net_o1"), symbol("target_o1")


def test_latex_names_and_products():
    assert latex(W5 * OUT) == r"out_{h1} \cdot w_{5}"
    assert latex(symbol("dE_total/dw5")) == r"\frac{\partial E_{total}}{\partial w_{5}}"
    assert latex(sigmoid(NET)) == r"\frac{1}{1+e^{-net_{o1}}}"
    assert latex(softplus(NET)) == r"\ln\left(1+e^{net_{o1}}\right)"
    assert latex(sp.log(OUT)) == r"\ln\left(out_{h1}\right)"


def test_latex_with_numbers_brackets_negative_values():
    """Substituted numbers print as the post prints them; a negative one is bracketed in a product."""
    text = latex(sp.Mul(W5, OUT, evaluate=False), {"w5": sp.Rational(2, 5), "out_h1": mpmath.mpf("-0.5932699921")})
    assert "0.4" in text and r"\left(-0.593269992\right)" in text
    minus = sp.Mul(sp.Integer(-1), sp.Add(T, -OUT, evaluate=False), evaluate=False)
    assert latex(minus, {"target_o1": sp.Rational(1, 100), "out_h1": mpmath.mpf("0.75")}).startswith(r"-\left(")


def test_python_printer_is_plain_float_code():
    """Powers of two as products, integers as floats, rationals as exact decimals, stable sigmoid."""
    assert python((T - OUT) ** 2) == "(-out_h1 + target_o1)**2"
    assert python(OUT ** 2) == "out_h1*out_h1"
    assert python(sp.Integer(2) * OUT) == "2.0*out_h1"
    assert python(sp.Rational(1, 2) * OUT) == "(0.5)*out_h1"
    assert python(sp.Rational(1, 3) * OUT) == "((1/3))*out_h1"
    assert python(OUT - T) == "out_h1 - target_o1"
    assert python(sigmoid(NET)) == "_sigmoid(net_o1)"
    assert python(softplus(NET)) == "_softplus(net_o1)"
    assert python(sp.exp(NET)) == "math.exp(net_o1)"
    env = {"out_h1": 0.25, "net_o1": 1.5, "target_o1": 0.5, "math": math}
    assert eval(python((T - OUT) ** 2 / 2), env) == pytest.approx(0.03125)  # noqa: S307 - our own printed code


@pytest.mark.parametrize("value, text", [
    (sp.Rational(3775, 10000), "0.3775"), (sp.Rational(1, 3), "0.333333333"), (sp.Integer(-2), "-2"),
    (mpmath.mpf("0.5932699921071872"), "0.593269992"),
])
def test_number_text(value, text):
    with mpmath.workdps(50):
        assert number_text(value) == text


def test_huge_values_print_without_python_s_digit_limit():
    """A diverged value (10^5000) prints in scientific form, never as a ValueError."""
    with mpmath.workdps(50):
        huge = mpmath.mpf(10) ** 5000 * 3
        assert format_value(huge).startswith("3.0") and "e+5000" in format_value(huge)
        assert "e+5000" in full_value(huge)
        assert format_value(-huge).startswith("-3.0")


def test_a_proven_value_prints_only_the_decimals_its_bound_leaves_certain():
    """x = 0.59326999213 known within 2e-11: the post's 9 decimals are certain; 20 are not."""
    x = proven(mpmath.mpf("0.59326999213"), mpmath.mpf("2e-11"))
    assert format_value(x) == "0.593269992"
    assert full_value(x) == "0.5932699921"
    # a bound straddling the 9th decimal's rounding point costs that decimal
    tie = proven(mpmath.mpf("0.5932699925"), mpmath.mpf("2e-11"))
    assert format_value(tie) == "0.59326999"
    # a value smaller than its bound prints as zero to the decimals that are certain
    tiny = proven(mpmath.mpf("4e-27"), mpmath.mpf("1e-25"))
    assert format_value(tiny) == "0." + "0" * 24
    assert float(tiny) == 4e-27


def test_format_value_rounds_the_exact_binary_value():
    """A 50-digit number next to a decimal tie (26.4610017985 in binary) rounds by the side of
    the tie the number itself lies on, not by a rounded product."""
    from fractions import Fraction

    with mpmath.workdps(50):
        x = mpmath.mpf(264610017985) / 10**10
        exact = Fraction(int(x.man)) * Fraction(2) ** int(x.exp) * (-1 if x < 0 else 1)
        tie = Fraction(264610017985, 10**10)
        assert exact != tie
        assert format_value(x) == ("26.461001799" if exact > tie else "26.461001798")
        assert format_value(mpmath.mpf(1) / 3) == "0.333333333"
        assert format_value(-mpmath.mpf("0.0000000004")) == "-0.0000000004"
