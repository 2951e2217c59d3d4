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
children of the warm process.

How long the warm process lives (HELSEMELDINGER_WARM):

- unset (the default) or a number of seconds: it **outlives the build** and serves the next one, so a rebuild
  after editing one notebook forks its kernel at once instead of waiting for the imports again. It listens on a
  Unix socket in a folder only this user can open (HELSEMELDINGER_WARM_DIR, else ``helsemeldinger-warm-<uid>`` in
  XDG_RUNTIME_DIR or the temporary folder; a link is refused, and each end checks the other's user id), named by a
  :func:`fingerprint` of everything its imports depend on: this interpreter and its options, the environment, the
  working folder, ``sys.path`` with the names of the entries in its folders and the times of the metadata an
  install writes (an installed, removed, upgraded or reinstalled distribution changes them), the matplotlibrc
  files, and the sha256 of the package's source (:func:`analysis.cache.source_hash`). A build whose fingerprint
  differs (the package's source or a dependency changed) never reaches it: it starts its own and tells the old
  ones to stop. The warm process ends that many seconds (default :data:`DEFAULT_KEEP`; the latest build's setting
  holds) after its last request or its last kernel's end, whichever is later. It forks a kernel only with a pidfd
  of the build that asks for it, and kills the kernel when that build has ended (killed, say), as the build would
  have. ``python -m analysis.pipeline.warm stop`` stops this user's warm processes.
- ``build``: it ends with the build that started it (its stdin closes), and stops any kernel of its own still
  running then. The test suite runs so.
- ``off``: no warm process; kernels are launched the ordinary way.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ENV = "HELSEMELDINGER_WARM"
DIR_ENV = "HELSEMELDINGER_WARM_DIR"
OFF = "off"
BUILD = "build"
DEFAULT_KEEP = 600.0  # seconds a warm process that outlives its build waits for the next request before it ends
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
# Entries of a sys.path folder that installing, upgrading or removing a distribution writes (pip writes a new
# .dist-info folder even when it reinstalls the same version): the fingerprint takes their times too.
INSTALL_MARKS = (".dist-info", ".egg-info", ".pth", ".egg-link", ".egg")
TIMED = (*INSTALL_MARKS, ".py", ".so")  # ... and of modules at the top of a folder (sitecustomize.py, say)
# Variables that differ from build to build without bearing on what the warm process imported (the build sets
# some of them, a shell or make others): left out of the fingerprint, which takes every other variable.
PER_BUILD = re.compile(r"^(HELSEMELDINGER_(CACHE|WARM|WARM_DIR)|HM_CHROMIUM|SOURCE_DATE_EPOCH|JPY_\w+|PYTEST_\w+"
                       r"|PWD|OLDPWD|SHLVL|_|TERM\w*|COLORTERM|COLUMNS|LINES|MAKE\w*|MFLAGS|SSH_\w+|DISPLAY"
                       r"|WINDOWID|TMUX\w*|STY|LS_COLORS|HIST\w+)$")
START_TIMEOUT = 120.0  # seconds to wait for the warm process's imports before launching kernels the ordinary way


def enabled() -> bool:
    """Whether warm kernels may be used here: fork on Linux, and not turned off with HELSEMELDINGER_WARM=off."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and os.environ.get(ENV, "").strip() != OFF


_warned: set[str] = set()


def keep_seconds() -> float | None:
    """Seconds a warm process outlives its build without a request (HELSEMELDINGER_WARM: unset, or a number of
    seconds), or None when it ends with its build (``build``; also for a value that is none of these, with a
    warning)."""
    value = os.environ.get(ENV, "").strip().lower()
    if not value:
        return DEFAULT_KEEP
    if value == BUILD:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds > 0:
        return seconds
    if value != OFF and value not in _warned:
        _warned.add(value)
        sys.stderr.write(f"{ENV}={value}: give off, build or a number of seconds; the warm process ends with this "
                         "build\n")
    return None


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

def _kernel_child(request: dict, closing: Sequence[int], streams: Sequence[int] = ()) -> None:
    """In the forked child: become the kernel ``python -m ipykernel_launcher <args>`` would start, writing to the
    standard output and error `streams` of the build that asked for it (when given); never returns."""
    code = 0
    try:
        os.setsid()  # jupyter_client starts a kernel in a new session and signals its process group
        for target, fd in zip((1, 2), streams, strict=False):  # the asking build's, as a launched kernel inherits
            os.dup2(fd, target)
        for fd in (*closing, *streams):
            if fd > 2:
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
        if "random" in sys.modules:  # and Python's
            sys.modules["random"].seed()
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


def _peer(conn: socket.socket) -> tuple[int, int] | None:
    """(pid, user id) of the process on the other end of the Unix socket `conn`, or None where that cannot be
    read."""
    try:
        pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                           struct.calcsize("3i")))
    except (OSError, AttributeError):
        return None
    return pid, uid


def _another_users(conn: socket.socket) -> bool:
    """Whether the process on the other end of `conn` runs as another user (False where that cannot be read)."""
    peer = _peer(conn)
    return peer is not None and peer[1] != os.getuid()


def _peer_pidfd(conn: socket.socket) -> int | None:
    """A pidfd of the process on the other end of `conn` (readable once it has ended), or None."""
    peer = _peer(conn)
    try:
        return os.pidfd_open(peer[0]) if peer else None
    except OSError:
        return None


def _answer(listener: socket.socket, running: Running, pending: int, preload: Callable[[], None]) -> dict:
    """Answer one request on `listener`: fork the kernel it asks for and reply with its pid (null: no fork), say
    how many modules are still to be imported and this process's pid (a request without "args"), or agree to stop
    ({"stop": true}); return the request ({} for one that could not be read). A forked kernel is filed in
    `running` with the process that asked for it. Before a fork, `preload()` imports what is still to be
    imported."""
    conn, _ = listener.accept()
    streams: list[int] = []
    with conn:
        if _another_users(conn):
            return {}  # only this user's builds are served (the folder already keeps others out)
        conn.settimeout(10.0)  # a client that connects and sends nothing must not hold up the warm process
        try:
            data, streams, _, _ = socket.recv_fds(conn, 65536, 2)
            while data and not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            request = json.loads(data)
            if not isinstance(request, dict):
                raise ValueError("not a request")
        except (OSError, ValueError):
            for fd in streams:
                os.close(fd)
            return {}
        try:
            if request.get("stop"):
                conn.sendall(json.dumps({"stopped": os.getpid()}).encode() + b"\n")
                return request
            if "args" not in request:
                conn.sendall(json.dumps({"pending": pending, "pid": os.getpid()}).encode() + b"\n")
                return request
            pid = None
            # fork copies only the calling thread (a thread could hang a kernel); and no kernel without a pidfd of
            # its build (taken while the build waits for the reply): a kernel must end with the build that asked
            build = _peer_pidfd(conn) if threading.active_count() == 1 else None
            if build is not None:
                # The rest of the imports first: done here once, not again by each of the first kernels (which
                # would also compete with these imports for the cores)
                preload()
                # what the warm process holds goes to the permanent generation: the kernel's collections never
                # scan the modules it imported (the CPython documentation's advice before a fork)
                gc.freeze()
                pid = os.fork()
                if pid == 0:
                    _kernel_child(request, [listener.fileno(), conn.fileno(), *running.fds(), build], streams)
                running.add(pid, build)
            try:
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            except OSError:  # the build gave up waiting: it will launch a kernel itself, so this one must not run
                if pid is not None:
                    _kill_group(pid)
        except OSError:
            pass
        finally:
            for fd in streams:
                os.close(fd)
    return request


def _kill_group(pid: int) -> None:
    """Kill the kernel `pid` and its process group at once (SIGKILL, as a build's immediate shutdown does):
    nothing waits for its outputs any more."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


class Running:
    """The kernels a warm process forked that still run, each with a pidfd of the build that asked for it: a pidfd
    becomes readable when its process has ended."""

    def __init__(self) -> None:
        """No kernels yet."""
        self.kernels: dict[int, tuple[int, int | None]] = {}  # kernel's pidfd -> (its pid, its build's pidfd)
        self.builds: dict[int, set[int]] = {}  # build's pidfd -> its kernels' pidfds

    def add(self, pid: int, build: int | None) -> None:
        """File the kernel `pid`, forked for the build whose pidfd is `build` (None: not known)."""
        try:
            fd = os.pidfd_open(pid)
        except OSError:  # it has ended already
            if build is not None and build not in self.builds:
                os.close(build)
            return
        if build is not None:
            self.builds.setdefault(build, set()).add(fd)
        self.kernels[fd] = (pid, build)

    def fds(self) -> list[int]:
        """Every pidfd held (to watch, and for a forked child to close)."""
        return [*self.kernels, *self.builds]

    def __bool__(self) -> bool:
        return bool(self.kernels)

    def ended(self, fd: int) -> None:
        """The process of pidfd `fd` has ended: a kernel is forgotten; a build's kernels are stopped, as the build
        would have stopped them."""
        if fd in self.kernels:
            _, build = self.kernels.pop(fd)
            os.close(fd)
            if build is not None:
                self.builds[build].discard(fd)
                if not self.builds[build]:
                    del self.builds[build]
                    os.close(build)
        elif fd in self.builds:
            for kernel in sorted(self.builds[fd]):
                self.stop(kernel)
            self.builds.pop(fd, None)
            os.close(fd)

    def stop(self, fd: int | None = None) -> None:
        """Kill the kernel of pidfd `fd` (each leads its own process group), or every kernel, and forget it."""
        for kernel in [fd] if fd is not None else list(self.kernels):
            pid, build = self.kernels.pop(kernel)
            _kill_group(pid)
            os.close(kernel)
            if build is not None and build in self.builds:
                self.builds[build].discard(kernel)
                if fd is None and not self.builds[build]:
                    del self.builds[build]
                    os.close(build)


def serve(listen_fd: int, keep: float | None = None, path: str | None = None) -> None:
    """Run the warm process: import :data:`PRELOAD` one module at a time, forking a kernel for each request on the
    listening socket `listen_fd` as it comes (a kernel asked for early is forked once the imports are done; other
    requests are answered between two imports). A kernel still running when the build that asked for it has
    ended is stopped.

    With `keep` None it runs until stdin closes (its build ended), then stops the kernels still running and
    exits. With `keep` seconds it outlives its build: it exits after `keep` seconds with no request and none of its
    kernels running. Asked to stop, it takes no more requests and exits when its kernels have ended. It removes
    its socket `path` (if that is still its own) as it stops taking requests."""
    import importlib

    # as ipykernel_launcher does: the folder it was started from is not on sys.path while modules load
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    # as jupyter_client and ipykernel set them before a kernel imports anything (a child gets its own environment)
    os.environ.setdefault("JPY_PARENT_PID", str(os.getppid()))
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = INLINE_BACKEND
    listener = socket.socket(fileno=listen_fd)
    inode = _inode(path) if path else None
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked kernels are reaped by the system
    running = Running()
    todo = list(PRELOAD)

    def import_next() -> None:
        try:
            importlib.import_module(todo.pop(0))
        except Exception:  # noqa: BLE001 - a module that cannot load here is loaded (or fails) in the kernel
            pass
        if not todo:
            gc.collect()  # once, after the imports: no garbage of theirs is frozen into the kernels

    def preload() -> None:
        while todo:
            import_next()

    deadline = time.monotonic() + (keep or 0.0)
    stopping = False  # asked to stop: no more requests; it ends when its kernels have ended
    while not (stopping and not running):
        idle = None if keep is None or running else max(0.0, deadline - time.monotonic())
        watched = running.fds() + ([] if stopping else [listener]) + ([sys.stdin] if keep is None else [])
        ready, _, _ = select.select(watched, [], [], 0.0 if todo and not stopping else idle)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
            break
        for fd in ready:
            if isinstance(fd, int):  # a kernel or a build has ended (a build's end stops its kernels)
                running.ended(fd)
                deadline = time.monotonic() + (keep or 0.0)  # idle time counts from the last kernel's end
        if listener in ready:
            request = _answer(listener, running, len(todo), preload)
            stopping = bool(request.get("stop"))
            if keep is not None and isinstance(request.get("keep"), (int, float)) and request["keep"] > 0:
                keep = float(request["keep"])  # the latest build's setting (HELSEMELDINGER_WARM) holds
            deadline = time.monotonic() + (keep or 0.0)
            if stopping:
                listener.close()
                if path and inode is not None and _inode(path) == inode:
                    os.unlink(path)  # still this process's socket (not one a later warm process bound there)
        elif todo and not stopping:
            import_next()
        elif keep is not None and not ready and not running and time.monotonic() >= deadline:
            break
    if keep is not None and not stopping and path and inode is not None and _inode(path) == inode:
        os.unlink(path)
    running.stop()  # its build ended without stopping these (it was killed): stop them as it would


def _inode(path: str | os.PathLike) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


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


def fingerprint(options: tuple[str, ...] = ()) -> str:
    """The sha256 of what a warm process's imports depend on: this interpreter and its `options`, the environment
    (every variable but those of :data:`PER_BUILD`), the working folder, ``sys.path`` with the names of its
    folders' entries (and the modification times of those an install writes and of modules, :data:`TIMED`), the
    matplotlibrc files matplotlib reads at import (their times), :data:`PRELOAD`, and the package's source hash.
    Two builds with the same fingerprint may share one warm process."""
    from analysis import cache

    folders = []
    for entry in sys.path:
        if not entry or Path(entry) == Path.cwd():
            continue  # the folder a build starts in is not on a kernel's sys.path (ipykernel_launcher drops it)
        try:
            with os.scandir(entry) as it:  # what is there; for what an install writes, also when it was written
                folders.append((entry, sorted((e.name, e.stat(follow_symlinks=False).st_mtime_ns
                                               if e.name.endswith(TIMED) else None) for e in it
                                              if e.name != "__pycache__")))
        except OSError:
            folders.append((entry, None))
    home = Path(os.environ.get("HOME") or Path.home())
    rc = [Path.cwd() / "matplotlibrc", Path(os.environ.get("MATPLOTLIBRC", "/nonexistent")),
          Path(os.environ.get("MATPLOTLIBRC", "/nonexistent")) / "matplotlibrc",
          Path(os.environ.get("MPLCONFIGDIR", "/nonexistent")) / "matplotlibrc",
          Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "matplotlib" / "matplotlibrc"]
    made_of = {"executable": sys.executable, "version": sys.version, "options": list(options),
               "env": sorted((k, v) for k, v in os.environ.items() if not PER_BUILD.match(k)), "cwd": os.getcwd(),
               "path": folders, "matplotlibrc": [(str(p), _mtime(p)) for p in rc],
               "preload": list(PRELOAD), "source": cache.source_hash()}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns if path.is_file() else None
    except OSError:
        return None


def folder() -> Path:
    """The folder of this user's lasting warm processes' sockets (HELSEMELDINGER_WARM_DIR, else
    ``helsemeldinger-warm-<uid>`` in the temporary folder); made if missing, only this user may open it."""
    given = os.environ.get(DIR_ENV, "").strip()
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()  # a folder of this user's own, where the system has one
    base = runtime if runtime and len(runtime) < 60 and os.path.isdir(runtime) else (
        tempfile.gettempdir() if len(tempfile.gettempdir()) < 60 else "/tmp")
    path = Path(given) if given else Path(base) / f"helsemeldinger-warm-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()  # the folder itself: a symbolic link (which another user could point elsewhere) is refused
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077):
        raise PermissionError(f"{path}: the warm processes' folder must be a folder (not a link) of this user alone "
                              "(chmod 700)")
    return path


def _ask(path: str | os.PathLike, request: dict, timeout: float = START_TIMEOUT,
         streams: Sequence[int] = ()) -> dict:
    """Send `request` (with the file descriptors `streams`) to the warm process listening on `path` and return its
    reply (OSError or ValueError when that fails)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(os.fspath(path))
        if _another_users(conn):
            raise OSError(f"{path}: the warm process there is another user's")
        payload = json.dumps(request).encode() + b"\n"
        sent = socket.send_fds(conn, [payload], list(streams)) if streams else conn.send(payload)
        if sent < len(payload):  # (nothing left to send: the answer may already be on its way, the peer closed)
            conn.sendall(payload[sent:])
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = conn.recv(4096)
            if not chunk:
                raise OSError("the warm process closed the connection")
            reply += chunk
    return json.loads(reply)


class WarmProcess:
    """The warm process of this build: started on first use; with `keep` seconds one that outlives the build (an
    earlier build's, when its fingerprint is this build's), else one that ends when this process exits."""

    def __init__(self, options: tuple[str, ...] = (), keep: float | None = None) -> None:
        """Start (or, with `keep`, reach) the warm process for interpreter `options` (the kernel command's, e.g.
        ``-Xfrozen_modules=off``) and this process's environment; its imports run while the caller goes on."""
        self.options = options
        self.env = _import_env(os.environ)
        self.keep = keep
        self.broken = False
        self.proc: subprocess.Popen | None = None
        if keep is None:
            try:  # this user's own folder; else the temporary folder
                base = os.fspath(folder())
                _sweep(Path(base))
            except OSError:
                base = tempfile.gettempdir() if len(tempfile.gettempdir()) < 60 else "/tmp"
            self._path = os.path.join(base, f"hm-warm-{os.getpid()}-{id(self):x}")
            self.proc = self._spawn(stdin=subprocess.PIPE)
            self.pid = self.proc.pid
            return
        where = folder()
        self._path = os.fspath(where / f"{fingerprint(options)[:32]}.sock")
        self.pid = self._reach()
        if self.pid is None:
            with open(where / "start.lock", "a") as lock:  # one build starts it; another waits, then reaches it
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
                self.pid = self._reach()
                if self.pid is None:
                    self.proc = self._spawn(stdin=subprocess.DEVNULL, detach=True)
                    self.pid = self.proc.pid
            stop_all(where, but=self._path)  # older code or dependencies: they would serve no build of this one

    def _spawn(self, stdin: int, detach: bool = False) -> subprocess.Popen:
        """Bind the socket and start the warm process on it (detached, writing nothing, when it outlives us)."""
        try:
            os.unlink(self._path)  # a socket whose warm process is gone (it did not answer)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self._path)
        listener.listen(64)
        command = [sys.executable, *self.options, "-m", "analysis.pipeline.warm", "serve", str(listener.fileno())]
        if self.keep is not None:
            command += [repr(self.keep), self._path]
        quiet = subprocess.DEVNULL if detach else None
        proc = subprocess.Popen(command, stdin=stdin, stdout=quiet, stderr=quiet, pass_fds=[listener.fileno()],
                                close_fds=True, start_new_session=detach)
        listener.close()
        return proc

    def _reach(self) -> int | None:
        """The pid of the lasting warm process on this socket, or None when none answers."""
        try:
            return int(_ask(self._path, {"keep": self.keep}, timeout=5.0)["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def serves(self, cmd: Sequence[str], env: Mapping[str, str] | None) -> list[str] | None:
        """The ipykernel arguments if this warm process can start the kernel `cmd` with `env`, else None."""
        parsed = kernel_command(cmd)
        if parsed is None or parsed[0] != self.options or self.broken:
            return None
        if self.keep is None and self.proc is not None and self.proc.poll() is not None:
            return None
        return parsed[1] if _import_env(env if env is not None else os.environ) == self.env else None

    def _ask(self, request: dict, streams: Sequence[int] = ()) -> dict:
        """Send `request` to the warm process and return its reply (OSError or ValueError when that fails)."""
        return _ask(self._path, request, streams=streams)

    def fork(self, args: Sequence[str], env: Mapping[str, str], cwd: str | os.PathLike) -> int | None:
        """Ask for a kernel with ipykernel arguments `args`; return its pid (None if the warm process failed). The
        kernel writes to this process's standard output and error, as a kernel launched from here would."""
        try:
            streams = [fd for fd in (1, 2) if _is_open(fd)]
            if len(streams) == 1:
                streams = []  # both or neither (the child maps them to 1 and 2 in order)
            reply = self._ask({"args": list(args), "env": dict(env), "cwd": str(cwd), "keep": self.keep}, streams)
            if reply.get("pid") is None:
                raise ValueError("the warm process cannot fork")
            return int(reply["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            self.broken = True
            return None

    def pending(self) -> int:
        """How many of :data:`PRELOAD` the warm process has still to import (it forks kernels meanwhile)."""
        return int(self._ask({})["pending"])

    def close(self) -> None:
        """End the warm process that ends with this build (it stops when its stdin closes); a lasting one is left
        to serve the next build."""
        if self.keep is not None:
            return
        try:
            if self.proc is not None and self.proc.stdin:
                self.proc.stdin.close()
            if self.proc is not None:
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        finally:
            try:
                os.unlink(self._path)
            except OSError:
                pass


def _sweep(where: Path) -> None:
    """Remove the sockets of builds' own warm processes (``hm-warm-<pid>-...``) whose build has ended without
    removing its socket (a process that ends with os._exit skips the exit handlers that would have)."""
    for sock in where.glob("hm-warm-*-*"):
        try:
            pid = int(sock.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            sock.unlink(missing_ok=True)
        except (ValueError, IndexError, OSError):
            pass


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def stop_all(where: Path | None = None, but: str | None = None) -> list[int]:
    """Tell the lasting warm processes whose sockets are in `where` (default :func:`folder`) to stop, except the
    one on socket `but`; return the pids that said they stop. Sockets nobody answers on are removed."""
    where = folder() if where is None else where
    stopped = []
    for sock in sorted(where.glob("*.sock")):
        if but is not None and os.fspath(sock) == but:
            continue
        try:
            stopped.append(int(_ask(sock, {"stop": True}, timeout=5.0)["stopped"]))
        except ConnectionRefusedError:
            try:
                sock.unlink()
            except OSError:
                pass
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return stopped


_lock = threading.Lock()
_processes: dict[tuple[str, ...], WarmProcess] = {}


def start(options: tuple[str, ...] = ()) -> WarmProcess | None:
    """This process's warm process for interpreter `options`, started (or reached) now if it is not yet (None when
    warm kernels are not enabled)."""
    if not enabled():
        return None
    with _lock:
        warm = _processes.get(options)
        ended = warm is not None and (warm.broken if warm.keep is not None  # a lasting one that stopped serving
                                      else warm.proc is not None and warm.proc.poll() is not None)
        if warm is None or ended:
            keep = keep_seconds()
            try:
                warm = WarmProcess(options, keep)
            except OSError:  # e.g. a folder for the sockets that another user owns: this build's own, then
                warm = WarmProcess(options, None)
            _processes[options] = warm
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


def main(argv: Sequence[str]) -> int:
    """``python -m analysis.pipeline.warm stop``: stop this user's lasting warm processes (``serve`` is the
    warm process itself, started by a build)."""
    if argv[:1] == ["serve"]:
        keep = float(argv[2]) if len(argv) > 2 else None
        serve(int(argv[1]), keep, argv[3] if len(argv) > 3 else None)
        return 0
    if argv == ["stop"]:
        stopped = stop_all()
        print(f"stopped {len(stopped)} warm process(es)" + (f": {', '.join(map(str, stopped))}" if stopped else ""))
        return 0
    print("usage: python -m analysis.pipeline.warm stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # nothing to clean up: skip the interpreter's teardown of every preloaded module (about 0.6 s)
