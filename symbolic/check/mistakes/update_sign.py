"""update-sign: the update adds eta times the gradient instead of subtracting it."""

from ..program import Candidate
from . import STRUCTURAL, mistake, negate_term, terms
from ...model import symbol


@mistake("update-sign", 2, "The update's sign: w + η·∂E/∂w instead of w − η·∂E/∂w.")
def generate(ctx):
    for i, f in ctx.of_kind("update"):
        for j, term in enumerate(terms(f.rhs)):
            if term.has(symbol("eta")):
                p = f.step.name[:-1]
                yield Candidate("update-sign", 2,
                                f"In {f.name} you added eta * dE_total/d{p} instead of subtracting it: "
                                f"gradient descent goes against the gradient.",
                                f"update-sign:{i}", edits=((i, STRUCTURAL, negate_term(j)),))
