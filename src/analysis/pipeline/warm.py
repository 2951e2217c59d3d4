"""Warm kernels: every kernel of a build forked from one process that has already imported what kernels import.

A fresh Python kernel spends about two seconds before its first cell does any work: the interpreter starts,
ipykernel, IPython and zmq load, and the notebook's first cell imports pandas, matplotlib, statsmodels and the
package. A build starts eight kernels. Here one *warm process* (``python -m analysis.pipeline.warm``) pays that
once: it imports those modules, then waits; for each kernel a build starts, it forks, and the child becomes the
kernel exactly as ``python -m ipykernel_launcher -f <connection file>`` would (its own session, the
environment and working folder jupyter_client asked for, the launcher's ``sys.path`` and ``sys.argv``, a fresh
numpy seed), starting from the imported modules instead of an empty interpreter. The kernel manager of the
pipeline (:class:`analysis.pipeline.render.IpcKernelManager`) asks for such a kernel through :func:`launch`.

Only what the kernel would import anyway is imported ahead, so a notebook's outputs do not change (a build with
and without warm kernels writes byte-identical pages, tables and figures; ``tests/test_warm.py``). A kernel is
launched the ordinary way when warm kernels cannot serve it: another kernel command than this interpreter's
ipykernel, an environment that differs from the warm process's in a variable read at import (``PYTHON*``,
BLAS threads, matplotlib's), no ``fork`` (not Linux), or ``HELSEMELDINGER_WARM=off``. Forked kernels are
children of the warm process; it ends with the process that started it (its stdin closes), and stops any kernel
of its own still running then.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence

ENV = "HELSEMELDINGER_WARM"
OFF = "off"
# Imported by the warm process before it forks: what the notebooks' kernels import (their first cells and the
# package's modules, which load scipy and statsmodels on first use), never a matplotlib backend (ipykernel's
# inline backend must be loaded by the kernel itself, after its shell exists) and not seaborn (kernels do not
# import it; its import registers colormaps).
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # with debugpy, loaded when a kernel starts
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.core.pylabtools",
    "IPython.extensions.storemagic",
    "sqlite3",
    "tornado.gen",
    "tornado.locks",
    "tornado.queues",
    "tornado.platform.asyncio",
    "IPython.display",
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",  # the renderers (modules only: no backend is chosen by importing them)
    "matplotlib.backends.backend_svg",
    "scipy.optimize",
    "scipy.stats",
    "statsmodels.api",
    "analysis.data",
    "analysis.params",
    "analysis.intervals",
    "analysis.claims",
    "analysis.decompose",
    "analysis.trend",
    "analysis.evidence",
    "analysis.statements",
    "analysis.present.catalogue",
    "analysis.present.formatting",
    "analysis.present.outputs",
    "analysis.present.plotting",
    "analysis.present.findings",
    "analysis.present.overview",
    "analysis.present.claims_report",
    "analysis.present.decompose_report",
    "analysis.present.trend_report",
    "analysis.present.evidence_report",
)
# Environment variables read when the interpreter starts or a preloaded module is imported: a kernel whose
# environment differs from the warm process's in any of them is launched the ordinary way.
IMPORT_TIME = re.compile(r"^(PYTHON\w*|OPENBLAS_\w+|OMP_\w+|MKL_\w+|NUMEXPR_\w+|VECLIB_\w+|MPL\w+|LANG|LC_\w+|TZ"
                         r"|JPY_INTERRUPT_EVENT|HOME|XDG_\w+|JUPYTER_\w+|IPYTHONDIR|VIRTUAL_ENV)$")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets MPLBACKEND to when unset
START_TIMEOUT = 120.0  # seconds to wait for the warm process's imports before launching kernels the ordinary way


def enabled() -> bool:
    """Whether warm kernels may be used here: fork on Linux, and not turned off with HELSEMELDINGER_WARM=off."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and os.environ.get(ENV, "").strip() != OFF


def _import_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if IMPORT_TIME.match(k)}


