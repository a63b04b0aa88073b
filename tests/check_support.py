"""For the checker's tests: random networks, and an independent forward and backward pass with
mistakes injected, written from the math (mpmath, 40 digits), not from stepgrad's derivation.

The spec text is parsed by stepgrad (that is the input format), but every value is computed
here from the spec's data: layers, activations, weights (name, source, target), biases, error,
samples and training options.  :class:`Slip` holds the knobs that inject a student's mistake.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import mpmath
from hypothesis import strategies as st

from stepgrad.symbolic import spec as spec_mod

mpmath.mp.dps = 40

OUTPUTS = {"half_sse": ("sigmoid", "tanh", "identity"), "mse": ("identity", "sigmoid"),
           "binary_cross_entropy": ("sigmoid",), "categorical_cross_entropy": ("softmax",)}
HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus")


# -- random specs ----------------------------------------------------------------------

def _hundredths(draw, low=5, high=95):
    k = draw(st.integers(low, high)) * draw(st.sampled_from((1, -1)))
    return str(Decimal(k) / 100)


@st.composite
def specs(draw, hidden=HIDDEN, errors=tuple(OUTPUTS), n_hidden=(1, 2), widths=(1, 3), samples=(1, 1),
          bias_kinds=("shared", "per_neuron"), trainable=(True, False), reductions=("sum", "mean"),
          batches=("online",), low: int = 5) -> str:
    """The TOML text of a random small network with 2-decimal values (not multiples of each other)."""
    error = draw(st.sampled_from(errors))
    depth = draw(st.integers(*n_hidden))
    sizes = [draw(st.integers(1, 2))] + [draw(st.integers(*widths)) for _ in range(depth)] + \
        [draw(st.integers(2 if error == "categorical_cross_entropy" else 1, 2))]
    acts = [draw(st.sampled_from(hidden)) for _ in range(depth)] + [draw(st.sampled_from(OUTPUTS[error]))]
    lines = [f'title = "checker test {"-".join(map(str, sizes))}"', f'error = "{error}"']
    for k, size in enumerate(sizes):
        lines += ["", "[[layers]]", f"size = {size}"]
        if k:
            lines.append(f'activation = "{acts[k - 1]}"')
            lines.append(f'bias = "{draw(st.sampled_from(bias_kinds))}"')
            lines.append(f"bias_trainable = {'true' if draw(st.sampled_from(trainable)) else 'false'}")
    skeleton = spec_mod.parse("\n".join(lines + ["", "[[samples]]", f"inputs = {[0.1] * sizes[0]}",
                                                 f"targets = {[0.5] * sizes[-1]}" if error != "categorical_cross_entropy"
                                                 else f"targets = {[1] + [0] * (sizes[-1] - 1)}",
                                                 "", "[initializer]", 'scheme = "uniform"', "seed = 1",
                                                 "", "[training]", "learning_rate = 0.5"]), "skeleton")
    # distinct magnitudes, so that no two mistakes coincide by the network's symmetry
    n_params = len(skeleton.parameters)
    magnitudes = draw(st.lists(st.integers(low, 95), min_size=n_params, max_size=n_params, unique=True))
    signs = draw(st.lists(st.sampled_from((1, -1)), min_size=n_params, max_size=n_params))
    lines += ["", "[parameters]"]
    lines += [f"{p} = {Decimal(m * sg) / 100}" for p, m, sg in zip(skeleton.parameters, magnitudes, signs)]
    n = draw(st.integers(*samples))
    for _ in range(n):
        inputs = [_hundredths(draw, 5, 99) for _ in range(sizes[0])]
        if error == "categorical_cross_entropy":
            hot = draw(st.integers(0, sizes[-1] - 1))
            targets = ["1" if j == hot else "0" for j in range(sizes[-1])]
        else:
            targets = [str(Decimal(draw(st.integers(5, 95))) / 100) for _ in range(sizes[-1])]
        lines += ["", "[[samples]]", f"inputs = [{', '.join(inputs)}]", f"targets = [{', '.join(targets)}]"]
    batch = draw(st.sampled_from(batches)) if n > 1 else "online"
    lines += ["", "[training]", f"learning_rate = {draw(st.sampled_from(('0.1', '0.25', '0.5', '0.3')))}",
              "steps = 3", f'batch = "{batch}"', f'reduction = "{draw(st.sampled_from(reductions))}"']
    return "\n".join(lines) + "\n"


# -- the independent computation --------------------------------------------------------

@dataclass
class Slip:
    """A student's mistake, as knobs of the computation (all off by default)."""

    eta: object = None                      # the learning rate used
    half: str = ""                          # "E": error without 1/2; "d": derivative doubled
    update_sign: int = 1                    # -1: w + eta*g
    sse_derivative: bool = False            # out - target under cross-entropy
    dEdout_sign: int = 1                    # -1: target - out
    act_derivative: dict = field(default_factory=dict)   # layer -> "one", "sigmoid", "tanh", ...
    reduction: str | None = None            # the batch reduction used
    round_out: dict = field(default_factory=dict)        # layer -> decimals the outputs were rounded to
    grad_uses_net: bool = False             # dE/dw = delta * net_src (layer >= 2)
    skip_activation: set = field(default_factory=set)    # neurons whose out was taken as net
    params: dict = field(default_factory=dict)           # parameter name -> value read (everywhere)
    net_weight: dict = field(default_factory=dict)       # (neuron, weight) -> other weight, in that net only
    inputs: dict = field(default_factory=dict)           # input -> other input's value used (everywhere)
    targets: dict = field(default_factory=dict)          # target neuron -> other target neuron (everywhere)
    hidden_updated: bool = False            # hidden deltas from the updated output weights
    no_bias: set = field(default_factory=set)            # neurons whose net leaves the bias out
    given: dict = field(default_factory=dict)            # a given value misread: name -> value
    derivative_at_out: set = field(default_factory=set)  # layers whose dout/dnet was taken at out, not net
    pins: dict = field(default_factory=dict)             # the student's own earlier values: net_X, out_X, delta_X


