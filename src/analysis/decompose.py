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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from analysis import i18n
from analysis.claims import bound, variable
from analysis.data import is_published, levels
from analysis.errors import DataError
from analysis.formatting import decimals_for, interval, number, significant, with_bounds
from analysis.intervals import Convention, add_bounds
from analysis.plotting import HATCHES, colors, wrap

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

DRIVER_LABELS: dict[str, dict[str, str]] = {
    "sysvak": {"nb": "SYSVAK (vaksinasjonsregisteret)", "en": "SYSVAK (vaccination register)"},
    "svarrapporter": {"nb": "Svarrapporter (inkl. lab.)", "en": "Result reports (incl. lab)"},
    "frikort": {"nb": "Frikort/egenandel", "en": "Exemption card/co-payment"},
    "helseboka": {"nb": "PLO fastlege → kommune (Helseboka)", "en": "Care msgs GP → municipality (Helseboka)"},
    "helseboka_both": {"nb": "PLO fastlege ↔ kommune (Helseboka)", "en": "Care msgs GP ↔ municipality (Helseboka)"},
    "other": {"nb": "Øvrige meldinger", "en": "Other messages"},
    "total": {"nb": "Totalt", "en": "Total"},
}

# Notes in the table, in both languages (the `note` column is in the `lang` asked for).
NOTES: dict[str, dict[str, str]] = {
    "not_fit": {
        "en": "printed {value} ({period}) does not fit the other figures on the page, which allow {lo} to {hi} "
              "(given the points chosen before it); point = the middle, {mid}",
        "nb": "trykt {value} ({period}) passer ikke med de andre tallene på siden, som tillater {lo} til {hi} "
              "(gitt punktene valgt før); punkt = midten, {mid}",
    },
    "open_end": {
        "en": "'{wording}' enters as the printed {value}, the open end of its interval",
        "nb": "«{wording}» regnes som det trykte {value}, det åpne endepunktet i intervallet",
    },
    "skipped": {
        "en": "default driver(s) {names} not in the file: skipped",
        "nb": "standarddriver(e) {names} finnes ikke i filen: utelatt",
    },
    "per_measure": {
        "en": "none of the default drivers is in the file: one driver per measure",
        "nb": "ingen av standarddriverne finnes i filen: én driver per measure",
    },
    "sum_total": {
        "en": "the file has no measure 'total': the total is the sum of all rows of each period",
        "nb": "filen har ikke measure 'total': totalen er summen av alle rader i hver periode",
    },
    "no_reverse": {
        "en": "include_reverse_helseboka: {key} is not in the data; not added",
        "nb": "include_reverse_helseboka: {key} finnes ikke i dataene; ikke lagt til",
    },
    "no_row": {
        "en": "no row for {key} in {period}: counted as 0 messages (add the row if it was not 0)",
        "nb": "ingen rad for {key} i {period}: regnet som 0 meldinger (legg til raden hvis tallet ikke var 0)",
    },
    "other": {
        "en": "total minus every driver, bounded jointly",
        "nb": "totalen minus alle driverne, avgrenset samlet",
    },
    "undefined": {
        "en": "{what} undefined: its base ({base}) is zero, or can be zero or change sign",
        "nb": "{what} udefinert: grunnlaget ({base}) er null, eller kan være null eller skifte fortegn",
    },
    "outside": {
        "en": "{what} point {value} outside its joint bounds [{lo}, {hi}]",
        "nb": "punktverdien for {what}, {value}, er utenfor grensene [{lo}, {hi}]",
    },
    "pp": {"en": "percentage points", "nb": "prosentpoeng"},
    "share": {"en": "share of the change", "nb": "andel av endringen"},
    "growth": {"en": "growth rate", "nb": "vekstrate"},
    "start_total": {"en": "the start total", "nb": "totalen i startperioden"},
    "total_change": {"en": "the total change", "nb": "endringen i totalen"},
    "level_in": {"en": "the level in {period}", "nb": "nivået i {period}"},
}


def _note(name: str, lang: str, **values: object) -> str:
    return i18n.pick(NOTES[name], lang).format(**values)


