"""Check answers files as students write them, one or a whole class at once.

:class:`StudentChecker` is the checker with the names students write
(:mod:`symbolic.check.aliases`), an "unreadable" verdict for a formula it
cannot read (the other answers are still judged), and did-you-mean hints that
name a different valid quantity.  :func:`mark_class` checks many answers files
against one spec and sums them up: a score per student and the most common
mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

from symbolic import naming
from symbolic.check import Checker, Options, Report
from symbolic.check.aliases import canonical, suggestion
from symbolic.check.answers import Answer, parse_answers
from symbolic.check.judge import Diagnosis, Result, formula_text
from symbolic.derive import Derivation
from symbolic.spec import SpecError

#: Verdicts beside the checker's own: a formula that could not be read.
UNREADABLE = "unreadable"
_PARAMETER = re.compile(r"[A-Za-z]+\d+\+?\Z")


class StudentChecker(Checker):
    """The checker, reading the names students write and judging each answer on its own."""

    @cached_property
    def valid(self) -> list[str]:
        """Every name an answers file may use, sorted."""
        return sorted(n for n in self.names if self.known(n))

    def canonical_answers(self, answers: tuple[Answer, ...]) -> tuple[Answer, ...]:
        """The answers with each key written the students' way replaced by its canonical name."""
        out = []
        for a in answers:
            name = canonical(a.quantity, self.known, self.names)
            out.append(replace(a, quantity=name) if name is not None and name != a.quantity else a)
        return tuple(out)

    def check(self, answers: tuple[Answer, ...], where: str = "<answers>") -> Report:
        return super().check(self.canonical_answers(answers), where)

    def _formula(self, k: int, a: Answer, where: str):
        try:
            return super()._formula(k, a, where)
        except SpecError as exc:
            f = self.ev.flat[self.ev.index[a.quantity]]
            reason, at = str(exc), f" (line {a.line})" if a.line else ""
            prefix = f"{a.quantity}: "
            reason = reason[reason.index(prefix) + len(prefix):] if prefix in reason else reason
            return Result(a, UNREADABLE, formula_text(f.step.rhs),
                          (Diagnosis(UNREADABLE, f"stepgrad could not read this formula{at}: {reason}"),),
                          f.step, f.sample), None

    def _unknown(self, a: Answer) -> Result:
        shown = a.quantity if len(a.quantity) <= 80 else a.quantity[:77] + "..."
        extra = suggestion(a.quantity, self.valid)
        if _PARAMETER.match(a.quantity) and not extra.startswith("; it is"):
            params = [p for p in self.spec.parameters if self.known(p)]
            extra = (f"; this network's parameters are {', '.join(params[:40])}"
                      f"{' ...' if len(params) > 40 else ''} (stepgrad worksheet SPEC lists every quantity)")
        return Result(a, "unknown", "", (Diagnosis("unknown", f"stepgrad does not know a quantity named "
                                                              f"{shown!r}{extra}"),))


def check_answers(derivation: Derivation, text: str, where: str, options: Options | None = None) -> Report:
    """Check an answers file's text, reading the names students write.

    >>> from symbolic import spec, derive
    >>> r = check_answers(derive.derive(spec.load("mazur")), '"δ_o1" = 0.1385', "a.toml")
    >>> r.results[0].quantity, r.results[0].verdict
    ('delta_o1', 'correct')
    """
    return StudentChecker(derivation, options).check(parse_answers(text, where), where)
