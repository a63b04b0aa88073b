"""Pasted working: every part of each line judged (formula, numbers substituted, value), unreadable lines listed."""

from __future__ import annotations

import json
import random
import re
from decimal import Decimal

import pytest

from stepgrad.codegen import check_report, cli
from stepgrad.symbolic.check import working
from stepgrad.symbolic.derive import format_value

from .conftest import BLOG


def _check(derivation, text: str):
    report, kinds = working.check_working(derivation, text, "work.md")
    return list(zip(report.results, kinds))


def _blog_working_lines() -> dict[int, str]:
    """The post's display-math lines that state something (an '='), by line number, read by the test itself."""
    out = {}
    for number, line in enumerate(BLOG.read_text().splitlines(), 1):
        m = re.fullmatch(r"\s*\$\$(.+)\$\$\s*", line)
        if m and "=" in m.group(1):
            out[number] = m.group(1)
    return out


#: What the post writes that stepgrad cannot read: sums over a generic index, and dE_o1/dnet_o1 (a
#: quantity stepgrad does not define), and dE_total/dnet_o1 while the checker has no such name.
UNREADABLE = (r"\sum", r"\partial E_{o1}}{\partial net_{o1}}", r"\partial E_{total}}{\partial net_{o1}}")


def test_the_posts_working_is_read_and_judged(mazur_derivation):
    """Every working line of the post is read; all its parts are right but the post's own two slips."""
    lines = _blog_working_lines()
    assert len(lines) >= 50
    results = _check(mazur_derivation, BLOG.read_text())
    by_line: dict[int, list] = {}
    for r, kind in results:
        by_line.setdefault(r.answer.line, []).append((r, kind))
    assert set(lines) == set(by_line), "every working line gets a verdict or is listed, nothing else does"
    slips = {(164, "formula"): "sign-error", (243, "formula"): "wrong-wiring"}
    judged = 0
    for number, parts in by_line.items():
        for r, kind in parts:
            if r.codes == ("not-read",):
                assert any(p in lines[number] for p in UNREADABLE), (number, r.diagnoses)
                continue
            judged += 1
            if (number, kind) in slips:
                assert r.verdict == "wrong" and r.codes[0] == slips[number, kind], (number, r)
            else:
                assert r.verdict == "correct", (number, kind, r.answer.text, r.diagnoses)
    assert judged >= 75
    # every line ending in a number had its value judged, and every '= numbers =' its substitution
    for number, text in lines.items():
        kinds = [k for r, k in by_line[number]]
        if kinds == ["line"]:
            continue  # not read at all (checked above)
        if re.search(r"=\s*-?\d+(\.\d+)?\s*$", text):
            assert "value" in kinds, number
        if re.search(r"=\s*[-\\{(]*\d[^=]*[*+]\s*[^=]*=\s*-?\d+(\.\d+)?\s*$", text) and "\\sum" not in text:
            assert "numbers" in kinds, number


def test_the_posts_slips_are_explained(mazur_derivation):
    """The post's -delta*out (line 164) and its w_3 in net_h1 (line 243) get the checker's explanations."""
    results = dict(((r.answer.line, k), r) for r, k in _check(mazur_derivation, BLOG.read_text()))
    assert "sign" in results[164, "formula"].diagnoses[0].message
    assert "w3" in results[243, "formula"].diagnoses[0].message


