"""symbolic.reference: a source's printed figures against the derivation and training."""

from __future__ import annotations

import dataclasses

import mpmath
import pytest

from stepgrad.symbolic import reference
from stepgrad.symbolic.derive import Trajectory, derive
from stepgrad.symbolic.spec import SpecError, load


@pytest.mark.parametrize("value, printed, ok", [
    ("0.5932699921", "0.593269992", True), ("0.59326999249", "0.593269992", True),
    ("0.5932699926", "0.593269992", False), ("-0.019049118", "-0.019049119", False),
    ("0.0000351085481", "0.0000351085", True), ("0.40", "0.40", True), ("0.4049", "0.40", True),
    ("0.4051", "0.40", False),
])
def test_agrees_within_half_a_unit_of_the_last_printed_decimal(value, printed, ok):
    assert reference.agrees(mpmath.mpf(value), printed) is ok


def test_rounds_and_snapshots_of_the_post(mazur):
    """The post names rounds 1 and 10000; each is read after N updates and in the N-th pass."""
    assert reference.rounds(mazur) == (1, 10000)
    assert reference.needed_snapshots(mazur) == (0, 1, 9999, 10000)
    assert reference.split_name("E_total@10000") == ("E_total", 10000)
    other = reference.other_variant(mazur)
    assert other is not None and other.training.hidden_deltas == "updated"
    assert reference.other_variant(load("softmax_batch")) is None  # no figures, and no online training


def _trajectory(snapshots: dict) -> Trajectory:
    return Trajectory(errors=[], snapshots=snapshots, precision="mpmath")


def test_compare_reads_only_what_it_is_given(mazur):
    """compare trains nothing: the @N figures come from the trajectories passed in (here made
    up), the first-update ones from the derivations."""
    d = derive(mazur)
    made_up = {u: {"E_total": mpmath.mpf(u), "out_o1": mpmath.mpf(u), "out_o2": mpmath.mpf(u)}
               for u in (0, 1, 9999, 10000)}
    rows = {c.name: c for c in reference.compare(d, _trajectory(made_up))}
    assert rows["E_total@10000"].value == 10000
    assert [v[:2] for v in rows["E_total@10000"].variants] == [("original", "updates"),
                                                                ("original", "forward_passes")]
    assert rows["E_total@10000"].variants[1][2] == 9999
    assert rows["out_h1"].value == d.values["out_h1"] and rows["out_h1"].agrees
    assert not rows["dE_o2/dout_h1"].agrees and rows["dE_o2/dout_h1"].from_rounded is not None


def test_compare_with_the_other_variant(mazur):
    """Given the other variant's derivation, its first-update values join the variants."""
    d, other = derive(mazur), derive(reference.other_variant(mazur))
    made_up = {u: {"E_total": mpmath.mpf(u), "out_o1": mpmath.mpf(u), "out_o2": mpmath.mpf(u)}
               for u in (0, 1, 9999, 10000)}
    rows = {c.name: c for c in reference.compare(d, _trajectory(made_up), (other, None))}
    hidden = {h for h, _, _, _ in rows["dE_total/dw1"].variants}
    assert hidden == {"original", "updated"}
    updated = [v for h, _, v, _ in rows["dE_total/dw1"].variants if h == "updated"]
    assert updated[0] == other.values["dE_total/dw1"] != d.values["dE_total/dw1"]
    # without the other variant's training, its @N values are simply absent
    assert {h for h, _, _, _ in rows["E_total@1"].variants} == {"original"}


def test_an_unknown_figure_is_a_spec_error(mazur):
    """A reference figure naming a quantity stepgrad does not compute is the spec's error."""
    spec = dataclasses.replace(mazur, reference=(("net_h9", "0.1"),))
    with pytest.raises(SpecError, match="net_h9"):
        reference.compare(derive(spec), _trajectory({}))
