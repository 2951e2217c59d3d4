"""Tables, figures and sentences that show what data a notebook runs on: the published figures or a user's series.

Two kinds of table: the machine-readable ones (:func:`figures_table`, :func:`series_summary`,
:func:`convention_table`, :func:`sources_used`) keep stable English column names, codes (``about``, ``level``)
and plain numbers, for CSV export and reuse; the reader's ones (``*_display``) are in the page's language,
numbers written as text with its decimal mark (``23,5`` in nb) and intervals with their brackets. The
``*_view`` functions return a reader's table ready to show (no row numbers, text escaped for HTML, intervals on
one line), and the ``*_line`` functions the sentences of notebook 00, as Markdown. Every word comes from the
message catalogue (``messages/<lang>/overview.toml`` and ``labels.toml``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter
from pandas.io.formats.style import Styler

from analysis.data import is_published, levels, load_sources
from analysis.intervals import Convention, get_convention
from analysis.present import catalogue, findings
from analysis.present.findings import KeyFindings
from analysis.present.formatting import bracketed, decimal_marks, join_words, number, significant
from analysis.present.plotting import colors, interval_bars, wrap

CATEGORY_ORDER = ["total", "sysvak", "svarrapporter", "frikort_egenandel"]
_MEASURE_ORDER = [*CATEGORY_ORDER, "plo", "other"]
PARAPHRASE_LANG = "en"  # the language of the data's `paraphrase` column: its pages show it beside the wording


def _h(key: str, lang: str) -> str:
    """The header of column `key` in `lang` (catalogue ``overview.head.<key>``)."""
    return catalogue.text(lang, f"overview.head.{key}")


def flow_label(sender: str, receiver: str, lang: str = "nb") -> str:
    """Readable name of a flow between two parties: "fastlege → kommune"."""
    return catalogue.text(lang, "overview.flow.parties", sender=catalogue.label(lang, "party", sender),
                          receiver=catalogue.label(lang, "party", receiver))


def measure_label(measure: str, sender: str = "all", receiver: str = "all", lang: str = "nb") -> str:
    """Readable name of a measure or flow: "SYSVAK (vaksinasjonsregisteret)", "PLO: fastlege → kommune"."""
    name = catalogue.label(lang, "measure", measure)
    if (sender, receiver) == ("all", "all"):
        return name
    short = f"overview.flow_measure.{measure}"
    return catalogue.text(lang, "overview.flow.measure",
                          measure=catalogue.text(lang, short) if catalogue.has(lang, short) else name,
                          parties=flow_label(sender, receiver, lang))


def view(table: pd.DataFrame, *, nowrap: Sequence[str] = (), html_cells: bool = False) -> Styler:
    """Return `table` ready to show: no row numbers, text escaped for HTML (unless `html_cells`: the cells
    are HTML already), the columns named in `nowrap` kept on one line."""
    styled = table.style.hide(axis="index")
    if not html_cells:
        styled = styled.format(escape="html")
    return styled.set_properties(subset=list(nowrap), **{"white-space": "nowrap"})


# ---------------------------------------------------------------- what the page runs on


def data_line(data: pd.DataFrame, lang: str = "nb", *, path: str = "", convention: str = "default") -> str:
    """Markdown: which data the page is built on (the published figures or the file at `path`), its number of
    rows and the convention; for a user's file also its periods and how its intervals arise."""
    catalogue.check_lang(lang)
    rows = number(len(data), lang, 0)
    published = is_published(data)
    what = (catalogue.text(lang, "overview.sentences.published_figures") if published
            else catalogue.text(lang, "overview.sentences.file", path=path))
    line = catalogue.text(lang, "overview.sentences.data", what=what, rows=rows, convention=convention)
    if published:
        return line
    periods = data["period"].astype(str)
    summary = catalogue.text(lang, "overview.sentences.file_summary", rows=rows, first=periods.min(),
                             last=periods.max())
    return f"{line}\n\n{summary}"


# ---------------------------------------------------------------- the published figures


def figures_table(data: pd.DataFrame) -> pd.DataFrame:
    """Return one row per published figure, machine-readable: codes, plain numbers and closedness (for export).

    Columns ``figure_id, wording, paraphrase, year, from_year, measure, sender, receiver, kind, qualifier, value,
    unit, step, low, high, low_closed, high_closed, source_id``: the same table in every language.
    """
    cols = ["figure_id", "wording", "paraphrase", "year", "from_year", "measure", "sender", "receiver", "kind",
            "qualifier", "value", "unit", "step", "low", "high", "low_closed", "high_closed", "source_id"]
    return data[cols].reset_index(drop=True)


