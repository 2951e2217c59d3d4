"""The sparse published evidence on total message volume, turned into annual-equivalent intervals.

Only the 2020 and 2021 totals and the undated "rundt 200 millioner" level are yearly totals as published.
The other national figures are a monthly count (January 2012), a monthly count printed as November 2013
but described as ten months later (so probably November 2012), and an average count per ordinary weekday
(c. 2014, year inferred). Each is turned into an annual-equivalent **interval** with every factor an
argument and every assumption written beside the value; these rows are labelled *converted*, never
published. The 2021 excess over the published plateau is interval arithmetic on bounds (every value the
two intervals allow), and :func:`fit_adoption_curve` draws an illustrative logistic curve through the
interval evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis import i18n
from analysis.errors import DataError
from analysis.formatting import number, significant, with_bounds
from analysis.intervals import Convention, get_convention
from analysis.plotting import wrap
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


# ---------------------------------------------------------------- figures

FIG = {
    "title": {"nb": "Publiserte og omregnede tall for årlig totalvolum",
              "en": "Published and converted evidence on yearly volume"},
    "y": {"nb": "millioner meldinger per år", "en": "million messages per year"},
    "x": {"nb": "år (tall plassert midt i perioden de gjelder)", "en": "year (figures placed mid-period)"},
    "published": {"nb": "publisert årstotal", "en": "published yearly total"},
    "converted": {"nb": "omregnet til årsekvivalent (antakelse, se tabell)",
                  "en": "converted to annual equivalent (assumption, see table)"},
    "plateau": {"nb": "publisert nivå «rundt 200 millioner» (år ikke oppgitt)",
                "en": "published level \"rundt 200 millioner\" (years not named)"},
    "curve": {"nb": "illustrasjon: logistisk kurve (modell, ikke data)",
              "en": "illustration: logistic curve (modelled, not data)"},
    "excess_title": {"nb": "2021: overskudd over platånivået og endringen fra pandemidriverne",
                     "en": "2021: excess over the plateau and the pandemic drivers' change"},
    "excess_x": {"nb": "millioner meldinger", "en": "million messages"},
}


def plot_evidence(evidence: pd.DataFrame, plateau: tuple[float, float], curve: AdoptionCurve | None = None,
                  lang: str = "nb") -> plt.Figure:
    """Published totals (filled), converted values (hollow, dashed whiskers), the undated plateau as a band
    across the whole axis, and optionally the illustrative curve; every kind labelled."""
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.axhspan(plateau[0], plateau[1], facecolor="0.8", alpha=0.6, hatch="..", edgecolor="0.5", linewidth=0,
               label=i18n.pick(FIG["plateau"], lang))
    if curve is not None:
        c = curve.curve
        ax.fill_between(c["x"], c["lower"], c["upper"], color="C2", alpha=0.15, linewidth=0)
        ax.plot(c["x"], c["mean"], color="C2", linestyle=":", linewidth=2, label=i18n.pick(FIG["curve"], lang))
    dated = evidence[(evidence["role"] == "total") & evidence["x"].notna()]
    for basis, style in (("published", {"fmt": "s", "color": "black", "mfc": "black", "ls": "-"}),
                         ("converted", {"fmt": "o", "color": "C0", "mfc": "white", "ls": "--"})):
        sub = dated[dated["basis"] == basis]
        if sub.empty:
            continue
        err = np.vstack([sub["value"] - sub["low"], sub["high"] - sub["value"]])
        bars = ax.errorbar(sub["x"], sub["value"], yerr=err, fmt=style["fmt"], color=style["color"],
                           mfc=style["mfc"], mec=style["color"], ms=8, capsize=5, elinewidth=1.5,
                           label=i18n.pick(FIG[basis], lang))
        bars[-1][0].set_linestyle(style["ls"])
    ax.set_ylim(0, max(320, float(dated["high"].max()) * 1.08))
    ax.set_ylabel(i18n.pick(FIG["y"], lang))
    ax.set_xlabel(i18n.pick(FIG["x"], lang))
    ax.set_title(i18n.pick(FIG["title"], lang))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_intervals(rows: pd.DataFrame, lang: str = "nb", title: str | None = None) -> plt.Figure:
    """Horizontal point-and-whisker chart of rows with label, value, low, high and kind: filled squares for
    published figures, hollow circles for modelled rows; a line at zero."""
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.75 * len(rows)))
    ys = np.arange(len(rows))[::-1]
    for y, (_, r) in zip(ys, rows.iterrows(), strict=True):
        modelled = r["kind"] != "published"
        ax.errorbar(r["value"], y, xerr=[[r["value"] - r["low"]], [r["high"] - r["value"]]],
                    fmt="o" if modelled else "s", color="C1" if modelled else "black",
                    mfc="white" if modelled else "black", ms=8, capsize=5, elinewidth=1.5)
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.set_yticks(ys, [wrap(str(t), 38) for t in rows["label"]], fontsize="small")
    ax.set_ylim(-0.6, len(rows) - 0.4)
    span = float(rows["high"].max() - min(0.0, rows["low"].min()))
    ax.set_xlim(min(0.0, float(rows["low"].min())) - 0.05 * span, float(rows["high"].max()) + 0.05 * span)
    ax.set_xlabel(i18n.pick(FIG["excess_x"], lang))
    handles = [
        plt.Line2D([], [], marker="s", color="black", linestyle="none", ms=8,
                   label=i18n.pick({"nb": "fra publiserte tall", "en": "from published figures"}, lang)),
        plt.Line2D([], [], marker="o", color="C1", mfc="white", linestyle="none", ms=8,
                   label=i18n.pick({"nb": "modell (platå-grunnlinje)", "en": "modelled (plateau baseline)"}, lang)),
    ]
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="lower right")
    ax.set_title(title or i18n.pick(FIG["excess_title"], lang))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- beside the decomposition

def beside_drivers(excess: pd.Series, cf: pd.DataFrame, lang: str = "nb",
                   contributions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows to set the excess over the plateau beside the excluded drivers' change from
    analysis.decompose.counterfactual: excess, drivers' change, the rest (counterfactual total minus
    plateau), the drivers' share of the excess and, given analysis.decompose.contributions, their share of
    the growth; bounds by interval arithmetic (sums of per-driver bounds: conservative)."""
    q = cf.set_index("quantity")
    d, d_lo, d_hi = (float(q.loc["excluded_change", c]) for c in ("value", "low", "high"))
    c, c_lo, c_hi = (float(q.loc["counterfactual_total", c]) for c in ("value", "low", "high"))
    e, e_lo, e_hi = float(excess["excess"]), float(excess["excess_low"]), float(excess["excess_high"])
    b, b_lo, b_hi = float(excess["baseline"]), float(excess["baseline_low"]), float(excess["baseline_high"])
    drivers = ", ".join(cf.attrs.get("exclude", []))
    year, start = int(excess["year"]), cf.attrs.get("start", "")
    labels = {
        "excess": {"nb": f"overskudd {year} over platånivået (modell: platå-grunnlinje)",
                   "en": f"{year} excess over the plateau (model: plateau baseline)"},
        "drivers": {"nb": f"endring {start}–{year} i pandemidriverne ({drivers}); publiserte tall",
                    "en": f"change {start}–{year} in the pandemic drivers ({drivers}); published figures"},
        "rest": {"nb": f"resten: totalen {year} uten {drivers} minus platået (modell)",
                 "en": f"the rest: the {year} total without {drivers} minus the plateau (model)"},
        "share": {"nb": "drivernes endring som andel av overskuddet, %",
                  "en": "drivers' change as a share of the excess, %"},
    }
    share_lo = 100 * d_lo / e_hi if e_hi > 0 else math.nan
    share_hi = 100 * d_hi / e_lo if e_lo > 0 else math.nan
    rows = [
        ("excess", "modelled", e, e_lo, e_hi, "million messages"),
        ("drivers", "published", d, d_lo, d_hi, "million messages"),
        ("rest", "modelled", c - b, c_lo - b_hi, c_hi - b_lo, "million messages"),
        ("share", "modelled", 100 * d / e if e else math.nan, share_lo, share_hi, "percent"),
    ]
    if contributions is not None:
        mine = contributions[contributions["driver"].isin(cf.attrs.get("exclude", []))]
        rows.append(("share_growth", "published", float(mine["share_pct"].sum()),
                     float(mine["share_pct_low"].sum()), float(mine["share_pct_high"].sum()), "percent"))
        labels["share_growth"] = {
            "nb": f"drivernes andel av veksten {start}–{year} (dekomponeringen), %",
            "en": f"the drivers' share of the {start}–{year} growth (decomposition), %"}
    out = pd.DataFrame(rows, columns=["quantity", "kind", "value", "low", "high", "unit"])
    out["label"] = [i18n.pick(labels[k], lang) for k in out["quantity"]]
    return out


