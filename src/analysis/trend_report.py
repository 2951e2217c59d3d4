"""Tables and figures for readers of the trend models (notebook 03), in nb or en.

The numbers come from :mod:`analysis.trend`; this module labels and formats them (:mod:`analysis.formatting`)
and draws them. Modelled values (expected, excess, forecast) are labelled as such in every header and legend.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis import i18n
from analysis.formatting import number, with_bounds
from analysis.trend import TrendFit, _freq_letter, _prepare, to_periods

MODEL_LABELS = {
    "linear": {"nb": "lineær", "en": "linear"},
    "loglinear": {"nb": "log-lineær", "en": "log-linear"},
    "poisson": {"nb": "kvasi-Poisson (GLM)", "en": "quasi-Poisson (GLM)"},
    "ets": {"nb": "ETS med dempet trend", "en": "damped-trend ETS"},
    "segmented": {"nb": "segmentert (brudd i nivå og stigning)", "en": "segmented (level and slope change)"},
    "logistic": {"nb": "logistisk (S-kurve)", "en": "logistic (S-curve)"},
}


# ---------------------------------------------------------------- figures

TEXT = {
    "observed": {"nb": "observert (data)", "en": "observed (data)"},
    "expected": {"nb": "forventet etter grunnlinjen (modell)", "en": "expected on the baseline (model)"},
    "band": {"nb": "{p} % prediksjonsintervall (modell)", "en": "{p} % prediction interval (model)"},
    "event": {"nb": "hendelsesperioder", "en": "event periods"},
    "forecast": {"nb": "prognose (modell)", "en": "forecast (model)"},
    "messages": {"nb": "antall meldinger", "en": "number of messages"},
    "year": {"nb": "år", "en": "year"},
    "month": {"nb": "måned", "en": "month"},
    "baseline_title": {"nb": "Grunnlinje før hendelsen og faktisk utvikling: {model}",
                       "en": "Pre-event baseline and what happened: {model}"},
    "forecast_title": {"nb": "Prognose: {model}", "en": "Forecast: {model}"},
    "scan_title": {"nb": "Chow F-statistikk for hvert mulig bruddtidspunkt",
                   "en": "Chow F statistic for each candidate break"},
    "scan_y": {"nb": "F-statistikk", "en": "F statistic"},
    "scan_x": {"nb": "første periode etter bruddet", "en": "first period after the break"},
    "best": {"nb": "størst F: {p}", "en": "largest F: {p}"},
}


def _x(index: pd.PeriodIndex) -> np.ndarray:
    if _freq_letter(index) == "Y":
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
        if _freq_letter(index) == "Y":
            out.append((a.year - 0.5, b.year + 0.5))
        else:
            out.append((a.to_timestamp(how="start"), (b + 1).to_timestamp(how="start")))
    return out


def plot_baseline(series: pd.Series, result: TrendFit, target: object, alpha: float = 0.05,
                  lang: str = "nb", scale: float = 1.0, unit_label: str | None = None) -> plt.Figure:
    """Observed series, the baseline's expected values with its prediction band over baseline and target
    periods, and the target periods shaded; values divided by `scale` for the axis."""
    s = _prepare(series, allow_gaps=True)
    targets = to_periods(target, s.freq)
    span = pd.period_range(result.index[0], max(result.index[-1], targets.max()), freq=result.index.freq)
    pred = result.predict(span, alpha)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for a, b in _spans(targets):
        ax.axvspan(a, b, color="0.85", zorder=0)
    ax.axvspan(np.nan, np.nan, color="0.85", label=i18n.pick(TEXT["event"], lang))
    x = _x(pred["period"].pipe(pd.PeriodIndex))
    ax.fill_between(x, pred["lower"] / scale, pred["upper"] / scale, color="C0", alpha=0.25, hatch="//",
                    edgecolor="C0", linewidth=0,
                    label=i18n.pick(TEXT["band"], lang).format(p=round(100 * (1 - alpha))))
    ax.plot(x, pred["mean"] / scale, color="C0", linestyle="--", label=i18n.pick(TEXT["expected"], lang))
    ax.plot(_x(s.index), s.values / scale, color="black", marker="o", markersize=4, linewidth=1,
            label=i18n.pick(TEXT["observed"], lang))
    ax.set_ylabel(unit_label or i18n.pick(TEXT["messages"], lang))
    ax.set_xlabel(i18n.pick(TEXT["year"] if s.freq == "Y" else TEXT["month"], lang))
    ax.set_title(i18n.pick(TEXT["baseline_title"], lang).format(model=i18n.pick(MODEL_LABELS[result.model], lang)))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_forecast(series: pd.Series, fc: pd.DataFrame, model: str, lang: str = "nb", scale: float = 1.0,
                  unit_label: str | None = None, alpha: float = 0.05) -> plt.Figure:
    """Observed series and a forecast with its prediction band, the forecast drawn as modelled."""
    s = _prepare(series, allow_gaps=True)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.plot(_x(s.index), s.values / scale, color="black", marker="o", markersize=4, linewidth=1,
            label=i18n.pick(TEXT["observed"], lang))
    x = _x(pd.PeriodIndex(fc["period"]))
    ax.fill_between(x, fc["lower"] / scale, fc["upper"] / scale, color="C1", alpha=0.25, hatch="\\\\",
                    edgecolor="C1", linewidth=0, label=i18n.pick(TEXT["band"], lang).format(p=round(100 * (1 - alpha))))
    ax.plot(x, fc["mean"] / scale, color="C1", linestyle="--", marker="o", markerfacecolor="white",
            label=i18n.pick(TEXT["forecast"], lang))
    ax.set_ylabel(unit_label or i18n.pick(TEXT["messages"], lang))
    ax.set_xlabel(i18n.pick(TEXT["year"] if s.freq == "Y" else TEXT["month"], lang))
    ax.set_title(i18n.pick(TEXT["forecast_title"], lang).format(model=i18n.pick(MODEL_LABELS[model], lang)))
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
               label=i18n.pick(TEXT["best"], lang).format(p=scan["period"].iloc[best]))
    ax.set_ylabel(i18n.pick(TEXT["scan_y"], lang))
    ax.set_xlabel(i18n.pick(TEXT["scan_x"], lang))
    ax.set_title(i18n.pick(TEXT["scan_title"], lang))
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- tables for reading

HEAD = {
    "model": {"nb": "modell", "en": "model"},
    "method": {"nb": "metode", "en": "method"},
    "n_predictions": {"nb": "antall prediksjoner utenfor utvalget", "en": "held-out predictions"},
    "mae": {"nb": "MAE", "en": "MAE"},
    "rmse": {"nb": "RMSE", "en": "RMSE"},
    "mape": {"nb": "MAPE %", "en": "MAPE %"},
    "coverage": {"nb": "andel innenfor intervallet", "en": "share inside the interval"},
    "aic": {"nb": "AIC", "en": "AIC"},
    "rank": {"nb": "rang (RMSE)", "en": "rank (RMSE)"},
    "note": {"nb": "merknad", "en": "note"},
    "period": {"nb": "periode", "en": "period"},
    "actual": {"nb": "faktisk (data)", "en": "actual (data)"},
    "expected": {"nb": "forventet [{p} % PI] (modell)", "en": "expected [{p} % PI] (model)"},
    "excess": {"nb": "overskudd [{p} % PI] (modell)", "en": "excess [{p} % PI] (model)"},
    "p_score": {"nb": "P-skår % [{p} % PI]", "en": "P-score % [{p} % PI]"},
    "parameter": {"nb": "parameter", "en": "parameter"},
    "estimate": {"nb": "estimat [95 % KI]", "en": "estimate [95 % CI]"},
    "total": {"nb": "sum", "en": "total"},
}
METHODS = {"rolling origin, one year ahead": {"nb": "rullerende start, ett år fram",
                                              "en": "rolling origin, one year ahead"},
           "leave one year out": {"nb": "utelat ett år om gangen", "en": "leave one year out"}}


def _h(key: str, lang: str, **kw: object) -> str:
    return i18n.pick(HEAD[key], lang).format(**kw)


def display_comparison(table: pd.DataFrame, lang: str = "nb", scale: float = 1.0, digits: int = 1) -> pd.DataFrame:
    """The compare_models table with headers in `lang`, errors divided by `scale`."""
    out = pd.DataFrame({
        _h("model", lang): [i18n.pick(MODEL_LABELS[m], lang) for m in table["model"]],
        _h("method", lang): [i18n.label(METHODS, m, lang) for m in table["method"]],
        _h("n_predictions", lang): table["n_predictions"],
        _h("mae", lang): [number(v / scale, lang, digits) for v in table["mae"]],
        _h("rmse", lang): [number(v / scale, lang, digits) for v in table["rmse"]],
        _h("mape", lang): [number(v, lang, 2) for v in table["mape"]],
        _h("coverage", lang): [number(v, lang, 2) for v in table["coverage"]],
        _h("aic", lang): [number(v, lang, 1) for v in table["aic"]],
        _h("rank", lang): [number(v, lang, 0) for v in table["rank"]],
        _h("note", lang): table["note"],
    })
    return out


def display_excess(table: pd.DataFrame, lang: str = "nb", scale: float = 1.0, alpha: float = 0.05,
                   digits: int = 1) -> pd.DataFrame:
    """The baseline_excess table as 'value [lower–upper]' text with headers in `lang`."""
    p = round(100 * (1 - alpha))
    return pd.DataFrame({
        _h("period", lang): [_h("total", lang) if v == "total" else v for v in table["period"]],
        _h("actual", lang): [number(v / scale, lang, digits) for v in table["actual"]],
        _h("expected", lang, p=p): [with_bounds(e / scale, lo / scale, hi / scale, lang, digits, partial=True)
                                    for e, lo, hi in zip(table["expected"], table["lower"], table["upper"],
                                                         strict=True)],
        _h("excess", lang, p=p): [with_bounds(e / scale, lo / scale, hi / scale, lang, digits, partial=True)
                                  for e, lo, hi in zip(table["excess"], table["excess_lower"],
                                                       table["excess_upper"], strict=True)],
        _h("p_score", lang, p=p): [with_bounds(e, lo, hi, lang, 1, partial=True)
                                   for e, lo, hi in zip(table["p_score"], table["p_score_lower"],
                                                        table["p_score_upper"], strict=True)],
    })


def display_params(params: pd.DataFrame, lang: str = "nb", digits: int = 3, head: dict | None = None,
                   group: bool = True) -> pd.DataFrame:
    """A TrendFit's parameters as 'estimate [lower–upper]' with headers in `lang` (`head` renames the second)."""
    return pd.DataFrame({
        _h("parameter", lang): list(params["parameter"]),
        (i18n.pick(head, lang) if head else _h("estimate", lang)): [
            with_bounds(e, lo, hi, lang, digits, group=group, partial=True) for e, lo, hi in
            zip(params["estimate"], params["lower"], params["upper"], strict=True)],
    })


