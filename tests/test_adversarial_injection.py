"""Adversarial probes: argument and shell injection; TeX, Markdown/HTML and terminal injection.

Every probe runs the real CLI in a subprocess (tests/adversarial.py) and checks
the run's promises: bounded time and memory, one-line refusals, nothing
written outside the intended outputs, no temporary file left behind.
"""

from __future__ import annotations

import re

import pytest

from stepgrad.codegen import pdf

from .adversarial import TINY, assert_held, run

needs_tex = pytest.mark.skipif(not pdf.engine_available(), reason="no TeX engine")


def with_source(source: str) -> str:
    return TINY + f"[reference]\nsource = {_toml(source)}\n"


def with_title(title: str) -> str:
    return TINY.replace('title = "tiny"', f"title = {_toml(title)}", 1)


def _toml(text: str) -> str:
    """A TOML basic string for any text."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif not ch.isprintable() or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# -- argument and shell injection -----------------------------------------------------

#: File names a student may choose, each an attack on a command line, a shell or TeX.
HOSTILE_FILE_NAMES = ["--help.toml", "$(touch PWNED).toml", "a;touch PWNED;`touch PWNED`.toml",
                      "x\\input{y}&|<>#1~%.toml"]


@needs_tex
def test_hostile_spec_file_name_reaches_no_command_line(tmp_path):
    """A spec named like a latexmk option (and a shell command, with TeX's comment sign, as in the
    issue's 50%.toml) builds its PDF; no command runs: the job name is never the file name."""
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "-pdflatex=touch PWNED;50%.toml").write_text(TINY)
    r = run(["derive", "--format", "pdf", "--", "-pdflatex=touch PWNED;50%.toml"], folder)
    assert_held(r, code=0, outputs={"-pdflatex=touch PWNED;50%.pdf"})
    assert (folder / "-pdflatex=touch PWNED;50%.pdf").read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.rglob("PWNED*"))


@pytest.mark.parametrize("name", HOSTILE_FILE_NAMES)
def test_hostile_file_names_are_plain_names(tmp_path, name):
    """Spec and output files with hostile names are read and written as they are; nothing else happens."""
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / name).write_text(TINY)
    out = "-out-" + name.replace(".toml", ".md")
    figures = {out[:-3] + "-network.svg", out[:-3] + "-training.svg"}  # Markdown's figures, beside it
    r = run(["derive", "--format", "md", f"--output=./{out}", "--", f"./{name}"], folder)
    assert_held(r, code=0, outputs={out} | figures)
    assert not list(tmp_path.rglob("PWNED*"))


def test_built_in_name_is_never_a_student_file(tmp_path):
    """A file and a folder named like a built-in example never replace it; stepgrad says which it used."""
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "mazur").write_text(TINY)  # a student's 'reference': every answer would be 'correct'
    (folder / "answers.toml").write_text('"out_o1" = 0.5\n"w1" = 0.15\n')
    (folder / "answers.toml").write_text('"net_h1" = 0.1\n')
    r = run(["check", "mazur", "answers.toml"], folder)
    assert_held(r, code=1)
    assert "against mazur (A Step by Step Backpropagation Example)" in r.out
    assert "built-in example 'mazur'" in r.err and len(r.err.splitlines()) == 1


@pytest.mark.slow
def test_example_into_the_current_folder_shadows_nothing(tmp_path):
    """`example --no-pdf -o .` leaves ./mazur, which a second run would rewrite (every file is recognised as
    stepgrad's) and which never replaces the built-in example's name."""
    from stepgrad.codegen.files import generated_by_stepgrad

    folder = tmp_path / "w"
    folder.mkdir()
    outputs = {"mazur/mazur.tex", "mazur/mazur.md", "mazur/mazur-network.svg", "mazur/mazur-training.svg",
               "mazur/gradients.py", "mazur"}
    r = run(["example", "--no-pdf", "-o", "."], folder)
    assert_held(r, code=0, outputs=outputs)
    assert all(generated_by_stepgrad(folder / name) for name in outputs - {"mazur"})
    r = run(["values", "mazur", "--json"], folder)
    assert_held(r, code=0)
    assert '"net_h1": "0.3775' in r.out and "built-in example 'mazur'" in r.err


def test_unknown_name_without_a_path_is_not_read_as_a_file(tmp_path):
    """A bare name that is not built in is refused even if such a file exists, saying how to use the file."""
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "myspec").write_text(TINY)
    r = run(["values", "myspec"], folder)
    assert_held(r, message="./myspec")


# -- TeX injection ---------------------------------------------------------------------

