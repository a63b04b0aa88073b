"""stepgrad's Python API: each entry point against the post's figures and an independent float computation."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import sympy

import stepgrad
from stepgrad.codegen import pdf, pipeline
from stepgrad.codegen.cli import main as cli
from stepgrad.symbolic.spec import builtin_names

#: The post's network, written out here (not read from stepgrad) for the independent float computations.
W = {"w1": 0.15, "w2": 0.2, "w3": 0.25, "w4": 0.3, "w5": 0.4, "w6": 0.45, "w7": 0.5, "w8": 0.55}
B1, B2, I1, I2, T1, T2, ETA = 0.35, 0.6, 0.05, 0.1, 0.01, 0.99, 0.5


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _forward(w: dict) -> dict:
    """The post's forward pass, by hand."""
    h1, h2 = _sigmoid(w["w1"] * I1 + w["w2"] * I2 + B1), _sigmoid(w["w3"] * I1 + w["w4"] * I2 + B1)
    o1, o2 = _sigmoid(w["w5"] * h1 + w["w6"] * h2 + B2), _sigmoid(w["w7"] * h1 + w["w8"] * h2 + B2)
    return {"out_h1": h1, "out_h2": h2, "out_o1": o1, "out_o2": o2,
            "E_total": 0.5 * (T1 - o1) ** 2 + 0.5 * (T2 - o2) ** 2}


def _update(w: dict) -> dict:
    """One of the post's updates (original weights in the hidden deltas, biases frozen), by hand."""
    f = _forward(w)
    h1, h2, o1, o2 = f["out_h1"], f["out_h2"], f["out_o1"], f["out_o2"]
    d1, d2 = (o1 - T1) * o1 * (1 - o1), (o2 - T2) * o2 * (1 - o2)
    e1, e2 = (d1 * w["w5"] + d2 * w["w7"]) * h1 * (1 - h1), (d1 * w["w6"] + d2 * w["w8"]) * h2 * (1 - h2)
    grads = {"w1": e1 * I1, "w2": e1 * I2, "w3": e2 * I1, "w4": e2 * I2,
             "w5": d1 * h1, "w6": d1 * h2, "w7": d2 * h1, "w8": d2 * h2}
    return {k: w[k] - ETA * grads[k] for k in w}


def _post(x: str | float, printed: str) -> bool:
    """Whether a value rounds to the figure the post printed, at the digits printed."""
    return round(Decimal(str(x)), len(printed.split(".")[1])) == Decimal(printed)


@pytest.fixture(scope="module")
def derived():
    """The post's network, derived through the API."""
    return stepgrad.derive("mazur")


@pytest.fixture(scope="module")
def mazur_text():
    """The built-in spec's TOML text."""
    return resources.files("stepgrad.symbolic.examples").joinpath("mazur.toml").read_text("utf-8")


# -- load ---------------------------------------------------------------------------------

def test_every_form_of_a_spec_loads_the_same_network(mazur_text, tmp_path):
    """A built-in name, a Path, a str path, TOML text and a dict of that text give the same spec."""
    path = tmp_path / "mazur.toml"
    path.write_text(mazur_text)
    doc = tomllib.loads(mazur_text)  # floats as Python floats: the dict route keeps their digits
    forms = [stepgrad.load("mazur"), stepgrad.load(path), stepgrad.load(str(path)),
             stepgrad.load(mazur_text, name="mazur"), stepgrad.load(doc, name="mazur"),
             stepgrad.load(tomllib.loads(mazur_text, parse_float=Decimal), name="mazur")]
    assert all(f.spec == forms[0].spec for f in forms)
    assert [f.source for f in forms] == ["mazur", "mazur.toml", "mazur.toml", "mazur", "mazur", "mazur"]
    assert stepgrad.load(forms[0]) is forms[0]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_reads_the_same_as_a_dict(name):
    """Each built-in example's TOML, read into a dict (floats as floats, and as decimals), loads as the same spec:
    wiring, an initializer, reference figures with quoted names survive the dict route."""
    text = resources.files("stepgrad.symbolic.examples").joinpath(f"{name}.toml").read_text("utf-8")
    builtin = stepgrad.load(name).spec
    assert stepgrad.load(tomllib.loads(text), name=name).spec == builtin
    assert stepgrad.load(tomllib.loads(text, parse_float=Decimal), name=name).spec == builtin
    assert stepgrad.load(text, name=name).spec == builtin


def test_a_dict_keeps_numbers_exact():
    """0.15 given as a float in a dict is exactly 15/100, as in a file."""
    net = stepgrad.load({"layers": [{"size": 1}, {"size": 1}], "parameters": {"w1": 0.15, "b_o1": Decimal("0.1")},
                         "samples": [{"inputs": [1], "targets": [0.5]}], "training": {"learning_rate": 1}})
    assert dict(net.spec.initial)["w1"] == sympy.Rational(15, 100)
    assert net.parameters == {"w1": "0.15", "b_o1": "0.1"}
    assert net.name == "network" and net.layers == (("i1",), ("o1",))


