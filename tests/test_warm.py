"""Warm kernels (analysis.pipeline.warm): forked from the warm process, they behave as freshly launched kernels."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill
import pytest

from analysis import paths
from analysis.pipeline import warm
from analysis.pipeline.render import IpcKernelManager

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm kernels fork: Linux only"),
              pytest.mark.notebook]  # they execute notebooks through papermill

# What a kernel reports about itself: who started it, where it runs, what it imports, its first random numbers.
PROBE = """\
import json, os, sys
import numpy as np
import matplotlib
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "cwd": os.getcwd(),
                  "path": sys.path, "argv0": os.path.basename(sys.argv[0]), "probe": os.environ.get("HM_PROBE"),
                  "backend": matplotlib.get_backend(), "preloaded": "analysis.trend" in sys.modules,
                  "draw": np.random.random()}))
"""
# A figure, a table and text: what the notebooks' outputs are made of (the figure in the package's style).
FIGURE = """\
import matplotlib.pyplot as plt
import pandas as pd
from analysis.present.plotting import set_style
set_style()
fig, ax = plt.subplots()
ax.bar(["a", "b"], [1, 2])
ax.set_ylabel("millioner meldinger")
display(pd.DataFrame({"x": [1.5, 2.25]}))
print("ferdig")
"""


def kernel_options() -> tuple[str, ...]:
    """The interpreter options of the project kernel's command (its kernel spec), as the warm process uses them."""
    from jupyter_client.kernelspec import KernelSpecManager

    parsed = warm.kernel_command(KernelSpecManager().get_kernel_spec(paths.KERNEL_NAME).argv)
    assert parsed is not None, "the project kernel is not this interpreter's ipykernel"
    return parsed[0]


def run(tmp_path, *sources: str, **env: str) -> nbformat.NotebookNode:
    """Execute a notebook of `sources` through papermill with the pipeline's kernel manager, env vars set."""
    import json

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        out = papermill.execute_notebook(nb, str(tmp_path / "out.ipynb"), kernel_name=paths.KERNEL_NAME,
                                         kernel_manager_class=IpcKernelManager, progress_bar=False,
                                         resources={"metadata": {"path": str(tmp_path)}})
    finally:
        for k, v in before.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    out.probe = [json.loads(o["text"]) for c in out.cells for o in c.outputs
                 if o.get("name") == "stdout" and o["text"].startswith("{")]
    return out


def test_kernel_is_forked_warm_and_looks_freshly_launched(tmp_path):
    process = warm.start(kernel_options())
    assert process is not None
    while process.pending():  # a kernel asked for meanwhile waits for the imports (tested below)
        time.sleep(0.05)
    first = run(tmp_path, PROBE, HM_PROBE="one").probe[0]
    second = run(tmp_path, PROBE, HM_PROBE="two").probe[0]
    for got, probe in ((first, "one"), (second, "two")):
        assert got["ppid"] == process.proc.pid  # forked by the warm process, not launched by this one
        assert got["pgid"] == got["pid"]  # its own session, as jupyter_client launches a kernel
        assert got["preloaded"]  # the package was imported before the kernel existed
        assert got["cwd"] == str(tmp_path)  # the working folder asked for
        assert got["probe"] == probe  # the environment asked for at this launch, not the warm process's
        assert got["argv0"] == "ipykernel_launcher.py"
        assert got["backend"] == "module://matplotlib_inline.backend_inline"
    assert first["pid"] != second["pid"]
    assert first["draw"] != second["draw"]  # numpy's global generator seeded afresh in each kernel, as at start-up


def test_off_gives_an_ordinary_kernel_with_identical_outputs(tmp_path):
    """HELSEMELDINGER_WARM=off: the kernel is launched by this process. A figure (PNG bytes), a table (HTML) and
    text are the same from it as from a forked kernel, and so is sys.path."""
    def outputs(nb):
        return [(o.get("output_type"), o.get("text"), dict(o.get("data", {})))
                for c in nb.cells[1:] for o in c.outputs]

    forked = run(tmp_path, PROBE, FIGURE)
    cold = run(tmp_path, PROBE, FIGURE, HELSEMELDINGER_WARM="off")
    assert cold.probe[0]["ppid"] == os.getpid()  # started by this process (jupyter_client's Popen)
    assert forked.probe[0]["ppid"] != os.getpid()
    assert not cold.probe[0]["preloaded"]
    assert cold.probe[0]["path"] == forked.probe[0]["path"]
    assert any("image/png" in d for _, _, d in outputs(forked))
    assert outputs(forked) == outputs(cold)


def test_import_time_environment_change_gets_an_ordinary_kernel(tmp_path):
    """A variable read at import (here the BLAS thread count) differs from the warm process's: no fork."""
    warm.start(kernel_options())
    now = os.environ.get("OPENBLAS_NUM_THREADS", "")
    got = run(tmp_path, PROBE, OPENBLAS_NUM_THREADS=now + "7").probe[0]
    assert got["ppid"] == os.getpid()


