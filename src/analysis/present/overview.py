"""Tables and figures that show what data a notebook runs on: the published figures or a user's series.

Two kinds of table: the machine-readable ones (:func:`figures_table`, :func:`series_summary`,
:func:`convention_table`, :func:`sources_used`) keep stable English column names, codes (``about``, ``level``)
and plain numbers, for CSV export and reuse; the reader's ones (``*_display``) are in the page's language,
numbers written as text with its decimal mark (``23,5`` in nb) and intervals with their brackets.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from analysis.present import i18n
from analysis.data import is_published, levels, load_sources
from analysis.present.formatting import bracketed, decimal_marks, number, significant
from analysis.intervals import Convention, get_convention
from analysis.present.plotting import colors, interval_bars, wrap

CATEGORY_ORDER = ["total", "sysvak", "svarrapporter", "frikort_egenandel"]
_MEASURE_ORDER = [*CATEGORY_ORDER, "plo", "other"]

_HEAD = {
    "id": {"nb": "id", "en": "id"},
    "wording": {"nb": "Utsagn (som trykt)", "en": "Statement (as printed, Norwegian)"},
    "paraphrase": {"nb": "Omskrevet", "en": "Paraphrase"},
    "what": {"nb": "Hva", "en": "What"},
    "measure": {"nb": "Måling", "en": "Measure"},
    "year": {"nb": "År", "en": "Year"},
    "qualifier": {"nb": "Forbehold", "en": "Hedge word"},
    "value": {"nb": "Tall", "en": "Figure"},
    "unit": {"nb": "Enhet", "en": "Unit"},
    "step": {"nb": "Steg u", "en": "Step u"},
    "interval": {"nb": "Intervall", "en": "Interval"},
    "source": {"nb": "Kilde", "en": "Source"},
    "low_steps": {"nb": "Nedre ende (steg)", "en": "Low end (steps)"},
    "high_steps": {"nb": "Øvre ende (steg)", "en": "High end (steps)"},
    "rel_tol": {"nb": "Relativ toleranse", "en": "Relative tolerance"},
    "first": {"nb": "Første periode", "en": "First period"},
    "last": {"nb": "Siste periode", "en": "Last period"},
    "periods": {"nb": "Perioder", "en": "Periods"},
    "sum": {"nb": "Sum, meldinger", "en": "Sum, messages"},
    "publisher": {"nb": "Utgiver", "en": "Publisher"},
    "title": {"nb": "Tittel", "en": "Title"},
    "url": {"nb": "Adresse", "en": "Address"},
    "published": {"nb": "Publisert", "en": "Published"},
    "notes": {"nb": "Merknad (på engelsk)", "en": "Notes"},
}


def _h(key: str, lang: str) -> str:
    return i18n.pick(_HEAD[key], lang)


def measure_label(measure: str, sender: str = "all", receiver: str = "all", lang: str = "nb") -> str:
    """Readable name of a measure or flow: "SYSVAK (vaksinasjonsregisteret)", "PLO: fastlege → kommune"."""
    name = i18n.label(i18n.MEASURES, measure, lang)
    if (sender, receiver) == ("all", "all"):
        return name
    short = "PLO" if measure == "plo" else name
    return f"{short}: {i18n.label(i18n.PARTIES, sender, lang)} → {i18n.label(i18n.PARTIES, receiver, lang)}"


# ---------------------------------------------------------------- the published figures


def figures_table(data: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """Return one row per published figure, machine-readable: codes, plain numbers and closedness (for export).

    Columns ``figure_id, wording, paraphrase, year, from_year, measure, sender, receiver, kind, qualifier, value,
    unit, step, low, high, low_closed, high_closed, source_id``; `lang` is accepted and ignored (the table is the
    same in every language).
    """
    cols = ["figure_id", "wording", "paraphrase", "year", "from_year", "measure", "sender", "receiver", "kind",
            "qualifier", "value", "unit", "step", "low", "high", "low_closed", "high_closed", "source_id"]
    return data[cols].reset_index(drop=True)


_SHORT_UNITS = {"million messages": {"nb": "mill.", "en": "million"}, "percent": {"nb": "%", "en": "%"}}


def _years(year: object, from_year: object) -> str:
    if pd.isna(year):
        return "–"
    return f"{int(from_year)}–{int(year)}" if not pd.isna(from_year) else str(int(year))


def figures_display(data: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the published figures as a reader's table in `lang`: wording as printed, what it measures (en: the
    paraphrase), year (or from–to), hedge word, figure, unit, step and interval (round bracket = open end); the
    source only when the rows cite more than one (else the caller names it once). ``attrs["nowrap"]`` names the
    columns to keep on one line."""
    i18n.check_lang(lang)
    out = {
        _h("id", lang): data["figure_id"],
        _h("wording", lang): data["wording"],
    }
    if lang == "en":  # the English paraphrase names the measure too
        out[_h("paraphrase", lang)] = data["paraphrase"]
    else:
        out[_h("measure", lang)] = [measure_label(m, s, r, lang) for m, s, r in
                                    zip(data["measure"], data["sender"], data["receiver"], strict=True)]
    out |= {
        _h("what", lang): [i18n.label(i18n.KINDS, k, lang) for k in data["kind"]],
        _h("year", lang): [_years(y, f) for y, f in zip(data["year"], data["from_year"], strict=True)],
        _h("qualifier", lang): [i18n.label(i18n.QUALIFIERS, q, lang) for q in data["qualifier"]],
        _h("value", lang): [significant(v, lang) for v in data["value"]],
        _h("unit", lang): [i18n.pick(_SHORT_UNITS[u], lang) if u in _SHORT_UNITS else i18n.label(i18n.UNITS, u, lang)
                           for u in data["unit"]],
        _h("step", lang): [significant(v, lang) for v in data["step"]],
        _h("interval", lang): [bracketed(lo, hi, lang, lc, hc) for lo, hi, lc, hc in
                               zip(data["low"], data["high"], data["low_closed"], data["high_closed"],
                                   strict=True)],
    }
    if data["source_id"].nunique() > 1:
        out[_h("source", lang)] = data["source_id"]
    table = pd.DataFrame(out).reset_index(drop=True)
    table.attrs["nowrap"] = [_h("interval", lang)]  # columns best shown on one line
    return table