def _years(year: object, from_year: object) -> str:
    if pd.isna(year):
        return "–"
    return f"{int(from_year)}–{int(year)}" if not pd.isna(from_year) else str(int(year))


def unit_short(unit: str, lang: str = "nb") -> str:
    """The unit as the figures table writes it: "mill." / "million", "%", else its label."""
    short = f"overview.short_unit.{unit}"
    return catalogue.text(lang, short) if catalogue.has(lang, short) else catalogue.label(lang, "unit", unit)


def figures_display(data: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the published figures as a reader's table in `lang`: wording as printed, what it measures (en: the
    paraphrase), year (or from–to), hedge word, figure, unit, step and interval (round bracket = open end); the
    source only when the rows cite more than one (else the caller names it once, :func:`source_line`)."""
    catalogue.check_lang(lang)
    out = {
        _h("id", lang): data["figure_id"],
        _h("wording", lang): data["wording"],
    }
    if lang == PARAPHRASE_LANG:  # the paraphrase, in this language, names the measure too
        out[_h("paraphrase", lang)] = data["paraphrase"]
    else:
        out[_h("measure", lang)] = [measure_label(m, s, r, lang) for m, s, r in
                                    zip(data["measure"], data["sender"], data["receiver"], strict=True)]
    out |= {
        _h("what", lang): [catalogue.label(lang, "kind", k) for k in data["kind"]],
        _h("year", lang): [_years(y, f) for y, f in zip(data["year"], data["from_year"], strict=True)],
        _h("qualifier", lang): [catalogue.label(lang, "qualifier", q) for q in data["qualifier"]],
        _h("value", lang): [significant(v, lang) for v in data["value"]],
        _h("unit", lang): [unit_short(u, lang) for u in data["unit"]],
        _h("step", lang): [significant(v, lang) for v in data["step"]],
        _h("interval", lang): [bracketed(lo, hi, lang, lc, hc) for lo, hi, lc, hc in
                               zip(data["low"], data["high"], data["low_closed"], data["high_closed"],
                                   strict=True)],
    }
    if data["source_id"].nunique() > 1:
        out[_h("source", lang)] = data["source_id"]
    return pd.DataFrame(out).reset_index(drop=True)


def figures_view(data: pd.DataFrame, lang: str = "nb") -> Styler:
    """Return :func:`figures_display` ready to show, each interval on one line."""
    return view(figures_display(data, lang), nowrap=[_h("interval", lang)])


def source_line(data: pd.DataFrame, lang: str = "nb") -> str:
    """Markdown: the one source every row cites, or that the Source column names each row's source."""
    ids = data["source_id"].unique()
    if len(ids) == 1:
        return catalogue.text(lang, "overview.sentences.one_source", source=ids[0])
    return catalogue.text(lang, "overview.sentences.many_sources")


# ---------------------------------------------------------------- a user's series


def series_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Return one row per measure, sender and receiver of a series: first and last period, count, total."""
    grouped = data.groupby(["measure", "sender", "receiver"], sort=True)
    return grouped.agg(
        first=("period", "min"), last=("period", "max"), periods=("period", "nunique"), sum=("value", "sum")
    ).reset_index()


def series_display(data: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return :func:`series_summary` as a reader's table in `lang` (readable measure names, numbers as text)."""
    catalogue.check_lang(lang)
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


def series_view(data: pd.DataFrame, lang: str = "nb") -> Styler:
    """Return :func:`series_display` ready to show."""
    return view(series_display(data, lang))


# ---------------------------------------------------------------- the convention and the sources


def convention_table(convention: str | Convention | None = None) -> pd.DataFrame:
    """Return the interval convention in use as a table (qualifier, interval in steps u around x)."""
    return get_convention(convention).describe()


def _end(offset: float, lang: str) -> str:
    """One end of an interval around x in steps u: "x", "x + 0,5·u", "x − 0,5·u"."""
    if offset == 0:
        return "x"
    return f"x {'+' if offset > 0 else '−'} {significant(abs(offset), lang)}·u"


