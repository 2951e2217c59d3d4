"""Tables and figures that show what data a notebook runs on: the published figures or a user's series."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from analysis import i18n
from analysis.data import is_published, levels, load_sources
from analysis.intervals import Convention, get_convention
from analysis.plotting import interval_bars

CATEGORY_ORDER = ["total", "sysvak", "svarrapporter", "frikort_egenandel"]


def _interval_text(low: float, high: float, low_closed: bool, high_closed: bool) -> str:
    return f"{'[' if low_closed else '('}{low:g}, {high:g}{']' if high_closed else ')'}"


def figures_table(data: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return one row per published figure: wording, year(s), qualifier, value, step, interval and source."""
    i18n.check_lang(lang)
    out = pd.DataFrame(
        {
            "figure_id": data["figure_id"],
            "wording": data["wording"],
            "year": data["year"].astype("string").fillna("–"),
            "from_year": data["from_year"].astype("string").fillna(""),
            "kind": data["kind"],
            "qualifier": [i18n.label(i18n.QUALIFIERS, q, lang) for q in data["qualifier"]],
            "value": data["value"],
            "unit": [i18n.label(i18n.UNITS, u, lang) for u in data["unit"]],
            "step": data["step"],
            "low": data["low"],
            "high": data["high"],
            "interval": [
                _interval_text(lo, hi, lc, hc)
                for lo, hi, lc, hc in zip(data["low"], data["high"], data["low_closed"], data["high_closed"],
                                          strict=True)
            ],
            "source_id": data["source_id"],
        }
    )
    return out.reset_index(drop=True)


def series_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Return one row per measure, sender and receiver of a series: first and last period, count, total."""
    grouped = data.groupby(["measure", "sender", "receiver"], sort=True)
    return grouped.agg(
        first=("period", "min"), last=("period", "max"), periods=("period", "nunique"), sum=("value", "sum")
    ).reset_index()


def convention_table(convention: str | Convention | None = None) -> pd.DataFrame:
    """Return the interval convention in use as a table (qualifier, interval in steps u around x)."""
    return get_convention(convention).describe()


def sources_used(data: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of data/sources.csv that the figures in `data` cite."""
    src = load_sources()
    return src[src["source_id"].isin(set(data["source_id"]))].reset_index(drop=True)


def plot_categories(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Bar chart of the 2020 and 2021 totals and named categories, with published intervals as whiskers."""
    if not is_published(data):
        raise ValueError("plot_categories draws the published figures; use plot_series for a user's series")
    lv = levels(data)
    lv = lv[lv["measure"].isin(CATEGORY_ORDER)].copy()
    lv["year"] = lv["period"].astype(str)
    lv["label"] = [i18n.label(i18n.MEASURES, m, lang) for m in lv["measure"]]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    interval_bars(ax, lv, x="label", hue="year",
                  order=[i18n.label(i18n.MEASURES, m, lang) for m in CATEGORY_ORDER])
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
    ax.set_ylabel(i18n.pick({"nb": "millioner meldinger per år", "en": "million messages per year"}, lang))
    ax.set_xlabel("")
    ax.set_title(i18n.pick({"nb": "Pleie- og omsorgsmeldinger mellom partene",
                            "en": "Care messages (PLO) between the parties"}, lang))
    fig.tight_layout()
    return fig


def plot_series(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Line chart of a user's series, one line per measure/sender/receiver, bounds as a band if given."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for (m, s, r), grp in data.groupby(["measure", "sender", "receiver"], sort=True):
        grp = grp.sort_values("period")
        x = grp["period"].dt.to_timestamp()
        name = m if (s, r) == ("all", "all") else f"{m}: {s} → {r}"
        ax.plot(x, grp["value"], marker="o", label=name)
        if (grp["high"] > grp["low"]).any():
            ax.fill_between(x, grp["low"], grp["high"], alpha=0.25)
    ax.set_ylabel(i18n.pick({"nb": "antall meldinger", "en": "number of messages"}, lang))
    ax.set_xlabel(i18n.pick({"nb": "periode", "en": "period"}, lang))
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
