"""wrong-activation-derivative: the derivative of another activation, e.g. sigma' used for tanh."""

import re

import sympy as sp

from ...functions import sigmoid
from ..program import Candidate
from . import STRUCTURAL, expr_text, mistake, replace_with

#: dout/dnet of each activation written with out (y) and net (x), as textbooks give them.
FORMS = {
    "sigmoid": lambda y, x: y * (1 - y),
    "tanh": lambda y, x: 1 - y**2,
    "relu": lambda y, x: sp.Heaviside(x),
    "softplus": lambda y, x: sigmoid(x),
    "sigmoid of net": lambda y, x: sigmoid(x) * (1 - sigmoid(x)),
    "tanh of net": lambda y, x: 1 - sp.tanh(x) ** 2,
}
WORDS = {"sigmoid": "the logistic function's out (1 - out)", "tanh": "tanh's 1 - out^2",
         "relu": "ReLU's step function", "softplus": "softplus's sigma(net)",
         "sigmoid of net": "the logistic derivative evaluated at net as if it were the output",
         "tanh of net": "tanh's derivative of net"}


@mistake("wrong-activation-derivative", 3, "The derivative of another activation, e.g. σ′ = out(1 − out) used for tanh.")
def generate(ctx):
    spec = ctx.spec
    layers: dict = {}
    for c in _each(ctx):
        yield c
        i = c.edits[0][0]
        f = ctx.flat[i]
        layers.setdefault((f.step.layer, f.sample, c.key.rsplit(":", 1)[1]), []).append(c)
    # the same wrong derivative for the whole layer
    for (layer, sample, name), cs in sorted(layers.items(), key=lambda t: (t[0][0], t[0][1] or 0, t[0][2])):
        if len(cs) > 1:
            yield Candidate("wrong-activation-derivative", 3,
                            f"In layer {layer} you used {WORDS[name]} for the {spec.layers[layer].activation} "
                            f"neurons' derivative.",
                            f"wrongact:layer:{layer}:{sample}:{name}",
                            edits=tuple(e for c in cs for e in c.edits), pairable=False)


def _each(ctx):
    spec = ctx.spec
    for i, f in ctx.of_kind("dout/dnet"):
        layer = spec.layers[f.step.layer]
        if layer.activation == "softmax":
            continue
        if "/dnet_" not in f.name:
            continue
        base, suffix = re.fullmatch(r"(.*?)(\[\d+\])?", f.name).groups()
        num, den = base[1:].split("/d", 1)
        out = sp.Symbol(num + (suffix or ""), real=True)
        x = sp.Symbol(den + (suffix or ""), real=True)
        if out.name not in ctx.ev.base or x.name not in ctx.ev.base:
            continue
        for name, form in FORMS.items():
            if name in (layer.activation, f"{layer.activation} of net"):
                continue
            if name == "relu" and ctx.ev.base[x.name] > 0:
                continue  # the step function is 1 here: that is leaving the derivative out
            rhs = form(out, x)
            yield Candidate("wrong-activation-derivative", 3,
                            f"In {f.name} you used {WORDS[name]} for a {layer.activation} neuron; "
                            f"its derivative is {expr_text(f.step.rhs)}.",
                            f"wrongact:{i}:{name}", edits=((i, STRUCTURAL, replace_with(rhs)),))
