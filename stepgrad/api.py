"""stepgrad from Python: load a spec, derive, render, generate the gradient module, train, check, draw exercises.

Every function takes a spec in any form :func:`load` reads (a path, TOML text, a dict, a
built-in example's name, a :class:`Network` already loaded, or a result, for its network)
and returns a frozen dataclass with ``to_dict()``.  A problem in the input raises :class:`SpecError` (a
``ValueError``) with the same one-line message the command line prints; nothing here
writes to standard output or to a file (training longer than a few seconds reports progress on
stderr, as the commands do; ``STEPGRAD_PROGRESS=0`` silences it).

Numbers: ``values`` mappings hold floats; ``exact`` mappings and ``to_dict()`` hold decimal
strings with 20 significant digits (a trained value only the digits training proved), as
``stepgrad values --format json`` prints them.

>>> import stepgrad
>>> stepgrad.derive("mazur").shown["out_o1"]
'0.751365070'
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import tomllib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Union

from sympy.printing.str import StrPrinter

from .codegen import check_report, document, escape, npmodule, pdf, pipeline, svg
from .codegen import exercise as _exercise_files, variants_marking as _variants_marking, worksheet as _worksheet
from .codegen.diagram import layout as _layout
from .codegen.printers import number_text
from .symbolic import exercise as _exercise_core, inputs, limits, naming
from .symbolic.check import Options as _CheckOptions
from .symbolic.check.answers import blank_keys as _blank_keys
from .symbolic.check.working import check_working as _check_working
from .symbolic.derive import DerivationError, format_value, full_value, train as _train
from .symbolic.spec import MAX_STEPS, Spec, SpecError, builtin_names, is_path, load as _load_spec, parse as _parse

__all__ = ["SpecError", "TexError", "DerivationError", "FrozenMap", "Network", "Step", "Derivation", "Training",
           "Verdict", "CheckResult", "ExerciseVariant", "ExerciseSet", "Marks", "ShortSeedWarning", "load",
           "configure", "derive", "render", "gradient_module", "train", "check", "exercise"]

#: TeX failed while making a PDF (a RuntimeError: the input was fine, the TeX run was not).
TexError = pdf.TexError

#: Everything :func:`load` accepts.
Source = Union["Network", "Derivation", "Training", "CheckResult", "ExerciseSet", Spec, str, os.PathLike, Mapping]


class FrozenMap(Mapping):
    """A read-only, hashable, ordered mapping (the results' ``values``, ``exact`` and the like).

    >>> m = FrozenMap({"w5": 0.4})
    >>> m["w5"], dict(m)
    (0.4, {'w5': 0.4})
    """

    __slots__ = ("_data",)

    def __init__(self, items: Mapping | tuple = ()):
        object.__setattr__(self, "_data", dict(items))

    def __setattr__(self, name, value):
        raise AttributeError("FrozenMap is read-only")

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


# -- loading ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Network:
    """A validated spec and the name generated files show for it; shows itself as an SVG figure in Jupyter.

    >>> net = load("mazur")
    >>> net.name, net.layers
    ('mazur', (('i1', 'i2'), ('h1', 'h2'), ('o1', 'o2')))
    """

    spec: Spec = field(repr=False)
    #: How generated files name the spec (the built-in name, or the file's name).
    source: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def layers(self) -> tuple[tuple[str, ...], ...]:
        """Each layer's neuron names, input layer first."""
        return tuple(layer.neurons for layer in self.spec.layers)

    @property
    def parameters(self) -> FrozenMap:
        """The initial value of every weight and bias, as exact decimal strings ("0.15")."""
        return FrozenMap((name, number_text(value)) for name, value in self.spec.initial)

    def __repr__(self) -> str:
        shape = "-".join(str(len(n)) for n in self.layers)
        return f"Network({self.name!r}, {shape}, {len(self.spec.parameters)} parameters)"

    def to_dict(self) -> dict:
        """The spec as plain JSON-ready data (numbers as exact decimal strings)."""
        s = self.spec
        t = s.training
        return {
            "name": s.name, "title": s.title, "source": self.source,
            "layers": [{"neurons": list(layer.neurons), "activation": layer.activation,
                        **({"slope": number_text(layer.slope)} if layer.slope is not None else {})}
                       for layer in s.layers],
            "weights": [{"name": w.name, "from": w.src, "to": w.dst} for w in s.weights],
            "biases": [{"name": b.name, "neurons": list(b.neurons), "trainable": b.trainable} for b in s.biases],
            "error": s.error,
            "parameters": dict(self.parameters),
            "samples": [{"inputs": {n: number_text(v) for n, v in x.inputs},
                         "targets": {n: number_text(v) for n, v in x.targets}} for x in s.samples],
            "training": {"learning_rate": number_text(t.learning_rate), "steps": t.steps,
                         "batch_size": t.batch_size, "reduction": t.reduction,
                         "hidden_deltas": t.hidden_deltas, "count_rounds": t.count_rounds},
        }

    def svg(self) -> str | None:
        """The network drawn as SVG (as the worked example draws it), or None when it is too large to draw."""
        if sum(len(layer.neurons) for layer in self.spec.layers) > document.DIAGRAM_LIMIT:
            return None
        return svg.network_svg(_layout(self.spec), self.spec.title)

    def _repr_svg_(self) -> str | None:
        return self.svg()


#: The name a spec given as TOML text or a dict gets, unless load() is given one.
DEFAULT_NAME = "network"
#: Nesting a dict spec may have (the spec files' cap).
_MAX_DEPTH = inputs.SPEC_CAPS.max_depth


def load(source: Source, *, name: str | None = None, max_parameters: int | None = None, instead: str = "") -> Network:
    """Load and validate a spec: a path, TOML text, a dict, or a built-in example's name.

    A ``str`` holding a line break is TOML text; any other ``str`` is read as the command
    line reads its SPEC argument (a path when it holds '/' or ends in '.toml', else a
    built-in example's name); a :class:`pathlib.Path` is always a file.  TOML text and
    dicts go through the same size caps and checks as a file.  *name* names a spec given as
    text or a dict (default "network"); *max_parameters* refuses a larger network while it
    is read, with *instead* appended to the message.

    >>> load("mazur").spec.training.learning_rate
    1/2
    >>> load({"layers": [{"size": 1}, {"size": 1}], "parameters": {"w1": 0.5, "b_o1": 0},
    ...       "samples": [{"inputs": [1], "targets": [0]}], "training": {"learning_rate": 0.1}}).layers
    (('i1',), ('o1',))
    """
    return _load(source, name, max_parameters, instead)


def _load(source: Source, name: str | None, max_parameters: int | None, instead: str = "",
          partial: bool = False) -> Network:
    """:func:`load`; with *partial* (an exercise's spec) the targets or learning rate its questions need not
    may be left out."""
    if isinstance(source, Network):
        return source
    if isinstance(source, (Derivation, Training, CheckResult, ExerciseSet)):
        return source.network
    if isinstance(source, Spec):
        return Network(source, name or source.name)
    if isinstance(source, Mapping):
        where = "<dict>"
        text = _toml_document(source, where)
        return Network(_parse_text(text, where, name or DEFAULT_NAME, max_parameters, lines=False, instead=instead,
                                   partial=partial), name or DEFAULT_NAME)
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        if isinstance(path, bytes):
            raise SpecError("a spec's path must be text, not bytes")
        # read as the command line reads a SPEC path, even one without '/' or '.toml'
        text = inputs.read_text(path, "spec file", inputs.SPEC_CAPS.max_bytes, shown=inputs.shorten(path, 200))
        stem = Path(path).stem if path.endswith(".toml") else Path(path).name
        return Network(_parse_text(text, path, name or stem, max_parameters, instead=instead, partial=partial),
                       Path(path).name)
    if isinstance(source, str):
        if "\n" in source:
            return Network(_parse_text(source, "<string>", name or DEFAULT_NAME, max_parameters, instead=instead,
                                       partial=partial), name or DEFAULT_NAME)
        return Network(_load_spec(source, max_parameters, instead, partial=partial),
                       Path(source).name if is_path(source) else source)
    raise SpecError(f"a spec is a path, TOML text, a dict or a built-in name ({', '.join(builtin_names())}), "
                    f"not {type(source).__name__}")


def _parse_text(text: str, where: str, name: str, max_parameters: int | None, lines: bool = True,
                instead: str = "", partial: bool = False) -> Spec:
    """Parse TOML text as a spec, within a spec file's size cap; without *lines*, messages name no line."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > inputs.SPEC_CAPS.max_bytes:
        raise SpecError(f"{where}: is {size} bytes; a spec may have at most "
                        f"{inputs.SPEC_CAPS.max_bytes // (1024 * 1024)} MiB")
    try:
        return _parse(text, where, default_name=name, max_parameters=max_parameters, instead=instead,
                      partial=partial)
    except SpecError as exc:
        if lines:
            raise
        # a dict has no lines: the message names the key alone
        raise SpecError(re.sub(rf"^{re.escape(where)}:\d+:", f"{where}:", str(exc))) from None


def _toml_document(doc: Mapping, where: str) -> str:
    """Write a dict as TOML text (each top-level key on its line, nested tables inline) for the spec reader."""
    budget = [inputs.SPEC_CAPS.max_bytes]
    lines = []
    for key, value in doc.items():
        lines.append(f"{_toml_key(key, where)} = {_toml_value(value, str(key), where, 1, budget)}")
    return "\n".join(lines) + "\n"


def _toml_key(key: object, where: str) -> str:
    if not isinstance(key, str):
        raise SpecError(f"{where}: {inputs.shorten(key)}: a key must be text, not {type(key).__name__}")
    return _toml_string(key, where)


def _toml_string(text: str, where: str) -> str:
    """A TOML basic string holding *text* exactly: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise SpecError(f"{where}: {inputs.shorten(text)}: not valid text (a lone surrogate)")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: Any, key: str, where: str, depth: int, budget: list) -> str:
    """One value as TOML; nesting beyond a spec file's cap, or text beyond its size, is refused."""
    if depth > _MAX_DEPTH:
        raise SpecError(f"{where}: {inputs.shorten(key, 80)}: nested too deeply (at most {_MAX_DEPTH} levels)")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        if abs(value) >= 10 ** inputs.SPEC_CAPS.max_digits:
            raise SpecError(f"{where}: {inputs.shorten(key, 80)}: a number of more than "
                            f"{inputs.SPEC_CAPS.max_digits} digits")
        text = str(value)
    elif isinstance(value, (float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value) or isinstance(value, Decimal) and not value.is_finite():
            text = "nan" if value != value else ("-inf" if value < 0 else "inf")
        else:
            text = repr(value) if isinstance(value, float) else str(value)
            if isinstance(value, Decimal) and "E" not in text and "." not in text:
                text += ".0"  # a Decimal stays a TOML float (kept exact), as 0.5 in a file would be
    elif isinstance(value, str):
        text = _toml_string(value, where)
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{_toml_key(k, where)} = {_toml_value(v, f'{key}.{k}', where, depth + 1, budget)}"
                               for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_toml_value(v, f"{key}[{k}]", where, depth + 1, budget)
                               for k, v in enumerate(value)) + "]"
    else:
        raise SpecError(f"{where}: {inputs.shorten(key, 80)}: a value of type {type(value).__name__} cannot be "
                        "read; use numbers, text, true/false, lists and dicts")
    budget[0] -= len(text)
    if budget[0] < 0:
        raise SpecError(f"{where}: larger than {inputs.SPEC_CAPS.max_bytes // (1024 * 1024)} MiB, "
                        "the most a spec may have")
    return text