@pytest.mark.parametrize("source, message", [
    ({"layers": [{"size": 1}, {"size": 1}], "training": {"learning_rate": 0.5}, "colour": "red"},
     "<dict>: colour: unknown key"),
    ({"layers": [{"size": 1}, {"size": 1, "activation": "sigmoidd"}], "parameters": {"w1": 1, "b_o1": 0},
      "samples": [{"inputs": [1], "targets": [0]}], "training": {"learning_rate": 0.5}},
     "<dict>: layers[1].activation: unknown value 'sigmoidd'; did you mean 'sigmoid'?"),
    ({"layers": [{"size": 1}, {"size": 1}], "parameters": {"w1": float("nan"), "b_o1": 0},
      "samples": [{"inputs": [1], "targets": [0]}], "training": {"learning_rate": 0.5}},
     "<dict>: parameters.w1: must be a finite number, not NaN"),
    ({"title": object()}, "<dict>: title: a value of type object cannot be read"),
    ({"parameters": {f"w{k}": 0 for k in range(20_000)}}, "<dict>: has 20001 keys; at most 20000 are allowed"),
    ("[training\nlearning_rate = 0.5\n", "<string>:1: not valid TOML"),
    ("mazurr", "mazurr: no such file or built-in example; did you mean the built-in example 'mazur'?"),
    ("nowhere/spec.toml", "nowhere/spec.toml: no such spec file"),
    (42, "a spec is a path, TOML text, a dict or a built-in name"),
])
def test_bad_specs_raise_one_line_errors(source, message, capsys):
    """Each bad spec raises SpecError (a ValueError) with one line naming where; nothing is printed."""
    with pytest.raises(stepgrad.SpecError) as caught:
        stepgrad.load(source)
    text = str(caught.value)
    assert isinstance(caught.value, ValueError) and "\n" not in text and text.startswith(message), text
    assert capsys.readouterr() == ("", "")


def test_a_nested_or_cyclic_dict_is_refused():
    """A dict nested past a spec file's cap, or one that contains itself, is refused in one line."""
    deep: dict = {}
    inner = deep
    for _ in range(40):
        inner["a"] = {}
        inner = inner["a"]
    cyclic: dict = {"title": "x"}
    cyclic["layers"] = [cyclic]
    for doc in ({"layers": deep}, cyclic):
        with pytest.raises(stepgrad.SpecError, match="nested too deeply"):
            stepgrad.load(doc)


def test_a_hostile_key_stays_on_one_line():
    """A key with a line break and an escape sequence is shown escaped, on one line."""
    with pytest.raises(stepgrad.SpecError) as caught:
        stepgrad.load({"layers\n\x1b[31m": 1})
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_a_toml_string_has_a_file_size_cap():
    """TOML text over a spec file's 4 MiB is refused before it is parsed."""
    with pytest.raises(stepgrad.SpecError, match="at most 4 MiB"):
        stepgrad.load("# x\n" * (1024 * 1024 + 1))


def test_messages_are_the_command_lines(tmp_path, capsys):
    """A spec file's error through the API is the line the command line prints after 'stepgrad: error: '."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[training]\nlearning_rate = "fast"\n')
    with pytest.raises(stepgrad.SpecError) as caught:
        stepgrad.load(str(bad))
    assert cli(["values", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"stepgrad: error: {caught.value}"


# -- derive ---------------------------------------------------------------------------------

def test_derive_gives_the_posts_figures(derived):
    """out_o1, E_total, w5+ and w1+ round to the post's printed figures."""
    for name, printed in (("out_h1", "0.593269992"), ("out_o1", "0.75136507"), ("E_total", "0.298371109"),
                          ("dE_total/dw5", "0.082167041"), ("w5+", "0.35891648"), ("w1+", "0.149780716")):
        assert _post(derived.exact[name], printed), name
        assert _post(derived.values[name], printed), name


def test_derive_agrees_with_a_hand_computation(derived):
    """The forward pass and the first update agree with the post's network computed by hand in floats."""
    f = _forward(W)
    updated = _update(W)
    for name in ("out_h1", "out_o1", "out_o2", "E_total"):
        assert derived.values[name] == pytest.approx(f[name], rel=1e-14)
    for k in W:
        assert derived.values[f"{k}+"] == pytest.approx(updated[k], rel=1e-14)
    assert derived.values["E_total@1"] == pytest.approx(_forward(updated)["E_total"], rel=1e-14)


def test_derive_values_are_the_command_lines(derived, capsys):
    """derive().exact is exactly what `stepgrad values --json` prints."""
    assert cli(["values", "mazur", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == dict(derived.exact)


def test_steps_read_as_the_worked_example(derived):
    """Each step is name = formula = numbers = value; its value is the derivation's."""
    first = derived.steps[0]
    assert (first.name, first.section, first.formula, first.shown) == ("net_h1", "forward", "w1*i1 + w2*i2 + b1*1",
                                                                        "0.3775")
    assert first.latex == (r"net_{h1} = w_{1} \cdot i_{1} + w_{2} \cdot i_{2} + b_{1} \cdot 1 = "
                           r"0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 \cdot 1 = 0.3775")
    names = [s.name for s in derived.steps]
    assert len(names) == len(set(names)) and {"E_total", "delta_o1", "w5+"} <= set(names)
    for s in derived.steps:
        assert s.exact == derived.exact[s.name] and s.value == derived.values[s.name]
        assert s.latex.endswith(" = " + s.shown) or s.latex.endswith(s.shown)


def test_options_give_the_posts_variants():
    """hidden_deltas="updated" gives the post's 0.291027924; count_rounds="forward_passes" its 0.0000351085."""
    assert _post(stepgrad.derive("mazur", hidden_deltas="updated").exact["E_total@1"], "0.291027924")
    assert _post(stepgrad.derive("mazur", count_rounds="forward_passes").exact["E_total@10000"], "0.0000351085")
    few = stepgrad.derive("mazur", steps=3, train_biases=True)
    assert "E_total@3" in few.values and "b1@3" in few.values and few.values["b1@3"] != 0.35


@pytest.mark.parametrize("options, message", [
    ({"hidden_deltas": "later"}, "hidden_deltas: unknown value 'later'; expected one of: original, updated"),
    ({"count_rounds": 3}, "count_rounds: unknown value '3'"),
    ({"steps": 0}, "steps: must be a whole number between 1 and 1000000, not 0"),
    ({"steps": True}, "steps: must be a whole number"),
])
def test_bad_options_raise_one_line_errors(options, message):
    """A bad option value raises SpecError naming the option."""
    with pytest.raises(stepgrad.SpecError) as caught:
        stepgrad.derive("mazur", **options)
    assert str(caught.value).startswith(message)


def test_an_unknown_option_is_a_type_error():
    """A misspelt keyword is Python's TypeError, not silently ignored."""
    with pytest.raises(TypeError):
        stepgrad.derive("mazur", hidden_delta="updated")


# -- results are frozen, with to_dict ---------------------------------------------------------

#: A seed for exercise sets drawn in these tests (long enough that stepgrad would not warn about it).
SEED = 2 ** 40 + 17


def _json_ready(x) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, str) and _json_ready(v) for k, v in x.items())
    if isinstance(x, list):
        return all(map(_json_ready, x))
    return x is None or isinstance(x, (str, int, float, bool))