COLUMNS = [
    "driver", "label", "start", "start_low", "start_high", "end", "end_low", "end_high",
    "change", "change_low", "change_high", "pp", "pp_low", "pp_high",
    "share_pct", "share_pct_low", "share_pct_high", "growth_pct", "growth_pct_low", "growth_pct_high",
    "note", "unit",
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


# Numbers inside the notes: four significant digits in Python's general format, decimal mark by language.
_fmt = partial(significant, digits=4, typographic=False)


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
    lang: str = "en"
    notes: list[str] = field(default_factory=list)
    driver_notes: dict[str, list[str]] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)
    _points: dict[str, tuple[float, str | None]] | None = None

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

    # -- bounds by linear programming over all claims jointly
    def bound(self, objective: Objective, denominator: Objective | None = None) -> tuple[float, float]:
        if not objective:
            return (0.0, 0.0)
        key = (tuple(sorted(objective.items())), tuple(sorted((denominator or {}).items())))
        if key not in self._cache:
            lo, hi = bound(objective, data=self.frame, convention=None, denominator=denominator)
            self._cache[key] = (float(lo), float(hi))
        return self._cache[key]

    # -- point values: one set of level values that all claims allow at once
    def _row_index(self, key: Key, period: pd.Period) -> object:
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

    def points(self) -> dict[str, tuple[float, str | None]]:
        """Level values, variable by variable: the printed figure if the claims still allow it given the
        values fixed before it, else the middle of what they allow (so together they satisfy every claim)."""
        if self._points is not None:
            return self._points
        out: dict[str, tuple[float, str | None]] = {}
        fixed: list[pd.Series] = []
        for key, period in self._ordered_keys():
            name = self.var(key, period)
            idx = self._row_index(key, period)
            value = float(self.frame.at[idx, "value"])
            extra = pd.DataFrame(fixed) if fixed else None
            frame = self.frame if extra is None else pd.concat([self.frame, extra], ignore_index=True)
            lo, hi = bound({name: 1.0}, data=frame, convention=None)
            note = None
            if not _inside(value, lo, hi):
                mid = (lo + hi) / 2
                note = _note("not_fit", self.lang, value=_fmt(value, self.lang), period=period,
                             lo=_fmt(lo, self.lang), hi=_fmt(hi, self.lang), mid=_fmt(mid, self.lang))
                value = mid
            out[name] = (value, note)
            row = self.frame.loc[idx].copy()
            row["low"] = row["high"] = value
            if "figure_id" in row.index:
                row["figure_id"] = f"_point:{name}"
            fixed.append(row)
        self._points = out
        return out

    def key_point(self, key: Key, period: pd.Period) -> tuple[float, str | None]:
        """Point value of one key in one period (0 when the key has no row there)."""
        if not self.has(key, period):
            return 0.0, None
        return self.points()[self.var(key, period)]

    def open_end_note(self, key: Key, period: pd.Period) -> str | None:
        """Say so when a point is a printed figure at the open end of its interval ("over 63" as 63)."""
        if not self.published or not self.has(key, period) or self.key_point(key, period)[1]:
            return None
        row = self.frame.loc[self._row_index(key, period)]
        if row["qualifier"] not in ("over", "almost", "just_over"):
            return None
        return _note("open_end", self.lang, wording=row["wording"], value=_fmt(float(row["value"]), self.lang))

    def point(self, keys: Iterable[Key], period: pd.Period) -> tuple[float, list[str]]:
        total, notes = 0.0, []
        for k in keys:
            v, note = self.key_point(k, period)
            total += v
            if note:
                notes.append(note)
        return total, notes


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


def _series_default_drivers(setup_keys: set[Key], lang: str) -> tuple[dict[str, list[Key]], list[str]]:
    """Default drivers for a user's series: the named defaults it has, else one driver per measure."""
    notes = []
    found = {n: [k for k in keys if k in setup_keys] for n, keys in DEFAULT_DRIVERS.items()}
    found = {n: ks for n, ks in found.items() if ks}
    if found:
        skipped = [n for n in DEFAULT_DRIVERS if n not in found]
        if skipped:
            notes.append(_note("skipped", lang, names=skipped))
        return found, notes
    by_measure: dict[str, list[Key]] = {}
    for k in sorted(setup_keys):
        if k[0] != "total":
            by_measure.setdefault(k[0], []).append(k)
    out = {}
    for m, ks in by_measure.items():
        out[m] = [(m, "all", "all")] if (m, "all", "all") in ks else ks
    notes.append(_note("per_measure", lang))
    return out, notes


def _prepare(
    data: pd.DataFrame,
    start: object,
    end: object,
    drivers: Mapping[str, object] | None,
    include_reverse_helseboka: bool,
    convention: str | Convention | None,
    lang: str = "en",
) -> _Setup:
    """Check the inputs and resolve periods, drivers and the total."""
    i18n.check_lang(lang)
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
    notes: list[str] = []

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
        notes.append(_note("sum_total", lang))

    # the drivers
    driver_notes: dict[str, list[str]] = {}
    if drivers is None:
        if published:
            resolved = {n: list(ks) for n, ks in DEFAULT_DRIVERS.items()}
        else:
            resolved, more = _series_default_drivers(keys0 | keys1, lang)
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
            notes.append(_note("no_reverse", lang, key="/".join(HELSEBOKA_REVERSE)))
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
                    driver_notes.setdefault(n, []).append(_note("no_row", lang, key="/".join(k), period=p))
    unit = "million messages" if published else str(lv["unit"].iloc[0])
    has_bounds = {"low", "high"} <= set(data.columns)
    frame = add_bounds(data, convention) if convention is not None or not has_bounds else data
    return _Setup(data, frame.reset_index(drop=True), published, p0, p1, table, resolved, total_is_sum, unit,
                  lang, notes, driver_notes)


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
    notes: list[str]


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
        parts.append(_Part(name, s_obj, e_obj, s, e, e - s, notes))
    ts, tn0 = setup.point(setup.total_keys(p0), p0)
    te, tn1 = setup.point(setup.total_keys(p1), p1)
    total = _Part("total", setup.total(p0), setup.total(p1), ts, te, te - ts, list(setup.notes) + tn0 + tn1)
    other = _Part(
        "other",
        _combine((1, total.s_obj), *((-1, p.s_obj) for p in parts)),
        _combine((1, total.e_obj), *((-1, p.e_obj) for p in parts)),
        total.s - sum(p.s for p in parts),
        total.e - sum(p.e for p in parts),
        total.c - sum(p.c for p in parts),
        [_note("other", setup.lang)],
    )
    return [*parts, other, total]


