"""Fuzzing every command with spoiled specs and answers files: a clean answer or a clean error, never a crash.

Each case runs ``codegen.cli.main`` in-process on files in a temporary folder
and asserts: exit 0 or 1 with output, or exit 2 with exactly one stderr line
starting "stepgrad: error:"; never an escaping exception, never exit 3, never
more than :data:`DEADLINE_S` seconds.  Runs are derandomized, so CI sees the
same cases every time; ``STEPGRAD_FUZZ_SCALE=10`` runs ten times as many.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepgrad.codegen.cli import main

from . import strategies as S

SCALE = int(os.environ.get("STEPGRAD_FUZZ_SCALE", "1"))
DEADLINE_S = 30
FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


class Hang(Exception):
    """A case ran past the deadline."""


@contextlib.contextmanager
def deadline(seconds: int):
    """Raise Hang in the main thread when the body runs longer than *seconds*."""
    def alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run main(argv) in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with deadline(DEADLINE_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, out: str, err: str, written: list[Path]) -> None:
    """Exit 0/1 with output, or exit 2 with one 'stepgrad: error:' line and no file written."""
    assert "Traceback" not in err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("stepgrad: error: "), err
        assert not written, written
        assert not out
    else:
        assert out or written


def outputs(folder: Path) -> list[Path]:
    """Files in *folder* that the case did not put there itself."""
    return sorted(p for p in folder.iterdir() if p.name not in ("spec.toml", "answers.toml"))


COMMANDS = {
    "values": lambda spec, folder: ["values", spec, "--steps", "3", "--json"],
    "module": lambda spec, folder: ["module", spec, "-o", str(folder / "g.py")],
    "derive-md": lambda spec, folder: ["derive", spec, "--format", "md", "--steps", "3", "-o", str(folder / "d.md")],
    "derive-tex": lambda spec, folder: ["derive", spec, "--format", "tex", "--steps", "2", "-o",
                                        str(folder / "d.tex"), "--train-biases"],
}


@settings(FUZZ, max_examples=150 * SCALE)
@given(data=S.spec_files(), command=st.sampled_from(sorted(COMMANDS)))
def test_spoiled_specs_never_crash(data, command):
    """A mutated, truncated or garbled spec gives output or one clean error line, for each command."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = folder / "spec.toml"
        spec.write_bytes(data)
        code, out, err = run_cli(COMMANDS[command](str(spec), folder))
        assert_clean(code, out, err, outputs(folder))


