"""analysis.trend: the Nile break, simulated recovery and coverage, a hand-checked excess, every error case,
model comparison, and notebook 03 on the default data and on a synthetic full series.

The break test is called as ``trend.test_break`` (never imported by name, so pytest does not collect it).
Every simulation is seeded. Coverage tolerances are stated next to each check as a multiple of the
binomial standard error sqrt(0.95 · 0.05 / runs).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.datasets import nile

from analysis import DataError, trend
from conftest import image_count, outputs_text

# ---------------------------------------------------------------- the Nile (real data shipped with statsmodels)


@pytest.fixture(scope="module")
def nile_series() -> pd.Series:
    d = nile.load_pandas().data
    return pd.Series(d["volume"].to_numpy(dtype=float), index=d["year"].astype(int).to_numpy())


def _line_ssr(x: np.ndarray, y: np.ndarray) -> float:
    r = y - np.polyval(np.polyfit(x, y, 1), x)
    return float(r @ r)


def test_nile_find_break_finds_the_dam(nile_series):
    # The flow drops after 1898 (the old Aswan dam); the package names a break by the first period after it.
    found = trend.find_break(nile_series, n_boot=99, seed=1).iloc[0]
    assert found["period"] == "1899"
    # Bootstrap p-value (1 + #{sup-F* >= sup-F}) / (99 + 1): its minimum 0.01 means no null draw came close.
    assert found["p_value"] == pytest.approx(1 / 100)
    # Trimming 15 % of 100 years at each end leaves 1886 ... 1956 as candidates.
    assert (found["first_candidate"], found["last_candidate"], found["candidates"]) == ("1886", "1956", 71)
    # A level change alone (slope common to both segments) points at the same year.
    assert trend.find_break(nile_series, slope_change=False)["period"].iloc[0] == "1899"


def test_nile_chow_test_equals_separate_line_fits(nile_series):
    y, t = nile_series.to_numpy(), np.arange(100.0)
    pre = nile_series.index < 1899
    ssr_pooled = _line_ssr(t, y)
    ssr_split = _line_ssr(t[pre], y[pre]) + _line_ssr(t[~pre], y[~pre])
    # Chow: 2 restrictions (level and slope), 100 - 4 residual degrees of freedom.
    f_hand = ((ssr_pooled - ssr_split) / 2) / (ssr_split / (100 - 4))
    res = trend.test_break(nile_series, 1899).iloc[0]
    assert res["f_stat"] == pytest.approx(f_hand, rel=1e-9)
    assert (res["df_num"], res["df_den"]) == (2, 96)
    assert res["p_value"] == pytest.approx(stats.f.sf(f_hand, 2, 96), rel=1e-6)
    assert res["ssr_unrestricted"] == pytest.approx(ssr_split, rel=1e-9)
    scan = trend.break_scan(nile_series).set_index("period")
    assert scan.loc["1899", "f_stat"] == pytest.approx(f_hand, rel=1e-9)
    assert scan["f_stat"].idxmax() == "1899"
    assert trend.find_break(nile_series)["f_stat"].iloc[0] == pytest.approx(f_hand, rel=1e-9)


def test_nile_segmented_levels_equal_direct_computation(nile_series):
    y, t = nile_series.to_numpy(), np.arange(100.0)
    pre = nile_series.index < 1899
    before, after = np.polyfit(t[pre], y[pre], 1), np.polyfit(t[~pre], y[~pre], 1)
    fit = trend.fit(nile_series, "segmented", break_period=1899)
    p = fit.params.set_index("parameter")["estimate"]
    t0 = 1899 - 1871  # the break in periods since the first year
    assert p["const"] + p["trend"] * t0 == pytest.approx(np.polyval(before, t0))
    assert p["level_change"] == pytest.approx(np.polyval(after, t0) - np.polyval(before, t0))
    assert p["slope_change"] == pytest.approx(after[0] - before[0])
    fitted = fit.fitted().to_numpy()
    assert fitted[pre] == pytest.approx(np.polyval(before, t[pre]))
    assert fitted[~pre] == pytest.approx(np.polyval(after, t[~pre]))
    # Each segment's fitted mean is its mean flow (OLS with an intercept per segment).
    assert fitted[pre].mean() == pytest.approx(y[pre].mean())
    assert fitted[~pre].mean() == pytest.approx(y[~pre].mean())


# ---------------------------------------------------------------- simulations with known parameters

def _years(values: np.ndarray, first: int = 2000) -> pd.Series:
    return pd.Series(values, index=np.arange(first, first + len(values)))


def _within(params: pd.DataFrame, truth: dict[str, float], se: dict[str, float], k: float = 4.0) -> None:
    est = params.set_index("parameter")["estimate"]
    for name, value in truth.items():
        assert abs(est[name] - value) < k * se[name], (name, est[name], value, se[name])


def test_linear_and_loglinear_recover_their_parameters():
    rng = np.random.default_rng(1)
    n, t = 40, np.arange(40.0)
    sxx = n * (n**2 - 1) / 12  # sum of (t - mean t)^2 for t = 0..n-1
    tbar = (n - 1) / 2
    se = lambda sigma: {"const": sigma * math.sqrt(1 / n + tbar**2 / sxx), "trend": sigma / math.sqrt(sxx)}  # noqa: E731
    fit = trend.fit(_years(100 + 3 * t + rng.normal(0, 2, n)), "linear")
    _within(fit.params, {"const": 100, "trend": 3}, se(2))
    fit = trend.fit(_years(np.exp(4 + 0.05 * t + rng.normal(0, 0.05, n))), "loglinear")
    _within(fit.params, {"const": 4, "trend": 0.05}, se(0.05))


def test_poisson_recovers_parameters_and_dispersion():
    rng = np.random.default_rng(2)
    t = np.arange(100.0)
    mu = np.exp(4 + 0.01 * t)
    fit = trend.fit(_years(rng.poisson(mu).astype(float), 1900), "poisson")
    x = np.column_stack([np.ones_like(t), t])
    cov = np.linalg.inv(x.T @ (mu[:, None] * x))  # inverse Fisher information at the truth
    _within(fit.params, {"const": 4, "trend": 0.01}, {"const": math.sqrt(cov[0, 0]), "trend": math.sqrt(cov[1, 1])})
    # Pearson X^2 / df for Poisson data: about 1 with sd sqrt(2 / 98) = 0.14; 4 sd either side.
    assert 1 - 4 * 0.143 < fit.dispersion < 1 + 4 * 0.143
    # Overdispersed counts (negative binomial, variance 4 mu): dispersion near 4, sd about 4 sqrt(2/198) = 0.4.
    t2 = np.arange(200.0)
    mu2 = np.exp(4 + 0.01 * t2)
    y2 = rng.negative_binomial(mu2 / 3, 1 / 4).astype(float)
    fit2 = trend.fit(_years(y2, 1800), "poisson")
    assert 4 - 3 * 0.4 < fit2.dispersion < 4 + 3 * 0.4


def test_segmented_recovers_level_and_slope_change():
    rng = np.random.default_rng(3)
    n, k, sigma = 30, 15, 2.0
    t = np.arange(n, dtype=float)
    after = (t >= k).astype(float)
    y = 50 + 2 * t + 8 * after + 1.5 * after * (t - k) + rng.normal(0, sigma, n)
    fit = trend.fit(_years(y), "segmented", break_period=2000 + k)
    x = np.column_stack([np.ones(n), t, after, after * (t - k)])
    se = sigma * np.sqrt(np.diag(np.linalg.inv(x.T @ x)))
    names = ["const", "trend", "level_change", "slope_change"]
    _within(fit.params, dict(zip(names, [50, 2, 8, 1.5], strict=True)), dict(zip(names, se, strict=True)))


def _ets_path(rng: np.random.Generator, n: int, alpha=0.5, beta=0.1, phi=0.9, sigma=2.0) -> np.ndarray:
    """Additive damped-trend ETS: y = l + phi b + e; l' = y_hat + alpha e; b' = phi b + beta e."""
    level, slope, out = 100.0, 2.0, []
    for _ in range(n):
        e = rng.normal(0, sigma)
        y_hat = level + phi * slope
        out.append(y_hat + e)
        level, slope = y_hat + alpha * e, phi * slope + beta * e
    return np.array(out)


def test_ets_recovers_smoothing_parameters():
    fit = trend.fit(_years(_ets_path(np.random.default_rng(11), 300), 1700), "ets")
    se = fit.params.set_index("parameter")["std_error"].to_dict()
    _within(fit.params, {"smoothing_level": 0.5, "smoothing_trend": 0.1, "damping_trend": 0.9}, se)


def test_logistic_recovers_its_curve():
    rng = np.random.default_rng(4)
    t = np.arange(15.0)
    fit = trend.fit(_years(trend.logistic_curve(t, 200, 0.8, 7) + rng.normal(0, 2, 15)), "logistic", n_boot=100)
    se = fit.params.set_index("parameter")["std_error"].to_dict()  # bootstrap standard deviations
    _within(fit.params, {"K": 200, "r": 0.8, "t0": 7}, se)


def _coverage(model: str, runs: int, make, n: int, **kw) -> float:
    """Share of runs in which the 95 % prediction interval for the next period holds a new draw."""
    rng = np.random.default_rng(123)
    hits = 0
    for _ in range(runs):
        y = make(rng, n + 1)
        p = trend.fit(_years(y[:n]), model, **kw).predict([2000 + n], alpha=0.05).iloc[0]
        hits += bool(p["lower"] <= y[n] <= p["upper"])
    return hits / runs


def _binomial_band(runs: int, k: float) -> tuple[float, float]:
    se = math.sqrt(0.95 * 0.05 / runs)
    return 0.95 - k * se, min(1.0, 0.95 + k * se)


COVERAGE_CASES = {
    # model: (runs, series length, generator, fit kwargs)
    "linear": (300, 12, lambda rng, m: 50 + 3 * np.arange(m) + rng.normal(0, 2, m), {}),
    "loglinear": (300, 12, lambda rng, m: np.exp(4 + 0.05 * np.arange(m) + rng.normal(0, 0.05, m)), {}),
    "poisson": (200, 12, lambda rng, m: rng.poisson(np.exp(4 + 0.05 * np.arange(m))).astype(float), {}),
    "segmented": (200, 14, lambda rng, m: 50 + 3 * np.arange(m) + np.where(np.arange(m) >= 6, 10 + 2 * (
        np.arange(m) - 6), 0) + rng.normal(0, 2, m), {"break_period": 2006}),
    "logistic": (100, 14, lambda rng, m: trend.logistic_curve(np.arange(m), 200, 0.8, 6) + rng.normal(0, 3, m),
                 {"n_boot": 60}),
    # ETS intervals leave out parameter uncertainty: on 30 points they cover only about 0.84 (our runs), so
    # the check uses a longer series, where they should come close to 0.95.
    "ets": (60, 100, _ets_path, {}),
}


@pytest.mark.parametrize("model", list(COVERAGE_CASES))
def test_prediction_intervals_cover_about_95_percent(model):
    runs, n, make, kw = COVERAGE_CASES[model]
    low, high = _binomial_band(runs, 3.5)  # 3.5 binomial standard errors: a false alarm about 1 in 2000
    assert low <= _coverage(model, runs, make, n, **kw) <= high


def test_interval_of_a_sum_covers_about_95_percent():
    rng = np.random.default_rng(7)
    runs, hits_lin, hits_log = 200, 0, 0
    for _ in range(runs):
        t = np.arange(14.0)
        y = 50 + 3 * t + rng.normal(0, 2, 14)
        s = trend.fit(_years(y[:12]), "linear").predict_sum([2012, 2013])
        hits_lin += bool(s["lower"] <= y[12:].sum() <= s["upper"])
        z = np.exp(4 + 0.05 * t + rng.normal(0, 0.05, 14))
        s = trend.fit(_years(z[:12]), "loglinear").predict_sum([2012, 2013], n=2000, seed=1)
        hits_log += bool(s["lower"] <= z[12:].sum() <= s["upper"])
    low, high = _binomial_band(runs, 3.5)
    assert low <= hits_lin / runs <= high
    assert low <= hits_log / runs <= high


# ---------------------------------------------------------------- a tiny series checked by hand

def test_baseline_and_excess_by_hand():
    # Baseline 2015-2019: t = 0..4, y = 10, 12, 14, 15, 19; event 2020 = 30, 2021 = 35.
    s = pd.Series([10, 12, 14, 15, 19, 30, 35], index=range(2015, 2022), dtype=float)
    ex = trend.baseline_excess(s, (2015, 2019), [2020, 2021], "linear").set_index("period")
    # mean t = 2, Sxx = 10, mean y = 14, Sxy = (-2)(-4) + (-1)(-2) + 0 + (1)(1) + (2)(5) = 21
    b, a = 21 / 10, 14 - 21 / 10 * 2  # 2.1 and 9.8
    resid = np.array([10, 12, 14, 15, 19]) - (a + b * np.arange(5))  # 0.2, 0.1, 0, -1.1, 0.8
    s2 = resid @ resid / 3  # 1.9 / 3
    q = stats.t.ppf(0.975, 3)  # 3.182
    for year, t in ((2020, 5), (2021, 6)):
        mean = a + b * t  # 20.3, 22.4
        half = q * math.sqrt(s2 * (1 + 1 / 5 + (t - 2) ** 2 / 10))
        row = ex.loc[str(year)]
        assert row["expected"] == pytest.approx(mean)
        assert (row["lower"], row["upper"]) == pytest.approx((mean - half, mean + half))
        actual = s[year]
        assert row["excess"] == pytest.approx(actual - mean)
        assert (row["excess_lower"], row["excess_upper"]) == pytest.approx((actual - mean - half, actual - mean + half))
        assert row["p_score"] == pytest.approx(100 * (actual - mean) / mean)
    # The sum: a = (1, 5) + (1, 6) = (2, 11); a'(X'X)^-1 a = 2^2 (1/5 + (5.5 - 2)^2 / 10) = 5.7; plus 2 new draws.
    total = ex.loc["total"]
    half_sum = q * math.sqrt(s2 * (5.7 + 2))
    assert total["actual"] == 65
    assert total["expected"] == pytest.approx(20.3 + 22.4)
    assert (total["lower"], total["upper"]) == pytest.approx((42.7 - half_sum, 42.7 + half_sum))
    assert total["excess"] == pytest.approx(65 - 42.7)
    # The interval of the sum is narrower than the sum of the intervals.
    widths = (ex.loc[["2020", "2021"], "upper"] - ex.loc[["2020", "2021"], "lower"]).sum()
    assert total["upper"] - total["lower"] < widths
    assert list(ex["row"]) == ["period", "period", "total"]


def test_excess_bounds_contain_points_for_every_model():
    rng = np.random.default_rng(5)
    t = np.arange(14.0)
    s = _years(trend.logistic_curve(t, 200, 0.7, 5) + rng.normal(0, 2, 14) + np.where(t >= 12, 40, 0), 2008)
    table = trend.excess_by_model(s, (2008, 2019), [2020, 2021], n_boot=60, seed=3)
    assert set(table["model"]) == set(trend.MODELS)
    ok = table.dropna(subset=["excess"])
    assert len(ok) >= 5
    assert (ok["lower"] <= ok["expected"]).all() and (ok["expected"] <= ok["upper"]).all()
    assert (ok["excess_lower"] <= ok["excess"]).all() and (ok["excess"] <= ok["excess_upper"]).all()
    assert np.allclose(ok["excess"], ok["actual"] - ok["expected"])


def test_monthly_series_seasonal_terms_and_yearly_subtotals():
    rng = np.random.default_rng(6)
    months = pd.period_range("2015-01", "2021-12", freq="M")
    t = np.arange(len(months), dtype=float)
    july = (months.month == 7).astype(float)
    y = 100 + 0.5 * t - 20 * july + rng.normal(0, 1, len(months)) + np.where(months.year >= 2020, 15, 0)
    s = pd.Series(y, index=months)
    fit = trend.fit(s[s.index.year < 2020], "linear")
    est = fit.params.set_index("parameter")["estimate"]
    assert abs(est["month_07"] - (-20)) < 4 * fit.params.set_index("parameter").loc["month_07", "std_error"]
    assert trend.to_periods(2020, "M").equals(pd.period_range("2020-01", "2020-12", freq="M"))
    ex = trend.baseline_excess(s, (2015, 2019), [2020, 2021], "linear")
    assert list(ex["row"]) == ["period"] * 24 + ["year", "year", "total"]
    months_2020 = ex[ex["period"].str.startswith("2020-")]
    year_2020 = ex.set_index("period").loc["2020"]
    assert year_2020["actual"] == pytest.approx(months_2020["actual"].sum())
    assert year_2020["expected"] == pytest.approx(months_2020["expected"].sum())
    assert year_2020["upper"] - year_2020["lower"] < (months_2020["upper"] - months_2020["lower"]).sum()
    # About 15 a month above the baseline: excess per year near 12 * 15 = 180.
    assert year_2020["excess_lower"] < 180 < year_2020["excess_upper"] + 30


# ---------------------------------------------------------------- model comparison

def test_compare_rolling_origin_counts_and_leave_one_out_by_hand():
    rng = np.random.default_rng(8)
    s = _years(100 + 4 * np.arange(10.0) + rng.normal(0, 2, 10), 2010)
    table = trend.compare_models(s, ["linear", "ets"], (2010, 2019)).set_index("model")
    # min_train = 6 (ETS needs 6): one-year-ahead predictions for 2016, 2017, 2018 and 2019.
    assert (table["n_predictions"] == 4).all()
    assert (table["rmse"] >= table["mae"]).all()
    assert table["coverage"].between(0, 1).all()
    loo = trend.compare_models(s, ["linear", "ets"], (2010, 2019), method="loo").set_index("model")
    # Leave-one-out errors of OLS are the PRESS residuals e_i / (1 - h_ii), h_ii = 1/n + (t_i - mean)^2 / Sxx.
    t, y = np.arange(10.0), s.to_numpy()
    e = y - np.polyval(np.polyfit(t, y, 1), t)
    h = 1 / 10 + (t - 4.5) ** 2 / 82.5
    press = e / (1 - h)
    assert loo.loc["linear", "rmse"] == pytest.approx(math.sqrt(np.mean(press**2)))
    assert loo.loc["linear", "mae"] == pytest.approx(np.mean(np.abs(press)))
    assert loo.loc["ets", "n_predictions"] == 0
    assert [n.code for n in loo.loc["ets", "notes"]] == ["ets_loo_undefined"]
    assert set(loo["method"]) == {"loo"} and set(table["method"]) == {"rolling"}


# ---------------------------------------------------------------- errors a user can act on

def test_errors_name_the_problem():
    s = _years(np.array([10.0, 12, 14, 15, 19, 30, 35]), 2015)
    with pytest.raises(DataError, match="needs at least 3 periods"):
        trend.fit(s.iloc[:2], "linear")
    with pytest.raises(DataError, match="needs at least 6 periods"):
        trend.fit(s.iloc[:5], "ets")
    with pytest.raises(DataError, match="outside the data"):
        trend.baseline_excess(s, (2010, 2019), [2020])
    with pytest.raises(DataError, match="positive values"):
        trend.fit(_years(np.array([3.0, 0, 5, 6])), "loglinear")
    with pytest.raises(DataError, match="counts ≥ 0"):
        trend.fit(_years(np.array([3.0, -1, 5, 6])), "poisson")
    months = pd.period_range("2019-01", "2020-12", freq="M").delete(5)
    with pytest.raises(DataError, match="gaps"):
        trend.fit(pd.Series(np.arange(23.0) + 1, index=months), "linear")
    with pytest.raises(DataError, match="gaps"):
        trend.fit(pd.Series([1.0, 2, 3, 5], index=[2010, 2011, 2012, 2014]), "linear")
    with pytest.raises(DataError, match="not known"):
        trend.fit(s, "cubic")
    with pytest.raises(DataError, match="needs break_period"):
        trend.fit(s, "segmented")
    with pytest.raises(DataError, match="inside the baseline"):
        trend.baseline_excess(s, (2015, 2019), [2019, 2020])
    with pytest.raises(DataError, match="not in the data"):
        trend.baseline_excess(s, (2015, 2019), [2022])
    with pytest.raises(DataError, match="not identified"):
        trend.fit(_years(100 - 5 * np.arange(10.0)), "logistic")  # falling: no rising S-curve fits
    with pytest.raises(DataError, match="no finite value"):
        trend.fit(_years(np.array([1.0, np.nan, 3, 4])), "linear")
    with pytest.raises(DataError, match="each side"):
        trend.test_break(s, 2021)
    with pytest.raises(DataError, match="alpha"):
        trend.fit(s, "linear").predict([2022], alpha=5)
    with pytest.raises(DataError, match="rolling"):
        trend.compare_models(s, ["linear"], method="kfold")
    with pytest.raises(DataError, match="index the series"):
        trend.fit(pd.Series([1.0, 2, 3], index=["a", "b", "c"]), "linear")


def test_notes_are_codes_with_values_and_read_in_both_languages():
    from analysis.present import trend_report
    from analysis.results import Note

    fit = trend.fit(pd.Series([3.0, 5, 8, 9, 12, 14], index=range(2010, 2016)), "poisson", seed=1)
    assert fit.note.code == "fit_poisson" and fit.note["seed"] == 1 and fit.note["n_sim"] == 4000
    nb = trend_report.note_text(fit.note, "nb")
    assert nb.startswith("kvasi-Poisson-GLM (dispersjon φ = ") and "seed 1" in nb and "draws" not in nb
    assert "draws, seed 1" in trend_report.note_text(fit.note, "en")
    notes = (Note("break_found_window", {"period": "2014"}),
             Note("folds_failed", {"n": 2, "reason": Note("no_break")}), Note("not_ranked"))
    assert trend_report.notes_text(notes, "nb") == ("brudd ved 2014, funnet ved søket etter brudd i vinduet; utvalg "
                                                    "som ikke kunne tilpasses: 2 (ingen brudd); ikke rangert: færre "
                                                    "prediksjoner utenfor utvalget")
    assert trend_report.notes_text(notes, "en").endswith("(no break); not ranked: fewer held-out predictions")
    table = trend_report.params_table(pd.DataFrame({"parameter": ["level_change"], "estimate": [1.0],
                                                    "lower": [0.5], "upper": [1.5]}), "nb", 1)
    assert list(table.index) == ["nivåendring"]


def test_a_failed_fit_says_why_as_a_code():
    with pytest.raises(trend.TrendError) as err:
        trend.fit(_years(100 - 5 * np.arange(10.0)), "logistic")
    assert err.value.reason.code in ("logistic_edge", "logistic_flat")
    s = _years(np.array([10.0, 12, 14, 15, 19, 30, 35]), 2015)
    by_model = trend.excess_by_model(s.iloc[:5], (2015, 2018), [2019], ["linear", "ets"]).set_index("model")
    # ETS needs 6 periods; the baseline 2015-2018 has 4: its row has no numbers and the reason as a Note.
    (reason,) = by_model.loc["ets", "notes"]
    assert reason.code == "too_few_periods" and (reason["need"], reason["n"]) == (6, 4)
    assert np.isnan(by_model.loc["ets", "excess"]) and by_model.loc["linear", "notes"] == ()
    seg = trend.fit_baseline(s, (2015, 2020), "segmented")
    assert seg.baseline_note.code == "break_found_baseline" and seg.baseline_note["period"] in {str(y) for y in
                                                                                                range(2016, 2021)}
    its = trend.fit_models(s, ["linear", "ets"])
    assert list(its.fits) == ["linear", "ets"] and its.failed == {}
    short = trend.fit_models(s.iloc[:4], ["linear", "ets"])
    assert list(short.fits) == ["linear"] and short.failed["ets"].code == "too_few_periods"


# ---------------------------------------------------------------- the notebook

def test_notebook_text_is_true_for_both_kinds_of_data():
    """The first heading is the page title for published and user data alike; nb prose says notatbok; each
    part's cells are tagged for the data it runs on."""
    import nbformat

    from conftest import notebook_file

    for lang, word in (("nb", "notatbok"), ("en", "notebook")):
        nb = nbformat.read(notebook_file("03_trend_models", lang), as_version=4)
        title = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"][0]
        assert title.startswith("# 03 · ") and "pandemi" not in title and "2021" not in title, title
        text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert word in text and (lang == "en" or "notebook" not in text.lower())
        part_b = [c for c in nb.cells
                  if c.cell_type == "markdown" and ("Del B ·" in c.source or "Part B ·" in c.source)]
        assert part_b and all("published-data" in c.metadata.get("tags", []) for c in part_b)
        part_a = [c for c in nb.cells if "if not published:" in c.source]
        assert part_a and all(c.metadata.get("tags") == ["own-data"] for c in part_a)
        assert all(c.metadata.get("tags") == ["published-data"]
                   for c in nb.cells if c.source.startswith("if published:"))


