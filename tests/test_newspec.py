"""stepgrad new: a commented starting spec that reads back as the network it describes."""

from __future__ import annotations

import math
import random
import tomllib

import pytest
import sympy as sp

from stepgrad.codegen import cli, newspec
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.spec import load, parse


def _draw(seed, weights, biases, n_in, n_out, one_hot=False):
    """The documented draw, recomputed: weights in the Xavier bound, then biases, inputs, targets."""
    rng = random.Random(seed)
    out = {}
    for name, fan_in, fan_out in weights:
        bound = min(1.0, math.sqrt(6.0 / (fan_in + fan_out)))
        out[name] = round(rng.uniform(-bound, bound), 2)
    for name in biases:
        out[name] = round(rng.uniform(0.0, 1.0), 2)
    inputs = [round(rng.uniform(0.0, 1.0), 2) for _ in range(n_in)]
    if one_hot:
        hot = rng.randrange(n_out)
        targets = [1 if k == hot else 0 for k in range(n_out)]
    else:
        targets = [round(rng.uniform(0.01, 0.99), 2) for _ in range(n_out)]
    return out, inputs, targets


def test_round_trip_values_equal_the_seeded_draw(tmp_path):
    """The written 3-4-2 spec loads, and every value is the seeded draw rounded to two decimals."""
    path = tmp_path / "net.toml"
    path.write_text(newspec.new_spec("3-4-2", activation="tanh", error="mse", seed=7))
    spec = load(str(path))
    assert [len(layer.neurons) for layer in spec.layers] == [3, 4, 2]
    # the post's numbering: into h1 from i1, i2, i3, then into h2, ...; then the output layer
    assert [(w.name, w.src, w.dst) for w in spec.weights[:4]] == [
        ("w1", "i1", "h1"), ("w2", "i2", "h1"), ("w3", "i3", "h1"), ("w4", "i1", "h2")]
    assert (spec.weights[12].name, spec.weights[12].src, spec.weights[12].dst) == ("w13", "h1", "o1")
    # (name, fan-in of its target, fan-out of its source): i -> h weights 3 and 4, h -> o weights 4 and 2
    weights = [(f"w{k}", 3, 4) if k <= 12 else (f"w{k}", 4, 2) for k in range(1, 21)]
    expected, inputs, targets = _draw(7, weights, ["b_h1", "b_h2", "b_h3", "b_h4", "b_o1", "b_o2"], 3, 2)
    initial = dict(spec.initial)
    assert sorted(initial) == sorted(expected)
    for name, value in expected.items():
        assert float(initial[name]) == value, name
    assert [float(v) for _, v in spec.samples[0].inputs] == pytest.approx(inputs, abs=1e-12)
    assert [float(v) for _, v in spec.samples[0].targets] == pytest.approx(targets, abs=1e-12)
    for value in initial.values():  # two decimals, exactly
        assert (value * 100).is_integer


def test_generated_spec_derives():
    """A generated spec goes through the derivation like any spec."""
    spec = parse(newspec.new_spec("2-3-2", activation="relu", seed=1), "new.toml")
    d = derive(spec)
    assert any(name.startswith("dE_total/dw") for name in d.values)


def test_same_seed_same_bytes_other_seed_differs():
    """The same options give the same bytes; another seed gives other values, same numbering."""
    a = newspec.new_spec("3-4-2", seed=5)
    assert a == newspec.new_spec("3-4-2", seed=5)
    b = newspec.new_spec("3-4-2", seed=6)
    assert a != b
    wa, wb = tomllib.loads(a)["wiring"], tomllib.loads(b)["wiring"]
    assert wa == wb
    assert tomllib.loads(a)["parameters"] != tomllib.loads(b)["parameters"]


