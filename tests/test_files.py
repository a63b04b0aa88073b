"""Writing files: atomic, all-or-nothing, never over a file stepgrad did not make, the same bytes every time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepgrad.codegen import files, pdf
from stepgrad.codegen.cli import main
from stepgrad.codegen.render import MARKER
from stepgrad.symbolic.spec import SpecError

from .conftest import ROOT

OURS = f"<!-- {MARKER} 0.1.0 from the spec 'mazur' (old). Do not edit. -->\nold\n".encode()


def test_interrupted_write_changes_nothing(tmp_path, monkeypatch):
    """An error while the second file is written leaves both old files intact and no temporary file."""
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    first.write_bytes(OURS)
    second.write_bytes(OURS)
    real_fdopen = os.fdopen
    calls = []

    def failing_fdopen(fd, *args, **kwargs):
        calls.append(fd)
        if len(calls) == 2:
            os.close(fd)
            raise KeyboardInterrupt
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(files.os, "fdopen", failing_fdopen)
    with pytest.raises(KeyboardInterrupt):
        files.write_all({first: b"new a", second: b"new b"})
    assert len(calls) == 2
    assert first.read_bytes() == OURS and second.read_bytes() == OURS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.md"]


def test_disk_error_is_one_clean_line(tmp_path, monkeypatch):
    """An OSError while writing becomes a SpecError naming the file, and nothing is left behind."""
    def full(fd, data):
        raise OSError(28, "No space left on device")

    class Full:
        def __init__(self, fd, *args, **kwargs):
            self.fd = fd

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            os.close(self.fd)

        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fdopen", Full)
    with pytest.raises(SpecError, match=r"x\.md: cannot write: No space left on device; nothing was changed"):
        files.write_all({tmp_path / "x.md": b"data"})
    assert list(tmp_path.iterdir()) == []


def test_output_under_a_file_is_refused_cleanly(tmp_path, capsys):
    """-o through an existing file (a/b.py where a is a file) is exit 2 with one line, not a traceback."""
    (tmp_path / "a").write_text("a file")
    assert main(["module", "mazur", "-o", str(tmp_path / "a" / "b.py")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "cannot write" in err[0]


#: A spec without reference figures: deriving it does not retrain the post's 10,000 rounds.
TANH232 = str(ROOT / "tests" / "data" / "tanh232.toml")


def _foreign(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"my homework, not stepgrad's\n")
    return path.read_bytes()


@pytest.mark.parametrize("argv, target", [
    (["module", "mazur", "-o", "{d}/g.py"], "g.py"),
    (["derive", TANH232, "--format", "md", "--steps", "3", "-o", "{d}/w.md"], "w.md"),
    (["derive", TANH232, "--format", "tex", "--steps", "3", "-o", "{d}/w.tex"], "w.tex"),
    (["example", "mazur", "--no-pdf", "-o", "{d}"], "mazur/mazur.md"),
])
def test_foreign_files_are_kept_unless_force(tmp_path, capsys, argv, target):
    """Each writing command refuses to replace a file it did not generate, and does with --force."""
    argv = [a.format(d=tmp_path) for a in argv]
    path = tmp_path / target
    before = _foreign(path)
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("stepgrad: error: ")]
    assert len(errors) == 1 and "--force" in errors[0]
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert main(argv + ["--force"]) == 0
    assert MARKER.encode() in path.read_bytes()
    assert main(argv) == 0  # now it is stepgrad's own, so it may be regenerated


def test_example_refusal_is_one_line(tmp_path, capsys):
    """example refusing a foreign file prints exactly one stderr line."""
    _foreign(tmp_path / "mazur" / "mazur.md")
    assert main(["example", "mazur", "--no-pdf", "-o", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


@pytest.mark.skipif(not pdf.engine_available(), reason="no TeX engine")
def test_check_pdf_keeps_a_foreign_file(tmp_path, capsys):
    """check --format pdf refuses to replace a foreign PDF unless --force."""
    answers = tmp_path / "a.toml"
    answers.write_text('"out_h1" = 0.593269992\n')
    out = tmp_path / "a.pdf"
    before = _foreign(out)
    argv = ["check", "mazur", str(answers), "--format", "pdf", "-o", str(out)]
    assert main(argv) == 2 and out.read_bytes() == before
    assert "--force" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0 and files.generated_by_stepgrad(out)


def _generate(folder: Path, seed: str, extra_env: dict | None = None, pdf_too: bool = False) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, **(extra_env or {})}
    folder.mkdir()
    spec = str(ROOT / "tests" / "data" / "tanh232.toml")
    commands = [["module", spec, "-o", "g.py"],
                ["derive", spec, "--format", "tex", "--steps", "50", "-o", "w.tex"],
                ["derive", spec, "--format", "md", "--steps", "50", "-o", "w.md"],
                ["derive", "mazur", "--format", "md", "--steps", "50", "-o", "m.md"]]
    if pdf_too:
        commands = [["derive", spec, "--format", "pdf", "--steps", "50", "-o", "m.pdf"]]
    for argv in commands:
        run = subprocess.run([sys.executable, "-m", "stepgrad", *argv], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_output_is_byte_identical_across_hash_seeds(tmp_path):
    """The same spec gives the same .py, .tex, .md and .svg bytes under two PYTHONHASHSEED values."""
    one = _generate(tmp_path / "one", "1")
    two = _generate(tmp_path / "two", "4242")
    assert sorted(one) == ["g.py", "m-network.svg", "m-training.svg", "m.md", "w-network.svg",
                           "w-training.svg", "w.md", "w.tex"]
    for name in one:
        assert one[name] == two[name], name


@pytest.mark.skipif(not pdf.engine_available(), reason="no TeX engine")
def test_pdf_is_byte_identical_with_source_date_epoch(tmp_path):
    """With SOURCE_DATE_EPOCH set, the PDF is byte for byte the same across runs and hash seeds."""
    one = _generate(tmp_path / "one", "1", {"SOURCE_DATE_EPOCH": "1700000000"}, pdf_too=True)
    two = _generate(tmp_path / "two", "99", {"SOURCE_DATE_EPOCH": "1700000000"}, pdf_too=True)
    assert one["m.pdf"].startswith(b"%PDF") and one["m.pdf"] == two["m.pdf"]


# -- what counts as stepgrad's own file -------------------------------------------------------

HEADER = f"{MARKER} 0.1.0 from the spec 'mazur' (A title). Do not edit."


@pytest.mark.parametrize("text, ours", [
    (f"% {HEADER}\n\\documentclass{{article}}\n", True),
    (f"<!-- {HEADER} -->\n# A title\n", True),
    (f'"""Gradients of E_total for the network "A title".\n\n{HEADER}\nRegenerate it.\n"""\n', True),
    (f'"""Gradients of E_total for the network "A title", vectorized with NumPy.\n\n{HEADER}\nx\n"""\n', True),
    (f"\n% {HEADER}\n", False),                              # not at the very top
    (f"%{HEADER}\n\n", False),                               # not the exact line
    (f"% {HEADER} And more.\n\n", False),
    (f"% {MARKER} 0.1.0\nold\n", False),                     # the marker alone is not the header
    (f"# notes\n{HEADER}\n\n", False),                       # the header, but not where stepgrad puts it
    (f'"""My own module.\nx\n{HEADER}\n"""\n', False),      # Python: the header must be the third line
    (f"<!-- {HEADER} -->", False),                           # one line and nothing else: never written so
])
def test_only_the_exact_header_at_the_top_marks_a_text_file(tmp_path, text, ours):
    """A text file is stepgrad's only when it starts exactly as stepgrad starts the files it writes."""
    path = tmp_path / "f"
    path.write_text(text)
    assert files.generated_by_stepgrad(path) is ours


