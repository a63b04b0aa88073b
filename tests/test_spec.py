"""The spec reader: every mistake a student makes gets one line naming the file, the key and the fix."""

from __future__ import annotations

import re

import pytest

from stepgrad.codegen.cli import main
from stepgrad.symbolic import limits
from stepgrad.symbolic.spec import MAX_PARAMETERS, SpecError, load, parse

#: A small valid spec; each test spoils one thing in it.
GOOD = """\
title = "two by two"
error = "half_sse"
[[layers]]
size = 2
[[layers]]
size = 2
activation = "sigmoid"
[[layers]]
size = 1
activation = "sigmoid"
[parameters]
w1 = 0.1
w2 = 0.2
w3 = 0.3
w4 = 0.4
w5 = 0.5
w6 = 0.6
b_h1 = 0
b_h2 = 0
b_o1 = 0
[[samples]]
inputs = [0.5, 0.25]
targets = [1]
[training]
learning_rate = 0.5
steps = 10
"""


def spoil(old: str, new: str) -> str:
    """GOOD with one piece replaced (the piece must be there)."""
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def test_the_good_spec_is_good():
    """The base of every case below is valid, so each failure below comes from its one change."""
    spec = parse(GOOD, "good.toml")
    assert spec.parameters == ("w1", "w2", "w3", "w4", "w5", "w6", "b_h1", "b_h2", "b_o1")


