"""Tests of the formula reader: SymPy syntax and students' LaTeX, and what it refuses."""

from __future__ import annotations

import pytest
import sympy as sp

from stepgrad.symbolic import derive, spec
from stepgrad.symbolic.formula import FormulaError, parse, parse_latex, parse_sympy
from stepgrad.symbolic.functions import sigmoid
from stepgrad.symbolic.model import symbol


@pytest.fixture(scope="module")
def names() -> set[str]:
    d = derive.derive(spec.load("mazur"))
    s = d.spec
    return set(d.values) | set(s.parameters) | set(s.inputs) | {f"target_{o}" for o in s.outputs} | {"eta"}


def S(name: str) -> sp.Symbol:
    return symbol(name)


CASES = [
    ("w1*i1 + w2*i2 + b1", S("w1") * S("i1") + S("w2") * S("i2") + S("b1")),
    ("w1 i1 + w2 i2 + b1", S("w1") * S("i1") + S("w2") * S("i2") + S("b1")),
    ("out_o1(1-out_o1)", S("out_o1") * (1 - S("out_o1"))),
    ("1/(1 + e^(-net_h1))", 1 / (1 + sp.exp(-S("net_h1")))),
    ("sigmoid(net_h1)", sigmoid(S("net_h1"))),
    ("dE_total_dw5 * eta", S("dE_total/dw5") * S("eta")),
    ("w5_plus", S("w5+")),
    ("0.15*i1", sp.Rational(3, 20) * S("i1")),
    (r"w_1 i_1 + w_2 i_2 + b_1 \cdot 1", S("w1") * S("i1") + S("w2") * S("i2") + S("b1")),
    (r"w_{1} \times i_{1} + w_{2} * i_{2} + b_{1}", S("w1") * S("i1") + S("w2") * S("i2") + S("b1")),
    (r"\frac{1}{1+e^{-net_{h1}}}", 1 / (1 + sp.exp(-S("net_h1")))),
    (r"\frac{1}{1+\exp(-net_{h1})}", 1 / (1 + sp.exp(-S("net_h1")))),
    (r"\sigma(net_{h1})", sigmoid(S("net_h1"))),
    (r"out_{o1}(1-out_{o1})", S("out_o1") * (1 - S("out_o1"))),
    (r"\frac12 (target_{o1}-out_{o1})^2", (S("target_o1") - S("out_o1")) ** 2 / 2),
    (r"\frac{1}{2}\left(\text{target}_{o1} - \text{out}_{o1}\right)^{2}",
     (S("target_o1") - S("out_o1")) ** 2 / 2),
    (r"\frac{\partial E_{total}}{\partial w_5}", S("dE_total/dw5")),
    (r"\frac{\partial E_{total}}{\partial out_{o1}} * \frac{\partial out_{o1}}{\partial net_{o1}}",
     S("dE_total/dout_o1") * S("dout_o1/dnet_o1")),
    (r"\delta_{o1} out_{h1}", S("delta_o1") * S("out_h1")),
    (r"w_5^{+}", S("w5+")),
    (r"w_5 - \eta \cdot \frac{\partial E_{total}}{\partial w_5}", S("w5") - S("eta") * S("dE_total/dw5")),
    (r"E_{total}", S("E_total")),
    (r"\ln(out_{o1}) + \log(2)", sp.log(S("out_o1")) + sp.log(2)),
    (r"$net_{h1}$", S("net_h1")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parses_to_the_expected_expression(names, text, expected):
    """Each way students write a formula reads as the expression meant."""
    assert sp.simplify(parse(text, names) - expected) == 0


def test_latex_and_sympy_syntax_agree(names):
    """The same formula in both syntaxes gives the same expression."""
    assert parse_latex(r"w_5 out_{h1} + w_6 out_{h2} + b_2", names) == parse_sympy(
        "w5*out_h1 + w6*out_h2 + b2", names)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",
    "net_h1.__class__",
    "x + 1",
    "lambda: 1",
    "[w1 for w1 in (1,)]",
    "w1 = 2",
    "eval('1')",
])
def test_refuses_anything_but_known_names_and_arithmetic(names, text):
    """Unknown names, attributes, calls and statements are refused with a FormulaError."""
    with pytest.raises(FormulaError):
        parse_sympy(text, names)


@pytest.mark.parametrize("text", [
    r"\frac{w_1 i_1",
    r"\sum_o \delta_o",
    r"\partial w_1",
    r"\frac{\partial E_{total}}{\partial w_9}",
    r"w_9 + 1",
    r"1/0",
    r"",
])
def test_reports_latex_it_cannot_read(names, text):
    """Unfinished, unsupported or unknown LaTeX raises a FormulaError."""
    with pytest.raises(FormulaError):
        parse(text, names)


def test_suggests_the_closest_name(names):
    """An unknown name comes with a did-you-mean suggestion."""
    with pytest.raises(FormulaError, match="did you mean 'net_h1'"):
        parse("nte_h1 + 1", names)
