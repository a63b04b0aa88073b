"""Generate a vectorized NumPy gradient module from a spec's layer structure.

The scalar module (:mod:`codegen.pymodule`) writes one line per weight; past a
few hundred parameters that is slow to generate and slow to run.  This
generator writes one matrix product per layer and the delta recursion
``delta_k = (delta_{k+1} @ W_{k+1}) * dout_k/dnet_k`` instead, so generation
time does not grow with width.  Only the elementwise rules come from SymPy:
each activation's forward rule and textbook derivative (in terms of ``out``
and ``net``) from :data:`symbolic.functions.ACTIVATIONS`, the error function
and its derivative from :data:`symbolic.functions.ERRORS`, printed with a
subclass of SymPy's ``NumPyPrinter``.  The output delta is simplified with
``cancel`` so that sigmoid with binary cross-entropy and softmax with
categorical cross-entropy stay finite at saturated outputs.

The generated module imports numpy itself; stepgrad does not need numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from ..symbolic import naming
from ..symbolic.functions import sigmoid
from ..symbolic.model import Model
from ..symbolic.program import KINK_TOLERANCE, cancel_division, stable_cross_entropy
from ..symbolic.spec import Spec

from .printers import exact_decimal
from .render import render_template, source_line

#: Networks with at most this many parameters get the scalar module from choose_form.
#: Measured by benchmarks/run.py, one sample per gradient: the scalar module is faster
#: than the NumPy one at 139 parameters (4-8-8-3) and 4x slower at 544 (16-16-16), its
#: time growing about linearly with the parameters while NumPy's per-call overhead
#: stays; they cross near 150-200.  Below this size the scalar module also needs no
#: numpy and stays readable line by line.
SCALAR_LIMIT = 200

#: exp overflows float64 above about 709.78; clipping the exponent there keeps the
#: sigmoid finite and warning-free at the cost of one elementwise minimum.
EXP_LIMIT = 709.0


def choose_form(spec: Spec) -> str:
    """Return "scalar" for networks of at most SCALAR_LIMIT parameters, else "numpy".

    The scalar module is straight-line Python over ``math``, one line per weight;
    the NumPy module does one matrix product per layer and needs numpy at run time.

    >>> from stepgrad.symbolic.spec import load
    >>> choose_form(load("mazur"))
    'scalar'
    """
    return "scalar" if len(spec.parameters) <= SCALAR_LIMIT else "numpy"


# -- printing --------------------------------------------------------------

class NumPy(NumPyPrinter):
    """Print elementwise rules over whole arrays, with stable sigmoid and softplus."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.names = names

    def _print_Symbol(self, expr):
        return self.names[expr]

    def _print_sigmoid(self, expr):
        minus = self._print(-expr.args[0])
        return f"1/(1 + numpy.exp(numpy.minimum({minus}, {EXP_LIMIT})))"

    def parenthesize(self, item, level, strict=False):
        # The sigmoid prints as a quotient, so a product or power must bracket it.
        if isinstance(item, sigmoid) and level >= PRECEDENCE["Mul"]:
            return f"({self._print(item)})"
        return super().parenthesize(item, level, strict)

    def _print_softplus(self, expr):
        return f"numpy.logaddexp(0, {self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        *pieces, (last, cond) = expr.args
        if cond != sp.true:
            raise ValueError("a Piecewise rule needs a final 'otherwise' piece")
        text = self._print(last)
        for value, cond in reversed(pieces):
            text = f"numpy.where({self._print(cond)}, {self._print(value)}, {text})"
        return text

    def _print_Rational(self, expr):
        text = exact_decimal(expr)
        return text if text is not None else f"{expr.p}/{expr.q}"

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e == -1:
            return f"(1/{self.parenthesize(base, precedence(expr))})"
        return super()._print_Pow(expr, rational)

    def _as_ordered_terms(self, expr, order=None):
        # a - b rather than -b + a: NumPy would negate a whole array first.
        terms = super()._as_ordered_terms(expr, order=order)
        return sorted(terms, key=lambda t: t.could_extract_minus_sign())


def _dummy(name: str) -> sp.Symbol:
    """A real symbol standing for a whole array in a rule (out, net, target)."""
    return sp.Symbol(name, real=True)


OUT, NET, TARGET, BACK = _dummy("out"), _dummy("net"), _dummy("target"), _dummy("dE_dout")


