"""Every notebook: one literal-only `parameters` cell, no committed outputs, a kernelspec, and it runs."""

import ast
import json

import pytest

from conftest import NOTEBOOKS, image_count, outputs_text

ids = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert any(p.stem == "00_data_overview" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_structure(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    cells = doc["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    source = "".join(tagged[0]["source"])
    for node in ast.parse(source).body:  # literals only: papermill does not recompute derived defaults
        assert isinstance(node, ast.Assign), ast.dump(node)
        ast.literal_eval(node.value)
    for c in cells:
        if c["cell_type"] == "code":
            assert c.get("outputs") == [], "committed without outputs"
            assert c.get("execution_count") is None
    assert doc["metadata"]["kernelspec"]["name"] == "helsemeldinger"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_runs_on_default_data(path, run_notebook):
    nb = run_notebook(path.stem)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert image_count(nb) >= 1, "every report shows at least one figure"


@pytest.mark.notebook
def test_data_overview_shows_published_figures(run_notebook):
    nb = run_notebook("00_data_overview", lang="en")
    text = outputs_text(nb)
    for phrase in ("over 63 millioner", "nesten 3,4 millioner", "rundt 200 millioner", "(63, 64)", "[3.35, 3.4)"):
        assert phrase in text
    assert image_count(nb) == 2