# ---------------------------------------------------------------- tables for reading

DHEAD = {
    "when": {"nb": "når", "en": "when"},
    "stated": {"nb": "slik det står", "en": "as stated"},
    "label": {"nb": "grunnlag", "en": "basis"},
    "annual": {"nb": "mill. meldinger per år [intervall]", "en": "million messages per year [interval]"},
    "relation": {"nb": "mot platået {lo}–{hi}", "en": "against the plateau {lo}–{hi}"},
    "assumption": {"nb": "antakelse", "en": "assumption"},
    "source": {"nb": "kilde", "en": "source"},
    "year": {"nb": "år", "en": "year"},
    "actual": {"nb": "publisert total [intervall]", "en": "published total [interval]"},
    "baseline": {"nb": "platå-grunnlinje [intervall] (modell)", "en": "plateau baseline [interval] (model)"},
    "excess": {"nb": "overskudd [intervall] (modell)", "en": "excess [interval] (model)"},
    "p_score": {"nb": "P-skår % [intervall]", "en": "P-score % [interval]"},
    "step": {"nb": "lest med trinn", "en": "read with step"},
    "what": {"nb": "størrelse", "en": "quantity"},
    "kind": {"nb": "type", "en": "kind"},
    "value": {"nb": "verdi [intervall]", "en": "value [interval]"},
}
RELATION = {"below": {"nb": "under", "en": "below"}, "overlaps": {"nb": "overlapper", "en": "overlaps"},
            "above": {"nb": "over", "en": "above"}}
