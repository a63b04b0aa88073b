"""Measure what derivation, the scalar module and TeX cost, for symbolic.limits.WORK_COSTS and TEX_COST.

    python benchmarks/work_costs.py [--tex]

Times, in-process, what ``stepgrad values`` does (derivation, verification, the compiled training
program and its first update: ``pipeline.values``) and the scalar
module (``pipeline.module``) of square one-sample networks of about 1000, 2500 and 5000
parameters, and with ``--tex`` the TeX run alone on the worked example's LaTeX of networks of
12, 144, 544 and 992 parameters.  It prints the seconds and the (linear, quadratic) coefficients
fitted through the smallest and the largest network, as symbolic/limits.py uses them.  The
constants there were fitted on whole commands (``values``, ``module --form scalar``), which add
about a second of start-up to these figures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def square(width: int, layers: int = 2, steps: int = 10) -> str:
    ones = ", ".join(["0.1"] * width)
    return (f'title = "{width}x{layers}"\n' + f"[[layers]]\nsize = {width}\n" * layers + "[initializer]\nseed = 1\n"
            f"[[samples]]\ninputs = [{ones}]\ntargets = [{ones}]\n[training]\nlearning_rate = 0.1\nsteps = {steps}\n")


def timed_stage(stage: str, text: str) -> float:
    """Seconds of one stage in-process (no budget check): derive+verify, or the scalar module."""
    from stepgrad.codegen import pipeline
    from stepgrad.symbolic.spec import parse

    spec = parse(text, "<bench>")
    start = time.perf_counter()
    if stage == "derivation":
        pipeline.values(spec, None)  # what 'stepgrad values' does: derive, verify, compile, one update
    else:
        pipeline.module(spec, "bench")
    return time.perf_counter() - start


def timed_tex(text: str) -> float:
    """Seconds of latexmk alone on the worked example of *text*."""
    from stepgrad.codegen import pdf, pipeline
    from stepgrad.symbolic.spec import parse

    spec = parse(text, "<bench>")
    tex = pipeline.worked_example(spec, "bench", len(spec.parameters) <= 40).tex
    folder = tempfile.mkdtemp(prefix="stepgrad-bench-")
    try:
        Path(folder, "document.tex").write_text(tex)
        start = time.perf_counter()
        subprocess.run(["latexmk", "-pdf", "-quiet", "-interaction=nonstopmode", "document.tex"], cwd=folder,
                       capture_output=True, env={**os.environ, "openout_any": "p", "openin_any": "p"},
                       timeout=pdf.TIMEOUT_S)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(folder)


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(linear, quadratic) through the first and last point, with no constant term."""
    (n1, t1), (n2, t2) = points[0], points[-1]
    quadratic = (t2 / n2 - t1 / n1) / (n2 - n1)
    return t1 / n1 - quadratic * n1, quadratic


def main() -> None:
    from stepgrad.symbolic.spec import parse

    for stage in ("derivation", "scalar module"):  # "derivation": the values command's work
        points = []
        for width in (31, 50, 70):
            text = square(width)
            n = len(parse(text, "<bench>").parameters)
            seconds = timed_stage(stage, text)
            points.append((n, seconds))
            print(f"{stage:<14} {n:>6} parameters {seconds:8.2f} s")
        linear, quadratic = fit(points)
        print(f"{stage:<14} Growth(linear={linear:.2e}, quadratic={quadratic:.2e})")
    if "--tex" in sys.argv:
        from stepgrad.codegen import pdf

        if not pdf.engine_available():
            print("no TeX engine")
            return
        for text in (square(2, 3), square(8, 3), square(16, 3), square(31)):
            n = len(parse(text, "<bench>").parameters)
            print(f"TeX            {n:>6} parameters {timed_tex(text):8.2f} s")


if __name__ == "__main__":
    main()
