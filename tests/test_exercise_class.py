"""Marking a class that was set an exercise: each student against their own variant, every injected
mistake named for the right student, and the copied answer sets flagged as the variant they come from.

Each student's answers are computed here by the independent forward and backward pass of
tests/check_support.py (mpmath, written from the math) on the student's own variant's network, with
a mistake injected as its knobs (:class:`Slip`); stepgrad's key and derivation are not used to make them.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import mpmath
import pytest

from stepgrad.codegen import cli, marking, variants_marking
from stepgrad.symbolic import exercise as ex
from stepgrad.symbolic.check import Options
from stepgrad.symbolic.spec import SpecError, load

from .check_support import Slip, compute, written

SEED = 7
COUNT = 30
#: Students per injected mistake, the mistake as the knobs of the independent computation.
MISTAKES = {
    "update-sign": (3, Slip(update_sign=-1)),
    "sign-error": (3, Slip(dEdout_sign=-1)),
    "missing-activation-derivative": (3, Slip(act_derivative={2: "one"})),
    "missing-half": (3, Slip(half="d")),
    "eta-one": (3, Slip(eta="1")),
    "updated-weights-used": (3, Slip(hidden_updated=True)),
    "net-for-out": (2, Slip(skip_activation={"h1"})),
    "wrong-target": (2, Slip(targets={"o1": "o2"})),
}
RIGHT = 6
#: Student -> the variant whose right answers they hand in (not their own).
COPIES = {"s29": 12, "s30": 3}


def header(variant: int, student: str | None = None) -> str:
    """The header line the answers template of a variant starts with."""
    return f"# stepgrad exercise variant {variant} of {COUNT}, set {ex.set_tag(SEED)}" + (f", student {student}" if student else "")


def independent(spec, slip: Slip | None = None) -> dict:
    """Every quantity a key asks, by the independent pass, with the chain rule's single factors: dnet/dw is
    the source's output, dnet_o/dout_h the weight used, dE_o/dout_h the output's delta times it."""
    slip = slip or Slip()
    values = compute(spec, slip)
    given = {k: mpmath.mpf(x.p) / x.q for k, x in spec.samples[0].inputs}
    params = {k: mpmath.mpf(x.p) / x.q for k, x in spec.initial}
    eta = mpmath.mpf(str(slip.eta)) if slip.eta is not None else \
        mpmath.mpf(spec.training.learning_rate.p) / spec.training.learning_rate.q
    outputs = set(spec.layers[-1].neurons)
    for w in spec.weights:
        out_src = values.get(f"out_{w.src}", given.get(w.src))
        values[f"dnet_{w.dst}/d{w.name}"] = out_src
        if w.dst in outputs:
            weight = params[w.name] - (eta * values[f"delta_{w.dst}"] * out_src if slip.hidden_updated else 0)
            values[f"dnet_{w.dst}/dout_{w.src}"] = weight
            values[f"dE_{w.dst}/dout_{w.src}"] = values[f"delta_{w.dst}"] * weight
    return values


def answers_text(variant, slip: Slip | None, head: str) -> str:
    """A student's answers file: every quantity the variant's key asks, worked out under *slip*."""
    values = independent(variant.spec, slip)
    missing = [e.name for e in variant.key if e.name not in values]
    assert not missing, f"the independent computation lacks {missing}"
    return head + "\n" + "".join(f'"{e.name}" = {written(values[e.name], 6)}\n' for e in variant.key)


def write_exercise(folder: Path, spec, variants) -> None:
    """The exercise folder as the contract fixes it: index.json, and each variant's key.json."""
    folder.mkdir(parents=True)
    index = {"format": "stepgrad exercise index", "version": 1, "title": spec.title, "spec": spec.name,
             "seed": SEED, "count": len(variants), "exercise": variants[0].exercise.summary(),
             "variants": [{"variant": v.number, "student": v.student, "folder": f"variant-{v.number:02d}"}
                          for v in variants]}
    (folder / "index.json").write_text(json.dumps(index, indent=2))
    for v in variants:
        (folder / f"variant-{v.number:02d}").mkdir()
        (folder / f"variant-{v.number:02d}" / "key.json").write_text(json.dumps(ex.key_document(v), indent=2))


