"""Growth decomposition: how much of the change between two periods each driver explains, with joint bounds.

A *driver* is a name for one or more series keys ``(measure, sender, receiver)``. For two periods
``start`` and ``end`` the table from :func:`contributions` has one row per driver, then ``other`` (the
total minus every driver) and ``total``. Each quantity has a point value and ``low``/``high`` bounds:

* **bounds** are the minimum and maximum of the quantity over every set of true values consistent with
  all published claims at once (levels, stated changes, the "over 82 %" growth), computed by linear
  programming in :func:`analysis.claims.bound`; ratios (percentage points, shares, growth rates) are
  bounded as ratios, not by dividing interval ends;
* **point values** use the printed figures: a hedged figure such as "over 63" enters as the printed 63
  (the open end of its interval: the bounds, not the point, carry the hedge). The level values are chosen
  one at a time (the totals, then each driver, start before end): the printed figure if all claims still
  allow it given the values already chosen, otherwise the middle of what they allow, said in the row's
  ``note``. This happens for the care-message flow fastlege → kommune: 1.8 → 3.4 is 89 % growth, but the
  page says "over 82 %" (82–83 %), so 2020 becomes 1.840 (the middle of 1.831–1.85) and 2021, given
  that, 3.359 (82.5 % growth). The chosen values satisfy every claim at once, so every point (changes,
  ratios, ``other``) lies inside its bounds. A row's ``change`` is its ``end`` minus its ``start``;
  ``other`` is the total minus the drivers, so driver rows plus ``other`` add up to ``total`` exactly for
  every column that adds up (start, end, change, pp, share_pct).

For a user's series (:func:`analysis.data.load_series`) every row is a level boxed in its own interval;
the total is the measure ``total`` (sender and receiver ``all``) or, if the file has no such rows, the sum
of all rows of the period (said in the notes). A driver key with no row in a period counts as 0 messages
there, flagged in its note, because the total of a file without a ``total`` measure counts it as 0 too.

Tables, sentences and figures for readers of these results are in :mod:`analysis.present.decompose_report`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from analysis.cache import cached
from analysis.claims import bound, bound_ends, variable
from analysis.data import is_published, levels
from analysis.errors import DataError
from analysis.intervals import Convention, add_bounds
from analysis.results import Note, note

Key = tuple[str, str, str]
Objective = dict[str, float]

DEFAULT_DRIVERS: dict[str, list[Key]] = {
    "sysvak": [("sysvak", "all", "all")],
    "svarrapporter": [("svarrapporter", "all", "all")],
    "frikort": [("frikort_egenandel", "all", "all")],
    "helseboka": [("plo", "fastlege", "kommune")],
}
# The page: messages "til og fra Helseboka AS"; the reverse flow is added on request.
HELSEBOKA_REVERSE: Key = ("plo", "kommune", "fastlege")
# Default for counterfactual(): the vaccination register and result reports (incl. lab results, i.e. the
# covid tests). Frikort/egenandel is listed under "koronahåndtering" on the page too, but its link to the
# pandemic is indirect (co-payment reporting follows patient activity in general); the notebook shows the
# counterfactual with it excluded as well.
PANDEMIC_DRIVERS: tuple[str, ...] = ("sysvak", "svarrapporter")

# Row labels, as codes in the `label` column (the words are in the presentation layer's catalogue). The page
# says the GP -> municipality growth is "i hovedsak" (mainly) Helseboka, so the flow's change is an upper end
# for Helseboka: `helseboka` / `helseboka_both` (with the reverse flow) on the published figures; on a user's
# series, which only has the flow itself, `plo_flow` / `plo_flow_both`. `other` (the total minus the drivers)
# is, for the default drivers, the same quantity notebook 01 calls the unexplained part of the total change
# (analysis.claims.NAMED_CHANGES); with one driver per measure of a user's file it is `other_measures`, the
# messages in no measure (01's "other messages"). Any other driver's label code is its name.
LABEL_CODES = ("sysvak", "svarrapporter", "frikort", "helseboka", "helseboka_both", "plo_flow", "plo_flow_both",
               "other", "other_measures", "total")
# What a row's point values are: arithmetic on the printed figures, a model point (a level the code chose
# because the page's figures rule the printed one out), or the values of a user's file.
POINT_BASIS = ("printed", "model", "data")

# Note codes (analysis.results.Note) and their values:
#   not_fit(value, period, low, high, mid)  a printed level the other figures rule out; the point is `mid`
#   open_end(wording, value)                a hedged figure ("over 63") entering as its printed value
#   skipped(names)                          default drivers not in a user's file
#   per_measure()                           none of the default drivers in the file: one driver per measure
#   sum_total()                             no measure 'total': the total is the sum of all rows
#   no_reverse(key)                         include_reverse_helseboka, but the reverse flow is not in the data
#   no_row(key, period)                     a driver key without a row in a period, counted as 0
#   other() / other_measures()              what the residual row is
#   undefined(what, base, period)           a ratio (what: pp, share, growth) whose base (start_total,
#                                           total_change, level_in) can be zero or change sign
#   outside(what, value, low, high)         a point outside its joint bounds (should not happen)
NOTE_CODES = ("not_fit", "open_end", "skipped", "per_measure", "sum_total", "no_reverse", "no_row", "other",
              "other_measures", "undefined", "outside")

COLUMNS = [
    "driver", "label", "point_basis", "start", "start_low", "start_high", "end", "end_low", "end_high",
    "change", "change_low", "change_high", "change_printed", "pp", "pp_low", "pp_high",
    "share_pct", "share_pct_low", "share_pct_high", "growth_pct", "growth_pct_low", "growth_pct_high",
    "note", "unit",
    # whether each bound is attained (closed) or only approached (open, from an "over"/"nesten" figure)
    *(f"{q}_{end}_closed" for q in ("start", "end", "change", "pp", "share_pct", "growth_pct")
      for end in ("low", "high")),
]
# Relative tolerance when checking that a point lies inside LP bounds (the solver's own accuracy).
_TOL = 1e-7


# ---------------------------------------------------------------- objectives (linear combinations)

def _combine(*parts: tuple[float, Mapping[str, float]]) -> Objective:
    """Return sum(k * objective) over (k, objective) pairs, dropping zero coefficients."""
    out: Objective = {}
    for k, obj in parts:
        for var, c in obj.items():
            out[var] = out.get(var, 0.0) + k * c
    return {v: c for v, c in out.items() if abs(c) > 1e-12}


def _inside(value: float, low: float, high: float) -> bool:
    tol = _TOL * max(1.0, abs(low), abs(high))
    return low - tol <= value <= high + tol


# ---------------------------------------------------------------- inputs resolved once

@dataclass
class _Setup:
    """The data, the two periods, the drivers and the LP bound function, resolved and checked."""

    data: pd.DataFrame
    frame: pd.DataFrame  # the data with low/high under the convention, as handed to analysis.claims.bound
    published: bool
    start: pd.Period
    end: pd.Period
    table: pd.DataFrame  # levels indexed by (period, measure, sender, receiver)
    drivers: dict[str, list[Key]]
    total_is_sum: bool
    unit: str
    per_measure: bool = False  # a user's file without the default drivers: one driver per measure
    notes: list[Note] = field(default_factory=list)
    driver_notes: dict[str, list[Note]] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)
    _points: dict[str, tuple[float, Note | None]] | None = None
    _rows: dict = field(default_factory=dict)  # (key, period) -> row label in frame (frame is never changed)

    # -- variables and objectives
    def has(self, key: Key, period: pd.Period) -> bool:
        return (period, *key) in self.table.index

    def var(self, key: Key, period: pd.Period) -> str:
        when = int(period.year) if period.freqstr.startswith("Y") else str(period)
        return variable(key[0], when, key[1], key[2])

    def keys_in(self, period: pd.Period) -> list[Key]:
        sub = self.table.loc[period] if period in self.table.index.get_level_values(0) else None
        return [] if sub is None else [tuple(k) for k in sub.index]

    def total_keys(self, period: pd.Period) -> list[Key]:
        return self.keys_in(period) if self.total_is_sum else [("total", "all", "all")]

    def level(self, keys: Iterable[Key], period: pd.Period) -> Objective:
        return _combine(*((1.0, {self.var(k, period): 1.0}) for k in keys if self.has(k, period)))

    def total(self, period: pd.Period) -> Objective:
        return self.level(self.total_keys(period), period)

    # -- bounds by linear programming over all claims jointly, and whether each end is attained
    def bound(self, objective: Objective, denominator: Objective | None = None) -> tuple[float, float, bool, bool]:
        """(low, high, low_closed, high_closed) of the objective (over the denominator) under all claims."""
        if not objective:
            return (0.0, 0.0, True, True)
        key = (tuple(sorted(objective.items())), tuple(sorted((denominator or {}).items())))
        if key not in self._cache:
            lo, hi, lc, hc = bound_ends(objective, data=self.frame, convention=None, denominator=denominator)
            self._cache[key] = (float(lo), float(hi), bool(lc), bool(hc))
        return self._cache[key]

    # -- point values: one set of level values that all claims allow at once
    def _row_index(self, key: Key, period: pd.Period) -> object:
        if (key, period) not in self._rows:
            self._rows[key, period] = self._find_row(key, period)
        return self._rows[key, period]

    def _find_row(self, key: Key, period: pd.Period) -> object:
        f = self.frame
        same = (f["measure"] == key[0]) & (f["sender"] == key[1]) & (f["receiver"] == key[2])
        if self.published:
            same &= (f["kind"] == "level") & (f["year"] == period.year)
        else:
            same &= f["period"] == period
        return f.index[same][0]

    def _ordered_keys(self) -> list[tuple[Key, pd.Period]]:
        order: list[tuple[Key, pd.Period]] = []
        groups = ([] if self.total_is_sum else [self.total_keys(self.start)]) + list(self.drivers.values())
        groups.append(self.total_keys(self.start) + self.total_keys(self.end))
        for keys in groups:
            for k in keys:
                for p in (self.start, self.end):
                    if self.has(k, p) and (k, p) not in order:
                        order.append((k, p))
        return order

    def points(self) -> dict[str, tuple[float, Note | None]]:
        """Level values, variable by variable: the printed figure if the claims still allow it given the
        values fixed before it, else the middle of what they allow (so together they satisfy every claim)."""
        if self._points is not None:
            return self._points
        out: dict[str, tuple[float, Note | None]] = {}
        fixed: list[pd.Series] = []
        # A printed "over 63" sits at the open end of its interval, so the points are chosen over the closure
        # of the claims (every end taken as closed), as the bounds are.
        closure = self.frame.drop(columns=["low_closed", "high_closed"], errors="ignore")
        for key, period in self._ordered_keys():
            name = self.var(key, period)
            idx = self._row_index(key, period)
            value = float(self.frame.at[idx, "value"])
            extra = pd.DataFrame(fixed) if fixed else None
            frame = closure if extra is None else pd.concat([closure, extra], ignore_index=True)
            lo, hi = bound({name: 1.0}, data=frame, convention=None)
            why = None
            if not _inside(value, lo, hi):
                mid = (lo + hi) / 2
                why = note("not_fit", value=value, period=str(period), low=float(lo), high=float(hi), mid=mid)
                value = mid
            out[name] = (value, why)
            row = closure.loc[idx].copy()
            row["low"] = row["high"] = value
            if "figure_id" in row.index:
                row["figure_id"] = f"_point:{name}"
            fixed.append(row)
        self._points = out
        return out

    def key_point(self, key: Key, period: pd.Period) -> tuple[float, Note | None]:
        """Point value of one key in one period (0 when the key has no row there)."""
        if not self.has(key, period):
            return 0.0, None
        return self.points()[self.var(key, period)]

    def open_end_note(self, key: Key, period: pd.Period) -> Note | None:
        """Say so when a point is a printed figure at the open end of its interval ("over 63" as 63)."""
        if not self.published or not self.has(key, period) or self.key_point(key, period)[1]:
            return None
        row = self.frame.loc[self._row_index(key, period)]
        if row["qualifier"] not in ("over", "almost", "just_over"):
            return None
        return note("open_end", wording=str(row["wording"]), value=float(row["value"]))

    def point(self, keys: Iterable[Key], period: pd.Period) -> tuple[float, list[Note]]:
        total, notes = 0.0, []
        for k in keys:
            v, why = self.key_point(k, period)
            total += v
            if why:
                notes.append(why)
        return total, notes

    def printed(self, keys: Iterable[Key], period: pd.Period) -> float:
        """Sum of the keys' printed figures (or file values) in `period`, as if exact; 0 for a key with no row."""
        return sum(float(self.frame.at[self._row_index(k, period), "value"]) for k in keys if self.has(k, period))

    def modelled(self, keys: Iterable[Key], period: pd.Period) -> bool:
        """Whether any of the keys' point values is a model point (not the printed figure)."""
        return any(self.key_point(k, period)[1] for k in keys)


