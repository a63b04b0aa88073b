"""Marking a whole class: a feedback file per student, a CSV of scores, the most common mistakes."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import mpmath
import pytest

from stepgrad.codegen import cli, marking

M = mpmath.mpf


def _post_values() -> dict[str, mpmath.mpf]:
    """The post's network worked out here from its own numbers (not by stepgrad)."""
    mpmath.mp.dps = 40
    i1, i2, b1, b2, t1 = M("0.05"), M("0.1"), M("0.35"), M("0.6"), M("0.01")
    w = [None] + [M(x) for x in "0.15 0.2 0.25 0.3 0.4 0.45 0.5 0.55".split()]
    s = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
    oh1, oh2 = s(w[1] * i1 + w[2] * i2 + b1), s(w[3] * i1 + w[4] * i2 + b1)
    oo1 = s(w[5] * oh1 + w[6] * oh2 + b2)
    oo2 = s(w[7] * oh1 + w[8] * oh2 + b2)
    return {"i1": i1, "i2": i2, "b1": b1, "b2": b2, "t1": t1, "t2": M("0.99"), "w": w, "oh1": oh1,
            "oh2": oh2, "oo1": oo1, "oo2": oo2, "s": s}


def gradients() -> dict[str, mpmath.mpf]:
    """∂E/∂w5 right and under each injected mistake, from the chain rule written out."""
    v = _post_values()
    oo1, oh1, t1, t2 = v["oo1"], v["oh1"], v["t1"], v["t2"]
    right = (oo1 - t1) * oo1 * (1 - oo1) * oh1
    r4 = lambda x: M(round(float(x), 4))  # noqa: E731 - every intermediate rounded to 4 decimals
    s, w, b2 = v["s"], v["w"], v["b2"]
    oh1r, oh2r = r4(oh1), r4(v["oh2"])
    oo1r = r4(s(r4(w[5] * oh1r + w[6] * oh2r + b2)))
    early = M(round(float(r4(oo1r - t1) * r4(oo1r * (1 - oo1r)) * oh1r), 6))  # the answer to 6 decimals
    return {"right": right, "sign-error": -right, "missing-activation-derivative": (oo1 - t1) * oh1,
            "wrong-target": (oo1 - t2) * oo1 * (1 - oo1) * oh1, "early-rounding": early}


def written(x, digits: int = 9) -> str:
    return mpmath.nstr(x, digits, strip_zeros=False)


#: Students per injected mistake (and right sheets, and broken files).
PLAN = {"right": 8, "sign-error": 5, "missing-activation-derivative": 5, "wrong-target": 5,
        "early-rounding": 5}
#: Codes that name an injected mistake: every intermediate rounded early is also explained by one
#: rounded intermediate used onward.
ACCEPTED = {"early-rounding": ("early-rounding", "rounded-intermediate")}
BROKEN = {"zz-broken.toml": "this is = = not toml\n", "=cmd.toml": '"out_h1" = "sigma(net_h1"\n"w9" = \n'}


def make_class(folder: Path) -> dict[str, str]:
    """Write 30 submissions of the post's network into *folder*; return each student's injected mistake."""
    v, g = _post_values(), gradients()
    folder.mkdir(parents=True, exist_ok=True)
    plan = {}
    k = 0
    for mistake, n in PLAN.items():
        for _ in range(n):
            k += 1
            name = f"student{k:02d}"
            value = g[mistake]
            text = (f'"out_h1" = {written(v["oh1"])}\n"out_o1" = {written(v["oo1"])}\n'
                    f'"dE_total/dw5" = {written(value, 5 if mistake == "early-rounding" else 9)}\n')
            (folder / f"{name}.toml").write_text(text)
            plan[name] = mistake
    for name, text in BROKEN.items():
        (folder / name).write_text(text)
        plan[Path(name).stem] = "broken"
    return plan


def test_thirty_submissions_marked_and_each_mistake_counted(tmp_path, capsys):
    """A folder of 30 submissions: a feedback file each, a CSV row each, and the mistakes table counts
    every injected mistake once per student who made it."""
    plan = make_class(tmp_path / "subs")
    assert len(plan) == 30
    code = cli.main(["check", "mazur", str(tmp_path / "subs"), "-o", str(tmp_path / "out")])
    assert code == 1  # some submissions could not be read
    out = tmp_path / "out"
    rows = list(csv.DictReader((out / marking.SUMMARY_CSV).open()))
    assert len(rows) == 30
    by_student = {r["student"].lstrip("'"): r for r in rows}
    for student, mistake in plan.items():
        row = by_student[student]
        if mistake == "broken":
            assert row["error"] and row["score"] == ""
            continue
        assert row["codes"] in ACCEPTED.get(mistake, ("" if mistake == "right" else mistake,)), student
        assert row["score"] == ("3" if mistake == "right" else "2") and row["total"] == "3"
        assert (out / f"{student}-feedback.md").exists()
    table = (out / marking.MISTAKES_MD).read_text()
    for mistake, n in PLAN.items():
        if mistake != "right":
            # the rounding students all get one code of the rounding family, counted once each
            codes = {by_student[s]["codes"] for s, m in plan.items() if m == mistake}
            assert len(codes) == 1
            assert f"| `{codes.pop()}` | {n} |" in table
    assert "28 of 30 submissions read" in table
    # a broken file is one row; the CSV never starts a cell with a formula character
    assert by_student["=cmd"]["student"] == "'=cmd" and by_student["=cmd"]["file"] == "'=cmd.toml"


