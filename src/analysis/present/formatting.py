"""Numbers and intervals as text for readers, in Norwegian bokmål (``nb``) or English (``en``).

nb writes a decimal comma, groups thousands with a no-break space and writes the minus sign − (``−1 234,5``);
en writes a decimal point, groups with a comma and writes a hyphen-minus (``-1,234.5``): the symbols are the
locales' own, from Babel's copy of the Unicode CLDR (the catalogue's ``format.locale``: ``nb_NO``, ``en``).
A missing value is shown as "–". Two styles of number:

* :func:`number` with a fixed count of decimals (:func:`decimals_for` picks one from the size and unit),
  used in tables of levels, changes and percentages, and :func:`interval` / :func:`with_bounds` for
  "low–high" and "value [low–high]";
* :func:`significant` with a count of significant digits, used for the claims on the source page, and
  :func:`bracketed` for an interval with its closedness, "[63, 64)" (en) or "[63; 64)" (nb).

**One rounding rule for bounds.** A point value is rounded to the nearest shown digit; the ends of an interval
are rounded *outwards*: the lower bound down, the upper bound up (:func:`round_to` with ``"down"`` / ``"up"``),
so the interval shown always contains the interval computed (82,5–108,8 at no decimals reads 82–109, never
83–109). :func:`interval`, :func:`with_bounds` and :func:`bracketed` do this by default (``outward=True``);
:func:`number` and :func:`significant` take ``rounding=`` for a single bound shown on its own. A value within
a millionth of the last shown digit of a grid point counts as on it, so float noise (3.3855000000000004) does
not move a bound by a whole digit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache

from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from analysis.present.catalogue import check_lang, text

MISSING = "–"
NBSP = "\u00a0"
MINUS = "\u2212"  # the typographic minus sign, used by significant()
ROUNDING = ("nearest", "down", "up")
_ON_GRID = 1e-6  # in units of the last shown digit: closer than this to a grid point counts as on it


@cache
def _symbols(lang: str) -> dict[str, str]:
    locale = text(check_lang(lang), "format.locale")  # the Babel locale of the language
    return {",": get_group_symbol(locale), ".": get_decimal_symbol(locale), "-": get_minus_sign_symbol(locale)}


def localise(number_text: str, lang: str) -> str:
    """Python's number text ("-1,234.5") in `lang`'s symbols for grouping, the decimal mark and the minus sign
    (nb: "−1 234,5" with a no-break space)."""
    symbols = _symbols(lang)
    return "".join(symbols.get(ch, ch) for ch in number_text)


def decimal_marks(text: str, lang: str) -> str:
    """`text` with every decimal point between two digits written as `lang` writes it ("57.5" -> "57,5" in nb);
    for formulas and relations built with Python's number format."""
    mark = _symbols(lang)["."]
    return re.sub(r"(?<=\d)\.(?=\d)", mark, text)


def _missing(x: object) -> bool:
    return x is None or not math.isfinite(float(x))


def round_to(x: float, digits: int, rounding: str = "nearest") -> float:
    """`x` rounded to `digits` decimals (negative: to tens, hundreds, ...): to the nearest, or ``"down"`` /
    ``"up"`` (towards −∞ / +∞, for lower and upper bounds); missing or infinite values are returned as given."""
    if rounding not in ROUNDING:
        raise ValueError(f"rounding must be one of {ROUNDING}, got {rounding!r}")
    if _missing(x):
        return x
    scaled = float(x) * 10.0**digits
    k = round(scaled)
    if rounding != "nearest" and abs(scaled - k) > _ON_GRID:
        k = math.floor(scaled) if rounding == "down" else math.ceil(scaled)
    value = k / 10**digits if digits >= 0 else float(k * 10 ** (-digits))
    return value + 0.0  # no negative zero


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
           group: bool = True, rounding: str = "nearest") -> str:
    """`x` with `digits` decimals (default :func:`decimals_for` of `x` and `unit`), thousands grouped unless
    `group` is False, rounded to the nearest unless `rounding` is "down" or "up"; "–" if missing or infinite."""
    check_lang(lang)
    if _missing(x):
        return MISSING
    d = decimals_for(x, unit) if digits is None else digits
    v = float(x) if rounding == "nearest" else round_to(x, d, rounding)
    if round(v, d) == 0:
        v = 0.0  # no "−0,0": a value that rounds to zero is shown without a sign
    return localise(f"{v:{',' if group else ''}.{d}f}", lang)