def _as_period(value: object, freq: str, name: str) -> pd.Period:
    text = str(value).strip()
    try:
        return pd.Period(text, freq=freq)
    except (ValueError, TypeError):
        example = "2020" if freq.startswith("Y") else "2019-03"
        raise DataError(f"parameter '{name}': {value!r} is not a period; write it like {example}") from None


def _driver_keys(spec: object, name: str) -> list[Key]:
    """Turn one driver's spec (a measure name, a (measure, sender, receiver) triple, or a list) into keys."""
    if isinstance(spec, str):
        return [(spec, "all", "all")]
    if isinstance(spec, Sequence) and len(spec) == 3 and all(isinstance(s, str) for s in spec):
        return [tuple(spec)]  # type: ignore[list-item]
    if isinstance(spec, Iterable):
        out: list[Key] = []
        for item in spec:
            out.extend(_driver_keys(item, name))
        return out
    raise DataError(
        f"drivers[{name!r}]: {spec!r} is not a measure name, a (measure, sender, receiver) triple or a list "
        "of them; e.g. {'labs': ['svarrapporter'], 'gp_to_municipality': [('plo', 'fastlege', 'kommune')]}"
    )


def _check_overlap(drivers: Mapping[str, list[Key]]) -> None:
    """Refuse drivers that count the same messages twice (the same key, or a flow inside an 'all' key)."""
    owner: dict[Key, str] = {}
    for name, keys in drivers.items():
        for k in keys:
            if k[0] == "total":
                raise DataError(f"drivers[{name!r}]: the measure 'total' cannot be a driver; it is the whole")
            if k in owner and owner[k] != name:
                raise DataError(f"drivers {owner[k]!r} and {name!r} both cover {k}; give each key to one driver")
            owner[k] = name
    for a, na in owner.items():
        for b, nb in owner.items():
            if a != b and a[0] == b[0] and a[1:] == ("all", "all") and na != nb:
                raise DataError(
                    f"drivers {na!r} ({a}) and {nb!r} ({b}) overlap: the flow is part of the measure's 'all' "
                    "row; use either the whole measure or its flows"
                )