def dec(text) -> mpmath.mpf:
    return mpmath.mpf(str(text))


def _act(name, x, slope):
    if name == "sigmoid":
        return 1 / (1 + mpmath.exp(-x))
    if name == "tanh":
        return mpmath.tanh(x)
    if name == "relu":
        return x if x > 0 else mpmath.mpf(0)
    if name == "leaky_relu":
        return x if x > 0 else slope * x
    if name == "softplus":
        return mpmath.log(1 + mpmath.exp(x))
    if name == "identity":
        return x
    raise AssertionError(f"no reference for the activation {name!r}")


def _act_derivative(name, x, y, slope):
    if name == "sigmoid":
        return y * (1 - y)
    if name == "tanh":
        return 1 - y * y
    if name == "relu":
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)
    if name == "leaky_relu":
        return mpmath.mpf(1) if x > 0 else slope
    if name == "softplus":
        return 1 / (1 + mpmath.exp(-x))
    if name == "one":
        return mpmath.mpf(1)
    return mpmath.mpf(1)


def sample_pass(spec, params: dict, s: int, slip: Slip, eta) -> dict:
    """Forward and backward pass of one sample: every canonical quantity's value."""
    v: dict = {}
    sample = spec.samples[s]
    inputs = {k: (dec(slip.given[k]) if k in slip.given else mpmath.mpf(x.p) / x.q) for k, x in sample.inputs}
    inputs = {k: inputs[slip.inputs.get(k, k)] for k in inputs}
    targets = {k: (dec(slip.given["target_" + k]) if "target_" + k in slip.given else mpmath.mpf(x.p) / x.q)
               for k, x in sample.targets}
    targets = {k: targets[slip.targets.get(k, k)] for k in targets}
    out = dict(inputs)
    net: dict = {}
    incoming: dict = {}
    for w in spec.weights:
        incoming.setdefault(w.dst, []).append(w)
    bias_of = {n: b.name for b in spec.biases for n in b.neurons}
    L = len(spec.layers) - 1
    for k in range(1, L + 1):
        layer = spec.layers[k]
        slope = mpmath.mpf(layer.slope.p) / layer.slope.q if layer.slope is not None else mpmath.mpf("0.01")
        for n in layer.neurons:
            total = mpmath.mpf(0)
            for w in incoming.get(n, []):
                name = slip.net_weight.get((n, w.name), w.name)
                total += params[name] * out[w.src]
            if n in bias_of and n not in slip.no_bias:
                total += params[bias_of[n]]
            net[n] = dec(slip.pins[f"net_{n}"]) if f"net_{n}" in slip.pins else total
        if layer.activation == "softmax":
            m = max(net[n] for n in layer.neurons)
            z = {n: mpmath.exp(net[n] - m) for n in layer.neurons}
            total = sum(z.values())
            for n in layer.neurons:
                out[n] = z[n] / total
        else:
            for n in layer.neurons:
                out[n] = net[n] if n in slip.skip_activation else _act(layer.activation, net[n], slope)
        for n in layer.neurons:
            if f"out_{n}" in slip.pins:
                out[n] = dec(slip.pins[f"out_{n}"])
        if k in slip.round_out:
            for n in layer.neurons:
                out[n] = dec(Decimal(mpmath.nstr(out[n], 35)).quantize(
                    Decimal(1).scaleb(-slip.round_out[k]), rounding=ROUND_HALF_UP))
        for n in layer.neurons:
            v[f"net_{n}"], v[f"out_{n}"] = net[n], out[n]
    # error
    outs = spec.layers[-1].neurons
    E = {}
    dEdy = {}
    n_out = len(outs)
    for o in outs:
        t, y = targets[o], out[o]
        if spec.error == "half_sse":
            E[o] = (t - y) ** 2 / (1 if slip.half == "E" else 2)
            dEdy[o] = -(t - y) * (2 if slip.half == "d" else 1)
        elif spec.error == "mse":
            E[o] = (t - y) ** 2 / n_out
            dEdy[o] = -2 * (t - y) / n_out
        elif spec.error == "binary_cross_entropy":
            E[o] = -(t * mpmath.log(y) + (1 - t) * mpmath.log(1 - y))
            dEdy[o] = (y - t) / (y * (1 - y))
        else:
            E[o] = -t * mpmath.log(y)
            dEdy[o] = -t / y
        if slip.sse_derivative:
            dEdy[o] = y - t
        dEdy[o] *= slip.dEdout_sign
        v[f"E_{o}"] = E[o]
        v[f"dE_total/dout_{o}"] = dEdy[o]
    v["E_total"] = sum(E.values())
    # deltas
    delta: dict = {}
    last = spec.layers[-1]
    if last.activation == "softmax":
        for j in outs:
            delta[j] = sum(dEdy[o] * (out[o] * ((1 if o == j else 0) - out[j])) for o in outs)
    else:
        slope = mpmath.mpf(last.slope.p) / last.slope.q if last.slope is not None else mpmath.mpf("0.01")
        act = slip.act_derivative.get(L, last.activation)
        for o in outs:
            d = _act_derivative(act, net[o], out[o], slope)
            v[f"dout_{o}/dnet_{o}"] = d
            delta[o] = dEdy[o] * d
    for o in outs:
        if f"delta_{o}" in slip.pins:
            delta[o] = dec(slip.pins[f"delta_{o}"])
    outgoing: dict = {}
    for w in spec.weights:
        outgoing.setdefault(w.src, []).append(w)
    for k in range(L - 1, 0, -1):
        layer = spec.layers[k]
        slope = mpmath.mpf(layer.slope.p) / layer.slope.q if layer.slope is not None else mpmath.mpf("0.01")
        act = slip.act_derivative.get(k, layer.activation)
        at_out = k in slip.derivative_at_out
        for h in layer.neurons:
            back = mpmath.mpf(0)
            for w in outgoing.get(h, []):
                weight = params[w.name]
                if slip.hidden_updated and k == L - 1:
                    weight = weight - eta * delta[w.dst] * out[h]
                back += delta[w.dst] * weight
            v[f"dE_total/dout_{h}"] = back
            d = _act_derivative(act, out[h] if at_out else net[h], out[h], slope)
            v[f"dout_{h}/dnet_{h}"] = d
            delta[h] = dec(slip.pins[f"delta_{h}"]) if f"delta_{h}" in slip.pins else back * d
    for n, d in delta.items():
        v[f"delta_{n}"] = d
    for w in spec.weights:
        layer = next(k for k, l in enumerate(spec.layers) if w.dst in l.neurons)
        source = net[w.src] if (slip.grad_uses_net and layer >= 2) else out[w.src]
        v[f"dE_total/d{w.name}"] = delta[w.dst] * source
    for b in spec.biases:
        v[f"dE_total/d{b.name}"] = sum(delta[n] for n in b.neurons)
    return v


