"""The distribution as a user gets it: an sdist, a wheel built from it, installed outside the checkout.

An editable install hides a missing package or data file (the checkout is on the path), so
these tests build the sdist and, from it, the wheel, install the wheel into a fresh virtual
environment in a temporary folder, and run stepgrad there, with the current folder outside
the repository. The same environment also holds the PyPI distributions that own the import
names ``symbolic`` (Sentry's symbolication library) and ``codegen`` (the Codegen SDK): with
stepgrad's packages under its own namespace, all three import side by side.

Building and installing takes about a minute, so the environment is made once per session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

#: The Codegen SDK declares Python >= 3.12; pip is told to ignore that on 3.11 (the import name
#: is what collides, not the SDK's features), and only the distributions it needs to import are
#: installed instead of its whole 120-package tree.
CODEGEN_IMPORT_NEEDS = ["codegen-api-client", "python-dotenv", "requests", "rich", "pydantic", "python-dateutil"]


def _run(argv: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{argv[:4]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def _package_files() -> set[str]:
    """Every file the installed packages must hold, as paths inside the wheel."""
    wanted = {"stepgrad/__init__.py", "stepgrad/__main__.py"}
    for folder, name in (("symbolic", "stepgrad/symbolic"), ("codegen", "stepgrad/codegen")):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".j2", ".toml") and "__pycache__" not in path.parts:
                wanted.add(f"{name}/{path.relative_to(ROOT / folder).as_posix()}")
    for path in (ROOT / "stepgrad").rglob("*.py"):
        if "__pycache__" not in path.parts:
            wanted.add(f"stepgrad/{path.relative_to(ROOT / 'stepgrad').as_posix()}")
    return wanted


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist, and the wheel built from that sdist (python -m build's default)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)], cwd=out)
    sdists, wheels = sorted(out.glob("stepgrad-*.tar.gz")), sorted(out.glob("stepgrad-*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return {"sdist": sdists[0], "wheel": wheels[0]}


@pytest.fixture(scope="session")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh environment outside the checkout: the wheel, plus PyPI's symbolic and codegen."""
    home = tmp_path_factory.mktemp("wheelenv")
    _run([sys.executable, "-m", "venv", str(home / "venv")], cwd=home)
    python = home / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run(pip + [str(dist["wheel"]), "symbolic"], cwd=home)
    _run(pip + ["--no-deps", "--ignore-requires-python", "codegen"], cwd=home)
    _run(pip + CODEGEN_IMPORT_NEEDS, cwd=home)
    return home


def test_the_wheel_holds_every_module_template_and_builtin_spec(dist):
    """Every .py, template and built-in spec of the packages is in the wheel, under stepgrad/."""
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
    missing = _package_files() - names
    assert not missing, f"missing from the wheel: {sorted(missing)}"
    assert not {n for n in names if n.split("/")[0] in ("symbolic", "codegen", "tests")}, "a top-level package leaked"


def test_the_sdist_holds_the_sources(dist):
    """The sdist carries the folders the wheel is built from (the wheel above is built from it)."""
    with tarfile.open(dist["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for needed in ("pyproject.toml", "README.md", "symbolic/spec.py", "codegen/cli.py", "stepgrad/__init__.py",
                   "symbolic/examples/mazur.toml", "codegen/templates/worked_example.tex.j2"):
        assert needed in names, needed


def test_the_installed_wheel_runs_the_example_outside_the_checkout(venv):
    """stepgrad example --no-pdf in the fresh environment writes the committed example's files."""
    work = venv / "work"
    work.mkdir()
    stepgrad = venv / "venv" / "bin" / "stepgrad"
    version = _run([str(stepgrad), "--version"], cwd=work).stdout
    assert version.strip().startswith("stepgrad ")
    _run([str(stepgrad), "example", "--no-pdf", "-o", "out"], cwd=work, timeout=300)
    written = sorted(p.name for p in (work / "out").rglob("*") if p.is_file())
    assert "mazur.md" in written and "gradients.py" in written, written
    for name in ("mazur.md", "mazur.tex", "gradients.py"):
        found = next((work / "out").rglob(name))
        assert found.read_bytes() == (ROOT / "generated" / "mazur" / name).read_bytes(), name
    # python -m stepgrad is the same program.
    assert _run([str(venv / "venv" / "bin" / "python"), "-m", "stepgrad", "--version"], cwd=work).stdout == version


def test_stepgrad_symbolic_and_codegen_import_side_by_side(venv):
    """The PyPI distributions named symbolic and codegen install beside stepgrad, and each import
    name resolves to its own distribution's files."""
    code = (
        "import json, stepgrad, stepgrad.symbolic.spec, stepgrad.codegen.cli, symbolic, codegen\n"
        "from symbolic import Archive\n"
        "print(json.dumps({'stepgrad': stepgrad.__file__, 'stepgrad.symbolic': stepgrad.symbolic.__file__,\n"
        "  'stepgrad.codegen': stepgrad.codegen.__file__, 'symbolic': symbolic.__file__,\n"
        "  'codegen': codegen.__file__, 'codegen_version': codegen.__version__,\n"
        "  'mazur': 'mazur' in stepgrad.symbolic.spec.builtin_names()}))\n"
    )
    import json

    found = json.loads(_run([str(venv / "venv" / "bin" / "python"), "-c", code], cwd=venv).stdout)
    site = str(venv / "venv")
    for name in ("stepgrad", "stepgrad.symbolic", "stepgrad.codegen", "symbolic", "codegen"):
        assert found[name].startswith(site), (name, found[name])
    assert "/stepgrad/symbolic/" in found["stepgrad.symbolic"] and "/stepgrad/codegen/" in found["stepgrad.codegen"]
    assert "/site-packages/symbolic/" in found["symbolic"] and "/site-packages/codegen/" in found["codegen"]
    assert found["codegen_version"] and found["mazur"]
