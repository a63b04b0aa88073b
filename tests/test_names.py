"""The names students write: every spelling in the README's table reads as its canonical quantity."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepgrad.codegen import check_report
from stepgrad.codegen.marking import StudentChecker, check_answers
from stepgrad.symbolic import derive, formula, spec
from stepgrad.symbolic.check import VERDICTS
from stepgrad.symbolic.check.aliases import canonical, suggestion
from stepgrad.symbolic.spec import SpecError

# the post's printed figures (Mazur), an independent source of the right values
POST = {"delta_o1": "0.138498562", "dE_total/dw5": "0.082167041", "w5+": "0.35891648",
        "dE_total/dw6": "0.082667628", "delta_o2": "-0.038098237"}


@pytest.fixture(scope="module")
def mazur():
    return derive.derive(spec.load("mazur"))


@pytest.fixture(scope="module")
def batch():
    return derive.derive(spec.load("softmax_batch"))


def verdicts(d, text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {r.quantity: (r.verdict, r.codes) for r in check_answers(d, text, "a.toml").results}


@pytest.mark.parametrize(("key", "quantity"), [
    ("delta_o1", "delta_o1"), ("δ_o1", "delta_o1"), ("dE_total/dnet_o1", "delta_o1"), ("∂E/∂net_o1", "delta_o1"),
    ("\\\\delta_{o1}", "delta_o1"), ("∂E/∂w5", "dE_total/dw5"), ("dE/dw5", "dE_total/dw5"),
    ("∂E_total/∂w5", "dE_total/dw5"), ("\\\\frac{\\\\partial E_{total}}{\\\\partial w_5}", "dE_total/dw5"),
    ("\\\\frac{\\\\partial E}{\\\\partial w_5}", "dE_total/dw5"), ("dE_total_dw5", "dE_total/dw5"),
    ("w5_plus", "w5+"), ("w_5^{+}", "w5+"), ("w5^+", "w5+"), ("dE_total/dw6", "dE_total/dw6"),
])
def test_keys_students_write_are_judged_as_the_quantity(mazur, key, quantity):
    """Each spelling of a key is judged against its canonical quantity: the post's figure is correct, a
    sign error is wrong."""
    value = POST[quantity]
    assert verdicts(mazur, f'"{key}" = {value}') == {quantity: ("correct", ())}
    flipped = value[1:] if value.startswith("-") else "-" + value
    assert verdicts(mazur, f'"{key}" = {flipped}')[quantity][0] == "wrong"


@pytest.mark.parametrize("text", [
    "-(t_o1 - out_o1)", "-(y_o1 - out_o1)", "-(target_o1 - out_o1)", "out_o1 - t_o1",
    "-\\\\left( t_{o1} - out_{o1} \\\\right)", "(out_{o1} - y_{o1}) \\\\cdot 1", "(out_{o1} - y_{o1}) \\\\times 1",
])
def test_targets_in_formulas(mazur, text):
    """t_o1, y_o1 and target_o1 are the target in a formula, in SymPy syntax and LaTeX."""
    assert verdicts(mazur, f'"dE_total/dout_o1" = "{text}"') == {"dE_total/dout_o1": ("correct", ())}
    wrong = text.replace("out_o1", "out_o2").replace("out_{o1}", "out_{o2}")
    assert verdicts(mazur, f'"dE_total/dout_o1" = "{wrong}"')["dE_total/dout_o1"][0] != "correct"


@pytest.mark.parametrize("text", [
    "δ_o1*out_h1", "delta_o1*out_h1", "dE_total_dnet_o1*out_h1", "\\\\delta_{o1} \\\\cdot out_{h1}",
    "\\\\frac{\\\\partial E_{total}}{\\\\partial net_{o1}} \\\\times out_{h1}",
    "\\\\frac{\\\\partial E}{\\\\partial out_{o1}} \\\\frac{\\\\partial out_{o1}}{\\\\partial net_{o1}} out_{h1}",
])
def test_delta_in_formulas(mazur, text):
    """δ written as δ_o1, \\delta_{o1} or ∂E/∂net_o1 inside a formula for ∂E/∂w5."""
    assert verdicts(mazur, f'"∂E/∂w5" = "{text}"') == {"dE_total/dw5": ("correct", ())}


def test_net_with_a_comma_subscript(batch):
    """net_{h2,1} is net_h2_1 (the LaTeX reader has a ',' token)."""
    names = StudentChecker(batch).names
    expr = formula.parse("w_{1} out_{h1,1} + net_{h2,1}", names)
    assert {s.name for s in expr.free_symbols} >= {"out_h1_1", "net_h2_1"}
    known = StudentChecker(batch).known
    assert canonical("net_{h2,1}[1]", known, names) == "net_h2_1[1]"
    assert canonical("net_{h2,1}^{(2)}", known, names) == "net_h2_1[2]"


def test_per_sample_name_without_a_sample_is_told_the_samples(batch):
    """out_h1_1 in a several-sample spec: the message names out_h1_1[1] and [2], never the name typed."""
    r = check_answers(batch, '"out_h1_1" = 0.5\n"out_h1_1[1]" = -0.742', "a.toml").results
    message = r[0].diagnoses[0].message
    assert r[0].verdict == "unknown" and "'out_h1_1[1]' or 'out_h1_1[2]'" in message
    assert "did you mean 'out_h1_1'" not in message
    assert r[1].verdict == "correct"


def test_did_you_mean_never_the_same_name():
    """suggestion() names another valid name or nothing."""
    assert suggestion("w55", ["w5", "w55x"]) != "; did you mean 'w55'?"
    assert "w5" in suggestion("w55", ["w5"])
    assert suggestion("zzz", ["w5"]) == ""


def test_unknown_weight_lists_the_numbering(mazur):
    """A weight the network does not have: the message lists the parameters and points to the worksheet."""
    r = check_answers(mazur, '"w17" = 0.3', "a.toml").results[0]
    assert r.verdict == "unknown"
    assert "w1, w2, w3, w4, w5, w6, w7, w8, b1, b2" in r.diagnoses[0].message
    assert "stepgrad worksheet" in r.diagnoses[0].message


def test_one_unreadable_answer_does_not_stop_the_rest(tmp_path):
    """An unknown name or bad syntax inside a formula is 'unreadable' with its reason; the rest are judged."""
    path = tmp_path / "a.toml"
    path.write_text('"out_h1" = 0.593269992\n"net_h1" = "__import__(\'os\').system(\'true\')"\n'
                    '"net_h2" = "\\\\frac{w_3 i_1"\n"out_o1" = "sigma(net_o1 + foo)"\n"E_total" = 0.298371109\n')
    out, code = check_report.run("mazur", str(path), "json", False)
    assert code == 1
    import json
    records = {r["quantity"]: r for r in json.loads(out)["answers"]}
    assert records["out_h1"]["verdict"] == "correct" and records["E_total"]["verdict"] == "correct"
    for q, reason in (("net_h1", "unknown name '__import__'"), ("out_o1", "unknown name 'foo'"),
                      ("net_h2", "")):
        assert records[q]["verdict"] == "unreadable" and records[q]["codes"] == ["unreadable"]
        assert reason in records[q]["message"]
    assert "line 2" in records["net_h1"]["message"]


@pytest.mark.parametrize(("name", "quantity", "reason"), [
    ("unsafe", "net_h1", "unknown name '__import__'"),
    ("latex_error", "net_h1", "could not read this"),
    ("nan", "net_h1", "NaN is not a finite number"),
    ("table", "dE_total", "is a table"),
])
def test_bad_answers_in_the_test_data_are_unreadable_alone(name, quantity, reason):
    """Each bad answer of tests/data/answers gets the verdict 'unreadable' with its reason and line; the
    file's other answer (out_h1) is still judged correct, and the exit code is 1, not 2."""
    from pathlib import Path
    path = Path(__file__).parent / "data" / "answers" / f"{name}.toml"
    out, code = check_report.run("mazur", str(path), "text", False)
    assert code == 1
    assert "✓ out_h1 = 0.593269992" in out
    line = next(x for x in out.splitlines() if x.startswith(f"? {quantity}"))
    assert reason in line and "(line 2)" in line


