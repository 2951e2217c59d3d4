"""What a report was built from: package version, git commit, data files with sha256, parameters, build time.

The footer of every HTML report is made from a :class:`Provenance`. Which data files a notebook read is
recorded inside its kernel by an audit hook (:data:`HOOK_SOURCE`, see :mod:`analysis.pipeline.render`), so the list
is what was really opened, not what a notebook was expected to open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analysis import __version__, paths
from analysis.present import catalogue
from analysis.present.formatting import localise

# Code run in the kernel before anything else (fill in with HOOK_SOURCE.format(roots=[folders],
# write_roots=[folders])): record every regular file opened for reading below one of `roots` in `_hm_opened`,
# and every file opened for writing below one of `write_roots` (the export folder) in `_hm_written`.
# END_SOURCE prints both, and whether analysis.present.outputs holds the synthetic-data mark, as one JSON object on a
# line starting with MARKER (read with :func:`kernel_report`).
MARKER = "HELSEMELDINGER-DATA-FILES "
PROVENANCE_TAG = "hm-provenance"  # the tag of the audit cells (left out of every page)
HOOK_SOURCE = """\
def _hm_install_hook(roots, write_roots):
    import os, sys
    opened, written = set(), set()
    roots = tuple(os.path.join(os.path.realpath(r), "") for r in roots)
    write_roots = tuple(os.path.join(os.path.realpath(r), "") for r in write_roots)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT
    def hook(event, args):
        if event != "open" or not args:
            return
        path = args[0]
        mode = args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 else 0
        if not isinstance(path, (str, os.PathLike)):
            return
        if isinstance(mode, str):
            writes = bool(set(mode) & set("wax+"))
        else:
            writes = isinstance(flags, int) and bool(flags & write_flags)
        try:
            real = os.path.realpath(os.fspath(path))
        except (TypeError, ValueError, OSError):
            return
        if writes:
            if write_roots and real.startswith(write_roots):
                written.add(real)
        elif real.startswith(roots) and os.path.isfile(real):
            opened.add(real)
    sys.addaudithook(hook)
    return opened, written
_hm_opened, _hm_written = _hm_install_hook({roots!r}, {write_roots!r})
del _hm_install_hook"""
END_SOURCE = f"""\
import json as _hm_json, sys as _hm_sys
_hm_data = _hm_sys.modules.get("analysis.data")
_hm_synthetic = bool(getattr(_hm_data, "synthetic_loaded", lambda: False)())
_hm_published = getattr(_hm_data, "published_loaded", lambda: None)()
print({MARKER!r} + _hm_json.dumps({{"read": sorted(_hm_opened), "written": sorted(_hm_written),
                                   "synthetic": _hm_synthetic, "published": _hm_published}}))"""


@dataclass(frozen=True)
class KernelReport:
    """What the audit cells saw in one kernel: data files read, export files written, synthetic-data mark, and
    whether the data loaded were published figures (None: the notebook loaded none with load_data)."""

    read: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    synthetic: bool = False
    published: bool | None = None


def kernel_report(text: str) -> KernelReport | None:
    """Parse the MARKER line printed by END_SOURCE out of `text`; None when there is none."""
    import json

    for line in text.splitlines():
        if line.startswith(MARKER):
            got = json.loads(line[len(MARKER):])
            if isinstance(got, list):  # the older form: only the files read
                return KernelReport(tuple(got))
            published = got.get("published")
            return KernelReport(tuple(got.get("read", ())), tuple(got.get("written", ())),
                                bool(got.get("synthetic", False)), None if published is None else bool(published))
    return None


@dataclass(frozen=True)
class DataFile:
    """One data file a report read: its path (relative to the project when inside it) and sha256."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Provenance:
    """Everything the footer of one report states."""

    notebook: str
    package_version: str
    git_commit: str | None
    git_dirty: bool | None
    data_files: tuple[DataFile, ...]
    parameters: Mapping[str, object] = field(default_factory=dict)
    convention: str = "default"
    convention_rules: tuple[str, ...] = ()
    build_time: str = ""