@pytest.fixture(scope="module")
def post():
    """The post's spec and its exercise's 30 variants (seed 7)."""
    spec = load("mazur")
    return spec, ex.make_variants(spec, ex.exercise_of(spec), count=COUNT, seed=SEED)


@pytest.fixture(scope="module")
def folder(post, tmp_path_factory) -> Path:
    """The exercise folder of the 30 variants."""
    spec, variants = post
    where = tmp_path_factory.mktemp("exercise") / "set"
    write_exercise(where, spec, variants)
    return where


def make_class(subs: Path, variants) -> dict[str, str]:
    """30 students, student k with variant k: right sheets, injected mistakes and two copied sets."""
    subs.mkdir()
    plan = [("right", None)] * RIGHT + [(code, slip) for code, (n, slip) in MISTAKES.items() for _ in range(n)]
    plan += [("copied", None)] * len(COPIES)
    assert len(plan) == COUNT
    out = {}
    for k, (what, slip) in enumerate(plan, start=1):
        student = f"s{k:02d}"
        source = variants[COPIES[student] - 1] if student in COPIES else variants[k - 1]
        (subs / f"{student}.toml").write_text(answers_text(source, slip, header(k)), encoding="utf-8")
        out[student] = what
    return out


def test_keys_agree_with_the_independent_computation(post):
    """Every variant's key is the independent forward and backward pass of the variant's network."""
    _, variants = post
    for v in variants:
        values = independent(v.spec)
        for e in v.key:
            assert abs(Decimal(e.value) - Decimal(str(values[e.name]))) <= Decimal("1e-12"), (v.number, e.name)


def test_a_class_of_thirty_variants(post, folder, tmp_path, capsys):
    """Each injected mistake is named for the student who made it, the right sheets score full marks, and
    exactly the two copied answer sets are flagged with the variant they come from."""
    _, variants = post
    plan = make_class(tmp_path / "subs", variants)
    out = tmp_path / "out"
    code = cli.main(["check", "mazur", "--exercise", str(folder), str(tmp_path / "subs"), "-o", str(out),
                     "--format", "json"])
    assert code == 0
    err = capsys.readouterr().err
    assert "stepgrad: s29.toml (variant 29): these numbers are variant 12's" in err
    assert err.count("these numbers are variant") == len(COPIES)
    rows = {r["student"]: r for r in csv.DictReader((out / marking.SUMMARY_CSV).open(encoding="utf-8"))}
    assert sorted(rows) == sorted(plan)
    for student, what in plan.items():
        row = rows[student]
        assert row["variant"] == str(int(student[1:])), student
        assert row["error"] == "", student
        if what == "right":
            assert row["codes"] == "" and row["score"] == row["total"], (student, row)
        elif what == "copied":
            assert row["copied_from"] == str(COPIES[student]), (student, row)
        else:
            assert what in row["codes"].split(), (student, what, row["codes"])
        if what != "copied":
            assert row["copied_from"] == "", (student, row)
    summary = json.loads((out / variants_marking.SUMMARY_JSON).read_text(encoding="utf-8"))
    assert sorted((c["student"], c["copied_from"]) for c in summary["copied"]) == sorted(COPIES.items())
    # the same mistake on different variants gives different numbers: nobody shares wrong answers
    assert all(s["shares_wrong_answers_with"] == [] for s in summary["students"])
    counts = {m["code"]: m["students"] for m in summary["mistakes"]}
    for code_, (n, _) in MISTAKES.items():
        assert counts.get(code_, 0) >= n, code_
    table = (out / marking.MISTAKES_MD).read_text(encoding="utf-8")
    for student, other in COPIES.items():
        assert f"`{student}` (variant {int(student[1:])}): these numbers are variant {other}'s." in table
    feedback = json.loads((out / "s29-feedback.json").read_text(encoding="utf-8"))
    assert feedback["exercise"]["variant"] == 29 and feedback["exercise"]["copied_from"] == 12
    assert any("variant 12's" in n for n in feedback["exercise"]["notes"])


# -- finding each submission's variant -------------------------------------------------------

