"""Check pasted working: lines written as the post writes them, every part of each line.

A working line names a quantity, then gives any of a formula, the numbers
substituted into it, and the value, joined by ``=``::

    net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775
    $$\\frac{\\partial E_{total}}{\\partial w_5} = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041$$

Markdown (``$$ ... $$``, inline ``$...$``), LaTeX (``\\[ \\]``, ``align``
rows, ``\\cdot``, ``\\times``, ``net_{h1}``, ``w_5^{+}``) and plain text are read.
Each part is judged on its own:

* a **formula** is a formula answer for the quantity (the checker compares it
  with the derivation's step at several points);
* the **numbers** substituted: each number must be the value of the symbol it
  stands for (aligned with the formula written on the line, or the last one
  written for the quantity), to the digits written, or the student's own value
  for it stated on an earlier line; and the arithmetic must give the stated
  value at its written precision (widened by the rounding of the numbers used);
* the **value** is a numeric answer for the quantity, so precision,
  follow-through and the mistake search all apply.

A line whose first part names no quantity and reads like prose is skipped; a
working line that cannot be read is listed (``not read``), never fatal.  The
text is untrusted: nothing is evaluated as Python, arithmetic is read by the
small bounded parser below, and the number of lines judged is capped.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, replace
from decimal import Decimal

import mpmath
import sympy as sp

from .. import formula, naming
from ..derive import Derivation, format_value, given_values
from ..evaluate import exact_decimal
from ..spec import SpecError
from . import aliases
from .answers import Answer, half_unit, plain, significant
from .judge import Checker, Diagnosis, Options, Report, Result

#: Lines of working read in one file, judged or listed (the post's own working has about 60).
MAX_WORKING = 500
#: Names not known get a did-you-mean up to this many per file.
MAX_HINTS = 100
#: Characters of one line; longer lines are listed as not read.
MAX_LINE = 2000
#: Tokens of one part, and how deep its reading may nest (about two levels per bracket or function).
MAX_TOKENS = 400
MAX_DEPTH = 60
#: Digits of one number, and the largest power and exp() argument the arithmetic evaluates.
MAX_DIGITS = 50
MAX_POWER = 100
MAX_EXP = 700
#: Checker runs for quantities written more than once (each run holds one answer per quantity).
MAX_ROUNDS = 8
#: Values after training (E_total@N) are judged only when their training takes at most this long.
MAX_TRAIN_S = 5.0
#: The first runs of values and of formulas each get this fraction (1/FIRST_SHARE) of the mistake
#: search's usual work, and each later run LATER_WORK, so a whole file of working costs less than
#: one answers file's search.
FIRST_SHARE = 4
LATER_WORK = 20_000
DPS = 40
#: Parts of one step's formula whose values a substituted number may be (1 - out_o1, say).
MAX_PIECES = 100

KINDS = ("formula", "numbers", "value", "part")


class Unreadable(ValueError):
    """A part of a line that cannot be read, with the reason in a few words."""


# -- tokens ------------------------------------------------------------------------

@dataclass(frozen=True)
class Tok:
    """A token: kind is num, name, func, e, op, open, close, frac; text as written."""

    kind: str
    text: str
    start: int = 0


_FUNCS = {"exp": "exp", "ln": "ln", "log": "ln", "sigma": "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh",
          "sqrt": "sqrt", "softplus": "softplus"}
_SKIP_COMMANDS = {"left", "right", "displaystyle", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "quad", "qquad",
                  "mathrm", "text", "textrm", "mathit", "operatorname", "mathbf"}
_TIMES = {"cdot", "times", "ast"}
_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:[eE]([-+]?\d+)(?![A-Za-z_]))?")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_(?:\{[^{}]{0,40}\}|[A-Za-z0-9]+))*(?:\^(?:\{\+\}|\+))?(?:\[\d{1,6}\])?")
_DERIV = re.compile(r"d[A-Za-z][A-Za-z0-9_]*/d[A-Za-z][A-Za-z0-9_]*(?:\[\d{1,6}\])?")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
#: A canonical name with '/' or a sample, as plain text writes it: dE_total/dw5, out_h1[2], w5+[1] never.
_PLAIN_NAME = re.compile(r"(?<![A-Za-z0-9_])(?:d[A-Za-z][A-Za-z0-9_]*/d[A-Za-z][A-Za-z0-9_]*|[A-Za-z][A-Za-z0-9_]*)"
                         r"(?:\[\d{1,6}\])?")
_QUOTED = re.compile(r"""\A(["'])(.*)\1\Z""")
#: A sample tag on a LaTeX quantity inside a formula: {E_{total}}^{(1)}.
_LATEX_SAMPLE = re.compile(r"\^\{?\(\d{1,6}\)\}?")
_WRAPPED = re.compile(r"\\(?:text|mathrm|operatorname|mathit|textrm|mathbf)\s*\{([A-Za-z]+)\}")
_GREEK_NAME = re.compile(r"\\(?:delta|eta|alpha|epsilon)(?![A-Za-z])(?:_(?:\{[^{}]{0,40}\}|[A-Za-z0-9]+))?"
                         r"(?:\^(?:\{\+\}|\+))?")


def _group_end(text: str, k: int) -> int:
    """The index after the brace group opening at text[k] ('{'), or -1."""
    depth = 0
    for j in range(k, min(len(text), k + 400)):
        depth += (text[j] == "{") - (text[j] == "}")
        if depth == 0:
            return j + 1
    return -1


def tokens(text: str) -> list[Tok]:
    """Split a part of a working line into tokens; raise Unreadable for what no token covers.

    >>> [t.text for t in tokens(r"w_1 \\cdot i_1 + 0.35")]
    ['w_1', '*', 'i_1', '+', '0.35']
    """
    out: list[Tok] = []
    k, n = 0, len(text)
    while k < n:
        if len(out) > MAX_TOKENS:
            raise Unreadable(f"more than {MAX_TOKENS} symbols in one part")
        ch = text[k]
        if ch.isspace() or ch in ",;":
            k += 1
            continue
        m = _NUMBER.match(text, k)
        if m:
            digits = sum(c.isdigit() for c in m.group(1))
            if digits > MAX_DIGITS:
                raise Unreadable(f"a number with more than {MAX_DIGITS} digits")
            if m.group(2) is not None and (len(m.group(2).lstrip("+-")) > 3 or abs(int(m.group(2))) > MAX_POWER):
                raise Unreadable(f"the number {m.group()[:30]} is out of range (exponents up to {MAX_POWER})")
            out.append(Tok("num", m.group(), k))
            k = m.end()
            continue
        if ch in "+-/^":
            out.append(Tok("op", ch, k))
            k += 1
            continue
        if ch == "*":
            if text.startswith("**", k):
                out.append(Tok("op", "^", k))
                k += 2
            else:
                out.append(Tok("op", "*", k))
                k += 1
            continue
        if ch in "×·⋅∗":
            out.append(Tok("op", "*", k))
            k += 1
            continue
        if ch in "−–":
            out.append(Tok("op", "-", k))
            k += 1
            continue
        if ch in "({[":
            out.append(Tok("open", ch, k))
            k += 1
            continue
        if ch in ")}]":
            out.append(Tok("close", ch, k))
            k += 1
            continue
        if ch == "\\":
            k = _command(text, k, out)
            continue
        if ch in "δη":
            m = re.compile(r"[δη](?:_(?:\{[^{}]{0,40}\}|[A-Za-z0-9]+))?").match(text, k)
            out.append(Tok("name", m.group().replace("δ", r"\delta").replace("η", r"\eta"), k))
            k = m.end()
            continue
        m = _DERIV.match(text, k)
        if m and (k == 0 or not (text[k - 1].isalnum() or text[k - 1] == "_")):
            out.append(Tok("name", m.group(), k))
            k = m.end()
            continue
        m = _IDENT.match(text, k)
        if m:
            word = m.group()
            if word == "e":
                out.append(Tok("e", word, k))
            elif word in _FUNCS:
                out.append(Tok("func", _FUNCS[word], k))
            else:
                out.append(Tok("name", word, k))
            k = m.end()
            continue
        raise Unreadable(f"cannot read {text[k:k + 12]!r}")
    return out


def _command(text: str, k: int, out: list[Tok]) -> int:
    """Read the LaTeX command at text[k] into *out*; return the index after it."""
    m = _WRAPPED.match(text, k)
    if m:
        word = m.group(1)
        if word in _FUNCS:
            out.append(Tok("func", _FUNCS[word], k))
            return m.end()
        # \text{out}_{o1}: the name is the word and what follows it
        rest = _IDENT.match(word + text[m.end():m.end() + 60])
        end = m.end() + len(rest.group()) - len(word)
        out.append(Tok("name", text[k:end], k))
        return end
    m = _GREEK_NAME.match(text, k)
    if m:
        out.append(Tok("name", m.group(), k))
        return m.end()
    m = _COMMAND.match(text, k)
    word = m.group(1)
    if word in ("frac", "dfrac", "tfrac"):
        j = m.end()
        while j < len(text) and text[j].isspace():
            j += 1
        if text.startswith(r"\partial", j + 1) or text.startswith(r"{\partial", j) or \
                re.match(r"\{\s*\\partial", text[j:j + 20]):
            first = _group_end(text, j) if j < len(text) and text[j] == "{" else -1
            j2 = first
            while 0 <= j2 < len(text) and text[j2].isspace():
                j2 += 1
            second = _group_end(text, j2) if 0 <= j2 < len(text) and text[j2] == "{" else -1
            if second < 0:
                raise Unreadable("a \\frac{\\partial ...} without its two groups")
            out.append(Tok("name", text[k:second], k))
            return second
        out.append(Tok("frac", word, k))
        return m.end()
    if word in _TIMES:
        out.append(Tok("op", "*", k))
        return m.end()
    if word in ("exp", "ln", "log", "sigma", "tanh", "sqrt"):
        out.append(Tok("func", _FUNCS[word], k))
        return m.end()
    if word in _SKIP_COMMANDS or word in (",", ";", "!", " ", ":"):
        return m.end()
    if word in ("{", "}"):
        out.append(Tok("open" if word == "{" else "close", "(" if word == "{" else ")", k))
        return m.end()
    raise Unreadable(f"the LaTeX command \\{word[:20]} is not supported here")


# -- arithmetic on numbers -----------------------------------------------------------

class _Arithmetic:
    """A recursive-descent reader of numbers-only arithmetic into a tree, evaluated with mpmath.

    Trees are tuples: ("num", index), ("neg", a), ("add", a, b), ("sub", a, b), ("mul", a, b),
    ("div", a, b), ("pow", a, b), ("func", name, a), ("e",).  Literals are kept by index so the
    tree can be evaluated again with one literal moved by its rounding.
    """

    def __init__(self, toks: list[Tok]):
        self.toks = toks
        self.k = 0
        self.depth = 0
        self.literals: list[Decimal] = []

    def peek(self) -> Tok | None:
        return self.toks[self.k] if self.k < len(self.toks) else None

    def take(self) -> Tok:
        t = self.toks[self.k]
        self.k += 1
        return t

    def parse(self):
        tree = self.expr()
        if self.peek() is not None:
            raise Unreadable(f"cannot read past {self.peek().text!r}")
        return tree

    def _enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unreadable("brackets or functions nested too deeply to read")

    def expr(self):
        self._enter()
        tree = self.term()
        while (t := self.peek()) is not None and t.kind == "op" and t.text in "+-":
            self.take()
            tree = ("add" if t.text == "+" else "sub", tree, self.term())
        self.depth -= 1
        return tree

    def _starts_factor(self, t: Tok | None) -> bool:
        return t is not None and (t.kind in ("num", "e", "func", "frac", "name") or t.kind == "open")

    def term(self):
        tree = self.unary()
        while True:
            t = self.peek()
            if t is not None and t.kind == "op" and t.text in "*/":
                self.take()
                tree = ("mul" if t.text == "*" else "div", tree, self.unary())
            elif self._starts_factor(t):
                tree = ("mul", tree, self.power())
            else:
                return tree

    def unary(self):
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in "+-":
            self.take()
            self._enter()
            inner = self.unary()
            self.depth -= 1
            return ("neg", inner) if t.text == "-" else inner
        return self.power()

    def power(self):
        base = self.atom()
        t = self.peek()
        if t is not None and t.kind == "op" and t.text == "^":
            self.take()
            u = self.peek()
            if u is not None and u.kind == "op" and u.text in "+-":
                self.take()
                exponent = self.atom()
                return ("pow", base, ("neg", exponent) if u.text == "-" else exponent)
            return ("pow", base, self.atom())
        return base

    def atom(self):
        self._enter()
        tree = self._atom()
        self.depth -= 1
        return tree

    def _atom(self):
        t = self.peek()
        if t is None:
            raise Unreadable("it ends too early")
        self.take()
        if t.kind == "num":
            self.literals.append(Decimal(t.text))
            return ("num", len(self.literals) - 1)
        if t.kind == "e":
            return ("e",)
        if t.kind == "open":
            inner = self.expr()
            close = self.peek()
            if close is None or close.kind != "close":
                raise Unreadable("a bracket is not closed")
            self.take()
            return inner
        if t.kind == "frac":
            top = self.atom()
            bottom = self.atom()
            return ("div", top, bottom)
        if t.kind == "func":
            return ("func", t.text, self.power())
        if t.kind == "name":
            raise Unreadable(f"{t.text} is a name, not a number")
        raise Unreadable(f"cannot read {t.text!r} here")


def _evaluate(tree, literals: list) -> mpmath.mpf:
    """Evaluate an arithmetic tree with *literals*; raise Unreadable when it is undefined or too large."""
    kind = tree[0]
    if kind == "num":
        return _mpf(literals[tree[1]])
    if kind == "e":
        return mpmath.e
    if kind == "neg":
        return -_evaluate(tree[1], literals)
    if kind == "func":
        x = _evaluate(tree[2], literals)
        name = tree[1]
        if name in ("exp", "sigmoid", "softplus") and abs(x) > MAX_EXP:
            raise Unreadable("an exponential too large to evaluate")
        if name == "exp":
            return mpmath.exp(x)
        if name == "sigmoid":
            return 1 / (1 + mpmath.exp(-x))
        if name == "softplus":
            return mpmath.log(1 + mpmath.exp(x))
        if name == "tanh":
            return mpmath.tanh(x)
        if x <= 0 and name == "ln" or x < 0 and name == "sqrt":
            raise Unreadable(f"{name} of a number out of its range")
        return mpmath.log(x) if name == "ln" else mpmath.sqrt(x)
    a, b = _evaluate(tree[1], literals), _evaluate(tree[2], literals)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div":
        if b == 0:
            raise Unreadable("a division by zero")
        return a / b
    # a power: bounded, and e^x as exp(x)
    if tree[1] == ("e",):
        if abs(b) > MAX_EXP:
            raise Unreadable("an exponential too large to evaluate")
        return mpmath.exp(b)
    if abs(b) > MAX_POWER or (a != 0 and abs(mpmath.log10(abs(a)) * b) > 300):
        raise Unreadable(f"a power too large to evaluate (exponents up to {MAX_POWER})")
    if a < 0 and b != int(b) or a == 0 and b < 0:
        raise Unreadable("a power that is undefined")
    return a ** b


def arithmetic(text: str):
    """Read numbers-only arithmetic: (tree, literals, value).

    >>> _, _, v = arithmetic(r"\\frac{1}{1+e^{-0.3775}}")
    >>> mpmath.nstr(v, 9)
    '0.593269992'
    """
    with mpmath.workdps(DPS):
        p = _Arithmetic(tokens(text))
        tree = p.parse()
        return tree, p.literals, _evaluate(tree, p.literals)


# -- lines -------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One part of a working line: a formula, the numbers substituted, or the value."""

    kind: str
    text: str
    #: Why a part could not be read ("" when it was).
    reason: str = ""


@dataclass(frozen=True)
class WorkingLine:
    """A line read as working: the quantity it names and its parts, in the order written."""

    line: int
    quantity: str
    parts: tuple[Part, ...]
    text: str


@dataclass(frozen=True)
class NotRead:
    """A line that looks like working but cannot be read, and why."""

    line: int
    text: str
    reason: str


_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)")
_STRIP_EDGES = re.compile(r"^\s*(?:[-*+>]\s+|\d{1,4}[.)]\s+)*|\s*(?:\\\\|\\nonumber|\\notag)?\s*$")


