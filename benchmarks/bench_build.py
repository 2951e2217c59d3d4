"""Benchmark of the report build: the full default build against a floor of trivial notebooks.

    .venv/bin/python benchmarks/bench_build.py [--jobs 1 2] [--repeat 1]      # or: make bench

Prints, for each --jobs value: the wall time of the full default build (every notebook in notebooks/, every
language, both audiences: what `make report` does), the *floor* (the same number of trivial notebooks, with
the same parameters, through the same command in the same run), their ratio, and the speed-up of parallel
over serial; then the time of `import analysis` in a fresh interpreter. Everything is written to a temporary
folder: reports/ is not touched. A benchmark prints figures; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis import paths
from analysis.pipeline.reports import discover, inspect_parameters
from analysis.present.catalogue import LANGS

TARGET_RATIO = 1.5


def trivial_copies(notebooks: list[Path], folder: Path) -> list[Path]:
    """Write one trivial notebook per real one, declaring the same parameters (so the same reports)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for nb in notebooks:
        params = inspect_parameters(nb)
        doc = new_notebook()
        doc.metadata["kernelspec"] = {"name": paths.KERNEL_NAME, "display_name": "Python (helsemeldinger)",
                                      "language": "python"}
        doc.cells.append(new_markdown_cell(f"# Trivial stand-in for {nb.stem}\n\nThe floor of the pipeline."))
        if params:
            cell = new_code_cell("\n".join(f"{name} = {spec['default']}" for name, spec in params.items()))
            cell.metadata["tags"] = ["parameters"]
            doc.cells.append(cell)
        doc.cells.append(new_code_cell("print('trivial')"))
        target = folder / nb.relative_to(nb.parents[1] if nb.parent.name in LANGS else nb.parent)
        target.parent.mkdir(parents=True, exist_ok=True)  # a notebook kept per language: its language folder
        nbformat.write(doc, target)
        out.append(target)
    return out


def build(notebooks_dir: Path, root: Path, jobs: int) -> dict:
    """Run `python -m analysis.pipeline` on a folder; return wall time, counts and per-report seconds."""
    cmd = [sys.executable, "-m", "analysis.pipeline", "--notebooks", str(notebooks_dir), "--out", str(root / "out"),
           "--build", str(root / "build"), "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary = re.search(r"Summary: (\d+) rendered, (\d+) failed", proc.stdout)
    per = {m.group(2): (float(m.group(3)), float(m.group(4)) if m.group(4) else None)
           for m in re.finditer(r"^  (ok    |FAILED) (\S+)\s+([\d.]+) s (?:\(kernel\s+([\d.]+) s\))?",
                                proc.stdout, re.MULTILINE)}
    return {"wall": wall, "rendered": int(summary.group(1)) if summary else 0,
            "failed": int(summary.group(2)) if summary else -1, "per": per, "rc": proc.returncode,
            "stderr": proc.stderr}


def import_time(module: str, repeat: int = 5) -> float:
    """Median seconds to import `module` in a fresh interpreter (interpreter start-up not included)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time")
    parser.add_argument("--repeat", type=int, default=1, help="builds per configuration (the median is shown)")
    args = parser.parse_args(argv)

    notebooks = discover()
    stems = list(dict.fromkeys(p.stem for p in notebooks))
    print(f"helsemeldinger build benchmark: {len(stems)} notebooks ({', '.join(stems)}), {len(notebooks)} files")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform(terse=True)}")
    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="hm-bench-") as tmp:
        root = Path(tmp)
        trivial_dir = root / "trivial_notebooks"
        trivial_copies(notebooks, trivial_dir)
        for jobs in args.jobs:
            results[jobs] = {}
            for kind, folder in (("floor", trivial_dir), ("full", paths.NOTEBOOKS_DIR)):
                runs = [build(folder, root / f"{kind}_j{jobs}_{i}", jobs) for i in range(args.repeat)]
                best = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
                results[jobs][kind] = best
                status = f"{best['rendered']} reports" + (f", {best['failed']} FAILED" if best["failed"] else "")
                print(f"  --jobs {jobs} {kind:<5}: {best['wall']:6.1f} s wall ({status})", flush=True)
                if best["failed"]:
                    print("    " + best["stderr"].strip().replace("\n", "\n    ")[-1500:])

    print("\nResults (wall time of `python -m analysis.pipeline.reports`, interpreter start-up included)")
    print(f"  {'':<38}" + "".join(f"{f'--jobs {j}':>12}" for j in args.jobs))
    rows = [
        ("full default build", lambda r: f"{r['full']['wall']:.1f} s"),
        ("floor: same number of trivial notebooks", lambda r: f"{r['floor']['wall']:.1f} s"),
        ("ratio full / floor", lambda r: f"{r['full']['wall'] / r['floor']['wall']:.2f}x"),
    ]
    for label, fmt in rows:
        print(f"  {label:<38}" + "".join(f"{fmt(results[j]):>12}" for j in args.jobs))
    if 1 in results and len(results) > 1:
        for j in (j for j in args.jobs if j != 1):
            speed = results[1]["full"]["wall"] / results[j]["full"]["wall"]
            print(f"  --jobs {j} speed-up over serial (full build): {speed:.2f}x "
                  f"({'faster' if speed > 1 else 'NOT faster'})")
    ratio = min(r["full"]["wall"] / r["floor"]["wall"] for r in results.values())
    print(f"  target full <= {TARGET_RATIO}x floor: {'met' if ratio <= TARGET_RATIO else 'not met'} "
          f"(best ratio {ratio:.2f}x)")

    serial = results.get(1, next(iter(results.values())))
    print("\nSeconds per report, serial: total = kernel (start-up + the notebook's cells) + HTML (both pages)")
    print(f"  {'':<30} {'full total':>10} {'kernel':>8} {'HTML':>6}   {'floor total':>11} {'kernel':>8}")
    for name, (secs, run) in serial["full"]["per"].items():
        f_secs, f_run = serial["floor"]["per"].get(name, (float("nan"), None))
        run, f_run = run or float("nan"), f_run or float("nan")
        print(f"  {name:<30} {secs:9.1f}s {run:7.1f}s {secs - run:5.1f}s   {f_secs:10.1f}s {f_run:7.1f}s")

    print("\nImport times in a fresh interpreter (median of 5)")
    for module in ("analysis", "analysis.data", "analysis.present.plotting", "analysis.pipeline.reports"):
        print(f"  import {module:<30} {import_time(module):6.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
