"""Every numeric statement on the source page as a linear claim, checked and reconciled by linear programming.

Each published figure is a *claim* (``claim_id`` = ``figure_id``) about unknown true values, one LP variable
per measure/flow and year (:func:`variable`). A claim's interval comes from the interval convention
(:mod:`analysis.intervals`):

* ``level``            ``low <= x[year] <= high``
* ``change``           ``low <= x[year] - x[from_year] <= high``
* ``growth_percent``   ``x[year] - (1 + low/100)·x[from_year] >= 0`` and ``x[year] - (1 + high/100)·x[from_year] <= 0``
  (a ratio statement such as "over 82 prosent" is linear once multiplied out, since ``x[from_year] > 0``).

**Open interval ends are treated as closed.** "over 63" is (63, 64) in the convention but [63, 64] here: a
linear program cannot express a strict inequality, and the supremum of a bound over an open set equals its
maximum over the closure. A bound that is reached only at an open end is therefore not attained by any value
the wording strictly allows; it is the limit.

Besides the page's claims the model has *structural* constraints, labelled and kept apart from the claims
(they are never reported as a page's statement and never dropped when looking for a conflict):

* ``nonnegative``: every level is ``>= 0`` (message counts);
* ``other_definition@<year>``: ``total = sysvak + svarrapporter + frikort_egenandel + all PLO flows + other``
  in every year with a total (assumes the named categories do not overlap, as the page presents them);
* ``other_nonnegative@<year>``: ``other >= 0``, i.e. the total is at least the sum of its named parts.

The undated level "rundt 200 millioner" (``total_plateau``) describes *some years before 2021* that the page
does not name. It gets its own variable ``total[all->all]@undated`` and so does **not** constrain 2020 or
2021. :func:`check_claims` checks it against the earliest dated level of the same measure (the 2020 total,
which the page's sentence places among those "about 200 million" years) and says so in its ``note``.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.optimize import linprog

from analysis import i18n
from analysis.data import is_published, load_published
from analysis.errors import DataError
from analysis.formatting import bracketed, significant
from analysis.intervals import DEFAULT_RULES, Convention, Rule, add_bounds
from analysis.plotting import HATCHES, colors, wrap

UNDATED = "undated"
PARTS_OF_TOTAL = ("sysvak", "svarrapporter", "frikort_egenandel", "plo")
PANDEMIC_AREAS = ("sysvak", "svarrapporter", "frikort_egenandel")
# The changes the page singles out; the rest of the total change is the "unexplained" residual.
NAMED_CHANGES = (
    ("sysvak", "all", "all"),
    ("svarrapporter", "all", "all"),
    ("frikort_egenandel", "all", "all"),
    ("plo", "fastlege", "kommune"),
)
_TOL = 1e-7  # LP feasibility tolerance used when comparing intervals
_MAX_SUBSETS = 2500  # cap on subsets tried when looking for a smallest conflicting set


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
    """One linear constraint ``lo <= sum(coef * x) <= hi`` (either end may be None)."""

    coefs: Mapping[str, float]
    lo: float | None
    hi: float | None


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
            model.claims.append(_Claim(name, [_Row({name: 1.0}, float(r["low"]), float(r["high"]))], {name: 1.0}))
        _add_structure(model, seen, with_totals=False)
        return model

    for _, r in frame.iterrows():
        m, s, rc = r["measure"], r["sender"], r["receiver"]
        cid, kind = str(r["figure_id"]), r["kind"]
        lo, hi = float(r["low"]), float(r["high"])
        year = _year_key(r["year"])
        x = _add_var(model, seen, variable(m, year, s, rc), measure=m, sender=s, receiver=rc, year=year)
        if kind == "level":
            model.claims.append(_Claim(cid, [_Row({x: 1.0}, lo, hi)], {x: 1.0}))
            continue
        from_year = _year_key(r["from_year"])
        if year == UNDATED or from_year == UNDATED:
            raise DataError(f"data, claim {cid!r}: a {kind} needs both year and from_year")
        x0 = _add_var(model, seen, variable(m, from_year, s, rc), measure=m, sender=s, receiver=rc,
                      year=from_year)
        if kind == "change":
            model.claims.append(_Claim(cid, [_Row({x: 1.0, x0: -1.0}, lo, hi)], {x: 1.0, x0: -1.0}))
        elif kind == "growth_percent":
            rows = [_Row({x: 1.0, x0: -(1 + lo / 100)}, 0.0, None), _Row({x: 1.0, x0: -(1 + hi / 100)}, None, 0.0)]
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
    """A_ub, b_ub, A_eq, b_eq for the structural rows plus the claims with index in `active`."""
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


def _lp(c: np.ndarray, mats: tuple) -> tuple[int, float]:
    """Minimise c·x over the constraints (variables >= 0); return (status, value) as scipy's linprog reports."""
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


def _conflict(model: _Model, active: Sequence[int]) -> list[int]:
    """A smallest set of claims (indices) that cannot hold together with the structural constraints.

    A deletion filter gives an irreducible set (drop each claim in turn; keep it dropped if the rest is still
    infeasible); then every smaller subset is tried, while that stays within _MAX_SUBSETS LPs, so the set
    returned has the fewest claims possible.
    """
    keep = list(active)
    for k in list(keep):
        trial = [j for j in keep if j != k]
        if not _feasible(model, trial):
            keep = trial
    tried = 0
    for size in range(1, len(keep)):
        combos = itertools.combinations(active, size)
        for combo in combos:
            tried += 1
            if tried > _MAX_SUBSETS:
                return keep
            if not _feasible(model, combo):
                return list(combo)
    return keep