def test_csv_cells_are_formula_safe():
    """Cells starting with = + - @ (or a tab) get a leading apostrophe; others are kept."""
    assert [marking._csv_cell(c) for c in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "alice", 3)] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "alice", "3"]


def test_every_format_per_student_and_none_read(tmp_path):
    """--format json writes NAME-feedback.json beside each file; no readable submission is exit 2."""
    folder = tmp_path / "c"
    folder.mkdir()
    g = gradients()
    (folder / "a.toml").write_text(f'"dE_total/dw5" = {written(g["sign-error"])}\n')
    (folder / "b.toml").write_text(f'"∂E/∂w5" = {written(g["right"])}\n')
    assert cli.main(["check", "mazur", str(folder / "a.toml"), str(folder / "b.toml"), "--format", "json"]) == 0
    doc = json.loads((folder / "a-feedback.json").read_text())
    assert doc["summary"]["score"] == 0 and doc["answers"][0]["codes"] == ["sign-error"]
    assert json.loads((folder / "b-feedback.json").read_text())["summary"]["score"] == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.toml").write_text("= = =\n")
    assert cli.main(["check", "mazur", str(bad)]) == 2


def test_class_outputs_checked_before_work(tmp_path):
    """A feedback file in the way that stepgrad did not write stops the class before anything is written."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.toml").write_text('"out_h1" = 0.593269992\n')
    (folder / "b.toml").write_text('"out_h1" = 0.5\n')
    (folder / "b-feedback.md").write_text("the teacher's own notes\n")
    assert cli.main(["check", "mazur", str(folder)]) == 2
    assert not (folder / "a-feedback.md").exists() and not (folder / marking.SUMMARY_CSV).exists()


@pytest.mark.parametrize("fmt", ["text", "md", "json"])
def test_one_file_output_and_stdout(tmp_path, fmt, capsys):
    """-o FILE works for every text format and -o - writes to standard output; pdf refuses -o - in one line."""
    answers = tmp_path / "a.toml"
    answers.write_text('"out_h1" = 0.593269992\n')
    target = tmp_path / f"feedback.{fmt}"
    assert cli.main(["check", "mazur", str(answers), "--format", fmt, "-o", str(target)]) == 0
    written_text = target.read_text()
    capsys.readouterr()
    assert cli.main(["check", "mazur", str(answers), "--format", fmt, "-o", "-"]) == 0
    assert capsys.readouterr().out == written_text
    assert cli.main(["check", "mazur", str(answers), "--format", "pdf", "-o", "-"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "standard output" in err


def test_feedback_sheet_shows_formulas_in_math(tmp_path):
    """The Markdown sheet's Expected column writes a formula in LaTeX, never an internal name."""
    answers = tmp_path / "a.toml"
    answers.write_text('"delta_o2" = "(out_o2 - t_o2) * out_o2"\n')
    target = tmp_path / "a.md"
    cli.main(["check", "mazur", str(answers), "--format", "md", "-o", str(target)])
    sheet = target.read_text()
    assert not re.search(r"dE_total_dout_o2|dout_o2_dnet_o2", sheet)
    assert "\\frac{\\partial E_{total}}{\\partial out_{o2}}" in sheet


def test_from_worksheet_to_feedback_sheet(tmp_path):
    """A student fills in the worksheet's template (some keys renamed the way students write them, the
    rest left blank) and gets a Markdown feedback sheet naming the one mistake and the blanks."""
    assert cli.main(["worksheet", "mazur", "-o", str(tmp_path), "--no-pdf"]) == 0
    template = tmp_path / "mazur-answers.toml"
    v, g = _post_values(), gradients()
    delta_o1 = (v["oo1"] - v["t1"]) * v["oo1"] * (1 - v["oo1"])
    filled = []
    for line in template.read_text().splitlines():
        key = line.split('"')[1] if line.startswith('"') else None
        values = {"out_h1": written(v["oh1"]), "out_o1": written(v["oo1"]), "delta_o1": written(delta_o1),
                  "dE_total/dw5": written(g["sign-error"])}
        renamed = {"delta_o1": "δ_o1", "dE_total/dw5": "∂E/∂w5"}
        if key in values:
            line = f'"{renamed.get(key, key)}" = {values[key]}'
        filled.append(line)
    template.write_text("\n".join(filled) + "\n", encoding="utf-8")
    sheet = tmp_path / "feedback.md"
    assert cli.main(["check", "mazur", str(template), "--format", "md", "-o", str(sheet)]) == 1
    text = sheet.read_text()
    blanks = sum(1 for line in filled if line.endswith('""') or '= ""' in line)
    assert f"3 of 4 correct. {blanks} left blank." in text
    assert "## `dE_total/dw5`" in text and "sign-error" in text


