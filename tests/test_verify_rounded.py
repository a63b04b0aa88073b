"""Checks of a derivation computed from rounded givens (stepgrad.symbolic.verify.verify_rounded).

An exercise may hand out the forward pass rounded; its key and worked solution are computed from
those rounded numbers.  These tests check that the independent route agrees with such a derivation
for several networks, that it shows in the solution's table of checks, and that it fails when a
single value is off by a part in 10^12.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import mpmath
import pytest

from stepgrad.codegen import exercise as command
from stepgrad.symbolic.derive import DerivationError
from stepgrad.symbolic.exercise import Exercise, derivation_of, make_variants
from stepgrad.symbolic.spec import load, parse
from stepgrad.symbolic.verify import verify, verify_rounded

RELU_TEXT = """
title = "ReLU 2-3-2"
error = "half_sse"
[[layers]]
neurons = ["i1", "i2"]
[[layers]]
neurons = ["h1", "h2", "h3"]
activation = "relu"
bias = "per_neuron"
[[layers]]
neurons = ["o1", "o2"]
activation = "sigmoid"
bias = "per_neuron"
[parameters]
w1 = 0.15
w2 = 0.20
w3 = 0.25
w4 = 0.30
w5 = 0.35
w6 = -0.40
w7 = 0.40
w8 = 0.45
w9 = -0.50
w10 = 0.55
w11 = -0.30
w12 = 0.20
b_h1 = 0.35
b_h2 = 0.30
b_h3 = 0.25
b_o1 = 0.60
b_o2 = -0.20
[[samples]]
inputs = [0.05, 0.10]
targets = [0.01, 0.99]
[training]
learning_rate = 0.5
steps = 1
"""


def _spec(name: str):
    return parse(RELU_TEXT, "relu.toml") if name == "relu_232" else load(name)


#: (network, rounded givens, decimals): the post's, tanh with MSE, softmax with cross-entropy, ReLU.
CASES = [("mazur", ("forward",), 4), ("tanh_332", ("forward",), 3), ("softmax_233", ("forward",), 4),
         ("relu_232", ("forward",), 4), ("sigmoid_bce_221", ("forward", "errors"), 4),
         ("softmax_233", ("out_o1", "net_h2"), 4), ("mazur", ("out_h1", "net_o2"), 2)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{'+'.join(c[1])}-{c[2]}")
def case(request):
    name, given, decimals = request.param
    variant = make_variants(_spec(name), Exercise(given=given, given_decimals=decimals), count=1, seed=11)[0]
    return variant, derivation_of(variant)


def _corrupted(derivation, name: str, relative=mpmath.mpf("1e-12")):
    """A copy of *derivation* with one value moved by *relative* (the cached original is left alone)."""
    values = dict(derivation.values)
    values[name] = values[name] * (1 + relative) if values[name] else relative
    return dataclasses.replace(derivation, values=values)


def test_the_check_passes_and_covers_every_value(case):
    """Every value of the solution is recomputed; derivatives and updates by dual numbers from the givens."""
    variant, derivation = case
    checks = {c.what: c for c in verify_rounded(derivation, dict(variant.rounded))}
    recomputed = checks["every value of the solution, from the rounded givens"]
    assert recomputed.count == len(derivation.steps) == len(derivation.values)
    forward = checks["every forward value and error, the rounded givens included"]
    assert forward.count == len(derivation.model.forward)
    spec = derivation.spec
    assert checks["every update p+ = p - eta dE_total/dp"].count == len(spec.parameters)
    assert checks["every node delta dE_total/dnet"].count >= len(spec.layers[-1].neurons)
    assert checks["dE_total/d(every weight and bias)"].count == len(spec.parameters)
    assert all("rounded givens" in c.method for c in checks.values() if c.what.startswith(("every", "dE")))
    assert all(c.worst < 1e-40 for c in checks.values())


def test_the_exact_route_disagrees_with_rounded_givens(case):
    """verify() (exact forward values) rejects the rounded derivation: the givens really are carried."""
    variant, derivation = case
    with pytest.raises(DerivationError):
        verify(derivation)
    unrounded = {n: Fraction(t) * (1 + Fraction(1, 10 ** 9)) for n, t in variant.rounded}
    with pytest.raises(DerivationError):
        verify_rounded(derivation, unrounded)


@pytest.mark.parametrize("pick", ["first", "asked_middle", "last_asked"])
def test_one_value_off_by_a_part_in_a_trillion_fails(case, pick):
    """Moving one value (a given, a delta, a gradient, an update...) by 1e-12 relative raises."""
    variant, derivation = case
    asked = [e.name for e in variant.key]
    name = {"first": next(iter(dict(variant.rounded))), "asked_middle": asked[len(asked) // 2],
            "last_asked": asked[-1]}[pick]
    verify_rounded(derivation, dict(variant.rounded))  # the uncorrupted derivation passes
    with pytest.raises(DerivationError, match=name.replace("+", r"\+")):
        verify_rounded(_corrupted(derivation, name), dict(variant.rounded))


def test_every_value_can_fail(case):
    """Each value of the solution (given, asked or shown), moved alone by 1e-12 relative, is caught."""
    variant, derivation = case
    assert {e.name for e in variant.key} <= set(derivation.values)
    for name in derivation.values:
        with pytest.raises(DerivationError):
            verify_rounded(_corrupted(derivation, name), dict(variant.rounded))


def test_the_dual_numbers_alone_catch_a_wrong_delta():
    """A hidden delta changed in value is caught by the dual-number rows, not only by the formulas."""
    from stepgrad.symbolic.verify import check_chain_rule

    v = make_variants(load("mazur"), Exercise(given=("forward",)), count=1, seed=4)[0]
    pinned = {n: Fraction(t) for n, t in v.rounded}
    derivation = derivation_of(v)
    with mpmath.workdps(50):
        check_chain_rule(derivation, pinned)
        with pytest.raises(DerivationError, match="delta_h1: chain rule gives"):
            check_chain_rule(_corrupted(derivation, "delta_h1"), pinned)


def test_given_backward_values_are_recomputed_from_their_formulas():
    """With the output deltas given, what follows them is checked formula by formula, and still fails."""
    v = make_variants(load("mazur"), Exercise(given=("output_deltas",)), count=1, seed=3)[0]
    derivation = derivation_of(v)
    checks = {c.what: c for c in verify_rounded(derivation, dict(v.rounded))}
    assert "every node delta dE_total/dnet" not in checks  # the output deltas are given, the hidden follow them
    assert checks["every value of the solution, from the rounded givens"].count == len(derivation.steps)
    for name in ("delta_h1", "dE_total/dw1", "w1+"):
        with pytest.raises(DerivationError, match=name.replace("+", r"\+")):
            verify_rounded(_corrupted(derivation, name), dict(v.rounded))


def test_the_solution_shows_the_checks_from_the_rounded_givens():
    """solution.md of a rounded-givens variant has the table of checks, saying they start from the givens."""
    v = make_variants(load("softmax_233"), Exercise(given=("forward",)), count=1, seed=5)[0]
    sheet = command.sheet_of(v)
    text = command.solution_markdown(command.solution_document(sheet, "softmax_233"), figure=False)
    table = text.split("## How every number was checked")[1]
    assert "| every value of the solution, from the rounded givens |" in table
    assert "from the rounded givens (each given" in table
    assert "every update p+ = p - eta dE\\_total/dp" in table
    broken = dataclasses.replace(sheet, derivation=_corrupted(sheet.derivation, "delta_o2"))
    with pytest.raises(DerivationError):
        command.solution_document(broken, "softmax_233")


def test_the_command_writes_the_checks(tmp_path):
    """stepgrad exercise --given forward writes solutions whose table of checks is the rounded route's."""
    from stepgrad.codegen.cli import main

    out = tmp_path / "set"
    assert main(["exercise", "mazur", "--variants", "2", "--seed", "123456789012345", "--given", "forward",
                 "--given-decimals", "4", "--no-pdf", "-o", str(out)]) == 0
    for folder in sorted(out.glob("variant-*")):
        table = (folder / "solution.md").read_text("utf-8").split("## How every number was checked")[1]
        assert "every value of the solution, from the rounded givens" in table
        assert "forward-mode dual numbers at 50 digits, from the rounded givens" in table


