"""Nothing a spec or an answers file says can run as code, in generated Python or in TeX.

Hostile names are refused wherever a name can appear; free text (the title,
reference.source) is refused when it could break out of a docstring or a
comment, and escaped otherwise; the generated module contains nothing but
arithmetic; the TeX run has no shell and no file access outside its folder.
"""

from __future__ import annotations

import ast
import tempfile
import uuid
from pathlib import Path

import pytest

from stepgrad.codegen import formats, pdf
from stepgrad.codegen.cli import main
from stepgrad.symbolic.spec import SpecError, parse

from .strategies import HOSTILE_NAMES, _string, base_texts
from .test_fuzz import run_cli

MAZUR = base_texts()["mazur"]
MAZUR = MAZUR[:MAZUR.index("[reference]")]  # no reference figures: keep each run short


def with_title(title: str) -> str:
    return MAZUR.replace('title = "A Step by Step Backpropagation Example"', f"title = {_string(title)}", 1)


#: Every place a user-chosen name reaches generated code, and how to put a name there.
PLACES = {
    "neuron": lambda n: MAZUR.replace('neurons = ["h1", "h2"]', f'neurons = [{_string(n)}, "h2"]', 1),
    "wiring key": lambda n: MAZUR.replace('w1 = "i1 -> h1"', f'{_string(n)} = "i1 -> h1"', 1),
    "wiring edge": lambda n: MAZUR.replace('w1 = "i1 -> h1"', f"w1 = {_string(n + ' -> h1')}", 1),
    "parameter key": lambda n: MAZUR.replace("w1 = 0.15", f"{_string(n)} = 0.15", 1),
    "input key": lambda n: MAZUR.replace("inputs = { i1 = 0.05", f"inputs = {{ {_string(n)} = 0.05", 1),
    "target key": lambda n: MAZUR.replace("targets = { o1 = 0.01", f"targets = {{ {_string(n)} = 0.01", 1),
    "bias_name": lambda n: MAZUR.replace('bias = "shared"          # b1',
                                         f"bias_name = {_string(n)}\nbias = \"shared\" # b1", 1),
    "reference figure": lambda n: MAZUR + f'[reference]\nfigures = {{ {_string(n)} = "0.1" }}\n',
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_refused_everywhere(place, name):
    """A hostile name in any place a name can appear is refused with one SpecError line."""
    from stepgrad.symbolic import reference
    from stepgrad.symbolic.derive import derive

    text = PLACES[place](name)
    assert text != MAZUR
    with pytest.raises(SpecError) as info:
        # a figure's key of the right shape (lambda, None) is refused once compared: no such quantity
        reference.compare(derive(parse(text, "hw.toml")), None)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("hw.toml") or place == "reference figure"


#: Titles that would end a docstring or an HTML comment, or escape in TeX: refused.
REFUSED_TITLES = ['x"""; import os; os.system("touch /tmp/x"); """', 'ends with ""', "a\\N{bogus}",
                  "\\input{/etc/passwd}", "\\immediate\\write18{touch /tmp/x}", "\\catcode`\\{=12",
                  "two\nlines", "a\rb", "rtl \u202e mark", "zero\u200bwidth", "nul\x00", "a --> b"]
#: Titles that are harmless once escaped: accepted, and must come out escaped.
ESCAPED_TITLES = ["}{ unbalanced { braces", "$x$ 100% #1 & a_b ^ ~", "'''; import os; '''",
                  "h\u0430ck (Cyrillic a)", "<script>alert(1)</script>", "**bold** `code` [link](x)",
                  "ｗ1 fullwidth"]


@pytest.mark.parametrize("title", REFUSED_TITLES)
def test_dangerous_titles_are_refused(title):
    """A title that could end a docstring, open a TeX command or hide text is refused in one line."""
    with pytest.raises(SpecError, match="^hw.toml:3: title: ") as info:
        parse(with_title(title), "hw.toml")
    assert "\n" not in str(info.value)


#: Names a generated module may call: its own helpers, math, and a few builtins.
SAFE_CALLS = {"max", "min", "abs", "dict", "dict.fromkeys", "float", "sum", "len", "range", "zip", "sorted"}


def assert_only_arithmetic(source: str) -> None:
    """Fail unless *source* is: a docstring, `import math`, constants, and functions of arithmetic."""
    tree = ast.parse(source)
    own = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            assert [a.name for a in stmt.names] == ["math"], ast.dump(stmt)
        elif isinstance(stmt, ast.Expr):
            assert isinstance(stmt.value, ast.Constant) and stmt is tree.body[0], "only the docstring"
        elif isinstance(stmt, ast.Assign):
            assert all(isinstance(n, (ast.Assign, ast.Constant, ast.Tuple, ast.Dict, ast.Name, ast.Load, ast.Store,
                                      ast.UnaryOp, ast.USub)) for n in ast.walk(stmt)), ast.unparse(stmt)
        else:
            assert isinstance(stmt, ast.FunctionDef), ast.unparse(stmt)
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Lambda, ast.With, ast.Try,
                                     ast.ClassDef, ast.AsyncFunctionDef, ast.Await, ast.Yield, ast.Delete,
                                     ast.Raise)), ast.dump(node)
        if isinstance(node, ast.Import):
            assert node in tree.body
        if isinstance(node, ast.Name):
            assert not node.id.startswith("__"), node.id
        if isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), node.attr
            assert ast.unparse(node.value) == "math" or node.attr in ("items", "fromkeys"), ast.unparse(node)
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            assert (func in own or func in SAFE_CALLS or func.startswith("math.")
                    or func.endswith(".items")), func


