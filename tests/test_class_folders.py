"""Marking a class downloaded from a learning platform: one folder per student, each holding a file of
the same name, named by its folder in every summary, feedback file and roster match."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from stepgrad.codegen import cli, marking, variants_marking

from .test_class import _post_values, gradients, written

#: A platform's folder per student (Moodle's download, with IDs the roster accepts), in roster order.
FOLDERS = ("ann.lee_1234_assignsubmission_file_", "bob.ray_5678_assignsubmission_file_",
           "cy.dee_9012_assignsubmission_file_")
#: Each folder's injected mistake, worked out by tests/test_class.py's own chain rule.
MISTAKES = {FOLDERS[0]: "right", FOLDERS[1]: "sign-error", FOLDERS[2]: "missing-activation-derivative"}
SEED = 2**32 + 7


def lms_class(root: Path) -> list[Path]:
    """Write the three students' answers.toml, each in its own folder; return them in folder order."""
    v, g = _post_values(), gradients()
    paths = []
    for folder, mistake in MISTAKES.items():
        (root / folder).mkdir(parents=True)
        path = root / folder / "answers.toml"
        path.write_text(f'"out_h1" = {written(v["oh1"])}\n"out_o1" = {written(v["oo1"])}\n'
                        f'"dE_total/dw5" = {written(g[mistake])}\n')
        paths.append(path)
    return paths


def rows_of(csv_path: Path) -> dict[str, dict]:
    """The class summary's rows by student."""
    return {r["student"]: r for r in csv.DictReader(csv_path.open(encoding="utf-8"))}


def test_names_are_stems_when_unique_else_folders():
    """A unique stem names its student; a shared stem gives way to the folder, then FOLDER/STEM,
    FOLDER/FILE, then a number, and the names never collide."""
    assert marking.student_names([Path("c/s1.toml"), Path("c/s2.md")]) == ["s1", "s2"]
    assert marking.student_names([Path("Ann Lee_1/answers.toml"), Path("Bob_2/answers.toml"), Path("x/cy.toml")]) \
        == ["Ann Lee_1", "Bob_2", "cy"]
    # one folder name twice: the stem decides; one stem in two suffixes: the file name decides
    assert marking.student_names([Path("a/x/answers.toml"), Path("b/x/answers.toml"), Path("b/x/other.toml")]) \
        == ["x/answers.toml", "x/answers.toml (2)", "other"]
    assert marking.student_names([Path("c/ann.toml"), Path("c/ann.md")]) == ["c/ann.toml", "c/ann.md"]
    # a folder named like another submission's unique stem does not take that student's name
    assert marking.student_names([Path("bob/answers.toml"), Path("cy/answers.toml"), Path("z/bob.toml")]) \
        == ["bob/answers", "cy", "bob"]
    # the same file twice, and files in the working folder (whose name is not used)
    assert marking.student_names([Path("a/s.toml"), Path("a/s.toml")]) == ["a/s.toml", "a/s.toml (2)"]
    assert marking.student_names([Path("s.toml"), Path("s.md")]) == ["s.toml", "s.md"]


@pytest.mark.parametrize("n", [2, 5, 40])
def test_names_are_unique_for_any_crowd(n):
    """However the stems and folders repeat, every submission gets its own name, deterministically."""
    paths = [Path(f"f{k % 3}/g{k % 2}/answers{k % 4}.toml") for k in range(n)]
    names = marking.student_names(paths)
    assert len(set(names)) == n and names == marking.student_names(list(paths))


def test_lms_layout_marked_beside_each_submission(tmp_path, capsys):
    """Without -o: each folder gets answers-feedback.md, and the summary (in the first folder) names each
    row by its folder, with that student's own mistake."""
    paths = lms_class(tmp_path / "subs")
    assert cli.main(["check", "mazur", *map(str, paths)]) == 0
    for p in paths:
        assert (p.parent / "answers-feedback.md").is_file()
    first = paths[0].parent
    rows = rows_of(first / marking.SUMMARY_CSV)
    assert sorted(rows) == sorted(FOLDERS)
    for folder, mistake in MISTAKES.items():
        assert rows[folder]["file"] == "answers.toml"
        assert rows[folder]["codes"] == ("" if mistake == "right" else mistake)
        assert rows[folder]["score"] == ("3" if mistake == "right" else "2")
    table = (first / marking.MISTAKES_MD).read_text(encoding="utf-8")
    assert "| `sign-error` | 1 |" in table and "| `missing-activation-derivative` | 1 |" in table
    assert str(tmp_path) not in table


def test_lms_layout_into_one_folder(tmp_path):
    """With -o: no two outputs collide; each feedback file is named by its student's folder and holds that
    student's own verdicts, the same bytes as marking beside the submission."""
    paths = lms_class(tmp_path / "subs")
    out = tmp_path / "out"
    assert cli.main(["check", "mazur", *map(str, paths), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{f}-feedback.md" for f in FOLDERS] + [marking.SUMMARY_CSV, marking.MISTAKES_MD])
    assert sorted(rows_of(out / marking.SUMMARY_CSV)) == sorted(FOLDERS)
    assert cli.main(["check", "mazur", *map(str, paths)]) == 0
    for p in paths:
        assert (out / f"{p.parent.name}-feedback.md").read_bytes() == (p.parent / "answers-feedback.md").read_bytes()
    assert "sign-error" in (out / f"{FOLDERS[1]}-feedback.md").read_text(encoding="utf-8")
    assert "sign-error" not in (out / f"{FOLDERS[0]}-feedback.md").read_text(encoding="utf-8")


def test_hostile_folder_names_make_one_file_name_each(tmp_path):
    """Folders named like options, markup or with a line break name their students as text; each feedback
    file is one file name inside -o's folder, and nothing is written elsewhere."""
    hostile = ["-rf --force", "a\nb<img>|`x`", "=SUM(A1)", "..."]
    root = tmp_path / "subs"
    paths = []
    for name in hostile:
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "answers.toml").write_text('"out_h1" = 0.593269992\n')
        paths.append(folder / "answers.toml")
    out = tmp_path / "out"
    assert cli.main(["check", "mazur", *map(str, paths), "-o", str(out)]) == 0
    written_files = sorted(p.name for p in out.iterdir())
    assert len(written_files) == len(hostile) + 2 and all(p.parent == out for p in out.iterdir())
    rows = list(csv.DictReader((out / marking.SUMMARY_CSV).open(encoding="utf-8")))
    assert len({r["student"] for r in rows}) == len(hostile)
    assert all(r["student"][:1] not in ("=", "+", "-", "@") for r in rows)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents) == sorted(paths)