TEX_ATTACKS = ["\\errmessage{PWNED}", "\\def\\x{\\x}\\x", "\\input{/etc/passwd}", "\\immediate\\write18{touch PWNED}",
               "}\\end{document}", "^^5cinput{/etc/hostname}", "\\catcode`\\{=12 {", "$$ \\left( $", "%", "#1 ##",
               "δ_o1 naïve ｗ1 😀 \u0430"]


@needs_tex
def test_reference_source_cannot_run_tex(tmp_path):
    """Every TeX attack in reference.source (section titles and text) compiles to a PDF, quickly."""
    folder = tmp_path / "w"
    folder.mkdir()
    source = " ".join(TEX_ATTACKS)[:300]
    (folder / "s.toml").write_text(with_source(source) + '[reference.figures]\n"out_o1" = "0.5"\n')
    r = run(["derive", "s.toml", "--format", "pdf", "-o", "s.pdf"], folder)
    assert_held(r, code=0, outputs={"s.pdf"})
    assert not list(tmp_path.rglob("PWNED*"))


def test_tex_attacks_come_out_as_text(tmp_path):
    """In the LaTeX source every attack string is escaped (the run) and no command of its own survives (each)."""
    from stepgrad.codegen.escape import tex

    for attack in TEX_ATTACKS:
        escaped = tex(attack)
        assert not re.search(r"\\(errmessage|def|input|immediate|write18|catcode|end|left)\b", escaped), attack
        rest = re.sub(r"\\text[a-z]+\{\}|\\ensuremath\{\\[a-zA-Z]+\}|\\[%#$&_{}]", "", escaped)
        assert not re.search(r"[\\%#^~$&_{}]", rest), (attack, rest)
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "s.toml").write_text(with_source(" ".join(TEX_ATTACKS)[:300]) + '[reference.figures]\n"out_o1" = "0.5"\n')
    r = run(["derive", "s.toml", "--format", "tex", "-o", "-"], folder)
    assert_held(r, code=0)
    assert tex(" ".join(TEX_ATTACKS)[:300]) in r.out
    assert "\\errmessage{" not in r.out and "\\def\\x" not in r.out


# -- Markdown / HTML injection ---------------------------------------------------------

MD_KEYS = ["<script>alert(1)</script>", "`", "``a`", "a|b", "<!--", "-->", "[x](javascript:alert(1))", "**b**",
           "$x$", "<img src=x onerror=alert(1)>", "&lt;"]


def test_check_markdown_escapes_answer_keys(tmp_path):
    """`check --format md` writes no raw HTML, balanced code spans, and table rows with their 4 cells."""
    folder = tmp_path / "w"
    folder.mkdir()
    lines = ['"net_h1" = 0.3775'] + [f"{_toml(key)} = 0.5" for key in MD_KEYS]
    (folder / "a.toml").write_text("\n".join(lines) + "\n")
    r = run(["check", "mazur", "a.toml", "--format", "md"], folder)
    assert_held(r, code=1)
    body = r.out.split("\n", 1)[1]
    assert not re.search(r"(?<!\\)<[A-Za-z!/]", _without_code_spans(body)), body
    rows = 0
    for line in body.splitlines():
        if line.startswith("| ") and "---" not in line:
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) == 6, line
            rows += 1
        assert _code_spans_balanced(line), line
    assert rows == 1 + 1 + len(MD_KEYS)  # the header row, then one row per answer


def _without_code_spans(text: str) -> str:
    """Markdown text with its code spans (whose content is literal, never HTML) removed."""
    return re.sub(r"(?<![`\\])(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


def _code_spans_balanced(line: str) -> bool:
    """Every backtick fence in a Markdown line is closed by an equal fence."""
    runs = [m.group() for m in re.finditer(r"(?<!\\)`+", line)]
    while runs:
        fence = runs.pop(0)
        if fence not in runs:
            return False
        runs = runs[runs.index(fence) + 1:]
    return True


COMMENT_TITLES = ["a --!> <script>x</script>", "-- > --", "a <!-- b", "->x", "a--", "---!>"]


def test_title_cannot_close_the_markdown_comment(tmp_path):
    """The header comment of the Markdown document holds the title; nothing in it can close the comment."""
    from stepgrad.codegen.escape import html_comment

    for title in COMMENT_TITLES:
        inner = html_comment(f"from the spec ({title})")
        assert "--" not in inner and not inner.startswith((">", "->")), title
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "s.toml").write_text(with_title(COMMENT_TITLES[0]))
    r = run(["derive", "s.toml", "--format", "md", "-o", "-"], folder)
    assert_held(r, code=0)
    first = r.out.splitlines()[0]
    assert first.startswith("<!-- ") and first.endswith(" -->")
    inner = first[len("<!-- "):-len(" -->")]
    assert "--" not in inner and not inner.startswith((">", "->"))
    assert "<script>" not in r.out.split("\n", 1)[1]  # inside the comment it is only text