def _ratio(
    setup: _Setup, num_point: float, num: Objective, den_point: float, den: Objective, what: str,
    base: str = "",
) -> tuple[float, float, float, str | None]:
    """Point and joint bounds of 100 * num / den, or NaN with a note when den can be zero or negative."""
    dlo, dhi = setup.bound(den) if den else (0.0, 0.0)
    sign = 1.0
    if dhi < 0:  # a denominator that is negative throughout (e.g. a falling total): flip both signs
        sign, dlo, dhi = -1.0, -dhi, -dlo
    if dlo <= 0 or den_point == 0:
        why = _note("undefined", setup.lang, what=_note(what, setup.lang), base=base)
        return math.nan, math.nan, math.nan, why
    scaled = _combine((100.0 * sign, num))
    lo, hi = setup.bound(scaled, denominator=_combine((sign, den))) if scaled else (0.0, 0.0)
    return 100.0 * num_point / den_point, lo, hi, None


def contributions(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
    convention: str | Convention | None = None,
    lang: str = "nb",
) -> pd.DataFrame:
    """Return one row per driver, then other and total: levels, change, pp, share and growth with bounds."""
    setup = _prepare(data, start, end, drivers, include_reverse_helseboka, convention, lang)
    parts = _parts(setup)
    total = parts[-1]
    t_change = _combine((1, total.e_obj), (-1, total.s_obj))
    rows = []
    for part in parts:
        notes = list(part.notes)
        change = _combine((1, part.e_obj), (-1, part.s_obj))
        s_lo, s_hi = setup.bound(part.s_obj)
        e_lo, e_hi = setup.bound(part.e_obj)
        c_lo, c_hi = setup.bound(change)
        pp, pp_lo, pp_hi, n = _ratio(setup, part.c, change, total.s, total.s_obj,
                                     "pp", _note("start_total", lang))
        notes += [n] if n else []
        if part.name == "total":
            share, sh_lo, sh_hi = 100.0, 100.0, 100.0
        else:
            share, sh_lo, sh_hi, n = _ratio(setup, part.c, change, total.c, t_change,
                                            "share", _note("total_change", lang))
            notes += [n] if n else []
        growth, g_lo, g_hi, n = _ratio(setup, part.c, change, part.s, part.s_obj,
                                       "growth", _note("level_in", lang, period=setup.start))
        notes += [n] if n else []
        for what, v, lo, hi in (("start", part.s, s_lo, s_hi), ("end", part.e, e_lo, e_hi),
                                ("change", part.c, c_lo, c_hi)):
            if not _inside(v, lo, hi):
                notes.append(_note("outside", lang, what=what, value=_fmt(v, lang), lo=_fmt(lo, lang),
                                   hi=_fmt(hi, lang)))
        rows.append({
            "driver": part.name, "label": _label(part.name, setup, lang),
            "start": part.s, "start_low": s_lo, "start_high": s_hi,
            "end": part.e, "end_low": e_lo, "end_high": e_hi,
            "change": part.c, "change_low": c_lo, "change_high": c_hi,
            "pp": pp, "pp_low": pp_lo, "pp_high": pp_hi,
            "share_pct": share, "share_pct_low": sh_lo, "share_pct_high": sh_hi,
            "growth_pct": growth, "growth_pct_low": g_lo, "growth_pct_high": g_hi,
            "note": "; ".join(dict.fromkeys(notes)), "unit": setup.unit,
        })
    out = pd.DataFrame(rows, columns=COLUMNS)
    out.attrs.update(start=str(setup.start), end=str(setup.end), unit=setup.unit, published=setup.published,
                     drivers={n: list(ks) for n, ks in setup.drivers.items()})
    return out


def _label(name: str, setup: _Setup, lang: str) -> str:
    if name in DRIVER_LABELS:
        both = HELSEBOKA_REVERSE in setup.drivers.get("helseboka", [])
        return _driver_label(name, both, setup.published, lang)
    return i18n.label(i18n.MEASURES, name, lang)


# ---------------------------------------------------------------- the counterfactual

CF_NOTES: dict[str, dict[str, str]] = {
    "start_total": {"en": "total in the start period", "nb": "totalen i startperioden"},
    "end_total": {"en": "total in the end period", "nb": "totalen i sluttperioden"},
    "excluded_change": {"en": "sum of the excluded drivers' changes: {names}",
                        "nb": "summen av endringene i de utelatte driverne: {names}"},
    "counterfactual_total": {
        "en": "modelled: the end total if the excluded drivers had stayed at their start level and everything "
              "else were as observed",
        "nb": "modellert: totalen i sluttperioden hvis de utelatte driverne hadde holdt seg på startnivået og alt "
              "annet var som observert",
    },
    "counterfactual_change": {"en": "modelled: counterfactual total minus the start total",
                              "nb": "modellert: kontrafaktisk total minus totalen i startperioden"},
    "counterfactual_growth_pct": {"en": "modelled: growth of the counterfactual total over the start total, percent",
                                  "nb": "modellert: vekst fra totalen i startperioden til den kontrafaktiske, prosent"},
    "plateau": {
        "en": "undated level ({wording}), some unnamed years before 2021; interval from the convention "
              "(step {step}, see data/README.md)",
        "nb": "nivå uten årstall ({wording}), noen år før 2021 som ikke nevnes; intervall fra konvensjonen "
              "(steg {step}, se data/README.md)",
    },
}