ROSTER = ("ann", "bob", "cy", "dee")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Four variants drawn for a roster of four students, and their exercise folder."""
    spec = load("mazur")
    variants = ex.make_variants(spec, ex.exercise_of(spec), roster=list(ROSTER), seed=SEED)
    where = tmp_path_factory.mktemp("small") / "set"
    write_exercise(where, spec, variants)
    return spec, variants, where


def four_header(variant: int, student: str | None = None) -> str:
    return f"# stepgrad exercise variant {variant} of {len(ROSTER)}, set {ex.set_tag(SEED)}" + (
        f", student {student}" if student else "")


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().err


def test_roster_wins_over_the_header_and_says_so(small, tmp_path, capsys):
    """ann's file says variant 3 but the roster gives her variant 1: marked against 1, and told so; a file
    named otherwise finds its student by its header; a file with neither is a row saying why (exit 1)."""
    _, variants, where = small
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ann.toml").write_text(answers_text(variants[0], None, four_header(3, "ann")))
    (subs / "upload-17.toml").write_text(answers_text(variants[1], None, four_header(2, "bob")))
    (subs / "stranger.toml").write_text(answers_text(variants[2], None, "# my answers"))
    (subs / "other-set.toml").write_text(answers_text(variants[2], None, header(3)))  # 30 variants, not 4
    code, err = run(["check", "mazur", "--exercise", str(where), str(subs), "--format", "md"], capsys)
    assert code == 1
    rows = {r["student"]: r for r in csv.DictReader((subs / marking.SUMMARY_CSV).open(encoding="utf-8"))}
    assert rows["ann"]["variant"] == "1" and rows["ann"]["score"] == rows["ann"]["total"] != ""
    assert rows["upload-17"]["variant"] == "2" and rows["upload-17"]["codes"] == ""
    assert rows["stranger"]["variant"] == "" and "exercise variant is unknown" in rows["stranger"]["error"]
    assert f"not this exercise set (4 variants, set {ex.set_tag(7)})" in rows["other-set"]["error"]
    sheet = (subs / "ann-feedback.md").read_text(encoding="utf-8")
    assert "the roster gives ann variant 1, so your answers were marked against variant 1" in sheet
    assert not (subs / "stranger-feedback.md").exists()
    assert "not read: stranger.toml: its exercise variant is unknown" in err


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Three variants drawn by count (no roster), and their exercise folder."""
    spec = load("mazur")
    variants = ex.make_variants(spec, ex.exercise_of(spec), count=3, seed=SEED)
    where = tmp_path_factory.mktemp("plain") / "set"
    write_exercise(where, spec, variants)
    return variants, where


def test_roster_file_maps_students_to_variants(plain, tmp_path, capsys):
    """With --roster, a submission without a header finds its variant by its file name: the k-th ID has
    variant k; a roster longer than the set is refused in one line."""
    variants, folder = plain
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "zed.toml").write_text(answers_text(variants[1], None, "# no header"))
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nyan,Y\nzed,Z\n")
    code, _ = run(["check", "mazur", "--exercise", str(folder), "--roster", str(roster), str(subs / "zed.toml"),
                   "-o", str(tmp_path / "out")], capsys)
    assert code == 0
    row = next(csv.DictReader((tmp_path / "out" / marking.SUMMARY_CSV).open(encoding="utf-8")))
    assert row["variant"] == "2" and row["score"] == row["total"]
    roster.write_text("id\n" + "".join(f"p{k}\n" for k in range(4)))
    code, err = run(["check", "mazur", "--exercise", str(folder), "--roster", str(roster), str(subs / "zed.toml"),
                     "-o", str(tmp_path / "out2")], capsys)
    assert code == 2 and err.count("\n") == 1 and "4 students for 3 variants" in err
    assert not (tmp_path / "out2").exists()
    code, err = run(["check", "mazur", "--roster", str(roster), str(subs / "zed.toml")], capsys)
    assert code == 2 and "--roster goes with --exercise" in err


# -- refusing an exercise folder the spec does not make ----------------------------------------