KIND = {"published": {"nb": "publisert", "en": "published"}, "modelled": {"nb": "modell", "en": "modelled"},
        "converted": {"nb": "omregnet", "en": "converted"}}


def _d(key: str, lang: str, **kw: object) -> str:
    return i18n.pick(DHEAD[key], lang).format(**kw)


STATED_UNITS = {
    "million messages": {"nb": "millioner meldinger", "en": "million messages"},
    "million messages per month": {"nb": "millioner meldinger per måned", "en": "million messages per month"},
    "messages per ordinary weekday (average)": {"nb": "meldinger per vanlig virkedag (gjennomsnitt)",
                                                "en": "messages per ordinary weekday (average)"},
}


def _stated(row: pd.Series, lang: str) -> str:
    q = "" if row["qualifier"] == "exact" else i18n.label(i18n.QUALIFIERS, row["qualifier"], lang) + " "
    digits = 0 if float(row["stated_value"]).is_integer() else 1
    return f"{q}{number(row['stated_value'], lang, digits)} {i18n.label(STATED_UNITS, row['stated_unit'], lang)}"


def display_evidence(evidence: pd.DataFrame, context: pd.DataFrame, published: pd.DataFrame,
                     plateau: tuple[float, float], lang: str = "nb") -> pd.DataFrame:
    """The annual-equivalent table for reading: when, as stated, basis, interval, relation to the plateau."""
    qual = pd.concat([
        published.set_index("figure_id")["qualifier"],
        pd.Series({f"cw_monthly_{y}": q for y, q in
                   context[context["metric"] == "total_messages_monthly"][["year", "qualifier"]].to_numpy()}),
        pd.Series({"nhn_weekday_2014": context.loc[context["metric"] == "total_medical_messages_per_weekday",
                                                   "qualifier"].iloc[0]}),
        pd.Series({f"unclassified_{y}": q for y, q in
                   context[context["metric"] == "unclassified_old_format"][["year", "qualifier"]].to_numpy()}),
    ])
    ev = evidence.assign(qualifier=evidence["evidence_id"].map(qual).fillna("exact"))
    rel = relation_to_plateau(ev, *plateau)
    return pd.DataFrame({
        _d("when", lang): ev["when"],
        _d("stated", lang): [_stated(r, lang) for _, r in ev.iterrows()],
        _d("label", lang): ev["label"],
        _d("annual", lang): [with_bounds(v, lo, hi, lang, 1, partial=True) for v, lo, hi in
                             zip(ev["value"], ev["low"], ev["high"], strict=True)],
        _d("relation", lang, lo=number(plateau[0], lang, 0), hi=number(plateau[1], lang, 0)): [
            i18n.label(RELATION, r, lang) if role == "total" else "–" for r, role in zip(rel, ev["role"], strict=True)],
        _d("assumption", lang): ev["assumption"],
        _d("source", lang): ev["source_id"],
    })