def counterfactual(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    exclude: Sequence[str] | None = None,
    convention: str | Convention | None = None,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
    lang: str = "nb",
) -> pd.DataFrame:
    """Return the end total without the excluded drivers' change, with joint bounds, beside the plateau."""
    setup = _prepare(data, start, end, drivers, include_reverse_helseboka, convention, lang)
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
    g, g_lo, g_hi, _ = _ratio(setup, total.e - x - total.s, cf_change_obj, total.s, total.s_obj, "growth",
                              _note("start_total", lang))
    rows.append(("counterfactual_growth_pct", g, g_lo, g_hi))
    out = pd.DataFrame(rows, columns=["quantity", "value", "low", "high"])
    out["note"] = [i18n.pick(CF_NOTES[q], lang).format(names=", ".join(exclude)) for q in out["quantity"]]
    if setup.published:
        plateau = setup.frame[setup.frame["figure_id"] == "total_plateau"]  # its interval under the convention
        if len(plateau) == 1:
            r = plateau.iloc[0]
            out.loc[len(out)] = [
                "plateau", float(r["value"]), float(r["low"]), float(r["high"]),
                i18n.pick(CF_NOTES["plateau"], lang).format(wording=r["wording"], step=_fmt(r["step"], lang)),
            ]
    out["unit"] = np.where(out["quantity"] == "counterfactual_growth_pct", "percent", setup.unit)
    out.attrs.update(start=str(setup.start), end=str(setup.end), exclude=list(exclude), unit=setup.unit)
    return out


# ---------------------------------------------------------------- text for notebooks and briefings

def labels(table: pd.DataFrame, lang: str) -> list[str]:
    """Row labels of a contributions table in `lang` (the table's own label for drivers not known here)."""
    both = HELSEBOKA_REVERSE in [tuple(k) for k in table.attrs.get("drivers", {}).get("helseboka", [])]
    published = table.attrs.get("published", True)
    return [_driver_label(d, both, published, lang) if d in DRIVER_LABELS else own
            for d, own in zip(table["driver"], table["label"], strict=True)]


def _driver_label(name: str, both: bool, published: bool, lang: str) -> str:
    key = "helseboka_both" if name == "helseboka" and both else name
    text = i18n.pick(DRIVER_LABELS[key], lang)
    # Helseboka is the page's explanation of the 2021 growth; a user's series only has the flow itself
    return text if published or name != "helseboka" else text.replace(" (Helseboka)", "")


def display_table(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the contributions table as text, "point [low–high]", with headers in `lang`."""
    i18n.check_lang(lang)
    unit = table.attrs.get("unit")
    s, e = table.attrs.get("start", "start"), table.attrs.get("end", "end")
    heads = {
        "start": {"nb": f"nivå {s}", "en": f"level {s}"},
        "end": {"nb": f"nivå {e}", "en": f"level {e}"},
        "change": {"nb": "endring", "en": "change"},
        "pp": {"nb": "bidrag, prosentpoeng", "en": "contribution, percentage points"},
        "share_pct": {"nb": "andel av endringen, %", "en": "share of the change, %"},
        "growth_pct": {"nb": "egen vekst, %", "en": "own growth, %"},
    }
    out = pd.DataFrame({i18n.pick({"nb": "driver", "en": "driver"}, lang): labels(table, lang)})
    for col, head in heads.items():
        u = unit if col in ("start", "end", "change") else "percent"
        out[i18n.pick(head, lang)] = [
            with_bounds(v, lo, hi, lang, unit=u)
            for v, lo, hi in zip(table[col], table[f"{col}_low"], table[f"{col}_high"], strict=True)
        ]
    out[i18n.pick({"nb": "merknad", "en": "note"}, lang)] = table["note"]
    return out.set_index(out.columns[0])


def display_counterfactual(cf: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the counterfactual table as text, "point [low–high]", with names and headers in `lang`."""
    i18n.check_lang(lang)
    names = {
        "start_total": {"nb": f"total {cf.attrs.get('start')}", "en": f"total {cf.attrs.get('start')}"},
        "end_total": {"nb": f"total {cf.attrs.get('end')}", "en": f"total {cf.attrs.get('end')}"},
        "excluded_change": {"nb": "endring i utelatte drivere", "en": "change in excluded drivers"},
        "counterfactual_total": {"nb": "kontrafaktisk total (modellert)", "en": "counterfactual total (modelled)"},
        "counterfactual_change": {"nb": "kontrafaktisk endring (modellert)",
                                  "en": "counterfactual change (modelled)"},
        "counterfactual_growth_pct": {"nb": "kontrafaktisk vekst, % (modellert)",
                                      "en": "counterfactual growth, % (modelled)"},
        "plateau": {"nb": "«rundt 200 millioner» (årene før)", "en": "\"about 200 million\" (the years before)"},
    }
    return pd.DataFrame({
        i18n.pick({"nb": "størrelse", "en": "quantity"}, lang): [
            i18n.pick(names[q], lang) if q in names else q for q in cf["quantity"]],
        i18n.pick({"nb": "verdi [mulige verdier]", "en": "value [possible values]"}, lang): [
            with_bounds(v, lo, hi, lang, unit=u)
            for v, lo, hi, u in zip(cf["value"], cf["low"], cf["high"], cf["unit"], strict=True)],
        i18n.pick({"nb": "merknad", "en": "note"}, lang): cf["note"],
    }).set_index(i18n.pick({"nb": "størrelse", "en": "quantity"}, lang))


_SUMMARY = {
    "total": {
        "nb": "Fra {s} til {e} {verb} totalen med {c} {unit} (mulige verdier {ci}), det vil si {pp} prosentpoeng "
              "({ppi}).",
        "en": "From {s} to {e} the total {verb} by {c} {unit} (possible values {ci}), that is {pp} percentage "
              "points ({ppi}).",
    },
    "up": {"nb": "økte", "en": "grew"},
    "down": {"nb": "falt", "en": "fell"},
    "driver": {
        "nb": "{name}{alone} forklarer om lag {pp} av de {tpp} prosentpoengene ({ppi}), {sh} % av økningen "
              "({shi} %).",
        "en": "{name}{alone} explains about {pp} of the {tpp} percentage points ({ppi}), {sh} % of the "
              "increase ({shi} %).",
    },
    "alone": {"nb": " alene", "en": " alone"},
    "other": {
        "nb": "Resten, alle andre meldinger, står for {pp} prosentpoeng ({ppi}); de endret seg med {g} % "
              "({gi} %).",
        "en": "The rest, all other messages, accounts for {pp} percentage points ({ppi}); they changed by {g} % "
              "({gi} %).",
    },
    "cf": {
        "nb": "Uten endringen i {names} ville {e} hatt om lag {v} {unit} ({vi}; en modellert størrelse)",
        "en": "Without the change in {names}, {e} would have had about {v} {unit} ({vi}; a modelled quantity)",
    },
    "plateau": {
        "nb": ", {where} nivået på «rundt 200 millioner» fra årene før ({pi})",
        "en": ", {where} the \"about 200 million\" level of the years before ({pi})",
    },
    "within": {"nb": "innenfor", "en": "within"},
    "outside": {"nb": "utenfor", "en": "outside"},
    "and": {"nb": " og ", "en": " and "},
}


def _mid_sentence(label: str) -> str:
    """A label as it reads inside a sentence: 'Svarrapporter' -> 'svarrapporter', 'SYSVAK' unchanged."""
    first = label.split(" ")[0]
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]