def _ends(outward: bool) -> tuple[str, str]:
    return ("down", "up") if outward else ("nearest", "nearest")


def interval(low: float, high: float, lang: str, digits: int | None = None, *, group: bool = True,
             partial: bool = False, outward: bool = True) -> str:
    """Bounds as "low–high" ("low til high" / "low to high" when low is negative), digits from the larger end
    unless given, rounded outwards (low down, high up) unless `outward` is False. "–" when either end is
    missing; with `partial`, a missing end is shown as "–" in place."""
    if not partial and (_missing(low) or _missing(high)):
        return MISSING
    d = decimals_for(max(abs(low), abs(high))) if digits is None else digits
    down, up = _ends(outward)
    sep = text(lang, "format.interval_to") if low < 0 else "–"
    return f"{number(low, lang, d, group=group, rounding=down)}{sep}{number(high, lang, d, group=group, rounding=up)}"


def with_bounds(value: float, low: float, high: float, lang: str, digits: int | None = None, *,
                unit: str | None = None, group: bool = True, partial: bool = False, outward: bool = True,
                low_closed: bool = True, high_closed: bool = True) -> str:
    """A value and its bounds as "value [low–high]", one count of decimals for all three (default
    :func:`decimals_with_bounds`): the value rounded to the nearest, the bounds outwards (unless `outward` is
    False), a round bracket for an open end ("63 (63–64)"); "–" when the value is missing, or with `partial`
    each missing part in place."""
    if not partial and _missing(value):
        return MISSING
    d = decimals_with_bounds(value, low, high, unit) if digits is None else digits
    inner = interval(low, high, lang, d, group=group, partial=partial, outward=outward)
    left = "[" if low_closed and not (partial and _missing(low)) else "("
    right = "]" if high_closed and not _missing(high) else ")"
    return f"{number(value, lang, d, group=group)} {left}{inner}{right}"


def significant(x: float | None, lang: str = "en", digits: int = 5, *, typographic: bool = True,
                rounding: str = "nearest") -> str:
    """`x` with `digits` significant digits and the decimal mark of `lang`, thousands not grouped; rounded to
    the nearest unless `rounding` is "down" or "up" (for a bound).

    Typographic (the default): "–" if missing, ∞ for infinities, − as the minus sign, and decimals instead of
    an exponent for very large or small numbers. Otherwise Python's general format as it is ("-0.5", "nan",
    "2.01e+08"), only the decimal mark localised.
    """
    check_lang(lang)
    if rounding != "nearest" and not _missing(x) and x != 0:
        x = round_to(x, digits - 1 - math.floor(math.log10(abs(x))), rounding)
    if not typographic:
        return localise(f"{x:.{digits}g}", lang)
    import numpy as np  # here: the report pipeline formats its footers without loading numpy and pandas
    import pandas as pd

    if pd.isna(x):
        return MISSING
    if np.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    text = f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:.{max(digits - 3, 1)}f}"
    return localise(text.replace("-", MINUS), lang)


def bracketed(low: float, high: float, lang: str = "en", low_closed: bool = True, high_closed: bool = True,
              digits: int = 5, *, outward: bool = True) -> str:
    """An interval with brackets by closedness and :func:`significant` ends, rounded outwards unless `outward`
    is False: "[63, 64)" in en, "[63; 64)" in nb (an infinite end is always open); "–" if an end is missing."""
    import numpy as np
    import pandas as pd

    if pd.isna(low) or pd.isna(high):
        return MISSING
    down, up = _ends(outward)
    sep = "; " if lang == "nb" else ", "
    return (f"{'[' if low_closed and np.isfinite(low) else '('}{significant(low, lang, digits, rounding=down)}"
            f"{sep}{significant(high, lang, digits, rounding=up)}{']' if high_closed and np.isfinite(high) else ')'}")


def p_value(p: float | None, lang: str) -> str:
    """A p-value for `lang`: "< 0.001" below a thousandth, else three significant digits; "–" if missing."""
    if _missing(p):
        return MISSING
    return localise("< 0.001" if p < 0.001 else f"{p:.3g}", lang)


def join_words(items: Iterable[object], lang: str) -> str:
    """Items as a list in running text: "2020", "2020 og 2021", "a, b og c" (en: "2020 and 2021")."""
    words = [str(i) for i in items]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])}{text(lang, 'format.and')}{words[-1]}"


def sentence_case(words: str) -> str:
    """`words` with a capital first letter, for a label that starts a sentence ("lineær trend" -> "Lineær trend")."""
    return words[:1].upper() + words[1:]
