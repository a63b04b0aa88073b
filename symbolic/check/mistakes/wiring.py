"""wrong-wiring / swapped-weights: a layer's weights numbered differently, or two weights swapped."""

import itertools

from ... import naming
from ..program import Candidate
from . import SUBSTITUTION, mistake, swap


def _candidate(ctx, code, rank, k, moved, words, key, pairable=True):
    edits = [(i, SUBSTITUTION, swap(moved)) for i, f in enumerate(ctx.flat) if f.deps & set(moved)]
    by_name = ctx.weight
    rename = []
    # a different numbering renames the student's gradients and updates too; two weights'
    # values exchanged keep their names
    for s, a in (moved.items() if code == "wrong-wiring" else ()):
        dst = by_name[s].dst
        for pattern in (lambda w: naming.d(naming.E_TOTAL, w), naming.updated,
                        lambda w: naming.d(naming.net(dst), w)):
            rename.append((pattern(a), pattern(s)))
    return Candidate(code, rank, words, key, edits=tuple(edits), rename=tuple(rename), pairable=pairable)


@mistake("wrong-wiring", 3, "A layer's weights numbered another way (by source neuron first instead of by target).")
def wiring(ctx):
    spec = ctx.spec
    for k in range(1, len(spec.layers)):
        ws = [w for w in spec.weights if w.layer == k]
        if len(ws) < 2:
            continue
        src = {n: j for j, n in enumerate(spec.layers[k - 1].neurons)}
        dst = {n: j for j, n in enumerate(spec.layers[k].neurons)}
        names = [w.name for w in ws]
        for label, order in (("by source neuron first", sorted(ws, key=lambda w: (src[w.src], dst[w.dst]))),
                             ("by target neuron first", sorted(ws, key=lambda w: (dst[w.dst], src[w.src])))):
            perm = {w.name: a for w, a in zip(order, names)}
            moved = {a: b for a, b in perm.items() if a != b}
            if not moved:
                continue
            where = "; ".join(f"{a} on {ctx.weight[s].src} -> {ctx.weight[s].dst}" for s, a in sorted(moved.items()))
            has = ", ".join(f"{s} = {ctx.weight[s].src} -> {ctx.weight[s].dst}" for s in sorted(moved))
            words = (f"You numbered the weights into layer {k} {label}: {where}; this spec wires {has}.")
            yield _candidate(ctx, "wrong-wiring", 3, k, moved, words, "wiring:" + repr(sorted(moved.items())))
            # the numbering misread in one step only (a hidden delta summed over the weights into
            # one output instead of those out of its neuron), the rest of the work right
            for i, f in enumerate(ctx.flat):
                if len(f.deps & set(moved)) >= 2:
                    yield Candidate("wrong-wiring", 3,
                                    f"In {f.name} you read the weights into layer {k} {label}: {where}; "
                                    f"this spec wires {has}.",
                                    f"wiring:{i}:" + repr(sorted(moved.items())),
                                    edits=((i, SUBSTITUTION, swap(moved)),), pairable=False)


@mistake("swapped-weights", 5, "Two weights of one layer exchanged everywhere they are used.")
def swapped(ctx):
    spec = ctx.spec
    for k in range(1, len(spec.layers)):
        names = [w.name for w in spec.weights if w.layer == k]
        for a, b in itertools.combinations(names, 2):
            wa, wb = ctx.weight[a], ctx.weight[b]
            words = (f"You exchanged {a} and {b} throughout: {a} = {ctx.value(a)} sits on {wa.src} -> {wa.dst} "
                     f"and {b} = {ctx.value(b)} on {wb.src} -> {wb.dst}.")
            yield _candidate(ctx, "swapped-weights", 5, k, {a: b, b: a}, words,
                             "wiring:" + repr(sorted({a: b, b: a}.items())))
