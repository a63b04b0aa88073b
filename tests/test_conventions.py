"""The command line's conventions, the same for every command: --version, exit codes, --format json, -o."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from stepgrad.codegen import cli
from stepgrad.symbolic.derive import full_value

from .conftest import ROOT


def run(*args: str, cwd: Path | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    """Run `python -m stepgrad ARGS` in a fresh process; *prelude* is Python run first, in that process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STEPGRAD_DEBUG", None)
    if prelude:
        command = [sys.executable, "-c", f"{prelude}\nimport runpy, sys\nsys.argv = ['stepgrad', *{list(args)!r}]\n"
                                         "runpy.run_module('stepgrad', run_name='__main__', alter_sys=True)"]
    else:
        command = [sys.executable, "-m", "stepgrad", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, by name."""
    actions = [a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices)


def mazur_values() -> dict[str, str]:
    """The post's first-update values at full precision, from the library (not the command line)."""
    from stepgrad.symbolic.spec import load

    return {k: full_value(v) for k, v in cli.all_values(load("mazur"), None).items()}


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[str, Path]:
    """Answers files for the post's network: all right, and one wrong (its value moved by 1)."""
    values = mazur_values()
    folder = tmp_path_factory.mktemp("answers")
    right = {"net_h1": values["net_h1"], "out_h1": values["out_h1"], "dE_total/dw5": values["dE_total/dw5"]}
    wrong = {**right, "dE_total/dw5": str(float(values["dE_total/dw5"]) + 1)}
    out = {}
    for name, answers_ in (("right", right), ("wrong", wrong)):
        path = folder / f"{name}.toml"
        path.write_text("".join(f'"{k}" = {v}\n' for k, v in answers_.items()))
        out[name] = path
    return out


# -- --version ----------------------------------------------------------------------

def test_python_dash_m_version_is_the_installed_version():
    """python -m stepgrad --version prints 'stepgrad X.Y.Z', the distribution's version and pyproject's."""
    result = run("--version")
    assert result.returncode == 0, result.stderr
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert result.stdout == f"stepgrad {version('stepgrad')}\n"
    assert version("stepgrad") == declared


def test_console_script_version():
    """The installed `stepgrad` console script answers --version the same way, exit 0."""
    script = Path(sys.executable).parent / "stepgrad"
    assert script.exists(), f"no console script beside {sys.executable}: is stepgrad installed?"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout) == (0, f"stepgrad {version('stepgrad')}\n"), result.stderr


# -- exit codes ---------------------------------------------------------------------

