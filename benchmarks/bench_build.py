"""Benchmark of the report build against the naive pipeline, in the same run (issue 13).

    .venv/bin/python benchmarks/bench_build.py [--change en/02_growth_decomposition] [--no-naive]   # or: make bench

On fresh temporary folders (a copy of notebooks/, so one file can be changed; reports/ and build/ are not
touched) it times, each as the wall time of one command, interpreter start-up included:

1. cold: ``python -m analysis.pipeline --jobs 2`` with an empty result cache, no stamps and no warm process, three
   times, each into folders of its own (the median is compared with the target, all three are printed);
2. no change: the same command again (every report up to date);
3. one changed: the same after a markdown cell of one language file (``--change``) is edited, three times (each
   after an edit of its own; the median is compared with the target, all three are printed); its kernel is
   forked from the lasting warm process the cold build started (:mod:`analysis.pipeline.warm`; its sockets in a
   folder of this run's, stopped at the end), as after a user's edit; then, for comparison, the same with
   ``HELSEMELDINGER_WARM=build`` (a warm process of the build's own; key ``one_changed_own_warm_s``);
4. naive: per notebook and language, serially, ``papermill`` (CLI) then ``jupyter nbconvert --to html
   --no-input``, from .venv/bin, with the result cache off (HELSEMELDINGER_CACHE=off).

It prints each time, the ratios against the targets (cold <= 0.25 x naive, no change <= 0.05 x cold, one
changed <= that report's own time in the cold build + 2 s) and, for the cold build, where each report's time
went (kernel, HTML pages), and for the one-changed rebuild the changed report's own time beside the rest (the
build's fixed costs). It writes build/bench.json keys ``cold_s``, ``naive_peer_s``, ``nochange_s``,
``one_changed_s`` and the ratios, merged with the keys already there (bench_load.py writes its own). A
benchmark prints figures; no test asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from analysis import cache, paths
from analysis.pipeline import warm
from analysis.pipeline.reports import discover, notebook_lang

COLD_TARGET = 0.25  # cold build <= this x the naive loop
NOCHANGE_TARGET = 0.05  # a rebuild with nothing changed <= this x the cold build
ONE_CHANGED_SLACK = 2.0  # seconds over the changed report's own time in the cold build
COLD_RUNS = 3  # cold builds timed, each into empty folders with no warm process; the median is compared
ONE_CHANGED_RUNS = 3  # one-changed rebuilds timed, each after an edit of its own; the median is compared
BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    """The environment of the timed commands: no result cache folder inherited (each build sets its own)."""
    env = {k: v for k, v in os.environ.items() if k != cache.ENV}
    env.update(extra)
    return env


def build(notebooks: Path, root: Path, jobs: int = 2, **env: str) -> dict:
    """Run ``python -m analysis.pipeline`` into root/out and root/build (with the variables `env` set); return
    wall time and what it printed."""
    cmd = [sys.executable, "-m", "analysis.pipeline", "--notebooks", str(notebooks), "--out", str(root / "out"),
           "--build", str(root / "build"), "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(**env))
    wall = time.perf_counter() - start
    per = {m.group(2): (float(m.group(3)), float(m.group(4)))
           for m in re.finditer(r"^  (ok    |FAILED) (\S+)\s+([\d.]+) s \(kernel\s+([\d.]+) s\)", proc.stdout, re.M)}
    fresh = re.findall(r"^  up to date (\S+)", proc.stdout, re.M)
    if proc.returncode != 0:
        print(f"    exit {proc.returncode}: " + (proc.stderr.strip()[-1500:] or proc.stdout.strip()[-1500:]))
    return {"wall": wall, "per": per, "up_to_date": fresh, "rc": proc.returncode}


def naive(notebooks: list[Path], root: Path) -> float:
    """Seconds for the naive loop: per notebook file, serially, papermill CLI then nbconvert to HTML without code."""
    env = _env(**{cache.ENV: cache.OFF})
    start = time.perf_counter()
    for nb in notebooks:
        executed = root / (notebook_lang(nb) or "all") / nb.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(BIN / "papermill"), str(nb), str(executed), "-k", paths.KERNEL_NAME, "--cwd",
                        str(nb.parent), "--no-progress-bar"], check=True, capture_output=True, env=env)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def edit_markdown(notebook: Path) -> None:
    """A content change: one sentence added to the notebook's last markdown cell."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in reversed(nb.cells) if c.cell_type == "markdown")
    cell.source += "\n\n(Benchmark edit.)"
    nbformat.write(nb, notebook)


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    """Run the four timings, print them with the ratios and write build/bench.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--change", default="en/02_growth_decomposition",
                        help="the notebook file edited for the one-changed rebuild, as <lang>/<stem>")
    parser.add_argument("--no-naive", action="store_true", help="leave out the naive loop (quicker)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)

    notebooks = discover()
    print(f"helsemeldinger build benchmark: {len(notebooks)} notebook files; {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.platform(terse=True)}")
    tmp = Path(tempfile.mkdtemp(prefix="hm-bench-"))
    figures: dict[str, float] = {}
    try:
        copy = tmp / "notebooks"
        shutil.copytree(paths.NOTEBOOKS_DIR, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        changed = copy / f"{args.change}.ipynb"
        if not changed.is_file():
            parser.error(f"--change {args.change}: no such notebook file in {paths.NOTEBOOKS_DIR}")
        changed_name = f"{changed.stem}_{changed.parent.name}" if notebook_lang(changed) else changed.stem

        # The builds' lasting warm process (analysis.pipeline.warm) lives in a folder of this run's: the cold build
        # finds none and starts it; the rebuilds reach it, as a user's `make report` after an edit would.
        # Each cold build has folders and a warm-process folder of its own (none to reach: it starts its own); the
        # rebuilds below use the last one's, and reach the warm process it left.
        def lasting_in(i: int) -> dict[str, str]:
            return {warm.DIR_ENV: str(tmp / f"warm{i}"), warm.ENV: str(warm.DEFAULT_KEEP)}

        # the median counts: one run swings with the machine's load
        colds = [build(copy, tmp / f"fast{i}", **lasting_in(i)) for i in range(COLD_RUNS)]
        last, lasting = tmp / f"fast{COLD_RUNS - 1}", lasting_in(COLD_RUNS - 1)
        cold = sorted(colds, key=lambda r: r["wall"])[len(colds) // 2]
        figures["cold_s"] = cold["wall"]
        print(f"  cold build (--jobs 2, empty cache):       {cold['wall']:6.1f} s, the median of "
              f"{', '.join(format(r['wall'], '.1f') for r in colds)} s ({len(cold['per'])} reports)", flush=True)
        again = build(copy, last, **lasting)
        figures["nochange_s"] = again["wall"]
        print(f"  rebuild, nothing changed:                 {again['wall']:6.1f} s "
              f"({len(again['up_to_date'])} up to date, {len(again['per'])} rendered)", flush=True)
        runs = []
        for _ in range(ONE_CHANGED_RUNS):  # each after an edit of its own; the median counts (one run swings)
            edit_markdown(changed)
            runs.append(build(copy, last, **lasting))
        one = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
        figures["one_changed_s"] = one["wall"]
        print(f"  rebuild, {changed_name} edited: {one['wall']:6.1f} s, the median of "
              f"{', '.join(format(r['wall'], '.1f') for r in runs)} s (rendered: {', '.join(one['per']) or 'none'}; "
              "kernel forked from the cold build's warm process)", flush=True)
        edit_markdown(changed)
        alone = build(copy, last, **{warm.ENV: warm.BUILD})
        figures["one_changed_own_warm_s"] = alone["wall"]
        print(f"  the same, HELSEMELDINGER_WARM=build:      {alone['wall']:6.1f} s (a warm process of its own, "
              "started by this build)", flush=True)
        if not args.no_naive:
            figures["naive_peer_s"] = naive(discover(None, copy), tmp / "naive")
            print(f"  naive loop (papermill + nbconvert, serial): {figures['naive_peer_s']:6.1f} s", flush=True)
    finally:
        for i in range(COLD_RUNS):
            warm.stop_all(tmp / f"warm{i}")  # the lasting warm processes of this run's builds
        if args.keep:
            print(f"  (kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print("\nTargets")
    share = cold["per"].get(changed_name, (float("nan"), 0.0))[0]
    if "naive_peer_s" in figures:
        figures["cold_over_naive"] = figures["cold_s"] / figures["naive_peer_s"]
        print(f"  cold / naive         = {figures['cold_over_naive']:.3f}  (target <= {COLD_TARGET}: "
              f"{_verdict(figures['cold_over_naive'] <= COLD_TARGET)})")
    figures["nochange_over_cold"] = figures["nochange_s"] / figures["cold_s"]
    print(f"  no change / cold     = {figures['nochange_over_cold']:.3f}  (target <= {NOCHANGE_TARGET}: "
          f"{_verdict(figures['nochange_over_cold'] <= NOCHANGE_TARGET)})")
    figures["one_changed_share_s"] = share
    figures["one_changed_over_share_s"] = figures["one_changed_s"] - share
    print(f"  one changed - share  = {figures['one_changed_s']:.1f} s - {share:.1f} s = "
          f"{figures['one_changed_over_share_s']:+.1f} s  (target <= +{ONE_CHANGED_SLACK:.0f} s: "
          f"{_verdict(figures['one_changed_over_share_s'] <= ONE_CHANGED_SLACK)})")

    print("\nCold build, seconds per report (they run two at a time): total = kernel (start-up, imports, cells) "
          "+ pages (three HTML exports)")
    for name, (secs, run) in cold["per"].items():
        print(f"  {name:<30} {secs:6.1f} s = {run:5.1f} s + {secs - run:4.1f} s")
    total = sum(s for s, _ in cold["per"].values())
    print(f"  sum {total:.1f} s over {cold['wall']:.1f} s wall")

    own, own_run = one["per"].get(changed_name, (float("nan"), float("nan")))
    figures["one_changed_report_s"] = own
    figures["one_changed_rest_s"] = one["wall"] - own
    print(f"\nOne changed, where the {one['wall']:.1f} s went: {changed_name} itself {own:.1f} s = kernel "
          f"{own_run:.1f} s + pages {own - own_run:.1f} s (in the cold build {share:.1f} s); the rest "
          f"{one['wall'] - own:.1f} s: interpreter start and exit, imports, data and parameter checks, up-to-date "
          "checks, two-page briefing, index")

    out = paths.BUILD_DIR / "bench.json"
    try:
        kept = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    kept.update({k: round(v, 3) for k, v in figures.items()})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwritten: {out}")
    failed = [r for r in (*colds, again, *runs) if r["rc"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
