"""Benchmark stepgrad's generated gradient modules against peers (GitHub issue 5).

    python benchmarks/run.py [--quick]

Run it in an environment with the peers installed (benchmarks/requirements.txt;
stepgrad itself installed with ``pip install -e .``).  For five sigmoid networks
with half squared error summed over the batch and one trainable bias per
neuron, it

1. builds each network as a stepgrad spec and generates stepgrad's modules
   (the scalar form where it is feasible, the NumPy form for all), timing that;
2. checks that every implementation computes the same gradients for the same
   weights and batch: stepgrad's modules, hand-written NumPy, JAX jit(grad),
   PyTorch eager and the naive SymPy route (diff of the flattened network,
   cse, lambdify), each against the hand-written NumPy gradient (1e-10
   relative), which is itself checked against central differences; it stops
   when any disagrees;
3. times one gradient of each, interleaved and repeated, and reports medians
   and ratios measured in the same run;
4. writes benchmarks/results.md (tables, environment, targets met or missed)
   and benchmarks/results.png.

Every library runs on one thread (set below, before any of them is imported),
so that the comparison is the same on a shared two-core machine and nothing
competes with itself.
"""

from __future__ import annotations

import os

# Thread settings first: NumPy's BLAS, PyTorch and XLA read them at import.
THREADS = "1"
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = THREADS
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402 - after the thread settings
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import naive_sympy  # noqa: E402
import peers  # noqa: E402
from stepgrad.codegen import npmodule, pipeline, pymodule  # noqa: E402
from stepgrad.symbolic import spec as spec_mod  # noqa: E402

#: The scalar form is generated for networks up to this many parameters (16-16-16 has 544);
#: past that, its generation runs the 50-digit derivation over every weight.
SCALAR_FEASIBLE = 1000
#: Agreement demanded with the hand-written NumPy gradient (as peers.check_agreement).
RTOL = 1e-10


@dataclass(frozen=True)
class Network:
    """One benchmark network: layer sizes and batch size."""

    sizes: tuple[int, ...]
    batch: int

    @property
    def label(self) -> str:
        return "-".join(map(str, self.sizes))

    @property
    def parameters(self) -> int:
        return sum(a * b + b for a, b in zip(self.sizes, self.sizes[1:]))


NETWORKS = (Network((2, 2, 2), 1), Network((4, 8, 8, 3), 1), Network((16, 16, 16), 1),
            Network((784, 30, 10), 10), Network((784, 256, 256, 10), 64))

#: Implementations in table order: key, label.
IMPLEMENTATIONS = (("scalar", "stepgrad scalar"), ("numpy_module", "stepgrad NumPy"),
                   ("numpy", "hand-written NumPy"), ("jax", "JAX jit(grad)"),
                   ("torch", "PyTorch eager"), ("naive", "naive SymPy lambdify"))


@dataclass
class Result:
    """Everything measured for one network."""

    network: Network
    parse_s: float = 0.0
    scalar_gen_s: float | None = None
    numpy_gen_s: float = 0.0
    naive_build_s: float | None = None
    naive_note: str = ""
    scalar_ops: dict | None = None
    naive_ops: dict | None = None
    diffs: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    #: The 1-minute load average before and after timing: other work on the machine.
    load: tuple[float, float] = (0.0, 0.0)

    #: The form codegen.npmodule.choose_form picks: "scalar" or "numpy_module".
    chosen: str = "numpy_module"


# -- building --------------------------------------------------------------

def spec_text(network: Network, problem: dict) -> str:
    """Write the network as a stepgrad spec: sigmoid, half_sse summed, a bias per neuron."""
    layers = "\n".join(f"[[layers]]\nsize = {n}\n" for n in network.sizes)
    samples = "\n".join(f"[[samples]]\ninputs = {x}\ntargets = {t}\n"
                        for x, t in zip(problem["X"].tolist(), problem["T"].tolist()))
    return (f'title = "benchmark {network.label}"\nerror = "half_sse"\n\n{layers}\n'
            f'[initializer]\nscheme = "xavier_uniform"\nseed = 1\n\n{samples}\n'
            f'[training]\nlearning_rate = 0.1\nbatch = "full"\nreduction = "sum"\n')


