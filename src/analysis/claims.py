"""Every numeric statement on the source page as a linear claim, checked and reconciled by linear programming.

Each published figure is a *claim* (``claim_id`` = ``figure_id``) about unknown true values, one LP variable
per measure/flow and year (:func:`variable`). A claim's interval comes from the interval convention
(:mod:`analysis.intervals`):

* ``level``            ``low <= x[year] <= high``
* ``change``           ``low <= x[year] - x[from_year] <= high``
* ``growth_percent``   ``x[year] - (1 + low/100)·x[from_year] >= 0`` and ``x[year] - (1 + high/100)·x[from_year] <= 0``
  (a ratio statement such as "over 82 prosent" is linear once multiplied out, since ``x[from_year] > 0``).

**Open interval ends.** "over 63" is (63, 64) in the convention. A linear program cannot express a strict
inequality, so each bound is computed over the closure ([63, 64]): the supremum of a linear expression over
the open set equals its maximum over the closure. Whether a bound is *attained* (a closed end) or only
approached (an open end) is decided by an epsilon test: the program is solved again with every open stated
end tightened inward by a tiny amount (:data:`_EPS_STEP` of the figure's step, at least :data:`_EPS_REL` of
its size). If the optimum moves, no value the wording strictly allows reaches it and that end is open; if it
stays, a point that satisfies every strict inequality attains it and the end is closed. (Exact when some
optimal point has more slack than the tightening in each strict inequality, which holds unless the claims
meet at a corner narrower than a millionth of a step.) :func:`bound_ends`, :func:`reconcile`,
:func:`check_claims`, :func:`derived`, :func:`sensitivity`, :func:`stack_table` and :func:`flows_table` report
this as ``low_closed`` / ``high_closed`` columns. Claims that can hold together only at an open end (e.g.
"over 63" and "nesten 63") contradict each other and are reported as such.

Besides the page's claims the model has *structural* constraints, labelled and kept apart from the claims
(they are never reported as a page's statement and never dropped when looking for a conflict):

* ``nonnegative``: every level is ``>= 0`` (message counts);
* ``other_definition@<year>``: ``total = sysvak + svarrapporter + frikort_egenandel + all PLO flows + other``
  in every year with a total (assumes the named categories do not overlap, as the page presents them);
* ``other_nonnegative@<year>``: ``other >= 0``, i.e. the total is at least the sum of its named parts.

The undated level "rundt 200 millioner" (``total_plateau``) describes *some years before 2021* that the page
does not name. It gets its own variable ``total[all->all]@undated`` and so does **not** constrain 2020 or
2021. :func:`check_claims` checks it against the earliest dated level of the same measure (the 2020 total,
which the page's sentence places among those "about 200 million" years) and says so in its ``note`` (the code
``undated_compared``, with that level's variable in ``compared_with``).

Results are numbers and codes, never sentences: the words for them are in the message catalogue of the
presentation layer.

Tables, figures and sentences for readers of these results are in :mod:`analysis.present.claims_report`.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.cache import cached
from analysis.data import is_published, load_published
from analysis.errors import DataError
from analysis.intervals import DEFAULT_RULES, Convention, Rule, add_bounds
from analysis.results import Note, note

UNDATED = "undated"
RELATION_JOIN = "; "  # between the constraints of one claim in registry()["relation"] (both must hold)
PARTS_OF_TOTAL = ("sysvak", "svarrapporter", "frikort_egenandel", "plo")
PANDEMIC_AREAS = ("sysvak", "svarrapporter", "frikort_egenandel")
# The changes the page singles out; the rest of the total change is the "unexplained" residual.
NAMED_CHANGES = (
    ("sysvak", "all", "all"),
    ("svarrapporter", "all", "all"),
    ("frikort_egenandel", "all", "all"),
    ("plo", "fastlege", "kommune"),
)
TOL = 1e-7  # LP feasibility tolerance used when comparing intervals (public: readers' tables use it too)
_TOL = TOL
_EPS_STEP = 1e-6  # open stated ends are tightened inward by this fraction of the figure's step ...
_EPS_REL = 1e-9  # ... or by this fraction of the figure's size, whichever is larger
_MOVED = 1e-11  # a relative change of an optimum larger than this, after tightening, means the end is open
_MAX_SUBSETS = 2500  # cap on subsets tried when looking for a smallest conflicting set
_CACHE_SIZE = 256  # models kept per content key (_models) ...
_LP_CACHE_SIZE = 50_000  # ... and linear-program results kept per content key (_lp)


class InconsistentClaims(DataError):
    """The claims cannot all hold at once; ``.conflict`` lists a smallest conflicting set of claim ids."""

    def __init__(self, conflict: Sequence[str], message: str | None = None) -> None:
        self.conflict = list(conflict)
        super().__init__(
            message
            or (
                f"the claims {self.conflict} contradict each other under this interval convention "
                "(given the structural constraints: levels >= 0, total >= sum of named categories); "
                "check these figures or use a wider convention, e.g. convention='about_1step' or 'rel:0.01'"
            )
        )


# ---------------------------------------------------------------- variables and the model


def variable(measure: str, year: Hashable, sender: str = "all", receiver: str = "all") -> str:
    """Name of the LP variable for the level of one measure/flow in one year (or period)."""
    return f"{measure}[{sender}->{receiver}]@{year}"


@dataclass(frozen=True)
class _Row:
    """One linear constraint ``lo <= sum(coef * x) <= hi`` (either end may be None); an open end is strict."""

    coefs: Mapping[str, float]
    lo: float | None
    hi: float | None
    lo_open: bool = False
    hi_open: bool = False


@dataclass
class _Claim:
    """A published statement: its rows in the LP and the expression (numerator/denominator) it bounds."""

    claim_id: str
    rows: list[_Row]
    numerator: dict[str, float]
    denominator: dict[str, float] | None = None
    scale: float = 1.0  # the stated interval is in units of scale * numerator / denominator


@dataclass
class _Model:
    variables: list[str]
    claims: list[_Claim]
    structural: list[tuple[str, _Row]]  # (label, row); equalities have lo == hi
    info: dict[str, dict] = field(default_factory=dict)  # variable -> measure, sender, receiver, year
    _mats: dict[tuple[int, ...], tuple] = field(default_factory=dict, repr=False)  # _matrices by active set

    def index(self) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.variables)}


def _year_key(value: object) -> object:
    """Year or period as used in variable names: int for a year, str otherwise, UNDATED when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return UNDATED
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