@pytest.mark.parametrize("line, number, symbol", [
    ("net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.25*0.1 + 0.35 = 0.3825", "0.25", "w2"),
    (r"$$net_{h1} = w_1 \cdot i_1 + w_2 \cdot i_2 + b_1 \cdot 1 = 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.53 \cdot 1"
     r" = 0.5575$$", "0.53", "b1"),
    (r"\frac{\partial E_{total}}{\partial w_5} = \delta_{o1} \times out_{h1} = 0.138498562 \times 0.5963"
     r" = 0.082586", "0.5963", "out_h1"),
    ("w5+ = w5 - eta*dE_total/dw5 = 0.4 - 0.5*0.0812 = 0.3594", "0.0812", "dE_total/dw5"),
])
def test_a_wrong_substituted_number_is_flagged_at_that_number(mazur_derivation, line, number, symbol):
    """A number that is not the value of the symbol it replaces is named, with that symbol's value."""
    parts = {k: r for r, k in _check(mazur_derivation, line)}
    assert parts["formula"].verdict == "correct"
    numbers = parts["numbers"]
    assert numbers.verdict == "wrong" and numbers.codes == ("substituted-number",)
    message = numbers.diagnoses[0].message
    assert message.startswith(f"{number} stands for {symbol}, which is ")
    assert message.count("stands for") == 1


def test_numbers_without_a_formula_on_the_line_use_the_last_one_written(mazur_derivation):
    """The post writes net_h1's formula, then its numbers on a later line: they are lined up all the same."""
    text = "$$net_{h1} = w_1 * i_1 + w_2 * i_2 + b_1 * 1$$\n\n$$net_{h1} = 0.15 * 0.05 + 0.1 * 0.1 + 0.35 * 1 = 0.3675$$\n"
    parts = {(r.answer.line, k): r for r, k in _check(mazur_derivation, text)}
    assert parts[3, "numbers"].diagnoses[0].message.startswith("0.1 stands for w2")


def test_right_numbers_with_wrong_arithmetic_are_flagged_at_the_value(mazur_derivation):
    """Numbers right, sum wrong: the numbers part passes and the value carries the arithmetic slip first."""
    parts = {k: r for r, k in _check(mazur_derivation,
                                     "net_h2 = w3*i1 + w4*i2 + b1 = 0.25*0.05 + 0.3*0.1 + 0.35 = 0.4025")}
    assert parts["numbers"].verdict == "correct"
    value = parts["value"]
    assert value.verdict == "wrong" and value.codes[0] == "arithmetic"
    assert "0.3925" in value.diagnoses[0].message and "0.4025" in value.diagnoses[0].message


def test_rounded_numbers_may_give_the_value_of_the_unrounded_ones(mazur_derivation):
    """0.75136507(1 - 0.75136507) is written 0.186815602, the value of the unrounded out_o1: not an arithmetic slip."""
    parts = {k: r for r, k in _check(
        mazur_derivation, r"\frac{\partial out_{o1}}{\partial net_{o1}} = out_{o1}(1 - out_{o1}) = "
                          r"0.75136507(1 - 0.75136507) = 0.186815602")}
    assert [parts[k].verdict for k in ("formula", "numbers", "value")] == ["correct"] * 3


def test_a_wrong_value_is_judged_by_the_checker(mazur_derivation):
    """The value goes through the checker: too few digits, follow-through from the student's earlier value."""
    text = ("out_h1 = 0.59\n"
            "net_o1 = w5*out_h1 + w6*out_h2 + b2 = 0.4*0.6 + 0.45*0.596884378 + 0.6 = 1.108597970\n")
    parts = {(r.answer.line, k): r for r, k in _check(mazur_derivation, text)}
    assert parts[1, "value"].codes == ("too-few-digits",)
    # 0.6 is out_h1 to one digit, and not the 0.59 written for it: too few digits to substitute
    assert parts[2, "numbers"].verdict == "wrong"
    assert "0.6 stands for out_h1" in parts[2, "numbers"].diagnoses[0].message
    assert "significant digits" in parts[2, "numbers"].diagnoses[0].message


def test_follow_through_from_an_earlier_wrong_value(mazur_derivation):
    """A number the student stated earlier may be used as stated; the value built on it is credited."""
    text = ("out_h1 = 0.7000\n"
            "net_o1 = w5*out_h1 + w6*out_h2 + b2 = 0.4*0.7000 + 0.45*0.596884378 + 0.6 = 1.148597970\n")
    parts = {(r.answer.line, k): r for r, k in _check(mazur_derivation, text)}
    assert parts[1, "value"].verdict == "wrong"
    assert parts[2, "numbers"].verdict == "correct"
    assert parts[2, "value"].verdict == "consistent"