# -- terminal injection ----------------------------------------------------------------

ESCAPES = ["\x1b[2J\x1b[31mRED", "\x1b]0;title\x07", "a\rb", "\x9b31m", "\u202eevil", "\x00", "\x08\x08\x08"]


def test_control_characters_in_answers_never_reach_the_terminal(tmp_path):
    """Answer keys and values with terminal escapes are shown escaped, in the report and in errors."""
    folder = tmp_path / "w"
    folder.mkdir()
    lines = ['"net_h1" = 0.3775'] + [f'"dE_total/dw{k + 1}" = {_toml(seq)}' for k, seq in enumerate(ESCAPES)]
    lines += [f"{_toml('x' + seq)} = 1" for seq in ESCAPES]
    (folder / "a.toml").write_text("\n".join(lines) + "\n")
    r = run(["check", "mazur", "a.toml"], folder)
    assert_held(r, code=None)
    assert r.code in (1, 2)
    for ch in "".join(ESCAPES):
        if not ch.isprintable():
            assert ch not in r.out.replace("\n", "") and ch not in r.err.replace("\n", ""), repr(ch)
    if r.code == 1:
        assert len(r.out.splitlines()) == 3 + 2 * len(ESCAPES)  # heading, net_h1, one line per answer, summary


def test_control_characters_in_file_names_are_escaped(tmp_path):
    """A file name with ESC and a newline is shown escaped in the one-line error."""
    folder = tmp_path / "w"
    folder.mkdir()
    name = "evil\x1b[2J\nname.toml"
    (folder / name).write_text("title = 1\n")
    r = run(["values", name], folder)
    assert_held(r, message="\\x1b[2J\\nname.toml")


# -- the newer commands and inputs: new, worksheet, pasted working, class marking -------------

#: Text that is markup in Markdown, HTML, XML/SVG or a spreadsheet (no '"', '\\' or '-->': a title refuses those).
MARKUP = "<script>alert(1)</script> `x` **b** [l](javascript:x) $x$ ]]> {{ 7*7 }} & # ~ ^ _ | =cmd <img src=x>"


def test_worksheet_of_a_hostile_spec_writes_its_own_files_and_escapes_everything(tmp_path):
    """A spec named like an option, with markup in its title and source: the worksheet's three files carry
    the spec's own stem (never a shared network.svg), the Markdown links the figure percent-encoded and
    shows no raw HTML outside its header comment, and the SVG is well-formed XML with the title as text."""
    import xml.etree.ElementTree as ET

    folder = tmp_path / "w"
    folder.mkdir()
    name = "-a b](x)%$.toml"
    (folder / name).write_text(with_source(MARKUP).replace('title = "tiny"', f"title = {_toml(MARKUP)}", 1))
    stem = name[:-5]
    outputs = {f"{stem}-answers.toml", f"{stem}-questions.md", f"{stem}-questions-network.svg"}
    r = run(["worksheet", "--no-pdf", "--", name], folder)
    assert_held(r, code=0, outputs=outputs)
    markdown = (folder / f"{stem}-questions.md").read_text()
    body = markdown.split("\n", 1)[1]
    assert "(-a%20b%5D%28x%29%25%24-questions-network.svg)" in body
    assert not re.search(r"(?<!\\)<[A-Za-z!/]", _without_code_spans(body)), body
    assert not re.search(r"(?<!\\)\]\(javascript", body), body
    root = ET.fromstring((folder / f"{stem}-questions-network.svg").read_text())
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == MARKUP


def test_new_writes_a_spec_under_a_name_like_an_option(tmp_path):
    """`new -o` with a name like a latexmk option and a shell command writes that file and runs nothing."""
    folder = tmp_path / "w"
    folder.mkdir()
    r = run(["new", "2-2-1", "--output=-pdflatex=touch PWNED;.toml"], folder)
    assert_held(r, code=0, outputs={"-pdflatex=touch PWNED;.toml"})
    assert not list(tmp_path.rglob("PWNED"))


HOSTILE_LINES = ["<script>alert(1)</script> = 3", "out_h1 = <img src=x onerror=alert(1)> = 0.59",
                 "net_o1 = `x`` = 1 | 2", "\x1b[2J\x1b]0;title\x07 = 1", "\u202eevil = [l](javascript:x)",
                 r"E_total = \def\x{\x}\x \errmessage{boom} 50% = 1"]