def _candidates(raw: str) -> list[str]:
    """The pieces of one line that may be working: its math segments, or the whole line."""
    found = [next(g for g in m.groups() if g is not None) for m in _MATH.finditer(raw)]
    if found:
        return [f for f in found if "=" in f]
    text = raw
    for mark in ("$$", r"\[", r"\]", "`"):
        text = text.replace(mark, " ")
    text = _STRIP_EDGES.sub("", text)
    return [text] if "=" in text else []


def split_parts(text: str) -> list[str]:
    """Split at each '=' outside brackets (and not part of <=, >=, ==, !=).

    >>> split_parts("net_h1 = w1*i1 + b1 = 0.3775")
    ['net_h1', 'w1*i1 + b1', '0.3775']
    """
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0:
            if text[k - 1:k] in ("<", ">", "!", "=") or text[k + 1:k + 2] == "=":
                continue
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return [p.replace("&", " ").strip() for p in parts]


_SUBSCRIPT_COMMA = re.compile(r"_\{[A-Za-z0-9]+(?:,[A-Za-z0-9]+)+\}")
_PARTIAL = re.compile(r"∂\s*([A-Za-z][A-Za-z0-9_]*)\s*/\s*∂\s*([A-Za-z][A-Za-z0-9_]*)")


def normalize(text: str) -> str:
    """Write the Unicode a student pastes the way the formula reader takes it: × · − δ η ∂E/∂w5.

    >>> normalize("∂E/∂w5 = δ_o1 · out_h1 − 0")
    'dE_total/dw5 = delta_o1 * out_h1 - 0'
    >>> normalize("out_h1 = 0.593269992 ≈ 0.593")
    'out_h1 = 0.593269992 = 0.593'
    >>> normalize("net_{h2,1}^{(2)} = 0.5")
    'net_{h2_1}^{(2)} = 0.5'
    """
    latex = "\\" in text or "{" in text
    text = _SUBSCRIPT_COMMA.sub(lambda m: m.group().replace(",", "_"), text)  # net_{h2,1} is net_h2_1
    text = _PARTIAL.sub(lambda m: f"d{'E_total' if m.group(1) == 'E' else m.group(1)}/d{m.group(2)}", text)
    for old, new in (("×", "*"), ("·", "*"), ("⋅", "*"), ("∗", "*"), ("−", "-"), ("–", "-"), ("≈", "="),
                     ("\\approx", "=")):
        text = text.replace(old, new)
    for old, name in (("δ", "delta"), ("η", "eta")):
        if latex:  # \delta_{o1}, and \eta w5 apart
            text = re.sub(f"{old}(?=[A-Za-z0-9])", f"\\\\{name} ", text).replace(old, f"\\{name}")
        else:
            text = text.replace(old, name)
    return text