# ---------------------------------------------------------------- a user's series


def series_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Return one row per measure, sender and receiver of a series: first and last period, count, total."""
    grouped = data.groupby(["measure", "sender", "receiver"], sort=True)
    return grouped.agg(
        first=("period", "min"), last=("period", "max"), periods=("period", "nunique"), sum=("value", "sum")
    ).reset_index()


def series_display(data: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return :func:`series_summary` as a reader's table in `lang` (readable measure names, numbers as text)."""
    i18n.check_lang(lang)
    summary = series_summary(data)
    rank = {m: k for k, m in enumerate(_MEASURE_ORDER)}
    summary = summary.iloc[sorted(range(len(summary)), key=lambda k: (rank.get(summary["measure"].iloc[k], 99), k))]
    return pd.DataFrame({
        _h("measure", lang): [measure_label(m, s, r, lang) for m, s, r in
                              zip(summary["measure"], summary["sender"], summary["receiver"], strict=True)],
        _h("first", lang): summary["first"].astype(str),
        _h("last", lang): summary["last"].astype(str),
        _h("periods", lang): [number(v, lang, 0) for v in summary["periods"]],
        _h("sum", lang): [number(v, lang, 0) for v in summary["sum"]],
    }).reset_index(drop=True)


# ---------------------------------------------------------------- the convention and the sources


def convention_table(convention: str | Convention | None = None) -> pd.DataFrame:
    """Return the interval convention in use as a table (qualifier, interval in steps u around x)."""
    return get_convention(convention).describe()


def convention_display(convention: str | Convention | None = None, lang: str = "nb") -> pd.DataFrame:
    """Return the interval convention as a reader's table in `lang`: hedge word, interval around x in steps u."""
    i18n.check_lang(lang)
    conv = get_convention(convention)
    sep = "; " if lang == "nb" else ", "

    def end(offset: float) -> str:
        if offset == 0:
            return "x"
        return f"x {'+' if offset > 0 else '−'} {significant(abs(offset), lang)}·u"

    rows = {
        _h("qualifier", lang): [i18n.label(i18n.QUALIFIERS, q, lang) for q in conv.rules],
        _h("interval", lang): [f"{'[' if r.low_closed else '('}{end(r.low)}{sep}{end(r.high)}"
                               f"{']' if r.high_closed else ')'}" for r in conv.rules.values()],
        _h("low_steps", lang): [significant(r.low, lang) for r in conv.rules.values()],
        _h("high_steps", lang): [significant(r.high, lang) for r in conv.rules.values()],
    }
    if conv.rel_tol:
        rows[_h("rel_tol", lang)] = [decimal_marks(f"{100 * conv.rel_tol:g} %", lang)] * len(conv.rules)
    return pd.DataFrame(rows)


