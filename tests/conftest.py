"""Shared test fixtures: executing notebooks through papermill with the project's kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from analysis import paths

LANGS = ("nb", "en")
# Every notebook file: each notebook is kept once per language, notebooks/<lang>/<stem>.ipynb.
NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*/*.ipynb"))
STEMS = sorted({p.stem for p in NOTEBOOKS})


def notebook_file(name: str, lang: str = "nb") -> Path:
    """The file of notebook `name` in `lang`: notebooks/<lang>/<name>.ipynb."""
    return paths.NOTEBOOKS_DIR / lang / f"{name}.ipynb"


def execute_notebook(name: str, out_dir: Path, **parameters: object) -> nbformat.NotebookNode:
    """Run notebook `name` in the language of its `lang` parameter (default nb) through papermill into
    `out_dir` and return the executed notebook."""
    import papermill

    src = notebook_file(name, str(parameters.get("lang", "nb")))
    out = out_dir / f"{name}_{parameters.get('lang', 'nb')}.ipynb"
    papermill.execute_notebook(
        str(src), str(out), parameters=parameters, kernel_name=paths.KERNEL_NAME,
        cwd=str(src.parent), execution_timeout=600, progress_bar=False,
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