@pytest.fixture(scope="module")
def results(derived):
    """One result of each kind."""
    exercises = stepgrad.exercise("mazur", roster=["ann", "bo"], seed=SEED, ask="forward,errors")
    return [derived.network, derived, derived.steps[3], stepgrad.train("mazur", 20),
            stepgrad.check("mazur", {"out_o1": 0.7514, "w5+": 0.4}),
            stepgrad.check("mazur", {"out_o1": 0.7514}).verdicts[0], exercises, exercises[2]]


def test_to_dict_round_trips_json(results):
    """Every result's to_dict() is plain JSON data and survives a round trip unchanged."""
    for r in results:
        d = r.to_dict()
        assert _json_ready(d), type(r).__name__
        assert json.loads(json.dumps(d)) == d


def test_to_dict_numbers(derived):
    """to_dict's values are the 20-digit decimal strings; a training's errors are floats."""
    d = derived.to_dict()
    assert d["values"]["out_o1"] == derived.exact["out_o1"] and d["values"]["out_o1"].startswith("0.75136506955")
    assert d["network"]["parameters"]["w5"] == "0.4" and d["steps"][0]["value"] == "0.37750000000000000000"
    t = stepgrad.train("mazur", 20).to_dict()
    assert len(t["errors"]) == 21 and all(isinstance(e, float) for e in t["errors"])


def test_results_are_frozen(results):
    """No result's fields can be reassigned, nor its mappings changed; each hashes."""
    for r in results:
        field = dataclasses.fields(r)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(r, field, None)
        hash(r)
    with pytest.raises(TypeError):
        results[1].values["out_o1"] = 1.0
    with pytest.raises(AttributeError):
        results[1].values._data = {}


# -- render ----------------------------------------------------------------------------------

def test_render_is_the_worked_example(derived, mazur_worked):
    """Markdown and LaTeX are the worked example's, byte for byte; a name is derived first."""
    assert stepgrad.render(derived) == mazur_worked.markdown == derived._repr_markdown_()
    assert stepgrad.render(derived, "latex") == mazur_worked.tex == stepgrad.render("mazur", "tex")
    assert "0.298371109" in derived.markdown and r"\documentclass" in derived.latex


def test_render_refuses_an_unknown_format(derived):
    """An unknown format is one line naming the formats."""
    with pytest.raises(stepgrad.SpecError, match="unknown format 'docx'; expected one of: markdown, latex, pdf"):
        stepgrad.render(derived, "docx")


@pytest.mark.tex
@pytest.mark.slow
@pytest.mark.skipif(not pdf.engine_available(), reason="no TeX engine")
def test_render_pdf_bytes(derived, tmp_path, monkeypatch):
    """PDF comes back as bytes; TeX's folder is removed afterwards and nothing is left in the working folder."""
    monkeypatch.chdir(tmp_path)
    data = stepgrad.render(derived, "pdf")
    assert isinstance(data, bytes) and data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert list(tmp_path.iterdir()) == []


def test_render_pdf_without_tex_says_how_to_install(derived, monkeypatch):
    """Without a TeX engine, PDF is refused in one line naming what to install."""
    monkeypatch.setattr(pdf, "engine_available", lambda: False)
    with pytest.raises(stepgrad.SpecError, match="no TeX engine found"):
        stepgrad.render(derived, "pdf")


# -- the gradient module ------------------------------------------------------------------------

def test_gradient_module_computes_the_posts_gradients():
    """The generated module, run, gives the hand-computed gradients and update."""
    source = stepgrad.gradient_module("mazur")
    assert source == pipeline.module(stepgrad.load("mazur").spec, "mazur")
    namespace: dict = {}
    exec(compile(source, "mazur_gradients.py", "exec"), namespace)
    params = {**W, "b1": B1, "b2": B2}
    grads = namespace["gradients"](params, {"i1": I1, "i2": I2}, {"o1": T1, "o2": T2})
    updated = _update(W)
    for k in W:
        assert W[k] - ETA * grads[k] == pytest.approx(updated[k], rel=1e-14)
    assert _post(grads["w5"], "0.082167041")


