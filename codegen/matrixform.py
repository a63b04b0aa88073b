"""The backward pass restated in matrix form, with the numbers: the bridge from the post's scalar
chain rule to vectorised code.

For each layer l, from the output back:

    delta(l)  = (W(l+1))^T delta(l+1) ⊙ f'(net(l))      (hidden layers)
    dE/dW(l)  = delta(l) (out(l-1))^T

and, for a batch, the deltas of every sample side by side as the columns of one matrix, so that
dE/dW(l) = (1/m) Delta(l) (Out(l-1))^T with the mean (without 1/m with the sum).  Every number is
the derivation's own value; nothing is recomputed here.  The section names the lines of the
generated NumPy module (``stepgrad module --form numpy``) that compute each product; there the
samples are the rows, so the same products appear transposed.
"""

from __future__ import annotations

from ..symbolic import naming
from ..symbolic.derive import Derivation

from .document import Equation, Paragraph, Section, code, para, sample_values
from .printers import number_text

#: Matrices are printed with their numbers only up to this many rows and columns.
MAX_WIDTH = 4


def weight_grid(spec, k: int) -> list[list[str]] | None:
    """Layer k's weight names as a matrix (a row per neuron, a column per neuron of the layer before),
    or None when the layer is not fully connected by distinct weights (its products would not be
    plain matrix products)."""
    cell = {(w.dst, w.src): w.name for w in spec.weights if w.layer == k}
    rows, cols = spec.layers[k].neurons, spec.layers[k - 1].neurons
    names = [cell.get((r, c)) for r in rows for c in cols]
    if None in names or len(set(names)) != len(names):
        return None
    return [[cell[(r, c)] for c in cols] for r in rows]


def applies(d: Derivation) -> bool:
    """Whether the matrix form holds as written: every layer fully connected by distinct weights and
    the hidden deltas taken with the original weights (the gradient)."""
    spec = d.spec
    return (spec.training.hidden_deltas == "original"
            and all(weight_grid(spec, k) is not None for k in range(1, len(spec.layers))))


def bmatrix(rows: list[list[str]]) -> str:
    return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(r) for r in rows) + r"\end{bmatrix}"


def column(values: list[str]) -> str:
    return bmatrix([[v] for v in values])


def _sym(name: str, k: int, t: bool = False) -> str:
    return f"{name}^{{({k})" + (r"\top" if t else "") + "}"


def numpy_lines(module_text: str) -> dict[str, tuple[int, str]]:
    """The generated NumPy module's lines inside gradients_arrays that compute deltas, the error's
    derivative with respect to a layer's outputs, and weight gradients: target -> (line number, text)."""
    found: dict[str, tuple[int, str]] = {}
    inside = False
    for number, line in enumerate(module_text.splitlines(), 1):
        if line.startswith("def "):
            inside = line.startswith("def gradients_arrays(")
            continue
        text = line.strip()
        target = text.split(" = ", 1)[0] if " = " in text else ""
        if inside and (target.startswith(("delta", "dE_dout", "dW")) and target[-1:].isdigit()):
            found.setdefault(target, (number, text))
    return found