def _prose(text: str) -> bool:
    """Whether a line's first part reads like a sentence rather than a quantity's name."""
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\\[A-Za-z]+|_\{[^{}]*\}|_\w+", " ", text))
    return len(words) >= 3 or len(text) > 80 or "://" in text


class Reader:
    """Names and values of one derivation, for reading working lines."""

    def __init__(self, derivation: Derivation, checker: Checker):
        self.d = derivation
        self.checker = checker
        self.names = checker.names
        self.known = set(self.names)
        self._canonical: dict[str, str | None] = {}
        self.hints = 0
        spec = derivation.spec
        self.givens = {k: v for k, v in given_values(spec, derivation.batch[0]).items()}
        self.sample_givens = [given_values(spec, s) for s in range(len(spec.samples))]

    def canonical(self, text: str) -> str | None:
        """The canonical quantity a name written any supported way stands for, or None."""
        text = text.strip()
        if text in self._canonical:
            return self._canonical[text]
        name = None
        bare = re.sub(r"\s+", "", text)
        if bare in self.known or self.checker.known(bare):
            name = bare
        else:
            sample = re.fullmatch(r"(.+?)(\[\d{1,6}\]|\^\{?\(\d{1,6}\)\}?)\s*", text, re.S)
            tail, body = "", text
            if sample:
                body, tail = sample.group(1), "[" + re.sub(r"\D", "", sample.group(2)) + "]"
            try:
                expr = formula.parse(body, self.names) if len(body) <= 200 else None
            except (formula.FormulaError, RecursionError, ValueError):
                expr = None
            if expr is not None and expr.is_Symbol:
                full = expr.name + tail
                name = full if (full in self.known or self.checker.known(full)) else None
            flat = re.sub(r"[{}\s]", "", text)  # E_{total@1}
            if name is None and len(flat) <= 60 and self.checker.known(flat):
                name = flat
            if name is None and len(text) <= 200:  # the names students write: dE/dw5, dE_total/dnet_o1
                name = aliases.canonical(text, self.checker.known, self.names)
        if len(self._canonical) < 10_000:
            self._canonical[text] = name
        return name

    def value(self, name: str, quantity: str):
        """The true value of *name* in the line of *quantity* (its sample's, for per-sample names)."""
        _, sample = naming.split_sample(quantity)
        if sample is not None and "[" not in name:
            local = f"{name}[{sample}]"
            if local in self.d.values:
                return self.d.values[local]
            if name in self.sample_givens[sample - 1]:
                return self.sample_givens[sample - 1][name]
        if name in self.d.values:
            return self.d.values[name]
        return self.givens.get(name)

    def line(self, number: int, text: str, continuing: str | None = None) -> WorkingLine | NotRead | None:
        """Read one candidate: a working line, a line not read, or None for prose.

        A line that starts with '=' (an ``align`` row ``&= ...``) continues the quantity
        *continuing* of the working line just before it.
        """
        if len(text) > MAX_LINE:
            return NotRead(number, text[:60], f"the line is longer than {MAX_LINE} characters")
        text = re.sub(r"(\d)\.\s*\Z", r"\1", normalize(text))  # a sentence's full stop after the value
        pieces = split_parts(text)
        if len(pieces) < 2 or not pieces[0] and continuing is None:
            return None
        pieces = [_QUOTED.sub(r"\2", p) for p in pieces]  # "dE_total/dw5" = "...", as in an answers file
        quantity = self.canonical(pieces[0]) if pieces[0] else continuing
        if quantity is None:
            if _prose(pieces[0]) or not re.search(r"[A-Za-z]", pieces[0]):
                return None
            self.hints += 1
            hint = difflib.get_close_matches(re.sub(r"[\s{}\\]", "", pieces[0])[:60], self.names, n=1,
                                             cutoff=0.6) if self.hints <= MAX_HINTS else []
            more = f"; did you mean {hint[0]}?" if hint else ""
            return NotRead(number, text, f"{pieces[0][:60]} is not a quantity stepgrad knows{more}")
        parts = []
        for k, piece in enumerate(pieces[1:]):
            if not piece:
                return NotRead(number, text, "an empty part between two '='")
            try:
                toks = tokens(piece)
            except Unreadable as exc:
                parts.append(Part("part", piece, f"{piece[:60]}: {exc}"))
                continue
            if any(t.kind == "name" for t in toks):
                if _LATEX_SAMPLE.search(piece):
                    parts.append(Part("part", piece, f"{piece[:60]}: a sample written ^{{(s)}} inside a formula "
                                                     "is not read; write the formula in plain text, like "
                                                     "(E_total[1] + E_total[2])/2"))
                else:
                    parts.append(Part("formula", piece))
            elif len([t for t in toks if t.kind == "num"]) == 1 and k == len(pieces) - 2 and \
                    re.fullmatch(r"[-+−]?\s*\d*\.?\d+(?:[eE][-+]?\d+)?", piece.replace("−", "-")):
                parts.append(Part("value", piece.replace("−", "-").replace(" ", "")))
            else:
                parts.append(Part("numbers", piece))
        if all(p.kind == "part" for p in parts):
            return NotRead(number, text, "; ".join(p.reason for p in parts))
        return WorkingLine(number, quantity, tuple(parts), text)


