"""Key findings: the few plain sentences every page opens with, and the block that shows them.

A page's key findings are one to five sentences of at most about thirty words, each with one number and its
range in words ("between 29.7 and 30.4 million messages"), no bracket notation and no technical terms. They are
built by the ``key_findings`` functions of the presentation modules (``overview``, ``claims_report``,
``decompose_report``, ``trend_report``, ``evidence_report``) from the results, every word from the catalogue
(``messages/<lang>/findings.toml``), and shown by :class:`KeyFindings`, whose HTML is::

    <section id="key-findings" class="hm-key-findings" lang="en"><ul><li>...</li></ul></section>

The pipeline reads the ``<li>`` texts of that section for the index and the two-page briefing. A sentence may
mark words as strong with ``**...**``; everything else is escaped.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence

from analysis.present import catalogue
from analysis.present.formatting import join_words, number, round_to

MAX_FINDINGS = 5
MAX_WORDS = 30
SECTION_ID = "key-findings"
SECTION_CLASS = "hm-key-findings"
_STRONG = re.compile(r"\*\*(.+?)\*\*")


def _f(lang: str, key: str, /, **values: object) -> str:
    """Message `findings.<key>` of the catalogue in `lang`."""
    return catalogue.text(lang, f"findings.{key}", **values)


def plain(sentence: str) -> str:
    """`sentence` as plain text: the ``**`` marks of strong words removed."""
    return _STRONG.sub(r"\1", sentence)


def word_count(sentence: str) -> int:
    """Words in `sentence` as a reader counts them (a number, a "%" or a dash counts as one)."""
    return len(plain(sentence).split())


def _html(sentence: str) -> str:
    """`sentence` as HTML: escaped, with ``**x**`` as ``<strong>x</strong>``."""
    return _STRONG.sub(r"<strong>\1</strong>", html.escape(sentence, quote=False))


class KeyFindings:
    """A page's key findings: 1 to MAX_FINDINGS plain sentences in one language, shown as the key-findings section."""

    def __init__(self, sentences: Iterable[str], lang: str) -> None:
        self.lang = catalogue.check_lang(lang)
        self.sentences = tuple(s.strip() for s in sentences if s and s.strip())
        if not 1 <= len(self.sentences) <= MAX_FINDINGS:
            raise ValueError(f"key findings: {len(self.sentences)} sentences; a page has 1 to {MAX_FINDINGS}")

    def plain(self) -> list[str]:
        """The sentences as plain text (no ``**`` marks)."""
        return [plain(s) for s in self.sentences]

    def word_counts(self) -> list[int]:
        """The number of words of each sentence."""
        return [word_count(s) for s in self.sentences]

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{_html(s)}</li>" for s in self.sentences)
        return f'<section id="{SECTION_ID}" class="{SECTION_CLASS}" lang="{self.lang}"><ul>{items}</ul></section>'

    def _repr_markdown_(self) -> str:
        return "\n".join(f"- {s}" for s in self.sentences)

    def __repr__(self) -> str:
        return "\n".join(f"- {s}" for s in self.plain())


def block(sentences: Iterable[str], lang: str) -> KeyFindings:
    """The key-findings block of `sentences` in `lang` (see :class:`KeyFindings`)."""
    return KeyFindings(sentences, lang)


# ---------------------------------------------------------------- numbers in words

def digits_for(*values: float) -> int:
    """Decimals for a finding: one, two below 1, none from 1000 up; none when every value is whole at one."""
    top = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    d = 0 if top >= 1000 else 2 if 0 < top < 1 else 1
    if d and all(round_to(v, d) == round(round_to(v, d)) for v in values if math.isfinite(v)):
        return 0
    return d


def scale_for(unit: str, *values: float) -> tuple[float, str]:
    """The divisor and the unit key (``findings.range.<key>``) for values in `unit`: counts of messages in
    millions from a million up (thousands from ten thousand), values in million messages as they are."""
    if unit == "percent":
        return 1.0, "percent"
    if unit == "million messages":
        return 1.0, "million"
    top = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if top >= 1e6:
        return 1e6, "million"
    return (1e3, "thousand") if top >= 1e4 else (1.0, "messages")


def ends(low: float, high: float, lang: str, digits: int | None = None) -> tuple[str, str]:
    """The two ends of a range as text in `lang`, rounded outwards (the low end down, the high end up)."""
    d = digits_for(low, high) if digits is None else digits
    return (number(low, lang, d, rounding="down"), number(high, lang, d, rounding="up"))


def between(low: float, high: float, lang: str, unit: str = "million messages", *,
            value: float | None = None) -> str:
    """A range in words, "between 90.5 and 91.5 million messages"; the single value ("9.2 million messages",
    `value` or the middle) when both ends show as the same number. `unit`: the results' unit ("million
    messages", "messages", "percent")."""
    div, key = scale_for(unit, low, high)
    lo, hi = low / div, high / div
    d = digits_for(lo, hi)
    word = _f(lang, f"range.{key}")
    if number(lo, lang, d) == number(hi, lang, d):
        mid = (lo + hi) / 2 if value is None else value / div
        return _f(lang, "range.single", value=number(mid, lang, d), unit=word)
    low_text, high_text = ends(lo, hi, lang, d)
    return _f(lang, "range.between", low=low_text, high=high_text, unit=word)


def amount(value: float, lang: str, unit: str = "million messages") -> str:
    """One value in words with its unit, "91 million messages" (scaled as :func:`between` scales it)."""
    div, key = scale_for(unit, value)
    return _f(lang, "range.single", value=number(value / div, lang, digits_for(value / div)),
              unit=_f(lang, f"range.{key}"))


def hedged(value: float, qualifier: str, lang: str) -> str:
    """A printed figure with its hedge word in plain words: "more than 63", "about 200", "284"."""
    key = qualifier if catalogue.has(lang, f"findings.hedge.{qualifier}") else "exact"
    return _f(lang, f"hedge.{key}", value=number(value, lang, digits_for(value)))


def driver_name(driver: str, lang: str, short: bool = False, fallback: str | None = None) -> str:
    """A driver of the growth in plain words ("vaccination registrations (SYSVAK)"; with `short`,
    "vaccinations"); `fallback` (else the measure's label) for a driver the catalogue does not name."""
    key = f"findings.{'driver_short' if short else 'driver'}.{driver}"
    if catalogue.has(lang, key):
        return catalogue.text(lang, key)
    return fallback if fallback is not None else catalogue.label(lang, "measure", driver)


def driver_names(drivers: Sequence[str], lang: str, short: bool = False) -> str:
    """Drivers in plain words joined for a sentence: "vaccinations and test results"."""
    return join_words([driver_name(d, lang, short) for d in drivers], lang)
