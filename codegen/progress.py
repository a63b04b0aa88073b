"""Show progress of long work on stderr, at most once a second, only where someone is watching.

Progress is shown when stderr is a terminal, or when ``STEPGRAD_PROGRESS=1``
(for logs and tests); ``STEPGRAD_PROGRESS=0`` silences it.  It never goes to
stdout, so ``stepgrad values --json`` and ``-o -`` stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

#: Seconds between two progress lines.
INTERVAL_S = 1.0


def enabled(stream: TextIO) -> bool:
    """Whether progress should be shown on *stream*."""
    flag = os.environ.get("STEPGRAD_PROGRESS")
    if flag is not None:
        return flag == "1"
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(label: str, total: int, stream: TextIO | None = None,
             clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[int], None]]:
    """Yield a function to call with the work done so far; it reports at most once a second.

    >>> with progress("training", 10000) as tick:
    ...     for step in range(1, 10001):
    ...         tick(step)
    """
    out = stream if stream is not None else sys.stderr
    if not enabled(out):
        yield lambda done: None
        return
    tty = _isatty(out)
    start = clock()
    last = [start]
    shown = [False]

    def tick(done: int) -> None:
        now = clock()
        if now - last[0] < INTERVAL_S:
            return
        last[0] = now
        shown[0] = True
        percent = 100 * done // total if total else 100
        line = f"stepgrad: {label} {done}/{total} ({percent}%, {now - start:.0f} s)"
        out.write(f"\r{line}\x1b[K" if tty else line + "\n")
        out.flush()

    try:
        yield tick
    finally:
        if shown[0] and tty:
            out.write("\n")
            out.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