def test_gradient_module_forms():
    """numpy is the vectorized module; an unknown form is refused in one line."""
    assert "import numpy" in stepgrad.gradient_module("mazur", "numpy")
    assert stepgrad.gradient_module("mazur", "auto") == stepgrad.gradient_module("mazur", "scalar")
    with pytest.raises(stepgrad.SpecError, match="form: unknown value 'fortran'"):
        stepgrad.gradient_module("mazur", "fortran")


# -- train -------------------------------------------------------------------------------------

def test_train_follows_a_hand_training_loop():
    """10,000 updates by hand in floats give the API's curve and final weights; after 9,999 the post's figure."""
    t = stepgrad.train("mazur", 10000)
    w = dict(W)
    by_hand = [_forward(w)["E_total"]]
    for _ in range(10000):
        w = _update(w)
        by_hand.append(_forward(w)["E_total"])
    assert t.steps == 10000 and len(t.errors) == 10001
    for u in (0, 1, 10, 100, 1000, 9999, 10000):
        assert t.errors[u] == pytest.approx(by_hand[u], rel=1e-9)
    for k in W:
        assert t.parameters[k] == pytest.approx(w[k], rel=1e-9)
    assert t.parameters["b1"] == 0.35 and t.exact["b1"].startswith("0.35")
    assert _post(by_hand[9999], "0.0000351085") and _post(t.errors[9999], "0.0000351085")
    assert list(t.checkpoints) == [0, 1, 10, 100, 1000, 10000]
    assert float(t.checkpoints[10000]) == pytest.approx(by_hand[10000], rel=1e-9)


def test_train_defaults_to_the_specs_steps():
    """Without steps, training runs the spec's (10000 for mazur); a dict's own steps are used."""
    assert stepgrad.train("mazur").steps == 10000


# -- check -------------------------------------------------------------------------------------

ANSWERS = {"out_o1": 0.75136507, "E_total": 0.298371109, "dE_total/dw5": 0.082167041,
           "net_h1": "w1*i1 + w2*i2 + b1", "w5+": 0.4, "out_h2": ""}


def test_none_is_left_blank():
    """None in a dict of answers is a blank, like ""."""
    r = stepgrad.check("mazur", {"out_h1": None, "out_o1": 0.75136507})
    assert r.blank == ("out_h1",) and [v.quantity for v in r.verdicts] == ["out_o1"]


def test_check_a_dict_with_a_mistake():
    """The right answers are correct, the unchanged w5 is wrong with its code, the blank one is counted."""
    r = stepgrad.check("mazur", ANSWERS)
    assert [(v.quantity, v.verdict) for v in r.verdicts] == [
        ("out_o1", "correct"), ("E_total", "correct"), ("dE_total/dw5", "correct"), ("net_h1", "correct"),
        ("w5+", "wrong")]
    wrong = r.verdicts[-1]
    assert wrong.codes == ("no-update",) and wrong.expected == "0.358916480" and "0.358916480" in wrong.message
    assert (r.score, r.total, r.blank, r.exit_code) == (4, 5, ("out_h2",), 1)


def test_check_a_file_agrees_with_the_dict_and_the_command_line(tmp_path, capsys):
    """The same answers as a TOML file give the same verdicts, and to_dict() is `check --format json`."""
    path = tmp_path / "answers.toml"
    path.write_text('"out_o1" = 0.75136507\n"E_total" = 0.298371109\n"dE_total/dw5" = 0.082167041\n'
                    '"net_h1" = "w1*i1 + w2*i2 + b1"\n"w5+" = 0.4\n"out_h2" = ""\n')
    from_file = stepgrad.check("mazur", path)
    assert from_file.verdicts == stepgrad.check("mazur", ANSWERS).verdicts
    assert cli(["check", "mazur", str(path), "--format", "json"]) == 1
    assert from_file.to_dict() == json.loads(capsys.readouterr().out)


def test_check_pasted_working():
    """Pasted working is judged by part; a wrong value is found; the .md file route agrees."""
    good = "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775"
    r = stepgrad.check("mazur", good)
    assert r.working and [(v.part, v.verdict) for v in r.verdicts] == [
        ("formula", "correct"), ("numbers", "correct"), ("value", "correct")]
    bad = stepgrad.check("mazur", "out_h1 = 1/(1+exp(-net_h1)) = 0.6")
    assert bad.verdicts[-1].verdict == "wrong" and bad.exit_code == 1


def test_check_working_file(tmp_path):
    """A .md file is pasted working, as on the command line."""
    path = tmp_path / "work.md"
    path.write_text("net_h1 = w1*i1 + w2*i2 + b1 = 0.3775\n")
    assert stepgrad.check("mazur", str(path)).working


def test_check_text_kinds():
    """TOML answers given as text read as answers; kind forces one reading."""
    toml_text = '"out_o1" = 0.75136507\n'
    assert not stepgrad.check("mazur", toml_text).working
    assert stepgrad.check("mazur", "net_h1 = 0.3775", kind="working").working
    with pytest.raises(stepgrad.SpecError, match="kind: unknown value"):
        stepgrad.check("mazur", toml_text, kind="essay")


