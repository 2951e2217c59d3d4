"""Render every notebook with papermill into self-contained HTML reports: ``python -m analysis.pipeline``.

Each notebook is kept once per language, ``notebooks/<lang>/<stem>.ipynb`` (a notebook kept as one file
``notebooks/<stem>.ipynb`` with a ``lang`` parameter is run once per language). Each language's file is
executed once (kept in ``build/executed/<lang>/``) and written twice: without code to
``reports/briefing/<stem>_<lang>.html`` and with code to ``reports/teaching/<stem>_<lang>.html``. Notebooks
with an ``export_dir`` parameter write figures to ``reports/figures/`` and tables to ``reports/tables/``.
``reports/index.html`` lists every report. Arguments are checked (parameters, data file) before any kernel
starts; one failing notebook does not stop the others, keeps its previous HTML, and makes the exit code 1.

A run on a user's file (``--data FILE``) writes a set of its own to ``reports/data/<file stem>/`` (index,
briefing/, teaching/, figures/, tables/; executed notebooks in ``build/executed/data/<file stem>/``), so the
published reports are never touched by it; ``reports/index.html`` links to every such set. ``--out`` and
``--build`` override the folders. After a run, each notebook that rendered in every language loses the pages,
figures and tables it did not write this time (left over from a run with other parameters or data): pages
``<stem>[_<lang>].html``, and figures and tables named ``<NN>_...`` after the notebook's leading number. A
notebook that failed keeps all its old files. Data whose source_id contains "synthetic" are marked on every
page (banner), in the index, on every figure (stamp) and in every table (column ``data_note``).

A report whose inputs did not change since its last good build (notebook file, parameters, the data files its
kernel read, the package source, the installed dependencies; its pages and exported files still as written)
is not rendered again: it is listed as "up to date" (:mod:`analysis.pipeline.uptodate`); ``--force`` renders
every report. When every report is up to date and the index and the two-page briefings stand, that is decided
from the stamps alone (every input hashed) before the data file is loaded or the renderer imported, and nothing
is written; the data file and the parameter values are checked whenever something is to be rendered (unless
they passed the same checks before: :func:`analysis.pipeline.uptodate.checked`). A
language's two-page briefing is written again only when one of its reports rendered or failed (or it is
missing), its PDF printed in one headless Chromium session started while the kernels run.

The kernels of one build share a result cache (:mod:`analysis.cache`; ``build/cache/results/``, or
``<build folder>/cache`` for a build folder outside build/; HELSEMELDINGER_CACHE=off turns it off), and every
notebook's first language is started before any second language, so what does not depend on the language is
computed once.

Reproducibility: two builds on the same inputs write byte-identical tables (CSV) and figures (PNG, SVG), and
HTML pages that differ only in the provenance footer's build time and git commit (set SOURCE_DATE_EPOCH to
fix the build time too). ``--jobs N`` gives the same files as a serial build.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, NamedTuple

from analysis import __version__, paths
from analysis.errors import DataError
from analysis.pipeline.briefing import BRIEFING_STEM, Written, write_handouts
from analysis.present.catalogue import LANGS

if TYPE_CHECKING:  # the renderer imports jupyter_client and pandas: a build with nothing to do needs neither
    from analysis.pipeline.render import Outcome, Task

DEFAULT_TIMEOUT = 600  # seconds per cell; papermill's own default is to wait forever
EXIT_FAILED = 1  # at least one notebook failed
EXIT_USAGE = 2  # bad arguments or data file: nothing was run
USER_DATA_FOLDER = "data"  # reports/data/<file stem>/: report sets on users' files
STATE_FILE = ".index-state.json"  # what the last run into a folder knew, to rewrite its index later


def notebook_lang(notebook: Path) -> str | None:
    """The language of a notebook file kept in a language folder (``notebooks/<lang>/<stem>.ipynb``), else None."""
    return notebook.parent.name if notebook.parent.name in LANGS else None


def discover(only: Sequence[str] | None = None, notebooks_dir: str | Path | None = None) -> list[Path]:
    """Return the notebook files of `notebooks_dir` (default notebooks/) in name order, or those named in `only`.

    A notebook is kept either once per language, as ``<lang>/<stem>.ipynb`` (each file in one language), or as
    one file ``<stem>.ipynb`` (rendered once per language when it has a ``lang`` parameter). Both files of a
    notebook kept per language are returned, nb first; `only` names notebooks by stem or file name.
    """
    folder = Path(notebooks_dir) if notebooks_dir else paths.NOTEBOOKS_DIR
    order = {lang: i for i, lang in enumerate(LANGS)}
    files = [p for p in folder.glob("*.ipynb")] + [p for lang in LANGS for p in (folder / lang).glob("*.ipynb")]
    found = sorted((p for p in files if not p.name.startswith(".")),
                   key=lambda p: (p.stem, order.get(notebook_lang(p) or "", -1)))
    if not only:
        return found
    stems = {p.stem for p in found} | {p.name for p in found}
    unknown = [n for n in only if n not in stems]
    if unknown:
        choices = list(dict.fromkeys(p.stem for p in found))
        raise DataError(f"--only: no notebook named {unknown} in {folder}; choose from {choices}")
    wanted = {Path(n).stem for n in only}
    return [p for p in found if p.stem in wanted]


def inspect_parameters(notebook: Path) -> dict[str, dict[str, str]]:
    """Return papermill's view of a notebook's `parameters` cell: name -> default, inferred type and help."""
    import papermill

    return {name: {"default": spec["default"], "type": spec["inferred_type_name"], "help": spec["help"]}
            for name, spec in papermill.inspect_notebook(str(notebook)).items()}


def _literal_parameters(notebook: Path) -> dict[str, object] | None:
    """The `parameters` cell read without papermill (its import costs a second): names and literal values of
    its assignments; None when the cell holds anything else (papermill then reads it)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        source = tagged[0]["source"] if tagged else ""
        body = ast.parse(source if isinstance(source, str) else "".join(source)).body
        out = {}
        for node in body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                return None
            out[node.targets[0].id] = ast.literal_eval(node.value)
        return out
    except (OSError, ValueError, KeyError, TypeError, SyntaxError, AttributeError):
        return None


