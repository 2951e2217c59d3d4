"""Writing figures and tables a notebook produces to an export folder, with stable names.

Both are reproducible: two builds on the same inputs write byte-identical CSV, PNG and SVG files (no
timestamps or software versions in the files' metadata, fixed SVG ids, fixed float format).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from analysis import paths


def save_figure(fig: plt.Figure, name: str, export_dir: str | Path = "") -> list[Path]:
    """Write `fig` as PNG and SVG named `name` under `export_dir/figures`; do nothing when it is empty."""
    if not export_dir:
        return []
    folder = paths.resolve(export_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with plt.rc_context({"svg.hashsalt": "helsemeldinger"}):  # stable SVG ids even without set_style()
        for ext in ("png", "svg"):
            target = folder / f"{name}.{ext}"
            meta = {"Software": None} if ext == "png" else {"Date": None, "Creator": None}
            fig.savefig(target, format=ext, metadata=meta)
            written.append(target)
    return written


def save_table(frame: pd.DataFrame, name: str, export_dir: str | Path = "") -> Path | None:
    """Write `frame` as UTF-8 CSV named `name` under `export_dir/tables`; do nothing when it is empty."""
    if not export_dir:
        return None
    folder = paths.resolve(export_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    frame.to_csv(target, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g")
    return target
