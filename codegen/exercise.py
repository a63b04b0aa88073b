"""``stepgrad exercise``: a variant of the spec's exercise for each student, and every file a class needs.

For each variant (:func:`stepgrad.symbolic.exercise.make_variants`), in DIR/variant-NN/:

* ``question.md`` and ``question.pdf``: the network drawn, the variant's given values (rounded
  intermediates marked as such), the functions, and what to compute, numbered in derivation order;
  ``question-network.svg`` is the Markdown sheet's picture;
* ``answers.toml``: the answers template, whose header names the variant
  (``# stepgrad exercise variant 3 of 30, set 5ef1fff4``: the set's tag, never its seed), as ``stepgrad check`` reads it;
* ``solution.md`` and ``solution.pdf``: the worked example of the variant, computed from the rounded
  givens when there are some, and saying so;
* ``key.json``: the answer key (:func:`stepgrad.symbolic.exercise.key_document`);

and DIR/index.json, DIR/index.md and the keys' exports for learning management systems
(:func:`codegen.lms.exports`: Moodle XML, QTI 1.2, QTI 2.1).  A roster's student IDs appear only
inside files, escaped for each format, never in a file name.

TeX costs about two seconds per run, so the question sheets are one LaTeX document and the
solutions another (each cut into as few runs as :data:`codegen.pdf.MAX_TEX_S` allows), every
variant starting a fresh page with its page number set back to 1; :mod:`codegen.pdfsplit` then
cuts each PDF into the variants' files at those restarts.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..symbolic import exercise as core
from ..symbolic import limits, naming
from ..symbolic.derive import Derivation, Trajectory, derive
from ..symbolic.spec import Spec, SpecError, builtin_names, is_path, load
from ..symbolic.verify import verify, verify_rounded

from . import document, escape, files, formats, lms, pdf, progress, svg, worksheet
from .pdfsplit import PdfSplitError, split_at_restarts
from .printers import number_text
from .render import render_template, source_line

QUESTION_MD = "question.md"
QUESTION_PDF = "question.pdf"
ANSWERS = "answers.toml"
SOLUTION_MD = "solution.md"
SOLUTION_PDF = "solution.pdf"
KEY = "key.json"
#: The network's picture beside question.md (solution.md links it too).
FIGURE = svg.figure_names("question")[0]
INDEX_JSON = "index.json"
INDEX_MD = "index.md"
#: Seconds of TeX one exercise set may be estimated to need, all its runs together.
MAX_TEX_TOTAL_S = 180.0


#: A variant's folder name, of this set or another.
VARIANT_FOLDER = re.compile(r"variant-\d+\Z")


def folder_name(number: int, count: int) -> str:
    """The folder of variant *number* of *count*: two digits at least, so the folders sort in order.

    >>> folder_name(3, 30), folder_name(7, 120)
    ('variant-03', 'variant-007')
    """
    return f"variant-{number:0{max(2, len(str(count)))}d}"


def variant_line(variant: core.Variant) -> str:
    """The answers template's line naming the variant, as ``stepgrad check`` reads it."""
    line = f"stepgrad exercise variant {variant.number} of {variant.of}, set {core.set_tag(variant.seed)}"
    return line + (f", student {variant.student}" if variant.student is not None else "")


def heading(variant: core.Variant) -> str:
    """The variant as the sheets name it: 'Variant 3 of 30, student s17' (not the seed, which would let
    a student draw the whole set, keys included)."""
    text = f"Variant {variant.number} of {variant.of}"
    return text + (f", student {variant.student}" if variant.student is not None else "")


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else ""


