"""Check answers files as students write them, one or a whole class at once.

:class:`StudentChecker` is the checker with the names students write
(:mod:`symbolic.check.aliases`), an "unreadable" verdict for an answer it
cannot read (the other answers are still judged), and did-you-mean hints that
name a different valid quantity.  :func:`mark_one`, :func:`summary_csv` and
:func:`mistakes_markdown` mark a whole class against one spec: a feedback file
per submission, a score per student and the most common mistakes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Callable

from . import escape
from .pdf import TexError
from ..symbolic import inputs
from ..symbolic.check import Checker, Options, Report
from ..symbolic.check.aliases import canonical, formula_identifiers, suggestion
from ..symbolic.check.answers import Answer, parse_answers
from ..symbolic.check.judge import MAX_HINTS, Diagnosis, Result, formula_text
from ..symbolic.derive import Derivation, format_value
from ..symbolic.spec import SpecError

#: The verdict (and code) beside the checker's own: an answer that could not be read.
UNREADABLE = "unreadable"
#: Codes given here, with their README line.
OWN_CODES = {UNREADABLE: "An answer stepgrad could not read (a formula with an unknown name or unbalanced "
                         "brackets, NaN, a table); the other answers are still judged."}
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
        mapped = self.canonical_answers(answers)
        read = tuple(replace(a, text=formula_identifiers(a.text, self.known, self.names)) if a.is_formula else a
                     for a in mapped)
        report = super().check(read, where)
        # each verdict shows the answer as written (its key's canonical name, its formula's own text)
        return replace(report, results=tuple(replace(r, answer=a) for r, a in zip(report.results, mapped)))

    def _formula(self, k: int, a: Answer, where: str):
        try:
            return super()._formula(k, a, where)
        except SpecError as exc:
            f = self.ev.flat[self.ev.index[a.quantity]]
            reason = str(exc)
            prefix = f"{a.quantity}: "
            reason = reason[reason.index(prefix) + len(prefix):] if prefix in reason else reason
            return Result(a, UNREADABLE, formula_text(f.step.rhs),
                          (Diagnosis(UNREADABLE, _unreadable_message(reason, a.line)),),
                          f.step, f.sample), None

    def unreadable(self, a: Answer, reason: str) -> Result:
        """The verdict on an answer that could not be read, with its quantity's true value when known."""
        a = self.canonical_answers((a,))[0]
        diagnosis = (Diagnosis(UNREADABLE, _unreadable_message(reason, a.line)),)
        i = self.ev.index.get(a.quantity)
        if i is None:
            return Result(a, UNREADABLE, "", diagnosis)
        f = self.ev.flat[i]
        return Result(a, UNREADABLE, format_value(self.ev.truth[a.quantity]), diagnosis, f.step, f.sample)

    def _unknown(self, a: Answer) -> Result:
        shown = a.quantity if len(a.quantity) <= 80 else a.quantity[:77] + "..."
        self._hints = getattr(self, "_hints", 0) + 1
        # a did-you-mean for the first names only, as the checker does: thousands of unknown keys stay fast
        extra = suggestion(a.quantity, self.valid) if self._hints <= MAX_HINTS else ""
        if _PARAMETER.match(a.quantity) and not extra.startswith("; it is"):
            params = [p for p in self.spec.parameters if self.known(p)]
            extra = (f"; this network's parameters are {', '.join(params[:40])}"
                      f"{' ...' if len(params) > 40 else ''} (stepgrad worksheet SPEC lists every quantity)")
        return Result(a, "unknown", "", (Diagnosis("unknown", f"stepgrad does not know a quantity named "
                                                              f"{shown!r}{extra}"),))


