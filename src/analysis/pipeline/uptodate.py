"""Whether a report is up to date: a stamp per task, written after it rendered, checked before the next build.

The stamp (``<build folder>/stamps/<lang>/<stem>.json``) records what the task was built from: the notebook
file's sha256, the parameters injected and the notebook's defaults, the kernel, whether the data were marked
synthetic, the reports folder, the package source hash and the installed versions of the project's
dependencies (:mod:`analysis.cache`), every data file the kernel read (the provenance audit) with its sha256,
and every file it wrote (pages, executed notebook, exported figures and tables) with its sha256. A task is up
to date when all of these are as recorded; any difference, a missing or changed output or a missing stamp
rebuilds it. A failed task loses its stamp.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from analysis import cache
from analysis.pipeline.provenance import sha256_file
from analysis.pipeline.render import Outcome, Task

VERSION = 1  # of the stamp's layout; another version is never up to date
STAMPS = "stamps"


def stamp_path(task: Task) -> Path:
    """Where the stamp of `task` is kept: ``<build folder>/stamps/<lang or all>/<stem>.json``."""
    return task.build_dir / STAMPS / (task.lang or "all") / f"{task.notebook.stem}.json"


def _canonical(value: object) -> object:
    """`value` as JSON would give it back (tuples as lists, keys as text), so a stamp compares with itself."""
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


def inputs(task: Task) -> dict[str, object]:
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


def check(task: Task) -> tuple[Outcome | None, str]:
    """Return (the outcome recorded by the task's last good build, "up to date") when nothing it was built from
    changed, else (None, why it must be built)."""
    try:
        stamp = json.loads(stamp_path(task).read_text(encoding="utf-8"))
        recorded, data, made, kept = stamp["inputs"], stamp["data"], stamp["outputs"], stamp["outcome"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, "not built before"
    now = inputs(task)
    if recorded != now:
        changed = sorted(k for k in now if recorded.get(k) != now.get(k))
        return None, f"{', '.join(changed)} changed"
    why = _same_files(data)
    if why:
        return None, f"data file {why}"
    why = _same_files(made)
    if why:
        return None, f"output {why}"
    known = {f.name for f in dataclasses.fields(Outcome)}
    try:
        fields = {k: Path(v["path"]) if isinstance(v, dict) and set(v) == {"path"} else v
                  for k, v in kept.items() if k in known}
        outcome = Outcome(**{**fields, "seconds": 0.0})
    except TypeError:
        return None, "stamp unreadable"
    return outcome, "up to date"