def matrix_section(d: Derivation, source: str, expand: bool = True) -> Section | None:
    """The section, or None when the network's layers are not plain matrix products; *source* is the
    spec's name as the generated modules give it.  Compact (not *expand*): the numbers of one
    product of each kind (the last hidden layer's delta, the output layer's gradient, the batch)."""
    if not applies(d):
        return None
    from . import npmodule

    module_text = npmodule.generate(d.model, source)
    spec = d.spec
    L = len(spec.layers) - 1
    s = d.batch[0]
    values = sample_values(d, s)
    sample_tag = "" if len(d.batch) == 1 else f" for sample {s + 1}"
    small = max(len(layer.neurons) for layer in spec.layers) <= MAX_WIDTH
    lines = numpy_lines(module_text)

    def num(name: str) -> str:
        return number_text(values[name])

    def delta_vec(k: int) -> list[str]:
        return [num(naming.delta(n)) for n in spec.layers[k].neurons]

    def out_vec(k: int) -> list[str]:
        return [num(n if k == 0 else naming.out(n)) for n in spec.layers[k].neurons]

    def numpy_note(*targets: str) -> tuple:
        shown = [lines[t] for t in targets if t in lines]
        if not shown:
            return ()
        parts = para("NumPy module (") + code("stepgrad module --form numpy") + para("), gradients_arrays: ")
        for j, (number, text) in enumerate(shown):
            parts += para(("; " if j else "") + f"line {number}, ") + code(text)
        return parts + para(" (a row per sample there: transposed).")

    blocks: list = [Paragraph(para(
        "The same backward pass, a layer at a time, as matrix products" + sample_tag + ". ",
        r"W^{(l)}", " has a row per neuron of layer l and a column per neuron of the layer before; ",
        r"\delta^{(l)}", ", ", r"net^{(l)}", " and ", r"out^{(l)}", " are columns; ", r"\odot",
        " multiplies entry by entry. Each entry of a product is one of the sums written out above: ",
        r"\delta^{(l)} = \left(W^{(l+1)}\right)^{\top} \delta^{(l+1)} \odot f'\left(net^{(l)}\right)",
        " and ", r"\frac{\partial E}{\partial W^{(l)}} = \delta^{(l)} \left(out^{(l-1)}\right)^{\top}", "."))]
    if not small:
        blocks.append(Paragraph(para(f"With more than {MAX_WIDTH} neurons in a layer the matrices are not "
                                     "printed; the tables above hold their entries.")))
    elif not expand:
        blocks.append(Paragraph(para("With the numbers for one product of each kind; the other layers' "
                                     "products work the same way, and the tables above hold their entries.")))
    for k in range(L, 0, -1):
        small_delta = small and (expand or k == L - 1)
        # compact with a batch: the batch's product below shows the output layer's gradient
        small_grad = small and (expand or (k == L and len(d.batch) == 1))
        neurons = spec.layers[k].neurons
        # a compact example writes out only the products it gives the numbers of (when it can)
        show_delta = k < L and (expand or not small or small_delta)
        show_grad = expand or not small or small_grad
        if not (show_delta or show_grad):
            continue
        if expand:
            blocks.append(Paragraph(para(f"Layer {k} ({'output' if k == L else 'hidden'}):")))
        if show_delta:
            grid = weight_grid(spec, k + 1)
            wt = [[num(grid[r][c]) for r in range(len(grid))] for c in range(len(grid[0]))]
            fprime = [num(naming.d(naming.out(n), naming.net(n))) for n in neurons]
            forms = [(r"\left(W^{(" + str(k + 1) + r")}\right)^{\top} \delta^{(" + str(k + 1) + r")} \odot f'\left(net^{("
                        + str(k) + r")}\right)")]
            if small_delta:
                forms.append(bmatrix(wt) + " " + column(delta_vec(k + 1)) + r" \odot " + column(fprime))
                forms.append(column(delta_vec(k)))
            blocks.append(Equation(_sym(r"\delta", k), tuple(forms), numpy_note(f"dE_dout{k}", f"delta{k}")))
        elif small_grad:
            blocks.append(Equation(_sym(r"\delta", k), (column(delta_vec(k)),),
                                   para("The output deltas, as derived above.")))
        if not show_grad:
            continue
        grid = weight_grid(spec, k)
        grads = [[num(naming.d(naming.E_TOTAL, w)) for w in row] for row in grid]
        forms = [_sym(r"\delta", k) + r" \left(" + _sym("out", k - 1) + r"\right)^{\top}"]
        if small_grad:
            forms.append(column(delta_vec(k)) + " " + bmatrix([out_vec(k - 1)]))
            forms.append(bmatrix(grads))
        blocks.append(Equation(r"\frac{\partial E}{\partial W^{(" + str(k) + ")}}", tuple(forms),
                               numpy_note(f"dW{k}")))
    if len(d.batch) > 1:
        m = len(d.batch)
        mean = spec.training.reduction == "mean"
        blocks.append(Paragraph(para(
            "The batch as a matrix: put each sample's deltas and outputs side by side as columns, ",
            r"\Delta^{(l)} = \left[\delta^{(l)}_{1} \cdots \delta^{(l)}_{m}\right]", " and ",
            r"O^{(l-1)} = \left[out^{(l-1)}_{1} \cdots out^{(l-1)}_{m}\right]",
            "; one product sums the samples' gradients" + (", and dividing by m averages them" if mean else "")
            + f" (m = {m}). For the output layer:")))
        k = L
        grid = weight_grid(spec, k)
        combined = [[number_text(d.values[naming.d(naming.E_TOTAL, w)]) for w in row] for row in grid]
        per = [sample_values(d, t) for t in d.batch]
        scale = rf"\frac{{1}}{{{m}}} " if mean else ""
        forms = [scale + _sym(r"\Delta", k) + r" \left(" + _sym("O", k - 1) + r"\right)^{\top}"]
        if small:
            deltas = [[number_text(v[naming.delta(n)]) for v in per] for n in spec.layers[k].neurons]
            outs_t = [[number_text(v[n if k == 1 else naming.out(n)]) for n in spec.layers[k - 1].neurons]
                      for v in per]
            forms.append(scale + bmatrix(deltas) + " " + bmatrix(outs_t))
            forms.append(bmatrix(combined))
        blocks.append(Equation(r"\frac{\partial E_{total}}{\partial W^{(" + str(k) + ")}}", tuple(forms),
                               numpy_note(f"dW{k}")))
    return Section("The backward pass in matrix form", tuple(blocks), "matrix")
