"""Tables and figures for readers of the trend models (notebook 03), in nb or en.

The numbers come from :mod:`analysis.trend`; this module labels and formats them (:mod:`analysis.present.formatting`)
and draws them. Modelled values (expected, excess, forecast) are labelled as such in every header and legend.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.present import i18n
from analysis.present.formatting import number, with_bounds
from analysis.trend import TrendFit, _freq_letter, _prepare, to_periods

MODEL_LABELS = {
    "linear": {"nb": "lineær", "en": "linear"},
    "loglinear": {"nb": "log-lineær", "en": "log-linear"},
    "poisson": {"nb": "kvasi-Poisson (GLM)", "en": "quasi-Poisson (GLM)"},
    "ets": {"nb": "ETS med dempet trend", "en": "damped-trend ETS"},
    "segmented": {"nb": "segmentert (brudd i nivå og stigning)", "en": "segmented (level and slope change)"},
    "logistic": {"nb": "logistisk (S-kurve)", "en": "logistic (S-curve)"},
}


PARAMETERS = {
    "level_change": {"nb": "nivåendring", "en": "level change"},
    "slope_change": {"nb": "stigningsendring", "en": "slope change"},
}

# ---------------------------------------------------------------- the library's notes in nb

# The notes analysis.trend writes (fits, baselines, comparisons, and the errors that end up in them) are in
# English; in an nb report they are shown through these patterns, in this order. A note with no pattern stays
# as it is.
_NOTES_NB: list[tuple[str, str]] = [
    (r"OLS on log counts; Student-t prediction interval \(obs_ci\), exponentiated; mean = exp\(m \+ se²/2\)",
     "OLS på log-antall; Student-t-prediksjonsintervall (obs_ci), tilbakeregnet med exp; middel = exp(m + se²/2)"),
    (r"OLS on counts; Student-t prediction interval \(obs_ci\)",
     "OLS på antall; Student-t-prediksjonsintervall (obs_ci)"),
    (r"quasi-Poisson GLM \(dispersion φ = ([^)]*)\); prediction interval by simulation \((\d+) draws, seed "
     r"(\d+)\): coefficients ~ normal, counts ~ negative binomial with variance φ·μ",
     r"kvasi-Poisson-GLM (dispersjon φ = \1); prediksjonsintervall ved simulering (\2 trekk, seed \3): "
     r"koeffisienter ~ normalfordelt, antall ~ negativ binomisk med varians φ·μ"),
    (r"damped-trend ETS \(additive errors\); prediction interval pi_lower/pi_upper from statsmodels",
     "ETS med dempet trend (additive feil); prediksjonsintervall pi_lower/pi_upper fra statsmodels"),
    (r"least squares; prediction interval by parametric bootstrap \((\d+) of (\d+) refits, seed (\d+)\) plus "
     r"new-observation noise s·t\(df=(\d+)\)",
     r"minste kvadrater; prediksjonsintervall ved parametrisk bootstrap (\1 av \2 tilpasninger, seed \3) pluss "
     r"støy for en ny observasjon s·t(df=\4)"),
    (r"break at (\S+) found by find_break on the baseline", r"brudd ved \1 funnet av find_break på grunnlinjen"),
    (r"break at (\S+) found by find_break on the window", r"brudd ved \1 funnet av find_break i vinduet"),
    (r"no break could be placed", "ingen brudd kunne plasseres"),
    (r"not defined for ETS \(it needs an unbroken series\)", "ikke definert for ETS (den trenger en hel serie)"),
    (r"no AIC for a quasi-likelihood", "ingen AIC for en kvasi-likelihood"),
    (r"AIC moved to the count scale", "AIC flyttet til antallsskalaen"),
    (r"(\d+) fold\(s\) could not be fitted", r"\1 utvalg kunne ikke tilpasses"),
    (r"not ranked: fewer held-out predictions", "ikke rangert: færre prediksjoner utenfor utvalget"),
    (r"the logistic curve could not be fitted: the data may not look S-shaped",
     "den logistiske kurven kunne ikke tilpasses: dataene ser kanskje ikke S-formede ut"),
    (r"the logistic curve is not identified on these data: (\[[^\]]*\]) ran to the edge of the allowed range "
     r"\(the data show no S-shape, e\.g\. the inflection lies far outside the series\)",
     r"den logistiske kurven er ikke identifisert på disse dataene: \1 gikk til kanten av det tillatte området "
     r"(dataene viser ingen S-form, f.eks. ligger vendepunktet langt utenfor serien)"),
    (r"the logistic curve is not identified on these data: the best S-curve is flat over the whole series "
     r"\(the data do not rise\)",
     "den logistiske kurven er ikke identifisert på disse dataene: den beste S-kurven er flat over hele serien "
     "(dataene stiger ikke)"),
    (r"the logistic curve is too unstable on these data to give intervals \((\d+) of (\d+) bootstrap refits "
     r"succeeded\)",
     r"den logistiske kurven er for ustabil på disse dataene til å gi intervaller (\1 av \2 bootstrap-"
     r"tilpasninger lyktes)"),
    (r"choose another model \(e\.g\. linear\)", "velg en annen modell (f.eks. lineær)"),
    (r"choose another model", "velg en annen modell"),
    (r"model '(\w+)' needs at least (\d+) periods, the series has (\d+) \(([^)]*)\); use a longer window or a "
     r"simpler model \(linear\)",
     r"modellen '\1' trenger minst \2 perioder, serien har \3 (\4); bruk et lengre vindu eller en enklere modell "
     r"(lineær)"),
    (r"model 'loglinear' needs positive values; period\(s\) (\[[^\]]*\]) are zero or negative\. Use 'linear' or "
     r"'poisson' instead",
     r"modellen 'loglinear' trenger positive verdier; periode(r) \1 er null eller negative. Bruk 'linear' eller "
     r"'poisson'"),
    (r"model 'poisson' needs counts ≥ 0; period\(s\) (\[[^\]]*\]) are negative",
     r"modellen 'poisson' trenger antall ≥ 0; periode(r) \1 er negative"),
    (r"the series \((\d+) periods\) is too short to search for a break with trim (\S+)",
     r"serien (\1 perioder) er for kort til å søke etter et brudd med trimming \2"),
    (r"the series \((\d+) periods\) is too short for a break search",
     r"serien (\1 perioder) er for kort til å søke etter et brudd"),
    (r"break_period (\S+): the fit needs at least (\d+) periods on each side of the break, the data have (\d+) "
     r"before and (\d+) from it",
     r"break_period \1: tilpasningen trenger minst \2 perioder på hver side av bruddet, dataene har \3 før og \4 "
     r"fra det"),
    (r"^no break$", "ingen brudd"),
]


def note_text(note: object, lang: str = "nb") -> str:
    """A note or error text from :mod:`analysis.trend` in `lang` (the library writes English; nb is translated
    by known patterns, decimal points becoming commas)."""
    text = "" if note is None or (isinstance(note, float) and np.isnan(note)) else str(note)
    if i18n.check_lang(lang) == "en" or not text:
        return text
    for pattern, nb in _NOTES_NB:
        text = re.sub(pattern, nb, text)
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text)


def with_notes(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """A copy of a table from analysis.trend with its `note` column in `lang` (for the nb tables saved)."""
    if "note" not in table:
        return table
    return table.assign(note=[note_text(n, lang) for n in table["note"]])


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
        _h("note", lang): [note_text(n, lang) for n in table["note"]],
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
        _h("parameter", lang): [i18n.label(PARAMETERS, p, lang) for p in params["parameter"]],
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
