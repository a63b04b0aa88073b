"""Compact worked examples are short: one representative step of each kind in full, the rest in tables.

The page counts are those of the compiled PDFs (pdfinfo), for a spec written by hand in tests/data/
and one written by ``stepgrad new``.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from stepgrad.codegen import document, formats, newspec, pdf, pipeline
from stepgrad.codegen.document import Equation, Table
from stepgrad.symbolic import naming
from stepgrad.symbolic.spec import load

from .conftest import ROOT

RELU_TWO = ROOT / "tests" / "data" / "networks" / "relu2443_two.toml"


def _new_spec(tmp_path, shape: str, activation: str, steps: int = 1000) -> str:
    path = tmp_path / f"{shape}.toml"
    path.write_text(newspec.new_spec(shape, activation, None, "half_sse", "per_neuron", 0, "0.5", steps))
    return str(path)


def _section(doc, anchor: str):
    return next(s for s in doc.sections if s.anchor == anchor)


def _equation_names(section) -> list[str]:
    return [b.lhs for b in section.blocks if isinstance(b, Equation)]


def _pages(data: bytes, tmp_path) -> int:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


needs_tex = pytest.mark.skipif(not pdf.engine_available() or shutil.which("pdfinfo") is None,
                               reason="no TeX engine or pdfinfo installed")


@needs_tex
@pytest.mark.parametrize("which, limit", [("relu2443_two", 8), ("4-8-8-3", 12)])
def test_compact_pdf_page_counts(tmp_path, which, limit):
    """2-4-4-3 ReLU with per-neuron biases and two samples: at most 8 pages; 4-8-8-3: at most 12."""
    path = str(RELU_TWO) if which == "relu2443_two" else _new_spec(tmp_path, which, "tanh")
    spec = load(path)
    assert len(spec.parameters) > document.FULL_LIMIT  # compact by default
    worked = pipeline.worked_example(spec, which)
    assert worked.document.compact
    pages = _pages(pdf.compile_pdf(worked.tex, "compact"), tmp_path)
    assert pages <= limit, f"{which}: {pages} pages"


def test_compact_batch_and_updates_write_out_one_of_each_kind():
    """Combining the batch and the updates show the error and one trained parameter in full; the
    table of updated parameters (folded side by side) gives every parameter's combined gradient and value after."""
    spec = load(str(RELU_TWO))
    compact = pipeline.worked_example(spec, "relu2443_two").document
    d = pipeline.derivation(spec)
    first = spec.parameters[0]
    batch = _equation_names(_section(compact, "batch"))
    assert batch == [document.m(naming.E_TOTAL), document.m(naming.d(naming.E_TOTAL, first))]
    assert len(_equation_names(_section(compact, "update"))) == 1
    table = next(b for b in _section(compact, "updated").blocks if isinstance(b, Table))
    assert len(table.header) == 8  # every parameter trained: no status column; two groups of four
    cells = [row[g * 4:(g + 1) * 4] for g in range(2) for row in table.rows]
    cells = [c for c in cells if c[0] != document.para("")]
    assert [c[0] for c in cells] == [document.para("", naming.latex_name(p)) for p in spec.parameters]
    # every cell of the table is the derivation's value, read back from its printed digits
    for p, row in zip(spec.parameters, cells):
        grad = naming.d(naming.E_TOTAL, p)
        expected = [d.values[grad], d.values[naming.updated(p)]]
        printed = [float(cell[0][1]) for cell in row[2:]]
        for got, want in zip(printed, expected):
            assert got == pytest.approx(float(want), abs=1e-9, rel=1e-6)


def test_expand_keeps_everything_in_full():
    """--expand: every parameter's batch combination and update, every sample, no folded tables."""
    spec = load(str(RELU_TWO))
    full = pipeline.worked_example(spec, "relu2443_two", expand=True).document
    assert not full.compact
    n = len(spec.parameters)
    assert len(_equation_names(_section(full, "batch"))) == n + 1
    assert len(_equation_names(_section(full, "update"))) == n
    network = _section(full, "network")
    weights = next(b for b in network.blocks if isinstance(b, Table))
    assert len(weights.rows) == len(spec.weights) and len(weights.header) == 4
    text = formats.to_markdown(full)
    assert "Sample 2:" in text and "In full for" not in text


def test_folded_tables_keep_every_row_once():
    """Side-by-side column groups hold every row of the table, in order, and nothing else."""
    rows = tuple((document.para(f"r{k}"), document.para(str(k))) for k in range(31))
    table = Table((document.para("a"), document.para("b")), rows, "lr")
    folded = document.fold(table, 3)
    assert len(folded.header) == 6 and folded.align == "lrlrlr"
    cells = [row[g * 2:(g + 1) * 2] for g in range(3) for row in folded.rows]
    assert [c for c in cells if c[0] != document.para("")] == list(rows)
    assert document.fold(Table(table.header, rows[:10], "lr"), 3) == Table(table.header, rows[:10], "lr")


def test_compact_forward_pass_shows_each_activation_once(tmp_path):
    """Layers with the same activation share one forward step in full; the table gives every neuron."""
    spec = load(_new_spec(tmp_path, "4-8-8-3", "tanh"))
    doc = pipeline.worked_example(spec, "4-8-8-3").document
    forward = _section(doc, "forward")
    names = _equation_names(forward)
    # tanh hidden layers (the first one in full), the sigmoid output layer: net and out of each
    assert names == [document.m(naming.net("h1_1")), document.m(naming.out("h1_1")),
                     document.m(naming.net("o1")), document.m(naming.out("o1"))]
    table = next(b for b in forward.blocks if isinstance(b, Table))
    assert len(table.rows) == 8 + 8 + 3
