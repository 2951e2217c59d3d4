"""Numbers and intervals as text for readers, in Norwegian bokmål (``nb``) or English (``en``).

nb writes a decimal comma and groups thousands with a no-break space (``1 234,5``); en writes a decimal
point and groups with a comma (``1,234.5``). A missing value is shown as "–". Two styles of number:

* :func:`number` with a fixed count of decimals (:func:`decimals_for` picks one from the size and unit),
  used in tables of levels, changes and percentages, and :func:`interval` / :func:`with_bounds` for
  "low–high" and "value [low–high]";
* :func:`significant` with a count of significant digits, used for the claims on the source page, and
  :func:`bracketed` for an interval with its closedness, "[63, 64)" (en) or "[63; 64)" (nb).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import i18n

MISSING = "–"
NBSP = "\u00a0"
MINUS = "\u2212"  # the typographic minus sign, used by significant()
_TO = {"nb": " til ", "en": " to "}  # between the ends of an interval whose low end is negative


def localise(text: str, lang: str) -> str:
    """Python's number text ("1,234.5") in `lang`: nb gets no-break-space thousands and a decimal comma."""
    return text.replace(",", NBSP).replace(".", ",") if lang == "nb" else text


def _missing(x: object) -> bool:
    return x is None or not math.isfinite(float(x))


def decimals_for(x: float, unit: str | None = None) -> int:
    """Decimals to show: none for whole message counts, else 2 below 10 and 1 from 10 up."""
    if unit == "messages":
        return 0
    return 2 if (not math.isfinite(x) or abs(x) < 10) else 1


def decimals_with_bounds(value: float, low: float, high: float, unit: str | None = None) -> int:
    """Decimals for a value and its bounds: enough to show the width of the bounds (at most 3)."""
    base = decimals_for(value, unit)
    width = high - low if math.isfinite(high - low) else 0.0
    if width <= 0:
        return base
    return int(min(max(base, math.ceil(-math.log10(width)) + 1), 3))


def number(x: float | None, lang: str, digits: int | None = None, *, unit: str | None = None,
           group: bool = True) -> str:
    """`x` with `digits` decimals (default :func:`decimals_for` of `x` and `unit`), thousands grouped unless
    `group` is False; "–" if missing or infinite."""
    i18n.check_lang(lang)
    if _missing(x):
        return MISSING
    d = decimals_for(x, unit) if digits is None else digits
    return localise(f"{float(x):{',' if group else ''}.{d}f}", lang)


def interval(low: float, high: float, lang: str, digits: int | None = None, *, group: bool = True,
             partial: bool = False) -> str:
    """Bounds as "low–high" ("low til high" / "low to high" when low is negative), digits from the larger end
    unless given. "–" when either end is missing; with `partial`, a missing end is shown as "–" in place."""
    if not partial and (_missing(low) or _missing(high)):
        return MISSING
    d = decimals_for(max(abs(low), abs(high))) if digits is None else digits
    sep = i18n.pick(_TO, lang) if low < 0 else "–"
    return f"{number(low, lang, d, group=group)}{sep}{number(high, lang, d, group=group)}"


def with_bounds(value: float, low: float, high: float, lang: str, digits: int | None = None, *,
                unit: str | None = None, group: bool = True, partial: bool = False) -> str:
    """A value and its bounds as "value [low–high]", one count of decimals for all three (default
    :func:`decimals_with_bounds`); "–" when the value is missing, or with `partial` each missing part in place."""
    if not partial and _missing(value):
        return MISSING
    d = decimals_with_bounds(value, low, high, unit) if digits is None else digits
    return f"{number(value, lang, d, group=group)} [{interval(low, high, lang, d, group=group, partial=partial)}]"


def significant(x: float | None, lang: str = "en", digits: int = 5, *, typographic: bool = True) -> str:
    """`x` with `digits` significant digits and the decimal mark of `lang`, thousands not grouped.

    Typographic (the default): "–" if missing, ∞ for infinities, − as the minus sign, and decimals instead of
    an exponent for very large or small numbers. Otherwise Python's general format as it is ("-0.5", "nan",
    "2.01e+08"), only the decimal mark localised.
    """
    i18n.check_lang(lang)
    if not typographic:
        return localise(f"{x:.{digits}g}", lang)
    if pd.isna(x):
        return MISSING
    if np.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    text = f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:.{max(digits - 3, 1)}f}"
    return localise(text.replace("-", MINUS), lang)


def bracketed(low: float, high: float, lang: str = "en", low_closed: bool = True, high_closed: bool = True,
              digits: int = 5) -> str:
    """An interval with brackets by closedness and :func:`significant` ends: "[63, 64)" in en, "[63; 64)" in nb
    (an infinite upper end is always open); "–" if an end is missing."""
    if pd.isna(low) or pd.isna(high):
        return MISSING
    sep = "; " if lang == "nb" else ", "
    return (f"{'[' if low_closed else '('}{significant(low, lang, digits)}{sep}{significant(high, lang, digits)}"
            f"{']' if high_closed and np.isfinite(high) else ')'}")


def p_value(p: float | None, lang: str) -> str:
    """A p-value for `lang`: "< 0.001" below a thousandth, else three significant digits; "–" if missing."""
    if _missing(p):
        return MISSING
    return localise("< 0.001" if p < 0.001 else f"{p:.3g}", lang)
