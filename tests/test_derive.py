"""The chain-rule derivation and its verification."""

from __future__ import annotations

import dataclasses

import mpmath
import pytest
import sympy as sp

from stepgrad.symbolic import functions, naming
from stepgrad.symbolic.derive import DerivationError, derive, format_value
from stepgrad.symbolic.verify import verify


def test_every_chain_rule_result_is_verified(mazur_derivation):
    """dE/dout, deltas, dout/dnet and all ten gradients were each compared with direct differentiation."""
    checks = verify(mazur_derivation)
    counts = {c.what: c.count for c in checks}
    assert counts["dE_total/d(every weight and bias)"] == 10
    assert counts["every node delta dE_total/dnet"] == 4
    assert counts["dE_total/dout for every neuron"] == 4
    assert all(c.worst < 1e-40 for c in checks)


def test_a_wrong_textbook_derivative_is_caught(mazur, monkeypatch):
    """A sigmoid derivative written wrongly (out(1 + out)) stops the derivation."""
    wrong = dataclasses.replace(functions.ACTIVATIONS["sigmoid"], derivative=lambda out, net, p: out * (1 + out))
    monkeypatch.setitem(functions.ACTIVATIONS, "sigmoid", wrong)
    with pytest.raises(DerivationError):
        verify(derive(mazur))


def test_sigmoid_derivative_is_the_textbook_form(mazur_derivation):
    """dout_o1/dnet_o1 is written out_o1 (1 - out_o1), as the post writes it."""
    step = next(s for s in mazur_derivation.steps if s.name == "dout_o1/dnet_o1")
    out = sp.Symbol("out_o1", real=True)
    assert sp.simplify(step.rhs.doit() - out * (1 - out)) == 0


def test_hidden_sum_over_outputs(mazur_derivation):
    """dE_total/dout_h1 is the sum of dE_o1/dout_h1 and dE_o2/dout_h1."""
    v = mazur_derivation.values
    with mpmath.workdps(50):
        assert abs(v["dE_total/dout_h1"] - (v["dE_o1/dout_h1"] + v["dE_o2/dout_h1"])) < 1e-45


def test_shared_bias_gradient_sums_the_deltas(mazur_derivation):
    """dE_total/db1 = delta_h1 + delta_h2 for the bias shared by h1 and h2."""
    v = mazur_derivation.values
    with mpmath.workdps(50):
        assert abs(v["dE_total/db1"] - (v["delta_h1"] + v["delta_h2"])) < 1e-45


def test_frozen_biases_do_not_move_but_trained_ones_do(mazur):
    """b1+ = b1 in the post; with every bias trained, b1+ = b1 - eta (delta_h1 + delta_h2)."""
    d = derive(mazur)
    assert format_value(d.values["b1+"]) == "0.35"
    trained = derive(mazur.with_biases_trainable())
    verify(trained)
    v = trained.values
    with mpmath.workdps(50):
        assert abs(v["b1+"] - (mpmath.mpf(35) / 100 - v["dE_total/db1"] / 2)) < 1e-45
        assert abs(v["dE_total/db1"] - (v["delta_h1"] + v["delta_h2"])) < 1e-45


def test_updated_variant_changes_only_the_hidden_layer(mazur):
    """The hidden-deltas variant leaves output gradients alone and changes hidden ones."""
    a, b = derive(mazur), derive(mazur.with_training(hidden_deltas="updated"))
    assert a.values["dE_total/dw5"] == b.values["dE_total/dw5"]
    assert a.values["dE_total/dw1"] != b.values["dE_total/dw1"]


@pytest.mark.parametrize("value, text", [
    ("0.5932699921071872", "0.593269992"), ("0.3775", "0.3775"), ("-0.0190491182582", "-0.019049118"),
    ("0.0000351085481", "0.0000351085"), ("1.105905966", "1.105905966"),
])
def test_format_value_prints_like_the_post(value, text):
    """Values print with 9 decimals (6 significant at least); exact short decimals stay short."""
    with mpmath.workdps(50):
        assert format_value(mpmath.mpf(value)) == text


def test_canonical_names_cover_every_quantity(mazur_derivation):
    """The derivation names every quantity the issue lists, for every neuron and parameter."""
    names = set(mazur_derivation.values)
    for n in ("net_h1", "out_h2", "E_o1", "E_total", "dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5",
              "dE_total/dw5", "delta_o1", "dE_o2/dout_h1", "dE_total/dout_h1", "dE_total/db1", "w5+", "b1+",
              "delta_h2", "dE_total/dw1", "dE_total/db2", "w8+"):
        assert n in names, n
    for p in ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2"):
        assert naming.d("E_total", p) in names and naming.updated(p) in names


def test_float_values_print_only_their_own_digits():
    """A float64 value prints as its shortest round-trip text, never as 20 made-up digits."""
    from stepgrad.symbolic.derive import full_value

    assert full_value(0.1483) == "0.1483"
    with mpmath.workdps(50):
        assert full_value(mpmath.mpf(1) / 3) == "0.33333333333333333333"