_CHOICES = {"hidden_deltas": ("original", "updated"), "count_rounds": ("updates", "forward_passes")}


def configure(spec: Source, *, steps: int | None = None, hidden_deltas: str | None = None,
              count_rounds: str | None = None, train_biases: bool = False) -> Network:
    """Return the network with the command line's variant options applied (None keeps the spec's).

    *steps* is the number of training updates (1 to 1000000); *hidden_deltas* "updated" makes the
    hidden deltas use the already-updated output weights (the post's 0.291027924); *count_rounds*
    "forward_passes" takes round N's error in the N-th forward pass; *train_biases* trains every bias.

    >>> configure("mazur", hidden_deltas="updated").spec.training.hidden_deltas
    'updated'
    """
    net = load(spec)
    changes: dict[str, Any] = {}
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            raise SpecError(f"steps: must be a whole number between 1 and {MAX_STEPS}, not {inputs.shorten(steps)}")
        changes["steps"] = steps
    for option, value in (("hidden_deltas", hidden_deltas), ("count_rounds", count_rounds)):
        if value is None:
            continue
        if value not in _CHOICES[option]:
            raise SpecError(f"{option}: unknown value {inputs.shorten(value)!r}; expected one of: "
                            f"{', '.join(_CHOICES[option])}")
        changes[option] = value
    if changes.get("hidden_deltas") == "updated" and net.spec.training.batch_size != 1:
        raise SpecError(f"{net.source}: --hidden-deltas updated needs online training (one sample per update)")
    out = net.spec.with_training(**changes) if changes else net.spec
    if train_biases:
        out = out.with_biases_trainable()
    return Network(out, net.source) if out is not net.spec else net