def _cancelled(expr: sp.Expr) -> sp.Expr:
    """Cancel a division (cross-entropy's 1/(y(1-y)), 1/y), so saturated outputs stay finite.

    factor_terms also takes a constant back out of a sum (mse's 2/n), saving array passes.
    """
    return sp.factor_terms(cancel_division(expr))


def _print(expr: sp.Expr, **names: str) -> str:
    """Print a rule with its dummy symbols named after the layer's arrays."""
    mapping = {OUT: names.get("out"), NET: names.get("net"), TARGET: names.get("target"),
               BACK: names.get("back")}
    return NumPy({k: v for k, v in mapping.items() if v is not None}).doprint(expr)


# -- the layer structure ---------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One line of generated code."""

    target: str
    expr: str


@dataclass(frozen=True)
class LayerLayout:
    """Where one layer's parameters sit in its weight matrix and bias vector."""

    n_in: int
    n_out: int
    #: Python text of a tuple of weight names, in spec order.
    weight_names: str
    weight_count: int
    #: Python text of a tuple of (row, column) per weight, or "None" for row-major dense.
    positions: str
    #: "per_neuron", "shared" or "none".
    bias_kind: str
    #: Python text of a tuple of the layer's bias names.
    bias_names: str
    bias_trainable: bool
    #: Python text of (name, column) pairs for forward(): column j < n_out is net_j, else out_(j - n_out).
    forward_names: str

    @property
    def dense(self) -> bool:
        return self.positions == "None"

    @property
    def masked(self) -> bool:
        return self.weight_count < self.n_in * self.n_out


_NUMBERED = re.compile(r"(.*?)([1-9][0-9]*)\Z")


def _names_text(names: list[str]) -> str:
    """Write a tuple of names; a run prefix1..prefixN is written as a call to _numbered."""
    m = _NUMBERED.match(names[0]) if names else None
    if m and len(names) > 8:
        prefix, start = m.group(1), int(m.group(2))
        if all(n == f"{prefix}{start + k}" for k, n in enumerate(names)):
            return f"_numbered({prefix!r}, {start}, {len(names)})"
    return "(" + "".join(f"{n!r}, " for n in names) + ")"


def _layout(model: Model, k: int) -> LayerLayout:
    """Describe layer k's weights (into it) and biases as text tables for the template."""
    spec = model.spec
    src = {n: j for j, n in enumerate(spec.layers[k - 1].neurons)}
    dst = {n: i for i, n in enumerate(spec.layers[k].neurons)}
    weights = [w for w in spec.weights if w.layer == k]
    cells = [(dst[w.dst], src[w.src]) for w in weights]
    n_in, n_out = len(src), len(dst)
    row_major = cells == [(i, j) for i in range(n_out) for j in range(n_in)]
    positions = "None" if row_major else "(" + "".join(f"({i}, {j}), " for i, j in cells) + ")"
    biases = [b for b in spec.biases if b.layer == k]
    if not biases:
        kind = "none"
    elif len(biases) == 1 and len(biases[0].neurons) == n_out and n_out > 1:
        kind = "shared"
    elif [b.neurons for b in biases] == [(n,) for n in spec.layers[k].neurons]:
        kind = "per_neuron"
    else:
        raise ValueError(f"layer {k}: biases must be one per neuron, one shared, or none")
    trainable = {b.trainable for b in biases}
    if len(trainable) > 1:
        raise ValueError(f"layer {k}: its biases must be all trainable or all frozen")
    neurons = spec.layers[k].neurons
    # The scalar module's order: net then out per neuron; a softmax layer needs every net first.
    if spec.layers[k].activation == "softmax":
        order = [(naming.net(n), j) for j, n in enumerate(neurons)] + [
            (naming.out(n), n_out + j) for j, n in enumerate(neurons)]
    else:
        order = [pair for j, n in enumerate(neurons)
                 for pair in ((naming.net(n), j), (naming.out(n), n_out + j))]
    pairs = "".join(f"({name!r}, {column}), " for name, column in order)
    return LayerLayout(n_in, n_out, _names_text([w.name for w in weights]), len(weights), positions, kind,
                       repr(tuple(b.name for b in biases)), trainable != {False}, f"({pairs})")


# -- the code --------------------------------------------------------------