def test_another_spec_is_refused(small, tmp_path, capsys):
    """The same network with another learning rate rebuilds other keys: exit 2, one line, nothing written."""
    _, variants, where = small
    text = (Path(__file__).resolve().parent.parent / "symbolic" / "examples" / "mazur.toml").read_text()
    assert "learning_rate = 0.5" in text
    other = tmp_path / "other.toml"
    other.write_text(text.replace("learning_rate = 0.5", "learning_rate = 0.4"))
    sub = tmp_path / "ann.toml"
    sub.write_text(answers_text(variants[0], None, four_header(1)))
    code, err = run(["check", str(other), "--exercise", str(where), str(sub)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "variant-01/key.json: is not variant 1's key as the spec 'other' makes it (seed 7): given: eta is 0.5 in the file and 0.4 from the spec" in err
    assert not (tmp_path / "ann-feedback.md").exists() and not (tmp_path / marking.SUMMARY_CSV).exists()


def _copy_set(where: Path, into: Path) -> Path:
    import shutil
    shutil.copytree(where, into)
    return into


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="something else"), "not an exercise index written by stepgrad exercise"),
    (lambda d: d.update(version=2), "version 1"),
    (lambda d: d.update(seed="7"), '"seed": expected a whole number'),
    (lambda d: d.update(seed=True), '"seed": expected a whole number'),
    (lambda d: d.update(count=5), '"variants": expected a list of 5 variants'),
    (lambda d: d["variants"][1].update(folder="../../etc"), "expected a folder name like variant-01"),
    (lambda d: d["variants"][1].update(variant=3), "expected 2 (the variants in order)"),
    (lambda d: d["variants"][1].update(student="bob\x1b[31m"), "printable"),
    (lambda d: d["exercise"].update(ask=["no_such_quantity"]), "no quantity or group named"),
    (lambda d: d["exercise"].update(rm="-rf"), "not an exercise option"),
    (lambda d: d["exercise"].update(weights=["0.1", "1e9"]), "expected [low, high] as decimal text"),
    (lambda d: d["exercise"].update(weights=["0.9", "0.1"]), "with low below high"),
    (lambda d: d.update(count=10 ** 6), '"count": expected a whole number from 1 to'),
    (lambda d: d["exercise"].update(answer_decimals=3), "tolerance: is not half a unit"),
])
def test_a_bad_index_is_one_line(small, tmp_path, capsys, change, message):
    """Every field of index.json is checked: a bad one is exit 2 with one line naming it, nothing written."""
    _, variants, where = small
    copy = _copy_set(where, tmp_path / "set")
    doc = json.loads((copy / "index.json").read_text())
    change(doc)
    (copy / "index.json").write_text(json.dumps(doc))
    sub = tmp_path / "ann.toml"
    sub.write_text(answers_text(variants[0], None, four_header(1)))
    code, err = run(["check", "mazur", "--exercise", str(copy), str(sub)], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert message in err and "\x1b" not in err
    assert not (tmp_path / marking.SUMMARY_CSV).exists()


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000, "nested too deeply"),
    ('{"format": ', "not valid JSON"),
    ("x" * (variants_marking.MAX_INDEX_BYTES + 1), "at most 1 MiB"),
])
def test_an_unreadable_index_is_one_line(small, tmp_path, capsys, text, message):
    """A broken, deeply nested or oversized index.json is refused in one line, read within its size cap."""
    _, variants, where = small
    copy = _copy_set(where, tmp_path / "set")
    (copy / "index.json").write_text(text)
    sub = tmp_path / "ann.toml"
    sub.write_text(answers_text(variants[0], None, four_header(1)))
    code, err = run(["check", "mazur", "--exercise", str(copy), str(sub)], capsys)
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_a_changed_key_is_refused(small, tmp_path, capsys):
    """A key.json whose value was edited is not the variant the spec makes: exit 2."""
    _, variants, where = small
    copy = _copy_set(where, tmp_path / "set")
    key = copy / "variant-03" / "key.json"
    doc = json.loads(key.read_text())
    doc["answers"][0]["value"] = "0.5"
    key.write_text(json.dumps(doc))
    sub = tmp_path / "ann.toml"
    sub.write_text(answers_text(variants[0], None, four_header(1)))
    code, err = run(["check", "mazur", "--exercise", str(copy), str(sub)], capsys)
    assert code == 2 and "variant-03/key.json: is not variant 3's key" in err
    assert f"answers: net_h1 is 0.5 in the file and {variants[2].key[0].value} from the spec" in err


def test_a_renamed_spec_file_sets_the_same_exercise(small, tmp_path, capsys):
    """The post's spec saved under another name (and so another spec name) rebuilds the same keys: the
    label fields of key.json are not compared, the numbers are."""
    _, variants, where = small
    text = (Path(__file__).resolve().parent.parent / "symbolic" / "examples" / "mazur.toml").read_text()
    renamed = tmp_path / "homework3.toml"
    renamed.write_text(text)
    sub = tmp_path / "ann.toml"
    sub.write_text(answers_text(variants[0], None, four_header(1)))
    code, err = run(["check", str(renamed), "--exercise", str(where), str(sub)], capsys)
    assert code == 0, err