def _series_default_drivers(setup_keys: set[Key]) -> tuple[dict[str, list[Key]], list[Note]]:
    """Default drivers for a user's series: the named defaults it has, else one driver per measure."""
    notes = []
    found = {n: [k for k in keys if k in setup_keys] for n, keys in DEFAULT_DRIVERS.items()}
    found = {n: ks for n, ks in found.items() if ks}
    if found:
        skipped = [n for n in DEFAULT_DRIVERS if n not in found]
        if skipped:
            notes.append(note("skipped", names=tuple(skipped)))
        return found, notes
    by_measure: dict[str, list[Key]] = {}
    for k in sorted(setup_keys):
        if k[0] != "total":
            by_measure.setdefault(k[0], []).append(k)
    out = {}
    for m, ks in by_measure.items():
        out[m] = [(m, "all", "all")] if (m, "all", "all") in ks else ks
    notes.append(note("per_measure"))
    return out, notes


def _prepare(
    data: pd.DataFrame,
    start: object,
    end: object,
    drivers: Mapping[str, object] | None,
    include_reverse_helseboka: bool,
    convention: str | Convention | None,
) -> _Setup:
    """Check the inputs and resolve periods, drivers and the total."""
    published = is_published(data)
    lv = levels(data)
    if lv.empty:
        raise DataError("the data have no level rows with a period; nothing to decompose")
    freq = lv["period"].iloc[0].freqstr
    p0, p1 = _as_period(start, freq, "start"), _as_period(end, freq, "end")
    have = sorted(set(lv["period"]))
    for name, p in (("start", p0), ("end", p1)):
        if p not in have:
            raise DataError(
                f"parameter '{name}': {p} is not a period in the data; the data have {[str(h) for h in have]}"
            )
    if not p0 < p1:
        raise DataError(f"parameters 'start' ({p0}) and 'end' ({p1}): start must come before end")
    table = lv.set_index(["period", "measure", "sender", "receiver"]).sort_index()
    keys0 = {tuple(k[1:]) for k in table.index if k[0] == p0}
    keys1 = {tuple(k[1:]) for k in table.index if k[0] == p1}
    notes: list[Note] = []

    # the total
    tot = ("total", "all", "all")
    if published or tot in keys0 | keys1:
        missing = [str(p) for p, ks in ((p0, keys0), (p1, keys1)) if tot not in ks]
        if missing:
            raise DataError(
                f"the data have the measure 'total' (sender/receiver 'all') but not for {missing}; "
                "give it for both periods, or leave 'total' out so the total is the sum of all rows"
            )
        total_is_sum = False
    else:
        total_is_sum = True
        notes.append(note("sum_total"))

    # the drivers
    driver_notes: dict[str, list[Note]] = {}
    if drivers is None:
        if published:
            resolved = {n: list(ks) for n, ks in DEFAULT_DRIVERS.items()}
        else:
            resolved, more = _series_default_drivers(keys0 | keys1)
            notes.extend(more)
    else:
        if not isinstance(drivers, Mapping) or not drivers:
            raise DataError("parameter 'drivers': give a mapping from driver name to measures/flows, or None")
        resolved = {str(n): _driver_keys(spec, str(n)) for n, spec in drivers.items()}
        reserved = {"other", "total"} & set(resolved)
        if reserved:
            raise DataError(f"parameter 'drivers': {sorted(reserved)} are reserved row names; rename them")
    if include_reverse_helseboka and "helseboka" in resolved and HELSEBOKA_REVERSE not in resolved["helseboka"]:
        if HELSEBOKA_REVERSE in keys0 | keys1:
            resolved["helseboka"] = [*resolved["helseboka"], HELSEBOKA_REVERSE]
        else:
            notes.append(note("no_reverse", key="/".join(HELSEBOKA_REVERSE)))
    _check_overlap(resolved)
    absent = {n: [k for k in ks if k not in keys0 | keys1] for n, ks in resolved.items()}
    absent = {n: ks for n, ks in absent.items() if ks}
    if absent:
        where = "the published figures" if published else "the file"
        raise DataError(
            f"driver key(s) not in {where} for {p0} or {p1}: "
            + "; ".join(f"{n}: {ks}" for n, ks in absent.items())
            + (". The page gives levels for 2020 and 2021 only" if published else
               ". Check the measure/sender/receiver names, or leave drivers=None")
        )
    for n, ks in resolved.items():
        for k in ks:
            for p, have_keys in ((p0, keys0), (p1, keys1)):
                if k not in have_keys:
                    if published:
                        raise DataError(f"driver {n!r}: the published figures have no level for {k} in {p}")
                    driver_notes.setdefault(n, []).append(note("no_row", key="/".join(k), period=str(p)))
    unit = "million messages" if published else str(lv["unit"].iloc[0])
    has_bounds = {"low", "high"} <= set(data.columns)
    frame = add_bounds(data, convention) if convention is not None or not has_bounds else data
    # drivers that cover every measure of the file leave only messages in no measure as the residual
    covered = {k for ks in resolved.values() for k in ks}
    every = not published and all(k in covered or (k[0], "all", "all") in covered
                                  for k in keys0 | keys1 if k[0] != "total")
    return _Setup(data, frame.reset_index(drop=True), published, p0, p1, table, resolved, total_is_sum, unit,
                  every, notes, driver_notes)


