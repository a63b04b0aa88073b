"""The feedback sheet and the JSON feedback: math notation, wrapping on A4, non-ASCII text, the schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stepgrad.codegen import check_report

EXAMPLES = Path(__file__).resolve().parents[1] / "symbolic" / "examples"

#: A sheet with several wrong answers of different kinds, a long formula, an unknown non-ASCII key.
SHEET = """\
"out_h1" = 0.593269992
"net_h1" = 0.3825
"dE_total/dout_o1" = "(t_o1 - out_o1)"
"δ_o2" = "(out_o2 - target_o2) * out_o2"
"∂E/∂w5" = -0.082167041
"dE_total/dw6" = 0.1385
"w5+" = 0.4
"dE_total/dout_h1" = "dE_o1_dout_h1 + dE_o2_dout_h1 + dE_o1_dout_h1*dE_o2_dout_h1*out_h1*out_h2*net_h1*net_h2*w1*w2"
"delta_h1" = "dE_total_dout_h1 * dout_h1_dnet_h1 * (1 - foo)"
"Größe_日本" = 0.5
"""


def _sheet(tmp_path, spec: str = "mazur", text: str = SHEET, fmt: str = "pdf") -> str:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    out, code = check_report.run(spec, str(path), fmt)
    assert code == 1
    return out


def test_expected_formulas_are_math_not_identifiers(tmp_path):
    """Neither sheet shows an internal identifier such as dE_total_dout_o2 in its Expected column."""
    for fmt in ("md", "pdf"):
        out = _sheet(tmp_path, fmt=fmt)
        table = out[:out.index("\\subsection") if fmt == "pdf" else out.index("\n## ")]
        assert "dE_total_dout_o2" not in table and "dout_o2_dnet_o2" not in table
        assert "\\frac{\\partial E_{total}}{\\partial out_{o2}}" in table


def test_latex_table_wraps_in_fixed_columns(tmp_path):
    """The table's columns are paragraph columns that fit a 17 cm text width; long answers may break."""
    tex = _sheet(tmp_path)
    spec = re.search(r"\\begin\{longtable\}\{(.*)\}\n", tex).group(1)
    widths = [float(w) for w in re.findall(r"p\{([\d.]+)cm\}", spec)]
    assert len(widths) == 4 and sum(widths) + 6 * 6 / 28.45 <= 17.0  # 3 inner gaps of 2 x 6 pt
    assert "\\allowbreak{}" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_pdf_fits_a4_with_a_non_ascii_title(tmp_path):
    """A title and keys in other scripts compile, and no line runs past the margin (no overfull box)."""
    spec = tmp_path / "net.toml"
    spec.write_text((EXAMPLES / "mazur.toml").read_text(encoding="utf-8").replace(
        'title = "A Step by Step Backpropagation Example"', "title = 'Größe — δ-Netz 日本 & 50% {x} ~ #1'", 1),
        encoding="utf-8")
    assert "Größe" in spec.read_text()
    tex = _sheet(tmp_path, str(spec))
    (tmp_path / "s.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "s.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    log = (tmp_path / "s.log").read_text("utf-8", "replace")
    assert (tmp_path / "s.pdf").exists(), run.stdout[-2000:]
    assert "Overfull \\hbox" not in log
    assert "Gr" in tex and "\\ensuremath{\\delta}" in tex


def test_json_schema_for_a_gradebook(tmp_path):
    """The JSON feedback: schema, summary (score, total, blank, counts) and per answer verdict, codes,
    message and score; counts agree with the answers."""
    doc = json.loads(_sheet(tmp_path, text=SHEET + '"out_h2" = ""\n', fmt="json"))
    assert doc["schema"] == check_report.JSON_SCHEMA and doc["spec"] == "mazur"
    answers = doc["answers"]
    assert {"quantity", "given", "expected", "verdict", "codes", "message", "score", "line",
            "diagnoses"} <= set(answers[0])
    summary = doc["summary"]
    assert summary["total"] == 10 and summary["blank"] == 1
    assert summary["score"] == sum(a["score"] for a in answers) == 1
    assert sum(summary["counts"].values()) == len(answers) == 11
    assert summary["counts"] == {"blank": 1, "correct": 1, "unknown": 1, "unreadable": 1, "wrong": 7}
    by = {a["quantity"]: a for a in answers}
    assert by["dE_total/dw5"]["codes"] == ["sign-error"] and by["dE_total/dw5"]["score"] == 0
    assert "wrong sign" in by["dE_total/dw5"]["message"]
    assert by["delta_h1"]["verdict"] == "unreadable" and "foo" in by["delta_h1"]["message"]