@settings(FUZZ, max_examples=60 * SCALE)
@given(data=S.answers_files(), as_json=st.booleans())
def test_spoiled_answers_never_crash(data, as_json):
    """A garbled answers file for the post's network gives verdicts or one clean error line."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        answers = folder / "answers.toml"
        answers.write_bytes(data)
        code, out, err = run_cli(["check", "mazur", str(answers)] + (["--json"] if as_json else []))
        assert_clean(code, out, err, outputs(folder))


@settings(FUZZ, max_examples=400 * SCALE)
@given(argv=st.lists(st.one_of(st.sampled_from(["derive", "module", "values", "check", "exampel",
                                                "--steps", "0", "-1", "3", "--format", "pdf", "-o", "-",
                                                "--json", "--all", "--force", "nosuch", "--hidden-deltas",
                                                "updated", "--count-rounds", "--no-pdf", "", "\udcff"]),
                               st.text(max_size=6)), max_size=5))
def test_random_arguments_never_crash(argv, tmp_path_factory):
    """Random command lines (naming no real spec, so no real work) are refused in one line."""
    folder = tmp_path_factory.mktemp("argv")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code, out, err = run_cli(argv)
    finally:
        os.chdir(cwd)
    assert "Traceback" not in err and code in (0, 2), (argv, code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("stepgrad: error: "), err


@settings(FUZZ, max_examples=1500 * SCALE)
@given(data=S.spec_files())
def test_spec_reader_accepts_or_refuses_in_one_line(data):
    """The spec reader alone, on many more cases: a Spec or a one-line SpecError, nothing else."""
    from stepgrad.symbolic.spec import SpecError, parse

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        with deadline(DEADLINE_S):
            parse(text, "spec.toml")
    except SpecError as exc:
        message = str(exc)
        assert message.startswith("spec.toml") and "\n" not in message and message.isprintable(), message


def test_deadline_stops_a_hang():
    """The per-case deadline really interrupts a stuck case (a test that cannot fail is a defect)."""
    import time

    with pytest.raises(Hang):
        with deadline(1):
            time.sleep(5)


def test_saturated_cross_entropy_is_a_clean_answer(tmp_path):
    """Cross-entropy on an output that rounds to exactly 1 gives a value or a clean error, not a crash."""
    from .strategies import base_texts

    text = base_texts()["mazur"]
    text = text[:text.index("[reference]")].replace('error = "half_sse"', 'error = "binary_cross_entropy"')
    for k in range(1, 9):
        text = text.replace(f"\nw{k} = 0.", f"\nw{k} = 100{k}.", 1)
    spec = tmp_path / "bce.toml"
    spec.write_text(text)
    code, out, err = run_cli(["values", str(spec), "--steps", "3"])
    assert_clean(code, out, err, [])


# -- spec files built to hit the size caps, and any text through each escaper -------------

def _bomb_part(kind: str, size: int) -> str:
    """One TOML fragment that grows with *size* along one dimension the pre-scan bounds."""
    if kind == "dotted":
        return "a" + ".a" * size + " = 1\n"
    if kind == "quoted":
        return '"a"' + '."b c"' * size + " = 1\n"
    if kind == "nesting":
        return "x = " + "[" * size + "]" * size + "\n"
    if kind == "inline":
        return "x = " + "{a = " * size + "1" + "}" * size + "\n"
    if kind == "digits":
        return "x = " + "1" * size + "\n"
    if kind == "underscored":
        return "x = 1" + "_1" * size + "\n"
    if kind == "exponent":
        return f"x = 1e{'9' * min(size, 40)}\n"
    if kind == "keys":
        return "".join(f"k{i} = 1\n" for i in range(size * 50))
    return "k" * (size * 10) + " = 1\n"


@settings(FUZZ, max_examples=80 * SCALE)
@given(kind=st.sampled_from(["dotted", "quoted", "nesting", "inline", "digits", "underscored", "exponent", "keys",
                             "long key"]),
       size=st.integers(1, 60_000), at=st.integers(0, 3), bom=st.booleans())
def test_spec_files_at_and_past_the_caps_are_quick_and_one_line(kind, size, at, bom):
    """Specs grown along each bounded dimension, anywhere in the file: a Spec or one line, in under 2 s."""
    import time

    from stepgrad.symbolic import inputs
    from stepgrad.symbolic.spec import SpecError, parse

    from .adversarial import TINY

    lines = TINY.splitlines(keepends=True)
    cut = [0, 1, len(lines) // 2, len(lines)][at]
    text = "".join(lines[:cut]) + _bomb_part(kind, size) + "".join(lines[cut:])
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    start = time.monotonic()
    try:
        with deadline(DEADLINE_S):
            parse(inputs.decode(raw, "b.toml"), "b.toml")
    except SpecError as exc:
        message = str(exc)
        assert message.startswith("b.toml") and "\n" not in message and len(message) < 700, message[:300]
    assert time.monotonic() - start < 2, (kind, size)


@settings(FUZZ, max_examples=300 * SCALE)
@given(text=st.text(max_size=80))
def test_every_escaper_neutralises_any_text(text):
    """Any text (controls, surrogates aside, any script): TeX gets only plain ASCII and its own escapes,
    Markdown no live markup, a code span a fence nothing inside closes, a comment no '--', a terminal
    nothing unprintable."""
    import re

    from stepgrad.codegen import escape

    tex = escape.tex(text)
    assert tex.isascii() and tex.isprintable()
    plain = re.sub(r"\\text[a-z]+\{\}|\\ensuremath\{[^{}]*\}|\\ldots\{\}|\\[%#$&_{}]", "", tex)
    assert not re.search(r"[\\%#^~$&_{}]", plain), (text, tex)

    md = escape.markdown(text)
    assert md.isprintable() or md == ""
    assert not re.search(r"(?<!\\)[<>`*_\[\]|$&!]", md.replace("\\\\", "")), (text, md)

    code = escape.md_code(text)
    fence = re.match(r"`+", code).group()
    inner = code[len(fence):-len(fence)]
    assert code.endswith(fence) and fence not in inner and not inner.startswith("`") and not inner.endswith("`")

    comment = escape.html_comment(text)
    assert "--" not in comment and not comment.startswith((">", "->")) and comment.isprintable() or comment == ""
    assert escape.terminal(text).isprintable() or text == ""