# -- deriving --------------------------------------------------------------------------

class _Names(StrPrinter):
    """Formulas in canonical names (dE_total/dout_o1 * dout_o1/dnet_o1), as the checker's messages write them."""

    def _print_Symbol(self, expr):
        return expr.name


@dataclass(frozen=True)
class Step:
    """One line of the derivation: name = formula = numbers = value."""

    #: The quantity's canonical name (net_h1, dE_total/dw5, w5+; with several samples net_h1[2]).
    name: str
    #: forward, error, output, hidden, bias, batch or update.
    section: str
    #: The formula in canonical names ("w1*i1 + w2*i2 + b1").
    formula: str
    #: The whole line in LaTeX, as the worked example writes it: lhs = formula = numbers = value.
    latex: str
    value: float
    #: The value with 20 significant digits.
    exact: str
    #: The value as the post prints it (9 decimals, at least 6 significant digits).
    shown: str

    def to_dict(self) -> dict:
        """The step as JSON-ready data; "value" is :attr:`exact`."""
        return {"name": self.name, "section": self.section, "formula": self.formula, "latex": self.latex,
                "value": self.exact, "shown": self.shown}


@dataclass(frozen=True)
class Derivation:
    """A verified derivation: its steps, and every canonical value (the first update's, and the state after
    the spec's training steps); shows itself as the worked example's Markdown in Jupyter.

    The steps, the values and the worked example are each computed when first read, so that
    asking for one (``stepgrad derive`` the worked example, ``stepgrad values`` the values) does
    not pay for the others.
    """

    network: Network
    #: None chooses by size, True derives every neuron in full, False one per layer.
    expand: bool | None = None
    _stage: pipeline.Verified = field(repr=False, compare=False, default=None)

    @functools.cached_property
    def steps(self) -> tuple[Step, ...]:
        """Every step, name = formula = numbers = value, in the derivation's order."""
        return _steps(self._stage or pipeline.verified(self.network.spec))

    @functools.cached_property
    def _raw(self) -> dict:
        """Every quantity's exact value; training longer than the budget is refused first."""
        s = self.network.spec
        limits.check_size(s, "values", steps=s.training.steps)
        return pipeline.values(s, s.training.steps)

    @functools.cached_property
    def values(self) -> FrozenMap:
        """Every quantity, as ``stepgrad values`` lists it, as a float."""
        return FrozenMap((k, float(v)) for k, v in self._raw.items())

    @functools.cached_property
    def exact(self) -> FrozenMap:
        """The same with 20 significant digits (trained values: the digits training proved)."""
        return FrozenMap((k, full_value(v)) for k, v in self._raw.items())

    @functools.cached_property
    def shown(self) -> FrozenMap:
        """The same as the post prints them."""
        return FrozenMap((k, format_value(v)) for k, v in self._raw.items())

    def to_dict(self) -> dict:
        """The network, every step and every value (as :attr:`exact`), as JSON-ready data."""
        return {"network": self.network.to_dict(), "steps": [s.to_dict() for s in self.steps],
                "values": dict(self.exact)}

    @functools.cached_property
    def worked_example(self) -> pipeline.WorkedExample:
        """The worked example's document (LaTeX and Markdown), built when first asked for."""
        spec = self.network.spec
        expand = self.expand if self.expand is not None else len(spec.parameters) <= document.FULL_LIMIT
        limits.check_size(spec, "derive", summary=not expand)
        return pipeline.worked_example(spec, self.network.source, expand)

    @property
    def markdown(self) -> str:
        """The worked example in Markdown with $math$."""
        return self.worked_example.markdown

    @property
    def latex(self) -> str:
        """The worked example's LaTeX source."""
        return self.worked_example.tex

    def _repr_markdown_(self) -> str:
        try:
            return self.markdown
        except SpecError as exc:  # too large to expand: Jupyter shows why instead of a traceback
            return f"*{escape.markdown(str(exc))}*"


def derive(spec: Source, *, expand: bool | None = None, **options) -> Derivation:
    """Derive and verify the spec's first update (its values train for the spec's steps); *options* as :func:`configure`.

    *expand* shapes the worked example: True every neuron in full, False one per layer, None by size.

    >>> d = derive("mazur")
    >>> d.shown["E_total"], d.shown["w5+"]
    ('0.298371109', '0.358916480')
    >>> d.steps[0].formula, d.steps[0].shown
    ('w1*i1 + w2*i2 + b1*1', '0.3775')
    """
    net = configure(spec, **options)
    limits.check_size(net.spec, "values")  # deriving and one update within budget; training is checked when read
    return Derivation(net, expand, pipeline.verified(net.spec))


