"""Tests of the checker: verdicts, rounding, every diagnosis code on two networks, reports.

Every wrong answer here is built by applying the mistake to the true computation
(exact spec values, the derivation's 50-digit values, or a derivation of a
changed spec), never typed in as a number.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepgrad.codegen import check_report
from stepgrad.symbolic import derive, naming, spec
from stepgrad.symbolic.check import CODES, check_text, parse_answers, significant
from stepgrad.symbolic.evaluate import mp
from stepgrad.symbolic.spec import SpecError

DATA = Path(__file__).parent / "data"
ANSWERS = DATA / "answers"
TANH_PATH = str(DATA / "tanh232.toml")

MAZUR = derive.derive(spec.load("mazur"))
TANH = derive.derive(spec.load(TANH_PATH))
TANH_BATCH = derive.derive(spec.load(TANH_PATH).with_training(batch_size=2))


# -- helpers -----------------------------------------------------------------------

def given_value(d, name: str):
    """An exact given value (parameter, input, target, eta) of the first sample, as mpf."""
    s = d.spec
    table = dict(s.initial)
    table.update(dict(s.samples[d.batch[0]].inputs))
    table.update({naming.target(k): v for k, v in s.samples[d.batch[0]].targets})
    table["eta"] = s.training.learning_rate
    return mp(table[name])


def V(d, name: str):
    """A value of the derivation, or a given value."""
    return d.values[name] if name in d.values else given_value(d, name)


def written(x, places: int = 9, mode=ROUND_HALF_UP) -> str:
    """Write x as a student would, rounded to *places* decimals."""
    text = mpmath.nstr(mpmath.mpf(x), 40, strip_zeros=False)
    return format(Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=mode), "f")


def sig(x):
    return 1 / (1 + mpmath.exp(-x))


def toml(answers: dict[str, str]) -> str:
    """Write answers as TOML: numbers bare, formulas as strings."""
    lines = []
    for k, v in answers.items():
        value = v if _is_number(v) else json.dumps(v)
        lines.append(f"{json.dumps(k)} = {value}")
    return "\n".join(lines) + "\n"


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except Exception:
        return False


def check(d, answers: dict[str, str]):
    """Check answers; return the results by quantity."""
    report = check_text(d, toml(answers), "answers.toml")
    return {r.quantity: r for r in report.results}


def codes(d, answers: dict[str, str], quantity: str) -> tuple[str, ...]:
    result = check(d, answers)[quantity]
    assert result.verdict == "wrong"
    return result.codes


def with_values(d, changes: dict[str, str]):
    """Derive again from a spec with some parameter values moved between names."""
    initial = dict(d.spec.initial)
    moved = {name: initial[source] for name, source in changes.items()}
    s = dataclasses.replace(d.spec, initial=tuple((n, moved.get(n, v)) for n, v in d.spec.initial))
    return derive.derive(s)


def transposed(d, layer: int) -> dict[str, str]:
    """The weight names of a layer numbered by source neuron first: spec name -> name used there."""
    s = d.spec
    ws = [w for w in s.weights if w.layer == layer]
    src = {n: j for j, n in enumerate(s.layers[layer - 1].neurons)}
    dst = {n: j for j, n in enumerate(s.layers[layer].neurons)}
    order = sorted(ws, key=lambda w: (src[w.src], dst[w.dst]))
    return {w.name: name for w, name in zip(order, [w.name for w in ws])}


def net(d, neuron: str, use: dict[str, str] | None = None, inputs: dict[str, str] | None = None):
    """net of a neuron computed from exact values, with weights or inputs read under other names."""
    use, inputs = use or {}, inputs or {}
    model = d.model
    total = mpmath.mpf(0)
    for w in model.incoming[neuron]:
        source = model.out_symbol(w.src).name
        total += V(d, use.get(w.name, w.name)) * V(d, inputs.get(source, source))
    if neuron in model.bias_of:
        total += V(d, model.bias_of[neuron])
    return total


# -- reading answers ------------------------------------------------------------------

def test_numbers_keep_the_digits_written():
    """TOML floats and numeric strings keep every digit written, trailing zeros included."""
    answers = parse_answers('"a" = 0.40\n"b" = "0.5932"\n"c" = 3\n"d" = "w1 + 1"\n', "x.toml")
    assert [a.text for a in answers] == ["0.40", "0.5932", "3", "w1 + 1"]
    assert answers[0].number == Decimal("0.40") and answers[3].is_formula


@pytest.mark.parametrize(("name", "needle"), [
    ("bad_toml", "bad_toml.toml: not valid TOML"),
])
def test_input_errors_name_the_file_line_and_key(name, needle):
    """Each kind of bad answers file gives exit code 2 and one line naming file, line and key."""
    out, code = check_report.run("mazur", str(ANSWERS / f"{name}.toml"), "text", False)
    assert code == 2
    assert needle in out and out.count("\n") == 1


def test_input_errors_raise_spec_error_from_the_logic():
    """The checking logic itself raises SpecError for input errors."""
    with pytest.raises(SpecError, match="x.toml:1: net_h1: unknown name 'os'"):
        check_text(MAZUR, '"net_h1" = "os"', "x.toml")
    with pytest.raises(SpecError, match="has no answers"):
        check_text(MAZUR, "", "x.toml")


def test_unknown_quantity_gets_a_suggestion():
    """A name stepgrad does not know is 'unknown', with a did-you-mean."""
    result = check(MAZUR, {"out_h3": "0.5", "dE_total/dw9": "0.1"})
    assert result["out_h3"].verdict == "unknown"
    assert "did you mean 'out_h2'" in result["out_h3"].diagnoses[0].message
    assert result["dE_total/dw9"].verdict == "unknown"


# -- correct answers and rounding --------------------------------------------------------

def test_the_posts_printed_figures_are_correct():
    """Every figure the post prints checks as correct: the one it computed from its own rounded
    figures (dE_o2/dout_h1) is correct work from the printed inputs; without the printed figures
    in the spec, the same number is early rounding."""
    report = check_text(MAZUR, (ANSWERS / "blog.toml").read_text(), "blog.toml")
    assert [r.quantity for r in report.results if r.verdict != "correct"] == []
    bare = derive.derive(dataclasses.replace(MAZUR.spec, reference=()))
    report = check_text(bare, (ANSWERS / "blog.toml").read_text(), "blog.toml")
    wrong = {r.quantity: r.codes for r in report.results if r.verdict != "correct"}
    assert wrong == {"dE_o2/dout_h1": ("early-rounding",)}


@pytest.mark.parametrize("d", [MAZUR, TANH], ids=["mazur", "tanh232"])
@pytest.mark.parametrize("places", [1, 2, 3, 4, 5, 6, 7, 8, 9, 12])
def test_rounding_to_the_written_digits(d, places):
    """Rounded values are correct with at least 3 significant digits, and never correct with fewer
    (unless exact); truncated ones are a rounding slip."""
    names = ["out_h1", "delta_o1", "dE_total/dw1", "w1+"]
    answers = {n: written(d.values[n], places) for n in names}
    for name, result in check(d, answers).items():
        digits = significant(Decimal(answers[name]))
        assert (result.verdict == "correct") == (digits >= 3), (name, answers[name], result.codes)
    # without printed figures to have worked from (the post's are rounded in their 9th digit)
    bare = derive.derive(dataclasses.replace(d.spec, reference=()))
    cut = {n: written(d.values[n], places, ROUND_DOWN) for n in names}
    cut = {n: v for n, v in cut.items() if Decimal(v) != Decimal(answers[n])}
    for name, result in check(bare, cut).items():
        assert result.codes == ("rounding",), name
        assert "round instead of truncating" in result.diagnoses[0].message


def test_a_last_digit_one_off_is_a_rounding_slip():
    """0.5933 for 0.593269992 is correct; 0.5934 is a slip in the last digit, not a conceptual error."""
    x = MAZUR.values["out_h1"]
    assert check(MAZUR, {"out_h1": written(x, 4)})["out_h1"].verdict == "correct"
    off = written(x + mpmath.mpf("0.0001"), 4)
    assert codes(MAZUR, {"out_h1": off}, "out_h1") in (("rounding",), ("early-rounding",))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(MAZUR.values)), st.integers(0, 14))
def test_any_correct_rounding_is_accepted(name, places):
    """Any quantity rounded to at least 3 significant digits is judged correct."""
    text = written(MAZUR.values[name], places)
    result = check(MAZUR, {name: text})[name]
    if significant(Decimal(text)) >= 3:
        assert result.verdict == "correct"
    elif abs(Decimal(text) - Decimal(mpmath.nstr(MAZUR.values[name], 40))) > Decimal("1e-35"):
        assert result.verdict == "wrong"


def test_values_after_training_are_checked():
    """E_total@1 is checked against one step of training."""
    trajectory = derive.train(MAZUR.spec, 1)
    result = check(MAZUR, {"E_total@1": written(trajectory.errors[1], 9)})
    assert result["E_total@1"].verdict == "correct"


# -- every diagnosis code on the post's network ---------------------------------------------

def test_mazur_wrong_wiring():
    """net_h1 = w1*i1 + w3*i2 + b1 (the post's hidden-layer slip) and its effect downstream are wrong-wiring."""
    use = transposed(MAZUR, 1)
    assert use["w2"] == "w3"
    assert codes(MAZUR, {"net_h1": written(net(MAZUR, "h1", use))}, "net_h1") == ("wrong-wiring",)
    rewired = with_values(MAZUR, use)
    assert codes(MAZUR, {"out_o1": written(rewired.values["out_o1"])}, "out_o1") == ("wrong-wiring",)
    message = check(MAZUR, {"net_h1": written(net(MAZUR, "h1", use))})["net_h1"].diagnoses[0].message
    assert "w3 on i2 -> h1" in message


def test_mazur_wrong_weight():
    """w5 used twice in net_o1 (w5 for w6) is wrong-weight, naming both weights."""
    value = net(MAZUR, "o1", {"w6": "w5"})
    result = check(MAZUR, {"net_o1": written(value)})["net_o1"]
    assert result.codes == ("wrong-weight",)
    assert "w5 (h1 -> o1)" in result.diagnoses[0].message and "w6 (h2 -> o1)" in result.diagnoses[0].message


def test_mazur_missing_activation_derivative():
    """dE_total/dw5 without out_o1(1 - out_o1) is missing-activation-derivative."""
    value = V(MAZUR, "dE_total/dout_o1") * V(MAZUR, "out_h1")
    assert codes(MAZUR, {"dE_total/dw5": written(value)}, "dE_total/dw5") == ("missing-activation-derivative",)


def test_mazur_sign_error():
    """target - out for out - target is a sign error; w + eta*g for w - eta*g is the update's sign."""
    d = MAZUR
    value = V(d, "target_o1") - V(d, "out_o1")
    assert codes(d, {"dE_total/dout_o1": written(value)}, "dE_total/dout_o1") == ("sign-error",)
    plus = V(d, "w5") + V(d, "eta") * V(d, "dE_total/dw5")
    assert codes(d, {"w5+": written(plus)}, "w5+") == ("update-sign",)


def test_mazur_wrong_target():
    """out_o1 - target_o2 is wrong-target, naming the target used."""
    value = V(MAZUR, "out_o1") - V(MAZUR, "target_o2")
    result = check(MAZUR, {"dE_total/dout_o1": written(value)})["dE_total/dout_o1"]
    assert result.codes == ("wrong-target",) and "target_o2" in result.diagnoses[0].message


def test_mazur_wrong_input():
    """dE_total/dw2 with i1 in place of i2 (w1's input) is wrong-input.  (dE_total/dw1 with i2 is
    exactly twice the true value, as a missing 1/2 would make it, since i2 = 2 i1 here.)"""
    value = V(MAZUR, "dE_total/dout_h1") * V(MAZUR, "dout_h1/dnet_h1") * V(MAZUR, "i1")
    assert codes(MAZUR, {"dE_total/dw2": written(value)}, "dE_total/dw2") == ("wrong-input",)


def test_mazur_updated_weights_used():
    """The hidden layer's backward pass with w5+ (or with every updated weight) is updated-weights-used."""
    d = MAZUR
    term = V(d, "delta_o1") * V(d, "w5+")
    assert codes(d, {"dE_o1/dout_h1": written(term)}, "dE_o1/dout_h1") == ("updated-weights-used",)
    total = V(d, "delta_o1") * V(d, "w5+") + V(d, "delta_o2") * V(d, "w7+")
    assert codes(d, {"dE_total/dout_h1": written(total)}, "dE_total/dout_h1") == ("updated-weights-used",)


def test_mazur_missing_sum_term():
    """Leaving out a path through an output, or the bias, is missing-sum-term."""
    d = MAZUR
    assert codes(d, {"dE_total/dout_h1": written(V(d, "dE_o1/dout_h1"))}, "dE_total/dout_h1") == ("missing-sum-term",)
    assert codes(d, {"E_total": written(V(d, "E_o1"))}, "E_total") == ("missing-sum-term",)
    no_bias = V(d, "w1") * V(d, "i1") + V(d, "w2") * V(d, "i2")
    result = check(d, {"net_h1": written(no_bias)})["net_h1"]
    assert result.codes == ("missing-sum-term",) and "bias" in result.diagnoses[0].message


def test_mazur_digit_slip():
    """A changed digit, two swapped digits and a moved decimal point are digit slips."""
    right = written(V(MAZUR, "dE_total/dw5"))          # 0.082167041
    k = right.index("67")
    swapped = right[:k] + "76" + right[k + 2:]
    changed = right[:-3] + str((int(right[-3]) + 4) % 10) + right[-2:]
    moved = written(V(MAZUR, "dE_total/dw5") * 10, 8)
    for text in (swapped, changed, moved):
        assert codes(MAZUR, {"dE_total/dw5": text}, "dE_total/dw5") == ("digit-slip",), text


def early(d, quantity: str, k: int):
    """Re-run the derivation's steps with every intermediate rounded to k decimals (SymPy, exact leaves)."""
    import sympy as sp
    from stepgrad.symbolic.model import symbol
    values = {symbol(n): sp.Rational(str(v)) for n, v in d.spec.initial}
    s = d.spec.samples[d.batch[0]]
    values.update({symbol(n): v for n, v in s.inputs})
    values.update({symbol(naming.target(n)): v for n, v in s.targets})
    values[symbol("eta")] = d.spec.training.learning_rate
    for step in d.steps:
        x = step.rhs.doit().xreplace(values).evalf(30)
        if step.name == quantity:
            return mpmath.mpf(str(x))
        rounded = Decimal(str(x)).quantize(Decimal(1).scaleb(-k), rounding=ROUND_HALF_UP)
        values[symbol(step.name)] = sp.Rational(str(rounded))
    raise KeyError(quantity)


def test_mazur_early_rounding():
    """Intermediates rounded to 2 decimals give a drifted dE_total/dw1: early-rounding."""
    value = early(MAZUR, "dE_total/dw1", 2)
    assert codes(MAZUR, {"dE_total/dw1": written(value, 7)}, "dE_total/dw1") == ("early-rounding",)


def test_mazur_carried_error():
    """Right given the student's own wrong net_h1: carried-error, naming the earlier answer, not counted twice."""
    wrong_net = net(MAZUR, "h1", transposed(MAZUR, 1))
    answers = {"net_h1": written(wrong_net), "out_h1": written(sig(mpmath.mpf(written(wrong_net))))}
    result = check(MAZUR, answers)
    assert result["net_h1"].codes == ("wrong-wiring",)
    assert result["out_h1"].codes == ("carried-error",)
    assert "net_h1 = " in result["out_h1"].diagnoses[0].message


def test_mazur_carried_error_plus_a_new_mistake():
    """The student's wrong delta_o1 times the wrong weight w6 is carried-error plus wrong-weight."""
    their_delta = written(V(MAZUR, "dE_total/dout_o1"))          # left out dout/dnet
    value = mpmath.mpf(their_delta) * V(MAZUR, "w6")
    result = check(MAZUR, {"delta_o1": their_delta, "dE_o1/dout_h1": written(value)})
    assert result["delta_o1"].codes == ("missing-activation-derivative",)
    assert result["dE_o1/dout_h1"].codes == ("carried-error", "wrong-weight")


def test_mazur_pair_of_mistakes():
    """target - out and no activation derivative in one answer is diagnosed as both."""
    value = (V(MAZUR, "target_o1") - V(MAZUR, "out_o1")) * V(MAZUR, "out_h1")
    found = codes(MAZUR, {"dE_total/dw5": written(value)}, "dE_total/dw5")
    assert sorted(found) == ["missing-activation-derivative", "sign-error"]


def test_an_unexplained_answer_is_wrong_without_a_diagnosis():
    """A number no mistake reproduces is wrong with no diagnosis."""
    assert check(MAZUR, {"dE_total/dw1": "0.123456789"})["dE_total/dw1"].codes == ()


# -- every diagnosis code on a 2-3-2 tanh network with per-neuron biases -------------------------

def test_tanh_wrong_wiring():
    """net_h1 with the layer's weights numbered by source neuron first is wrong-wiring."""
    use = transposed(TANH, 1)
    assert codes(TANH, {"net_h1": written(net(TANH, "h1", use))}, "net_h1") == ("wrong-wiring",)


def test_tanh_wrong_weight():
    """w7 for w8 in net_o1 is wrong-weight."""
    assert codes(TANH, {"net_o1": written(net(TANH, "o1", {"w8": "w7"}))}, "net_o1") == ("wrong-weight",)


def test_tanh_missing_activation_derivative():
    """delta_h1 without tanh's 1 - out^2 is missing-activation-derivative."""
    value = V(TANH, "dE_total/dout_h1")
    assert codes(TANH, {"delta_h1": written(value)}, "delta_h1") == ("missing-activation-derivative",)


def test_tanh_sign_error():
    """target - out for out - target on the second output is a sign error."""
    value = V(TANH, "target_o2") - V(TANH, "out_o2")
    assert codes(TANH, {"dE_total/dout_o2": written(value)}, "dE_total/dout_o2") == ("sign-error",)


def test_tanh_wrong_target():
    """E_o1 computed with target_o2 is wrong-target."""
    value = (V(TANH, "target_o2") - V(TANH, "out_o1")) ** 2 / 2
    assert codes(TANH, {"E_o1": written(value)}, "E_o1") == ("wrong-target",)


def test_tanh_wrong_input():
    """net_h2 with i2 in place of i1, and dnet_o1/dw8 with out_h1 for out_h2, are wrong-input."""
    assert codes(TANH, {"net_h2": written(net(TANH, "h2", inputs={"i1": "i2"}))}, "net_h2") == ("wrong-input",)
    value = V(TANH, "dE_total/dout_o1") * V(TANH, "dout_o1/dnet_o1") * V(TANH, "out_h1")
    assert codes(TANH, {"dE_total/dw8": written(value)}, "dE_total/dw8") == ("wrong-input",)


def test_tanh_updated_weights_used():
    """delta_o1 * w8+ for dE_o1/dout_h2 is updated-weights-used."""
    value = V(TANH, "delta_o1") * V(TANH, "w8+")
    assert codes(TANH, {"dE_o1/dout_h2": written(value)}, "dE_o1/dout_h2") == ("updated-weights-used",)


def test_tanh_missing_sum_term():
    """dE_total/dout_h3 with only the path through o1 is missing-sum-term."""
    value = V(TANH, "dE_o1/dout_h3")
    assert codes(TANH, {"dE_total/dout_h3": written(value)}, "dE_total/dout_h3") == ("missing-sum-term",)


def test_tanh_batch_missing_sum_term():
    """A batch gradient with one sample's term left out is missing-sum-term."""
    value = TANH_BATCH.values["dE_total/dw7[1]"]
    result = check(TANH_BATCH, {"dE_total/dw7": written(value)})["dE_total/dw7"]
    assert result.codes == ("missing-sum-term",) and "batch" in result.diagnoses[0].message


def test_tanh_batch_per_sample_names():
    """Per-sample quantities of a batch are named with their sample; the bare name suggests them."""
    result = check(TANH_BATCH, {"net_h1[2]": written(TANH_BATCH.values["net_h1[2]"]),
                                "net_h1[1]": "w1*i1 + w2*i2 + b_h1"})
    assert result["net_h1[2]"].verdict == "correct" and result["net_h1[1]"].verdict == "correct"


def test_tanh_digit_slip():
    """out_h2 with the decimal point moved is a digit slip."""
    value = written(V(TANH, "out_h2") / 10, 10)
    assert codes(TANH, {"out_h2": value}, "out_h2") == ("digit-slip",)


def test_tanh_early_rounding():
    """Intermediates rounded to 4 decimals give a drifted delta_h2: early-rounding."""
    value = early(TANH, "delta_h2", 4)
    assert codes(TANH, {"delta_h2": written(value, 8)}, "delta_h2") == ("early-rounding",)


def test_tanh_carried_error():
    """out_o1 right for the student's own wrong net_o1 is carried-error."""
    wrong_net = written(net(TANH, "o1", {"w8": "w7"}))
    result = check(TANH, {"net_o1": wrong_net, "out_o1": written(sig(mpmath.mpf(wrong_net)))})
    assert result["net_o1"].codes == ("wrong-weight",)
    assert result["out_o1"].codes == ("carried-error",)


def test_tanh_pair_of_mistakes():
    """delta_o2 as target - out alone is a sign error plus a missing activation derivative."""
    value = V(TANH, "target_o2") - V(TANH, "out_o2")
    assert sorted(codes(TANH, {"delta_o2": written(value)}, "delta_o2")) == [
        "missing-activation-derivative", "sign-error"]


def test_the_codes_of_the_tests_above_are_still_codes():
    """The codes the tests above exercise are all still documented codes (test_check_codes.py
    exercises every registered mistake on random networks)."""
    assert set(CODES) >= {"rounding", "carried-error", "wrong-wiring", "wrong-weight",
                          "missing-activation-derivative", "sign-error", "wrong-target", "wrong-input",
                          "updated-weights-used", "missing-sum-term", "early-rounding", "digit-slip"}


# -- formulas --------------------------------------------------------------------------------

def test_the_posts_formulas_are_correct_in_both_syntaxes():
    """The post's formulas, in LaTeX and in SymPy syntax, written out or not, all check as correct."""
    report = check_text(MAZUR, (ANSWERS / "formulas.toml").read_text(), "formulas.toml")
    assert [r.quantity for r in report.results if r.verdict != "correct"] == []


@pytest.mark.parametrize(("d", "quantity", "text", "expected"), [
    (MAZUR, "net_h1", r"w_1 i_1 + w_3 i_2 + b_1", ("wrong-wiring",)),
    (MAZUR, "net_o1", "w5*out_h1 + w5*out_h2 + b2", ("wrong-weight",)),
    (MAZUR, "delta_o1", r"-(target_{o1} - out_{o1})", ("missing-activation-derivative",)),
    (MAZUR, "dE_total/dout_o1", r"target_{o1} - out_{o1}", ("sign-error",)),
    (MAZUR, "dE_total/dout_o1", "out_o1 - target_o2", ("wrong-target",)),
    (MAZUR, "dE_total/dw6", r"\delta_{o1} out_{h1}", ("wrong-input",)),
    (MAZUR, "dE_total/dout_h1", r"\delta_{o1} w_5^{+} + \delta_{o2} w_7^{+}", ("updated-weights-used",)),
    (MAZUR, "dE_total/dout_h1", r"\delta_{o1} w_5", ("missing-sum-term",)),
    (TANH, "delta_h1", "(delta_o1*w7 + delta_o2*w10)", ("missing-activation-derivative",)),
    (TANH, "net_o2", r"w_{10} out_{h1} + w_{11} out_{h2} + w_{12} out_{h3}", ("missing-sum-term",)),
])
def test_wrong_formulas_are_diagnosed(d, quantity, text, expected):
    """A formula with one mistake gets that mistake's code, in either syntax."""
    assert codes(d, {quantity: text}, quantity) == expected


@pytest.mark.parametrize(("d", "quantity", "text"), [
    (MAZUR, "dE_total/dw5", r"(target_{o1} - out_{o1}) out_{h1}"),
    (TANH, "delta_o2", "target_o2 - out_o2"),
])
def test_a_formula_with_two_mistakes(d, quantity, text):
    """A formula with a sign error and no activation derivative is diagnosed as both."""
    assert sorted(codes(d, {quantity: text}, quantity)) == ["missing-activation-derivative", "sign-error"]


def test_a_formula_of_numbers_is_judged_as_a_number():
    """The middle of a worked line (numbers substituted) is judged at its least precise number."""
    result = check(MAZUR, {"dE_total/dw5": "0.74136507 * 0.186815602 * 0.593269992"})
    assert result["dE_total/dw5"].verdict == "correct"


# -- reports and the command's exit codes ---------------------------------------------------------

def write(tmp_path, answers: dict[str, str]) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(toml(answers), encoding="utf-8")
    return str(path)


def test_exit_codes(tmp_path):
    """0 when all answers are correct, 1 when any is wrong or unknown, 2 on input errors."""
    right = {"out_h1": written(MAZUR.values["out_h1"])}
    assert check_report.run("mazur", write(tmp_path, right), "text", False)[1] == 0
    assert check_report.run("mazur", write(tmp_path, {"out_h1": "0.5"}), "text", False)[1] == 1
    assert check_report.run("mazur", write(tmp_path, {"out_h9": "0.5"}), "text", False)[1] == 1
    assert check_report.run("mazur", str(tmp_path / "missing.toml"), "text", False)[1] == 2
    assert check_report.run("mazur", write(tmp_path, right), "docx", False)[1] == 2
    assert check_report.run("no-such-spec", write(tmp_path, right), "text", False)[1] == 2


def mixed(tmp_path) -> str:
    return write(tmp_path, {
        "out_h1": written(MAZUR.values["out_h1"]),
        "net_h1": written(net(MAZUR, "h1", transposed(MAZUR, 1))),
        "delta_o1": r"-(target_{o1} - out_{o1})",
        "out_h3": "0.5",
    })


def test_text_report(tmp_path):
    """Text has one line per answer: mark, quantity, given, true value and diagnosis."""
    out, code = check_report.run("mazur", mixed(tmp_path), "text", False)
    lines = out.splitlines()
    assert code == 1 and len(lines) == 6
    assert lines[1] == "✓ out_h1 = 0.593269992"
    assert lines[2].startswith("✗ net_h1 = 0.382500000 (expected ") and "numbered the weights" in lines[2]
    assert lines[-1] == "1 of 4 correct."


def test_json_report(tmp_path):
    """JSON's answers are {quantity, given, expected, verdict, codes, message, score, line, diagnoses[{code,
    message}]}, beside the summary."""
    out, _ = check_report.run("mazur", mixed(tmp_path), "text", True)
    doc = json.loads(out)
    records = doc["answers"]
    assert [r["verdict"] for r in records] == ["correct", "wrong", "wrong", "unknown"]
    assert set(records[1]) == {"quantity", "given", "expected", "verdict", "diagnoses", "codes", "message",
                               "score", "line"}
    assert doc["summary"]["score"] == 1 and doc["summary"]["total"] == 4
    assert records[1]["diagnoses"][0]["code"] == "wrong-wiring"
    assert records[2]["expected"] == "dE_total_dout_o1*dout_o1_dnet_o1"


def test_markdown_sheet_shows_the_right_line(tmp_path):
    """The Markdown sheet gives each wrong answer's line: symbolic form = numbers = value, in $$ math."""
    out, _ = check_report.run("mazur", mixed(tmp_path), "md", False)
    assert "$$\nnet_{h1} = w_{1} \\cdot i_{1} + w_{2} \\cdot i_{2} + b_{1} \\cdot 1 = 0.15 \\cdot 0.05" in out
    assert str(tmp_path) not in out
    assert out == check_report.run("mazur", mixed(tmp_path), "md", False)[0]


def test_latex_sheet_is_handed_to_the_compiler(tmp_path):
    """The pdf format renders LaTeX and hands it to the given compile function."""
    calls = []
    out, code = check_report.run("mazur", mixed(tmp_path), "pdf", False,
                                 compile_pdf=lambda tex, path: calls.append((tex, path)), out_path="x.pdf")
    assert code == 1 and calls == [(out, "x.pdf")]
    assert "\\begin{document}" in out and "\\begin{align*}" in out and "net\\_h1" in out


def test_a_typical_file_checks_quickly():
    """The post's answers file checks in well under two seconds."""
    import time
    text = (ANSWERS / "blog.toml").read_text()
    start = time.perf_counter()
    check_text(derive.derive(spec.load("mazur")), text, "blog.toml")
    assert time.perf_counter() - start < 2.0


# -- precision, kinks and bounds (issue: a checker a marker would trust) ---------------------------

def test_false_precision_from_the_posts_printed_figures_is_correct():
    """Values computed from the post's rounded 9-digit figures and written to 16 digits are correct
    work: copied figures, or the printed forward pass with the derivatives recomputed from it."""
    o, h = mpmath.mpf("0.75136507"), mpmath.mpf("0.593269992")
    values = {
        "dE_total/dw5": (o - mpmath.mpf("0.01")) * o * (1 - o) * h,
        "out_o1": sig(mpmath.mpf("1.105905967")),
        "dE_total/dw1": mpmath.mpf("0.036350306") * mpmath.mpf("0.241300709") * mpmath.mpf("0.05"),
        "w5+": mpmath.mpf("0.4") - mpmath.mpf("0.5") * mpmath.mpf("0.082167041"),
        "delta_o1": (o - mpmath.mpf("0.01")) * o * (1 - o),
    }
    answers = {k: mpmath.nstr(v, 16) for k, v in values.items()}
    for name, result in check(MAZUR, answers).items():
        assert result.verdict == "correct", (name, answers[name], result.codes)
    # the same digits are not correct for a spec without printed figures
    bare = derive.derive(dataclasses.replace(MAZUR.spec, reference=()))
    assert check(bare, {"dE_total/dw5": answers["dE_total/dw5"]})["dE_total/dw5"].verdict == "wrong"


@pytest.mark.parametrize(("quantity", "text", "code"), [
    ("w5+", "0.4", "no-update"),            # w5 not updated, though 0.359 rounds to 0.4
    ("net_h2", "0.39", "wrong-wiring"),     # exactly the value under the post's slip of numbering
    ("out_h1", "0.59", "too-few-digits"),
])
def test_too_few_digits_are_never_correct(quantity, text, code):
    """One or two significant digits pass nothing: a mistake that gives them exactly is named."""
    result = check(MAZUR, {quantity: text})[quantity]
    assert result.verdict == "wrong" and result.codes[0] == code


def test_a_written_zero_is_a_value():
    """net_h1 = 0 is wrong (not 0.3775 rounded to no decimals); softmax delta = 0 is the diagonal-only slip."""
    assert check(MAZUR, {"net_h1": "0"})["net_h1"].verdict == "wrong"
    softmax = derive.derive(spec.load(str(DATA / "networks" / "softmax_ce.toml")))
    result = check(softmax, {"delta_o1": "0"})["delta_o1"]
    assert result.codes == ("missing-sum-term",) and "diagonal" in result.diagnoses[0].message


def test_the_students_own_rounded_lines_are_inputs():
    """0.0363 from the student's own 0.0554 + (-0.0191), and 0.75136 from their own 1.10590, are correct."""
    result = check(MAZUR, {"dE_o1/dout_h1": "0.0554", "dE_o2/dout_h1": "-0.0191", "dE_total/dout_h1": "0.0363"})
    assert result["dE_total/dout_h1"].verdict == "correct"
    result = check(MAZUR, {"net_o1": "1.10590", "out_o1": "0.75136"})
    assert result["out_o1"].verdict == "correct"


def test_relu_kinks_are_decided_exactly():
    """net_h2 = -0.6 + 0.4 + 0.2 is exactly 0: ReLU' = 0 there, so dE/dw3 = 0; taking ReLU' = 1 is named."""
    relu = derive.derive(spec.load(str(DATA / "networks" / "relu_bias.toml")))
    result = check(relu, {"net_h2": "0", "dout_h2/dnet_h2": "0", "dE_total/dw3": "0"})
    assert all(r.verdict == "correct" for r in result.values())
    from tests.check_support import compute
    # ReLU' taken as 1 at the kink: dE/dw3 = dE/dout_h2 * 1 * i1, with i1 = 1 (independent pass)
    wrong = written(compute(relu.spec)["dE_total/dout_h2"], 6)
    result = check(relu, {"dE_total/dw3": wrong})["dE_total/dw3"]
    assert result.codes == ("missing-activation-derivative",)


def test_a_rounded_output_behind_a_whole_sheet_is_named():
    """A quiz generator's answers, computed from outputs rounded to 4 decimals, are all explained so."""
    from tests.check_support import Slip, compute, written as student
    values = compute(MAZUR.spec, Slip(round_out={2: 4}))
    names = ["dE_total/dout_o1", "delta_o1", "dE_total/dw5", "dE_total/dw6", "delta_o2", "E_total"]
    result = check(MAZUR, {n: student(values[n], 7) for n in names})
    codes = {n: result[n].codes for n in names}
    # named where it first shows; later answers built on those are consistent with them
    assert codes["dE_total/dout_o1"] == codes["delta_o2"] == codes["E_total"] == ("rounded-intermediate",), codes
    assert all(result[n].codes == ("rounded-intermediate",) or result[n].verdict == "consistent"
               for n in names), codes


def test_the_search_stops_at_its_work_limit_and_says_so():
    """With a small work limit, unexplained answers say the search stopped; the verdicts stand."""
    from stepgrad.symbolic.check import Checker, Options
    text = toml({"dE_total/dw1": "0.123456789", "dE_total/dw2": "0.223456789"})
    report = Checker(MAZUR, Options(work=2000)).check(parse_answers(text, "a.toml"), "a.toml")
    assert [r.verdict for r in report.results] == ["wrong", "wrong"]
    assert all(r.codes == ("search-stopped",) for r in report.results)
    assert "stopped searching" in report.results[0].diagnoses[0].message


def test_training_for_answers_after_n_updates_is_refused_over_the_budget():
    """An answer after a million updates is refused up front in one line, with the estimate."""
    long = derive.derive(TANH.spec.with_training(steps=1_000_000))
    with pytest.raises(SpecError, match=r"answers after 1000000 updates need about \d+ s of training"):
        check_text(long, '"E_total@1000000" = 0.1\n', "a.toml")


def test_min_digits_and_rtol_options():
    """--min-digits lowers the digits asked for; --rtol accepts values within a relative tolerance."""
    from stepgrad.symbolic.check import Checker, Options
    text = toml({"out_o1": "0.75", "out_h1": "0.5935"})
    default = Checker(MAZUR).check(parse_answers(text, "a.toml"))
    assert [r.verdict for r in default.results] == ["wrong", "wrong"]
    loose = Checker(MAZUR, Options(min_digits=2, rtol=0.001)).check(parse_answers(text, "a.toml"))
    assert [r.verdict for r in loose.results] == ["correct", "correct"]


def test_every_key_is_located_in_one_pass():
    """Key lines come from one pass over the text: quoted (with escapes), literal, bare and table keys."""
    from stepgrad.symbolic.check.answers import key_lines
    text = '# comment\n"out_h1" = 0.5\n\'w5+\' = 0.3\nnet_h1 = 0.1\n"a\\"b" = 1\n[table]\nx = 1\n"dE_total/dw5" = 2\n'
    lines = key_lines(text)
    assert lines["out_h1"] == 2 and lines["w5+"] == 3 and lines["net_h1"] == 4 and lines['a"b'] == 5
    assert lines["table"] == 6
    many = "".join(f'"q{k}" = 0.5\n' for k in range(3000))
    assert key_lines(many)["q2999"] == 3000
    with pytest.raises(SpecError, match="stepgrad checks at most 5000"):
        parse_answers("".join(f'"q{k}" = 0.5\n' for k in range(5001)), "a.toml")


def test_twenty_digit_answers_are_judged_digit_for_digit():
    """A value rounded to 22 significant digits is correct; one unit off in the last of them is not."""
    text = mpmath.nstr(MAZUR.values["out_h1"], 22)
    assert check(MAZUR, {"out_h1": text})["out_h1"].verdict == "correct"
    off = str(Decimal(text) + Decimal(1).scaleb(Decimal(text).as_tuple().exponent))
    assert check(MAZUR, {"out_h1": off})["out_h1"].verdict == "wrong"


def test_two_weights_swapped_are_named_once_for_the_sheet():
    """w5 and w7 exchanged shows in net_o1 and net_o2: one swap named for both, not two slips."""
    from tests.check_support import Slip, compute
    values = compute(MAZUR.spec, Slip(params={"w5": "w7", "w7": "w5"}))
    result = check(MAZUR, {q: written(values[q], 6) for q in ("net_o1", "net_o2")})
    assert result["net_o1"].codes == result["net_o2"].codes == ("swapped-weights",)