def _prepare(data: pd.DataFrame | None, convention: str | Convention | None) -> pd.DataFrame:
    """Return the frame with low/high under `convention` (recomputed from value/step/qualifier when given)."""
    if data is None:
        return load_published(convention=convention)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a DataFrame (from analysis.data), got {type(data).__name__}")
    has_bounds = {"low", "high"} <= set(data.columns)
    can_recompute = {"value", "step", "qualifier"} <= set(data.columns)
    if convention is not None or not has_bounds:
        if not can_recompute:
            raise DataError(
                "data: needs columns value, step and qualifier to apply an interval convention "
                f"(or low and high with convention=None); it has {list(data.columns)}"
            )
        return add_bounds(data, convention)
    return data


def _add_var(model: _Model, seen: dict[str, int], name: str, **info: object) -> str:
    if name not in seen:
        seen[name] = len(model.variables)
        model.variables.append(name)
        model.info[name] = dict(info)
    return name


def _check_bounds(frame: pd.DataFrame) -> None:
    bad = frame[~(frame["low"] <= frame["high"])]
    if not bad.empty:
        first = bad.index[0]
        raise DataError(f"data, row {first}: low {bad.at[first, 'low']!r} > high {bad.at[first, 'high']!r}")


def _open_ends(r: pd.Series) -> tuple[bool, bool]:
    """Whether a row's stated low and high ends are open (rows without closedness columns: closed)."""
    return (not bool(r.get("low_closed", True)), not bool(r.get("high_closed", True)))


