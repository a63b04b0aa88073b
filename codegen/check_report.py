"""Render a check of a student's answers as text, JSON, Markdown or LaTeX.

The checking itself lives in :mod:`symbolic.check`; here results only become
text.  The feedback sheet (Markdown or LaTeX) shows, for each wrong answer,
the right line of the derivation in the worked example's style: symbolic form
= numbers = value.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Callable


from sympy.printing.str import StrPrinter

from . import escape
from .marking import check_answers
from .printers import Latex
from .render import render_template, source_line
from ..symbolic import inputs, limits, naming
from ..symbolic.check import Options, Report, Result
from ..symbolic.check.answers import blank_keys
from ..symbolic.check.working import check_working
from ..symbolic.derive import Derivation, derive, format_value
from ..symbolic.spec import MAX_STEPS, SpecError, load

FORMATS = ("text", "md", "json", "pdf")
#: The JSON feedback's schema name (README: "The JSON feedback"); bumped when a field changes meaning.
JSON_SCHEMA = "stepgrad-check/1"
#: Verdicts that earn the answer's mark: right, or right from the student's own earlier wrong answer.
CREDITED = ("correct", "consistent")
MARKS = {"correct": "✓", "consistent": "✓", "wrong": "✗", "unknown": "✗", "unreadable": "?"}
_SAMPLE = re.compile(r"(.+)\[(\d+)\]\Z")


# -- LaTeX lines of the derivation ------------------------------------------------

class _SheetLatex(Latex):
    """The shared LaTeX printer, also for per-sample names like dE_total/dw1[2]."""

    def _print_Symbol(self, expr, style="plain"):
        m = _SAMPLE.match(expr.name)
        if m and self._number(expr) is None:
            return rf"{naming.latex_symbol(m.group(1))}^{{({m.group(2)})}}"
        return super()._print_Symbol(expr, style)


def _leaf_values(report: Report, sample: int | None) -> dict:
    """Exact given values (parameters, eta, the sample's inputs and targets) by name."""
    spec = report.spec
    index = sample if sample is not None else report.derivation.batch[0]
    s = spec.samples[index]
    values: dict = dict(spec.initial)
    values["eta"] = spec.training.learning_rate
    values.update(dict(s.inputs))
    values.update({naming.target(k): v for k, v in s.targets})
    return values


def derivation_line(report: Report, result: Result) -> str:
    """The step's line: name = symbolic form = numbers = value, in LaTeX."""
    return " = ".join(derivation_parts(report, result))


class _Names(StrPrinter):
    """A formula with canonical names (dE_total/dout_o1), as the checker's messages write it."""

    def _print_Symbol(self, expr):
        return expr.name


def expected_names(result: Result) -> str:
    """The expected value, or for a formula answer the step's formula in canonical names."""
    if result.step is None or not result.answer.is_formula:
        return result.expected
    return _Names({"order": "none"}).doprint(result.step.rhs)


def expected_math(report: Report, result: Result) -> str | None:
    """The expected formula in LaTeX (for a formula answer), or None to show the expected value."""
    if result.step is None or not result.answer.is_formula:
        return None
    return _SheetLatex().doprint(result.step.rhs)


def derivation_parts(report: Report, result: Result) -> list[str]:
    """The step's line as its parts: name, symbolic form, numbers, value, in LaTeX."""
    step = result.step
    d = report.derivation
    values = _leaf_values(report, result.sample)
    n = len(report.spec.samples)
    if result.sample is not None:
        suffix = lambda name: naming.in_sample(name, result.sample + 1, n)  # noqa: E731
        values.update({s.name: d.values[suffix(s.name)] for s in d.steps
                       if s.per_sample and suffix(s.name) in d.values})
    else:
        values.update(d.values)
    lhs = naming.latex_symbol(step.name)
    if result.sample is not None:
        lhs = rf"{lhs}^{{({result.sample + 1})}}"
    symbolic = _SheetLatex().doprint(step.rhs)
    numbers = _SheetLatex(values).doprint(step.rhs)
    value = format_value(d.values[result.quantity])
    parts = [lhs, symbolic]
    if numbers != symbolic:
        parts.append(numbers)
    if parts[-1] != value:
        parts.append(value)
    return parts


# -- plain data for every format ---------------------------------------------------

def as_records(report: Report, blank: tuple[str, ...] = ()) -> list[dict]:
    """One plain dict per answer: quantity, given, expected, verdict, diagnoses; a key left blank is "blank".

    >>> from stepgrad.symbolic import spec, derive, check
    >>> r = check.check_text(derive.derive(spec.load("mazur")), '"out_h1" = 0.5933', "a.toml")
    >>> as_records(r)[0]["verdict"]
    'correct'
    """
    return [{"quantity": r.quantity, "given": r.answer.text, "expected": r.expected,
             "verdict": r.verdict,
             "diagnoses": [{"code": d.code, "message": d.message} for d in r.diagnoses]}
            for r in report.results] + [{"quantity": k, "given": "", "expected": "", "verdict": "blank",
                                         "diagnoses": []} for k in blank]


def explanation(result: Result) -> str:
    """One sentence (or two) telling the student what went wrong."""
    if result.verdict == "correct":
        return ""
    if not result.diagnoses:
        return ("No single mistake stepgrad knows of (or pair of them) reproduces this; "
                "compare your working with the derivation.")
    return _cut(" ".join(d.message if k == 0 else f"Also: {d.message}" for k, d in enumerate(result.diagnoses)),
                MAX_EXPLANATION)


#: Characters of a student's key or answer shown in a report, and of one explanation.
SHOWN = 60
MAX_EXPLANATION = 1000


def _cut(text: str, limit: int = SHOWN) -> str:
    """A student's text as a report shows it: cut with '…' past *limit* characters."""
    return inputs.shorten(text, limit)


def summary(report: Report, blank: tuple[str, ...] = ()) -> str:
    right = sum(r.verdict == "correct" for r in report.results)
    left = f" {len(blank)} left blank." if blank else ""
    return f"{right} of {len(report.results)} correct.{left}"


def render_text(report: Report, blank: tuple[str, ...] = ()) -> str:
    """One line per answer: mark, quantity, given, true value, diagnosis; control characters escaped."""
    lines = [f"Checking {_cut(Path(report.where).name)} against {report.spec.name} ({report.spec.title})"]
    for r in report.results:
        mark, quantity, given = MARKS[r.verdict], _cut(r.quantity), _cut(r.answer.text)
        if r.verdict == "correct":
            lines.append(f"{mark} {quantity} = {given}")
        elif r.verdict == "unknown":
            lines.append(f"{mark} {quantity} = {given}: {explanation(r)}")
        else:
            expected = _cut(expected_names(r), 200)
            shown = f" (expected {expected})" if expected else ""
            lines.append(f"{mark} {quantity} = {given}{shown}: {explanation(r)}")
    lines.append(summary(report, blank))
    return "\n".join(escape.terminal(line) for line in lines) + "\n"


def render_json(report: Report, blank: tuple[str, ...] = (), records: list[dict] | None = None) -> str:
    """The JSON feedback (schema in the README): the summary and one record per answer; control and
    invisible characters stay \\u-escaped, as JSON allows."""
    records = as_records(report, blank) if records is None else records
    for record, r in zip(records, report.results):
        record["codes"] = [d["code"] for d in record["diagnoses"]]
        record["message"] = explanation(r)
        record["score"] = int(r.verdict in CREDITED)
        record.setdefault("line", r.answer.line)
    for record in records[len(report.results):]:
        record.update(codes=[], message="", score=0, line=None)
    counts = {v: sum(r["verdict"] == v for r in records) for v in sorted({r["verdict"] for r in records})}
    doc = {"schema": JSON_SCHEMA, "spec": report.spec.name, "title": report.spec.title,
           "answers_file": Path(report.where).name,
           "summary": {"score": sum(r["score"] for r in records), "total": len(report.results),
                       "blank": len(blank), "counts": counts},
           "answers": records}
    return _json_text(doc)


def _json_text(doc) -> str:
    return "".join(map(_json_char, json.dumps(doc, ensure_ascii=False, indent=2))) + "\n"


def _json_char(ch: str) -> str:
    if ch.isprintable() or ch in " \n":
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _sheet(report: Report, source: str, text: Callable[[str], str], code: Callable[[str], str],
           cell_code: Callable[[str], str], cell: Callable[[str], str], blank: tuple[str, ...] = (),
           prose: Callable[[str], str] | None = None) -> dict:
    """The feedback sheet's rows and items, every user string escaped; the answers file's name, never its path.

    *text* escapes running text, *code* makes a code span, and *cell_code*
    and *cell* do the same inside a table cell.
    """
    prose = prose or text
    rows, items = [], []
    for r in report.results:
        shown = expected_math(report, r)
        rows.append({"mark": text(MARKS[r.verdict]), "quantity": cell_code(_cut(r.quantity)),
                     "given": cell_code(_cut(r.answer.text)),
                     "expected": f"${shown}$" if shown else cell(r.expected), "verdict": r.verdict})
        if r.verdict == "correct":
            continue
        items.append({"quantity": code(_cut(r.quantity)), "given": code(_cut(r.answer.text)),
                      "text": prose(explanation(r)),
                      "codes": text(", ".join(r.codes)),
                      "line": derivation_line(report, r) if r.step is not None else "",
                      "parts": derivation_parts(report, r) if r.step is not None else []})
    return {"header": source_line(report.spec, source), "title": text(report.spec.title),
            "where": text(_cut(Path(report.where).name)), "summary": text(summary(report, blank)), "rows": rows, "items": items}


def render_markdown(report: Report, source: str, blank: tuple[str, ...] = ()) -> str:
    """The feedback sheet in Markdown: answers in code spans no backtick can close, no raw HTML."""
    return render_template("check.md.j2", **_sheet(report, source, escape.markdown, escape.md_code,
                                                   lambda t: escape.md_code(t, table=True), escape.markdown, blank))


def render_latex(report: Report, source: str, blank: tuple[str, ...] = ()) -> str:
    """The feedback sheet in LaTeX (the template puts answers in \\texttt)."""
    return render_template("check.tex.j2", **_sheet(report, source, escape.tex, _tex_breakable, _tex_breakable,
                                                    _tex_breakable, blank, _tex_prose))


def _tex_prose(text: str) -> str:
    """A message for running text: escaped, with a line break allowed after the operators of its formulas
    (0.741365070*0.186815602*0.596884378 has no space to break at)."""
    return "".join(escape.tex(ch) + (r"\allowbreak{}" if ch in "*/=+(" else "") for ch in text)


def _tex_breakable(text: str) -> str:
    """A student's text for a narrow table cell: escaped, with a line break allowed after every character."""
    return r"\allowbreak{}".join(escape.tex(ch) for ch in text)


def render(report: Report, fmt: str = "text", as_json: bool = False, source: str = "",
           blank: tuple[str, ...] = ()) -> str:
    """Render a report in one format; *blank* are the keys left blank (counted, not judged)."""
    if as_json or fmt == "json":
        return render_json(report, blank)
    if fmt == "text":
        return render_text(report, blank)
    if fmt == "md":
        return render_markdown(report, source or report.spec.name, blank)
    if fmt == "pdf":
        return render_latex(report, source or report.spec.name, blank)
    raise SpecError(f"--format: unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")


# -- pasted working ---------------------------------------------------------------

#: Answers files with these extensions are pasted working (Markdown, LaTeX, plain text), not TOML.
WORKING = (".md", ".tex", ".txt")


def _working_labels(report: Report, kinds: tuple[str, ...]) -> Report:
    """The report with each line that was not read labelled by its line number."""
    results = tuple(replace(r, answer=replace(r.answer, quantity=f"line {r.answer.line}"))
                    if r.codes == ("not-read",) else r for r in report.results)
    return replace(report, results=results)


def render_working_text(report: Report, kinds: tuple[str, ...]) -> str:
    """One line per part of each working line (formula, numbers, value); lines not read listed as such."""
    lines = [f"Checking the working in {_cut(Path(report.where).name)} against {report.spec.name} "
             f"({report.spec.title})"]
    unread = 0
    for r, kind in zip(report.results, kinds):
        given = _cut(r.answer.text)
        if r.codes == ("not-read",):
            unread += 1
            lines.append(f"? line {r.answer.line}: {explanation(r)}")
            continue
        head = f"{MARKS[r.verdict]} line {r.answer.line}: {_cut(r.quantity)}, {kind}: {given}"
        lines.append(head if r.verdict == "correct" else f"{head}: {explanation(r)}")
    judged = len(report.results) - unread
    right = sum(r.verdict == "correct" for r in report.results)
    lines.append(f"{right} of {judged} parts correct." + (f" {unread} not read." if unread else ""))
    return "\n".join(escape.terminal(line) for line in lines) + "\n"


def render_working(report: Report, kinds: tuple[str, ...], fmt: str, as_json: bool, source: str) -> str:
    """Render a check of pasted working: text by line and part; JSON records with "line" and "part"."""
    if as_json or fmt == "json":
        records = as_records(_working_labels(report, kinds))
        for record, r, kind in zip(records, report.results, kinds):
            record["line"], record["part"] = r.answer.line, kind
        return render_json(report, (), records)
    if fmt == "text":
        return render_working_text(report, kinds)
    return render(_working_labels(report, kinds), fmt, False, source)


def read_answers(path: str) -> str:
    """Read an answers file's text: a regular UTF-8 file within the size caps, or SpecError saying why not."""
    return inputs.read_text(path, "answers file", inputs.ANSWERS_CAPS.max_bytes, shown=inputs.shorten(path, 200))


def run(spec_arg: str, answers_path: str, fmt: str = "text", as_json: bool = False,
        compile_pdf: Callable[[str, str], object] | None = None, out_path: str | None = None,
        options: Options | None = None, keep: dict | None = None,
        derivation: Derivation | None = None) -> tuple[str, int]:
    """Check an answers file; return (output text, exit code 0 all correct / 1 not / 2 input error).

    *keep*, when given, receives the report (and the keys left blank); a
    *derivation* of the spec already made is used instead of deriving it again.

    For ``fmt="pdf"`` the output is the LaTeX source; with *compile_pdf* and
    *out_path* it is also compiled, as ``compile_pdf(tex_text, out_path)``.
    """
    try:
        if fmt not in FORMATS:
            raise SpecError(f"--format: unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
        spec = derivation.spec if derivation is not None else load(spec_arg, limits.MAX_PARAMETERS)
        text = read_answers(answers_path)
        keep = {} if keep is None else keep
        derived = (lambda: derivation) if derivation is not None else (lambda: derive(spec))  # noqa: E731
        if Path(answers_path).suffix.lower() in WORKING:
            limits.check_size(spec, "check")
            report, kinds = check_working(derived(), text, answers_path, options)
            keep["report"] = report
            output = render_working(report, kinds, fmt, as_json, spec.name)
            if fmt == "pdf" and not as_json and compile_pdf is not None and out_path is not None:
                compile_pdf(output, out_path)
            # every line read and every part right; a line not read is listed, and is not a pass
            return output, 0 if report.results and all(r.verdict == "correct" for r in report.results) else 1
        inputs.prescan(text, inputs.shorten(answers_path, 200), inputs.ANSWERS_CAPS)
        rounds = max((int(n) for n in re.findall(r"@(\d{1,12})", text)), default=0)
        if rounds > MAX_STEPS:
            raise SpecError(f"{inputs.shorten(answers_path, 200)}: an answer after {rounds} updates; "
                            f"stepgrad trains for at most {MAX_STEPS}")
        limits.check_size(spec, "check", rounds=rounds)
        report = check_answers(derived(), text, answers_path, options)
        blank = blank_keys(tomllib.loads(text, parse_float=Decimal))  # valid TOML: check_answers read it
        keep.update(report=report, blank=blank)
        output = render(report, fmt, as_json, spec.name, blank)
        if fmt == "pdf" and not as_json and compile_pdf is not None and out_path is not None:
            compile_pdf(output, out_path)
    except SpecError as exc:
        return f"stepgrad check: {exc}\n", 2
    return output, report.exit_code if report.results else 1  # nothing answered is not a pass