def _steps(stage: pipeline.Verified) -> tuple[Step, ...]:
    """Every step of the derivation, each sample's own for several samples, in the derivation's order."""
    d = stage.derivation
    single = len(d.batch) == 1
    combined = document.batch_values(d)
    own = {s: document.sample_values(d, s) for s in d.batch}
    printer = _Names({"order": "none"})
    out = []
    for step in d.steps:
        samples = d.batch if step.per_sample and not single else (d.batch[0],)
        for s in samples:
            tag = f"^{{({s + 1})}}" if step.per_sample and not single else ""
            eq = document.equation(step, own[s] if step.per_sample or single else combined, tag)
            name = d.value_name(step, s)
            value = d.values[name]
            out.append(Step(name, step.section, printer.doprint(step.rhs), " = ".join((eq.lhs,) + eq.forms),
                            float(value), full_value(value), format_value(value)))
    return tuple(out)


FORMATS = ("markdown", "latex", "pdf")
_ALIASES = {"md": "markdown", "tex": "latex"}


def render(result: "Derivation | CheckResult | Source", format: str = "markdown") -> str | bytes:
    """Render a derivation (markdown, latex, pdf) or a check (text, markdown, latex, pdf, json).

    Anything else :func:`load` reads is derived first.  PDF comes back as bytes: TeX runs in
    a private temporary folder that is removed afterwards (a missing TeX engine raises
    :class:`SpecError` saying how to install one).

    >>> render("mazur", "latex").startswith("%")
    True
    """
    fmt = _ALIASES.get(format, format) if isinstance(format, str) else format
    if isinstance(result, CheckResult):
        return result.render(fmt)
    if not isinstance(result, Derivation):
        result = derive(result)
    if fmt not in FORMATS:
        raise SpecError(f"format: unknown format {inputs.shorten(format)!r}; expected one of: {', '.join(FORMATS)}")
    if fmt == "markdown":
        return result.markdown
    if fmt == "latex":
        return result.latex
    _engine()
    spec = result.network.spec
    expand = result.expand if result.expand is not None else len(spec.parameters) <= document.FULL_LIMIT
    limits.check_size(spec, "derive", summary=not expand, pdf=True)
    return pdf.compile_pdf(result.latex)


def _engine() -> None:
    if not pdf.engine_available():
        raise SpecError(pdf.INSTALL_HINT + "; or render markdown or latex")


MODULE_FORMS = ("auto", "scalar", "numpy")


def gradient_module(spec: Source, form: str = "auto", **options) -> str:
    """Generate the gradient module's Python source; *form* "scalar" (straight-line Python over math),
    "numpy" (vectorized per layer) or "auto" (by size); *options* as :func:`configure`.

    >>> "def gradients(" in gradient_module("mazur")
    True
    """
    if form not in MODULE_FORMS:
        raise SpecError(f"form: unknown value {inputs.shorten(form)!r}; expected one of: {', '.join(MODULE_FORMS)}")
    net = configure(spec, **options)
    chosen = npmodule.choose_form(net.spec) if form == "auto" else form
    limits.check_size(net.spec, "module", form=chosen)
    return pipeline.module(net.spec, net.source, chosen)


# -- training --------------------------------------------------------------------------