# -- copied answers: no false alarms ----------------------------------------------------------

class _Key:
    def __init__(self, values: dict[str, str]):
        self.key = tuple(type("E", (), {"name": k, "value": v})() for k, v in values.items())


def _set(*keys: dict[str, str]) -> variants_marking.ExerciseSet:
    return variants_marking.ExerciseSet(Path("."), 0, tuple(_Key(k) for k in keys), {})


def test_quantities_equal_across_variants_do_not_count():
    """Answers matching another variant only where the two variants agree (a shared given, say) are not
    copied; two distinct matches are too few; three distinct ones, half the sheet, are."""
    shared = {f"q{k}": f"0.{k}12345" for k in range(1, 9)}
    mine = {**shared, "a": "0.111111", "b": "0.222222", "c": "0.333333"}
    theirs = {**shared, "a": "0.444444", "b": "0.555555", "c": "0.666666"}
    third = {k: "0.9" + v[2:] for k, v in mine.items()}
    s = _set(mine, theirs, third)
    opts = Options()
    as_numbers = lambda d: {k: Decimal(v) for k, v in d.items()}  # noqa: E731
    assert variants_marking.copied_from(as_numbers(mine), 1, s, opts) is None
    assert variants_marking.copied_from(as_numbers(shared), 1, s, opts) is None
    two = {**as_numbers(mine), "a": Decimal("0.444444"), "b": Decimal("0.555555")}
    assert variants_marking.copied_from(two, 1, s, opts) is None
    assert variants_marking.copied_from(as_numbers(theirs), 1, s, opts) == 2
    # three of 20 answered is too small a share
    few = {"a": Decimal("0.444444"), "b": Decimal("0.555555"), "c": Decimal("0.666666"),
           **{f"x{k}": Decimal("0.5") for k in range(17)}}
    assert variants_marking.copied_from(few, 1, s, opts) is None
    # too few digits to tell the variants apart match nothing
    assert variants_marking.copied_from({k: Decimal(v[:4]) for k, v in theirs.items()}, 1, s, opts) is None


def test_shared_wrong_answers():
    """Two students writing the same wrong numbers, digit for digit, are named to each other; right answers
    and numbers with few digits are not evidence."""
    s = _set({"a": "0.111111", "b": "0.222222", "c": "0.333333", "d": "0.444444"},
             {"a": "0.511111", "b": "0.522222", "c": "0.533333", "d": "0.544444"})
    wrong = {"a": Decimal("0.123456"), "b": Decimal("0.234567"), "c": Decimal("0.345678"), "d": Decimal("0.44")}
    right = {"a": Decimal("0.111111"), "b": Decimal("0.222222"), "c": Decimal("0.333333"), "d": Decimal("0.44")}
    found = variants_marking.shared_wrong([("x", 1, wrong), ("y", 2, wrong), ("z", 1, right), ("w", 1, right)],
                                          s, Options())
    assert found == {"x": [("y", 3)], "y": [("x", 3)]}


# -- from stepgrad exercise's own folder ------------------------------------------------------