def notebook_parameters(notebook: Path) -> dict[str, object]:
    """Return the parameters a notebook declares in its `parameters` cell, with their default values."""
    fast = _literal_parameters(notebook)
    if fast is not None:
        return fast
    out = {}
    for name, spec in inspect_parameters(notebook).items():
        try:
            out[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError):
            out[name] = spec["default"]
    return out


def _coerce(name: str, text: str, default: object) -> object:
    """Turn the text of `-p name=text` into a value: a Python literal, else the text itself.

    A parameter whose default is text always gets the text (``-p lang=1`` gives "1"). A value of another
    type than the default is passed on with a note, not refused: some notebooks take either (a year as 2020
    or a month as "2019-03") and check the value themselves.
    """
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    if isinstance(default, str):
        return value if isinstance(value, str) else text
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if default is not None and type(value) is not type(default):
        print(f"note: -p {name}={text} is passed as {type(value).__name__} {value!r}; "
              f"the default is {type(default).__name__} {default!r}", file=sys.stderr)
    return value


def parse_overrides(items: Sequence[str], declared: dict[str, object] | None = None) -> dict[str, object]:
    """Turn ``name=value`` strings into parameters, checked against `declared` (name -> default) if given.

    Values are Python literals, else plain text; a parameter whose default is text always gets the text.
    """
    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise DataError(f"-p {item!r}: write parameters as name=value, e.g. -p lang=en")
        name, text = (part.strip() for part in item.split("=", 1))
        if declared is None:
            out[name] = _coerce(name, text, None)
            continue
        if name not in declared:
            raise DataError(f"-p {name}: unknown parameter; the notebooks take {sorted(declared)}")
        out[name] = _coerce(name, text, declared[name])
    return out


def check_values(overrides: dict[str, object]) -> None:
    """Check parameter values the package can check before running: lang, convention, data_path."""
    from analysis.intervals import get_convention
    from analysis.present.catalogue import check_lang

    if "lang" in overrides:
        check_lang(str(overrides["lang"]))
    if "convention" in overrides:
        get_convention(str(overrides["convention"]))


def load_checked(data: str | Path, convention: object = None, sheet: str | None = None) -> tuple[Path, bool]:
    """Load a user's data file (so a bad file stops here); return its absolute path and whether it is synthetic."""
    path, frame = load_frame(data, convention, sheet)
    from analysis.present.outputs import is_synthetic

    return path, is_synthetic(frame)


def load_frame(data: str | Path, convention: object = None, sheet: str | None = None):
    """Load a user's data file as the notebooks will (a bad file stops here); return its absolute path and the
    loaded frame."""
    from analysis.data import load_data

    path = Path(data).expanduser().resolve()
    frame = load_data(path, convention if isinstance(convention, str) and convention else None, sheet or None)
    return path, frame


def check_parameters(notebooks: Sequence[Path], overrides: dict[str, object], frame) -> None:
    """Check every notebook's parameters as it will run (its defaults, the overrides it declares, the data) with
    :func:`analysis.params.check`, before any kernel starts; raise the first DataError."""
    from analysis import params

    for nb in notebooks:
        declared = notebook_parameters(nb)
        values = {**declared, **{k: v for k, v in overrides.items() if k in declared}}
        if notebook_lang(nb) is not None and "lang" in declared:
            values["lang"] = notebook_lang(nb)
        try:
            params.check(nb.stem, values, frame)
        except DataError as exc:
            named = re.findall(r"parameters? '(\w+)'", str(exc))
            defaults = [n for n in named if n not in overrides]
            hint = ""
            if defaults:  # the user did not give it: say that it is the default, and how to give another
                given = " ".join(f"-p {n}=..." for n in defaults)
                hint = (f" ({', '.join(defaults)}: the notebook's default; give a value that fits your data with "
                        f"{given}, or with make: make report DATA=... ARGS='{given}')")
            raise DataError(f"{nb.stem}: {exc}{hint}") from None