def _tightened(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every open stated end moved inward by a tiny amount (see the module's docstring)."""
    out = frame.copy()
    if not {"low_closed", "high_closed"} & set(out.columns):
        return out
    low, high = out["low"].astype(float), out["high"].astype(float)
    step = out["step"].astype(float) if "step" in out else (high - low).abs()
    eps = np.maximum(_EPS_STEP * step, _EPS_REL * np.maximum(low.abs(), high.abs()))
    lo_open = ~out.get("low_closed", pd.Series(True, index=out.index)).astype(bool)
    hi_open = ~out.get("high_closed", pd.Series(True, index=out.index)).astype(bool)
    new_low, new_high = low + eps.where(lo_open, 0.0), high - eps.where(hi_open, 0.0)
    crossed = new_low > new_high  # an open interval too narrow to tighten: keep its middle
    mid = (low + high) / 2
    out["low"], out["high"] = new_low.where(~crossed, mid), new_high.where(~crossed, mid)
    return out


def _build(frame: pd.DataFrame) -> _Model:
    """Translate a published-schema frame or a user series into variables, claims and structural rows."""
    model = _Model([], [], [])
    seen: dict[str, int] = {}
    _check_bounds(frame)
    if not is_published(frame):
        required = {"period", "measure", "sender", "receiver", "low", "high"}
        if not required <= set(frame.columns):
            raise DataError(
                f"data: not the published schema (figure_id, kind, ...) nor a series with {sorted(required)}; "
                f"it has {list(frame.columns)}"
            )
        for _, r in frame.iterrows():
            key = _year_key(r["period"])
            name = _add_var(model, seen, variable(r["measure"], key, r["sender"], r["receiver"]),
                            measure=r["measure"], sender=r["sender"], receiver=r["receiver"], year=key)
            model.claims.append(_Claim(name, [_Row({name: 1.0}, float(r["low"]), float(r["high"]), *_open_ends(r))],
                                       {name: 1.0}))
        _add_structure(model, seen, with_totals=False)
        return model

    for _, r in frame.iterrows():
        m, s, rc = r["measure"], r["sender"], r["receiver"]
        cid, kind = str(r["figure_id"]), r["kind"]
        lo, hi = float(r["low"]), float(r["high"])
        lo_open, hi_open = _open_ends(r)
        year = _year_key(r["year"])
        x = _add_var(model, seen, variable(m, year, s, rc), measure=m, sender=s, receiver=rc, year=year)
        if kind == "level":
            model.claims.append(_Claim(cid, [_Row({x: 1.0}, lo, hi, lo_open, hi_open)], {x: 1.0}))
            continue
        from_year = _year_key(r["from_year"])
        if year == UNDATED or from_year == UNDATED:
            raise DataError(f"data, claim {cid!r}: a {kind} needs both year and from_year")
        x0 = _add_var(model, seen, variable(m, from_year, s, rc), measure=m, sender=s, receiver=rc,
                      year=from_year)
        if kind == "change":
            model.claims.append(_Claim(cid, [_Row({x: 1.0, x0: -1.0}, lo, hi, lo_open, hi_open)], {x: 1.0, x0: -1.0}))
        elif kind == "growth_percent":
            rows = [_Row({x: 1.0, x0: -(1 + lo / 100)}, 0.0, None, lo_open=lo_open),
                    _Row({x: 1.0, x0: -(1 + hi / 100)}, None, 0.0, hi_open=hi_open)]
            model.claims.append(_Claim(cid, rows, {x: 100.0, x0: -100.0}, {x0: 1.0}))
        else:
            raise DataError(f"data, claim {cid!r}: kind {kind!r} is not one of level, change, growth_percent")
    _add_structure(model, seen, with_totals=True)
    return model


def _add_structure(model: _Model, seen: dict[str, int], with_totals: bool) -> None:
    """Structural constraints: levels >= 0 (as variable bounds) and total = named parts + other, other >= 0."""
    if not with_totals:
        return
    years = sorted({i["year"] for i in model.info.values() if i["measure"] == "total" and i["year"] != UNDATED},
                   key=str)
    for y in years:
        parts = [v for v, i in model.info.items() if i["year"] == y and i["measure"] in PARTS_OF_TOTAL]
        other = _add_var(model, seen, variable("other", y), measure="other", sender="all", receiver="all", year=y)
        coefs = {variable("total", y): 1.0, other: -1.0} | {p: -1.0 for p in parts}
        model.structural.append((f"other_definition@{y}", _Row(coefs, 0.0, 0.0)))
        model.structural.append((f"other_nonnegative@{y}", _Row({other: 1.0}, 0.0, None)))


# ---------------------------------------------------------------- solving


def _matrices(model: _Model, active: Iterable[int]) -> tuple:
    """A_ub, b_ub, A_eq, b_eq for the structural rows plus the claims with index in `active` (read-only arrays,
    kept on the model: a model is not changed once built)."""
    active = tuple(active)
    if active not in model._mats:
        mats = _build_matrices(model, active)
        for m in mats:
            m.flags.writeable = False
        model._mats[active] = mats
    return model._mats[active]


def _build_matrices(model: _Model, active: tuple[int, ...]) -> tuple:
    idx = model.index()
    ub_rows, ub_rhs, eq_rows, eq_rhs = [], [], [], []

    def vec(coefs: Mapping[str, float]) -> np.ndarray:
        v = np.zeros(len(model.variables))
        for name, c in coefs.items():
            v[idx[name]] += c
        return v

    rows = [row for _, row in model.structural]
    for k in active:
        rows.extend(model.claims[k].rows)
    for row in rows:
        a = vec(row.coefs)
        if row.lo is not None and row.hi is not None and row.lo == row.hi:
            eq_rows.append(a)
            eq_rhs.append(row.lo)
            continue
        if row.hi is not None:
            ub_rows.append(a)
            ub_rhs.append(row.hi)
        if row.lo is not None:
            ub_rows.append(-a)
            ub_rhs.append(-row.lo)
    n = len(model.variables)
    a_ub = np.array(ub_rows).reshape(-1, n)
    a_eq = np.array(eq_rows).reshape(-1, n)
    return a_ub, np.array(ub_rhs, dtype=float), a_eq, np.array(eq_rhs, dtype=float)


_LP_CACHE: OrderedDict[bytes, tuple[int, float]] = OrderedDict()


def _lp(c: np.ndarray, mats: tuple) -> tuple[int, float]:
    """Minimise c·x over the constraints (variables >= 0); return (status, value) as scipy's linprog reports.

    The same program (same objective and constraint arrays, byte for byte) is solved once per process: HiGHS is
    deterministic, so a repeated solve would return the same result.
    """
    h = hashlib.blake2b(digest_size=20)
    for a in (c, *mats):
        a = np.ascontiguousarray(a, dtype=float)
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    key = h.digest()
    if key in _LP_CACHE:
        _LP_CACHE.move_to_end(key)
        return _LP_CACHE[key]
    out = _solve(c, mats)
    _LP_CACHE[key] = out
    if len(_LP_CACHE) > _LP_CACHE_SIZE:
        _LP_CACHE.popitem(last=False)
    return out


def _solve(c: np.ndarray, mats: tuple) -> tuple[int, float]:
    from scipy.optimize import linprog  # here, not at the top: a kernel whose results come from the cache skips it

    a_ub, b_ub, a_eq, b_eq = mats
    res = linprog(
        c,
        A_ub=a_ub if len(b_ub) else None,
        b_ub=b_ub if len(b_ub) else None,
        A_eq=a_eq if len(b_eq) else None,
        b_eq=b_eq if len(b_eq) else None,
        bounds=(0, None),
        method="highs",
    )
    return res.status, (float(res.fun) if res.status == 0 else np.nan)


def _feasible(model: _Model, active: Iterable[int]) -> bool:
    status, _ = _lp(np.zeros(len(model.variables)), _matrices(model, active))
    if status not in (0, 2):
        raise RuntimeError(f"linprog could not decide feasibility (status {status})")
    return status == 0


def _range(model: _Model, mats: tuple, numerator: Mapping[str, float],
           denominator: Mapping[str, float] | None = None) -> tuple[float, float]:
    """Min and max of a linear expression (or a ratio of two, by Charnes–Cooper) over a feasible set."""
    idx = model.index()
    n = len(model.variables)
    c = np.zeros(n)
    for name, v in numerator.items():
        c[idx[name]] += v
    if denominator is None:
        out = []
        for sign in (1.0, -1.0):
            status, val = _lp(sign * c, mats)
            if status == 2:
                raise _Infeasible()
            out.append(sign * val if status == 0 else -sign * np.inf)
        return out[0], out[1]

    d = np.zeros(n)
    for name, v in denominator.items():
        d[idx[name]] += v
    status, dmin = _lp(d, mats)
    if status == 2:
        raise _Infeasible()
    if status != 0 or dmin <= _TOL:
        raise DataError(
            f"denominator {dict(denominator)} can be zero or negative under the claims (its minimum is "
            f"{dmin if status == 0 else '-inf'}), so the ratio has no bounds; choose a denominator that stays positive"
        )
    # Charnes–Cooper: y = t·x, t = 1/(d·x) >= 0; constraints A x <= b become A y - b t <= 0.
    a_ub, b_ub, a_eq, b_eq = mats
    cc_ub = np.hstack([a_ub, -b_ub.reshape(-1, 1)])
    cc_eq = np.vstack([np.hstack([a_eq, -b_eq.reshape(-1, 1)]), np.append(d, 0.0)])
    cc_beq = np.append(np.zeros(len(b_eq)), 1.0)
    cc = (cc_ub, np.zeros(len(b_ub)), cc_eq, cc_beq)
    c2 = np.append(c, 0.0)
    out = []
    for sign in (1.0, -1.0):
        status, val = _lp(sign * c2, cc)
        out.append(sign * val if status == 0 else -sign * np.inf)
    return out[0], out[1]


class _Infeasible(Exception):
    """Internal: the active constraints have no solution."""


_MODEL_CACHE: OrderedDict[bytes, tuple[_Model, _Model]] = OrderedDict()


def _frame_key(frame: pd.DataFrame) -> bytes:
    """A content key of a frame (its pickled bytes hashed): equal keys mean equal columns, index and values."""
    return hashlib.blake2b(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL), digest_size=20).digest()


def _models(frame: pd.DataFrame) -> tuple[_Model, _Model]:
    """The model of `frame` (open ends taken as closed) and the same model with its open ends tightened.

    Built once per frame content (kept by a content key, never by the frame's identity); the models are not
    changed once built, so callers share them.
    """
    try:
        key = _frame_key(frame)
    except Exception:  # noqa: BLE001 - a frame that cannot be pickled is simply not cached
        return _build(frame), _build(_tightened(frame))
    if key in _MODEL_CACHE:
        _MODEL_CACHE.move_to_end(key)
        return _MODEL_CACHE[key]
    out = _build(frame), _build(_tightened(frame))
    _MODEL_CACHE[key] = out
    if len(_MODEL_CACHE) > _CACHE_SIZE:
        _MODEL_CACHE.popitem(last=False)
    return out


def _closure_model(frame: pd.DataFrame) -> _Model:
    """The model of `frame` with open ends taken as closed: the cached one when :func:`_models` built it."""
    try:
        cached = _MODEL_CACHE.get(_frame_key(frame))
    except Exception:  # noqa: BLE001 - a frame that cannot be pickled is simply not cached
        cached = None
    return cached[0] if cached is not None else _build(frame)


@dataclass
class _System:
    """One set of active claims in both models: the closure (bounds) and the tightened one (closedness)."""

    model: _Model
    tight: _Model
    mats: tuple
    mats_tight: tuple | None  # None when the tightened claims have no solution

    @classmethod
    def of(cls, model: _Model, tight: _Model, active: Iterable[int]) -> _System:
        active = list(active)
        mats_tight = _matrices(tight, active) if _feasible(tight, active) else None
        return cls(model, tight, _matrices(model, active), mats_tight)


def _same(a: float, b: float) -> bool:
    """True when an optimum `a` did not move (to `b`) after tightening: the end is attained."""
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= _MOVED * max(1.0, abs(a)))


