"""Write a SYNTHETIC example series in the tidy user schema, to try `make report DATA=...` on.

Every number in it is made up by a random generator with a fixed seed: it is NOT data about the health
network and must never be quoted as such. Each row says so (`source_id = synthetic_example`), and so does the
file name. It is written under build/ (git-ignored), never into data/, which holds only sourced figures.

    .venv/bin/python scripts/make_example_series.py            # -> build/examples/synthetic_example_series.csv
    make example                                                # the same
    make report DATA=build/examples/synthetic_example_series.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths

SOURCE_ID = "synthetic_example"
DEFAULT_OUT = paths.BUILD_DIR / "examples" / "synthetic_example_series.csv"
YEARS = range(2010, 2022)  # the span of the yearly chart on the source page
# (measure, sender, receiver): level in the first year (messages) and mean yearly growth, all invented.
PARTS = {
    ("sysvak", "all", "all"): (4.0e6, 0.05),
    ("svarrapporter", "all", "all"): (30.0e6, 0.06),
    ("frikort_egenandel", "all", "all"): (8.0e6, 0.08),
    ("plo", "fastlege", "kommune"): (0.6e6, 0.09),
    ("plo", "kommune", "fastlege"): (0.7e6, 0.09),
    ("other", "all", "all"): (60.0e6, 0.04),
}


def make_series(seed: int = 2024) -> pd.DataFrame:
    """Return the synthetic yearly series: each part grows with noise; `total` is the sum of all parts."""
    rng = np.random.default_rng(seed)
    rows = []
    totals = np.zeros(len(YEARS))
    for (measure, sender, receiver), (start, growth) in PARTS.items():
        factors = 1 + growth + rng.normal(0, 0.03, size=len(YEARS) - 1)
        values = np.round(start * np.concatenate([[1.0], np.cumprod(factors)])).astype(np.int64)
        totals += values
        if measure == "other":
            continue  # folded into the total only, as on the source page
        rows += [(str(y), measure, sender, receiver, int(v)) for y, v in zip(YEARS, values, strict=True)]
    rows += [(str(y), "total", "all", "all", int(v)) for y, v in zip(YEARS, totals, strict=True)]
    frame = pd.DataFrame(rows, columns=["period", "measure", "sender", "receiver", "value"])
    frame["source_id"] = SOURCE_ID
    return frame.sort_values(["measure", "sender", "receiver", "period"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> Path:
    """Write the example file and check it loads with analysis.data.load_series."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="CSV file to write")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (fixed: the same file every time)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    make_series(args.seed).to_csv(out, index=False, encoding="utf-8", lineterminator="\n")

    from analysis.data import load_series

    loaded = load_series(out)
    print(f"wrote {out}: {len(loaded)} rows, SYNTHETIC (source_id={SOURCE_ID}), "
          f"periods {loaded['period'].min()}–{loaded['period'].max()}")
    return out


if __name__ == "__main__":
    main()
