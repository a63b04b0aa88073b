"""Time each stage of stepgrad's main commands, and each command as a user runs it.

    python benchmarks/pipeline_times.py [--repeat N] [--no-pdf]

For every command of the performance targets (README, "Performance") it prints the
wall-clock time of the command itself (``stepgrad ...`` in a fresh process, the best of
N runs, start-up included) with the CPU time of that run (less sensitive to other work on a
shared machine), and, measured in this process with every cache cleared, the
time of each pipeline stage: load the spec, derive, verify, train (with the perturbed
second float64 run), the other variant of the post's closing figures, build the document,
render LaTeX and Markdown, generate the gradient module, and the TeX run on its own.
The machine it ran on is printed first.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from stepgrad.codegen import document, formats, pdf, pipeline, pymodule  # noqa: E402
from stepgrad.codegen.render import source_line  # noqa: E402
from stepgrad.symbolic import derive as derive_mod  # noqa: E402
from stepgrad.symbolic import program, reference  # noqa: E402
from stepgrad.symbolic.derive import derive, train  # noqa: E402
from stepgrad.symbolic.spec import load  # noqa: E402
from stepgrad.symbolic.verify import verify  # noqa: E402

SPECS = HERE / "specs"
STEPGRAD = [sys.executable, "-m", "stepgrad"]

#: (label, command arguments, target seconds)
COMMANDS = [
    ("example (PDF included)", ["example", "mazur", "-o", "{tmp}/a", "--force"], 3.0),
    ("example --no-pdf", ["example", "mazur", "--no-pdf", "-o", "{tmp}/b", "--force"], 1.0),
    ("derive mazur --format md", ["derive", "mazur", "--format", "md", "-o", "{tmp}/m.md", "--force"], 0.7),
    ("values, 1-3-3-4 ReLU Huber (34 parameters)", ["values", str(SPECS / "relu_huber_1334.toml")], 2.0),
    ("derive --format md, 1-3-3-4 ReLU Huber", ["derive", str(SPECS / "relu_huber_1334.toml"), "--format", "md",
                                                "-o", "{tmp}/r.md", "--force"], 2.0),
    ("values, 4-2-3-3-2 leaky ReLU softmax (39)", ["values", str(SPECS / "leaky_softmax_42332.toml")], 2.0),
    ("derive --format md, 4-2-3-3-2 leaky ReLU softmax", ["derive", str(SPECS / "leaky_softmax_42332.toml"),
                                                          "--format", "md", "-o", "{tmp}/l.md", "--force"], 2.0),
    ("compact worked example, 4-16-16-4 (420 parameters)", ["derive", str(SPECS / "compact_4_16_16_4.toml"),
                                                           "--format", "md", "-o", "{tmp}/c.md", "--force"], 1.0),
    ("values mazur --steps 1000000", ["values", "mazur", "--steps", "1000000"], 30.0),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
            f"load average {load:.1f} when the run started")


def clear_caches() -> None:
    pipeline.verified.cache_clear()
    program.compact_program.cache_clear()
    derive_mod._TRAINERS.clear()


def timed(stages: list, label: str, fn):
    start = time.perf_counter()
    result = fn()
    stages.append((label, time.perf_counter() - start))
    return result


def stages_of_worked_example(spec, source: str, with_pdf: bool) -> list:
    """Run the worked example's pipeline stage by stage, as codegen.pipeline does."""
    clear_caches()
    stages: list = []
    d = timed(stages, "derive", lambda: derive(spec))
    checks = timed(stages, "verify (dual numbers, textbook forms)", lambda: verify(d))
    n = spec.training.steps
    rounds = reference.rounds(spec)
    snaps = tuple(sorted(set(document.checkpoints(n)) | set(reference.needed_snapshots(spec))))
    trajectory = timed(stages, f"train {max((n,) + rounds)} updates (float64, twice)",
                       lambda: train(d, max((n,) + rounds), snaps))
    other = reference.other_variant(spec)
    variant = None
    if other is not None:
        od = timed(stages, "other variant: derive", lambda: derive(other))
        timed(stages, "other variant: verify", lambda: verify(od))
        ot = timed(stages, f"other variant: train {max(rounds)} updates",
                   lambda: train(od, max(rounds), reference.needed_snapshots(other))) if rounds else None
        variant = (od, ot)
    found = timed(stages, "compare with the reference figures",
                  lambda: reference.compare(d, trajectory, variant)) if spec.reference else ()
    expand = len(spec.parameters) <= document.FULL_LIMIT
    doc = timed(stages, "build the document", lambda: document.build(document.Inputs(
        d, source, source_line(spec, source), trajectory, n, trajectory.snapshots[1], list(found), expand, checks)))
    tex = timed(stages, "render LaTeX", lambda: formats.to_latex(doc))
    timed(stages, "render Markdown", lambda: formats.to_markdown(doc))
    if len(spec.parameters) <= 200:
        timed(stages, "gradient module", lambda: pymodule.generate(d, source))
    if with_pdf and pdf.engine_available():
        timed(stages, "TeX run on its own (latexmk, pdflatex)", lambda: pdf.compile_pdf(tex, source))
    return stages


