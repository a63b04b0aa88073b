"""The checker against a labelled set: what a good human marker says about each answer.

The cases are in tests/data/check_cases.toml.  Every computed answer comes from the independent
forward and backward pass of tests/check_support.py (a mistake injected, then written as a
student would); literal answers are what students typed.  The README's table of verdict accuracy
by category is checked against the figures computed here.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path

import mpmath
import pytest

from stepgrad.symbolic import check
from stepgrad.symbolic import spec as spec_mod
from stepgrad.symbolic.derive import derive
from tests.check_support import Slip, compute, written

ROOT = Path(__file__).resolve().parent.parent
CASES = tomllib.loads((ROOT / "tests" / "data" / "check_cases.toml").read_text())["case"]
CATEGORIES = ("post", "own", "formula", "follow-through")


@lru_cache(maxsize=None)
def network(name: str):
    s = spec_mod.load(name if name.endswith(".toml") is False else str(ROOT / name))
    return s, check.Checker(derive(s))


def _slip(table: dict, before: dict) -> Slip:
    fields = dict(table)
    for key in ("round_out", "act_derivative"):
        if key in fields:
            fields[key] = {int(k): v for k, v in fields[key].items()}
    for key in ("skip_activation", "no_bias", "derivative_at_out"):
        if key in fields:
            fields[key] = set(fields[key])
    if "net_weight" in fields:
        fields["net_weight"] = {tuple(k.split(":")): v for k, v in fields["net_weight"].items()}
    if "pins" in fields:
        fields["pins"] = {k: (before[v[1:]] if v.startswith("@") else v) for k, v in fields["pins"].items()}
    return Slip(**fields)


def _evaluate(expr: str, values: dict):
    """An expression over independently computed values (names as canonical, / as in dE_total/dw5)."""
    names = sorted(values, key=len, reverse=True)
    table = {}
    text = expr
    for k, name in enumerate(names):
        if re.search(rf"(?<![\w/\[]){re.escape(name)}(?![\w/\[])", text):
            table[f"_v{k}"] = values[name]
            text = re.sub(rf"(?<![\w/\[]){re.escape(name)}(?![\w/\[])", f"_v{k}", text)
    text = re.sub(r"(\d+\.\d+)", r"mpf('\1')", text)
    return eval(text, {"mpf": mpmath.mpf}, table)  # noqa: S307 - the test's own data


def student_text(case: dict, s, before: dict) -> str:
    if "text" in case:
        return case["text"]
    digits = case.get("digits", 6)
    if "expr" in case:
        values = dict(compute(s))
        values.update({n: mpmath.mpf(v.p) / v.q for n, v in s.initial})
        values.update({n: mpmath.mpf(v.p) / v.q for n, v in s.samples[0].inputs})
        values["eta"] = mpmath.mpf(s.training.learning_rate.p) / s.training.learning_rate.q
        return written(_evaluate(case["expr"], values), digits)
    return written(compute(s, _slip(case["slip"], before))[case["quantity"]], digits)


def run_case(case: dict) -> tuple[str, tuple, str]:
    """Return (verdict, codes and alternatives, the student's text) for one case."""
    s, checker = network(case["network"])
    before = {}
    for name, value in case.get("before", {}).items():
        if isinstance(value, dict):
            value = written(compute(s, _slip(value["slip"], before))[name], value.get("digits", 6))
        before[name] = value
    answers = dict(before)
    answers[case["quantity"]] = student_text(case, s, before)
    body = "".join(f"{json.dumps(k)} = {v}\n" for k, v in answers.items())
    report = checker.check(check.parse_answers(body, "case.toml"), "case.toml")
    result = next(r for r in report.results if r.quantity == case["quantity"])
    return result.verdict, result.codes + tuple(d.code for d in result.alternatives), answers[case["quantity"]]


def agrees(case: dict, verdict: str, codes: tuple) -> bool:
    want, _, code = case["label"].partition(":")
    if verdict != want:
        return False
    return not code or code in codes


@lru_cache(maxsize=None)
def outcomes() -> tuple:
    return tuple(agrees(c, *run_case(c)[:2]) for c in CASES)


def accuracy_table() -> list[str]:
    """The README's table: cases and agreements by category, then the total."""
    total, right = Counter(), Counter()
    for case, ok in zip(CASES, outcomes()):
        total[case["category"]] += 1
        right[case["category"]] += ok
    rows = ["| category | cases | verdict and code as labelled |", "|---|---:|---:|"]
    for c in CATEGORIES:
        rows.append(f"| {c} | {total[c]} | {right[c]} ({100 * right[c] / total[c]:.0f}%) |")
    n, r = sum(total.values()), sum(right.values())
    rows.append(f"| all | {n} | {r} ({100 * r / n:.0f}%) |")
    return rows


def test_the_set_is_large_and_covers_every_category():
    """At least 60 labelled cases, in each category, on at least five networks."""
    assert len(CASES) >= 60
    assert {c["category"] for c in CASES} == set(CATEGORIES)
    assert len({c["network"] for c in CASES}) >= 5
    assert len({c["network"] for c in CASES if c["category"] == "follow-through"}) >= 3


@pytest.mark.parametrize("case", CASES, ids=[f"{c['category']}-{k}-{c['quantity']}" for k, c in enumerate(CASES)])
def test_labelled_case(case):
    """The checker says what the marker says: the verdict, and the mistake's code where one is labelled."""
    verdict, codes, text = run_case(case)
    assert agrees(case, verdict, codes), (case["label"], text, verdict, codes, case.get("note", ""))


def test_computed_wrong_answers_differ_from_the_truth():
    """A case labelled wrong whose answer is computed really differs from the true value written alike."""
    for case in CASES:
        if "text" in case or not case["label"].startswith("wrong") or case["label"].endswith("too-few-digits"):
            continue
        s, _ = network(case["network"])
        truth = written(compute(s)[case["quantity"]], case.get("digits", 6))
        assert run_case(case)[2] != truth, case


def test_readme_table_matches():
    """The README shows the accuracy computed here, row for row."""
    readme = (ROOT / "README.md").read_text()
    for row in accuracy_table():
        assert row in readme, row


def test_readme_codes_table_has_one_line_per_code():
    """The README's codes table lists every code, once, with its registered description."""
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if re.match(r"\| `[a-z-]+` \|", line)]
    assert rows == [f"| `{k}` | {v} |" for k, v in check.DESCRIPTIONS.items()]
