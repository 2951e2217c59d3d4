"""The sparse published evidence on total message volume, turned into annual-equivalent intervals.

Only the 2020 and 2021 totals and the undated "rundt 200 millioner" level are yearly totals as published.
The other national figures are a monthly count (January 2012), a monthly count printed as November 2013
but described as ten months later (so probably November 2012), and an average count per ordinary weekday
(c. 2014, year inferred). Each is turned into an annual-equivalent **interval** with every factor an
argument and every assumption written beside the value; these rows are labelled *converted*, never
published. The 2021 excess over the published plateau is interval arithmetic on bounds (every value the
two intervals allow), and :func:`fit_adoption_curve` draws an illustrative logistic curve through the
interval evidence.

Tables, sentences and figures for readers of this evidence are in :mod:`analysis.present.evidence_report`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from analysis.present import i18n
from analysis.decompose import driver_names
from analysis.errors import DataError
from analysis.present.formatting import significant
from analysis.intervals import Convention, get_convention
from analysis.trend import fit_logistic_points, logistic_curve, refit_logistic

MILLION = 1e6
# The month of the first Computerworld figure ("januar 2012"), printed in the article; the month of the second
# is ambiguous and is an argument (see data/README.md).
CW_FIRST_MONTH = "2012-01"

TEXT = {
    "published": {"nb": "publisert", "en": "published"},
    "converted": {"nb": "omregnet (antakelse: {a})", "en": "converted (assumption: {a})"},
    "monthly": {
        "nb": "månedstall × {m} måneder; én måned antatt lik årets gjennomsnittsmåned ±{t:g} %; "
              "uten kvitteringsmeldinger, altså ikke på samme grunnlag som Meldingstellerens totaler",
        "en": "monthly count × {m} months; one month taken as the year's average month ±{t:g} %; excludes "
              "receipt messages, so not on the same basis as the Meldingsteller totals",
    },
    "monthly_short": {"nb": "×{m} mnd. ±{t:g} %, uten kvitteringer", "en": "×{m} months ±{t:g} %, excl. receipts"},
    "weekday": {
        "nb": "snitt per vanlig virkedag × ({w} virkedager + {lo}–{hi} × {r} helge- og helligdager); "
              "helgetrafikk som andel av en virkedags er en antakelse; året er utledet (NHN 10 år), ikke trykt",
        "en": "average per ordinary weekday × ({w} weekdays + {lo}–{hi} × {r} weekend and holiday days); "
              "weekend traffic as a share of a weekday's is an assumption; the year is inferred (NHN 10 years), "
              "not printed",
    },
    "weekday_short": {"nb": "{w} virkedager + helg {lo}–{hi} av virkedag",
                      "en": "{w} weekdays + weekend {lo}–{hi} of a weekday"},
    "plateau": {"nb": "årsnivå for noen år før 2020–2021; siden nevner ikke hvilke år",
                "en": "yearly level for some years before 2020–2021; the page does not name the years"},
    "part": {"nb": "publisert (en del av totalen: gamle meldingsformater som ikke kunne klassifiseres)",
             "en": "published (a part of the total: old-format messages that could not be classified)"},
    "second_month": {"nb": "{p} (trykt som november 2013; beskrevet som ti måneder etter januar 2012)",
                     "en": "{p} (printed as November 2013; described as ten months after January 2012)"},
    "weekday_when": {"nb": "ca. 2014 (år utledet)", "en": "c. 2014 (year inferred)"},
    "not_named": {"nb": "år ikke oppgitt", "en": "years not named"},
}


def _pick(key: str, lang: str, **kw: object) -> str:
    return i18n.pick(TEXT[key], lang).format(**kw)


def _one(frame: pd.DataFrame, mask: pd.Series, what: str) -> pd.Series:
    rows = frame[mask]
    if len(rows) != 1:
        raise DataError(f"expected exactly one {what} row in the data, found {len(rows)}; check data/")
    return rows.iloc[0]


# A share as Python writes it at its shortest ("0.1"), with the decimal mark of the language.
_share = partial(significant, digits=6, typographic=False)


def _mid_year(period: pd.Period) -> float:
    """Decimal year at the middle of a month or a year: where an annual-equivalent rate is placed in time."""
    if period.freqstr.startswith("M"):
        return period.year + (period.month - 0.5) / 12
    return period.year + 0.5


def annual_equivalents(
    published: pd.DataFrame,
    context: pd.DataFrame,
    months_per_year: float = 12,
    month_tolerance: float = 0.10,
    weekdays_per_year: float = 250,
    days_per_year: float = 365,
    weekend_share: Sequence[float] = (0.1, 0.3),
    cw_second_month: str = "2012-11",
    lang: str = "nb",
) -> pd.DataFrame:
    """Return every figure on total volume as an annual-equivalent interval in million messages per year,
    with its basis (published or converted), the assumption behind it and where it sits in time."""
    i18n.check_lang(lang)
    if not 0 <= month_tolerance < 1:
        raise DataError(f"month_tolerance must be a fraction between 0 and 1, got {month_tolerance!r}")
    if len(weekend_share) != 2 or not 0 <= weekend_share[0] <= weekend_share[1] <= 1:
        raise DataError(f"weekend_share must be [low, high] with 0 ≤ low ≤ high ≤ 1, got {weekend_share!r}")
    if not 0 < weekdays_per_year <= days_per_year:
        raise DataError(f"weekdays_per_year must lie in (0, days_per_year], got {weekdays_per_year!r}")
    text = str(cw_second_month).strip()
    if not (len(text) == 7 and text[:4].isdigit() and text[4] == "-" and text[5:].isdigit()
            and 1 <= int(text[5:]) <= 12):
        raise DataError(f"cw_second_month: {cw_second_month!r} is not a month; write it like 2012-11")
    second = pd.Period(text, freq="M")
    rows = []

    def add(evidence_id, row, basis, when, x, value, low, high, assumption, label, role="total",
            receipts_excluded=False):
        rows.append({
            "evidence_id": evidence_id, "source_id": row["source_id"], "basis": basis, "role": role,
            "when": when, "x": x, "stated_value": float(row["value"]),
            "stated_unit": row["unit"], "stated_low": float(row["low"]), "stated_high": float(row["high"]),
            "value": value, "low": low, "high": high, "unit": "million messages per year",
            "receipts_excluded": receipts_excluded, "assumption": assumption, "label": label,
        })

    # Monthly counts (Computerworld): × months, ± a month-to-month tolerance; they exclude receipts.
    monthly = context[context["metric"] == "total_messages_monthly"].sort_values("year")
    if len(monthly) != 2:
        raise DataError(f"expected two monthly total counts (Computerworld) in the context data, found {len(monthly)}")
    lo_f, hi_f = months_per_year * (1 - month_tolerance), months_per_year * (1 + month_tolerance)
    long_text = _pick("monthly", lang, m=f"{months_per_year:g}", t=100 * month_tolerance)
    short = _pick("converted", lang, a=_pick("monthly_short", lang, m=f"{months_per_year:g}",
                                               t=100 * month_tolerance))
    for (_, row), period, when in zip(
        monthly.iterrows(),
        (pd.Period(CW_FIRST_MONTH, freq="M"), second),
        (CW_FIRST_MONTH, _pick("second_month", lang, p=str(second))),
        strict=True,
    ):
        add(f"cw_monthly_{row['year']}", row, "converted", when, _mid_year(period),
            row["value"] * months_per_year, row["low"] * lo_f, row["high"] * hi_f, long_text, short,
            receipts_excluded=True)

    # Average per ordinary weekday (NHN 10 år): × (weekdays + share × other days).
    wd = _one(context, context["metric"] == "total_medical_messages_per_weekday", "weekday count")
    rest = days_per_year - weekdays_per_year
    share_mid = (weekend_share[0] + weekend_share[1]) / 2
    add("nhn_weekday_2014", wd, "converted", _pick("weekday_when", lang), wd["year"] + 0.5,
        wd["value"] * (weekdays_per_year + share_mid * rest) / MILLION,
        wd["low"] * (weekdays_per_year + weekend_share[0] * rest) / MILLION,
        wd["high"] * (weekdays_per_year + weekend_share[1] * rest) / MILLION,
        _pick("weekday", lang, w=f"{weekdays_per_year:g}", lo=_share(weekend_share[0], lang),
              hi=_share(weekend_share[1], lang), r=f"{rest:g}"),
        _pick("converted", lang, a=_pick("weekday_short", lang, w=f"{weekdays_per_year:g}",
                                           lo=_share(weekend_share[0], lang), hi=_share(weekend_share[1], lang))))

    # Published yearly totals and the undated plateau.
    totals = published[(published["measure"] == "total") & (published["kind"] == "level")
                       & (published["sender"] == "all") & (published["receiver"] == "all")]
    for _, row in totals.sort_values("year", na_position="first").iterrows():
        if pd.isna(row["year"]):
            add(row["figure_id"], row, "published", _pick("not_named", lang), math.nan, row["value"],
                row["low"], row["high"], _pick("plateau", lang), f"{_pick('published', lang)}: «{row['wording']}»")
        else:
            y = int(row["year"])
            add(row["figure_id"], row, "published", str(y), y + 0.5, row["value"], row["low"], row["high"],
                "", f"{_pick('published', lang)}: «{row['wording']}»")

    # Unclassifiable old-format counts: published yearly, but a part of the total (a lower bound on it).
    for _, row in context[context["metric"] == "unclassified_old_format"].sort_values("year").iterrows():
        add(f"unclassified_{row['year']}", row, "published", str(row["year"]), row["year"] + 0.5, row["value"],
            row["low"], row["high"], "", _pick("part", lang), role="part")
    return pd.DataFrame(rows)


def plateau_interval(published: pd.DataFrame, step: float | None = None,
                     convention: str | Convention | None = None) -> tuple[float, float, float]:
    """Return (value, low, high) of the undated "rundt 200 millioner" level; `step` re-reads its rounding."""
    row = _one(published, published["figure_id"] == "total_plateau", "total_plateau")
    if step is None:
        return float(row["value"]), float(row["low"]), float(row["high"])
    lo, hi, _, _ = get_convention(convention).bounds(float(row["value"]), float(step), str(row["qualifier"]))
    return float(row["value"]), float(lo), float(hi)


def plateau_excess(published: pd.DataFrame, years: Sequence[int] = (2020, 2021), step: float | None = None,
                   convention: str | Convention | None = None) -> pd.DataFrame:
    """Return, per year, the published total against the plateau baseline: the excess (total - plateau) and
    P-score with bounds over every pair of values the two intervals allow."""
    base, b_lo, b_hi = plateau_interval(published, step, convention)
    rows = []
    for year in years:
        row = _one(published, (published["figure_id"].str.startswith("total_")) & (published["year"] == year)
                   & (published["kind"] == "level") & (published["measure"] == "total"), f"total {year}")
        a, a_lo, a_hi = float(row["value"]), float(row["low"]), float(row["high"])
        rows.append({
            "year": int(year), "actual": a, "actual_low": a_lo, "actual_high": a_hi,
            "baseline": base, "baseline_low": b_lo, "baseline_high": b_hi,
            "excess": a - base, "excess_low": a_lo - b_hi, "excess_high": a_hi - b_lo,
            "p_score": 100 * (a / base - 1), "p_score_low": 100 * (a_lo / b_hi - 1),
            "p_score_high": 100 * (a_hi / b_lo - 1),
            "plateau_step": float(step) if step is not None else float(
                _one(published, published["figure_id"] == "total_plateau", "total_plateau")["step"]),
        })
    return pd.DataFrame(rows)


def relation_to_plateau(evidence: pd.DataFrame, low: float, high: float) -> pd.Series:
    """Return, per evidence row, whether its interval lies below, overlaps or lies above [low, high]."""
    return pd.Series(
        np.where(evidence["high"] < low, "below", np.where(evidence["low"] > high, "above", "overlaps")),
        index=evidence.index, name="relation_to_plateau",
    )


@dataclass
class AdoptionCurve:
    """An illustrative logistic curve through interval evidence: parameters, curve with band, points used."""

    params: pd.DataFrame
    curve: pd.DataFrame
    points: pd.DataFrame
    n_boot: int
    n_ok: int
    seed: int


def fit_adoption_curve(evidence: pd.DataFrame, before: float = 2021, n_boot: int = 300, seed: int = 0,
                       grid: Sequence[float] | None = None, alpha: float = 0.05) -> AdoptionCurve:
    """Fit K / (1 + exp(-r (x - x0))) through the dated total-volume intervals before `before`, weighting
    each point by its interval (sd = width/√12); the band holds the middle (1 - alpha) of curves refitted to
    points drawn uniformly inside each interval (seeded). An illustration, not an estimate of the series."""
    pts = evidence[(evidence["role"] == "total") & evidence["x"].notna() & (evidence["x"] < before)]
    pts = pts.sort_values("x").reset_index(drop=True)
    if len(pts) < 4:
        raise DataError(f"an adoption curve needs at least 4 dated intervals before {before}, found {len(pts)}")
    origin = math.floor(pts["x"].min())
    t = pts["x"].to_numpy() - origin
    low, high = pts["low"].to_numpy(), pts["high"].to_numpy()
    mid = (low + high) / 2
    sd = np.maximum((high - low) / math.sqrt(12), 1e-9)
    theta = fit_logistic_points(t, mid, sd)
    rng = np.random.default_rng(seed)
    xs = np.asarray(grid if grid is not None else np.linspace(origin - 1, before + 1, 121), dtype=float)
    boot = []
    for _ in range(n_boot):
        p = refit_logistic(t, rng.uniform(low, high), theta, sd)
        if p is not None:
            boot.append(p)
    if len(boot) < max(10, n_boot // 2):
        raise DataError(f"the adoption curve is unstable on this evidence ({len(boot)} of {n_boot} refits)")
    boot_arr = np.array(boot)
    curves = np.array([logistic_curve(xs - origin, *p) for p in boot_arr])
    lo_c, hi_c = np.quantile(curves, [alpha / 2, 1 - alpha / 2], axis=0)
    curve = pd.DataFrame({"x": xs, "mean": logistic_curve(xs - origin, *theta), "lower": lo_c, "upper": hi_c})
    q_lo, q_hi = np.quantile(boot_arr, [alpha / 2, 1 - alpha / 2], axis=0)
    params = pd.DataFrame({
        "parameter": ["K", "r", "x0"],
        "estimate": [theta[0], theta[1], theta[2] + origin],
        "lower": [q_lo[0], q_lo[1], q_lo[2] + origin],
        "upper": [q_hi[0], q_hi[1], q_hi[2] + origin],
    })
    return AdoptionCurve(params, curve, pts, n_boot, len(boot), seed)


# ---------------------------------------------------------------- beside the decomposition

def beside_drivers(excess: pd.Series, cf: pd.DataFrame, lang: str = "nb",
                   contributions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows to set the excess over the plateau beside the excluded drivers' change from
    analysis.decompose.counterfactual: excess, drivers' change, the rest (counterfactual total minus
    plateau), the drivers' share of the excess and, given analysis.decompose.contributions, their share of
    the growth; bounds by interval arithmetic (sums of per-driver bounds: conservative). ``kind`` is
    ``derived`` for numbers worked out from the published figures alone (the drivers' change, their share of
    the growth) and ``modelled`` for those that rest on the plateau baseline."""
    q = cf.set_index("quantity")
    d, d_lo, d_hi = (float(q.loc["excluded_change", c]) for c in ("value", "low", "high"))
    c, c_lo, c_hi = (float(q.loc["counterfactual_total", c]) for c in ("value", "low", "high"))
    e, e_lo, e_hi = float(excess["excess"]), float(excess["excess_low"]), float(excess["excess_high"])
    b, b_lo, b_hi = float(excess["baseline"]), float(excess["baseline_low"]), float(excess["baseline_high"])
    drivers = driver_names(cf.attrs.get("exclude", []), lang)
    year, start = int(excess["year"]), cf.attrs.get("start", "")
    labels = {
        "excess": {"nb": f"overskudd {year} over platånivået (modell: platå-grunnlinje)",
                   "en": f"{year} excess over the plateau (model: plateau baseline)"},
        "drivers": {"nb": f"endring {start}–{year} i pandemidriverne ({drivers}); avledet av publiserte tall",
                    "en": f"change {start}–{year} in the pandemic drivers ({drivers}); derived from published "
                          "figures"},
        "rest": {"nb": f"resten: totalen {year} uten {drivers} minus platået (modell)",
                 "en": f"the rest: the {year} total without {drivers} minus the plateau (model)"},
        "share": {"nb": "drivernes endring som andel av overskuddet, %",
                  "en": "drivers' change as a share of the excess, %"},
    }
    share_lo = 100 * d_lo / e_hi if e_hi > 0 else math.nan
    share_hi = 100 * d_hi / e_lo if e_lo > 0 else math.nan
    rows = [
        ("excess", "modelled", e, e_lo, e_hi, "million messages"),
        ("drivers", "derived", d, d_lo, d_hi, "million messages"),
        ("rest", "modelled", c - b, c_lo - b_hi, c_hi - b_lo, "million messages"),
        ("share", "modelled", 100 * d / e if e else math.nan, share_lo, share_hi, "percent"),
    ]
    if contributions is not None:
        mine = contributions[contributions["driver"].isin(cf.attrs.get("exclude", []))]
        rows.append(("share_growth", "derived", float(mine["share_pct"].sum()),
                     float(mine["share_pct_low"].sum()), float(mine["share_pct_high"].sum()), "percent"))
        labels["share_growth"] = {
            "nb": f"drivernes andel av veksten {start}–{year} (dekomponeringen), %",
            "en": f"the drivers' share of the {start}–{year} growth (decomposition), %"}
    out = pd.DataFrame(rows, columns=["quantity", "kind", "value", "low", "high", "unit"])
    out["label"] = [i18n.pick(labels[k], lang) for k in out["quantity"]]
    return out