def test_the_arithmetic_checker_catches_code():
    """assert_only_arithmetic rejects a smuggled call, so passing it means something."""
    with pytest.raises(AssertionError):
        assert_only_arithmetic('"""doc"""\nimport math\n__import__("os").system("true")\n')
    with pytest.raises(AssertionError):
        assert_only_arithmetic('"""doc"""\nimport math\ndef f(x):\n    return x.__class__\n')
    with pytest.raises(AssertionError):
        assert_only_arithmetic('"""doc"""\nimport os\n')


@pytest.mark.parametrize("title", ESCAPED_TITLES)
def test_harmless_titles_come_out_escaped(title, tmp_path):
    """An accepted title stays inside the module's docstring, and is escaped in LaTeX and Markdown."""
    spec = tmp_path / "hw.toml"
    spec.write_text(with_title(title), encoding="utf-8")
    code, _, err = run_cli(["module", str(spec), "-o", str(tmp_path / "g.py")])
    assert code == 0, err
    source = (tmp_path / "g.py").read_text("utf-8")
    assert_only_arithmetic(source)
    assert title in ast.get_docstring(ast.parse(source))
    for fmt in ("tex", "md"):
        code, _, err = run_cli(["derive", str(spec), "--format", fmt, "--steps", "2", "-o", str(tmp_path / f"w.{fmt}")])
        assert code == 0, err
    tex = (tmp_path / "w.tex").read_text("utf-8")
    assert "\\title{" + formats.tex_escape(title) + "}" in tex
    md = (tmp_path / "w.md").read_text("utf-8")
    assert "# " + formats.md_escape(title) + "\n" in md
    assert md.splitlines()[0].endswith("-->") and md.splitlines()[0].count("-->") == 1


def test_generated_modules_are_only_arithmetic(tmp_path):
    """Every test network's gradient module passes the arithmetic-only check, and imports cleanly."""
    from .conftest import load_module

    for name, text in base_texts().items():
        spec = tmp_path / f"{name}.toml"
        spec.write_text(text, encoding="utf-8")
        out = tmp_path / f"{name}_g.py"
        code, _, err = run_cli(["module", str(spec), "-o", str(out)])
        assert code == 0, (name, err)
        assert_only_arithmetic(out.read_text("utf-8"))
        assert callable(load_module(out.read_text("utf-8"), f"{name}_g", tmp_path).gradients)


def test_spec_file_name_cannot_break_the_docstring(tmp_path):
    """A spec file whose name holds triple quotes still gives a module that is only arithmetic."""
    spec = tmp_path / 'hw"""+__import__("os").getcwd()+""".toml'
    spec.write_text(MAZUR, encoding="utf-8")
    out = tmp_path / "g.py"
    code, _, err = run_cli(["module", str(spec), "-o", str(out)])
    assert code == 0, err
    assert_only_arithmetic(out.read_text("utf-8"))


