"""Check a student's answers against a derivation, and explain the wrong ones.

The package's parts:

* :mod:`.answers`: answers files and the digits each number is written with;
* :mod:`.program`: the derivation as a flat float program, re-run under mistakes,
  with exact kinks;
* :mod:`.mistakes`: the registry of mistakes, one small module each, with a stable code;
* :mod:`.judge`: verdicts (precision, follow-through, the mistake search);
* :mod:`.messages`: the words of each verdict.
"""

from __future__ import annotations

from .answers import (MAX_ANSWERS, MAX_FORMULA_LENGTH, Answer, decimals, formula_problem, parse_answers,
                      rounded, significant)
from .judge import (JUDGE_CODES, VERDICTS, Checker, Diagnosis, Options, Report, Result, check_text,
                    formula_text)
from .mistakes import REGISTRY
from .program import compile_float

#: Every diagnosis code with its one-line description: the judge's own, then each registered mistake.
DESCRIPTIONS: dict[str, str] = {**JUDGE_CODES, **{code: m.description for code, m in
                                                  sorted(REGISTRY.items(), key=lambda t: (t[1].rank, t[0]))}}
CODES = tuple(DESCRIPTIONS)

__all__ = ["Answer", "Checker", "CODES", "DESCRIPTIONS", "Diagnosis", "MAX_ANSWERS", "MAX_FORMULA_LENGTH",
           "Options", "Report", "Result", "VERDICTS", "check_text", "compile_float", "decimals",
           "formula_problem", "formula_text", "parse_answers", "rounded", "significant"]