@dataclass(frozen=True)
class Training:
    """What training for some number of updates gave: the error after each update and the final parameters."""

    network: Network
    #: The number of updates.
    steps: int
    #: E_total over the whole training set after u updates, u = 0 .. steps.
    errors: tuple[float, ...] = field(repr=False)
    #: E_total at the worked example's checkpoints (0, 1, 10, ..., steps): update -> decimal string, every
    #: digit proven.
    checkpoints: FrozenMap = field(repr=False)
    #: Every weight and bias after the last update, as floats.
    parameters: FrozenMap = field(repr=False)
    #: The same with the digits training proved.
    exact: FrozenMap = field(repr=False)

    @property
    def final_error(self) -> float:
        return self.errors[-1]

    def svg(self) -> str:
        """The error curve on a log scale, as the worked example draws it (at most about 200 points)."""
        stride = max(1, self.steps // 200)
        marks = list(range(0, self.steps + 1, stride)) + ([self.steps] if self.steps % stride else [])
        return svg.training_svg([(u, self.errors[u]) for u in marks], "updates", self.network.title)

    def _repr_svg_(self) -> str:
        return self.svg()

    def to_dict(self) -> dict:
        """The network, the checkpoints and final parameters (decimal strings) and every error (floats)."""
        return {"network": self.network.to_dict(), "steps": self.steps,
                "checkpoints": {str(u): e for u, e in self.checkpoints.items()},
                "parameters": dict(self.exact), "errors": list(self.errors)}


def train(spec: Source, steps: int | None = None, **options) -> Training:
    """Train for *steps* updates (default: the spec's); *options* as :func:`configure`.

    >>> t = train("mazur", 10000)
    >>> t.checkpoints[10000]
    '0.00003510187783'
    """
    net = configure(spec, steps=steps, **options)
    s = net.spec
    n = s.training.steps
    limits.check_size(s, "values", steps=n)
    stage = pipeline.verified(s)
    marks = tuple(document.checkpoints(n))
    trajectory = _train(stage.derivation, n, snapshots=tuple(sorted(set(marks) | {n})))
    final = trajectory.snapshots[n]
    return Training(net, n, tuple(float(e) for e in trajectory.errors),
                    FrozenMap((u, full_value(trajectory.errors[u]) if u > 1 else full_value(
                        trajectory.snapshots[u][naming.E_TOTAL])) for u in marks),
                    FrozenMap((p, float(final[p])) for p in s.parameters),
                    FrozenMap((p, full_value(final[p])) for p in s.parameters))


# -- checking --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """The verdict on one answer (or one part of a line of pasted working)."""

    quantity: str
    #: The answer as written.
    given: str
    #: The true value (or for a formula, the formula), "" when stepgrad does not know the quantity.
    expected: str
    #: correct, consistent (right from an earlier wrong answer), wrong, unknown, unreadable or blank.
    verdict: str
    #: The mistakes found (stable codes; the README lists them).
    codes: tuple[str, ...]
    #: What went wrong, in a sentence or two ("" when correct).
    message: str
    #: The answer's line in the file or text, when known.
    line: int | None = None
    #: For pasted working: formula, numbers, value, or line (a line not read).
    part: str | None = None

    @property
    def correct(self) -> bool:
        return self.verdict in check_report.CREDITED

    def to_dict(self) -> dict:
        """The verdict as JSON-ready data."""
        return {"quantity": self.quantity, "given": self.given, "expected": self.expected, "verdict": self.verdict,
                "codes": list(self.codes), "message": self.message, "line": self.line, "part": self.part}


@dataclass(frozen=True)
class CheckResult:
    """A check of a student's answers; shows itself as a table of verdicts in Jupyter."""

    network: Network
    #: The answers' file name, or "<answers>" / "<working>" for a dict or text.
    where: str
    verdicts: tuple[Verdict, ...]
    #: Keys left blank (counted, not judged).
    blank: tuple[str, ...] = ()
    #: Whether the answers were pasted working (lines of formula = numbers = value).
    working: bool = False
    _report: Any = field(repr=False, compare=False, default=None)
    _parts: tuple[str, ...] = field(repr=False, compare=False, default=())

    def __repr__(self) -> str:
        return f"CheckResult({self.network.name!r}, {inputs.shorten(self.where, 60)!r}, {self._summary()!r})"

    @property
    def score(self) -> int:
        return sum(v.correct for v in self.verdicts)

    @property
    def total(self) -> int:
        return len(self.verdicts)

    @property
    def exit_code(self) -> int:
        """0 when every answer is right, 1 otherwise (nothing answered is not a pass), as the command line."""
        return 0 if self.verdicts and all(v.verdict == "correct" for v in self.verdicts) else 1

    def to_dict(self) -> dict:
        """The same JSON document as ``stepgrad check --format json`` (schema "stepgrad-check/1")."""
        return json.loads(self.render("json"))

    def render(self, format: str = "text") -> str | bytes:
        """The feedback as text, markdown, latex, json or pdf (bytes), as ``stepgrad check`` writes it."""
        fmt = _ALIASES.get(format, format) if isinstance(format, str) else format
        formats = ("text", "markdown", "latex", "json", "pdf")
        if fmt not in formats:
            raise SpecError(f"format: unknown format {inputs.shorten(format)!r}; expected one of: {', '.join(formats)}")
        if fmt == "pdf":
            _engine()
        cli_format = {"markdown": "md", "latex": "pdf", "pdf": "pdf"}.get(fmt, fmt)
        if self.working:
            text = check_report.render_working(self._report, self._parts, cli_format, False, self.network.source)
        else:
            text = check_report.render(self._report, cli_format, False, self.network.source, self.blank)
        return pdf.compile_pdf(text) if fmt == "pdf" else text

    def _rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """Each verdict's cells as plain text: mark, quantity, given, expected, verdict, message."""
        return [(check_report.MARKS.get(v.verdict, "?"), v.quantity if v.part is None or v.part == "line"
                 else f"{v.quantity} ({v.part}, line {v.line})", v.given, v.expected, v.verdict, v.message)
                for v in self.verdicts] + [("·", k, "", "", "blank", "") for k in self.blank]

    def _summary(self) -> str:
        left = f" {len(self.blank)} left blank." if self.blank else ""
        return f"{self.score} of {self.total} correct.{left}"

    def _repr_markdown_(self) -> str:
        cut = check_report._cut
        lines = [f"**{escape.markdown(self.network.title)}**: {escape.markdown(self._summary())}", "",
                 "| | quantity | given | expected | verdict | why |", "|---|---|---|---|---|---|"]
        for mark, quantity, given, expected, verdict, message in self._rows():
            cells = (escape.markdown(mark), escape.md_code(cut(quantity), table=True),
                     escape.md_code(cut(given), table=True) if given else "",
                     escape.md_code(cut(expected, 200), table=True) if expected else "",
                     escape.markdown(verdict), escape.markdown(message))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        cut = check_report._cut
        x = escape.xml
        rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in (
            x(mark), f"<code>{x(cut(quantity))}</code>", f"<code>{x(cut(given))}</code>",
            f"<code>{x(cut(expected, 200))}</code>", x(verdict), x(message))) + "</tr>\n"
            for mark, quantity, given, expected, verdict, message in self._rows())
        return _no_math(f"<p><b>{x(self.network.title)}</b>: {x(self._summary())}</p>\n<table>\n<thead><tr>"
                        "<th></th><th>quantity</th><th>given</th><th>expected</th><th>verdict</th><th>why</th></tr>"
                        f"</thead>\n<tbody>\n{rows}</tbody>\n</table>\n")


def _no_math(html: str) -> str:
    """HTML for Jupyter that MathJax leaves alone: a '$' in a title or an answer stays a dollar sign."""
    return f'<div class="tex2jax_ignore mathjax_ignore">\n{html}</div>\n'



#: Where answers given as a dict or as text are said to come from, in verdicts and feedback.
DICT_ANSWERS = "<answers>"
TEXT_WORKING = "<working>"
ANSWER_KINDS = ("answers", "working")


def check(spec: Source, answers: Mapping | str | os.PathLike, *, kind: str | None = None, min_digits: int = 3,
          rtol: float | None = None, **options) -> CheckResult:
    """Check a student's answers: a dict {name: number or formula}, a path to an answers file, or pasted working.

    In a dict, "" or None is an answer left blank (counted, not judged).

    A ``str`` holding a line break or an '=' is text: an answers file's TOML when it reads as
    TOML, else pasted working (lines like 'net_h1 = w1*i1 + w2*i2 + b1 = ... = 0.3775');
    *kind* "answers" or "working" says which.  Any other ``str`` or a path is a file, read as
    the command line reads it (.md, .tex and .txt files are pasted working).  Numbers keep the
    digits written (a float's shortest repr).  *min_digits* and *rtol* as ``stepgrad check``;
    *options* as :func:`configure`.

    >>> r = check("mazur", {"out_o1": 0.75136507, "E_total": 0.2984, "w5+": 0.4})
    >>> [v.verdict for v in r.verdicts], r.score
    (['correct', 'correct', 'wrong'], 2)
    """
    net = configure(spec, **options)
    return _check_text(net, *_answers_text(answers, kind), _options(min_digits, rtol))


