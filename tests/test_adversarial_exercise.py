"""Adversarial probes of exercise sets: ``stepgrad exercise``, ``check --exercise`` and the LMS exports.

Rosters, [exercise] tables, answers files, an exercise folder's index.json and
key.json, and every name in them come from students (or pass through their
hands).  Each probe runs the real CLI through tests/adversarial.py's harness
and asserts its promises: within 20 s and 2 GB, a refusal is one line and exit
2, nothing outside the intended outputs is created or changed, no temporary
file is left.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .adversarial import assert_held, run

SEED = "98765432109"
#: The post's network with its own exercise table appended by each probe.
BASE = """title = "probe"
[[layers]]
neurons = ["i1", "i2"]
[[layers]]
neurons = ["h1", "h2"]
activation = "sigmoid"
[[layers]]
neurons = ["o1", "o2"]
activation = "sigmoid"
[parameters]
w1 = 0.15
w2 = 0.2
w3 = 0.25
w4 = 0.3
w5 = 0.4
w6 = 0.45
w7 = 0.5
w8 = 0.55
b_h1 = 0.35
b_h2 = 0.35
b_o1 = 0.6
b_o2 = 0.6
[[samples]]
inputs = [0.05, 0.1]
targets = [0.01, 0.99]
[training]
learning_rate = 0.5
"""


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "w"
    path.mkdir()
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def outputs_of(folder: Path, name: str) -> set[str]:
    """Every path under *folder*/*name* after a run (the files it may create)."""
    return {name} | {str(p.relative_to(folder)) for p in (folder / name).rglob("*")}


def filled(variant: Path, digits: int = 6, key_from: Path | None = None) -> str:
    """*variant*'s answers template with every asked value filled in from a key (its own by default)."""
    key = json.loads(((key_from or variant) / "key.json").read_text())
    values = {a["name"]: a["value"] for a in key["answers"]}

    def value(m: re.Match) -> str:
        return f'"{m.group(1)}"{m.group(2)}= {round(float(values[m.group(1)]), digits)}'
    return re.sub(r'^"([^"]+)"(\s*)= ""', value, (variant / "answers.toml").read_text(), flags=re.M)


def make_set(folder: Path, name: str, *args: str, spec: str = "mazur") -> Path:
    r = run(["exercise", spec, "-o", name, "--no-pdf", "--seed", SEED, *args], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, name))
    return folder / name


# -- the exercise folder as check reads it -----------------------------------------------


def test_an_index_range_with_equal_ends_is_checked(folder):
    """A set made with biases = [0, 0] (allowed by [exercise]) is read back by check --exercise."""
    (folder / "s.toml").write_text(BASE + "[exercise]\nbiases = [0, 0]\n")
    made = make_set(folder, "set", "--variants", "2", spec="./s.toml")
    assert json.loads((made / "index.json").read_text())["exercise"]["biases"] == ["0", "0"]
    (folder / "a.toml").write_text(filled(made / "variant-02"))
    r = run(["check", "./s.toml", "--exercise", "set", "a.toml", "-o", "fb"], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, "fb"))
    summary = json.loads((folder / "fb" / "class-summary.json").read_text())
    student = summary["students"][0]
    assert (student["variant"], student["score"]) == (2, student["total"]) and student["total"] > 20


@pytest.mark.parametrize("change", [
    lambda d: d["exercise"].update(weights=["1/0", "1"]),
    lambda d: d["exercise"].update(weights=["1", "0/0"]),
    lambda d: d["exercise"].update(biases=["0.5", "0.1"]),
])
def test_a_tampered_index_range_is_one_line(folder, change):
    """An index.json range over 0, or upside down, is refused in one line naming the field."""
    made = make_set(folder, "set", "--variants", "2")
    index = json.loads((made / "index.json").read_text())
    change(index)
    (made / "index.json").write_text(json.dumps(index))
    (folder / "a.toml").write_text(filled(made / "variant-01"))
    r = run(["check", "mazur", "--exercise", "set", "a.toml", "-o", "fb"], folder)
    assert_held(r, message='"exercise".')


# -- rosters ---------------------------------------------------------------------------------

#: Hostile roster files (bytes) and what the one-line refusal says.
ROSTERS = {
    "case.csv": (b"id\ns17\nS17\n", "roster.csv:3: student ID 'S17' is already on line 2 as 's17'"),
    "same.csv": (b"id\ns1\ns2\ns1\n", "roster.csv:4: student ID 's1' is already on line 2"),
    "multiline.csv": (b'id,name\ns1,"Ann\nBo\nCy"\ns2,x\n"s1 ",y\n', "roster.csv:6: student ID 's1' is already on line 2"),
    "nul.csv": (b"id\ns1\x00\n", "roster.csv:2: student ID 's1\\x00'"),
    "bom-in-id.csv": (b"id\n\xef\xbb\xbfs1\n", "roster.csv:2: student ID '\\ufeffs1'"),
    "formula.csv": (b"id\n=cmd|' /C calc'!A0\n", "roster.csv:2: student ID \"=cmd|' /C calc'"),
    "newline.csv": (b'id\n"s1\ns2"\n', "roster.csv:2: student ID 's1\\ns2'"),
    "ansi.csv": (b"id\ns1\x1b[2J\n", "roster.csv:2: student ID 's1\\x1b[2J'"),
    "rtl.csv": (b"id\n\xe2\x80\xaes1\n", "roster.csv:2: student ID '\\u202es1'"),
    "dots.csv": (b"id\n../../etc\n", "roster.csv:2: student ID '../../etc'"),
    "utf16.csv": ("id\ns1\n".encode("utf-16"), "UTF-16"),
    "huge.csv": (b"id\n" + b"".join(b"s%d\n" % k for k in range(100_000)), "at most 256 KiB"),
    "many.csv": (b"id\n" + b"".join(b"s%d\n" % k for k in range(20_000)), "roster.csv:502: more than 500 students"),
}


@pytest.mark.parametrize("name", sorted(ROSTERS))
def test_hostile_rosters_are_one_line(folder, name):
    """Each hostile roster is refused in one line naming its line, before any file is written."""
    data, message = ROSTERS[name]
    (folder / "roster.csv").write_bytes(data)
    r = run(["exercise", "mazur", "--roster", "roster.csv", "-o", "set", "--no-pdf"], folder)
    assert_held(r, message=message)
    assert not (folder / "set").exists()


def test_a_byte_order_mark_before_the_header_is_dropped(folder):
    """A roster saved by a spreadsheet with a BOM reads as one without: the 'id' column is found."""
    (folder / "roster.csv").write_bytes(b"\xef\xbb\xbfname,id\nAnn,s1\nBo,s2\n")
    made = make_set(folder, "set", "--roster", "roster.csv")
    index = json.loads((made / "index.json").read_text())
    assert [v["student"] for v in index["variants"]] == ["s1", "s2"]


# -- the output folder -----------------------------------------------------------------------


@pytest.mark.parametrize("force", [False, True])
def test_a_variant_folder_that_is_a_link_is_refused(folder, force):
    """A variant folder that links elsewhere is refused, --force or not: nothing is written through it."""
    (folder / "elsewhere").mkdir()
    (folder / "set").mkdir()
    (folder / "set" / "variant-02").symlink_to("../elsewhere")
    r = run(["exercise", "mazur", "--variants", "3", "-o", "set", "--no-pdf", "--seed", SEED]
            + (["--force"] if force else []), folder)
    assert_held(r, message="variant-02: is a symbolic link")
    assert not any((folder / "elsewhere").iterdir())


def test_a_file_where_a_variant_folder_goes_is_refused(folder):
    """A user's file named like a variant folder is refused before any work, and kept."""
    (folder / "set").mkdir()
    (folder / "set" / "variant-02").write_text("mine\n")
    r = run(["exercise", "mazur", "--variants", "3", "-o", "set", "--no-pdf", "--force"], folder)
    assert_held(r, message="variant-02")
    assert (folder / "set" / "variant-02").read_text() == "mine\n"


# -- budgets -----------------------------------------------------------------------------------


def wide_spec(inputs: int = 5, hidden: int = 8, outputs: int = 4) -> str:
    """A sigmoid inputs-hidden-outputs network with every value given (84 weights and biases by default)."""
    names = lambda p, n: ", ".join(f'"{p}{k}"' for k in range(1, n + 1))  # noqa: E731 - a one-line helper
    weights = inputs * hidden + hidden * outputs
    lines = ['title = "wide"', "[[layers]]", f"neurons = [{names('i', inputs)}]", "[[layers]]",
             f"neurons = [{names('h', hidden)}]", 'activation = "sigmoid"', "[[layers]]",
             f"neurons = [{names('o', outputs)}]", 'activation = "sigmoid"', "[parameters]"]
    lines += [f"w{k} = {0.05 + (k * 37 % 60) / 100:.2f}" for k in range(1, weights + 1)]
    lines += [f"b_h{k} = 0.35" for k in range(1, hidden + 1)] + [f"b_o{k} = 0.6" for k in range(1, outputs + 1)]
    lines += ["[[samples]]", f"inputs = [{', '.join(str(0.05 * k) for k in range(1, inputs + 1))}]",
              f"targets = [{', '.join(str(0.2 * k) for k in range(1, outputs + 1))}]", "[training]",
              "learning_rate = 0.5"]
    return "\n".join(lines) + "\n"


def test_a_set_too_long_to_draw_is_refused_up_front(folder):
    """500 variants of an 84-parameter network (minutes of drawing) are refused before any is drawn."""
    (folder / "wide.toml").write_text(wide_spec())
    r = run(["exercise", "./wide.toml", "--variants", "500", "-o", "set", "--no-pdf"], folder)
    assert_held(r, message="make at most")
    assert r.seconds < 10, r.seconds


@pytest.mark.skipif(not shutil.which("latexmk"), reason="no TeX engine")
def test_pdfs_beyond_the_tex_budget_are_refused_before_drawing(folder):
    """MAX_VARIANTS variants with PDFs: refused from the first variant's LaTeX, not after drawing all 500."""
    r = run(["exercise", "mazur", "--variants", "500", "-o", "set", "--seed", SEED], folder)
    assert_held(r, message="s of TeX (the budget is")
    assert r.seconds < 10, r.seconds


def test_ranges_where_good_variants_are_rare_stop_within_the_set_budget(monkeypatch):
    """The set's draws are capped in all (not only per variant), so rare good variants end in a bounded refusal."""
    from stepgrad.symbolic import exercise as core
    from stepgrad.symbolic.spec import SpecError, load

    spec = load("mazur")
    calls = []
    monkeypatch.setattr(core, "set_draws", lambda s: 12)
    real = core.variant_of
    monkeypatch.setattr(core, "variant_of", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.raises(SpecError, match="good variants are rare with these ranges: 12 draws made only"):
        core.make_variants(spec, core.exercise_of(spec), count=30, seed=int(SEED))
    assert len(calls) == 12


def test_the_draw_cap_leaves_room_for_every_set_the_estimate_allows(tmp_path):
    """The draw cap leaves any set the up-front estimate allows room for twice the usual draws a variant
    (the post's exercise takes about 3, an 84-parameter network about 5)."""
    from stepgrad.symbolic import exercise as core, limits
    from stepgrad.symbolic.spec import SpecError, load

    (tmp_path / "wide.toml").write_text(wide_spec())
    for spec in (load("mazur"), load(str(tmp_path / "wide.toml"))):
        most = max(n for n in range(1, core.MAX_VARIANTS + 1)
                   if not isinstance(_refusal(limits.check_set_size, spec, n), SpecError))
        assert core.set_draws(spec) >= 2 * limits.DRAWS_PER_VARIANT * most, (spec.name, most)
    assert most < core.MAX_VARIANTS  # the wide network is limited by the estimate


def _refusal(function, *args):
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - the caller looks at what was raised
        return exc


def test_tex_runs_stay_within_the_limit_when_items_are_joined_by_page_breaks():
    """A run's estimate counts the page break each later item adds: no run is cut over pdf.MAX_TEX_S."""
    from stepgrad.codegen import exercise, pdf

    item = "y\n" * 4  # small items, so that the page breaks between them add a second of TeX to a run
    render = lambda some: "\\begin{document}\n" + "\\clearpage\n".join(some) + "\\end{document}\n"  # noqa: E731
    groups = exercise.chunks([item] * 8000, render)
    assert len(groups) > 1 and groups[0][0] == 0 and groups[-1][1] == 8000
    assert all(pdf.tex_seconds(tex) <= pdf.MAX_TEX_S for _, _, tex in groups)
    assert all(b == c for (_, b, _), (c, _, _) in zip(groups, groups[1:]))


# -- class checking ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def roster_set(tmp_path_factory) -> Path:
    """A set of three variants made for the roster s1, s2, s3."""
    folder = tmp_path_factory.mktemp("class")
    (folder / "roster.csv").write_text("id\ns1\ns2\ns3\n")
    make_set(folder, "set", "--roster", "roster.csv")
    return folder


def class_folder(roster_set: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "w"
    shutil.copytree(roster_set, folder)
    return folder


def test_two_files_claiming_one_student_are_named_to_each_other(roster_set, tmp_path):
    """A copy of s2's whole file handed in under another name claims s2 by its header: both files say so."""
    folder = class_folder(roster_set, tmp_path)
    (folder / "s2.toml").write_text(filled(folder / "set" / "variant-02"))
    (folder / "answers (3).toml").write_text((folder / "s2.toml").read_text())
    (folder / "s1.toml").write_text(filled(folder / "set" / "variant-01"))
    r = run(["check", "mazur", "--exercise", "set", "s1.toml", "s2.toml", "answers (3).toml", "-o", "fb"], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, "fb"))
    summary = {s["file"]: s for s in json.loads((folder / "fb" / "class-summary.json").read_text())["students"]}
    assert summary["s2.toml"]["same_student_as"] == ["answers (3).toml"]
    assert summary["answers (3).toml"]["same_student_as"] == ["s2.toml"]
    assert summary["s1.toml"]["same_student_as"] == []
    assert summary["answers (3).toml"]["variant"] == 2 and summary["answers (3).toml"]["score"] > 20
    assert "2 submissions are marked as s2's" in (folder / "fb" / "s2-feedback.md").read_text()
    assert "Several submissions for one student" in (folder / "fb" / "class-mistakes.md").read_text()


# -- interrupted runs and determinism ------------------------------------------------------------


def _tex_after(seconds: float):
    """A predicate: TeX's private folder (stepgrad-tex-*) has existed for *seconds*."""
    import time
    seen: list[float] = []

    def predicate(tmp: Path, cwd: Path) -> bool:
        if not seen and any(p.name.startswith("stepgrad-tex-") for p in tmp.iterdir()):
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] >= seconds
    return predicate


@pytest.mark.skipif(not shutil.which("latexmk"), reason="no TeX engine")
@pytest.mark.parametrize("delay", [0.0, 1.5])
def test_sigterm_during_the_tex_runs_writes_nothing(folder, delay):
    """SIGTERM while the set's PDFs compile: exit 143, no file of the set written, no TeX folder left."""
    import signal
    r = run(["exercise", "mazur", "--variants", "3", "-o", "set", "--seed", SEED], folder,
            signal_when=(_tex_after(delay), signal.SIGTERM))
    assert_held(r, code=143)
    assert "terminated" in r.err.splitlines()[-1]
    assert not (folder / "set").exists()


def test_a_set_is_the_same_bytes_whatever_the_folder_time_zone_and_umask(tmp_path):
    """Every file, the LMS zips and PDFs included, is the same bytes from another folder, TZ, hash seed, umask."""
    sets = []
    for k, env in enumerate(({}, {"TZ": "Asia/Kathmandu", "PYTHONHASHSEED": "123"})):
        folder = tmp_path / f"w{k}"
        folder.mkdir()
        name = f"set{k}"
        r = run(["exercise", "mazur", "--variants", "2", "-o", name, "--seed", SEED], folder, env=env,
                umask=0o077 if k else None)
        assert_held(r, code=0, outputs=outputs_of(folder, name))
        sets.append(tree(folder / name))
    assert sets[0] == sets[1]
    assert {"moodle-quiz.xml", "canvas-qti12.zip", "qti21.zip"} <= set(sets[0])


# -- as a teacher uses it ----------------------------------------------------------------------


def test_a_forward_only_set_agrees_across_sheet_key_moodle_and_check(folder):
    """A spec with no targets asking the forward pass: every file asks the same 8 values, and they are right."""
    import html
    import math

    spec = BASE.replace("targets = [0.01, 0.99]\n", "") + '[exercise]\nask = ["forward"]\n'
    (folder / "f.toml").write_text(spec)
    made = make_set(folder, "set", "--variants", "2", spec="./f.toml")
    moodle = html.unescape((made / "moodle-quiz.xml").read_text())
    cloze = [re.findall(r"\{1:NUMERICAL:=([-0-9.]+):([0-9.]+)\}", q)
             for q in moodle.split('<question type="cloze">')[1:]]
    assert len(cloze) == 2
    for k in (1, 2):
        variant = made / f"variant-0{k}"
        key = json.loads((variant / "key.json").read_text())
        names = [a["name"] for a in key["answers"]]
        assert names == ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2"]
        assert re.findall(r"^\d+\. \$.*?\$ \(`(.+?)`\)", (variant / "question.md").read_text(), re.M) == names
        sheet = (variant / "question.md").read_text()
        assert "target" not in sheet.lower() and "update" not in sheet and "backpropagation" not in sheet
        assert [(float(v), t) for v, t in cloze[k - 1]] == [(float(a["value"]), "0.00005") for a in key["answers"]]
        # the forward pass again, from the given values alone
        g = {e["name"]: float(e["value"]) for e in key["given"]}
        assert "t_o1" not in g and "eta" not in g
        sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
        h = [sig(g[f"w{2 * j + 1}"] * g["i1"] + g[f"w{2 * j + 2}"] * g["i2"] + g[f"b_h{j + 1}"]) for j in (0, 1)]
        o = [sig(g[f"w{2 * j + 5}"] * h[0] + g[f"w{2 * j + 6}"] * h[1] + g[f"b_o{j + 1}"]) for j in (0, 1)]
        value = {a["name"]: float(a["value"]) for a in key["answers"]}
        assert [value["out_h1"], value["out_h2"], value["out_o1"], value["out_o2"]] == pytest.approx(h + o, abs=1e-12)
        (folder / f"s{k}.toml").write_text(filled(variant, digits=4))
    r = run(["check", "./f.toml", "--exercise", "set", "s1.toml", "s2.toml", "-o", "fb"], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, "fb"))
    students = json.loads((folder / "fb" / "class-summary.json").read_text())["students"]
    assert [(s["variant"], s["score"], s["total"]) for s in students] == [(1, 8, 8), (2, 8, 8)]


# -- hostile exercise tables -------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--ask", "--update", "--given"])
def test_ten_thousand_names_on_the_command_line_are_capped_as_in_a_spec(folder, option):
    """--ask/--update/--given with 10^4 names are refused as a spec's [exercise] lists are, not written to the index."""
    names = ",".join(["w1" if option == "--update" else "net_h1"] * 10_000)
    r = run(["exercise", "mazur", "--variants", "2", "-o", "set", "--no-pdf", option, names], folder)
    assert_held(r, message=f"exercise.{option[2:]}: at most 500 names, not 10000")


def test_ten_thousand_names_in_a_tampered_index_are_one_line(folder):
    """An index.json whose exercise asks 10^4 names (within the reader's list cap) is refused by the same rule."""
    made = make_set(folder, "set", "--variants", "2")
    index = json.loads((made / "index.json").read_text())
    index["exercise"]["ask"] = ["net_h1"] * 10_000
    (made / "index.json").write_text(json.dumps(index))
    (folder / "a.toml").write_text(filled(made / "variant-01"))
    r = run(["check", "mazur", "--exercise", "set", "a.toml", "-o", "fb"], folder)
    assert_held(r, message="at most 500 names")


@pytest.mark.parametrize("table, message", [
    ("weights = [-1e300, 1e300]", "exercise.weights"),
    ('weights = ["nan", "inf"]', "exercise.weights"),
    ("given_decimals = 0", "exercise.given_decimals"),
    ("given_decimals = 50", "exercise.given_decimals"),
    ("answer_decimals = 50", "exercise.answer_decimals"),
    ("weights = [0, 0]", "no good variant in 200 draws"),
    ("weights = [-100000, 100000]", "no good variant in 200 draws"),
])
def test_hostile_exercise_tables_are_one_line(folder, table, message):
    """Huge, NaN-like, out-of-range values and ranges that make every draw bad: one line, within the time limit."""
    (folder / "s.toml").write_text(BASE + "[exercise]\n" + table + "\n")
    r = run(["exercise", "./s.toml", "--variants", "3", "-o", "set", "--no-pdf"], folder)
    assert_held(r, message=message)
    assert not (folder / "set").exists()


# -- copying part of another variant's answers ---------------------------------------------------


def test_a_copied_forward_pass_is_named_with_its_variant(roster_set, tmp_path):
    """s1 hands in s3's forward pass (8 of 55 numbers) with their own backward pass: the part is named as variant
    3's, although follow-through credits much of it; honest s2 is not named."""
    folder = class_folder(roster_set, tmp_path)
    own = filled(folder / "set" / "variant-01").splitlines()
    theirs = dict(line.split("=", 1) for line in filled(folder / "set" / "variant-03").splitlines()
                  if line.startswith('"'))
    forward = ("net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2")
    mixed = [f'{line.split("=", 1)[0]}={theirs[line.split("=", 1)[0]]}'
             if line.startswith('"') and line.split('"')[1] in forward else line for line in own]
    (folder / "s1.toml").write_text("\n".join(mixed) + "\n")
    (folder / "s2.toml").write_text(filled(folder / "set" / "variant-02", digits=4))
    r = run(["check", "mazur", "--exercise", "set", "s1.toml", "s2.toml", "-o", "fb"], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, "fb"))
    students = {s["file"]: s for s in json.loads((folder / "fb" / "class-summary.json").read_text())["students"]}
    assert students["s1.toml"]["copied_from"] is None
    assert students["s1.toml"]["partly_copied_from"] == {"variant": 3, "answers": 8}
    assert students["s2.toml"]["partly_copied_from"] is None
    assert "`s1` (variant 1): 8 answers are variant 3's." in (folder / "fb" / "class-mistakes.md").read_text()
    assert "8 of your answers are not your variant's numbers but variant 3's." in \
        (folder / "fb" / "s1-feedback.md").read_text()


def test_injected_mistakes_are_never_taken_for_a_partial_copy(tmp_path):
    """The simulated class of 30 (right sheets, every injected mistake): only the two copied sets name
    another variant, and none is named as partly copied."""
    from stepgrad.codegen.cli import main
    from stepgrad.symbolic import exercise as core
    from stepgrad.symbolic.spec import load

    from . import test_exercise_class as simulated

    spec = load("mazur")
    variants = core.make_variants(spec, core.exercise_of(spec), count=simulated.COUNT, seed=simulated.SEED)
    simulated.write_exercise(tmp_path / "set", spec, variants)
    plan = simulated.make_class(tmp_path / "subs", variants)
    assert main(["check", "mazur", "--exercise", str(tmp_path / "set"), str(tmp_path / "subs"),
                 "-o", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "class-summary.json").read_text())
    assert [s["student"] for s in summary["students"] if s["partly_copied_from"]] == []
    assert sorted(s["student"] for s in summary["students"] if s["copied_from"]) == \
        sorted(k for k, v in plan.items() if v == "copied")


# -- a tampered exercise folder and forged headers ---------------------------------------------------

INDEX_TAMPERING = {
    "huge seed": (lambda d: d.update(seed=10 ** 30), '"seed": expected a whole number'),
    "count true": (lambda d: d.update(count=True), '"count": expected a whole number'),
    "folder outside": (lambda d: d["variants"][0].update(folder="../../etc"), "expected a folder name like variant-01"),
    "student rtl": (lambda d: d["variants"][0].update(student="s1\u202e"), "printable characters"),
    "nested ask": (lambda d: d["exercise"].update(ask=[[["x"]]]), "printable characters"),
    "float decimals": (lambda d: d["exercise"].update(given_decimals=1e308), "expected a whole number"),
    "unknown option": (lambda d: d["exercise"].update(__class__=1), "not an exercise option"),
    "empty variants": (lambda d: d.update(variants=[{}, {}]), '"variants"[0].variant'),
}


@pytest.mark.parametrize("name", sorted(INDEX_TAMPERING))
def test_a_tampered_index_is_one_line(folder, name):
    """index.json edited by hand (huge numbers, wrong types, paths, control characters): one line, nothing marked."""
    change, message = INDEX_TAMPERING[name]
    made = make_set(folder, "set", "--variants", "2")
    index = json.loads((made / "index.json").read_text())
    change(index)
    (made / "index.json").write_text(json.dumps(index))
    (folder / "a.toml").write_text(filled(made / "variant-01"))
    r = run(["check", "mazur", "--exercise", "set", "a.toml", "-o", "fb"], folder)
    assert_held(r, message=message)


@pytest.mark.parametrize("target, text, message", [
    ("index.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("variant-01/key.json", '{"answers": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("variant-01/key.json", '{"answers": 1' + "0" * 5000 + "}", "not valid JSON"),
    ("variant-02/key.json", None, "answers: net_h1 is inf in the file"),
    ("variant-02/key.json", "esc", "is \\x1b[2J in the file"),
])
def test_a_tampered_key_is_one_line(folder, target, text, message):
    """Deeply nested, huge or wrong key and index files: one line, control characters shown escaped."""
    made = make_set(folder, "set", "--variants", "2")
    (folder / "a.toml").write_text(filled(made / "variant-01"))
    if text is None or text == "esc":
        key = json.loads((made / target).read_text())
        key["answers"][0]["value"] = float("inf") if text is None else "\x1b[2J"
        text = json.dumps(key)
    (made / target).write_text(text)
    r = run(["check", "mazur", "--exercise", "set", "a.toml", "-o", "fb"], folder)
    assert_held(r, message=message)


def test_forged_and_doubled_headers_are_rows_not_marks(roster_set, tmp_path):
    """Headers naming variant 0 or 10^9, two different headers, or another set: each file is a row saying why;
    a header repeated word for word is one header; a header deep in pasted working is not read."""
    folder = class_folder(roster_set, tmp_path)
    right = filled(folder / "set" / "variant-01", digits=9)
    line = next(x for x in right.splitlines() if "stepgrad exercise variant" in x)
    body = right.replace(line + "\n", "")
    other = line.replace("variant 1 of 3", "variant 2 of 3")
    files = {
        "v0.toml": line.replace("variant 1 of 3", "variant 0 of 3") + "\n" + body,
        "vbig.toml": line.replace("variant 1 of 3", "variant 1000000000 of 3") + "\n" + body,
        "two.toml": line + "\n" + other + "\n" + body,
        "again.toml": line + "\n" + line + "\n" + body,
        "set.toml": re.sub(r"set [0-9a-f]{8}", "set 00000000", line) + "\n" + body,
        "deep.md": "# My working\n" + "\n" * 60 + other + "\n" + "net_h1 = 0.3\n",
    }
    for name, text in files.items():
        (folder / name.replace(".toml", "-x.toml") if name != "deep.md" else folder / name).write_text(text)
    names = [n.replace(".toml", "-x.toml") if n != "deep.md" else n for n in files]
    r = run(["check", "mazur", "--exercise", "set", *names, "-o", "fb"], folder)
    assert_held(r, code=1, outputs=outputs_of(folder, "fb"))  # 1: some submissions could not be read
    rows = {s["file"]: s for s in json.loads((folder / "fb" / "class-summary.json").read_text())["students"]}
    assert "names variant 0, and there are 3" in rows["v0-x.toml"]["error"]
    assert "has no line" in rows["vbig-x.toml"]["error"]
    assert "more than one exercise variant" in rows["two-x.toml"]["error"]
    assert "not this exercise set" in rows["set-x.toml"]["error"]
    assert "has no line" in rows["deep.md"]["error"]
    again = rows["again-x.toml"]
    assert (again["variant"], again["score"], again["error"]) == (1, again["total"], "")


def test_variant_folders_of_an_earlier_larger_set_are_refused(folder):
    """A smaller set written over a larger one (--force) would leave the old variant-03 and its key beside the
    new index as if current: refused, naming it; the same set again is fine."""
    make_set(folder, "set", "--variants", "3")
    before = tree(folder / "set")
    r = run(["exercise", "mazur", "--variants", "2", "-o", "set", "--no-pdf", "--seed", SEED, "--force"], folder)
    assert_held(r, message="set/variant-03: is from another exercise set")
    assert tree(folder / "set") == before
    r = run(["exercise", "mazur", "--variants", "3", "-o", "set", "--no-pdf", "--seed", SEED, "--force"], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, "set"))
    assert tree(folder / "set") == before


def test_a_file_named_for_another_student_is_marked_as_theirs_and_says_so(roster_set, tmp_path):
    """s1's own answers handed in as s2.toml: the roster (by file name) gives variant 2, the feedback says the
    header named variant 1, and the numbers are named as variant 1's: no full marks for the wrong student."""
    folder = class_folder(roster_set, tmp_path)
    (folder / "s2.toml").write_text(filled(folder / "set" / "variant-01", digits=9))
    r = run(["check", "mazur", "--exercise", "set", "s2.toml", "-o", "fb"], folder)
    assert_held(r, code=0, outputs=outputs_of(folder, "fb"))
    row = json.loads((folder / "fb" / "class-summary.json").read_text())["students"][0]
    assert (row["variant"], row["copied_from"]) == (2, 1) and row["score"] < row["total"]
    feedback = (folder / "fb" / "s2-feedback.md").read_text()
    assert "Your answers file says variant 1; the roster gives s2 variant 2" in feedback