def _range_ends(system: _System, numerator: Mapping[str, float],
                denominator: Mapping[str, float] | None = None) -> tuple[float, float, bool, bool]:
    """(low, high, low_closed, high_closed) of an expression: bounds over the closure, closedness by tightening."""
    lo, hi = _range(system.model, system.mats, numerator, denominator)
    if system.mats_tight is None:
        return lo, hi, False, False
    try:
        lo_t, hi_t = _range(system.tight, system.mats_tight, numerator, denominator)
    except (_Infeasible, DataError):
        return lo, hi, False, False
    return lo, hi, _same(lo, lo_t), _same(hi, hi_t)


def _conflict(model: _Model, active: Sequence[int]) -> list[int]:
    """A smallest set of claims (indices) that cannot hold together with the structural constraints.

    A deletion filter gives an irreducible set (drop each claim in turn; keep it dropped if the rest is still
    infeasible); then every smaller subset is tried, while that stays within _MAX_SUBSETS LPs, so the set
    returned has the fewest claims possible.
    """
    keep = list(active)
    feasible_sets: list[frozenset[int]] = []  # every subset of a feasible set is feasible: no LP needed for it
    for k in list(keep):
        trial = [j for j in keep if j != k]
        if not _feasible(model, trial):
            keep = trial
        else:
            feasible_sets.append(frozenset(trial))
    tried = 0
    for size in range(1, len(keep)):
        combos = itertools.combinations(active, size)
        for combo in combos:
            tried += 1
            if tried > _MAX_SUBSETS:
                return keep
            if any(f.issuperset(combo) for f in feasible_sets):
                continue
            if not _feasible(model, combo):
                return list(combo)
    return keep


def _raise_if_infeasible(model: _Model, tight: _Model | None = None) -> None:
    """Raise InconsistentClaims naming a smallest conflicting set, also when the claims meet only at open ends."""
    active = range(len(model.claims))
    if not _feasible(model, active):
        ids = [model.claims[k].claim_id for k in _conflict(model, list(active))]
        raise InconsistentClaims(ids)
    if tight is not None and not _feasible(tight, active):
        ids = [tight.claims[k].claim_id for k in _conflict(tight, list(active))]
        raise InconsistentClaims(ids, (
            f"the claims {ids} can hold together only at an open end of an interval, which the wording "
            "excludes (as 'over 63' and 'nesten 63' meet only at 63); check these figures or use a wider "
            "convention, e.g. convention='about_1step' or 'rel:0.01'"))


# ---------------------------------------------------------------- public API


def bound(
    objective: Mapping[str, float],
    data: pd.DataFrame | None = None,
    convention: str | Convention | None = None,
    denominator: Mapping[str, float] | None = None,
) -> tuple[float, float]:
    """Min and max of sum(c*x), or of sum(c*x)/sum(d*x) with `denominator`, over every x consistent with all claims.

    `data` is the published figures (default: :func:`analysis.data.load_published` under `convention`), a
    frame in that schema, or a user's series (each row then boxes one level variable; no other claims).
    Open interval ends are treated as closed (the bounds are the supremum and infimum; :func:`bound_ends` says
    whether they are attained). Raises :class:`InconsistentClaims` if the claims contradict each other and
    :class:`DataError` for unknown variable names.
    """
    low, high, _, _ = bound_ends(objective, data, convention, denominator)
    return low, high


def bound_ends(
    objective: Mapping[str, float],
    data: pd.DataFrame | None = None,
    convention: str | Convention | None = None,
    denominator: Mapping[str, float] | None = None,
) -> tuple[float, float, bool, bool]:
    """(low, high, low_closed, high_closed) of the expression :func:`bound` bounds: an end is closed when some
    value the wording strictly allows attains it, open when it is only a limit (epsilon test, module docstring).
    """
    model, tight = _models(_prepare(data, convention))
    _check_names(model, objective, "objective")
    if denominator is not None:
        _check_names(model, denominator, "denominator")
    _raise_if_infeasible(model, tight)
    return _range_ends(_System.of(model, tight, range(len(model.claims))), objective, denominator)