def answers_from_key(template: str, key: dict, header: bool) -> str:
    """The answers template filled in with a key's values, with or without its header line."""
    values = {a["name"]: a["value"] for a in key["answers"]}
    lines = []
    for line in template.splitlines():
        if not header and line.startswith("# stepgrad exercise variant"):
            continue
        m = re.match(r'"([^"]+)"(\s*)= ""', line)
        lines.append(f'"{m.group(1)}"{m.group(2)}= {values[m.group(1)]}' if m else line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def exercise_set(tmp_path_factory):
    """The exercise set for the roster of the three folders' names."""
    root = tmp_path_factory.mktemp("exercise")
    roster = root / "roster.csv"
    roster.write_text("id\n" + "".join(f"{f}\n" for f in FOLDERS))
    assert cli.main(["exercise", "mazur", "--roster", str(roster), "--seed", str(SEED), "--no-pdf",
                     "-o", str(root / "ex")]) == 0
    return root / "ex", roster


def variant_files(ex: Path, k: int) -> tuple[str, dict]:
    folder = ex / f"variant-{k:02d}"
    return (folder / "answers.toml").read_text(encoding="utf-8"), json.loads((folder / "key.json").read_text())


def test_exercise_roster_finds_students_by_folder(tmp_path, exercise_set):
    """Answers without their header line are found on a roster of the folder names: each student marked
    against their own variant, and the one who handed in another's numbers flagged by folder name."""
    ex, roster = exercise_set
    root = tmp_path / "subs"
    paths = []
    for k, folder in enumerate(FOLDERS, start=1):
        source = 1 if k == 3 else k  # the third student hands in the first one's variant
        template, key = variant_files(ex, source)
        assert key["student"] == FOLDERS[source - 1]
        (root / folder).mkdir(parents=True)
        (root / folder / "answers.toml").write_text(answers_from_key(template, key, header=False))
        paths.append(root / folder / "answers.toml")
    out = tmp_path / "out"
    code = cli.main(["check", "mazur", *map(str, paths), "--exercise", str(ex), "--roster", str(roster),
                     "-o", str(out)])
    assert code == 0
    rows = rows_of(out / marking.SUMMARY_CSV)
    assert sorted(rows) == sorted(FOLDERS)
    for k, folder in enumerate(FOLDERS, start=1):
        assert rows[folder]["variant"] == str(k)
        assert rows[folder]["copied_from"] == ("1" if k == 3 else "")
    assert rows[FOLDERS[0]]["score"] == rows[FOLDERS[0]]["total"] != "0"
    summary = json.loads((out / variants_marking.SUMMARY_JSON).read_text(encoding="utf-8"))
    assert [s["student"] for s in summary["students"]] == list(FOLDERS)
    assert summary["copied"] == [{"student": FOLDERS[2], "variant": 3, "copied_from": 1}]
    table = (out / marking.MISTAKES_MD).read_text(encoding="utf-8")
    assert f"- `{FOLDERS[2]}` (variant 3): these numbers are variant 1's." in table
    feedback = (out / f"{FOLDERS[1]}-feedback.md").read_text(encoding="utf-8")
    assert "the class roster's variant for " + FOLDERS[1].replace("_", "\\_") in feedback  # Markdown-escaped


def test_exercise_roster_order_name_stem_folder(tmp_path, exercise_set):
    """A submission's own stem on the roster wins over its folder; a file whose stem is not on the roster
    is its folder's student, and two files for one student are both flagged."""
    ex, roster = exercise_set
    root = tmp_path / "subs"
    template, key = variant_files(ex, 2)
    (root / "misc").mkdir(parents=True)
    flat = root / "misc" / f"{FOLDERS[1]}.toml"  # Bob's by its stem, though its folder is on no roster
    flat.write_text(answers_from_key(template, key, header=False))
    template, key = variant_files(ex, 1)
    (root / FOLDERS[0]).mkdir()
    extra = root / FOLDERS[0] / "second-try.toml"  # Ann's by its folder
    extra.write_text(answers_from_key(template, key, header=False))
    first = root / FOLDERS[0] / "answers.toml"
    first.write_text(answers_from_key(template, key, header=False))
    paths = [flat, first, extra]
    out = tmp_path / "out"
    assert cli.main(["check", "mazur", *map(str, paths), "--exercise", str(ex), "--roster", str(roster),
                     "-o", str(out)]) == 0
    rows = rows_of(out / marking.SUMMARY_CSV)
    assert {s: r["variant"] for s, r in rows.items()} == {FOLDERS[1]: "2", "answers": "1", "second-try": "1"}
    table = (out / marking.MISTAKES_MD).read_text(encoding="utf-8")
    assert "## Several submissions for one student" in table
