"""missing-activation-derivative: the dout/dnet factor taken as 1."""

from ...derive import format_value
from ..program import Candidate
from . import STRUCTURAL, SUBSTITUTION, constant, expr_text, mistake, substitute


@mistake("missing-activation-derivative", 2, "The activation's derivative dout/dnet left out (taken as 1).")
def generate(ctx):
    ev = ctx.ev
    layers: dict = {}
    for i, f in ctx.of_kind("dout/dnet"):
        if f.rhs != 1:
            layers.setdefault((f.step.layer, f.sample), []).append(i)
    for i, f in ctx.of_kind("dout/dnet"):
        if f.rhs != 1:
            yield Candidate("missing-activation-derivative", 2,
                            f"You left out the activation's derivative {f.name} = {expr_text(f.step.rhs)} "
                            f"(it is {format_value(ev.truth[f.name])}, not 1).",
                            f"act:{i}", edits=((i, STRUCTURAL, constant(1)),))
    for i, f in enumerate(ctx.flat):
        if f.kind == "dout/dnet":
            continue
        for name in sorted(f.deps):
            j = ev.index.get(name)
            if j is None or ctx.flat[j].kind != "dout/dnet":
                continue
            yield Candidate("missing-activation-derivative", 2,
                            f"In {f.name} you left out the factor {ctx.flat[j].step.name} = "
                            f"{expr_text(ctx.flat[j].step.rhs)}, the activation's derivative.",
                            f"actin:{i}:{name}", edits=((i, SUBSTITUTION, substitute(name, 1)),))
    # the whole layer's derivative left out, after the single neurons'
    for (layer, sample), steps in sorted(layers.items(), key=lambda t: (t[0][0], t[0][1] or 0)):
        if len(steps) > 1:
            yield Candidate("missing-activation-derivative", 2,
                            f"You left out the activation's derivative dout/dnet in layer {layer} (taken as 1).",
                            f"act:layer:{layer}:{sample}", edits=tuple((i, STRUCTURAL, constant(1)) for i in steps),
                            pairable=False)