def _table(sheet, source: str) -> str:
    text = command.solution_markdown(command.solution_document(sheet, source), figure=False)
    return text.split("## How every number was checked")[1]


@pytest.mark.parametrize("given", [("out_h1",), ()])
def test_a_forward_only_solution_checks_its_forward_pass(given):
    """A forward-pass exercise (no target given) shows checks of its nets and outputs only, and can fail."""
    v = make_variants(load("mazur"), Exercise(ask=("forward",), given=given), count=1, seed=6)[0]
    sheet = command.sheet_of(v)
    assert not sheet.needs_error
    rows = [line for line in _table(sheet, "mazur").splitlines() if line.startswith("| every")]
    origin = "the rounded givens" if given else "the given values"
    assert [r.split(" | ")[0] for r in rows] == [
        "| every net input and output" + (", the rounded givens included" if given else ""),
        "| every value of the solution" + (", from the rounded givens" if given else "")]
    assert all(origin in r and r.split(" | ")[2] == "8" for r in rows)
    for name in ("net_h1", "out_o2"):
        broken = dataclasses.replace(sheet, derivation=_corrupted(sheet.derivation, name))
        with pytest.raises(DerivationError, match=name):
            command.solution_document(broken, "mazur")


def test_a_solution_without_updates_checks_no_update():
    """Without the learning rate given the solution shows no update, and its checks count none."""
    v = make_variants(load("mazur"), Exercise(ask=("forward", "errors", "output_deltas"), given=("forward",)),
                      count=1, seed=8)[0]
    sheet = command.sheet_of(v)
    assert sheet.needs_error and not sheet.needs_update
    table = _table(sheet, "mazur")
    assert "p+ = p - eta" not in table
    updates = sum(1 for s in sheet.derivation.steps if s.name.endswith("+"))
    row = next(r for r in table.splitlines() if r.startswith("| every value of the solution"))
    assert row.split(" | ")[2] == str(len(sheet.derivation.steps) - updates)


def test_shown_must_be_known():
    """verify_rounded refuses a scope it does not know, rather than checking less than asked."""
    v = make_variants(load("mazur"), Exercise(given=("forward",)), count=1, seed=1)[0]
    with pytest.raises(ValueError, match="shown"):
        verify_rounded(derivation_of(v), dict(v.rounded), shown="some")
