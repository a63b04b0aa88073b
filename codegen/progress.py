"""Show progress of long work on stderr: once a second on a terminal, every few seconds elsewhere.

On a terminal the line is rewritten in place, at most once a second; when stderr
is a file or a pipe (a log, a CI job), a full line is written every
``LOG_INTERVAL_S`` seconds, so a short run writes nothing.  ``STEPGRAD_PROGRESS=1``
forces lines once a second (for tests), ``STEPGRAD_PROGRESS=0`` silences it.  It
never goes to stdout, so ``stepgrad values --json`` and ``-o -`` stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ..symbolic.inputs import one_line

#: Seconds between two progress lines on a terminal (or with STEPGRAD_PROGRESS=1).
INTERVAL_S = 1.0
#: Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL_S = 5.0


def interval(stream: TextIO) -> float | None:
    """Seconds between progress lines on *stream*, or None when progress is silenced."""
    flag = os.environ.get("STEPGRAD_PROGRESS")
    if flag is not None:
        return INTERVAL_S if flag == "1" else None
    return INTERVAL_S if _isatty(stream) else LOG_INTERVAL_S


def enabled(stream: TextIO) -> bool:
    """Whether progress is shown on *stream* at all."""
    return interval(stream) is not None


@contextmanager
def progress(label: str, total: int, stream: TextIO | None = None,
             clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[int], None]]:
    """Yield a function to call with the work done so far; it reports at most once an interval.

    >>> with progress("training", 10000) as tick:
    ...     for step in range(1, 10001):
    ...         tick(step)
    """
    out = stream if stream is not None else sys.stderr
    every = interval(out)
    if every is None:
        yield lambda done: None
        return
    tty = _isatty(out)
    start = clock()
    last = [start]
    shown = [False]

    def tick(done: int) -> None:
        now = clock()
        if now - last[0] < every:
            return
        last[0] = now
        shown[0] = True
        percent = 100 * done // total if total else 100
        line = one_line(f"stepgrad: {label} {done}/{total} ({percent}%, {now - start:.0f} s)")  # a spec's name
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