def display_excess_by_model(table: pd.DataFrame, lang: str = "nb", scale: float = 1.0,
                            alpha: float = 0.05) -> pd.DataFrame:
    """The excess_by_model table for reading: one row per model that could be fitted."""
    shown = table.dropna(subset=["excess"]) if "excess" in table else table.iloc[0:0]
    out = display_excess(shown.assign(period="total"), lang, scale, alpha).drop(columns=_h("period", lang))
    out.insert(0, _h("model", lang), [i18n.pick(MODEL_LABELS[m], lang) for m in shown["model"]])
    return out


def display_forecast(fc: pd.DataFrame, lang: str = "nb", scale: float = 1.0, alpha: float = 0.05,
                     digits: int = 1) -> pd.DataFrame:
    """A forecast table as 'mean [lower–upper]' per period, labelled as modelled."""
    head = {"nb": "prognose [{p} % PI] (modell)", "en": "forecast [{p} % PI] (model)"}
    return pd.DataFrame({
        _h("period", lang): [str(p) for p in fc["period"]],
        i18n.pick(head, lang).format(p=round(100 * (1 - alpha))): [
            with_bounds(m / scale, lo / scale, hi / scale, lang, digits, partial=True)
            for m, lo, hi in zip(fc["mean"], fc["lower"], fc["upper"], strict=True)],
    })
