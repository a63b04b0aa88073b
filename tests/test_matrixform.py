"""The backward pass in matrix form: the printed matrices, read back from the LaTeX and Markdown,
multiply out (in this test, at float precision) to the printed results, and the NumPy lines named
are the generated module's."""

from __future__ import annotations

import re

import pytest

from stepgrad.codegen import matrixform, pipeline
from stepgrad.symbolic.spec import load

from .conftest import ROOT

RELU_TWO = str(ROOT / "tests" / "data" / "networks" / "relu2443_two.toml")
BATCH2 = str(ROOT / "tests" / "data" / "networks" / "batch2.toml")
SPECS = [("mazur", None), ("softmax_batch", None), (RELU_TWO, None), (RELU_TWO, True), (BATCH2, None)]


def _matrices(line: str) -> list[list[list[float]]]:
    out = []
    for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", line):
        out.append([[float(x.replace("−", "-")) for x in row.split("&")] for row in body.split(r"\\")])
    return out


def _section(text: str, markdown: bool) -> list[str]:
    start = text.index("The backward pass in matrix form")
    rest = text[start:]
    end = re.search(r"\n## |\n\\section\{" if markdown else r"\n\\section\{", rest[10:])
    body = rest[:end.start() + 10] if end else rest
    return [line for line in body.splitlines() if "bmatrix" in line]


def _close(a: float, b: float) -> bool:
    # every printed entry is rounded to 9 decimals (or 6 significant digits)
    return abs(a - b) <= 2e-8 + 2e-6 * abs(b)


def _matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def _transpose(a):
    return [list(r) for r in zip(*a)]


@pytest.fixture(scope="module", params=SPECS)
def worked(request):
    spec_arg, expand = request.param
    spec = load(spec_arg)
    return spec, pipeline.worked_example(spec, "net", expand)


@pytest.mark.parametrize("markdown", [False, True])
def test_printed_matrices_multiply_out(worked, markdown):
    spec, w = worked
    lines = _section(w.markdown if markdown else w.tex, markdown)
    checked = 0
    for here, after in zip(lines, lines[1:]):
        ms, result = _matrices(here), _matrices(after)
        if len(result) != 1 or len(ms) < 2:
            continue
        (r,) = result
        if r"\odot" in here:  # (W^T) delta ⊙ f'
            wt, delta, fprime = ms
            product = _matmul(wt, delta)
            expected = [[product[i][0] * fprime[i][0]] for i in range(len(product))]
        else:  # delta out^T, or (1/m) Delta O^T
            expected = _matmul(ms[0], ms[1])
            scale = re.match(r"\s*&?=?\s*\\frac\{1\}\{(\d+)\}", here)
            if scale:
                expected = [[x / int(scale.group(1)) for x in row] for row in expected]
        assert len(expected) == len(r) and all(len(a) == len(b) for a, b in zip(expected, r))
        for got_row, want_row in zip(r, expected):
            for got, want in zip(got_row, want_row):
                assert _close(got, want), (here[:80], got, want)
        checked += 1
    layers = len(spec.layers) - 1
    # every layer's gradient, every hidden layer's delta, and the batch's product when there is a batch
    batch = len(pipeline.derivation(spec).batch) > 1
    if w.document.compact:
        # one product of each kind: the last hidden layer's delta, the output layer's gradient (by the
        # batch's product when there is a batch)
        assert checked == min(1, layers - 1) + (0 if batch else 1) + batch
    else:
        assert checked == layers + (layers - 1) + batch


def test_weight_matrices_are_the_spec_values(worked):
    """The transposed weight matrix printed for each hidden layer's delta holds the spec's weights."""
    spec, w = worked
    initial = {k: float(v) for k, v in spec.initial}
    hidden = [line for line in _section(w.tex, False) if r"\odot" in line]
    for k, line in zip(range(len(spec.layers) - 2, 0, -1), hidden):
        wt = _matrices(line)[0]
        grid = matrixform.weight_grid(spec, k + 1)
        assert wt == [[initial[grid[r][c]] for r in range(len(grid))] for c in range(len(grid[0]))]


def test_numpy_lines_are_the_modules(worked):
    spec, w = worked
    module = pipeline.module(spec, "net", "numpy").splitlines()
    named = re.findall(r"line (\d+), \\texttt\{(.*?)\}(?:;| \()", w.tex)
    assert named
    for number, text in named:
        assert module[int(number) - 1].strip() == text.replace(r"\_", "_").replace("-{}", "-")
    assert any("@" in text for _, text in named)


def test_hidden_deltas_from_updated_weights_get_no_section():
    """With hidden deltas taken from the already-updated output weights the products are not the
    gradient's, so the section is left out rather than printed with the wrong weights."""
    spec = load("mazur")
    assert matrixform.applies(pipeline.derivation(spec))
    variant = spec.with_training(hidden_deltas="updated")
    assert not matrixform.applies(pipeline.derivation(variant))
    assert "matrix form" not in pipeline.worked_example(variant, "mazur").tex
