"""The sparse published evidence on total message volume, turned into annual-equivalent intervals.

Only the 2020 and 2021 totals and the undated "rundt 200 millioner" level are yearly totals as published.
The other national figures are a monthly count (January 2012), a monthly count printed as November 2013
but described as ten months later (so probably November 2012), and an average count per ordinary weekday
(c. 2014, year inferred). Each is turned into an annual-equivalent **interval** with every factor an
argument and every assumption written beside the value; these rows are labelled *converted*, never
published. The 2021 excess over the published plateau is interval arithmetic on bounds (every value the
two intervals allow), and :func:`fit_adoption_curve` draws an illustrative logistic curve through the
interval evidence.

The results are language-free: the assumption behind a converted value is a Note (a code with its
values), the time a figure belongs to is a plain period with a code for what is uncertain about it. Tables,
sentences and figures for readers of this evidence are in :mod:`analysis.present.evidence_report`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import decompose
from analysis.cache import cached
from analysis.errors import DataError
from analysis.intervals import Convention, get_convention
from analysis.results import note
from analysis.trend import fit_logistic_points, logistic_curve, refit_logistic

MILLION = 1e6
# The month of the first Computerworld figure ("januar 2012"), printed in the article; the month of the second
# is ambiguous and is an argument (see data/README.md).
CW_FIRST_MONTH = "2012-01"

def _one(frame: pd.DataFrame, mask: pd.Series, what: str) -> pd.Series:
    rows = frame[mask]
    if len(rows) != 1:
        raise DataError(f"expected exactly one {what} row in the data, found {len(rows)}; check data/")
    return rows.iloc[0]


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
) -> pd.DataFrame:
    """Return every figure on total volume as an annual-equivalent interval in million messages per year,
    with its basis (published or converted), the assumption behind it and where it sits in time.

    Beside the numbers: ``when`` (the period as text, "" when the source names none), ``when_note`` (a code:
    "" or ``second_month``, ``year_inferred``, ``years_not_named``), ``assumption`` (a Note with the factors
    of a conversion, ``plateau`` for the undated level, else None) and ``wording`` (a published figure as
    printed)."""
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

    def add(evidence_id, row, basis, when, x, value, low, high, assumption, role="total",
            receipts_excluded=False, when_note="", wording=""):
        rows.append({
            "evidence_id": evidence_id, "source_id": row["source_id"], "basis": basis, "role": role,
            "when": when, "x": x, "stated_value": float(row["value"]),
            "stated_unit": row["unit"], "stated_low": float(row["low"]), "stated_high": float(row["high"]),
            "value": value, "low": low, "high": high, "unit": "million messages per year",
            "receipts_excluded": receipts_excluded, "assumption": assumption, "when_note": when_note,
            "wording": wording,
        })

    # Monthly counts (Computerworld): × months, ± a month-to-month tolerance; they exclude receipts.
    monthly = context[context["metric"] == "total_messages_monthly"].sort_values("year")
    if len(monthly) != 2:
        raise DataError(f"expected two monthly total counts (Computerworld) in the context data, found {len(monthly)}")
    lo_f, hi_f = months_per_year * (1 - month_tolerance), months_per_year * (1 + month_tolerance)
    assumption = note("monthly", months=months_per_year, tolerance=month_tolerance)
    for (_, row), period, when_note in zip(monthly.iterrows(), (pd.Period(CW_FIRST_MONTH, freq="M"), second),
                                           ("", "second_month"), strict=True):
        add(f"cw_monthly_{row['year']}", row, "converted", str(period), _mid_year(period),
            row["value"] * months_per_year, row["low"] * lo_f, row["high"] * hi_f, assumption,
            receipts_excluded=True, when_note=when_note)

    # Average per ordinary weekday (NHN 10 år): × (weekdays + share × other days).
    wd = _one(context, context["metric"] == "total_medical_messages_per_weekday", "weekday count")
    rest = days_per_year - weekdays_per_year
    share_mid = (weekend_share[0] + weekend_share[1]) / 2
    add("nhn_weekday_2014", wd, "converted", str(int(wd["year"])), wd["year"] + 0.5,
        wd["value"] * (weekdays_per_year + share_mid * rest) / MILLION,
        wd["low"] * (weekdays_per_year + weekend_share[0] * rest) / MILLION,
        wd["high"] * (weekdays_per_year + weekend_share[1] * rest) / MILLION,
        note("weekday", weekdays=weekdays_per_year, rest=rest, share_low=weekend_share[0],
             share_high=weekend_share[1]), when_note="year_inferred")

    # Published yearly totals and the undated plateau.
    totals = published[(published["measure"] == "total") & (published["kind"] == "level")
                       & (published["sender"] == "all") & (published["receiver"] == "all")]
    for _, row in totals.sort_values("year", na_position="first").iterrows():
        if pd.isna(row["year"]):
            add(row["figure_id"], row, "published", "", math.nan, row["value"], row["low"], row["high"],
                note("plateau"), when_note="years_not_named", wording=row["wording"])
        else:
            y = int(row["year"])
            add(row["figure_id"], row, "published", str(y), y + 0.5, row["value"], row["low"], row["high"],
                None, wording=row["wording"])

    # Unclassifiable old-format counts: published yearly, but a part of the total (a lower bound on it).
    for _, row in context[context["metric"] == "unclassified_old_format"].sort_values("year").iterrows():
        add(f"unclassified_{row['year']}", row, "published", str(row["year"]), row["year"] + 0.5, row["value"],
            row["low"], row["high"], None, role="part")
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
    """An illustrative logistic curve through interval evidence: parameters, curve with band, points used.

    The band (``curve`` lower/upper) and the parameters' lower/upper are a **sensitivity range**, not a
    confidence interval: the middle of the curves refitted to points drawn inside each interval, so they vary
    only where each point lies inside its interval (``band`` says so as a code). Refits that fail are left
    out; ``n_failed`` counts them."""

    params: pd.DataFrame
    curve: pd.DataFrame
    points: pd.DataFrame
    n_boot: int
    n_ok: int
    seed: int
    band: str = "sensitivity_range"

    @property
    def n_failed(self) -> int:
        """Refits that did not converge (left out of the band)."""
        return self.n_boot - self.n_ok


@cached
def fit_adoption_curve(evidence: pd.DataFrame, before: float = 2021, n_boot: int = 300, seed: int = 0,
                       grid: Sequence[float] | None = None, alpha: float = 0.05) -> AdoptionCurve:
    """Fit K / (1 + exp(-r (x - x0))) through the dated total-volume intervals before `before`, weighting
    each point by its interval (sd = width/√12); the band, a sensitivity range, holds the middle (1 - alpha)
    of curves refitted to points drawn uniformly inside each interval (seeded; failed refits counted in
    ``n_failed``). An illustration, not an estimate of the series; `params` has a ``band`` column
    (``sensitivity_range``)."""
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
        "band": "sensitivity_range",
    })
    return AdoptionCurve(params, curve, pts, n_boot, len(boot), seed)


# ---------------------------------------------------------------- beside the decomposition

def beside_drivers(excess: pd.Series, cf: pd.DataFrame, contributions: pd.DataFrame | None = None, *,
                   exclude: Sequence[str] | None = None, start: object | None = None) -> pd.DataFrame:
    """Rows to set the excess over the plateau beside the excluded drivers' change from
    analysis.decompose.counterfactual: excess, drivers' change, the rest (counterfactual total minus
    plateau), the drivers' share of the excess and, given analysis.decompose.contributions, their share of
    the growth; bounds by interval arithmetic (sums of per-driver bounds: conservative). ``kind`` is
    ``derived`` for numbers worked out from the published figures alone (the drivers' change, their share of
    the growth) and ``modelled`` for those that rest on the plateau baseline.

    `exclude` (the driver codes left out) and `start` (the first year) are what the counterfactual was made
    with; when not given they are read from `cf` (a decompose.Counterfactual result, which has both). The
    rows carry them as ``drivers`` (codes joined by ", "), ``start`` and
    ``end`` (the excess year)."""
    table = getattr(cf, "table", cf)
    if exclude is None:
        exclude = getattr(cf, "exclude", None)
    if start is None:
        start = getattr(cf, "start", None)
    if not exclude or start is None:
        raise DataError("beside_drivers: give exclude (the drivers left out) and start (the first year) of the "
                        "counterfactual")
    exclude = [exclude] if isinstance(exclude, str) else list(exclude)
    q = table.set_index("quantity")
    d, d_lo, d_hi = (float(q.loc["excluded_change", c]) for c in ("value", "low", "high"))
    c, c_lo, c_hi = (float(q.loc["counterfactual_total", c]) for c in ("value", "low", "high"))
    e, e_lo, e_hi = float(excess["excess"]), float(excess["excess_low"]), float(excess["excess_high"])
    b, b_lo, b_hi = float(excess["baseline"]), float(excess["baseline_low"]), float(excess["baseline_high"])
    share_lo = 100 * d_lo / e_hi if e_hi > 0 else math.nan
    share_hi = 100 * d_hi / e_lo if e_lo > 0 else math.nan
    rows = [
        ("excess", "modelled", e, e_lo, e_hi, "million messages"),
        ("drivers", "derived", d, d_lo, d_hi, "million messages"),
        ("rest", "modelled", c - b, c_lo - b_hi, c_hi - b_lo, "million messages"),
        ("share", "modelled", 100 * d / e if e else math.nan, share_lo, share_hi, "percent"),
    ]
    if contributions is not None:
        mine = contributions[contributions["driver"].isin(exclude)]
        rows.append(("share_growth", "derived", float(mine["share_pct"].sum()),
                     float(mine["share_pct_low"].sum()), float(mine["share_pct_high"].sum()), "percent"))
    out = pd.DataFrame(rows, columns=["quantity", "kind", "value", "low", "high", "unit"])
    out["drivers"] = ", ".join(exclude)
    out["start"] = str(start)
    out["end"] = str(int(excess["year"]))
    return out


@cached
def beside_driver_sets(published: pd.DataFrame, excess: pd.Series, driver_sets: Sequence[Sequence[str]],
                       start: int = 2020, end: int = 2021,
                       convention: str | Convention | None = None) -> pd.DataFrame:
    """Return the beside_drivers rows for each set of drivers, one after the other: the counterfactual
    without each set (analysis.decompose.counterfactual) and the growth contributions from `start` to `end`."""
    growth = decompose.contributions(published, start, end, convention=convention)
    parts = []
    for drivers in driver_sets:
        cf = decompose.counterfactual(published, start, end, exclude=list(drivers), convention=convention)
        parts.append(beside_drivers(excess, cf, growth, exclude=list(drivers), start=start))
    return pd.concat(parts, ignore_index=True)


def plateau_excess_steps(published: pd.DataFrame, years: Sequence[int] = (2020, 2021),
                         steps: Sequence[float] = (), convention: str | Convention | None = None) -> pd.DataFrame:
    """Return plateau_excess under the convention, then once more for each other rounding step in `steps`."""
    first = plateau_excess(published, years, convention=convention)
    tables = [first] + [plateau_excess(published, years, step, convention) for step in steps
                        if step != first["plateau_step"].iloc[0]]
    return pd.concat(tables, ignore_index=True)