def _forward_lines(model: Model, layouts: list[LayerLayout]) -> list[Line]:
    """net_k = out_{k-1} @ W_k.T + b_k and out_k = f(net_k), layer by layer."""
    lines = []
    for k, lay in enumerate(layouts, start=1):
        bias = f" + b{k}" if lay.bias_kind != "none" else ""
        lines.append(Line(f"net{k}", f"out{k - 1} @ W{k}.T{bias}"))
        if model.spec.layers[k].activation in ("relu", "leaky_relu"):
            # a net input within rounding error of 0 is the kink, as in the scalar module and training
            size = f"numpy.abs(out{k - 1}) @ numpy.abs(W{k}).T" + (f" + numpy.abs(b{k})" if bias else "")
            lines.append(Line(f"net{k}", f"numpy.where(numpy.abs(net{k}) <= {KINK_TOLERANCE!r} * ({size}), "
                                         f"0.0, net{k})"))
        if model.spec.layers[k].activation == "softmax":
            # Shifting by the row maximum keeps exp from overflowing; softmax is unchanged by it.
            lines.append(Line(f"shift{k}", f"net{k} - net{k}.max(axis=1, keepdims=True)"))
            lines.append(Line(f"exp{k}", f"numpy.exp(shift{k})"))
            lines.append(Line(f"sum{k}", f"exp{k}.sum(axis=1, keepdims=True)"))
            lines.append(Line(f"out{k}", f"exp{k} / sum{k}"))
        else:
            rule = model.activation(k).forward(NET, model.act_params(k))
            lines.append(Line(f"out{k}", _print(rule, net=f"net{k}")))
    return lines


def _error_lines(model: Model, last: int) -> tuple[list[Line], str]:
    """Lines before the error, and the per-output error E_o over the output array.

    A cross-entropy is written from the net input by the same rule as the scalar module and
    training (:func:`symbolic.program.stable_cross_entropy`), so that saturated outputs give
    a finite error instead of log(0); for softmax, log(softmax(x)_o) = (x_o - max x) -
    log(sum of exp(x - max x)) is a line of its own.
    """
    rule = model.error_function.forward(TARGET, OUT, model.error_params)
    names = dict(out=f"out{last}", net=f"net{last}", target="T", back=f"logout{last}")
    activation = model.spec.layers[last].activation
    # BACK stands for the log of the softmax output, computed on the line before.
    stable = stable_cross_entropy(model.spec.error, activation, TARGET, NET, BACK)
    if stable is None:
        return [], _print(rule, **names)
    before = [Line(f"logout{last}", f"shift{last} - numpy.log(sum{last})")] if stable.has(BACK) else []
    return before, _print(stable, **names)


def _output_delta(model: Model, last: int) -> list[Line]:
    """delta_L = dE/dout * dout/dnet, cancelled; softmax couples the layer through a row sum."""
    dE = model.error_function.derivative(TARGET, OUT, model.error_params)
    names = dict(out=f"out{last}", net=f"net{last}", target="T")
    if model.softmax_output:
        # delta_j = sum_o dE/dout_o * out_o (1[o=j] - out_j) = g_j - out_j * sum_o g_o.
        g = _cancelled(dE * OUT)
        return [Line(f"g{last}", _print(g, **names)),
                Line(f"delta{last}", f"g{last} - out{last} * g{last}.sum(axis=1, keepdims=True)")]
    rule = _cancelled(dE * model.activation(last).derivative(OUT, NET, model.act_params(last)))
    return [Line(f"delta{last}", _print(rule, **names))]


def _bias_grad(lay: LayerLayout, k: int) -> str:
    if lay.bias_kind == "per_neuron":
        return f"delta{k}.sum(axis=0)"
    if lay.bias_kind == "shared":
        return f"numpy.full({lay.n_out}, delta{k}.sum())"
    return f"numpy.zeros({lay.n_out})"


def _backward_lines(model: Model, layouts: list[LayerLayout], updated: bool, scale_deltas: bool) -> list[Line]:
    """The output delta, then for each layer its gradients and the delta one layer down."""
    last = len(layouts)
    lines = _output_delta(model, last)
    if scale_deltas:
        lines.append(Line(f"delta{last}", f"delta{last} * scale"))
    for k in range(last, 0, -1):
        lay = layouts[k - 1]
        mask = f" * M{k}" if lay.masked else ""
        lines.append(Line(f"dW{k}", f"(delta{k}.T @ out{k - 1}){mask}" if mask else f"delta{k}.T @ out{k - 1}"))
        lines.append(Line(f"db{k}", _bias_grad(lay, k)))
        if k == 1:
            break
        back = f"delta{k} @ W{k}"
        if updated:
            # Each sample's own update W - eta*dW enters its hidden delta:
            # delta @ (W - eta * (delta^T out) * M) = delta @ W - eta * (delta^2 @ M) * out.
            square = (f"((delta{k} * delta{k}) @ M{k})" if lay.masked
                      else f"(delta{k} * delta{k}).sum(axis=1, keepdims=True)")
            back = f"{back} - eta * {square} * out{k - 1}"
        lines.append(Line(f"dE_dout{k - 1}", back))
        rule = BACK * model.activation(k - 1).derivative(OUT, NET, model.act_params(k - 1))
        lines.append(Line(f"delta{k - 1}", _print(rule, out=f"out{k - 1}", net=f"net{k - 1}",
                                                  back=f"dE_dout{k - 1}")))
    return lines


