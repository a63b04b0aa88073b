"""Every diagnosis code on random networks.

For each code: draw a random network, inject the mistake into the independent computation of
tests/check_support.py (written from the math, not from stepgrad's derivation), write the result
as a student would (6 significant digits), and check that the checker's diagnosis has that code
and that the verdict is not "correct".
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

import mpmath
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tests.check_support import Slip, compute, parse, specs, written
from stepgrad.symbolic import check
from stepgrad.symbolic.derive import derive

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=list(HealthCheck))


@lru_cache(maxsize=64)
def checker(text: str) -> check.Checker:
    return check.Checker(derive(parse(text)))


def judge(text: str, answers: dict[str, str]) -> dict:
    body = "".join(f"{json.dumps(k)} = {v}\n" for k, v in answers.items())
    report = checker(text).check(check.parse_answers(body, "a.toml"), "a.toml")
    return {r.quantity: r for r in report.results}


def distinct(truth, mistaken, digits: int = 6) -> bool:
    """The mistake changes the written value clearly (not within a few units of its last digit)."""
    if mistaken is None or not mpmath.isfinite(mistaken):
        return False
    scale = max(abs(truth), abs(mistaken), mpmath.mpf("1e-6"))
    return abs(truth - mistaken) > 1e-3 * scale and abs(mistaken) > 1e-6


def assert_code(text: str, quantity: str, mistaken, code: str, extra: dict | None = None):
    truth = compute(parse(text))[quantity]
    assume(distinct(truth, mistaken))
    answers = dict(extra or {})
    answers[quantity] = written(mistaken)
    result = judge(text, answers)[quantity]
    assert result.verdict != "correct", (quantity, answers)
    found = result.codes + tuple(d.code for d in result.alternatives)
    assert code in found, (quantity, answers[quantity], result.codes,
                                  [d.message for d in result.diagnoses], text)
    if result.diagnoses:
        message = result.diagnoses[0].message
        assert answers[quantity] in message  # names the student's value


def first(spec, kind: str, layer: int | None = None):
    L = len(spec.layers) - 1
    k = L if layer is None else layer
    return spec.layers[k].neurons[0]


# -- one test per registered mistake -----------------------------------------------------------

@SETTINGS
@given(specs())
def test_eta_one(text):
    s = parse(text)
    w = s.weights[-1].name
    assert_code(text, f"{w}+", compute(s, Slip(eta=1))[f"{w}+"], "eta-one")


@SETTINGS
@given(specs(errors=("half_sse",)), st.sampled_from(("E", "d")))
def test_missing_half(text, where):
    s = parse(text)
    quantity = "E_total" if where == "E" else f"dE_total/d{s.weights[-1].name}"
    assert_code(text, quantity, compute(s, Slip(half=where))[quantity], "missing-half")


@SETTINGS
@given(specs())
def test_update_sign(text):
    s = parse(text)
    w = s.weights[0].name
    assert_code(text, f"{w}+", compute(s, Slip(update_sign=-1))[f"{w}+"], "update-sign")


@SETTINGS
@given(specs(trainable=(False,)))
def test_frozen_bias_updated(text):
    s = parse(text)
    b = s.biases[-1].name
    v = compute(s)
    eta = mpmath.mpf(s.training.learning_rate.p) / s.training.learning_rate.q
    assert_code(text, f"{b}+", v[b + "+"] - eta * v[f"dE_total/d{b}"], "frozen-bias-updated")


@SETTINGS
@given(specs(trainable=(True,)))
def test_bias_not_updated(text):
    s = parse(text)
    b = s.biases[-1].name
    value = dict(s.initial)[b]
    assert_code(text, f"{b}+", mpmath.mpf(value.p) / value.q, "bias-not-updated")


@SETTINGS
@given(specs())
def test_no_update(text):
    s = parse(text)
    w = s.weights[-1].name
    value = dict(s.initial)[w]
    assert_code(text, f"{w}+", mpmath.mpf(value.p) / value.q, "no-update")


@SETTINGS
@given(specs(errors=("half_sse", "mse")))
def test_missing_activation_derivative(text):
    s = parse(text)
    L = len(s.layers) - 1
    assume(s.layers[L].activation not in ("identity", "softmax"))
    o = s.layers[L].neurons[0]
    assert_code(text, f"delta_{o}", compute(s, Slip(act_derivative={L: "one"}))[f"delta_{o}"],
                "missing-activation-derivative")


@SETTINGS
@given(specs(hidden=("tanh", "sigmoid"), n_hidden=(1, 1)))
def test_wrong_activation_derivative(text):
    s = parse(text)
    other = "sigmoid" if s.layers[1].activation == "tanh" else "tanh"
    h = s.layers[1].neurons[0]
    assert_code(text, f"delta_{h}", compute(s, Slip(act_derivative={1: other}))[f"delta_{h}"],
                "wrong-activation-derivative")


@SETTINGS
@given(specs(errors=("binary_cross_entropy", "categorical_cross_entropy")))
def test_squared_error_derivative(text):
    s = parse(text)
    o = s.layers[-1].neurons[0]
    assert_code(text, f"delta_{o}", compute(s, Slip(sse_derivative=True))[f"delta_{o}"],
                "squared-error-derivative")


@SETTINGS
@given(specs(samples=(2, 2), batches=("full",), reductions=("mean",)))
def test_batch_summed(text):
    s = parse(text)
    w = s.weights[-1].name
    quantity = f"dE_total/d{w}"
    assert_code(text, quantity, compute(s, Slip(reduction="sum"))[quantity], "batch-summed")


@SETTINGS
@given(specs())
def test_sign_error(text):
    s = parse(text)
    o = s.layers[-1].neurons[0]
    quantity = f"dE_total/dout_{o}"
    assert_code(text, quantity, compute(s, Slip(dEdout_sign=-1))[quantity], "sign-error")


@SETTINGS
@given(specs(errors=("half_sse", "binary_cross_entropy")), st.integers(1, 3))
def test_rounded_intermediate(text, places):
    s = parse(text)
    L = len(s.layers) - 1
    o = s.layers[L].neurons[0]
    quantity = f"dE_total/d{s.weights[-1].name}"
    assert_code(text, quantity, compute(s, Slip(round_out={L: places}))[quantity], "rounded-intermediate")


@SETTINGS
@given(specs(hidden=("sigmoid", "tanh", "softplus")))
def test_net_for_out(text):
    s = parse(text)
    h = s.layers[1].neurons[0]
    v = compute(s)
    assert_code(text, f"out_{h}", v[f"net_{h}"], "net-for-out")


@SETTINGS
@given(specs(hidden=("softplus",)))
def test_out_for_net(text):
    s = parse(text)
    L = len(s.layers) - 1
    h = s.layers[L - 1].neurons[0]
    quantity = f"dout_{h}/dnet_{h}"
    assert_code(text, quantity, compute(s, Slip(derivative_at_out={L - 1}))[quantity], "out-for-net")


@SETTINGS
@given(specs(hidden=("sigmoid", "tanh")))
def test_derivative_taken_at_the_output_is_out_for_net(text):
    """sigma'(out) = sigma(out) (1 - sigma(out)) or 1 - tanh(out)^2: the activation's derivative as a
    function of net, evaluated at the output; computed here from the independent out, and carried
    into the hidden delta."""
    s = parse(text)
    L = len(s.layers) - 1
    h = s.layers[L - 1].neurons[0]
    v = compute(s)
    out = v[f"out_{h}"]
    if s.layers[L - 1].activation == "sigmoid":
        at_out = (1 / (1 + mpmath.exp(-out))) * (1 - 1 / (1 + mpmath.exp(-out)))
    else:
        at_out = 1 - mpmath.tanh(out) ** 2
    assert_code(text, f"dout_{h}/dnet_{h}", at_out, "out-for-net")
    assert_code(text, f"delta_{h}", v[f"dE_total/dout_{h}"] * at_out, "out-for-net")


@SETTINGS
@given(specs(widths=(2, 3)))
def test_wrong_weight(text):
    s = parse(text)
    o = s.layers[-1].neurons[0]
    into = [w.name for w in s.weights if w.dst == o]
    assume(len(into) >= 2)
    slip = Slip(net_weight={(o, into[1]): into[0]})
    assert_code(text, f"net_{o}", compute(s, slip)[f"net_{o}"], "wrong-weight")


def _source_first(spec, layer: int) -> dict:
    """The weight names of a layer numbered by source neuron first: spec name -> name read there."""
    ws = [w for w in spec.weights if w.dst in spec.layers[layer].neurons]
    src = {n: j for j, n in enumerate(spec.layers[layer - 1].neurons)}
    dst = {n: j for j, n in enumerate(spec.layers[layer].neurons)}
    order = sorted(ws, key=lambda w: (src[w.src], dst[w.dst]))
    return {w.name: name for w, name in zip(order, [w.name for w in ws])}


@SETTINGS
@given(specs(widths=(2, 3), n_hidden=(1, 1)))
def test_wrong_wiring(text):
    s = parse(text)
    assume(len(s.layers[0].neurons) >= 2)
    use = _source_first(s, 1)
    assume(any(a != b for a, b in use.items()))
    h = s.layers[1].neurons[0]
    assert_code(text, f"net_{h}", compute(s, Slip(params=use))[f"net_{h}"], "wrong-wiring")


@SETTINGS
@given(specs(widths=(2, 3), errors=("half_sse",), low=20))
def test_swapped_weights(text):
    s = parse(text)
    o = s.layers[-1].neurons[-1]
    into = [w.name for w in s.weights if w.dst == o]
    layer = [w.name for w in s.weights if w.dst in s.layers[-1].neurons]
    other = [w for w in layer if w not in into]
    assume(into and other)
    a, b = into[0], other[0]
    # E_total moves through both nets: one weight misread in one step would change only one
    swapped = compute(s, Slip(params={a: b, b: a}))["E_total"]
    assert_code(text, "E_total", swapped, "swapped-weights")


@SETTINGS
@given(specs(errors=("half_sse",)))
def test_wrong_target(text):
    s = parse(text)
    outs = s.layers[-1].neurons
    assume(len(outs) >= 2)
    quantity = f"dE_total/dout_{outs[0]}"
    assert_code(text, quantity, compute(s, Slip(targets={outs[0]: outs[1]}))[quantity], "wrong-target")


@SETTINGS
@given(specs())
def test_wrong_input(text):
    s = parse(text)
    ins = s.layers[0].neurons
    assume(len(ins) >= 2)
    h = s.layers[1].neurons[0]
    quantity = f"net_{h}"
    assert_code(text, quantity, compute(s, Slip(inputs={ins[0]: ins[1]}))[quantity], "wrong-input")


@SETTINGS
@given(specs(n_hidden=(1, 1)))
def test_updated_weights_used(text):
    s = parse(text)
    h = s.layers[1].neurons[0]
    quantity = f"dE_total/dout_{h}"
    assert_code(text, quantity, compute(s, Slip(hidden_updated=True))[quantity], "updated-weights-used")


@SETTINGS
@given(specs())
def test_missing_sum_term(text):
    s = parse(text)
    h = s.layers[1].neurons[0]
    assert_code(text, f"net_{h}", compute(s, Slip(no_bias={h}))[f"net_{h}"], "missing-sum-term")


@SETTINGS
@given(specs(errors=("half_sse", "mse")))
def test_misread_given(text):
    s = parse(text)
    o = s.layers[-1].neurons[0]
    t = dict(s.samples[0].targets)[o]
    shown = format(Decimal(t.p) / Decimal(t.q), "f")
    head, _, tail = shown.partition(".")
    misread = f"{head}.0{tail}" if tail else shown + "0"
    quantity = f"dE_total/dout_{o}"
    assert_code(text, quantity, compute(s, Slip(given={f"target_{o}": misread}))[quantity], "misread-given")


def test_every_registered_mistake_has_a_test_here():
    """A new mistake module needs its property test in this file."""
    tested = {"eta-one", "missing-half", "update-sign", "frozen-bias-updated", "bias-not-updated", "no-update",
              "missing-activation-derivative", "wrong-activation-derivative", "squared-error-derivative",
              "batch-summed", "sign-error", "rounded-intermediate", "net-for-out", "out-for-net", "wrong-weight",
              "wrong-wiring", "swapped-weights", "wrong-target", "wrong-input", "updated-weights-used",
              "missing-sum-term", "misread-given"}
    assert set(check.REGISTRY) == tested


# -- the judge's own codes on random networks -------------------------------------------------------

@SETTINGS
@given(specs())
def test_too_few_digits(text):
    s = parse(text)
    h = s.layers[1].neurons[0]
    truth = compute(s)[f"out_{h}"]
    assume(abs(truth) > 1e-3)
    two = written(truth, 2)
    assume(mpmath.mpf(two) != truth)
    result = judge(text, {f"out_{h}": two})[f"out_{h}"]
    assert result.verdict == "wrong" and result.codes in (("too-few-digits",), ("no-update",)) or \
        result.codes[0] in check.REGISTRY, result.codes
    assert result.verdict != "correct"


@SETTINGS
@given(specs())
def test_truncation_is_a_rounding_slip(text):
    s = parse(text)
    o = s.layers[-1].neurons[0]
    truth = compute(s)[f"delta_{o}"]
    right = Decimal(written(truth, 6))
    cut = Decimal(mpmath.nstr(truth, 30)).quantize(right, rounding=ROUND_DOWN)
    assume(cut != right and cut != 0)
    result = judge(text, {f"delta_{o}": format(cut, "f")})[f"delta_{o}"]
    assert result.codes == ("rounding",)


@SETTINGS
@given(specs())
def test_digit_slip(text):
    s = parse(text)
    o = s.layers[-1].neurons[0]
    right = written(compute(s)[f"out_{o}"], 6)
    digits = [k for k in range(len(right) - 1) if right[k].isdigit() and right[k + 1].isdigit()
              and right[k] != right[k + 1] and k > right.index(".")]
    assume(digits)
    k = digits[0]
    slipped = right[:k] + right[k + 1] + right[k] + right[k + 2:]
    result = judge(text, {f"out_{o}": slipped})[f"out_{o}"]
    assert result.verdict == "wrong"
    assert "digit-slip" in result.codes or result.codes[:1] == ("rounding",) or result.codes[0] in check.REGISTRY


@SETTINGS
@given(specs(n_hidden=(1, 1), hidden=("sigmoid", "tanh", "softplus")))
def test_carried_error_and_trivial_carry(text):
    """A wrong net carried into out is consistent; a zero delta carried into a gradient is not credited."""
    s = parse(text)
    h = s.layers[1].neurons[0]
    v = compute(s)
    wrong_net = Decimal(written(v[f"net_{h}"] * 2 + mpmath.mpf("0.1"), 6))
    carried = compute(s, Slip())  # out of the student's own net
    layer = s.layers[1]
    from tests.check_support import _act
    out = _act(layer.activation, mpmath.mpf(str(wrong_net)), None)
    assume(distinct(v[f"out_{h}"], out))
    result = judge(text, {f"net_{h}": str(wrong_net), f"out_{h}": written(out)})
    assert result[f"net_{h}"].verdict == "wrong"
    assert result[f"out_{h}"].verdict == "consistent" and result[f"out_{h}"].codes == ("carried-error",)
    o = s.layers[-1].neurons[0]
    w = next(w.name for w in s.weights if w.dst == o)
    assume(abs(v[f"dE_total/d{w}"]) > 1e-6)
    result = judge(text, {f"delta_{o}": "0", f"dE_total/d{w}": "0"})
    assert result[f"dE_total/d{w}"].codes == ("trivial-carry",)
    assert result[f"dE_total/d{w}"].verdict == "wrong"
    del carried
