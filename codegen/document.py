"""Build the worked example as plain data, shared by the LaTeX and Markdown renderers.

The document is a list of sections; each holds paragraphs (text and inline
math), equations (lhs = formula = numbers = value), tables, the network
diagram and the training plot.  Everything here is already computed and
formatted; the templates only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import sympy as sp

from ..symbolic import naming
from ..symbolic.derive import SECTIONS, Derivation, Kind, Step, Trajectory, format_value, given_values as _given, on_kink
from ..symbolic.functions import ACTIVATIONS, ERRORS
from ..symbolic.reference import Comparison

from .printers import latex, number_text
from .diagram import Diagram, Edge, Node, layout as layout_diagram  # noqa: F401 (re-exported)

#: A paragraph is a tuple of ("text", plain words) and ("math", LaTeX) segments.
Segments = tuple[tuple[str, str], ...]


def para(*parts: str) -> Segments:
    """Build segments from alternating text and math: para("text", "x^2", "more text")."""
    return tuple(("math" if k % 2 else "text", p) for k, p in enumerate(parts) if p)


def code(text: str) -> Segments:
    """A segment of literal code (an option or a spec key)."""
    return (("code", text),)


@dataclass(frozen=True)
class Paragraph:
    segments: Segments
    kind: str = "paragraph"


@dataclass(frozen=True)
class Equation:
    """lhs = forms[0] = forms[1] = ... (the last form is the value)."""

    lhs: str
    forms: tuple[str, ...]
    note: Segments = ()
    kind: str = "equation"


@dataclass(frozen=True)
class Table:
    header: tuple[Segments, ...]
    rows: tuple[tuple[Segments, ...], ...]
    align: str
    kind: str = "table"


@dataclass(frozen=True)
class Plot:
    points: tuple[tuple[int, str], ...]
    xlabel: str
    ylabel: str
    kind: str = "plot"
    #: The SVG file beside a Markdown document that shows this plot; "" when none is written.
    figure: str = ""

    @property
    def decades(self) -> tuple[int, ...]:
        """The log axis' ticks as powers of ten: whole powers only, from below the smallest
        error to above the largest, at most 9 of them (every k-th power on a long axis)."""
        from .svg import y_range

        lo, hi = y_range([float(e) for _, e in self.points])
        step = -(-(hi - lo) // 8)
        return tuple(reversed(range(hi, lo - step, -step)))


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple
    anchor: str = ""


@dataclass(frozen=True)
class Document:
    title: str
    header: str
    sections: tuple[Section, ...]
    #: A compact worked example: its tables are set tighter.
    compact: bool = False


@dataclass
class Inputs:
    """What the document is built from."""

    derivation: Derivation
    source: str
    header: str
    trajectory: Trajectory
    steps: int
    after_one: dict
    comparisons: list[Comparison] = field(default_factory=list)
    #: Derive every neuron in full (True), or a representative of each layer (False).
    expand: bool = True
    #: The checks that verified the derivation (symbolic.verify), for the table of checks.
    checks: tuple = ()


def m(name: str) -> str:
    """LaTeX of a canonical quantity name; a value after N updates as E_{total}@N (the '@N' outside
    the subscript, as the reference figures are named)."""
    base, n = naming.split_after(name)
    if n is not None:
        return naming.latex_symbol(base) + f"@{n}"
    return naming.latex_symbol(name)


# -- values -----------------------------------------------------------------

def given_values(derivation: Derivation, sample: int) -> dict:
    """Exact values of one sample's inputs and targets, the parameters and eta."""
    return _given(derivation.spec, sample)


def sample_values(derivation: Derivation, sample: int) -> dict:
    """Every value a per-sample step of *sample* may mention, keyed by plain canonical name.

    With a batch of several samples, a per-sample step's name (dE_total/dw5) also names the
    batch's combined value; here it always means this sample's own.
    """
    values = given_values(derivation, sample)
    single = len(derivation.batch) == 1
    for step in derivation.steps:
        if step.per_sample or single:
            values[step.name] = derivation.values[derivation.value_name(step, sample)]
    return values


def batch_values(derivation: Derivation) -> dict:
    """Every value a batch step may mention: per-sample values under their [s] names, combined ones plain."""
    return {**given_values(derivation, derivation.batch[0]), **derivation.values}



