"""batch-summed: the batch's gradients summed where the spec averages them."""

from ..program import Candidate
from . import mistake, scale


@mistake("batch-summed", 2, "The batch gradient summed instead of averaged (or averaged instead of summed).")
def generate(ctx):
    steps = [i for i, f in ctx.of_kind("batch")]
    n = len(ctx.ev.derivation.batch)
    if not steps or n < 2:
        return
    if ctx.spec.training.reduction == "mean":
        words = f"You summed the batch's {n} per-sample values; this spec averages them (divide by {n})."
        factor = float(n)
    else:
        words = f"You averaged the batch's {n} per-sample values; this spec sums them."
        factor = 1.0 / n
    yield Candidate("batch-summed", 2, words, "batch-summed", hooks=tuple((i, scale(factor)) for i in steps))
    for i in steps:
        yield Candidate("batch-summed", 2, words, f"batch-summed:{i}", hooks=((i, scale(factor)),), pairable=False)
