"""Checker diagnoses for the confusions the post's own readers meet."""

from __future__ import annotations

import mpmath
import pytest

from stepgrad.symbolic import check, naming
from stepgrad.symbolic.derive import derive, format_value, train


@pytest.fixture(scope="module")
def checker(mazur):
    """A checker for the post's network."""
    return check.Checker(derive(mazur))


def _codes(checker, text: str) -> list[list[str]]:
    report = checker.check(check.parse_answers(text, "answers.toml"))
    return [[d.code for d in r.diagnoses] for r in report.results]


def test_a_delta_given_for_a_gradient_is_named(checker, mazur_derivation):
    """Writing delta_o1 where dE_total/dw5 belongs is diagnosed as the other quantity, with the missing factor."""
    delta = format_value(mazur_derivation.values["delta_o1"])
    report = checker.check(check.parse_answers(f'"dE_total/dw5" = {delta}\n', "a.toml"))
    (result,) = report.results
    assert result.verdict == "wrong"
    assert [d.code for d in result.diagnoses] == ["wrong-quantity"]
    assert "delta_o1" in result.diagnoses[0].message and "out_h1" in result.diagnoses[0].message


def test_gradient_of_the_weight_the_posts_slip_wires_there(checker, mazur, mazur_derivation):
    """dE/dw3 computed as delta_h1 * i2 (the post's hidden-layer numbering) is a wiring mistake."""
    i2 = dict(mazur.samples[0].inputs)["i2"]
    swapped = mazur_derivation.values["delta_h1"] * mpmath.mpf(i2.p) / i2.q
    text = f'"dE_total/dw3" = {format_value(swapped)}\n'
    assert _codes(checker, text) == [["wrong-wiring"]]


def test_posts_error_after_one_round_is_the_updated_weights_variant(checker, mazur):
    """The post's 0.291027924 after one round is diagnosed as updated weights used."""
    variant = train(mazur.with_training(hidden_deltas="updated"), 1, snapshots=(1,))
    text = f'"E_total@1" = {format_value(variant.errors[1])}\n'
    assert _codes(checker, text) == [["updated-weights-used"]]


def test_error_counted_by_forward_passes_is_named(checker, mazur):
    """An error after N - 1 updates given for round N is diagnosed as a round-count slip."""
    trajectory = train(mazur, 3, snapshots=(2,))
    text = f'"{naming.after(naming.E_TOTAL, 3)}" = {format_value(trajectory.errors[2])}\n'
    assert _codes(checker, text) == [["round-count"]]


def test_an_error_after_training_with_the_frozen_biases_trained_is_named(checker, mazur):
    """E_total after 3 updates with b1 and b2 trained as well (the post freezes them) is frozen-bias-updated."""
    trajectory = train(mazur.with_biases_trainable(), 3, snapshots=(3,))
    text = f'"{naming.after(naming.E_TOTAL, 3)}" = {format_value(trajectory.errors[3])}\n'
    assert _codes(checker, text) == [["frozen-bias-updated"]]