@pytest.mark.parametrize("formula", ["__import__('os').system('touch /tmp/stepgrad-x')", "w1.__class__",
                                     "exec('1')", "\\input{/etc/passwd}", "\\immediate\\write18{touch x}",
                                     "(lambda: 1)()", "[w1 for w1 in ()]", "10**10**10", "(" * 100 + "w1" + ")" * 100])
def test_hostile_formulas_are_refused(formula, tmp_path):
    """An answer formula that is code, TeX or a bomb is refused as 'unreadable' with its reason in one
    line (the other answers are still judged); nothing runs."""
    answers = tmp_path / "a.toml"
    answers.write_text(f'"net_h1" = {_string(formula)}\n"out_h1" = 0.593269992\n', encoding="utf-8")
    code, out, err = run_cli(["check", "mazur", str(answers)])
    lines = out.splitlines()
    assert code == 1 and not err, err
    assert lines[1].startswith("? net_h1 = ") and "could not read this answer (line 1)" in lines[1]
    assert lines[2] == "✓ out_h1 = 0.593269992" and len(lines) == 4
    assert not Path("/tmp/stepgrad-x").exists()


# -- TeX ----------------------------------------------------------------------------

needs_tex = pytest.mark.skipif(not pdf.engine_available(), reason="no TeX engine")

DOC = "\\documentclass{article}\n\\begin{document}\n%s\nok\n\\end{document}\n"


@needs_tex
def test_tex_cannot_read_absolute_paths():
    """\\input of a file outside the TeX folder is refused (openin_any=p)."""
    with pytest.raises(pdf.TexError):
        pdf.compile_pdf(DOC % "\\input{/etc/hostname}", "hostile")


@needs_tex
def test_tex_openin_outside_its_folder_finds_nothing():
    """\\openin of /etc/hostname sees end of file: the read is refused, so the document compiles."""
    probe = "\\newread\\r \\openin\\r=/etc/hostname \\ifeof\\r \\else \\errmessage{READ-SUCCEEDED}\\fi"
    assert pdf.compile_pdf(DOC % probe, "hostile").startswith(b"%PDF")


@needs_tex
def test_tex_has_no_shell_and_cannot_write_outside():
    """\\write18 runs nothing, and \\openout to /tmp or to .. creates nothing."""
    tag = uuid.uuid4().hex
    shell = Path(tempfile.gettempdir()) / f"stepgrad-shell-{tag}"
    outside = Path(tempfile.gettempdir()) / f"stepgrad-out-{tag}.tex"
    try:
        pdf.compile_pdf(DOC % f"\\immediate\\write18{{touch {shell}}}", "hostile")
    except pdf.TexError:
        pass
    for target in (str(outside), f"../stepgrad-out-{tag}"):
        probe = f"\\newwrite\\w \\immediate\\openout\\w={target} \\immediate\\write\\w{{x}} \\immediate\\closeout\\w"
        try:
            pdf.compile_pdf(DOC % probe, "hostile")
        except pdf.TexError:
            pass
    assert not shell.exists()
    assert not outside.exists()
    assert not list(Path(tempfile.gettempdir()).glob(f"stepgrad-out-{tag}*"))


@needs_tex
def test_title_injection_compiles_escaped(tmp_path):
    """A title full of TeX specials compiles to a PDF (escaped), and a TeX command in a title is refused."""
    spec = tmp_path / "hw.toml"
    spec.write_text(with_title("}{ $x$ 100% #1 & a_b ^ ~ {"), encoding="utf-8")
    assert main(["derive", str(spec), "--format", "pdf", "--steps", "2", "-o", str(tmp_path / "w.pdf")]) == 0
    assert (tmp_path / "w.pdf").read_bytes().startswith(b"%PDF")
    spec.write_text(with_title("\\immediate\\write18{touch /tmp/x}\\input{/etc/hostname}"), encoding="utf-8")
    code, _, err = run_cli(["derive", str(spec), "--format", "pdf", "-o", str(tmp_path / "v.pdf")])
    assert code == 2 and "title" in err and not (tmp_path / "v.pdf").exists()