def convention_display(convention: str | Convention | None = None, lang: str = "nb") -> pd.DataFrame:
    """Return the interval convention as a reader's table in `lang`: hedge word, interval around x in steps u."""
    catalogue.check_lang(lang)
    conv = get_convention(convention)
    rules = conv.rules.values()
    rows = {
        _h("qualifier", lang): [catalogue.label(lang, "qualifier", q) for q in conv.rules],
        _h("interval", lang): [catalogue.text(lang, "overview.convention.interval",
                                              open="[" if r.low_closed else "(", low=_end(r.low, lang),
                                              high=_end(r.high, lang), close="]" if r.high_closed else ")")
                               for r in rules],
        _h("low_steps", lang): [significant(r.low, lang) for r in rules],
        _h("high_steps", lang): [significant(r.high, lang) for r in rules],
    }
    if conv.rel_tol:
        percent = decimal_marks(f"{100 * conv.rel_tol:g}", lang)
        tol = catalogue.text(lang, "overview.convention.rel_tol", percent=percent)
        rows[_h("rel_tol", lang)] = [tol] * len(conv.rules)
    return pd.DataFrame(rows)


def convention_view(convention: str | Convention | None = None, lang: str = "nb") -> Styler:
    """Return :func:`convention_display` ready to show, each interval on one line."""
    return view(convention_display(convention, lang), nowrap=[_h("interval", lang)])


