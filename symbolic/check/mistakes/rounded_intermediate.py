"""rounded-intermediate: a forward value (net or out) rounded to k decimals, then used onward exactly."""

from ..program import Candidate, round_half_up
from . import mistake

PLACES = tuple(range(1, 9))


def _rounding(places: int):
    return lambda fn: (lambda v: round_half_up(fn(v), places))


@mistake("rounded-intermediate", 4, "Worked from a rounded intermediate: a net input or output rounded to k decimals, then used onward.")
def generate(ctx):
    groups: dict = {}
    for i, f in ctx.of_kind("net", "out"):
        groups.setdefault((f.step.layer, f.kind), []).append(i)
    for (layer, kind), steps in sorted(groups.items()):
        for k in PLACES:
            names = sorted({ctx.flat[i].name for i in steps})
            what = f"the layer-{layer} {kind} values ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
            yield Candidate("rounded-intermediate", 4,
                            f"You worked from {what} rounded to {k} decimals: keep every digit of "
                            f"intermediate results until the end.",
                            f"rounded:{layer}:{kind}:{k}", hooks=tuple((i, _rounding(k)) for i in steps),
                            pairable=False)
            if len(steps) > 1:
                for i in steps:
                    yield Candidate("rounded-intermediate", 4,
                                    f"You worked from {ctx.flat[i].name} rounded to {k} decimals: keep every "
                                    f"digit of intermediate results until the end.",
                                    f"rounded:{i}:{k}", hooks=((i, _rounding(k)),), pairable=False)
