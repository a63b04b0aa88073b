"""wrong-weight: one weight (or bias) of a layer read for another in one step."""

from ..program import Candidate
from . import SUBSTITUTION, mistake, swap


@mistake("wrong-weight", 4, "One weight or bias used for another of its layer in one step.")
def generate(ctx):
    groups: dict = {}
    for w in ctx.spec.weights:
        groups.setdefault(("w", w.layer), []).append(w.name)
    for b in ctx.spec.biases:
        groups.setdefault(("b",), []).append(b.name)
    group_of = {n: g for g, ns in groups.items() for n in ns}
    order = {n: k for g in groups.values() for k, n in enumerate(g)}
    for i, f in enumerate(ctx.flat):
        for p in sorted(f.deps):
            if p not in group_of:
                continue
            for q in groups[group_of[p]]:
                if q == p:
                    continue
                near = p in ctx.weight and q in ctx.weight and (
                    ctx.weight[p].src == ctx.weight[q].src or ctx.weight[p].dst == ctx.weight[q].dst)
                # a weight of the same source or target, the next one in the numbering, or a bias of the
                # same layer is an easy slip; one sharing nothing with the right one is a less simple one
                close = near or abs(order[p] - order[q]) == 1 or (
                    p in ctx.bias and q in ctx.bias and ctx.bias[p].layer == ctx.bias[q].layer)
                yield Candidate("wrong-weight", 4 if close else 6,
                                f"In {f.name} you used {ctx.describe(q)} = {ctx.value(q)} where "
                                f"{ctx.describe(p)} = {ctx.value(p)} belongs.",
                                f"weight:{i}:{p}:{q}", edits=((i, SUBSTITUTION, swap({p: q})),),
                                pairable=near and f.kind in ("net", "dnet/dout"))
