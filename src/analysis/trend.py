"""Trend models for a yearly or monthly series of message counts: fits with prediction intervals, a
pre-event baseline and the excess over it, model comparison, break tests and forecasts.

Every model returns a :class:`TrendFit` whose ``predict(periods, alpha)`` gives **prediction** intervals
(for a new observation, not only for the mean):

=============  ==========================================================================================
linear         OLS ``y = a + b·t``; intervals from OLS ``obs_ci`` (Student t)
loglinear      OLS on ``log y``; ``obs_ci`` on the log scale, exponentiated; ``mean`` is the lognormal mean
poisson        GLM Poisson with log link, dispersion from Pearson's X² (quasi-Poisson); intervals by
               simulation: the dispersion φ drawn from its scaled inverse chi-square (residual df), the
               coefficients from a normal with covariance φ·(X'WX)⁻¹, the new counts from a gamma with variance
               φ·μ (for any φ): the interval does not depend on the unit
ets            damped-trend exponential smoothing (statsmodels ``ETSModel``, additive errors); ``pi_lower``
               and ``pi_upper``; parameter uncertainty is not included (statsmodels' method)
segmented      OLS with a level change and a slope change at ``break_period``; ``obs_ci``
logistic       ``y = K / (1 + exp(-r·(t - t0)))`` by least squares; intervals by a parametric bootstrap
               (refits to fitted curve + normal noise), plus new-observation noise drawn from a scaled t
=============  ==========================================================================================

``t`` counts periods (years or months) from the first period of the fitted series. Monthly series get
month-of-year terms in the regression models and an additive 12-month season in ETS (when two full years
are there). All simulation is seeded. Periods are given as years (``2020``), ``"2020-03"`` strings or
pandas Periods; in a monthly series a year stands for its twelve months.

Notes on results are codes with values (:class:`analysis.results.Note`): a fit's ``note`` and
``baseline_note``, the ``notes`` column of the comparison and excess tables, and the ``reason`` of a
:class:`TrendError`. Tables, sentences and figures for readers of these results are in
:mod:`analysis.present.trend_report`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.cache import cached
from analysis.errors import DataError
from analysis.results import Note, note


# scipy.optimize, scipy.stats and statsmodels are imported on first use, not with this module: together about a
# second of every kernel, and a page on the published figures (or one whose results come from the cache,
# analysis.cache) fits nothing.
class _OnUse:
    """A module imported when one of its attributes is first asked for."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> object:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


optimize = _OnUse("scipy.optimize")
stats = _OnUse("scipy.stats")
families = _OnUse("statsmodels.genmod.families")


def OLS(*args: object, **kwargs: object):  # noqa: N802 (statsmodels' class, imported on first use)
    """statsmodels' OLS model."""
    from statsmodels.regression.linear_model import OLS as model

    return model(*args, **kwargs)


def GLM(*args: object, **kwargs: object):  # noqa: N802 (statsmodels' class, imported on first use)
    """statsmodels' GLM model."""
    from statsmodels.genmod.generalized_linear_model import GLM as model

    return model(*args, **kwargs)


def durbin_watson(resids: np.ndarray) -> float:
    """statsmodels' Durbin-Watson statistic."""
    from statsmodels.stats.stattools import durbin_watson as statistic

    return statistic(resids)

MODELS = ("linear", "loglinear", "poisson", "ets", "segmented", "logistic")
# Fewest periods each model is fitted on (more parameters need more points; ETS has five of its own).
MIN_POINTS = {"linear": 3, "loglinear": 3, "poisson": 3, "ets": 6, "segmented": 5, "logistic": 5}




class TrendError(DataError):
    """A DataError from fitting a trend that also carries its reason as a Note (a code and its values)."""

    def __init__(self, message: str, reason: Note) -> None:
        super().__init__(message)
        self.reason = reason


def reason_of(exc: Exception) -> Note:
    """Return the reason of an error as a Note: a TrendError's own, else ``error`` with the first clause."""
    if isinstance(exc, TrendError):
        return exc.reason
    return note("error", text=str(exc).split(";")[0])


# ---------------------------------------------------------------- series and periods

@dataclass(frozen=True)
class _Series:
    """A validated series: periods (yearly or monthly PeriodIndex), float values and the frequency letter."""

    index: pd.PeriodIndex
    values: np.ndarray
    freq: str

    @property
    def ordinals(self) -> np.ndarray:
        return np.asarray(self.index.asi8, dtype=np.int64)

    def subset(self, mask: np.ndarray) -> _Series:
        return _Series(self.index[mask], self.values[mask], self.freq)

    def as_series(self) -> pd.Series:
        return pd.Series(self.values, index=self.index, name="value")


def _freq_letter(index: pd.PeriodIndex, what: str = "series") -> str:
    code = index.freqstr[:1]
    if code in ("Y", "A"):
        return "Y"
    if code == "M":
        return "M"
    raise DataError(f"{what}: periods of frequency {index.freqstr!r} are not supported; use years or months")


def frequency(series: pd.Series | pd.Index) -> str:
    """Return "Y" for a yearly and "M" for a monthly series (or index of periods or years)."""
    index = series.index if isinstance(series, pd.Series) else series
    return _freq_letter(_to_period_index(index))


def period_series(series: pd.Series, allow_gaps: bool = True) -> pd.Series:
    """Return the series validated and sorted, indexed by periods (what the models fit; gaps allowed)."""
    return _prepare(series, allow_gaps=allow_gaps).as_series()


def _to_period_index(index: pd.Index) -> pd.PeriodIndex:
    if isinstance(index, pd.PeriodIndex):
        return index
    if len(index) and all(isinstance(v, pd.Period) for v in index):
        return pd.PeriodIndex(list(index))
    if pd.api.types.is_numeric_dtype(index):
        years = np.asarray(index, dtype=float)
        if np.all(np.isfinite(years)) and np.all(years == np.round(years)):
            return pd.PeriodIndex([pd.Period(str(int(y)), freq="Y") for y in years], freq="Y")
    raise DataError(
        "series index: index the series by year (int) or by pandas Period (freq Y or M), "
        f"got {index.dtype} values such as {list(index[:3])}"
    )


def _prepare(series: pd.Series, *, allow_gaps: bool = False, what: str = "series") -> _Series:
    """Validate a series for fitting: a yearly or monthly index, finite values, sorted, no duplicates."""
    if not isinstance(series, pd.Series):
        raise DataError(f"{what}: give a pandas Series indexed by year or period, got {type(series).__name__}")
    if series.empty:
        raise DataError(f"{what}: the series is empty")
    index = _to_period_index(series.index)
    freq = _freq_letter(index, what)
    values = pd.to_numeric(pd.Series(series.to_numpy()), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"{what}: period(s) {[str(p) for p in index[bad]]} have no finite value; leave such periods out "
            "of the series (missing stays missing) and choose a window without them"
        )
    order = np.argsort(index.asi8, kind="stable")
    index, values = index[order], values[order]
    dupes = index[index.duplicated()]
    if len(dupes):
        raise DataError(f"{what}: period(s) {sorted({str(p) for p in dupes})} appear more than once; keep one each")
    out = _Series(index, values, freq)
    if not allow_gaps:
        _check_gaps(out, what)
    return out