def variables(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> list[str]:
    """Names of every LP variable for `data` (levels per measure/flow and year, plus `other` per year)."""
    return list(_closure_model(_prepare(data, convention)).variables)


def _check_names(model: _Model, coefs: Mapping[str, float], what: str) -> None:
    unknown = [k for k in coefs if k not in model.info]
    if unknown:
        raise DataError(
            f"{what}: unknown variable name(s) {unknown}; build names with analysis.claims.variable(measure, "
            f"year, sender, receiver). Known variables: {model.variables}"
        )


def _unit(frame: pd.DataFrame) -> str:
    units = [u for u in frame.get("unit", pd.Series(dtype=str)) if u != "percent"]
    return units[0] if units else "million messages"


def _quantities(model: _Model, published: bool) -> list[dict]:
    """Every quantity reconcile() bounds: levels, changes, growth rates, `other`, the unexplained change."""
    out: list[dict] = []
    flows: dict[tuple, list] = {}
    for name, i in model.info.items():
        if i["year"] == UNDATED:
            continue
        kind = "residual" if i["measure"] == "other" else "level"
        out.append(dict(quantity=name, numerator={name: 1.0}, denominator=None, measure=i["measure"],
                        sender=i["sender"], receiver=i["receiver"], kind=kind, year=i["year"], from_year=None,
                        description="other" if kind == "residual" else "level"))
        flows.setdefault((i["measure"], i["sender"], i["receiver"]), []).append(i["year"])
    if not published:
        return out
    for (m, s, r), years in flows.items():
        years = sorted(years)
        for y0, y1 in itertools.pairwise(years):
            x0, x1 = variable(m, y0, s, r), variable(m, y1, s, r)
            base = dict(measure=m, sender=s, receiver=r, year=y1, from_year=y0)
            out.append(base | dict(quantity=f"change:{m}[{s}->{r}]@{y0}-{y1}", numerator={x1: 1.0, x0: -1.0},
                                   denominator=None, kind="residual" if m == "other" else "change",
                                   description="change"))
            out.append(base | dict(quantity=f"growth_percent:{m}[{s}->{r}]@{y0}-{y1}",
                                   numerator={x1: 100.0, x0: -100.0}, denominator={x0: 1.0},
                                   kind="growth_percent", description="growth_percent"))
    for y0, y1 in itertools.pairwise(sorted(flows.get(("total", "all", "all"), []))):
        names = [(m, s, r) for m, s, r in NAMED_CHANGES]
        if not all(variable(m, y, s, r) in model.info for m, s, r in names for y in (y0, y1)):
            continue
        coefs = {variable("total", y1): 1.0, variable("total", y0): -1.0}
        for m, s, r in names:
            coefs[variable(m, y1, s, r)] = -1.0
            coefs[variable(m, y0, s, r)] = 1.0
        out.append(dict(quantity=f"unexplained_change@{y0}-{y1}", numerator=coefs, denominator=None,
                        measure="unexplained", sender="all", receiver="all", kind="residual", year=y1,
                        from_year=y0,
                        description="unexplained"))
    return out


@cached
def reconcile(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Tightest bounds on every underlying and derived quantity consistent with all claims at once.

    One row per quantity: ``quantity, low, high, low_closed, high_closed, measure, sender, receiver, kind,
    year, from_year, unit, description``; ``kind`` is level, change, growth_percent or residual (``other`` =
    total minus every named category; ``unexplained`` = the total change not explained by SYSVAK,
    svarrapporter, frikort/egenandel and GP -> municipality care messages); ``description`` is a code for what
    the row bounds (``level``, ``other`` for a level of other messages, ``change``, ``growth_percent``,
    ``unexplained``; the words are in :mod:`analysis.present.claims_report`). Each bound is a linear program
    (Charnes–Cooper for growth rates) over the closure of the claims; ``low_closed`` / ``high_closed`` say
    whether a value the wording strictly allows attains it (see the module docstring). Raises
    :class:`InconsistentClaims` naming a smallest conflicting set when the claims contradict each other.
    """
    frame = _prepare(data, convention)
    published = is_published(frame)
    model, tight = _models(frame)
    _raise_if_infeasible(model, tight)
    system = _System.of(model, tight, range(len(model.claims)))
    unit = _unit(frame) if published else "messages"
    rows = []
    for q in _quantities(model, published):
        lo, hi, lc, hc = _quantity_ends(system, q)
        rows.append(dict(quantity=q["quantity"], low=lo, high=hi, low_closed=lc, high_closed=hc,
                         measure=q["measure"], sender=q["sender"], receiver=q["receiver"], kind=q["kind"],
                         year=q["year"], from_year=q["from_year"],
                         unit="percent" if q["kind"] == "growth_percent" else unit, description=q["description"]))
    out = pd.DataFrame(rows, columns=["quantity", "low", "high", "low_closed", "high_closed", "measure", "sender",
                                      "receiver", "kind", "year", "from_year", "unit", "description"])
    out = out.iloc[sorted(range(len(out)), key=lambda k: _order_key(out.iloc[k]))].reset_index(drop=True)
    if published:
        out["year"] = pd.array(out["year"], dtype="Int64")
        out["from_year"] = pd.array(out["from_year"], dtype="Int64")
    return out


def _quantity_ends(system: _System, q: Mapping) -> tuple[float, float, bool, bool]:
    """(low, high, low_closed, high_closed) of one quantity of :func:`_quantities`, as :func:`reconcile` gives it."""
    try:
        return _range_ends(system, q["numerator"], q["denominator"])
    except DataError:  # a growth rate whose start level can be 0 under the claims: no finite bound
        return -np.inf, np.inf, False, False


def _reconcile_some(data: pd.DataFrame | None, convention: str | Convention | None,
                    quantities: Sequence[str]) -> list[tuple[str, float, float, bool, bool]]:
    """(quantity, low, high, low_closed, high_closed) of `quantities` only, as :func:`reconcile` bounds them
    (same checks and errors, without bounding the quantities nobody asked for)."""
    frame = _prepare(data, convention)
    model, tight = _models(frame)
    _raise_if_infeasible(model, tight)
    system = _System.of(model, tight, range(len(model.claims)))
    known = {q["quantity"]: q for q in _quantities(model, is_published(frame))}
    missing = [q for q in quantities if q not in known]
    if missing:
        raise DataError(f"quantities: unknown {missing}; choose from reconcile()['quantity']")
    return [(q, *_quantity_ends(system, known[q])) for q in quantities]


_MEASURE_ORDER = ("total", "sysvak", "svarrapporter", "frikort_egenandel", "plo", "other", "unexplained")
_FLOW_ORDER = (("fastlege", "kommune"), ("kommune", "fastlege"), ("helseforetak", "kommune"),
               ("kommune", "helseforetak_og_private_sykehus"))
_KIND_ORDER = ("level", "residual", "change", "growth_percent")


def _rank(value: object, order: Sequence) -> int:
    return order.index(value) if value in order else len(order)


def _order_key(row: pd.Series) -> tuple:
    """Sort key: measure, then flow, then level before change before growth, then year."""
    kind = "change" if row["kind"] == "residual" and not pd.isna(row["from_year"]) else row["kind"]
    return (_rank(row["measure"], _MEASURE_ORDER), _rank((row["sender"], row["receiver"]), _FLOW_ORDER),
            str(row["measure"]), str(row["sender"]), str(row["receiver"]), _rank(kind, _KIND_ORDER),
            str(row["year"]))


def _meet(low: float, low_closed: bool, high: float, high_closed: bool) -> bool:
    """True when a lower end and an upper end leave a value between them (touching ends must both be closed)."""
    if low < high - _TOL:
        return True
    return bool(abs(low - high) <= _TOL and low_closed and high_closed)


def _overlap(a_lo: float, a_hi: float, b_lo: float, b_hi: float, a_lc: bool = True, a_hc: bool = True,
             b_lc: bool = True, b_hc: bool = True) -> bool:
    """True when two intervals share a value; an open end that only touches the other interval does not."""
    return _meet(a_lo, a_lc, b_hi, b_hc) and _meet(b_lo, b_lc, a_hi, a_hc)


def _implied(model: _Model, tight: _Model, active: list[int], claim: _Claim) -> tuple[float, float, bool, bool]:
    """Bounds and closedness of a claim's expression from the `active` claims; NaN if those contradict."""
    if not _feasible(tight, active):
        return np.nan, np.nan, False, False
    try:
        return _range_ends(_System.of(model, tight, active), claim.numerator, claim.denominator)
    except DataError:  # the start level of a growth rate can be 0 without this claim: no finite bound
        return -np.inf, np.inf, False, False


# Codes of the notes check_claims() gives a claim (column ``note``, several joined by "; "):
NOTE_OTHERS_CONFLICT = "others_conflict"  # the other claims contradict each other: checked against the claims
#                                           outside the conflicting set(s) only
NOTE_UNDATED_COMPARED = "undated_compared"  # no year named: checked against the level in ``compared_with``, the
#                                             earliest dated one; it does not constrain any dated year
NOTE_UNDATED_UNMATCHED = "undated_unmatched"  # no year named and no dated level of this measure to compare with
NOTE_JOIN = "; "


@dataclass(frozen=True)
class ClaimsCheck:
    """The result of :func:`check_claims_result`: the per-claim table and the conflicting sets, found in turn."""

    table: pd.DataFrame  # what check_claims() returns
    conflicts: tuple[tuple[str, ...], ...]  # smallest conflicting sets of claim ids, each removed before the next

    @property
    def conflict(self) -> tuple[str, ...]:
        """The first smallest conflicting set (empty when the claims agree)."""
        return self.conflicts[0] if self.conflicts else ()

    @property
    def consistent(self) -> bool:
        """True when all claims can hold at once (no conflicting set)."""
        return not self.conflicts

    def notes(self, claim_id: str) -> list[Note]:
        """The notes of one claim as :class:`analysis.results.Note` (code, values), from its ``note`` column."""
        row = self.table.set_index("claim_id").loc[claim_id]
        codes = [c for c in str(row["note"]).split(NOTE_JOIN) if c]
        return [note(c, compared_with=row["compared_with"]) if c == NOTE_UNDATED_COMPARED else note(c)
                for c in codes]


def check_claims(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """One row per claim: its stated interval, what all the other claims imply for it, and whether they agree.

    The table of :func:`check_claims_result` (which also gives the conflicting sets); see there.
    """
    return check_claims_result(data, convention).table


@cached
def check_claims_result(data: pd.DataFrame | None = None,
                        convention: str | Convention | None = None) -> ClaimsCheck:
    """Check every claim against the others: a :class:`ClaimsCheck` with the table and the conflicting sets.

    Table columns ``claim_id, wording, paraphrase, kind, value, unit, qualifier, stated_low, stated_high,
    stated_low_closed, stated_high_closed, implied_low, implied_high, implied_low_closed, implied_high_closed,
    reconciled_low, reconciled_high, reconciled_low_closed, reconciled_high_closed, consistent, in_conflict,
    note, compared_with``.
    *implied* is the range of the claim's quantity over every value the other claims (and the structural
    constraints) allow; *reconciled* the range allowed by all claims together; the ``_closed`` columns say
    whether an end is attained (module docstring). *consistent*: the stated and implied ranges share a value
    (ends that only touch must both be closed). Never raises on a contradiction: smallest conflicting sets are
    found one after another (``.conflicts``, the first also as ``.conflict``); their claims get ``in_conflict``
    True and ``consistent`` False, reconciled bounds are NaN, and a claim whose other claims contradict each
    other is checked against the claims outside the conflicting sets (note code ``others_conflict``). An
    undated level is checked against the earliest dated level of its measure (``undated_compared``, that
    level's variable in ``compared_with``). ``note`` holds codes (:data:`NOTE_OTHERS_CONFLICT` ...), several
    joined by "; ". Claims that meet only at open ends count as contradicting.
    """
    frame = _prepare(data, convention)
    if not is_published(frame):
        raise DataError(
            "data: check_claims needs the published figures (columns figure_id, kind, ...); a user's series "
            "has no statements to check against each other"
        )
    model, tight = _models(frame)
    frame = frame.reset_index(drop=True)
    everything = list(range(len(model.claims)))
    feasible = _feasible(tight, everything)  # the tightened claims: meeting only at an open end is a conflict
    conflicts = [] if feasible else _all_conflicts(tight, everything)
    flagged = {k for c in conflicts for k in c}
    clean = [k for k in everything if k not in flagged]
    system = _System.of(model, tight, everything) if feasible else None
    rows = []
    for k, claim in enumerate(model.claims):
        r = frame.iloc[k]
        others = [j for j in everything if j != k]
        notes, compared_with = [], ""
        if not feasible and not _feasible(tight, others):
            others = [j for j in clean if j != k]
            notes.append(NOTE_OTHERS_CONFLICT)
        target_claim = claim
        if pd.isna(r["year"]) and r["kind"] == "level":
            target = _earliest_level(model, r)
            if target is None:
                notes.append(NOTE_UNDATED_UNMATCHED)
            else:
                target_claim = _Claim(claim.claim_id, [], {target: 1.0})
                notes.append(NOTE_UNDATED_COMPARED)
                compared_with = target
        implied = _implied(model, tight, others, target_claim)
        reconciled = (_range_ends(system, claim.numerator, claim.denominator) if system is not None
                      else (np.nan, np.nan, False, False))
        in_conflict = k in flagged
        stated_lc, stated_hc = (not e for e in _open_ends(r))
        consistent = False if in_conflict else _overlap(r["low"], r["high"], implied[0], implied[1], stated_lc,
                                                        stated_hc, implied[2], implied[3])
        rows.append(dict(claim_id=claim.claim_id, wording=r["wording"], paraphrase=r["paraphrase"], kind=r["kind"],
                         value=r["value"], unit=r["unit"], qualifier=r["qualifier"],
                         stated_low=r["low"], stated_high=r["high"], stated_low_closed=stated_lc,
                         stated_high_closed=stated_hc, implied_low=implied[0], implied_high=implied[1],
                         implied_low_closed=implied[2], implied_high_closed=implied[3],
                         reconciled_low=reconciled[0], reconciled_high=reconciled[1],
                         reconciled_low_closed=reconciled[2], reconciled_high_closed=reconciled[3],
                         consistent=consistent, in_conflict=in_conflict, note=NOTE_JOIN.join(notes),
                         compared_with=compared_with))
    out = pd.DataFrame(rows)
    out["consistent"] = out["consistent"].astype(bool)
    return ClaimsCheck(out, tuple(tuple(model.claims[k].claim_id for k in c) for c in conflicts))


def unconstrained_levels(check: pd.DataFrame) -> list[str]:
    """Ids of the level claims that no other claim constrains: what the others imply is only the structural
    limits (from 0 up to what the total leaves), in a :func:`check_claims` table."""
    free = check[(check["kind"] == "level") & (check["implied_low"].abs() <= TOL)
                 & np.isfinite(check["implied_high"])]
    return list(free["claim_id"])


def _all_conflicts(model: _Model, active: list[int]) -> list[list[int]]:
    """Smallest conflicting sets found one after another, each removed before looking for the next."""
    found, rest = [], list(active)
    while not _feasible(model, rest):
        c = _conflict(model, rest)
        found.append(c)
        rest = [k for k in rest if k not in c]
    return found


def _earliest_level(model: _Model, row: pd.Series) -> str | None:
    dated = sorted(
        (i["year"], v) for v, i in model.info.items()
        if (i["measure"], i["sender"], i["receiver"]) == (row["measure"], row["sender"], row["receiver"])
        and i["year"] != UNDATED
    )
    return dated[0][1] if dated else None


# ---------------------------------------------------------------- the registry


def quantity_name(kind: str, measure: str, sender: str, receiver: str, year: Hashable,
                  from_year: Hashable | None = None) -> str:
    """Name of a quantity in :func:`reconcile`: the variable for a level, ``change:``/``growth_percent:`` else."""
    if kind == "level":
        return variable(measure, year, sender, receiver)
    return f"{kind}:{measure}[{sender}->{receiver}]@{from_year}-{year}"


def _term(coef: float, name: str) -> str:
    if coef == 1:
        return name
    if coef == -1:
        return f"− {name}"
    return f"{'− ' if coef < 0 else ''}{abs(coef):.6g}·{name}"


def _relation(row: _Row) -> str:
    expr = " ".join(_term(c, n) if k == 0 or c < 0 else f"+ {_term(c, n)}" for k, (n, c) in
                    enumerate(row.coefs.items()))
    if row.lo is not None and row.lo == row.hi:
        return f"{expr} = {row.lo:.6g}"
    below, above = ("<" if row.lo_open else "≤"), ("<" if row.hi_open else "≤")
    if row.lo is not None and row.hi is not None:
        return f"{row.lo:.6g} {below} {expr} {above} {row.hi:.6g}"
    if row.lo is not None:
        return f"{expr} {'>' if row.lo_open else '≥'} {row.lo:.6g}"
    return f"{expr} {above} {row.hi:.6g}"


def registry(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Every claim with its wording, paraphrase, interval under the convention and the linear relation it states.

    Built from the published figures (one claim per ``figure_id``); ``quantity`` names what the claim bounds in
    :func:`reconcile`, ``relation`` is the claim's constraint(s), strict (<, >) at an open end (the linear
    programs use the closure; see the module docstring).
    """
    frame = _prepare(data, convention)
    if not is_published(frame):
        raise DataError("data: the claims registry needs the published figures (columns figure_id, kind, ...)")
    model = _closure_model(frame)
    frame = frame.reset_index(drop=True)
    out = frame[["figure_id", "wording", "paraphrase", "kind", "measure", "sender", "receiver", "year",
                 "from_year", "value", "unit", "step", "qualifier", "low", "high"]].rename(
        columns={"figure_id": "claim_id"})
    for col in ("low_closed", "high_closed"):
        out[col] = frame[col] if col in frame else True
    out["quantity"] = [
        quantity_name(k, m, s, r, _year_key(y), _year_key(f))
        for k, m, s, r, y, f in zip(frame["kind"], frame["measure"], frame["sender"], frame["receiver"],
                                    frame["year"], frame["from_year"], strict=True)
    ]
    out["relation"] = [RELATION_JOIN.join(_relation(row) for row in c.rows) for c in model.claims]
    return out


def structural_constraints(data: pd.DataFrame | None = None,
                           convention: str | Convention | None = None) -> pd.DataFrame:
    """The constraints that are not page claims, labelled: levels >= 0, total = named parts + other, other >= 0."""
    model = _closure_model(_prepare(data, convention))
    rows = [dict(label="nonnegative", relation="level ≥ 0")]
    rows += [dict(label=label, relation=_relation(row)) for label, row in model.structural]
    return pd.DataFrame(rows)


def printed_point(data: pd.DataFrame | None = None) -> dict[str, float]:
    """The printed value of every dated level as if it were exact, and ``other`` = total − named parts from them.

    Only for the naive arithmetic an analyst does by hand (e.g. 284 − 193 = 91); it ignores the hedges.
    """
    frame = _prepare(data, None)
    lv = frame[(frame["kind"] == "level") & frame["year"].notna()]
    point = {variable(m, _year_key(y), s, r): float(v)
             for m, s, r, y, v in zip(lv["measure"], lv["sender"], lv["receiver"], lv["year"], lv["value"],
                                      strict=True)}
    for y in sorted({_year_key(y) for y, m in zip(lv["year"], lv["measure"], strict=True) if m == "total"}):
        parts = [v for k, v in point.items() if k.endswith(f"@{y}") and k.split("[")[0] in PARTS_OF_TOTAL]
        point[variable("other", y)] = point[variable("total", y)] - sum(parts)
    return point


def _evaluate(numerator: Mapping[str, float], denominator: Mapping[str, float] | None,
              point: Mapping[str, float]) -> float:
    if any(k not in point for k in [*numerator, *(denominator or {})]):
        return np.nan
    num = sum(c * point[k] for k, c in numerator.items())
    if denominator is None:
        return num
    return num / sum(c * point[k] for k, c in denominator.items())


@cached
def derived(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Each change, growth rate and residual: stated wording (if the page states it), the naive arithmetic from
    the printed figures, and the reconciled bounds.

    Columns ``quantity, measure, sender, receiver, kind, year, from_year, unit, stated, stated_value,
    printed_start, printed_end, from_printed, low, high, low_closed, high_closed, printed_inside``;
    ``printed_start``/``printed_end`` are the printed levels of a single flow (``other`` = total − named parts
    of them); ``from_printed`` treats every printed level as exact (labelled as such wherever shown);
    ``printed_inside`` is whether it lies in the reconciled bounds (an open end excludes its own value).
    """
    frame = _prepare(data, convention)
    recon = reconcile(frame)
    reg = registry(frame)
    model = _closure_model(frame)
    point = printed_point(frame)
    exprs = {q["quantity"]: q for q in _quantities(model, True)}
    out = recon[recon["kind"] != "level"].copy()
    out = out[~((out["kind"] == "residual") & out["from_year"].isna())]
    stated = dict(zip(reg["quantity"], reg["wording"], strict=True))
    out["stated"] = [stated.get(q, "") for q in out["quantity"]]
    out["from_printed"] = [_evaluate(exprs[q]["numerator"], exprs[q]["denominator"], point) for q in out["quantity"]]
    out["printed_inside"] = [_meet(lo, lc, v, True) and _meet(v, True, hi, hc) for v, lo, hi, lc, hc in
                             zip(out["from_printed"], out["low"], out["high"], out["low_closed"], out["high_closed"],
                                 strict=True)]
    value = dict(zip(reg["quantity"], reg["value"], strict=True))
    out["stated_value"] = [value.get(q, np.nan) for q in out["quantity"]]
    ends = [(point.get(variable(m, f, s, r), np.nan), point.get(variable(m, y, s, r), np.nan))
            if m not in ("unexplained",) else (np.nan, np.nan)
            for m, s, r, f, y in zip(out["measure"], out["sender"], out["receiver"], out["from_year"], out["year"],
                                     strict=True)]
    out["printed_start"] = [a for a, _ in ends]
    out["printed_end"] = [b for _, b in ends]
    cols = ["quantity", "measure", "sender", "receiver", "kind", "year", "from_year", "unit", "stated",
            "stated_value", "printed_start", "printed_end", "from_printed", "low", "high", "low_closed", "high_closed",
            "printed_inside"]
    return out[cols].reset_index(drop=True)


# A reading nobody should use: every printed figure taken as exact. It shows why the intervals matter.
FACE_VALUE = Convention("face_value", {q: Rule(0.0, 0.0, True, True) for q in DEFAULT_RULES})
# The quantities a briefing asks about, e.g. for a table of their bounds under several conventions.
HEADLINE_QUANTITIES = (
    "change:total[all->all]@2020-2021",
    "growth_percent:total[all->all]@2020-2021",
    "growth_percent:sysvak[all->all]@2020-2021",
    "change:plo[fastlege->kommune]@2020-2021",
    "other[all->all]@2021",
    "unexplained_change@2020-2021",
)


def headline_quantities(rec: pd.DataFrame | None) -> list[str] | None:
    """Those of :data:`HEADLINE_QUANTITIES` that a :func:`reconcile` result `rec` has, in that order; None (for
    :func:`sensitivity`: every quantity) when there is no `rec` or it has none of them."""
    known = set() if rec is None else set(rec["quantity"])
    return [q for q in HEADLINE_QUANTITIES if q in known] or None


@cached
def sensitivity(conventions: Sequence[str | Convention], quantities: Sequence[str] | None = None,
                data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reconciled bounds of `quantities` (default: all) under each convention, with any conflict named.

    Long format: ``convention, quantity, low, high, low_closed, high_closed, consistent, conflict``; under a
    convention where the claims contradict each other the bounds are NaN and ``conflict`` lists a smallest
    conflicting set.
    """
    rows = []
    for conv in conventions:
        name = conv.name if isinstance(conv, Convention) else str(conv)
        try:
            if quantities is not None:
                ends = _reconcile_some(data, conv, quantities)
            else:
                rec = reconcile(data, conv)
                ends = list(zip(rec["quantity"], rec["low"], rec["high"], rec["low_closed"], rec["high_closed"],
                                strict=True))
        except InconsistentClaims as exc:
            qs = quantities or []
            rows += [dict(convention=name, quantity=q, low=np.nan, high=np.nan, low_closed=False, high_closed=False,
                          consistent=False, conflict=", ".join(exc.conflict)) for q in (qs or ["(all)"])]
            continue
        rows += [dict(convention=name, quantity=q, low=lo, high=hi, low_closed=lc, high_closed=hc, consistent=True,
                      conflict="")
                 for q, lo, hi, lc, hc in ends]
    return pd.DataFrame(rows, columns=["convention", "quantity", "low", "high", "low_closed", "high_closed",
                                       "consistent", "conflict"])


# ---------------------------------------------------------------- data for the notebook's figures


def stack_table(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Totals split into the three pandemic-related areas and the rest, per year: printed value and bounds.

    Columns ``year, part, value, qualifier, low, high, low_closed, high_closed, derived``; ``value`` is the
    printed figure with its hedge word in ``qualifier`` (exact, about, over, almost), or for ``rest`` (total
    minus the three areas) the difference of printed figures (``derived`` True, no qualifier); bounds are
    reconciled, with their closedness.
    """
    frame = _prepare(data, convention)
    point = printed_point(frame)
    model, tight = _models(frame)
    _raise_if_infeasible(model, tight)
    system = _System.of(model, tight, range(len(model.claims)))
    lv = frame[(frame["kind"] == "level") & frame["year"].notna()]
    hedge = {variable(m, _year_key(y), s, r): q for m, s, r, y, q in
             zip(lv["measure"], lv["sender"], lv["receiver"], lv["year"], lv["qualifier"], strict=True)}
    years = sorted(i["year"] for i in model.info.values() if i["measure"] == "total" and i["year"] != UNDATED)
    rows = []
    for y in years:
        if not all(variable(m, y) in model.info for m in PANDEMIC_AREAS):
            continue
        for m in (*PANDEMIC_AREAS, "total"):
            lo, hi, lc, hc = _range_ends(system, {variable(m, y): 1.0})
            rows.append(dict(year=y, part=m, value=point[variable(m, y)], qualifier=hedge.get(variable(m, y), ""),
                             low=lo, high=hi, low_closed=lc, high_closed=hc, derived=False))
        coefs = {variable("total", y): 1.0} | {variable(m, y): -1.0 for m in PANDEMIC_AREAS}
        lo, hi, lc, hc = _range_ends(system, coefs)
        rows.append(dict(year=y, part="rest", value=_evaluate(coefs, None, point), qualifier="", low=lo, high=hi,
                         low_closed=lc, high_closed=hc, derived=True))
    return pd.DataFrame(rows, columns=["year", "part", "value", "qualifier", "low", "high", "low_closed",
                                       "high_closed", "derived"])


def flows_table(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Care-message (PLO) flows per year: printed value and hedge word, stated interval and reconciled bounds,
    each with its closedness (``stated_low_closed`` ..., ``low_closed``, ``high_closed``)."""
    frame = _prepare(data, convention)
    rec = reconcile(frame).set_index("quantity")
    lv = frame[(frame["measure"] == "plo") & (frame["kind"] == "level") & frame["year"].notna()]
    rows = []
    for _, r in lv.iterrows():
        q = variable("plo", _year_key(r["year"]), r["sender"], r["receiver"])
        stated_lc, stated_hc = (not e for e in _open_ends(r))
        rows.append(dict(sender=r["sender"], receiver=r["receiver"], year=int(r["year"]), value=r["value"],
                         qualifier=r["qualifier"], stated_low=r["low"], stated_high=r["high"],
                         stated_low_closed=stated_lc, stated_high_closed=stated_hc, low=rec.loc[q, "low"],
                         high=rec.loc[q, "high"], low_closed=bool(rec.loc[q, "low_closed"]),
                         high_closed=bool(rec.loc[q, "high_closed"])))
    out = pd.DataFrame(rows)
    order = {f: k for k, f in enumerate(_FLOW_ORDER)}
    out["_k"] = [order.get((s, r), 99) for s, r in zip(out["sender"], out["receiver"], strict=True)]
    return out.sort_values(["_k", "year"]).drop(columns="_k").reset_index(drop=True)
