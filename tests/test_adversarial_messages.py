"""Adversarial probes: messages.

Bad input gets one line that names what and where and states the limit; user
text in it is cut and escaped; nothing ends in a traceback or an "internal
error" because of what a student wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stepgrad.codegen import pdf

from .adversarial import TINY, assert_held, run



@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "w"
    path.mkdir()
    return path


@pytest.mark.parametrize("name", ["out_h1", "net_o1", "E_total", "delta_o1", "target_o1"])
def test_a_name_like_a_derived_quantity_is_refused_clearly(folder, name):
    """A weight named like a derived quantity (out_h1) is exit 2 with what to do, not 'internal error'."""
    from stepgrad.symbolic.spec import SpecError, parse

    spec = TINY.replace("w1 = 0.15", f"{name} = 0.15").replace('[parameters]', f'[wiring]\n{name} = "i1 -> o1"\n'
                                                              'w2 = "i2 -> o1"\n[parameters]')
    with pytest.raises(SpecError, match=f"{name}.*keeps for the quantities it derives"):
        parse(spec, "s.toml")
    if name in ("out_h1", "E_total"):
        (folder / "s.toml").write_text(spec)
        r = run(["values", "s.toml"], folder)
        assert_held(r, message="keeps for the quantities it derives")
        assert name in r.err


def test_long_names_are_cut_in_messages(folder):
    """A 100,000-character name (bare key, quoted key or value) is shown cut, in a short line."""
    long = "n" * 100_000
    for text in (TINY.replace('neurons = ["o1"]', f'neurons = ["{long}"]'),
                 TINY.replace("w1 = 0.15", f'"{long}" = 0.15'),
                 TINY + f'[reference.figures]\n"{long}" = "0.1"\n'):
        (folder / "s.toml").write_text(text)
        r = run(["values", "s.toml"], folder)
        assert_held(r)
        assert "…" in r.err and len(r.err) < 400, r.err[:500]


def test_rounds_are_quoted_in_full(folder):
    """E_total@99999999 is named with all its digits, not cut to 7, in answers and in reference figures."""
    from stepgrad.symbolic.spec import SpecError, parse

    (folder / "a.toml").write_text('"E_total@99999999" = 0.1\n')
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, message="99999999")
    with pytest.raises(SpecError, match="round 99999999 is past"):
        parse(TINY + '[reference.figures]\n"E_total@99999999" = "0.1"\n', "s.toml")


def test_byte_order_mark_is_accepted(folder):
    """A spec and an answers file saved with a UTF-8 byte-order mark read as without one."""
    (folder / "s.toml").write_bytes(b"\xef\xbb\xbf" + TINY.encode())
    (folder / "a.toml").write_bytes(b"\xef\xbb\xbf" + b'"out_o1" = 0.5\n')
    r = run(["check", "s.toml", "a.toml"], folder)
    assert_held(r, code=1)
    assert "Invalid statement" not in r.err + r.out


@pytest.mark.parametrize("data, message, cli", [
    ("title = 'x'\n".encode("utf-16"), "UTF-16", True),
    (b"title = 'x'\n\xff\xfe bad\n", "s.toml:2: not UTF-8", True),
    (b"\x00\x01\x02", "not valid TOML", False),
    (b"title = 'x'\n[[layers]\n", "s.toml:2: not valid TOML", False),
])
def test_unreadable_specs_say_why_and_where(folder, data, message, cli):
    """Encodings and broken TOML are one line naming the file, the line and what is wrong."""
    from stepgrad.symbolic import inputs
    from stepgrad.symbolic.spec import SpecError, parse

    with pytest.raises(SpecError, match=message) as info:
        parse(inputs.decode(data, "s.toml"), "s.toml")
    assert "\n" not in str(info.value)
    if cli:
        (folder / "s.toml").write_bytes(data)
        r = run(["values", "s.toml"], folder)
        assert_held(r, message=message)


def test_a_folder_or_a_missing_file_is_one_line(folder):
    """A folder given as the spec, a missing spec, a missing answers file: one line each."""
    (folder / "d.toml").mkdir()
    assert_held(run(["values", "d.toml"], folder), message="is a folder")
    assert_held(run(["values", "missing.toml"], folder), message="no such spec file")
    assert_held(run(["check", "mazur", "missing.toml"], folder), message="no such answers file")


def test_tex_failure_quotes_the_error_and_its_line():
    """When TeX fails, the message quotes TeX's first error and the source line, since the log is gone."""
    source = "\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedmacro here\n\\end{document}\n"
    if not pdf.engine_available():
        log = "! Undefined control sequence.\nl.4 \\undefinedmacro\n                    here\n"
        assert pdf.first_error(log) == "Undefined control sequence. (at line 4 of the LaTeX source: '\\\\undefinedmacro')"
        return
    with pytest.raises(pdf.TexError) as info:
        pdf.compile_pdf(source)
    message = str(info.value)
    assert "Undefined control sequence" in message and "line 4" in message and "undefinedmacro" in message
    assert "\n" not in message


# A legal but unusual spec name (50%.toml) building its PDF is probed with the hostile names, in
# test_adversarial_injection.test_hostile_spec_file_name_reaches_no_command_line.


def test_a_class_none_of_whose_submissions_can_be_read_is_one_line(folder):
    """Marking a class where no submission can be read: exit 2, one line naming the count and the first
    reason (file and line), and no summary, mistakes table or feedback written."""
    (folder / "x.toml").write_text("= =\n")
    (folder / "y.md").write_bytes(b"\xff\xfe\x00bad")
    r = run(["check", "mazur", "x.toml", "y.md"], folder)
    assert_held(r, message="none of the 2 submissions could be read; the first: x.toml")


def test_new_and_worksheet_refusals_name_what_and_where(folder):
    """`new` with a shape that is not one, and `worksheet` on a spec with a bad value: one line each,
    naming the argument or the spec's file, line and key."""
    r = run(["new", "3-x-2\x1b[2J"], folder)
    assert_held(r, message="shape '3-x-2\\x1b[2J'")
    (folder / "s.toml").write_text(TINY.replace("learning_rate = 0.5", "learning_rate = -1"))
    r = run(["worksheet", "s.toml", "--no-pdf"], folder)
    assert_held(r, message="s.toml:")
    assert "learning_rate" in r.err


def test_standard_output_on_a_full_disk_is_one_line(capsys, monkeypatch):
    """`stepgrad values mazur > /dev/full`: exit 2 and one line, not an internal error."""
    import errno
    import io

    from stepgrad.codegen import cli

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sys.stdout", Full())
    assert cli.main(["new", "2-2"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["stepgrad: error: standard output: cannot write: No space left on device"]