def summary_text(table: pd.DataFrame, cf: pd.DataFrame | None = None, lang: str = "nb") -> str:
    """Return plain-language sentences a briefing can quote, every number taken from the tables."""
    i18n.check_lang(lang)
    rows = table.assign(label=labels(table, lang)).set_index("driver")
    total, other = rows.loc["total"], rows.loc["other"]
    unit_key = table.attrs.get("unit", "messages")
    unit = i18n.label(i18n.UNITS, unit_key, lang)

    def n(x: float, u: str | None = None) -> str:
        return number(x, lang, unit=u)

    def iv(r: pd.Series, col: str, u: str | None = None) -> str:
        return interval(r[f"{col}_low"], r[f"{col}_high"], lang, decimals_for(r[col], u))

    def share(x: float) -> int:
        return 0 if math.isfinite(x) and abs(x) >= 10 else 1

    tpp = n(total["pp"])
    up = total["change"] >= 0
    size = (total["change_low"], total["change_high"]) if up else (-total["change_high"], -total["change_low"])
    lines = [i18n.pick(_SUMMARY["total"], lang).format(
        s=table.attrs.get("start"), e=table.attrs.get("end"), c=n(abs(total["change"]), unit_key),
        verb=i18n.pick(_SUMMARY["up" if up else "down"], lang),
        ci=interval(*size, lang, decimals_for(total["change"], unit_key)), unit=unit, pp=tpp, ppi=iv(total, "pp"))]
    drivers = [d for d in rows.index if d not in ("other", "total")]
    for i, d in enumerate(sorted(drivers, key=lambda d: -abs(np.nan_to_num(rows.loc[d, "pp"])))):
        r = rows.loc[d]
        lines.append(i18n.pick(_SUMMARY["driver"], lang).format(
            name=r["label"], alone=i18n.pick(_SUMMARY["alone"], lang) if i == 0 else "", pp=n(r["pp"]),
            tpp=tpp, ppi=iv(r, "pp"), sh=number(r["share_pct"], lang, share(r["share_pct"])),
            shi=interval(r["share_pct_low"], r["share_pct_high"], lang, share(r["share_pct"]))))
    lines.append(i18n.pick(_SUMMARY["other"], lang).format(
        pp=n(other["pp"]), ppi=iv(other, "pp"), g=n(other["growth_pct"]), gi=iv(other, "growth_pct")))
    if cf is not None:
        c = cf.set_index("quantity")
        ct = c.loc["counterfactual_total"]
        excluded = [_mid_sentence(rows.loc[d, "label"]) if d in rows.index else d for d in cf.attrs.get("exclude", [])]
        text = i18n.pick(_SUMMARY["cf"], lang).format(
            names=i18n.pick(_SUMMARY["and"], lang).join(excluded), e=cf.attrs.get("end"),
            v=n(ct["value"], unit_key), unit=unit, vi=interval(ct["low"], ct["high"], lang,
                                                               decimals_for(ct["value"], unit_key)))
        if "plateau" in c.index:
            pl = c.loc["plateau"]
            overlap = ct["low"] <= pl["high"] and ct["high"] >= pl["low"]
            text += i18n.pick(_SUMMARY["plateau"], lang).format(
                where=i18n.pick(_SUMMARY["within" if overlap else "outside"], lang),
                pi=interval(pl["low"], pl["high"], lang, 0))
        lines.append(text + ".")
    return "\n\n".join(lines)


# ---------------------------------------------------------------- figures

_UNIT_AXIS = {
    "million messages": {"nb": "millioner meldinger", "en": "million messages"},
    "messages": {"nb": "antall meldinger", "en": "number of messages"},
}


