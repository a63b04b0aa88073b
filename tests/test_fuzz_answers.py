"""Hypothesis fuzzing of answers files and formula strings, straight into the checker.

Whatever a student writes, the checker either gives a verdict per answer or refuses the file
with one SpecError line; formulas either read or raise FormulaError.  Nothing hangs: every
example ends well within a few seconds (hostile powers, huge literals and deep nesting included).
Timing here is a guard against hangs, not a performance claim (benchmarks/check_search.py
measures the search).
"""

from __future__ import annotations

import json
import time

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepgrad.symbolic import check, formula, spec
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.spec import SpecError
from tests import strategies as S

MAZUR = derive(spec.load("mazur"))
CHECKER = check.Checker(MAZUR)
NAMES = sorted(CHECKER.names)
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
#: Every example must end within this many seconds: far above a normal check, far below a hang.
LIMIT = 10.0

TOKENS = ["w1", "i1", "net_h1", "out_o1", "dE_total_dw5", "w5_plus", "eta", "target_o1", "delta_o1",
          "+", "-", "*", "/", "**", "^", "(", ")", "{", "}", "\\frac", "\\cdot", "e", "exp", "log",
          "sigmoid", "tanh", "sqrt", "0.5", "2", "100", "1e99", "1e999999999", "10", "99999999999",
          "\\left(", "\\right)", "_", "\\sigma", "\\delta_{o1}", "net_{h1}", " ", ",", ".", "[", "]"]

formulas = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30).map("".join) | \
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)


def _hostile() -> st.SearchStrategy[str]:
    base = st.sampled_from(["10", "e", "w1", "(w1+1)", "2", "net_h1"])
    exponent = st.sampled_from(["100*100*100*100", "10**10", "{100 \\cdot 100}", "99", "1e9", "-9999"])
    return st.builds(lambda b, e, op: f"{b}{op}({e})", base, exponent, st.sampled_from(["**", "^"])) | \
        st.builds(lambda n: "exp(" * n + "100" + ")" * n, st.integers(1, 8)) | \
        st.builds(lambda n: "{" * n + "2^{99}" + "}^{99}" * n, st.integers(1, 4))


@FUZZ
@given(formulas | _hostile())
def test_formula_strings_read_or_refuse_quickly(text):
    """formula.parse returns an expression or raises FormulaError, quickly, for any string."""
    start = time.perf_counter()
    try:
        expr = formula.parse(text, NAMES)
        assert isinstance(expr, sp.Expr)
    except formula.FormulaError as exc:
        assert "\n" not in str(exc)
    except RecursionError:
        pass  # the checker turns this into a one-line refusal (nested too deeply)
    assert time.perf_counter() - start < LIMIT


def _check(text: str):
    start = time.perf_counter()
    try:
        report = check.check_text(MAZUR, text, "fuzz.toml")
    except SpecError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.toml")
        report = None
    assert time.perf_counter() - start < LIMIT
    return report


@FUZZ
@given(st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=20), formulas | _hostile(), min_size=1, max_size=4))
def test_formula_answers_get_a_verdict_or_one_line(doc):
    """Answers files of formulas (hostile ones included) end in verdicts or one SpecError line."""
    body = "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in doc.items())
    report = _check(body)
    if report is not None:
        assert len(report.results) == len(doc)
        assert all(r.verdict in check.VERDICTS for r in report.results)


@FUZZ
@given(S.answers_files())
def test_answers_files_get_a_verdict_or_one_line(data):
    """Mutated and spoiled answers files end in verdicts or one SpecError line, never a traceback."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # refused before the checker, by the reader of files
    _check(text)


numbers = st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-1e6, max_value=1e6) | \
    st.sampled_from(["1e999999999", "-1e-999999999", "0", "-0", "0.000", "1" * 60, "1e15", "5e-41"])


@FUZZ
@given(st.dictionaries(st.sampled_from(NAMES), numbers.map(str), min_size=1, max_size=12))
def test_numbers_of_any_size_and_precision(doc):
    """Numbers of any size or precision, as TOML floats or strings, end in verdicts or one line."""
    body = "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in doc.items())
    report = _check(body)
    if report is not None:
        assert all(r.verdict in check.VERDICTS for r in report.results)