def test_pdf_and_png_are_recognised_by_their_own_markers_only(tmp_path):
    """A PDF is stepgrad's by its trailer's creator and producer near the end, a PNG by the chunk right
    after its header; the same bytes anywhere else do not count."""
    from stepgrad.codegen.pdf import PNG_MARK, mark_png

    tail = b"<< /Creator(stepgrad)/Producer(stepgrad) >>\ntrailer\n%%EOF\n"
    (tmp_path / "ours.pdf").write_bytes(b"%PDF-1.5\n" + b"x" * 50_000 + tail)
    (tmp_path / "theirs.pdf").write_bytes(b"%PDF-1.5\n" + tail + b"x" * 50_000 + b"\n%%EOF\n")
    assert files.generated_by_stepgrad(tmp_path / "ours.pdf")
    assert not files.generated_by_stepgrad(tmp_path / "theirs.pdf")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(13) + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00IEND"
    (tmp_path / "ours.png").write_bytes(mark_png(png))
    (tmp_path / "theirs.png").write_bytes(png + b"tEXt" + PNG_MARK)
    assert files.generated_by_stepgrad(tmp_path / "ours.png")
    assert not files.generated_by_stepgrad(tmp_path / "theirs.png")


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    """write_all never forces 0o644: a new file gets 0o666 less the umask, a replaced one keeps its mode."""
    old = os.umask(0o027)
    try:
        files.write_all({tmp_path / "new.md": b"x"})
        assert os.stat(tmp_path / "new.md").st_mode & 0o777 == 0o640
        (tmp_path / "mine.md").write_bytes(f"<!-- {HEADER} -->\nold\n".encode())
        os.chmod(tmp_path / "mine.md", 0o600)
        files.write_all({tmp_path / "mine.md": b"new"})
        assert os.stat(tmp_path / "mine.md").st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_two_outputs_to_one_file_are_refused(tmp_path):
    """Two outputs that name one file (by different spellings) are refused before anything is written."""
    with pytest.raises(SpecError, match="same file"):
        files.write_all({tmp_path / "a.md": b"1", tmp_path / "x" / ".." / "a.md": b"2"})
    assert not list(tmp_path.iterdir())
