"""Measure the draws a good exercise variant takes and the seconds of one draw (symbolic.exercise's budget).

    python benchmarks/exercise_draws.py [SPEC] [--variants N] [--answer-decimals D]

Prints the variants drawn, the draws they took in all (with the most any one took), the seconds per
draw and per variant, against symbolic.limits's estimate (draw_seconds, DRAWS_PER_VARIANT), which
should err long.  The post's exercise, 100 variants: 3.1 draws a variant, 0.025 s a draw; a 5-8-4 sigmoid
network (84 parameters, --answer-decimals 10): 4.6 draws a variant, 0.09 s a draw.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stepgrad.symbolic import exercise as core, limits  # noqa: E402
from stepgrad.symbolic.spec import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", nargs="?", default="mazur")
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--answer-decimals", type=int)
    args = parser.parse_args()
    spec = load(args.spec, partial=True)
    exercise = core.exercise_of(spec, **({"answer_decimals": args.answer_decimals} if args.answer_decimals else {}))
    draws: dict[int, int] = {}
    real = core.variant_of

    def counted(*a, **k):
        draws[a[2]] = draws.get(a[2], 0) + 1
        return real(*a, **k)

    core.variant_of = counted
    start = time.perf_counter()
    core.make_variants(spec, exercise, count=args.variants, seed=98765432109)
    seconds = time.perf_counter() - start
    total = sum(draws.values())
    print(f"load average {os.getloadavg()[0]:.1f}; {spec.name}, {len(spec.parameters)} parameters, "
          f"{args.variants} variants in {seconds:.1f} s")
    print(f"draws: {total} in all, {total / args.variants:.1f} a variant, at most {max(draws.values())}")
    print(f"seconds: {seconds / total:.3f} a draw (estimate {limits.draw_seconds(spec):.3f}), "
          f"{seconds / args.variants:.3f} a variant (estimate with writing "
          f"{limits.DRAWS_PER_VARIANT * limits.draw_seconds(spec) + limits.WRITE_PER_PARAMETER_S * len(spec.parameters):.3f})")


if __name__ == "__main__":
    main()