def fill(template: str, values: dict[str, str]) -> str:
    """The answers template with each blank value replaced by *values*' (the header line kept)."""
    lines = []
    for line in template.splitlines():
        key = line.split('"')[1] if line.startswith('"') else None
        if key in values:
            line = line.replace('= ""', f"= {values[key]}", 1)
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_the_exercise_commands_own_folder(tmp_path, capsys):
    """stepgrad exercise writes a set for a roster; its answers templates, filled in, are marked against each
    student's variant: right answers score full marks, a sign error is named, a template filled with another
    variant's numbers is that variant's."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nann\nbob\ncy\n")
    where = tmp_path / "set"
    assert cli.main(["exercise", "mazur", "--roster", str(roster), "--seed", "11", "-o", str(where), "--no-pdf"]) == 0
    spec = load("mazur")
    variants = ex.make_variants(spec, ex.exercise_of(spec), roster=["ann", "bob", "cy"], seed=11)
    subs = tmp_path / "subs"
    subs.mkdir()
    for student, k, slip, source in (("ann", 0, None, 0), ("bob", 1, Slip(dEdout_sign=-1), 1), ("cy", 2, None, 0)):
        values = independent(variants[source].spec, slip)
        template = (where / f"variant-0{k + 1}" / "answers.toml").read_text(encoding="utf-8")
        assert f"# stepgrad exercise variant {k + 1} of 3, set {ex.set_tag(11)}, student {student}" in template
        answers = {e.name: written(values[e.name], 6) for e in variants[k].key}
        (subs / f"{student}.toml").write_text(fill(template, answers), encoding="utf-8")
    assert cli.main(["check", "mazur", "--exercise", str(where), str(subs), "--format", "text"]) == 0
    capsys.readouterr()
    rows = {r["student"]: r for r in csv.DictReader((subs / marking.SUMMARY_CSV).open(encoding="utf-8"))}
    assert rows["ann"]["score"] == rows["ann"]["total"] == str(len(variants[0].key))
    assert rows["ann"]["variant"] == "1" and rows["ann"]["copied_from"] == ""
    assert "sign-error" in rows["bob"]["codes"].split() and rows["bob"]["copied_from"] == ""
    assert rows["cy"]["variant"] == "3" and rows["cy"]["copied_from"] == "1"
    assert "These numbers are variant 1's" in (subs / "cy-feedback.txt").read_text(encoding="utf-8")


def test_rounded_givens_are_marked_as_the_key_computes_them(tmp_path, capsys):
    """With the forward pass handed out rounded to 2 decimals, the key's own numbers are all correct: the
    marking uses the variant's derivation from the rounded givens, not the exact one."""
    where = tmp_path / "set"
    assert cli.main(["exercise", "mazur", "--variants", "2", "--seed", "5", "--given", "forward",
                     "--given-decimals", "2", "--ask", "output_deltas,gradients", "-o", str(where), "--no-pdf"]) == 0
    subs = tmp_path / "subs"
    subs.mkdir()
    for k in (1, 2):
        key = json.loads((where / f"variant-0{k}" / "key.json").read_text(encoding="utf-8"))
        assert key["rounded_givens"]["decimals"] == 2
        template = (where / f"variant-0{k}" / "answers.toml").read_text(encoding="utf-8")
        answers = {a["name"]: str(Decimal(a["value"]).quantize(Decimal("1e-9"))) for a in key["answers"]}
        (subs / f"s{k}.toml").write_text(fill(template, answers), encoding="utf-8")
    spec = load("mazur")
    variants = ex.make_variants(spec, ex.exercise_of(spec, ask=("output_deltas", "gradients"), given=("forward",),
                                                     given_decimals=2), count=2, seed=5)
    exact = independent(variants[0].spec)
    # the rounded givens move the key away from the exact values: marking against the exact ones would fail
    assert any(abs(Decimal(a.value) - Decimal(str(exact[a.name]))) > Decimal("1e-4") for a in variants[0].key)
    assert cli.main(["check", "mazur", "--exercise", str(where), str(subs)]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader((subs / marking.SUMMARY_CSV).open(encoding="utf-8")))
    assert [(r["variant"], r["codes"], r["score"] == r["total"]) for r in rows] == [("1", "", True), ("2", "", True)]


def test_copy_scores_agree_with_every_pair_compared(post):
    """The bisection finds exactly the variants that comparing every answer with every key finds, for
    right sheets, a copied one, numbers with few digits and --rtol."""
    spec, variants = post
    s = variants_marking.ExerciseSet(Path("."), SEED, variants, {})
    sheets = [{e.name: Decimal(written(independent(v.spec)[e.name], d)) for e in v.key}
              for v in variants[:3] for d in (2, 4, 6)]
    for options in (Options(), Options(min_digits=2), Options(rtol=0.02)):
        for numbers in sheets:
            brute = tuple(sum(variants_marking.stands_for(x, key[n], options) for n, x in numbers.items())
                          for key in s.keys)
            assert variants_marking.copy_scores(numbers, s, options) == brute
    assert variants_marking.copy_scores(sheets[2], s, Options())[0] == len(variants[0].key)