def data_set_name(data: str | Path) -> str:
    """The folder name for reports on a user's file: its stem, anything but letters, digits, . _ - made _."""
    return re.sub(r"[^\w.-]+", "_", Path(data).stem).strip("._") or "data"


def default_folders(data: Path | None) -> tuple[Path, Path]:
    """Return (reports folder, executed-notebooks folder): reports/ and build/executed/, or for a user's file
    reports/data/<stem>/ and build/executed/data/<stem>/."""
    if data is None:
        return paths.REPORTS_DIR, paths.EXECUTED_DIR
    name = data_set_name(data)
    return paths.REPORTS_DIR / USER_DATA_FOLDER / name, paths.EXECUTED_DIR / USER_DATA_FOLDER / name


class PlanEntry(NamedTuple):
    """One notebook in one language as :func:`plan` sees it before the data file is loaded."""

    notebook: Path
    lang: str | None
    parameters: dict[str, object]  # injected
    defaults: dict[str, object]  # declared in the notebook's parameters cell
    given_data: bool  # the data file is given to it (its pages are marked when the file is synthetic)


def plan_entries(notebooks: Sequence[Path], overrides: dict[str, object], data: Path | None,
                 out_dir: Path) -> tuple[list[PlanEntry], list[str]]:
    """Return one entry per notebook and language, injecting only the parameters each notebook declares, and the
    notes to print about them (a notebook that cannot take the data file or the sheet)."""
    found, notes = [], []
    for nb in notebooks:
        declared = notebook_parameters(nb)
        params = {k: v for k, v in overrides.items() if k in declared and k != "lang"}
        given_data = False
        if data is not None:
            if "data_path" in declared:
                params["data_path"] = str(data)
                given_data = True
            else:
                notes.append(f"note: {nb.stem} has no data_path parameter; it runs on its own data")
        if overrides.get("sheet") and "sheet" not in declared and given_data:
            notes.append(f"note: {nb.stem} has no sheet parameter; it reads its data file's only sheet")
        if "export_dir" in declared and "export_dir" not in overrides:
            params["export_dir"] = str(out_dir)
        fixed = notebook_lang(nb)  # a file in a language folder is in that language only
        if fixed is not None:
            langs: list[str | None] = [fixed] if overrides.get("lang", fixed) == fixed else []
        elif "lang" in declared:
            langs = [str(overrides["lang"])] if "lang" in overrides else list(LANGS)
        else:
            langs = [None]
        for lang in langs:
            injected = dict(params, **({"lang": lang} if lang and "lang" in declared else {}))
            found.append(PlanEntry(nb, lang, injected, declared, given_data))
    return found, notes


def _tasks(entries: Sequence[PlanEntry], out_dir: Path, build_dir: Path, synthetic: bool,
           **task_kw: object) -> list[Task]:
    from analysis.pipeline.render import Task

    return [Task(e.notebook, e.lang, e.parameters, e.defaults, out_dir, build_dir,
                 synthetic=synthetic and e.given_data, **task_kw) for e in entries]  # type: ignore[arg-type]


def plan(
    notebooks: Sequence[Path],
    overrides: dict[str, object],
    data: Path | None,
    out_dir: Path,
    build_dir: Path,
    synthetic: bool = False,
    **task_kw: object,
) -> list[Task]:
    """Return one task per notebook and language, injecting only the parameters each notebook declares.

    `synthetic` (the data file is synthetic) marks the pages of the notebooks that are given the file.
    """
    entries, notes = plan_entries(notebooks, overrides, data, out_dir)
    for note in notes:
        print(note, flush=True)
    return _tasks(entries, out_dir, build_dir, synthetic, **task_kw)


def render(task: Task) -> Outcome:
    """Render one task (:func:`analysis.pipeline.render.render`), the renderer imported on first use."""
    from analysis.pipeline.render import render as render_task

    return render_task(task)


def run_order(tasks: Sequence[Task]) -> list[int]:
    """The order tasks are started in: every notebook's first language before any second language, so the
    kernels running at the same time compute different results and a later language reads them from the
    result cache (:mod:`analysis.cache`) instead of waiting for them."""
    rank = {lang: i for i, lang in enumerate(LANGS)}
    return sorted(range(len(tasks)), key=lambda i: (rank.get(tasks[i].lang or "", 0), i))


def run_batch(tasks: Sequence[Task], jobs: int = 1, skip: dict[int, Outcome] | None = None,
              stamp: bool = False) -> list[Outcome]:
    """Render every task, `jobs` at a time (each in its own kernel); print one line per finished task.

    `skip` gives the outcomes of tasks that are up to date (by index; not rendered); with `stamp`, each task's
    up-to-date stamp is written (or, if it failed, removed) as it finishes (:mod:`analysis.pipeline.uptodate`).
    """
    from analysis.pipeline import uptodate

    total = len(tasks)
    done: dict[int, Outcome] = {}
    skip = skip or {}

    def report(i: int, outcome: Outcome) -> None:
        done[i] = outcome
        if i in skip:
            status, took = "up to date", ""
        else:
            status, took = ("ok    " if outcome.ok else "FAILED"), f" ({outcome.seconds:.1f} s)"
            if stamp:
                uptodate.record(tasks[i], outcome)
        sys.stdout.write(f"[{len(done)}/{total}] {status} {outcome.name}{took}\n")
        sys.stdout.flush()

    for i in sorted(skip):
        report(i, skip[i])
    todo = [i for i in run_order(tasks) if i not in skip]
    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            report(i, render(tasks[i]))
    else:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        # Threads suffice: each kernel is a separate process, and render() does not change the process's cwd.
        # The pool starts the tasks in the order submitted.
        with ThreadPoolExecutor(max_workers=min(jobs, len(todo)), thread_name_prefix="render") as pool:
            futures = {pool.submit(render, tasks[i]): i for i in todo}
            for fut in as_completed(futures):
                report(futures[fut], fut.result())
    return [done[i] for i in range(total)]


