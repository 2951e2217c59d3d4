"""A content-keyed disk cache of analysis results, so what does not depend on the language is computed once.

Decorate an expensive analysis function with :func:`cached`; a call is then looked up by a key, the sha256 of:
the function's qualified name, the package's source (every file below ``src/analysis``, hashed once per
process), the installed versions of the project's dependencies, and the arguments as given (with the
function's defaults filled in). DataFrames and Series enter the key by their values
(``pd.util.hash_pandas_object``), columns, dtypes, index and ``attrs`` (the source and synthetic marks of a
loaded file); other values by a stable description (sorted mappings and sets, dataclasses by their fields),
else by their pickle. A call whose ``data`` argument is None (the function would load the published figures
itself, a file the kernel's audit must see it read) is not cached, nor one with an argument that cannot be
described.

Results are pickles in a folder: ``HELSEMELDINGER_CACHE=<folder>``, or ``off``; unset, ``build/cache/results/``
(:data:`analysis.paths.CACHE_DIR`), except under pytest (``PYTEST_CURRENT_TEST`` set), where it is off so a test
that patches a module is never answered from the cache. The report pipeline sets the folder for each build,
so the kernels of one build (nb and en of a notebook, run in parallel) share it: a lock per key (``fcntl``)
makes the second kernel wait for the first instead of computing the same result again. Entries are written
atomically; an entry that cannot be read is computed again. A result from the cache is the pickled result:
the same values and dtypes as computing it (tests/test_cache.py compares a notebook's tables both ways).
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import enum
import functools
import hashlib
import inspect
import io
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from analysis import paths

ENV = "HELSEMELDINGER_CACHE"
OFF = "off"
PACKAGE_DIR = Path(__file__).resolve().parent
F = TypeVar("F", bound=Callable[..., Any])


class Undescribable(TypeError):
    """An argument that cannot be turned into a stable key (the call is then computed, not cached)."""


# ---------------------------------------------------------------- what the key is made of

@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """Return the sha256 of the package's source: every file below src/analysis (path and bytes), once per process."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def dependency_versions() -> dict[str, str]:
    """Return {distribution: installed version} for Python and the project's declared dependencies."""
    import platform
    import re
    from importlib import metadata

    out = {"python": platform.python_version()}
    try:
        requires = metadata.requires("helsemeldinger") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0]
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def _feed(h: Any, value: object, depth: int = 0) -> None:
    """Add a stable description of `value` to the hash `h`; raise Undescribable when there is none."""
    import numpy as np
    import pandas as pd

    if depth > 50:
        raise Undescribable("nested too deeply")
    kind = type(value)
    h.update(f"<{kind.__module__}.{kind.__qualname__}>".encode())
    if value is None or isinstance(value, bool | int | float | complex | str | bytes | enum.Enum):
        h.update(repr(value).encode() + b"\0")
    elif isinstance(value, pd.DataFrame):
        _feed(h, [str(c) for c in value.columns], depth + 1)
        _feed(h, [repr(c) for c in value.columns], depth + 1)
        _feed(h, [str(t) for t in value.dtypes], depth + 1)
        _feed_index(h, value.index, depth)
        _feed_values(h, value, depth)
        _feed(h, dict(value.attrs), depth + 1)
    elif isinstance(value, pd.Series):
        _feed(h, (repr(value.name), str(value.dtype)), depth + 1)
        _feed_index(h, value.index, depth)
        _feed_values(h, value, depth)
        _feed(h, dict(value.attrs), depth + 1)
    elif isinstance(value, pd.Index):
        _feed_index(h, value, depth)
    elif isinstance(value, pd.Period | pd.Timestamp | pd.Timedelta | np.generic):
        h.update(repr(value).encode() + b"\0")
    elif isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            _feed(h, value.tolist(), depth + 1)
        else:
            h.update(f"{value.dtype.str}{value.shape}".encode())
            h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Path):
        h.update(os.fspath(value).encode() + b"\0")
    elif isinstance(value, Mapping):
        items = [(_digest(k, depth + 1), v) for k, v in value.items()]
        for k, v in sorted(items, key=lambda kv: kv[0]):
            h.update(k.encode())
            _feed(h, v, depth + 1)
    elif isinstance(value, set | frozenset):
        for d in sorted(_digest(v, depth + 1) for v in value):
            h.update(d.encode())
    elif isinstance(value, list | tuple):
        h.update(f"{len(value)}[".encode())
        for v in value:
            _feed(h, v, depth + 1)
        h.update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            h.update(f.name.encode() + b"=")
            _feed(h, getattr(value, f.name), depth + 1)
    elif callable(value):
        raise Undescribable(f"a callable ({kind.__qualname__})")
    else:
        try:
            h.update(pickle.dumps(value, protocol=4))
        except Exception as exc:
            raise Undescribable(f"{kind.__qualname__} cannot be pickled: {exc}") from None


