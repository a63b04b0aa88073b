"""Read a formula a student wrote, in SymPy syntax or in LaTeX, into a SymPy expression.

Only known quantity names and a handful of functions are accepted; anything
else raises :class:`FormulaError` with a short reason, so nothing a student
writes is ever evaluated as Python.

SymPy syntax uses canonical names as Python identifiers (``net_h1``,
``dE_total_dw5`` for dE_total/dw5, ``w5_plus`` for w5+):

>>> str(parse("w1*i1 + w2*i2 + b1", {"w1", "i1", "w2", "i2", "b1"}))
'b1 + i1*w1 + i2*w2'

LaTeX is read by a small recursive-descent parser covering what students
write: ``\\frac``, ``\\cdot``, ``\\times``, juxtaposition, ``e^{...}``,
``\\exp``, ``\\ln``, ``\\log``, ``\\sigma``, subscripts (``w_5``,
``net_{h1}``), ``\\delta_{o1}``, ``\\eta``, ``\\left( \\right)`` and
``\\frac{\\partial E_{total}}{\\partial w_5}``.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Callable, Iterable

import sympy as sp
from sympy.parsing.sympy_parser import (auto_number, auto_symbol, convert_xor,
                                        implicit_multiplication, parse_expr, rationalize)

from . import naming
from .functions import sigmoid, softplus
from .model import symbol


class FormulaError(ValueError):
    """A formula that cannot be read, told in one line."""


class FormulaTooLarge(FormulaError):
    """A formula whose numbers are too large to evaluate: refused, never read another way."""


#: Functions a formula may call, by the names students write.
FUNCTIONS: dict[str, Callable] = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "tanh": sp.tanh, "sigmoid": sigmoid,
    "sigma": sigmoid, "softplus": softplus, "sqrt": sp.sqrt,
}

_TRANSFORMS = (auto_symbol, auto_number, implicit_multiplication, convert_xor, rationalize)
_GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational}
_UNEVALUATED = {**_GLOBALS, "Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow, "Symbol": sp.Symbol}
_OPS = {"+", "-", "*", "/", "**", "^", "(", ")"}


def looks_like_latex(text: str) -> bool:
    """Whether *text* uses LaTeX notation (backslashes, braces, or subscripts with _{)."""
    return any(c in text for c in "\\{}$")


def parse(text: str, names: Iterable[str]) -> sp.Expr:
    """Parse a formula over the canonical *names*, in SymPy syntax or LaTeX.

    >>> parse("out_{o1}(1-out_{o1})", {"out_o1"})
    out_o1*(1 - out_o1)
    """
    names = set(names)
    if not text.strip():
        raise FormulaError("the formula is empty")
    if looks_like_latex(text):
        return parse_latex(text, names)
    try:
        return parse_sympy(text, names)
    except FormulaTooLarge:
        raise
    except FormulaError as first:
        # "w_1 i_1 + w_2 i_2" is LaTeX without a backslash; try it before giving up.
        try:
            return parse_latex(text, names)
        except FormulaError:
            raise first from None


# -- SymPy syntax -----------------------------------------------------------

def sympy_locals(names: Iterable[str]) -> dict[str, object]:
    """Map each identifier a SymPy-syntax formula may use to its symbol or function."""
    from .check.aliases import formula_aliases  # here: the check package imports this module
    names = sorted(names)
    table: dict[str, object] = {naming.ident(n): symbol(n) for n in names}
    table.update({k: symbol(v) for k, v in formula_aliases(names).items() if k not in table})
    table.update(FUNCTIONS)
    table["e"] = sp.E
    return table


def parse_sympy(text: str, names: Iterable[str]) -> sp.Expr:
    """Parse SymPy syntax, after checking every token against a whitelist."""
    table = sympy_locals(names)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise FormulaError("unbalanced parentheses or an unfinished expression") from None
    for tok in tokens:
        if tok.type == tokenize.NAME:
            if tok.string not in table:
                raise FormulaError(f"unknown name {tok.string!r}" + _hint(tok.string, table))
        elif tok.type == tokenize.OP:
            if tok.string not in _OPS:
                raise FormulaError(f"{tok.string!r} is not allowed in a formula")
        elif tok.type == tokenize.NUMBER:
            if not re.fullmatch(r"\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?", tok.string):
                raise FormulaError(f"{tok.string!r} is not a decimal number")
            _number_ok(tok.string)
        elif tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                              tokenize.INDENT, tokenize.DEDENT):
            raise FormulaError(f"{tok.string!r} is not allowed in a formula")
    try:
        # read unevaluated first, so a power that would take SymPy hours (10**(100*100*100)) is refused
        _bounded(parse_expr(text, local_dict=dict(table), global_dict=dict(_UNEVALUATED),
                            transformations=_TRANSFORMS, evaluate=False))
        expr = parse_expr(text, local_dict=dict(table), global_dict=dict(_GLOBALS),
                          transformations=_TRANSFORMS, evaluate=True)
    except FormulaError:
        raise
    except (SyntaxError, TypeError, ValueError, AttributeError, ZeroDivisionError, NameError):
        raise FormulaError("not a formula SymPy can read") from None
    return _checked(expr)


#: The largest exponent a formula may write, and the largest number (as a power of 10) it may make.
MAX_EXPONENT = 100
MAX_DIGITS = 50
MAX_MAGNITUDE = 1000


def _number_ok(text: str) -> None:
    """Refuse a literal whose exact value would be huge to hold: 1e999999999, or 200 digits."""
    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa.replace(".", "")) > MAX_DIGITS:
        raise FormulaTooLarge(f"a number has more than {MAX_DIGITS} digits")
    if exponent and (len(exponent.lstrip("+-")) > 4 or abs(int(exponent)) > MAX_EXPONENT):
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise FormulaTooLarge(f"the number {shown} is out of range: exponents may be at most {MAX_EXPONENT}")


def _log10_bound(expr) -> float | None:
    """An upper bound of log10 |value| of a number-only subtree, or None when it has symbols."""
    import math
    if expr.free_symbols:
        return None
    if expr.is_Number:
        if expr == 0:
            return 0.0
        if expr.is_Rational:
            return max(len(str(abs(expr.p))), len(str(expr.q)))
        return math.log10(abs(float(expr))) if abs(float(expr)) > 0 else 0.0
    parts = [b for b in (_log10_bound(a) for a in expr.args) if b is not None]
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        e = _log10_bound(exponent)
        if e is not None and e > 3:
            raise FormulaTooLarge(f"an exponent above {MAX_EXPONENT} is not allowed")
        try:
            power = abs(float(exponent))
        except (TypeError, ValueError, OverflowError):
            return None
        if power > MAX_EXPONENT:
            raise FormulaTooLarge(f"an exponent above {MAX_EXPONENT} is not allowed")
        return power * max(_log10_bound(base) or 0.0, 1.0)
    if isinstance(expr, sp.Mul):
        return sum(parts)
    if isinstance(expr, sp.Add):
        return max(parts, default=0.0) + 1
    return max(parts, default=0.0)


def _bounded(expr) -> None:
    """Refuse a formula whose numbers SymPy would make astronomically large when evaluating it."""
    if not isinstance(expr, sp.Basic):
        return
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and not node.free_symbols:
            bound = _log10_bound(node)
            if bound is not None and bound > MAX_MAGNITUDE:
                raise FormulaTooLarge("the powers in this formula make a number too large to evaluate")
        elif isinstance(node, sp.Pow):
            exponent = node.args[1]
            if exponent.is_Number and abs(float(exponent)) > MAX_EXPONENT:
                raise FormulaTooLarge(f"an exponent above {MAX_EXPONENT} is not allowed")


def _hint(word: str, choices: Iterable[str]) -> str:
    hint = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _checked(expr) -> sp.Expr:
    if not isinstance(expr, sp.Expr):
        raise FormulaError("not a formula (an expression with a value)")
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise FormulaError("the formula divides by zero or is infinite")
    return expr


# -- LaTeX --------------------------------------------------------------------

_LATEX_TOKEN = re.compile(r"""
    (?P<space>\s+|\\[,;:!\ ]|\\quad|\\qquad)
  | (?P<command>\\[A-Za-z]+)
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<name>[A-Za-z]+)
  | (?P<op>[-+*/^_(){}\[\]|',])
  | (?P<other>.)
""", re.VERBOSE)

#: Commands read as a function of their argument.
_LATEX_FUNCTIONS = {r"\exp": sp.exp, r"\ln": sp.log, r"\log": sp.log, r"\sigma": sigmoid,
                    r"\tanh": sp.tanh, r"\sqrt": sp.sqrt}
#: Commands that only name a letter.
_LATEX_LETTERS = {r"\delta": "delta", r"\eta": "eta", r"\alpha": "eta", r"\epsilon": "eta"}
_LATEX_TEXT = (r"\text", r"\mathrm", r"\operatorname", r"\mathit", r"\textrm", r"\mathbf")
_TIMES = {"*", r"\cdot", r"\times", r"\ast"}
_IGNORED = {r"\left", r"\right", r"\displaystyle", r"\big", r"\Big", r"\bigl", r"\bigr"}


@dataclass
class _Tok:
    kind: str
    text: str


def _latex_tokens(text: str) -> list[_Tok]:
    text = text.strip().strip("$").strip()
    out = []
    for m in _LATEX_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "space" or m.group() in _IGNORED:
            continue
        if kind == "other":
            raise FormulaError(f"{m.group()!r} is not allowed in a formula")
        out.append(_Tok(kind, m.group()))
    return out


def parse_latex(text: str, names: Iterable[str]) -> sp.Expr:
    """Parse a LaTeX formula as students write it.

    >>> parse_latex(r"\\frac{1}{1+e^{-net_{h1}}}", {"net_h1"})
    1/(1 + exp(-net_h1))
    """
    parser = _LatexParser(_latex_tokens(text), set(names))
    expr = parser.expression()
    if not parser.done():
        raise FormulaError(f"unexpected {parser.peek().text!r}")
    return _checked(expr)


class _LatexParser:
    """expression := term (+|- term)*; term := factor ((*|/|juxtaposition) factor)*."""

    def __init__(self, tokens: list[_Tok], names: set[str]):
        self.tokens = tokens
        self.pos = 0
        self.names = names

    # -- token access
    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    def peek(self, ahead: int = 0) -> _Tok | None:
        k = self.pos + ahead
        return self.tokens[k] if k < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FormulaError("the formula ends too early")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise FormulaError(f"expected {text!r} but found {tok.text!r}")

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text in texts

    # -- grammar
    def expression(self) -> sp.Expr:
        expr = self.term()
        while self.at("+", "-"):
            sign = self.take().text
            right = self.term()
            expr = expr + right if sign == "+" else expr - right
        return expr

    def term(self) -> sp.Expr:
        expr = self.factor()
        while True:
            if self.at(*_TIMES):
                self.take()
                expr = expr * self.factor()
            elif self.at("/"):
                self.take()
                expr = expr / self.factor()
            elif self.starts_atom():
                expr = expr * self.power()
            else:
                return expr

    def starts_atom(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        if tok.kind in ("number", "name"):
            return True
        if tok.kind == "command":
            return tok.text not in _TIMES
        return tok.text in ("(", "{", "[")

    def factor(self) -> sp.Expr:
        if self.at("-"):
            self.take()
            return -self.factor()
        if self.at("+"):
            self.take()
            return self.factor()
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        if self.at("^"):
            self.take()
            exponent = self.exponent()
            if base is sp.E:
                return sp.exp(exponent)
            _bounded(sp.Pow(base, exponent, evaluate=False))
            return base ** exponent
        return base

    def exponent(self) -> sp.Expr:
        if self.at("{"):
            return self.group()
        if self.at("-"):
            self.take()
            return -self.exponent()
        tok = self.peek()
        if tok is not None and tok.kind == "number":
            self.take()
            # x^23 is x^2 * 3 in LaTeX; only the first digit is the exponent.
            if len(tok.text) > 1 and tok.text.isdigit():
                self.tokens.insert(self.pos, _Tok("number", tok.text[1:]))
                return sp.Integer(tok.text[0])
            return sp.Rational(tok.text)
        return self.atom()

    def group(self) -> sp.Expr:
        self.expect("{")
        if self.at("}"):
            raise FormulaError("empty braces {}")
        expr = self.expression()
        self.expect("}")
        return expr

    def atom(self) -> sp.Expr:
        tok = self.peek()
        if tok is None:
            raise FormulaError("the formula ends too early")
        if tok.kind == "number":
            self.take()
            _number_ok(tok.text)
            return sp.Rational(tok.text)
        if tok.text == "(":
            self.take()
            expr = self.expression()
            self.expect(")")
            return expr
        if tok.text == "[":
            self.take()
            expr = self.expression()
            self.expect("]")
            return expr
        if tok.text == "{":
            return self.group()
        if tok.text == r"\frac" or tok.text == r"\dfrac" or tok.text == r"\tfrac":
            return self.fraction()
        if tok.text in _LATEX_FUNCTIONS:
            self.take()
            return _LATEX_FUNCTIONS[tok.text](self.argument())
        if tok.kind == "name" and tok.text in FUNCTIONS and self.peek(1) is not None \
                and self.peek(1).text in ("(", "{"):
            self.take()
            return FUNCTIONS[tok.text](self.argument())
        if tok.kind == "name" or tok.text in _LATEX_LETTERS or tok.text in _LATEX_TEXT:
            return self.quantity()
        if tok.text == r"\partial":
            raise FormulaError(r"\partial belongs in \frac{\partial ...}{\partial ...}")
        if tok.kind == "command":
            raise FormulaError(f"the LaTeX command {tok.text} is not supported here")
        raise FormulaError(f"unexpected {tok.text!r}")

    def argument(self) -> sp.Expr:
        if self.at("("):
            self.take()
            expr = self.expression()
            self.expect(")")
            return expr
        if self.at("{"):
            return self.group()
        return self.power()

    def fraction(self) -> sp.Expr:
        self.take()
        if self.at("{") and self.peek(1) is not None and self.peek(1).text == r"\partial":
            num = self.partial_group()
            den = self.partial_group()
            name = self.alias(naming.d(num, den))
            if name not in self.names:
                raise FormulaError(f"stepgrad has no quantity d{num}/d{den}"
                                   + _hint(name, self.names))
            return symbol(name)
        num = self.braced_or_atom()
        den = self.braced_or_atom()
        if den == 0:
            raise FormulaError("the formula divides by zero")
        return num / den

    def braced_or_atom(self) -> sp.Expr:
        if self.at("{"):
            return self.group()
        tok = self.peek()
        if tok is not None and tok.kind == "number" and len(tok.text) > 1 and tok.text.isdigit():
            # \frac12 is 1/2: each argument is one character.
            self.take()
            self.tokens.insert(self.pos, _Tok("number", tok.text[1:]))
            return sp.Integer(tok.text[0])
        return self.atom()

    def partial_group(self) -> str:
        """Read {\\partial X} and return the canonical name of X."""
        self.expect("{")
        self.expect(r"\partial")
        name = self.quantity_name()
        self.expect("}")
        return name

    def quantity(self) -> sp.Expr:
        tok = self.peek()
        if tok.kind == "name" and tok.text == "e" and not self.at_subscript(1):
            self.take()
            return sp.E
        return symbol(self.quantity_name())

    def at_subscript(self, ahead: int) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.text == "_"

    def quantity_name(self) -> str:
        """Read a name with optional subscript and ^{+}; return its canonical name."""
        tok = self.take()
        if tok.text in _LATEX_LETTERS:
            base = _LATEX_LETTERS[tok.text]
        elif tok.text in _LATEX_TEXT:
            base = self.plain_text()
        elif tok.kind == "name":
            base = tok.text
        else:
            raise FormulaError(f"expected a quantity name but found {tok.text!r}")
        if self.at("_"):
            self.take()
            sub = self.subscript()
        elif self.peek() is not None and self.peek().kind == "number" and self.peek().text.isdigit() \
                and base.isalpha() and (base + self.peek().text) in self.names:
            sub = self.take().text
            base, sub = base + sub, ""
        else:
            sub = ""
        plus = False
        if self.at("^") and self.peek(1) is not None and (
                self.peek(1).text == "+" or (self.peek(1).text == "{" and self.peek(2) is not None
                                             and self.peek(2).text == "+" and self.peek(3) is not None
                                             and self.peek(3).text == "}")):
            self.take()
            if self.take().text == "{":
                self.take()
                self.take()
            plus = True
        name = self.resolve(base, sub)
        if plus:
            name = naming.updated(name)
            if name not in self.names:
                raise FormulaError(f"stepgrad has no quantity {name}")
        return name

    def alias(self, name: str) -> str:
        """The canonical name of a name students write (t_o1, E, dE_total/dnet_o1), or *name*."""
        if name in self.names:
            return name
        if not hasattr(self, "_aliases"):
            from .check.aliases import formula_aliases
            self._aliases = formula_aliases(self.names)
        key = name.replace("/", "_")  # dE_total/dnet_o1 as the identifier dE_total_dnet_o1
        return self._aliases.get(key, name)

    def plain_text(self) -> str:
        self.expect("{")
        parts = []
        while not self.at("}"):
            tok = self.take()
            if tok.kind not in ("name", "number") and tok.text != "_":
                raise FormulaError(f"unexpected {tok.text!r} in a name")
            parts.append(tok.text)
        self.expect("}")
        return "".join(parts)

    def subscript(self) -> str:
        if self.at("{"):
            self.take()
            parts = []
            while not self.at("}"):
                tok = self.take()
                if tok.kind not in ("name", "number") and tok.text not in ("_", ","):
                    raise FormulaError(f"unexpected {tok.text!r} in a subscript")
                if tok.text in _LATEX_TEXT:
                    parts.append(self.plain_text())
                else:
                    parts.append(tok.text)
            self.take()
            return "".join(parts)
        tok = self.take()
        if tok.kind == "number":
            # w_12 subscripts only the 1 in LaTeX; students mean w12.
            return tok.text
        if tok.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "number" and nxt.text.isdigit():
                # net_h1 written without braces means net_{h1}.
                return tok.text + self.take().text
            return tok.text
        raise FormulaError(f"unexpected {tok.text!r} after _")

    def resolve(self, base: str, sub: str) -> str:
        subs = (sub.replace(",", "_"), sub.replace(",", ""))  # net_{h2,1} is net_h2_1
        candidates = [base] if not sub else [f"{base}_{s}" for s in subs] + [f"{base}{s}" for s in subs]
        for name in candidates:
            if self.alias(name) in self.names:
                return self.alias(name)
        shown = candidates[0]
        raise FormulaError(f"unknown name {shown!r}" + _hint(shown, self.names))