def make_problem(network: Network) -> dict:
    """Return peers' random problem, with inputs and targets rounded so the spec holds them exactly."""
    problem = peers.make_problem(list(network.sizes), network.batch, seed=0)
    problem["X"] = np.round(problem["X"], 4)
    problem["T"] = np.round(problem["T"], 4)
    return problem


def parse_spec(text: str):
    """Parse a benchmark network's spec."""
    return spec_mod.parse(text, "<benchmark>")


def load(text: str, name: str, folder: Path):
    """Write module text to folder and import it."""
    path = folder / f"{name}.py"
    path.write_text(text)
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def neuron_index(spec) -> dict[str, int]:
    return {n: j for layer in spec.layers for j, n in enumerate(layer.neurons)}


def params_from_arrays(spec, W, b) -> dict[str, float]:
    """Name each array entry by the spec's wiring: W[layer-1][dst, src], b[layer-1][neuron]."""
    index = neuron_index(spec)
    params = {w.name: float(W[w.layer - 1][index[w.dst], index[w.src]]) for w in spec.weights}
    params.update({bias.name: float(b[bias.layer - 1][index[bias.neurons[0]]]) for bias in spec.biases})
    return params


def arrays_from_params(spec, values: dict, like_W, like_b):
    """The inverse of params_from_arrays, for comparing a dict of gradients with arrays."""
    index = neuron_index(spec)
    W = [np.zeros_like(w) for w in like_W]
    b = [np.zeros_like(v) for v in like_b]
    for w in spec.weights:
        W[w.layer - 1][index[w.dst], index[w.src]] = values[w.name]
    for bias in spec.biases:
        for n in bias.neurons:
            b[bias.layer - 1][index[n]] = values[bias.name]
    return W, b


def scalar_candidate(spec, problem, module):
    """fn() -> the scalar module's gradients (a dict) for the problem's batch; dicts made outside."""
    params = params_from_arrays(spec, problem["W"], problem["b"])
    rows = [({n: v for n, v in zip(spec.inputs, x)}, {n: v for n, v in zip(spec.outputs, t)})
            for x, t in zip(problem["X"].tolist(), problem["T"].tolist())]
    if len(rows) == 1:
        inputs, targets = rows[0]
        return lambda: module.gradients(params, inputs, targets)
    return lambda: module.batch_gradients(params, rows)


# -- timing ----------------------------------------------------------------

def measure(candidates: dict, repeats: int, budget_s: float) -> dict[str, float]:
    """Median seconds per call of each candidate, measured interleaved.

    Each candidate is warmed up, then given a call count filling about budget_s;
    every round times each candidate once (rotating the order), and the median
    over rounds is taken.  timeit turns the garbage collector off while timing.
    """
    numbers = {}
    for name, fn in candidates.items():
        for _ in range(3):
            fn()
        once = timeit.Timer(fn).timeit(number=1)
        number = max(1, int(budget_s / max(once, 1e-7)))
        warm = timeit.Timer(fn).timeit(number=number)
        numbers[name] = max(1, int(budget_s * number / max(warm, 1e-9)))
    samples = {name: [] for name in candidates}
    names = list(candidates)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            samples[name].append(timeit.Timer(candidates[name]).timeit(number=numbers[name]) / numbers[name])
    return {name: statistics.median(values) for name, values in samples.items()}


# -- one network -----------------------------------------------------------

def warm_up() -> None:
    """Generate the post's network once with each generator, so imports and caches are not timed."""
    spec = spec_mod.load("mazur")
    npmodule.generate(spec, "mazur")
    pymodule.generate(pipeline.derivation(spec), "mazur")


