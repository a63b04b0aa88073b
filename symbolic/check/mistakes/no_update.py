"""no-update: a trained weight written unchanged after the update."""

from ..program import Candidate
from . import STRUCTURAL, mistake, replace_with, terms
from ...model import symbol


@mistake("no-update", 3, "A trained weight written unchanged: the update w − η·∂E/∂w not applied.")
def generate(ctx):
    for i, f in ctx.of_kind("update"):
        p = f.step.name[:-1].split("[")[0]
        if p not in ctx.weight or not terms(f.rhs):
            continue
        yield Candidate("no-update", 3,
                        f"You wrote {p} unchanged; {f.name} = {p} - eta * dE_total/d{p} moves it.",
                        f"no-update:{i}", edits=((i, STRUCTURAL, replace_with(symbol(p))),))
