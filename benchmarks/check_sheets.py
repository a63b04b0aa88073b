"""Whole answer sheets under one mistake: every quantity of six networks computed by the
independent pass with the mistake injected and written to 6 digits, then checked as one file.
Counts answers whose verdict names the mistake or is consistent with an earlier answer ("ok"),
unchanged ones judged right ("same-ok"), and any other verdict.
Run: .venv/bin/python benchmarks/check_sheets.py (after benchmarks/check_sweep.py's definitions)
"""
import sys, json, collections, time
sys.path.insert(0, ".")
exec(open("benchmarks/check_sweep.py").read().split("stats = collections.Counter()")[0])
stats = collections.Counter(); bad = collections.defaultdict(list)
for net in NETS:
    s = spec.load(net); d = derive(s); c = check.Checker(d); truth = compute(s)
    for code, slip in slips(s):
        v = compute(s, slip)
        qs = [q for q in c.ev.index if q in v and not q.startswith("dnet_")]
        answers = {q: written(v[q], 6) for q in qs}
        t = time.perf_counter()
        rep = c.check(check.parse_answers("".join(f"{json.dumps(q)} = {x}\n" for q, x in answers.items()), "a"), "a")
        el = time.perf_counter() - t
        for r in rep.results:
            q = r.quantity
            changed = abs(truth[q] - v[q]) > 1e-3 * max(abs(truth[q]), abs(v[q]), 1e-6)
            found = r.codes + tuple(x.code for x in r.alternatives)
            if not changed:
                kind = "same-ok" if r.verdict in ("correct",) or set(found) & {"rounding", "carried-error"} or r.verdict == "consistent" else "same-bad"
            elif r.verdict == "consistent" or code in found or r.codes == ("trivial-carry",):
                kind = "ok"
            elif r.verdict == "correct":
                kind = "CORRECT!"
            else:
                kind = "other"
            stats[kind] += 1
            if kind not in ("ok", "same-ok"):
                bad[(net.split("/")[-1], code)].append((q, r.verdict, r.codes))
        if el > 3: print("slow", net, code, round(el, 1))
print(stats)
for k, v in list(bad.items())[:25]:
    print(k, len(v), v[:3])