def check_answers(derivation: Derivation, text: str, where: str, options: Options | None = None) -> Report:
    """Check an answers file's text, reading the names students write.

    >>> from stepgrad.symbolic import spec, derive
    >>> r = check_answers(derive.derive(spec.load("mazur")), '"δ_o1" = 0.1385', "a.toml")
    >>> r.results[0].quantity, r.results[0].verdict
    ('delta_o1', 'correct')
    """
    problems: list = []
    try:
        answers = parse_answers(text, where, problems)
    except SpecError as exc:
        raise SpecError(f"{exc}{_quoting_hint(str(exc), text)}") from None
    checker = StudentChecker(derivation, options)
    report = checker.check(answers, where)
    if not problems:
        return report
    unreadable = [checker.unreadable(p.answer, p.reason) for p in problems]
    results = sorted(report.results + tuple(unreadable),  # in the file's order
                     key=lambda r: r.answer.line if r.answer.line is not None else 1 << 30)
    return replace(report, results=tuple(results))


#: A line whose key is not quoted but needs quotes: dE_total/dw5 = 0.08, w5+ = 0.35, δ_o1 = 0.13.
_UNQUOTED = re.compile(r"\s*([^\s\"'=#][^=\"']*?)\s*=")


def _quoting_hint(message: str, text: str) -> str:
    """'; quote the name: "dE_total/dw5" = ...' when TOML failed on a line whose key needs quotes."""
    m = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if not m or not 1 <= int(m.group(1)) <= len(lines):
        return ""
    key = _UNQUOTED.match(lines[int(m.group(1)) - 1])
    if not key or re.fullmatch(r"[A-Za-z0-9_-]+", key.group(1)):
        return ""
    shown = inputs.shorten(key.group(1), 40)
    return f"; quote the name: \"{shown}\" = ... (names with / + @ [ ] or other letters need quotes)"


def _unreadable_message(reason: str, line: int | None) -> str:
    at = f" (line {line})" if line else ""
    return f"stepgrad could not read this answer{at}: {reason}"


# -- a whole class ------------------------------------------------------------------

#: Files of a folder read as submissions: answers files and pasted working.
SUBMISSIONS = (".toml", ".md", ".tex", ".txt")
#: A class holds at most this many submissions.
MAX_SUBMISSIONS = 2000
#: What each feedback format's file ends with.
EXTENSIONS = {"text": ".txt", "md": ".md", "json": ".json", "pdf": ".pdf"}
SUMMARY_CSV = "class-summary.csv"
MISTAKES_MD = "class-mistakes.md"
_FEEDBACK = "-feedback"


@dataclass(frozen=True)
class Marked:
    """One student's submission: its feedback (or why it could not be read) and its counts."""

    path: Path
    feedback: bytes | None
    error: str = ""
    score: int = 0
    total: int = 0
    counts: tuple[tuple[str, int], ...] = ()
    codes: tuple[str, ...] = ()
    #: Marking an exercise set: the variant marked against, and the variant whose numbers these are.
    variant: int | None = None
    copied_from: int | None = None
    #: Marking an exercise set (the summary's variant columns); the students sharing wrong answers with it.
    exercise: bool = False
    shared: tuple[str, ...] = ()
    #: Marking an exercise set with a roster: the other files marked as the same student's.
    same_student: tuple[str, ...] = ()
    #: Marking an exercise set: (another variant, how many answers are its numbers) when part of the answers are.
    partly_from: tuple[int, int] | None = None
    #: The submission's student in the class run (:func:`student_names`); its file name's stem when not set.
    student: str = ""

    @property
    def name(self) -> str:
        """The student the summary's row, the class-mistakes table and the JSON name."""
        return self.student or self.path.stem

    @property
    def label(self) -> str:
        """The submission in a message: its file name, after its student when that is not the file's stem
        (``Ann Lee_1234 (answers.toml)``)."""
        return label(self.path, self.name)


def submissions(arguments: list[str]) -> list[Path]:
    """The submissions named: files as given, and each folder's answers files and working (sorted), not
    stepgrad's own feedback or summaries."""
    out: list[Path] = []
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUBMISSIONS and p.is_file()
                           and not p.stem.endswith(_FEEDBACK) and p.name != MISTAKES_MD)
            if not found:
                raise SpecError(f"{inputs.shorten(arg, 200)}: no answers files (.toml) or working "
                                f"(.md, .tex, .txt) in this folder")
            out.extend(found)
        else:
            out.append(path)
        if len(out) > MAX_SUBMISSIONS:
            raise SpecError(f"more than {MAX_SUBMISSIONS} submissions; mark the class in parts")
    return out


