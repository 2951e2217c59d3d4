"""The result cache (analysis.cache): what enters the key, hits and misses, waiting on a lock, corrupt entries,
and a notebook's tables and figures byte for byte with and without it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis import cache, claims, paths
from analysis.data import load_published

matplotlib.use("agg")


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A cache folder of this test only."""
    where = tmp_path / "results"
    monkeypatch.setenv(cache.ENV, str(where))
    return where


def _counting():
    """A cached function and the list of its real calls."""
    calls = []

    def add(data: pd.DataFrame, step: int = 1) -> pd.DataFrame:
        calls.append(step)
        return data.assign(value=data["value"] + step)

    add.__qualname__ = f"counting_{id(calls)}"  # a key of its own for each test's function
    return cache.cached(add), calls


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame({"value": [1.0, 2.0], "name": ["a", "b"]})
    frame.attrs["source_id"] = "test"
    return frame


def _key(value: object) -> str:
    def fn(x):
        return x

    return cache.key(fn, (value,), {})


# ---------------------------------------------------------------- the key


def test_equal_frames_share_a_key_and_each_difference_makes_another():
    base = _frame()
    assert _key(base) == _key(_frame())
    changed_value = _frame()
    changed_value.loc[1, "value"] = 2.5
    changed_attrs = _frame()
    changed_attrs.attrs["source_id"] = "synthetic_test"
    changed_dtype = _frame().astype({"value": "float32"})
    renamed = _frame().rename(columns={"name": "label"})
    reindexed = _frame().set_axis([5, 6])
    as_text = pd.DataFrame({"value": [1.0, 2.0], "name": ["1", "b"]})
    as_int = pd.DataFrame({"value": [1.0, 2.0], "name": [1, "b"]})  # pandas' own hash reads 1 and "1" alike
    keys = {_key(f) for f in (base, changed_value, changed_attrs, changed_dtype, renamed, reindexed)}
    assert len(keys) == 6
    assert _key(as_text) != _key(as_int)


def test_other_values_by_content():
    assert _key({"b": 1, "a": [1, 2]}) == _key({"a": [1, 2], "b": 1})  # mappings: order does not matter
    assert _key({"x", "y", "z"}) == _key({"z", "y", "x"})
    assert _key((1, 2)) != _key([1, 2])  # the type is part of it
    assert _key(1) != _key(1.0) != _key("1")
    assert _key(np.arange(3)) != _key(np.arange(3.0))
    assert _key(pd.Series([1, 2], index=pd.period_range("2020", periods=2, freq="Y"))) != \
        _key(pd.Series([1, 2], index=pd.period_range("2020-01", periods=2, freq="M")))


def test_the_package_source_and_the_defaults_are_part_of_the_key(monkeypatch):
    def fn(x, seed=0):
        return x

    before = cache.key(fn, (1,), {})
    assert cache.key(fn, (1,), {"seed": 0}) == before  # a default given or not: the same call
    assert cache.key(fn, (1,), {"seed": 1}) != before
    monkeypatch.setattr(cache, "source_hash", lambda: "another source")
    assert cache.key(fn, (1,), {}) != before


def test_source_hash_covers_every_package_file():
    files = [p for p in cache.PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.suffix == ".toml" for p in files) and any(p.suffix == ".py" for p in files)
    assert len(cache.source_hash()) == 64


# ---------------------------------------------------------------- hits and misses


def test_second_call_is_read_from_the_folder(folder):
    fn, calls = _counting()
    first = fn(_frame(), 2)
    again = fn(_frame(), step=2)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert again.attrs == first.attrs == {"source_id": "test"}
    assert calls == [2]  # computed once
    fn(_frame(), 3)
    assert calls == [2, 3]
    assert len(list(folder.rglob("*.pkl"))) == 2


def test_off_computes_every_time(monkeypatch):
    monkeypatch.setenv(cache.ENV, "off")
    fn, calls = _counting()
    fn(_frame())
    fn(_frame())
    assert calls == [1, 1]


def test_unset_is_off_under_pytest_and_build_cache_otherwise(monkeypatch):
    monkeypatch.delenv(cache.ENV, raising=False)
    assert cache.folder() is None  # PYTEST_CURRENT_TEST is set while a test runs
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert cache.folder() == paths.CACHE_DIR


def test_no_data_argument_is_not_cached(folder):
    """data=None means the function loads the published file itself: the kernel's audit must see it read."""
    calls = []

    def fn(data=None):
        calls.append(1)
        return 0

    fn.__qualname__ = f"no_data_{id(calls)}"
    wrapped = cache.cached(fn)
    wrapped()
    wrapped(None)
    assert calls == [1, 1] and not folder.exists()