def run_network(network: Network, args, folder: Path) -> Result:
    result = Result(network)
    problem = make_problem(network)
    W, b, X, T = problem["W"], problem["b"], problem["X"], problem["T"]
    say(f"\n{network.label} (batch {network.batch}, {network.parameters} parameters)")

    start = time.perf_counter()
    spec = parse_spec(spec_text(network, problem))
    result.parse_s = time.perf_counter() - start
    assert len(spec.parameters) == network.parameters
    result.chosen = "scalar" if npmodule.choose_form(spec) == "scalar" else "numpy_module"

    start = time.perf_counter()
    np_text = npmodule.generate(spec, f"benchmark {network.label}")
    result.numpy_gen_s = time.perf_counter() - start
    np_module = load(np_text, f"np_{network.label.replace('-', '_')}", folder)
    say(f"  spec parsed in {result.parse_s:.2f} s; NumPy module generated in {result.numpy_gen_s:.3f} s")

    scalar_module = None
    if network.parameters <= SCALAR_FEASIBLE:
        start = time.perf_counter()
        module = pymodule.generate(pipeline.derivation(spec), f"benchmark {network.label}")
        result.scalar_gen_s = time.perf_counter() - start
        scalar_module = load(module.text, f"sc_{network.label.replace('-', '_')}", folder)
        result.scalar_ops = dict(scalar_module.OPERATION_COUNTS)
        say(f"  scalar module generated (derive, verify, generate) in {result.scalar_gen_s:.2f} s; "
            f"operations {result.scalar_ops}")

    naive_fn = None
    if network.parameters > SCALAR_FEASIBLE:
        result.naive_note = "not attempted"
    else:
        timeout = args.naive_timeout
        say(f"  naive SymPy build (timeout {timeout} s) ...")
        built = naive_sympy.naive_grad_callable(list(network.sizes), problem, timeout_s=timeout)
        if built is None:
            result.naive_note = f"> {timeout} s"
            say(f"  naive SymPy build timed out after {timeout} s")
        else:
            naive_fn, result.naive_build_s, result.naive_ops = built
            say(f"  naive SymPy built in {result.naive_build_s:.2f} s; operations {result.naive_ops}")

    # -- agreement, before any timing
    reference = peers.numpy_grad(W, b, X, T)
    fd = peers.finite_difference_check(problem)
    if fd > 1e-6:
        raise SystemExit(f"{network.label}: hand-written NumPy disagrees with central differences ({fd:.3g})")
    result.diffs["central differences"] = fd
    ready, result.missing = peers.build_peers(problem)
    candidates = {}
    if scalar_module is not None:
        candidates["scalar"] = scalar_candidate(spec, problem, scalar_module)
    candidates["numpy_module"] = lambda: np_module.gradients_arrays(W, b, X, T)
    candidates.update(ready)
    if naive_fn is not None:
        candidates["naive"] = naive_fn
    for name, fn in candidates.items():
        got = fn()
        if name == "scalar":
            got = arrays_from_params(spec, got, W, b)
        diff = peers.max_rel_diff(got, reference)
        result.diffs[name] = diff
        if not diff <= RTOL:
            raise SystemExit(f"{network.label}: {name} disagrees with hand-written NumPy: "
                             f"max relative difference {diff:.3g} > {RTOL}")
    # The NumPy module fed through its own dict interface gives the same numbers too.
    params = params_from_arrays(spec, W, b)
    via_dicts = np_module.unpack(*np_module.pack(params))
    if via_dicts != params:
        raise SystemExit(f"{network.label}: the NumPy module's pack/unpack do not follow the spec's names")
    say("  agreement: " + ", ".join(f"{k} {v:.1e}" for k, v in result.diffs.items()))

    load_before = os.getloadavg()[0]
    result.times = measure(candidates, args.repeats, args.budget)
    result.load = (load_before, os.getloadavg()[0])
    chosen = result.times[result.chosen]
    for name, t in result.times.items():
        say(f"  {name:14s} {fmt_time(t):>10s}  {t / chosen:8.2f}x stepgrad's")
    return result


# -- reporting -------------------------------------------------------------

def say(text: str) -> None:
    print(text, flush=True)


def fmt_time(t: float) -> str:
    if t < 1e-3:
        return f"{t * 1e6:.1f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def fmt_ratio(x: float) -> str:
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def time_table(results: list[Result]) -> list[str]:
    head = "| network (batch) | params | " + " | ".join(label for _, label in IMPLEMENTATIONS) + " |"
    rows = [head, "|" + "---|" * (len(IMPLEMENTATIONS) + 2)]
    for r in results:
        chosen = r.times[r.chosen]
        cells = []
        for key, _ in IMPLEMENTATIONS:
            if key in r.times:
                t = r.times[key]
                cells.append(f"**{fmt_time(t)}**" if key == r.chosen else f"{fmt_time(t)} ({fmt_ratio(t / chosen)})")
            elif key in r.missing:
                cells.append(r.missing[key])
            elif key == "naive":
                cells.append(f"build {r.naive_note}" if r.naive_note.startswith(">") else r.naive_note or "—")
            else:
                cells.append("—")
        rows.append(f"| {r.network.label} ({r.network.batch}) | {r.network.parameters:,} | " + " | ".join(cells) + " |")
    return rows