def _options(min_digits: int, rtol: float | None) -> _CheckOptions:
    if isinstance(min_digits, bool) or not isinstance(min_digits, int) or not 1 <= min_digits <= 20 or (
            rtol is not None and not 0 <= rtol < 1):
        raise SpecError("--min-digits must be 1 to 20 and --rtol between 0 and 1")
    return _CheckOptions(min_digits=min_digits, rtol=rtol)


def _answers_text(answers: Mapping | str | os.PathLike, kind: str | None) -> tuple[str, str, bool]:
    """Answers as :func:`check` takes them, as (text, where, whether it is pasted working)."""
    if kind is not None and kind not in ANSWER_KINDS:
        raise SpecError(f"kind: unknown value {inputs.shorten(kind)!r}; expected one of: {', '.join(ANSWER_KINDS)}")
    if isinstance(answers, Mapping):
        if kind == "working":
            raise SpecError("kind: a dict holds answers, not pasted working; give the working as text")
        blanked = {k: "" if v is None else v for k, v in answers.items()}  # None is left blank, as ""
        text, where, working = _toml_document(blanked, DICT_ANSWERS), DICT_ANSWERS, False
        _within(text, where)
    elif isinstance(answers, str) and not answers.strip():
        raise SpecError("answers: the text is empty; give a dict of answers, a path or pasted working")
    elif isinstance(answers, str) and ("\n" in answers or "=" in answers):
        where = TEXT_WORKING if kind != "answers" else DICT_ANSWERS
        text = answers
        _within(text, where)
        working = kind == "working" or (kind is None and not _reads_as_toml(text))
        where = TEXT_WORKING if working else DICT_ANSWERS
    elif isinstance(answers, (str, os.PathLike)):
        path = os.fspath(answers)
        if isinstance(path, bytes):
            raise SpecError("an answers file's path must be text, not bytes")
        text = check_report.read_answers(path)
        where = path
        working = kind == "working" or (kind is None and Path(path).suffix.lower() in check_report.WORKING)
    else:
        raise SpecError(f"answers are a dict, a path or text, not {type(answers).__name__}")
    return text, where, working