@pytest.mark.parametrize("hidden,output,error", [
    ("tanh", "sigmoid", "mse"), ("relu", "identity", "half_sse"), ("leaky_relu", "sigmoid", "binary_cross_entropy"),
    ("softplus", None, "categorical_cross_entropy"), ("sigmoid", "tanh", "huber"), ("identity", "relu", "mse"),
])
def test_activations_and_error_are_honoured(hidden, output, error):
    """Every activation and error asked for is in the spec as read back."""
    spec = parse(newspec.new_spec("2-3-3-2", activation=hidden, output=output, error=error, seed=2))
    assert [layer.activation for layer in spec.layers[1:-1]] == [hidden, hidden]
    assert spec.layers[-1].activation == (output or ("softmax" if error == "categorical_cross_entropy" else "sigmoid"))
    assert spec.error == error
    if error == "categorical_cross_entropy":
        assert sorted(v for _, v in spec.samples[0].targets) == [0, 1]


@pytest.mark.parametrize("bias,count,names", [("per_neuron", 5, ["b_h1", "b_h2", "b_h3", "b_o1", "b_o2"]),
                                              ("shared", 2, ["b1", "b2"]), ("none", 0, [])])
def test_bias_arrangement_is_honoured(bias, count, names):
    """per_neuron, shared and none give the biases the reader names that way."""
    spec = parse(newspec.new_spec("2-3-2", bias=bias))
    assert [b.name for b in spec.biases] == names and len(spec.biases) == count


def test_learning_rate_steps_and_comments():
    """The learning rate and steps are written; each weight's line says which neurons it joins."""
    text = newspec.new_spec("2-2-1", learning_rate="0.25", steps=500)
    spec = parse(text)
    assert spec.training.learning_rate == sp.Rational(1, 4) and spec.training.steps == 500
    lines = [line for line in text.splitlines() if line.startswith("w")][:6]
    assert lines[0].startswith('w1 = "i1 -> h1"') and "# weight 1: from i1 into h1 (layer 1)" in lines[0]
    assert all("#" in line for line in text.split("[wiring]")[1].split("[parameters]")[0].splitlines()
               if line.startswith("w"))


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_and_writes(tmp_path, capsys):
    """'stepgrad new' prints to standard output, or writes -o FILE and will not overwrite a foreign file."""
    code, out, err = _run(["new", "3-4-2", "--activation", "tanh", "--error", "mse", "--seed", "4"], capsys)
    assert code == 0 and out == newspec.new_spec("3-4-2", activation="tanh", error="mse", seed=4)
    target = tmp_path / "mine.toml"
    code, out, err = _run(["new", "2-2-2", "-o", str(target)], capsys)
    assert code == 0 and target.read_text() == newspec.new_spec("2-2-2")
    foreign = tmp_path / "teacher.toml"
    foreign.write_text("# my own spec\n")
    code, out, err = _run(["new", "2-2-2", "-o", str(foreign)], capsys)
    assert code == 2 and foreign.read_text() == "# my own spec\n"


@pytest.mark.parametrize("shape", ["3-", "0-2", "a-b", "3", "-3-2", "2--2", "2-2-", "1e3-2", " 2-2",
                                   "-".join(["1"] * 10_000), "-".join(["2"] * 70), "4096-4096", "5000-2", "2-99999999"])
def test_invalid_shapes_fail_in_one_line(shape, capsys):
    """A shape that is not a network gets one line naming the problem, exit 2, nothing printed."""
    code, out, err = _run(["new", shape], capsys)
    assert code == 2 and out == ""
    assert err.startswith("stepgrad: error:") and err.count("\n") == 1 and len(err) < 300


@pytest.mark.parametrize("argv", [["--error", "binary_cross_entropy", "--output-activation", "tanh"],
                                  ["--activation", "softmax"], ["--learning-rate", "abc"],
                                  ["--learning-rate", "-1"], ["--seed", "-1"], ["--bias", "several"]])
def test_invalid_options_fail_in_one_line(argv, capsys):
    """Options that cannot make a valid spec are refused in one line with exit 2."""
    code, out, err = _run(["new", "2-3-2"] + argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1


def test_incompatible_error_and_output_are_named():
    """An error function that needs a particular output activation says which option to change."""
    with pytest.raises(Exception, match="--error binary_cross_entropy needs --output-activation sigmoid"):
        newspec.new_spec("2-2", output="tanh", error="binary_cross_entropy")
