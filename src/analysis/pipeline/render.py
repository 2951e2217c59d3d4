"""Executing one notebook in one language with papermill and writing its briefing, teaching and solutions HTML.

:func:`render` is what each worker thread of ``python -m analysis.pipeline.reports --jobs N`` runs; it never raises.
Each kernel is its own process, so threads are enough for parallel work. The kernel talks over Unix sockets
with a unique name (:class:`IpcKernelManager`), so kernels started at the same moment cannot collide on TCP
ports (jupyter_client picks a free TCP port and releases it before the kernel binds it: a race).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from analysis import paths
from analysis.pipeline.provenance import (
    END_SOURCE,
    HOOK_SOURCE,
    PROVENANCE_TAG,
    KernelReport,
    footer_html,
    kernel_report,
    make_provenance,
)

# Set once this process has asked for its first kernel: work that can wait (the page templates' warm-up, the
# browser for PDFs) starts then, so that it does not slow down the imports and checks before, and runs while
# this process only waits for the kernel (the warm process's last imports, then the kernel's messages).
kernel_launched = threading.Event()


class IpcKernelManager(AsyncKernelManager):
    """Kernel manager using the ipc transport with a unique socket path (tcp on Windows, which lacks ipc), whose
    kernels are forked warm from :mod:`analysis.pipeline.warm` where it can serve them."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
        """Launch the kernel forked from the warm process, else (it cannot serve this kernel) the ordinary way."""
        from analysis.pipeline import warm

        # asked for: what waits for the first kernel may start (the warm process may still be importing, on one
        # core, before it forks this kernel)
        kernel_launched.set()
        forked = warm.launch(kernel_cmd, kw.get("env"), kw.get("cwd"))  # type: ignore[arg-type]
        if forked is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner = self.provisioner
        provisioner.process = forked  # polled and signalled like the Popen the ordinary launch keeps
        provisioner.pid = provisioner.pgid = forked.pid  # the kernel leads its own session, as launched
        provisioner.cwd = kw.get("cwd") or os.getcwd()
        self._reconcile_connection_info(provisioner.connection_info)

    @default("transport")
    def _default_transport(self) -> str:
        return "tcp" if os.name == "nt" else "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        if self.transport != "ipc":
            return "127.0.0.1"
        folder = tempfile.gettempdir()
        if len(folder) > 60:  # a Unix socket path must stay under ~107 bytes with its suffix
            folder = "/tmp"
        return os.path.join(folder, f"hm-kernel-{uuid.uuid4().hex[:16]}")


@dataclass(frozen=True)
class Task:
    """One notebook in one language: what to inject, where to write, and the batch's shared facts."""

    notebook: Path
    lang: str | None
    parameters: dict[str, object]
    defaults: dict[str, object]
    out_dir: Path
    build_dir: Path
    kernel: str = paths.KERNEL_NAME
    timeout: int = 600
    built: str = ""
    commit: tuple[str | None, bool | None] = (None, None)
    synthetic: bool = False  # the data file given to this notebook is synthetic (see analysis.present.outputs)

    @property
    def name(self) -> str:
        """Report name: `<stem>_<lang>`, or the stem for a notebook without a `lang` parameter."""
        return f"{self.notebook.stem}_{self.lang}" if self.lang else self.notebook.stem

    @property
    def executed(self) -> Path:
        """Where the executed notebook is kept."""
        return self.build_dir / (self.lang or "all") / self.notebook.name

    @property
    def briefing(self) -> Path:
        """The HTML report without code."""
        return self.out_dir / "briefing" / f"{self.name}.html"

    @property
    def teaching(self) -> Path:
        """The HTML report with code and exercises, without their solutions (for students)."""
        return self.out_dir / "teaching" / f"{self.name}.html"

    @property
    def solutions(self) -> Path:
        """The HTML report with code, exercises and their solutions (for the teacher)."""
        return self.out_dir / "teaching" / "solutions" / f"{self.name}.html"

    @property
    def pages(self) -> tuple[Path, Path, Path]:
        """Every page this task writes: briefing, teaching, solutions."""
        return self.briefing, self.teaching, self.solutions


@dataclass
class Outcome:
    """What happened to one task."""

    name: str
    ok: bool
    seconds: float
    execute_seconds: float = 0.0
    briefing: Path | None = None
    teaching: Path | None = None
    error: str = ""
    data_files: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # files the kernel wrote into the export folder
    synthetic: bool = False  # the page carries the synthetic-data banner
    solutions: Path | None = None

    @property
    def pages(self) -> list[Path]:
        """Every page written: briefing, teaching, solutions (none when the task failed)."""
        return [p for p in (self.briefing, self.teaching, self.solutions) if p is not None]


def _hook_roots(parameters: dict[str, object]) -> list[str]:
    roots = [str(paths.DATA_DIR)]
    data_path = parameters.get("data_path")
    if isinstance(data_path, str) and data_path:
        roots.append(str(paths.resolve(data_path).parent))
    return roots


