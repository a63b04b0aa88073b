"""Answers files: TOML keyed by canonical quantity names, numbers with the digits written.

::

    "out_h1" = 0.59327
    "dE_total/dw5" = 0.0821
    "net_h1" = "w_1 i_1 + w_2 i_2 + b_1 \\cdot 1"

Numbers keep every digit written (TOML floats are read as decimals), because a
number is judged by the interval its digits stand for.  Formulas are checked
for size before anything reads them.  Every limit here is documented in the
README; each refusal is one line naming the file, the line and the key.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

import mpmath

from ..spec import SpecError

MAX_FORMULA_LENGTH = 2000
#: An answers file may hold at most this many answers (a worksheet of a 100-parameter network has
#: about 1,500 quantities); more is refused before any checking.
MAX_ANSWERS = 5000
MAX_NESTING = 30
#: The largest exponent a formula may write (10**100, 1e100); powers of powers are refused.
MAX_EXPONENT = 100
MAX_DECIMALS = 40
MAX_MAGNITUDE = Decimal(10) ** 15
_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*\Z")
_POWER = re.compile(r"\*\*|\^")
#: The first key of a line: "quoted", 'literal' or bare, followed by = or a dot.
_KEY = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[.=]""")
_TABLE = re.compile(r"""\s*\[\[?\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))""")


@dataclass(frozen=True)
class Answer:
    """One answer as written: a number (its digits kept) or a formula."""

    quantity: str
    text: str
    number: Decimal | None = None
    line: int | None = None

    @property
    def is_formula(self) -> bool:
        return self.number is None


def key_lines(text: str) -> dict[str, int]:
    """The line (from 1) where each top-level key or table first appears, in one pass.

    >>> key_lines('"a" = 1\\n\\nb.c = 2\\n')
    {'a': 1, 'b': 3}
    """
    out: dict[str, int] = {}
    for k, line in enumerate(text.splitlines()):
        m = _KEY.match(line) or _TABLE.match(line)
        if not m:
            continue
        quoted, literal, bare = m.groups()
        if quoted is not None:
            try:
                key = json.loads(f'"{quoted}"')
            except ValueError:
                key = quoted
        else:
            key = literal if literal is not None else bare
        out.setdefault(key, k + 1)
    return out


class AnswerProblem(SpecError):
    """One answer that cannot be read: the file, line and key, and the *reason* alone."""

    def __init__(self, message: str, answer: Answer, reason: str):
        super().__init__(message)
        self.answer, self.reason = answer, reason


def parse_answers(text: str, where: str, problems: list | None = None) -> tuple[Answer, ...]:
    """Read an answers file's TOML text; numbers keep the digits written.

    With a *problems* list, an answer that cannot be read is added to it as an
    :class:`AnswerProblem` instead of stopping the whole file.

    >>> parse_answers('"out_h1" = 0.59327', "a.toml")[0].number
    Decimal('0.59327')
    """
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except RecursionError:
        raise SpecError(f"{where}: not valid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML: {exc}") from None
    except ValueError as exc:  # an integer too long for Python's int-to-string limit
        raise SpecError(f"{where}: not valid TOML: {str(exc)[:120]}") from None
    if len(doc) > MAX_ANSWERS:
        raise SpecError(f"{where}: has {len(doc)} answers; stepgrad checks at most {MAX_ANSWERS} in one file")
    lines = key_lines(text)
    answers = []

    def read(key: str, value) -> Answer | None:
        line = lines.get(key)

        def fail(message: str) -> SpecError:
            at = f":{line}" if line else ""
            shown = key if len(key) <= 80 else key[:77] + "..."
            return AnswerProblem(f"{where}{at}: {shown}: {message}", Answer(key, str(value)[:200], None, line),
                                 message)

        if isinstance(value, dict):
            raise fail('is a table, not an answer; write each answer as "name" = value, '
                       'quoting names that contain . / + or @')
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            raise fail("must be a number or a formula in quotes")
        if isinstance(value, str):
            if not value.strip():
                return None  # left blank (a worksheet's ""): not judged; blank_keys counts it
            if len(value) > MAX_FORMULA_LENGTH:
                raise fail(f"the formula is longer than {MAX_FORMULA_LENGTH} characters")
            if _NUMBER.match(value):
                try:
                    value = Decimal(value.strip())
                except ArithmeticError:
                    raise fail("the number is out of range") from None
            else:
                problem = formula_problem(value)
                if problem:
                    raise fail(problem)
                return Answer(key, value.strip(), None, line)
        if isinstance(value, int):
            if abs(value) > MAX_MAGNITUDE:
                raise fail(f"the number is out of range: give a size below 1e15")
            number = Decimal(value)
        else:
            number = value
        if not number.is_finite():
            raise fail(f"{value} is not a finite number")
        if abs(number.adjusted()) > 60 or abs(number) > MAX_MAGNITUDE or decimals(number) > MAX_DECIMALS:
            raise fail(f"the number is out of range: give at most {MAX_DECIMALS} decimal places and "
                       f"a size below 1e15")
        return Answer(key, plain(number), number, line)

    for key, value in doc.items():
        try:
            answer = read(key, value)
        except AnswerProblem as exc:
            if problems is None:
                raise
            problems.append(exc)  # judged on its own as unreadable; the other answers still are
            continue
        if answer is not None:
            answers.append(answer)
    if not answers and not blank_keys(doc) and not problems:
        raise SpecError(f"{where}: has no answers; write one per line, like \"out_h1\" = 0.593269992")
    return tuple(answers)


