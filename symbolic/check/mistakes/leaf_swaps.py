"""wrong-target / wrong-input: another target or input read where one belongs."""

from ..program import Candidate
from . import SUBSTITUTION, mistake, swap
from ... import naming


def _swaps(ctx, code, rank, kind, names):
    leaves = [n for n in sorted(ctx.ev.leaves) if n.split("[")[0] in names]
    for a in leaves:
        for b in leaves:
            if a == b:
                continue
            steps = ctx.using(a)
            for i in steps:
                yield Candidate(code, rank, f"In {ctx.flat[i].name} you used {b} = {ctx.value(b)} where "
                                            f"{a} = {ctx.value(a)} belongs.",
                                f"{kind}:{i}:{a}:{b}", edits=((i, SUBSTITUTION, swap({a: b})),))
            if len(steps) > 1:
                yield Candidate(code, rank, f"You used {b} = {ctx.value(b)} everywhere {a} = {ctx.value(a)} belongs.",
                                f"{kind}:all:{a}:{b}", edits=tuple((i, SUBSTITUTION, swap({a: b})) for i in steps))
            # the two exchanged throughout: one mistake, not two
            if a < b and a.partition("[")[2] == b.partition("[")[2]:
                both = sorted(set(steps) | set(ctx.using(b)))
                yield Candidate(code, rank, f"You exchanged {a} = {ctx.value(a)} and {b} = {ctx.value(b)} throughout.",
                                f"{kind}:pair:{a}:{b}", edits=tuple((i, SUBSTITUTION, swap({a: b, b: a})) for i in both))


@mistake("wrong-target", 4, "Another output's target used.")
def targets(ctx):
    yield from _swaps(ctx, "wrong-target", 4, "target", [naming.target(o) for o in ctx.spec.outputs])


@mistake("wrong-input", 5, "Another input, or another neuron's output, used where one belongs.")
def inputs(ctx):
    yield from _swaps(ctx, "wrong-input", 5, "input", list(ctx.spec.inputs))
    for i, f in ctx.of_kind("dnet/dw"):
        if f.step.layer < 2:
            continue
        sources = [naming.out(n) for n in ctx.spec.layers[f.step.layer - 1].neurons]
        for a in sorted(f.deps):
            base = a.split("[")[0]
            if base not in sources:
                continue
            for other in sources:
                if other == base:
                    continue
                b = a.replace(base, other, 1)
                yield Candidate("wrong-input", 5,
                                f"In {f.name} you used {b} = {ctx.value(b)} where {a} = {ctx.value(a)} belongs: "
                                f"the weight carries that neuron's output.",
                                f"source:{i}:{a}:{b}", edits=((i, SUBSTITUTION, swap({a: b})),))

    # an activation's derivative taken at another neuron's output: out_o1 (1 - out_o1) for h1
    outs = [naming.out(n) for layer in ctx.spec.layers[1:] for n in layer.neurons]
    for i, f in ctx.of_kind("dout/dnet"):
        for a in sorted(f.deps):
            base, _, sample = a.partition("[")
            if base not in outs:
                continue
            for other in outs:
                b = other + (f"[{sample}" if sample else "")
                if other == base or b not in ctx.ev.base:
                    continue
                yield Candidate("wrong-input", 5,
                                f"In {f.name} you used {b} = {ctx.value(b)} where {a} = {ctx.value(a)} belongs: "
                                f"the derivative is taken at the neuron's own output.",
                                f"derivat:{i}:{a}:{b}", edits=((i, SUBSTITUTION, swap({a: b})),))
