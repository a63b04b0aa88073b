"""Every naming convention of stepgrad, in one place.

Three spellings exist for each quantity:

* the *canonical name* users type and ``stepgrad values`` prints
  (``net_h1``, ``dE_total/dw5``, ``w5+``, ``E_total@10000``);
* the *Python identifier* used in generated code (``net_h1``, ``dE_total_dw5``,
  ``w5_plus``);
* the *LaTeX* form used in documents (``net_{h1}``,
  ``\\frac{\\partial E_{total}}{\\partial w_{5}}``, ``w_{5}^{+}``).

Names that come from a spec (neurons, weights, biases) must match ``SAFE_NAME``
first; only then are they combined here, so nothing a user writes reaches
generated Python or LaTeX unchecked.
"""

from __future__ import annotations

import keyword
import re

#: The documented safe form of a user-chosen name: an ASCII letter, then up to
#: 23 ASCII letters or digits, optionally split by single underscores.
SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*\Z")
MAX_NAME_LENGTH = 24

#: Names stepgrad itself uses in generated code or canonical names.
RESERVED = frozenset(
    {"total", "eta", "math", "params", "inputs", "targets", "E", "e", "pi", "exp", "log",
     "forward", "error", "gradients", "step", "sigmoid", "softplus", "delta", "net", "out",
     "target", "t", "sample", "batch", "np", "numpy", "np_", "None", "True", "False"}
)


def name_problem(name: object) -> str | None:
    """Return why *name* is not a safe user name, or None when it is."""
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if not SAFE_NAME.match(name):
        return ("must be ASCII letters and digits, starting with a letter, "
                "with single underscores between parts (like h1 or h2_3)")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "is a Python keyword"
    if name in RESERVED:
        return "is reserved by stepgrad"
    return None


# -- default names ---------------------------------------------------------

def default_neuron_names(layer: int, n_layers: int, width: int) -> list[str]:
    """Name the neurons of *layer*: i1.. for inputs, o1.. for outputs, h1.. for one hidden layer.

    With several hidden layers, hidden layer k (counting from 1) is h<k>_<j>:
    ``h1_1, h1_2`` for the first, ``h2_1`` for the second.
    """
    if layer == 0:
        prefix = "i"
    elif layer == n_layers - 1:
        prefix = "o"
    elif n_layers == 3:
        prefix = "h"
    else:
        prefix = f"h{layer}_"
    return [f"{prefix}{j}" for j in range(1, width + 1)]


def default_weight_name(index: int) -> str:
    """Name the index-th weight (from 1), numbered as the post numbers them."""
    return f"w{index}"


def default_shared_bias_name(layer: int) -> str:
    """Name the bias shared by a layer: b1 feeds the first hidden layer, as in the post."""
    return f"b{layer}"


def default_neuron_bias_name(neuron: str) -> str:
    """Name the bias of one neuron."""
    return f"b_{neuron}"


# -- canonical quantity names ---------------------------------------------

def net(n: str) -> str:
    return f"net_{n}"


def out(n: str) -> str:
    return f"out_{n}"


def target(n: str) -> str:
    return f"target_{n}"


def err(o: str) -> str:
    return f"E_{o}"


E_TOTAL = "E_total"


def delta(n: str) -> str:
    return f"delta_{n}"


def d(num: str, den: str) -> str:
    """Canonical name of the partial derivative of *num* with respect to *den*."""
    return f"d{num}/d{den}"


def updated(p: str) -> str:
    """Canonical name of parameter *p* after one update."""
    return f"{p}+"


def after(quantity: str, steps: int) -> str:
    """Canonical name of *quantity* after *steps* updates."""
    return f"{quantity}@{steps}"


def in_sample(quantity: str, sample: int, n_samples: int) -> str:
    """Canonical name of a per-sample quantity; unchanged when there is one sample."""
    return quantity if n_samples == 1 else f"{quantity}[{sample}]"


# -- Python identifiers ----------------------------------------------------

_IDENT_SUBS = (("/", "_"), ("+", "_plus"), ("@", "_at_"), ("[", "_s"), ("]", ""))


def ident(canonical: str) -> str:
    """Turn a canonical name into the Python identifier used in generated code.

    >>> ident("dE_total/dw5"), ident("w5+")
    ('dE_total_dw5', 'w5_plus')
    """
    text = canonical
    for old, new in _IDENT_SUBS:
        text = text.replace(old, new)
    if not text.isidentifier():
        raise ValueError(f"{canonical!r} does not make an identifier")
    return text


# -- LaTeX -----------------------------------------------------------------

_PARAM = re.compile(r"([A-Za-z]+)(\d+)\Z")


