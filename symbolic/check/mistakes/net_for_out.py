"""net-for-out / out-for-net: a neuron's net input used where its output belongs, or the reverse."""

import sympy as sp

from ... import naming
from ...functions import sigmoid
from ...model import symbol
from ..program import Candidate
from . import STRUCTURAL, SUBSTITUTION, mistake, replace_with, swap

#: dout/dnet of each smooth activation as a function of its argument (taken at out by mistake).
AT_NET = {"sigmoid": lambda x: sigmoid(x) * (1 - sigmoid(x)), "tanh": lambda x: 1 - sp.tanh(x) ** 2,
          "softplus": lambda x: sigmoid(x)}


def _renamed(name: str, build) -> str | None:
    """The same neuron and sample under another kind: 'out_h1[2]' with naming.net gives 'net_h1[2]'."""
    base, sample = naming.split_sample(name)
    parts = naming.split_neuron(base)
    if parts is None:
        return None
    return build(parts[1]) if sample is None else naming.in_sample(build(parts[1]), sample, sample + 1)


def _pairs(ctx, frm: str, to: str):
    for i, f in enumerate(ctx.flat):
        for a in sorted(f.deps):
            if not a.startswith(frm):
                continue
            b = to + a[len(frm):]
            if b not in ctx.ev.base or b == f.name:
                continue
            yield i, f, a, b


@mistake("net-for-out", 3, "A neuron's net input used where its output belongs (the activation skipped).")
def net_for_out(ctx):
    for i, f, a, b in _pairs(ctx, "out_", "net_"):
        if f.kind == "out":
            continue
        yield Candidate("net-for-out", 3,
                        f"In {f.name} you used {b} = {ctx.value(b)} where the output {a} = {ctx.value(a)} belongs.",
                        f"netforout:{i}:{a}", edits=((i, SUBSTITUTION, swap({a: b})),))
    # the activation skipped altogether: out = net, carried onward
    for i, f in ctx.of_kind("out"):
        net = _renamed(f.name, naming.net)
        if net in ctx.ev.base and ctx.spec.layers[f.step.layer].activation not in ("identity", "softmax"):
            yield Candidate("net-for-out", 3,
                            f"You took {f.name} = {net} = {ctx.value(net)}, skipping the activation; "
                            f"{f.name} = {f.step.rhs} = {ctx.value(f.name)}.",
                            f"skipact:{i}", edits=((i, STRUCTURAL, replace_with(symbol(net))),))


@mistake("out-for-net", 3, "A neuron's output used where its net input belongs (also the activation's derivative taken at out).")
def out_for_net(ctx):
    for i, f, a, b in _pairs(ctx, "net_", "out_"):
        if f.kind == "out":
            continue
        yield Candidate("out-for-net", 3,
                        f"In {f.name} you used {b} = {ctx.value(b)} where the net input {a} = {ctx.value(a)} belongs.",
                        f"outfornet:{i}:{a}", edits=((i, SUBSTITUTION, swap({a: b})),))
    # the activation's derivative as a function of net, taken at the output instead
    for i, f in ctx.of_kind("dout/dnet"):
        act = ctx.spec.layers[f.step.layer].activation
        base, sample = naming.split_sample(f.name)
        pair = naming.split_d(base)
        if act not in AT_NET or pair is None:
            continue
        out = naming.in_sample(pair[0], sample, sample + 1) if sample is not None else pair[0]
        if out not in ctx.ev.base:
            continue
        yield Candidate("out-for-net", 3,
                        f"In {f.name} you took the {act} derivative at the output {out} = {ctx.value(out)} "
                        f"instead of at the net input {_renamed(out, naming.net)}.",
                        f"derivatout:{i}", edits=((i, STRUCTURAL, replace_with(AT_NET[act](symbol(out)))),))
