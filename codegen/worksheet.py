"""The exercise for a student: an answers template to fill in, and a question sheet.

The template lists every quantity ``stepgrad check`` knows for the spec, in the
order of the derivation, each key quoted and its value left blank (``""``, which
``check`` skips and counts), with a comment saying what the quantity is.  It
carries no stepgrad header on purpose: once a student fills it in it is theirs,
so a later run never replaces it without ``--force``.

The question sheet (Markdown and LaTeX, compiled to PDF by the command line)
draws the network with the worked example's own layout, gives every given value
(computed from the spec), names the error function and activations in words and
formulas, and lists what to compute, numbered in the same order as the template.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ..symbolic import naming
from ..symbolic.check import MAX_ANSWERS, formula_text
from ..symbolic.derive import Derivation, Kind, Step, at_round, describe
from ..symbolic.functions import ACTIVATIONS, ERRORS
from ..symbolic.spec import Spec, SpecError

from . import escape, svg
from .diagram import Diagram, layout
from .document import DIAGRAM_LIMIT
from .printers import latex, number_text
from .render import render_template, source_line

#: A quantity's formula is shown in its template comment only up to this many characters.
MAX_COMMENT_FORMULA = 60
#: What the answers template tells the student to do once it is filled in (after "... and ").
CHECK_IT = "run: stepgrad check SPEC THIS-FILE"


@dataclass(frozen=True)
class Quantity:
    """One thing to compute: its canonical name (the answers key), LaTeX and description."""

    name: str
    latex: str
    words: str
    formula: str = ""

    @property
    def comment(self) -> str:
        """What the template's comment says: words, then the formula when it is short."""
        if self.formula and len(self.formula) <= MAX_COMMENT_FORMULA:
            return f"{self.words}, {self.formula}"
        return self.words


def quantities(derivation: Derivation) -> list[Quantity]:
    """Every quantity ``check`` knows for the first update, in derivation order, then E_total@1.

    The names are :meth:`Derivation.value_name`'s (per sample, ``out_h1[2]``, when a batch has
    several samples), in the order ``stepgrad values`` prints them.

    >>> from stepgrad.symbolic import spec, derive
    >>> [q.name for q in quantities(derive.derive(spec.load("mazur")))][:3]
    ['net_h1', 'out_h1', 'net_h2']
    """
    spec = derivation.spec
    out: dict[str, Quantity] = {}
    for step in derivation.steps:
        for s in derivation.batch:
            key = derivation.value_name(step, s)
            if key in out:
                continue
            words = describe(step, spec)
            if key != step.name:
                words += f", sample {s + 1}"
            out[key] = Quantity(key, naming.latex_symbol(key), words, formula_text(step.rhs))
    updates = at_round(spec, 1)
    after = naming.after(naming.E_TOTAL, 1)
    out[after] = Quantity(after, naming.latex_symbol(naming.E_TOTAL) + r"^{@1}",
                          "total error after the first update (a forward pass with the updated parameters)"
                          if updates == 1 else "total error of round 1's forward pass (before any update)")
    return list(out.values())


def answers_template(derivation: Derivation, asked: Sequence[Quantity] | None = None,
                     header: Sequence[str] = (), then: str = CHECK_IT) -> str:
    """The answers template: one quoted key per quantity, value "" and a comment saying what it is.

    *asked* is the quantities to list (default: every one :func:`quantities` gives), *header*
    extra comment lines after the title (already one line each, safe for a terminal), *then*
    what to do with the filled-in file.

    >>> from stepgrad.symbolic import spec, derive
    >>> print(answers_template(derive.derive(spec.load("mazur"))).splitlines()[5])
    "out_h1"           = ""  # out_h1: output of h1, sigmoid(net_h1)
    """
    qs = quantities(derivation) if asked is None else list(asked)
    if len(qs) > MAX_ANSWERS:
        raise SpecError(f"{derivation.spec.name}: {len(qs)} quantities to compute; an answers file holds at "
                        f"most {MAX_ANSWERS}, so this network is too large for a worksheet")
    keys = [json.dumps(q.name) for q in qs]
    width = max(len(k) for k in keys)
    return render_template("worksheet.toml.j2", title=escape.terminal(derivation.spec.title),
                           header=[escape.terminal(line) for line in header], then=then,
                           rows=[(k.ljust(width), q.name, q.comment) for k, q in zip(keys, qs)])


# -- the question sheet ---------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """A row of the given values: the name in LaTeX, what it is, its value, and its canonical name."""

    name: str
    what: str
    value: str
    key: str = ""


def givens(spec: Spec, training: bool = True) -> list[Given]:
    """Every given value, computed from the spec: inputs and targets, weights, biases, learning rate."""
    rows = []
    several = len(spec.samples) > 1
    for s, sample in enumerate(spec.samples):
        tag = f", sample {s + 1}" if several else ""
        for n, v in sample.inputs:
            rows.append(Given(naming.latex_name(n), "input" + tag, number_text(v),
                              naming.in_sample(n, s + 1, len(spec.samples))))
        for n, v in sample.targets:
            rows.append(Given(naming.latex_symbol(naming.target(n)), f"target of {n}{tag}", number_text(v),
                              naming.in_sample(naming.target(n), s + 1, len(spec.samples))))
    initial = dict(spec.initial)
    for w in spec.weights:
        rows.append(Given(naming.latex_name(w.name), f"weight from {w.src} to {w.dst}", number_text(initial[w.name]),
                          w.name))
    for b in spec.biases:
        of = "shared by " + ", ".join(b.neurons) if len(b.neurons) > 1 else "of " + b.neurons[0]
        trained = f" ({'trained' if b.trainable else 'frozen'})" if training else ""
        rows.append(Given(naming.latex_name(b.name), f"bias {of}{trained}",
                          number_text(initial[b.name]), b.name))
    rows.append(Given(r"\eta", "learning rate", number_text(spec.training.learning_rate), "eta"))
    return rows


