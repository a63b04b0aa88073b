"""missing-sum-term: one term of a sum left out (a path through an output, the bias, a sample)."""

import sympy as sp

from ...model import symbol
from ..program import Candidate
from . import STRUCTURAL, drop, expr_text, mistake, replace_with, terms


@mistake("missing-sum-term", 5, "One term of a sum left out: the bias, a path through one output, one sample of a batch.")
def generate(ctx):
    biases = [symbol(b.name) for b in ctx.spec.biases]
    for i, f in enumerate(ctx.flat):
        parts = terms(f.rhs)
        if f.kind == "batch" and not parts and isinstance(f.rhs, sp.Mul):
            yield from _inside_mean(i, f)  # 1/n (g1 + g2 + ...): a sample left out of the average
            continue
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
    # softmax treated like an elementwise activation: only the diagonal of its Jacobian kept
    for i, f in ctx.of_kind("delta"):
        if ctx.spec.layers[f.step.layer].activation != "softmax":
            continue
        parts = terms(f.rhs)
        own = [j for j, t in enumerate(parts) if _diagonal(t, f.name)]
        if len(parts) < 2 or len(own) != 1:
            continue
        kept = parts[own[0]]
        yield Candidate("missing-sum-term", 3,
                        f"In {f.name} you kept only the diagonal term {expr_text(kept)} of the softmax Jacobian; "
                        f"softmax couples the outputs, so delta sums dE_total/dout_k * dout_k/dnet over every output k.",
                        f"softmax-diagonal:{i}", edits=((i, STRUCTURAL, replace_with(kept)),))


def _inside_mean(i, f):
    scale = [a for a in f.rhs.args if a.is_Number]
    inner = [a for a in f.rhs.args if isinstance(a, sp.Add)]
    if len(scale) != 1 or len(inner) != 1:
        return
    parts = inner[0].args
    for j, term in enumerate(parts):
        rest = [t for k, t in enumerate(parts) if k != j]
        rhs = sp.Mul(scale[0], rest[0] if len(rest) == 1 else sp.Add(*rest, evaluate=False), evaluate=False)
        yield Candidate("missing-sum-term", 5, f"In {f.name} you left out the term {expr_text(term)} of the "
                                               f"average over the batch.",
                        f"dropmean:{i}:{j}", edits=((i, STRUCTURAL, replace_with(rhs)),))


def _diagonal(term, name: str) -> bool:
    """Whether a term of a softmax delta is dE/dout_j * dout_j/dnet_j for the delta's own j."""
    base, _, sample = name.partition("[")
    j = base[len("delta_"):]
    suffix = f"[{sample}" if sample else ""
    return symbol(f"dout_{j}/dnet_{j}{suffix}") in term.free_symbols
