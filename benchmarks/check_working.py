"""How long `stepgrad check` takes on pasted working: the post's own text, and 10,000 hostile lines.

Three files, each checked once through the command's own route (codegen.check_report.run):
the post's text (about 60 working lines); 10,000 lines of working for random quantities with
wrong formulas, numbers and values (the mistake search's worst case, within the line and run
caps of symbolic.check.working); and 10,000 hostile lines (deep brackets, towers of powers,
control characters, huge numbers).  Prints the time of each (benchmarks/check_working.txt holds a run).
Run: .venv/bin/python benchmarks/check_working.py
"""

from __future__ import annotations

import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stepgrad.codegen import check_report  # noqa: E402
from stepgrad.symbolic import spec  # noqa: E402
from stepgrad.symbolic.derive import derive  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import BLOG  # noqa: E402
from tests.test_working import _hostile  # noqa: E402


def wrong_working(n: int) -> str:
    """n lines of working for random quantities, every part of them wrong."""
    rng = random.Random(1)
    names = list(derive(spec.load("mazur")).values)
    forms = ["w1*i1", "out_h1*(1-out_h1)", "delta_o1*w5", "sigmoid(net_o1)"]
    return "\n".join(f"{rng.choice(names)} = {rng.choice(forms)} = {rng.random():.6f}*{rng.random():.4f} = "
                     f"{rng.random():.5f}" for _ in range(n)) + "\n"


def main() -> None:
    files = {"the post's text": BLOG.read_text(), "10,000 wrong lines": wrong_working(10_000),
             "10,000 hostile lines": _hostile(10_000)}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} when the run started")
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            path = Path(folder) / "work.txt"
            path.write_text(text)
            start = time.perf_counter()
            out, code = check_report.run("mazur", str(path))
            took = time.perf_counter() - start
            print(f"{name:<22} {len(text.encode()):>9,} bytes  {took:6.2f} s  exit {code}  "
                  f"{out.splitlines()[-1]}")


if __name__ == "__main__":
    main()
