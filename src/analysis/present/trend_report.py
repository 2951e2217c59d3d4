"""Tables, sentences and figures for readers of the trend models (notebook 03, Part A), in nb or en.

The numbers and notes come from :mod:`analysis.trend` (notes as codes with values,
:class:`analysis.results.Note`); every word comes from the message catalogue (``messages/<lang>/trend.toml``)
and numbers are formatted by :mod:`analysis.present.formatting`. Modelled values (expected, excess, forecast)
are labelled as such in every header and legend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.present import catalogue, findings
from analysis.present.findings import KeyFindings
from analysis.present.formatting import (
    interval,
    join_words,
    number,
    p_value,
    sentence_case,
    significant,
    with_bounds,
)
from analysis.results import Note
from analysis.trend import (
    MIN_CHOICE_PREDICTIONS,
    ModelChoice,
    TrendFit,
    frequency,
    period_series,
    to_periods,
)


def _t(lang: str, msgid: str, **values: object) -> str:
    return catalogue.text(lang, f"trend.{msgid}", **values)


def model_label(model: str, lang: str = "nb") -> str:
    """The reader's name of a trend model ("lineær", "damped-trend ETS", ...)."""
    return _t(lang, f"model.{model}")


def _value(value: object, lang: str) -> str:
    if isinstance(value, Note):
        return note_text(value, lang)
    if isinstance(value, float):
        return significant(value, lang, 3)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def note_text(note: Note | None, lang: str = "nb") -> str:
    """A note from :mod:`analysis.trend` (a code with values) as text in `lang`; "" for None."""
    if note is None:
        return ""
    return _t(catalogue.check_lang(lang), f"note.{note.code}",
              **{k: _value(v, lang) for k, v in note.values.items()})


def notes_text(notes: Iterable[Note] | None, lang: str = "nb") -> str:
    """Several notes joined by "; " (a table's `notes` cell); "" when there are none."""
    if notes is None or (isinstance(notes, float) and np.isnan(notes)):
        return ""
    return "; ".join(note_text(n, lang) for n in notes)