def stages_of_values(spec) -> list:
    clear_caches()
    stages: list = []
    d = timed(stages, "derive", lambda: derive(spec))
    timed(stages, "verify (dual numbers, textbook forms)", lambda: verify(d))
    timed(stages, "train 1 update", lambda: train(d, 1, (1,)))
    return stages


def wall(args: list[str], repeat: int, tmp: str) -> tuple[float, float, str]:
    """The best wall-clock time of *repeat* runs, the CPU time (user + system, the command and
    its children: TeX too) of that run, and the last error line of a failed run."""
    best, cpu, err = float("inf"), float("inf"), ""
    env = dict(os.environ, STEPGRAD_PROGRESS="0")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(STEPGRAD + [a.format(tmp=tmp) for a in args], cwd=tmp, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if elapsed < best:
            best, cpu = elapsed, used
        err = proc.stderr.strip().splitlines()[-1] if proc.returncode else ""
    return best, cpu, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (the best is shown)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the commands and stages that run TeX")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import stepgrad.codegen.cli"], cwd=ROOT, check=True)
    print(f"start-up (python -c 'import stepgrad.codegen.cli'): {time.perf_counter() - start:.2f} s\n")
    with tempfile.TemporaryDirectory(prefix="stepgrad-bench-") as tmp:
        print(f"{'command':<52}{'wall':>9}{'CPU':>8}{'target':>9}  verdict (by wall-clock time)")
        for label, cmd, target in COMMANDS:
            if args.no_pdf and label.startswith("example (PDF"):
                continue
            repeat = 1 if "1000000" in cmd else args.repeat
            seconds, cpu, err = wall(cmd, repeat, tmp)
            verdict = ("met" if seconds <= target else "MISSED") + (f" (exit: {err})" if err else "")
            print(f"{label:<52}{seconds:>8.2f}s{cpu:>7.2f}s{target:>8.1f}s  {verdict}")
    print()
    mazur = load("mazur")
    print("stages: one run each, the first of this process (SymPy's own caches are cold, as in a command)\n")
    for title, run in [
        ("stages of the worked example, mazur", lambda: stages_of_worked_example(mazur, "mazur", not args.no_pdf)),
        ("stages of values, 1-3-3-4 ReLU Huber",
         lambda: stages_of_values(load(str(SPECS / "relu_huber_1334.toml")))),
        ("stages of values, 4-2-3-3-2 leaky ReLU softmax",
         lambda: stages_of_values(load(str(SPECS / "leaky_softmax_42332.toml")))),
        ("stages of the compact worked example, 4-16-16-4",
         lambda: stages_of_worked_example(load(str(SPECS / "compact_4_16_16_4.toml")), "compact_4_16_16_4", False)),
    ]:
        stages = run()
        print(title)
        for label, seconds in stages:
            print(f"  {label:<50}{seconds:>8.3f} s")
        print(f"  {'total':<50}{sum(s for _, s in stages):>8.3f} s\n")
    if shutil.which("latexmk") is None:
        print("no TeX engine: the TeX stage was not measured")


if __name__ == "__main__":
    main()
