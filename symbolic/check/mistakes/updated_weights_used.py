"""updated-weights-used: w+ where the original w belongs (hidden deltas from updated weights), or the reverse."""

from ... import naming
from ..program import Candidate
from . import SUBSTITUTION, mistake, swap


@mistake("updated-weights-used", 4, "Hidden deltas computed from weights already updated (w⁺ where w belongs), or the reverse.")
def generate(ctx):
    index, spec = ctx.ev.index, ctx.spec
    every = []
    for i, f in enumerate(ctx.flat):
        if f.kind == "update":
            continue
        for p in sorted(f.deps):
            plus = naming.updated(p)
            if p in spec.parameters and index.get(plus, len(ctx.flat)) < i:
                yield Candidate("updated-weights-used", 4,
                                f"In {f.name} you used the updated {plus} = {ctx.value(plus)} where the original "
                                f"{p} = {ctx.value(p)} belongs: the weights change only after the whole backward pass.",
                                f"upd:{i}:{p}", edits=((i, SUBSTITUTION, swap({p: plus})),))
                every.append((i, SUBSTITUTION, swap({p: plus})))
            if p.endswith("+") and p[:-1] in spec.parameters:
                yield Candidate("updated-weights-used", 4,
                                f"In {f.name} you used the original {p[:-1]} = {ctx.value(p[:-1])} where the "
                                f"updated {p} = {ctx.value(p)} belongs.",
                                f"orig:{i}:{p}", edits=((i, SUBSTITUTION, swap({p: p[:-1]})),))
    if len(every) > 1:
        yield Candidate("updated-weights-used", 4,
                        "You used the updated weights (w+) in the hidden layers' backward pass where the original "
                        "weights belong: the weights change only after the whole backward pass.",
                        "upd:all", edits=tuple(every))