# ---------------------------------------------------------------- the decomposition

@dataclass
class _Part:
    """One row's objectives (start and end levels) and point values."""

    name: str
    s_obj: Objective
    e_obj: Objective
    s: float
    e: float
    c: float
    notes: list[Note]
    modelled: bool = False  # a point value rests on a model point (a level the code chose)
    printed_c: float = math.nan  # the change from the printed figures taken as exact


def _parts(setup: _Setup) -> list[_Part]:
    """Objectives and point values of every driver, then other, then total (points add up exactly)."""
    p0, p1 = setup.start, setup.end
    parts = []
    for name, keys in setup.drivers.items():
        s, n0 = setup.point(keys, p0)
        e, n1 = setup.point(keys, p1)
        notes = list(setup.driver_notes.get(name, [])) + n0 + n1
        s_obj, e_obj = setup.level(keys, p0), setup.level(keys, p1)
        notes += [n for k in keys for p in (p0, p1) if (n := setup.open_end_note(k, p))]
        modelled = setup.modelled(keys, p0) or setup.modelled(keys, p1)
        printed = setup.printed(keys, p1) - setup.printed(keys, p0)
        parts.append(_Part(name, s_obj, e_obj, s, e, e - s, notes, modelled, printed))
    ts, tn0 = setup.point(setup.total_keys(p0), p0)
    te, tn1 = setup.point(setup.total_keys(p1), p1)
    total = _Part("total", setup.total(p0), setup.total(p1), ts, te, te - ts, list(setup.notes) + tn0 + tn1,
                  setup.modelled(setup.total_keys(p0), p0) or setup.modelled(setup.total_keys(p1), p1),
                  setup.printed(setup.total_keys(p1), p1) - setup.printed(setup.total_keys(p0), p0))
    other = _Part(
        "other",
        _combine((1, total.s_obj), *((-1, p.s_obj) for p in parts)),
        _combine((1, total.e_obj), *((-1, p.e_obj) for p in parts)),
        total.s - sum(p.s for p in parts),
        total.e - sum(p.e for p in parts),
        total.c - sum(p.c for p in parts),
        [note("other_measures" if setup.per_measure else "other")],
        total.modelled or any(p.modelled for p in parts),
        total.printed_c - sum(p.printed_c for p in parts),
    )
    return [*parts, other, total]


