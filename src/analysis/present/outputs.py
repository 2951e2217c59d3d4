"""Writing figures and tables a notebook produces to an export folder, with stable names.

Both are reproducible: two builds on the same inputs write byte-identical CSV, PNG and SVG files (no
timestamps or software versions in the files' metadata, fixed SVG ids, fixed float format).

Synthetic data are marked wherever they go, by what a figure shows. The mark is set per load: every
:func:`analysis.data.load_series`, ``load_published`` and ``load_data`` call sets it from the rows it loaded (a
source_id containing "synthetic", any case), so loading the published figures clears it: figures of the
published data are never stamped, whatever was loaded before. :func:`save_figure` and :func:`save_table` given
``data=`` (the frame the figure or table is made from) follow that frame instead of the last load. While the
mark is set (or the frame given is synthetic), :func:`save_figure` stamps "SYNTETISKE DATA" /
"SYNTHETIC DATA" onto the figure itself (so it shows inline in the notebook and the HTML page too, not only in
the PNG and SVG files), and :func:`save_table` writes a first column ``data_note`` = ``synthetic``. The
stamp's words are the catalogue's ``outputs.stamp`` and ``outputs.stamp_note``.

Alternative text: a figure shown in a notebook after the first :func:`save_figure` call carries its own title
(suptitle, else the axes titles) as the PNG's ``alt`` text, which the HTML pages use.

One rendering per PNG: in a notebook, a figure given to :func:`save_figure` is shown inline as the very PNG it
wrote (the file's bytes, at the file's resolution, with ``width`` and ``height`` metadata giving the size the
figure would have on screen; the same PNG when no export folder is given), instead of being drawn again at the end
of the cell and rendered a second time at the screen's resolution. A figure changed after it was saved is drawn
and shown afresh.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis import paths
from analysis.data import SYNTHETIC_WORD, is_synthetic, mark_synthetic, synthetic_loaded
from analysis.present.catalogue import LANGS, text

if TYPE_CHECKING:  # matplotlib is imported only when a figure is saved: `import analysis.data` stays light
    from matplotlib.figure import Figure

DATA_NOTE_COLUMN = "data_note"
STAMP_GID = "hm-synthetic-stamp"
HM_PNG_ATTR = "_hm_saved_png"  # the PNG save_figure rendered of a figure, kept on the figure for its display


def _lang_of(name: str) -> str | None:
    """The language of an output named `<NN>_<what>_<lang>`, or None."""
    suffix = name.rsplit("_", 1)[-1]
    return suffix if suffix in LANGS else None


def stamp_synthetic(fig: Figure, lang: str | None = None) -> Figure:
    """Write "SYNTHETIC DATA" across `fig` (diagonal, light) and in its lower right corner (boxed); once only.

    `lang` picks the words (nb or en); without it both languages are written.
    """
    if any(str(t.get_gid()).startswith(STAMP_GID) for t in fig.texts):
        return fig
    langs = [lang] if lang in LANGS else list(LANGS)
    big = " / ".join(text(x, "outputs.stamp") for x in langs)
    small = " / ".join(f"{text(x, 'outputs.stamp')}: {text(x, 'outputs.stamp_note')}" for x in langs)
    width_in = fig.get_figwidth()
    size = max(14.0, min(44.0, 72 * width_in * 0.75 / (0.62 * len(big))))  # about 3/4 of the width
    across = fig.text(0.5, 0.5, big, rotation=25, ha="center", va="center", fontsize=size, fontweight="bold",
                      color="#c00000", alpha=0.22, zorder=1000, gid=f"{STAMP_GID}-across")
    across.set_in_layout(False)  # a tight bounding box is not widened by the watermark
    fig.text(0.995, 0.005, small, ha="right", va="bottom", fontsize=8.5, fontweight="bold", color="#c00000",
             zorder=1001, gid=f"{STAMP_GID}-corner",
             bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": "#c00000", "linewidth": 1})
    return fig


def figure_title(fig: Figure) -> str:
    """Return the figure's own title: its suptitle, else the titles of its axes joined with "; "."""
    sup = " ".join(fig.get_suptitle().split())
    if sup:
        return sup
    titles = []
    for ax in fig.axes:
        for loc in ("center", "left", "right"):
            text = " ".join(ax.get_title(loc=loc).split())
            if text and text not in titles:
                titles.append(text)
    return "; ".join(titles)


def alt_text(fig: Figure) -> str:
    """Return alternative text for `fig`: its title, followed by the synthetic stamp when it carries one."""
    title = figure_title(fig)
    stamp = next((t.get_text() for t in fig.texts if t.get_gid() == f"{STAMP_GID}-corner"), "")
    if title and stamp:
        return f"{title} ({stamp})"
    return title or stamp


def _saved_png(fig: Figure) -> tuple[str, dict[str, int]] | None:
    """The PNG :func:`save_figure` rendered of `fig` (base64) and its on-screen size, if `fig` has not changed
    since (None otherwise)."""
    saved = getattr(fig, HM_PNG_ATTR, None)
    if saved is None or fig.stale:
        return None
    png, size = saved
    return base64.b64encode(png).decode("ascii"), dict(size)


