"""Hypothesis strategies that write valid spec TOML for random feedforward networks.

Every number is a short decimal (a multiple of 0.05, or a small fixed choice), so
the spec reads it exactly and a failing example prints as a spec one can paste
into a file.  The strategies only build text; tests parse it with
:func:`symbolic.spec.parse`, so a strategy that wrote an invalid spec fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import reject
from hypothesis import strategies as st

#: Activations a hidden layer may have (softmax is for the output layer only).
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
#: Activations with a kink at net = 0, where the derivative is a convention.
KINKED = ("relu", "leaky_relu")
#: Error functions, each with the output activations it accepts.
OUTPUTS_FOR_ERROR = {
    "half_sse": HIDDEN_ACTIVATIONS + ("softmax",),
    "mse": HIDDEN_ACTIVATIONS + ("softmax",),
    "huber": HIDDEN_ACTIVATIONS + ("softmax",),
    "binary_cross_entropy": ("sigmoid",),
    "categorical_cross_entropy": ("softmax",),
}
SLOPES = ("0.01", "0.1", "0.2", "0.3")
HUBER_DELTAS = ("0.25", "0.5", "1.0", "1.5")
LEARNING_RATES = ("0.1", "0.25", "0.5", "1.0")
#: Prefixes for explicitly named neurons: none of them can clash with w*, u*, b* or c*.
NAME_PREFIXES = ("x", "p", "q", "r", "s", "y")
STEP = Decimal("0.05")


def decimal(k: int) -> str:
    """Write k * 0.05 as an exact TOML float: decimal(3) == '0.15', decimal(-20) == '-1.00'."""
    return str(Decimal(k) * STEP)


def toml_list(items: list[str]) -> str:
    """Write a TOML array of already-formatted items."""
    return "[" + ", ".join(items) + "]"


def toml_strings(names: list[str]) -> str:
    return toml_list([f'"{n}"' for n in names])


@dataclass(frozen=True)
class Shape:
    """The layer structure drawn first, which the rest of a spec depends on."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    error: str


short_decimals = st.integers(-20, 20).map(decimal)
unit_decimals = st.integers(0, 20).map(decimal)


@st.composite
def shapes(draw, hidden_layers=(1, 4), widths=(1, 4)) -> Shape:
    """Draw layer sizes, an activation per layer and an error function that fits the output."""
    n_hidden = draw(st.integers(*hidden_layers))
    sizes = tuple(draw(st.integers(*widths)) for _ in range(n_hidden + 2))
    error = draw(st.sampled_from(sorted(OUTPUTS_FOR_ERROR)))
    output = draw(st.sampled_from(OUTPUTS_FOR_ERROR[error]))
    hidden = tuple(draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in range(n_hidden))
    return Shape(sizes, hidden + (output,), error)


@st.composite
def cce_targets(draw, n: int) -> list[str]:
    """Targets in [0, 1] summing to exactly 1: a composition of 20 twentieths into n parts."""
    cuts = sorted(draw(st.lists(st.integers(0, 20), min_size=n - 1, max_size=n - 1)))
    bounds = [0] + cuts + [20]
    return [decimal(b - a) for a, b in zip(bounds, bounds[1:])]


@st.composite
def sparse_edges(draw, n_src: int, n_dst: int) -> list[tuple[int, int]]:
    """Draw (src, dst) index pairs that give every source an outgoing and every destination an incoming edge."""
    cells = {(j, i) for j in range(n_src) for i in range(n_dst) if draw(st.booleans())}
    for i in range(n_dst):
        if not any(d == i for _, d in cells):
            cells.add((draw(st.integers(0, n_src - 1)), i))
    for j in range(n_src):
        if not any(s == j for s, _ in cells):
            cells.add((j, draw(st.integers(0, n_dst - 1))))
    return draw(st.permutations(sorted(cells)))


def default_names(sizes: tuple[int, ...]) -> list[list[str]]:
    """The neuron names the spec reader gives layers written with size = N."""
    n_layers = len(sizes)
    out = []
    for k, size in enumerate(sizes):
        if k == 0:
            prefix = "i"
        elif k == n_layers - 1:
            prefix = "o"
        elif n_layers == 3:
            prefix = "h"
        else:
            prefix = f"h{k}_"
        out.append([f"{prefix}{j}" for j in range(1, size + 1)])
    return out


def explicit_names(sizes: tuple[int, ...]) -> list[list[str]]:
    """Names of our own for every neuron: x1.. for inputs, y1.. for outputs, p1_1.. for hidden ones."""
    out = []
    for k, size in enumerate(sizes):
        if k == 0:
            prefix = "x"
        elif k == len(sizes) - 1:
            prefix = "y"
        else:
            prefix = f"{NAME_PREFIXES[1 + (k - 1) % 4]}{k}_"
        out.append([f"{prefix}{j}" for j in range(1, size + 1)])
    return out