def test_a_corrupt_entry_is_computed_again(folder):
    fn, calls = _counting()
    fn(_frame())
    (entry,) = folder.rglob("*.pkl")
    entry.write_bytes(b"not a pickle")
    out = fn(_frame())
    assert calls == [1, 1]
    assert list(out["value"]) == [2.0, 3.0]
    assert list(fn(_frame())["value"]) == [2.0, 3.0] and calls == [1, 1]  # the entry was written again


def test_an_error_is_not_kept(folder):
    calls = []

    def fails(x):
        calls.append(x)
        raise ValueError("no")

    fails.__qualname__ = f"fails_{id(calls)}"
    wrapped = cache.cached(fails)
    for _ in range(2):
        with pytest.raises(ValueError):
            wrapped(1)
    assert calls == [1, 1] and not list(folder.rglob("*.pkl"))


def test_read_only_mappings_are_kept(folder):
    from types import MappingProxyType

    calls = []

    def fn(x):
        calls.append(x)
        return MappingProxyType({"a": x})

    fn.__qualname__ = f"proxy_{id(calls)}"
    wrapped = cache.cached(fn)
    wrapped(1)
    got = wrapped(1)
    assert calls == [1] and isinstance(got, MappingProxyType) and dict(got) == {"a": 1}


def test_the_second_process_waits_for_the_first(tmp_path):
    """Two processes asking for the same key at once: one computes (1 s), the other waits and reads it."""
    module = tmp_path / "slow_mod.py"
    module.write_text(textwrap.dedent("""
        import sys, time
        from analysis.cache import cached

        @cached
        def slow(x, log):
            with open(log, "a") as fh:
                fh.write("computed\\n")
            time.sleep(1.0)
            return x * 2
    """), encoding="utf-8")
    log = tmp_path / "log.txt"
    script = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import slow_mod; "
              f"print(slow_mod.slow(21, {str(log)!r}))")
    env = {**os.environ, cache.ENV: str(tmp_path / "results")}
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outs == ["42", "42"]
    assert log.read_text().splitlines() == ["computed"]
    assert time.perf_counter() - start >= 1.0


# ---------------------------------------------------------------- exactly the results


def test_decorated_analysis_gives_the_same_result_from_the_cache(folder):
    data = load_published()
    fresh = claims.check_claims_result.uncached(data)
    claims.check_claims_result(data)
    from_cache = claims.check_claims_result(data)
    assert len(list(folder.rglob("*.pkl"))) >= 1
    pd.testing.assert_frame_equal(fresh.table, from_cache.table, check_exact=True)
    assert fresh.consistent == from_cache.consistent


def test_decorated_functions_leave_their_arguments_as_they_were(folder):
    """A cache hit does not run the function: a function that changed its argument would then behave otherwise."""
    data = load_published()
    before = _key(data)
    claims.reconcile(data)
    claims.sensitivity(["default", "wide"], None, data=data)
    assert _key(data) == before


def _run_cells(notebook: Path, export_dir: Path) -> None:
    """Execute a notebook's code cells in this process (display() prints), exporting to `export_dir`."""
    import matplotlib.pyplot as plt

    space: dict[str, object] = {"__name__": "__main__"}
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in cell.metadata.get("tags", []):
            source += f"\nexport_dir = {str(export_dir)!r}"
        exec(compile(source, str(notebook), "exec"), space)
    plt.close("all")


def test_notebook_02_tables_and_figures_are_byte_identical_with_and_without_the_cache(tmp_path, monkeypatch,
                                                                                    capsys, published_build):
    """Notebook 02 (the decomposition's linear programs) run twice in this process: cache off, then reading the
    cache the published build's kernels filled (another process). The second run computes nothing (it writes
    no entry) and every table (CSV) and figure (PNG, SVG) it writes is byte for byte the first run's."""
    assert published_build.exit_code == 0, published_build.log
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    notebook = paths.NOTEBOOKS_DIR / "en" / "02_growth_decomposition.ipynb"
    monkeypatch.setenv(cache.ENV, "off")
    _run_cells(notebook, tmp_path / "off")
    filled = published_build.root / "build" / "cache"
    entries = sorted(filled.rglob("*.pkl"))
    assert entries, "the published build cached nothing"
    monkeypatch.setenv(cache.ENV, str(filled))
    _run_cells(notebook, tmp_path / "hit")
    assert sorted(filled.rglob("*.pkl")) == entries  # every result came from the cache
    capsys.readouterr()
    off = sorted(p.relative_to(tmp_path / "off") for p in (tmp_path / "off").rglob("*") if p.is_file())
    hit = sorted(p.relative_to(tmp_path / "hit") for p in (tmp_path / "hit").rglob("*") if p.is_file())
    assert off == hit
    assert {p.suffix for p in off} >= {".csv", ".png", ".svg"}
    differ = [p for p in off if (tmp_path / "off" / p).read_bytes() != (tmp_path / "hit" / p).read_bytes()]
    assert differ == []
