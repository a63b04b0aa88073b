"""Whole answer sheets under one mistake, on six networks.

Every quantity is computed by the independent pass of tests/check_support.py with one mistake
injected, written to 6 significant digits, and the sheet is checked as one file.  No answer that
the mistake changed may be judged correct; each changed one is named by the mistake (or an equally
good alternative) or is consistent with an earlier answer: the mistake is reported where it shows
and followed through after.
"""

from __future__ import annotations

import json

import pytest

from stepgrad.symbolic import check, spec
from stepgrad.symbolic.derive import derive
from tests.check_support import Slip, compute, written

NETWORKS = ["mazur", "tests/data/networks/tanh_mse.toml", "tests/data/networks/relu_bias.toml",
            "tests/data/networks/softmax_ce.toml", "tests/data/networks/batch2.toml", "tests/data/tanh232.toml"]


def slips(s) -> list[tuple[str, Slip]]:
    """The mistakes that make sense on this network, each with its code."""
    L = len(s.layers) - 1
    out = [("eta-one", Slip(eta=1)), ("update-sign", Slip(update_sign=-1)), ("sign-error", Slip(dEdout_sign=-1)),
           ("rounded-intermediate", Slip(round_out={L: 3}))]
    if len(s.samples) == 1:
        out.append(("updated-weights-used", Slip(hidden_updated=True)))
    if s.error == "half_sse":
        out += [("missing-half", Slip(half="d")), ("missing-half", Slip(half="E"))]
    if "cross" in s.error:
        out.append(("squared-error-derivative", Slip(sse_derivative=True)))
    if s.layers[L].activation not in ("identity", "softmax"):
        out.append(("missing-activation-derivative", Slip(act_derivative={L: "one"})))
    if s.layers[1].activation in ("tanh", "sigmoid"):
        other = "sigmoid" if s.layers[1].activation == "tanh" else "tanh"
        out.append(("wrong-activation-derivative", Slip(act_derivative={1: other})))
    outs, h, ins = s.layers[-1].neurons, s.layers[1].neurons[0], s.layers[0].neurons
    if len(outs) > 1 and s.error in ("half_sse", "mse"):
        out.append(("wrong-target", Slip(targets={outs[0]: outs[1]})))
    if any(h in b.neurons for b in s.biases):
        out.append(("missing-sum-term", Slip(no_bias={h})))
    if s.layers[1].activation not in ("identity", "relu"):
        out.append(("net-for-out", Slip(skip_activation={h})))
    if len(ins) > 1:
        out.append(("wrong-input", Slip(inputs={ins[0]: ins[1]})))
    ws = [w for w in s.weights if w.dst in s.layers[L].neurons]
    if len(ws) > 2:
        out.append(("swapped-weights", Slip(params={ws[0].name: ws[-1].name, ws[-1].name: ws[0].name})))
    if s.training.reduction == "mean" and len(s.samples) > 1:
        out.append(("batch-summed", Slip(reduction="sum")))
    return out


@pytest.mark.parametrize("name", NETWORKS)
def test_whole_sheets_under_one_mistake(name):
    s = spec.load(name)
    checker = check.Checker(derive(s))
    truth = compute(s)
    for code, slip in slips(s):
        values = compute(s, slip)
        names = [q for q in checker.ev.index if q in values and not q.startswith("dnet_")]
        body = "".join(f"{json.dumps(q)} = {written(values[q], 6)}\n" for q in names)
        report = checker.check(check.parse_answers(body, "sheet.toml"), "sheet.toml")
        named = 0
        for r in report.results:
            t, m = truth[r.quantity], values[r.quantity]
            named += code in r.codes + tuple(d.code for d in r.alternatives)
            if abs(t - m) <= 1e-3 * max(abs(t), abs(m), 1e-6):
                continue
            assert r.verdict != "correct", (code, r.quantity, r.answer.text)
            found = r.codes + tuple(d.code for d in r.alternatives)
            # consistent with an earlier answer, or not credited because that answer (0 or 1) made it trivial
            assert r.verdict == "consistent" or code in found or r.codes == ("trivial-carry",), \
                (code, r.quantity, r.answer.text, r.codes)
        assert named >= 1, code  # the mistake itself is named somewhere on the sheet


@pytest.mark.parametrize("digits", [4, 6])
@pytest.mark.parametrize("name", [n for n in NETWORKS if n != "tests/data/networks/batch2.toml"])
def test_a_sheet_worked_from_its_own_rounded_lines_is_correct(name, digits):
    """Each line computed from the student's own earlier lines as written (rounded to *digits*
    significant digits) is correct work, on every network."""
    s = spec.load(name)
    checker = check.Checker(derive(s))
    pins: dict = {}
    for _ in range(len(s.layers) * 3):  # each pass carries the rounding one layer further
        values = compute(s, Slip(pins=pins))
        pins = {k: written(x, digits) for k, x in values.items() if k.startswith(("net_", "out_", "delta_"))}
    names = [q for q in checker.ev.index if q in values and not q.startswith("dnet_")]
    body = "".join(f"{json.dumps(q)} = {written(values[q], digits)}\n" for q in names)
    report = checker.check(check.parse_answers(body, "sheet.toml"), "sheet.toml")
    assert [(r.quantity, r.answer.text, r.codes) for r in report.results if r.verdict != "correct"] == []
