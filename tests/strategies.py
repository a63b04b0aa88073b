"""Hypothesis strategies: valid specs and answers files, and every way to spoil them.

A spec is handled as a TOML document (nested dicts and lists); :func:`dumps`
writes one back as TOML with every key quoted and every table inline, so any
value Hypothesis invents, hostile keys included, reaches the reader intact.
Text-level mutations (truncation, random bytes, another encoding) come after.
"""

from __future__ import annotations

import copy
import math
import tomllib
from decimal import Decimal
from importlib import resources

from hypothesis import strategies as st

ROOT_DATA = resources.files("tests").joinpath("data")

#: A softmax output layer with categorical cross-entropy, ReLU hidden, a full batch.
SOFTMAX = """
title = "softmax 2-2-3"
error = "categorical_cross_entropy"
[[layers]]
size = 2
[[layers]]
size = 2
activation = "relu"
[[layers]]
size = 3
activation = "softmax"
bias = "none"
[initializer]
scheme = "he_uniform"
seed = 7
[[samples]]
inputs = [0.5, -0.25]
targets = [0, 1, 0]
[[samples]]
inputs = [0.1, 0.9]
targets = [0.2, 0.3, 0.5]
[training]
learning_rate = 0.1
steps = 5
batch = "full"
reduction = "mean"
"""

#: Explicit wiring (one missing edge), leaky ReLU, Huber error, a shared named bias.
WIRED = """
title = "wired 2-2-1"
error = { function = "huber", delta = 0.5 }
[[layers]]
neurons = ["x1", "x2"]
[[layers]]
neurons = ["a1", "a2"]
activation = "leaky_relu"
slope = 0.1
bias = "shared"
bias_name = "bh"
[[layers]]
neurons = ["y"]
activation = "identity"
bias = "none"
[wiring]
u1 = "x1 -> a1"
u2 = "x2 -> a1"
u3 = "x2 -> a2"
v1 = "a1 -> y"
v2 = "a2 -> y"
[parameters]
u1 = 0.5
u2 = -0.25
u3 = 0.75
v1 = 1
v2 = -1
bh = 0.1
[[samples]]
inputs = { x1 = 1, x2 = 2 }
targets = { y = 0.5 }
[training]
learning_rate = 0.05
steps = 4
"""


def base_texts() -> dict[str, str]:
    """The valid specs mutations start from, by name."""
    mazur = resources.files("stepgrad.symbolic.examples").joinpath("mazur.toml").read_text("utf-8")
    tanh = ROOT_DATA.joinpath("tanh232.toml").read_text("utf-8")
    return {"mazur": mazur, "tanh232": tanh, "softmax": SOFTMAX, "wired": WIRED}


BASES = {name: tomllib.loads(text, parse_float=Decimal) for name, text in base_texts().items()}
# the post's figures after 10,000 rounds would train 20,000 steps in every case: ask after 4 instead
BASES["mazur"]["reference"]["figures"] = {k.replace("@10000", "@4"): v
                                          for k, v in BASES["mazur"]["reference"]["figures"].items()}
ANSWERS = tomllib.loads(ROOT_DATA.joinpath("answers", "blog.toml").read_text("utf-8"), parse_float=Decimal)
ANSWERS.update({"net_h1": "w1*i1 + w2*i2 + b1", "out_h1": "\\frac{1}{1+e^{-net_{h1}}}"})


# -- writing TOML ---------------------------------------------------------------

def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest as is."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return _string(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        if isinstance(value, Decimal) and not value.is_finite():
            value = float(value)
        if isinstance(value, float):
            if math.isnan(value):
                return "nan"
            if math.isinf(value):
                return "inf" if value > 0 else "-inf"
            return repr(value)
        text = str(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def dumps(doc: dict) -> str:
    """Write a document as TOML, one top-level key a line, tables inline.

    >>> dumps({"a": [1, {"b": "x"}]})
    '"a" = [1, {"b" = "x"}]\\n'
    """
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in doc.items())


# -- values a hostile or careless user writes -----------------------------------

HOSTILE_NAMES = (
    "__import__('os').system('x')", "a;import os", "__class__", "__init__", "lambda", "None", "class",
    "h\u0430", "w1\u200b", "\u202ew1", "x\\input{/etc/passwd}", "a}b{", "o1\nimport os", "w 1", "w-1",
    "w1__", "_w1", "1w", "", "w" * 40, "$x$", "%", "#", "'; DROP TABLE", "é", "ｗ1",
)

numbers = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([0, -1, 10**6, 10**7, -(10**9), 2**63, 10**40]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("NaN"), Decimal("1e-60"), Decimal("1e-999999"), Decimal("0e-99999"),
                     Decimal("1.5"), Decimal("-0.0"), Decimal("0.999999999999"), Decimal("1e6")]),
)
texts = st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=12),
                  st.sampled_from(["sigmoid", "softmax", "relu", "online", "full", "mean", "updated",
                                   "binary_cross_entropy", "categorical_cross_entropy", "huber",
                                   "i1 -> h1", "h1 -> o1", "o1 -> i1", "i1 -> i2", "nosuch -> h1",
                                   "->", "i1->", "xavier_uniform"]))
#: Numbers a valid spec could hold, so that many mutated specs still run to the end.
plausible = st.one_of(st.integers(1, 5), st.decimals(min_value=-2, max_value=2, places=3, allow_nan=False))
scalars = st.one_of(numbers, texts, st.booleans())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=3)), max_leaves=6)