@pytest.mark.parametrize("text, fragments", [
    (spoil("steps = 10", "steps = 10\nstepz = 3"), ["good.toml:", "training.stepz", "did you mean 'steps'"]),
    (spoil("size = 1\n", "size = 0\n"), ["layers[2].size", "between 1 and"]),
    (spoil("size = 1\n", "size = -3\n"), ["layers[2].size", "not -3"]),
    (spoil("size = 1\n", 'size = "one"\n'), ["layers[2].size", "whole number"]),
    (spoil("learning_rate = 0.5", "learning_rate = 0"), ["training.learning_rate", "positive"]),
    (spoil("learning_rate = 0.5", "learning_rate = -0.5"), ["training.learning_rate", "positive"]),
    (spoil("learning_rate = 0.5", "learning_rate = nan"), [":25:", "training.learning_rate", "finite"]),
    (spoil("w1 = 0.1", "w1 = inf"), ["parameters.w1", "finite"]),
    (spoil("w1 = 0.1", "w1 = 1e-999999"), ["parameters.w1", "exponent", "at most 3 digits"]),
    (spoil("w1 = 0.1", "w1 = 0e-9999"), ["parameters.w1", "exponent", "at most 3 digits"]),
    (spoil("w1 = 0.1", "w1 = 1e-99"), ["parameters.w1", "decimal places"]),
    (spoil("w1 = 0.1\n", ""), ["parameters", "no value for w1", "[initializer]"]),
    (spoil("w1 = 0.1", "w1 = 0.1\nw7 = 0.1"), ["parameters.w7", "no such weight or bias"]),
    (spoil("targets = [1]", "targets = [1, 0]"), ["samples[0].targets", "2 values", "1 neurons"]),
    (spoil('error = "half_sse"', 'error = "binary_cross_entropy"').replace("targets = [1]", "targets = [1.5]"),
     ["samples[0].targets", "1.5", "between 0 and 1"]),
    (spoil('activation = "sigmoid"', 'activation = "softmax"'), ["layers[1].activation", "output layer only"]),
    (spoil('activation = "sigmoid"', 'activation = "sigmoidd"'), ["layers[1].activation", "did you mean 'sigmoid'"]),
    (spoil('error = "half_sse"', 'error = "half_sze"'), ["error", "did you mean 'half_sse'"]),
    (spoil("[[layers]]\nsize = 2\n", '[[layers]]\nneurons = ["i1", "i1"]\n'), ["i1", "used twice"]),
    (spoil("[parameters]", '[wiring]\nw1 = "i1 -> h1"\nw2 = "i9 -> h1"\n[parameters]'),
     ["wiring.w2", "no neuron named 'i9'"]),
    (spoil("[parameters]", '[wiring]\nw1 = "i1 -> h1"\nw2 = "i2 -> h1"\nw3 = "h1 -> o1"\n[parameters]'),
     ["wiring", "neuron h2 has no", "h2"]),
    (spoil("[parameters]", '[wiring]\nw1 = "i1 -> o1"\n[parameters]'), ["wiring.w1", "does not join one layer"]),
    (spoil("title = \"two by two\"", 'title = """two\nlines"""'), ["title", "line break"]),
    (spoil("title = \"two by two\"", 'title = "a \\u202e b"'), ["title", "U+202E"]),
    (spoil("title = \"two by two\"", "title = 'x\"\"\"; import os'"), ["title", "double quote"]),
    (spoil("title = \"two by two\"", "title = 'a --> b'"), ["title", "-->"]),
    (spoil("title = \"two by two\"", "title = 'a \\input{x}'"), ["title", "backslash"]),
    (spoil("[training]", '[reference]\nfigures = { "E_total@99999999999" = "0.1" }\n[training]'),
     ["reference.figures", "round 99999999999 is past", "1000000"]),
    (spoil("[training]", '[reference]\nfigures = { "x\\\\input{y}" = "0.1" }\n[training]'),
     ["reference.figures", "quantity name"]),
    (spoil("[training]", '[reference]\nsource = "a\\u0000b"\n[training]'), ["reference.source", "U+0000"]),
    (spoil("size = 2\nactivation", "size = 4096\nactivation").replace("[[layers]]\nsize = 2\n", "[[layers]]\nsize = 4096\n", 1),
     ["layers", "at most", str(MAX_PARAMETERS)]),
    ("a = " + "[" * 5000 + "]" * 5000, ["a:", "nested too deeply", "at most 16"]),
    ("title = 'x'\n[[layers]]\nsize = ", ["good.toml:3: not valid TOML"]),
])
def test_bad_specs_get_one_line_naming_key_and_fix(text, fragments):
    """Each spoiled spec raises one SpecError line with the file, the key (or line) and what is right."""
    with pytest.raises(SpecError) as info:
        parse(text, "good.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("good.toml"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_hostile_key_stays_on_one_line():
    """An unknown key holding a newline or an RTL mark is shown escaped, so the error stays one line."""
    with pytest.raises(SpecError) as info:
        parse(GOOD + '"evil\\nline\\u202e" = 1\n', "good.toml")
    message = str(info.value)
    assert "\n" not in message and "\u202e" not in message and "evil\\nline\\u202e" in message


@pytest.mark.parametrize("name", ["__import__('os').system('x')", "a;import os", "__class__", "lambda", "None",
                                  "h\u0430", "x\\input{y}", "a}b{", "w 1", "_w", "w__1", "1w", "E", "w" * 30])
@pytest.mark.parametrize("where", ["neuron", "wiring", "bias_name"])
def test_unsafe_names_are_refused(name, where):
    """A name that is not SAFE_NAME (or is a keyword or reserved) is refused wherever it appears."""
    if where == "neuron":
        text = spoil("[[layers]]\nsize = 2\n", f"[[layers]]\nneurons = [{toml_string(name)}, \"i2\"]\n")
    elif where == "wiring":
        text = spoil("[parameters]", f'[wiring]\n{toml_string(name)} = "i1 -> h1"\n[parameters]')
    else:
        text = spoil('activation = "sigmoid"\n', f'activation = "sigmoid"\nbias = "shared"\n'
                                                 f"bias_name = {toml_string(name)}\n")
    with pytest.raises(SpecError) as info:
        parse(text, "good.toml")
    assert "\n" not in str(info.value)


def toml_string(text: str) -> str:
    """A TOML basic string for *text*."""
    from .strategies import _string

    return _string(text)


def test_check_size_refuses_large_work_with_the_alternative():
    """check_size refuses an over-budget run up front, naming the budget and what to do instead."""
    text = GOOD.replace("size = 2\nactivation", "size = 40\nactivation").replace(
        "[[layers]]\nsize = 2\n", "[[layers]]\nsize = 10\n", 1)
    text = text[:text.index("[parameters]")] + "[initializer]\nseed = 1\n" + text[text.index("[[samples]]"):]
    text = text.replace("inputs = [0.5, 0.25]", "inputs = [" + ", ".join(["0.5"] * 10) + "]")
    spec = parse(text, "big.toml")
    assert len(spec.parameters) > limits.MAX_CHECK_PARAMETERS
    limits.check_size(spec, "module")
    with pytest.raises(SpecError, match="fully expanded worked example.*stepgrad module"):
        limits.check_size(spec, "derive")
    limits.check_size(spec, "derive", summary=True)
    with pytest.raises(SpecError, match="mistake search"):
        limits.check_size(spec, "check")
    long = spec.with_training(steps=1_000_000)
    with pytest.raises(SpecError, match=r"--steps \d+ or fewer"):
        limits.check_size(long, "values", steps=1_000_000)


def test_check_size_lets_the_posts_network_through():
    """The post's network passes every command's budget, with the post's 10,000 updates."""
    mazur = load("mazur")
    for command in limits.COMMANDS:
        limits.check_size(mazur, command, steps=10000, rounds=10000)


def test_progress_reports_at_most_once_a_second(monkeypatch):
    """progress() writes to its stream only when enabled, and at most once per (fake) second."""
    import io

    from stepgrad.codegen.progress import progress

    now = [0.0]
    stream = io.StringIO()
    monkeypatch.setenv("STEPGRAD_PROGRESS", "1")
    with progress("training", 100, stream, clock=lambda: now[0]) as tick:
        for k in range(1, 101):
            now[0] += 0.05
            tick(k)
    lines = stream.getvalue().splitlines()
    assert 4 <= len(lines) <= 5 and lines[0].startswith("stepgrad: training ")
    monkeypatch.setenv("STEPGRAD_PROGRESS", "0")
    quiet = io.StringIO()
    with progress("training", 100, quiet, clock=lambda: now[0]) as tick:
        now[0] += 10
        tick(50)
    assert quiet.getvalue() == ""


def test_cli_error_for_a_bad_spec_is_one_line(tmp_path, capsys):
    """Through the command line, a spoiled spec gives exit 2 and one 'stepgrad: error:' line."""
    bad = tmp_path / "hw.toml"
    bad.write_text(spoil("learning_rate = 0.5", "learning_rate = -1"))
    assert main(["values", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("stepgrad: error: ") and "hw.toml:25: training.learning_rate" in err[0]


# -- reading untrusted files (symbolic.inputs) ------------------------------------------------

def test_read_text_reads_only_regular_files_within_the_cap(tmp_path):
    """read_text refuses a FIFO, a device and a folder without opening them, and a file over its cap by
    its size; it drops a UTF-8 byte-order mark and names UTF-16."""
    import os

    from stepgrad.symbolic import inputs

    os.mkfifo(tmp_path / "pipe")
    for path, message in ((tmp_path / "pipe", "named pipe"), ("/dev/zero", "device"), (tmp_path, "folder"),
                          (tmp_path / "none", "no such")):
        with pytest.raises(SpecError, match=message):
            inputs.read_text(path, "spec file")
    (tmp_path / "big").write_bytes(b"x" * 2000)
    with pytest.raises(SpecError, match="at most 1 KiB"):
        inputs.read_text(tmp_path / "big", "spec file", max_bytes=1024)
    (tmp_path / "bom").write_bytes(b"\xef\xbb\xbfa = 1\n")
    assert inputs.read_text(tmp_path / "bom") == "a = 1\n"
    (tmp_path / "u16").write_bytes("a = 1\n".encode("utf-16"))
    with pytest.raises(SpecError, match="UTF-16"):
        inputs.read_text(tmp_path / "u16")


def test_prescan_states_each_limit_and_passes_the_built_in_examples():
    """Each cap has its message with the limit and the line; real specs pass untouched."""
    from stepgrad.symbolic import inputs
    from stepgrad.symbolic.spec import BUILTIN_DIR, builtin_names
    from importlib import resources

    for name in builtin_names():
        inputs.prescan(resources.files(BUILTIN_DIR).joinpath(f"{name}.toml").read_text("utf-8"), name)
    caps = inputs.Caps(max_keys=3, max_key_parts=2, max_depth=2, max_digits=5, max_exponent_digits=1,
                       max_key_length=4)
    for text, message in [("a=1\nb=2\nc=3\nd=4\n", "has 4 keys; at most 3"),
                          ("x = 1\na.b.c = 1\n", ":2: a.b.c: a dotted key or name of 3 parts; at most 2"),
                          ("a = [[[1]]]\n", "nested too deeply (at most 2 levels)"),
                          ("a = 123456\n", "a number of 6 digits; at most 5"),
                          ("a = 1e10\n", "exponents have at most 1 digits"),
                          ("abcde = 1\n", "a key or value of 5 characters"),
                          ('s = "a.b.c.d [[[[ 1234567 e99999 abcdefgh = = ="\n', None)]:
        if message is None:
            inputs.prescan(text, "t.toml", caps)  # inside a string, nothing counts
            continue
        with pytest.raises(SpecError, match=re.escape(message)):
            inputs.prescan(text, "t.toml", caps)