def equation(step: Step, values: dict, sample_tag: str = "") -> Equation:
    """Lay out one step as lhs = formula = numbers = value."""
    lhs = m(step.name) + sample_tag
    value = number_text(values[step.name])
    forms = [latex(step.rhs)]
    numbers_of = step.rhs
    if step.alt is not None:
        forms.append(latex(step.alt))
        if len(step.rhs.args) > 3 or step.alt_note:
            numbers_of = step.alt  # a long sum: substitute into the closed form instead
    if not numbers_of.is_Symbol:
        forms.append(latex(numbers_of, values))
    forms.append(value)
    unique = []
    for f in forms:
        if not unique or unique[-1] != f:
            unique.append(f)
    note = para(step.note) if step.note and step.kind == Kind.DELTA else ()
    if step.alt_note:
        note += para(("; " if note else "") + step.alt_note + ".")
    if step.kind == Kind.UPDATE and step.frozen:
        note += para(f"{step.param} is frozen (the spec does not train it), so it keeps its value.")
    return Equation(lhs, tuple(unique), note)


# -- the network ------------------------------------------------------------

def diagram(derivation: Derivation) -> Diagram:
    """Place neurons in columns, biases beside them, and label every edge where labels fit."""
    return layout_diagram(derivation.spec)


#: Networks with more weights than this get no wiring table (the updates table lists every weight).
WIRING_TABLE_LIMIT = 60
#: Networks with more neurons than this are described, not drawn.
DIAGRAM_LIMIT = 120


def kink_text(d: Derivation) -> list[Segments]:
    """Which neurons sit on a kink (a net input of exactly 0) and the derivative's convention there."""
    found = on_kink(d)
    if not found:
        return []
    where = ", ".join(f"net_{n}" + (f" (sample {s + 1})" if s is not None else "") for n, s in found)
    notes = sorted({ACTIVATIONS[d.spec.layers[d.model.layer_of[n]].activation].note for n, _ in found})
    return [para(f"On a kink: {where} {'is' if len(found) == 1 else 'are'} exactly 0, where the activation "
                 "has no derivative. " + " ".join(notes) + " The same convention is used throughout: in the "
                 "chain rule, in its independent check and in training.")]


def network_section(inp: Inputs) -> Section:
    d = inp.derivation
    spec = d.spec
    layers = spec.layers
    text = [para(f"The network has {len(layers)} layers: "
                 + ", ".join(f"{len(l.neurons)} {'input' if k == 0 else 'output' if k == len(layers) - 1 else 'hidden'} "
                   f"neuron{'s' if len(l.neurons) != 1 else ''}"
                             for k, l in enumerate(layers))
                 + ". Activation: "
                 + "; ".join(f"layer {k}: {ACTIVATIONS[layers[k].activation].title}"
                             + ("" if layers[k].activation_given else " (the default: the spec names none)")
                             for k in range(1, len(layers)))
                 + f". Error function: {ERRORS[spec.error].title}, ")
            + para("", ERRORS[spec.error].formula, f" ({ERRORS[spec.error].adds}).")]
    text += kink_text(d)
    bias_text = []
    for b in spec.biases:
        kind = "shared by " + ", ".join(b.neurons) if len(b.neurons) > 1 else "of " + b.neurons[0]
        bias_text.append(f"{b.name} ({kind}, {'trained' if b.trainable else 'frozen'})")
    expand = getattr(inp, "expand", True)  # the network section alone may be built from the derivation
    if bias_text and (len(spec.biases) <= 12 if expand else len(spec.biases) <= 4):
        text.append(para("Biases: " + "; ".join(bias_text) + "."))
    elif bias_text:
        trained = sum(b.trainable for b in spec.biases)
        text.append(para(f"{len(spec.biases)} biases, {trained} of them trained."))
    else:
        text.append(para("The network has no biases."))
    neurons = sum(len(layer.neurons) for layer in layers)
    blocks = [Paragraph(t) for t in text]
    if neurons > DIAGRAM_LIMIT:
        blocks.append(Paragraph(para(f"With {neurons} neurons the network is too large to draw legibly.")))
    else:
        picture = diagram(d)
        if picture.labelled:
            blocks.append(Paragraph(para("Every edge in the picture carries its weight's name and initial value, "
                                         "so there is no doubt which weight joins which neurons.")))
        else:
            blocks.append(Paragraph(para("The weights' labels would overlap in the picture, so its edges are "
                                         "unlabelled; the table below lists every weight" if len(spec.weights) <= WIRING_TABLE_LIMIT
                                         else "The weights' labels would overlap in the picture, so its edges are "
                                         "unlabelled; the tables below show which weight joins which neurons, and "
                                         "the table of updated parameters gives every weight's value")
                                    + para(", and the table of initial values every bias." if not picture.biases_drawn
                                           else ".")))
        blocks.append(picture)
    if len(spec.weights) > WIRING_TABLE_LIMIT:
        blocks.append(Paragraph(para(f"The {len(spec.weights)} weights, with their initial values, gradients and "
                                     "updates, are in the table of updated parameters. Which weight joins which "
                                     "neurons, layer by layer (a row per neuron, a column per neuron feeding it):")))
        blocks += wiring_matrices(spec)
    else:
        rows = tuple((para("", naming.latex_name(w.name)), para(w.src), para(w.dst),
                      para("", number_text(dict(spec.initial)[w.name]))) for w in spec.weights)
        table = Table((para("weight"), para("from"), para("to"), para("initial value")), rows, "llll")
        blocks.append(table if expand else fold(table, 3))
    return Section("The network", tuple(blocks), "network")