def export(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """A table from analysis.trend for the CSV export: its `notes` as one `note` text column in `lang` (where
    the `notes` column was) and a comparison's method code as its label; the numbers untouched."""
    out = table.copy()
    if "method" in out:
        out["method"] = [_t(lang, f"method.{m}") for m in out["method"]]
    if "notes" in out:
        out.insert(list(out.columns).index("notes"), "note", [notes_text(n, lang) for n in out["notes"]])
        out = out.drop(columns="notes")
    if "rank" in out and "note" in out:  # the comparison's columns in their old order: note, then rank
        out = out[[c for c in out.columns if c != "rank"] + ["rank"]]
    return out


def scale_of(series: pd.Series) -> float:
    """The divisor for tables and figures: 1e6 (millions) when the series' median is a million or more."""
    return 1e6 if series.abs().median() >= 1e6 else 1.0


def unit_label(scale: float, lang: str = "nb") -> str:
    """The unit numbers divided by `scale` are in: "millioner meldinger" or "meldinger"."""
    return _t(lang, "unit.million" if scale == 1e6 else "unit.messages")


def _p(alpha: float) -> int:
    return round(100 * (1 - alpha))


# ---------------------------------------------------------------- sentences (Markdown)

def data_line(data: pd.DataFrame, published: bool, data_path: str, convention: str, alpha: float,
              lang: str = "nb") -> str:
    """Markdown: the data (published figures or the file), its sources, the convention, the interval level."""
    what = _t(lang, "sentences.published_figures") if published else data_path
    return _t(lang, "sentences.data_line", what=what, sources=", ".join(sorted(set(data["source_id"]))),
              convention=convention, p=_p(alpha))


def series_line(series: pd.Series, baseline: Sequence, targets: Sequence, scale: float, lang: str = "nb") -> str:
    """Markdown: the series (periods, span), the baseline, the event periods and the unit of the numbers."""
    s = period_series(series)
    freq = frequency(s)
    return _t(lang, "sentences.series", n=len(s), periods=_t(lang, f"unit.periods_{freq}"), first=s.index[0],
              last=s.index[-1], base_first=baseline[0], base_last=baseline[1],
              targets=join_words(targets, lang), unit=unit_label(scale, lang))


def comparison_note(comparison: pd.DataFrame, choice: ModelChoice, alpha: float, lang: str = "nb") -> str:
    """Markdown: what the coverage should be near, and which model the baseline uses and why (for an
    automatic choice: on how many out-of-sample predictions, and that the interval leaves the choice out)."""
    return _t(lang, "sentences.comparison", p=_p(alpha), share=number(1 - alpha, lang, 2),
              model=model_label(choice.model, lang), why=note_text(choice.note, lang))


def choice_text(choice: ModelChoice, lang: str = "nb") -> str:
    """Markdown: that an automatic choice is weak (its score rests on fewer than MIN_CHOICE_PREDICTIONS
    out-of-sample predictions), to stand above the excess under every model; "" when it is not weak."""
    if not choice.weak:
        return ""
    return _t(lang, "sentences.weak_choice", model=model_label(choice.model, lang), n=choice.n_predictions,
              min=MIN_CHOICE_PREDICTIONS)


def baseline_text(result: TrendFit, baseline: Sequence, alpha: float, lang: str = "nb") -> str:
    """Markdown: how the baseline figure reads, with the fit's notes."""
    notes = ". ".join(sentence_case(note_text(n, lang)) for n in (result.note, result.baseline_note) if n is not None)
    return _t(lang, "sentences.baseline", p=_p(alpha), period=_t(lang, f"unit.period_{result.freq}"),
              first=baseline[0], last=baseline[1], notes=notes)


def excess_text(excess: pd.DataFrame, targets: Sequence, alpha: float, scale: float, lang: str = "nb") -> str:
    """Markdown: the total excess over the event periods with its prediction interval and P-score."""
    total = excess.iloc[-1]
    return _t(lang, "sentences.excess_total", targets=join_words(targets, lang),
              excess=number(total["excess"] / scale, lang, 1), unit=unit_label(scale, lang), p=_p(alpha),
              span=interval(total["excess_lower"] / scale, total["excess_upper"] / scale, lang, 1),
              p_score=number(total["p_score"], lang, 1))


def failed_models(by_model: pd.DataFrame, lang: str = "nb") -> str:
    """Markdown list: each model excess_by_model could not fit, with its reason ("" when all were fitted)."""
    if "status" in by_model:
        failed = by_model[by_model["status"] == "failed"]
    else:
        failed = by_model[by_model["excess"].isna()] if "excess" in by_model else by_model
    return "\n".join(_t(lang, "sentences.failed_model", model=model_label(r["model"], lang),
                         reason=notes_text(r["notes"], lang)) for _, r in failed.iterrows())


def break_text(chow: pd.DataFrame, found: pd.DataFrame, start: object, lang: str = "nb") -> str:
    """Markdown: the Chow test at the given period and the search for an unknown break date."""
    c, f = chow.iloc[0], found.iloc[0]
    return _t(lang, "sentences.breaks", period=c["period"], start=start, f=number(c["f_stat"], lang, 2),
              df_num=c["df_num"], df_den=c["df_den"], p=p_value(c["p_value"], lang), candidates=f["candidates"],
              first=f["first_candidate"], last=f["last_candidate"], trim=number(100 * f["trim"], lang, 0),
              found=f["period"], found_f=number(f["f_stat"], lang, 2), n_boot=f["n_boot"],
              found_p=p_value(f["p_value"], lang), dw=number(f["durbin_watson"], lang, 2))


def its_report(its, break_period: object, scale: float, lang: str = "nb") -> list:
    """What the page shows of the interrupted-time-series fits (analysis.trend.fit_models): the method in a
    sentence, then per model its name and its level and slope change, or why it could not be fitted."""
    from IPython.display import Markdown

    freq = next((str(f.freq)[0] for f in its.fits.values()), "Y")  # Y or M: the growth is yearly or monthly
    growth = _t(lang, "sentences.growth_monthly" if freq == "M" else "sentences.growth_yearly")
    out: list = [Markdown(_t(lang, "sentences.its", period=break_period, growth=growth))]
    for name, result in its.fits.items():
        rows = result.params[result.params["parameter"].isin(["level_change", "slope_change"])].copy()
        log = name == "poisson"
        if not log:
            rows[["estimate", "lower", "upper"]] /= scale
        unit = _t(lang, "sentences.log_scale") if log else unit_label(scale, lang)
        out.append(Markdown(_t(lang, "sentences.its_model", model=model_label(name, lang), unit=unit)))
        out.append(params_table(rows, lang, 3 if log else 1))
    for name, reason in its.failed.items():
        out.append(Markdown(_t(lang, "sentences.failed_model", model=model_label(name, lang),
                               reason=note_text(reason, lang))))
    return out


def forecast_text(model: str, horizon: int, alpha: float, lang: str = "nb") -> str:
    """Markdown: which model forecasts how far, and that a forecast is modelled."""
    return _t(lang, "sentences.forecast", model=sentence_case(model_label(model, lang)), n=horizon, p=_p(alpha))


# ---------------------------------------------------------------- figures

def _x(index: pd.PeriodIndex) -> np.ndarray:
    if frequency(index) == "Y":
        return np.asarray(index.year, dtype=float)
    return np.asarray(index.to_timestamp(how="start") + pd.Timedelta(days=14))


def _spans(index: pd.PeriodIndex) -> list[tuple]:
    """Contiguous runs of periods as (start, end) x positions for shading."""
    spans = []
    ords = np.asarray(index.asi8)
    order = np.argsort(ords)
    run = [index[order[0]]]
    for i in order[1:]:
        if index[i].ordinal == run[-1].ordinal + 1:
            run.append(index[i])
        else:
            spans.append((run[0], run[-1]))
            run = [index[i]]
    spans.append((run[0], run[-1]))
    out = []
    for a, b in spans:
        if frequency(index) == "Y":
            out.append((a.year - 0.5, b.year + 0.5))
        else:
            out.append((a.to_timestamp(how="start"), (b + 1).to_timestamp(how="start")))
    return out


def plot_baseline(series: pd.Series, result: TrendFit, target: object, alpha: float = 0.05,
                  lang: str = "nb", scale: float = 1.0, unit_label: str | None = None) -> plt.Figure:
    """Observed series, the baseline's expected values with its prediction band over baseline and target
    periods, and the target periods shaded; values divided by `scale` for the axis."""
    s = period_series(series)
    freq = frequency(s)
    targets = to_periods(target, freq)
    span = pd.period_range(result.index[0], max(result.index[-1], targets.max()), freq=result.index.freq)
    pred = result.predict(span, alpha)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for a, b in _spans(targets):
        ax.axvspan(a, b, color="0.85", zorder=0)
    ax.axvspan(np.nan, np.nan, color="0.85", label=_t(lang, "figure.event"))
    x = _x(pred["period"].pipe(pd.PeriodIndex))
    ax.fill_between(x, pred["lower"] / scale, pred["upper"] / scale, color="C0", alpha=0.25, hatch="//",
                    edgecolor="C0", linewidth=0,
                    label=_t(lang, "figure.band", p=_p(alpha)))
    ax.plot(x, pred["mean"] / scale, color="C0", linestyle="--", label=_t(lang, "figure.expected"))
    ax.plot(_x(s.index), s.to_numpy() / scale, color="black", marker="o", markersize=4, linewidth=1,
            label=_t(lang, "figure.observed"))
    ax.set_ylabel(unit_label or _units(scale, lang))
    ax.set_xlabel(_t(lang, "figure.year" if freq == "Y" else "figure.month"))
    ax.set_title(_t(lang, "figure.baseline_title", model=model_label(result.model, lang)))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_forecast(series: pd.Series, fc: pd.DataFrame, model: str, lang: str = "nb", scale: float = 1.0,
                  unit_label: str | None = None, alpha: float = 0.05) -> plt.Figure:
    """Observed series and a forecast with its prediction band, the forecast drawn as modelled."""
    s = period_series(series)
    freq = frequency(s)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.plot(_x(s.index), s.to_numpy() / scale, color="black", marker="o", markersize=4, linewidth=1,
            label=_t(lang, "figure.observed"))
    x = _x(pd.PeriodIndex(fc["period"]))
    ax.fill_between(x, fc["lower"] / scale, fc["upper"] / scale, color="C1", alpha=0.25, hatch="\\\\",
                    edgecolor="C1", linewidth=0, label=_t(lang, "figure.band", p=_p(alpha)))
    ax.plot(x, fc["mean"] / scale, color="C1", linestyle="--", marker="o", markerfacecolor="white",
            label=_t(lang, "figure.forecast"))
    ax.set_ylabel(unit_label or _units(scale, lang))
    ax.set_xlabel(_t(lang, "figure.year" if freq == "Y" else "figure.month"))
    ax.set_title(_t(lang, "figure.forecast_title", model=model_label(model, lang)))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_break_scan(scan: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """F statistic against candidate break period, the largest marked."""
    texts = [str(p) for p in scan["period"]]
    idx = pd.PeriodIndex(texts, freq="M" if any(len(t) == 7 for t in texts) else "Y")
    x = _x(idx)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(x, scan["f_stat"], color="C2", marker="o", markersize=3)
    best = int(np.argmax(scan["f_stat"].to_numpy()))
    ax.axvline(x[best], color="0.3", linestyle=":",
               label=_t(lang, "figure.best", period=scan["period"].iloc[best]))
    ax.set_ylabel(_t(lang, "figure.scan_y"))
    ax.set_xlabel(_t(lang, "figure.scan_x"))
    ax.set_title(_t(lang, "figure.scan_title"))
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def _units(scale: float, lang: str) -> str:
    return unit_label(scale, lang)


# ---------------------------------------------------------------- tables for reading

def _h(key: str, lang: str, **kw: object) -> str:
    return _t(lang, f"head.{key}", **kw)


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(frame.columns[0])


def comparison_table(table: pd.DataFrame, lang: str = "nb", scale: float = 1.0, digits: int = 1) -> pd.DataFrame:
    """The compare_models table for reading: headers and notes in `lang`, errors divided by `scale`."""
    return _indexed(pd.DataFrame({
        _h("model", lang): [model_label(m, lang) for m in table["model"]],
        _h("method", lang): [_t(lang, f"method.{m}") for m in table["method"]],
        _h("n_predictions", lang): table["n_predictions"],
        _h("mae", lang): [number(v / scale, lang, digits) for v in table["mae"]],
        _h("rmse", lang): [number(v / scale, lang, digits) for v in table["rmse"]],
        _h("mape", lang): [number(v, lang, 2) for v in table["mape"]],
        _h("coverage", lang): [number(v, lang, 2) for v in table["coverage"]],
        _h("aic", lang): [number(v, lang, 1) for v in table["aic"]],
        _h("rank", lang): [number(v, lang, 0) for v in table["rank"]],
        _h("note", lang): [notes_text(n, lang) for n in table["notes"]],
    }))


def _excess_columns(table: pd.DataFrame, lang: str, scale: float, alpha: float, digits: int) -> dict:
    p = _p(alpha)

    def bounded(v: str, lo: str, hi: str, div: float, d: int) -> list[str]:
        return [with_bounds(e / div, a / div, b / div, lang, d, partial=True)
                for e, a, b in zip(table[v], table[lo], table[hi], strict=True)]

    return {
        _h("actual", lang): [number(v / scale, lang, digits) for v in table["actual"]],
        _h("expected", lang, p=p): bounded("expected", "lower", "upper", scale, digits),
        _h("excess", lang, p=p): bounded("excess", "excess_lower", "excess_upper", scale, digits),
        _h("p_score", lang, p=p): bounded("p_score", "p_score_lower", "p_score_upper", 1.0, 1),
    }


def excess_table(table: pd.DataFrame, lang: str = "nb", scale: float = 1.0, alpha: float = 0.05,
                 digits: int = 1) -> pd.DataFrame:
    """The baseline_excess table as 'value [lower–upper]' text with headers in `lang`."""
    periods = [_h("total", lang) if v == "total" else v for v in table["period"]]
    return _indexed(pd.DataFrame({_h("period", lang): periods, **_excess_columns(table, lang, scale, alpha, digits)}))


def excess_by_model_table(table: pd.DataFrame, lang: str = "nb", scale: float = 1.0, alpha: float = 0.05,
                          chosen: str | None = None) -> pd.DataFrame:
    """The excess_by_model table for reading: one row per model, a model that could not be fitted shown as
    failed with its reason in the note column; the baseline's model (`chosen`) marked."""
    failed = (table["status"] == "failed") if "status" in table else table["excess"].isna()
    models = [_h("chosen", lang, model=model_label(m, lang)) if m == chosen else model_label(m, lang)
              for m in table["model"]]
    numbers = [c for c in ("actual", "expected", "lower", "upper", "excess", "excess_lower", "excess_upper",
                           "p_score", "p_score_lower", "p_score_upper")]
    filled = table.reindex(columns=list(table.columns) + [c for c in numbers if c not in table])
    filled.loc[failed.to_numpy(), numbers] = 0.0  # placeholders: these cells say "could not be fitted"
    cols = _excess_columns(filled, lang, scale, alpha, 1)
    cols = {k: [_h("failed", lang) if f else v for v, f in zip(vals, failed, strict=True)]
            for k, vals in cols.items()}
    return _indexed(pd.DataFrame({_h("model", lang): models, **cols,
                                  _h("note", lang): [notes_text(n, lang) for n in table["notes"]]}))


def params_table(params: pd.DataFrame, lang: str = "nb", digits: int = 3, group: bool = True) -> pd.DataFrame:
    """A TrendFit's parameters as 'estimate [lower–upper]' with headers in `lang`."""
    names = [_t(lang, f"parameter.{p}") if catalogue.has(lang, f"trend.parameter.{p}") else p
             for p in params["parameter"]]
    return _indexed(pd.DataFrame({
        _h("parameter", lang): names,
        _h("estimate", lang): [with_bounds(e, lo, hi, lang, digits, group=group, partial=True) for e, lo, hi in
                               zip(params["estimate"], params["lower"], params["upper"], strict=True)],
    }))


def forecast_table(fc: pd.DataFrame, lang: str = "nb", scale: float = 1.0, alpha: float = 0.05,
                   digits: int = 1) -> pd.DataFrame:
    """A forecast table as 'mean [lower–upper]' per period, labelled as modelled."""
    return _indexed(pd.DataFrame({
        _h("period", lang): [str(p) for p in fc["period"]],
        _h("forecast", lang, p=_p(alpha)): [with_bounds(m / scale, lo / scale, hi / scale, lang, digits, partial=True)
                                            for m, lo, hi in zip(fc["mean"], fc["lower"], fc["upper"], strict=True)],
    }))


# ---------------------------------------------------------------- key findings

def _kf(lang: str, key: str, /, **values: object) -> str:
    """Message `findings.trend.<key>` in `lang`."""
    return catalogue.text(lang, f"findings.trend.{key}", **values)


def key_findings(series: pd.Series, excess: pd.DataFrame, choice: ModelChoice, fc: pd.DataFrame,
                 baseline: Sequence, targets: Sequence, alpha: float = 0.05, lang: str = "nb") -> KeyFindings:
    """The page's key findings on a user's series (analysis.present.findings): the total excess over the
    earlier trend with its prediction range, the trend's model in plain words and the last forecast period."""
    catalogue.check_lang(lang)
    t = excess.iloc[-1]
    when, p = join_words(targets, lang), _p(alpha)
    lo, hi = t["excess_lower"], t["excess_upper"]
    if lo > 0 or hi < 0:
        size = findings.between(*sorted((abs(lo), abs(hi))), lang, "messages", value=abs(t["excess"]))
        out = [_kf(lang, "excess_above" if lo > 0 else "excess_below", targets=when, p=p, range=size,
                   value=findings.amount(abs(t["excess"]), lang, "messages"))]
    else:
        out = [_kf(lang, "excess_unclear", targets=when, p=p, low=findings.amount(-lo, lang, "messages"),
                   high=findings.amount(hi, lang, "messages"))]
    key = "model_weak" if choice.automatic and choice.weak else "model_auto" if choice.automatic else "model_given"
    units = _kf(lang, "months" if frequency(series) == "M" else "years")
    out.append(_kf(lang, key, model=catalogue.text(lang, f"findings.model.{choice.model}"), first=baseline[0],
                   last=baseline[1], n=choice.n_predictions, units=units))
    if len(fc):
        f = fc.iloc[-1]
        out.append(_kf(lang, "forecast", period=f["period"],
                       range=findings.between(f["lower"], f["upper"], lang, "messages", value=f["mean"])))
    return findings.block(out, lang)