# -- mutations of a parsed document ---------------------------------------------

def paths(node, prefix=()) -> list[tuple]:
    """Every path (keys and indices) into a nested document."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out.extend(paths(v, prefix + (k,)))
    return out


def _parent(doc, path):
    node = doc
    for k in path[:-1]:
        node = node[k]
    return node


@st.composite
def mutated_doc(draw, base: str | None = None) -> dict:
    """A base spec with one to three mutations: dropped, retyped, renamed or added keys, and more."""
    name = base or draw(st.sampled_from(sorted(BASES)))
    doc = copy.deepcopy(BASES[name])
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        all_paths = paths(doc)
        kind = draw(st.sampled_from(["drop", "retype", "rename", "add", "number", "duplicate",
                                     "rewire", "size"]))
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = _parent(doc, path)
        if kind == "drop":
            del parent[path[-1]]
        elif kind == "retype":
            parent[path[-1]] = draw(values)
        elif kind == "number":
            numeric = [p for p in all_paths if isinstance(_parent(doc, p)[p[-1]], (int, Decimal))
                       and not isinstance(_parent(doc, p)[p[-1]], bool)]
            if numeric:
                p = draw(st.sampled_from(numeric))
                _parent(doc, p)[p[-1]] = draw(st.one_of(numbers, plausible))
        elif kind == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(texts, st.just(str(path[-1]) + "s"), st.just(str(path[-1])[:-1])))
            parent[new] = parent.pop(path[-1])
        elif kind == "add":
            target = parent if isinstance(parent, dict) else doc
            target[draw(texts)] = draw(values)
        elif kind == "duplicate":
            lists = [p for p in all_paths if isinstance(_parent(doc, p)[p[-1]], list)
                     and _parent(doc, p)[p[-1]] and all(isinstance(x, str) for x in _parent(doc, p)[p[-1]])]
            if lists:
                p = draw(st.sampled_from(lists))
                seq = _parent(doc, p)[p[-1]]
                seq.append(draw(st.sampled_from(seq + list(HOSTILE_NAMES[:3]))))
        elif kind == "rewire":
            wiring = doc.setdefault("wiring", {})
            if isinstance(wiring, dict):
                wiring[draw(st.sampled_from(["w1", "w99", "u1", "v9", "b1"]))] = draw(texts)
        elif kind == "size":
            layers = doc.get("layers")
            if isinstance(layers, list) and layers and isinstance(layers[0], dict):
                layer = draw(st.sampled_from(layers))
                if isinstance(layer, dict):
                    layer.pop("neurons", None)
                    layer["size"] = draw(st.sampled_from([0, -1, 1, 3, 4097, 5000, 2**40]))
    return doc


@st.composite
def numeric_doc(draw) -> dict:
    """A base spec with a few numbers changed: most still valid, some at the edges (0, 1e6, NaN)."""
    doc = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)))])
    numeric = [p for p in paths(doc) if isinstance(_parent(doc, p)[p[-1]], (int, Decimal))
               and not isinstance(_parent(doc, p)[p[-1]], bool)]
    for p in draw(st.lists(st.sampled_from(numeric), min_size=1, max_size=3)):
        _parent(doc, p)[p[-1]] = draw(st.one_of(plausible, plausible, numbers))
    return doc


@st.composite
def spoiled_bytes(draw, text: str) -> bytes:
    """Text spoiled at the byte level: truncated, with random bytes, or in another encoding."""
    kind = draw(st.sampled_from(["truncate", "insert", "random", "latin1", "utf16", "intact"]))
    data = text.encode("utf-8")
    if kind == "truncate":
        return data[:draw(st.integers(1, len(data)))]
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "latin1":
        return ("# é\n" + text).encode("latin-1", "replace")
    if kind == "utf16":
        return text.encode("utf-16")
    return data


@st.composite
def spec_files(draw) -> bytes:
    """The bytes of a spec file: usually a mutated document, sometimes spoiled text too."""
    text = dumps(draw(st.one_of(mutated_doc(), numeric_doc())))
    if draw(st.integers(0, 3)):
        return text.encode("utf-8")
    return draw(spoiled_bytes(text))


@st.composite
def answers_files(draw) -> bytes:
    """The bytes of an answers file for the post's network: a few answers, some spoiled."""
    keys = draw(st.lists(st.sampled_from(sorted(ANSWERS)), min_size=1, max_size=4, unique=True))
    doc = {k: ANSWERS[k] for k in keys}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.one_of(st.sampled_from(keys), texts, st.sampled_from(["E_total@3", "w5@2", "x@9999999"])))
        doc[key] = draw(st.one_of(
            numbers, texts, values,
            st.sampled_from(["10**10**10", "(" * 200 + "w1" + ")" * 200, "\\frac{" * 60 + "1" + "}{2}" * 60,
                             "__import__('os').system('true')", "w1.__class__", "1e999999999 * w1",
                             "\\input{/etc/passwd}", "out_o1^{2^{3}}", "2**1000", "1/0", "log(0)",
                             "e^{", "\\frac{1}{0}", "exp(1e6)", "-" * 1990 + "w1"])))
    text = dumps(doc)
    if draw(st.integers(0, 3)) == 0:
        return draw(spoiled_bytes(text))
    return text.encode("utf-8")
