"""Shared test fixtures: each notebook execution the suite needs, run once per test run.

- `published_build`: ONE pipeline run (``reports.run --jobs 2``) of every notebook on the published figures,
  with the default parameters, into a temporary folder: the executed notebooks, the pages, the exports.
- `executed(stem, lang, data=..., **parameters)`: any other execution (a user's series, other parameters),
  memoised: each distinct call runs its notebook once.

Both are computed once across pytest-xdist workers (a file lock in the run's shared temporary folder, the
pattern the xdist documentation gives) and work the same without xdist.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# isort: off
import analysis.pipeline  # noqa: F401  (first: it keeps jsonschema, which nbformat imports, from loading
# rfc3987_syntax, about 2 s of CPU in every pytest process; src/analysis/pipeline/__init__.py)
import nbformat
# isort: on
import pytest

from analysis import paths

# One BLAS thread per process, set before numpy loads here and inherited by every kernel the tests start: the
# two xdist workers and their kernels already keep both cores busy, and the models' matrices are small, so more
# OpenBLAS threads only spin against each other (the calibration tests used about half again the CPU time).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Warm kernels' processes end with the process that started them (a test process, a build the tests run): a test
# run leaves no process behind. tests/test_warm.py tries the lasting ones (the default) in folders of its own.
if os.environ.get("HELSEMELDINGER_WARM", "").strip().lower() != "off":
    os.environ["HELSEMELDINGER_WARM"] = "build"

LANGS = ("nb", "en")
# Every notebook file: each notebook is kept once per language, notebooks/<lang>/<stem>.ipynb.
NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*/*.ipynb"))
STEMS = sorted({p.stem for p in NOTEBOOKS})
# The published build's fixed facts (the pages carry them): a build time and a commit, so that a later build of
# the same notebooks (tests/test_reports.py, serial against parallel) can be compared with it byte for byte.
BUILD_EPOCH = "1700000000"  # SOURCE_DATE_EPOCH: 2023-11-14T22:13:20Z
BUILD_COMMIT = ("f" * 40, False)
# The Chromium this test run was given (HM_CHROMIUM, or None: found on the PATH), for builds that print PDFs.
CHROMIUM_ENV = os.environ.get("HM_CHROMIUM")


# A user's file, SYNTHETIC test data written by hand: the total and SYSVAK in 2019 and 2020, four rows. Notebooks
# 00 and 01 run on it once each (executed("00_data_overview", "en", data=USER_SERIES)), for every test of a run on
# a user's file (tests/test_overview.py, test_claims.py, test_findings.py).
USER_SERIES = ("synthetic_series.csv", "period,measure,sender,receiver,value,source_id\n"
               "2019,total,all,all,201000000,synthetic_test\n2020,total,all,all,193000000,synthetic_test\n"
               "2019,sysvak,all,all,4000000,synthetic_test\n2020,sysvak,all,all,5000000,synthetic_test\n")



def trend_series() -> tuple[tuple[str, str], dict[str, object]]:
    """(data, parameters) of notebook 03's run on a user's full series, SYNTHETIC (fixed seed): a yearly total
    2010-2021 on an S-curve with noise, then 193 and 284 million; baseline 2010-2019, target years 2020 and
    2021, 60 bootstrap draws. Use as executed("03_trend_models", "en", data=data, **parameters): one execution for
    every test of it (tests/test_trend.py, test_findings.py, test_teaching.py)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(2024)
    years = np.arange(2010, 2022)
    y = np.round(200e6 / (1 + np.exp(-0.9 * (years - 2012.0))) + rng.normal(0, 3e6, 12))
    y[-2:] = [193e6, 284e6]
    series = pd.DataFrame({"period": years, "measure": "total", "sender": "all", "receiver": "all", "value": y,
                           "source_id": "synthetic_test_series"}).to_csv(index=False)
    return ("synthetic_total.csv", series), dict(baseline_start=2010, baseline_end=2019, target_periods=[2020, 2021],
                                                 n_boot=60)


def notebook_file(name: str, lang: str = "nb") -> Path:
    """The file of notebook `name` in `lang`: notebooks/<lang>/<name>.ipynb."""
    return paths.NOTEBOOKS_DIR / lang / f"{name}.ipynb"