def feedback_path(submission: Path, fmt: str, folder: Path | None, student: str | None = None) -> Path:
    """Where a submission's feedback goes: beside it as STEM-feedback.EXT, or into *folder* as
    STUDENT-feedback.EXT (*student* made one safe file-name component; the stem when not given)."""
    if folder is None:
        return submission.parent / f"{submission.stem}{_FEEDBACK}{EXTENSIONS[fmt]}"
    return folder / f"{file_component(submission.stem if student is None else student)}{_FEEDBACK}{EXTENSIONS[fmt]}"


def feedback_paths(paths: list[Path], students: list[str], fmt: str, folder: Path | None) -> list[Path]:
    """Each submission's feedback file (:func:`feedback_path`); into *folder*, two students whose names
    become the same file name (cut to length, say) get ' (2)', ' (3)' ... in the order given."""
    if folder is None:
        return [feedback_path(p, fmt, None) for p in paths]
    stems = _unique([file_component(s) for s in students], set())
    return [folder / f"{s}{_FEEDBACK}{EXTENSIONS[fmt]}" for s in stems]


#: A student's name in a feedback file's name is cut to this many bytes (file systems allow 255).
_COMPONENT_BYTES = 200
_SEPARATORS = re.compile(r"[/\\\x00]")


def file_component(name: str) -> str:
    """*name* as one file-name component (followed by '-feedback.EXT', so never '.' or '..'): no separator
    or NUL, at most :data:`_COMPONENT_BYTES` bytes; a file name's stem of that length is kept as it is.

    >>> file_component("Ann Lee_1234/answers"), file_component("s17")
    ('Ann Lee_1234_answers', 's17')
    """
    safe = _SEPARATORS.sub("_", name) or "_"
    data = safe.encode("utf-8", "surrogateescape")
    if len(data) > _COMPONENT_BYTES:
        safe = data[:_COMPONENT_BYTES].decode("utf-8", "surrogateescape")
    return safe


def student_names(paths: list[Path]) -> list[str]:
    """Each submission's student for a class run, unique among *paths* and in their order.

    A submission's student is its file name's stem when no other submission has that stem; else its
    folder's name (a learning platform's download: one folder per student, each with answers.toml);
    else FOLDER/STEM, FOLDER/FILE; what still collides gets ' (2)', ' (3)' ... in the order given.  The
    names are file and folder names, untrusted: shown only escaped, and in a file name only through
    :func:`file_component`.

    >>> student_names([Path("Ann/answers.toml"), Path("Bob/answers.toml"), Path("cy.toml")])
    ['Ann', 'Bob', 'cy']
    """
    stems: dict[str, int] = {}
    for p in paths:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    fixed = {p.stem for p in paths if stems[p.stem] == 1}
    choices = [[p.stem] if p.stem in fixed else _fallbacks(p) for p in paths]
    level = [0] * len(paths)
    while True:  # move each colliding name to its next choice until none collides or none is left
        names = [c[k] for c, k in zip(choices, level)]
        count: dict[str, int] = {}
        for n in names:
            count[n] = count.get(n, 0) + 1
        moved = False
        for i, n in enumerate(names):
            if count[n] > 1 and level[i] + 1 < len(choices[i]):  # a kept stem has one choice: it stays
                level[i] += 1
                moved = True
        if not moved:
            break
    return _unique(names, fixed)


def label(path: Path, student: str) -> str:
    """A submission in a message: its file name, after its *student* when that is not the file's stem."""
    return path.name if student == path.stem else f"{student} ({path.name})"


def _fallbacks(path: Path) -> list[str]:
    """The names tried, in order, for a submission whose stem another submission shares."""
    folder = path.parent.name
    if folder in ("", ".", ".."):
        return [path.stem, path.name]
    return [folder, f"{folder}/{path.stem}", f"{folder}/{path.name}"]


def _unique(names: list[str], kept: set[str]) -> list[str]:
    """*names* with each repeat (and each name other than a *kept* one that is a kept one) numbered
    ' (2)', ' (3)' ... in order."""
    taken = set(kept)
    out = []
    for n in names:
        if n in kept:
            out.append(n)
            continue
        k, shown = 1, n
        while shown in taken:
            k += 1
            shown = f"{n} ({k})"
        taken.add(shown)
        out.append(shown)
    return out


