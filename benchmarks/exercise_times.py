"""Time ``stepgrad exercise`` for 30 variants of the post's exercise, with and without PDFs.

    python benchmarks/exercise_times.py [--variants N] [--repeat N]

Prints the wall-clock time of the command as a user runs it (a fresh process, start-up
included, the best of N runs) with its CPU time (its own and its children's: TeX), against
the issue's target of 30 s for 30 variants with PDFs; then, measured in this process, each
stage: drawing the variants, building every text file, rendering the combined LaTeX, each
TeX run, and cutting the PDFs per variant; and for comparison what one TeX run per file
would cost (one variant's question sheet and solution compiled on their own, times the
number of files).  The machine and its load are printed first.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from stepgrad.codegen import exercise, pdf  # noqa: E402
from stepgrad.codegen.pdfsplit import split_at_restarts  # noqa: E402
from stepgrad.codegen.render import source_line  # noqa: E402
from stepgrad.symbolic import exercise as core  # noqa: E402
from stepgrad.symbolic.spec import load  # noqa: E402

sys.path.insert(0, str(HERE))
from pipeline_times import machine  # noqa: E402  (one description of the machine for every benchmark)

STEPGRAD = [sys.executable, "-m", "stepgrad"]
TARGET_S = 30.0


def command(argv: list[str], repeat: int) -> tuple[float, float]:
    """The best wall-clock time of a fresh ``stepgrad`` process over *repeat* runs, and that run's CPU time."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(STEPGRAD + argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return best


def timed(what: str, fn):
    start = time.perf_counter()
    out = fn()
    print(f"  {what:<52} {time.perf_counter() - start:7.2f} s")
    return out


def stages(n: int) -> None:
    spec = load("mazur")
    ex = core.exercise_of(spec)
    print(f"\nstages, {n} variants of mazur, in this process")
    variants = timed("draw the variants (make_variants)", lambda: core.make_variants(spec, ex, count=n, seed=7))
    sheets = timed("derivations, tasks and givens (sheet_of)", lambda: [exercise.sheet_of(v) for v in variants])
    docs = timed("worked solutions (document)", lambda: [exercise.solution_document(s, "mazur") for s in sheets])
    timed("Markdown sheets, solutions, templates, keys", lambda: [
        (exercise.question_markdown(s, "mazur", True), exercise.solution_markdown(d, True),
         exercise.answers_template(s), exercise.key_json(s.variant)) for s, d in zip(sheets, docs)])
    header = source_line(spec, "mazur")
    groups = timed("combined LaTeX, cut into runs TeX allows", lambda: (
        exercise.chunks([exercise.question_tex(s, "mazur") for s in sheets],
                        lambda some: exercise.questions_latex(header, some))
        + exercise.chunks([exercise.solution_tex(d, s) for d, s in zip(docs, sheets)],
                          lambda some: exercise.solutions_latex(header, docs[0].compact, some))))
    for k, (a, b, tex) in enumerate(groups):
        data = timed(f"TeX run {k + 1} of {len(groups)} (variants {a + 1}-{b}, estimate {pdf.tex_seconds(tex):.1f} s)",
                     lambda: pdf.compile_pdf(tex))
        timed(f"  cut it into {b - a} PDFs (pdfsplit)", lambda: split_at_restarts(data, b - a))
    timed("for comparison: variant 1's question sheet alone", lambda: pdf.compile_pdf(
        exercise.questions_latex(header, [exercise.question_tex(sheets[0], "mazur")])))
    timed("for comparison: variant 1's solution alone", lambda: pdf.compile_pdf(
        exercise.solutions_latex(header, docs[0].compact, [exercise.solution_tex(docs[0], sheets[0])])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        base = ["exercise", "mazur", "--variants", str(args.variants), "--seed", "7", "--force"]
        print(f"\ncommand (fresh process, best of {args.repeat})                   wall     CPU   target")
        wall, cpu = command(base + ["-o", f"{tmp}/a"], args.repeat)
        verdict = "met" if wall < TARGET_S else "MISSED"
        print(f"stepgrad exercise mazur --variants {args.variants} (PDFs)      {wall:7.2f}s {cpu:6.2f}s  "
              f"{TARGET_S:.0f} s: {verdict}")
        wall, cpu = command(base + ["-o", f"{tmp}/b", "--no-pdf"], args.repeat)
        print(f"stepgrad exercise mazur --variants {args.variants} --no-pdf    {wall:7.2f}s {cpu:6.2f}s")
    if pdf.engine_available():
        stages(args.variants)


if __name__ == "__main__":
    main()