def _ratio(
    setup: _Setup, num_point: float, num: Objective, den_point: float, den: Objective, what: str,
    base: str = "",
) -> tuple[float, float, float, bool | None, bool | None, Note | None]:
    """Point, joint bounds and their closedness of 100 * num / den, or NaN with a note when den can be zero or
    negative."""
    dlo, dhi = setup.bound(den)[:2] if den else (0.0, 0.0)
    sign = 1.0
    if dhi < 0:  # a denominator that is negative throughout (e.g. a falling total): flip both signs
        sign, dlo, dhi = -1.0, -dhi, -dlo
    if dlo <= 0 or den_point == 0:
        why = note("undefined", what=what, base=base, period=str(setup.start))
        return math.nan, math.nan, math.nan, None, None, why
    scaled = _combine((100.0 * sign, num))
    lo, hi, lc, hc = setup.bound(scaled, denominator=_combine((sign, den))) if scaled else (0.0, 0.0, True, True)
    return 100.0 * num_point / den_point, lo, hi, lc, hc, None


@dataclass(frozen=True)
class Contributions:
    """The decomposition of the change from `start` to `end`, with what a reader needs to read it.

    `table` is :func:`contributions`' DataFrame; `notes` holds each row's notes (by driver, in row order),
    whose codes are in the table's `note` column; `drivers` the keys each driver covers.
    """

    table: pd.DataFrame
    start: str
    end: str
    unit: str
    published: bool
    drivers: Mapping[str, tuple[Key, ...]]
    per_measure: bool
    notes: Mapping[str, tuple[Note, ...]]

    @property
    def both_directions(self) -> bool:
        """Whether the helseboka driver includes the reverse flow kommune → fastlege."""
        return HELSEBOKA_REVERSE in self.drivers.get("helseboka", ())


