"""How long the checker's mistake search takes on a large network with many wrong answers.

A 5-8-4-2 network (94 parameters) and 26 wrong answers that no mistake explains (every
quantity's true value times 1.37): the worst case for the search, which then tries every
single mistake and pairs of them until its work limit.  Prints the time, the peak memory and
how many answers the search stopped on.  Run: .venv/bin/python benchmarks/check_search.py
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stepgrad.symbolic import check, spec  # noqa: E402
from stepgrad.symbolic.derive import derive, format_value  # noqa: E402

SPEC = """
title = "a 5-8-4-2 network for the checker's benchmark"
[[layers]]
size = 5
[[layers]]
size = 8
activation = "tanh"
bias = "per_neuron"
[[layers]]
size = 4
activation = "sigmoid"
bias = "per_neuron"
[[layers]]
size = 2
activation = "sigmoid"
bias = "per_neuron"
[initializer]
scheme = "uniform"
seed = 5
digits = 2
[[samples]]
inputs = [0.1, 0.2, 0.3, 0.4, 0.5]
targets = [0.2, 0.8]
[training]
learning_rate = 0.5
"""


def main() -> None:
    s = spec.parse(SPEC, "bench.toml", default_name="bench")
    d = derive(s)
    names = [k for k in d.values if not k.startswith(("dnet_", "dout_"))][::3][:26]
    body = "".join(f"{json.dumps(k)} = {format_value(d.values[k] * 1.37)}\n" for k in names)
    start = time.perf_counter()
    checker = check.Checker(d)
    report = checker.check(check.parse_answers(body, "bench.toml"), "bench.toml")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stopped = sum("search-stopped" in r.codes for r in report.results)
    print(f"{len(s.parameters)} parameters, {len(names)} wrong answers: {seconds:.1f} s, "
          f"peak memory {peak:.0f} MB, work {checker.ev.work:,}, search stopped on {stopped}")
    # reading answers files: keys are located in one pass, so 5,000 keys (the cap) read quickly
    for n in (1000, 5000):
        text = "".join(f'"q{k}" = 0.{k:04d}1\n' for k in range(n))
        start = time.perf_counter()
        check.parse_answers(text, "keys.toml")
        print(f"{n} keys read in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
