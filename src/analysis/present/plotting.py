"""One figure style for every notebook: seaborn on matplotlib, readable in print, uncertainty drawn."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PALETTE = "colorblind"
# seaborn's "colorblind" palette, and what sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE,
# font_scale=1.0) sets (seaborn 0.13), written out: importing seaborn (with the scipy.stats and statsmodels it
# imports) cost every kernel about a second, for this style and these colours only.
_PALETTE_HEX = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133",
                "#56b4e9")
_PALETTE_RGB = tuple(tuple(int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)) for h in _PALETTE_HEX)
_THEME = {
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.grid": True, "axes.labelcolor": ".15",
    "axes.labelsize": 12.0, "axes.linewidth": 1.25, "axes.titlesize": 12.0,
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": 12.0, "grid.color": ".8", "grid.linewidth": 1.0, "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0, "lines.solid_capstyle": "round", "patch.edgecolor": "w",
    "patch.force_edgecolor": True, "text.color": ".15", "xtick.bottom": False, "xtick.color": ".15",
    "xtick.labelsize": 11.0, "xtick.major.size": 6.0, "xtick.major.width": 1.25, "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0, "ytick.color": ".15", "ytick.labelsize": 11.0, "ytick.left": False,
    "ytick.major.size": 6.0, "ytick.major.width": 1.25, "ytick.minor.size": 4.0, "ytick.minor.width": 1.0,
}
# Hatches tell series apart in grey-scale print as well as by colour.
HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")


def set_style() -> None:
    """Apply the package's figure style (white grid, colour-blind palette, print-friendly sizes)."""
    from cycler import cycler

    plt.rcParams.update(_THEME)
    plt.rcParams["axes.prop_cycle"] = cycler("color", list(_PALETTE_RGB))
    plt.rcParams.update(
        {
            "figure.figsize": (8, 4.5),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "helsemeldinger",  # stable SVG ids, so rebuilt figures are identical
        }
    )


def wrap(text: str, width: int = 18, *, break_long_words: bool = False) -> str:
    """Break a long label into lines of at most `width` characters; a longer word stays whole unless asked."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=break_long_words)) or text


def colors(n: int) -> list:
    """Return `n` colours from the package palette."""
    return [_PALETTE_RGB[i % len(_PALETTE_RGB)] for i in range(n)]


def interval_bars(
    ax: plt.Axes,
    frame: pd.DataFrame,
    x: str,
    hue: str | None = None,
    value: str = "value",
    low: str = "low",
    high: str = "high",
    order: Sequence | None = None,
    hue_order: Sequence | None = None,
) -> plt.Axes:
    """Draw bars of `value` with whiskers from `low` to `high`, grouped by `x` and coloured by `hue`."""
    xs = list(order) if order is not None else list(dict.fromkeys(frame[x]))
    hues = [None] if hue is None else (list(hue_order) if hue_order is not None else list(dict.fromkeys(frame[hue])))
    width = 0.8 / len(hues)
    pal = colors(len(hues))
    for j, h in enumerate(hues):
        sub = frame if h is None else frame[frame[hue] == h]
        sub = sub.set_index(x).reindex(xs)
        pos = np.arange(len(xs)) - 0.4 + width * (j + 0.5)
        ax.bar(pos, sub[value], width=width * 0.95, color=pal[j], hatch=HATCHES[j % len(HATCHES)],
               edgecolor="black", linewidth=0.5, label=None if h is None else str(h))
        err = np.vstack([sub[value] - sub[low], sub[high] - sub[value]])
        ax.errorbar(pos, sub[value], yerr=np.clip(err, 0, None), fmt="none", ecolor="black",
                    elinewidth=1.2, capsize=4)
    ax.set_xticks(np.arange(len(xs)), [wrap(str(v)) for v in xs])
    if hue is not None:
        ax.legend(frameon=False)
    return ax