def test_interrupt_and_shutdown_reach_a_forked_kernel():
    import asyncio

    async def go():
        km = IpcKernelManager(kernel_name=paths.KERNEL_NAME)
        await km.start_kernel()
        assert isinstance(km.provisioner.process, warm.ForkedKernel)
        pid = km.provisioner.process.pid
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        msg_id = kc.execute("import time; time.sleep(60)")
        await asyncio.sleep(1.0)
        await km.interrupt_kernel()
        reply = await kc.get_shell_msg(timeout=20)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = await kc.get_shell_msg(timeout=20)
        kc.stop_channels()
        await km.shutdown_kernel()
        return reply["content"], pid, await km.is_alive()

    content, pid, alive = asyncio.run(go())
    assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt"
    assert not alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def build_with_a_kernel(*first_lines: str) -> tuple[subprocess.Popen, int]:
    """Start a build that launches one kernel through the pipeline's kernel manager, prints its pid and waits
    (after `first_lines` of its own); return the build's process and the kernel's pid."""
    code = "".join(first_lines) + (
        "import asyncio, time\n"
        "from analysis.pipeline.render import IpcKernelManager\n"
        "async def go():\n"
        f"    km = IpcKernelManager(kernel_name={paths.KERNEL_NAME!r})\n"
        "    await km.start_kernel()\n"
        "    print(km.provisioner.process.pid, flush=True)\n"
        "    time.sleep(600)\n"
        "asyncio.run(go())\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        return proc, int(proc.stdout.readline())
    except ValueError:
        proc.kill()
        raise


def test_warm_process_ends_with_its_parent_and_stops_its_kernels():
    """A build killed hard: the warm process sees its stdin close, stops the kernels it forked, and exits."""
    proc, kernel = build_with_a_kernel()
    os.kill(kernel, 0)  # running
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone(kernel)


def test_kernel_asked_for_while_the_warm_process_still_imports(tmp_path, monkeypatch):
    """A kernel asked for while the warm process still imports is forked once it has imported the rest (one
    import of each module, not one per early kernel), and behaves the same."""
    options = kernel_options()
    fresh = warm.WarmProcess(options)
    monkeypatch.setitem(warm._processes, options, fresh)
    try:
        got = run(tmp_path, PROBE, HM_PROBE="early").probe[0]
        assert got["ppid"] == fresh.proc.pid
        assert got["probe"] == "early"
        assert got["backend"] == "module://matplotlib_inline.backend_inline"
        assert got["argv0"] == "ipykernel_launcher.py"
    finally:
        fresh.close()
    assert fresh.proc.returncode is not None  # closing its stdin ended it


# ---------------------------------------------------------------- warm processes that outlive their build

@pytest.fixture
def lasting(tmp_path, monkeypatch):
    """Lasting warm processes (HELSEMELDINGER_WARM=60) with their sockets in a folder of this test's; this process
    forgets its warm processes, as a new build would not know them. Every warm process there is stopped after."""
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="hmw-", dir="/tmp"))  # short: a socket's path has at most 107 bytes
    where.chmod(0o700)
    monkeypatch.setenv(warm.ENV, "60")
    monkeypatch.setenv(warm.DIR_ENV, str(where))
    monkeypatch.setattr(warm, "_processes", {})
    started: list[warm.WarmProcess] = []

    def new_build() -> warm.WarmProcess:
        """The warm process a new build would use: reached if one with its fingerprint lives, else started."""
        warm._processes.clear()
        process = warm.start(kernel_options())
        assert process is not None and process.keep == 60.0
        started.append(process)
        return process

    yield new_build
    warm.stop_all(where)
    for process in started:
        if process.proc is not None:
            process.proc.wait(timeout=30)
        gone(process.pid)
    shutil.rmtree(where, ignore_errors=True)


def gone(pid: int, within: float = 30.0) -> None:
    """Wait until process `pid` has ended (fail if it still runs after `within` seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # a warm process this test process started: reap it once it has ended
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    pytest.fail(f"process {pid} still ran {within:.0f} s on")


def test_keep_seconds_reads_the_setting(monkeypatch):
    for value, keep in (("", warm.DEFAULT_KEEP), ("90", 90.0), ("1.5", 1.5), ("build", None), ("BUILD", None),
                        ("off", None), ("0", None), ("soon", None)):
        monkeypatch.setenv(warm.ENV, value)
        assert warm.keep_seconds() == keep, value


def test_a_lasting_warm_process_outlives_its_build_and_serves_the_next(tmp_path, lasting, monkeypatch):
    """The next build (same code, same dependencies) reaches the warm process the first one started; it ends
    `keep` seconds after its last kernel, the latest build's setting holding (60 s, then 1 s)."""
    first = lasting()
    assert first.proc is not None  # none lived: this build started it
    while first.pending():
        time.sleep(0.05)
    one = run(tmp_path, PROBE, HM_PROBE="one").probe[0]
    second = lasting()
    assert second.proc is None and second.pid == first.pid
    two = run(tmp_path, PROBE, HM_PROBE="two").probe[0]
    for got, probe in ((one, "one"), (two, "two")):
        assert got["ppid"] == first.pid
        assert got["pgid"] == got["pid"] and got["preloaded"] and got["probe"] == probe
    assert os.stat(warm.folder()).st_mode & 0o777 == 0o700  # only this user reaches its warm processes
    monkeypatch.setenv(warm.ENV, "1")
    warm._processes.clear()
    third = warm.start(kernel_options())  # a build with HELSEMELDINGER_WARM=1, and no kernel: the same process
    assert third is not None and third.keep == 1.0 and third.pid == first.pid
    gone(first.pid, within=15.0)  # about 1 s after that request, not 60
    assert not list(warm.folder().glob("*.sock"))  # and it took its socket with it


