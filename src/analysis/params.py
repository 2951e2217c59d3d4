"""The notebooks' parameters, checked before any computation: by the command line before a kernel starts, and
by each notebook at its start (the same rules, the same one-line message).

:func:`check` takes a notebook's name and its parameter values (``globals()`` in a notebook: names it does not
know are ignored) and raises a :class:`~analysis.errors.DataError` naming the first bad parameter, what is wrong
and the valid values. Given the data the notebook will use, it also checks that the periods asked for are
in them. In IPython, :func:`check` also makes a DataError show as its one line (no traceback wall); the cell
still fails, so papermill and the report pipeline still see the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from analysis.errors import DataError

LANGS = ("nb", "en")  # the languages of the notebooks (the catalogue's folders; a test keeps both in step)
COMPARE_METHODS = ("rolling", "loo")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^\d{4}$")


def _fail(name: str, value: object, what: str) -> DataError:
    return DataError(f"parameter '{name}': {value!r} {what}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise _fail(name, value, "is not text; write it in quotes, e.g. \"\"")


def _lang(name: str, value: object) -> None:
    if value not in LANGS:
        raise _fail(name, value, f"is not a language of the notebooks; use one of {list(LANGS)}")


def _convention(name: str, value: object) -> None:
    from analysis.intervals import get_convention

    _text(name, value)
    try:
        get_convention(str(value))
    except DataError as exc:
        raise DataError(f"parameter '{name}': {exc}") from None


def _whole(low: int | None = None, high: int | None = None) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if not _is_int(value):
            raise _fail(name, value, f"is not a whole number; give e.g. {max(low or 0, 1)}")
        if low is not None and value < low:
            raise _fail(name, value, f"is below {low}; give a whole number of {low} or more")
        if high is not None and value > high:
            raise _fail(name, value, f"is above {high}; give a whole number up to {high}")
    return check


def _number(low: float, high: float, low_open: bool, high_open: bool, example: str) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if not _is_number(value):
            raise _fail(name, value, f"is not a number; give e.g. {example}")
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if too_low or too_high:
            lo, hi = "(" if low_open else "[", ")" if high_open else "]"
            raise _fail(name, value, f"is outside {lo}{low:g}, {high:g}{hi}; give e.g. {example}")
    return check


def _flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise _fail(name, value, "is not True or False")


def _period_value(name: str, value: object, *, zero: bool = False) -> None:
    """A year (2020) or a month as text ('2019-03'); with `zero`, 0 (none) too."""
    if zero and _is_int(value) and value == 0:
        return
    if _is_int(value) and 1900 <= value <= 9999:
        return
    if isinstance(value, str) and (_YEAR.match(value.strip()) or _MONTH.match(value.strip())):
        return
    raise _fail(name, value, "is not a period; write a year such as 2020 or a month in quotes such as \"2019-03\""
                + (" (0: none)" if zero else ""))


def _names(known: Callable[[], Sequence[str]], what: str, *, empty: bool) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        allowed = list(known())
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise _fail(name, value, f"is not a list of {what} names; write e.g. [\"{allowed[0]}\"]")
        if not value and not empty:
            raise _fail(name, value, f"is empty; name at least one of {allowed}")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise _fail(name, value, f"has unknown {what} name(s) {unknown}; the {what}s are {allowed}")
        if len(set(value)) < len(value):
            raise _fail(name, value, f"names a {what} twice; name each once")
    return check


def _models() -> tuple[str, ...]:
    from analysis.trend import MODELS

    return MODELS


def _drivers() -> tuple[str, ...]:
    from analysis.decompose import DEFAULT_DRIVERS

    return tuple(DEFAULT_DRIVERS)


def _one_of(known: Callable[[], Sequence[str]], extra: Sequence[str] = ()) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        allowed = [*extra, *known()]
        if value not in allowed:
            raise _fail(name, value, f"is not known; use one of {allowed}")
    return check


def _periods_list(name: str, value: object) -> None:
    if not isinstance(value, list | tuple) or not value:
        raise _fail(name, value, "is not a non-empty list of periods; write e.g. [2020, 2021]")
    for v in value:
        _period_value(name, v)


def _share_range(name: str, value: object) -> None:
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(_is_number(v) for v in value)
            and 0 <= value[0] <= value[1] <= 1):
        raise _fail(name, value, "is not a range [low, high] of shares with 0 <= low <= high <= 1; write e.g. "
                    "[0.1, 0.3]")


def _month(name: str, value: object) -> None:
    if not (isinstance(value, str) and _MONTH.match(value)):
        raise _fail(name, value, "is not a month; write it in quotes as \"2012-11\"")


def _steps(name: str, value: object) -> None:
    if not isinstance(value, list | tuple) or not all(_is_number(v) and v > 0 for v in value):
        raise _fail(name, value, "is not a list of positive rounding steps; write e.g. [20, 50]")


def _driver_sets(name: str, value: object) -> None:
    if not isinstance(value, list | tuple) or not value:
        raise _fail(name, value, "is not a list of driver lists; write e.g. [[\"sysvak\", \"svarrapporter\"]]")
    for drivers in value:
        _names(_drivers, "driver", empty=False)(name, drivers)


RULES: dict[str, Callable[[str, object], None]] = {
    "data_path": _text,
    "sheet": _text,
    "export_dir": _text,
    "lang": _lang,
    "convention": _convention,
    "start": _period_value,
    "end": _period_value,
    "include_reverse_helseboka": _flag,
    "exclude": _names(_drivers, "driver", empty=True),
    "baseline_start": _whole(1900, 9999),
    "baseline_end": _whole(1900, 9999),
    "target_periods": _periods_list,
    "models": _names(_models, "model", empty=False),
    "baseline_model": _one_of(_models, ("auto",)),
    "compare_method": _one_of(lambda: COMPARE_METHODS),
    "break_period": lambda n, v: _period_value(n, v, zero=True),
    "forecast_periods": _whole(1, 120),
    "forecast_model": _one_of(_models),
    "alpha": _number(0, 1, True, True, "0.05 for 95 % intervals"),
    "n_boot": _whole(1),
    "seed": _whole(0, 2**32 - 1),
    "months_per_year": _number(0, 12, True, False, "12"),
    "month_tolerance": _number(0, 1, False, True, "0.1"),
    "weekdays_per_year": _number(0, 366, True, False, "250"),
    "days_per_year": _number(0, 366, True, False, "365"),
    "weekend_share": _share_range,
    "cw_second_month": _month,
    "plateau_steps": _steps,
    "driver_sets": _driver_sets,
}


def check(notebook: str, values: Mapping[str, object], data: pd.DataFrame | None = None) -> None:
    """Check the parameters of `notebook` found in `values` (a notebook's ``globals()``, or the command line's
    parameters); with `data` (what the notebook loads), also the periods they ask for. Raises a DataError."""
    show_errors_briefly()
    for name, rule in RULES.items():
        if name in values:
            rule(name, values[name])
    if data is not None:
        check_periods(notebook, values, data)


def check_periods(notebook: str, values: Mapping[str, object], data: pd.DataFrame) -> None:
    """The periods a notebook's parameters name must be in `data`, in its kind (years or months), start before
    end. Raises a DataError listing the periods the data have."""
    from analysis.data import is_published, levels

    lv = levels(data)
    if lv.empty:
        return
    have = sorted(set(lv["period"]))
    freq = have[0].freqstr
    shown = [str(p) for p in have]
    if len(shown) > 6:  # a long series: its first and last periods are enough to say what it has
        shown = [f"{shown[0]} to {shown[-1]} ({len(shown)} {'months' if freq.startswith('M') else 'years'})"]
    if "start" in values and "end" in values:
        p0, p1 = (_as_period(n, values[n], freq, shown) for n in ("start", "end"))
        for name, p in (("start", p0), ("end", p1)):
            if p not in have:
                raise _fail(name, values[name], f"is not a period in the data; the data have {shown}")
        if not p0 < p1:
            raise DataError(f"parameters 'start' ({p0}) and 'end' ({p1}): start must come before end")
    years = sorted({p.year for p in have})
    if not is_published(data):
        total = lv[(lv["measure"] == "total") & (lv["sender"] == "all") & (lv["receiver"] == "all")]
        years = sorted({p.year for p in total["period"]}) or years
        for name in ("baseline_start", "baseline_end"):
            if name in values and values[name] not in years:
                raise _fail(name, values[name], f"is not a year of the data's total; the data have {years}")
        if "baseline_start" in values and "baseline_end" in values and not values["baseline_start"] < values[
                "baseline_end"]:
            raise DataError(f"parameters 'baseline_start' ({values['baseline_start']}) and 'baseline_end' "
                            f"({values['baseline_end']}): the baseline must start before it ends")
    for v in values.get("target_periods", []) or []:
        year = int(str(v)[:4])
        if year not in years:
            raise _fail("target_periods", values["target_periods"], f"names {v!r}, not a year of the data; the "
                        f"data have {years}")
        if not freq.startswith("M") and not _YEAR.match(str(v).strip()):
            raise _fail("target_periods", values["target_periods"], f"names {v!r}, a month, but the data are "
                        "yearly; give years, e.g. [2020, 2021]")
        end = values.get("baseline_end")
        if not is_published(data) and _is_int(end) and year <= end:
            raise _fail("target_periods", values["target_periods"], f"names {v!r}, inside the baseline (which "
                        f"ends {end}); the event periods must come after it")
    brk = values.get("break_period")
    if not is_published(data) and _is_int(brk) and brk and brk not in years[1:]:
        raise _fail("break_period", brk, f"is not a year of the data after its first; the data have {years} "
                    "(0 means the first target period)")


def _as_period(name: str, value: object, freq: str, shown: list[str]) -> pd.Period:
    text = str(value).strip()
    monthly = freq.startswith("M")
    if (monthly and not _MONTH.match(text)) or (not monthly and not _YEAR.match(text)):
        kind = "a month such as \"2019-03\"" if monthly else "a year such as 2020"
        raise _fail(name, value, f"is not a period of the data's kind; write {kind} (the data have {shown})")
    return pd.Period(text, freq=freq)


def show_errors_briefly() -> bool:
    """In IPython, show a DataError as its one line instead of a traceback (the cell still fails); True when
    active."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if getattr(shell, "_hm_brief_errors", False):
        return True
    shell.set_custom_exc((DataError,), _brief)
    shell._hm_brief_errors = True
    return True


def _brief(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython's custom exception handler: the error's name and message, one line."""
    line = f"{etype.__name__}: {value}"
    shell._showtraceback(etype, value, [line])
    return [line]