#: A compact worked example sets a table longer than this in side-by-side column groups.
FOLD_ROWS = 14


def fold(table: Table, groups: int, longest: int = FOLD_ROWS) -> Table:
    """The same table in up to *groups* side-by-side column groups (read down each group, then across)
    once it is longer than *longest* rows; the last group's missing rows are blank."""
    n = len(table.rows)
    groups = min(groups, -(-n // longest))
    if groups <= 1:
        return table
    height = -(-n // groups)
    blank = tuple(para("") for _ in table.header)
    columns = [table.rows[g * height:(g + 1) * height] for g in range(groups)]
    rows = tuple(sum((col[r] if r < len(col) else blank for col in columns), ()) for r in range(height))
    return Table(table.header * groups, rows, table.align * groups, table.kind)


def wiring_matrices(spec) -> list[Table]:
    """One table per layer: a row per neuron, a column per neuron of the layer before, the weight's name."""
    tables = []
    for k in range(1, len(spec.layers)):
        name = {(w.dst, w.src): w.name for w in spec.weights if w.layer == k}
        sources = spec.layers[k - 1].neurons
        header = (para(f"layer {k}"),) + tuple(para("", naming.latex_name(s)) for s in sources)
        rows = tuple((para("", naming.latex_name(d)),)
                     + tuple(para("", naming.latex_name(name[d, s])) if (d, s) in name else para("-")
                             for s in sources) for d in spec.layers[k].neurons)
        tables.append(Table(header, rows, "l" + "c" * len(sources)))
    return tables


def initial_section(inp: Inputs) -> Section:
    d = inp.derivation
    spec = d.spec
    rows = []
    for s, sample in enumerate(spec.samples):
        tag = f" (sample {s + 1})" if len(spec.samples) > 1 else ""
        for n, v in sample.inputs:
            rows.append((para("", naming.latex_name(n)), para("input" + tag), para("", number_text(v))))
        for n, v in sample.targets:
            rows.append((para("", m(naming.target(n))), para("target" + tag), para("", number_text(v))))
    for b in spec.biases:
        rows.append((para("", naming.latex_name(b.name)), para("bias"), para("", number_text(dict(spec.initial)[b.name]))))
    rows.append((para("", r"\eta"), para("learning rate"), para("", number_text(spec.training.learning_rate))))
    blocks = [para("Given values are exact; every computed value below is evaluated at 50 significant "
                   "digits and printed rounded to 9 decimal places (at least 6 significant digits).")]
    if len(spec.samples) > 1:
        t = spec.training
        mode = ("online (one sample per update)" if t.batch_size == 1 else
                "full batch" if t.batch_size == len(spec.samples) else f"mini-batches of {t.batch_size}")
        blocks.append(para(f"Training: {mode}; the batch error is the {t.reduction} of the samples' errors."))
    table = Table((para("name"), para("what"), para("value")), tuple(rows), "llr")
    if inp.expand:
        return Section("The initial values", tuple(Paragraph(b) for b in blocks) + (table,), "initial")
    first = spec.samples[0]
    if len(first.inputs) + len(first.targets) > 8:
        return Section("The initial values", tuple(Paragraph(b) for b in blocks) + (fold(table, 3),), "initial")
    # compact: a row per sample (its inputs and targets), then the biases and the learning rate
    samples = Table((para("sample"),) + tuple(para("", naming.latex_name(n)) for n, _ in first.inputs)
                    + tuple(para("", m(naming.target(n))) for n, _ in first.targets),
                    tuple((para(str(s + 1)),) + tuple(para("", number_text(v)) for _, v in sample.inputs)
                          + tuple(para("", number_text(v)) for _, v in sample.targets)
                          for s, sample in enumerate(spec.samples)),
                    "l" + "r" * (len(first.inputs) + len(first.targets)))
    given = sum(len(sample.inputs) + len(sample.targets) for sample in spec.samples)
    rest = Table(table.header, table.rows[given:], table.align)
    return Section("The initial values", tuple(Paragraph(b) for b in blocks) + (samples, fold(rest, 3, 6)), "initial")


# -- the derivation ---------------------------------------------------------

_INTRO = {
    "forward": para("Each neuron's total net input is the weighted sum of the outputs feeding it plus "
                    "its bias (times 1); its output is the activation of that net input."),
    "error": para("The error of each output neuron, then their sum."),
    "output": para("For a weight w into an output neuron o, the chain rule gives ",
                   r"\frac{\partial E_{total}}{\partial w} = \frac{\partial E_{total}}{\partial out_{o}} \cdot "
                   r"\frac{\partial out_{o}}{\partial net_{o}} \cdot \frac{\partial net_{o}}{\partial w}",
                   "; the first two factors together are the node delta ",
                   r"\delta_{o} = \frac{\partial E_{total}}{\partial net_{o}}", "."),
    "hidden": para("A hidden neuron's output feeds several neurons of the next layer, so ",
                   r"\frac{\partial E_{total}}{\partial out_{h}}",
                   " is the sum of what reaches it from each of them: the next layer's deltas times the "
                   "weights joining them. Then ",
                   r"\delta_{h} = \frac{\partial E_{total}}{\partial out_{h}} \cdot \frac{\partial out_{h}}{\partial net_{h}}",
                   " and ", r"\frac{\partial E_{total}}{\partial w} = \delta_{h} \cdot \frac{\partial net_{h}}{\partial w}", "."),
    "bias": para("A bias enters the net input with factor 1, so ", r"\frac{\partial E_{total}}{\partial b}",
                 " is the delta of the neuron it feeds, or the sum of the deltas of all the neurons that share it."),
    "batch": para("The batch's error and gradients combine the per-sample values."),
    "update": para("Each trained parameter moves against its gradient: ",
                   r"p^{+} = p - \eta \cdot \frac{\partial E_{total}}{\partial p}", "; a frozen one stays."),
}


#: Networks with more parameters than this get the compact worked example by default.
FULL_LIMIT = 16

#: Per-neuron quantities tabulated in compact mode, by section.
TABLE_COLUMNS = {
    "forward": ("net", "out"),
    "output": ("dE/dout", "dout/dnet", "delta"),
    "hidden": ("dE/dout", "dout/dnet", "delta"),
}


def representatives(d: Derivation) -> set:
    """The backward steps in full: the first neuron of the output layer and of each hidden layer with
    an activation no later hidden layer has (a hidden layer like the one after it is the same step),
    and the first weight into each; the forward steps of the first layer with each activation, and
    one bias."""
    spec, model = d.spec, d.model
    chosen: set = set()
    last = len(spec.layers) - 1
    hidden_kinds = set()
    for k in range(last, 0, -1):
        kind = (spec.layers[k].activation, spec.layers[k].slope)
        if k < last and kind in hidden_kinds:
            continue
        if k < last:
            hidden_kinds.add(kind)
        n = spec.layers[k].neurons[0]
        chosen.add(n)
        chosen.add(model.incoming[n][0].name)
    # the forward pass of a layer whose activation an earlier layer already showed is the same step
    seen_kinds = set()
    for k in range(1, len(spec.layers)):
        kind = (spec.layers[k].activation, spec.layers[k].slope, k == len(spec.layers) - 1)
        if kind not in seen_kinds:
            seen_kinds.add(kind)
            chosen.add(("forward", spec.layers[k].neurons[0]))
    seen_layers = set()
    for b in spec.biases:
        if b.layer not in seen_layers:
            seen_layers.add(b.layer)
            chosen.add(b.name)
    # every bias's gradient is the same step (its neurons' deltas times 1): one in full
    chosen |= {("bias", b.name) for b in spec.biases[:1]}
    return chosen


def combined_representatives(d: Derivation) -> set:
    """The parameters whose batch combination and update a compact worked example writes out: the
    first trained parameter and the first frozen one (one of each kind of step; a bias combines and
    moves exactly as a weight does)."""
    spec = d.spec
    trainable = set(spec.trainable)
    chosen = set([p for p in spec.parameters if p in trainable][:1])
    chosen |= set([p for p in spec.parameters if p not in trainable][:1])
    return chosen


def combined_text(d: Derivation, sec: str) -> str:
    """What a compact batch or update section writes out in full, and where the rest is."""
    spec = d.spec
    trainable = set(spec.trainable)
    kinds = (["the error"] if sec == "batch" else []) \
        + ([f"one trained parameter ({next(p for p in spec.parameters if p in trainable)})"]
           if trainable else []) \
        + (["one frozen parameter"] if any(p not in trainable for p in spec.parameters) else [])
    listed = ", ".join(kinds[:-1]) + (" and " if len(kinds) > 1 else "") + kinds[-1]
    rest = ("every parameter's combined gradient (each sample's gradients are the products of the deltas "
            "and outputs in the tables above)" if sec == "batch" else "every parameter before and after")
    return f"In full for {listed}; the table of updated parameters gives {rest}."


def _shown(step: Step, chosen: set | None, combined: set | None = None) -> bool:
    if chosen is None or step.section == "error":
        return True
    if step.section in ("batch", "update"):
        p = step.param or naming.derivative_by(step.name)
        return combined is None or p is None or p in combined
    if step.section == "forward":
        return ("forward", step.neuron) in chosen
    if step.section == "bias":
        return ("bias", step.param or naming.derivative_by(step.name)) in chosen
    if step.kind in (Kind.GRAD, Kind.DNET_DW):
        return (step.param or naming.derivative_by(step.name)) in chosen
    return step.neuron in chosen


def neuron_table(d: Derivation, sec: str, samples) -> Table | None:
    """Every neuron's values for a section, one row a neuron, for compact worked examples."""
    kinds = TABLE_COLUMNS.get(sec)
    if kinds is None:
        return None
    by_neuron: dict = {}
    for st in d.steps:
        if st.section == sec and st.kind in kinds and st.neuron is not None:
            if st.kind == "dout/dnet" and st.name != naming.d(naming.out(st.neuron), naming.net(st.neuron)):
                continue  # softmax's off-diagonal Jacobian entries
            by_neuron.setdefault(st.neuron, {})[st.kind] = st
    if not by_neuron:
        return None
    present = [k for k in kinds if any(k in row for row in by_neuron.values())]
    first = next(iter(by_neuron.values()))
    # the column's quantity with its neuron written as a dot, typeset from the parsed name, a
    # column per quantity and sample (the sample as a superscript, like the equations above)
    neuron = next(iter(by_neuron))
    tags = [f"^{{({s + 1})}}" if len(samples) > 1 else "" for s in samples]
    header = [para("neuron")] + [para("", naming.latex_quantity(first[k].name, {neuron: r"\cdot"}) + tag)
                                 for k in present for tag in tags]
    rows = []
    for n, row in by_neuron.items():
        cells = [para(n)]
        cells += [para("", number_text(d.values[d.value_name(row[k], s)])) if k in row else para("")
                  for k in present for s in samples]
        rows.append(tuple(cells))
    return Table(tuple(header), tuple(rows), "l" + "r" * (len(header) - 1))


SPLIT_BY_OUTPUT = para(" Like the post, the last hidden layer splits the sum by output: only ", "E_{o}",
                       " depends on ", "net_{o}", ", so ",
                       r"\frac{\partial E_{o}}{\partial out_{h}} = \delta_{o} \cdot \frac{\partial net_{o}}{\partial out_{h}}",
                       ".")


def derivation_sections(inp: Inputs) -> list[Section]:
    """The forward pass, the error, the backward pass and the biases, equation by equation.

    In compact mode (large networks, unless expanded) only a representative neuron
    and weight of each layer is derived in full; tables give every neuron's values.
    """
    d = inp.derivation
    spec = d.spec
    single = len(d.batch) == 1
    chosen = None if inp.expand else representatives(d)
    combined_shown = None if inp.expand else combined_representatives(d)
    sections: list[Section] = []
    order = ["forward", "error", "output", "hidden", "bias"] + ([] if single else ["batch", "update"])
    notes = {c.name: c for c in inp.comparisons if split(c.name) and not c.agrees}
    for sec in order:
        blocks: list = []
        intro = _INTRO.get(sec)
        if intro:
            blocks.append(Paragraph(intro + (SPLIT_BY_OUTPUT if sec == "hidden" and not d.model.softmax_output else ())))
        if sec == "hidden" and spec.training.hidden_deltas == "updated":
            blocks.append(Paragraph(para("This derivation follows the variant ") + code("hidden_deltas = \"updated\"")
                                    + para(": the hidden layer uses the output layer's weights after their update ",
                                           r"w^{+}", ". That is not the gradient of the error; the post's text uses "
                                           "the original weights.")))
        if chosen is not None and sec in ("forward", "output", "hidden", "bias"):
            first = {"forward": "the first neuron of the first layer with each activation",
                     "bias": "the first bias",
                     "hidden": "the first neuron and the first weight of the last hidden layer (and of any "
                               "earlier one with another activation)"}.get(
                sec, "the first neuron and the first weight of each layer")
            rest = ("; the table of updated parameters gives every bias's gradient." if sec == "bias"
                    else "; the table gives every neuron.")
            blocks.append(Paragraph(para("In full for " + first
                                         + (" and the first sample of the batch" if not single else "")
                                         + rest)))
        if chosen is not None and sec in ("batch", "update"):
            blocks.append(Paragraph(para(combined_text(d, sec))))
        per_sample = any(st.per_sample for st in d.steps if st.section == sec)
        samples = d.batch if per_sample else (d.batch[0],)
        shown_samples = samples if chosen is None else samples[:1]
        combined = batch_values(d)
        for s in shown_samples:
            own = sample_values(d, s)
            tag = f"^{{({s + 1})}}" if not single and sec not in ("batch", "update") else ""
            chosen_steps = [st for st in d.steps if st.section == sec and _shown(st, chosen, combined_shown)]
            if not chosen_steps:
                continue
            if not single and sec not in ("batch", "update") and chosen is None:
                blocks.append(Paragraph(para(f"Sample {s + 1}:")))
            for st in chosen_steps:
                if st.per_sample is False and not single and sec not in ("batch", "update"):
                    continue
                eq = equation(st, own if st.per_sample or single else combined, tag if st.per_sample else "")
                c = notes.get(st.name)
                if c is not None and single:
                    eq = Equation(eq.lhs, eq.forms, eq.note + discrepancy_note(c, inp, bool(eq.note)))
                blocks.append(eq)
        if chosen is not None:
            table = neuron_table(d, sec, samples)
            if table is not None:
                blocks.append(table)
        if len(blocks) > 1 or (blocks and not isinstance(blocks[0], Paragraph)):
            sections.append(Section(SECTIONS[sec], tuple(blocks), sec))
    return sections


def split(name: str) -> bool:
    """Whether a reference figure names a first-update value (no '@N')."""
    return naming.split_after(name)[1] is None


def discrepancy_note(c: Comparison, inp: Inputs, note_present: bool = False) -> Segments:
    src = inp.derivation.spec.reference_source or "the source"
    text = f"{src[:1].upper()}{src[1:]} prints {c.printed} here"
    lead = " " if note_present else ""
    if c.from_rounded is not None:
        return para(lead + text + ": it multiplied values already rounded to 9 decimals, which gives "
                    + mpmath.nstr(c.from_rounded, 12) + "; the exact value rounds as shown.")
    return para(lead + text + ".")


def updates_section(inp: Inputs) -> Section:
    d = inp.derivation
    spec = d.spec
    initial = dict(spec.initial)
    trainable = set(spec.trainable)
    status = inp.expand or any(p not in trainable for p in spec.parameters)
    rows = []
    for p in spec.parameters:
        grad = naming.d(naming.E_TOTAL, p)
        rows.append((para("", naming.latex_name(p)), para("", number_text(initial[p])),
                     para("", number_text(d.values[grad])),
                     para("", number_text(d.values[naming.updated(p)])))
                    + ((para("trained" if p in trainable else "frozen"),) if status else ()))
    table = Table((para("parameter"), para("before"), para("gradient"), para("after"))
                  + ((para(""),) if status else ()), tuple(rows), "lrrr" + ("l" if status else ""))
    blocks = [Paragraph(para("All parameters after the first update. The post performs the updates only "
                             "after the whole backward pass, so every gradient above uses the original weights."
                             if spec.training.hidden_deltas == "original" else
                             "All parameters after the first update.")
                        + (para(" Every parameter is trained.") if not status else ())),
              table if inp.expand else fold(table, 2)]
    before = d.values[naming.E_TOTAL] if len(d.batch) == len(spec.samples) else inp.trajectory.errors[0]
    blocks.append(Equation(m(naming.after(naming.E_TOTAL, 1)), (number_text(inp.trajectory.errors[1]),),
                           para("The error after one update, from a new forward pass with the updated parameters "
                                f"(before the update it was {format_value(before)}).")))
    return Section("The updated parameters", tuple(blocks), "updated")


def checkpoints(n: int) -> list[int]:
    """The update counts whose error the training table prints: 0, 1, the powers of ten, and n."""
    return sorted({0, 1} | {10**k for k in range(1, 8) if 10**k < n} | {n})


def training_section(inp: Inputs) -> Section:
    d = inp.derivation
    spec = d.spec
    n = inp.steps
    errors = inp.trajectory.errors
    rows = tuple((para(str(u)), para("", number_text(errors[u]))) for u in checkpoints(n))
    final = inp.trajectory.snapshots[n]
    outs = []
    for s, sample in enumerate(spec.samples):
        for o, t in sample.targets:
            key = naming.in_sample(naming.out(o), s + 1, len(spec.samples))
            outs.append((para("", m(naming.out(o))) if len(spec.samples) == 1 else para(f"sample {s + 1}: ", m(naming.out(o))),
                         para("", number_text(final[key])), para("", number_text(t))))
    outs_table = Table((para("output"), para("after training"), para("target")), tuple(outs), "lrr")
    stride = max(1, n // 200)
    marks = list(range(0, n + 1, stride)) + ([n] if n % stride else [])
    # each point with at most 6 significant digits, never more than training proved; a point
    # with none (an error below float64's resolution) is left out
    points = []
    for u in marks:
        digits = min(6, inp.trajectory.certain_digits(u))
        if digits > 0:
            points.append((u, mpmath.nstr(mpmath.mpf(errors[u]), digits, min_fixed=-30, max_fixed=30)))
    plot = Plot(tuple(points), "updates", m(naming.E_TOTAL))
    blocks = (
        Paragraph(para(f"Repeating the forward pass, the backward pass and the update {n} times "
                       f"({'online, one sample per update' if spec.training.batch_size == 1 else 'one batch per update'}):")),
        plot,
        Table((para("updates"), para("", m(naming.E_TOTAL))), rows, "rr"),
        Paragraph(para(f"The outputs after {n} updates, against their targets:")),
        outs_table if inp.expand else fold(outs_table, 2, 4),
    )
    return Section(f"Training for {n} updates", blocks, "training")


VARIANT_TEXT = {
    ("original", "updates"): "the method the post's text describes",
    ("original", "forward_passes"): "the post's method, with the error of round N taken in the N-th forward pass "
                                    "(after N − 1 updates)",
    ("updated", "updates"): "hidden deltas computed with the output layer's weights already updated",
    ("updated", "forward_passes"): "updated output weights in the hidden deltas, and the N-th forward pass",
}
VARIANT_OPTION = {
    ("original", "updates"): "the default",
    ("original", "forward_passes"): "--count-rounds forward_passes",
    ("updated", "updates"): "--hidden-deltas updated",
    ("updated", "forward_passes"): "--hidden-deltas updated --count-rounds forward_passes",
}


def _figure_name(name: str) -> str:
    """LaTeX of a reference figure's name: out_o1@10000 as out_{o1}@10000."""
    base, n = naming.split_after(name)
    return m(base) + (f"@{n}" if n is not None else "")


def reference_section(inp: Inputs) -> Section | None:
    comps = inp.comparisons
    if not comps:
        return None
    src = inp.derivation.spec.reference_source or "the source"
    rows = []
    for c in comps:
        if c.agrees:
            verdict = para("agrees")
        elif c.matching:
            verdict = para("reproduced by ") + code("; ".join(VARIANT_OPTION[v] for v in c.matching))
        elif c.from_rounded is not None:
            verdict = para("from rounded intermediates (" + mpmath.nstr(c.from_rounded, 12) + ")")
        else:
            verdict = para("not reproduced")
        rows.append((para("", _figure_name(c.name)),
                     para(c.printed), para("", number_text(c.value)), verdict))
    blocks = [Paragraph(para(f"Every figure {src} prints, next to the value computed here by the method its text "
                             "describes. A figure agrees when the exact value rounds to it at the digits printed."))]
    blocks.append(Table((para("quantity"), para(f"{src} prints"), para("stepgrad"), para("")), tuple(rows), "lrrL"))
    odd = [c for c in comps if not c.agrees and c.matching]
    if odd:
        blocks.append(Paragraph(para(f"Some of {src}'s closing figures do not follow from the method its text "
                                     "describes. Running every variation finds what produces each:")))
        for c in odd:
            ways: Segments = ()
            for k, v in enumerate(c.matching):
                ways += para(("; or " if k else "") + VARIANT_TEXT[v] + " (") + code(VARIANT_OPTION[v]) + para(")")
            blocks.append(Paragraph(para("", _figure_name(c.name),
                                         f" = {c.printed}: ") + ways
                                    + para(f". The text's own method gives {format_value(c.value)}.")))
        blocks.append(Paragraph(para("So the post's hidden-layer numbers follow its text (original weights), "
                                     "while its error after the first round and its outputs after 10,000 rounds "
                                     "come from a program that updates the output weights before computing the "
                                     "hidden deltas, and its error after 10,000 rounds counts the rounds by "
                                     "forward passes. The worked example above follows the text; each variant is "
                                     "one option away.")
                                if inp.source == "mazur" else para("Each variant is one option away.")))
    return Section(f"Agreement with {src}", tuple(blocks), "reference")


def checks_section(inp: Inputs) -> Section:
    rows = tuple((para(c.what), para(c.method), para(str(c.count)),
                  para("", latex(sp.Float(c.worst, 2)) if c.worst else "0"))
                 for c in tuple(inp.checks) + ((inp.trajectory.check,) if inp.trajectory.check else ()))
    return Section("How every number was checked", (
        Paragraph(para("Every chain-rule result above was recomputed by an independent route, at 50 significant "
                       "digits. A disagreement would have stopped stepgrad instead of printing a result."
                       + (" Training ran in float64, and a second time with every update perturbed by more than "
                          "float64's rounding; each value after training is printed only to the digits on which "
                          "both runs agree, with a margin." if inp.trajectory.precision == "float" else ""))),
        Table((para("what"), para("compared with"), para("count"), para("largest relative difference")), rows, "LLrr"),
    ), "checks")


def build(inp: Inputs) -> Document:
    """Build the worked example's content."""
    d = inp.derivation
    spec = d.spec
    intro = Section("", (Paragraph(para(
        f"A worked example of backpropagation for the network of the spec '{inp.source}', in the shape of "
        "Matt Mazur's post: every forward value, every chain-rule factor and every update, first as a formula, "
        "then with the numbers substituted, then the value.")),))
    sections = [intro, network_section(inp), initial_section(inp)]
    sections += derivation_sections(inp)
    from .matrixform import matrix_section

    matrix = matrix_section(d, inp.source, inp.expand)
    if matrix is not None:
        # beside the scalar chain rule: after the backward pass (and the biases), before the batch
        at = next((k for k, s in enumerate(sections) if s.anchor in ("batch", "update")), len(sections))
        sections.insert(at, matrix)
    sections.append(updates_section(inp))
    sections.append(training_section(inp))
    ref = reference_section(inp)
    if ref:
        sections.append(ref)
    sections.append(checks_section(inp))
    return Document(spec.title, inp.header, tuple(sections), not inp.expand)
