"""Decimals that cancel exactly: a net input of exactly 0 sits on the kink everywhere.

Random 2-H-1 ReLU and leaky ReLU specs whose first hidden neuron's bias is chosen so that
net_h1 = w1 i1 + w2 i2 + b_h1 is exactly 0.  The derivation's printed values, float64 training's
updates and the generated gradient modules (scalar and NumPy) are compared with a computation in Fractions written
here from the math (ReLU'(0) = 0, leaky ReLU'(0) = slope: the documented conventions).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from stepgrad.codegen import npmodule, pipeline, pymodule
from stepgrad.symbolic import naming
from stepgrad.symbolic.derive import derive, train
from stepgrad.symbolic.spec import parse
from stepgrad.symbolic.verify import verify


def _dec(x: Fraction) -> str:
    return str(Decimal(x.numerator) / Decimal(x.denominator))


@st.composite
def cancelling_specs(draw):
    width = draw(st.integers(1, 3))
    activation = draw(st.sampled_from(["relu", "leaky_relu"]))
    slope = Fraction(draw(st.sampled_from(["0.1", "0.2", "0.01"]))) if activation == "leaky_relu" else Fraction(0)
    tenth = st.integers(-10, 10).map(lambda k: Fraction(k, 10))
    twentieth = st.integers(-20, 20).map(lambda k: Fraction(k, 20))
    x = [draw(tenth), draw(tenth)]
    w = {h: [draw(twentieth), draw(twentieth)] for h in range(1, width + 1)}
    b = {h: draw(twentieth) for h in range(1, width + 1)}
    b[1] = -(w[1][0] * x[0] + w[1][1] * x[1])  # net_h1 is exactly 0
    v = {h: draw(twentieth) for h in range(1, width + 1)}
    c = draw(twentieth)
    t = draw(tenth)
    eta = Fraction(draw(st.sampled_from(["0.1", "0.5", "1"])))
    wiring, params = [], []
    k = 0
    for h in range(1, width + 1):
        for i in (1, 2):
            k += 1
            wiring.append(f'w{k} = "i{i} -> h{h}"')
            params.append(f"w{k} = {_dec(w[h][i - 1])}")
    for h in range(1, width + 1):
        k += 1
        wiring.append(f'w{k} = "h{h} -> o1"')
        params.append(f"w{k} = {_dec(v[h])}")
    params += [f"b_h{h} = {_dec(b[h])}" for h in range(1, width + 1)] + [f"b_o1 = {_dec(c)}"]
    slope_line = f"slope = {_dec(slope)}\n" if activation == "leaky_relu" else ""
    text = (f'title = "kink"\nerror = "half_sse"\n[[layers]]\nneurons = ["i1", "i2"]\n'
            f'[[layers]]\nneurons = {[f"h{h}" for h in range(1, width + 1)]!r}\nactivation = "{activation}"\n'
            f'{slope_line}bias = "per_neuron"\n'
            f'[[layers]]\nneurons = ["o1"]\nactivation = "identity"\nbias = "per_neuron"\n'
            "[wiring]\n" + "\n".join(wiring) + "\n[parameters]\n" + "\n".join(params) + "\n"
            f"[[samples]]\ninputs = {{ i1 = {_dec(x[0])}, i2 = {_dec(x[1])} }}\ntargets = {{ o1 = {_dec(t)} }}\n"
            f"[training]\nlearning_rate = {_dec(eta)}\nsteps = 2\n").replace("'", '"')
    state = {"w": w, "b": b, "v": v, "c": c}
    return text, state, x, t, eta, slope, width


def _step(state, x, t, eta, slope, width):
    """One forward and backward pass and update in Fractions; returns (values, new state)."""
    w, b, v, c = state["w"], state["b"], state["v"], state["c"]
    net = {h: w[h][0] * x[0] + w[h][1] * x[1] + b[h] for h in w}
    out = {h: net[h] if net[h] > 0 else slope * net[h] for h in w}
    dout = {h: Fraction(1) if net[h] > 0 else slope for h in w}
    out_o = sum(v[h] * out[h] for h in w) + c
    delta_o = out_o - t
    delta = {h: delta_o * v[h] * dout[h] for h in w}
    new = {"w": {h: [w[h][i] - eta * delta[h] * x[i] for i in (0, 1)] for h in w},
           "b": {h: b[h] - eta * delta[h] for h in w},
           "v": {h: v[h] - eta * delta_o * out[h] for h in w},
           "c": c - eta * delta_o}
    values = {"net": net, "out": out, "dout": dout, "E": (t - out_o) ** 2 / 2, "delta_o": delta_o, "delta": delta}
    return values, new


def _flat(state, width):
    out = {}
    k = 0
    for h in range(1, width + 1):
        for i in (0, 1):
            k += 1
            out[f"w{k}"] = state["w"][h][i]
    for h in range(1, width + 1):
        k += 1
        out[f"w{k}"] = state["v"][h]
    out.update({f"b_h{h}": state["b"][h] for h in range(1, width + 1)})
    out["b_o1"] = state["c"]
    return out


@settings(derandomize=True, deadline=None, max_examples=25, phases=[Phase.explicit, Phase.generate])
@given(cancelling_specs())
def test_a_net_input_of_exactly_zero_takes_the_convention_everywhere(case):
    text, state, x, t, eta, slope, width = case
    spec = parse(text, "<kink>")
    first, after1 = _step(state, x, t, eta, slope, width)
    _, after2 = _step(after1, x, t, eta, slope, width)
    d = derive(spec)
    verify(d)  # the dual numbers take the same branch at the kink
    with mpmath.workdps(50):
        # printed values: exactly 0 and the convention, not a residue of binary arithmetic
        assert d.values["net_h1"] == 0 and d.values["out_h1"] == 0
        assert d.values[naming.d("out_h1", "net_h1")] == mpmath.mpf(slope.numerator) / slope.denominator
        for h in range(1, width + 1):
            assert abs(d.values[naming.delta(f"h{h}")] - mpmath.mpf(first["delta"][h].numerator)
                       / first["delta"][h].denominator) <= mpmath.mpf(10) ** -45
        table = pipeline.values(spec, 2)
        for p, exact in _flat(after1, width).items():
            assert abs(table[naming.updated(p)] - mpmath.mpf(exact.numerator) / exact.denominator) <= \
                mpmath.mpf(10) ** -45, p
        # E_total@1 comes from training (30 digits when float64 cannot keep its digits)
        e1 = mpmath.mpf(_step(after1, x, t, eta, slope, width)[0]["E"].numerator) / \
            _step(after1, x, t, eta, slope, width)[0]["E"].denominator
        assert abs(table[naming.after(naming.E_TOTAL, 1)] - e1) <= mpmath.mpf(10) ** -25 * max(abs(e1), 10 ** -20)
    # float64 training: the same branch at the kink in both updates
    trajectory = train(d, 2, (2,))
    for p, exact in _flat(after2, width).items():
        assert float(trajectory.snapshots[2][p]) == pytest.approx(float(exact), abs=1e-12), p
    # the generated module: the same gradients at the spec's values, read as floats
    for text in (pymodule.generate(d, "<kink>").text, npmodule.generate(d.model, "<kink>")):
        namespace: dict = {}
        exec(text, namespace)  # noqa: S102 - the module under test
        grads = namespace["gradients"]({p: float(v) for p, v in spec.initial},
                                       {"i1": float(x[0]), "i2": float(x[1])}, {"o1": float(t)})
        for p, exact in _flat(state, width).items():
            grad = (exact - _flat(after1, width)[p]) / eta
            assert float(grads[p]) == pytest.approx(float(grad), abs=1e-12), p