def _within(text: str, where: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > inputs.ANSWERS_CAPS.max_bytes:
        raise SpecError(f"{where}: is {size} bytes; answers may have at most "
                        f"{inputs.ANSWERS_CAPS.max_bytes // (1024 * 1024)} MiB")


def _reads_as_toml(text: str) -> bool:
    """Whether text reads as an answers file's TOML (within the answers caps)."""
    try:
        inputs.prescan(text, "<answers>", inputs.ANSWERS_CAPS)
        return bool(tomllib.loads(text, parse_float=Decimal))
    except (SpecError, tomllib.TOMLDecodeError, ValueError, RecursionError):
        return False


def _check_text(net: Network, text: str, where: str, working: bool, options: _CheckOptions,
                derivation: Any = None) -> CheckResult:
    """Check answers text as ``stepgrad check`` does: the same caps, budgets and verdicts; *derivation*
    (an exercise variant's, rounded givens applied) replaces the spec's own."""
    spec = net.spec
    shown = inputs.shorten(where, 200)
    if working:
        limits.check_size(spec, "check")
        d = pipeline.derivation(spec) if derivation is None else derivation
        report, parts = _check_working(d, text, where, options)
        labelled = check_report._working_labels(report, parts)
        records = check_report.as_records(labelled)
        verdicts = tuple(Verdict(rec["quantity"], r.answer.text, rec["expected"], r.verdict, r.codes,
                                 check_report.explanation(r), r.answer.line, part)
                         for rec, r, part in zip(records, report.results, parts))
        return CheckResult(net, where, verdicts, (), True, report, parts)
    inputs.prescan(text, shown, inputs.ANSWERS_CAPS)
    rounds = max((int(n) for n in re.findall(r"@(\d{1,12})", text)), default=0)
    if rounds > MAX_STEPS:
        raise SpecError(f"{shown}: an answer after {rounds} updates; stepgrad trains for at most {MAX_STEPS}")
    limits.check_size(spec, "check", rounds=rounds)
    from .codegen.marking import check_answers
    report = check_answers(pipeline.derivation(spec) if derivation is None else derivation, text, where, options)
    blank = _blank_keys(tomllib.loads(text, parse_float=Decimal))  # valid TOML: check_answers read it
    verdicts = tuple(Verdict(r.quantity, r.answer.text, r.expected, r.verdict, r.codes, check_report.explanation(r),
                             r.answer.line) for r in report.results)
    return CheckResult(net, where, verdicts, blank, False, report)


# -- exercise sets ---------------------------------------------------------------------

@dataclass(frozen=True)
class ExerciseVariant:
    """One student's variant of an exercise: its question, answer key and worked solution (as
    ``stepgrad exercise`` writes them into its folder); shows itself as the question in Jupyter."""

    network: Network
    number: int
    of: int
    #: The student's ID when the set was drawn for a roster, else None.
    student: str | None
    _variant: Any = field(repr=False, compare=False, default=None)

    @functools.cached_property
    def _sheet(self) -> Any:
        return _exercise_files.sheet_of(self._variant)

    @property
    def givens(self) -> FrozenMap:
        """What the question gives, name -> the text the sheet shows."""
        return FrozenMap(self._variant.givens)

    @property
    def key(self) -> FrozenMap:
        """What the student computes, name -> the key's exact value (each within :attr:`tolerance` of the answer)."""
        return FrozenMap((e.name, e.value) for e in self._variant.key)

    @property
    def tolerance(self) -> str:
        """Half a unit in the last decimal asked ('0.00005' for 4 decimals)."""
        return self._variant.exercise.tolerance

    @functools.cached_property
    def question(self) -> str:
        """The question sheet in Markdown with $math$ (question.md)."""
        return _exercise_files.question_markdown(self._sheet, self.network.source, False)

    @functools.cached_property
    def solution(self) -> str:
        """The worked solution in Markdown with $math$ (solution.md)."""
        sheet = self._sheet
        return _exercise_files.solution_markdown(_exercise_files.solution_document(sheet, self.network.source), False)

    @functools.cached_property
    def answers_template(self) -> str:
        """The answers file to hand out (answers.toml): its first line names the variant."""
        return _exercise_files.answers_template(self._sheet)

    def check(self, answers: Mapping | str | os.PathLike, *, kind: str | None = None, min_digits: int = 3,
              rtol: float | None = None) -> CheckResult:
        """Check a student's answers against this variant (its rounded givens applied), as :func:`check`;
        an answer written to the decimals the sheet asks for has enough digits."""
        text, where, working = _answers_text(answers, kind)
        return _check_text(self.network, text, where, working, self._options(min_digits, rtol),
                           self._sheet.derivation)

    def _options(self, min_digits: int, rtol: float | None) -> _CheckOptions:
        """The checker's options, an answer to the decimals the sheet asks for having enough digits (as
        ``stepgrad check --exercise`` marks)."""
        return dataclasses.replace(_options(min_digits, rtol), min_decimals=self._variant.exercise.answer_decimals)

    def svg(self) -> str | None:
        """The variant's network with its values, as SVG (None when too large to draw)."""
        return _worksheet.network_figure(self._sheet.derivation, self.network.source)

    def to_dict(self) -> dict:
        """The variant's key.json document: given values, and each answer's value, tolerance and words."""
        return _exercise_core.key_document(self._variant)

    def __repr__(self) -> str:
        who = f", student {self.student!r}" if self.student is not None else ""
        return f"ExerciseVariant({self.network.name!r}, {self.number} of {self.of}{who}, {len(self.key)} answers)"

    def _repr_markdown_(self) -> str:
        return self.question


class ShortSeedWarning(UserWarning):
    """An exercise set drawn from a seed below 2^32, which a student could find by trying seeds."""


#: Options of :func:`exercise` (the spec's [exercise] keys; each overrides the spec's).
EXERCISE_OPTIONS = ("ask", "update", "given", "given_decimals", "answer_decimals")
#: Cells of the variants' table that list values show at most this many.
_TABLE_VALUES = 4


@dataclass(frozen=True)
class ExerciseSet:
    """An exercise set: a variant per student, drawn from a seed; shows itself as a table of the variants.

    Keep the seed as secret as the keys: every variant and key can be drawn again from it.
    """

    network: Network
    seed: int = field(repr=False)
    variants: tuple[ExerciseVariant, ...] = field(repr=False)
    #: What the set asks and gives (the spec's [exercise] table with the options applied).
    settings: FrozenMap = field(repr=False, default=FrozenMap())

    @property
    def tag(self) -> str:
        """The set's tag, which the answers templates carry instead of the seed."""
        return _exercise_core.set_tag(self.seed)

    def __len__(self) -> int:
        return len(self.variants)

    def __iter__(self) -> Iterator[ExerciseVariant]:
        return iter(self.variants)

    def __getitem__(self, key: int | str) -> ExerciseVariant:
        """Variant *key* (1-based, as the sheets number them), or the variant of the student with ID *key*."""
        if isinstance(key, str):
            for v in self.variants:
                if v.student == key:
                    return v
            raise KeyError(key)
        if isinstance(key, bool) or not isinstance(key, int) or not 1 <= key <= len(self.variants):
            raise IndexError(f"variants are numbered 1 to {len(self.variants)}, not {key!r}")
        return self.variants[key - 1]

    def __repr__(self) -> str:
        return f"ExerciseSet({self.network.name!r}, {len(self.variants)} variants, set {self.tag})"

    def mark(self, submissions: Mapping[str | int, Mapping | str | os.PathLike], *, min_digits: int = 3,
             rtol: float | None = None) -> "Marks":
        """Check each submission against its own variant: keyed by student ID (a roster's), by variant
        number, or by any name when the answers are the template's text, whose first line names the
        variant.  Answers as :func:`check` takes them.  (Copied answers are looked for by
        ``stepgrad check --exercise``, not here.)

        >>> s = exercise("mazur", 2, seed=2**40, ask="forward")
        >>> s.mark({2: {"net_h1": round(float(s[2].key["net_h1"]), 4)}}).results["2"].score
        1
        """
        if not isinstance(submissions, Mapping):
            raise SpecError(f"submissions: a dict of student -> answers, not {type(submissions).__name__}")
        _options(min_digits, rtol)  # refused before any submission is read
        numbers, results = [], []
        for who, answers in submissions.items():
            text, where, working = _answers_text(answers, None)
            variant = self._variant_of(who, text)
            numbers.append((str(who), variant.number))
            results.append((str(who), _check_text(self.network, text, where, working,
                                                  variant._options(min_digits, rtol), variant._sheet.derivation)))
        return Marks(self.network, FrozenMap(numbers), FrozenMap(results))

    def _variant_of(self, who: str | int, text: str) -> ExerciseVariant:
        """The variant a submission is marked against: its student's, its number, or its header line's."""
        if isinstance(who, str) and any(v.student == who for v in self.variants):
            return self[who]
        header = _variants_marking.header_of(text)
        if isinstance(header, _variants_marking.Header) and header.set == self.tag and \
                header.of == len(self.variants) and 1 <= header.variant <= len(self.variants):
            return self[header.variant]
        if isinstance(who, int) and not isinstance(who, bool) and 1 <= who <= len(self.variants):
            return self[who]
        raise SpecError(f"submissions: {inputs.shorten(who)!r}: no variant of this set (set {self.tag}): not a "
                        "student on its roster or a variant number, and its answers' first lines name none")

    def to_dict(self) -> dict:
        """The set as JSON-ready data: title, spec, seed, tag, what it asks, and each variant's key.json."""
        return {"format": "stepgrad exercise set", "version": 1, "title": self.network.title,
                "spec": self.network.name, "source": self.network.source, "seed": self.seed, "tag": self.tag,
                "count": len(self.variants), "exercise": _plain_data(self.settings),
                "variants": [v.to_dict() for v in self.variants]}

    def _repr_html_(self) -> str:
        x = escape.xml

        def listing(pairs: list[tuple[str, str]]) -> str:
            shown = ", ".join(f"<code>{x(n)}</code>&nbsp;=&nbsp;{x(t)}" for n, t in pairs[:_TABLE_VALUES])
            return shown + (f", … ({len(pairs) - _TABLE_VALUES} more)" if len(pairs) > _TABLE_VALUES else "")

        rows = "".join(
            f"<tr><td>{v.number}</td><td>{x(v.student or '')}</td><td>{listing(list(v.givens.items()))}</td>"
            f"<td>{listing(list(v.key.items()))}</td></tr>\n" for v in self.variants)
        first = self.variants[0]
        summary = (f"{len(self.variants)} variant{'s' if len(self.variants) != 1 else ''} of the spec "
                   f"'{self.network.source}', set {self.tag}; each asks for {len(first.key)} quantities "
                   f"(tolerance {first.tolerance}).")
        return _no_math(f"<p><b>{x(self.network.title)}</b>: {x(summary)}</p>\n<table>\n<thead><tr>"
                        "<th>variant</th><th>student</th><th>given</th><th>key</th></tr></thead>\n"
                        f"<tbody>\n{rows}</tbody>\n</table>\n")


@dataclass(frozen=True)
class Marks:
    """A class's submissions, each checked against its own variant; shows itself as a table of scores."""

    network: Network
    #: Student (as the submissions name them, a number as text) -> the variant number marked against.
    variants: FrozenMap = field(repr=False)
    #: Student -> the check of their answers.
    results: FrozenMap = field(repr=False)

    def __repr__(self) -> str:
        return f"Marks({self.network.name!r}, {len(self.results)} submissions)"

    def to_dict(self) -> dict:
        """Each student's variant and check (the JSON ``stepgrad check --format json`` prints)."""
        return {"submissions": [{"student": who, "variant": self.variants[who], "check": r.to_dict()}
                                for who, r in self.results.items()]}

    def _repr_html_(self) -> str:
        x = escape.xml
        rows = "".join(f"<tr><td>{x(inputs.shorten(who, 60))}</td><td>{self.variants[who]}</td>"
                       f"<td>{r.score}</td><td>{r.total}</td><td>{len(r.blank)}</td></tr>\n"
                       for who, r in self.results.items())
        return _no_math(f"<p><b>{x(self.network.title)}</b>: {len(self.results)} submissions.</p>\n<table>\n"
                        "<thead><tr><th>student</th><th>variant</th><th>correct</th><th>of</th><th>blank</th></tr>"
                        f"</thead>\n<tbody>\n{rows}</tbody>\n</table>\n")


def _plain_data(m: Mapping) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in m.items()}