def sha256_file(path: str | Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: str | Path) -> str:
    """Return `path` relative to the project root when it lies inside it, else absolute (POSIX style)."""
    p = Path(path).resolve()
    try:
        return p.relative_to(paths.PROJ_ROOT.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def describe_files(files: Iterable[str | Path]) -> tuple[DataFile, ...]:
    """Return the files (sorted by displayed path, missing ones skipped) with their sha256 and size."""
    out = []
    for f in files:
        p = Path(f)
        if p.is_file():
            out.append(DataFile(display_path(p), sha256_file(p), p.stat().st_size))
    return tuple(sorted(out, key=lambda d: d.path))


def git_commit(root: str | Path = paths.PROJ_ROOT) -> tuple[str | None, bool | None]:
    """Return (commit hash, has uncommitted changes to tracked files), or (None, None) outside a git clone."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
                                cwd=root, capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return (head or None), bool(status.strip())


def build_time(now: dt.datetime | None = None) -> str:
    """Return the build time as ISO 8601 UTC; honours SOURCE_DATE_EPOCH for reproducible builds."""
    if now is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit() else dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def convention_rules(spec: object, lang: str | None = None) -> tuple[str, tuple[str, ...]]:
    """Return the convention's name and one line per qualifier: as codes ("exact [x-0.5·u, x+0.5·u)") without
    `lang`, else in `lang`'s words and number symbols (nb: "(uten forbehold) [x−0,5·u; x+0,5·u)")."""
    from analysis.intervals import get_convention

    conv = get_convention(spec if isinstance(spec, str) and spec else None)
    if lang is None:
        lines = tuple(f"{q} {conv.interval(q)}" for q in conv.rules)
        if conv.rel_tol:
            lines += (f"± {conv.rel_tol:g}·x",)
        return conv.name, lines
    catalogue.check_lang(lang)
    sep = "; " if localise(".", lang) == "," else ", "  # a decimal comma cannot also separate the ends

    def end(steps: float) -> str:
        return "x" if steps == 0 else f"x{localise(f'{steps:+g}', lang)}·u"

    lines = tuple(
        f"{catalogue.label(lang, 'qualifier', q)} {'[' if r.low_closed else '('}{end(r.low)}{sep}"
        f"{end(r.high)}{']' if r.high_closed else ')'}"
        for q, r in conv.rules.items()
    )
    if conv.rel_tol:
        lines += (f"± {localise(f'{conv.rel_tol:g}', lang)}·x",)
    return conv.name, lines


def _param_text(name: str, value: object) -> str:
    if name in ("data_path", "export_dir") and isinstance(value, str) and value:
        value = display_path(value)
    return f"{name} = {value!r}"


def _localised_rules(prov: Provenance, lang: str) -> tuple[str, ...]:
    """The footer's convention lines in `lang`; the recorded lines when the convention cannot be looked up."""
    from analysis.errors import DataError

    try:
        name, rules = convention_rules(prov.convention, lang)
    except DataError:
        return prov.convention_rules
    return rules if name == prov.convention else prov.convention_rules


def footer_html(prov: Provenance, lang: str = "nb") -> str:
    """Return the provenance footer of one report as an HTML <footer> element, labelled in `lang`."""
    e = html.escape
    t = catalogue.text
    catalogue.check_lang(lang)
    if prov.git_commit:
        dirty = f" ({e(t(lang, 'pages.provenance.dirty'))})" if prov.git_dirty else ""
        commit = f"<code>{e(prov.git_commit)}</code>{dirty}"
    else:
        commit = e(t(lang, "pages.provenance.no_git"))
    if prov.data_files:
        size = e(t(lang, "pages.provenance.bytes"))
        files = "<ul>" + "".join(
            f"<li><code>{e(f.path)}</code> ({f.size} {size})<br>"
            f"sha256 <code class=\"hm-sha256\">{e(f.sha256)}</code></li>"
            for f in prov.data_files
        ) + "</ul>"
    else:
        files = e(t(lang, "pages.provenance.no_data"))
    params = "<br>".join(f"<code>{e(_param_text(k, v))}</code>" for k, v in sorted(prov.parameters.items()))
    rules = "".join(f"<br>{e(r)}" for r in _localised_rules(prov, lang))  # one line per qualifier
    note = e(t(lang, "pages.provenance.convention_note"))
    rows = [
        (t(lang, "pages.provenance.notebook"), f"<code>{e(prov.notebook)}</code>"),
        (t(lang, "pages.provenance.package"), f"helsemeldinger {e(prov.package_version)}"),
        (t(lang, "pages.provenance.commit"), commit),
        (t(lang, "pages.provenance.data"), files),
        (t(lang, "pages.provenance.parameters"), params or "–"),
        (t(lang, "pages.provenance.convention"), f"<code>{e(prov.convention)}</code>: {note}:{rules}"),
        (t(lang, "pages.provenance.built"), f"<time datetime=\"{e(prov.build_time)}\">{e(prov.build_time)}</time>"),
    ]
    body = "".join(f"<dt>{e(label)}</dt><dd>{value}</dd>" for label, value in rows)
    heading = e(t(lang, "pages.provenance.heading"))
    return f'<footer class="hm-provenance" id="provenance"><h2>{heading}</h2><dl>{body}</dl></footer>'


def make_provenance(
    notebook: str | Path,
    parameters: Mapping[str, object],
    data_files: Iterable[str | Path],
    built: str,
    commit: tuple[str | None, bool | None] | None = None,
) -> Provenance:
    """Collect the provenance of one rendered notebook; `parameters` are all it ran with (defaults included)."""
    git, dirty = commit if commit is not None else git_commit()
    name, rules = convention_rules(parameters.get("convention", "default"))
    return Provenance(
        notebook=display_path(notebook),
        package_version=__version__,
        git_commit=git,
        git_dirty=dirty,
        data_files=describe_files(data_files),
        parameters=dict(parameters),
        convention=name,
        convention_rules=rules,
        build_time=built,
    )