@cached
def contributions_result(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
    convention: str | Convention | None = None,
) -> Contributions:
    """Return :func:`contributions`' table with its periods, unit, drivers and row notes (a Contributions)."""
    setup = _prepare(data, start, end, drivers, include_reverse_helseboka, convention)
    parts = _parts(setup)
    total = parts[-1]
    t_change = _combine((1, total.e_obj), (-1, total.s_obj))
    rows, row_notes = [], {}
    for part in parts:
        notes = list(part.notes)
        change = _combine((1, part.e_obj), (-1, part.s_obj))
        s_lo, s_hi, *s_ends = setup.bound(part.s_obj)
        e_lo, e_hi, *e_ends = setup.bound(part.e_obj)
        c_lo, c_hi, *c_ends = setup.bound(change)
        pp, pp_lo, pp_hi, *pp_ends, n = _ratio(setup, part.c, change, total.s, total.s_obj, "pp", "start_total")
        notes += [n] if n else []
        if part.name == "total":
            share, sh_lo, sh_hi, sh_ends = 100.0, 100.0, 100.0, [True, True]
        else:
            share, sh_lo, sh_hi, *sh_ends, n = _ratio(setup, part.c, change, total.c, t_change,
                                                      "share", "total_change")
            notes += [n] if n else []
        growth, g_lo, g_hi, *g_ends, n = _ratio(setup, part.c, change, part.s, part.s_obj, "growth", "level_in")
        notes += [n] if n else []
        closed = {}
        for q, qe in (("start", s_ends), ("end", e_ends), ("change", c_ends), ("pp", pp_ends),
                      ("share_pct", sh_ends), ("growth_pct", g_ends)):
            closed[f"{q}_low_closed"], closed[f"{q}_high_closed"] = qe
        for what, v, lo, hi in (("start", part.s, s_lo, s_hi), ("end", part.e, e_lo, e_hi),
                                ("change", part.c, c_lo, c_hi)):
            if not _inside(v, lo, hi):
                notes.append(note("outside", what=what, value=v, low=lo, high=hi))
        notes = [n for i, n in enumerate(notes) if n not in notes[:i]]  # each note once, in order
        row_notes[part.name] = tuple(notes)
        basis = "model" if part.modelled or total.modelled else ("printed" if setup.published else "data")
        rows.append({
            "driver": part.name, "label": _label_code(part.name, setup), "point_basis": basis,
            "start": part.s, "start_low": s_lo, "start_high": s_hi,
            "end": part.e, "end_low": e_lo, "end_high": e_hi,
            "change": part.c, "change_low": c_lo, "change_high": c_hi, "change_printed": part.printed_c,
            "pp": pp, "pp_low": pp_lo, "pp_high": pp_hi,
            "share_pct": share, "share_pct_low": sh_lo, "share_pct_high": sh_hi,
            "growth_pct": growth, "growth_pct_low": g_lo, "growth_pct_high": g_hi,
            "note": "; ".join(n.code for n in notes), "unit": setup.unit, **closed,
        })
    return Contributions(
        table=pd.DataFrame(rows, columns=COLUMNS), start=str(setup.start), end=str(setup.end), unit=setup.unit,
        published=setup.published, drivers=MappingProxyType({n: tuple(ks) for n, ks in setup.drivers.items()}),
        per_measure=setup.per_measure, notes=MappingProxyType(row_notes),
    )


