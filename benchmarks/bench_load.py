"""Benchmark of loading a user's file: a generated 1,000,080-row monthly series against pandas.read_csv alone.

    .venv/bin/python benchmarks/bench_load.py [--rows 1000080] [--repeat 3]      # or: make bench

Writes a valid monthly file by sender and receiver (120 months, each a `total` row and 8,333 flows; fixed
seed) to build/bench/series_1m.csv (generated here, never committed), then times, each in a fresh
interpreter (best of --repeat): `pandas.read_csv(path)` alone, and `analysis.data.load_series(path)` (read,
validate, bounds). Prints both times, their ratio and the loader's peak memory (the growth of the process's
peak resident memory during the load) against the file's size; writes them to build/bench.json under the keys
load_1m_s, read_csv_1m_s, load_ratio, load_peak_mib, file_mib (other keys of that file are kept). A benchmark
prints figures; no test asserts a time. Targets (issue 10): ratio within 4, peak within 4x the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from analysis import paths

TARGET_RATIO = 4.0
TARGET_MEMORY = 4.0
MONTHS = 120  # 2010-01 .. 2019-12

CHILD = r"""
import resource, sys, time
def rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
import pandas as pd
from analysis import data
kind, path = sys.argv[1], sys.argv[2]
before = rss_mib()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
frame = pd.read_csv(path) if kind == "read_csv" else data.load_series(path)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(seconds, max(peak, before) - before, len(frame))
"""


def write_file(target: Path, rows: int, seed: int = 20250101) -> Path:
    """Write a valid monthly series of about `rows` rows: per month a total and (rows / months - 1) flows."""
    rng = np.random.default_rng(seed)
    per_month = max(1, rows // MONTHS - 1)
    senders = [f"kommune_{i:03d}" for i in range(int(np.ceil(np.sqrt(per_month))) + 1)]
    receivers = [f"helseforetak_{i:03d}" for i in range(int(np.ceil(per_month / len(senders))) + 1)]
    pairs = [(s, r) for s in senders for r in receivers][:per_month]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("period,measure,sender,receiver,value\n")
        for m in range(MONTHS):
            period = f"{2010 + m // 12}-{m % 12 + 1:02d}"
            values = rng.integers(0, 5000, size=len(pairs))
            fh.write(f"{period},total,all,all,{int(values.sum()) + 1000}\n")
            fh.write("".join(f"{period},plo,{s},{r},{v}\n" for (s, r), v in zip(pairs, values, strict=True)))
    return target


def measure(kind: str, path: Path, repeat: int) -> tuple[float, float, int]:
    """Best time and largest peak-memory growth (MiB) of `repeat` fresh interpreters loading `path`."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, kind, str(path)], check=True, capture_output=True,
                             text=True).stdout.split()
        runs.append((float(out[0]), float(out[1]), int(out[2])))
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def main(argv: list[str] | None = None) -> int:
    """Generate the file, time both loads, print the figures and write them to build/bench.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_080)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    path = write_file(paths.BUILD_DIR / "bench" / "series_1m.csv", args.rows)
    file_mib = path.stat().st_size / 2**20
    read_s, read_peak, n_read = measure("read_csv", path, args.repeat)
    load_s, load_peak, n_load = measure("load_series", path, args.repeat)
    assert n_read == n_load, (n_read, n_load)
    ratio = load_s / read_s
    print(f"file: {path} ({n_load:,} rows, {file_mib:.1f} MiB)")
    print(f"pandas.read_csv alone : {read_s:6.2f} s (peak +{read_peak:.0f} MiB)")
    print(f"analysis load_series  : {load_s:6.2f} s (peak +{load_peak:.0f} MiB)")
    print(f"ratio {ratio:.2f} (target within {TARGET_RATIO:g}); peak memory {load_peak / file_mib:.2f}x the file "
          f"(target within {TARGET_MEMORY:g}x)")
    out = paths.BUILD_DIR / "bench.json"
    try:
        figures = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        figures = {}
    figures.update(load_1m_s=round(load_s, 3), read_csv_1m_s=round(read_s, 3), load_ratio=round(ratio, 3),
                   load_peak_mib=round(load_peak, 1), file_mib=round(file_mib, 1), load_rows=n_load)
    out.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
