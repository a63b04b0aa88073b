"""Read a network spec (TOML) into plain, frozen, validated data.

Nothing symbolic happens here: the spec is what the user wrote, checked, with
defaults filled in.  Every number is kept exact (TOML floats are read as
decimals and become SymPy rationals), so 0.15 means exactly 15/100.

Every problem raises :class:`SpecError` with one line naming the file, the key
and, where it can be found, the line.
"""

from __future__ import annotations

import collections
import difflib
import math
import os
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import sympy as sp

from . import inputs, naming
from .functions import ACTIVATIONS, DEFAULT_HUBER_DELTA, DEFAULT_SLOPE, ERRORS
from .inputs import SpecError, one_line, shorten

__all__ = ["SpecError", "one_line", "Spec", "load", "parse", "resolve", "builtin_names"]


# -- the data --------------------------------------------------------------

@dataclass(frozen=True)
class Layer:
    """One layer: its neurons and (except for the input layer) its activation."""

    neurons: tuple[str, ...]
    activation: str | None = None
    slope: sp.Rational | None = None
    #: False when the spec names no activation and the default, sigmoid, was taken.
    activation_given: bool = True


@dataclass(frozen=True)
class Weight:
    """A weight: its name and the edge it sits on (src in layer-1, dst in layer)."""

    name: str
    src: str
    dst: str
    layer: int


@dataclass(frozen=True)
class Bias:
    """A bias feeding one or more neurons of one layer."""

    name: str
    layer: int
    neurons: tuple[str, ...]
    trainable: bool


@dataclass(frozen=True)
class Sample:
    """One training sample: inputs and targets, keyed by neuron name, in layer order."""

    inputs: tuple[tuple[str, sp.Rational], ...]
    targets: tuple[tuple[str, sp.Rational], ...]


@dataclass(frozen=True)
class Training:
    """How the network is trained."""

    learning_rate: sp.Rational
    steps: int = 10000
    #: 0 means the full batch; 1 means online; k means mini-batches of k samples.
    batch_size: int = 1
    reduction: str = "sum"
    #: "original": hidden deltas use the weights as they were (the post's text);
    #: "updated": they use the next layer's weights already updated.
    hidden_deltas: str = "original"
    #: "updates": X@N is measured after N updates; "forward_passes": in the N-th
    #: forward pass, that is after N - 1 updates.
    count_rounds: str = "updates"


@dataclass(frozen=True)
class ExerciseTable:
    """A spec's [exercise] table, its values checked for type and range (symbolic.exercise reads it).

    The names it holds are checked against the network by :func:`symbolic.exercise.exercise_of`,
    which reports a problem with :meth:`fail` (the spec's file and the key's line).
    """

    #: (field of symbolic.exercise.Exercise, value): tuples of text, whole numbers, (low, high) rationals.
    values: tuple[tuple[str, Any], ...]
    where: str = "<spec>"
    #: (key, line) of each key as written.
    lines: tuple[tuple[str, int | None], ...] = ()

    def fail(self, key: str, message: str) -> SpecError:
        """A one-line error naming the spec, the line of exercise.KEY and the key."""
        line = dict(self.lines).get(key)
        at = f":{line}" if line else ""
        return SpecError(f"{self.where}{at}: exercise.{shorten(key, 40)}: {message}")