@pytest.mark.parametrize("fmt", ["text", "md", "json", "pdf"])
def test_notes_are_escaped_in_every_feedback_format(tmp_path, fmt):
    """A note quoting a hostile file name reaches each feedback format escaped: no Markdown link or HTML,
    no TeX command, no terminal escape, valid JSON."""
    from stepgrad.codegen import check_report
    from stepgrad.symbolic.derive import derive

    answers = tmp_path / "a.toml"
    answers.write_text('"out_h1" = 0.593269992\n')
    text, _ = check_report.run("mazur", str(answers), fmt, derivation=derive(load("mazur")))
    note = "Variant 3 of 30: the roster's variant for <b>[x](javascript:1)\\input{/etc/passwd}$%\x1b[31m."
    out = marking.with_notes(text, fmt, (note,), {"variant": 3, "of": 30, "student": "x", "copied_from": None})
    assert "\x1b" not in out
    if fmt == "json":
        assert json.loads(out)["exercise"]["notes"] == [note]
    elif fmt == "md":
        assert "<b>" not in out and "\\[x\\](javascript" in out and out.startswith(text.rstrip("\n"))
    elif fmt == "pdf":
        assert "\\input{/etc" not in out and out.rstrip().endswith("\\end{document}")
        assert out.count("\\end{document}") == 1
    else:
        assert out.startswith(text) and "\\x1b[31m" in out


def test_the_same_wrong_sheet_handed_in_twice(small, tmp_path, capsys):
    """bob hands in ann's sheet (her sign error included) under his own header: the two are named to each
    other in their feedback and in the summary."""
    _, variants, where = small
    subs = tmp_path / "subs"
    subs.mkdir()
    sheet = answers_text(variants[0], Slip(dEdout_sign=-1), four_header(1, "ann"))
    (subs / "ann.toml").write_text(sheet)
    (subs / "bob.toml").write_text(sheet.replace(four_header(1, "ann"), four_header(2, "bob")))
    (subs / "cy.toml").write_text(answers_text(variants[2], Slip(dEdout_sign=-1), four_header(3, "cy")))
    assert cli.main(["check", "mazur", "--exercise", str(where), str(subs), "--format", "json"]) == 0
    capsys.readouterr()
    summary = {s["student"]: s for s in json.loads((subs / variants_marking.SUMMARY_JSON).read_text())["students"]}
    assert summary["ann"]["shares_wrong_answers_with"] == ["bob"]
    assert summary["bob"]["shares_wrong_answers_with"] == ["ann"]
    assert summary["cy"]["shares_wrong_answers_with"] == []
    notes = json.loads((subs / "bob-feedback.json").read_text())["exercise"]["notes"]
    assert any("of your wrong answers are, digit for digit, ann's" in n for n in notes)
    table = (subs / marking.MISTAKES_MD).read_text()
    assert "## Shared wrong answers" in table and "- `bob`: the same wrong numbers as `ann`" in table