def display_plateau_excess(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The plateau_excess table as 'value [low–high]' text with headers in `lang`."""
    def col(v, lo, hi, digits=1):
        return [with_bounds(a, b, c, lang, digits, partial=True)
                for a, b, c in zip(table[v], table[lo], table[hi], strict=True)]

    return pd.DataFrame({
        _d("year", lang): table["year"],
        _d("step", lang): [number(s, lang, 0) for s in table["plateau_step"]],
        _d("actual", lang): col("actual", "actual_low", "actual_high"),
        _d("baseline", lang): col("baseline", "baseline_low", "baseline_high", 0),
        _d("excess", lang): col("excess", "excess_low", "excess_high"),
        _d("p_score", lang): col("p_score", "p_score_low", "p_score_high"),
    })


CURVE_PARAMS = {
    "K": {"nb": "K (øvre nivå, millioner per år)", "en": "K (upper level, million per year)"},
    "r": {"nb": "r (vekstrate per år)", "en": "r (growth rate per year)"},
    "x0": {"nb": "x0 (vendepunkt, år)", "en": "x0 (inflection, year)"},
}


def display_curve_params(curve: AdoptionCurve, lang: str = "nb", alpha: float = 0.05) -> pd.DataFrame:
    """The adoption curve's parameters for reading, labelled as an illustration."""
    p = round(100 * (1 - alpha))
    head = {"nb": f"illustrasjon: estimat [midtre {p} % av kurvene]",
            "en": f"illustration: estimate [middle {p} % of refits]"}
    return pd.DataFrame({
        _d("what", lang): [i18n.label(CURVE_PARAMS, k, lang) for k in curve.params["parameter"]],
        i18n.pick(head, lang): [with_bounds(e, lo, hi, lang, 2, group=False, partial=True) for e, lo, hi in
                                zip(curve.params["estimate"], curve.params["lower"], curve.params["upper"],
                                    strict=True)],
    })


def display_beside(rows: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The beside_drivers rows for reading."""
    return pd.DataFrame({
        _d("what", lang): rows["label"],
        _d("kind", lang): [i18n.label(KIND, k, lang) for k in rows["kind"]],
        _d("value", lang): [with_bounds(v, lo, hi, lang, 1, partial=True) for v, lo, hi in
                            zip(rows["value"], rows["low"], rows["high"], strict=True)],
    })


def _num(x: float, lang: str, digits: int = 1) -> str:
    """A number in the sentences below: one decimal unless said."""
    return number(x, lang, digits)


def excess_sentence(row: pd.Series, lang: str = "nb") -> str:
    """One sentence on a plateau_excess row: above, below or consistent with the plateau, from its bounds."""
    y, e, lo, hi = int(row["year"]), row["excess"], row["excess_low"], row["excess_high"]
    p, plo, phi = row["p_score"], row["p_score_low"], row["p_score_high"]
    if lo > 0:
        texts = {"nb": f"**{y} ligger {_num(e, lang)} millioner meldinger over platået** (intervall {_num(lo, lang)}–"
                       f"{_num(hi, lang)}), en P-skår på {_num(p, lang)} % ({_num(plo, lang)}–{_num(phi, lang)} %).",
                 "en": f"**{y} lies {_num(e, lang)} million messages above the plateau** (interval {_num(lo, lang)}–"
                       f"{_num(hi, lang)}), a P-score of {_num(p, lang)} % ({_num(plo, lang)}–{_num(phi, lang)} %)."}
    elif hi < 0:
        texts = {"nb": f"**{y} ligger {_num(-e, lang)} millioner meldinger under platået** (differanse "
                       f"{_num(lo, lang)} til {_num(hi, lang)}).",
                 "en": f"**{y} lies {_num(-e, lang)} million messages below the plateau** (difference {_num(lo, lang)} "
                       f"to {_num(hi, lang)})."}
    else:
        texts = {"nb": f"**{y} er forenlig med platået:** differansen kan være alt fra {_num(lo, lang)} til "
                       f"{_num(hi, lang)} millioner.",
                 "en": f"**{y} is consistent with the plateau:** the difference can be anything from {_num(lo, lang)} "
                       f"to {_num(hi, lang)} million."}
    return i18n.pick(texts, lang)


def rest_sentence(rows: pd.Series | pd.DataFrame, lang: str = "nb") -> str:
    """One sentence on a beside_drivers table: the drivers' change, its share of the excess and whether the
    total without them lies inside the plateau (rest interval containing 0) or not."""
    q = rows.set_index("quantity")
    d, s, r = q.loc["drivers"], q.loc["share"], q.loc["rest"]
    head = {"nb": f"Driverne økte med {_num(d['value'], lang)} millioner ({_num(d['low'], lang)}–"
                  f"{_num(d['high'], lang)}), "
                  f"omtrent {_num(s['value'], lang, 0)} % av overskuddet over platået ({_num(s['low'], lang, 0)}–"
                  f"{_num(s['high'], lang, 0)} %).",
            "en": f"The drivers grew by {_num(d['value'], lang)} million ({_num(d['low'], lang)}–"
                  f"{_num(d['high'], lang)}), "
                  f"about {_num(s['value'], lang, 0)} % of the excess over the plateau ({_num(s['low'], lang, 0)}–"
                  f"{_num(s['high'], lang, 0)} %)."}
    span = f"{_num(r['low'], lang)} {'til' if lang == 'nb' else 'to'} {_num(r['high'], lang)}"
    if r["low"] <= 0 <= r["high"]:
        tail = {"nb": f" Uten dem er 2021 forenlig med platået (resten er {span} millioner).",
                "en": f" Without them 2021 is consistent with the plateau (the rest is {span} million)."}
    elif r["low"] > 0:
        tail = {"nb": f" Også uten dem ligger 2021 over platået (resten er {span} millioner).",
                "en": f" Even without them 2021 lies above the plateau (the rest is {span} million)."}
    else:
        tail = {"nb": f" Uten dem ligger 2021 under platået (resten er {span} millioner).",
                "en": f" Without them 2021 lies below the plateau (the rest is {span} million)."}
    return i18n.pick(head, lang) + i18n.pick(tail, lang)