@pytest.mark.parametrize("answers, options, message", [
    ({"out_o1": 0.75}, {"min_digits": 0}, "--min-digits must be 1 to 20"),
    ({"out_o1": 0.75}, {"rtol": 2}, "--rtol between 0 and 1"),
    ({"out_o1@2000000": 0.1}, {}, "<answers>: an answer after 2000000 updates"),
    (3.5, {}, "answers are a dict, a path or text, not float"),
    ("missing-answers.toml", {}, "missing-answers.toml: no such answers file"),
    ({"out_o1": "x" * (1024 * 1024)}, {}, "<answers>: is 1048590 bytes; answers may have at most 1 MiB"),
    ({"out_o1": 0.75}, {"kind": "working"}, "kind: a dict holds answers, not pasted working"),
    ("  ", {}, "answers: the text is empty"),
])
def test_bad_answers_raise_one_line_errors(answers, options, message):
    """Bad answers or options raise SpecError in one line."""
    with pytest.raises(stepgrad.SpecError) as caught:
        stepgrad.check("mazur", answers, **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def _cell_separators(row: str) -> int:
    """The '|' that separate a GitHub table row's cells: those not escaped by a backslash."""
    count, k = 0, 0
    while k < len(row):
        if row[k] == "\\":
            k += 2
            continue
        count += row[k] == "|"
        k += 1
    return count


def test_check_result_display_escapes_student_text():
    """The verdict table escapes every student string: no HTML or Markdown markup gets through."""
    hostile = '<script>alert(1)</script>|`x`'
    r = stepgrad.check("mazur", {hostile: 1, "out_o1": "<b>1</b>"})
    html = r._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>1" not in html
    md = r._repr_markdown_()
    rows = "\n".join(md.splitlines()[4:])
    outside_code = re.sub(r"(`+)(.+?)\1", "", rows)
    assert "<" in md and not re.search(r"(?<!\\)[<`*_]", outside_code.replace("\\\\", ""))
    for line in md.splitlines()[4:]:
        assert _cell_separators(line) == 7  # six cells: a student's '|' never adds one
    assert html.count("<tr>") == 3  # the header and two answers


def test_check_result_renders_as_the_command_line(tmp_path, capsys):
    """render() gives the command line's text and Markdown feedback for the same file."""
    path = tmp_path / "a.toml"
    path.write_text('"out_o1" = 0.7514\n"w5+" = 0.4\n')
    r = stepgrad.check("mazur", path)
    assert cli(["check", "mazur", str(path)]) == 1
    assert r.render("text") == capsys.readouterr().out
    assert cli(["check", "mazur", str(path), "--format", "md"]) == 1
    assert r.render("markdown") == capsys.readouterr().out
    assert stepgrad.render(r, "md") == r.render("markdown")


# -- Jupyter display ----------------------------------------------------------------------------

def svg_figures(derived) -> str:
    """The network figure stepgrad writes beside the worked example's Markdown."""
    from stepgrad.codegen import svg

    doc = derived.worked_example.document
    return svg.figures(doc, "mazur")["mazur-network.svg"].decode()


def test_network_shows_as_the_documents_figure(derived):
    """The network's SVG is the worked example's network figure (the same drawing, without its header line)."""
    figure = derived.network._repr_svg_()
    written = svg_figures(derived)
    assert figure.startswith("<svg") and written.endswith(figure)
    assert figure.count("<circle") == 6


def test_training_shows_its_curve():
    """The training's SVG is the error curve: one polyline through about 200 points, falling."""
    t = stepgrad.train("mazur", 1000)
    figure = t._repr_svg_()
    points = re.search(r'<polyline class="curve" points="([^"]+)"', figure).group(1).split()
    assert len(points) == 201
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys)  # SVG's y grows downwards: the error only falls


def test_a_derivation_too_large_to_expand_says_so_in_jupyter():
    """Asked to expand a network past the limit, the Markdown display is the one-line reason, not a traceback."""
    widths = [12, 30, 12]
    spec = {"layers": [{"size": w} for w in widths], "initializer": {"seed": 1},
            "samples": [{"inputs": [0.1] * 12, "targets": [0.5] * 12}], "training": {"learning_rate": 0.5, "steps": 5}}
    d = stepgrad.derive(spec, expand=True)
    shown = d._repr_markdown_()
    assert shown.startswith("*network: ") and "too many for a fully expanded worked example" in shown
    with pytest.raises(stepgrad.SpecError):
        d.markdown


def test_a_result_stands_for_its_network(derived):
    """A derivation, a training or a check can be passed wherever a spec is, meaning its network."""
    assert stepgrad.load(derived) is derived.network
    t = stepgrad.train(derived, 5)
    assert stepgrad.load(t) is t.network and t.network.spec.training.steps == 5
    assert stepgrad.check(t, {"out_o1": 0.7514}).network.name == "mazur"


def test_a_dict_with_nested_tables_matches_its_toml():
    """An activation given as a table inside a layer, and a huber error table, read the same from a dict and TOML."""
    text = """
error = { function = "huber", delta = 0.5 }
[[layers]]
size = 2
[[layers]]
size = 2
activation = { function = "leaky_relu", slope = 0.2 }
[[layers]]
size = 1
activation = "sigmoid"
[initializer]
seed = 3
[training]
learning_rate = 0.25
steps = 20
[[samples]]
inputs = [0.5, -0.25]
targets = [0.75]
"""
    doc = {"error": {"function": "huber", "delta": 0.5},
           "layers": [{"size": 2}, {"size": 2, "activation": {"function": "leaky_relu", "slope": 0.2}},
                      {"size": 1, "activation": "sigmoid"}],
           "initializer": {"seed": 3}, "training": {"learning_rate": 0.25, "steps": 20},
           "samples": [{"inputs": [0.5, -0.25], "targets": [0.75]}]}
    from_text, from_dict = stepgrad.load(text), stepgrad.load(doc)
    assert from_text.spec == from_dict.spec
    assert from_dict.spec.layers[1].slope == sympy.Rational(1, 5) and dict(from_dict.spec.error_params)["delta"] == \
        sympy.Rational(1, 2)