def test_pasted_working_that_is_another_variants(small, tmp_path, capsys):
    """Pasted working (Markdown) whose values are variant 2's, handed in as ann's (variant 1), is flagged;
    the same working of her own variant is not."""
    _, variants, where = small
    subs = tmp_path / "subs"
    subs.mkdir()

    def working(v) -> str:
        values = independent(v.spec)
        return "".join(f"- {e.name} = {written(values[e.name], 6)}\n" for e in v.key)

    (subs / "ann.md").write_text(working(variants[1]))
    (subs / "bob.md").write_text(working(variants[1]))
    assert cli.main(["check", "mazur", "--exercise", str(where), str(subs), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out" / marking.SUMMARY_CSV).open())}
    assert (rows["ann"]["variant"], rows["ann"]["copied_from"]) == ("1", "2")
    assert (rows["bob"]["variant"], rows["bob"]["copied_from"]) == ("2", "")


@pytest.mark.parametrize("target", ["missing", "file", "no-index"])
def test_exercise_folder_that_is_not_one(small, tmp_path, capsys, target):
    """--exercise naming a missing folder, a file or a folder without index.json is one line, exit 2."""
    _, variants, _ = small
    sub = tmp_path / "ann.toml"
    sub.write_text(answers_text(variants[0], None, four_header(1)))
    path = tmp_path / target
    if target == "file":
        path.write_text("{}")
    elif target == "no-index":
        path.mkdir()
    code, err = run(["check", "mazur", "--exercise", str(path), str(sub)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert ("no such exercise index" if target == "no-index" else "is not a folder") in err
    assert not (tmp_path / marking.SUMMARY_CSV).exists()


def test_an_exercise_that_needs_no_targets(tmp_path, capsys):
    """A spec whose [exercise] asks the forward pass only leaves targets and learning rate out; check
    reads it as stepgrad exercise does, and the key's values are correct."""
    text = (Path(__file__).resolve().parent.parent / "symbolic" / "examples" / "mazur.toml").read_text()
    text = text[:text.index("[reference]")].replace("targets = { o1 = 0.01, o2 = 0.99 }\n", "")
    text = text[:text.index("[training]")] + '[exercise]\nask = ["forward"]\n'
    spec = tmp_path / "forward.toml"
    spec.write_text(text)
    where = tmp_path / "set"
    assert cli.main(["exercise", str(spec), "--variants", "2", "--seed", "3", "-o", str(where), "--no-pdf"]) == 0
    key = json.loads((where / "variant-02" / "key.json").read_text())
    template = (where / "variant-02" / "answers.toml").read_text()
    sub = tmp_path / "s.toml"
    sub.write_text(fill(template, {a["name"]: str(Decimal(a["value"]).quantize(Decimal("1e-9")))
                                   for a in key["answers"]}))
    assert cli.main(["check", str(spec), "--exercise", str(where), str(sub)]) == 0
    capsys.readouterr()
    row = next(csv.DictReader((tmp_path / marking.SUMMARY_CSV).open()))
    assert row["variant"] == "2" and row["codes"] == "" and row["score"] == row["total"] == str(len(key["answers"]))


def test_a_header_of_another_set_with_the_same_count_is_not_used():
    """Two sets of the same size differ in their tag: a template from the other one is not trusted."""
    from stepgrad.codegen import variants_marking as vm

    found = vm.header_of(f"# stepgrad exercise variant 2 of 30, set {ex.set_tag(SEED + 1)}\n")
    assert found.set == ex.set_tag(SEED + 1) != ex.set_tag(SEED)
    assert vm.header_of("# stepgrad exercise variant 2 of 30, seed 7\n") is None


def test_answers_to_the_decimals_the_sheet_asks_for_are_enough(tmp_path, capsys):
    """The sheet says "give it to 4 decimal places": an answer rounded so (0.0015, two significant
    digits) is correct when marking the exercise, one with fewer decimals still has too few digits,
    and outside an exercise the checker's significant-digit rule is unchanged."""
    where = tmp_path / "set"
    assert cli.main(["exercise", "mazur", "--variants", "2", "--seed", str(2 ** 40), "-o", str(where),
                     "--no-pdf"]) == 0
    spec = load("mazur")
    variant = ex.make_variants(spec, ex.exercise_of(spec), count=2, seed=2 ** 40)[0]
    decimals = variant.exercise.answer_decimals
    values = independent(variant.spec)
    answers = {e.name: f"{float(values[e.name]):.{decimals}f}" for e in variant.key}
    small = [n for n, v in answers.items() if abs(float(v)) < 0.01 and float(v) != 0]
    assert small, "the set has no answer below 0.01 to test with"
    subs = tmp_path / "subs"
    subs.mkdir()
    template = (where / "variant-01" / "answers.toml").read_text(encoding="utf-8")
    (subs / "ann.toml").write_text(fill(template, answers), encoding="utf-8")
    short = dict(answers)
    short[small[0]] = f"{float(values[small[0]]):.{decimals - 1}f}"
    (subs / "bob.toml").write_text(fill(template, short), encoding="utf-8")
    cli.main(["check", "mazur", "--exercise", str(where), str(subs), "--format", "text"])
    capsys.readouterr()
    rows = {r["student"]: r for r in csv.DictReader((subs / marking.SUMMARY_CSV).open(encoding="utf-8"))}
    assert rows["ann"]["score"] == rows["ann"]["total"] == str(len(variant.key)), rows["ann"]
    assert rows["bob"]["codes"].split() == ["too-few-digits"], rows["bob"]
    assert int(rows["bob"]["score"]) == int(rows["bob"]["total"]) - 1
    # Outside an exercise the checker's own rule stands (3 significant digits).
    assert not Options().enough(Decimal(answers[small[0]])) and Options(min_decimals=decimals).enough(
        Decimal(answers[small[0]]))