def test_changed_source_or_dependencies_never_reach_the_old_warm_process(tmp_path, lasting, monkeypatch):
    """The socket's name is the fingerprint of what the imports depend on: another package source, or a
    distribution installed beside the others, gives another one; the old process is told to stop."""
    from analysis import cache

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(cache, "source_hash", lambda: "a" * 64)
    before = warm.fingerprint(kernel_options())
    assert warm.fingerprint(kernel_options()) == before  # nothing changed: the same
    old = lasting()
    monkeypatch.setattr(cache, "source_hash", lambda: "b" * 64)  # an edit to the package
    edited = warm.fingerprint(kernel_options())
    assert edited != before
    (site / "newdep-1.0.dist-info").mkdir()  # and then a dependency installed
    after = warm.fingerprint(kernel_options())
    assert after not in (before, edited)
    new = lasting()
    assert new.pid != old.pid and new.proc is not None
    gone(old.pid)  # told to stop by the new build: it serves no build of the old code
    assert sorted(p.name for p in warm.folder().glob("*.sock")) == [f"{after[:32]}.sock"]


def test_a_lasting_warm_process_stops_the_kernels_of_a_killed_build(tmp_path, lasting):
    """A build killed hard: the warm process sees it end and stops the kernel it forked for it, and lives on
    for the next build."""
    process = lasting()
    # this test process's sys.path: the same fingerprint, so the same warm process
    proc, kernel = build_with_a_kernel(f"import sys; sys.path[:] = {sys.path!r}\n")
    try:
        forked_by = int(open(f"/proc/{kernel}/stat").read().rsplit(")", 1)[1].split()[1])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert forked_by == process.pid  # the other build's kernel came from this warm process
    gone(kernel)  # that build is gone: so is its kernel
    assert lasting().pid == process.pid  # while the warm process lives on for the next build


def test_a_socket_folder_others_may_open_is_refused(tmp_path, monkeypatch):
    """Sockets in a folder another user could open would let them ask for kernels: such a folder is refused,
    and the build uses a warm process of its own that ends with it."""
    where = tmp_path / "shared"
    where.mkdir()
    where.chmod(0o755)
    monkeypatch.setenv(warm.DIR_ENV, str(where))
    monkeypatch.setenv(warm.ENV, "60")
    monkeypatch.setattr(warm, "_processes", {})
    with pytest.raises(PermissionError, match="chmod 700"):
        warm.folder()
    process = warm.start(kernel_options())
    assert process is not None and process.keep is None and process.proc is not None
    process.close()
    assert process.proc.returncode is not None
    assert not list(where.iterdir())


def test_a_linked_socket_folder_is_refused(tmp_path, monkeypatch):
    """A symbolic link in the folder's place (another user could point it elsewhere later) is refused, even when
    it points at a folder of this user's alone."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(private)
    monkeypatch.setenv(warm.DIR_ENV, str(tmp_path / "link"))
    with pytest.raises(PermissionError, match="not a link"):
        warm.folder()


def test_the_fingerprint_takes_the_environment_but_not_what_a_build_sets(monkeypatch):
    before = warm.fingerprint(kernel_options())
    monkeypatch.setenv("HELSEMELDINGER_CACHE", "/somewhere/else")  # set by every build: the same warm process
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")
    assert warm.fingerprint(kernel_options()) == before
    monkeypatch.setenv("PANDAS_FUTURE", "upcoming")  # read when pandas is imported: another one
    assert warm.fingerprint(kernel_options()) != before


def test_sockets_left_by_ended_builds_are_swept(tmp_path, monkeypatch):
    where = tmp_path / "w"
    where.mkdir(mode=0o700)
    monkeypatch.setenv(warm.DIR_ENV, str(where))
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # a pid whose process has ended
    left = where / f"hm-warm-{ended.pid}-7f00"
    left.touch()
    mine = where / f"hm-warm-{os.getpid()}-7f01"  # a live process's: kept
    mine.touch()
    process = warm.WarmProcess(kernel_options())  # a build's own warm process, its socket in the same folder
    process.close()
    assert not left.exists() and mine.exists()
    assert not Path(process._path).exists()  # its own, removed as it ended
