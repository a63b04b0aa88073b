"""Time every stage of stepgrad for a 4-16-16-4 network (420 parameters): issue 3's "seconds, not minutes".

Run: python benchmarks/generation.py
Prints the wall time of each stage; stepgrad alone, no peers needed.
"""

from __future__ import annotations

import time

from stepgrad.codegen import npmodule, pymodule
from stepgrad.codegen.pipeline import worked_example
from stepgrad.symbolic.derive import derive
from stepgrad.symbolic.spec import parse
from stepgrad.symbolic.verify import verify

SPEC = """
title = "4-16-16-4: tanh, ReLU, softmax with cross-entropy"
error = "categorical_cross_entropy"
[[layers]]
size = 4
[[layers]]
size = 16
activation = "tanh"
[[layers]]
size = 16
activation = "relu"
[[layers]]
size = 4
activation = "softmax"
[initializer]
scheme = "xavier_uniform"
seed = 1
[[samples]]
inputs = [0.1, 0.2, 0.3, 0.4]
targets = [0, 1, 0, 0]
[[samples]]
inputs = [0.4, -0.3, 0.2, -0.1]
targets = [0, 0, 1, 0]
[training]
learning_rate = 0.1
steps = 1000
batch = "full"
"""


def timed(label: str, work):
    """Run work(), print how long it took, return its result."""
    start = time.perf_counter()
    result = work()
    print(f"{label:<44} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    spec = timed("read the spec", lambda: parse(SPEC, "4-16-16-4"))
    print(f"{len(spec.parameters)} parameters, {len(spec.samples)} samples")
    d = timed("derive (chain rule, 50-digit values)", lambda: derive(spec))
    timed("verify (dual numbers, 50 digits)", lambda: verify(d))
    module = timed("scalar gradient module", lambda: pymodule.generate(d, "4-16-16-4"))
    print(f"  operations: forward {module.forward_ops}, backward {module.gradient_ops}, "
          f"(forward + backward) / forward = {(module.forward_ops + module.gradient_ops) / module.forward_ops:.3f}")
    timed("vectorized NumPy module", lambda: npmodule.generate(d.model, "4-16-16-4"))
    worked = timed("worked example, compact (1000 updates)", lambda: worked_example(spec, "4-16-16-4"))
    print(f"  LaTeX {len(worked.tex) // 1000} kB, Markdown {len(worked.markdown) // 1000} kB")


if __name__ == "__main__":
    main()
