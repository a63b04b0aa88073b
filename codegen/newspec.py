"""Write a commented starting spec for a network shape such as "3-4-2", for a teacher to edit.

The neurons, weights and biases are named and numbered by the spec reader
itself (:mod:`symbolic.spec` builds a skeleton of the shape and this module
copies its names), so the file spells out exactly the numbering a spec without
``[wiring]`` would get.  Initial values are drawn from a seeded generator and
rounded to two decimals, as the post rounds its own (0.15, 0.20, ...): the same
seed gives the same bytes.  The result is checked by reading it back.
"""

from __future__ import annotations

import math
import random
import re
from decimal import Decimal, InvalidOperation

from ..symbolic import spec as specs
from ..symbolic.functions import ACTIVATIONS, ERRORS
from ..symbolic.spec import Spec, SpecError

#: A shape as typed on the command line; checked for length before it is split.
MAX_SHAPE_TEXT = 400
#: At most this many weights and biases: beyond it no stepgrad command would take the spec.
MAX_PARAMETERS = 5000
BIASES = ("per_neuron", "shared", "none")
HIDDEN_ACTIVATIONS = tuple(a for a in ACTIVATIONS if a != "softmax")


def parse_shape(text: str) -> tuple[int, ...]:
    """Read a shape such as "3-4-2": layer widths from input to output.

    >>> parse_shape("2-2-2")
    (2, 2, 2)
    """
    if len(text) > MAX_SHAPE_TEXT:
        raise SpecError(f"shape: {len(text)} characters is too long for a network shape (like 3-4-2)")
    if not re.fullmatch(r"[0-9]+(-[0-9]+)+", text):
        raise SpecError(f"shape {text!r}: write the layer widths joined by '-', input first, like 3-4-2")
    widths = tuple(int(w) for w in text.split("-"))
    if not 2 <= len(widths) <= specs.MAX_LAYERS:
        raise SpecError(f"shape {text[:40]!r}: {len(widths)} layers; a network has 2 to {specs.MAX_LAYERS}")
    for k, w in enumerate(widths):
        if not 1 <= w <= specs.MAX_WIDTH:
            raise SpecError(f"shape {text[:40]!r}: layer {k} has width {w}; each layer needs 1 to "
                            f"{specs.MAX_WIDTH} neurons")
    return widths


def _parameter_count(widths: tuple[int, ...], bias: str) -> int:
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    biases = {"per_neuron": sum(widths[1:]), "shared": len(widths) - 1, "none": 0}[bias]
    return weights + biases


