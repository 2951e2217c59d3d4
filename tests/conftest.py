"""Shared test fixtures: executing notebooks through papermill with the project's kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from analysis import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


def execute_notebook(name: str, out_dir: Path, **parameters: object) -> nbformat.NotebookNode:
    """Run notebooks/<name>.ipynb through papermill into `out_dir` and return the executed notebook."""
    import papermill

    src = paths.NOTEBOOKS_DIR / f"{name}.ipynb"
    out = out_dir / f"{name}.ipynb"
    papermill.execute_notebook(
        str(src), str(out), parameters=parameters, kernel_name=paths.KERNEL_NAME,
        cwd=str(paths.NOTEBOOKS_DIR), execution_timeout=600, progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def outputs_text(nb: nbformat.NotebookNode) -> str:
    """All text and HTML outputs of an executed notebook, joined, for assertions on what a reader sees."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(out["text"])
            for key in ("text/plain", "text/html", "text/markdown"):
                if key in out.get("data", {}):
                    parts.append(out["data"][key])
    return "\n".join(parts)


def image_count(nb: nbformat.NotebookNode) -> int:
    """Number of PNG or SVG images among the outputs of an executed notebook."""
    return sum(
        1 for cell in nb.cells for out in cell.get("outputs", [])
        if {"image/png", "image/svg+xml"} & set(out.get("data", {}))
    )


@pytest.fixture
def run_notebook(tmp_path):
    """Fixture: call with a notebook name and parameters; returns the executed notebook."""
    def _run(name: str, **parameters: object) -> nbformat.NotebookNode:
        return execute_notebook(name, tmp_path, **parameters)
    return _run