@st.composite
def networks(draw, hidden_layers=(1, 4), widths=(1, 4), n_samples=(1, 4),
             max_parameters: int | None = None, initializer: bool = True) -> str:
    """Draw the TOML text of a valid spec for a random feedforward network.

    *max_parameters* rejects networks with more weights and biases than that;
    *initializer* allows an [initializer] (weights drawn by stepgrad) instead of
    explicit [parameters] now and then.
    """
    shape = draw(shapes(hidden_layers, widths))
    sizes, L = shape.sizes, len(shape.sizes) - 1
    named = draw(st.booleans())
    names = explicit_names(sizes) if named else default_names(sizes)
    lines = [f'title = "random network {"-".join(map(str, sizes))}"']

    if shape.error == "huber":
        lines.append(f'error = {{ function = "huber", delta = {draw(st.sampled_from(HUBER_DELTAS))} }}')
    elif shape.error != "half_sse" or draw(st.booleans()):
        lines.append(f'error = "{shape.error}"')

    # layers and biases
    biases: list[str] = []
    for k, size in enumerate(sizes):
        lines.append("")
        lines.append("[[layers]]")
        lines.append(f"neurons = {toml_strings(names[k])}" if named else f"size = {size}")
        if k == 0:
            continue
        activation = shape.activations[k - 1]  # required in every hidden and output layer
        if activation == "leaky_relu" and draw(st.booleans()):  # the table form
            lines.append(f'activation = {{ function = "leaky_relu", slope = {draw(st.sampled_from(SLOPES))} }}')
        else:
            lines.append(f'activation = "{activation}"')
            if activation == "leaky_relu" and draw(st.booleans()):
                lines.append(f"slope = {draw(st.sampled_from(SLOPES))}")
        kind = draw(st.sampled_from(("per_neuron", "shared", "none")))
        if kind != "per_neuron" or draw(st.booleans()):
            lines.append(f'bias = "{kind}"')
        if kind == "shared":
            if draw(st.booleans()):
                lines.append(f'bias_name = "c{k}"')
                biases.append(f"c{k}")
            else:
                biases.append(f"b{k}")
        elif kind == "per_neuron":
            biases.extend(f"b_{n}" for n in names[k])
        if kind != "none":
            trainable = draw(st.booleans())
            if not trainable or draw(st.booleans()):
                lines.append(f"bias_trainable = {'true' if trainable else 'false'}")

    # wiring: dense by default numbering, or sparse and named
    weights: list[str] = []
    if draw(st.integers(0, 3)) == 0:
        lines += ["", "[wiring]"]
        prefix = draw(st.sampled_from(("w", "u")))
        for k in range(1, L + 1):
            for j, i in draw(sparse_edges(sizes[k - 1], sizes[k])):
                weights.append(f"{prefix}{len(weights) + 1}")
                lines.append(f'{weights[-1]} = "{names[k - 1][j]} -> {names[k][i]}"')
    else:
        weights = [f"w{n}" for n in range(1, sum(a * b for a, b in zip(sizes, sizes[1:])) + 1)]
    if max_parameters is not None and len(weights) + len(biases) > max_parameters:
        reject()

    # initial values
    parameters = weights + biases
    if initializer and draw(st.integers(0, 7)) == 0:
        scheme = draw(st.sampled_from(("uniform", "xavier_uniform", "he_uniform")))
        lines += ["", "[initializer]", f'scheme = "{scheme}"', f"seed = {draw(st.integers(0, 999))}",
                  f"digits = {draw(st.integers(1, 4))}"]
        if scheme == "uniform" and draw(st.booleans()):
            lines.append(f"limit = {draw(st.sampled_from(('0.5', '1.0')))}")
        given = [p for p in parameters if draw(st.integers(0, 3)) == 0]
    else:
        given = parameters
    if given:
        lines += ["", "[parameters]"]
        lines += [f"{p} = {draw(short_decimals)}" for p in given]

    # samples
    n = draw(st.integers(*n_samples))
    for _ in range(n):
        inputs = [draw(short_decimals) for _ in names[0]]
        if shape.error == "categorical_cross_entropy":
            targets = draw(cce_targets(sizes[-1]))
        elif shape.error == "binary_cross_entropy":
            targets = [draw(unit_decimals) for _ in names[-1]]
        else:
            targets = [draw(short_decimals) for _ in names[-1]]
        lines += ["", "[[samples]]"]
        if draw(st.booleans()):
            lines += [f"inputs = {toml_list(inputs)}", f"targets = {toml_list(targets)}"]
        else:
            lines.append("inputs = { " + ", ".join(f"{a} = {v}" for a, v in zip(names[0], inputs)) + " }")
            lines.append("targets = { " + ", ".join(f"{a} = {v}" for a, v in zip(names[-1], targets)) + " }")

    # training
    divisors = [k for k in range(2, n) if n % k == 0]
    batch = draw(st.sampled_from(['"online"', '"full"'] + [str(k) for k in divisors]))
    lines += ["", "[training]", f"learning_rate = {draw(st.sampled_from(LEARNING_RATES))}", "steps = 5",
              f"batch = {batch}"]
    reduction = draw(st.sampled_from(("sum", "mean")))
    if reduction != "sum" or draw(st.booleans()):
        lines.append(f'reduction = "{reduction}"')
    return "\n".join(lines) + "\n"


def small_networks(max_parameters: int = 12) -> st.SearchStrategy[str]:
    """Networks of one or two hidden layers, widths 1 to 2, at most *max_parameters* parameters."""
    return networks(hidden_layers=(1, 2), widths=(1, 2), n_samples=(1, 3), max_parameters=max_parameters)