# -- reprs and the public names ----------------------------------------------------------------

def test_every_repr_is_one_short_line(results):
    """A result's repr names it in one line, however many values, verdicts or variants it holds."""
    many = stepgrad.check("mazur", {f"net_h{k}": 0.5 for k in range(1, 300)})
    assert many.total == 299
    for r in results + [many, stepgrad.derive("wide_4883"), stepgrad.exercise("mazur", 40, seed=SEED)]:
        text = repr(r)
        assert "\n" not in text and len(text) < 400, (type(r).__name__, len(text))
    assert repr(many) == "CheckResult('mazur', '<answers>', '0 of 299 correct.')"


_HASH_SEED_SCRIPT = """
import hashlib, json, stepgrad
out = [stepgrad.load("softmax_batch").to_dict(), stepgrad.derive("softmax_batch").to_dict(),
       stepgrad.train("tanh_332", 30).to_dict(),
       stepgrad.check("mazur", {"out_o1": 0.75, "net_h1": "w1*i1 + w2*i2 + b1", "w5+": ""}).to_dict(),
       stepgrad.exercise("softmax_batch", roster=["a", "b"], seed=%d, ask="forward,errors").to_dict()]
print(hashlib.sha256(json.dumps(out, allow_nan=False).encode()).hexdigest())
"""


def test_to_dict_is_the_same_under_any_hash_seed():
    """Every kind of result's to_dict() gives the same JSON bytes in runs with different hash seeds."""
    import os
    import subprocess
    import sys

    digests = set()
    for hash_seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, STEPGRAD_PROGRESS="0")
        run = subprocess.run([sys.executable, "-c", _HASH_SEED_SCRIPT % SEED], env=env, capture_output=True,
                             text=True, timeout=300, check=True)
        digests.add(run.stdout.strip())
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_the_public_names_are_the_readmes():
    """stepgrad.__all__ is the README's table (its functions and what they return), the errors, FrozenMap,
    Step, Verdict and __version__; each resolves, and dir(stepgrad) lists them."""
    from .test_readme_api import _section

    section, _ = _section()
    rows = re.findall(r"^\| `(\w+)\(.*?\)` \| (.*) \|$", section, re.M)
    returned = {m for _, r in rows for m in re.findall(r"`([A-Z]\w+)`", r)}
    expected = {name for name, _ in rows} | returned | {"SpecError", "TexError", "DerivationError", "FrozenMap",
                                                        "Step", "Verdict", "ShortSeedWarning", "__version__"}
    assert set(stepgrad.__all__) == expected and len(stepgrad.__all__) == len(expected)
    for name in stepgrad.__all__:
        assert getattr(stepgrad, name) is not None and name in dir(stepgrad)
    assert set(stepgrad.__all__) - {"__version__"} == set(stepgrad.api.__all__)
    with pytest.raises(AttributeError):
        stepgrad.no_such_name


# -- exercise sets -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def class_set():
    """Three variants of the post's network, forward pass and errors asked."""
    return stepgrad.exercise("mazur", 3, seed=SEED, ask=["forward", "errors"])


def test_an_exercise_set_is_the_command_lines(class_set, tmp_path, monkeypatch, capsys):
    """The set is the one `stepgrad exercise` writes for the same seed: the same keys, answers templates and
    questions (but for the figure the folder links)."""
    monkeypatch.setenv("STEPGRAD_PROGRESS", "0")
    out = tmp_path / "set"
    assert cli(["exercise", "mazur", "--variants", "3", "--seed", str(SEED), "--ask", "forward,errors",
                "--no-pdf", "-o", str(out)]) == 0
    for k, v in enumerate(class_set, start=1):
        folder = out / f"variant-0{k}"
        assert json.loads((folder / "key.json").read_text("utf-8")) == v.to_dict()
        assert (folder / "answers.toml").read_text("utf-8") == v.answers_template
        written = (folder / "question.md").read_text("utf-8")
        assert v.question.split("## The given values")[1] == written.split("## The given values")[1]
    assert json.loads((out / "index.json").read_text("utf-8"))["seed"] == class_set.seed == SEED
    assert class_set.settings == {**json.loads((out / "index.json").read_text("utf-8"))["exercise"],
                                  "ask": ("forward", "errors"), "update": (), "given": ()}


def test_an_exercise_key_agrees_with_a_hand_computation(class_set):
    """Each variant's key is the forward pass and error of its given values, computed here by hand in floats."""
    for v in class_set:
        g = {name: float(text) for name, text in v.givens.items()}
        h1 = _sigmoid(g["w1"] * g["i1"] + g["w2"] * g["i2"] + g["b1"])
        h2 = _sigmoid(g["w3"] * g["i1"] + g["w4"] * g["i2"] + g["b1"])
        o1 = _sigmoid(g["w5"] * h1 + g["w6"] * h2 + g["b2"])
        o2 = _sigmoid(g["w7"] * h1 + g["w8"] * h2 + g["b2"])
        hand = {"out_h1": h1, "out_h2": h2, "out_o1": o1, "out_o2": o2,
                "E_total": 0.5 * (g["target_o1"] - o1) ** 2 + 0.5 * (g["target_o2"] - o2) ** 2}
        for name, value in hand.items():
            assert float(v.key[name]) == pytest.approx(value, rel=1e-12, abs=1e-15), (v.number, name)
        assert v.tolerance == "0.00005"
    assert len({v.key["E_total"] for v in class_set}) == 3  # the variants differ