def read_lines(text: str, reader: Reader) -> tuple[list[WorkingLine], list[NotRead]]:
    """Every working line of a file, and those that look like working but cannot be read.

    Diagrams in Markdown code fences (mermaid, dot) hold no working and are skipped.
    """
    found: list[WorkingLine] = []
    unread: list[NotRead] = []
    skipped_from = None
    previous = -1
    diagram = False
    for number, raw in enumerate(text.splitlines(), 1):
        fence = re.match(r"\s*(```|~~~)\s*([A-Za-z]*)", raw)
        if fence:
            diagram = not diagram and fence.group(2).lower() in ("mermaid", "dot", "graphviz")
            continue
        if diagram or "=" not in raw:
            continue
        if len(found) + len(unread) >= MAX_WORKING:
            skipped_from = skipped_from or number
            continue
        for piece in _candidates(raw[:MAX_LINE + 1]):
            continuing = found[-1].quantity if found and previous == number - 1 else None
            got = reader.line(number, piece.strip(), continuing)
            if isinstance(got, WorkingLine):
                found.append(got)
                previous = number
            elif isinstance(got, NotRead):
                unread.append(got)
    if skipped_from is not None:
        unread.append(NotRead(skipped_from, "", f"stepgrad reads at most {MAX_WORKING} lines of working; "
                                                "this line and those after it were not judged"))
    return found, unread