def test_a_too_large_number_in_a_formula_is_unreadable_alone(mazur):
    """A formula refused for its size is unreadable; the answer after it is still judged."""
    r = check_answers(mazur, '"w1+" = "w1 - eta*dE_total_dw1*' + "1" * 60 + '"\n"out_h1" = 0.593269992\n',
                      "a.toml").results
    assert [x.verdict for x in r] == ["unreadable", "correct"]
    assert "more than 50 digits" in r[0].diagnoses[0].message


def test_text_report_writes_expected_formulas_with_canonical_names(tmp_path):
    """The text report's expected formula uses canonical names (dE_total/dout_o2), not identifiers."""
    path = tmp_path / "a.toml"
    path.write_text('"delta_o2" = "(out_o2 - t_o2) * out_o2"\n')
    out, _ = check_report.run("mazur", str(path))
    assert "(expected dE_total/dout_o2*dout_o2/dnet_o2)" in out and "dE_total_dout_o2" not in out


def test_three_inputs_weight_numbering_is_in_the_error(tmp_path):
    """A spec with 3 inputs and missing or unknown weights: the error spells out the default numbering."""
    from stepgrad.symbolic.spec import SpecError
    body = ("[[layers]]\nsize = 3\n[[layers]]\nsize = 2\nactivation = \"sigmoid\"\n[[layers]]\nsize = 2\n"
            "activation = \"sigmoid\"\n[[samples]]\n"
            "inputs = [0.1, 0.2, 0.3]\ntargets = [0.01, 0.99]\n[parameters]\nw1 = 0.1\n")
    for extra in ("", "w17 = 0.3\n"):
        path = tmp_path / "s.toml"
        path.write_text(body + extra)
        with pytest.raises(SpecError) as info:
            spec.load(str(path))
        message = str(info.value)
        assert "w3 = i3 -> h1, w4 = i1 -> h2" in message and "stepgrad new" in message
        assert message.count("\n") == 0


