"""The notebook walking through the post's example runs on a real Jupyter kernel, without an error."""

from __future__ import annotations

import sys
from pathlib import Path

# The test extras (pip install -e '.[test]'): imported, not skipped, so that CI without them fails.
import ipykernel  # noqa: F401 - the kernel nbclient starts
import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).parent / "notebooks" / "mazur.ipynb"

pytestmark = pytest.mark.slow


def _text(output: dict) -> str:
    """Every text an output carries: a stream's, or each data representation's."""
    if output["output_type"] == "stream":
        return output["text"]
    return "\n".join(v if isinstance(v, str) else "" for v in output.get("data", {}).values())


def _cell(nb, start: str, whole: bool = False):
    """The code cell whose source starts with *start* (or, with *whole*, is exactly *start*)."""
    found = [c for c in nb.cells if c.cell_type == "code"
             and (c.source.strip() == start if whole else c.source.startswith(start))]
    assert len(found) == 1, f"no single cell starts with {start!r}"
    return found[0]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook, executed top to bottom on the python3 kernel in a scratch folder."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEPGRAD_PROGRESS", "0")  # the kernel inherits it: no progress lines among the outputs
        client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                                         resources={"metadata": {"path": str(folder)}})
        client.execute()
    return nb


def test_every_cell_runs_without_an_error(executed):
    """Every code cell ran (nbclient raises on an error) and none shows an error output."""
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]


def test_the_kernel_runs_this_python(executed):
    """The kernel is the test's own interpreter (the venv with stepgrad), not some other python3."""
    lines = "".join(_text(o) for o in _cell(executed, "import sys").outputs).split()
    assert Path(lines[-1]).resolve() == Path(sys.executable).resolve()


def test_the_network_shows_as_svg(executed):
    """The network cell's output is an SVG figure: six neurons, every weight's initial value on its edge."""
    data = _cell(executed, "net = ").outputs[0]["data"]
    figure = data["image/svg+xml"]
    assert figure.lstrip().startswith("<svg") and figure.count("<circle") == 6
    assert all(f"> = {v}</tspan>" in figure for v in ("0.15", "0.2", "0.25", "0.3", "0.4", "0.45", "0.5", "0.55"))


def test_the_post_figures_appear(executed):
    """The derivation's printed values are the post's: out_o1 0.75136507, E_total 0.298371109, w5+ 0.35891648."""
    text = "".join(_text(o) for o in _cell(executed, "d = stepgrad.derive").outputs)
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.strip()}
    assert rows["out_o1"] == "0.751365070"
    assert rows["E_total"] == "0.298371109"
    assert rows["w5+"] == "0.358916480"
    assert rows["w1+"] == "0.149780716"  # the post's 0.149780716


def test_the_derivation_shows_as_markdown_with_math(executed):
    """The bare derivation cell displays the worked example as Markdown with $math$."""
    data = _cell(executed, "d", whole=True).outputs[0]["data"]
    md = data["text/markdown"]
    assert md.count("$") > 100 and "0.298371109" in md and "# A Step by Step Backpropagation Example" in md


def test_the_module_gradients_agree(executed):
    """The generated module's gradient of w5, run in the kernel, is the post's 0.082167041."""
    text = "".join(_text(o) for o in _cell(executed, "source = ").outputs)
    assert "Gradients of E_total" in text
    value = float(text.split("'w5': ")[1].split(",")[0])
    assert abs(value - 0.082167041) < 5e-10


def test_training_reaches_the_posts_error(executed):
    """After 10,000 rounds counted the post's way, E_total is the post's 0.0000351085."""
    text = "".join(_text(o) for o in _cell(executed, "t = stepgrad.train").outputs)
    assert "0.0000351085" in text.split()[1]
    assert text.split()[0].startswith("0.0000351018")


def test_the_check_shows_a_table_with_the_mistake(executed):
    """The check's output is an HTML table; the unchanged w5 is wrong, with its code, the rest right."""
    data = _cell(executed, "answers = ").outputs[0]["data"]
    html = data["text/html"]
    assert "<table>" in html and html.count("<tr>") == 6
    assert "4 of 5 correct." in html and html.count("<td>wrong</td>") == 1
    listed = "".join(_text(o) for o in _cell(executed, "print(result.score").outputs)
    assert "4 of 5" in listed and "('w5+', 'wrong', ('no-update',))" in listed


def test_pasted_working_is_checked_by_part(executed):
    """The pasted line's formula, numbers and value are each judged correct."""
    data = _cell(executed, 'stepgrad.check(net, "net_h1').outputs[0]["data"]
    assert "3 of 3 correct." in data["text/html"] and data["text/html"].count("correct</td>") == 3


def test_training_shows_its_curve(executed):
    """The bare training cell displays the error curve as SVG."""
    figure = _cell(executed, "t", whole=True).outputs[0]["data"]["image/svg+xml"]
    assert figure.lstrip().startswith("<svg") and figure.count('<polyline class="curve"') == 1


def test_a_step_shows_as_math(executed):
    """The first step prints in canonical names and displays its LaTeX line as math."""
    outputs = _cell(executed, "from IPython.display import Math").outputs
    assert outputs[0]["text"] == "net_h1 = w1*i1 + w2*i2 + b1*1 = 0.3775\n"
    latex = outputs[1]["data"]["text/latex"]
    assert latex == r"$\displaystyle net_{h1} = w_{1} \cdot i_{1} + w_{2} \cdot i_{2} + b_{1} \cdot 1 = " \
                    r"0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 \cdot 1 = 0.3775$"


def test_an_exercise_set_shows_as_a_table_of_variants(executed):
    """The exercise cell shows an HTML table with a row per student, MathJax kept off it."""
    html = _cell(executed, "exercises = ").outputs[0]["data"]["text/html"]
    assert "tex2jax_ignore" in html and html.count("<tr>") == 4
    assert all(f"<td>{s}</td>" in html for s in ("ann", "bo", "cy")) and "3 variants" in html


def test_a_variant_shows_its_question_and_checks_its_answers(executed):
    """Bo's variant shows Bo's question sheet as Markdown with math; Bo's rounded out_o1 is right against it."""
    md = _cell(executed, 'bo = exercises["bo"]').outputs[0]["data"]["text/markdown"]
    assert "**Variant 2 of 3, student bo**" in md and "$w_{5}$" in md and "## What to compute" in md
    html = _cell(executed, "bo.check(").outputs[0]["data"]["text/html"]
    assert "1 of 2 correct." in html and html.count("<td>correct</td>") == 1 and html.count("<td>wrong</td>") == 1