def kernel_command(cmd: Sequence[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """(interpreter options, ipykernel arguments) of a kernel command of this interpreter
    (``<python> [options] -m ipykernel_launcher <arguments>``), else None."""
    cmd = list(cmd)
    try:
        at = next(i for i in range(1, len(cmd) - 1) if cmd[i] == "-m")
    except StopIteration:
        return None
    options = cmd[1:at]
    if cmd[at + 1] != "ipykernel_launcher" or not all(o.startswith("-") and o != "-c" for o in options):
        return None
    try:
        same = os.path.samefile(cmd[0], sys.executable)
    except OSError:
        same = False
    return (tuple(options), cmd[at + 2:]) if same else None


# ---------------------------------------------------------------- the warm process

def _kernel_child(request: dict, closing: Sequence[int]) -> None:
    """In the forked child: become the kernel ``python -m ipykernel_launcher <args>`` would start; never returns."""
    code = 0
    try:
        os.setsid()  # jupyter_client starts a kernel in a new session and signals its process group
        for fd in closing:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)  # the kernel's stdin, as jupyter_client gives it none to read
        os.dup2(devnull, 0)
        if devnull != 0:
            os.close(devnull)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        import ipykernel_launcher

        sys.argv = [ipykernel_launcher.__file__, *request["args"]]
        if "numpy" in sys.modules:  # a fresh interpreter seeds numpy's global generator from the OS
            sys.modules["numpy"].random.seed()
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported like an interpreter would, then the child ends
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001
                    pass
            os._exit(code)


def _answer(listener: socket.socket, children: list[int], pending: int) -> None:
    """Answer one request on `listener`: fork the kernel it asks for and reply with its pid (null: no fork), or
    say how many modules are still to be imported (a request without "args")."""
    conn, _ = listener.accept()
    with conn:
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        try:
            request = json.loads(data)
        except ValueError:
            return
        if "args" not in request:
            conn.sendall(json.dumps({"pending": pending}).encode() + b"\n")
            return
        pid = None
        if threading.active_count() == 1:  # fork copies only the calling thread: a thread here could hang a kernel
            pid = os.fork()
            if pid == 0:
                _kernel_child(request, [listener.fileno(), conn.fileno()])
            children.append(pid)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def serve(listen_fd: int) -> None:
    """Run the warm process: import :data:`PRELOAD` one module at a time, forking a kernel for each request on the
    listening socket `listen_fd` as it comes (a kernel asked for early imports the rest itself), until stdin
    closes; then stop the kernels still running and exit."""
    import importlib
    from pathlib import Path as _Path

    # as ipykernel_launcher does: the folder it was started from is not on sys.path while modules load
    if sys.path and (sys.path[0] == "" or _Path(sys.path[0]) == _Path.cwd()):
        del sys.path[0]
    # as jupyter_client and ipykernel set them before a kernel imports anything (a child gets its own environment)
    os.environ.setdefault("JPY_PARENT_PID", str(os.getppid()))
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = INLINE_BACKEND
    listener = socket.socket(fileno=listen_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked kernels are reaped by the system
    children: list[int] = []
    todo = list(PRELOAD)
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 0 if todo else None)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
            break
        if listener in ready:
            _answer(listener, children, len(todo))
        elif todo:
            try:
                importlib.import_module(todo.pop(0))
            except Exception:  # noqa: BLE001 - a module that cannot load here is loaded (or fails) in the kernel
                pass
    for pid in children:  # the build ended without stopping these (it was killed): stop them as it would
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass


# ---------------------------------------------------------------- the build's side

class ForkedKernel:
    """The ``Popen``-like handle jupyter_client's provisioner keeps for a kernel forked by the warm process."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        """Handle the kernel process `pid` (not a child of this process: it is polled, not waited for)."""
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """None while the kernel runs, else 0 (its exit status went to the warm process)."""
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait until the kernel has exited."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        """Send `signum` to the kernel."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL."""
        self.send_signal(signal.SIGKILL)


class WarmProcess:
    """The warm process of this build: started on first use, ended when this process exits."""

    def __init__(self, options: tuple[str, ...] = ()) -> None:
        """Start the warm process with interpreter `options` (the kernel command's, e.g. ``-Xfrozen_modules=off``)
        and this process's environment; its imports run while the caller goes on."""
        self.options = options
        self.env = _import_env(os.environ)
        folder = tempfile.gettempdir() if len(tempfile.gettempdir()) < 60 else "/tmp"
        self._path = os.path.join(folder, f"hm-warm-{os.getpid()}-{id(self):x}")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self._path)
        listener.listen(64)
        self.proc = subprocess.Popen([sys.executable, *options, "-m", "analysis.pipeline.warm",
                                      str(listener.fileno())],
                                     stdin=subprocess.PIPE, pass_fds=[listener.fileno()], close_fds=True)
        listener.close()
        self.broken = False

    def serves(self, cmd: Sequence[str], env: Mapping[str, str] | None) -> list[str] | None:
        """The ipykernel arguments if this warm process can start the kernel `cmd` with `env`, else None."""
        parsed = kernel_command(cmd)
        if parsed is None or parsed[0] != self.options or self.broken or self.proc.poll() is not None:
            return None
        return parsed[1] if _import_env(env if env is not None else os.environ) == self.env else None

    def _ask(self, request: dict) -> dict:
        """Send `request` to the warm process and return its reply (OSError or ValueError when that fails)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(START_TIMEOUT)
            conn.connect(self._path)
            conn.sendall(json.dumps(request).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    raise OSError("the warm process closed the connection")
                reply += chunk
        return json.loads(reply)

    def fork(self, args: Sequence[str], env: Mapping[str, str], cwd: str | os.PathLike) -> int | None:
        """Ask for a kernel with ipykernel arguments `args`; return its pid (None if the warm process failed)."""
        try:
            pid = self._ask({"args": list(args), "env": dict(env), "cwd": str(cwd)})["pid"]
            if pid is None:
                raise ValueError("the warm process cannot fork")
            return int(pid)
        except (OSError, ValueError, KeyError, TypeError):
            self.broken = True
            return None

    def pending(self) -> int:
        """How many of :data:`PRELOAD` the warm process has still to import (it forks kernels meanwhile)."""
        return int(self._ask({})["pending"])

    def close(self) -> None:
        """End the warm process (it stops when its stdin closes)."""
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        finally:
            try:
                os.unlink(self._path)
            except OSError:
                pass


_lock = threading.Lock()
_processes: dict[tuple[str, ...], WarmProcess] = {}


def start(options: tuple[str, ...] = ()) -> WarmProcess | None:
    """This process's warm process for interpreter `options`, started now if it is not yet (None when warm
    kernels are not enabled)."""
    if not enabled():
        return None
    with _lock:
        warm = _processes.get(options)
        if warm is None or warm.proc.poll() is not None:
            warm = _processes[options] = WarmProcess(options)
            atexit.register(warm.close)
        return warm


def prestart(kernel_name: str) -> WarmProcess | None:
    """Start the warm process for the kernel `kernel_name` now, so that its imports run while the build checks
    its data (None when warm kernels cannot serve that kernel)."""
    if not enabled():
        return None
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        parsed = kernel_command(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    except Exception:  # noqa: BLE001 - an unknown kernel is reported where it is launched
        return None
    return start(parsed[0]) if parsed is not None else None


def launch(cmd: Sequence[str], env: Mapping[str, str] | None, cwd: str | os.PathLike | None) -> ForkedKernel | None:
    """Start the kernel `cmd` (with `env`, in `cwd`) forked from the warm process; None when it cannot serve it
    (the caller then launches it the ordinary way)."""
    parsed = kernel_command(cmd)
    warm = start(parsed[0]) if parsed is not None else None
    args = warm.serves(cmd, env) if warm is not None else None
    if args is None:
        return None
    env = dict(env if env is not None else os.environ)
    env.setdefault("JPY_PARENT_PID", str(os.getpid()))  # as jupyter_client's launch_kernel adds it
    pid = warm.fork(args, env, cwd or os.getcwd())
    return ForkedKernel(pid) if pid else None


if __name__ == "__main__":
    serve(int(sys.argv[1]))
    sys.stdout.flush()
    os._exit(0)  # nothing to clean up: skip the interpreter's teardown of every preloaded module (about 0.6 s)