def _learning_rate(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SpecError(f"--learning-rate {text[:40]!r}: not a number (the post uses 0.5)") from None
    if not value.is_finite() or not 0 < value <= 100 or -value.as_tuple().exponent > 12:
        raise SpecError(f"--learning-rate {text[:40]!r}: give a positive decimal up to 100, like 0.5")
    return value


def two_decimals(x: float) -> str:
    """Round to two decimals as the post prints its values; never '-0.00'."""
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text


def draw(spec: Spec, seed: int) -> tuple[dict[str, str], list[str], list[str]]:
    """Draw the parameters, then the inputs, then the targets, from one generator seeded with *seed*.

    Weights are uniform within the Xavier bound sqrt(6 / (fan_in + fan_out)), at most 1;
    biases and inputs uniform in [0, 1) like the post's; targets uniform in [0.01, 0.99], or
    one-hot for categorical cross-entropy.  Every value is rounded to two decimals.
    """
    rng = random.Random(seed)
    fan_in = {n: len(spec.layers[k - 1].neurons) for k in range(1, len(spec.layers)) for n in spec.layers[k].neurons}
    fan_out = {n: len(spec.layers[k + 1].neurons) for k in range(len(spec.layers) - 1) for n in spec.layers[k].neurons}
    values = {}
    for w in spec.weights:
        bound = min(1.0, math.sqrt(6.0 / (fan_in[w.dst] + fan_out[w.src])))
        values[w.name] = two_decimals(rng.uniform(-bound, bound))
    for b in spec.biases:
        values[b.name] = two_decimals(rng.uniform(0.0, 1.0))
    inputs = [two_decimals(rng.uniform(0.0, 1.0)) for _ in spec.inputs]
    if spec.error == "categorical_cross_entropy":
        hot = rng.randrange(len(spec.outputs))
        targets = ["1" if k == hot else "0" for k in range(len(spec.outputs))]
    else:
        targets = [two_decimals(rng.uniform(0.01, 0.99)) for _ in spec.outputs]
    return values, inputs, targets


def _layers_text(widths, hidden: str, output: str, bias: str, names=None) -> list[str]:
    lines = []
    for k, width in enumerate(widths):
        role = "input" if k == 0 else "output" if k == len(widths) - 1 else "hidden"
        listed = f"  # {role}: {', '.join(names[k])}" if names else ""
        lines += ["", "[[layers]]", f"size = {width}{listed}"]
        if k == 0:
            continue
        activation = output if k == len(widths) - 1 else hidden
        lines.append(f'activation = "{activation}"')
        if activation == "leaky_relu":
            lines.append("slope = 0.01            # the leak for net inputs below 0")
        lines.append(f'bias = "{bias}"')
    return lines


def _sample_text(widths, error: str) -> list[str]:
    targets = ["1"] + ["0"] * (widths[-1] - 1) if error == "categorical_cross_entropy" else ["0.5"] * widths[-1]
    return ["", "[[samples]]", f"inputs = [{', '.join(['0'] * widths[0])}]", f"targets = [{', '.join(targets)}]"]


def new_spec(shape: str, activation: str = "sigmoid", output: str | None = None, error: str = "half_sse",
             bias: str = "per_neuron", seed: int = 0, learning_rate: str = "0.5", steps: int = 10000) -> str:
    """Write a commented spec for *shape*; *output* defaults to softmax for categorical
    cross-entropy, else sigmoid.

    >>> "w1 = " in new_spec("2-2-2")
    True
    """
    widths = parse_shape(shape)
    if error not in ERRORS:
        raise SpecError(f"--error {error!r}: expected one of {', '.join(ERRORS)}")
    if activation not in HIDDEN_ACTIVATIONS:
        raise SpecError(f"--activation {activation!r}: hidden layers take one of {', '.join(HIDDEN_ACTIVATIONS)}")
    if output is None:
        output = "softmax" if error == "categorical_cross_entropy" else "sigmoid"
    if output not in ACTIVATIONS:
        raise SpecError(f"--output-activation {output!r}: expected one of {', '.join(ACTIVATIONS)}")
    needed = {"binary_cross_entropy": "sigmoid", "categorical_cross_entropy": "softmax"}.get(error)
    if needed and output != needed:
        raise SpecError(f"--error {error} needs --output-activation {needed}, not {output}")
    if bias not in BIASES:
        raise SpecError(f"--bias {bias!r}: expected one of {', '.join(BIASES)}")
    if not 0 <= seed < 2**63:
        raise SpecError(f"--seed {seed}: give a whole number from 0 to 2**63 - 1")
    if not 1 <= steps <= specs.MAX_STEPS:
        raise SpecError(f"--steps {steps}: give 1 to {specs.MAX_STEPS}")
    eta = _learning_rate(learning_rate)
    count = _parameter_count(widths, bias)
    if count > MAX_PARAMETERS:
        raise SpecError(f"shape {shape[:40]!r}: {count} weights and biases; stepgrad's commands take at most "
                        f"{MAX_PARAMETERS}")
    training = ["", "[training]", f"learning_rate = {eta}", f"steps = {steps}"]
    where = f"stepgrad new {shape}"
    # The reader names and numbers the skeleton: the same names a spec without [wiring] gets.
    skeleton = "\n".join([f'title = "{shape}"', f'error = "{error}"']
                         + _layers_text(widths, activation, output, bias)
                         + ["", "[initializer]"] + _sample_text(widths, error) + training) + "\n"
    try:
        spec = specs.parse(skeleton, where)
    except SpecError as exc:
        raise SpecError(f"{where}: these options do not make a valid network: {_reason(exc)}") from None
    values, inputs, targets = draw(spec, seed)
    text = _render(spec, widths, activation, output, error, bias, seed, eta, steps, values, inputs, targets)
    check = specs.parse(text, where)  # the file reads back as the very network it describes
    assert [(w.name, w.src, w.dst) for w in check.weights] == [(w.name, w.src, w.dst) for w in spec.weights]
    return text


def _reason(exc: SpecError) -> str:
    """The reader's complaint without its location in the skeleton (the user never saw that text)."""
    return re.sub(r"^stepgrad new [0-9-]+(:\d+)?: ", "", str(exc))


def _render(spec: Spec, widths, activation, output, error, bias, seed, eta, steps, values, inputs, targets) -> str:
    shape = "-".join(map(str, widths))
    command = (f"stepgrad new {shape} --activation {activation} --output-activation {output} "
               f"--error {error} --bias {bias} --seed {seed} --learning-rate {eta} --steps {steps}")
    names = [layer.neurons for layer in spec.layers]
    lines = [
        f"# A {shape} network: a starting point for a worked example, to edit freely.",
        f"# Written by: {command}",
        "# The initial values are seeded draws rounded to two decimals, as the post rounds its own;",
        "# change any of them, or the sample, and run: stepgrad derive THIS_FILE.toml",
        f'title = "A {shape} network"',
        f'error = "{error}"              # {ERRORS[error].title}',
    ]
    lines += _layers_text(widths, activation, output, bias, names)
    lines += ["", "# Which weight joins which neurons: the numbering stepgrad uses when [wiring] is left out",
              "# (into the first neuron of a layer first, from every neuron of the layer before, in order).",
              "[wiring]"]
    width = max(len(f'{w.name} = "{w.src} -> {w.dst}"') for w in spec.weights)
    for w in spec.weights:
        entry = f'{w.name} = "{w.src} -> {w.dst}"'
        lines.append(f"{entry:<{width}}  # weight {w.name[1:] if w.name[1:].isdigit() else w.name}: "
                     f"from {w.src} into {w.dst} (layer {w.layer})")
    lines += ["", "# Initial values, rounded to two decimals."]
    lines += ["[parameters]"] + [f"{w.name} = {values[w.name]}" for w in spec.weights]
    for b in spec.biases:
        fed = ", ".join(b.neurons)
        lines.append(f"{b.name} = {values[b.name]}" + " " * max(1, 10 - len(b.name) - len(values[b.name]))
                     + f"# bias of {fed}")
    lines += ["", "# One training sample; add more [[samples]] blocks for a batch.", "[[samples]]",
              "inputs = { " + ", ".join(f"{n} = {v}" for n, v in zip(spec.inputs, inputs)) + " }",
              "targets = { " + ", ".join(f"{n} = {v}" for n, v in zip(spec.outputs, targets)) + " }",
              "", "[training]", f"learning_rate = {eta}", f"steps = {steps}",
              'batch = "online"', ""]
    return "\n".join(lines)