def _write_roots(parameters: dict[str, object]) -> list[str]:
    export_dir = parameters.get("export_dir")
    return [str(paths.resolve(export_dir))] if isinstance(export_dir, str) and export_dir else []


def prepare(notebook: Path, parameters: dict[str, object]):
    """Return the notebook with the data-file audit cells (tagged hm-provenance) added first and last."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    hook = nbformat.v4.new_code_cell(HOOK_SOURCE.format(roots=_hook_roots(parameters),
                                                        write_roots=_write_roots(parameters)))
    end = nbformat.v4.new_code_cell(END_SOURCE)
    for cell in (hook, end):
        cell.metadata["tags"] = [PROVENANCE_TAG]
    nb.cells = [hook, *nb.cells, end]
    return nb


def audit(nb) -> KernelReport:
    """Return what the audit cells of an executed notebook reported (files read and written, synthetic mark)."""
    for cell in reversed(nb.cells):
        if PROVENANCE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            got = kernel_report(out.get("text", ""))
            if got is not None:
                return got
    return KernelReport()


def _error_text(exc: BaseException, executed: Path) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill.PapermillExecutionError
        head = f"{ename}: {getattr(exc, 'evalue', '')} (cell [{getattr(exc, 'exec_count', '?')}])"
    else:
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        head = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    return f"{head}\n  executed copy with the error: {executed}"


def render(task: Task, announce: bool = True) -> Outcome:
    """Execute `task` with papermill, then write its three HTML pages (briefing, teaching, solutions) atomically;
    never raises."""
    import papermill

    from analysis.pipeline.report_html import (
        export_html,
        notebook_findings,
        notebook_summary,
        notebook_title,
        select_for_data,
        select_language,
        start_warm_up,
        write_atomic,
    )

    start = time.perf_counter()
    warm_up = start_warm_up(after=kernel_launched)  # the page templates compile while the kernel runs (joined
    # before the pages)
    if announce:
        sys.stdout.write(f"  started  {task.name}\n")  # one write: lines from parallel threads stay whole
        sys.stdout.flush()
    task.executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        nb = papermill.execute_notebook(
            prepare(task.notebook, task.parameters),
            str(task.executed),
            parameters=task.parameters,
            kernel_name=task.kernel,
            execution_timeout=task.timeout,
            progress_bar=False,
            # written once, when the notebook has run: papermill would write it again at each cell's start and
            # end (about 90 writes, 1-2 s of this process's time for a report, competing with the other threads)
            request_save_on_cell_execute=False,
            # every output has arrived when the last cell is done: stop the kernel at once instead of asking it
            # to shut down and polling until it has (0.2-0.3 s a report)
            shutdown_kernel="immediate",
            kernel_manager_class=IpcKernelManager,
            # The kernel's working folder, given to nbclient directly: papermill's own `cwd` argument changes
            # the folder of the whole process, which parallel threads share.
            resources={"metadata": {"path": str(task.notebook.parent)}},
        )
        executed_at = time.perf_counter()
        seen = audit(nb)  # the executed notebook as papermill returns it (and wrote it to task.executed)
        files = list(seen.read)
        synthetic = task.synthetic or seen.synthetic
        nb = select_language(nb, task.lang)
        # Cells for one kind of data: by what the kernel loaded (a user's file may hold published figures too),
        # else by whether a data file was given.
        given = task.parameters.get("data_path", task.defaults.get("data_path"))
        nb = select_for_data(nb, published=seen.published if seen.published is not None else not given)
        used = {**task.defaults, **task.parameters}
        prov = make_provenance(task.notebook, used, files, task.built, task.commit)
        title = notebook_title(nb, task.notebook.stem)
        findings = notebook_findings(nb)
        summary = findings[0] if findings else notebook_summary(nb, task.lang)
        common = dict(title=title, summary=summary, footer=footer_html(prov, task.lang or "en"),
                      lang=task.lang, notebook=task.notebook.name, built=task.built, synthetic=synthetic,
                      data_files=[(f.path, f.sha256) for f in prov.data_files])
        warm_up.join()  # its imports are over before this thread exports: no two threads import nbconvert at once
        pages = {audience: export_html(nb, with_code=audience != "briefing", audience=audience, **common)
                 for audience in ("briefing", "teaching", "solutions")}
        for target, page in zip(task.pages, pages.values(), strict=True):  # all exist as text before any is written
            write_atomic(target, page)
        return Outcome(task.name, True, time.perf_counter() - start, executed_at - start,
                       task.briefing, task.teaching, data_files=files, written=list(seen.written),
                       synthetic=synthetic, solutions=task.solutions)
    except Exception as exc:  # one failure must not stop the batch
        return Outcome(task.name, False, time.perf_counter() - start, error=_error_text(exc, task.executed))