def _with_alt(formatter):
    """Wrap IPython's PNG formatter for figures so its output carries the figure's title as `alt` metadata
    (and is the PNG :func:`save_figure` rendered, when the figure has not changed since)."""
    def format_png(fig):
        saved = _saved_png(fig)
        out = saved if saved is not None else formatter(fig)
        data, meta = out if isinstance(out, tuple) and len(out) == 2 else (out, None)
        alt = alt_text(fig)
        if data is None or not alt:
            return out
        return data, {**(meta or {}), "alt": alt}

    format_png.hm_alt = True
    return format_png


def use_titles_as_alt_text() -> bool:
    """In an IPython kernel, make figures shown inline carry their title as alt text; True when active."""
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    png = shell.display_formatter.formatters.get("image/png")
    try:
        current = png.lookup_by_type(Figure)
    except (AttributeError, KeyError):
        return False  # no inline PNG formatter for figures (another backend)
    if not getattr(current, "hm_alt", False):
        png.for_type(Figure, _with_alt(current))
    return True


def _synthetic(data: pd.DataFrame | None) -> bool:
    """Whether an output is of synthetic data: of `data` when given, else of the data last loaded."""
    return is_synthetic(data) if data is not None else synthetic_loaded()


def save_figure(fig: Figure, name: str, export_dir: str | Path = "", data: pd.DataFrame | None = None) -> list[Path]:
    """Write `fig` as PNG and SVG named `name` under `export_dir/figures` (nothing when it is empty).

    With synthetic data loaded (or `data`, the frame the figure shows, synthetic), the figure is stamped first
    (also when nothing is written). In a notebook, the figure is then shown as this PNG (rendered once, also when
    nothing is written).
    """
    import io

    import matplotlib.pyplot as plt

    if _synthetic(data):
        stamp_synthetic(fig, _lang_of(name))
    inline = use_titles_as_alt_text()
    if not export_dir and not inline:
        return []
    written = []
    with plt.rc_context({"svg.hashsalt": "helsemeldinger"}):  # stable SVG ids even without set_style()
        png = io.BytesIO()
        fig.savefig(png, format="png", metadata={"Software": None})
        if export_dir:
            folder = paths.resolve(export_dir) / "figures"
            folder.mkdir(parents=True, exist_ok=True)
            written = [folder / f"{name}.png", folder / f"{name}.svg"]
            written[0].write_bytes(png.getvalue())
            fig.savefig(written[1], format="svg", metadata={"Date": None, "Creator": None})
        dpi = plt.rcParams["savefig.dpi"]
    if inline:
        _keep_png(fig, png.getvalue(), fig.dpi if dpi == "figure" else float(dpi))
    return written


def _keep_png(fig: Figure, png: bytes, dpi: float) -> None:
    """Keep the PNG just rendered of `fig` (at `dpi`) for its inline display, with its size at the figure's dpi.

    The figure is marked not stale, so that pyplot's end-of-cell redraw of stale figures leaves it alone. Any later
    change to it or its artists marks it stale again, which forgets the kept PNG (a stale callback): the figure is
    then drawn and shown afresh, as it is."""
    width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR chunk: width and height in pixels
    scale = fig.dpi / dpi
    setattr(fig, HM_PNG_ATTR, (png, (("width", round(width * scale)), ("height", round(height * scale)))))
    previous = fig.stale_callback
    if not getattr(previous, "hm_forgets_png", False):
        def forget_png(artist: Figure, stale: bool) -> None:
            if stale:
                artist.__dict__.pop(HM_PNG_ATTR, None)
            if previous is not None:
                previous(artist, stale)

        forget_png.hm_forgets_png = True
        fig.stale_callback = forget_png
    fig.stale = False


def mark_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of `frame` with a first column `data_note` = "synthetic"."""
    out = frame.drop(columns=DATA_NOTE_COLUMN, errors="ignore")
    out.insert(0, DATA_NOTE_COLUMN, SYNTHETIC_WORD)
    return out


def save_table(frame: pd.DataFrame, name: str, export_dir: str | Path = "",
               data: pd.DataFrame | None = None) -> Path | None:
    """Write `frame` as UTF-8 CSV named `name` under `export_dir/tables` (nothing when it is empty).

    With synthetic data loaded (or `data`, the frame the table is made from, synthetic), the CSV gets a first
    column `data_note` = "synthetic" (`frame` is not changed).
    """
    if not export_dir:
        return None
    folder = paths.resolve(export_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    if _synthetic(data):
        frame = mark_table(frame)
    frame.to_csv(target, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g")
    return target


def synthetic_marked() -> bool:
    """True while the data last loaded in this process are synthetic (:func:`analysis.data.synthetic_loaded`)."""
    return synthetic_loaded()


__all__ = ["DATA_NOTE_COLUMN", "SYNTHETIC_WORD", "alt_text", "figure_title", "is_synthetic", "mark_synthetic",
           "mark_table", "save_figure", "save_table", "stamp_synthetic", "synthetic_marked",
           "use_titles_as_alt_text"]