# -- one variant's content -------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """What one variant's files are made from: the variant, its derivation (rounded givens applied), what it
    asks and gives, and its formulas (the derivation without rounded givens, for the sheet's functions)."""

    variant: core.Variant
    derivation: Derivation
    tasks: tuple[worksheet.Quantity, ...]
    given: tuple[worksheet.Given, ...]
    formulas: Derivation

    @property
    def needs_error(self) -> bool:
        """Whether the questions reach the error (the targets are given): else the sheet omits its formula
        and the solution stops after the forward pass."""
        targets = {naming.target(o) for o in self.variant.spec.outputs}
        return any(naming.split_sample(n)[0] in targets for n, _ in self.variant.givens)

    @property
    def needs_update(self) -> bool:
        """Whether the questions reach an update: else the solution shows none."""
        return asks_updates(self.variant)


def asks_updates(variant: core.Variant) -> bool:
    """Whether a variant's questions reach an update (the learning rate is given to the student)."""
    return any(n == "eta" for n, _ in variant.givens)


def sheet_of(variant: core.Variant) -> Sheet:
    """The variant's derivation (with its rounded givens), its tasks in key order and its given rows."""
    d = core.derivation_of(variant)
    known = {q.name: q for q in worksheet.quantities(d)}
    tasks = tuple(known.get(e.name) or worksheet.Quantity(e.name, naming.latex_symbol(e.name), e.words)
                  for e in variant.key)
    # whether a bias is trained or frozen matters only to an exercise that asks for updates
    spec_rows = {g.key: g for g in worksheet.givens(variant.spec, training=asks_updates(variant))}
    rounded = dict(variant.rounded)
    decimals = variant.exercise.given_decimals
    given = []
    for name, text in variant.givens:
        if name in rounded and name in known:
            q = known[name]
            given.append(worksheet.Given(q.latex, f"{q.words} (rounded to {decimals} decimals)", text, name))
        elif name in spec_rows:
            given.append(replace(spec_rows[name], value=text))
        else:
            given.append(worksheet.Given(naming.latex_symbol(name), "given", text, name))
    return Sheet(variant, d, tasks, tuple(given), derive(variant.spec) if variant.rounded else d)


def rounded_words(variant: core.Variant) -> str:
    """What the sheets say about rounded givens ('' when there are none)."""
    if not variant.rounded:
        return ""
    return (f"The values marked 'rounded' are given rounded to {variant.exercise.given_decimals} decimals. "
            "Use them as they are: the answer key and the worked solution are computed from these rounded "
            "values.")


def update_words(variant: core.Variant) -> str:
    """What the sheets say when only some parameters are updated ('' when every trained one is)."""
    chosen = variant.exercise.update
    if not chosen:
        return ""
    return (f"Only {_listing(list(chosen))} {'is' if len(chosen) == 1 else 'are'} updated in this exercise: "
            "the other parameters keep their values.")


def how_words(variant: core.Variant) -> str:
    """The instruction above the numbered quantities."""
    return (f"Compute each quantity in this order (the order of the answers file) and give it to "
            f"{variant.exercise.answer_decimals} decimal places.")


def _question(sheet: Sheet, source: str, text, code) -> dict:
    """What the question-sheet templates lay out for one variant."""
    v = sheet.variant
    ctx = worksheet.sheet_context(sheet.formulas, source, text, code, ANSWERS, tasks=sheet.tasks,
                                  given=sheet.given, error=sheet.needs_error)
    ctx.update(variant=text(heading(v)), rounded=text(rounded_words(v)), updates=text(update_words(v)),
               how=text(how_words(v)),
               kind="One step of backpropagation" if sheet.needs_error else "A forward pass")
    if not sheet.needs_update and len(v.spec.samples) == 1:  # no update is asked: none to speak of
        ctx["training"] = text("One sample.")
    return ctx


def question_markdown(sheet: Sheet, source: str, figure: bool) -> str:
    """One variant's question sheet as Markdown; *figure* links the network's SVG beside it."""
    return render_template("exercise_question.md.j2", figure=escape.link(FIGURE) if figure else "",
                           **_question(sheet, source, escape.markdown, escape.md_code))


def question_tex(sheet: Sheet, source: str) -> dict:
    """What the LaTeX question sheets lay out for one variant."""
    return dict(_question(sheet, source, escape.tex, worksheet.texttt), picture=worksheet.picture(sheet.variant.spec))


#: A table of given values up to this many rows fits on a page: set as a tabular, it needs no second TeX pass.
PAGE_ROWS = 40


def questions_latex(header: str, sheets: Sequence[dict]) -> str:
    """Question sheets (:func:`question_tex`) as one LaTeX document, each starting a page numbered 1.

    When every table of given values fits on a page, the tables are tabulars and TeX runs once
    (a longtable sets its columns from the widths an earlier pass recorded).
    """
    single = all(len(s["givens"]) <= PAGE_ROWS for s in sheets)
    return render_template("exercise_questions.tex.j2", header=header, sheets=sheets, single_pass=single)


def answers_template(sheet: Sheet) -> str:
    """One variant's answers template: its header line, then the asked quantities, values blank."""
    return worksheet.answers_template(
        sheet.derivation, sheet.tasks, header=[variant_line(sheet.variant)],
        then="hand this file in, keeping the line above (it names your variant)")


def key_json(variant: core.Variant) -> str:
    """The variant's key.json text."""
    return json.dumps(core.key_document(variant), indent=2, ensure_ascii=False) + "\n"


# -- the worked solution ---------------------------------------------------------------


def _checks(sheet: Sheet) -> tuple:
    """The independent checks of the values the solution shows, from its rounded givens if any (a
    disagreement raises)."""
    v = sheet.variant
    if sheet.needs_error and not v.rounded:
        return verify(sheet.derivation)
    shown = "forward" if not sheet.needs_error else "all" if sheet.needs_update else "no_updates"
    return verify_rounded(sheet.derivation, dict(v.rounded), shown)


def _subset(exercise: core.Exercise) -> bool:
    """Whether the exercise asks for less than every quantity."""
    return exercise.ask not in ((), ("all",)) or bool(exercise.update) or bool(exercise.given)


def _intro(sheet: Sheet, source: str) -> document.Section:
    v = sheet.variant
    shown = ["every forward value"] + (["every chain-rule factor"] if sheet.needs_error else []) \
        + (["every update"] if sheet.needs_update else [])
    text = [document.para(f"The worked solution of variant {v.number} of {v.of} of the exercise on the network "
                          f"of the spec '{source}': {_listing(shown)}, first as a formula, then with the numbers "
                          "substituted, then the value.")]
    if v.rounded:
        names = [n for n, _ in v.rounded]
        text.append(document.para(
            f"The exercise gives {_listing(names)} rounded to {v.exercise.given_decimals} decimals. Every "
            "quantity after them is computed from those rounded values, as the answer key is, so it can differ "
            "from the exact value in its last digits."))
    if v.exercise.update:
        text.append(document.para(
            f"The exercise asks for the update of {_listing(list(v.exercise.update))} only; the other "
            "parameters' gradients and updates are shown for completeness."))
    if _subset(v.exercise):
        asked: tuple = ()
        for k, e in enumerate(v.key):
            asked += document.para(", " if k else "", document.m(e.name))
        text.append(document.para(f"The question sheet asks for these {len(v.key)} quantities: ") + asked
                    + document.para("."))
    return document.Section("", tuple(document.Paragraph(t) for t in text))


def _given_equations(section: document.Section, variant: core.Variant) -> document.Section:
    """The section with each rounded given shown as its given value, not as a formula, after a sentence
    saying which are given."""
    shown = {document.m(name): (name, text) for name, text in variant.rounded}
    blocks, names = [], []
    for block in section.blocks:
        if isinstance(block, document.Equation) and block.lhs in shown:
            name, text = shown[block.lhs]
            names.append(name)
            block = document.Equation(block.lhs, (text,))
        blocks.append(block)
    if not names:
        return section
    first = next(k for k, b in enumerate(blocks) if isinstance(b, document.Equation))
    said = document.Paragraph(document.para(
        f"Given, rounded to {variant.exercise.given_decimals} decimals (so not computed here): "
        f"{_listing(names)}."))
    return replace(section, blocks=tuple(blocks[:first]) + (said,) + tuple(blocks[first:]))


def _updates(sheet: Sheet) -> document.Section:
    """Every parameter before and after the update (and, when only some are updated, which)."""
    d, v = sheet.derivation, sheet.variant
    spec = d.spec
    initial = dict(spec.initial)
    chosen = set(v.exercise.update)
    rows = []
    for p in spec.parameters:
        cells = (document.para("", naming.latex_name(p)), document.para("", number_text(initial[p])),
                 document.para("", number_text(d.values[naming.d(naming.E_TOTAL, p)])),
                 document.para("", number_text(d.values[naming.updated(p)])))
        rows.append(cells + ((document.para("asked" if p in chosen else ""),) if chosen else ()))
    header = (document.para("parameter"), document.para("before"), document.para("gradient"),
              document.para("after")) + ((document.para(""),) if chosen else ())
    table = document.Table(header, tuple(rows), "lrrr" + ("l" if chosen else ""))
    intro = document.Paragraph(document.para("All parameters after the first update."))
    return document.Section("The updated parameters", (intro, table), "updated")


def _givens(sheet: Sheet, expand: bool) -> document.Section:
    """The values the question sheet gives (rounded intermediates aside: the forward pass shows them)."""
    rounded = {n for n, _ in sheet.variant.rounded}
    rows = tuple((document.para("", g.name), document.para(g.what), document.para("", g.value))
                 for g in sheet.given if g.key not in rounded)
    table = document.Table((document.para("name"), document.para("what"), document.para("value")), rows, "llr")
    text = document.para("The values the question sheet gives. Every value computed below is evaluated at 50 "
                         "significant digits and printed rounded to 9 decimal places (at least 6 significant digits).")
    return document.Section("The given values", (document.Paragraph(text), table if expand else document.fold(table, 3)),
                            "initial")


def _without_updates(section: document.Section, spec: Spec) -> document.Section | None:
    """The section without its update equations (p+ = ...), or None when nothing else is left."""
    updates = {document.m(naming.updated(p)) for p in spec.parameters}
    blocks = tuple(b for b in section.blocks if not (isinstance(b, document.Equation) and b.lhs in updates))
    if section.anchor == "update" or not any(isinstance(b, (document.Equation, document.Table)) for b in blocks):
        return None
    return replace(section, blocks=blocks)


def solution_document(sheet: Sheet, source: str) -> document.Document:
    """The worked example of one variant: network, given values, derivation, updates and its checks.

    It goes as far as the questions do: the forward pass only when no target is given, no update when
    the learning rate is not.
    """
    d = sheet.derivation
    spec = d.spec
    checks = _checks(sheet)
    inp = document.Inputs(d, source, source_line(spec, source), Trajectory([], {}), 1, {},
                          expand=len(spec.parameters) <= document.FULL_LIMIT, checks=checks)
    sections = [_intro(sheet, source), document.network_section(inp), _givens(sheet, inp.expand)]
    for section in document.derivation_sections(inp):
        if section.anchor != "forward" and not sheet.needs_error:
            continue
        kept = section if sheet.needs_update else _without_updates(section, spec)
        if kept is not None:
            sections.append(_given_equations(kept, sheet.variant))
    if sheet.needs_update:
        sections.append(_updates(sheet))
    if checks:
        sections.append(document.checks_section(inp))
    return document.Document(f"Worked solution: {spec.title}", inp.header, tuple(sections), not inp.expand)


def solution_markdown(doc: document.Document, figure: bool) -> str:
    """A solution as Markdown, its picture the question sheet's SVG when one is written."""
    return formats.to_markdown(svg.with_figure_names(doc, "question") if figure else doc)


def solution_tex(doc: document.Document, sheet: Sheet) -> dict:
    """What the LaTeX solutions lay out for one variant."""
    return {"title": escape.tex(sheet.variant.spec.title), "variant": escape.tex(heading(sheet.variant)),
            "sections": formats.latex_sections(doc)}


def solutions_latex(header: str, compact: bool, solutions: Sequence[dict]) -> str:
    """Solutions (:func:`solution_tex`) as one LaTeX document, each starting a page numbered 1, its sections
    numbered from 1."""
    return render_template("exercise_solutions.tex.j2", header=header, compact=compact, solutions=solutions)


# -- PDFs: few TeX runs, cut per variant ------------------------------------------------


def chunks(items: Sequence, render) -> list[tuple[int, int, str]]:
    """Group *items* into runs of consecutive ones whose LaTeX (``render(items[start:stop])``) TeX can
    compile within :data:`codegen.pdf.MAX_TEX_S`: (start, stop, LaTeX) each.

    The estimate (:func:`codegen.pdf.tex_seconds`) grows linearly with the source, so each item's share
    is measured once: alone, as a run's first item, and after another (which adds the page break before
    it).  The run's own estimate has the last word.  An item over the limit by itself stays alone (and
    TeX refuses it with a clear message).
    """
    alone, later = _shares(items, render)
    out = []
    start = 0
    while start < len(items):
        stop, total = start + 1, alone[start]
        while stop < len(items) and total + later[stop] <= pdf.MAX_TEX_S:
            total += later[stop]
            stop += 1
        tex = render(items[start:stop])
        while stop - start > 1 and pdf.tex_seconds(tex) > pdf.MAX_TEX_S:
            stop -= 1
            tex = render(items[start:stop])
        out.append((start, stop, tex))
        start = stop
    return out


def _shares(items: Sequence, render) -> tuple[list[float], list[float]]:
    """Each item's estimated seconds of TeX alone, and as an item after another in one run."""
    alone = [pdf.tex_seconds(render([item])) for item in items]
    return alone, [pdf.tex_seconds(render([item, item])) - a for item, a in zip(items, alone)]


def compiled(groups: Sequence[tuple[int, int, str]], compile_pdf=pdf.compile_pdf) -> list[bytes]:
    """Compile each group once and cut it into one PDF per item, in order."""
    out: list[bytes] = []
    for start, stop, tex in groups:
        whole = compile_pdf(tex)
        try:
            out += split_at_restarts(whole, stop - start)
        except PdfSplitError as exc:  # TeX's own output, so a bug here, not the user's input
            raise RuntimeError(f"cutting the combined PDF per variant: {exc}") from None
    return out


def _check_tex(count: int, seconds: float) -> None:
    if seconds > MAX_TEX_TOTAL_S:
        raise SpecError(f"the PDFs of {count} variants would need about {seconds:.0f} s of TeX (the "
                        f"budget is {MAX_TEX_TOTAL_S:.0f} s): use --no-pdf, or fewer variants at a time")


def tex_estimate(spec: Spec, source: str, exercise: core.Exercise, seed: int, count: int) -> float:
    """The estimated seconds of TeX of *count* variants' PDFs, from the first variant's LaTeX alone.

    Every variant has the same network and questions, so its LaTeX is about as long as the first's;
    this lets a set too large for TeX be refused before the whole set is drawn.
    """
    sheet = sheet_of(core.make_variants(spec, exercise, count=1, seed=seed)[0])
    doc = solution_document(sheet, source)
    header = source_line(spec, source)
    total = 0.0
    for item, render in ((question_tex(sheet, source), lambda some: questions_latex(header, some)),
                         (solution_tex(doc, sheet), lambda some: solutions_latex(header, doc.compact, some))):
        (alone,), (later,) = _shares([item], render)
        per_run = 1 + max(0, int((pdf.MAX_TEX_S - alone) // max(later, 1e-9)))
        runs = -(-count // per_run)
        total += runs * alone + (count - runs) * later
    return total


# -- the command line ------------------------------------------------------------------


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_parser(sub) -> None:
    """Add ``stepgrad exercise`` to the command line's subparsers."""
    p = sub.add_parser(
        "exercise", help="write a variant of the exercise per student: question sheets, solutions, keys",
        description="Write an exercise set for a class into DIR: for each variant (--variants N, or one per "
                    "student of --roster FILE), DIR/variant-NN/ holds question.md and question.pdf (the network, "
                    "the variant's given values, what to compute), answers.toml (the template to fill in, naming "
                    "its variant), solution.md and solution.pdf (the worked example of the variant) and key.json; "
                    "DIR/index.json and DIR/index.md list the variants. The same SPEC, options and seed give the "
                    "same files, byte for byte. Options below override the spec's [exercise] table.")
    p.add_argument("spec", metavar="SPEC")
    count = p.add_mutually_exclusive_group(required=True)
    count.add_argument("--variants", type=int, metavar="N", help=f"number of variants (1 to {core.MAX_VARIANTS})")
    count.add_argument("--roster", metavar="FILE",
                       help="a CSV of student IDs (the column 'id' or 'student', else the first): one variant each")
    p.add_argument("--seed", type=int, metavar="S",
                   help="the seed every variant and key is drawn from: keep it as secret as the keys (default: 63 "
                        "random bits, recorded in DIR/index.json; a seed below 2^32 can be found by trying)")
    p.add_argument("-o", "--output", metavar="DIR", help="folder to write into (default: NAME-exercise)")
    p.add_argument("--ask", action="append", metavar="NAMES",
                   help="quantities to compute: names (net_h1, dE_total/dw5) or groups "
                        f"({', '.join(core.GROUPS)}), comma-separated or repeated (default: all)")
    p.add_argument("--update", action="append", metavar="PARAMS",
                   help="update only these parameters (like w5,w1): their gradients and new values are asked")
    p.add_argument("--given", action="append", metavar="NAMES",
                   help="intermediates handed out rounded (names or groups, like forward); the key and the "
                        "solution are computed from the rounded values")
    p.add_argument("--given-decimals", type=int, metavar="N", help="decimals of the rounded givens (default 4)")
    p.add_argument("--answer-decimals", type=int, metavar="N", help="decimals the answers are asked to (default 4)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDFs even when a TeX engine is installed")
    p.add_argument("--force", action="store_true",
                   help="overwrite files stepgrad did not generate (the answers templates and the JSON files "
                        "carry no stepgrad header, so writing into an earlier set's folder needs it)")


def _overrides(args) -> dict:
    out: dict = {}
    for key in ("ask", "update", "given"):
        values = getattr(args, key)
        if values:
            out[key] = tuple(n for text in values for n in _names(text))
    for key in ("given_decimals", "answer_decimals"):
        if getattr(args, key) is not None:
            out[key] = getattr(args, key)
    return out


@dataclass(frozen=True)
class Layout:
    """Where every file of an exercise set goes."""

    folder: Path
    variants: tuple[Path, ...]
    figure: bool
    pdf: bool

    def variant_files(self, k: int) -> list[Path]:
        v = self.variants[k]
        names = [QUESTION_MD, ANSWERS, SOLUTION_MD, KEY] + ([FIGURE] if self.figure else []) \
            + ([QUESTION_PDF, SOLUTION_PDF] if self.pdf else [])
        return [v / n for n in names]

    def all_files(self) -> list[Path]:
        out = [self.folder / INDEX_JSON, self.folder / INDEX_MD] + [self.folder / n for n in lms.EXPORT_FILES.values()]
        for k in range(len(self.variants)):
            out += self.variant_files(k)
        return out


def _checked(paths: list[Path], force: bool, inputs: Sequence[str], folders: Sequence[Path] = ()) -> None:
    """Refuse an output that is one of the inputs, a variant folder that is a symbolic link (writing
    through it would put a set's files, keys included, wherever it points), then anything
    files.check_writable refuses."""
    parent = folders[0].parent if folders else None
    if parent is not None and parent.is_dir():
        ours = {f.name for f in folders}
        stale = sorted(p.name for p in parent.iterdir() if VARIANT_FOLDER.match(p.name) and p.name not in ours)
        if stale:  # left from an earlier, larger set: its keys would sit beside the new index as if current
            raise SpecError(f"{escape.terminal(str(parent / stale[0]))[:200]}: is from another exercise set (this one "
                            f"writes {folders[0].name} to {folders[-1].name}); give another -o, or remove "
                            f"{'it' if len(stale) == 1 else f'the {len(stale)} variant folders this set does not write'}")
    for folder in folders:
        if folder.is_symlink():
            raise SpecError(f"{escape.terminal(str(folder))[:200]}: is a symbolic link; stepgrad writes an exercise "
                            "set's variant folders only as real folders (remove the link or give another -o)")
    for given in inputs:
        if not is_path(given) and given in builtin_names():
            continue
        for path in paths:
            try:
                same = os.path.samefile(path, given)
            except OSError:
                continue
            if same:
                raise SpecError(f"{escape.terminal(str(path))[:200]}: is the input file "
                                f"{escape.terminal(given)[:200]}; give another output folder")
    files.check_writable(paths, force)


def index_json(spec: Spec, exercise: core.Exercise, seed: int, layout: Layout,
               variants: Sequence[core.Variant]) -> str:
    """DIR/index.json: the set's spec, seed, exercise and each variant's student and folder."""
    data = {"format": "stepgrad exercise index", "version": 1, "title": spec.title, "spec": spec.name,
            "seed": seed, "count": len(variants), "exercise": exercise.summary(),
            "variants": [{"variant": v.number, "student": v.student, "folder": layout.variants[k].name}
                         for k, v in enumerate(variants)]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def index_markdown(spec: Spec, source: str, seed: int, layout: Layout, variants: Sequence[core.Variant]) -> str:
    """DIR/index.md: a table of the variants, each linking its files."""
    def cell(folder: str, name: str) -> str:
        return f"[{escape.markdown(name)}]({escape.link(folder)}/{escape.link(name)})"

    rows = []
    for k, v in enumerate(variants):
        f = layout.variants[k].name
        rows.append((str(v.number), escape.markdown(v.student) if v.student is not None else "",
                     cell(f, QUESTION_PDF if layout.pdf else QUESTION_MD), cell(f, ANSWERS),
                     cell(f, SOLUTION_PDF if layout.pdf else SOLUTION_MD), cell(f, KEY)))
    ex = variants[0].exercise
    summary = (f"{len(variants)} variants of the spec '{source}', drawn from seed {seed}; each asks for "
               f"{len(variants[0].key)} quantities to {ex.answer_decimals} decimal places.")
    notes = [w for w in (rounded_words(variants[0]), update_words(variants[0])) if w]
    notes.append("Mark the class with: stepgrad check SPEC --exercise THIS-FOLDER SUBMISSIONS... (each "
                 "answers file names its variant in its first lines).")
    notes.append("For a learning management system: " + ", ".join(lms.EXPORT_FILES.values())
                 + " (Moodle XML, QTI 1.2 for Canvas, QTI 2.1) hold every variant's key.")
    return render_template("exercise_index.md.j2", header=source_line(spec, source), title=escape.markdown(spec.title),
                           summary=escape.markdown(summary), rows=rows, notes=[escape.markdown(n) for n in notes])


def build(spec: Spec, source: str, variants: Sequence[core.Variant], seed: int, layout: Layout,
          compile_pdf=pdf.compile_pdf) -> dict[Path, bytes]:
    """Every file of the exercise set, in memory."""
    sheets = [sheet_of(v) for v in variants]
    docs = [solution_document(s, source) for s in sheets]
    outputs: dict[Path, bytes] = {}
    for k, (sheet, doc) in enumerate(zip(sheets, docs)):
        folder = layout.variants[k]
        outputs[folder / QUESTION_MD] = question_markdown(sheet, source, layout.figure).encode()
        if layout.figure:
            outputs[folder / FIGURE] = worksheet.network_figure(sheet.derivation, source).encode()
        outputs[folder / ANSWERS] = answers_template(sheet).encode()
        outputs[folder / SOLUTION_MD] = solution_markdown(doc, layout.figure).encode()
        outputs[folder / KEY] = key_json(sheet.variant).encode()
    if layout.pdf:
        header = source_line(spec, source)
        groups = (chunks([question_tex(s, source) for s in sheets], lambda some: questions_latex(header, some))
                  + chunks([solution_tex(d, s) for d, s in zip(docs, sheets)],
                           lambda some: solutions_latex(header, docs[0].compact, some)))
        _check_tex(len(variants), sum(pdf.tex_seconds(tex) for _, _, tex in groups))
        if progress.enabled(sys.stderr):
            print(f"stepgrad: compiling {len(groups)} PDF{'s' if len(groups) > 1 else ''} for {len(variants)} "
                  "variants...", file=sys.stderr)
        parts = compiled(groups, compile_pdf)
        for k, data in enumerate(parts[:len(sheets)]):
            outputs[layout.variants[k] / QUESTION_PDF] = data
        for k, data in enumerate(parts[len(sheets):]):
            outputs[layout.variants[k] / SOLUTION_PDF] = data
    keys = [core.key_document(v) for v in variants]
    for name, data in lms.exports(keys, spec.title, source_line(spec, source)).items():
        outputs[layout.folder / name] = data
    exercise = variants[0].exercise
    outputs[layout.folder / INDEX_JSON] = index_json(spec, exercise, seed, layout, variants).encode()
    outputs[layout.folder / INDEX_MD] = index_markdown(spec, source, seed, layout, variants).encode()
    return outputs


def run(args) -> int:
    """Run ``stepgrad exercise``: check every output, draw the variants, build every file, write them."""
    spec = load(args.spec, limits.MAX_PARAMETERS, partial=True)
    source = Path(args.spec).name if is_path(args.spec) else args.spec
    if args.output == "-":
        raise SpecError("-o -: exercise writes several files, which cannot go to standard output; give -o DIR")
    folder = Path(args.output or f"{Path(source).stem}-exercise")
    roster = core.read_roster(args.roster) if args.roster is not None else None
    count = len(roster) if roster is not None else args.variants
    if not 1 <= count <= core.MAX_VARIANTS:
        raise SpecError(f"--variants: between 1 and {core.MAX_VARIANTS}, not {count}")
    seed, short = core.choose_seed(args.seed)
    exercise = core.exercise_of(spec, **_overrides(args))
    want_pdf = not args.no_pdf and pdf.engine_available()
    layout = Layout(folder, tuple(folder / folder_name(k, count) for k in range(1, count + 1)),
                    worksheet.picture(spec) is not None, want_pdf)
    _checked(layout.all_files(), args.force, [args.spec] + ([args.roster] if args.roster else []), layout.variants)
    limits.check_size(spec, "check")
    limits.check_set_size(spec, count)
    if want_pdf:
        _check_tex(count, tex_estimate(spec, source, exercise, seed, count))
    # Notes wait for the end and status lines go where progress goes (STEPGRAD_PROGRESS=0 silences them),
    # so that input refused while drawing (ranges where no variant is good) is still one line.
    if progress.enabled(sys.stderr):
        print(f"stepgrad: drawing {count} variant{'s' if count > 1 else ''} of {spec.name}...", file=sys.stderr)
    variants = core.make_variants(spec, exercise, count=None if roster else count, roster=roster, seed=seed)
    outputs = build(spec, source, variants, seed, layout)
    files.write_all(outputs, args.force)
    if not args.no_pdf and not want_pdf:
        print(f"stepgrad: {pdf.INSTALL_HINT}; wrote everything but the PDFs", file=sys.stderr)
    if args.seed is None:
        print(f"stepgrad: drew the set from seed {seed} (kept in DIR/index.json; --seed {seed} draws it again)",
              file=sys.stderr)
    elif short:
        print(f"stepgrad: {short}", file=sys.stderr)
    print(escape.terminal(f"stepgrad: wrote {len(outputs)} files for {count} variant{'s' if count > 1 else ''} "
                          f"into {folder}")[:500],
          file=sys.stderr)
    return 0