def test_a_variant_checks_its_own_answers(class_set):
    """A variant's key, rounded as asked, is all correct against it; another variant's answers are not."""
    first, second = class_set[1], class_set[2]
    rounded = {name: round(float(value), 4) for name, value in first.key.items()}
    mine = first.check(rounded)
    assert (mine.score, mine.total) == (len(first.key), len(first.key))
    theirs = second.check(rounded)
    assert theirs.score < theirs.total
    assert first.check(first.answers_template).blank == tuple(first.key)  # the template's values are blank


def test_a_variant_with_rounded_givens_is_checked_from_them():
    """With rounded intermediates handed out, a variant's check uses them, as its key does."""
    s = stepgrad.exercise("mazur", 1, seed=SEED, given="forward", ask="output_deltas", given_decimals=3)
    v = s[1]
    assert any(name.startswith("out_") for name in v.givens) and "rounded to 3 decimals" in v.question
    answers = {name: float(value) for name, value in v.key.items()}
    assert v.check(answers).score == len(answers)


def test_a_roster_names_the_variants(results):
    """With a roster, each student has a variant, found by their ID; the table lists them, escaped."""
    s = results[6]
    assert [v.student for v in s] == ["ann", "bo"] and s["bo"] is s[2] and s[2].number == 2
    with pytest.raises(KeyError):
        s["cy"]
    with pytest.raises(IndexError):
        s[3]
    html = s._repr_html_()
    assert html.startswith('<div class="tex2jax_ignore mathjax_ignore">') and html.count("<tr>") == 3
    assert "<td>bo</td>" in html and str(SEED) not in html  # the seed is not shown to a class looking on


def test_an_exercise_set_is_deterministic_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """The same seed draws the same set; another seed another; nothing is written, nor printed."""
    monkeypatch.chdir(tmp_path)
    a = stepgrad.exercise("mazur", 2, seed=SEED, ask="forward")
    b = stepgrad.exercise("mazur", 2, seed=SEED, ask="forward")
    c = stepgrad.exercise("mazur", 2, seed=SEED + 1, ask="forward")
    assert a.to_dict() == b.to_dict() and a == b and a.to_dict() != c.to_dict()
    assert a[1].question and a[1].solution.startswith("<!-- Generated by stepgrad")
    assert a[1]._repr_markdown_() == a[1].question
    figure = a[1].svg()  # the variant's own values on the edges
    assert "<svg" in figure and figure.endswith("</svg>\n") and f"> = {a[1].givens['w8']}</tspan>" in figure
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr() == ("", "")
    unseeded = stepgrad.exercise("mazur", 1, ask="forward")
    assert 0 <= unseeded.seed < 2 ** 63 and unseeded.to_dict()["seed"] == unseeded.seed


def test_an_exercise_from_a_dict_spec():
    """A dict spec draws an exercise too; the figure and the table escape its title."""
    spec = {"title": "A <b>tiny</b> $net$", "layers": [{"size": 1}, {"size": 1, "activation": "sigmoid"}],
            "parameters": {"w1": 0.5, "b_o1": 0.0}, "samples": [{"inputs": [1.0], "targets": [0.0]}],
            "training": {"learning_rate": 0.5}}
    s = stepgrad.exercise(spec, 2, seed=SEED)
    assert len(s) == 2 and s.network.name == "network"
    html = s._repr_html_()
    assert "<b>tiny" not in html and "&lt;b&gt;tiny" in html
    g = {name: float(text) for name, text in s[1].givens.items()}
    assert float(s[1].key["out_o1"]) == pytest.approx(_sigmoid(g["w1"] * g["i1"] + g["b_o1"]), rel=1e-12)


@pytest.mark.parametrize("args, options, message", [
    ((), {}, "exercise: give either variants=N or roster=[student IDs]"),
    ((3,), {"roster": ["a"]}, "exercise: give either variants=N or roster=[student IDs]"),
    ((0,), {}, "variants: between 1 and 500, not 0"),
    ((True,), {}, "variants: between 1 and 500, not True"),
    ((2,), {"seed": -1}, "seed: between 0 and 2^63 - 1, not -1"),
    ((2,), {"seed": "7"}, "seed: between 0 and 2^63 - 1, not 7"),
    ((), {"roster": "s1,s2"}, "roster: a list of student IDs or a path (pathlib.Path) to a CSV file, not str"),
    ((), {"roster": ["ok", "a b\nc"]}, "roster:2: student ID 'a b\\nc' must be ASCII letters, digits and . _ @ + -, "
                                       "starting with a letter or digit"),
    ((), {"roster": ["a", "a"]}, "roster:2: student ID 'a' is already on line 1"),
    ((2,), {"ask": "nonsense"}, "exercise.ask: no quantity or group named 'nonsense'"),
    ((2,), {"ask": 3}, "ask: names as text or a list of text, not int"),
    ((2,), {"answer_decimals": 99}, "exercise.answer_decimals: must be a whole number between 1 and 12, not 99"),
    ((2,), {"bogus": 1}, "exercise: unknown option 'bogus'; expected one of: ask, update, given, given_decimals, "
                         "answer_decimals"),
])
def test_bad_exercise_arguments_raise_one_line_errors(args, options, message):
    """Every mistake in exercise()'s arguments is a SpecError of one line naming the argument."""
    with pytest.raises(stepgrad.SpecError) as info:
        stepgrad.exercise("mazur", *args, **options)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_roster_file(tmp_path):
    """A roster given as a path is read as `stepgrad exercise --roster` reads it."""
    path = tmp_path / "class.csv"
    path.write_text("name,id\nAnn,s1\nBo,s2\n", "utf-8")
    s = stepgrad.exercise("mazur", roster=path, seed=SEED, ask="forward")
    assert [v.student for v in s] == ["s1", "s2"]


