"""Render every notebook with papermill and write HTML reports: ``python -m analysis.reports``."""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from analysis import paths
from analysis.errors import DataError

DEFAULT_TIMEOUT = 600  # seconds per cell; papermill's own default is to wait forever


@dataclass
class Outcome:
    """What happened to one notebook in a batch."""

    name: str
    ok: bool
    seconds: float
    html: Path | None = None
    error: str = ""


def discover(only: list[str] | None = None) -> list[Path]:
    """Return the notebooks in notebooks/ in name order, or those named by `only` (stem or file name)."""
    found = sorted(p for p in paths.NOTEBOOKS_DIR.glob("*.ipynb"))
    if not only:
        return found
    by_name = {p.stem: p for p in found} | {p.name: p for p in found}
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise DataError(f"--only: no notebook named {unknown}; choose from {[p.stem for p in found]}")
    return [by_name[n] for n in only]


def notebook_parameters(notebook: Path) -> dict[str, object]:
    """Return the parameters a notebook declares in its `parameters` cell, with their default values."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    out = {}
    for name, spec in declared.items():
        try:
            out[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError):
            out[name] = spec["default"]
    return out


def parse_overrides(items: list[str]) -> dict[str, object]:
    """Turn ``name=value`` strings into parameters; values are Python literals, else plain strings."""
    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise DataError(f"-p {item!r}: write parameters as name=value, e.g. -p lang=en")
        name, text = item.split("=", 1)
        try:
            out[name.strip()] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[name.strip()] = text
    return out


def to_html(executed: Path, target: Path) -> Path:
    """Convert an executed notebook to HTML without code cells; write atomically so a failure keeps the old file."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".html.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def render(
    notebook: Path,
    parameters: dict[str, object],
    out_dir: Path,
    kernel_name: str = paths.KERNEL_NAME,
    timeout: int = DEFAULT_TIMEOUT,
) -> Outcome:
    """Execute one notebook with papermill and convert it to HTML in `out_dir`; never raises."""
    import papermill

    start = time.perf_counter()
    executed = paths.EXECUTED_DIR / notebook.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(notebook.parent),
            execution_timeout=timeout,
            progress_bar=False,
        )
        html = to_html(executed, out_dir / f"{notebook.stem}.html")
        return Outcome(notebook.stem, True, time.perf_counter() - start, html)
    except Exception as exc:  # one failure must not stop the batch
        message = str(exc).strip().splitlines()
        summary = next((line for line in reversed(message) if line.strip()), type(exc).__name__)
        return Outcome(notebook.stem, False, time.perf_counter() - start, None,
                       f"{type(exc).__name__}: {summary}\n(executed copy: {executed})\n"
                       + "".join(traceback.format_exception_only(type(exc), exc))[-2000:])


def build_parameters(notebook: Path, overrides: dict[str, object], data: str | None) -> dict[str, object]:
    """Check `overrides` against the notebook's declared parameters and return what to inject."""
    declared = notebook_parameters(notebook)
    params = dict(overrides)
    if data is not None and "data_path" in declared:
        params["data_path"] = data
    return {k: v for k, v in params.items() if k in declared}


def run(argv: list[str] | None = None) -> int:
    """Parse arguments, render the chosen notebooks, print a summary; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m analysis.reports", description=__doc__)
    parser.add_argument("--data", help="a user series (CSV or .xlsx, tidy schema) to run every notebook on")
    parser.add_argument("--only", action="append", help="render only this notebook (repeatable)")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="set a notebook parameter (repeatable)")
    parser.add_argument("--out", default=str(paths.REPORTS_DIR), help="folder for the HTML reports")
    parser.add_argument("--kernel", default=paths.KERNEL_NAME, help="Jupyter kernel name")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    try:
        notebooks = discover(args.only)
        overrides = parse_overrides(args.parameter)
        known = set().union(*(notebook_parameters(nb) for nb in notebooks)) if notebooks else set()
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise DataError(f"-p: unknown parameter(s) {unknown}; the notebooks take {sorted(known)}")
        if args.data:
            from analysis.data import load_data

            load_data(args.data)  # a bad file stops here, before any kernel starts
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    out_dir = paths.resolve(args.out)
    outcomes = []
    for i, nb in enumerate(notebooks, 1):
        print(f"[{i}/{len(notebooks)}] {nb.stem} ...", flush=True)
        outcome = render(nb, build_parameters(nb, overrides, args.data), out_dir, args.kernel, args.timeout)
        status = f"ok, {outcome.html}" if outcome.ok else "FAILED"
        print(f"[{i}/{len(notebooks)}] {nb.stem}: {status} ({outcome.seconds:.1f} s)", flush=True)
        outcomes.append(outcome)

    failed = [o for o in outcomes if not o.ok]
    print(f"\n{len(outcomes) - len(failed)} rendered, {len(failed)} failed")
    for o in failed:
        print(f"\n--- {o.name} failed; its previous HTML (if any) is left in place ---\n{o.error}", file=sys.stderr)
    return 1 if failed else 0


def main() -> None:
    """Console entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