def sources_used(data: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of data/sources.csv that the figures in `data` cite."""
    src = load_sources()
    return src[src["source_id"].isin(set(data["source_id"]))].reset_index(drop=True)


def unknown_sources(data: pd.DataFrame) -> list[str]:
    """Return the source ids in `data` that data/sources.csv does not hold, sorted."""
    return sorted(set(data["source_id"]) - set(load_sources()["source_id"]))


def unknown_sources_line(ids: Sequence[str], lang: str = "nb") -> str:
    """Markdown: the source ids of a file that data/sources.csv does not hold."""
    return catalogue.text(lang, "overview.sentences.unknown_sources", ids=", ".join(f"`{s}`" for s in ids))


def sources_display(sources: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return rows of data/sources.csv as a reader's table in `lang`, whole titles and addresses as HTML links.

    Every cell is HTML (text escaped): show it without escaping, as :func:`sources_view` does.
    """
    catalogue.check_lang(lang)
    e = html.escape

    def link(url: str, text: str) -> str:
        return f'<a href="{e(url, quote=True)}">{e(text)}</a>' if url else e(text)

    return pd.DataFrame({
        _h("id", lang): [e(s) for s in sources["source_id"]],
        _h("publisher", lang): [e(p) for p in sources["publisher"]],
        _h("title", lang): [link(u, t) for u, t in zip(sources["url"], sources["title"], strict=True)],
        _h("url", lang): [link(u, u) for u in sources["url"]],
        _h("published", lang): [e(str(p)) for p in sources["published"]],
        _h("notes", lang): [e(n) for n in sources["notes"]],
    })


def sources_view(sources: pd.DataFrame, lang: str = "nb") -> Styler:
    """Return :func:`sources_display` ready to show (its cells are HTML: links)."""
    return view(sources_display(sources, lang), html_cells=True)


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
    lv["label"] = [catalogue.label(lang, "measure", m) for m in lv["measure"]]
    order = [catalogue.label(lang, "measure", m) for m in CATEGORY_ORDER]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    interval_bars(ax, lv, x="label", hue="year", order=order)
    _category_ticks(ax, order)
    ax.set_ylabel(catalogue.text(lang, "overview.figure.million_per_year"))
    ax.set_xlabel("")
    ax.set_title(catalogue.text(lang, "overview.figure.categories_title"))
    fig.tight_layout()
    return fig


def plot_flows(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Bar chart of the published care-message (PLO) flows in 2020 and 2021, with intervals as whiskers."""
    lv = levels(data)
    lv = lv[lv["measure"] == "plo"].copy()
    lv["year"] = lv["period"].astype(str)
    lv["flow"] = [flow_label(s, r, lang) for s, r in zip(lv["sender"], lv["receiver"], strict=True)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    interval_bars(ax, lv, x="flow", hue="year")
    _category_ticks(ax, list(dict.fromkeys(lv["flow"])))
    ax.set_ylabel(catalogue.text(lang, "overview.figure.million_per_year"))
    ax.set_xlabel("")
    ax.set_title(catalogue.text(lang, "overview.figure.flows_title"))
    fig.tight_layout()
    return fig


_SCALES = ((1e6, "million"), (1e3, "thousand"), (1.0, "one"))


def series_scale(values: pd.Series | np.ndarray) -> tuple[float, str]:
    """The divisor and the code of its unit (catalogue ``overview.scale.<code>``) for drawing message counts:
    millions from a million up, else thousands or ones."""
    top = float(np.nanmax(np.abs(np.asarray(values, dtype=float)))) if len(values) else 0.0
    return next((div, unit) for div, unit in _SCALES if top >= div or div == 1.0)


def plot_series(data: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Line chart of a user's series, one line per measure/flow with a readable name, in millions (or thousands)
    of messages; bounds as a band where the file gives a step or hedge word wider than a line."""
    catalogue.check_lang(lang)
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
    unit_text = catalogue.text(lang, f"overview.scale.{unit}")
    ax.set_ylabel(catalogue.text(lang, "overview.figure.per_year", unit=unit_text) if yearly else unit_text)
    ax.set_xlabel(catalogue.text(lang, "overview.figure.year_axis" if yearly else "overview.figure.period_axis"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v, lang, 0 if abs(v) >= 10 or v == 0 else 1)))
    ax.set_ylim(bottom=0)
    ax.set_title(catalogue.text(lang, "overview.figure.series_title"))
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- key findings


def key_findings(data: pd.DataFrame, lang: str = "nb") -> KeyFindings:
    """The page's key findings (analysis.present.findings): on the published figures what is published, the
    two yearly totals with the range each allows and what is missing; on a user's file what it holds."""
    catalogue.check_lang(lang)
    if not is_published(data):
        return _own_findings(data, lang)
    dated = data[(data["kind"] == "level") & data["year"].notna()]
    years = sorted(int(y) for y in dated["year"].unique())
    used = sources_used(data)
    year_words = join_words(years, lang)
    if len(used) == 1:
        out = [catalogue.text(lang, "findings.overview.published", title=used["title"].iloc[0], n=len(data),
                              years=year_words)]
    else:
        out = [catalogue.text(lang, "findings.overview.many_sources", n=len(data), years=year_words,
                              sources=data["source_id"].nunique())]
    totals = dated[(dated["measure"] == "total") & (dated["sender"] == "all") & (dated["receiver"] == "all")]
    for year in sorted(totals["year"].unique(), reverse=True)[:2]:
        r = totals[totals["year"] == year].iloc[0]
        low, high = findings.ends(r["low"], r["high"], lang)
        out.append(catalogue.text(lang, "findings.overview.level", year=int(year), low=low, high=high,
                                  hedged=findings.hedged(r["value"], r["qualifier"], lang)))
    plateau = data[(data["measure"] == "total") & (data["kind"] == "level") & data["year"].isna()]
    if years and len(plateau):
        p = plateau.iloc[0]
        out.append(catalogue.text(lang, "findings.overview.missing_series", first=years[0],
                                  plateau=findings.hedged(p["value"], p["qualifier"], lang)))
    elif years:
        out.append(catalogue.text(lang, "findings.overview.missing_series_no_level", first=years[0]))
    return findings.block(out, lang)


def _own_findings(data: pd.DataFrame, lang: str) -> KeyFindings:
    """Key findings on a user's file: what it holds, the last period's total and that nothing is estimated."""
    periods = data["period"].astype(str)
    series = data.groupby(["measure", "sender", "receiver"]).ngroups
    out = [catalogue.text(lang, "findings.overview.own_file", series=number(series, lang, 0), first=periods.min(),
                          last=periods.max(), rows=number(len(data), lang, 0))]
    last = data[data["period"] == data["period"].max()]
    unit = str(data["unit"].iloc[0]) if "unit" in data and len(data) else "messages"
    total = last[(last["measure"] == "total") & (last["sender"] == "all") & (last["receiver"] == "all")]
    rows, key = (total, "own_total") if len(total) else (last, "own_sum")
    amount = findings.between(rows["low"].sum(), rows["high"].sum(), lang, unit, value=rows["value"].sum())
    out.append(catalogue.text(lang, f"findings.overview.{key}", period=periods.max(), amount=amount))
    out.append(catalogue.text(lang, "findings.overview.own_kept"))
    return findings.block(out, lang)