@pytest.mark.parametrize("name, steps, every_digit", [
    ("softmax_batch", 120, True), ("tests/data/tanh232.toml", 300, True),
    ("benchmarks/specs/relu_huber_1334.toml", 600, False),  # E_total near 1e-35: below float64
])
def test_float64_training_of_batches_and_biases_agrees_with_30_digits(name, steps, every_digit):
    """Mini-batches with the mean, softmax with cross-entropy, trained biases, two samples online,
    ReLU and Huber trained until the error is far below float64's resolution: every digit
    float64 training keeps agrees with 30-digit training."""
    from stepgrad.symbolic import reference
    from stepgrad.symbolic.derive import full_value, train
    from stepgrad.symbolic.spec import load

    from .conftest import ROOT

    d = derive(load(name if "/" not in name else str(ROOT / name)))
    fast = train(d, steps, (1, steps))
    slow = train(d, steps, (1, steps), precision="mpmath")
    assert fast.precision == "float"
    in_full = 0
    for name_, kept in fast.snapshots[steps].items():
        exact = slow.snapshots[steps][name_]
        # every digit printed is right; a value below its bound prints fewer digits, never wrong ones
        assert reference.agrees(exact, full_value(kept)), name_
        assert reference.agrees(exact, format_value(kept)), name_
        in_full += format_value(kept) == format_value(exact)
    if every_digit:  # nothing below float64's resolution: every value prints in full
        assert in_full == len(fast.snapshots[steps])
    assert in_full >= len(fast.snapshots[steps]) // 2


def test_training_runs_in_float64_and_prints_only_digits_30_digit_training_confirms(mazur_derivation):
    """Training runs in float64 (the post's 10,000 rounds included); every digit it keeps of every
    value agrees with 30-digit training, and prints as the 30-digit value prints."""
    from stepgrad.symbolic import reference
    from stepgrad.symbolic.derive import full_value, train, training_precision

    mazur = mazur_derivation.spec
    assert training_precision(mazur, 10000) == "float"
    assert training_precision(mazur, 1_000_000) == "float"
    fast = train(mazur_derivation, 2000, (1, 1999, 2000))
    slow = train(mazur_derivation, 2000, (1, 1999, 2000), precision="mpmath")
    assert (fast.precision, slow.precision) == ("float", "mpmath")
    assert fast.check is not None and "float64" in fast.check.method
    for u in (1, 1999, 2000):
        assert set(fast.snapshots[u]) == set(slow.snapshots[u])
        for name, kept in fast.snapshots[u].items():
            exact = slow.snapshots[u][name]
            assert reference.agrees(exact, full_value(kept)), (u, name)
            assert format_value(kept) == format_value(exact), (u, name)
        assert format_value(fast.errors[u]) == format_value(slow.errors[u])


DIVERGES = """
[[layers]]
size = 1
[[layers]]
size = 1
activation = "identity"
bias = "none"
[parameters]
w1 = 1
[[samples]]
inputs = [2]
targets = [1]
[training]
learning_rate = 5
steps = 3000
"""


@pytest.mark.parametrize("precision", ["float", "mpmath"])
def test_divergent_training_is_a_one_line_error(precision):
    """w1 grows 19-fold an update: training says it diverged (a SpecError), in either precision,
    instead of printing a 300-digit number or failing on Python's int-to-string limit."""
    from stepgrad.symbolic.derive import SaturationError, train
    from stepgrad.symbolic.spec import parse

    d = derive(parse(DIVERGES, "<diverges>"))
    with pytest.raises(SaturationError, match="training diverged") as caught:
        train(d, 3000, (3000,), precision=precision)
    assert "\n" not in str(caught.value)


def test_large_values_after_training_print_only_their_certain_digits():
    """After 100 updates E_total is about 2.8e255: it prints in scientific form, with no more
    significant digits than training proves, never as a 256-digit integer."""
    from stepgrad.symbolic.derive import full_value, train
    from stepgrad.symbolic.spec import parse

    d = derive(parse(DIVERGES, "<diverges>"))
    value = train(d, 100, (100,)).snapshots[100]["E_total"]
    assert "e+255" in format_value(value) and "e+255" in full_value(value)
    assert len(full_value(value).split("e")[0].replace(".", "")) <= 20


def test_a_wrong_training_loop_is_caught_at_the_first_update(mazur, monkeypatch):
    """The float64 loop's first update is compared with the 50-digit derivation: a loop that
    updates with 0.9 times the gradient stops training with DerivationError instead of printing."""
    import dataclasses

    from stepgrad.symbolic import derive as derive_mod

    d = derive(mazur)
    real = derive_mod.float_trainer

    def wrong(model, steps):
        trainer = real(model, steps)
        namespace = {}
        source = trainer.source.replace("_eta *", "0.9 * _eta *")
        exec(compile(source, "<wrong>", "exec"), {**trainer.run.__globals__, **namespace}, namespace)  # noqa: S102
        return dataclasses.replace(trainer, run=namespace["_run"])

    monkeypatch.setattr(derive_mod, "float_trainer", wrong)
    derive_mod._TRAINERS.clear()
    try:
        with pytest.raises(DerivationError, match=r"w\d\+"):
            derive_mod.train(d, 10, (10,))
    finally:
        derive_mod._TRAINERS.clear()