def test_unreadable_lines_are_listed_not_fatal(mazur_derivation, tmp_path, capsys):
    """A misspelt quantity and an unsupported command are listed with their line; prose is skipped."""
    text = ("Here the answer = what we want, as the text says.\n"
            "out_q1 = 0.5\n"
            r"E_total = \sum \frac{1}{2}(target - output)^2" "\n"
            "out_h1 = 0.593269992\n")
    results = _check(mazur_derivation, text)
    assert [(r.answer.line, k, r.verdict) for r, k in results] == [
        (2, "line", "unknown"), (3, "line", "unknown"), (4, "value", "correct")]
    assert "did you mean out_o1" in results[0][0].diagnoses[0].message
    assert r"\sum" in results[1][0].diagnoses[0].message
    path = tmp_path / "work.txt"
    path.write_text(text)
    assert cli.main(["check", "mazur", str(path)]) == 1
    out = capsys.readouterr().out
    assert "? line 2: not read: out_q1 is not a quantity stepgrad knows" in out
    assert "? line 3: not read: " in out
    assert "✓ line 4: out_h1, value: 0.593269992" in out


@pytest.mark.parametrize("suffix", [".md", ".tex", ".txt"])
def test_check_reads_working_by_extension(tmp_path, suffix, capsys):
    """`stepgrad check SPEC FILE.md|.tex|.txt` reads working; JSON records say the line and the part."""
    path = tmp_path / f"work{suffix}"
    path.write_text("$$net_{h1} = w_1 \\cdot i_1 + w_2 \\cdot i_2 + b_1 = 0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + "
                    "0.35 = 0.3775$$\n")
    assert cli.main(["check", "mazur", str(path)]) == 0
    assert "3 of 3 parts correct." in capsys.readouterr().out
    assert cli.main(["check", "mazur", str(path), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)["answers"]
    assert [(r["line"], r["part"], r["verdict"]) for r in records] == [
        (1, "formula", "correct"), (1, "numbers", "correct"), (1, "value", "correct")]


def test_a_working_line_with_a_sample_number(tmp_path):
    """Per-sample names read in working lines of a several-sample batch, numbers from that sample."""
    from stepgrad.symbolic import spec as spec_mod
    from stepgrad.symbolic.derive import derive

    from .test_worksheet import TWO_SAMPLES
    d = derive(spec_mod.parse(TWO_SAMPLES, "two.toml", "two"))
    net = d.values["net_h1[2]"]
    text = f"net_h1[2] = w1*i1 + w2*i2 + b_h1 = 0.1*-0.5 + -0.2*0.25 + 0.05 = {format_value(net)}\n"
    parts = {k: r for r, k in _check(d, text)}
    assert [parts[k].verdict for k in ("formula", "numbers", "value")] == ["correct"] * 3
    wrong = text.replace("0.1*-0.5", "0.1*1.0")
    assert {k: r for r, k in _check(d, wrong)}["numbers"].diagnoses[0].message.startswith("1.0 stands for i1")


def _hostile(n: int) -> str:
    rng = random.Random(5)
    pieces = [
        "net_h1 = " + "(" * 40 + "1" + ")" * 40,
        "net_h1 = 9^9^9^9^9 = 1e999999999",
        "out_h1 = \x1b[2J\x07\x00\u202e = 0.5",
        "net_h1 = " + "9" * 80 + " = 1",
        "w5+ = 10**10**10 = 2",
        "E_total = e^{e^{e^{e^{100}}}} = 3",
        "$$out_h1 = " + "\\frac{1}{" * 8 + "2" + "}" * 8 + "$$",
        "out_o1 = " + "1+" * 40 + "1 = 41",
        "\\frac{\\partial E_{total}}{\\partial w_5} = " + "\\frac{\\partial" * 5,
        "net_h1 = 0.15^{100} = 0",
        "net_h1 = 2^{-100000} = 0",
        "out_h1 = \\sigma(1e100) = 1",
        "out_h1 = tanh(99999999999999999999) = 1",
        "dE_total/dw5 = delta_o1*out_h1 = 0.1384*0.5932 = 0.08",
        "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.%d",
    ]
    lines = []
    for k in range(n):
        p = rng.choice(pieces)
        lines.append(p % rng.randint(1000, 9999) if "%d" in p else p)
    return "\n".join(lines) + "\n"


def test_hostile_working_ends_with_verdicts(mazur_derivation, tmp_path):
    """10,000 hostile lines (deep brackets, towers of powers, control characters, huge numbers) are
    judged within the caps, listed or judged, and shown with control characters escaped.

    Their time is measured in benchmarks/check_working.py, not here.
    """
    text = _hostile(10_000)
    assert len(text.encode()) < 1024 * 1024
    path = tmp_path / "hostile.txt"
    path.write_text(text)
    out, code = check_report.run("mazur", str(path))
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert f"reads at most {working.MAX_WORKING} lines of working" in out
    lines = out.splitlines()
    assert lines[-1].endswith("not read.")
    # every line the caps let through got a verdict or a reason
    assert len(lines) - 2 >= working.MAX_WORKING


def test_latex_align_rows_inline_math_and_full_stops(mazur_derivation):
    """An align row '&= numbers' continues the line above; inline $...$ in prose and a closing full stop read."""
    text = ("\\begin{align*}\n"
            "net_{h1} &= w_1 \\cdot i_1 + w_2 \\cdot i_2 + b_1 \\\\\n"
            "         &= 0.15 \\times 0.05 + 0.2 \\times 0.1 + 0.53 = 0.5575 \\\\\n"
            "\\end{align*}\n"
            "So we get $out_{h2} = 0.596884378$ and $E_{o1} = 0.2748$ here.\n"
            "E_total = 0.298371109.\n")
    results = [(r.answer.line, k, r.quantity, r.verdict) for r, k in _check(mazur_derivation, text)]
    assert results == [(2, "formula", "net_h1", "correct"), (3, "numbers", "net_h1", "wrong"),
                       (3, "value", "net_h1", "wrong"), (5, "value", "out_h2", "correct"),
                       (5, "value", "E_o1", "correct"), (6, "value", "E_total", "correct")]
    numbers = _check(mazur_derivation, text)[1][0]
    assert numbers.diagnoses[0].message.startswith("0.53 stands for b1, which is 0.35")


@pytest.mark.parametrize("rhs", ["\\exp" * 399 + "1", "\\frac" * 399 + "1", "-" * 399 + "1",
                                 "(" * 60 + "1" + ")" * 60, "2^2^2", "9" * 60, "1e99999"])
def test_deep_or_huge_arithmetic_is_not_read(mazur_derivation, rhs):
    """Nesting past the reader's depth, towers of powers and huge numbers are 'not read', never a crash."""
    results = _check(mazur_derivation, f"out_h1 = w5 = {rhs} = 0.5\n")
    assert any(r.codes == ("not-read",) for r, _ in results)
    assert not any(k == "numbers" and r.verdict == "correct" for r, k in results)


def test_pasted_unicode_reads(mazur_derivation):
    """∂E/∂w5, δ, η, × , · and − as pasted from a document read as their ASCII and LaTeX forms."""
    text = ("∂E/∂w5 = δ_o1 · out_h1 = 0.138498562 × 0.593269992 = 0.082167041\n"
            "w5+ = w5 − η·∂E/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.35891648\n"
            "$$\\frac{\\partial E_{total}}{\\partial w_5} = δ_{o1} \\cdot out_{h1} = 0.138498562 \\cdot 0.5933 = 0.0822$$\n")
    results = [(r.answer.line, k, r.quantity, r.verdict) for r, k in _check(mazur_derivation, text)]
    assert results == [(n, k, q, "correct") for n, q in ((1, "dE_total/dw5"), (2, "w5+"), (3, "dE_total/dw5"))
                       for k in ("formula", "numbers", "value")]


def test_numbers_that_do_not_line_up_may_be_parts_of_the_step(mazur_derivation):
    """Numbers for 1 - out_o1, or for every factor of the chain rule, are values the step uses; 0.5 is not."""
    text = ("dout_o1/dnet_o1 = out_o1*(1 - out_o1) = 0.75136507 * 0.24863493 = 0.186815602\n"
            "dE_total/dw5 = delta_o1 * out_h1 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041\n"
            "dE_total/dw5 = delta_o1 * out_h1 = 0.74136507 * 0.186815602 * 0.5 = 0.082167041\n")
    parts = {(r.answer.line, k): r for r, k in _check(mazur_derivation, text)}
    assert parts[1, "numbers"].verdict == parts[2, "numbers"].verdict == "correct"
    assert parts[3, "numbers"].diagnoses[0].message.startswith("0.5 is not the value of anything dE_total/dw5")
    assert parts[3, "value"].codes[0] == "arithmetic"


def test_deep_network_names_with_commas_and_sample_tags():
    """net_{h1,1}^{(2)} names net_h1_1[2] in a several-sample batch; its numbers come from sample 2."""
    from stepgrad.symbolic import spec as spec_mod
    from stepgrad.symbolic.derive import derive

    d = derive(spec_mod.load("softmax_batch"))
    s = d.spec
    def shown(v) -> str:
        return format(Decimal(v.p) / Decimal(v.q), "f")
    w = {k: shown(v) for k, v in s.initial}
    x = {k: shown(v) for k, v in s.samples[1].inputs}
    value = format_value(d.values["net_h1_1[2]"])
    text = (f"$$net_{{h1,1}}^{{(2)}} = w_1 i_1 + w_2 i_2 + b_{{h1,1}} = {w['w1']} \\cdot {x['i1']} + "
            f"{w['w2']} \\cdot {x['i2']} + {w['b_h1_1']} = {value}$$\n")
    results = _check(d, text)
    assert [(k, r.quantity, r.verdict) for r, k in results] == [
        ("formula", "net_h1_1[2]", "correct"), ("numbers", "net_h1_1[2]", "correct"),
        ("value", "net_h1_1[2]", "correct")], text


def test_values_after_training_are_judged_once(mazur_derivation):
    """E_total@N is judged (training within its cap), once per file; beyond the spec's training, not read."""
    text = "E_total@1 = 0.291027774\nE_total@1 = 0.3\nE_total@99999999 = 1\n"
    results = [(r.answer.line, r.verdict, r.codes) for r, _ in _check(mazur_derivation, text)]
    assert results == [(1, "correct", ()), (2, "unknown", ("not-read",)), (3, "unknown", ("not-read",))]


def test_working_feedback_sheet_in_markdown(tmp_path):
    """--format md: a row per part, a line not read labelled by its number, every string escaped."""
    path = tmp_path / "work.md"
    path.write_text("out_h1 = 0.593269992\nout_q1 = <b>0.5</b>\nnet_h2 = w3*i1 + w4*i2 + b1 = 0.4025\n")
    out, code = check_report.run("mazur", str(path), "md")
    assert code == 1
    assert "| ✓ | `out_h1` | `0.593269992` |" in out
    assert "| ✗ | `line 2` | `out_q1 = <b>0.5</b>` |" in out  # in a code span, shown as written
    assert out.count("<b>") == 2  # the table row and the explanation's code span, nowhere raw
    assert "`net_h2`" in out


def test_stepgrads_own_worked_example_reads_as_correct_working(mazur_worked, mazur_derivation):
    """The worked example's Markdown, pasted as working: every part judged is right; only the prose's
    generic formulas (w, o, h for any weight or neuron) and the matrix form's layer-indexed quantities
    (delta^(l), W^(2)) are not read; the mermaid diagram is skipped."""
    results = _check(mazur_derivation, mazur_worked.markdown)
    judged = [(r, k) for r, k in results if r.codes != ("not-read",)]
    assert len(judged) >= 150
    assert all(r.verdict == "correct" for r, _ in judged), [(r.answer.line, k, r.answer.text) for r, k in judged
                                                            if r.verdict != "correct"]
    for r, _ in results:
        if r.codes == ("not-read",):
            assert re.search(r"\{?\\partial (w|out_\{h\})\}|_\{[oh]\}|\^\{\((l|\d)\)\}", r.diagnoses[0].message), \
                r.diagnoses


def test_per_sample_names_in_plain_formulas(tmp_path):
    """(E_total[1] + E_total[2])/2 names the samples' errors; LaTeX's ^{(1)} inside a formula is listed."""
    from stepgrad.symbolic import spec as spec_mod
    from stepgrad.symbolic.derive import derive

    d = derive(spec_mod.load("softmax_batch"))
    e1, e2, e = (format_value(d.values[k]) for k in ("E_total[1]", "E_total[2]", "E_total"))
    text = (f"E_total = (E_total[1] + E_total[2])/2 = ({e1} + {e2})/2 = {e}\n"
            f"$$E_{{total}} = \\frac{{1}}{{2}} \\left({{E_{{total}}}}^{{(1)}} + {{E_{{total}}}}^{{(2)}}\\right) = {e}$$\n")
    results = [(r.answer.line, k, r.verdict) for r, k in _check(d, text)]
    assert results == [(1, "formula", "correct"), (1, "numbers", "correct"), (1, "value", "correct"),
                       (2, "value", "correct"), (2, "part", "unknown")]


def test_lines_not_read_count_toward_the_cap(mazur_derivation):
    """10,000 lines of unknown quantities: the first ones listed (a did-you-mean for the first 100), the rest
    summed up in one line."""
    results = _check(mazur_derivation, "".join(f"out_q{k} = 0.{k}\n" for k in range(10_000)))
    assert len(results) == working.MAX_WORKING + 1
    assert f"reads at most {working.MAX_WORKING} lines" in results[-1][0].diagnoses[0].message
    hints = sum("did you mean" in r.diagnoses[0].message for r, _ in results)
    assert hints == working.MAX_HINTS


def test_answers_file_lines_in_a_text_file_read(mazur_derivation):
    """Quoted names and formulas, as an answers file writes them, read in a .txt of working too."""
    results = _check(mazur_derivation, '"out_h1" = 0.593269992\n"dE_total/dw5" = "delta_o1*out_h1"\n')
    assert [(r.quantity, k, r.verdict) for r, k in results] == [
        ("out_h1", "value", "correct"), ("dE_total/dw5", "formula", "correct")]


def test_numbers_part_expects_the_formula_with_true_values(mazur_derivation):
    """A numbers part's expected text is the formula as written with each quantity's true value."""
    parts = {k: r for r, k in _check(mazur_derivation,
                                     "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.25*0.1 + 0.35 = 0.3825")}
    assert parts["numbers"].expected == "0.15*0.05 + 0.2*0.1 + 0.35"
    line = r"\frac{\partial E_{total}}{\partial out_{h1}} = \frac{\partial E_{o1}}{\partial out_{h1}} + " \
           r"\frac{\partial E_{o2}}{\partial out_{h1}} = 0.055399425 + -0.019049119 = 0.036350306"
    expected = {k: r for r, k in _check(mazur_derivation, line)}["numbers"].expected
    values = mazur_derivation.values
    assert expected == f"{format_value(values['dE_o1/dout_h1'])} + ({format_value(values['dE_o2/dout_h1'])})"


def test_approximately_equal_separates_parts(mazur_derivation):
    """≈ and \\approx before a rounded value separate parts like '='."""
    text = "out_h1 = 1/(1+e^-0.3775) ≈ 0.5933\n$$out_{h2} = \\frac{1}{1+e^{-0.3925}} \\approx 0.5969$$\n"
    assert [(k, r.verdict) for r, k in _check(mazur_derivation, text)] == [
        ("numbers", "correct"), ("value", "correct"), ("numbers", "correct"), ("value", "correct")]
