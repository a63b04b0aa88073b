"""squared-error-derivative: out - target used as dE/dout under cross-entropy."""

from ..program import Candidate
from . import STRUCTURAL, mistake, replace_with


@mistake("squared-error-derivative", 2, "The squared error's derivative out − target used with a cross-entropy error.")
def generate(ctx):
    if "cross_entropy" not in ctx.spec.error:
        return
    edits = []
    for i, f in ctx.of_kind("dE/dout"):
        if f.step.layer != ctx.last_layer:
            continue
        out = [s for s in f.rhs.free_symbols if s.name.startswith("out_")]
        tgt = [s for s in f.rhs.free_symbols if s.name.startswith("target_")]
        if len(out) == 1 and len(tgt) == 1:
            edits.append((i, STRUCTURAL, replace_with(out[0] - tgt[0])))
    if edits:
        yield Candidate("squared-error-derivative", 2,
                        f"You used the squared error's derivative out - target for dE/dout; with "
                        f"{ctx.spec.error.replace('_', ' ')} it is {ctx.flat[edits[0][0]].step.rhs}.",
                        "sse-derivative", edits=tuple(edits))