def blank_keys(doc: dict) -> tuple[str, ...]:
    """The keys of a parsed answers file left blank ("" or only spaces), in file order.

    >>> blank_keys({"out_h1": "", "net_h1": Decimal("0.3775"), "w5+": "  "})
    ('out_h1', 'w5+')
    """
    return tuple(k for k, v in doc.items() if isinstance(v, str) and not v.strip())


def formula_problem(text: str) -> str | None:
    """Say why a formula is too deep or too explosive to read safely, or return None.

    >>> formula_problem("10**10**10")
    'a power of a power (like 10**10**10) is not allowed; write the exponent out'
    >>> formula_problem("1e999999999")
    'the number 1e999999999 is out of range: exponents may be at most 100'
    """
    depth = deepest = 0
    for ch in text:
        depth += (ch in "({[") - (ch in ")}]")
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        return f"brackets are nested {deepest} deep; at most {MAX_NESTING} are allowed"
    for m in re.finditer(r"(\d+(?:\.\d*)?|\.\d+)[eE]([-+]?\d+)", text):
        if len(m.group(2)) > 4 or abs(int(m.group(2))) > MAX_EXPONENT:
            shown = m.group(0) if len(m.group(0)) <= 30 else m.group(0)[:27] + "..."
            return f"the number {shown} is out of range: exponents may be at most {MAX_EXPONENT}"
    for m in re.finditer(r"\d+", text):
        if len(m.group()) > 50:
            return "a number has more than 50 digits"
    growth = 1
    for m in _POWER.finditer(text):
        exponent = _operand(text, m.end())
        if _POWER.search(exponent) or _POWER.match(text, m.end() + len(exponent)):
            return "a power of a power (like 10**10**10) is not allowed; write the exponent out"
        literals = [int(d) for d in re.findall(r"\d{1,4}", exponent)]
        if any(d > MAX_EXPONENT for d in literals):
            return f"an exponent above {MAX_EXPONENT} is not allowed"
        # ((10**99)**99)**99... grows without a power in any exponent; so does 10**(100*100*100)
        product = 1
        for d in literals:
            product *= max(d, 1)
            if product > MAX_EXPONENT:
                return f"an exponent above {MAX_EXPONENT} is not allowed"
        growth *= max(literals, default=1) or 1
        if growth > MAX_EXPONENT ** 2:
            return "the powers in this formula make a number too large to evaluate"
    return None


def _operand(text: str, start: int) -> str:
    """The operand that starts at *start*: a bracketed group, or a run of name and number characters."""
    k = start
    while k < len(text) and text[k] in " \t+-":
        k += 1
    if k < len(text) and text[k] in "({[":
        depth, j = 0, k
        while j < len(text):
            depth += (text[j] in "({[") - (text[j] in ")}]")
            j += 1
            if depth == 0:
                break
        return text[start:j]
    j = k
    while j < len(text) and (text[j].isalnum() or text[j] in "_.\\"):
        j += 1
    return text[start:j]


# -- numbers as written --------------------------------------------------------

def plain(number: Decimal) -> str:
    """Write a decimal in positional notation, with the digits given."""
    return format(number, "f")


def decimals(number: Decimal) -> int:
    """The decimal places written (negative for 1E+2)."""
    return -number.as_tuple().exponent


def significant(number: Decimal) -> int:
    """Significant digits written: 0.0821 has 3, 0.40 has 2, 0 has 0.

    >>> significant(Decimal("0.0821")), significant(Decimal("0.40")), significant(Decimal("0"))
    (3, 2, 0)
    """
    digits = number.as_tuple().digits
    k = 0
    while k < len(digits) and digits[k] == 0:
        k += 1
    return len(digits) - k


def half_unit(number: Decimal) -> Decimal:
    """Half a unit in the last place written: the interval 0.593 stands for is 0.593 +- 0.0005."""
    return Decimal(5).scaleb(-decimals(number) - 1)


def to_decimal(x) -> Decimal:
    """A float or mpmath value as a 45-digit decimal."""
    with mpmath.workdps(50):  # mpf(x) at the default 15 digits would round x first
        return Decimal(mpmath.nstr(mpmath.mpf(x), 45, strip_zeros=False))


def rounded(x, places: int, mode: str = ROUND_HALF_UP) -> Decimal:
    """Round a value to *places* decimals (half away from zero, as students do)."""
    with localcontext() as ctx:
        ctx.prec = 120
        return to_decimal(x).quantize(Decimal(1).scaleb(-places), rounding=mode)


def to_digits(x, like: Decimal) -> str:
    """Write *x* with the decimal places of the student's *like* (at least 3 significant digits)."""
    places = max(decimals(like), 0)
    value = to_decimal(x)
    if value == 0:
        return "0"
    if value != 0:
        places = max(places, 2 - value.adjusted())
    return plain(rounded(x, min(places, MAX_DECIMALS)))