def test_notebook_on_published_data(run_notebook):
    nb = run_notebook("03_trend_models")
    text = outputs_text(nb)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert image_count(nb) >= 2
    # 2021 over the plateau [190, 210]: 284 - 200 = 84, bounds 283.5 - 210 = 73.5 and 284.5 - 190 = 94.5.
    assert "84,0 [73,5–94,5]" in text
    # P-score 100 * (284 / 200 - 1) = 42, bounds 100 * (283.5 / 210 - 1) = 35 and 100 * (284.5 / 190 - 1) = 49.74,
    # shown rounded outwards (lower bounds down, upper up): 49.74 -> 49.8 (review finding 8; was 49,7)
    assert "42,0 [35,0–49,8]" in text
    # January 2012: "rundt 4,5" -> [4.45, 4.55] x 12 x (1 -/+ 0.1) = 48.06 ... 60.06, outwards: 48.0 ... 60.1
    # (review finding 8: 48.06 was shown as 48,1, inside the interval computed)
    assert "54,0 [48,0–60,1]" in text
    assert "omregnet (antakelse:" in text and "år ikke oppgitt" in text
    # drivers' change 79 [78, 80] over the excess [73.5, 94.5]: 100 * 78 / 94.5 = 82.5 and 100 * 80 / 73.5 = 108.8,
    # outwards at no decimals 82-109 (not 83-109)
    assert (math.floor(100 * 78 / 94.5), math.ceil(100 * 80 / 73.5)) == (82, 109)
    assert "(82–109 %)" in text
    # 79 = 58 + 21 is worked out from published figures: derived, not published (review finding 3)
    assert "avledet av publiserte tall" in text and "SYSVAK og svarrapporter" in text