def _digest(value: object, depth: int = 0) -> str:
    h = hashlib.sha256()
    _feed(h, value, depth)
    return h.hexdigest()


def _feed_index(h: Any, index: Any, depth: int) -> None:
    import pandas as pd

    _feed(h, (type(index).__qualname__, [repr(n) for n in index.names], str(index.dtype),
              str(getattr(index, "freqstr", "") or "")), depth + 1)
    try:
        h.update(pd.util.hash_pandas_object(index, categorize=False).to_numpy().tobytes())
    except (TypeError, ValueError):
        _feed(h, list(index), depth + 1)
    if index.dtype == object:
        h.update(repr([type(v).__qualname__ for v in index]).encode())


def _feed_values(h: Any, obj: Any, depth: int) -> None:
    """The values of a Series or DataFrame, column by column; object columns also by each value's type (the
    pandas hash reads 1 and "1" alike)."""
    import pandas as pd

    frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        try:
            h.update(pd.util.hash_pandas_object(col, index=False, categorize=False).to_numpy().tobytes())
        except (TypeError, ValueError):  # values pandas cannot hash (lists, arrays in cells): their description
            _feed(h, col.tolist(), depth + 1)
            continue
        if col.dtype == object:
            h.update(repr(col.map(lambda v: type(v).__qualname__).tolist()).encode())


def key(fn: Callable[..., Any], args: tuple, kwargs: dict) -> str:
    """Return the cache key of calling `fn(*args, **kwargs)` (defaults filled in); raise Undescribable."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    h = hashlib.sha256()
    h.update(f"{fn.__module__}.{fn.__qualname__}\0{source_hash()}\0".encode())
    _feed(h, dependency_versions())
    for name, value in bound.arguments.items():
        h.update(name.encode() + b"=")
        _feed(h, value)
    return h.hexdigest()


# ---------------------------------------------------------------- where entries live

def folder() -> Path | None:
    """Return the cache folder now in force (HELSEMELDINGER_CACHE, else build/cache/results/), or None when off."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() == OFF:
        return None
    if value:
        return paths.resolve(value)
    if os.environ.get("PYTEST_CURRENT_TEST"):
        return None
    return paths.CACHE_DIR


@contextlib.contextmanager
def using(where: str | Path | None) -> Iterator[None]:
    """Set HELSEMELDINGER_CACHE to `where` (a folder, or None for off) inside the block, so kernels started in it
    inherit it; restore the previous value after."""
    before = os.environ.get(ENV)
    os.environ[ENV] = OFF if where is None else str(where)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before


_MISS = object()


def _load(path: Path) -> object:
    """The result stored at `path`, or _MISS when there is none or it cannot be read (it is then recomputed)."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        return _MISS
    except Exception:  # a truncated or corrupt entry, or one of classes that changed: compute again
        return _MISS


def _mappingproxy(items: dict) -> MappingProxyType:
    """Rebuild a read-only mapping from the cache (the pickle module cannot store one itself)."""
    return MappingProxyType(items)


def dumps(value: object) -> bytes:
    """Pickle `value` as the cache stores it (read-only mappings as themselves, which pickle alone refuses)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, MappingProxyType: lambda m: (_mappingproxy, (dict(m),))}
    pickler.dump(value)
    return buffer.getvalue()


def _store(path: Path, value: object) -> None:
    """Write `value` to `path` atomically (a temporary file in the same folder, then a rename)."""
    try:
        data = dumps(value)
    except Exception:  # a result that cannot be pickled is simply not kept
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`'s lock file (across processes); no lock where fcntl is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: no waiting, at worst computed twice
        yield
        return
    with open(path.with_suffix(".lock"), "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def lookup(fn: Callable[..., Any], args: tuple, kwargs: dict) -> object:
    """Return `fn(*args, **kwargs)` from the cache, computing and storing it when it is not there."""
    where = folder()
    bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    if where is None or ("data" in inspect.signature(fn).parameters and bound.arguments.get("data") is None):
        return fn(*args, **kwargs)
    try:
        k = key(fn, args, kwargs)
    except Exception:  # an argument without a stable description (Undescribable, or one pandas cannot hash)
        return fn(*args, **kwargs)
    sub = where / k[:2]
    try:
        sub.mkdir(parents=True, exist_ok=True)
    except OSError:
        return fn(*args, **kwargs)
    path = sub / f"{k}.pkl"
    got = _load(path)
    if got is not _MISS:
        return got
    with _locked(path):
        got = _load(path)  # another process may have computed it while this one waited
        if got is not _MISS:
            return got
        result = fn(*args, **kwargs)  # an exception passes through and nothing is stored
        _store(path, result)
    return result


def cached(fn: F) -> F:
    """Decorate an analysis function so its results are looked up in (and kept in) the result cache."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return lookup(fn, args, kwargs)

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
