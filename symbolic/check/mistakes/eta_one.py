"""eta-one: the learning rate taken as 1 (the update subtracts the whole gradient)."""

from ..program import Candidate
from . import mistake


@mistake("eta-one", 2, "The learning rate η taken as 1: the update subtracts the whole gradient.")
def generate(ctx):
    if "eta" not in ctx.ev.leaves or ctx.ev.leaves["eta"] == 1.0:
        return
    yield Candidate("eta-one", 2, f"You took the learning rate as 1 instead of eta = {ctx.value('eta')}.",
                    "eta-one", leaves=(("eta", 1.0),))
