"""Every spec key and option does what it says: count_rounds and steps in `values`, a required
activation, leaky ReLU's slope in the table form, how each error averages, kinks stated in the
document, and a large ReLU network with a net input exactly at its kink."""

from __future__ import annotations

import json
import tomllib
from fractions import Fraction

import mpmath

from stepgrad.codegen import pipeline
from stepgrad.codegen.cli import main
from stepgrad.symbolic import naming
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.spec import SpecError, load, parse
from stepgrad.symbolic.verify import verify

from .conftest import ROOT
from .test_exact_kinks import _flat, _step

KINK = """title = "kink"
error = "half_sse"
[[layers]]
neurons = ["i1", "i2"]
[[layers]]
neurons = ["h1", "h2"]
{hidden}
bias = "per_neuron"
[[layers]]
neurons = ["o1"]
activation = "identity"
bias = "per_neuron"
[wiring]
w1 = "i1 -> h1"
w2 = "i2 -> h1"
w3 = "i1 -> h2"
w4 = "i2 -> h2"
w5 = "h1 -> o1"
w6 = "h2 -> o1"
[parameters]
w1 = 0.4
w2 = 0.2
w3 = 0.3
w4 = -0.5
w5 = 0.7
w6 = 0.45
b_h1 = -0.6
b_h2 = 0.25
b_o1 = 0.1
[[samples]]
inputs = { i1 = 1.0, i2 = 1.0 }
targets = { o1 = 0.3 }
[training]
learning_rate = 0.5
steps = 3
"""
STATE = {"w": {1: [Fraction(2, 5), Fraction(1, 5)], 2: [Fraction(3, 10), Fraction(-1, 2)]},
         "b": {1: Fraction(-3, 5), 2: Fraction(1, 4)}, "v": {1: Fraction(7, 10), 2: Fraction(9, 20)},
         "c": Fraction(1, 10)}
X, T, ETA = [Fraction(1), Fraction(1)], Fraction(3, 10), Fraction(1, 2)


def _kink(hidden: str) -> str:
    return KINK.replace("{hidden}", hidden)


