"""Time marking a class: 30 submissions of the post's network, one `stepgrad check mazur FOLDER` command.

Run: .venv/bin/python benchmarks/check_class.py   (prints wall-clock seconds; the aim is under 10 s; results in check_class.txt)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_class import make_class  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "subs"
        make_class(folder)
        stepgrad = Path(sys.executable).with_name("stepgrad")
        for fmt in ("md", "json"):
            start = time.perf_counter()
            done = subprocess.run([str(stepgrad), "check", "mazur", str(folder), "--format", fmt,
                                   "-o", str(Path(tmp) / fmt)], capture_output=True, text=True)
            wall = time.perf_counter() - start
            print(f"30 submissions, --format {fmt}: {wall:.2f} s wall-clock, exit {done.returncode}, "
                  f"{done.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
