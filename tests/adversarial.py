"""The harness of the adversarial suite (tests/test_adversarial_*.py): run the real CLI on hostile input.

Each probe runs ``python -m stepgrad ...`` in a subprocess, in its own folder
and with its own temporary folder (TMPDIR), under a 2 GB address-space limit,
and checks what a teacher running stepgrad on students' files relies on:

* it ends within 20 s (measured; killed at 40 s);
* it peaks under 2 GB of memory, and never runs out of it;
* a refusal is exit code 2 with exactly one line on stderr, no traceback;
* no file outside the intended outputs is created or changed (the folder and
  the temporary folder are snapshotted before and after), and no temporary
  file (``*.tmp``, ``stepgrad-tex-*``) is left behind.

Where a subprocess adds nothing (a refusal the same code gives whichever
command reaches it), :func:`run_in_process` calls the CLI's ``main`` directly;
each family keeps at least one real-CLI probe per command.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT_S = 20.0
MEMORY_LIMIT = 2 * 1024 ** 3

#: The smallest useful spec: 2 inputs, 1 sigmoid output, no reference figures; derives in a second.
TINY = """title = "tiny"
[[layers]]
neurons = ["i1", "i2"]
[[layers]]
neurons = ["o1"]
activation = "sigmoid"
[parameters]
w1 = 0.15
w2 = 0.2
b_o1 = 0.35
[[samples]]
inputs = [0.05, 0.1]
targets = [0.01]
[training]
learning_rate = 0.5
steps = 3
"""


@dataclass
class Run:
    """What a probe saw."""

    code: int
    out: str
    err: str
    seconds: float
    peak_bytes: int
    created: set
    changed: set
    removed: set
    temp_left: list


def _child_setup(umask: int | None):
    def setup() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        os.setsid()
        if umask is not None:
            os.umask(umask)
    return setup


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under *folder*: kind, mode, size and content hash (regular files), link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            st = os.lstat(path)
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_file():
                out[rel] = ("file", st.st_mode, st.st_size, hashlib.sha256(path.read_bytes()).hexdigest())
            elif path.is_dir():
                out[rel] = ("dir", st.st_mode)
            else:
                out[rel] = ("special", st.st_mode)
    return out


def run(args: list[str], cwd: Path, *, stdin: bytes | None = None, env: dict | None = None,
        signal_after: tuple[float, int] | None = None, signal_when=None, umask: int | None = None) -> Run:
    """Run the CLI with *args* in *cwd*; *signal_after* = (seconds, signal) or *signal_when* = (predicate, signal)."""
    tmp = cwd.parent / (cwd.name + "-tmp")
    tmp.mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("STEPGRAD", "PYTHON"))}
    environment.update(TMPDIR=str(tmp), PYTHONPATH=str(ROOT), STEPGRAD_PROGRESS="0", PYTHONHASHSEED="0",
                       LC_ALL="C.UTF-8")
    environment.update(env or {})
    before, temp_before = snapshot(cwd), snapshot(tmp)
    out_path, err_path = cwd.parent / (cwd.name + "-out"), cwd.parent / (cwd.name + "-err")
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "stepgrad", *args], cwd=cwd, env=environment,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=fo, stderr=fe, preexec_fn=_child_setup(umask))
        if stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        sent = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            if not sent and signal_after and elapsed >= signal_after[0]:
                proc.send_signal(signal_after[1])
                sent = True
            if not sent and signal_when and signal_when[0](tmp, cwd):
                proc.send_signal(signal_when[1])
                sent = True
            if elapsed > 2 * TIME_LIMIT_S:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.02)
        seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    after, temp_after = snapshot(cwd), snapshot(tmp)
    result = Run(proc.returncode, out_path.read_text("utf-8", "replace"), err_path.read_text("utf-8", "replace"),
                 seconds, usage.ru_maxrss * 1024,
                 created=set(after) - set(before),
                 changed={k for k in set(after) & set(before) if after[k] != before[k]},
                 removed=set(before) - set(after),
                 temp_left=sorted(set(temp_after) - set(temp_before)))
    out_path.unlink()
    err_path.unlink()
    return result


def assert_held(r: Run, *, code: int | None = 2, outputs: set[str] = frozenset(), message: str | None = None) -> None:
    """The promises every probe checks; *outputs* are the files the run may create or change."""
    assert r.seconds < TIME_LIMIT_S, f"took {r.seconds:.1f} s: {r.err[-300:]}"
    assert r.peak_bytes < MEMORY_LIMIT, f"peaked at {r.peak_bytes / 1e9:.2f} GB"
    assert "Traceback" not in r.err and "Traceback" not in r.out, r.err[-2000:]
    assert "more memory" not in r.err, r.err
    if code is not None:
        assert r.code == code, (r.code, r.err[-1000:], r.out[-500:])
    if code == 2:
        lines = r.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("stepgrad: error: "), r.err
        assert len(lines[0]) < 700, len(lines[0])
    if message is not None:
        assert message in r.err, (message, r.err)
    assert not r.temp_left, f"left in the temporary folder: {r.temp_left}"
    assert not r.removed, f"removed: {r.removed}"
    stray = (r.created | r.changed) - set(outputs)
    stray = {p for p in stray if not any(p == o or o.startswith(p + os.sep) for o in outputs)}
    assert not stray, f"created or changed outside the intended outputs: {sorted(stray)}"
    assert not [p for p in r.created if p.endswith(".tmp")], r.created
    assert "\x1b" not in r.err and "\x1b" not in r.out, "a raw ESC reached the terminal"


def run_in_process(args: list[str], cwd: Path, capsys) -> tuple[int, str, str]:
    """Run the CLI's main in this process (for probes where a subprocess adds nothing): code, out, err.

    Checks what a refusal promises: exit 2, one 'stepgrad: error:' line, no ESC on the terminal.
    """
    from stepgrad.codegen import cli

    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = cli.main(args)
    finally:
        os.chdir(old)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "\x1b" not in err + out, err
    return code, out, err


def assert_refused(result: tuple[int, str, str], message: str) -> None:
    """An in-process run ended in exit 2 with one line on stderr holding *message*."""
    code, out, err = result
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("stepgrad: error: "), (code, err)
    assert message in err, (message, err)