def contributions(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
    convention: str | Convention | None = None,
) -> pd.DataFrame:
    """Return one row per driver, then other and total: levels, change, pp, share and growth with bounds."""
    return contributions_result(data, start, end, drivers, include_reverse_helseboka, convention).table


def _label_code(name: str, setup: _Setup) -> str:
    """The row's label code (see LABEL_CODES): which words the presentation layer gives the row."""
    if name == "helseboka":
        both = "_both" if HELSEBOKA_REVERSE in setup.drivers.get("helseboka", []) else ""
        # Helseboka is the page's explanation of the 2021 growth; a user's series only has the flow itself
        return ("helseboka" if setup.published else "plo_flow") + both
    if name == "other" and setup.per_measure:
        return "other_measures"
    return name


# ---------------------------------------------------------------- the counterfactual

# The rows of a counterfactual table; each row's `note` is its code (the same as the quantity), explained in
# the presentation layer: the modelled rows assume no substitution (no other messages would have replaced the
# excluded drivers'); `plateau` is the page's undated "about 200 million" level of the years before 2021.
CF_QUANTITIES = ("start_total", "end_total", "excluded_change", "counterfactual_total", "counterfactual_change",
                 "counterfactual_growth_pct", "plateau")


@dataclass(frozen=True)
class Counterfactual:
    """The end total without the excluded drivers' change, with what a reader needs to read it.

    `table` is :func:`counterfactual`'s DataFrame; `notes` has one Note per quantity (its code is the
    table's `note`): `excluded_change` carries the drivers (`names`), `plateau` its `wording` and `step`.
    """

    table: pd.DataFrame
    start: str
    end: str
    unit: str
    published: bool
    exclude: tuple[str, ...]
    notes: Mapping[str, Note]

    @property
    def code(self) -> str:
        """The variant's code, the excluded drivers joined by '_' (used in file names)."""
        return "_".join(self.exclude)


@cached
def counterfactual_result(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    exclude: Sequence[str] | None = None,
    convention: str | Convention | None = None,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
) -> Counterfactual:
    """Return :func:`counterfactual`'s table with its periods, unit, excluded drivers and notes."""
    setup = _prepare(data, start, end, drivers, include_reverse_helseboka, convention)
    if exclude is None:
        exclude = [d for d in PANDEMIC_DRIVERS if d in setup.drivers]
        if not exclude:
            raise DataError(
                f"parameter 'exclude': the default drivers {list(PANDEMIC_DRIVERS)} are not in the data; "
                f"name the drivers to leave out, from {list(setup.drivers)}"
            )
    if isinstance(exclude, str):
        exclude = [exclude]
    unknown = [e for e in exclude if e not in setup.drivers]
    if unknown:
        raise DataError(f"parameter 'exclude': {unknown} are not drivers; choose from {list(setup.drivers)}")
    parts = {p.name: p for p in _parts(setup)}
    total = parts["total"]
    x_obj = _combine(*((k, obj) for e in exclude for k, obj in ((1, parts[e].e_obj), (-1, parts[e].s_obj))))
    x = sum(parts[e].c for e in exclude)
    cf_obj = _combine((1, total.e_obj), (-1, x_obj))
    cf_change_obj = _combine((1, cf_obj), (-1, total.s_obj))
    rows = [
        ("start_total", total.s, *setup.bound(total.s_obj)),
        ("end_total", total.e, *setup.bound(total.e_obj)),
        ("excluded_change", x, *setup.bound(x_obj)),
        ("counterfactual_total", total.e - x, *setup.bound(cf_obj)),
        ("counterfactual_change", total.e - x - total.s, *setup.bound(cf_change_obj)),
    ]
    g, g_lo, g_hi, g_lc, g_hc, _ = _ratio(setup, total.e - x - total.s, cf_change_obj, total.s, total.s_obj,
                                          "growth", "start_total")
    rows.append(("counterfactual_growth_pct", g, g_lo, g_hi, g_lc, g_hc))
    out = pd.DataFrame(rows, columns=["quantity", "value", "low", "high", "low_closed", "high_closed"])
    notes = {q: note(q) for q in out["quantity"]}
    notes["excluded_change"] = note("excluded_change", names=tuple(exclude))
    out["note"] = list(out["quantity"])
    if setup.published:
        plateau = setup.frame[setup.frame["figure_id"] == "total_plateau"]  # its interval under the convention
        if len(plateau) == 1:
            r = plateau.iloc[0]
            out.loc[len(out)] = [
                "plateau", float(r["value"]), float(r["low"]), float(r["high"]), bool(r.get("low_closed", True)),
                bool(r.get("high_closed", True)), "plateau",
            ]
            notes["plateau"] = note("plateau", wording=str(r["wording"]), step=float(r["step"]))
    out["unit"] = np.where(out["quantity"] == "counterfactual_growth_pct", "percent", setup.unit)
    return Counterfactual(table=out, start=str(setup.start), end=str(setup.end), unit=setup.unit,
                          published=setup.published, exclude=tuple(exclude), notes=MappingProxyType(notes))