@dataclass(frozen=True)
class Spec:
    """A validated network spec."""

    name: str
    title: str
    layers: tuple[Layer, ...]
    weights: tuple[Weight, ...]
    biases: tuple[Bias, ...]
    error: str
    error_params: tuple[tuple[str, sp.Rational], ...]
    initial: tuple[tuple[str, sp.Rational], ...]
    samples: tuple[Sample, ...]
    training: Training
    #: Figures a source printed, as (canonical name, printed text), for comparison.
    reference: tuple[tuple[str, str], ...] = ()
    reference_source: str = ""
    #: The [exercise] table, when the spec sets an exercise.
    exercise: ExerciseTable | None = None
    #: What the spec left out because its exercise needs none of it ("targets", "learning_rate"):
    #: those values are placeholders that no question shows (read with ``partial=True`` only).
    omitted: tuple[str, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every weight and bias name, weights first, in spec order."""
        return tuple(w.name for w in self.weights) + tuple(b.name for b in self.biases)

    @property
    def trainable(self) -> tuple[str, ...]:
        """The parameters an update changes."""
        return tuple(w.name for w in self.weights) + tuple(b.name for b in self.biases if b.trainable)

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.layers[0].neurons

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.layers[-1].neurons

    def with_biases_trainable(self) -> "Spec":
        """Return a copy in which every bias is trained."""
        biases = tuple(Bias(b.name, b.layer, b.neurons, True) for b in self.biases)
        return Spec(**{**self.__dict__, "biases": biases})

    def with_training(self, **changes: Any) -> "Spec":
        """Return a copy with some training options changed."""
        fields = {**self.training.__dict__, **changes}
        return Spec(**{**self.__dict__, "training": Training(**fields)})


# -- reading ---------------------------------------------------------------

BUILTIN_DIR = __package__ + ".examples"

_TOP_KEYS = ("title", "error", "layers", "wiring", "parameters", "initializer",
             "training", "samples", "reference", "exercise")
#: The activation of a hidden or output layer whose spec names none (the post's).
DEFAULT_ACTIVATION = "sigmoid"
_LAYER_KEYS = ("neurons", "size", "activation", "slope", "bias", "bias_name", "bias_trainable")
_TRAINING_KEYS = ("learning_rate", "steps", "batch", "reduction", "hidden_deltas", "count_rounds")
_INIT_KEYS = ("scheme", "seed", "digits", "limit")
_SAMPLE_KEYS = ("inputs", "targets")
_REFERENCE_KEYS = ("source", "figures")
_EXERCISE_KEYS = ("ask", "update", "given", "given_decimals", "value_decimals", "answer_decimals",
                  "weights", "biases", "inputs", "targets")
#: The groups of quantities an exercise's ask and given may name (symbolic.exercise.GROUPS).
EXERCISE_GROUPS = ("forward", "errors", "output_deltas", "hidden_deltas", "gradients", "updates", "all")
#: Names an exercise's ask, given or update may list.
MAX_EXERCISE_NAMES = 500
#: Weights and biases of a network an exercise set is drawn for (a student computes by hand; the
#: derivation's steps for 2,500 parameters take about 2 s to build, so reading such a spec stays quick).
MAX_EXERCISE_PARAMETERS = 2500
INIT_SCHEMES = ("uniform", "xavier_uniform", "he_uniform")
MAX_STEPS = 1_000_000
MAX_WIDTH = 4096
MAX_LAYERS = 64
#: Weights and biases a spec may have at all; symbolic.limits sets each command's smaller budget.
#: The vectorized module handles the benchmark's 784-256-256-10 (269,322 parameters) in about
#: 8 s; reading and drawing a million took 20 s, so this bound keeps every command well inside it.
MAX_PARAMETERS = 300_000
MAX_SAMPLES = 10_000
#: Decimal places a number may be written with (values are exact; 1e-999999 would not be).
MAX_DECIMALS = 50
#: Reference figures a spec may list (each is a row of the document's comparison table).
MAX_FIGURES = 200
MAX_TITLE = 200
MAX_SOURCE = 300
#: A canonical quantity name as reference.figures keys use it: net_h1, dE_total/dw5, w5+, E_total@10000.
#: Prefixes of the names stepgrad gives derived quantities (net_h1, out_h1, E_o1, delta_o1,
#: target_o1); a neuron, weight or bias may not start with one.
DERIVED_PREFIXES = ("net_", "out_", "E_", "delta_", "target_")
_CANONICAL = re.compile(r"[A-Za-z][A-Za-z0-9_/]*\+?(\[\d{1,5}\])?(@\d{1,12})?\Z")


def builtin_names() -> list[str]:
    """List the built-in example names."""
    files = resources.files(BUILTIN_DIR).iterdir()
    return sorted(p.name[:-5] for p in files if p.name.endswith(".toml"))


def is_path(spec_arg: str) -> bool:
    """Whether a spec argument names a file: it holds a path separator or ends in '.toml'.

    Anything else is a built-in example's name, even when a file or folder of
    that name exists in the current folder: a student's file called ``mazur``
    can never stand in for the reference.
    """
    seps = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(sep in spec_arg for sep in seps) or spec_arg.lower().endswith(".toml")


def _numbering(weights) -> str:
    """The default weight numbering spelled out (w1 = i1 -> h1, ...), for errors about weights."""
    shown = ", ".join(f"{w.name} = {w.src} -> {w.dst}" for w in weights[:8])
    more = f", ... ({len(weights)} weights)" if len(weights) > 8 else ""
    return f"; the weights are numbered {shown}{more} ('stepgrad new SHAPE' writes a spec with every value)"


def resolve(spec_arg: str) -> tuple[str, str]:
    """Return (display name, TOML text) for a built-in example's name or a spec file's path.

    A built-in name always means the built-in example (see :func:`is_path`);
    a file is read with :func:`symbolic.inputs.read_text`: a regular file of
    at most ``inputs.SPEC_CAPS.max_bytes``, never a device or a FIFO.
    """
    if not is_path(spec_arg):
        if spec_arg in builtin_names():
            text = resources.files(BUILTIN_DIR).joinpath(f"{spec_arg}.toml").read_text("utf-8")
            return spec_arg, text
        hint = difflib.get_close_matches(spec_arg, builtin_names(), n=1)
        extra = f"; did you mean the built-in example {hint[0]!r}?" if hint else (
            f"; built-in examples are: {', '.join(builtin_names())}")
        local = (f"; to use the file of that name, write ./{shorten(spec_arg)}"
                 if os.path.lexists(spec_arg) else "; a spec file's name ends in .toml or holds a '/'")
        raise SpecError(f"{shorten(spec_arg)}: no such file or built-in example{extra}{local}")
    return spec_arg, inputs.read_text(spec_arg, "spec file", inputs.SPEC_CAPS.max_bytes, shown=shorten(spec_arg, 200))


def load(spec_arg: str, max_parameters: int | None = None, instead: str = "", partial: bool = False) -> Spec:
    """Load and validate a spec from a path or a built-in example's name.

    *max_parameters* (default :data:`MAX_PARAMETERS`) refuses a larger network
    before any weight is built, with *instead* appended to the message.  With *partial*
    (``stepgrad exercise``), a spec whose [exercise] needs no targets or learning rate may
    leave them out (:attr:`Spec.omitted`).

    >>> load("mazur").training.learning_rate
    1/2
    """
    where, text = resolve(spec_arg)
    name = Path(where).stem if where.endswith(".toml") else where
    return parse(text, where, default_name=name, max_parameters=max_parameters, instead=instead, partial=partial)


def parse_toml(text: str, where: str) -> dict:
    """Pre-scan, then parse TOML text, floats kept exact, or raise SpecError with the line."""
    return inputs.parse_toml(text, where, inputs.SPEC_CAPS)


def parse(text: str, where: str = "<spec>", default_name: str = "network", max_parameters: int | None = None,
          instead: str = "", partial: bool = False) -> Spec:
    """Validate TOML text as a spec (see :func:`load` for *max_parameters*, *instead* and *partial*)."""
    reader = _Reader(text, where, min(max_parameters or MAX_PARAMETERS, MAX_PARAMETERS), instead, partial)
    return reader.spec(parse_toml(text, where), default_name)


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """Return '; did you mean X?' for the closest choice, or the choices (at most 12 of them)."""
    word = str(word)
    if len(word) > 80 or len(choices) > 2000:
        return f"; expected one of: {', '.join(list(choices)[:12])}" + (" …" if len(choices) > 12 else "")
    hint = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not hint and len(choices) > 12:
        return f"; expected one of: {', '.join(list(choices)[:12])} …"
    return f"; did you mean {hint[0]!r}?" if hint else f"; expected one of: {', '.join(choices)}"


def locate(text: str, path: str) -> int | None:
    """Find the line (from 1) of the TOML key at dotted *path*, as well as text allows."""
    parts = [p for p in re.split(r"[.\[\]]", path) if p and not p.isdigit()]
    if not parts:
        return None
    lines = text.splitlines()
    start = 0
    key = parts[-1]
    for sect in parts[:-1]:
        for k in range(start, len(lines)):
            if re.match(rf"\s*\[\[?\s*{re.escape(sect)}\s*\]\]?\s*(#.*)?$", lines[k]):
                start = k
                break
    pat = re.compile(rf'(^|[\s{{,])"?{re.escape(key)}"?\s*=')
    for k in range(start, len(lines)):
        if pat.search(lines[k]):
            return k + 1
    sect = re.compile(rf"\s*\[\[?\s*{re.escape(key)}\s*\]\]?")
    for k, line in enumerate(lines):
        if sect.match(line):
            return k + 1
    return None


def exact(value: Any) -> sp.Rational:
    """Turn an exact decimal or integer into a SymPy rational."""
    if isinstance(value, Decimal):
        return sp.Rational(str(value))
    return sp.Integer(int(value))


class _Reader:
    """Validate a parsed TOML document, remembering the text to report lines."""

    def __init__(self, text: str, where: str, max_parameters: int = MAX_PARAMETERS, instead: str = "",
                 partial: bool = False):
        self.text = text
        self.where = where
        self.max_parameters = max_parameters
        self.instead = instead
        self.partial = partial
        #: What the spec's exercise lets it leave out, and what it did leave out.
        self.optional: tuple[str, ...] = ()
        self.omitted: list[str] = []

    # -- reporting
    def fail(self, key: str, message: str) -> SpecError:
        line = locate(self.text, key) if len(key) <= 200 else None
        at = f":{line}" if line else ""
        return SpecError(f"{self.where}{at}: {shorten(key, 80)}: {message}")

    def check_keys(self, table: dict, allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", "unknown key" + did_you_mean(shorten(key), allowed))

    def table(self, doc: dict, key: str, required: bool = False) -> dict:
        value = doc.get(key, None)
        if value is None:
            if required:
                raise self.fail(key, "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def number(self, value: Any, key: str, positive: bool = False) -> sp.Rational:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise self.fail(key, f"must be a number, not {_kind(value)}")
        if isinstance(value, Decimal) and not value.is_finite():
            raise self.fail(key, f"must be a finite number, not {value}")
        if abs(value) > 10**6:
            raise self.fail(key, f"{value} is too large (at most 1e6 in size)")
        if isinstance(value, Decimal) and -value.as_tuple().exponent > MAX_DECIMALS:
            raise self.fail(key, f"{value} has more than {MAX_DECIMALS} decimal places; "
                                 "write it with fewer digits")
        result = exact(value)
        if positive and result <= 0:
            raise self.fail(key, f"must be positive, not {value}")
        return result

    def integer(self, value: Any, key: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low} and {high}, not {value}")
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if value not in choices:
            raise self.fail(key, f"unknown value {value!r}" + did_you_mean(value, choices))
        return value

    def name(self, value: Any, key: str) -> str:
        problem = naming.name_problem(value)
        if problem is None and value.startswith(DERIVED_PREFIXES):
            problem = (f"starts with {value.split('_', 1)[0] + '_'!r}, which stepgrad keeps for the quantities it "
                       "derives (out_h1 is the output of neuron h1); choose another name")
        if problem:
            raise self.fail(key, f"name {shorten(value)!r} {problem}" if isinstance(value, str)
                            else f"name {problem}")
        return value

    # -- the document
    def spec(self, doc: dict, default_name: str) -> Spec:
        self.check_keys(doc, _TOP_KEYS, "")
        if "title" not in doc:  # the file's name, when it is plain text a title may be; else the spec's name
            plain = (len(default_name) <= MAX_TITLE and default_name.isprintable() and "-->" not in default_name
                     and not any(c in default_name for c in '"\\'))
            doc = {**doc, "title": default_name if plain else "network"}
        title = self.plain_text(doc["title"], "title", MAX_TITLE)
        if any(c in title for c in '"\\') or "-->" in title:
            raise self.fail("title", 'must not contain a double quote, a backslash or "-->" (they would end '
                                     "the comment or docstring of generated files); use single quotes")
        layers = self.layers(doc)
        names = [n for layer in layers for n in layer.neurons]
        self.unique(names)
        self.count_parameters(doc, layers)
        weights = self.wiring(doc, layers)
        biases = self.biases(doc, layers)
        error, error_params = self.error(doc, layers)
        self.unique(names + [w.name for w in weights] + [b.name for b in biases])
        initial = self.initial(doc, layers, weights, biases)
        exercise = self.exercise(doc, layers, error, len(initial))
        samples = self.samples(doc, layers, error, error_params)
        training = self.training(doc, len(samples))
        reference, source = self.reference(doc)
        spec = Spec(default_name if naming.SAFE_NAME.match(default_name) else "network",
                    title, layers, weights, biases, error, error_params, initial,
                    samples, training, reference, source, exercise, tuple(self.omitted))
        if exercise is not None:  # the quantities it names are the derivation's: checked there, here
            from .exercise import exercise_of
            exercise_of(spec)
        return spec

    def plain_text(self, value: Any, key: str, limit: int) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be text in quotes, not {_kind(value)}")
        if len(value) > limit:
            raise self.fail(key, f"must be one line of text, at most {limit} characters, not {len(value)}")
        bad = next((c for c in value if not (c.isprintable() or c == " ")), None)
        if bad is not None:
            what = "a line break" if bad in "\n\r" else f"the invisible or control character U+{ord(bad):04X}"
            raise self.fail(key, f"contains {what}; write one line of plain printable text")
        return value

    def count_parameters(self, doc: dict, layers: tuple[Layer, ...]) -> None:
        """Refuse, before building them, more weights than this reading allows (at most MAX_PARAMETERS)."""
        widths = [len(layer.neurons) for layer in layers]
        wiring = doc.get("wiring")
        count = len(wiring) if isinstance(wiring, dict) else sum(a * b for a, b in zip(widths, widths[1:]))
        count += sum(widths[1:])
        if count > self.max_parameters:
            raise self.fail("layers", f"the network has about {count} weights and biases; stepgrad handles "
                                      f"at most {self.max_parameters} here (use fewer or narrower layers)"
                                      f"{self.instead}")

    def layers(self, doc: dict) -> tuple[Layer, ...]:
        raw = doc.get("layers")
        if raw is None:
            raise self.fail("layers", "missing: give at least an input and an output layer as [[layers]]")
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise self.fail("layers", "must be an array of tables ([[layers]])")
        if not 2 <= len(raw) <= MAX_LAYERS:
            raise self.fail("layers", f"needs between 2 and {MAX_LAYERS} layers, not {len(raw)}")
        out = []
        for k, table in enumerate(raw):
            key = f"layers[{k}]"
            self.check_keys(table, _LAYER_KEYS, f"{key}.")
            if k == 0:
                for bad in ("activation", "slope", "bias", "bias_name", "bias_trainable"):
                    if bad in table:
                        raise self.fail(f"{key}.{bad}", "the input layer has no activation or bias")
            neurons = self.neurons(table, key, k, len(raw))
            activation = None
            slope = None
            given_activation = True
            if k > 0:
                # a layer that names no activation is a sigmoid layer, as in the post; the worked
                # example says so where it names each layer's activation
                given_activation = "activation" in table
                given = table.get("activation", DEFAULT_ACTIVATION)
                table_slope = None
                if isinstance(given, dict):  # activation = { function = "leaky_relu", slope = 0.2 }
                    self.check_keys(given, ("function", "slope"), f"{key}.activation.")
                    if "function" not in given:
                        raise self.fail(f"{key}.activation.function", "missing: name the activation, e.g. "
                                        "activation = { function = \"leaky_relu\", slope = 0.2 }")
                    table_slope = given.get("slope")
                    if table_slope is not None and "slope" in table:
                        raise self.fail(f"{key}.slope", "given twice: in the activation table and as a layer key")
                    given = given["function"]
                    slope_key = f"{key}.activation.slope"
                else:
                    slope_key = f"{key}.slope"
                activation = self.choice(given, f"{key}.activation" + (".function" if table_slope is not None
                                                                       or isinstance(table.get("activation"), dict)
                                                                       else ""), tuple(ACTIVATIONS))
                if activation == "softmax" and k != len(raw) - 1:
                    raise self.fail(f"{key}.activation",
                                    "softmax is supported on the output layer only")
                if table_slope is None and "slope" in table:
                    table_slope = table["slope"]
                if table_slope is not None:
                    if activation != "leaky_relu":
                        raise self.fail(slope_key, "slope goes with activation = \"leaky_relu\" only")
                    slope = self.number(table_slope, slope_key, positive=True)
                elif activation == "leaky_relu":
                    slope = DEFAULT_SLOPE
            out.append(Layer(neurons, activation, slope, given_activation))
        return tuple(out)

    def neurons(self, table: dict, key: str, k: int, n_layers: int) -> tuple[str, ...]:
        if "neurons" in table and "size" in table:
            raise self.fail(f"{key}.size", "give neurons or size, not both")
        if "neurons" in table:
            names = table["neurons"]
            if not isinstance(names, list) or not names:
                raise self.fail(f"{key}.neurons", "must be a non-empty list of names")
            if len(names) > MAX_WIDTH:
                raise self.fail(f"{key}.neurons", f"at most {MAX_WIDTH} neurons a layer")
            return tuple(self.name(n, f"{key}.neurons") for n in names)
        if "size" not in table:
            raise self.fail(f"{key}", "missing neurons (a list of names) or size (a count)")
        size = self.integer(table["size"], f"{key}.size", 1, MAX_WIDTH)
        return tuple(naming.default_neuron_names(k, n_layers, size))

    def wiring(self, doc: dict, layers: tuple[Layer, ...]) -> tuple[Weight, ...]:
        if "wiring" not in doc:
            names = []
            for k in range(1, len(layers)):
                for dst in layers[k].neurons:
                    for src in layers[k - 1].neurons:
                        names.append(Weight(naming.default_weight_name(len(names) + 1), src, dst, k))
            return tuple(names)
        table = self.table(doc, "wiring")
        layer_of = {n: k for k, layer in enumerate(layers) for n in layer.neurons}
        weights, edges = [], {}
        for wname, edge in table.items():
            key = f"wiring.{wname}"
            self.name(wname, key)
            if not isinstance(edge, str) or not re.fullmatch(r"\s*\S+\s*->\s*\S+\s*", edge):
                raise self.fail(key, 'must be a string "FROM -> TO", like "i1 -> h1"')
            src, dst = (s.strip() for s in edge.split("->"))
            for end in (src, dst):
                if end not in layer_of:
                    raise self.fail(key, f"no neuron named {end!r}" + did_you_mean(end, list(layer_of)))
            if layer_of[dst] != layer_of[src] + 1:
                raise self.fail(key, f"{src} -> {dst} does not join one layer to the next")
            if (src, dst) in edges:
                raise self.fail(key, f"{src} -> {dst} is already wired as {edges[src, dst]}")
            edges[src, dst] = wname
            weights.append(Weight(wname, src, dst, layer_of[dst]))
        sources, targets = {w.src for w in weights}, {w.dst for w in weights}
        for k in range(1, len(layers)):
            for n in layers[k].neurons:
                if n not in targets:
                    raise self.fail("wiring", f"neuron {n} has no incoming weight; add a line like "
                                              f'wNAME = "{layers[k - 1].neurons[0]} -> {n}"')
            for n in layers[k - 1].neurons:
                if n not in sources:
                    raise self.fail("wiring", f"neuron {n} has no outgoing weight; add a line like "
                                              f'wNAME = "{n} -> {layers[k].neurons[0]}"')
        weights.sort(key=lambda w: w.layer)
        return tuple(weights)

    def biases(self, doc: dict, layers: tuple[Layer, ...]) -> tuple[Bias, ...]:
        raw = doc["layers"]
        out = []
        for k in range(1, len(layers)):
            table, key = raw[k], f"layers[{k}]"
            kind = self.choice(table.get("bias", "per_neuron"), f"{key}.bias",
                               ("per_neuron", "shared", "none"))
            trainable = table.get("bias_trainable", True)
            if not isinstance(trainable, bool):
                raise self.fail(f"{key}.bias_trainable", f"must be true or false, not {_kind(trainable)}")
            if "bias_name" in table and kind != "shared":
                raise self.fail(f"{key}.bias_name", 'bias_name goes with bias = "shared" only')
            if kind == "shared":
                bname = self.name(table.get("bias_name", naming.default_shared_bias_name(k)),
                                  f"{key}.bias_name")
                out.append(Bias(bname, k, layers[k].neurons, trainable))
            elif kind == "per_neuron":
                out.extend(Bias(naming.default_neuron_bias_name(n), k, (n,), trainable)
                           for n in layers[k].neurons)
        return tuple(out)

    def unique(self, names: list[str]) -> None:
        seen = set()
        for n in names:
            if n in seen:
                raise self.fail(n, f"the name {n!r} is used twice; every neuron, weight and bias "
                                   "needs its own name")
            seen.add(n)

    def error(self, doc: dict, layers) -> tuple[str, tuple]:
        raw = doc.get("error", "half_sse")
        params: dict[str, sp.Rational] = {}
        if isinstance(raw, dict):
            self.check_keys(raw, ("function", "delta"), "error.")
            name = self.choice(raw.get("function"), "error.function", tuple(ERRORS))
            if "delta" in raw:
                if name != "huber":
                    raise self.fail("error.delta", "delta goes with function = \"huber\" only")
                params["delta"] = self.number(raw["delta"], "error.delta", positive=True)
        else:
            name = self.choice(raw, "error", tuple(ERRORS))
        if name == "huber":
            params.setdefault("delta", DEFAULT_HUBER_DELTA)
        if name == "mse":
            params["n_outputs"] = sp.Integer(len(layers[-1].neurons))
        last = layers[-1].activation
        if name == "categorical_cross_entropy" and last != "softmax":
            raise self.fail("error", "categorical_cross_entropy needs activation = \"softmax\" "
                                     "on the output layer")
        if name == "binary_cross_entropy" and last not in ("sigmoid",):
            raise self.fail("error", "binary_cross_entropy needs activation = \"sigmoid\" on the "
                                     "output layer (its outputs must lie strictly between 0 and 1)")
        if last == "softmax" and name == "binary_cross_entropy":
            raise self.fail("error", "use categorical_cross_entropy with softmax")
        return name, tuple(sorted(params.items()))

    def initial(self, doc, layers, weights, biases) -> tuple[tuple[str, sp.Rational], ...]:
        given = self.table(doc, "parameters")
        names = [w.name for w in weights] + [b.name for b in biases]
        for key in given:
            if key not in names:
                raise self.fail(f"parameters.{key}", "no such weight or bias" + did_you_mean(key, names)
                                + _numbering(weights))
        values = {k: self.number(v, f"parameters.{k}") for k, v in given.items()}
        missing = [n for n in names if n not in values]
        if missing and "initializer" not in doc:
            raise self.fail("parameters", f"no value for {missing[0]}"
                            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                            + "; give every weight and bias a value, or add an [initializer]" + _numbering(weights))
        if "initializer" in doc:
            drawn = self.draw(self.table(doc, "initializer"), layers, weights, biases)
            values = {**drawn, **values}
        return tuple((n, values[n]) for n in names)

    def draw(self, table, layers, weights, biases) -> dict[str, sp.Rational]:
        self.check_keys(table, _INIT_KEYS, "initializer.")
        scheme = self.choice(table.get("scheme", "xavier_uniform"), "initializer.scheme", INIT_SCHEMES)
        seed = self.integer(table.get("seed", 0), "initializer.seed", 0, 2**63 - 1)
        digits = self.integer(table.get("digits", 4), "initializer.digits", 1, 12)
        limit = (self.number(table["limit"], "initializer.limit", positive=True)
                 if "limit" in table else sp.Rational(1, 2))
        if "limit" in table and scheme != "uniform":
            raise self.fail("initializer.limit", 'limit goes with scheme = "uniform" only')
        rng = random.Random(seed)
        scale = 10 ** digits
        fan_in = collections.Counter(w.dst for w in weights)
        fan_out = collections.Counter(w.src for w in weights)
        values = {}
        for w in weights:
            if scheme == "uniform":
                bound = float(limit)
            elif scheme == "xavier_uniform":
                bound = math.sqrt(6.0 / (fan_in[w.dst] + fan_out[w.src] or 1))
            else:
                bound = math.sqrt(6.0 / fan_in[w.dst])
            # the drawn number rounded to *digits* decimals, as text, then exactly (an integer over 10**digits)
            values[w.name] = sp.Rational(int(f"{rng.uniform(-bound, bound):.{digits}f}".replace(".", "")), scale)
        for b in biases:
            values[b.name] = sp.Integer(0)
        return values

    def samples(self, doc, layers, error, error_params) -> tuple[Sample, ...]:
        raw = doc.get("samples")
        if raw is None:
            raise self.fail("samples", "missing: give at least one [[samples]] with inputs and targets")
        if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
            raise self.fail("samples", "must be a non-empty array of tables ([[samples]])")
        if len(raw) > MAX_SAMPLES:
            raise self.fail("samples", f"at most {MAX_SAMPLES} samples, not {len(raw)}")
        out = []
        for k, table in enumerate(raw):
            key = f"samples[{k}]"
            self.check_keys(table, _SAMPLE_KEYS, f"{key}.")
            inputs = self.vector(table, "inputs", key, layers[0].neurons)
            if "targets" not in table and self.leave_out("targets", f"{key}.targets",
                                                         f"missing: give targets for {', '.join(layers[-1].neurons)}"):
                targets = _placeholder_targets(layers[-1].neurons, error)
            else:
                targets = self.vector(table, "targets", key, layers[-1].neurons)
            self.check_targets(targets, f"{key}.targets", error)
            out.append(Sample(inputs, targets))
        return tuple(out)

    def vector(self, table, field, key, names) -> tuple[tuple[str, sp.Rational], ...]:
        if field not in table:
            raise self.fail(f"{key}.{field}", f"missing: give {field} for {', '.join(names)}")
        raw = table[field]
        if isinstance(raw, list):
            if len(raw) != len(names):
                raise self.fail(f"{key}.{field}", f"has {len(raw)} values but the layer has "
                                                  f"{len(names)} neurons ({', '.join(names[:6])})")
            return tuple((n, self.number(v, f"{key}.{field}")) for n, v in zip(names, raw))
        if not isinstance(raw, dict):
            raise self.fail(f"{key}.{field}", "must be a list of numbers or a table keyed by neuron")
        for n in raw:
            if n not in names:
                raise self.fail(f"{key}.{field}.{n}", "no such neuron in that layer" + did_you_mean(n, names))
        for n in names:
            if n not in raw:
                raise self.fail(f"{key}.{field}", f"no value for {n}")
        return tuple((n, self.number(raw[n], f"{key}.{field}.{n}")) for n in names)

    def check_targets(self, targets, key, error) -> None:
        rng = ERRORS[error].target_range
        if rng is None:
            return
        low, high, text = rng
        for n, v in targets:
            if not low <= v <= high:
                raise self.fail(key, f"target {n} = {float(v):g} is not {text}, as {error} needs")
        if error == "categorical_cross_entropy" and sum(v for _, v in targets) != 1:
            raise self.fail(key, "categorical_cross_entropy targets must sum to 1")

    def training(self, doc, n_samples) -> Training:
        if "training" in doc or not self.leave_out("learning_rate", "training", "missing table"):
            table = self.table(doc, "training", required=True)
        else:
            table = {}
        self.check_keys(table, _TRAINING_KEYS, "training.")
        if "learning_rate" in table:
            eta = self.number(table["learning_rate"], "training.learning_rate", positive=True)
        elif "training" in doc and not self.leave_out("learning_rate", "training.learning_rate",
                                                      "missing (the post uses 0.5)"):
            raise self.fail("training.learning_rate", "missing (the post uses 0.5)")
        else:
            eta = sp.Rational(1, 2)  # a placeholder no question shows (see Spec.omitted)
        steps = self.integer(table.get("steps", 10000), "training.steps", 1, MAX_STEPS)
        batch = table.get("batch", "online")
        if batch == "online":
            size = 1
        elif batch == "full":
            size = n_samples
        elif isinstance(batch, int) and not isinstance(batch, bool):
            size = self.integer(batch, "training.batch", 1, n_samples)
        else:
            raise self.fail("training.batch", f'must be "online", "full" or a batch size from 1 to '
                                              f"{n_samples}, not {batch!r}")
        if n_samples % size:
            raise self.fail("training.batch", f"batch size {size} does not divide the {n_samples} samples")
        reduction = self.choice(table.get("reduction", "sum"), "training.reduction", ("sum", "mean"))
        hidden = self.choice(table.get("hidden_deltas", "original"), "training.hidden_deltas",
                             ("original", "updated"))
        count = self.choice(table.get("count_rounds", "updates"), "training.count_rounds",
                            ("updates", "forward_passes"))
        if hidden == "updated" and size != 1:
            raise self.fail("training.hidden_deltas", '"updated" needs batch = "online" (one sample per update)')
        return Training(eta, steps, size, reduction, hidden, count)

    def leave_out(self, what: str, key: str, message: str) -> bool:
        """Whether the spec may leave *what* out (its exercise needs none); else raise *message* at *key*."""
        if what in self.optional and self.partial:
            if what not in self.omitted:
                self.omitted.append(what)
            return True
        if what in self.optional:
            message += (f"; this spec's [exercise] needs no {what.replace('_', ' ')}, so `stepgrad exercise` "
                        "reads it without, but this command needs it")
        raise self.fail(key, message)

    def exercise(self, doc, layers, error, n_parameters: int) -> ExerciseTable | None:
        """Check the [exercise] table's keys, types and ranges; note what the spec may leave out."""
        if "exercise" not in doc:
            return None
        table = self.table(doc, "exercise")
        if n_parameters > MAX_EXERCISE_PARAMETERS:
            raise self.fail("exercise", f"an exercise set is for networks of up to {MAX_EXERCISE_PARAMETERS} "
                                        f"weights and biases; this one has {n_parameters}")
        self.check_keys(table, _EXERCISE_KEYS, "exercise.")
        values: list[tuple[str, Any]] = []
        for key in ("ask", "update", "given"):
            if key in table:
                values.append((key, self.exercise_names(table[key], f"exercise.{key}", key != "update")))
        limits = {"given_decimals": (1, 12), "value_decimals": (0, 6), "answer_decimals": (1, 12)}
        for key, (low, high) in limits.items():
            if key in table:
                values.append((key, self.integer(table[key], f"exercise.{key}", low, high)))
        decimals = dict(values).get("value_decimals", 2)
        for key in ("weights", "biases", "inputs", "targets"):
            if key in table:
                values.append((key, self.exercise_range(table[key], f"exercise.{key}", decimals, layers, error)))
        asked = dict(values).get("ask", ()) or ("all",)
        given = dict(values).get("given", ())
        update = dict(values).get("update", ())
        forward = all(a == "forward" or a.startswith(("net_", "out_")) for a in asked + given)
        updates = bool(update) or any(a in ("all", "updates") or a.endswith("+") for a in asked + given)
        self.optional = (() if not forward else ("targets",)) + (() if updates else ("learning_rate",))
        lines = tuple((key, locate(self.text, f"exercise.{key}")) for key in table)
        return ExerciseTable(tuple(values), self.where, lines)

    def exercise_names(self, raw, key: str, groups: bool) -> tuple[str, ...]:
        """A list of quantity names (and, for ask and given, groups), each plain and short."""
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise self.fail(key, "must be a list of names in quotes, like [\"forward\", \"w5+\"]")
        if len(raw) > MAX_EXERCISE_NAMES:
            raise self.fail(key, f"at most {MAX_EXERCISE_NAMES} names, not {len(raw)}")
        for name in raw:
            m = _CANONICAL.match(name)
            if not m or len(name) > 80 or m.group(2):
                what = "a group (" + ", ".join(EXERCISE_GROUPS) + ") or a quantity name" if groups else \
                    "a weight or bias name"
                raise self.fail(key, f"{shorten(name)!r} is not {what}, like \"net_h1\" or \"dE_total/dw5\""
                                if groups else f"{shorten(name)!r} is not {what}")
        return tuple(dict.fromkeys(raw))

    def exercise_range(self, raw, key: str, decimals: int, layers, error) -> tuple[sp.Rational, sp.Rational]:
        """A range [low, high] values are drawn from, holding at least one value with *decimals* decimals."""
        if not isinstance(raw, list) or len(raw) != 2:
            raise self.fail(key, "must be a range [low, high], like [-1, 1]")
        low, high = (self.number(x, key) for x in raw)
        if low > high:
            raise self.fail(key, f"low end {raw[0]} is above high end {raw[1]}")
        scale = 10 ** decimals
        if math.ceil(low * scale) > math.floor(high * scale):
            raise self.fail(key, f"holds no value with {decimals} decimals (exercise.value_decimals)")
        if key.endswith("targets"):
            if layers[-1].activation == "softmax":
                raise self.fail(key, "softmax targets are drawn one-hot; leave the range out")
            bounds = ERRORS[error].target_range
            if bounds is not None and not (bounds[0] <= low and high <= bounds[1]):
                raise self.fail(key, f"targets must be {bounds[2]}, as {error} needs")
        return low, high

    def reference(self, doc) -> tuple[tuple[tuple[str, str], ...], str]:
        table = self.table(doc, "reference")
        self.check_keys(table, _REFERENCE_KEYS, "reference.")
        source = self.plain_text(table.get("source", ""), "reference.source", MAX_SOURCE)
        figs = table.get("figures", {})
        if not isinstance(figs, dict):
            raise self.fail("reference.figures", "must be a table of name = \"printed value\"")
        if len(figs) > MAX_FIGURES:
            raise self.fail("reference.figures", f"has {len(figs)} figures; at most {MAX_FIGURES} are compared")
        out = []
        for k, v in figs.items():
            m = _CANONICAL.match(k)
            if not m or len(k) > 80:
                raise self.fail(f"reference.figures.{k}", "must be a quantity name stepgrad prints, like "
                                                          '"out_h1", "dE_total/dw5", "w5+" or "E_total@10000"')
            if m.group(2) and int(m.group(2)[1:]) > MAX_STEPS:
                raise self.fail(f"reference.figures.{k}", f"round {m.group(2)[1:]} is past the last one stepgrad "
                                                          f"trains to, {MAX_STEPS}")
            if not isinstance(v, str) or not re.fullmatch(r"-?\d+(\.\d+)?", v):
                raise self.fail(f"reference.figures.{k}", 'must be a decimal written as a string, like "0.291027924"')
            out.append((k, v))
        return tuple(out), source


def _placeholder_targets(neurons: tuple[str, ...], error: str) -> tuple[tuple[str, sp.Rational], ...]:
    """Targets for a spec whose exercise needs none: 1/n each (inside every error's range, summing to 1)."""
    share = sp.Rational(1, len(neurons)) if error == "categorical_cross_entropy" else sp.Rational(1, 2)
    return tuple((n, share) for n in neurons)


def _kind(value: Any) -> str:
    """Describe a TOML value's type for an error message."""
    return {bool: "true/false", int: "a whole number", Decimal: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
