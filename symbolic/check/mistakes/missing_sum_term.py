"""missing-sum-term: one term of a sum left out (a path through an output, the bias, a sample)."""

from ...model import symbol
from ..program import Candidate
from . import STRUCTURAL, drop, expr_text, mistake, terms


@mistake("missing-sum-term", 5, "One term of a sum left out: the bias, a path through one output, one sample of a batch.")
def generate(ctx):
    biases = [symbol(b.name) for b in ctx.spec.biases]
    for i, f in enumerate(ctx.flat):
        parts = terms(f.rhs)
        if len(parts) < 2 or f.kind == "update":
            continue
        for j, term in enumerate(parts):
            shown = expr_text(term)
            if f.kind == "net" and biases and term.has(*biases):
                what = f"the bias term {shown}"
            elif f.kind == "batch":
                what = f"the term {shown} of the sum over the batch"
            elif f.kind in ("E_total", "dE/dout", "delta"):
                what = f"the term {shown} of the sum over the outputs"
            else:
                what = f"the term {shown}"
            yield Candidate("missing-sum-term", 5, f"In {f.name} you left out {what}.", f"drop:{i}:{j}",
                            edits=((i, STRUCTURAL, drop(j)),))