def compute(spec, slip: Slip | None = None) -> dict:
    """Every quantity of the first batch, under a mistake; updates as ``p+``."""
    slip = slip or Slip()
    params = {n: mpmath.mpf(x.p) / x.q for n, x in spec.initial}
    params.update({k: dec(val) for k, val in slip.given.items() if k in params})
    read = {**params, **{k: params[vname] if isinstance(vname, str) else vname
                         for k, vname in slip.params.items()}}
    eta = mpmath.mpf(spec.training.learning_rate.p) / spec.training.learning_rate.q
    eta = dec(slip.eta) if slip.eta is not None else eta
    batch = _first_batch(spec)
    per = [sample_pass(spec, read, s, slip, eta) for s in batch]
    n = len(spec.samples)
    values: dict = {}
    if len(batch) == 1:
        values.update(per[0])
        grads = {p: per[0][f"dE_total/d{p}"] for p in spec.parameters}
    else:
        for s, vals in zip(batch, per):
            values.update({f"{k}[{s + 1}]": x for k, x in vals.items()})
        reduction = slip.reduction or spec.training.reduction
        scale = mpmath.mpf(1) / len(batch) if reduction == "mean" else mpmath.mpf(1)
        grads = {p: scale * sum(vals[f"dE_total/d{p}"] for vals in per) for p in spec.parameters}
        values.update({f"dE_total/d{p}": g for p, g in grads.items()})
        values["E_total"] = scale * sum(vals["E_total"] for vals in per)
    trainable = set(spec.trainable)
    for p in spec.parameters:
        g = grads[p]
        values[f"{p}+"] = read[p] - slip.update_sign * eta * g if p in trainable else read[p]
    return values


def _first_batch(spec) -> tuple[int, ...]:
    k = spec.training.batch_size
    n = len(spec.samples)
    size = n if k == 0 else k
    return tuple(range(size))


def written(x, digits: int = 6) -> str:
    """Write x as a student would: rounded half up to *digits* significant digits."""
    d = Decimal(mpmath.nstr(x, 35))
    if abs(d) < Decimal("1e-30"):  # 40-digit noise of an exact 0 (a net input at a ReLU kink)
        return "0"
    places = max(digits - 1 - d.adjusted(), 0)
    return format(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def parse(text: str):
    return spec_mod.parse(text, "random.toml", default_name="random")


def replace_values(spec, **changes):
    return dataclasses.replace(spec, **changes)
