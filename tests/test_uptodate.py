"""Up-to-date stamps (analysis.pipeline.uptodate): a report is skipped only when nothing it was built from
changed, each input proved on a stamp made by hand (no kernel), then end to end on a tiny notebook and on
notebook 00."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis import cache, paths
from analysis.pipeline import reports, uptodate
from analysis.pipeline.render import Outcome, Task

# No test here reads a two-page briefing's PDF (test_briefing.py and test_pages.py do): builds print none.
pytestmark = pytest.mark.without_chromium


def _task(tmp: Path, **changes: object) -> Task:
    """A task on tmp/nb.ipynb writing into tmp/out and tmp/build."""
    values = dict(notebook=tmp / "nb.ipynb", lang="en", parameters={"lang": "en", "export_dir": str(tmp / "out")},
                  defaults={"lang": "nb", "export_dir": ""}, out_dir=tmp / "out", build_dir=tmp / "build")
    values.update(changes)
    return Task(**values)  # type: ignore[arg-type]


@pytest.fixture
def built(tmp_path) -> tuple[Task, Outcome]:
    """A task as if it had rendered: its notebook, data file, pages, executed copy and an exported table, and
    its stamp."""
    (tmp_path / "nb.ipynb").write_text('{"cells": []}', encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text("period,value\n2020,1\n", encoding="utf-8")
    task = _task(tmp_path)
    files = [task.briefing, task.teaching, task.executed, tmp_path / "out" / "tables" / "10_t_en.csv"]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"content of {f.name}", encoding="utf-8")
    outcome = Outcome(task.name, True, 3.5, 3.0, task.briefing, task.teaching, data_files=[str(data)],
                      written=[str(files[-1])])
    uptodate.record(task, outcome)
    return task, outcome


def test_unchanged_is_up_to_date_with_the_recorded_outcome(built):
    task, outcome = built
    got, why = uptodate.check(task)
    assert why == "up to date"
    assert got is not None and got.ok and got.seconds == 0.0
    assert (got.name, got.briefing, got.teaching, got.data_files, got.written) == \
        (outcome.name, outcome.briefing, outcome.teaching, outcome.data_files, outcome.written)


def test_a_changed_data_file_rebuilds(built):
    task, outcome = built
    Path(outcome.data_files[0]).write_text("period,value\n2020,2\n", encoding="utf-8")
    assert uptodate.check(task) == (None, "data file data.csv changed")


def test_a_removed_data_file_rebuilds(built):
    task, outcome = built
    Path(outcome.data_files[0]).unlink()
    assert uptodate.check(task) == (None, "data file data.csv missing")


def test_a_changed_notebook_rebuilds(built):
    task, _ = built
    task.notebook.write_text('{"cells": [], "x": 1}', encoding="utf-8")
    assert uptodate.check(task) == (None, "notebook_sha256 changed")


def test_changed_package_source_rebuilds(built, monkeypatch):
    task, _ = built
    monkeypatch.setattr(cache, "source_hash", lambda: "0" * 64)
    assert uptodate.check(task) == (None, "source changed")


def test_a_changed_dependency_version_rebuilds(built, monkeypatch):
    task, _ = built
    installed = cache.dependency_versions()
    monkeypatch.setattr(cache, "dependency_versions", lambda: {**installed, "pandas": "0.1"})
    assert uptodate.check(task) == (None, "dependencies changed")


@pytest.mark.parametrize("change, field", [
    ({"parameters": {"lang": "en", "export_dir": "elsewhere"}}, "parameters"),
    ({"kernel": "another-kernel"}, "kernel"),
    ({"synthetic": True}, "synthetic"),
])
def test_changed_parameters_kernel_or_synthetic_mark_rebuild(built, tmp_path, change, field):
    assert uptodate.check(_task(tmp_path, **change)) == (None, f"{field} changed")


def test_a_deleted_or_changed_output_rebuilds(built):
    task, outcome = built
    task.teaching.write_text("edited by hand", encoding="utf-8")
    assert uptodate.check(task) == (None, f"output {task.teaching.name} changed")
    uptodate.record(task, outcome)  # as after a rebuild: the stamp names the current files
    assert uptodate.check(task)[1] == "up to date"
    Path(outcome.written[0]).unlink()  # an exported table
    assert uptodate.check(task) == (None, "output 10_t_en.csv missing")


def test_a_failed_build_removes_the_stamp_and_no_stamp_is_not_up_to_date(built):
    task, _ = built
    uptodate.record(task, Outcome(task.name, False, 1.0, error="boom"))
    assert not uptodate.stamp_path(task).exists()
    assert uptodate.check(task) == (None, "not built before")
    uptodate.stamp_path(task).parent.mkdir(parents=True, exist_ok=True)
    uptodate.stamp_path(task).write_text("{not json", encoding="utf-8")
    assert uptodate.check(task) == (None, "not built before")


# ---------------------------------------------------------------- end to end


def _notebook(folder: Path, stem: str, body: str, parameters: str = 'data_path = ""\nscale = 1') -> Path:
    """A one-language notebook (no lang parameter) with a data_path parameter: it reads the file if given."""
    doc = new_notebook()
    doc.metadata["kernelspec"] = {"name": paths.KERNEL_NAME, "display_name": "Python (helsemeldinger)",
                                  "language": "python"}
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    doc.cells = [new_markdown_cell(f"# {stem}\n\n{body}"), params,
                 new_code_cell("if data_path:\n    print(open(data_path).read().count('\\n') * scale)")]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.ipynb"
    nbformat.write(doc, path)
    return path


def _statuses(printed: str) -> dict[str, str]:
    """Report name -> "ok", "up to date" or "FAILED", from the summary of a run."""
    summary = printed[printed.rindex("Summary:"):]
    return {m.group(2): m.group(1) for m in re.finditer(r"^  (ok|up to date|FAILED)\s+(\S+)", summary, re.M)}


def _series(path: Path, last: int = 1040) -> Path:
    path.write_text("period,measure,sender,receiver,value,source_id\n2019,total,all,all,1000,synthetic_test\n"
                    f"2020,total,all,all,{last},synthetic_test\n", encoding="utf-8")
    return path


@pytest.mark.notebook
def test_second_run_skips_and_each_change_rebuilds_what_depends_on_it(tmp_path, capsys, monkeypatch):
    """Each change rebuilds what depends on it. The data file is loaded and checked before the kernels when the
    checks' inputs changed (the file, a parameter, --force), not after a notebook's markdown was edited."""
    nbdir = tmp_path / "notebooks"
    a = _notebook(nbdir, "10_a", "First.")
    _notebook(nbdir, "20_b", "Second.")
    data = _series(tmp_path / "series.csv")
    cli = ["--notebooks", str(nbdir), "--out", str(tmp_path / "out"), "--build", str(tmp_path / "build"),
           "--jobs", "2", "--data", str(data)]
    loads = []
    load_frame = reports.load_frame
    monkeypatch.setattr(reports, "load_frame", lambda *a, **k: loads.append(a[0]) or load_frame(*a, **k))

    def run(*extra: str, loaded: int) -> dict[str, str]:
        loads.clear()
        assert reports.run([*cli, *extra]) == 0
        assert len(loads) == loaded, extra
        return _statuses(capsys.readouterr().out)

    assert run(loaded=1) == {"10_a": "ok", "20_b": "ok"}
    page = tmp_path / "out" / "briefing" / "10_a.html"
    before = page.stat().st_mtime_ns
    assert run(loaded=0) == {"10_a": "up to date", "20_b": "up to date"}
    assert page.stat().st_mtime_ns == before  # not written again
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="briefing/10_a.html"' in index and 'href="briefing/20_b.html"' in index  # still listed

    nb = nbformat.read(a, as_version=4)  # a markdown edit in one notebook: that notebook only
    nb.cells[0].source += " Edited."
    nbformat.write(nb, a)
    assert run(loaded=0) == {"10_a": "ok", "20_b": "up to date"}  # the data were checked as they are
    assert "Edited." in page.read_text(encoding="utf-8")

    _series(data, last=1050)  # the data file both read
    assert run(loaded=1) == {"10_a": "ok", "20_b": "ok"}
    assert run("-p", "scale=2", loaded=1) == {"10_a": "ok", "20_b": "ok"}  # a parameter
    assert run("-p", "scale=2", loaded=0) == {"10_a": "up to date", "20_b": "up to date"}
    (tmp_path / "out" / "teaching" / "20_b.html").unlink()  # a deleted output
    assert run("-p", "scale=2", loaded=0) == {"10_a": "up to date", "20_b": "ok"}
    assert (tmp_path / "out" / "teaching" / "20_b.html").is_file()
    assert run("-p", "scale=2", "--force", loaded=1) == {"10_a": "ok", "20_b": "ok"}

    # A data file broken after it passed: checked again (its bytes changed), refused before any kernel starts.
    data.write_text(data.read_text(encoding="utf-8").replace("1050", "many"), encoding="utf-8")
    assert reports.run([*cli, "-p", "scale=2"]) == reports.EXIT_USAGE
    printed = capsys.readouterr()
    assert "Nothing was run" in printed.err and "series.csv" in printed.err
    assert "Summary:" not in printed.out


@pytest.mark.notebook
def test_notebook_00_is_up_to_date_on_the_second_run(tmp_path, capsys):
    cli = ["--only", "00_data_overview", "-p", "lang=en", "--out", str(tmp_path / "out"),
           "--build", str(tmp_path / "build")]
    assert reports.run(cli) == 0
    assert _statuses(capsys.readouterr().out) == {"00_data_overview_en": "ok"}
    pages = {p: p.read_bytes() for p in (tmp_path / "out").rglob("00_data_overview*.html")}
    assert len(pages) == 3  # briefing, teaching, solutions
    assert reports.run(cli) == 0
    printed = capsys.readouterr().out
    assert _statuses(printed) == {"00_data_overview_en": "up to date"}
    assert "Summary: 0 rendered, 0 failed, 1 up to date" in printed
    assert {p: p.read_bytes() for p in pages} == pages
    stamp = uptodate.stamp_path(reports.plan(reports.discover(["00_data_overview"]), {"lang": "en"}, None,
                                             tmp_path / "out", tmp_path / "build")[0])
    recorded = stamp.read_text(encoding="utf-8")
    assert "ehelsemonitor_2021.csv" in recorded  # the data file the kernel read, from the audit


# What a build with every report up to date must not import: it decides on the stamps alone.
HEAVY = ("pandas", "numpy", "nbformat", "jupyter_client", "papermill", "analysis.data",
         "analysis.pipeline.render", "analysis.pipeline.report_html")


@pytest.mark.notebook
def test_with_every_report_up_to_date_nothing_heavy_is_imported_but_a_bad_input_is_still_refused(tmp_path, capsys):
    import json
    import subprocess
    import sys

    nbdir = tmp_path / "notebooks"
    _notebook(nbdir, "10_a", "First.", 'data_path = ""\nscale = 1\nconvention = "default"')
    data = _series(tmp_path / "series.csv")
    cli = ["--notebooks", str(nbdir), "--out", str(tmp_path / "out"), "--build", str(tmp_path / "build"),
           "--data", str(data)]
    assert reports.run(cli) == 0
    assert _statuses(capsys.readouterr().out) == {"10_a": "ok"}
    out = tmp_path / "out"
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    # The second run in a fresh interpreter: every report up to date, the index standing, nothing heavy imported.
    script = ("import json, sys\nfrom analysis.pipeline import reports\ncode = reports.run(json.loads(sys.argv[1]))\n"
              f"print('IMPORTED', json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script, json.dumps(cli)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(reports.__file__).parents[2])})
    assert done.returncode == 0, done.stderr
    assert _statuses(done.stdout) == {"10_a": "up to date"}
    assert "Rendering 0 of 1 report(s) (1 up to date)" in done.stdout and "SYNTHETIC" in done.stdout
    assert "[1/1] up to date 10_a" in done.stdout and f"index: {out / 'index.html'}" in done.stdout
    assert done.stdout.splitlines()[-1] == "IMPORTED []"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before  # nothing written

    # Something to do again: the data file and the parameters are checked as before, with the same one line.
    assert reports.run([*cli, "-p", "convention=nonsense"]) == reports.EXIT_USAGE
    err = capsys.readouterr().err
    assert "nonsense" in err and err.startswith("error: ") and "Nothing was run" in err and "Traceback" not in err
    data.write_text("period,measure,value\n2020,total,5\n", encoding="utf-8")  # the file the stamp recorded, changed
    assert reports.run(cli) == reports.EXIT_USAGE
    assert "series.csv: missing column(s) ['sender', 'receiver']" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before

    _series(data)  # as it was: up to date again; a deleted index is written again, the reports still up to date
    (out / "index.html").unlink()
    assert reports.run(cli) == 0
    assert _statuses(capsys.readouterr().out) == {"10_a": "up to date"}
    assert 'href="briefing/10_a.html"' in (out / "index.html").read_text(encoding="utf-8")