def _ops(expr: sp.Expr) -> int:
    return int(sp.count_ops(expr))


def _operation_counts(model: Model, layouts: list[LayerLayout]) -> tuple[int, int]:
    """Operations per sample: 2 per matrix entry of each product, count_ops per element for rules."""
    forward = gradient = 0
    for k, lay in enumerate(layouts, start=1):
        entries = lay.n_in * lay.n_out
        act = model.activation(k)
        forward += 2 * entries + (lay.n_out if lay.bias_kind != "none" else 0)
        forward += lay.n_out * (3 if act.name == "softmax" else _ops(act.forward(NET, model.act_params(k))))
        gradient += 2 * entries + lay.n_out  # dW = delta^T out, db
        if k > 1:
            gradient += 2 * entries + lay.n_in * (1 + _ops(model.activation(k - 1).derivative(
                OUT, NET, model.act_params(k - 1))))
    n_out = layouts[-1].n_out
    forward += n_out * (1 + _ops(model.error_function.forward(TARGET, OUT, model.error_params)))
    gradient += n_out * _ops(model.error_function.derivative(TARGET, OUT, model.error_params))
    return forward, gradient


def _tuple_text(names) -> str:
    """Write names as an unpacking target: 'W1, W2' or 'W1,'."""
    names = list(names)
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _list_text(names) -> str:
    return "[" + ", ".join(names) + "]"


def generate(model: Model | Spec, source: str) -> str:
    """Generate the NumPy gradient module's source from a spec's model (the pipeline's stage
    before the derivation: this module is written per layer and needs no derivation).

    *source* names the spec in the header (a built-in name or the path as given).  A spec
    is accepted too, and turned into its model.

    >>> from stepgrad.symbolic.spec import load
    >>> "def gradients_arrays(Ws, bs, X, T)" in generate(Model(load("mazur")), "mazur")
    True
    """
    if not isinstance(model, Model):
        model = Model(model)
    spec = model.spec
    layouts = [_layout(model, k) for k in range(1, len(spec.layers))]
    uses_eta = spec.training.hidden_deltas == "updated" and len(layouts) > 1
    mean = spec.training.reduction == "mean"
    forward = _forward_lines(model, layouts)
    backward = _backward_lines(model, layouts, uses_eta, scale_deltas=mean and not uses_eta)
    before_error, error = _error_lines(model, len(layouts))
    forward_ops, gradient_ops = _operation_counts(model, layouts)
    trainable = set(spec.trainable)
    return render_template(
        "gradients_numpy.py.j2",
        header=source_line(spec, source),
        title=spec.title,
        layers=layouts,
        layer_numbers=list(range(1, len(layouts) + 1)),
        weight_vars=_tuple_text(f"W{k}" for k in range(1, len(layouts) + 1)),
        bias_vars=_tuple_text(f"b{k}" for k in range(1, len(layouts) + 1)),
        net_list=_list_text(f"net{k}" for k in range(1, len(layouts) + 1)),
        out_list=_list_text(f"out{k}" for k in range(1, len(layouts) + 1)),
        dW_list=_list_text(f"dW{k}" for k in range(1, len(layouts) + 1)),
        db_list=_list_text(f"db{k}" for k in range(1, len(layouts) + 1)),
        sizes=[len(layer.neurons) for layer in spec.layers],
        inputs=list(spec.inputs),
        outputs=list(spec.outputs),
        frozen=[p for p in spec.parameters if p not in trainable],
        forward=forward,
        before_error=before_error,
        error=error,
        backward=backward,
        uses_eta=uses_eta,
        mean=mean,
        scale_at_end=mean and uses_eta,
        eta=exact_decimal(spec.training.learning_rate) or repr(float(spec.training.learning_rate)),
        reduction=spec.training.reduction,
        hidden_deltas=spec.training.hidden_deltas,
        forward_ops=forward_ops,
        gradient_ops=gradient_ops,
    )