@pytest.mark.parametrize("name", ["wide_4883", "relu_2443"])
def test_a_large_derivation_displays_compactly_with_jupyters_math(name):
    """A large network's Markdown display is the compact worked example (one neuron per layer), bounded in
    size, its math in the $...$ and $$...$$ delimiters Jupyter's MathJax reads."""
    md = stepgrad.derive(name)._repr_markdown_()
    assert len(md.encode()) < 64 * 1024
    assert "\\(" not in md and "\\[" not in md and md.count("$$") % 2 == 0 and md.count("$$") > 20
    spec = stepgrad.load(name).spec
    assert len(spec.parameters) > 40 and len(md) < len(stepgrad.derive(name, expand=True).markdown) / 2


def test_marking_checks_each_submission_against_its_variant(class_set, results, tmp_path):
    """mark() finds each submission's variant by roster ID, by number, or by the template's header line, and
    checks it against that variant's key; the table lists every student, escaped."""
    def filled(v, names):
        text = v.answers_template
        for name in names:
            text = re.sub(rf'^("{name}" *= )""', rf"\g<1>{round(float(v.key[name]), 4)}", text, count=1, flags=re.M)
        return text

    path = tmp_path / "cy.toml"
    path.write_text(filled(class_set[3], ["out_o1", "E_total"]), "utf-8")
    m = class_set.mark({"<b>x</b>": filled(class_set[2], ["net_h1", "out_h1"]), 1: {"out_o1": 0.5}, "cy": path})
    assert dict(m.variants) == {"<b>x</b>": 2, "1": 1, "cy": 3}
    scores = {who: (r.score, r.total) for who, r in m.results.items()}
    assert scores == {"<b>x</b>": (2, 2), "1": (0, 1), "cy": (2, 2)}
    assert m.results["<b>x</b>"].blank and repr(m) == "Marks('mazur', 3 submissions)"
    html = m._repr_html_()
    assert html.count("<tr>") == 4 and "&lt;b&gt;x" in html and "<b>x" not in html
    assert json.loads(json.dumps(m.to_dict())) == m.to_dict() and hash(m)
    roster = results[6]  # ann, bo: the roster wins over a number-like key
    own = {name: round(float(value), 4) for name, value in roster["bo"].key.items()}
    assert own["E_o1"] == 0.0001  # one significant digit, but the 4 decimals the sheet asks for: enough
    assert roster.mark({"bo": own}).results["bo"].score == len(own)
    assert roster.mark({"ann": own}).results["ann"].score < len(own)


@pytest.mark.parametrize("submissions, message", [
    ({"zz": {"out_o1": 0.5}}, "submissions: 'zz': no variant of this set (set "),
    ({4: {"out_o1": 0.5}}, "submissions: '4': no variant of this set (set "),
    ({"x": '# stepgrad exercise variant 1 of 3, set 00000000\n"out_o1" = 0.5\n'}, "submissions: 'x': no variant"),
    ([("a", {})], "submissions: a dict of student -> answers, not list"),
])
def test_marking_refuses_a_submission_it_cannot_place(class_set, submissions, message):
    """A submission that names no variant of the set (a wrong tag, number or name) is a one-line error."""
    with pytest.raises(stepgrad.SpecError) as info:
        class_set.mark(submissions)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_short_seed_is_warned_about():
    """A seed below 2^32 draws the set but warns (a student could find it by trying); a long one does not."""
    import warnings

    with pytest.warns(stepgrad.ShortSeedWarning, match="seed 7 is short"):
        short = stepgrad.exercise("mazur", 1, seed=7, ask="forward")
    assert short.seed == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stepgrad.exercise("mazur", 1, seed=2 ** 32, ask="forward")


def test_a_set_beyond_the_budget_is_refused_before_drawing():
    """Too many variants of a large network are refused up front, in one line, as the command line refuses them."""
    import time

    start = time.monotonic()
    with pytest.raises(stepgrad.SpecError) as info:
        stepgrad.exercise("relu_2443", 500, seed=SEED)
    assert time.monotonic() - start < 20  # refused from the estimate, not after drawing (about 140 s)
    message = str(info.value)
    assert message.startswith("relu_2443: drawing and writing 500 variants") and "\n" not in message


def test_jupyter_shows_a_bad_input_as_its_one_line(capsys):
    """In IPython (Jupyter's kernel) a SpecError is its one-line message, not a traceback."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        result = shell.run_cell("import stepgrad\nstepgrad.load('no_such_example')")
    finally:
        InteractiveShell.clear_instance()
    out = capsys.readouterr()
    shown = out.out + out.err
    assert isinstance(result.error_in_exec, stepgrad.SpecError)
    lines = [line for line in shown.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("SpecError: no_such_example: no such file or built-in"), shown
    assert "Traceback" not in shown and "File " not in shown