def cache_folder(build_dir: Path) -> Path:
    """The result cache of a build: build/cache/results/ for a build folder inside build/, else
    <build folder>/cache (a build elsewhere keeps its cache there, out of the project)."""
    try:
        build_dir.resolve().relative_to(paths.BUILD_DIR.resolve())
    except ValueError:
        return build_dir / "cache"
    return paths.CACHE_DIR


# ---------------------------------------------------------------- stale outputs

def notebook_number(notebook: Path) -> str | None:
    """The leading number of a notebook's name ("03" for 03_trend_models), which prefixes its figures and tables."""
    m = re.match(r"(\d+)", notebook.stem)
    return m.group(1) if m else None


def page_names(notebook: Path) -> set[str]:
    """The file names a notebook's pages can have in briefing/ and teaching/: `<stem>.html`, `<stem>_<lang>.html`."""
    return {f"{notebook.stem}.html"} | {f"{notebook.stem}_{lang}.html" for lang in LANGS}


def _lang_of(path: Path) -> str | None:
    """The language a page, figure or table is in, from its name's `_<lang>` ending; None if it has none."""
    return next((lang for lang in LANGS if path.stem.endswith(f"_{lang}")), None)


def remove_stale(
    out_dir: Path, tasks: Sequence[Task], outcomes: Sequence[Outcome], all_notebooks: Sequence[Path]
) -> list[Path]:
    """Delete what this run did not write of each notebook whose every task rendered; return what was deleted.

    Pages: ``briefing/``, ``teaching/`` and ``teaching/solutions/`` files named for the notebook. Figures and
    tables: files in ``figures/`` and ``tables/`` starting ``<NN>_`` (the notebook's leading number), only
    when the notebook exported into `out_dir` and every notebook in the folder with that number rendered. Only
    the languages this run rendered are cleaned. A notebook with a failed task keeps all its files.
    """
    out_dir = out_dir.resolve()
    written: set[Path] = set()
    by_notebook: dict[str, list[tuple[Task, Outcome]]] = {}  # by notebook name: its files of every language
    for task, outcome in zip(tasks, outcomes, strict=True):
        by_notebook.setdefault(task.notebook.name, []).append((task, outcome))
        written.update(Path(f).resolve() for f in outcome.written)
        written.update(p.resolve() for p in outcome.pages)
    rendered = {name for name, runs in by_notebook.items() if all(o.ok for _, o in runs)}
    same_number: dict[str, set[str]] = {}
    for nb in [*all_notebooks, *(Path(name) for name in by_notebook)]:
        number = notebook_number(nb)
        if number is not None:
            same_number.setdefault(number, set()).add(nb.name)

    doomed: list[Path] = []
    for name, runs in by_notebook.items():
        if name not in rendered:
            continue
        nb = Path(name)
        mine: list[Path] = []
        for audience in ("briefing", "teaching", "teaching/solutions"):
            mine += [out_dir / audience / name for name in sorted(page_names(nb))]
        number = notebook_number(nb)
        exports_here = all(
            isinstance(t.parameters.get("export_dir"), str)
            and paths.resolve(str(t.parameters["export_dir"])).resolve() == out_dir
            for t, _ in runs
        )
        if number is not None and exports_here and same_number[number] <= rendered:
            for folder in ("figures", "tables"):
                if (out_dir / folder).is_dir():
                    mine += sorted(p for p in (out_dir / folder).iterdir()
                                   if p.is_file() and p.name.startswith(f"{number}_"))
        # A run in one language (-p lang=en) leaves the other language's files alone.
        langs_run = {t.lang for t, _ in runs}
        doomed += [p for p in mine if _lang_of(p) is None or _lang_of(p) in langs_run]
    removed = []
    for path in doomed:
        if path.is_file() and path.resolve() not in written:
            path.unlink()
            removed.append(path)
    return removed


# ---------------------------------------------------------------- index

def _data_sets(out_dir: Path) -> list[dict[str, object]]:
    """The report sets on users' files below out_dir/data/, as read from their own index pages."""
    from analysis.pipeline.report_html import read_meta

    sets = []
    for index in sorted((out_dir / USER_DATA_FOLDER).glob("*/index.html")):
        meta = read_meta(index.read_text(encoding="utf-8"))
        sets.append({
            "href": index.relative_to(out_dir).as_posix(),
            "name": meta.get("helsemeldinger:data-name") or index.parent.name,
            "path": meta.get("helsemeldinger:data", ""),
            "built": meta.get("helsemeldinger:built", ""),
            "synthetic": meta.get("helsemeldinger:synthetic") == "true",
        })
    return sets