def summary_folder(paths: list[Path], folder: Path | None) -> Path:
    """Where the class summary goes: *folder*, or the first submission's folder."""
    return folder or paths[0].parent


def read_submission(path: Path) -> str:
    """A submission's text, read as the checker reads it (bounded, UTF-8), or SpecError saying why not."""
    from . import check_report
    return check_report.read_answers(str(path))


def mark_one(derivation: Derivation, path: Path, fmt: str, options: Options | None,
             compile_pdf: Callable[[str], bytes] | None, notes: tuple[str, ...] = (),
             about: dict | None = None) -> Marked:
    """Check one submission; a submission that cannot be read gives a Marked with the reason.

    A symbolic link is not followed: it could point at any file the marker can read, whose
    content would then be quoted back to the student.  *notes* are sentences added to the
    feedback (the exercise variant marked against, say) and *about* is added to JSON feedback
    as its "exercise" object.
    """
    from . import check_report
    if path.is_symlink():
        return Marked(path, None, f"{path.name}: is a symbolic link; a submission must be a file of its own")
    holder: dict = {}
    text, code = check_report.run(derivation.spec.name, str(path), fmt, False, options=options, keep=holder,
                                  derivation=derivation)
    if code == 2:  # the reason, naming the file by its name (the summary holds no folder paths)
        return Marked(path, None, text.strip().removeprefix("stepgrad check: ").replace(str(path), path.name))
    report = holder["report"]
    blank = holder.get("blank", ())
    counts = {}
    for r in report.results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    if blank:
        counts["blank"] = len(blank)
    codes = tuple(sorted({c for r in report.results if r.verdict not in check_report.CREDITED for c in r.codes}))
    if notes or about is not None:
        text = with_notes(text, fmt, notes, about)
    try:
        data = compile_pdf(text) if fmt == "pdf" and compile_pdf is not None else text.encode()
    except TexError as exc:  # one sheet TeX cannot set never stops the class
        return Marked(path, None, f"{path.name}: the PDF feedback failed: {exc}")
    return Marked(path, data, "", sum(r.verdict in check_report.CREDITED for r in report.results),
                  len(report.results), tuple(sorted(counts.items())), codes)


def with_notes(text: str, fmt: str, notes: tuple[str, ...], about: dict | None) -> str:
    """The feedback with *notes* added at its end, each escaped for its format; JSON gets them, with
    *about*, as its "exercise" object."""
    from . import check_report
    if fmt == "json":
        doc = json.loads(text)
        doc["exercise"] = {**(about or {}), "notes": list(notes)}
        return check_report._json_text(doc)
    if not notes:
        return text
    if fmt == "md":
        return text.rstrip("\n") + "\n\n## Your exercise variant\n\n" + \
            "".join(f"- {escape.markdown(n)}\n" for n in notes)
    if fmt == "pdf":
        end = text.rindex("\\end{document}")
        body = "".join(f"{escape.tex(n)}\n\n" for n in notes)
        return f"{text[:end]}\\subsection*{{Your exercise variant}}\n{body}{text[end:]}"
    return text + "".join(escape.terminal(n) + "\n" for n in notes)


_VERDICT_COLUMNS = ("correct", "consistent", "wrong", "unknown", "unreadable", "blank")


