"""Measure what training costs per update, for symbolic.limits.TRAINING_COSTS.

    python benchmarks/training_costs.py

Trains three networks (the post's, a 2-3-2 tanh network on two samples, an 8-16-8 sigmoid
network) in float64 (the default: two runs, the second perturbed) and at 30 digits, and
prints the seconds per update and the fitted cost per parameter per sample.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stepgrad.symbolic.derive import derive, train  # noqa: E402
from stepgrad.symbolic.spec import load, parse  # noqa: E402


def network(sizes: list[int], activation: str, samples: int) -> str:
    layers = "\n".join(f"[[layers]]\nsize = {n}\n" + (f'activation = "{activation}"\n' if k else "")
                       for k, n in enumerate(sizes))
    rows = "\n".join(f"[[samples]]\ninputs = {[round(0.1 * (j + 1 + s), 2) for j in range(sizes[0])]}\n"
                     f"targets = {[0.5] * sizes[-1]}\n" for s in range(samples))
    return (f'title = "{"-".join(map(str, sizes))}"\nerror = "half_sse"\n{layers}\n'
            f"[initializer]\nseed = 1\n\n{rows}\n[training]\nlearning_rate = 0.5\nsteps = 100\n")


def per_update(spec, steps: int, precision: str) -> float:
    d = derive(spec)
    train(d, 1, (1,), precision=precision)  # compile once, outside the timing
    start = time.perf_counter()
    train(d, steps, (steps,), precision=precision)
    return (time.perf_counter() - start) / steps


def main() -> None:
    cases = [("mazur", load("mazur"), 20000, 1000),
             ("2-3-2 tanh, 2 samples", parse(network([2, 3, 2], "tanh", 2), "<2-3-2>"), 20000, 500),
             ("8-16-8 sigmoid", parse(network([8, 16, 8], "sigmoid", 1), "<8-16-8>"), 2000, 50)]
    print(f"{'network':<24}{'parameters':>11}{'samples':>8}{'float64 ms':>12}{'30 digits ms':>14}")
    for label, spec, n_float, n_mp in cases:
        f = per_update(spec, n_float, "float")
        m = per_update(spec, n_mp, "mpmath")
        print(f"{label:<24}{len(spec.parameters):>11}{len(spec.samples):>8}{f * 1e3:>12.4f}{m * 1e3:>14.3f}")


if __name__ == "__main__":
    main()