def test_exit_0_when_done_and_every_answer_is_right(answers):
    """A command that did its work exits 0; so does check when every answer is correct."""
    assert run("values", "mazur", "--steps", "2").returncode == 0
    result = run("check", "mazur", str(answers["right"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("✓") == 3 and "✗" not in result.stdout


def test_exit_1_when_a_checked_answer_is_wrong(answers):
    """check exits 1, by default, when an answer it judged is wrong, and says which."""
    result = run("check", "mazur", str(answers["wrong"]))
    assert result.returncode == 1, result.stderr
    assert result.stdout.count("✓") == 2 and "✗ dE_total/dw5" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("args, fragment", [
    (["values", "nosuch"], "no such file or built-in example"),
    (["values", "mazur", "--format", "xml"], "invalid choice"),
    (["values", "mazur", "--json", "--format", "text"], "--json is --format json"),
    (["example", "mazur", "-o", "-"], "-o -: example writes several files"),
    (["derive", "mazur", "--format", "pdf", "-o", "-"], "--format pdf cannot go to standard output"),
])
def test_exit_2_on_bad_input_one_line(args, fragment):
    """Bad input or usage exits 2 with one line on stderr naming it, no traceback, nothing on stdout."""
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and result.stdout == "", result.stderr


@pytest.mark.parametrize("error", ["stepgrad.symbolic.derive.DerivationError('forward and backward disagree')",
                                   "ZeroDivisionError('a bug')"])
def test_exit_3_on_an_internal_error(error):
    """An internal error (the derivation's own verification failing, or any bug) exits 3 in one line."""
    prelude = ("import stepgrad.symbolic.derive, stepgrad.symbolic.verify as v\n"
               f"def broken(*a, **k):\n    raise {error}\n"
               "v.verify = broken")
    result = run("values", "mazur", prelude=prelude)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" in lines[0] and "Traceback" not in result.stderr


def test_exit_codes_are_documented_in_help_and_readme():
    """`stepgrad --help` and the README's Commands section state the same four exit codes."""
    result = run("--help")
    assert result.returncode == 0
    readme = (ROOT / "README.md").read_text()
    commands = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    for code in ("0", "1", "2", "3"):
        assert f"\n  {code}  " in result.stdout
        assert f"| {code} |" in commands


# -- --format json ------------------------------------------------------------------

def json_runs(answers) -> dict[str, list[str]]:
    """For each command with machine output, arguments that give it."""
    return {"values": ["values", "mazur", "--steps", "2"], "check": ["check", "mazur", str(answers["wrong"])],
            "derive": ["derive", "mazur", "--steps", "2", "-o", "-"]}


def test_every_command_with_json_output_is_covered(answers):
    """The commands whose --format offers json are exactly those tested here."""
    with_json = sorted(name for name, p in subcommands().items()
                       for a in p._actions if "--format" in a.option_strings and "json" in (a.choices or ()))
    assert with_json == sorted(json_runs(answers))


@pytest.mark.parametrize("command", ["values", "check", "derive"])
def test_format_json_parses_and_json_is_its_alias(command, answers, capsys):
    """--format json prints one JSON document, the same bytes every run, and as --json where that existed."""
    args = json_runs(answers)[command]
    outs = []
    aliases = [["--json"]] if command in ("values", "check") else []
    for extra in [["--format", "json"], *aliases, ["--format", "json"]]:
        code = cli.main(args + extra)
        outs.append(capsys.readouterr().out)
        assert code in (0, 1)
    assert len(set(outs)) == 1
    doc = json.loads(outs[0])
    assert isinstance(doc, dict) and doc


def test_values_json_is_in_the_derivation_order(capsys):
    """values --format json lists names in the table's order (the derivation's), with the table's values."""
    assert cli.main(["values", "mazur", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert cli.main(["values", "mazur"]) == 0
    table = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert list(doc) == [row[0] for row in table]
    assert list(doc.values()) == [row[1] for row in table]
    expected = mazur_values()
    assert {k: doc[k] for k in expected} == expected


def test_derive_json_is_every_step_in_order_with_the_values(capsys):
    """derive --format json lists every step in the derivation's order, each with the value `values` prints."""
    assert cli.main(["derive", "mazur", "--format", "json", "-o", "-", "--steps", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert cli.main(["values", "mazur", "--format", "json", "--steps", "2"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in doc["steps"]] == [k for k in values if "@" not in k]
    assert {s["name"]: s["value"] for s in doc["steps"]} == {k: v for k, v in values.items() if "@" not in k}
    assert doc["values"] == values and doc["network"]["name"] == "mazur"
    first = doc["steps"][0]
    assert (first["name"], first["formula"], first["value"]) == ("net_h1", "w1*i1 + w2*i2 + b1*1", values["net_h1"])


# -- -o -------------------------------------------------------------------------------

#: Every command's -o: "file" (one file; '-o -' prints it) or "folder" (several files; '-o -' is refused).
#: Each row: the arguments before -o, the kind, and what to name the output.
OUTPUTS = {
    "example": (["example", "mazur", "--no-pdf"], "folder", "out"),
    "derive": (["derive", "mazur", "--format", "tex", "--steps", "3"], "file", "mazur.tex"),
    "derive-json": (["derive", "mazur", "--format", "json", "--steps", "3"], "file", "derivation.json"),
    "module": (["module", "mazur"], "file", "gradients.py"),
    "values": (["values", "mazur", "--format", "json"], "file", "values.json"),
    "check": (["check", "mazur", "{wrong}", "--format", "md"], "file", "feedback.md"),
    "check-class": (["check", "mazur", "{wrong}", "{right}"], "folder", "marked"),
    "worksheet": (["worksheet", "mazur", "--no-pdf"], "folder", "sheet"),
    "new": (["new", "2-2-1"], "file", "spec.toml"),
    "exercise": (["exercise", "mazur", "--variants", "2", "--seed", "1", "--no-pdf"], "folder", "set"),
}


def _args(row: str, answers) -> list[str]:
    return [a.format(wrong=answers["wrong"], right=answers["right"]) for a in OUTPUTS[row][0]]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_subcommand_has_a_row():
    """Each subcommand takes -o and --output, and is in the -o table."""
    commands = subcommands()
    assert sorted({row.split("-")[0] for row in OUTPUTS}) == sorted(commands)
    for name, p in commands.items():
        assert any(a.option_strings == ["-o", "--output"] for a in p._actions), name


@pytest.mark.parametrize("row", sorted(OUTPUTS))
def test_o_names_the_output_the_same_way_everywhere(row, answers, tmp_path, capsys, monkeypatch):
    """-o and --output name the one file written (and '-o -' prints its bytes), or the folder every file goes in
    (and '-o -' is refused, exit 2, nothing written); the wrong kind of path in the way is refused too."""
    monkeypatch.chdir(tmp_path)  # so that a '-' taken for a name would show here
    args, kind, name = _args(row, answers), OUTPUTS[row][1], OUTPUTS[row][2]
    short, long_ = tmp_path / "short", tmp_path / "long"
    short.mkdir(), long_.mkdir()
    codes = {cli.main(args + ["-o", str(short / name)]), cli.main(args + ["--output", str(long_ / name)])}
    assert codes <= {0, 1} and len(codes) == 1
    assert capsys.readouterr().out == ""  # everything went to the files
    written = _files(short)
    assert written and written == _files(long_)
    if kind == "file":
        assert list(written) == [name]
        assert cli.main(args + ["-o", "-"]) in codes
        assert capsys.readouterr().out.encode() == written[name]
        in_the_way = tmp_path / "a-folder"
        in_the_way.mkdir()
    else:
        assert all(Path(p).parts[0] == name for p in written), sorted(written)
        assert cli.main(args + ["-o", "-"]) == 2
        assert "-o -" in capsys.readouterr().err
        assert not (tmp_path / "-").exists()
        in_the_way = tmp_path / "a-file"
        in_the_way.write_text("a student's own file\n")
    before = _files(tmp_path)
    assert cli.main(args + ["-o", str(in_the_way)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(in_the_way) in err[0]
    assert _files(tmp_path) == before


@pytest.mark.parametrize("row", sorted(r for r in OUTPUTS if OUTPUTS[r][1] == "file"))
def test_o_keeps_a_file_stepgrad_did_not_write(row, answers, tmp_path, capsys):
    """-o FILE never replaces a file stepgrad did not write, unless --force."""
    args, name = _args(row, answers), OUTPUTS[row][2]
    target = tmp_path / name
    target.write_text("precious\n")
    assert cli.main(args + ["-o", str(target)]) == 2
    assert target.read_text() == "precious\n" and "--force" in capsys.readouterr().err
    assert cli.main(args + ["-o", str(target), "--force"]) in (0, 1)
    assert target.read_text() != "precious\n"
