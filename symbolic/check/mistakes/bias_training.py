"""frozen-bias-updated / bias-not-updated: a frozen bias moved, or a trained bias left alone."""

import sympy as sp

from ... import naming
from ...model import ETA, symbol
from ..program import Candidate
from . import STRUCTURAL, mistake, replace_with, terms


@mistake("frozen-bias-updated", 2, "A bias the spec freezes updated anyway (b − η·∂E/∂b).")
def frozen(ctx):
    for i, f in ctx.of_kind("update"):
        b = f.step.name[:-1]
        grad = naming.d(naming.E_TOTAL, b)
        if b in ctx.bias and not ctx.bias[b].trainable and grad in ctx.ev.index:
            rhs = sp.Add(symbol(b), sp.Mul(-1, ETA, symbol(grad), evaluate=False), evaluate=False)
            yield Candidate("frozen-bias-updated", 2,
                            f"This spec freezes {b} (it is not trained), so {f.name} = {b} = {ctx.value(b)}; "
                            f"you updated it by eta * {grad}.",
                            f"frozen-bias:{i}", edits=((i, STRUCTURAL, replace_with(rhs)),))


@mistake("bias-not-updated", 2, "A trained bias left unchanged by the update.")
def left(ctx):
    for i, f in ctx.of_kind("update"):
        b = f.step.name[:-1]
        if b in ctx.bias and ctx.bias[b].trainable and terms(f.rhs):
            yield Candidate("bias-not-updated", 2,
                            f"{b} is trained in this spec: {f.name} = {b} - eta * dE_total/d{b}; you left it "
                            f"at {ctx.value(b)}.",
                            f"bias-left:{i}", edits=((i, STRUCTURAL, replace_with(symbol(b))),))