def _write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_values_counts_rounds_as_forward_passes(capsys):
    """--count-rounds forward_passes: E_total@10000 is the post's printed 0.0000351085."""
    assert main(["values", "mazur", "--steps", "10000", "--count-rounds", "forward_passes"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("E_total@10000"))
    printed = tomllib.loads((ROOT / "symbolic" / "examples" / "mazur.toml").read_text())[
        "reference"]["figures"]["E_total@10000"]  # the post's printed figure
    assert line.endswith(f"({printed})"), line


def test_values_takes_the_specs_steps_and_count_rounds(tmp_path, capsys):
    """Without --steps, values reports the state after the spec's steps, as Fractions give it; with
    count_rounds = "forward_passes" in the spec, round 3 is after 2 updates."""
    path = _write(tmp_path, _kink('activation = "relu"'))
    assert main(["values", path, "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    state = STATE
    for _ in range(3):
        _, state = _step(state, X, T, ETA, Fraction(0), 2)
    for p, exact in _flat(state, 2).items():
        assert abs(float(values[f"{p}@3"]) - float(exact)) < 1e-12, p
    text = _kink('activation = "relu"').replace("steps = 3", 'steps = 3\ncount_rounds = "forward_passes"')
    assert main(["values", _write(tmp_path, text, "rounds.toml"), "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    state = STATE
    for _ in range(2):
        _, state = _step(state, X, T, ETA, Fraction(0), 2)
    for p, exact in _flat(state, 2).items():
        assert abs(float(values[f"{p}@3"]) - float(exact)) < 1e-12, p


def test_a_layer_without_activation_is_sigmoid_and_the_document_says_so(tmp_path):
    """A layer that names no activation is a sigmoid layer (the post's), and the worked example
    states that the default was taken; a layer that names sigmoid is not called a default."""
    from stepgrad.codegen import pipeline

    bare = parse(_kink(""))
    named = parse(_kink('activation = "sigmoid"'))
    assert bare.layers[1].activation == "sigmoid" and not bare.layers[1].activation_given
    assert named.layers[1].activation_given
    text = pipeline.worked_example(bare, "spec").markdown
    assert "layer 1: logistic (sigmoid) (the default: the spec names none)" in text
    assert "the default: the spec names none" not in pipeline.worked_example(named, "spec").markdown


def test_leaky_slope_in_the_table_form(tmp_path):
    table = parse(_kink('activation = { function = "leaky_relu", slope = 0.2 }'))
    key = parse(_kink('activation = "leaky_relu"\nslope = 0.2'))
    assert table.layers[1].slope == key.layers[1].slope == Fraction(1, 5)
    assert table.layers[1].activation == "leaky_relu"
    for bad, where in [('activation = { function = "relu", slope = 0.2 }', "layers[1].activation.slope"),
                       ('activation = { slope = 0.2 }', "layers[1].activation.function"),
                       ('activation = { function = "leaky_relu", slope = 0.2 }\nslope = 0.1', "layers[1].slope"),
                       ('activation = { function = "leaky_relu", steep = 0.2 }', "layers[1].activation.steep")]:
        try:
            parse(_kink(bad))
        except SpecError as exc:
            assert where in str(exc), (bad, str(exc))
        else:
            raise AssertionError(f"accepted {bad}")


def test_the_document_states_how_the_error_averages_and_the_kink():
    spec = parse(_kink('activation = "relu"').replace('"half_sse"', '"mse"'))
    text = pipeline.worked_example(spec, "spec.toml").markdown
    assert r"\frac{1}{n} \sum_{o} (target_{o} - out_{o})^{2}$ (divided by n, the number of outputs" in text
    assert "On a kink: net\\_h1 is exactly 0" in text and "the convention at net = 0 is 0" in text
    assert "net\\_h2 is exactly 0" not in text


def test_error_averaging_is_stated_for_every_error():
    from stepgrad.symbolic.functions import ERRORS
    for name, err in ERRORS.items():
        assert ("averaged over the outputs" in err.note) == (name == "mse"), name
        assert "summed over the outputs" in err.note or name == "mse", name
        assert err.formula.startswith("E_{total} = ") and ("averaged" in err.adds), name


def test_a_large_relu_network_on_its_kink_derives_verifies_and_trains(tmp_path, capsys):
    """More than 40 parameters (the verification checks a selection) and a net input exactly 0:
    the documented convention everywhere, never an internal error."""
    lines = ['title = "wide"', 'error = "half_sse"', "[[layers]]", "size = 2", "[[layers]]", "size = 6",
             'activation = "relu"', 'bias = "per_neuron"', "[[layers]]", "size = 6", 'activation = "relu"',
             'bias = "per_neuron"', "[[layers]]", "size = 1", 'activation = "identity"', 'bias = "per_neuron"',
             "[parameters]"]
    k = 0
    for _ in range(2 * 6 + 6 * 6 + 6):
        k += 1
        lines.append(f"w{k} = {((k * 7) % 11 - 5) / 20}")
    # w1 = 0.1 (i1 -> h1_1) and w2 = -0.1 (i2 -> h1_1): net_h1_1 = 0.04 - 0.02 - 0.02 = 0 exactly
    lines.append("b_h1_1 = -0.02")
    lines += [f"b_h1_{j} = 0.05" for j in range(2, 7)] + [f"b_h2_{j} = 0.1" for j in range(1, 7)] + ["b_o1 = 0.2"]
    lines += ["[[samples]]", "inputs = { i1 = 0.4, i2 = 0.2 }", "targets = { o1 = 0.5 }",
              "[training]", "learning_rate = 0.1", "steps = 5"]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    spec = load(path)
    assert len(spec.parameters) > 40
    d = derive(spec)
    verify(d)
    assert d.values["net_h1_1"] == 0 and d.values[naming.d("out_h1_1", "net_h1_1")] == 0
    with mpmath.workdps(50):
        for p in ("w1", "w2", "b_h1_1"):
            assert d.values[naming.updated(p)] == mpmath.mpf(dict(spec.initial)[p].p) / dict(spec.initial)[p].q
    assert main(["values", path]) == 0
    assert "w1@5" in capsys.readouterr().out


def test_output_deltas_simplify_as_derived_steps():
    """Sigmoid + binary cross-entropy gives delta = out - target, identity + MSE (2/n)(out - target),
    identity + halved squared error out - target: each proven equal to dE/dout * dout/dnet here."""
    import sympy as sp

    from stepgrad.symbolic.functions import ACTIVATIONS, ERRORS
    from stepgrad.symbolic.model import symbol

    cases = [("tests/data/networks/bce221.toml", lambda y, t, n: y - t),
             ("tests/data/networks/tanh_mse.toml", lambda y, t, n: sp.Rational(2, n) * (y - t)),
             ("tests/data/networks/tanh322.toml", lambda y, t, n: sp.Rational(2, n) * (y - t))]
    for path, expected in cases:
        spec = load(str(ROOT / path))
        d = derive(spec)
        o = spec.outputs[0]
        y, t, net = symbol(naming.out(o)), symbol(naming.target(o)), symbol(naming.net(o))
        step = next(s for s in d.steps if s.name == naming.delta(o))
        want = expected(y, t, len(spec.outputs))
        params = {"n_outputs": len(spec.outputs), **dict(spec.error_params)}
        chain = (ERRORS[spec.error].derivative(t, y, params)
                 * ACTIVATIONS[spec.layers[-1].activation].derivative(y, net, {"slope": None}))
        assert sp.simplify(want - chain) == 0  # the simplification is true
        assert sp.expand(step.alt - want) == 0, (path, step.alt)  # and shown
        assert "SymPy proves" in step.alt_note
        text = pipeline.worked_example(spec, path).markdown
        assert step.alt_note in text
    mazur = derive(load("mazur"))  # the post's network keeps its written product
    assert next(s for s in mazur.steps if s.name == "delta_o1").alt_note == ""


def test_the_issues_cancelling_relu_spec_prints_zero_and_keeps_w1(tmp_path, capsys):
    """net_h1 = -0.15 + 0.3 * 0.1 + 0.6 * 0.2 is exactly 0: values prints 0, ReLU'(0) = 0 and
    w1+ = 0.3 (unchanged), and training keeps w1 there."""
    text = """title = "kink"
error = "half_sse"
[[layers]]
neurons = ["i1", "i2"]
[[layers]]
neurons = ["h1"]
activation = "relu"
bias = "shared"
[[layers]]
neurons = ["o1"]
activation = "sigmoid"
bias = "shared"
[parameters]
w1 = 0.3
w2 = 0.6
w3 = 0.5
b1 = -0.15
b2 = 0.1
[[samples]]
inputs = { i1 = 0.1, i2 = 0.2 }
targets = { o1 = 0.9 }
[training]
learning_rate = 0.5
steps = 50
"""
    assert main(["values", _write(tmp_path, text)]) == 0
    rows = {line.split()[0]: line.split()[-1] for line in capsys.readouterr().out.splitlines()}
    assert rows["net_h1"] == rows["dout_h1/dnet_h1"] == rows["delta_h1"] == "(0)"
    assert rows["w1+"] == "(0.3)" and rows["w2+"] == "(0.6)" and rows["b1+"] == "(-0.15)"
    assert rows["w1@50"] == "(0.300000000)" and rows["out_h1@50"] == "(0)"


def test_a_net_input_just_above_the_kink_is_refused_and_just_below_is_derived(tmp_path, capsys):
    """1e-20 above 0 is beyond what float64 training can tell from the kink: a one-line error (exit 2),
    never an internal error; 1e-20 below 0 has the kink's derivative on both routes and is derived."""
    base = _kink('activation = "relu"')  # net_h1 = 0.4 + 0.2 - 0.6 = 0
    above = base.replace("b_h1 = -0.6", "b_h1 = -0.59999999999999999999")
    assert main(["values", _write(tmp_path, above, "above.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "net_h1 = 1.0e-20 is not 0" in err
    below = base.replace("b_h1 = -0.6", "b_h1 = -0.60000000000000000001")
    assert main(["values", _write(tmp_path, below, "below.toml")]) == 0
    rows = {line.split()[0]: line.split()[-1] for line in capsys.readouterr().out.splitlines()}
    assert rows["dout_h1/dnet_h1"] == "(0)" and rows["w1+"] == "(0.4)"
