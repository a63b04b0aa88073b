"""The README's "Using stepgrad from Python" section: every example in its python blocks runs and shows what it shows."""

from __future__ import annotations

import doctest
import re

import pytest

from stepgrad.codegen import pdf

from .conftest import ROOT

SECTION = "## Using stepgrad from Python"


def _section() -> tuple[str, int]:
    """The section's text and the README line it starts on."""
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else len(text)], text.count("\n", 0, start) + 1


def _examples() -> list[doctest.Example]:
    """Every example of the section's python blocks, in order, with its README line."""
    section, first_line = _section()
    examples = []
    for block in re.finditer(r"```python\n(.*?)```", section, re.S):
        line = first_line + section.count("\n", 0, block.start(1))
        for example in doctest.DocTestParser().get_examples(block.group(1)):
            example.lineno += line
            examples.append(example)
    return examples


def test_the_section_has_examples():
    """The section exists and its blocks hold examples of every entry point."""
    sources = "".join(e.source for e in _examples())
    for call in ("stepgrad.load(", "stepgrad.derive(", "stepgrad.render(", "stepgrad.gradient_module(",
                 "stepgrad.train(", "stepgrad.check(", "stepgrad.exercise("):
        assert call in sources, call


def test_every_example_gives_what_the_readme_shows(tmp_path, monkeypatch):
    """The examples run in order in one namespace (each may use the ones before) and print what is shown.

    The PDF example is skipped when no TeX engine is installed.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STEPGRAD_PROGRESS", "0")
    examples = _examples()
    if not pdf.engine_available():
        for e in examples:
            if '"pdf"' in e.source:
                e.options[doctest.SKIP] = True
    test = doctest.DocTest(examples, {}, "README.md: " + SECTION, str(ROOT / "README.md"), 0, None)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
    assert runner.tries == len(examples) - sum(bool(e.options.get(doctest.SKIP)) for e in examples)


def test_a_wrong_readme_example_fails(tmp_path):
    """The runner used above does fail on a wrong output (so the test above can fail)."""
    example = doctest.DocTestParser().get_examples('>>> import stepgrad\n>>> stepgrad.derive("mazur").shown'
                                                   '["E_total"]\n\'0.3\'\n')
    test = doctest.DocTest(example, {}, "wrong", None, 0, None)
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda text: None)
    assert runner.failures == 1


@pytest.mark.parametrize("name", ["load", "derive", "render", "gradient_module", "train", "check", "exercise"])
def test_every_entry_point_has_a_docstring_example(name):
    """Each public function documents itself with an example (run by tests/test_doctests.py)."""
    import stepgrad

    assert ">>> " in getattr(stepgrad, name).__doc__


def _signature(function) -> str:
    """A function's call as the README's table writes it: parameters and defaults, no annotations."""
    import inspect

    parts, star = [], False
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        elif p.default is p.empty:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={p.default!r}")
    return f"{function.__name__}({', '.join(parts)})"


def test_the_table_of_entry_points_is_the_api():
    """Each row's call is the function's real signature, and each attribute it lists exists on the result."""
    import stepgrad

    section, _ = _section()
    rows = re.findall(r"^\| `(\w+)\((.*?)\)` \| (.*) \|$", section, re.M)
    assert [name for name, _, _ in rows] == ["load", "configure", "derive", "render", "gradient_module", "train",
                                             "check", "exercise"]
    for name, args, returns in rows:
        assert f"{name}({args})" == _signature(getattr(stepgrad, name))
        # "`Result`: `a`, `b`; each `Part`: `c`; `b` gives `Other`: `d`" lists the attributes of Result, then of
        # each of its parts and of what its methods give
        for part in re.split(r"; (?:each |`\w+` gives )?(?=`[A-Z])", returns):
            result = re.match(r"`(\w+)`", part).group(1)
            if result in ("str",):
                continue
            cls = getattr(stepgrad, result)
            for attribute in re.findall(r"`(\w+)(?:\(\w*\))?`", part.split(":", 1)[1]) if ":" in part else []:
                assert hasattr(cls, attribute) or attribute in cls.__dataclass_fields__, (result, attribute)