def test_notebook_in_english(run_notebook):
    nb = run_notebook("03_trend_models", lang="en")
    text = outputs_text(nb)
    assert "converted (assumption:" in text and "84.0 [73.5–94.5]" in text
    # SYSVAK 58 + result reports 21 = 79 million, the pandemic drivers' printed change.
    assert "79.0 [78.0–80.0]" in text
    assert "illustration" in text
    # the sentences with numbers are generated: the curve's points and refits, the plateau interval
    assert "4 points and three parameters" in text and "(190–210 by the convention)" in text
    # measure names, not code keys, in the drivers' rows and sentences (review finding 9)
    assert "SYSVAK and result reports" in text and "sysvak, svarrapporter" not in text
    assert "derived from published figures" in text


def test_notebook_on_a_synthetic_full_series(run_notebook, tmp_path):
    rng = np.random.default_rng(2024)
    years = np.arange(2010, 2022)
    y = np.round(200e6 / (1 + np.exp(-0.9 * (years - 2012.0))) + rng.normal(0, 3e6, 12))
    y[-2:] = [193e6, 284e6]
    path = tmp_path / "synthetic_total.csv"
    pd.DataFrame({"period": years, "measure": "total", "sender": "all", "receiver": "all", "value": y,
                  "source_id": "synthetic_test_series"}).to_csv(path, index=False)
    nb = run_notebook("03_trend_models", data_path=str(path), lang="en", baseline_start=2010, baseline_end=2019,
                      target_periods=[2020, 2021], n_boot=60)
    text = outputs_text(nb)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert "synthetic_test_series" in text  # the reader sees the data are synthetic
    for label in ("linear", "log-linear", "quasi-Poisson (GLM)", "damped-trend ETS", "logistic (S-curve)"):
        assert label in text
    assert "Chow test at 2020" in text and "periods ahead with 95 % prediction intervals" in text
    assert "converted (assumption" not in text  # Part B does not run
    # The total actual over 2020-2021 is 193 + 284 = 477 million.
    assert "477.0" in text
    assert image_count(nb) >= 3  # baseline with band, break scan, forecast