def _check_gaps(s: _Series, what: str = "series") -> None:
    step = np.diff(s.ordinals)
    if np.any(step != 1):
        gaps = [f"{s.index[i]} → {s.index[i + 1]}" for i in np.nonzero(step != 1)[0]]
        unit = "monthly" if s.freq == "M" else "yearly"
        raise DataError(
            f"{what}: the {unit} series has gaps ({', '.join(gaps[:5])}); supply the missing periods with real "
            "values or choose a baseline window without gaps (values are never interpolated)"
        )


def _period_items(spec: object) -> list:
    if isinstance(spec, (str, int, np.integer, float, pd.Period)):
        return [spec]
    if isinstance(spec, Iterable):
        return list(spec)
    return [spec]


def to_periods(spec: object, freq: str) -> pd.PeriodIndex:
    """Return the periods a spec names: years, "YYYY-MM" strings or Periods; a year in a monthly series
    stands for its twelve months."""
    out: list[pd.Period] = []
    for item in _period_items(spec):
        if isinstance(item, pd.Period):
            code = _freq_letter(pd.PeriodIndex([item]), "period")
            if code == freq:
                out.append(item)
                continue
            if code == "Y" and freq == "M":
                item = item.year
            else:
                raise DataError(f"period {item}: a month cannot stand for a year in a yearly series; give a year")
        if isinstance(item, (float, np.floating)) and float(item).is_integer():
            item = int(item)
        if isinstance(item, str) and item.strip().isdigit() and len(item.strip()) == 4:
            item = int(item.strip())
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            year = int(item)
            if freq == "Y":
                out.append(pd.Period(str(year), freq="Y"))
            else:
                out.extend(pd.period_range(f"{year}-01", f"{year}-12", freq="M"))
            continue
        if isinstance(item, str):
            text = item.strip()
            if freq == "M" and len(text) == 7 and text[4] == "-":
                try:
                    out.append(pd.Period(text, freq="M"))
                    continue
                except ValueError:
                    pass
            raise DataError(
                f"period {item!r}: write a year as 2019"
                + (" or a month as '2019-03'" if freq == "M" else " (the series is yearly)")
            )
        raise DataError(f"period {item!r}: give a year (int), a 'YYYY-MM' string or a pandas Period")
    return pd.PeriodIndex(out, freq="M" if freq == "M" else "Y")


def _window(s: _Series, baseline: Sequence | None, what: str = "baseline") -> _Series:
    """The part of `s` inside baseline = (first, last); clear errors when it lies outside the data."""
    if baseline is None:
        return s
    if isinstance(baseline, (str, int)) or len(baseline) != 2:
        raise DataError(f"{what}: give (first, last), e.g. (2010, 2019); got {baseline!r}")
    first = to_periods(baseline[0], s.freq)[0]
    last = to_periods(baseline[1], s.freq)[-1]
    if first > last:
        raise DataError(f"{what}: the first period {first} comes after the last {last}; swap them")
    if first < s.index[0] or last > s.index[-1]:
        raise DataError(
            f"{what} ({first}, {last}) lies outside the data, which runs {s.index[0]}–{s.index[-1]}; "
            "choose a window inside the series"
        )
    mask = (s.ordinals >= first.ordinal) & (s.ordinals <= last.ordinal)
    return s.subset(mask)


def series_from_frame(frame: pd.DataFrame, measure: str = "total", sender: str = "all",
                      receiver: str = "all") -> pd.Series:
    """Return one series (value by period) from a loaded user file; the total by default."""
    needed = {"period", "measure", "sender", "receiver", "value"}
    if not needed <= set(frame.columns):
        raise DataError(f"the table needs columns {sorted(needed)}; it has {list(frame.columns)}")
    rows = frame[(frame["measure"] == measure) & (frame["sender"] == sender) & (frame["receiver"] == receiver)]
    if rows.empty:
        raise DataError(
            f"the data have no rows with measure {measure!r}, sender {sender!r}, receiver {receiver!r}; "
            "a trend needs that series (the total is measure 'total', sender 'all', receiver 'all')"
        )
    out = pd.Series(rows["value"].to_numpy(dtype=float), index=pd.PeriodIndex(rows["period"]), name=measure)
    return out.sort_index()


# ---------------------------------------------------------------- design matrices

def _design(index: pd.PeriodIndex, origin: int, break_ordinal: int | None = None, slope_change: bool = True,
            seasonal: bool = False) -> pd.DataFrame:
    """Regressors: const, trend (periods since origin), level/slope change after a break, month dummies."""
    ords = np.asarray(index.asi8, dtype=float)
    cols: dict[str, np.ndarray] = {"const": np.ones(len(index)), "trend": ords - origin}
    if break_ordinal is not None:
        after = (ords >= break_ordinal).astype(float)
        cols["level_change"] = after
        if slope_change:
            cols["slope_change"] = after * (ords - break_ordinal)
    if seasonal:
        months = np.asarray(index.month)
        for m in range(2, 13):
            cols[f"month_{m:02d}"] = (months == m).astype(float)
    return pd.DataFrame(cols, index=index)


def _check_design(x: pd.DataFrame, model: str) -> None:
    n, k = x.shape
    if n <= k:
        raise TrendError(
            f"model {model!r} has {k} coefficients but only {n} periods to fit; use a longer baseline or "
            "a simpler model", note("too_many_coefficients", model=model, k=k, n=n)
        )
    if np.linalg.matrix_rank(x.to_numpy()) < k:
        raise TrendError(
            f"model {model!r}: the terms {list(x.columns)} cannot all be estimated from these periods "
            "(e.g. a break with no periods after it, or months missing); change break_period or the window",
            note("terms_not_estimable", model=model, terms=list(x.columns))
        )


# ---------------------------------------------------------------- the result type