def _csv_cell(value: object) -> str:
    """A cell no spreadsheet runs as a formula: text starting with = + - @ (or a tab or CR) gets a leading '.
    A file name's bytes that are not UTF-8 are shown as U+FFFD."""
    text = escape.decodable(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def summary_csv(marked: list[Marked]) -> str:
    """The class's scores, one row per submission (a submission not read says why); marking an exercise
    set, each row's variant and the variant its numbers are, when another's, follow the file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    exercise = any(m.exercise for m in marked)
    writer.writerow(["student", "file", *(("variant", "copied_from") if exercise else ()), "score", "total",
                     *_VERDICT_COLUMNS, "codes", "error"])
    for m in marked:
        counts = dict(m.counts)
        extra = (_blank(m.variant), _blank(m.copied_from)) if exercise else ()
        row = [m.name, m.path.name, *extra, m.score if not m.error else "", m.total if not m.error else "",
               *[counts.get(v, 0) if not m.error else "" for v in _VERDICT_COLUMNS], " ".join(m.codes),
               inputs.one_line(m.error)]
        writer.writerow([_csv_cell(c) for c in row])
    return buffer.getvalue()


def _blank(value: object) -> object:
    return "" if value is None else value


def common_mistakes(marked: list[Marked]) -> list[tuple[str, int]]:
    """Each diagnosis code with the number of students whose answers have it, most common first."""
    counts: dict[str, int] = {}
    for m in marked:
        for code in m.codes:
            counts[code] = counts.get(code, 0) + 1
    return sorted(counts.items(), key=lambda t: (-t[1], t[0]))


def mistakes_markdown(spec_name: str, title: str, marked: list[Marked], header: str) -> str:
    """The class summary in Markdown: scores and the most common mistakes, with how many students made each."""
    from ..symbolic.check import DESCRIPTIONS
    read = [m for m in marked if not m.error]
    lines = [f"<!-- {escape.html_comment(header)} -->", f"# Class summary: {escape.markdown(title)}", "",
             f"{len(read)} of {len(marked)} submissions read; scores are in {SUMMARY_CSV}.", "",
             "| Mistake | Students | What it is |", "|---|---|---|"]
    for code, n in common_mistakes(read):
        lines.append(f"| {escape.md_code(code, table=True)} | {n} | "
                     f"{escape.markdown({**DESCRIPTIONS, **OWN_CODES}.get(code, ''))} |")
    lines += _exercise_lines(marked)
    unread = [m for m in marked if m.error]
    if unread:
        lines += ["", "## Not read", ""]
        lines += [f"- {escape.md_code(inputs.shorten(m.label, 80))}: {escape.markdown(inputs.shorten(m.error, 300))}"
                  for m in unread]
    return "\n".join(lines) + "\n"


def _exercise_lines(marked: list[Marked]) -> list[str]:
    """Marking an exercise set: how many submissions each variant has, and the answers that are another
    variant's or share wrong answers with another student's."""
    if not any(m.exercise for m in marked):
        return []
    per: dict[int, int] = {}
    for m in marked:
        if m.variant is not None:
            per[m.variant] = per.get(m.variant, 0) + 1
    lines = ["", "## Variants", "",
             f"{len(per)} variants marked: " + ", ".join(f"{v} ({n})" if n > 1 else str(v)
                                                        for v, n in sorted(per.items())) + "."]
    copied = [m for m in marked if m.copied_from is not None]
    lines += ["", "## Copied answers", ""]
    lines += [f"- {escape.md_code(inputs.shorten(m.name, 80))} (variant {m.variant}): these numbers are "
              f"variant {m.copied_from}'s." for m in copied] or ["No answers match another variant's key "
                                                                  "better than their own."]
    lines += [f"- {escape.md_code(inputs.shorten(m.name, 80))} (variant {m.variant}): {m.partly_from[1]} "
              f"answers are variant {m.partly_from[0]}'s." for m in marked if m.partly_from is not None]
    twice = [m for m in marked if m.same_student]
    if twice:
        lines += ["", "## Several submissions for one student", ""]
        lines += [f"- {escape.md_code(inputs.shorten(m.label, 80))}: marked as the same student's as "
                  + _listed(m.same_student) for m in twice]
    shared = [m for m in marked if m.shared]
    if shared:
        lines += ["", "## Shared wrong answers", ""]
        lines += [f"- {escape.md_code(inputs.shorten(m.name, 80))}: the same wrong numbers as "
                  + _listed(m.shared) for m in shared]
    return lines


def _listed(names: tuple[str, ...], most: int = 10) -> str:
    """Up to *most* students' names as Markdown code, comma-separated, with ' ...' when there are more."""
    return (", ".join(escape.md_code(inputs.shorten(s, 80)) for s in names[:most])
            + (" ..." if len(names) > most else ""))