def execute_notebook(name: str, out_dir: Path, **parameters: object) -> nbformat.NotebookNode:
    """Run notebook `name` in the language of its `lang` parameter (default nb) through papermill into
    `out_dir` and return the executed notebook."""
    import papermill

    from analysis.pipeline.render import IpcKernelManager

    src = notebook_file(name, str(parameters.get("lang", "nb")))
    out = out_dir / f"{name}_{parameters.get('lang', 'nb')}.ipynb"
    papermill.execute_notebook(  # a warm kernel, as the pipeline's (analysis.pipeline.warm)
        str(src), str(out), parameters=parameters, kernel_name=paths.KERNEL_NAME,
        kernel_manager_class=IpcKernelManager, request_save_on_cell_execute=False,
        cwd=str(src.parent), execution_timeout=600, progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def outputs_text(nb: nbformat.NotebookNode, without_tags: tuple[str, ...] = ()) -> str:
    """All text and HTML outputs of an executed notebook, joined, for assertions on what a reader sees
    (leaving out cells with any of `without_tags`)."""
    parts = []
    for cell in nb.cells:
        if set(without_tags) & set(cell.get("metadata", {}).get("tags", [])):
            continue
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


def errors(nb: nbformat.NotebookNode) -> list:
    """The error outputs of an executed notebook."""
    return [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


# ---------------------------------------------------------------- computed once per test run, across workers

def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need executed notebooks run first (the published build, then the other executions,
    notebook-marked and slow tests), so that no long kernel run or simulation is left for the end while the
    other worker idles.

    pytest-xdist's worksteal hands each worker a contiguous share of this order at the start: every test that
    reads the published build (tests/test_pages.py's `full_build` asks for it) lies in the first share, so the
    worker that makes the build runs them, and the other worker starts on tests that wait for no build."""
    def rank(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        if "published_build" in names or "full_build" in names:
            return 0
        long = item.get_closest_marker("notebook") or item.get_closest_marker("slow")
        return 1 if "executed" in names or long else 2

    items.sort(key=rank)  # stable: the collection order within each rank


@pytest.fixture(autouse=True)
def _without_chromium(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In tests marked `without_chromium` (builds whose PDFs no test reads: tests/test_reports.py,
    test_uptodate.py), builds print no PDF (HM_CHROMIUM empty), which saves a browser start per build; the PDFs
    are checked in test_briefing.py and test_pages.py, and pipeline_run (the published build) prints them."""
    if request.node.get_closest_marker("without_chromium"):
        monkeypatch.setenv("HM_CHROMIUM", "")


def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this test run shares (the run's base temporary folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(root: Path, key: str, make: Callable[[Path], None]) -> Path:
    """Return root/key, made by `make(folder)` once per test run by whichever worker asks first (the others
    wait on a file lock). A failure is kept: later callers get its message instead of a second attempt."""
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    folder, failed = root / key, root / f"{key}.failed"
    with FileLock(str(root / f"{key}.lock")):
        if failed.exists():
            pytest.fail(failed.read_text(encoding="utf-8"), pytrace=False)
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                make(folder)
            except Exception as exc:
                failed.write_text(f"{key} (made once for the test run) failed: {type(exc).__name__}: {exc}",
                                  encoding="utf-8")
                raise
            (folder / ".done").touch()
    return folder


def pipeline_run(root: Path, *args: str) -> int:
    """reports.run into root/out and root/build with BUILD_EPOCH and BUILD_COMMIT; its printed output is kept
    in root/log.txt. Return the exit code."""
    from analysis.pipeline import provenance, reports

    root.mkdir(parents=True, exist_ok=True)
    with (pytest.MonkeyPatch.context() as mp, open(root / "log.txt", "a", encoding="utf-8") as log,
          contextlib.redirect_stdout(log), contextlib.redirect_stderr(log)):
        mp.setenv("SOURCE_DATE_EPOCH", BUILD_EPOCH)
        if CHROMIUM_ENV is None:  # a build as a user runs it: with the two-page briefings' PDFs, where Chromium is
            mp.delenv("HM_CHROMIUM", raising=False)
        else:
            mp.setenv("HM_CHROMIUM", CHROMIUM_ENV)
        mp.setattr(provenance, "git_commit", lambda root=None: BUILD_COMMIT)
        return reports.run([*args, "--out", str(root / "out"), "--build", str(root / "build")])


@dataclass(frozen=True)
class Build:
    """One pipeline run: root/out (pages, figures/, tables/, index.html), root/build/<lang>/<stem>.ipynb
    (the executed notebooks, the pipeline's audit cells first and last), root/log.txt, the exit code."""

    root: Path
    exit_code: int

    @property
    def out(self) -> Path:
        """The reports folder (--out)."""
        return self.root / "out"

    @property
    def log(self) -> str:
        """What the run printed (stdout and stderr)."""
        return (self.root / "log.txt").read_text(encoding="utf-8")

    def executed(self, stem: str, lang: str = "nb") -> nbformat.NotebookNode:
        """The executed notebook as the pipeline kept it (a fresh copy: a test may change it)."""
        path = self.root / "build" / lang / f"{stem}.ipynb"
        if not path.exists():
            pytest.fail(f"{stem} ({lang}) was not executed by the build; its log:\n{self.log}", pytrace=False)
        return nbformat.read(path, as_version=4)

    def notebook(self, stem: str, lang: str = "nb") -> nbformat.NotebookNode:
        """The executed notebook without the pipeline's audit cells: the notebook's own cells and outputs."""
        from analysis.pipeline.provenance import PROVENANCE_TAG

        nb = self.executed(stem, lang)
        nb.cells = [c for c in nb.cells if PROVENANCE_TAG not in c.get("metadata", {}).get("tags", [])]
        return nb

    def written(self, stem: str, lang: str = "nb") -> list[Path]:
        """The files the kernel of `stem` in `lang` wrote (figures, tables), as its audit cell reported them."""
        from analysis.pipeline.render import audit

        return sorted(Path(p) for p in audit(self.executed(stem, lang)).written)


@pytest.fixture(scope="session")
def published_build(tmp_path_factory) -> Build:
    """Every notebook, both languages, on the published figures with default parameters: one pipeline run
    (`--jobs 2`) per test run, shared by every test that inspects a default execution or its exports."""
    def make(folder: Path) -> None:
        (folder / "exit_code").write_text(str(pipeline_run(folder, "--jobs", "2")), encoding="utf-8")

    root = once(shared_dir(tmp_path_factory), "published_build", make)
    return Build(root, int((root / "exit_code").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Execution:
    """One memoised execution: the executed notebook, the data file it was given, its export folder."""

    nb: nbformat.NotebookNode
    data_path: Path | None
    export_dir: Path | None


@pytest.fixture(scope="session")
def executed(tmp_path_factory) -> Callable[..., Execution]:
    """Call as executed(stem, lang="nb", data=(file name, text) or None, export=False, **parameters): the
    notebook run through papermill once per distinct call in the test run. `data` is written to a file of that
    name, given as data_path; `export=True` gives an export_dir. Returns an Execution (a fresh notebook copy)."""
    root = shared_dir(tmp_path_factory) / "executed"
    # The kernels share one result cache, as a build's kernels do (analysis.cache; under pytest it is off unless
    # set): the figure theme is read from it instead of importing seaborn in every kernel, and results shared by
    # two executions are computed once. Cached results are the results (tests/test_cache.py).
    results = shared_dir(tmp_path_factory) / "executed_cache"

    def run(stem: str, lang: str = "nb", data: tuple[str, str] | None = None, export: bool = False,
            **parameters: object) -> Execution:
        spec = json.dumps([stem, lang, data, export, parameters], sort_keys=True, default=str)
        key = f"{stem}_{lang}_{hashlib.sha256(spec.encode()).hexdigest()[:12]}"
        folder = root / key
        data_path = folder / "data" / data[0] if data else None
        export_dir = folder / "out" if export else None

        def make(folder: Path) -> None:
            given = dict(parameters, lang=lang)
            if data_path is not None:
                data_path.parent.mkdir()
                data_path.write_text(data[1], encoding="utf-8")
                given["data_path"] = str(data_path)
            if export_dir is not None:
                given["export_dir"] = str(export_dir)
            from analysis import cache

            with cache.using(results):
                execute_notebook(stem, folder, **given)

        once(root, key, make)
        return Execution(nbformat.read(folder / f"{stem}_{lang}.ipynb", as_version=4), data_path, export_dir)

    return run


@pytest.fixture
def run_notebook(tmp_path):
    """Fixture: call with a notebook name and parameters; returns the executed notebook (run for this test
    only: prefer `published_build` or `executed`, which run each execution once per test run)."""
    def _run(name: str, **parameters: object) -> nbformat.NotebookNode:
        return execute_notebook(name, tmp_path, **parameters)
    return _run