class TrendFit:
    """A fitted trend: `predict(periods, alpha)` gives mean and prediction interval per period."""

    model: str
    note: Note
    baseline_note: Note | None

    def __init__(self, model: str, data: _Series, origin: int, seed: int) -> None:
        self.model = model
        self._data = data
        self.freq = data.freq
        self.origin = origin
        self.seed = seed
        self.note = note("fit")
        self.baseline_note = None
        self.params = pd.DataFrame(columns=["parameter", "estimate", "std_error", "lower", "upper"])
        self.aic = math.nan

    # subclasses implement these two
    def _predict(self, index: pd.PeriodIndex, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _draws(self, index: pd.PeriodIndex, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    @property
    def index(self) -> pd.PeriodIndex:
        """The periods the model was fitted on."""
        return self._data.index

    @property
    def n_obs(self) -> int:
        """Number of periods fitted."""
        return len(self._data.index)

    def series(self) -> pd.Series:
        """The fitted data as a Series."""
        return self._data.as_series()

    def _periods(self, periods: object | None) -> pd.PeriodIndex:
        return self._data.index if periods is None else to_periods(periods, self.freq)

    def predict(self, periods: object | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Return period, mean, lower, upper: the (1 - alpha) prediction interval for a new observation."""
        if not 0 < alpha < 1:
            raise DataError(f"alpha must lie between 0 and 1 (0.05 gives 95 % intervals), got {alpha!r}")
        idx = self._periods(periods)
        mean, lower, upper = self._predict(idx, alpha)
        return pd.DataFrame({"period": idx, "mean": mean, "lower": lower, "upper": upper})

    def draws(self, periods: object, n: int = 4000, seed: int | None = None) -> np.ndarray:
        """Return `n` joint draws (rows) of new observations at `periods` (columns) from the predictive law."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return self._draws(self._periods(periods), n, rng)

    def _mean(self, index: pd.PeriodIndex) -> np.ndarray:
        """The model mean at `index` (subclasses whose _predict simulates give it directly)."""
        return self._predict(index, 0.05)[0]

    def predict_sum(self, periods: object, alpha: float = 0.05, n: int = 4000,
                    seed: int | None = None) -> pd.Series:
        """Return mean, lower, upper of the sum of new observations over `periods` (interval of the sum)."""
        idx = self._periods(periods)
        mean = float(self._mean(idx).sum())
        total = self.draws(idx, n, seed).sum(axis=1)
        lo, hi = np.quantile(total, [alpha / 2, 1 - alpha / 2])
        return pd.Series({"mean": mean, "lower": float(lo), "upper": float(hi)})

    def fitted(self) -> pd.Series:
        """Model mean at the fitted periods."""
        return pd.Series(self._mean(self._data.index), index=self._data.index, name="fitted")

    def __repr__(self) -> str:
        return f"TrendFit({self.model!r}, {self.index[0]}–{self.index[-1]}, n={self.n_obs})"


def _params_frame(names: Sequence[str], est: np.ndarray, se: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"parameter": list(names), "estimate": est, "std_error": se, "lower": lower,
                         "upper": upper})


class _OLSFit(TrendFit):
    """OLS on y (linear, segmented) or on log y (loglinear)."""

    def __init__(self, model: str, data: _Series, origin: int, seed: int, *, log: bool,
                 break_ordinal: int | None, slope_change: bool, seasonal: bool) -> None:
        super().__init__(model, data, origin, seed)
        self.log = log
        self._design_args = {"origin": origin, "break_ordinal": break_ordinal, "slope_change": slope_change,
                             "seasonal": seasonal}
        x = _design(data.index, **self._design_args)
        _check_design(x, model)
        y = np.log(data.values) if log else data.values
        self.result = OLS(y, x).fit()
        ci = self.result.conf_int(0.05)
        self.params = _params_frame(x.columns, self.result.params.to_numpy(), self.result.bse.to_numpy(),
                                    ci.iloc[:, 0].to_numpy(), ci.iloc[:, 1].to_numpy())
        aic = float(self.result.aic)
        # A log-scale likelihood is made comparable with count-scale ones by the Jacobian of the log.
        self.aic = aic + 2 * float(np.log(data.values).sum()) if log else aic
        self.note = note("fit_ols_log" if log else "fit_ols")

    def _x(self, index: pd.PeriodIndex) -> pd.DataFrame:
        return _design(index, **self._design_args)

    def _predict(self, index, alpha):
        frame = self.result.get_prediction(self._x(index)).summary_frame(alpha=alpha)
        mean, lo, hi = (frame[c].to_numpy() for c in ("mean", "obs_ci_lower", "obs_ci_upper"))
        if not self.log:
            return mean, lo, hi
        se_obs = np.sqrt(frame["mean_se"].to_numpy() ** 2 + self.result.scale)
        return np.exp(mean + se_obs**2 / 2), np.exp(lo), np.exp(hi)

    def _draws(self, index, n, rng):
        # Posterior predictive under a flat prior: its marginal per period is the Student-t interval above.
        res = self.result
        df = res.df_resid
        sigma2 = res.scale * df / rng.chisquare(df, size=n)
        x = self._x(index).to_numpy()
        chol = np.linalg.cholesky(res.normalized_cov_params.to_numpy() + 1e-300 * np.eye(x.shape[1]))
        z = rng.standard_normal((n, x.shape[1]))
        beta = res.params.to_numpy() + np.sqrt(sigma2)[:, None] * (z @ chol.T)
        y = beta @ x.T + np.sqrt(sigma2)[:, None] * rng.standard_normal((n, len(index)))
        return np.exp(y) if self.log else y

    def predict_sum(self, periods, alpha=0.05, n=4000, seed=None):
        """For linear OLS the interval of the sum is exact: Student t with variance s²(a'(X'X)⁻¹a + k)."""
        if self.log:
            return super().predict_sum(periods, alpha, n, seed)
        idx = self._periods(periods)
        a = self._x(idx).to_numpy().sum(axis=0)
        res = self.result
        mean = float(a @ res.params.to_numpy())
        var = res.scale * (a @ res.normalized_cov_params.to_numpy() @ a + len(idx))
        q = stats.t.ppf(1 - alpha / 2, res.df_resid)
        return pd.Series({"mean": mean, "lower": mean - q * math.sqrt(var), "upper": mean + q * math.sqrt(var)})


class _PoissonFit(TrendFit):
    """GLM Poisson with log link and Pearson X² dispersion (quasi-Poisson)."""

    def __init__(self, model: str, data: _Series, origin: int, seed: int, *, break_ordinal: int | None,
                 slope_change: bool, seasonal: bool, n_sim: int = 4000) -> None:
        super().__init__(model, data, origin, seed)
        self._design_args = {"origin": origin, "break_ordinal": break_ordinal, "slope_change": slope_change,
                             "seasonal": seasonal}
        x = _design(data.index, **self._design_args)
        _check_design(x, model)
        self.result = GLM(data.values, x, family=families.Poisson()).fit(scale="X2")
        ci = self.result.conf_int(0.05)
        self.params = _params_frame(x.columns, self.result.params.to_numpy(), self.result.bse.to_numpy(),
                                    ci.iloc[:, 0].to_numpy(), ci.iloc[:, 1].to_numpy())
        self.dispersion = float(self.result.scale)
        self.n_sim = n_sim
        self.aic = math.nan  # a quasi-likelihood has no AIC
        self.note = note("fit_poisson", dispersion=self.dispersion, n_sim=n_sim, seed=seed)

    def _x(self, index):
        return _design(index, **self._design_args).to_numpy()

    def _draws(self, index, n, rng):
        # The dispersion is estimated from few residual degrees of freedom: draw it from its scaled inverse
        # chi-square, φ = φ̂·df / χ²(df), then the coefficients from a normal with covariance φ·(X'WX)⁻¹ and the
        # new counts from a gamma with mean μ and variance φ·μ (any φ > 0, so no switch at φ = 1): every step
        # scales with the unit, so the same series in messages or in millions gives proportional intervals.
        res = self.result
        df = float(res.df_resid)
        phi = self.dispersion * df / rng.chisquare(df, size=n)
        cov = res.cov_params().to_numpy()  # φ̂·(X'WX)⁻¹: the same in any unit
        k = cov.shape[0]
        chol = np.linalg.cholesky(cov + 1e-12 * max(float(np.trace(cov)) / k, 1e-300) * np.eye(k))
        ratio = phi / self.dispersion if self.dispersion > 0 else np.zeros(n)
        beta = res.params.to_numpy() + np.sqrt(ratio)[:, None] * (rng.standard_normal((n, k)) @ chol.T)
        mu = np.exp(beta @ self._x(index).T)
        if self.dispersion <= 0:  # a perfect fit: no noise to draw
            return mu
        return rng.gamma(mu / phi[:, None], phi[:, None])

    def _mean(self, index):
        return np.exp(self._x(index) @ self.result.params.to_numpy())

    def _predict(self, index, alpha):
        mean = self._mean(index)
        sims = self._draws(index, self.n_sim, np.random.default_rng(self.seed))
        lo, hi = np.quantile(sims, [alpha / 2, 1 - alpha / 2], axis=0)
        return mean, lo, hi


class _ETSFit(TrendFit):
    """Damped-trend exponential smoothing with additive errors (statsmodels ETSModel)."""

    def __init__(self, model: str, data: _Series, origin: int, seed: int, *, seasonal: bool) -> None:
        super().__init__(model, data, origin, seed)
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        self.scale = float(np.median(np.abs(data.values))) or 1.0  # fit on a unit scale: better optimisation
        y = pd.Series(data.values / self.scale)
        kwargs = {"seasonal": "add", "seasonal_periods": 12} if seasonal else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result = ETSModel(y, error="add", trend="add", damped_trend=True, **kwargs).fit(disp=False)
        names = list(self.result.param_names)
        est = np.asarray(self.result.params, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            se = np.asarray(self.result.bse, dtype=float)
        unit = np.array([self.scale if n.startswith("initial") else 1.0 for n in names])
        z = stats.norm.ppf(0.975)
        self.params = _params_frame(names, est * unit, se * unit, (est - z * se) * unit, (est + z * se) * unit)
        # The likelihood was computed on y/scale: shift it back to the count scale.
        self.aic = float(self.result.aic) + 2 * len(y) * math.log(self.scale)
        self.note = note("fit_ets")

    def _positions(self, index):
        pos = np.asarray(index.asi8, dtype=np.int64) - self.origin
        if np.any(pos < 0):
            raise DataError(f"ETS cannot predict periods before the fitted series starts ({self.index[0]})")
        return pos

    def _predict(self, index, alpha):
        pos = self._positions(index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = self.result.get_prediction(start=int(pos.min()), end=int(pos.max())).summary_frame(alpha=alpha)
        frame = frame.reset_index(drop=True)
        rows = frame.iloc[pos - pos.min()]
        return (rows["mean"].to_numpy() * self.scale, rows["pi_lower"].to_numpy() * self.scale,
                rows["pi_upper"].to_numpy() * self.scale)

    def _draws(self, index, n, rng):
        pos = self._positions(index)
        ahead = pos - self.n_obs  # 0 = the first period after the data
        if np.any(ahead < 0):
            raise DataError("ETS draws are only for periods after the fitted series")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sims = self.result.simulate(int(ahead.max()) + 1, anchor="end", repetitions=n, rng=rng)
        return np.asarray(sims, dtype=float).reshape(int(ahead.max()) + 1, n)[ahead].T * self.scale


def logistic_curve(t: np.ndarray, k: float, r: float, t0: float) -> np.ndarray:
    """The logistic (S-shaped adoption) curve K / (1 + exp(-r (t - t0)))."""
    return k / (1.0 + np.exp(-r * (np.asarray(t, dtype=float) - t0)))


def _logistic_jac(t: np.ndarray, k: float, r: float, t0: float) -> np.ndarray:
    e = np.exp(-r * (np.asarray(t, dtype=float) - t0))
    d = (1.0 + e) ** 2
    return np.column_stack([1.0 / (1.0 + e), k * e * (t - t0) / d, -k * e * r / d])


def _logistic_bounds(t: np.ndarray, top: float) -> tuple[list[float], list[float]]:
    span = max(float(t.max() - t.min()), 1.0)
    return [1e-9 * top, 1e-6 / span, t.min() - 3 * span], [100 * top, 20.0, t.max() + 3 * span]


def _logistic_lm(t: np.ndarray, y: np.ndarray, start: Sequence[float] | np.ndarray, sigma: np.ndarray | None,
                 maxfev: int) -> np.ndarray:
    """Levenberg–Marquardt from `start`: the ``leastsq`` call ``curve_fit`` makes (its result, bit for bit),
    without the covariance ``curve_fit`` works out after it, which no caller here reads. RuntimeError when it
    does not converge (as ``curve_fit``)."""
    w = 1.0 if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    wj = w if sigma is None else w[:, None]
    p, _, _, msg, ier = optimize.leastsq(lambda q: (logistic_curve(t, *q) - y) * w, np.asarray(start, dtype=float),
                                         Dfun=lambda q: _logistic_jac(t, *q) * wj, full_output=True, maxfev=maxfev)
    if ier not in (1, 2, 3, 4):
        raise RuntimeError(f"Optimal parameters not found: {msg}")
    return p


def fit_logistic_points(t: np.ndarray, y: np.ndarray, sigma: np.ndarray | None = None) -> np.ndarray:
    """Least-squares logistic through points (weights 1/sigma²), from several starts; return (K, r, t0).

    From each start, Levenberg–Marquardt first: a result strictly inside the allowed range is a minimum there too.
    Where it leaves the range (or fails), the bounded trust-region fit from the same start, as ``curve_fit`` with
    bounds runs it, is used. The lowest sum of squares wins.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    span = max(float(t.max() - t.min()), 1.0)
    top = float(np.max(np.abs(y))) or 1.0
    bounds = _logistic_bounds(t, top)
    lo, hi = np.asarray(bounds[0]), np.asarray(bounds[1])
    w = 1.0 if sigma is None else 1.0 / np.asarray(sigma, dtype=float) ** 2

    def on_edge(p: np.ndarray) -> np.ndarray:
        return np.isclose(p, lo, rtol=1e-6, atol=1e-9) | np.isclose(p, hi, rtol=1e-6, atol=1e-9)

    best, best_ssr = None, math.inf
    for kf in (1.05, 1.5, 3.0):
        for rf in (2.0, 8.0):
            for t0 in (float(np.median(t)), float(t.max())):
                start = [kf * top, rf / span, t0]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        p = _logistic_lm(t, y, start, sigma, maxfev=2000)
                        inside = bool(np.all(np.isfinite(p)) and np.all((p > lo) & (p < hi)) and not on_edge(p).any())
                    except (RuntimeError, ValueError):
                        inside = False
                    if not inside:
                        try:
                            p, _ = optimize.curve_fit(logistic_curve, t, y, p0=start, sigma=sigma, bounds=bounds,
                                                      jac=_logistic_jac, maxfev=2000)
                        except (RuntimeError, ValueError):
                            continue
                ssr = float(np.sum(w * (y - logistic_curve(t, *p)) ** 2))
                if np.all(np.isfinite(p)) and ssr < best_ssr:
                    best, best_ssr = p, ssr
    if best is None:
        raise TrendError("the logistic curve could not be fitted: the data may not look S-shaped; "
                         "choose another model (e.g. linear)", note("logistic_not_fitted"))
    edge = on_edge(best)
    if edge.any():
        names = [n for n, e in zip(("K", "r", "t0"), edge, strict=True) if e]
        raise TrendError(
            f"the logistic curve is not identified on these data: {names} ran to the edge of the allowed range "
            "(the data show no S-shape, e.g. the inflection lies far outside the series); choose another model",
            note("logistic_edge", names=names)
        )
    rise = float(logistic_curve(t.max(), *best) - logistic_curve(t.min(), *best))
    if rise < 0.01 * best[0]:
        raise TrendError(
            "the logistic curve is not identified on these data: the best S-curve is flat over the whole series "
            "(the data do not rise); choose another model", note("logistic_flat")
        )
    return best


def refit_logistic(t: np.ndarray, y: np.ndarray, start: np.ndarray, sigma: np.ndarray | None = None):
    """One quick refit from a good start (Levenberg–Marquardt, then bounded if that fails); None on failure."""
    t = np.asarray(t, dtype=float)
    for bounded in (False, True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if bounded:
                    bounds = _logistic_bounds(t, float(np.max(np.abs(y))) or 1.0)
                    p, _ = optimize.curve_fit(logistic_curve, t, y, p0=np.clip(start, *bounds), sigma=sigma,
                                              jac=_logistic_jac, maxfev=300, bounds=bounds)
                else:
                    p = _logistic_lm(t, np.asarray(y, dtype=float), start, sigma, maxfev=300)
        except (RuntimeError, ValueError):
            continue
        if np.all(np.isfinite(p)) and p[0] > 0 and p[1] > 0:
            return p
    return None


class _LogisticFit(TrendFit):
    """Logistic curve by least squares; prediction intervals by a parametric bootstrap."""

    def __init__(self, model: str, data: _Series, origin: int, seed: int, *, n_boot: int = 300,
                 noise_draws: int = 20) -> None:
        super().__init__(model, data, origin, seed)
        n = len(data.values)
        self.t = np.asarray(data.index.asi8, dtype=float) - origin
        self.scale = float(np.max(np.abs(data.values))) or 1.0
        y = data.values / self.scale
        self.theta = fit_logistic_points(self.t, y)
        resid = y - logistic_curve(self.t, *self.theta)
        self.df = n - 3
        self.sigma = float(np.sqrt(resid @ resid / self.df))
        rng = np.random.default_rng(seed)
        fitted = logistic_curve(self.t, *self.theta)
        boot = []
        for _ in range(n_boot):
            p = refit_logistic(self.t, fitted + rng.normal(0, self.sigma, n), self.theta)
            if p is not None:
                boot.append(p)
        if len(boot) < max(10, n_boot // 2):
            raise TrendError("the logistic curve is too unstable on these data to give intervals "
                             f"({len(boot)} of {n_boot} bootstrap refits succeeded); choose another model",
                             note("logistic_unstable", n_ok=len(boot), n_boot=n_boot))
        self.boot = np.array(boot)
        self.n_boot, self.n_ok = n_boot, len(boot)  # refits tried and refits that converged (failed ones dropped)
        self.noise_draws = noise_draws
        ssr = float(resid @ resid) * self.scale**2
        self.aic = n * math.log(2 * math.pi * ssr / n) + n + 2 * 3
        unit = np.array([self.scale, 1.0, 1.0])
        lo, hi = np.quantile(self.boot, [0.025, 0.975], axis=0)
        se = self.boot.std(axis=0, ddof=1)
        self.params = _params_frame(["K", "r", "t0"], self.theta * unit, se * unit, lo * unit, hi * unit)
        self.note = note("fit_logistic", n_ok=len(self.boot), n_boot=n_boot, seed=seed, df=self.df)

    def _t(self, index):
        return np.asarray(index.asi8, dtype=float) - self.origin

    def _curves(self, index):
        t = self._t(index)
        return np.array([logistic_curve(t, *p) for p in self.boot])

    def _mean(self, index):
        return logistic_curve(self._t(index), *self.theta) * self.scale

    def _predict(self, index, alpha):
        rng = np.random.default_rng(self.seed)
        curves = np.repeat(self._curves(index), self.noise_draws, axis=0)
        sims = curves + self.sigma * rng.standard_t(self.df, size=curves.shape)
        lo, hi = np.quantile(sims, [alpha / 2, 1 - alpha / 2], axis=0)
        mean = logistic_curve(self._t(index), *self.theta)
        return mean * self.scale, lo * self.scale, hi * self.scale

    def _draws(self, index, n, rng):
        curves = self._curves(index)[rng.integers(len(self.boot), size=n)]
        return (curves + self.sigma * rng.standard_t(self.df, size=curves.shape)) * self.scale


# ---------------------------------------------------------------- fitting

def fit(series: pd.Series, model: str = "linear", *, break_period: object | None = None,
        slope_change: bool = True, seasonal: bool | None = None, n_boot: int = 300, seed: int = 0,
        _allow_gaps: bool = False) -> TrendFit:
    """Fit one trend model to a yearly or monthly series and return its TrendFit."""
    if model not in MODELS:
        raise DataError(f"model {model!r} is not known; choose from {list(MODELS)}")
    data = _prepare(series, allow_gaps=_allow_gaps and model != "ets")
    n = len(data.values)
    if n < MIN_POINTS[model]:
        raise TrendError(
            f"model {model!r} needs at least {MIN_POINTS[model]} periods, the series has {n} "
            f"({data.index[0]}–{data.index[-1]}); use a longer window or a simpler model (linear)",
            note("too_few_periods", model=model, need=MIN_POINTS[model], n=n, first=str(data.index[0]),
                 last=str(data.index[-1]))
        )
    origin = int(data.ordinals[0])
    monthly = data.freq == "M"
    if seasonal is None:  # the logistic curve has no seasonal terms: on a monthly series it runs without
        seasonal = monthly and n >= 24 and model != "logistic"
    if seasonal and not monthly:
        raise DataError("seasonal terms are for monthly series; the series is yearly")
    if model in ("loglinear",) and np.any(data.values <= 0):
        bad = [str(p) for p in data.index[data.values <= 0]]
        raise TrendError(f"model 'loglinear' needs positive values; period(s) {bad} are zero or negative. "
                         "Use 'linear' or 'poisson' instead", note("loglinear_not_positive", periods=bad))
    if model == "poisson" and np.any(data.values < 0):
        bad = [str(p) for p in data.index[data.values < 0]]
        raise TrendError(f"model 'poisson' needs counts ≥ 0; period(s) {bad} are negative",
                         note("poisson_negative", periods=bad))
    break_ordinal = None
    if model == "segmented" and break_period is None:
        raise DataError("model 'segmented' needs break_period (the first period after the break), e.g. 2020")
    if break_period is not None:
        if model in ("ets", "logistic"):
            raise DataError(f"model {model!r} takes no break_period; use 'segmented' or 'poisson' for a break")
        bp = to_periods(break_period, data.freq)[0]
        break_ordinal = int(bp.ordinal)
        before = int(np.sum(data.ordinals < break_ordinal))
        after = n - before
        need = 2 if slope_change else 1
        if before < need or after < need:
            raise TrendError(
                f"break_period {bp}: the fit needs at least {need} periods on each side of the break, the data "
                f"have {before} before and {after} from it ({data.index[0]}–{data.index[-1]})",
                note("break_sides", period=str(bp), need=need, before=before, after=after)
            )
    if model in ("linear", "loglinear", "segmented"):
        return _OLSFit(model, data, origin, seed, log=model == "loglinear", break_ordinal=break_ordinal,
                       slope_change=slope_change, seasonal=seasonal)
    if model == "poisson":
        return _PoissonFit(model, data, origin, seed, break_ordinal=break_ordinal, slope_change=slope_change,
                           seasonal=seasonal)
    if model == "ets":
        if seasonal and n < 24:
            raise DataError("a seasonal ETS needs at least 24 months; give seasonal=False or a longer window")
        return _ETSFit(model, data, origin, seed, seasonal=bool(seasonal))
    if seasonal:
        raise DataError("the logistic curve has no seasonal terms; pass seasonal=False or use a yearly series")
    result = _LogisticFit(model, data, origin, seed, n_boot=n_boot)
    if monthly:
        result.note = note("fit_logistic_monthly", n_ok=result.n_ok, n_boot=n_boot, seed=seed, df=result.df)
    return result


@dataclass(frozen=True)
class ModelFits:
    """Several models fitted to one series: the fits that worked and, for the others, the reason as a Note."""

    fits: dict[str, TrendFit]
    failed: dict[str, Note]


@cached
def fit_models(series: pd.Series, models: Sequence[str], **fit_kwargs: object) -> ModelFits:
    """Fit each of `models` to the series with the same arguments (e.g. the interrupted-time-series models
    with one break_period); a model that cannot be fitted is listed in `failed` with its reason."""
    fits: dict[str, TrendFit] = {}
    failed: dict[str, Note] = {}
    for m in models:
        try:
            fits[m] = fit(series, m, **fit_kwargs)
        except DataError as exc:
            failed[m] = reason_of(exc)
    return ModelFits(fits, failed)


@cached
def forecast(series: pd.Series, horizon: int = 3, model: str = "ets", alpha: float = 0.05,
             **fit_kwargs: object) -> pd.DataFrame:
    """Fit `model` on the whole series and return period, mean, lower, upper for the next `horizon` periods."""
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise DataError(f"forecast horizon must be a whole number of periods ≥ 1, got {horizon!r}")
    result = fit(series, model, **fit_kwargs)
    last = result.index[-1]
    future = pd.period_range(last + 1, periods=int(horizon), freq=last.freq)
    return result.predict(future, alpha)


# ---------------------------------------------------------------- baseline and excess

@cached
def fit_baseline(series: pd.Series, baseline: Sequence, model: str = "linear", seed: int = 0,
                 **fit_kwargs: object) -> TrendFit:
    """Fit `model` on the baseline window (first, last) only; a segmented model without break_period gets
    the break find_break places inside the window (said in the fit's `baseline_note`, a Note or None)."""
    base = _window(_prepare(series, allow_gaps=True), baseline)
    _check_gaps(base, "baseline")
    found = None
    if model == "segmented" and fit_kwargs.get("break_period") is None:
        fit_kwargs = {**fit_kwargs, "break_period": find_break(base.as_series())["period"].iloc[0]}
        found = note("break_found_baseline", period=str(fit_kwargs["break_period"]))
    result = fit(base.as_series(), model, seed=seed, **fit_kwargs)
    result.baseline_note = found
    return result


@cached
def baseline_excess(series: pd.Series, baseline: Sequence, target: object, model: str = "linear",
                    alpha: float = 0.05, n_draws: int = 4000, seed: int = 0,
                    **fit_kwargs: object) -> pd.DataFrame:
    """Return, per target period and in total, actual, expected with its prediction interval, the excess
    (actual - expected) with its interval and the P-score (percent above expected). The `row` column says
    "period", "year" (a monthly series' yearly subtotal) or "total"; sums have the interval of the sum. The
    `notes` column holds the fit's baseline note as a tuple of Notes (empty when there is none)."""
    data = _prepare(series, allow_gaps=True)
    base = _window(data, baseline)
    _check_gaps(base, "baseline")
    targets = to_periods(target, data.freq)
    if len(targets) == 0:
        raise DataError("target: name at least one period, e.g. [2020, 2021]")
    have = set(data.ordinals.tolist())
    missing = [str(p) for p in targets if p.ordinal not in have]
    if missing:
        raise DataError(f"target period(s) {missing} are not in the data ({data.index[0]}–{data.index[-1]}); "
                        "the excess needs the actual value")
    inside = [str(p) for p in targets if base.ordinals[0] <= p.ordinal <= base.ordinals[-1]]
    if inside:
        raise DataError(f"target period(s) {inside} lie inside the baseline {base.index[0]}–{base.index[-1]}; "
                        "end the baseline before the event")
    result = fit_baseline(data.as_series(), baseline, model, seed=seed, **fit_kwargs)
    notes = () if result.baseline_note is None else (result.baseline_note,)
    if model == "logistic":  # its refits: how many converged and how many were left out
        notes += (result.note,)
    pred = result.predict(targets, alpha)
    actual = pd.Series(data.values, index=data.ordinals).loc[targets.asi8].to_numpy()
    rows = pd.DataFrame({
        "period": [str(p) for p in targets],
        "actual": actual,
        "expected": pred["mean"].to_numpy(),
        "lower": pred["lower"].to_numpy(),
        "upper": pred["upper"].to_numpy(),
    })
    rows["row"] = "period"
    if data.freq == "M":  # yearly subtotals, each with the interval of its own sum
        years = np.asarray(targets.year)
        for year in np.unique(years):
            months = targets[years == year]
            sub = result.predict_sum(months, alpha, n_draws, seed)
            rows.loc[len(rows)] = [str(year), actual[years == year].sum(), sub["mean"], sub["lower"],
                                   sub["upper"], "year"]
    total = result.predict_sum(targets, alpha, n_draws, seed)
    rows.loc[len(rows)] = ["total", actual.sum(), total["mean"], total["lower"], total["upper"], "total"]
    rows["excess"] = rows["actual"] - rows["expected"]
    rows["excess_lower"] = rows["actual"] - rows["upper"]
    rows["excess_upper"] = rows["actual"] - rows["lower"]
    rows["p_score"] = 100 * (rows["actual"] / rows["expected"] - 1)
    rows["p_score_lower"] = 100 * (rows["actual"] / rows["upper"] - 1)
    rows["p_score_upper"] = np.where(rows["lower"] > 0, 100 * (rows["actual"] / rows["lower"] - 1), np.nan)
    rows["model"] = model
    rows["notes"] = [notes] * len(rows)
    return rows


# ---------------------------------------------------------------- model comparison

def _fold_units(s: _Series) -> np.ndarray:
    """The unit a fold leaves out: the year (a year of months in a monthly series)."""
    return np.asarray(s.index.year)


@cached
def compare_models(series: pd.Series, models: Sequence[str] = MODELS, baseline: Sequence | None = None,
                   method: str = "rolling", alpha: float = 0.05, min_train: int | None = None,
                   break_period: object | None = None, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Return one row per model: out-of-sample errors (rolling origin or leave-one-year-out), coverage of
    the prediction interval and AIC on the whole window where defined. `method` is the code "rolling" or
    "loo"; `notes` holds each row's notes as a tuple of Notes."""
    if method not in ("rolling", "loo"):
        raise DataError(f"method {method!r}: use 'rolling' (rolling origin) or 'loo' (leave one year out)")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise DataError(f"models {unknown} are not known; choose from {list(MODELS)}")
    data = _window(_prepare(series, allow_gaps=True), baseline)
    _check_gaps(data, "baseline")
    units = _fold_units(data)
    years = np.unique(units)
    if min_train is None:
        min_train = max(MIN_POINTS[m] for m in models)
        if data.freq == "M":
            min_train = max(min_train, 24)
    # The segmented model's break, when not given, is placed by the search inside each training fold (never on
    # the held-out years); only the AIC, an in-sample figure, uses a break placed on the whole window.
    seg_break, seg_note = break_period, None
    if "segmented" in models and seg_break is None:
        try:
            seg_break = find_break(data.as_series())["period"].iloc[0]
            seg_note = note("break_found_folds", period=str(seg_break))
        except DataError as exc:
            seg_note = note("no_break_placed", reason=reason_of(exc))
    rows = []
    for m in models:
        kwargs: dict[str, object] = {"seed": seed}
        if m == "logistic":
            kwargs["n_boot"] = n_boot
        if m == "segmented":
            kwargs["break_period"] = seg_break
        errors, actuals, inside, skipped, reason = [], [], [], 0, None
        for year in years:
            test = units == year
            train = (units < year) if method == "rolling" else ~test
            if method == "rolling" and train.sum() < min_train:
                continue
            if method == "loo" and m == "ets":
                continue
            try:
                fold_kwargs = kwargs
                if m == "segmented" and break_period is None:
                    training = data.subset(train)
                    _check_gaps(training, "training years")  # leave-one-out folds with a hole: no search
                    fold_kwargs = {**kwargs, "break_period": find_break(training.as_series())["period"].iloc[0]}
                res = fit(data.subset(train).as_series(), m, _allow_gaps=True, **fold_kwargs)
                pred = res.predict(data.index[test], alpha)
            except DataError as exc:
                skipped += 1
                reason = reason or reason_of(exc)
                continue
            actual = data.values[test]
            actuals.extend(actual)
            errors.extend(actual - pred["mean"].to_numpy())
            inside.extend((actual >= pred["lower"].to_numpy()) & (actual <= pred["upper"].to_numpy()))
        err, act = np.asarray(errors, dtype=float), np.asarray(actuals, dtype=float)
        try:
            if m == "segmented" and seg_break is None:
                raise TrendError("no break", note("no_break"))
            aic = fit(data.as_series(), m, **kwargs).aic
        except DataError:
            aic = math.nan
        notes = []
        if m == "segmented" and seg_note:
            notes.append(seg_note)
        if m == "ets" and method == "loo":
            notes.append(note("ets_loo_undefined"))
        if m == "poisson":
            notes.append(note("poisson_no_aic"))
        if m == "loglinear":
            notes.append(note("aic_count_scale"))
        if skipped:
            notes.append(note("folds_failed", n=skipped, reason=reason))
        rows.append({
            "model": m,
            "method": method,
            "n_predictions": int(err.size),
            "mae": float(np.mean(np.abs(err))) if err.size else math.nan,
            "rmse": float(np.sqrt(np.mean(err**2))) if err.size else math.nan,
            "mape": float(np.mean(np.abs(err) / np.abs(act)) * 100) if err.size else math.nan,
            "coverage": float(np.mean(inside)) if err.size else math.nan,
            "aic": aic,
            "notes": notes,
        })
    out = pd.DataFrame(rows)
    # Rank only models scored on the same held-out periods (the most any model had); others stay unranked.
    full = out["n_predictions"] == out["n_predictions"].max()
    out["rank"] = out["rmse"].where(full).rank(method="min")
    unranked = ~full & (out["n_predictions"] > 0)
    out["notes"] = [tuple(n) + ((note("not_ranked"),) if u else ()) for n, u in zip(out["notes"], unranked,
                                                                                      strict=True)]
    return out


def best_model(comparison: pd.DataFrame) -> str:
    """Return the model ranked first (lowest out-of-sample RMSE) in a compare_models table."""
    return str(comparison.sort_values("rank").iloc[0]["model"])


# An automatic choice resting on fewer out-of-sample predictions than this is called weak.
MIN_CHOICE_PREDICTIONS = 6


@dataclass(frozen=True)
class ModelChoice:
    """The model the baseline uses: whether compare_models chose it, on how many out-of-sample predictions
    its score rests, and whether that choice is weak (fewer than `MIN_CHOICE_PREDICTIONS`)."""

    model: str
    automatic: bool
    n_predictions: int
    weak: bool
    note: Note


def choose_model(comparison: pd.DataFrame, baseline_model: str = "auto",
                 min_predictions: int = MIN_CHOICE_PREDICTIONS) -> ModelChoice:
    """Return the baseline's model: the best-ranked one for "auto" (weak when its score rests on fewer than
    `min_predictions` out-of-sample predictions; the first model, weak, when none could be scored), else
    `baseline_model` as given."""
    if baseline_model != "auto":
        if baseline_model not in MODELS:
            raise DataError(f"baseline_model {baseline_model!r} is not known; use 'auto' or one of {list(MODELS)}")
        return ModelChoice(baseline_model, False, 0, False, note("chosen_parameter"))
    ranked = comparison.dropna(subset=["rank"])
    if ranked.empty:  # the baseline is too short for any out-of-sample prediction: the first model, said so
        return ModelChoice(str(comparison["model"].iloc[0]), True, 0, True, note("no_model_scored"))
    best = ranked.sort_values("rank").iloc[0]
    n = int(best["n_predictions"])
    weak = n < min_predictions
    code = "chosen_weak" if weak else "chosen_auto"
    return ModelChoice(str(best["model"]), True, n, weak,
                       note(code, n=n, models=len(ranked), min=min_predictions))


@cached
def excess_by_model(series: pd.Series, baseline: Sequence, target: object, models: Sequence[str] = MODELS,
                    alpha: float = 0.05, seed: int = 0, **fit_kwargs: object) -> pd.DataFrame:
    """Return the total excess over the target periods under each model (a sensitivity table). `status` is
    "fitted" or "failed"; a failed model has no numbers and its reason in `notes` (a tuple of Notes)."""
    rows = []
    for m in models:
        kwargs = dict(fit_kwargs)
        if m not in ("segmented",):
            kwargs.pop("break_period", None)
        if m != "logistic":
            kwargs.pop("n_boot", None)
        try:
            ex = baseline_excess(series, baseline, target, m, alpha=alpha, seed=seed, **kwargs)
        except DataError as exc:
            rows.append({"model": m, "status": "failed", "notes": (reason_of(exc),)})
            continue
        total = ex.iloc[-1]
        cols = ("actual", "expected", "lower", "upper", "excess", "excess_lower", "excess_upper", "p_score",
                "p_score_lower", "p_score_upper", "notes")
        rows.append({"model": m, "status": "fitted", **{c: total[c] for c in cols}})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- break tests

def _break_designs(s: _Series, k: int, slope_change: bool, seasonal: bool) -> tuple[np.ndarray, np.ndarray]:
    origin = int(s.ordinals[0])
    xr = _design(s.index, origin, None, slope_change, seasonal).to_numpy()
    xu = _design(s.index, origin, int(s.ordinals[k]), slope_change, seasonal).to_numpy()
    return xr, xu


def _residual_maker(x: np.ndarray) -> np.ndarray:
    return np.eye(x.shape[0]) - x @ np.linalg.pinv(x)


def _seasonal_default(s: _Series, seasonal: bool | None) -> bool:
    if seasonal is None:
        return s.freq == "M" and len(s.values) >= 24
    if seasonal and s.freq != "M":
        raise DataError("seasonal terms are for monthly series; the series is yearly")
    return bool(seasonal)


@cached
def chow_test(series: pd.Series, period: object, slope_change: bool = True,
              seasonal: bool | None = None) -> pd.DataFrame:
    """Chow-type F test of a level (and slope) change at `period`, the first period after the break, by
    nested OLS fits: y = a + b·t (+ months) against the same plus the change terms."""
    s = _prepare(series)
    seasonal = _seasonal_default(s, seasonal)
    bp = to_periods(period, s.freq)[0]
    k = int(np.searchsorted(s.ordinals, bp.ordinal))
    if k >= len(s.values) or s.ordinals[k] != bp.ordinal:
        raise DataError(f"break period {bp} is not in the series ({s.index[0]}–{s.index[-1]})")
    need = 2 if slope_change else 1
    if k < need or len(s.values) - k < need:
        raise DataError(f"break period {bp}: the test needs at least {need} periods on each side of the break")
    xr, xu = _break_designs(s, k, slope_change, seasonal)
    if len(s.values) <= xu.shape[1]:
        raise DataError(f"break test at {bp}: {len(s.values)} periods are too few for {xu.shape[1]} coefficients")
    restricted = OLS(s.values, xr).fit()
    unrestricted = OLS(s.values, xu).fit()
    f_stat, p_value, df_num = unrestricted.compare_f_test(restricted)
    return pd.DataFrame([{
        "period": str(bp), "f_stat": float(f_stat), "df_num": int(df_num), "df_den": int(unrestricted.df_resid),
        "p_value": float(p_value), "ssr_restricted": float(restricted.ssr),
        "ssr_unrestricted": float(unrestricted.ssr), "n": len(s.values),
    }])


# The issue names it test_break; pytest must not collect it when a test module imports it by name.
test_break = chow_test
test_break.__test__ = False  # type: ignore[attr-defined]


def _candidates(s: _Series, trim: float, slope_change: bool) -> np.ndarray:
    if not 0 < trim < 0.5:
        raise DataError(f"trim must lie between 0 and 0.5 (0.15 keeps 15 % of the periods at each end), got {trim}")
    n = len(s.values)
    edge = max(math.ceil(trim * n), 2 if slope_change else 1)
    cands = np.arange(edge, n - edge + 1)
    if cands.size == 0:
        raise TrendError(f"the series ({n} periods) is too short to search for a break with trim {trim}",
                         note("break_search_too_short", n=n, trim=trim))
    return cands


def _scan(y: np.ndarray, mr: np.ndarray, mus: list[np.ndarray], q: int, df_den: int) -> np.ndarray:
    """F statistics (rows: series in y, columns: candidates) from residual-maker matrices."""
    y = np.atleast_2d(y)
    ssr_r = np.einsum("bi,ij,bj->b", y, mr, y)
    ssr_u = np.stack([np.einsum("bi,ij,bj->b", y, mu, y) for mu in mus], axis=1)
    return ((ssr_r[:, None] - ssr_u) / q) / (ssr_u / df_den)


class _BreakSearch(NamedTuple):
    """A series scanned for a break: candidates, residual makers and the Chow F statistic at each candidate."""

    s: _Series
    cands: np.ndarray  # positions of the candidate first periods after the break
    xr: np.ndarray  # design without a break
    mr: np.ndarray  # its residual maker
    mus: list[np.ndarray]  # residual makers with a break at each candidate
    q: int  # numerator degrees of freedom
    df_den: int  # denominator degrees of freedom
    f: np.ndarray  # F statistic at each candidate


def _break_search(series: pd.Series, trim: float, slope_change: bool, seasonal: bool | None) -> _BreakSearch:
    """What break_scan and find_break share: the candidates inside the trimmed range and their F statistics."""
    s = _prepare(series)
    seasonal = _seasonal_default(s, seasonal)
    cands = _candidates(s, trim, slope_change)
    xr, _ = _break_designs(s, int(cands[0]), slope_change, seasonal)
    designs = [_break_designs(s, int(k), slope_change, seasonal)[1] for k in cands]
    q, df_den = designs[0].shape[1] - xr.shape[1], len(s.values) - designs[0].shape[1]
    if df_den < 1:
        raise TrendError(f"the series ({len(s.values)} periods) is too short for a break search",
                         note("break_search_no_df", n=len(s.values)))
    mr = _residual_maker(xr)
    mus = [_residual_maker(x) for x in designs]
    return _BreakSearch(s, cands, xr, mr, mus, q, df_den, _scan(s.values, mr, mus, q, df_den)[0])


@cached
def break_scan(series: pd.Series, trim: float = 0.15, slope_change: bool = True,
               seasonal: bool | None = None) -> pd.DataFrame:
    """Return the Chow F statistic for every candidate break period inside the trimmed range."""
    b = _break_search(series, trim, slope_change, seasonal)
    ssr = [float(b.s.values @ mu @ b.s.values) for mu in b.mus]
    return pd.DataFrame({"period": [str(b.s.index[k]) for k in b.cands], "f_stat": b.f, "ssr_unrestricted": ssr})


@cached
def find_break(series: pd.Series, trim: float = 0.15, slope_change: bool = True, seasonal: bool | None = None,
               n_boot: int = 0, seed: int = 0) -> pd.DataFrame:
    """Return the break period with the largest Chow F (sup-F, equivalently the least SSR) inside the trimmed
    range; with n_boot > 0 a parametric-bootstrap p-value for sup-F under no break (the F-table p-value
    does not hold for an estimated date)."""
    s, cands, xr, mr, mus, q, df_den, f = _break_search(series, trim, slope_change, seasonal)
    best = int(np.argmax(f))
    p_value = math.nan
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        beta = np.linalg.lstsq(xr, s.values, rcond=None)[0]
        resid = s.values - xr @ beta
        sigma = math.sqrt(resid @ resid / (len(s.values) - xr.shape[1]))
        sims = xr @ beta + sigma * rng.standard_normal((n_boot, len(s.values)))
        sup = _scan(sims, mr, mus, q, df_den).max(axis=1)
        p_value = (1 + int(np.sum(sup >= f[best]))) / (n_boot + 1)
    # The bootstrap draws independent errors; the Durbin–Watson statistic of the fit with the break found says
    # how far the residuals are from that (2: no first-order autocorrelation; well below 2: positive).
    _, xu = _break_designs(s, int(cands[best]), slope_change, _seasonal_default(s, seasonal))
    dw = float(durbin_watson(s.values - xu @ np.linalg.lstsq(xu, s.values, rcond=None)[0]))
    return pd.DataFrame([{
        "period": str(s.index[cands[best]]), "f_stat": float(f[best]), "p_value": p_value, "n_boot": n_boot,
        "durbin_watson": dw,
        "candidates": int(cands.size), "first_candidate": str(s.index[cands[0]]),
        "last_candidate": str(s.index[cands[-1]]), "trim": trim,
    }])