@pytest.mark.parametrize("text", [
    "dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5", "dE_total/dnet_o1 * out_h1", "∂E/∂net_o1 * out_h1",
])
def test_derivatives_with_a_slash_inside_formulas(mazur, text):
    """Inside a plain-text formula, dE/dout_o1 and dE_total/dnet_o1 are the quantities, not divisions."""
    r = check_answers(mazur, f'"dE_total/dw5" = "{text}"', "a.toml").results[0]
    assert (r.verdict, r.answer.text) == ("correct", text)
    assert check_answers(mazur, f'"dE_total/dw6" = "{text}"', "a.toml").results[0].verdict != "correct"


def test_per_sample_formulas(batch):
    """In a several-sample spec, a formula names quantities without the sample (its sample's) or with it."""
    r = check_answers(batch, '"delta_h2_1[2]" = "dE_total/dout_h2_1 * (1 - out_h2_1^2)"\n'
                             '"delta_h2_1[1]" = "dE_total/dout_h2_1[1] * (1 - out_h2_1[1]^2)"\n'
                             '"delta_o1[1]" = "out_o1 - t_o1"\n"delta_o2[1]" = "out_o2[1] - y_o2[1]"\n',
                      "a.toml").results
    assert [x.verdict for x in r] == ["correct"] * 4


@pytest.mark.parametrize(("line", "shown"), [
    ("dE_total/dw5 = 0.08", '"dE_total/dw5" = ...'), ("w5+ = 0.35", '"w5+" = ...'),
    ("δ_o1 = 0.13", '"δ_o1" = ...'), ("E_total@1 = 0.29", '"E_total@1" = ...'),
])
def test_unquoted_names_are_told_to_quote(tmp_path, line, shown):
    """A name that TOML needs quoted, written bare: the one-line error says how to quote it."""
    path = tmp_path / "a.toml"
    path.write_text(f'"out_h1" = 0.593\n{line}\n', encoding="utf-8")
    out, code = check_report.run("mazur", str(path))
    assert code == 2 and out.count("\n") == 1
    assert f"quote the name: {shown}" in out and "line 2" in out


def test_a_formula_with_comma_subscripts_is_judged(batch):
    """net_{h2,1} = w_{7} out_{h1,1} + ... in LaTeX is judged like its SymPy-syntax twin: right, and a
    swapped weight is wrong."""
    right = "w_{7} out_{h1,1} + w_{8} out_{h1,2} + w_{9} out_{h1,3} + b_{h2,1}"
    r = check_answers(batch, f'"net_{{h2,1}}^{{(1)}}" = "{right}"', "a.toml").results[0]
    assert (r.quantity, r.verdict) == ("net_h2_1[1]", "correct")
    swapped = right.replace("w_{7}", "w_{10}")
    assert check_answers(batch, f'"net_h2_1[1]" = "{swapped}"', "a.toml").results[0].verdict == "wrong"


_KEY_PARTS = ["d", "∂", "E", "E_total", "/", "δ", "_", "o1", "h1", "net", "out", "w5", "^{(1)}", "[1]", "[2]",
              "@1", "+", "\\frac{", "\\partial ", "}", "{", ",", " ", "t_", "y_", "$", "_plus", "\\delta"]
_FORMULA_PARTS = ["t_o1", "y_o1", "out_o1", "dE/dw5", "dE_total/dnet_o1", "δ_o1", "*", "(", ")", "\\cdot",
                  "\\left(", "\\right)", "net_{h2,1}", "E", "-", "1", "w_5", "[1]", "\\frac{", "}{", "}", ","]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.lists(st.sampled_from(_KEY_PARTS), min_size=1, max_size=8).map("".join),
                       st.lists(st.sampled_from(_FORMULA_PARTS), min_size=1, max_size=10).map("".join),
                       min_size=1, max_size=5))
def test_any_mix_of_student_spellings_gets_verdicts(mazur, doc):
    """Keys and formulas built from the spellings students use end in one verdict each, never a crash."""
    body = "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in doc.items())
    try:
        report = check_answers(mazur, body, "a.toml")
    except SpecError:
        return
    assert len(report.results) == len(doc)
    assert all(r.verdict in VERDICTS + ("unreadable",) for r in report.results)


def test_pasted_working_reads_the_names_students_write(tmp_path):
    """Working lines named dE/dw5 or dE_total/dnet_o1, with dE/dout_o1 inside the formula, are read and
    judged; a wrong value on such a line is still wrong."""
    path = tmp_path / "w.txt"
    path.write_text("dE/dw5 = dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5 = 0.741365070*0.186815602*0.593269992"
                    " = 0.082167041\ndE_total/dnet_o1 = 0.138498562\nδ_o2 = 0.0381\n")
    out, code = check_report.run("mazur", str(path))
    assert "not read" not in out
    assert "✓ line 1: dE_total/dw5, formula" in out and "✓ line 2: delta_o1, value" in out
    assert "✗ line 3: delta_o2, value" in out and code == 1
