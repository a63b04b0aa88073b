"""sign-error: target - out for out - target, or a dropped minus in a step or one of its terms."""

from ..program import Candidate
from . import STRUCTURAL, expr_text, mistake, negate, negate_term, terms


@mistake("sign-error", 3, "A wrong sign: target − out for out − target, or a dropped minus.")
def generate(ctx):
    for i, f in enumerate(ctx.flat):
        if f.kind in ("update", "batch"):
            continue
        if f.kind in ("out", "dout/dnet") and not ctx.ev.base.get(f.name, 0) < 0:
            continue  # an activation's positive output or slope has no minus to drop
        if f.kind == "dE/dout" and f.step.layer == ctx.last_layer:
            words = f"{f.name} has the wrong sign: it is {expr_text(f.step.rhs)}, and you wrote its negative."
        else:
            words = f"{f.name} has the wrong sign (a dropped minus)."
        yield Candidate("sign-error", 3, words, f"sign:{i}", edits=((i, STRUCTURAL, negate),),
                        pairable=f.kind == "dE/dout")
        parts = terms(f.rhs)
        if len(parts) >= 2 and f.kind != "net":
            for j, term in enumerate(parts):
                yield Candidate("sign-error", 3,
                                f"In {f.name} the term {expr_text(term)} has the wrong sign (a dropped minus).",
                                f"signterm:{i}:{j}", edits=((i, STRUCTURAL, negate_term(j)),),
                                pairable=f.kind == "dE/dout")