def _raise_if_infeasible(model: _Model) -> None:
    active = range(len(model.claims))
    if not _feasible(model, active):
        ids = [model.claims[k].claim_id for k in _conflict(model, list(active))]
        raise InconsistentClaims(ids)


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
    Open interval ends are treated as closed. Raises :class:`InconsistentClaims` if the claims contradict
    each other and :class:`DataError` for unknown variable names.
    """
    model = _build(_prepare(data, convention))
    _check_names(model, objective, "objective")
    if denominator is not None:
        _check_names(model, denominator, "denominator")
    _raise_if_infeasible(model)
    return _range(model, _matrices(model, range(len(model.claims))), objective, denominator)


def variables(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> list[str]:
    """Names of every LP variable for `data` (levels per measure/flow and year, plus `other` per year)."""
    return list(_build(_prepare(data, convention)).variables)


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
                        description=("other messages (total minus every named category)" if kind == "residual"
                                     else "level")))
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
                                   kind="growth_percent", description="growth in percent"))
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
                        description="change in the total not explained by SYSVAK, svarrapporter, "
                                    "frikort/egenandel and care messages GP -> municipality"))
    return out


def reconcile(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Tightest bounds on every underlying and derived quantity consistent with all claims at once.

    One row per quantity: ``quantity, low, high, measure, sender, receiver, kind, year, from_year, unit,
    description``; ``kind`` is level, change, growth_percent or residual (``other`` = total minus every named
    category; ``unexplained`` = the total change not explained by SYSVAK, svarrapporter, frikort/egenandel
    and GP -> municipality care messages). Each bound is a linear program (Charnes–Cooper for growth rates);
    open interval ends are treated as closed. Raises :class:`InconsistentClaims` naming a smallest
    conflicting set when the claims contradict each other.
    """
    frame = _prepare(data, convention)
    published = is_published(frame)
    model = _build(frame)
    _raise_if_infeasible(model)
    mats = _matrices(model, range(len(model.claims)))
    unit = _unit(frame) if published else "messages"
    rows = []
    for q in _quantities(model, published):
        try:
            lo, hi = _range(model, mats, q["numerator"], q["denominator"])
        except DataError:  # a growth rate whose start level can be 0 under the claims: no finite bound
            lo, hi = -np.inf, np.inf
        rows.append(dict(quantity=q["quantity"], low=lo, high=hi, measure=q["measure"], sender=q["sender"],
                         receiver=q["receiver"], kind=q["kind"], year=q["year"], from_year=q["from_year"],
                         unit="percent" if q["kind"] == "growth_percent" else unit, description=q["description"]))
    out = pd.DataFrame(rows, columns=["quantity", "low", "high", "measure", "sender", "receiver", "kind", "year",
                                      "from_year", "unit", "description"])
    out = out.iloc[sorted(range(len(out)), key=lambda k: _order_key(out.iloc[k]))].reset_index(drop=True)
    if published:
        out["year"] = pd.array(out["year"], dtype="Int64")
        out["from_year"] = pd.array(out["from_year"], dtype="Int64")
    return out


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


def _overlap(a_lo: float, a_hi: float, b_lo: float, b_hi: float) -> bool:
    return bool(a_lo <= b_hi + _TOL and b_lo <= a_hi + _TOL)


def _implied(model: _Model, active: list[int], claim: _Claim) -> tuple[float, float]:
    """Bounds on a claim's expression from the `active` claims; NaN if those are infeasible."""
    if not _feasible(model, active):
        return np.nan, np.nan
    mats = _matrices(model, active)
    try:
        return _range(model, mats, claim.numerator, claim.denominator)
    except DataError:  # the start level of a growth rate can be 0 without this claim: no finite bound
        return -np.inf, np.inf


