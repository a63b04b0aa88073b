"""missing-half: the 1/2 of the squared error left out (in the error, its derivative, or both)."""

from ..program import Candidate
from . import mistake, scale


@mistake("missing-half", 2, "The ½ of the squared error left out: the error, or its derivative, doubled.")
def generate(ctx):
    if ctx.spec.error != "half_sse":
        return
    errors = [i for i, f in ctx.of_kind("E")]
    derivs = [i for i, f in ctx.of_kind("dE/dout") if f.step.layer == ctx.last_layer]
    words = {
        "E": "You left the 1/2 out of the squared error: E_o = (target - out)^2 instead of 1/2 (target - out)^2.",
        "d": "You left the 1/2 out before differentiating: dE/dout = 2 (out - target) instead of out - target.",
    }
    if errors:
        yield Candidate("missing-half", 2, words["E"], "half:E", hooks=tuple((i, scale(2.0)) for i in errors))
    if derivs:
        yield Candidate("missing-half", 2, words["d"], "half:d", hooks=tuple((i, scale(2.0)) for i in derivs))
    for i in errors + derivs:
        kind = "E" if i in errors else "d"
        yield Candidate("missing-half", 2, words[kind], f"half:{i}", hooks=((i, scale(2.0)),),
                        pairable=False)