def write_index(out_dir: Path, notebooks: Sequence[Path], failed: set[str], built: str,
                commit: tuple[str | None, bool | None], data: Path | None, synthetic: bool = False) -> Path:
    """Write out_dir/index.html listing every briefing report of the given notebooks found in out_dir (with its
    key findings), and linking the two-page briefing and the teaching index when they are there.

    It also lists the report sets on users' files in out_dir/data/*/, and remembers what it was told
    (out_dir/.index-state.json) so :func:`refresh_index` can write it again later.
    """
    from analysis.pipeline.briefing import BRIEFING_STEM
    from analysis.pipeline.provenance import display_path, sha256_file
    from analysis.pipeline.report_html import index_footer, index_html, key_findings, read_meta, write_atomic

    names = {nb.name for nb in notebooks}
    lang_order = {lang: i for i, lang in enumerate(LANGS)}
    entries = []
    for page in sorted((out_dir / "briefing").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        meta = read_meta(text)
        if meta.get("helsemeldinger:notebook") not in names:
            continue  # a report of a notebook that no longer exists, or not ours (the two-page briefing)
        teaching = out_dir / "teaching" / page.name
        entries.append({
            "notebook": meta["helsemeldinger:notebook"],
            "lang": meta.get("helsemeldinger:lang", ""),
            "title": meta.get("title", page.stem),
            "summary": meta.get("description", ""),
            "findings": key_findings(text),
            "briefing": f"briefing/{page.name}",
            "teaching": f"teaching/{page.name}" if teaching.exists() else "",
            "built": meta.get("helsemeldinger:built", ""),
            "stale": page.stem in failed,
            "synthetic": meta.get("helsemeldinger:synthetic") == "true",
        })
    entries.sort(key=lambda e: (e["notebook"], lang_order.get(e["lang"], 99)))
    figures = sorted(p.name for p in (out_dir / "figures").glob("*") if p.suffix in (".png", ".svg"))
    tables = sorted(p.name for p in (out_dir / "tables").glob("*.csv"))
    git, dirty = commit
    data_shown = display_path(data) if data else ""
    digest = sha256_file(data) if data and data.is_file() else ""
    footer = index_footer(__version__, git, dirty, data_shown, digest, built)
    up = ""
    if out_dir.parent.name == USER_DATA_FOLDER and (out_dir.parent.parent / "index.html").exists():
        up = "../../index.html"
    handouts = {f"{kind}_{lang}": f"briefing/{BRIEFING_STEM}_{lang}.{ext}" for lang in LANGS
                for kind, ext in (("briefing", "html"), ("pdf", "pdf"))
                if (out_dir / "briefing" / f"{BRIEFING_STEM}_{lang}.{ext}").is_file()}
    if (out_dir / "teaching" / "index.html").is_file():
        handouts["teaching"] = "teaching/index.html"
    page = index_html(entries, figures, tables, footer, data_name=data.name if data else "", data_path=data_shown,
                      synthetic=synthetic, data_sets=_data_sets(out_dir), up=up, built=built, handouts=handouts)
    state = {"failed": sorted(failed), "built": built, "commit": list(commit),
             "data": str(data) if data else None, "synthetic": synthetic}
    write_atomic(out_dir / STATE_FILE, json.dumps(state, indent=1) + "\n")
    return write_atomic(out_dir / "index.html", page)


def refresh_index(out_dir: Path, notebooks: Sequence[Path], built: str,
                  commit: tuple[str | None, bool | None]) -> Path:
    """Write out_dir/index.html again from what its last run remembered (its list of report sets may have
    changed); `built` and `commit` stand in when nothing was remembered."""
    try:
        state = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    data = Path(state["data"]) if state.get("data") else None
    git, dirty = (state.get("commit") or [None, None])[:2]
    return write_index(out_dir, notebooks, set(state.get("failed", [])), state.get("built", built),
                       (git, dirty) if state else commit, data, bool(state.get("synthetic", False)))


def index_inputs(out_dir: Path, notebooks: Sequence[Path], data: Path | None,
                 failed: Sequence[str] = ()) -> dict[str, object]:
    """What :func:`write_index` makes out_dir/index.html from, apart from the build time and the commit: the
    files it lists or reads (name, size, modification time), the index itself, the notebooks, the data file,
    the failed reports and the package version. While these are unchanged the index stands
    (:func:`analysis.pipeline.uptodate.index_stands`)."""
    files = {}
    for pattern in ("index.html", "briefing/*.html", "briefing/*.pdf", "teaching/*.html", "figures/*.png",
                    "figures/*.svg", "tables/*.csv", f"{USER_DATA_FOLDER}/*/index.html"):
        for p in sorted(out_dir.glob(pattern)):
            st = p.stat()
            files[p.relative_to(out_dir).as_posix()] = [st.st_size, st.st_mtime_ns]
    st = data.stat() if data is not None and data.is_file() else None
    return {"files": files, "notebooks": sorted(nb.name for nb in notebooks), "version": __version__,
            "data": [str(data), st.st_size, st.st_mtime_ns] if st else str(data or ""),
            "failed": sorted(failed), "up": (out_dir.parent.parent / "index.html").is_file()
            if out_dir.parent.name == USER_DATA_FOLDER else False}


# ---------------------------------------------------------------- command line

def list_parameters(notebooks: Sequence[Path]) -> str:
    """Return a text listing of each notebook's parameters with default, type and help."""
    lines = []
    firsts: dict[str, Path] = {}
    for nb in notebooks:  # a notebook kept per language: its files share the parameters; help from the en file
        if nb.stem not in firsts or notebook_lang(nb) == "en":
            firsts[nb.stem] = nb
    for nb in firsts.values():
        langs = [notebook_lang(p) for p in notebooks if p.stem == nb.stem and notebook_lang(p)]
        lines.append(f"{nb.stem}" + (f" ({', '.join(langs)})" if langs else ""))
        params = inspect_parameters(nb)
        width = max((len(n) for n in params), default=0)
        values = notebook_parameters(nb)
        for name, spec in params.items():
            kind = spec["type"] if spec["type"] not in (None, "None") else type(values[name]).__name__
            help_text = f"  # {spec['help']}" if spec["help"] else ""
            lines.append(f"  {name:<{width}} = {spec['default']:<14} ({kind}){help_text}")
        if not params:
            lines.append("  (no parameters)")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a user series (CSV or .xlsx, tidy schema) to run every notebook on")
    parser.add_argument("--sheet", help="the sheet of an .xlsx workbook that holds the table (needed when more "
                                        "than one sheet has data)")
    parser.add_argument("--only", action="append", metavar="NAME", help="render only this notebook (repeatable)")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="set a notebook parameter (repeatable); -p lang=en renders one language only")
    parser.add_argument("--list", action="store_true", help="list each notebook's parameters and exit")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="notebooks rendered in parallel (default 1)")
    parser.add_argument("--notebooks", default=str(paths.NOTEBOOKS_DIR), help="folder of the notebooks")
    parser.add_argument("--out", help="folder for the reports (default reports/, or reports/data/<stem>/ "
                                      "with --data)")
    parser.add_argument("--build", help="folder for the executed notebooks (default build/executed/, or "
                                        "build/executed/data/<stem>/ with --data)")
    parser.add_argument("--kernel", default=paths.KERNEL_NAME, help="Jupyter kernel name")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds allowed per cell")
    parser.add_argument("--force", action="store_true",
                        help="render every report, also those up to date (unchanged notebook, parameters, data "
                             "files, package source and dependencies since their last good build); analysis "
                             "results still come from the result cache unless HELSEMELDINGER_CACHE=off")
    return parser