def latex_name(name: str) -> str:
    """Typeset a safe user name: w5 -> w_{5}, b_h1 -> b_{h1}, b_h1_2 -> b_{h1,2}.

    >>> latex_name("w5"), latex_name("b_h1"), latex_name("b_h1_2")
    ('w_{5}', 'b_{h1}', 'b_{h1,2}')
    """
    if not SAFE_NAME.match(name):
        raise ValueError(f"unsafe name {name!r}")
    m = _PARAM.match(name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    head, sep, tail = name.partition("_")
    if sep:
        return f"{head}_{{{latex_sub(tail)}}}"
    return name


def latex_sub(neuron: str) -> str:
    """Typeset a neuron name used as a subscript: h1 -> h1, h2_1 -> h2,1 (net_{h2,1})."""
    return neuron.replace("_", ",")


def latex_symbol(canonical: str) -> str:
    """Typeset a canonical quantity name the way the post writes it."""
    return latex_quantity(canonical)


# -- parsing canonical names ----------------------------------------------------

_AFTER = re.compile(r"(.+)@(\d+)\Z")
_SAMPLE = re.compile(r"(.+)\[(\d+)\]\Z")
_PREFIXES = (("net_", "net"), ("out_", "out"), ("target_", "target"), ("delta_", "delta"), ("E_", "E"))


def split_after(name: str) -> tuple[str, int | None]:
    """Split 'E_total@10000' into ('E_total', 10000); a name without '@N' gives (name, None).

    >>> split_after("out_o1@10000"), split_after("w5+")
    (('out_o1', 10000), ('w5+', None))
    """
    m = _AFTER.match(name)
    return (m.group(1), int(m.group(2))) if m else (name, None)


def split_sample(name: str) -> tuple[str, int | None]:
    """Split 'dE_total/dw5[2]' into ('dE_total/dw5', 2); a name without '[s]' gives (name, None)."""
    m = _SAMPLE.match(name)
    return (m.group(1), int(m.group(2))) if m else (name, None)


def split_d(name: str) -> tuple[str, str] | None:
    """Split 'dE_total/dw5' into ('E_total', 'w5'); None when *name* is not a derivative.

    >>> split_d("dout_h1/dnet_h1")
    ('out_h1', 'net_h1')
    """
    if not name.startswith("d") or "/d" not in name:
        return None
    num, den = name[1:].split("/d", 1)
    return num, den


def split_updated(name: str) -> str | None:
    """The parameter *name* is the update of ('w5+' gives 'w5'), or None."""
    return name[:-1] if name.endswith("+") else None


def split_neuron(name: str) -> tuple[str, str] | None:
    """Split a per-neuron quantity into (kind, neuron): 'net_h1' gives ('net', 'h1'); E_total gives None.

    >>> split_neuron("delta_h2_1"), split_neuron("E_o1"), split_neuron("E_total")
    (('delta', 'h2_1'), ('E', 'o1'), None)
    """
    if name == E_TOTAL:
        return None
    for prefix, kind in _PREFIXES:
        if name.startswith(prefix):
            return kind, name[len(prefix):]
    return None


def derivative_by(name: str) -> str | None:
    """What a derivative's name differentiates by: 'dE_total/dw5' gives 'w5'; None if not a derivative."""
    parts = split_d(name)
    return parts[1] if parts else None


def is_helper(name: str) -> bool:
    """Whether *name* is a helper variable of generated code (_max_2, _f0), not a quantity."""
    return name.startswith("_")


# -- LaTeX from the parsed name --------------------------------------------------

def latex_quantity(canonical: str, neuron_text: dict[str, str] | None = None) -> str:
    """Typeset a canonical name, writing each neuron in *neuron_text* as given (for table headers).

    >>> latex_quantity("dout_a/dnet_a", {"a": r"\\cdot"})
    '\\\\frac{\\\\partial out_{\\\\cdot}}{\\\\partial net_{\\\\cdot}}'
    """
    neuron_text = neuron_text or {}
    if canonical == "eta":
        return r"\eta"
    base, sample = split_sample(canonical)
    if sample is not None:
        return f"{{{latex_quantity(base, neuron_text)}}}^{{({sample})}}"
    param = split_updated(canonical)
    if param is not None:
        return latex_name(param) + "^{+}"
    parts = split_d(canonical)
    if parts is not None:
        num, den = (latex_quantity(p, neuron_text) for p in parts)
        return rf"\frac{{\partial {num}}}{{\partial {den}}}"
    if canonical == E_TOTAL:
        return "E_{total}"
    per_neuron = split_neuron(canonical)
    if per_neuron is not None:
        kind, neuron = per_neuron
        shown = {"net": "net", "out": "out", "target": "target", "E": "E", "delta": r"\delta"}[kind]
        return f"{shown}_{{{neuron_text.get(neuron, latex_sub(neuron))}}}"
    return latex_name(canonical)