def generation_table(results: list[Result]) -> list[str]:
    rows = ["| network | spec parse | scalar module | NumPy module | naive SymPy build | naive / scalar "
            "| scalar ops (fwd+grad)/fwd | naive ops (fwd+grad)/fwd |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        scalar = fmt_time(r.scalar_gen_s) if r.scalar_gen_s is not None else "—"
        if r.naive_build_s is not None:
            naive = fmt_time(r.naive_build_s)
        else:
            naive = r.naive_note or "—"
        if r.scalar_gen_s and r.naive_build_s is not None:
            speedup = fmt_ratio(r.naive_build_s / r.scalar_gen_s)
        elif r.scalar_gen_s and r.naive_note.startswith(">"):
            limit = float(r.naive_note.split()[1])
            speedup = f"> {fmt_ratio(limit / r.scalar_gen_s)}"
        else:
            speedup = "—"
        ops = (f"{(r.scalar_ops['forward'] + r.scalar_ops['gradient']) / r.scalar_ops['forward']:.3f} "
               f"({r.scalar_ops['forward']} + {r.scalar_ops['gradient']})" if r.scalar_ops else "—")
        naive_ops = (f"{(r.naive_ops['forward'] + r.naive_ops['gradient']) / r.naive_ops['forward']:.2f}"
                     if r.naive_ops else "—")
        rows.append(f"| {r.network.label} | {fmt_time(r.parse_s)} | {scalar} | {fmt_time(r.numpy_gen_s)} | "
                    f"{naive} | {speedup} | {ops} | {naive_ops} |")
    return rows


def targets(results: list[Result]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each target of the issue that this run measured."""
    by = {r.network.label: r for r in results}
    out = []

    def faster(label: str, peer: str, factor: float, form: str) -> None:
        r = by.get(label)
        if r is None or peer not in r.times or form not in r.times:
            return
        x = r.times[peer] / r.times[form]
        name = dict(IMPLEMENTATIONS)[peer]
        out.append((f"{label}: stepgrad {'scalar' if form == 'scalar' else 'NumPy'} ≥ {factor:g}× faster than {name}",
                    fmt_ratio(x), x >= factor))

    faster("2-2-2", "jax", 10, "scalar")
    faster("2-2-2", "torch", 100, "scalar")
    faster("4-8-8-3", "jax", 1.5, "scalar")
    faster("4-8-8-3", "torch", 10, "scalar")
    for label in ("784-30-10", "784-256-256-10"):
        r = by.get(label)
        if r is None:
            continue
        x = r.times["numpy_module"] / r.times["numpy"]
        out.append((f"{label}: NumPy module within 5% of hand-written NumPy", f"{x:.3f}× its time", x <= 1.05))
        faster(label, "jax", 1.0, "numpy_module")
        faster(label, "torch", 1.0, "numpy_module")
    for r in results:
        if r.scalar_ops:
            x = (r.scalar_ops["forward"] + r.scalar_ops["gradient"]) / r.scalar_ops["forward"]
            out.append((f"{r.network.label}: scalar operation-count ratio (fwd+grad)/fwd ≤ 2.0", f"{x:.3f}", x <= 2.0))
    r = by.get("16-16-16")
    if r is not None and r.scalar_gen_s:
        if r.naive_build_s is not None:
            x = r.naive_build_s / r.scalar_gen_s
            out.append(("16-16-16: scalar generation ≥ 50× faster than naive SymPy", fmt_ratio(x), x >= 50))
        elif r.naive_note.startswith(">"):
            limit = float(r.naive_note.split()[1])
            x = limit / r.scalar_gen_s
            out.append(("16-16-16: scalar generation ≥ 50× faster than naive SymPy",
                        f"> {fmt_ratio(x)} (naive timed out)", x >= 50))
    return out


def environment() -> list[str]:
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for name in ("sympy", "jax", "torch"):
        try:
            versions.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            versions.append(f"{name} not installed")
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [f"{cpu}, {os.cpu_count()} logical CPUs; " + ", ".join(versions) + ".",
            "One thread everywhere: OPENBLAS/OMP/MKL_NUM_THREADS=1, torch.set_num_threads(1), "
            "XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1."]


def write_markdown(results: list[Result], args, path: Path) -> None:
    lines = ["# Benchmark results", "",
             f"Written by `python benchmarks/run.py{' --quick' if args.quick else ''}`. Sigmoid on every layer, "
             "half squared error summed over the batch, one trainable bias per neuron, float64.", "",
             "## Time per gradient", "",
             "Median wall time of one gradient (forward pass included) over "
             f"{args.repeats} interleaved rounds. In brackets: that time over stepgrad's, measured in the "
             "same run (above 1×, stepgrad is faster); stepgrad's is the form `codegen.npmodule.choose_form` "
             "picks, in bold. The scalar module is timed through its dict interface (dicts built outside "
             "the timing), the NumPy module through `gradients_arrays` on arrays, the peers on their own "
             "arrays (see benchmarks/peers.py).", ""]
    lines += time_table(results)
    lines += ["", "## Generation", "",
              "Scalar module: derive, verify and generate (what `stepgrad module` does). NumPy module: "
              "`codegen.npmodule.generate`. Naive SymPy: flatten the network, `diff` every parameter, `cse`, "
              f"`lambdify` (benchmarks/naive_sympy.py), in a subprocess with a {args.naive_timeout} s timeout. "
              "Operation counts are SymPy `count_ops` of the generated code (`OPERATION_COUNTS`).", ""]
    lines += generation_table(results)
    lines += ["", "## Targets of issue 5", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {'met' if ok else '**missed**'} |" for t, m, ok in targets(results)]
    lines += ["", "## Agreement", "",
              "Before timing, every implementation's gradient was compared with the hand-written NumPy "
              f"gradient (largest difference relative to each array's largest entry, at most {RTOL:g}), and "
              "the hand-written gradient with central differences:", ""]
    for r in results:
        lines.append(f"- {r.network.label}: " + ", ".join(f"{k} {v:.1e}" for k, v in r.diffs.items()))
    lines += ["", "## Environment", ""] + environment()
    lines += ["", "1-minute load average before and after each network's timing (other work on the machine "
              "inflates times; interleaving and short rounds keep the ratios fair): "
              + ", ".join(f"{r.network.label} {r.load[0]:.1f}/{r.load[1]:.1f}" for r in results) + ".", ""]
    path.write_text("\n".join(lines), "utf-8")


def write_plot(results: list[Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / len(IMPLEMENTATIONS)
    for i, (key, label) in enumerate(IMPLEMENTATIONS):
        xs, ys = [], []
        for j, r in enumerate(results):
            if key in r.times:
                xs.append(j + (i - (len(IMPLEMENTATIONS) - 1) / 2) * width)
                ys.append(r.times[key] * 1e6)
        if xs:
            ax.bar(xs, ys, width, label=label)
    ax.set_yscale("log")
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"{r.network.label}\nbatch {r.network.batch}" for r in results])
    ax.set_ylabel("median time per gradient (µs, log scale)")
    ax.set_title("stepgrad's generated modules and peers, one thread, float64")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and a 30 s naive SymPy timeout (for a smoke test)")
    parser.add_argument("--output", type=Path, default=HERE, help="folder for results.md and results.png")
    args = parser.parse_args(argv)
    # Short rounds: on a busy machine, fewer of them are interrupted, and the median skips those.
    args.repeats = 21 if args.quick else 301
    args.budget = 0.0005
    args.naive_timeout = 30 if args.quick else 300
    try:
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
    except ImportError:
        pass
    say("\n".join(environment()))
    warm_up()
    with tempfile.TemporaryDirectory() as folder:
        results = [run_network(network, args, Path(folder)) for network in NETWORKS]
    say("")
    say("\n".join(time_table(results)))
    say("")
    say("\n".join(generation_table(results)))
    say("")
    for target, measured, ok in targets(results):
        say(f"{'met   ' if ok else 'MISSED'} {target}: {measured}")
    args.output.mkdir(parents=True, exist_ok=True)
    write_markdown(results, args, args.output / "results.md")
    write_plot(results, args.output / "results.png")
    say(f"\nwrote {args.output / 'results.md'} and {args.output / 'results.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