def _rendering(todo: int, total: int, fresh: int, notebooks: int, jobs: int, data: Path | None, synthetic: bool,
               out_dir: Path) -> str:
    """The first line a build prints."""
    return (f"Rendering {todo} of {total} report(s){f' ({fresh} up to date)' if fresh else ''} from {notebooks} "
            f"notebook(s) with {jobs} job(s){f' on {data}' if data else ''}{' (SYNTHETIC data)' if synthetic else ''} "
            f"into {out_dir}")


def _summary(out_dir: Path, outcomes: Sequence[Outcome], skip: Sequence[int], removed: Sequence[Path], index: Path,
             handouts: Written, data: Path | None, synthetic: bool, jobs: int, wall: float, own_out: bool) -> None:
    """Print the summary of a build: a line per report, what was removed, the index, the handouts."""
    failed = [o for o in outcomes if not o.ok]
    fresh = f", {len(skip)} up to date" if skip else ""
    print(f"\nSummary: {len(outcomes) - len(failed) - len(skip)} rendered, {len(failed)} failed{fresh}, "
          f"{wall:.1f} s wall ({jobs} job(s))")
    for i, o in enumerate(outcomes):
        where = o.briefing.relative_to(out_dir).as_posix() if o.briefing else "previous HTML (if any) kept"
        if i in skip:
            print(f"  up to date {o.name:<36} {'':>25}  {where}")
            continue
        run_s = f"(kernel {o.execute_seconds:5.1f} s)" if o.ok else " " * 16
        print(f"  {'ok    ' if o.ok else 'FAILED'} {o.name:<40} {o.seconds:6.1f} s {run_s}  {where}")
    for path in removed:
        print(f"  removed (not written by this run): {path.relative_to(out_dir).as_posix()}")
    print(f"  index: {index}")
    for path in handouts.pages:
        print(f"  {path.relative_to(out_dir).as_posix()}")
    for note in handouts.notes:
        print(f"  {note}")
    if data is not None:
        print(f"\nReports on {data.name}{' (SYNTHETIC data)' if synthetic else ''} are in {out_dir}/"
              f"{'' if own_out else f'; the published reports in {paths.REPORTS_DIR}/ are untouched'}")


