"""One figure style for every notebook: seaborn on matplotlib, readable in print, uncertainty drawn."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.cache import cached

PALETTE = "colorblind"
# Hatches tell series apart in grey-scale print as well as by colour.
HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")


@cached
def seaborn_theme(style: str = "whitegrid", context: str = "notebook", palette: str = PALETTE,
                  font_scale: float = 1.0) -> tuple[dict[str, object], list[tuple[float, float, float]]]:
    """Return the rcParams and colours seaborn's ``set_theme`` applies for these arguments, computed by seaborn.

    Kept in the result cache (keyed by seaborn's version among the dependencies): importing seaborn, with the
    scipy.stats it loads, costs a kernel about a second, and the theme is the same for every kernel.
    """
    import seaborn as sns

    rc = {**dict(sns.axes_style(style)), **dict(sns.plotting_context(context, font_scale))}
    # seaborn's default colormap ("rocket") exists only once seaborn is imported; no figure here draws an image
    rc.pop("image.cmap", None)
    return rc, [tuple(float(v) for v in c) for c in sns.color_palette(palette)]


def set_style() -> None:
    """Apply the package's figure style: seaborn's whitegrid theme and colour-blind palette, print-friendly sizes."""
    from cycler import cycler

    rc, palette = seaborn_theme()
    plt.rcParams.update(rc)
    plt.rcParams["axes.prop_cycle"] = cycler("color", palette)
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
    palette = seaborn_theme()[1]
    return [palette[i % len(palette)] for i in range(n)]


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