def _tick_formatter(lang: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: number(v, lang, 0 if float(v).is_integer() else 1))


def _axis_unit(table: pd.DataFrame, lang: str) -> str:
    return i18n.label(_UNIT_AXIS, table.attrs.get("unit", "messages"), lang)


def _axis_floor(values: Sequence[float]) -> float:
    """A round number below the waterfall's lowest value; 0 when cutting the axis would gain little."""
    lo, hi = min(values), max(values)
    span = hi - lo
    if lo <= 0 or span <= 0 or span > 0.6 * hi:
        return 0.0
    tick = 10 ** math.floor(math.log10(span))
    return max(0.0, math.floor((lo - 0.2 * span) / tick) * tick)


def plot_waterfall(table: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Waterfall from the start total to the end total, one bar per driver and other, with bound whiskers."""
    i18n.check_lang(lang)
    rows = table.assign(label=labels(table, lang)).set_index("driver")
    total = rows.loc["total"]
    steps = [d for d in rows.index if d != "total"]
    s, e = table.attrs.get("start", "start"), table.attrs.get("end", "end")
    word = i18n.pick(DRIVER_LABELS["total"], lang)
    ticks = [f"{word} {s}"] + [wrap(rows.loc[d, "label"], 16, break_long_words=False) for d in steps] + [f"{word} {e}"]
    cum = np.concatenate([[total["start"]], total["start"] + np.cumsum(rows.loc[steps, "change"].to_numpy())])
    floor = _axis_floor([*cum, total["start_low"], total["end_low"]])
    pal = colors(4)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.35 * len(ticks) + 1), 5.2))
    x = np.arange(len(ticks))

    def whisker(xi: float, y: float, lo: float, hi: float) -> None:
        ax.errorbar(xi, y, yerr=[[max(y - lo, 0)], [max(hi - y, 0)]], fmt="none", ecolor="black",
                    elinewidth=1.2, capsize=5)

    for xi, key in ((x[0], "start"), (x[-1], "end")):
        ax.bar(xi, total[key] - floor, bottom=floor, color=pal[0], edgecolor="black", linewidth=0.5)
        whisker(xi, total[key], total[f"{key}_low"], total[f"{key}_high"])
        ax.annotate(number(total[key], lang, unit=table.attrs.get("unit")),
                    (xi, total[f"{key}_high"]), xytext=(0, 4), textcoords="offset points", ha="center",
                    fontsize=9, fontweight="bold")
    for i, d in enumerate(steps, start=1):
        r = rows.loc[d]
        up = r["change"] >= 0
        color, hatch = (pal[2], HATCHES[2]) if d == "other" else ((pal[1], HATCHES[1]) if up else (pal[3], HATCHES[3]))
        ax.bar(x[i], r["change"], bottom=cum[i - 1], color=color, hatch=hatch, edgecolor="black", linewidth=0.5)
        # the whisker sits at the bar's end: start of the bar plus the change's bounds
        whisker(x[i], cum[i], cum[i - 1] + r["change_low"], cum[i - 1] + r["change_high"])
        ax.plot([x[i - 1] - 0.4, x[i] + 0.4], [cum[i - 1]] * 2, color="grey", linewidth=0.7, linestyle=":")
        ax.annotate(("+" if up else "") + number(r["change"], lang, unit=table.attrs.get("unit")),
                    (x[i], max(cum[i - 1], cum[i - 1] + r["change_high"])), xytext=(0, 4),
                    textcoords="offset points", ha="center", fontsize=9)
    ax.plot([x[-2] - 0.4, x[-1] + 0.4], [cum[-1]] * 2, color="grey", linewidth=0.7, linestyle=":")
    ax.set_xticks(x, ticks, fontsize=9)
    ax.set_ylim(bottom=floor)
    ax.yaxis.set_major_formatter(_tick_formatter(lang))
    ax.set_ylabel(_axis_unit(table, lang))
    ax.set_title(i18n.pick({"nb": f"Fra {s} til {e}: hva endringen består av",
                            "en": f"From {s} to {e}: what the change is made of"}, lang))
    caption = i18n.pick({
        "nb": "Streker: verdiene som er mulige når alle tallene (avrundet, med forbehold) skal stemme samtidig.",
        "en": "Whiskers: the values possible when all figures (rounded, with hedge words) must hold at once.",
    } if table.attrs.get("published", True) else {
        "nb": "Streker: verdiene som radenes intervaller tillater.",
        "en": "Whiskers: the values the rows' intervals allow.",
    }, lang)
    if floor > 0:
        caption += i18n.pick({"nb": f" Merk: aksen starter på {number(floor, lang, 0)}, ikke 0.",
                              "en": f" Note: the axis starts at {number(floor, lang, 0)}, not 0."}, lang)
    fig.text(0.01, 0.01, caption, fontsize=8, color="dimgray")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_pp(table: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Horizontal bars of each row's percentage-point contribution to total growth, with bound whiskers."""
    i18n.check_lang(lang)
    t = table.assign(label=labels(table, lang)).iloc[::-1].reset_index(drop=True)
    pal = colors(3)
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(t) + 1.6))
    y = np.arange(len(t))
    col = [pal[0] if d == "total" else (pal[2] if d == "other" else pal[1]) for d in t["driver"]]
    ax.barh(y, t["pp"].fillna(0), color=col, edgecolor="black", linewidth=0.5)
    err = np.vstack([(t["pp"] - t["pp_low"]).clip(lower=0), (t["pp_high"] - t["pp"]).clip(lower=0)])
    ax.errorbar(t["pp"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=4)
    for yi, v, lo, hi in zip(y, t["pp"], t["pp_low"], t["pp_high"], strict=True):
        if math.isnan(v):
            continue
        left = v < 0
        end = (min(v, lo) if left else max(v, hi)) if math.isfinite(lo) and math.isfinite(hi) else v
        ax.annotate(number(v, lang), (end, yi), xytext=(-6 if left else 6, 0), textcoords="offset points",
                    va="center", ha="right" if left else "left", fontsize=9)
    ax.margins(x=0.12)
    ax.set_yticks(y, t["label"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(i18n.pick({"nb": "bidrag til totalveksten, prosentpoeng",
                             "en": "contribution to total growth, percentage points"}, lang))
    s, e = table.attrs.get("start", "start"), table.attrs.get("end", "end")
    ax.set_title(i18n.pick({"nb": f"Bidrag til veksten {s}–{e} (endring / total {s} × 100)",
                            "en": f"Contributions to growth {s}–{e} (change / total {s} × 100)"}, lang))
    fig.tight_layout()
    return fig


def plot_counterfactual(cfs: Mapping[str, pd.DataFrame], lang: str = "nb") -> plt.Figure:
    """Start total, end total and one modelled counterfactual per variant, against the plateau band."""
    i18n.check_lang(lang)
    first = next(iter(cfs.values()))
    c0 = first.set_index("quantity")
    s, e = first.attrs.get("start", "start"), first.attrs.get("end", "end")
    bars = [(f"{i18n.pick(DRIVER_LABELS['total'], lang)} {s}", c0.loc["start_total"], False),
            (f"{i18n.pick(DRIVER_LABELS['total'], lang)} {e}", c0.loc["end_total"], False)]
    for name, cf in cfs.items():
        bars.append((name, cf.set_index("quantity").loc["counterfactual_total"], True))
    pal = colors(2)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(len(bars))
    if "plateau" in c0.index:
        pl = c0.loc["plateau"]
        ax.axhspan(pl["low"], pl["high"], color="grey", alpha=0.2, zorder=0)
        ax.axhline(pl["value"], color="grey", linestyle="--", linewidth=1, zorder=0)
        ax.text(len(bars) - 0.5, pl["high"], i18n.pick({
            "nb": f"«rundt 200 millioner» i årene før\n({interval(pl['low'], pl['high'], lang, 0)})",
            "en": f"\"about 200 million\" in the years before\n({interval(pl['low'], pl['high'], lang, 0)})"}, lang),
            ha="right", va="bottom", fontsize=8, color="dimgray")
    for xi, (_, r, modelled) in zip(x, bars, strict=True):
        ax.bar(xi, r["value"], color=pal[1] if modelled else pal[0], hatch=HATCHES[1] if modelled else "",
               edgecolor="black", linewidth=0.5, alpha=0.85 if modelled else 1)
        ax.errorbar(xi, r["value"], yerr=[[r["value"] - r["low"]], [r["high"] - r["value"]]], fmt="none",
                    ecolor="black", capsize=4)
        ax.annotate(number(r["value"], lang, unit=first.attrs.get("unit")), (xi, r["high"]),
                    xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=9)
    tag = i18n.pick({"nb": "\n(modellert)", "en": "\n(modelled)"}, lang)
    ax.set_xticks(x, [wrap(b[0], 24, break_long_words=False) + (tag if b[2] else "") for b in bars], fontsize=9)
    ax.yaxis.set_major_formatter(_tick_formatter(lang))
    ax.set_ylabel(_axis_unit(first, lang))
    ax.set_title(i18n.pick({"nb": f"{e} uten endringen i utelatte drivere: kontrafaktisk total",
                            "en": f"{e} without the excluded drivers' change: counterfactual total"}, lang))
    fig.tight_layout()
    return fig


def compare_helseboka(
    data: pd.DataFrame, start: int | str, end: int | str, convention: str | Convention | None = None,
    lang: str = "nb",
) -> pd.DataFrame:
    """Return the helseboka and other rows with and without the reverse flow kommune → fastlege.

    Empty when the data have no helseboka driver or no reverse flow to add.
    """
    out = []
    for rev in (False, True):
        t = contributions(data, start, end, include_reverse_helseboka=rev, convention=convention, lang=lang)
        if rev and HELSEBOKA_REVERSE not in t.attrs["drivers"].get("helseboka", []):
            return pd.DataFrame(columns=["include_reverse_helseboka", *COLUMNS])
        sub = t[t["driver"].isin(["helseboka", "other"])].copy()
        sub.insert(0, "include_reverse_helseboka", rev)
        out.append(sub)
    return pd.concat(out, ignore_index=True)


def helseboka_sentence(comparison: pd.DataFrame, lang: str = "nb") -> str:
    """Say in words what adding the reverse flow kommune → fastlege changes (from compare_helseboka)."""
    i18n.check_lang(lang)
    c = comparison.set_index(["include_reverse_helseboka", "driver"])
    one, both = c.loc[(False, "helseboka")], c.loc[(True, "helseboka")]
    o1, o2 = c.loc[(False, "other")], c.loc[(True, "other")]

    def pp(r: pd.Series) -> str:
        return f"{number(r['pp'], lang)} ({interval(r['pp_low'], r['pp_high'], lang, decimals_for(r['pp']))})"

    return i18n.pick({
        "nb": f"Med bare meldingene fra fastlege til kommune bidrar Helseboka-driveren med {pp(one)} prosentpoeng; "
              f"tar vi med meldingene den andre veien (sidens «til og fra»), blir bidraget {pp(both)}. "
              f"Det som flyttes, kommer fra «øvrige meldinger», som går fra {pp(o1)} til {pp(o2)} prosentpoeng. "
              f"Totalen er den samme.",
        "en": f"With only the messages from GPs to municipalities the Helseboka driver contributes {pp(one)} "
              f"percentage points; adding the messages the other way (the page's \"to and from\") makes it "
              f"{pp(both)}. What moves comes out of \"other messages\", which goes from {pp(o1)} to {pp(o2)} "
              f"percentage points. The total is unchanged.",
    }, lang)


def counterfactual_variants(
    data: pd.DataFrame,
    start: int | str,
    end: int | str,
    exclude: Sequence[str] | None = None,
    convention: str | Convention | None = None,
    drivers: Mapping[str, object] | None = None,
    include_reverse_helseboka: bool = False,
    lang: str = "nb",
) -> dict[str, pd.DataFrame]:
    """Return {label: counterfactual} for `exclude` (default: the pandemic drivers) and, if there is one,
    the same plus frikort; empty when the data have none of the drivers to exclude."""
    kw = dict(convention=convention, drivers=drivers, include_reverse_helseboka=include_reverse_helseboka,
              lang=lang)
    setup = _prepare(data, start, end, drivers, include_reverse_helseboka, convention)
    names = list(exclude) if exclude else [d for d in PANDEMIC_DRIVERS if d in setup.drivers]
    if not names:
        return {}
    variants = [names] + ([[*names, "frikort"]] if "frikort" in setup.drivers and "frikort" not in names else [])
    word = i18n.pick({"nb": "uten ", "en": "without "}, lang)
    joiner = i18n.pick({"nb": " og ", "en": " and "}, lang)
    out = {}
    for v in variants:
        names_v = [_mid_sentence(i18n.pick(DRIVER_LABELS[d], lang).split(" (")[0]) if d in DRIVER_LABELS else d
                   for d in v]
        text = names_v[0] if len(names_v) == 1 else ", ".join(names_v[:-1]) + joiner + names_v[-1]
        out[word + text] = counterfactual(data, start, end, exclude=v, **kw)
    return out


def display_helseboka(comparison: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the comparison from compare_helseboka as text: reading, row, change, pp and share with bounds."""
    i18n.check_lang(lang)
    reading = {False: {"nb": "fastlege → kommune", "en": "GP → municipality"},
               True: {"nb": "begge retninger", "en": "both directions"}}
    unit = comparison["unit"].iloc[0] if len(comparison) else None
    out = pd.DataFrame({
        i18n.pick({"nb": "Helseboka-driveren", "en": "Helseboka driver"}, lang): [
            i18n.pick(reading[bool(r)], lang) for r in comparison["include_reverse_helseboka"]],
        i18n.pick({"nb": "rad", "en": "row"}, lang): [
            i18n.pick(DRIVER_LABELS["helseboka" if d == "helseboka" else "other"], lang).split(" (")[0]
            if d == "other" else i18n.pick({"nb": "Helseboka", "en": "Helseboka"}, lang)
            for d in comparison["driver"]],
    })
    for col, head, u in (("change", {"nb": "endring", "en": "change"}, unit),
                         ("pp", {"nb": "bidrag, prosentpoeng", "en": "contribution, percentage points"}, None),
                         ("share_pct", {"nb": "andel av endringen, %", "en": "share of the change, %"}, None)):
        out[i18n.pick(head, lang)] = [
            with_bounds(v, lo, hi, lang, unit=u)
            for v, lo, hi in zip(comparison[col], comparison[f"{col}_low"], comparison[f"{col}_high"], strict=True)]
    return out.set_index(list(out.columns[:2]))


def describe_drivers(drivers: Mapping[str, Sequence[Key]]) -> str:
    """One line naming each driver and the measures/flows it covers, e.g. 'helseboka = plo fastlege→kommune'."""
    def key_text(k: Key) -> str:
        return k[0] if k[1:] == ("all", "all") else f"{k[0]} {k[1]}→{k[2]}"

    return "; ".join(f"{name} = {' + '.join(key_text(tuple(k)) for k in keys)}" for name, keys in drivers.items())


def data_line(table: pd.DataFrame, data_path: str, convention: object, lang: str = "nb") -> str:
    """One Markdown line saying what the decomposition ran on: data, periods, convention, unit, drivers."""
    published = table.attrs.get("published", True)
    source = i18n.pick({"nb": "de publiserte tallene (ehelse_meldingsutveksling)",
                        "en": "the published figures (ehelse_meldingsutveksling)"}, lang) if published else data_path
    words = {"nb": ("Data", "perioder", "konvensjon", "enhet", "drivere"),
             "en": ("Data", "periods", "convention", "unit", "drivers")}[i18n.check_lang(lang)]
    return (f"**{words[0]}:** {source} · **{words[1]}:** {table.attrs['start']} → {table.attrs['end']} · "
            f"**{words[2]}:** `{convention}` · **{words[3]}:** {i18n.label(i18n.UNITS, table.attrs['unit'], lang)} · "
            f"**{words[4]}:** {describe_drivers(table.attrs['drivers'])}")