def _nothing_to_do(entries: Sequence[PlanEntry], data: Path | None, out_dir: Path, build_dir: Path, kernel: str,
                   all_notebooks: Sequence[Path]) -> tuple[list[object], bool] | None:
    """When every report is up to date and the index (with the two-page briefings) stands as the last build left
    it: (the outcomes the stamps recorded, whether the data were synthetic); else None. Decided on the stamps
    alone (every input hashed), before the data file is loaded or the renderer imported."""
    from analysis.pipeline import uptodate

    if not entries or (data is not None and not any(e.given_data for e in entries)):
        return None  # nothing planned, or a data file whose synthetic mark no stamp records
    outcomes, synthetic = [], False
    for e in entries:
        found, _ = uptodate.recorded(uptodate.Planned(e.notebook, e.lang, e.parameters, e.defaults, out_dir,
                                                      build_dir, kernel, None if e.given_data else False))
        if found is None:
            return None
        outcomes.append(SimpleNamespace(**found.outcome))
        synthetic = synthetic or found.synthetic
    # The index's inputs name every page, the two-page briefings among them: a briefing deleted since stops here.
    if not uptodate.index_stands(build_dir, out_dir, index_inputs(out_dir, all_notebooks, data)):
        return None
    return outcomes, synthetic


def run(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, check them, render the chosen notebooks, print a summary; return the exit code.

    When every report is up to date (and its briefing and the index stand) nothing is loaded, imported or written:
    the stamps hash every input, and the data file and the parameter values are checked (:func:`check_values`,
    :func:`check_parameters`) only when something is to be rendered, and not again when nothing they depend on
    changed since they last passed.
    """
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        if args.jobs < 1:
            raise DataError(f"--jobs {args.jobs}: give 1 or more")
        all_notebooks = discover(None, args.notebooks)
        notebooks = discover(args.only, args.notebooks)
        if not notebooks:
            raise DataError(f"no notebooks (*.ipynb) in {args.notebooks}")
        if args.list:
            print(list_parameters(notebooks))
            return 0
        declared: dict[str, object] = {}
        for nb in notebooks:
            for name, value in notebook_parameters(nb).items():
                declared.setdefault(name, value)
        overrides = parse_overrides(args.parameter, declared)
        if args.data and "data_path" in overrides:
            raise DataError(f"--data {args.data} and -p data_path={overrides['data_path']} both name a data file; "
                            "give one of them (--data)")
        if args.sheet is not None:
            if "sheet" in overrides:
                raise DataError("--sheet and -p sheet both name a sheet; give one of them (--sheet)")
            overrides["sheet"] = args.sheet
        data_arg = args.data or overrides.pop("data_path", None) or None
    except DataError as exc:
        print(f"error: {exc}\nNothing was run; existing reports are unchanged.", file=sys.stderr)
        return EXIT_USAGE

    data = Path(data_arg).expanduser().resolve() if data_arg else None  # as load_frame gives it
    default_out, default_build = default_folders(data)
    out_dir = paths.resolve(args.out) if args.out else default_out
    build_dir = paths.resolve(args.build) if args.build else default_build
    entries, notes = plan_entries(notebooks, overrides, data, out_dir)
    done = None if args.force else _nothing_to_do(entries, data, out_dir, build_dir, args.kernel, all_notebooks)
    if done is not None:
        outcomes, synthetic = done
        for note in notes:
            print(note, flush=True)
        total = len(outcomes)
        print(_rendering(0, total, total, len(notebooks), args.jobs, data, synthetic, out_dir), flush=True)
        for i, o in enumerate(outcomes, 1):
            print(f"[{i}/{total}] up to date {o.name}")
        _summary(out_dir, outcomes, range(total), [], out_dir / "index.html",  # type: ignore[arg-type]
                 Written(notes=["two-page briefing(s): up to date"]), data, synthetic, args.jobs,
                 time.perf_counter() - started, bool(args.out))
        return 0
    return _build(args, started, all_notebooks, notebooks, overrides, data, out_dir, build_dir, entries, notes)


def _build(args: argparse.Namespace, started: float, all_notebooks: Sequence[Path], notebooks: Sequence[Path],
           overrides: dict[str, object], data: Path | None, out_dir: Path, build_dir: Path,
           entries: Sequence[PlanEntry], notes: Sequence[str]) -> int:
    """Load and check the data file and the parameters, render what is not up to date, write the handouts and
    the index, print the summary; return the exit code."""
    from analysis.pipeline.warm import prestart

    prestart(args.kernel)  # the kernels' warm process imports while the data and parameters are checked (first:
    # the kernel forked from it has the less left to import itself, the sooner the warm process starts)
    from analysis import cache
    from analysis.pipeline import uptodate
    from analysis.pipeline.briefing import PrintSession, find_chromium
    from analysis.pipeline.provenance import build_time, git_commit
    # The checks' result is taken from their stamp when nothing they depend on changed since they last passed
    # (the same data bytes, parameters, parameters cells and package: the same result), else (and with --force)
    # they run.
    declared = {str(nb.resolve()): notebook_parameters(nb) for nb in notebooks}
    checks = uptodate.check_inputs(data, overrides, declared)
    passed = None if args.force else uptodate.checked(build_dir, checks)
    if passed is not None:
        synthetic = bool(passed.get("synthetic"))
    else:
        try:
            check_values(overrides)
            if data is not None:
                data, frame = load_frame(data, overrides.get("convention"), overrides.get("sheet"))
            else:
                if overrides.get("sheet"):
                    raise DataError(f"--sheet {overrides['sheet']}: a sheet belongs to a workbook given with --data")
                from analysis.data import load_published

                frame = load_published(None, overrides.get("convention") or None)
            from analysis.data import is_synthetic

            synthetic = data is not None and is_synthetic(frame)
            check_parameters(notebooks, overrides, frame)
            del frame
        except DataError as exc:
            print(f"error: {exc}\nNothing was run; existing reports are unchanged.", file=sys.stderr)
            return EXIT_USAGE
        # recorded only if the files are still the bytes that were hashed (not replaced while being checked)
        if uptodate.check_inputs(data, overrides, declared) == checks:
            uptodate.record_checked(build_dir, checks, {"synthetic": synthetic})

    for note in notes:
        print(note, flush=True)
    built, commit = build_time(), git_commit()
    tasks = _tasks(entries, out_dir, build_dir, synthetic, kernel=args.kernel, timeout=args.timeout, built=built,
                   commit=commit)
    skip: dict[int, Outcome] = {}
    why: dict[str, str] = {}
    if not args.force:
        for i, task in enumerate(tasks):
            recorded, why[task.name] = uptodate.check(task)
            if recorded is not None:
                skip[i] = recorded
    print(_rendering(len(tasks) - len(skip), len(tasks), len(skip), len(notebooks), args.jobs, data, synthetic,
                     out_dir), flush=True)
    for name, reason in why.items():
        if reason != "up to date":
            print(f"  to build {name}: {reason}", flush=True)
    # The two-page briefing of a language in which a report is rendered (or fails) is written again, and one that
    # is missing; the others stand. Their PDFs are printed in one browser session, started now (while the
    # kernels run) when there will be one to print.
    langs = sorted({t.lang for t in tasks if t.lang}, key=LANGS.index)
    ran = {t.lang for i, t in enumerate(tasks) if i not in skip}
    brief = [lang for lang in langs if lang in ran or None in ran
             or not (out_dir / "briefing" / f"{BRIEFING_STEM}_{lang}.html").is_file()]
    chromium = find_chromium() if brief else None
    from analysis.pipeline.render import kernel_launched  # the browser starts once the first kernel runs

    session = (PrintSession(chromium).start(after=kernel_launched if len(skip) < len(tasks) else None)
               if chromium and PrintSession.usable() else None)
    try:
        # The kernels of this build share one result cache (unless HELSEMELDINGER_CACHE says where, or off).
        folder = os.environ.get(cache.ENV) or cache_folder(build_dir)
        with cache.using(None if folder == cache.OFF else folder):
            try:
                outcomes = run_batch(tasks, args.jobs, skip, stamp=True)
            finally:
                kernel_launched.set()  # no kernel started (each failed before): what waits for one goes on

        failed = [o for o in outcomes if not o.ok]
        removed = remove_stale(out_dir, tasks, outcomes, all_notebooks)
        if tasks and len(skip) == len(tasks) and not brief:
            # Nothing rendered: the two-page briefings made from these pages stand (printing a PDF takes seconds).
            handouts = Written(notes=["two-page briefing(s): up to date"])
        else:
            handouts = write_handouts(out_dir, all_notebooks, built, commit, data, synthetic, overrides.get("sheet"),
                                      brief, session=session)
            handouts.notes += [f"two-page briefing ({lang}): up to date" for lang in langs if lang not in brief]
    finally:
        if session is not None:
            session.close(wait=False)  # the browser ends while the index is written
    index = write_index(out_dir, all_notebooks, {o.name for o in failed}, built, commit, data, synthetic)
    top = out_dir.parent.parent
    if out_dir.parent.name == USER_DATA_FOLDER and top.resolve() == paths.REPORTS_DIR.resolve():
        refresh_index(top, all_notebooks, built, commit)  # the published index links to this set
    uptodate.record_index(build_dir, out_dir, index_inputs(out_dir, all_notebooks, data, [o.name for o in failed]))
    _summary(out_dir, outcomes, sorted(skip), removed, index, handouts, data, synthetic, args.jobs,
             time.perf_counter() - started, bool(args.out))
    for o in failed:
        print(f"\n--- {o.name} failed; its previous HTML (if any) is left in place ---\n{o.error}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


def main() -> None:
    """Console entry point: run the build, then exit without the interpreter's module teardown."""
    # A build has loaded pandas, nbconvert, papermill and their imports by its end; the interpreter's teardown of
    # those modules took about half a second and writes nothing. The exit handlers run and the streams are
    # flushed, as at a normal exit; then the process ends.
    try:
        code = run()
    except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
        code = stop.code
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, e.g. `--help | head`
            pass
    os._exit(code or 0)


if __name__ == "__main__":
    main()
