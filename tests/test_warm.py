"""Warm kernels (analysis.pipeline.warm): forked from the warm process, they behave as freshly launched kernels."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import papermill
import pytest

from analysis import paths
from analysis.pipeline import warm
from analysis.pipeline.render import IpcKernelManager

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm kernels fork: Linux only")

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
    while process.pending():  # kernels asked for meanwhile are forked with fewer modules loaded (tested below)
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


def test_warm_process_ends_with_its_parent_and_stops_its_kernels(tmp_path):
    """A build killed hard: the warm process sees its stdin close, stops the kernels it forked, and exits."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys, time\n"
        "from analysis.pipeline.render import IpcKernelManager\n"
        "async def go():\n"
        f"    km = IpcKernelManager(kernel_name={paths.KERNEL_NAME!r})\n"
        "    await km.start_kernel()\n"
        "    print(km.provisioner.process.pid, flush=True)\n"
        "    time.sleep(600)\n"
        "asyncio.run(go())\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    kernel = int(proc.stdout.readline())
    os.kill(kernel, 0)  # running
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(kernel, signal.SIGKILL)
        pytest.fail(f"kernel {kernel} still ran 30 s after its build was killed")


def test_kernel_asked_for_while_the_warm_process_still_imports(tmp_path, monkeypatch):
    """The first kernels of a build are forked as soon as they are asked for, with what is loaded by then; they
    import the rest themselves and behave the same."""
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
