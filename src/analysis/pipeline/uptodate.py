"""Whether a report is up to date: a stamp per task, written after it rendered, checked before the next build.

The stamp (``<build folder>/stamps/<lang>/<stem>.json``) records what the task was built from: the notebook
file's sha256, the parameters injected and the notebook's defaults, the kernel, whether the data were marked
synthetic, the reports folder, the package source hash and the installed versions of the project's
dependencies (:mod:`analysis.cache`), every data file the kernel read (the provenance audit) with its sha256,
and every file it wrote (pages, executed notebook, exported figures and tables) with its sha256. A task is up
to date when all of these are as recorded; any difference, a missing or changed output or a missing stamp
rebuilds it. A failed task loses its stamp.

The index of a reports folder has a stamp too (``<build folder>/stamps/index.json``): a digest of what the
index was made of (:func:`analysis.pipeline.reports.index_inputs`), so a build whose every report is up to date
can leave the index standing. Nothing here imports the renderer, papermill or pandas: a build decides that it
has nothing to do before importing them (:class:`Planned` stands in for a task then).

The checks a build makes before any kernel starts (the parameter values, the data file loaded and validated,
every notebook's parameters against the data) have a stamp too (``<build folder>/stamps/checks.json``): a
digest of what they depend on (:func:`check_inputs`: every file below data/, the user's data file, the
parameters given, the notebooks' parameters cells, the package source and the dependencies' versions) with
what they found (whether the data are synthetic). A build whose checks' inputs are as they were when the
checks last passed takes that result instead of loading the data again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import cache, paths

if TYPE_CHECKING:
    from analysis.pipeline.render import Outcome, Task

VERSION = 1  # of the stamp's layout; another version is never up to date
STAMPS = "stamps"
INDEX_STAMP = "index.json"
CHECKS_STAMP = "checks.json"


@dataclasses.dataclass(frozen=True)
class Planned:
    """A task as planned, before the data file is loaded: the fields of :class:`~analysis.pipeline.render.Task`
    its stamp is made of. `synthetic` is None when it is not known yet (the task is given a data file that is not
    loaded): it is then taken as recorded, provided the kernel read that very file (whose sha256 is checked)."""

    notebook: Path
    lang: str | None
    parameters: dict[str, object]
    defaults: dict[str, object]
    out_dir: Path
    build_dir: Path
    kernel: str
    synthetic: bool | None = False


@dataclasses.dataclass(frozen=True)
class Record:
    """What the stamp of an up-to-date task recorded: its outcome's fields and the synthetic mark it was built
    with."""

    outcome: dict[str, object]
    synthetic: bool


def sha256_file(path: str | Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def stamp_path(task: Task | Planned) -> Path:
    """Where the stamp of `task` is kept: ``<build folder>/stamps/<lang or all>/<stem>.json``."""
    return task.build_dir / STAMPS / (task.lang or "all") / f"{task.notebook.stem}.json"


def _canonical(value: object) -> object:
    """`value` as JSON would give it back (tuples as lists, keys as text), so a stamp compares with itself."""
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


def inputs(task: Task | Planned) -> dict[str, object]:
    """What `task` is built from, apart from the data files it will read (known only from its last build)."""
    return _canonical({
        "version": VERSION,
        "notebook": str(task.notebook.resolve()),
        "notebook_sha256": sha256_file(task.notebook),
        "lang": task.lang,
        "parameters": task.parameters,
        "defaults": task.defaults,
        "kernel": task.kernel,
        "synthetic": task.synthetic,
        "out_dir": str(task.out_dir.resolve()),
        "source": cache.source_hash(),
        "dependencies": cache.dependency_versions(),
    })  # type: ignore[return-value]


def outputs(task: Task, outcome: Outcome) -> list[Path]:
    """Every file a rendered task wrote: its pages (each Path of the outcome), the executed notebook and the
    files its kernel exported."""
    pages = [v for f in dataclasses.fields(outcome) if isinstance(v := getattr(outcome, f.name), Path)]
    return [*pages, task.executed, *(Path(p) for p in outcome.written)]


def _digests(files: list[Path] | list[str]) -> dict[str, str]:
    return {str(Path(f).resolve()): sha256_file(f) for f in files}


def record(task: Task, outcome: Outcome) -> None:
    """Write the stamp of a task that rendered; remove the stamp of one that failed."""
    path = stamp_path(task)
    if not outcome.ok:
        path.unlink(missing_ok=True)
        return
    from analysis.pipeline.report_html import write_atomic

    kept = {}
    for f in dataclasses.fields(outcome):
        value = getattr(outcome, f.name)
        kept[f.name] = {"path": str(value)} if isinstance(value, Path) else value
    stamp = {
        "inputs": inputs(task),
        "data": _digests(outcome.data_files),
        "outputs": _digests(outputs(task, outcome)),
        "outcome": kept,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(stamp, indent=1, sort_keys=True, default=str) + "\n")


def _same_files(recorded: dict[str, str]) -> str | None:
    """None when every file is there with its recorded sha256, else the first that is not."""
    for name, digest in recorded.items():
        p = Path(name)
        if not p.is_file():
            return f"{p.name} missing"
        if sha256_file(p) != digest:
            return f"{p.name} changed"
    return None


def recorded(task: Task | Planned) -> tuple[Record | None, str]:
    """Return (what the task's last good build recorded, "up to date") when nothing it was built from changed,
    else (None, why it must be built)."""
    try:
        stamp = json.loads(stamp_path(task).read_text(encoding="utf-8"))
        was, data, made, kept = stamp["inputs"], stamp["data"], stamp["outputs"], stamp["outcome"]
        if not (isinstance(was, dict) and isinstance(kept, dict)):
            raise TypeError("not a stamp")
    except (OSError, ValueError, KeyError, TypeError):
        return None, "not built before"
    now = inputs(task)
    if now["synthetic"] is None:  # the data file is not loaded yet: the mark it gave, if the kernel read it
        given = task.parameters.get("data_path")
        if not isinstance(given, str) or str(paths.resolve(given).resolve()) not in data:
            return None, "synthetic not known"
        now["synthetic"] = was.get("synthetic")
    if was != now:
        changed = sorted(k for k in now if was.get(k) != now.get(k))
        return None, f"{', '.join(changed)} changed"
    why = _same_files(data)
    if why:
        return None, f"data file {why}"
    why = _same_files(made)
    if why:
        return None, f"output {why}"
    fields = {k: Path(v["path"]) if isinstance(v, dict) and set(v) == {"path"} else v for k, v in kept.items()}
    return Record({**fields, "seconds": 0.0}, bool(now["synthetic"])), "up to date"


def check(task: Task) -> tuple[Outcome | None, str]:
    """Return (the outcome recorded by the task's last good build, "up to date") when nothing it was built from
    changed, else (None, why it must be built)."""
    from analysis.pipeline.render import Outcome

    found, why = recorded(task)
    if found is None:
        return None, why
    known = {f.name for f in dataclasses.fields(Outcome)}
    try:
        return Outcome(**{k: v for k, v in found.outcome.items() if k in known}), why  # type: ignore[arg-type]
    except TypeError:
        return None, "stamp unreadable"


# ---------------------------------------------------------------- the index of a reports folder

def _index_stamp(build_dir: Path) -> Path:
    return build_dir / STAMPS / INDEX_STAMP


def _digest(made_of: object) -> str:
    return hashlib.sha256(json.dumps(made_of, sort_keys=True, default=repr).encode()).hexdigest()


def _index_stamps(build_dir: Path) -> dict[str, str]:
    try:
        found = json.loads(_index_stamp(build_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def record_index(build_dir: Path, out_dir: Path, made_of: object) -> None:
    """Remember what out_dir/index.html was just written from (`made_of`, any JSON-able value)."""
    from analysis.pipeline.report_html import write_atomic

    stamps = {**_index_stamps(build_dir), str(out_dir.resolve()): _digest(made_of)}
    write_atomic(_index_stamp(build_dir), json.dumps(stamps, indent=1, sort_keys=True) + "\n")


def index_stands(build_dir: Path, out_dir: Path, made_of: object) -> bool:
    """Whether out_dir/index.html was last written from `made_of` (as remembered by :func:`record_index`)."""
    return _index_stamps(build_dir).get(str(out_dir.resolve())) == _digest(made_of)


# ---------------------------------------------------------------- the checks before any kernel starts

def check_inputs(data: Path | None, overrides: dict[str, object],
                 declared: dict[str, dict[str, object]]) -> dict[str, object]:
    """What a build's checks depend on: every file below data/ and the data file `data` (each with its sha256),
    the parameters given (`overrides`), each notebook's declared parameters with their defaults (`declared`, by
    notebook file: the rest of a notebook is not checked), the package source and the installed versions of the
    dependencies."""
    published = sorted(Path(top) / name for top, _, names in os.walk(paths.DATA_DIR, followlinks=True)
                       for name in names)  # through linked folders too
    return _canonical({
        "version": VERSION,
        "data_dir": {p.relative_to(paths.DATA_DIR).as_posix(): sha256_file(p) for p in published},
        "data": None if data is None else [str(data), sha256_file(data) if data.is_file() else None],
        "overrides": overrides,
        "notebooks": declared,
        "source": cache.source_hash(),
        "dependencies": cache.dependency_versions(),
    })  # type: ignore[return-value]


def _checks_stamp(build_dir: Path) -> Path:
    return build_dir / STAMPS / CHECKS_STAMP


def checked(build_dir: Path, made_of: object) -> dict[str, object] | None:
    """What the checks found when they last passed on inputs `made_of` (:func:`check_inputs`), else None."""
    try:
        found = json.loads(_checks_stamp(build_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("digest") != _digest(made_of):
        return None
    result = found.get("result")
    return result if isinstance(result, dict) else None


def record_checked(build_dir: Path, made_of: object, result: dict[str, object]) -> None:
    """Remember that the checks passed on inputs `made_of` and found `result` (JSON-able)."""
    from analysis.pipeline.report_html import write_atomic

    write_atomic(_checks_stamp(build_dir), json.dumps({"digest": _digest(made_of), "result": result},
                                                      indent=1, sort_keys=True) + "\n")