def functions(derivation: Derivation, error: bool = True) -> list[tuple[str, str]]:
    """The activations (per layer) and, unless *error* is False, the error function: (words, a LaTeX
    equation of the first neuron's)."""
    spec = derivation.spec
    first: dict = {}
    for step in derivation.sample_steps:
        key = (step.kind, step.layer)
        if step.kind in (Kind.OUT, Kind.E, Kind.E_TOTAL) and key not in first:
            first[key] = step
    out = []
    for k in range(1, len(spec.layers)):
        step = first.get((Kind.OUT, k))
        words = f"Layer {k} ({'output' if k == len(spec.layers) - 1 else 'hidden'}): " \
                f"{ACTIVATIONS[spec.layers[k].activation].title}"
        out.append((words, f"{naming.latex_symbol(step.name)} = {latex(step.rhs)}" if step else ""))
    if not error:
        return out
    error = ERRORS[spec.error]
    e = next((s for (kind, _), s in first.items() if kind == Kind.E), None)
    out.append((f"Error: {error.title}", f"{naming.latex_symbol(e.name)} = {latex(e.rhs)}" if e else ""))
    total = next((s for (kind, _), s in first.items() if kind == Kind.E_TOTAL), None)
    if total is not None:
        out.append(("The total error", f"{naming.latex_symbol(total.name)} = {latex(total.rhs)}"))
    return out


def training_words(spec: Spec) -> str:
    """How the first update uses the samples (and the hidden deltas' weights, when not the usual ones)."""
    t = spec.training
    updated = (" The hidden neurons' deltas use the output weights already updated in this round."
               if t.hidden_deltas == "updated" else "")
    if len(spec.samples) == 1:
        return "One sample; the first update uses it." + updated
    if t.batch_size == 1:
        return (f"{len(spec.samples)} samples, trained online (one sample per update); the first update "
                "uses sample 1 only." + updated)
    how = "sum" if t.reduction == "sum" else "mean"
    return (f"{len(spec.samples)} samples in batches of {t.batch_size}; the first update uses samples "
            f"1 to {t.batch_size}, and the batch's error and gradients are the {how} of the samples'. "
            "Per-sample quantities carry the sample's number, like out_h1[2].")


def picture(spec: Spec) -> Diagram | None:
    """The network's layout, or None when it is too large to draw legibly."""
    if sum(len(layer.neurons) for layer in spec.layers) > DIAGRAM_LIMIT:
        return None
    return layout(spec)


def sheet_context(derivation: Derivation, source: str, text, code, answers_name: str,
                  tasks: Sequence[Quantity] | None = None, given: Sequence[Given] | None = None,
                  error: bool = True) -> dict:
    """What the question-sheet templates lay out; *text* escapes running text, *code* makes code.

    *tasks* and *given* default to every quantity and every given value of the spec; *error*
    False leaves the error function out (for questions that stop before it).
    """
    spec = derivation.spec
    return {"header": source_line(spec, source), "title": text(spec.title),
            "givens": [(g.name, text(g.what), g.value) for g in (givens(spec) if given is None else given)],
            "functions": [(text(words), eq) for words, eq in functions(derivation, error)],
            "training": text(training_words(spec)),
            "answers": code(answers_name),
            "tasks": [(q.latex, text(q.words), code(q.name))
                      for q in (quantities(derivation) if tasks is None else tasks)]}


def texttt(text: str) -> str:
    """Text as LaTeX code: escaped, in typewriter type."""
    return r"\texttt{" + escape.tex(text) + "}"


def question_latex(derivation: Derivation, source: str, answers_name: str) -> str:
    """The question sheet as LaTeX (for the PDF)."""
    return render_template("worksheet.tex.j2", picture=picture(derivation.spec),
                           **sheet_context(derivation, source, escape.tex, texttt, answers_name))


def question_markdown(derivation: Derivation, source: str, answers_name: str, figure: str = "") -> str:
    """The question sheet as Markdown; *figure* names the SVG of the network written beside it ("" for none)."""
    return render_template("worksheet.md.j2", figure=escape.link(figure) if figure else "",
                           **sheet_context(derivation, source, escape.markdown, escape.md_code, answers_name))


def network_figure(derivation: Derivation, source: str) -> str | None:
    """The network as SVG for the Markdown sheet, or None when it is too large to draw."""
    d = picture(derivation.spec)
    if d is None:
        return None
    return svg.network_svg(d, derivation.spec.title, source_line(derivation.spec, source))


@dataclass(frozen=True)
class Names:
    """The files a worksheet writes for a spec's stem."""

    answers: str
    markdown: str
    pdf: str
    figure: str


def names(stem: str) -> Names:
    """The worksheet's file names for *stem* (the spec's name).

    >>> names("mazur").answers, names("mazur").figure
    ('mazur-answers.toml', 'mazur-questions-network.svg')
    """
    return Names(f"{stem}-answers.toml", f"{stem}-questions.md", f"{stem}-questions.pdf",
                 svg.figure_names(f"{stem}-questions")[0])
