"""Adversarial probes: resource exhaustion.

Every input is bounded before it is parsed (bytes, keys, dotted-key parts,
nesting, digits, exponents), never read from a device or a FIFO, and long
work is estimated and refused up front.  Each probe ends well within 20 s and
2 GB, with one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .adversarial import TINY, assert_held, assert_refused, run, run_in_process


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "w"
    path.mkdir()
    return path


def test_dev_zero_as_a_spec_is_not_read(folder):
    """/dev/zero given as a spec: refused as a device at once (it used to be read to 1.9 GB)."""
    r = run(["derive", "/dev/zero"], folder)
    assert_held(r, message="device")


def test_oversized_spec_is_refused_by_its_size(folder):
    """A spec over the byte cap is refused by its size, stating the cap, without being parsed."""
    (folder / "big.toml").write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    r = run(["values", "big.toml"], folder)
    assert_held(r, message="at most 4 MiB")


#: Specs that would make the TOML parser or a later step slow or huge; each with the limit it meets.
BOMBS = {
    "dotted": ("a" + ".a" * 200_000 + " = 1\n", "at most 8 are allowed"),
    "quoted dotted": ('"a"' + '."a"' * 100_000 + " = 1\n", "at most 8 are allowed"),
    "nesting": ("a = " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply (at most 16 levels)"),
    "inline nesting": ("a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n", "nested too deeply"),
    "digits": (TINY.replace("w1 = 0.15", "w1 = " + "9" * 5000), "at most 60 are allowed"),
    "float digits": (TINY.replace("w1 = 0.15", "w1 = 0." + "1" * 5000), "at most 60 are allowed"),
    "exponent": (TINY.replace("w1 = 0.15", "w1 = 1e999999999"), "exponents have at most 3 digits"),
    "negative exponent": (TINY.replace("w1 = 0.15", "w1 = 1e-999999999"), "exponents have at most 3 digits"),
    "keys": ("".join(f"k{i} = 1\n" for i in range(30_000)), "at most 20000 are allowed"),
    "long key": ("k" * 100_000 + " = 1\n", "at most 200 are allowed"),
}


#: The bombs also run through the real CLI (the rest are checked in-process: same mechanism, less time).
CLI_BOMBS = ("dotted", "nesting", "digits", "exponent", "long key")


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_spec_bombs_are_refused_before_parsing(folder, kind):
    """Each bomb is refused in one line that states the limit, quickly."""
    import time

    from stepgrad.symbolic.spec import SpecError, parse

    text, message = BOMBS[kind]
    start = time.monotonic()
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse(text, "b.toml")
    assert time.monotonic() - start < 2 and "\n" not in str(info.value) and len(str(info.value)) < 300
    if kind in CLI_BOMBS:
        (folder / "b.toml").write_text(text)
        r = run(["values", "b.toml"], folder)
        assert_held(r, message=message)
        assert r.seconds < 5, r.seconds


def test_answers_file_bombs_are_refused_before_parsing(folder):
    """An answers file of 100,000 keys (over the byte cap) or 10,000 keys, a huge number: one line each."""
    (folder / "a.toml").write_text("".join(f'"k{i}" = 1\n' for i in range(100_000)))
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, message="at most 1 MiB")
    (folder / "a.toml").write_text("".join(f'"k{i}" = 1\n' for i in range(10_000)))
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, message="5000")
    (folder / "a.toml").write_text('"net_h1" = ' + "9" * 5000 + "\n")
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, message="at most 60 are allowed")
    (folder / "a.toml").write_text('"net_h1" = 1e999999999\n')
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, message="exponent")


#: The formula bombs of the issue: each ends quickly, in a verdict or a one-line refusal.
FORMULA_BOMBS = ["10**(100*100*100*100)", "1e999999999", "exp(exp(exp(exp(100))))", "2^{2^{2^{2^{2^{10}}}}}"]


@pytest.mark.parametrize("formula", FORMULA_BOMBS)
def test_formula_bombs_end_quickly(folder, formula):
    """A formula answer that would be astronomically large ends quickly, in a verdict or one line."""
    (folder / "a.toml").write_text(f'"net_h1" = "{formula}"\n')
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, code=None)
    assert r.code in (1, 2)
    if r.code == 2:
        assert_held(r, code=2)


def test_long_training_is_refused_up_front_with_the_estimate(folder):
    """A million updates of a 280-parameter network is refused before it starts, with the estimate."""
    spec = TINY.replace('neurons = ["i1", "i2"]', "size = 8").replace('neurons = ["o1"]', "size = 8")
    spec = spec.replace('activation = "sigmoid"', 'activation = "sigmoid"\n[[layers]]\nsize = 8\nactivation = "sigmoid"')
    spec = spec[:spec.index("[parameters]")] + "[initializer]\nseed = 1\n" + spec[spec.index("[[samples]]"):]
    spec = spec.replace("inputs = [0.05, 0.1]", "inputs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]")
    spec = spec.replace("targets = [0.01]", "targets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]")
    (folder / "big.toml").write_text(spec)
    r = run(["values", "big.toml", "--steps", "1000000"], folder)
    assert_held(r, message="give --steps")
    assert "budget" in r.err and r.seconds < 5


def test_divergent_training_is_one_line(folder):
    """Training that diverges (huge learning rate, identity output) ends in one line, not a traceback."""
    spec = TINY.replace('activation = "sigmoid"', 'activation = "identity"').replace(
        "learning_rate = 0.5", "learning_rate = 1000000").replace("inputs = [0.05, 0.1]", "inputs = [1000, 1000]")
    (folder / "d.toml").write_text(spec)
    r = run(["values", "d.toml", "--steps", "200"], folder)
    assert_held(r, message="d.toml" if "d.toml" in r.err else "d")


def _wide(width: int, layers: int = 3) -> str:
    """A spec of *layers* layers of *width* neurons, drawn by the initializer."""
    ones = ", ".join(["0.1"] * width)
    return (f'title = "wide"\n' + f"[[layers]]\nsize = {width}\n"
            + f'[[layers]]\nsize = {width}\nactivation = "sigmoid"\n' * (layers - 1) + "[initializer]\nseed = 1\n"
            f"[[samples]]\ninputs = [{ones}]\ntargets = [{ones}]\n[training]\nlearning_rate = 0.1\n")


def test_huge_networks_are_refused_before_their_weights_are_built(folder):
    """A million weights: refused while reading (not after building them), for every command."""
    (folder / "big.toml").write_text(_wide(700))
    for argv in (["values", "big.toml"], ["module", "big.toml", "-o", "g.py"], ["check", "big.toml", "big.toml"]):
        r = run(argv, folder)
        assert_held(r, message="at most")
        assert r.seconds < 5, (argv, r.seconds)
    (folder / "mid.toml").write_text(_wide(150))  # 45,450 parameters: only the vectorized module is written
    r = run(["derive", "mid.toml", "--format", "md", "-o", "d.md"], folder)
    assert_held(r, message="module --form numpy")
    assert r.seconds < 5, r.seconds


def test_derivation_and_tex_work_is_estimated_before_it_starts(folder):
    """A network whose derivation, or whose PDF, would run far past its budget is refused up front."""
    from stepgrad.symbolic import limits
    from stepgrad.symbolic.spec import SpecError, parse

    wide = parse(_wide(70, 2), "w.toml")  # 70-70: 4970 parameters
    with pytest.raises(SpecError, match=r"deriving and verifying 4970 parameters would take about \d+ s"):
        limits.check_size(wide, "values")
    mid = parse(_wide(31, 2), "m.toml")  # 992 parameters
    limits.check_size(mid, "derive", summary=True)
    with pytest.raises(SpecError, match=r"as a PDF would take .*TeX \d+ s.*give --format tex or md"):
        limits.check_size(mid, "derive", summary=True, pdf=True)
    (folder / "w.toml").write_text(_wide(70, 2))
    r = run(["module", "w.toml", "--form", "scalar", "-o", "g.py"], folder)
    assert_held(r, message="the budget is")
    assert r.seconds < 5


def test_a_wide_softmax_is_estimated_by_its_width(folder):
    """A softmax of 100 outputs (300 parameters, but about a minute of derivation) is refused up front."""
    targets = ", ".join(["0.0"] * 99 + ["1.0"])
    text = ('title = "wide softmax"\nerror = "categorical_cross_entropy"\n[[layers]]\nsize = 2\n[[layers]]\n'
            'size = 100\nactivation = "softmax"\n[initializer]\nseed = 1\n[[samples]]\ninputs = [0.1, 0.2]\n'
            f"targets = [{targets}]\n[training]\nlearning_rate = 0.5\n")
    (folder / "s.toml").write_text(text)
    r = run(["values", "s.toml"], folder)
    assert_held(r, message="a softmax of 100 outputs would take")
    assert r.seconds < 5


# -- the newer commands and inputs ------------------------------------------------------------

def test_new_refuses_a_huge_shape_at_once(folder, capsys):
    """`new` with a million-wide layer or ten thousand layers: one line stating the limit, nothing written
    (in process: `new`'s real-CLI probe is in the injection family)."""
    assert_refused(run_in_process(["new", "1000000-1000000", "-o", "n.toml"], folder, capsys), "1 to 4096 neurons")
    assert_refused(run_in_process(["new", "-".join(["2"] * 10000)], folder, capsys), "too long for a network shape")
    assert list(folder.iterdir()) == []


def test_pasted_working_is_capped_and_never_read_from_a_device(folder, capsys):
    """Pasted working as /dev/zero (a link named .md) or of 32 MB: refused by kind or size, not read."""
    (folder / "z.md").symlink_to("/dev/zero")
    assert_refused(run_in_process(["check", "mazur", "z.md"], folder, capsys), "device")
    (folder / "h.txt").write_bytes(b"net_h1 = 0.3775\n" * 2_000_000)
    assert_refused(run_in_process(["check", "mazur", "h.txt"], folder, capsys), "at most 1 MiB")


def test_pasted_working_bombs_end_quickly(folder):
    """Towers, huge exponents, deep nesting and a 200,000-factor product in pasted working: judged or
    listed as not read, quickly and in bounded memory."""
    lines = ["net_h1 = 10**(100*100*100*100) = 1", "out_h1 = exp(exp(exp(exp(100)))) = 2",
             "E_total = 9^{9^{9^{9}}} = 3", "out_o1 = \\frac{1}{1+e^{-" + "9" * 5000 + "}} = 4",
             "net_o1 = " + "(" * 20000 + "1" + ")" * 20000 + " = 1", "net_o2 = " + "1*" * 100000 + "1 = 1",
             "out_o2 = 1e999999999 = 1e-999999999"]
    (folder / "w.md").write_text("\n".join(lines) + "\n")
    r = run(["check", "mazur", "w.md"], folder)
    assert_held(r, code=None)
    assert r.code in (0, 1), r.err


def test_a_class_beyond_the_cap_is_refused_before_work(folder):
    """A folder of more submissions than a class may have is refused at once, stating the limit."""
    from stepgrad.codegen.marking import MAX_SUBMISSIONS

    (folder / "class").mkdir()
    for k in range(MAX_SUBMISSIONS + 1):
        (folder / "class" / f"s{k}.toml").write_text("")
    r = run(["check", "mazur", "class"], folder)
    assert_held(r, message=f"more than {MAX_SUBMISSIONS} submissions")
    assert r.seconds < 10, r.seconds


def test_a_class_of_pdf_sheets_beyond_the_tex_budget_is_refused_before_work(folder):
    """Forty PDF feedback sheets (about 2 s of TeX each) are refused up front, saying how many fit; the
    same class as Markdown is marked."""
    from stepgrad.codegen import pdf

    (folder / "class").mkdir()
    for k in range(40):
        (folder / "class" / f"s{k}.toml").write_text('"net_h1" = 0.3775\n')
    r = run(["check", "mazur", "class", "--format", "pdf"], folder)
    assert_held(r, message="PDF feedback sheets would take" if pdf.engine_available() else "TeX")
    if pdf.engine_available():
        assert "mark at most" in r.err and r.seconds < 10, (r.err, r.seconds)


def test_a_feedback_sheet_too_long_to_typeset_is_refused_before_tex(folder):
    """An answers file of 4,900 keys as a PDF sheet (about 30 s of TeX): refused by the TeX estimate, one
    line, before TeX starts; no PDF, no stepgrad-tex-* folder."""
    from stepgrad.codegen import pdf

    (folder / "a.toml").write_text("".join(f'"k{i}" = {i}\n' for i in range(4900)))
    r = run(["check", "mazur", "a.toml", "--format", "pdf"], folder)
    assert_held(r, message="s of TeX" if pdf.engine_available() else "TeX")
    assert not (folder / "a.pdf").exists()


def test_the_tex_estimate_leaves_room_for_every_worked_example():
    """The worked example of the post and of a network near derive's limits are far inside the TeX estimate
    that refuses oversized feedback sheets (so that cap never stops a document stepgrad derives)."""
    from stepgrad.codegen import pdf
    from stepgrad.codegen.pipeline import worked_example
    from stepgrad.symbolic.spec import load, resolve

    source = worked_example(load("mazur"), resolve("mazur")[1]).tex
    assert pdf.tex_seconds(source) < pdf.MAX_TEX_S / 3
    assert pdf.tex_seconds("x" * 200_000 + "\n" * 4000) < pdf.MAX_TEX_S / 2  # 30-30-10: 0.17 MB, 3,057 lines
