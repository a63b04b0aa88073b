"""A sweep of the checker's diagnoses: each mistake injected into the independent pass of
tests/check_support.py on six networks, every quantity it changes written to 6 digits, and
whether the checker names that mistake (or offers it as an equally good alternative).
Run: .venv/bin/python benchmarks/check_sweep.py
"""
import sys, json, collections
sys.path.insert(0, ".")
import mpmath
from stepgrad.symbolic import check, spec
from stepgrad.symbolic.derive import derive
from tests.check_support import Slip, compute, written
NETS = ["mazur", "tests/data/networks/tanh_mse.toml", "tests/data/networks/relu_bias.toml",
        "tests/data/networks/softmax_ce.toml", "tests/data/networks/batch2.toml", "tests/data/tanh232.toml"]
def slips(s):
    L = len(s.layers) - 1
    out = [("eta-one", Slip(eta=1)), ("update-sign", Slip(update_sign=-1)), ("sign-error", Slip(dEdout_sign=-1)),
           ] + ([("updated-weights-used", Slip(hidden_updated=True))] if len(s.samples) == 1 else []) + [("rounded-intermediate", Slip(round_out={L: 3}))]
    if s.error == "half_sse":
        out += [("missing-half", Slip(half="d")), ("missing-half", Slip(half="E"))]
    if "cross" in s.error:
        out += [("squared-error-derivative", Slip(sse_derivative=True))]
    if s.layers[L].activation not in ("identity", "softmax"):
        out += [("missing-activation-derivative", Slip(act_derivative={L: "one"}))]
    if s.layers[1].activation in ("tanh", "sigmoid"):
        out += [("wrong-activation-derivative", Slip(act_derivative={1: "sigmoid" if s.layers[1].activation == "tanh" else "tanh"}))]
    outs = s.layers[-1].neurons
    if len(outs) > 1 and s.error in ("half_sse", "mse"):
        out += [("wrong-target", Slip(targets={outs[0]: outs[1]}))]
    h = s.layers[1].neurons[0]
    out += [("missing-sum-term", Slip(no_bias={h}))] if any(h in b.neurons for b in s.biases) else []
    out += [("net-for-out", Slip(skip_activation={h}))] if s.layers[1].activation not in ("identity", "relu") else []
    ins = s.layers[0].neurons
    out += [("wrong-input", Slip(inputs={ins[0]: ins[1]}))]
    ws = [w for w in s.weights if w.dst in s.layers[L].neurons]
    if len(ws) > 2:
        out += [("swapped-weights", Slip(params={ws[0].name: ws[-1].name, ws[-1].name: ws[0].name}))]
    if s.training.reduction == "mean" and len(s.samples) > 1:
        out += [("batch-summed", Slip(reduction="sum"))]
    return out
stats = collections.Counter(); fails = collections.defaultdict(list)
for net in NETS:
    s = spec.load(net); d = derive(s); c = check.Checker(d); truth = compute(s)
    for code, slip in slips(s):
        v = compute(s, slip)
        for q in sorted(v):
            if q not in c.ev.index or q.startswith(("dnet_",)):
                continue
            t, m = truth[q], v[q]
            if abs(t - m) <= 1e-3 * max(abs(t), abs(m), 1e-6):
                continue
            text = written(m, 6)
            r = c.check(check.parse_answers(f'{json.dumps(q)} = {text}\n', "a"), "a").results[0]
            found = r.codes + tuple(x.code for x in r.alternatives)
            ok = r.verdict != "correct" and code in found
            stats[(code, ok)] += 1
            if not ok:
                fails[code].append((net.split("/")[-1], q, r.verdict, r.codes))
for code in sorted({k for k, _ in stats}):
    print(f"{code:32s} ok {stats[(code, True)]:4d} fail {stats[(code, False)]:4d}", fails[code][:4])