def counterfactual(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    exclude: Sequence[str] | None = None,
    convention: str | Convention | None = None,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
) -> pd.DataFrame:
    """Return the end total without the excluded drivers' change, with joint bounds, beside the plateau."""
    return counterfactual_result(data, start, end, exclude, convention, drivers, include_reverse_helseboka).table


# ---------------------------------------------------------------- variants for the notebook

@dataclass(frozen=True)
class HelsebokaComparison:
    """The helseboka and other rows with (True) and without (False) the reverse flow, from compare_helseboka."""

    table: pd.DataFrame
    published: bool
    unit: str

    @property
    def empty(self) -> bool:
        """True when there was no helseboka driver or no reverse flow to compare."""
        return self.table.empty


@cached
def compare_helseboka_result(
    data: pd.DataFrame, start: int | str, end: int | str, convention: str | Convention | None = None,
) -> HelsebokaComparison:
    """Return :func:`compare_helseboka`'s table with whether the data are the published figures and the unit."""
    out = []
    for rev in (False, True):
        res = contributions_result(data, start, end, include_reverse_helseboka=rev, convention=convention)
        if rev and not res.both_directions:
            return HelsebokaComparison(pd.DataFrame(columns=["include_reverse_helseboka", *COLUMNS]),
                                       res.published, res.unit)
        sub = res.table[res.table["driver"].isin(["helseboka", "other"])].copy()
        sub.insert(0, "include_reverse_helseboka", rev)
        out.append(sub)
    return HelsebokaComparison(pd.concat(out, ignore_index=True), res.published, res.unit)


def compare_helseboka(
    data: pd.DataFrame, start: int | str, end: int | str, convention: str | Convention | None = None,
) -> pd.DataFrame:
    """Return the helseboka and other rows with and without the reverse flow kommune → fastlege.

    Empty when the data have no helseboka driver or no reverse flow to add.
    """
    return compare_helseboka_result(data, start, end, convention).table


@cached
def counterfactual_variants_result(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    exclude: Sequence[str] | None = None,
    convention: str | Convention | None = None,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
) -> tuple[Counterfactual, ...]:
    """Return the counterfactual for `exclude` (default: the pandemic drivers) and, if there is one, the
    same plus frikort; empty when the data have none of the drivers to exclude."""
    setup = _prepare(data, start, end, drivers, include_reverse_helseboka, convention)
    names = list(exclude) if exclude else [d for d in PANDEMIC_DRIVERS if d in setup.drivers]
    if not names:
        return ()
    variants = [names] + ([[*names, "frikort"]] if "frikort" in setup.drivers and "frikort" not in names else [])
    return tuple(counterfactual_result(data, start, end, exclude=v, convention=convention, drivers=drivers,
                                       include_reverse_helseboka=include_reverse_helseboka) for v in variants)


def counterfactual_variants(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    exclude: Sequence[str] | None = None,
    convention: str | Convention | None = None,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
) -> dict[str, pd.DataFrame]:
    """Return {variant code: counterfactual} (the code is the excluded drivers joined by '_') for `exclude`
    and, if there is one, the same plus frikort; empty when the data have none of the drivers to exclude."""
    return {v.code: v.table for v in counterfactual_variants_result(
        data, start, end, exclude, convention, drivers, include_reverse_helseboka)}