def check_claims(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """One row per claim: its stated interval, what all the other claims imply for it, and whether they agree.

    Columns ``claim_id, wording, paraphrase, kind, value, unit, qualifier, stated_low, stated_high,
    stated_low_closed, stated_high_closed, implied_low, implied_high, reconciled_low, reconciled_high,
    consistent, in_conflict, note``.
    *implied* is the range of the claim's quantity over every value the other claims (and the structural
    constraints) allow; *reconciled* the range allowed by all claims together. Never raises on a
    contradiction: smallest conflicting sets are found one after another (``result.attrs["conflicts"]``, the
    first also as ``attrs["conflict"]``); their claims get ``in_conflict`` True and ``consistent`` False,
    reconciled bounds are NaN, and a claim whose other claims contradict each other is checked against the
    claims outside the conflicting sets (said in ``note``). Open interval ends are treated as closed.
    """
    frame = _prepare(data, convention)
    if not is_published(frame):
        raise DataError(
            "data: check_claims needs the published figures (columns figure_id, kind, ...); a user's series "
            "has no statements to check against each other"
        )
    model = _build(frame)
    frame = frame.reset_index(drop=True)
    everything = list(range(len(model.claims)))
    feasible = _feasible(model, everything)
    conflicts = [] if feasible else _all_conflicts(model, everything)
    flagged = {k for c in conflicts for k in c}
    clean = [k for k in everything if k not in flagged]
    mats = _matrices(model, everything) if feasible else None
    rows = []
    for k, claim in enumerate(model.claims):
        r = frame.iloc[k]
        others = [j for j in everything if j != k]
        notes = []
        if not feasible and not _feasible(model, others):
            others = [j for j in clean if j != k]
            notes.append("the other claims contradict each other: checked against the claims outside the "
                         "conflicting set(s) only")
        target_claim = claim
        if pd.isna(r["year"]) and r["kind"] == "level":
            target = _earliest_level(model, r)
            if target is None:
                notes.append("no year named and no dated level of this measure to compare with")
            else:
                target_claim = _Claim(claim.claim_id, [], {target: 1.0})
                notes.append(f"no year named: checked against {target}, which the page places among those "
                             "years; it does not constrain 2020 or 2021")
        implied = _implied(model, others, target_claim)
        reconciled = _range(model, mats, claim.numerator, claim.denominator) if feasible else (np.nan, np.nan)
        in_conflict = k in flagged
        consistent = False if in_conflict else _overlap(r["low"], r["high"], *implied)
        rows.append(dict(claim_id=claim.claim_id, wording=r["wording"], paraphrase=r["paraphrase"], kind=r["kind"],
                         value=r["value"], unit=r["unit"], qualifier=r["qualifier"],
                         stated_low=r["low"], stated_high=r["high"],
                         stated_low_closed=bool(r.get("low_closed", True)),
                         stated_high_closed=bool(r.get("high_closed", True)), implied_low=implied[0],
                         implied_high=implied[1], reconciled_low=reconciled[0], reconciled_high=reconciled[1],
                         consistent=consistent, in_conflict=in_conflict, note="; ".join(notes)))
    out = pd.DataFrame(rows)
    out["consistent"] = out["consistent"].astype(bool)
    out.attrs["conflict"] = [model.claims[k].claim_id for k in conflicts[0]] if conflicts else []
    out.attrs["conflicts"] = [[model.claims[k].claim_id for k in c] for c in conflicts]
    return out


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
    if row.lo is not None and row.hi is not None:
        return f"{row.lo:.6g} ≤ {expr} ≤ {row.hi:.6g}"
    return f"{expr} ≥ {row.lo:.6g}" if row.lo is not None else f"{expr} ≤ {row.hi:.6g}"


def registry(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Every claim with its wording, paraphrase, interval under the convention and the linear relation it states.

    Built from the published figures (one claim per ``figure_id``); ``quantity`` names what the claim bounds in
    :func:`reconcile`, ``relation`` is the claim's constraint(s) in the LP (open ends taken as closed).
    """
    frame = _prepare(data, convention)
    if not is_published(frame):
        raise DataError("data: the claims registry needs the published figures (columns figure_id, kind, ...)")
    model = _build(frame)
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
    out["relation"] = [" and ".join(_relation(row) for row in c.rows) for c in model.claims]
    return out


def structural_constraints(data: pd.DataFrame | None = None,
                           convention: str | Convention | None = None) -> pd.DataFrame:
    """The constraints that are not page claims, labelled: levels >= 0, total = named parts + other, other >= 0."""
    model = _build(_prepare(data, convention))
    rows = [dict(label="nonnegative", relation="every level ≥ 0 (message counts)")]
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


def derived(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Each change, growth rate and residual: stated wording (if the page states it), the naive arithmetic from
    the printed figures, and the reconciled bounds.

    Columns ``quantity, measure, sender, receiver, kind, year, from_year, unit, stated, stated_value,
    printed_start, printed_end, from_printed, low, high, printed_inside``; ``printed_start``/``printed_end``
    are the printed levels of a single flow (``other`` = total − named parts of them); ``from_printed`` treats
    every printed level as exact (labelled as such wherever shown).
    """
    frame = _prepare(data, convention)
    recon = reconcile(frame)
    reg = registry(frame)
    model = _build(frame)
    point = printed_point(frame)
    exprs = {q["quantity"]: q for q in _quantities(model, True)}
    out = recon[recon["kind"] != "level"].copy()
    out = out[~((out["kind"] == "residual") & out["from_year"].isna())]
    stated = dict(zip(reg["quantity"], reg["wording"], strict=True))
    out["stated"] = [stated.get(q, "") for q in out["quantity"]]
    out["from_printed"] = [_evaluate(exprs[q]["numerator"], exprs[q]["denominator"], point) for q in out["quantity"]]
    out["printed_inside"] = (out["from_printed"] >= out["low"] - _TOL) & (out["from_printed"] <= out["high"] + _TOL)
    value = dict(zip(reg["quantity"], reg["value"], strict=True))
    out["stated_value"] = [value.get(q, np.nan) for q in out["quantity"]]
    ends = [(point.get(variable(m, f, s, r), np.nan), point.get(variable(m, y, s, r), np.nan))
            if m not in ("unexplained",) else (np.nan, np.nan)
            for m, s, r, f, y in zip(out["measure"], out["sender"], out["receiver"], out["from_year"], out["year"],
                                     strict=True)]
    out["printed_start"] = [a for a, _ in ends]
    out["printed_end"] = [b for _, b in ends]
    cols = ["quantity", "measure", "sender", "receiver", "kind", "year", "from_year", "unit", "stated",
            "stated_value", "printed_start", "printed_end", "from_printed", "low", "high", "printed_inside"]
    return out[cols].reset_index(drop=True)


# A reading nobody should use: every printed figure taken as exact. It shows why the intervals matter.
FACE_VALUE = Convention("face_value", {q: Rule(0.0, 0.0, True, True) for q in DEFAULT_RULES})


def sensitivity(conventions: Sequence[str | Convention], quantities: Sequence[str] | None = None,
                data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reconciled bounds of `quantities` (default: all) under each convention, with any conflict named.

    Long format: ``convention, quantity, low, high, consistent, conflict``; under a convention where the claims
    contradict each other the bounds are NaN and ``conflict`` lists a smallest conflicting set.
    """
    rows = []
    for conv in conventions:
        name = conv.name if isinstance(conv, Convention) else str(conv)
        try:
            rec = reconcile(data, conv)
        except InconsistentClaims as exc:
            qs = quantities or []
            rows += [dict(convention=name, quantity=q, low=np.nan, high=np.nan, consistent=False,
                          conflict=", ".join(exc.conflict)) for q in (qs or ["(all)"])]
            continue
        if quantities is not None:
            missing = [q for q in quantities if q not in set(rec["quantity"])]
            if missing:
                raise DataError(f"quantities: unknown {missing}; choose from reconcile()['quantity']")
            rec = rec.set_index("quantity").loc[list(quantities)].reset_index()
        rows += [dict(convention=name, quantity=q, low=lo, high=hi, consistent=True, conflict="")
                 for q, lo, hi in zip(rec["quantity"], rec["low"], rec["high"], strict=True)]
    return pd.DataFrame(rows, columns=["convention", "quantity", "low", "high", "consistent", "conflict"])


# ---------------------------------------------------------------- tables and figures for the notebook

_TEXT = {
    "unexplained": {"nb": "Uforklart del av endringen i totalen", "en": "Unexplained part of the total change"},
    "rest": {"nb": "Resten (avledet: total − de tre)", "en": "The rest (derived: total − the three)"},
    "change": {"nb": "Endring", "en": "Change"},
    "growth": {"nb": "Vekst i prosent", "en": "Growth in percent"},
    "no_year": {"nb": "uten år", "en": "no year"},
    "million": {"nb": "mill.", "en": "million"},
    "mill_axis": {"nb": "millioner meldinger", "en": "million messages"},
    "mill_year_axis": {"nb": "millioner meldinger per år", "en": "million messages per year"},
    "change_axis": {"nb": "endring 2020–2021, millioner meldinger", "en": "change 2020–2021, million messages"},
}
_HEADERS = {
    "claim_id": {"nb": "id", "en": "id"},
    "wording": {"nb": "Utsagn (som trykt)", "en": "Statement (as printed)"},
    "stated": {"nb": "Oppgitt intervall", "en": "Stated interval"},
    "implied": {"nb": "De andre utsagnene tilsier", "en": "Implied by the others"},
    "reconciled": {"nb": "Avstemt (alle utsagn)", "en": "Reconciled (all statements)"},
    "unit": {"nb": "Enhet", "en": "Unit"},
    "ok": {"nb": "Stemmer", "en": "Agrees"},
    "quantity": {"nb": "Størrelse", "en": "Quantity"},
    "on_page": {"nb": "Oppgitt på siden", "en": "Stated on the page"},
    "from_printed": {"nb": "Regnet fra trykte tall (som om eksakte)", "en": "From the printed figures (as if exact)"},
    "bounds": {"nb": "Avstemte grenser", "en": "Reconciled bounds"},
    "inside": {"nb": "Trykt regnestykke innenfor", "en": "Printed arithmetic inside"},
    "convention": {"nb": "Konvensjon", "en": "Convention"},
}


def _t(key: str, lang: str) -> str:
    return i18n.pick(_TEXT[key], lang)


def _h(key: str, lang: str) -> str:
    return i18n.pick(_HEADERS[key], lang)


def flow_label(measure: str, sender: str, receiver: str, lang: str = "en") -> str:
    """Short label for a measure or a care-message flow, e.g. "PLO fastlege → kommune"."""
    if measure == "unexplained":
        return _t("unexplained", lang)
    if measure == "plo" and (sender, receiver) != ("all", "all"):
        return (f"PLO {i18n.label(i18n.PARTIES, sender, lang)} → "
                f"{i18n.label(i18n.PARTIES, receiver, lang)}")
    return i18n.label(i18n.MEASURES, measure, lang)


def quantity_label(row: Mapping, lang: str = "en") -> str:
    """Label for one row of :func:`reconcile` or :func:`derived`, in `lang`."""
    base = flow_label(row["measure"], row["sender"], row["receiver"], lang)
    year = row.get("year")
    if row.get("from_year") is None or pd.isna(row.get("from_year")):
        return f"{base}, {_t('no_year', lang) if year in (None, UNDATED) or pd.isna(year) else year}"
    span = f"{row['from_year']}–{year}"
    if row["measure"] == "unexplained":
        return f"{base}, {span}"
    prefix = _t("growth", lang) if row["kind"] == "growth_percent" else _t("change", lang)
    return f"{prefix}: {base}, {span}"


def _unit_text(unit: str, lang: str) -> str:
    return "%" if unit == "percent" else (_t("million", lang) if unit == "million messages" else unit)


def claims_table(check: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The check as a reader's table: statement as printed, stated interval, implied, reconciled, ✓ or ✗."""
    i18n.check_lang(lang)
    return pd.DataFrame({
        _h("claim_id", lang): check["claim_id"],
        _h("wording", lang): check["wording"],
        _h("unit", lang): [_unit_text(u, lang) for u in check["unit"]],
        _h("stated", lang): [bracketed(lo, hi, lang, lc, hc) for lo, hi, lc, hc in
                             zip(check["stated_low"], check["stated_high"], check["stated_low_closed"],
                                 check["stated_high_closed"], strict=True)],
        _h("implied", lang): [bracketed(lo, hi, lang) for lo, hi in
                              zip(check["implied_low"], check["implied_high"], strict=True)],
        _h("reconciled", lang): [bracketed(lo, hi, lang) for lo, hi in
                                 zip(check["reconciled_low"], check["reconciled_high"], strict=True)],
        _h("ok", lang): ["✓" if ok else "✗" for ok in check["consistent"]],
    })


def derived_table(der: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The recomputed figures as a reader's table: stated wording, printed arithmetic, reconciled bounds."""
    i18n.check_lang(lang)
    return pd.DataFrame({
        _h("quantity", lang): [quantity_label(r, lang) for _, r in der.iterrows()],
        _h("on_page", lang): der["stated"].replace("", "–"),
        _h("from_printed", lang): [significant(v, lang, 4) for v in der["from_printed"]],
        _h("bounds", lang): [bracketed(lo, hi, lang) for lo, hi in zip(der["low"], der["high"], strict=True)],
        _h("unit", lang): [_unit_text(u, lang) for u in der["unit"]],
        _h("inside", lang): ["✓" if ok else "✗" for ok in der["printed_inside"]],
    })


def reconciled_table(rec: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`reconcile` output as a reader's table: quantity label, reconciled bounds, unit."""
    i18n.check_lang(lang)
    return pd.DataFrame({
        _h("quantity", lang): [quantity_label(r, lang) for _, r in rec.iterrows()],
        _h("bounds", lang): [bracketed(lo, hi, lang) for lo, hi in zip(rec["low"], rec["high"], strict=True)],
        _h("unit", lang): [_unit_text(u, lang) for u in rec["unit"]],
        "quantity": rec["quantity"],
    })


def sensitivity_table(sens: pd.DataFrame, rec: pd.DataFrame | None = None, lang: str = "en") -> pd.DataFrame:
    """:func:`sensitivity` output as one row per quantity and one column of bounds per convention.

    `rec` (a :func:`reconcile` result) supplies readable labels; without it the quantity names are shown.
    """
    i18n.check_lang(lang)
    labels = {} if rec is None else {q: quantity_label(r, lang) for q, r in rec.set_index("quantity").iterrows()}
    text = sens.assign(
        label=[labels.get(q, q) for q in sens["quantity"]],
        bounds=[bracketed(lo, hi, lang) if ok else ("✗ " + c) for lo, hi, ok, c in
                zip(sens["low"], sens["high"], sens["consistent"], sens["conflict"], strict=True)],
    )
    table = text.pivot(index="label", columns="convention", values="bounds")
    order = list(dict.fromkeys(text["label"]))
    table = table.reindex(index=order, columns=list(dict.fromkeys(sens["convention"])))
    table.index.name = _h("quantity", lang)
    table.columns.name = _h("convention", lang)
    return table.reset_index()


def stack_table(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Totals split into the three pandemic-related areas and the rest, per year: printed value and bounds.

    Columns ``year, part, value, low, high, derived``; ``value`` is the printed figure, or for ``rest`` (total
    minus the three areas) the difference of printed figures (``derived`` True); bounds are reconciled.
    """
    frame = _prepare(data, convention)
    point = printed_point(frame)
    model = _build(frame)
    _raise_if_infeasible(model)
    mats = _matrices(model, range(len(model.claims)))
    years = sorted(i["year"] for i in model.info.values() if i["measure"] == "total" and i["year"] != UNDATED)
    rows = []
    for y in years:
        if not all(variable(m, y) in model.info for m in PANDEMIC_AREAS):
            continue
        for m in (*PANDEMIC_AREAS, "total"):
            lo, hi = _range(model, mats, {variable(m, y): 1.0})
            rows.append(dict(year=y, part=m, value=point[variable(m, y)], low=lo, high=hi, derived=False))
        coefs = {variable("total", y): 1.0} | {variable(m, y): -1.0 for m in PANDEMIC_AREAS}
        lo, hi = _range(model, mats, coefs)
        rows.append(dict(year=y, part="rest", value=_evaluate(coefs, None, point), low=lo, high=hi, derived=True))
    return pd.DataFrame(rows, columns=["year", "part", "value", "low", "high", "derived"])


def plot_stack(stack: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 1: the yearly totals stacked from the rest and the three pandemic-related areas, bounds as text."""
    parts = ["rest", "frikort_egenandel", "svarrapporter", "sysvak"]
    pal = colors(len(parts))
    years = list(dict.fromkeys(stack["year"]))
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for j, y in enumerate(years):
        sub = stack[stack["year"] == y].set_index("part")
        bottom = 0.0
        for k, p in enumerate(parts):
            v = sub.loc[p, "value"]
            label = (_t("rest", lang) if p == "rest" else i18n.label(i18n.MEASURES, p, lang)) if j == 0 else None
            ax.bar(j, v, bottom=bottom, width=0.5, color=pal[k], hatch=HATCHES[k], edgecolor="black",
                   linewidth=0.5, label=label)
            ax.annotate(f"{significant(v, lang, 4)}  {bracketed(sub.loc[p, 'low'], sub.loc[p, 'high'], lang)}",
                        (j + 0.27, bottom + v / 2), va="center", fontsize=8.5)
            bottom += v
        tot = sub.loc["total"]
        ax.errorbar(j, tot["value"], yerr=[[tot["value"] - tot["low"]], [tot["high"] - tot["value"]]],
                    fmt="none", ecolor="black", elinewidth=1.5, capsize=8)
        ax.annotate(f"{i18n.pick({'nb': 'Totalt', 'en': 'Total'}, lang)} {significant(tot['value'], lang)}  "
                    f"{bracketed(tot['low'], tot['high'], lang)}", (j, tot["high"] + 6), ha="center",
                    fontsize=9, fontweight="bold")
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.grid(axis="x", visible=False)
    ax.set_xlim(-0.5, len(years) - 0.5 + 0.55)
    ax.set_ylim(0, stack["high"].max() * 1.12)
    ax.set_ylabel(_t("mill_year_axis", lang))
    ax.set_title(i18n.pick({"nb": "Alle medisinske meldinger: tre pandemirelaterte områder og resten",
                            "en": "All medical messages: three pandemic-related areas and the rest"}, lang))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], frameon=False, loc="upper left", fontsize=8.5)
    fig.text(0.01, 0.01, i18n.pick({
        "nb": "Søyler: trykte tall («resten» avledet som differanse). Tekst: trykt tall og avstemt intervall "
              "[lav; høy]. Feilstolpen på totalen er knapt synlig i denne skalaen.",
        "en": "Bars: printed figures (the rest derived as a difference). Text: printed figure and reconciled "
              "interval [low, high]. The whisker on the total is barely visible at this scale."}, lang),
        fontsize=8, style="italic")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def flows_table(data: pd.DataFrame | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Care-message (PLO) flows per year: printed value, stated interval and reconciled bounds."""
    frame = _prepare(data, convention)
    rec = reconcile(frame).set_index("quantity")
    lv = frame[(frame["measure"] == "plo") & (frame["kind"] == "level") & frame["year"].notna()]
    rows = []
    for _, r in lv.iterrows():
        q = variable("plo", _year_key(r["year"]), r["sender"], r["receiver"])
        rows.append(dict(sender=r["sender"], receiver=r["receiver"], year=int(r["year"]), value=r["value"],
                         stated_low=r["low"], stated_high=r["high"], low=rec.loc[q, "low"], high=rec.loc[q, "high"]))
    out = pd.DataFrame(rows)
    order = {f: k for k, f in enumerate(_FLOW_ORDER)}
    out["_k"] = [order.get((s, r), 99) for s, r in zip(out["sender"], out["receiver"], strict=True)]
    return out.sort_values(["_k", "year"]).drop(columns="_k").reset_index(drop=True)


def plot_flows(flows: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 2: care messages between GP, municipality and hospital trusts; below, the intervals around each
    printed figure (stated and reconciled) on a scale where they are visible."""
    keys = list(dict.fromkeys(zip(flows["sender"], flows["receiver"], strict=True)))
    years = sorted(flows["year"].unique())
    pal = colors(len(years))
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(9.5, 7.6), sharex=True, gridspec_kw={"height_ratios": [2, 1.3]})
    width = 0.8 / len(years)
    for j, y in enumerate(years):
        sub = flows[flows["year"] == y].set_index(["sender", "receiver"]).reindex(keys)
        pos = np.arange(len(keys)) - 0.4 + width * (j + 0.5)
        ax.bar(pos, sub["value"], width=width * 0.9, color=pal[j], hatch=HATCHES[j], edgecolor="black",
               linewidth=0.5, label=str(y))
        for p, (_, r) in zip(pos, sub.iterrows(), strict=True):
            ax.errorbar(p, (r["low"] + r["high"]) / 2, yerr=(r["high"] - r["low"]) / 2, fmt="none",
                        ecolor="black", elinewidth=1.4, capsize=5, zorder=4)
            ax.annotate(bracketed(r["low"], r["high"], lang), (p, r["high"] + 0.08), ha="center",
                        fontsize=7.5, rotation=90, va="bottom")
            # lower panel: thousand messages relative to the printed figure
            rel = [1000 * (r[k] - r["value"]) for k in ("stated_low", "stated_high", "low", "high")]
            bx.plot([p, p], rel[:2], color="0.6", lw=9, solid_capstyle="butt", zorder=2)
            bx.errorbar(p, (rel[2] + rel[3]) / 2, yerr=(rel[3] - rel[2]) / 2, fmt="none", ecolor="black",
                        elinewidth=1.6, capsize=5, zorder=4)
            bx.scatter([p], [0], marker="D", s=22, color=pal[j], edgecolor="black", zorder=5)
    bx.axhline(0, color="black", lw=0.6)
    bx.set_xticks(np.arange(len(keys)), [wrap(flow_label("plo", s, r, lang).replace("PLO ", ""), 22)
                                         for s, r in keys])
    bx.set_ylabel(wrap(i18n.pick({"nb": "tusen meldinger fra det trykte tallet",
                                  "en": "thousand messages from the printed figure"}, lang), 24), fontsize=9)
    ax.set_ylim(0, flows["high"].max() * 1.45)
    ax.set_ylabel(_t("mill_year_axis", lang))
    for axis in (ax, bx):
        axis.grid(axis="x", visible=False)
    ax.set_title(i18n.pick({"nb": "Pleie- og omsorgsmeldinger mellom fastlege, kommune og helseforetak",
                            "en": "Care messages (PLO) between GP, municipality and hospital trusts"}, lang))
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.6", lw=9), Line2D([], [], color="black", lw=1.6, marker="_", markersize=10)]
    labels += [i18n.pick({"nb": "oppgitt intervall (nedre panel)", "en": "stated interval (lower panel)"}, lang),
               i18n.pick({"nb": "avstemt (alle utsagn)", "en": "reconciled (all statements)"}, lang)]
    ax.legend(handles, labels, frameon=False, loc="upper right", fontsize=8.5)
    fig.text(0.01, 0.005, i18n.pick({
        "nb": "Søyler og ruter: trykte tall. Tall over søylene: avstemte grenser, millioner. Nedre panel: "
              "intervallene rundt det trykte tallet, i tusen meldinger.",
        "en": "Bars and diamonds: printed figures. Numbers above the bars: reconciled bounds, million. Lower "
              "panel: the intervals around the printed figure, in thousand messages."}, lang),
        fontsize=8, style="italic", wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_changes(der: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 3: each change 2020–2021, the stated (or printed-arithmetic) value with reconciled bounds."""
    ch = der[der["kind"].isin(["change", "residual"])].copy()
    ch["value"] = ch["stated_value"].fillna(ch["from_printed"])
    ch["is_derived"] = ch["stated_value"].isna()
    ch["label"] = [wrap(flow_label(m, s, r, lang), 30) for m, s, r in
                   zip(ch["measure"], ch["sender"], ch["receiver"], strict=True)]
    small = ch["measure"] == "plo"
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), gridspec_kw={"width_ratios": [1.25, 1]})
    pal = colors(2)
    for ax, sub in zip(axes, (ch[~small], ch[small]), strict=True):
        sub = sub.iloc[::-1]
        pos = np.arange(len(sub))
        for p, (_, r) in zip(pos, sub.iterrows(), strict=True):
            ax.barh(p, r["value"], color=pal[1] if r["is_derived"] else pal[0], hatch="//" if r["is_derived"] else "",
                    edgecolor="black", linewidth=0.5, height=0.6)
            ax.errorbar(r["value"] if r["low"] <= r["value"] <= r["high"] else (r["low"] + r["high"]) / 2, p,
                        xerr=[[max(r["value"] - r["low"], 0) if r["low"] <= r["value"] <= r["high"]
                               else (r["high"] - r["low"]) / 2],
                              [max(r["high"] - r["value"], 0) if r["low"] <= r["value"] <= r["high"]
                               else (r["high"] - r["low"]) / 2]],
                        fmt="none", ecolor="black", elinewidth=1.4, capsize=4)
            outside = "" if r["low"] - _TOL <= r["value"] <= r["high"] + _TOL else i18n.pick(
                {"nb": "\n ✗ trykt regnestykke utenfor", "en": "\n ✗ printed arithmetic outside"}, lang)
            ax.annotate(f" {bracketed(r['low'], r['high'], lang)}{outside}", (max(r["value"], r["high"]), p),
                        va="center", fontsize=8)
        ax.set_yticks(pos, sub["label"])
        ax.grid(axis="y", visible=False)
        ax.set_xlim(min(0, sub["low"].min()), max(sub["high"].max(), sub["value"].max()) * 1.6)
        ax.set_xlabel(_t("change_axis", lang))
    axes[1].set_title(i18n.pick({"nb": "Pleie- og omsorgsmeldinger", "en": "Care messages (PLO)"}, lang),
                      fontsize=10)
    fig.suptitle(i18n.pick({"nb": "Endring fra 2020 til 2021 med avstemte grenser",
                            "en": "Change from 2020 to 2021 with reconciled bounds"}, lang), fontweight="bold")
    handles = [Patch(facecolor=pal[0], edgecolor="black", label=i18n.pick(
                   {"nb": "oppgitt på siden", "en": "stated on the page"}, lang)),
               Patch(facecolor=pal[1], edgecolor="black", hatch="//", label=i18n.pick(
                   {"nb": "avledet fra trykte tall (som om eksakte)",
                    "en": "derived from printed figures (as if exact)"}, lang)),
               Line2D([], [], color="black", lw=1.4, marker="|", markersize=8,
                      label=i18n.pick({"nb": "avstemte grenser", "en": "reconciled bounds"}, lang))]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8.5)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return fig


def findings(check: pd.DataFrame, der: pd.DataFrame, lang: str = "en") -> str:
    """Generated markdown sentences with the key numbers of the check and the reconciliation."""
    i18n.check_lang(lang)
    d = der.set_index("quantity")
    n, ok = len(check), int(check["consistent"].sum())

    def iv(q: str) -> str:
        return bracketed(d.loc[q, "low"], d.loc[q, "high"], lang)

    def num(v: float, digits: int = 3) -> str:
        return significant(v, lang, digits)

    fk = "plo[fastlege->kommune]"
    lines = []
    if ok == n:
        lines.append(i18n.pick({"nb": f"Alle {n} utsagn på siden stemmer med hverandre under denne konvensjonen.",
                                "en": f"All {n} statements on the page agree with each other under this "
                                      "convention."}, lang))
    else:
        lines.append(i18n.pick({"nb": f"{n - ok} av {n} utsagn stemmer ikke med de andre: "
                                      f"{', '.join(check.loc[~check['consistent'], 'claim_id'])}.",
                                "en": f"{n - ok} of {n} statements do not agree with the others: "
                                      f"{', '.join(check.loc[~check['consistent'], 'claim_id'])}."}, lang))
    stated_changes = d[(d["kind"] == "change") & d["stated_value"].notna()]
    if len(stated_changes):
        agree = (stated_changes["from_printed"] - stated_changes["stated_value"]).abs() < 1e-9
        sums = ", ".join(f"{num(r['printed_end'], 4)} − {num(r['printed_start'], 4)} = {num(r['from_printed'], 4)}"
                         f"{'' if ok_ else ' ≠ ' + num(r['stated_value'], 4)}"
                         for (_, r), ok_ in zip(stated_changes.iterrows(), agree, strict=True))
        lines.append(i18n.pick({
            "nb": f"{'Hver' if agree.all() else 'Ikke hver'} oppgitt endring er lik differansen mellom de trykte "
                  f"nivåene: {sums}.",
            "en": f"{'Every' if agree.all() else 'Not every'} stated change equals the difference of its printed "
                  f"levels: {sums}."}, lang))
    tight = check[(check["reconciled_high"] - check["reconciled_low"])
                  < (check["stated_high"] - check["stated_low"]) - 1e-6]
    if len(tight):
        quote = ("«", "»") if lang == "nb" else ("“", "”")
        items = ", ".join(f"{quote[0]}{r['wording']}{quote[1]} ({r['claim_id']}) → "
                          f"{bracketed(r['reconciled_low'], r['reconciled_high'], lang)}"
                          for _, r in tight.iterrows())
        lines.append(i18n.pick({
            "nb": f"Disse utsagnene er strammere bundet av de andre enn av sin egen ordlyd: {items}.",
            "en": f"These statements are pinned down more tightly by the others than by their own wording: "
                  f"{items}."}, lang))
    tg = "growth_percent:total[all->all]@2020-2021"
    if tg in d.index:
        lines.append(i18n.pick({
            "nb": f"Totalen vokste med {iv(tg)} prosent (de trykte tallene, tatt som eksakte, gir "
                  f"{num(d.loc[tg, 'from_printed'])} %).",
            "en": f"The total grew by {iv(tg)} percent (the printed figures, taken as exact, give "
                  f"{num(d.loc[tg, 'from_printed'])} %)."}, lang))
    q = f"change:{fk}@2020-2021"
    if q in d.index and not d.loc[q, "printed_inside"]:
        lines.append(i18n.pick({
            "nb": f"«Over 82 prosent» binder meldingene fra fastleger til kommunene: endringen var {iv(q)} "
                  f"millioner, ikke de {num(d.loc[q, 'from_printed'], 2)} millionene de trykte nivåene gir, og "
                  f"veksten {num(d.loc[f'growth_percent:{fk}@2020-2021', 'from_printed'])} % fra de trykte "
                  "tallene ligger utenfor det siden sier.",
            "en": f"'Over 82 prosent' pins the messages from GPs to municipalities: the change was {iv(q)} "
                  f"million, not the {num(d.loc[q, 'from_printed'], 2)} million the printed levels give, and the "
                  f"growth of {num(d.loc[f'growth_percent:{fk}@2020-2021', 'from_printed'])} % from the printed "
                  "figures lies outside what the page states."}, lang))
    u = "unexplained_change@2020-2021"
    total = significant(d.loc["change:total[all->all]@2020-2021", "stated_value"], lang, 3) if (
        "change:total[all->all]@2020-2021" in d.index) else "?"
    if u in d.index:
        lines.append(i18n.pick({
            "nb": f"SYSVAK, svarrapporter, frikort/egenandel og PLO fastlege → kommune forklarer hele økningen "
                  f"på {total} millioner unntatt {iv(u)} millioner.",
            "en": f"SYSVAK, result reports, exemption card/co-payment and PLO GP → municipality explain all of "
                  f"the {total} million increase except {iv(u)} million."}, lang))
    return "\n".join(f"- {line}" for line in lines)
