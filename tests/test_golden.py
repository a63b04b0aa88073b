"""generated/ is exactly what the generator produces now."""

from __future__ import annotations

import pytest

from stepgrad.codegen import pdf, pipeline
from stepgrad.symbolic.spec import builtin_names, load

from .conftest import ROOT

GENERATED = ROOT / "generated"
REGENERATE = "regenerate with: stepgrad example --all"


@pytest.fixture(scope="module")
def built(mazur_worked):
    """Every built-in example's artifacts, rendered in memory."""
    from pathlib import Path

    from stepgrad.codegen.cli import markdown_with_figures

    out = {}
    for name in builtin_names():
        spec = load(name)
        worked = mazur_worked if name == "mazur" else pipeline.worked_example(spec, name)
        # the Markdown as `stepgrad example` writes it: linking the SVG figures written beside it
        markdown = {path.name: data.decode() for path, data in markdown_with_figures(worked, Path(f"{name}.md")).items()}
        assert sorted(markdown) == sorted([f"{name}.md", f"{name}-network.svg", f"{name}-training.svg"])
        out[name] = {f"{name}.tex": worked.tex, **markdown, "gradients.py": pipeline.module(spec, name)}
    return out


def test_every_builtin_example_has_committed_output():
    """generated/ holds one folder per built-in example, and nothing else."""
    assert sorted(p.name for p in GENERATED.iterdir() if p.is_dir()) == builtin_names()


@pytest.mark.parametrize("name", builtin_names())
def test_text_artifacts_match_byte_for_byte(built, name):
    """The committed .tex, .md and gradients.py equal a fresh generation, byte for byte."""
    for filename, text in built[name].items():
        committed = (GENERATED / name / filename).read_bytes()
        assert committed == text.encode(), f"generated/{name}/{filename} drifted; {REGENERATE}"


@pytest.mark.skipif(not pdf.engine_available(), reason="no TeX engine installed")
@pytest.mark.parametrize("name", builtin_names())
def test_pdf_compiles_and_matches(built, name, monkeypatch):
    """The LaTeX compiles with pdflatex, and the committed PDF is that compilation's bytes."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    fresh = pdf.compile_pdf(built[name][f"{name}.tex"], name)
    assert fresh.startswith(b"%PDF")
    committed = (GENERATED / name / f"{name}.pdf").read_bytes()
    assert committed == fresh, f"generated/{name}/{name}.pdf drifted; {REGENERATE}"


@pytest.mark.skipif(not pdf.preview_available(), reason="pdftoppm not installed")
@pytest.mark.parametrize("name", builtin_names())
def test_page_previews_match_the_committed_pdf(name):
    """The committed page previews are the committed PDF's pages, rendered now."""
    from stepgrad.codegen.cli import PREVIEW_PAGES

    document = (GENERATED / name / f"{name}.pdf").read_bytes()
    for page in PREVIEW_PAGES:
        committed = (GENERATED / name / f"{name}-page{page}.png").read_bytes()
        assert committed == pdf.preview_png(document, page), f"{name}-page{page}.png drifted; {REGENERATE}"
