"""Activations and error functions, each forward rule beside its derivative.

Like micrograd's ``engine.py``: one small table, where every entry gives the
function and its derivative in the textbook form the worked example prints
(sigma(1 - sigma) written in terms of ``out``, 1 - tanh^2, the step function
for ReLU).  The derivation checks each textbook derivative against SymPy's own
``diff`` of the forward rule, so a wrong row here cannot go unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp
from mpmath.libmp import prec_to_dps


class sigmoid(sp.Function):
    """The logistic function 1 / (1 + e^-x), kept whole so printers can make it stable."""

    nargs = 1

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))
        return None

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_evalf(self, prec):
        return (1 / (1 + sp.exp(-self.args[0]))).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None


class softplus(sp.Function):
    """The softplus function log(1 + e^x), kept whole so printers can make it stable."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.log(1 + sp.exp(x))
        return None

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    def _eval_evalf(self, prec):
        return sp.log(1 + sp.exp(self.args[0])).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None


@dataclass(frozen=True)
class Activation:
    """An activation: forward rule f(net) and derivative dout/dnet in textbook form."""

    name: str
    title: str
    forward: Callable[[sp.Expr, dict], sp.Expr]
    #: dout/dnet written with ``out`` (and ``net`` where needed), as textbooks do.
    derivative: Callable[[sp.Expr, sp.Expr, dict], sp.Expr]
    #: One sentence on the derivative, for the document.
    note: str
    params: tuple[str, ...] = ()


def _leaky(net, p):
    return sp.Piecewise((net, net > 0), (p["slope"] * net, True))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", "logistic (sigmoid)",
                   lambda net, p: sigmoid(net),
                   lambda out, net, p: out * (1 - out),
                   "The logistic function's derivative is its output times one minus its output."),
        Activation("tanh", "hyperbolic tangent",
                   lambda net, p: sp.tanh(net),
                   lambda out, net, p: 1 - out**2,
                   "The derivative of tanh is one minus its output squared."),
        Activation("relu", "ReLU",
                   lambda net, p: sp.Piecewise((net, net > 0), (0, True)),
                   lambda out, net, p: sp.Piecewise((1, net > 0), (0, True)),
                   "ReLU's derivative is the step function: 1 where net > 0, and 0 where "
                   "net <= 0 (the convention at net = 0 is 0)."),
        Activation("leaky_relu", "leaky ReLU",
                   _leaky,
                   lambda out, net, p: sp.Piecewise((1, net > 0), (p["slope"], True)),
                   "Leaky ReLU's derivative is 1 where net > 0 and the slope where net <= 0 "
                   "(the convention at net = 0 is the slope).",
                   ("slope",)),
        Activation("softplus", "softplus",
                   lambda net, p: softplus(net),
                   lambda out, net, p: sigmoid(net),
                   "The derivative of softplus is the logistic function of the net input."),
        Activation("identity", "identity (linear)",
                   lambda net, p: net,
                   lambda out, net, p: sp.Integer(1),
                   "The identity's derivative is 1."),
        Activation("softmax", "softmax",
                   # softmax is handled layer-wide by the model; these rows are unused.
                   lambda net, p: net,
                   lambda out, net, p: sp.Integer(1),
                   "Softmax couples the layer: dout_k/dnet_j = out_k (1[k = j] - out_j)."),
    )
}

DEFAULT_SLOPE = sp.Rational(1, 100)


@dataclass(frozen=True)
class ErrorFunction:
    """An error per output neuron E_o(target, out), with dE_o/dout_o in textbook form."""

    name: str
    title: str
    forward: Callable[[sp.Expr, sp.Expr, dict], sp.Expr]
    derivative: Callable[[sp.Expr, sp.Expr, dict], sp.Expr]
    #: The range targets must lie in, as (low, high, text) or None for any real.
    target_range: tuple[float, float, str] | None
    #: The range outputs must lie in for the error to be defined.
    note: str
    params: tuple[str, ...] = ()
    #: E_total over the outputs in LaTeX, and how it adds up over them, for the document.
    formula: str = ""
    adds: str = ""


def _huber(t, y, p):
    r, dl = y - t, p["delta"]
    return sp.Piecewise((r**2 / 2, sp.Abs(r) <= dl), (dl * (sp.Abs(r) - dl / 2), True))


def _huber_d(t, y, p):
    r, dl = y - t, p["delta"]
    return sp.Piecewise((r, sp.Abs(r) <= dl), (dl * sp.sign(r), True))


ERRORS: dict[str, ErrorFunction] = {
    e.name: e
    for e in (
        ErrorFunction("half_sse", "squared error, halved (the post's)",
                      lambda t, y, p: sp.Rational(1, 2) * (t - y) ** 2,
                      lambda t, y, p: -(t - y),
                      None,
                      "E = the sum over the outputs of 1/2 (target - out)^2 (summed over the outputs, not averaged).",
                      (), r"E_{total} = \sum_{o} \tfrac{1}{2} (target_{o} - out_{o})^{2}",
                      "summed over the outputs, not averaged"),
        ErrorFunction("mse", "mean squared error",
                      lambda t, y, p: (t - y) ** 2 / p["n_outputs"],
                      lambda t, y, p: -2 * (t - y) / p["n_outputs"],
                      None,
                      "E = 1/n times the sum over the outputs of (target - out)^2, n being the number of outputs "
                      "(averaged over the outputs: with two outputs it equals the post's 1/2 sum).",
                      ("n_outputs",), r"E_{total} = \frac{1}{n} \sum_{o} (target_{o} - out_{o})^{2}",
                      "divided by n, the number of outputs: averaged over the outputs"),
        ErrorFunction("binary_cross_entropy", "binary cross-entropy",
                      lambda t, y, p: -(t * sp.log(y) + (1 - t) * sp.log(1 - y)),
                      lambda t, y, p: (y - t) / (y * (1 - y)),
                      (0.0, 1.0, "between 0 and 1"),
                      "E = -(the sum over the outputs of target log(out) + (1 - target) log(1 - out)) "
                      "(summed over the outputs, not averaged).",
                      (), r"E_{total} = -\sum_{o} \left(target_{o} \ln out_{o} + (1 - target_{o}) \ln(1 - out_{o})\right)",
                      "summed over the outputs, not averaged"),
        ErrorFunction("categorical_cross_entropy", "categorical cross-entropy",
                      lambda t, y, p: -t * sp.log(y),
                      lambda t, y, p: -(t / y),
                      (0.0, 1.0, "between 0 and 1 and summing to 1"),
                      "E = -(the sum over the outputs of target log(out)), one value per sample (summed over the "
                      "outputs, not averaged).",
                      (), r"E_{total} = -\sum_{o} target_{o} \ln out_{o}",
                      "one value per sample, summed over the outputs, not averaged"),
        ErrorFunction("huber", "Huber loss",
                      _huber, _huber_d,
                      None,
                      "E = sum over outputs of 1/2 r^2 where |r| <= delta, else "
                      "delta (|r| - delta/2), with r = out - target (summed over the outputs, not averaged).",
                      ("delta",), r"E_{total} = \sum_{o} \begin{cases} \tfrac{1}{2} r_{o}^{2} & |r_{o}| \le \delta \\ "
                      r"\delta (|r_{o}| - \tfrac{\delta}{2}) & \text{otherwise} \end{cases},\ r_{o} = out_{o} - target_{o}",
                      "summed over the outputs, not averaged"),
    )
}

DEFAULT_HUBER_DELTA = sp.Integer(1)