def test_a_pdf_that_fails_is_one_row(tmp_path, monkeypatch):
    """When TeX fails on one student's sheet, that student gets a row saying so and the others their PDF."""
    from stepgrad.codegen import pdf

    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.toml").write_text('"out_h1" = 0.593269992\n')
    (folder / "b.toml").write_text('"out_h1" = 0.5\n')
    calls = []

    def fake(tex: str, stem: str = "x") -> bytes:
        calls.append(tex)
        if len(calls) == 2:
            raise pdf.TexError("TeX stopped")
        return b"%PDF-1.5 fake"

    monkeypatch.setattr(pdf, "engine_available", lambda: True)
    monkeypatch.setattr(pdf, "compile_pdf", fake)
    assert cli.main(["check", "mazur", str(folder), "--format", "pdf"]) == 1
    rows = list(csv.DictReader((folder / marking.SUMMARY_CSV).open()))
    assert rows[0]["error"] == "" and "TeX stopped" in rows[1]["error"]
    assert (folder / "a-feedback.pdf").read_bytes() == b"%PDF-1.5 fake" and not (folder / "b-feedback.pdf").exists()


def test_output_extension_picks_the_format(tmp_path):
    """Without --format, -o FILE.md / .json writes that format."""
    answers = tmp_path / "a.toml"
    answers.write_text('"out_h1" = 0.593269992\n')
    assert cli.main(["check", "mazur", str(answers), "-o", str(tmp_path / "f.md")]) == 0
    assert (tmp_path / "f.md").read_text().startswith("<!-- Generated by stepgrad")
    assert cli.main(["check", "mazur", str(answers), "-o", str(tmp_path / "f.json")]) == 0
    assert json.loads((tmp_path / "f.json").read_text())["summary"]["score"] == 1


def test_hostile_file_names_stay_text(tmp_path):
    """A submission named like a formula, a table cell break or markup stays text in the CSV and in the
    mistakes table."""
    folder = tmp_path / "c"
    folder.mkdir()
    names = ['=HYPERLINK("x").toml', "a|b`<img>.toml", "@SUM(A1).toml"]
    for name in names:
        (folder / name).write_text("not = = toml\n")
    (folder / "ok.toml").write_text('"out_h1" = 0.5\n')
    assert cli.main(["check", "mazur", str(folder)]) == 1
    rows = list(csv.DictReader((folder / marking.SUMMARY_CSV).open()))
    for row in rows:
        for cell in row.values():
            assert cell[:1] not in ("=", "+", "-", "@")
    table = (folder / marking.MISTAKES_MD).read_text()
    assert "\n- ``a|b`<img>.toml``: a\\|b\\`\\<img\\>.toml: not valid TOML" in table
    assert str(tmp_path) not in table and str(tmp_path) not in (folder / marking.SUMMARY_CSV).read_text()


def test_the_spec_in_the_folder_is_not_a_submission(tmp_path):
    """stepgrad check subs/net.toml subs/ marks the students, not the spec."""
    folder = tmp_path / "subs"
    folder.mkdir()
    spec = folder / "net.toml"
    spec.write_text((Path(__file__).resolve().parents[1] / "symbolic" / "examples" / "mazur.toml").read_text())
    (folder / "a.toml").write_text('"out_h1" = 0.593269992\n')
    assert cli.main(["check", str(spec), str(folder)]) == 0
    rows = list(csv.DictReader((folder / marking.SUMMARY_CSV).open()))
    assert [r["file"] for r in rows] == ["a.toml"]


def test_a_symbolic_link_is_not_followed(tmp_path):
    """A submission that links to another file (one only the marker may read) is a row saying so;
    the linked file's content appears in no output, and the other students are still marked."""
    folder = tmp_path / "c"
    folder.mkdir()
    secret = tmp_path / "private.toml"
    secret.write_text('"out_h1" = "SECRET-TOKEN-1234"\n')
    (folder / "thief.toml").symlink_to(secret)
    g = gradients()
    (folder / "honest.toml").write_text(f'"dE_total/dw5" = {written(g["right"])}\n')
    assert cli.main(["check", "mazur", str(folder)]) == 1
    produced = [p for p in folder.iterdir() if not p.is_symlink() and p.name != "honest.toml"]
    assert produced and all("SECRET-TOKEN" not in p.read_text() for p in produced)
    rows = list(csv.reader((folder / "class-summary.csv").open()))
    thief = next(r for r in rows if r and r[0].startswith("thief"))
    assert any("symbolic link" in cell for cell in thief), thief
    assert (folder / "honest-feedback.md").exists() and not (folder / "thief-feedback.md").exists()