def exercise(spec: Source, variants: int | None = None, *, roster: "Sequence[str] | os.PathLike | None" = None,
             seed: int | None = None, **options) -> ExerciseSet:
    """Draw an exercise set, as ``stepgrad exercise`` does but writing no file: *variants* variants, or one
    per student ID of *roster* (a list of IDs, or a path to a CSV file).

    *seed* (0 to 2^63 - 1) draws the same set again; by default 63 random bits (a seed below
    2^32 can be found by a student trying seeds against their sheet).  *options* override the
    spec's [exercise] table: ``ask``, ``update`` and ``given`` (names or groups, a list or
    comma-separated text), ``given_decimals`` and ``answer_decimals``.

    >>> s = exercise("mazur", 3, seed=2**40, ask="forward")
    >>> len(s), list(s[1].key)[:2]
    (3, ['net_h1', 'out_h1'])
    """
    net = _load(spec, None, limits.MAX_PARAMETERS, partial=True)
    if (variants is None) == (roster is None):
        raise SpecError("exercise: give either variants=N or roster=[student IDs]")
    students = None
    if roster is not None:
        if isinstance(roster, os.PathLike):
            students = _exercise_core.read_roster(os.fspath(roster))
        elif isinstance(roster, (str, bytes)) or not isinstance(roster, (list, tuple)):
            raise SpecError("roster: a list of student IDs or a path (pathlib.Path) to a CSV file, "
                            f"not {type(roster).__name__}")
        else:
            if len(roster) > _exercise_core.MAX_VARIANTS:
                raise SpecError(f"roster: more than {_exercise_core.MAX_VARIANTS} students")
            students = _exercise_core.check_ids(list(enumerate(roster, start=1)), "roster")
    else:
        if isinstance(variants, bool) or not isinstance(variants, int) or \
                not 1 <= variants <= _exercise_core.MAX_VARIANTS:
            raise SpecError(f"variants: between 1 and {_exercise_core.MAX_VARIANTS}, not {inputs.shorten(variants)}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise SpecError(f"seed: between 0 and 2^63 - 1, not {inputs.shorten(seed)}")
    seed, short = _exercise_core.choose_seed(seed, "seed")
    if short:
        warnings.warn(short, ShortSeedWarning, stacklevel=2)
    chosen = _exercise_options(options)
    ex = _exercise_core.exercise_of(net.spec, **chosen)
    limits.check_size(net.spec, "check")
    limits.check_set_size(net.spec, len(students) if students else variants)  # refused before drawing
    drawn = _exercise_core.make_variants(net.spec, ex, count=None if students else variants, roster=students,
                                         seed=seed)
    return ExerciseSet(net, seed, tuple(ExerciseVariant(net, v.number, v.of, v.student, v) for v in drawn),
                       FrozenMap((k, tuple(v) if isinstance(v, list) else v) for k, v in ex.summary().items()))


def _exercise_options(options: Mapping) -> dict:
    """The options of :func:`exercise` as exercise_of's overrides, each checked for its type."""
    out: dict = {}
    for key, value in options.items():
        if key not in EXERCISE_OPTIONS:
            raise SpecError(f"exercise: unknown option {inputs.shorten(key)!r}; expected one of: "
                            f"{', '.join(EXERCISE_OPTIONS)}")
        if key in ("ask", "update", "given"):
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)) or not all(isinstance(t, str) for t in items):
                raise SpecError(f"{key}: names as text or a list of text, not {type(value).__name__}")
            out[key] = tuple(p.strip() for t in items for p in t.split(",") if p.strip())
        elif value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpecError(f"{key}: a whole number of decimals, not {inputs.shorten(value)}")
            out[key] = value
    return out