# -- judging -------------------------------------------------------------------------

@dataclass(frozen=True)
class Judged:
    """A part's verdict, with the line and kind it belongs to."""

    line: int
    kind: str
    result: Result


def _number_ok(literal: Decimal, x, own: list[Decimal]) -> bool:
    """Whether a written number stands for value *x* to its digits, or for one of the student's own values."""
    if x is not None:
        with mpmath.workdps(DPS):
            if abs(_mpf(literal) - _mpf(x)) <= _mpf(half_unit(literal)) * (1 + mpmath.mpf("1e-9")):
                return True
    for v in own:
        if literal == v or abs(literal - v) <= half_unit(literal):
            return True
    return False


def _leaves(toks: list[Tok]) -> list[tuple[Tok, bool]]:
    """Names and numbers in the order written, each with whether a minus stands right before it.

    A binary minus counts like a unary one: ``0.0554 - 0.0190`` substitutes -0.0190 for the second
    term of ``a + b`` just as ``0.0554 + -0.0190`` does.
    """
    out = []
    for k, t in enumerate(toks):
        if t.kind in ("name", "num"):
            before = toks[k - 1] if k else None
            negated = before is not None and before.kind == "op" and before.text == "-"
            out.append((t, negated))
    return out


class Judge:
    """Judge the parts of every working line of one file."""

    def __init__(self, derivation: Derivation, options: Options | None = None):
        self.d = derivation
        self.options = options or Options()
        # the first runs of values and of formulas each get a share of the search's usual work
        self.checker = Checker(derivation, replace(self.options, work=self.options.work // FIRST_SHARE))
        self.reader = Reader(derivation, self.checker)
        self._problems: dict[str, str | None] = {}
        self._step_pieces: dict[str, tuple] = {}
        #: Each quantity's step and sample (0-based, for several-sample batches), by canonical name.
        self.steps: dict[str, tuple] = {}
        for step in derivation.steps:
            for s in derivation.batch:
                several = step.per_sample and len(derivation.batch) > 1
                self.steps.setdefault(derivation.value_name(step, s), (step, s if several else None))
        #: The values the student stated, by quantity, in the order written.
        self.stated: dict[str, list[Decimal]] = {}
        #: The spec's given values that are short decimals: written, they are exact, not rounded.
        self.exact = frozenset(abs(Decimal(t)) for g in [self.reader.givens] + self.reader.sample_givens
                               for v in g.values() if (t := exact_decimal(v)) is not None)

    # numbers substituted
    def numbers(self, line: WorkingLine, part: Part, formula_text: str | None) -> tuple[Result, Diagnosis | None]:
        """The substitution's verdict, and a diagnosis for the value when the arithmetic does not give it."""
        q = line.quantity
        answer = Answer(q, part.text, None, line.line)
        step = self._step(q)
        try:
            tree, literals, value = arithmetic(part.text)
            toks = tokens(part.text)
        except Unreadable as exc:
            return self._not_read(line, part.text, str(exc)), None
        arithmetic_slip = None
        stated = self._stated_after(line, part)
        if stated is not None:
            spread = _rounding_spread(tree, literals, self.exact)
            with mpmath.workdps(DPS):
                off = abs(value - _mpf(stated)) > _mpf(half_unit(stated)) * (1 + mpmath.mpf("1e-9")) + spread
                shown = mpmath.nstr(value, max(6, len(stated.as_tuple().digits) + 2))
            if off:
                arithmetic_slip = Diagnosis("arithmetic", f"The arithmetic is off: {part.text} is {shown}, "
                                                          f"not {plain(stated)}.")
        problems = self._substitution(q, toks, formula_text, line)
        expected = self._substituted(q, formula_text) if formula_text is not None else ""
        if problems:
            return Result(answer, "wrong", expected, (Diagnosis("substituted-number", " ".join(problems)),),
                          *step), arithmetic_slip
        return Result(answer, "correct", expected, (), *step), arithmetic_slip

    def _substituted(self, q: str, formula_text: str) -> str:
        """The formula as written with every quantity replaced by its true value ("" when one is unknown)."""
        try:
            toks = tokens(formula_text)
        except Unreadable:
            return ""
        out, end = [], len(formula_text)
        for t in reversed([t for t in toks if t.kind == "name"]):
            name = self.reader.canonical(t.text)
            x = self.reader.value(name, q) if name is not None else None
            if x is None:
                return ""
            text = exact_decimal(x) if isinstance(x, sp.Rational) else None
            text = text if text is not None else format_value(x)
            stop = t.start + len(t.text)
            out.append(formula_text[stop:end])
            out.append(f"({text})" if text.startswith("-") else text)
            end = t.start
        out.append(formula_text[:end])
        return "".join(reversed(out))

    def _step(self, q: str) -> tuple:
        return self.steps.get(q, (None, None))

    def _stated_after(self, line: WorkingLine, part: Part) -> Decimal | None:
        """The value this numbers part is said to equal: the next part when it is the value."""
        k = line.parts.index(part)
        rest = line.parts[k + 1:]
        if rest and rest[0].kind == "value":
            return Decimal(rest[0].text)
        return None

    def _substitution(self, q: str, toks: list[Tok], formula_text: str | None, line: WorkingLine) -> list[str]:
        """Say which substituted numbers are not the value of the symbol they stand for."""
        numbers = _leaves(toks)
        problems = []
        aligned = None
        if formula_text is not None:
            try:
                symbols = _leaves(tokens(formula_text))
            except Unreadable:
                symbols = []
            if len(symbols) == len(numbers):
                aligned = list(zip(symbols, numbers))
        if aligned is not None:
            for (s, s_neg), (n, n_neg) in aligned:
                literal = Decimal(n.text)
                if s.kind == "num":
                    if Decimal(s.text) != literal or s_neg != n_neg:
                        problems.append(f"{n.text} stands where the formula has {'-' if s_neg else ''}{s.text}.")
                    continue
                name = self.reader.canonical(s.text)
                if name is None:
                    continue
                x = self.reader.value(name, q)
                signed = -literal if (n_neg and not s_neg) else literal
                own = self.stated.get(name, [])
                if not (_number_ok(signed, x, own) or (n_neg and not s_neg and _number_ok(literal, x, own))):
                    problems.append(f"{'-' if n_neg and not s_neg else ''}{n.text} stands for {name}, which is "
                                    f"{_shown(x, literal)}.")
                elif not self._enough_digits(signed, x, own) and not self._enough_digits(literal, x, own):
                    problems.append(f"{n.text} stands for {name}, which is {_shown(x, literal)}: give at least "
                                    f"{self.options.wanted()}.")
            return problems
        # no formula to line the numbers up with: each must be the value of something the step uses
        # (a symbol of the step or of the formula written, or a part of the step such as 1 - out_o1)
        uses, literals_in_rhs, parts = self._pieces(q)
        if formula_text is not None:
            try:
                uses = uses | {name for t in tokens(formula_text) if t.kind == "name"
                               and (name := self.reader.canonical(t.text)) is not None}
            except Unreadable:
                pass
        for n, neg in numbers:
            literal = Decimal(n.text)
            if literal in literals_in_rhs or literal in (0, 1, 2):
                continue
            if any(_number_ok(literal, self.reader.value(u, q), self.stated.get(u, [])) or
                   _number_ok(-literal, self.reader.value(u, q), self.stated.get(u, [])) for u in uses):
                continue
            if any(_number_ok(literal, x, []) or _number_ok(-literal, x, []) for x in parts):
                continue
            problems.append(f"{'-' if neg else ''}{n.text} is not the value of anything {q} is computed from "
                            f"({', '.join(sorted(uses)) or 'nothing'}).")
        return problems

    def _pieces(self, q: str) -> tuple[set, set, list]:
        """What the step of *q* uses: its symbols, its exact literals, and the values of its parts."""
        if q in self._step_pieces:
            return self._step_pieces[q]
        step = self._step(q)[0]
        uses, literals, parts = set(), set(), []
        if step is not None:
            uses = {s.name for s in step.rhs.free_symbols}
            literals = {abs(Decimal(t)) for a in step.rhs.atoms() if a.is_Rational
                        and (t := exact_decimal(a)) is not None}
            subs = {}
            for sym in step.rhs.free_symbols:
                x = self.reader.value(sym.name, q)
                if x is not None:
                    subs[sym] = sp.Float(mpmath.nstr(_mpf(x), 30), 30)
            for k, sub in enumerate(sp.preorder_traversal(step.rhs)):
                if k >= MAX_PIECES:
                    break
                if sub.is_Atom:
                    continue
                try:
                    x = sub.evalf(30, subs=subs)
                    if x.is_real and x.is_finite:
                        parts.append(mpmath.mpf(str(x)))
                except (TypeError, ValueError, ArithmeticError):
                    continue
        self._step_pieces[q] = (uses, literals, parts)
        return self._step_pieces[q]

    def _enough_digits(self, literal: Decimal, x, own: list[Decimal]) -> bool:
        """Whether a substituted number keeps enough digits: the minimum, the exact value, or as stated."""
        if literal in own or self.options.enough(literal) or literal == 0:
            return True
        return x is not None and _mpf(literal) == _mpf(x)

    def _not_read(self, line: WorkingLine | NotRead, text: str, reason: str) -> Result:
        return Result(Answer("", text, None, line.line), "unknown", "",
                      (Diagnosis("not-read", f"not read: {reason}"),))

    # the whole file
    def check(self, text: str, where: str) -> tuple[Report, tuple[str, ...]]:
        """Judge every line; return a Report (one result per part, in file order) and each result's kind."""
        lines, unread = read_lines(text, self.reader)
        judged: list[Judged] = []
        for u in unread:
            judged.append(Judged(u.line, "line", Result(Answer("", u.text, None, u.line), "unknown", "", (
                Diagnosis("not-read", f"not read: {u.reason}"),))))
        self._values(lines, where, judged)
        self._formulas(lines, where, judged)
        last_formula: dict[str, str] = {}
        slips: dict[tuple[int, str], Diagnosis] = {}
        for wl in lines:
            written = None
            for part in wl.parts:
                if part.kind == "formula":
                    written = part.text
                    last_formula[wl.quantity] = part.text
                elif part.kind == "numbers":
                    result, slip = self.numbers(wl, part, written or last_formula.get(wl.quantity))
                    judged.append(Judged(wl.line, "numbers", result))
                    if slip is not None:
                        slips[wl.line, wl.quantity] = slip
                elif part.kind == "value":
                    self.stated.setdefault(wl.quantity, []).append(Decimal(part.text))
                elif part.kind == "part":
                    judged.append(Judged(wl.line, "part", self._not_read(wl, part.text, part.reason)))
        # a value the written numbers do not give is flagged at the value, whatever else explains it
        for k, j in enumerate(judged):
            slip = slips.get((j.line, j.result.quantity)) if j.kind == "value" else None
            if slip is not None:
                r = j.result
                judged[k] = replace(j, result=replace(r, verdict="wrong", diagnoses=(slip,) + r.diagnoses))
        judged.sort(key=lambda j: (j.line, KINDS.index(j.kind) if j.kind in KINDS else -1))
        return (Report(self.d, where, tuple(j.result for j in judged)), tuple(j.kind for j in judged))

    def _rounds(self, items: list[tuple[WorkingLine, Part]]) -> list[list[tuple[WorkingLine, Part]]]:
        """Items in runs that hold each quantity once (first occurrences first)."""
        rounds: list[list] = []
        seen: dict[str, int] = {}
        for wl, part in items:
            k = seen.get(wl.quantity, 0)
            seen[wl.quantity] = k + 1
            while len(rounds) <= k:
                rounds.append([])
            rounds[k].append((wl, part))
        return rounds

    def _run(self, batch: list[tuple[WorkingLine, Part]], where: str, later: bool) -> list[Result | None]:
        """Judge one batch with the checker; on an error the answers are judged one at a time."""
        checker = self.checker if not later else self._later()
        answers = tuple(self._answer(wl, p) for wl, p in batch)
        try:
            return list(checker.check(answers, where).results)
        except SpecError:
            out = []
            for a, (wl, p) in zip(answers, batch):
                try:
                    out.append(self._later().check((a,), where).results[0])
                except SpecError as exc:
                    out.append(self._not_read(wl, p.text, str(exc).split(": ", 2)[-1]))
            return out

    def _later(self) -> Checker:
        if not hasattr(self, "_later_checker"):
            self._later_checker = Checker(self.d, replace(self.options, work=min(self.options.work, LATER_WORK)))
        return self._later_checker

    def _answer(self, wl: WorkingLine, part: Part) -> Answer:
        if part.kind == "value":
            number = Decimal(part.text)
            return Answer(wl.quantity, plain(number), number, wl.line)
        return Answer(wl.quantity, self._identifiers(part.text), None, wl.line)

    def _identifiers(self, text: str) -> str:
        """Plain-text names with '/' or '[s]' (dE_total/dw5, out_h1[2]) as the identifiers the formula
        reader takes (dE_total_dw5, out_h1_s2)."""
        if "\\" in text:
            return text

        def ident(m: re.Match) -> str:
            name = m.group()
            known = name if name in self.reader.known else self.reader.canonical(name)
            return naming.ident(known) if known else name

        return _PLAIN_NAME.sub(ident, text)

    def _trained_too_long(self, quantity: str, k: int) -> str | None:
        """Why a value after training (E_total@N) is not judged here: later runs, or too much training."""
        from .. import limits
        from ..derive import at_round

        base, n = naming.split_after(quantity)
        if n is None:
            return None
        if k > 0:
            return f"{quantity} is judged once per file"
        if limits.training_seconds(self.d.spec, at_round(self.d.spec, n)) > MAX_TRAIN_S:
            return (f"{quantity} needs more than {MAX_TRAIN_S:.0f} s of training; ask 'stepgrad check' about it "
                    "in an answers file")
        return None

    def _judge_all(self, items, where: str, kind: str, judged: list[Judged]) -> None:
        cache: dict[tuple[str, str], Result] = {}
        for k, batch in enumerate(self._rounds(items)):
            fresh = []
            for wl, p in batch:
                if (wl.quantity, p.text) in cache:
                    continue
                why = self._trained_too_long(wl.quantity, k)
                if why:
                    cache[wl.quantity, p.text] = self._not_read(wl, p.text, why)
                else:
                    fresh.append((wl, p))
            if k >= MAX_ROUNDS:
                for wl, p in fresh:
                    judged.append(Judged(wl.line, kind, self._not_read(
                        wl, p.text, f"{wl.quantity} is written more than {MAX_ROUNDS} times; later ones are not judged")))
                fresh = []
            results = self._run(fresh, where, k > 0) if fresh else []
            for (wl, p), r in zip(fresh, results):
                cache[(wl.quantity, p.text)] = r
            for wl, p in batch:
                r = cache.get((wl.quantity, p.text))
                if r is not None:
                    shown = p.text if kind == "formula" else r.answer.text  # as written, not as read
                    judged.append(Judged(wl.line, kind, replace(r, answer=replace(r.answer, line=wl.line,
                                                                                   text=shown))))

    def _values(self, lines: list[WorkingLine], where: str, judged: list[Judged]) -> None:
        items = [(wl, p) for wl in lines for p in wl.parts if p.kind == "value"]
        self._judge_all(items, where, "value", judged)

    def _formulas(self, lines: list[WorkingLine], where: str, judged: list[Judged]) -> None:
        items = []
        for wl in lines:
            for p in wl.parts:
                if p.kind != "formula":
                    continue
                problem = self._formula_problem(p.text)
                if problem:
                    judged.append(Judged(wl.line, "formula", self._not_read(wl, p.text, problem)))
                else:
                    items.append((wl, p))
        self._judge_all(items, where, "formula", judged)

    def _formula_problem(self, text: str) -> str | None:
        if text not in self._problems:
            self._problems[text] = self._read_formula(text)
        return self._problems[text]

    def _read_formula(self, text: str) -> str | None:
        from .answers import MAX_FORMULA_LENGTH, formula_problem

        if len(text) > MAX_FORMULA_LENGTH:
            return f"the formula is longer than {MAX_FORMULA_LENGTH} characters"
        problem = formula_problem(text)
        if problem:
            return problem
        try:
            formula.parse(self._identifiers(text), self.reader.names)
        except formula.FormulaError as exc:
            return f"{text[:60]}: {exc}"
        except RecursionError:
            return "the formula is nested too deeply to read"
        return None


def _rounding_spread(tree, literals: list[Decimal], exact: frozenset) -> mpmath.mpf:
    """How far the arithmetic can move when each rounded number moves within its rounding (first order).

    Whole numbers and the spec's given values (*exact*) are taken as written.
    """
    with mpmath.workdps(DPS):
        base = _evaluate(tree, literals)
        total = mpmath.mpf(0)
        for k, lit in enumerate(literals):
            h = half_unit(lit)
            if lit == lit.to_integral_value() or abs(lit) in exact:
                continue
            moved = list(literals)
            moved[k] = lit + h
            try:
                total += abs(_evaluate(tree, moved) - base)
            except Unreadable:
                continue
        return total


@functools.lru_cache(maxsize=8192)
def _mpf(v) -> mpmath.mpf:
    """A Decimal, SymPy rational or mpmath number as an mpmath number of DPS digits."""
    with mpmath.workdps(DPS):
        if isinstance(v, Decimal):
            return mpmath.mpf(str(v))
        if hasattr(v, "p") and hasattr(v, "q"):
            return mpmath.mpf(int(v.p)) / int(v.q)
        return +mpmath.mpf(v)


def _shown(x, like: Decimal) -> str:
    """The true value *x*, with a few more decimals than the student's *like*."""
    if x is None:
        return "unknown"
    with mpmath.workdps(DPS):
        return format_value(_mpf(x)) if -like.as_tuple().exponent <= 9 else mpmath.nstr(_mpf(x), 15)


def check_working(derivation: Derivation, text: str, where: str,
                  options: Options | None = None) -> tuple[Report, tuple[str, ...]]:
    """Check pasted working; return a Report with a result per part and each result's kind.

    Kinds are ``formula``, ``numbers``, ``value``, or ``line`` for a line not read.

    >>> from stepgrad.symbolic import spec, derive
    >>> r, kinds = check_working(derive.derive(spec.load("mazur")),
    ...     "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775", "w.txt")
    >>> [(k, x.verdict) for k, x in zip(kinds, r.results)]
    [('formula', 'correct'), ('numbers', 'correct'), ('value', 'correct')]
    """
    return Judge(derivation, options).check(text, where)