@pytest.mark.parametrize("suffix", [".md", ".tex"])
def test_pasted_working_with_markup_is_shown_as_text(tmp_path, suffix):
    """Pasted working whose lines are HTML, Markdown, TeX and terminal escapes: the Markdown feedback has
    no raw HTML outside code spans, balanced code spans, and no control character anywhere."""
    folder = tmp_path / "w"
    folder.mkdir()
    good = "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775"
    (folder / f"w{suffix}").write_text("\n".join([good, *HOSTILE_LINES]) + "\n")
    r = run(["check", "mazur", f"w{suffix}", "--format", "md"], folder)
    assert_held(r, code=None)
    assert r.code in (0, 1), r.err
    body = r.out.split("\n", 1)[1]
    assert not re.search(r"(?<!\\)<[A-Za-z!/]", _without_code_spans(body)), body
    assert all(_code_spans_balanced(line) for line in body.splitlines())
    assert not any(not ch.isprintable() and ch != "\n" for ch in r.out + r.err), "a control character got out"


def test_class_summary_cells_are_never_spreadsheet_formulas(tmp_path):
    """Submissions named like spreadsheet formulas (=, +, -, @) mark normally; every CSV cell they fill
    starts with a quote, and their feedback files keep their names."""
    import csv

    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "class").mkdir()
    names = ["=HYPERLINK(x).toml", "+1+1.toml", "-2+3.md", "@SUM(A1).txt"]
    for name in names:
        (folder / "class" / name).write_text('"net_h1" = 0.3775\n' if name.endswith(".toml") else
                                             "net_h1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775\n")
    feedback = {f"class/{n.rsplit('.', 1)[0]}-feedback.md" for n in names}
    r = run(["check", "mazur", "class"], folder)
    assert_held(r, code=0, outputs=feedback | {"class/class-summary.csv", "class/class-mistakes.md"})
    rows = list(csv.reader((folder / "class" / "class-summary.csv").open()))
    assert len(rows) == 1 + len(names)
    for row in rows[1:]:
        assert all(cell[:1] not in ("=", "+", "-", "@") for cell in row), row


def test_file_names_that_are_not_utf8_are_written_about_safely(tmp_path):
    """A spec and a submission whose names hold bytes that are not UTF-8 (as a zip from another system
    gives): the worksheet links its figure by those very bytes, the class CSV shows them as U+FFFD, and
    nothing ends in an internal error."""
    import os

    folder = tmp_path / "w"
    (folder / "c").mkdir(parents=True)
    raw = b"bad\xff\xfe"
    with open(os.fsencode(folder) + b"/" + raw + b".toml", "w") as fh:
        fh.write(TINY)
    with open(os.fsencode(folder / "c") + b"/" + raw + b".toml", "w") as fh:
        fh.write('"net_h1" = 0.3775\n')
    stem = os.fsdecode(raw)
    r = run(["worksheet", "--no-pdf", f"{stem}.toml"], folder)
    assert_held(r, code=0, outputs={f"{stem}-answers.toml", f"{stem}-questions.md", f"{stem}-questions-network.svg"})
    markdown = (folder / f"{stem}-questions.md").read_bytes().decode("utf-8")
    assert "(bad%FF%FE-questions-network.svg)" in markdown
    r = run(["check", "mazur", "c"], folder)
    assert_held(r, code=0, outputs={f"c/{stem}-feedback.md", "c/class-summary.csv", "c/class-mistakes.md"})
    assert "bad\ufffd\ufffd.toml" in (folder / "c" / "class-summary.csv").read_text("utf-8")


def test_progress_lines_escape_the_spec_name(monkeypatch):
    """The training progress line names the spec; a name with terminal escapes is shown escaped."""
    import io

    from stepgrad.codegen.progress import progress

    monkeypatch.setenv("STEPGRAD_PROGRESS", "1")
    out = io.StringIO()
    times = iter(range(0, 100, 2))
    with progress("training \x1b]0;pwned\x07\x1b[2J", 10, stream=out, clock=lambda: next(times)) as tick:
        for step in range(1, 4):
            tick(step)
    assert out.getvalue() and "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "\\x1b]0;pwned\\x07" in out.getvalue()


def test_a_spec_without_a_title_named_like_code_gets_a_plain_title(tmp_path):
    """With no title, the file's name is the title only when it is plain text: a name holding a line
    break, quotes and an ESC gives a module whose docstring is intact and whose code runs nothing."""
    import ast

    folder = tmp_path / "w"
    folder.mkdir()
    name = 'x"""\nimport os; os.system("touch PWNED")\n"""\x1b.toml'
    (folder / name).write_text(TINY.replace('title = "tiny"\n', ""))
    r = run(["module", name, "-o", "g.py"], folder)
    assert_held(r, code=0, outputs={"g.py"})
    tree = ast.parse((folder / "g.py").read_text())
    assert not any(isinstance(node, ast.Import) and node.names[0].name == "os" for node in tree.body)
    assert "touch PWNED" not in (folder / "g.py").read_text()