def sources_used(data: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of data/sources.csv that the figures in `data` cite."""
    src = load_sources()
    return src[src["source_id"].isin(set(data["source_id"]))].reset_index(drop=True)


def sources_display(sources: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return rows of data/sources.csv as a reader's table in `lang`, whole titles and addresses as HTML links.

    Every cell is HTML (text escaped): show it without escaping, e.g. ``table.style.hide(axis="index")``.
    """
    i18n.check_lang(lang)
    e = html.escape

    def link(url: str, text: str) -> str:
        return f'<a href="{e(url, quote=True)}">{e(text)}</a>' if url else e(text)

    return pd.DataFrame({
        "id": [e(s) for s in sources["source_id"]],
        _h("publisher", lang): [e(p) for p in sources["publisher"]],
        _h("title", lang): [link(u, t) for u, t in zip(sources["url"], sources["title"], strict=True)],
        _h("url", lang): [link(u, u) for u in sources["url"]],
        _h("published", lang): [e(str(p)) for p in sources["published"]],
        _h("notes", lang): [e(n) for n in sources["notes"]],
    })


# ---------------------------------------------------------------- figures


def _category_ticks(ax: plt.Axes, labels: list[str], width: int = 20) -> None:
    """Tick labels broken between words only (a long word such as "(vaksinasjonsregisteret)" stays whole)."""
    ax.set_xticks(np.arange(len(labels)), [wrap(t, width) for t in labels])


def plot_categories(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Bar chart of the 2020 and 2021 totals and named categories, with published intervals as whiskers."""
    if not is_published(data):
        raise ValueError("plot_categories draws the published figures; use plot_series for a user's series")
    lv = levels(data)
    lv = lv[lv["measure"].isin(CATEGORY_ORDER)].copy()
    lv["year"] = lv["period"].astype(str)
    lv["label"] = [i18n.label(i18n.MEASURES, m, lang) for m in lv["measure"]]
    order = [i18n.label(i18n.MEASURES, m, lang) for m in CATEGORY_ORDER]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    interval_bars(ax, lv, x="label", hue="year", order=order)
    _category_ticks(ax, order)
    ax.set_ylabel(i18n.pick({"nb": "millioner meldinger per år", "en": "million messages per year"}, lang))
    ax.set_xlabel("")
    ax.set_title(i18n.pick({"nb": "Publiserte tall; strekene viser intervallet ordlyden tillater",
                            "en": "Published figures; whiskers show the interval the wording allows"}, lang))
    fig.tight_layout()
    return fig


def plot_flows(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Bar chart of the published care-message (PLO) flows in 2020 and 2021, with intervals as whiskers."""
    lv = levels(data)
    lv = lv[lv["measure"] == "plo"].copy()
    lv["year"] = lv["period"].astype(str)
    lv["flow"] = [
        f"{i18n.label(i18n.PARTIES, s, lang)} → {i18n.label(i18n.PARTIES, r, lang)}"
        for s, r in zip(lv["sender"], lv["receiver"], strict=True)
    ]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    interval_bars(ax, lv, x="flow", hue="year")
    _category_ticks(ax, list(dict.fromkeys(lv["flow"])))
    ax.set_ylabel(i18n.pick({"nb": "millioner meldinger per år", "en": "million messages per year"}, lang))
    ax.set_xlabel("")
    ax.set_title(i18n.pick({"nb": "Pleie- og omsorgsmeldinger mellom partene",
                            "en": "Care messages (PLO) between the parties"}, lang))
    fig.tight_layout()
    return fig


_SCALES = ((1e6, {"nb": "millioner meldinger", "en": "million messages"}),
           (1e3, {"nb": "tusen meldinger", "en": "thousand messages"}),
           (1.0, {"nb": "meldinger", "en": "messages"}))


def series_scale(values: pd.Series | np.ndarray) -> tuple[float, dict[str, str]]:
    """The divisor and unit label for drawing message counts: millions from a million up, else thousands or ones."""
    top = float(np.nanmax(np.abs(np.asarray(values, dtype=float)))) if len(values) else 0.0
    return next((div, unit) for div, unit in _SCALES if top >= div or div == 1.0)


def plot_series(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Line chart of a user's series, one line per measure/flow with a readable name, in millions (or thousands)
    of messages; bounds as a band where the file gives a step or hedge word wider than a line."""
    i18n.check_lang(lang)
    div, unit = series_scale(data["value"])
    fig, ax = plt.subplots(figsize=(9, 4.8))
    groups = list(data.groupby(["measure", "sender", "receiver"], sort=True))
    rank = {m: k for k, m in enumerate(_MEASURE_ORDER)}
    groups.sort(key=lambda g: (rank.get(g[0][0], 99), g[0]))
    pal = colors(len(groups))
    for k, ((m, s, r), grp) in enumerate(groups):
        grp = grp.sort_values("period")
        x = grp["period"].dt.to_timestamp()
        ax.plot(x, grp["value"] / div, marker="o", color=pal[k], label=measure_label(m, s, r, lang))
        if (grp["high"] > grp["low"]).any():
            ax.fill_between(x, grp["low"] / div, grp["high"] / div, color=pal[k], alpha=0.25)
    yearly = str(data["period"].dtype).startswith("period[Y")
    ax.set_ylabel(i18n.pick(unit, lang) + (i18n.pick({"nb": " per år", "en": " per year"}, lang) if yearly else ""))
    ax.set_xlabel(i18n.pick({"nb": "år", "en": "year"} if yearly else {"nb": "periode", "en": "period"}, lang))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v, lang, 0 if abs(v) >= 10 or v == 0 else 1)))
    ax.set_ylim(bottom=0)
    ax.set_title(i18n.pick({"nb": "Serien i filen", "en": "The series in the file"}, lang))
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
