"""Draft the published-figures table from a page's own Norwegian text, every uncertain field flagged for review.

``extract(text, source_id)`` returns one row per number stated on the page, in the columns of
``data/published/*.csv`` (``analysis.data.PUBLISHED_COLUMNS``) plus ``needs_review``: the codes of what a reviewer
must settle, joined with "; " (empty when nothing is open). It reads, sentence by sentence:

- **value** as printed, the decimal comma turned into a point; a fall ("ned 3 millioner", "en nedgang på 3
  prosent", "3 millioner færre") is a negative value.
- **unit** from the word after the number (``millioner`` -> ``million messages``, ``prosent`` -> ``percent``);
  a number with no unit of its own takes the next number's unit when only "til"/"og" stand between them
  ("fra 5 til 63 millioner": code ``unit_carried``), else it is left empty (``unit_unknown``). A four-digit
  number from 1900 to 2099 without a unit is a year, not a figure.
- **step** from the digits as printed: 0.1 for "23,5", 0.01 for "0,71", 1 for "63". A whole number ending in
  zero ("200", "40 000") does not say which digit was rounded: step empty, code ``step_open``.
- **qualifier** from the hedge word directly before the number (lexicon ``[qualifiers]``; none -> ``exact``). A
  figure without a hedge word of its own joined by "og" to a hedged one in the same sentence ("rundt 0,71
  millioner i 2020 og 0,85 millioner i 2021") shares it, written "[rundt]" in ``wording`` (``qualifier_carried``).
- **kind**: ``change`` when a change word stands before the number ("opp", "en økning på", lexicon
  ``[change]``) or "flere"/"færre" after it; ``growth_percent`` for such a change in percent; ``level`` for a
  count; a percentage with no change word is left empty (``kind_unknown``: it may be a share).
- **year / from_year**: a level takes the year right after it ("193 millioner meldinger i 2020"), else the year
  before it in its clause ("I 2021 ble det sendt 284 millioner"), else, as one end of "fra X til Y", the
  start or end of the years compared. A change or growth runs over the years compared. The years compared are
  the sentence's two years when it names two, else the page's: the two latest years named anywhere in the page
  text (a span such as "2010-2021" does not count), or those given as ``years=``. What cannot be placed is empty
  (``year_unknown``, ``from_year_unknown``).
- **measure** from a lexicon term in the sentence, else in the heading above it; **sender** and **receiver**
  from "fra <party>" and "til <party>" in the sentence. A figure of a measure that is not counted per flow
  (lexicon ``[flows]``) and whose sentence names no party is for all senders and receivers (``all``).
  Unknown or ambiguous: empty, with ``measure_unknown``, ``measure_ambiguous``, ``sender_unknown``,
  ``receiver_unknown`` or ``parties_ambiguous``.
- **wording**: the phrase as printed around the number; **paraphrase** is left empty for the reviewer (it is
  prose for readers, which this module does not write); **figure_id** is built from the fields
  (``sysvak_2021``, ``plo_fastlege_kommune_growth``, ``total_change``, ``total_undated``), made unique.

Nothing is guessed silently: a field the text does not settle is empty and its code is in ``needs_review``.
:func:`extract_result` returns the same table with each row's notes as :class:`~analysis.results.Note` objects
carrying their values (the printed number, the line) and the page years it used.

The text may start with header lines (the kept page text in ``data/published/`` has its source, URL and a
description above a line ``----``): when a line consisting of ``----`` is present, only what follows its first
occurrence is read (:func:`page_text`), so the header's own years ("published 2022") do not count as the page's.

Command line: ``python -m analysis.statements PAGE.txt --source-id ID [--years 2020 2021] [--lexicon FILE] >
draft.csv`` writes the draft as UTF-8 CSV and lists the flagged rows on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from analysis.data import PUBLISHED_COLUMNS
from analysis.errors import DataError
from analysis.results import Note, note

LEXICON_PATH = Path(__file__).with_name("statements_lexicon.toml")
REVIEW_COLUMN = "needs_review"
COLUMNS = [*PUBLISHED_COLUMNS, REVIEW_COLUMN]
HEADER_RULE = "----"
REVIEW_CODES = (
    "step_open", "unit_unknown", "unit_carried", "qualifier_carried", "kind_unknown", "year_unknown",
    "from_year_unknown", "measure_unknown", "measure_ambiguous", "sender_unknown", "receiver_unknown",
    "parties_ambiguous", "separator_ambiguous",
)
UNITS = ("million messages", "percent")

_LEXICON_TABLES = {
    "qualifiers": ("about", "over", "almost", "just_over"),
    "units": (*UNITS, "not_messages"),
    "change": ("rise", "fall", "rise_after", "fall_after", "fillers"),
    "measures": None,  # any code
    "flows": ("measures",),
    "parties": None,
}
_ABBREVIATIONS = {"inkl", "ca", "bl.a", "f.eks", "jf", "evt", "ev", "dvs", "osv", "mv", "nr", "mill", "kap", "pkt"}
_BULLETS = "•·*-–"
_DEFINITE = ("", "en", "et", "a", "e", "er", "ene", "ende")
_CONNECTORS = {"til", "og", "eller"}
_TAIL_WORDS = {"meldinger", "i", "året", "og"}
_NUMBER = re.compile(r"(?<![\w,.])(\d{1,3}(?:[ ]\d{3})+(?!\d)|\d+)(?:([,.])(\d+))?(?!\w)")
_YEAR_SPAN = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2})(?!\d)")
_YEAR = re.compile(r"(?<![\w,.])((?:19|20)\d{2})(?!\w|[,.]\d)")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+")


# ---------------------------------------------------------------- the lexicon

@dataclass(frozen=True)
class Lexicon:
    """The words the extractor reads with (see statements_lexicon.toml): hedges, units, change words, names."""

    qualifiers: Mapping[str, tuple[str, ...]]
    units: Mapping[str, tuple[str, ...]]
    not_messages: tuple[str, ...]
    rise: tuple[str, ...]
    fall: tuple[str, ...]
    rise_after: tuple[str, ...]
    fall_after: tuple[str, ...]
    fillers: tuple[str, ...]
    measures: Mapping[str, tuple[str, ...]]
    flows: tuple[str, ...]
    parties: Mapping[str, tuple[str, ...]]


def _read_lexicon_file(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise DataError(f"{path}: lexicon file not found; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc}); fix the file (see {LEXICON_PATH} for the form)") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save the lexicon as UTF-8") from None
    _check_lexicon(raw, str(path))
    return raw


def _check_lexicon(raw: Mapping, where: str) -> None:
    for table, entries in raw.items():
        if table not in _LEXICON_TABLES:
            raise DataError(f"{where}: unknown table [{table}]; the lexicon has {sorted(_LEXICON_TABLES)}")
        if not isinstance(entries, Mapping):
            raise DataError(f"{where}: [{table}] must be a table of name = [\"term\", ...] entries")
        allowed = _LEXICON_TABLES[table]
        for key, terms in entries.items():
            if allowed is not None and key not in allowed:
                raise DataError(f"{where}: [{table}] has no entry {key!r}; it takes {list(allowed)}")
            if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
                raise DataError(f"{where}: [{table}] {key} must be a list of non-empty strings, e.g. [\"rundt\"]")


def load_lexicon(*extra: str | Path | Mapping) -> Lexicon:
    """Return the package's lexicon with the terms of each extra TOML file (or mapping) added to it."""
    merged: dict[str, dict[str, list[str]]] = {}
    sources: list[tuple[Mapping, str]] = [(_read_lexicon_file(LEXICON_PATH), str(LEXICON_PATH))]
    for item in extra:
        if isinstance(item, Mapping):
            _check_lexicon(item, "lexicon")
            sources.append((item, "lexicon"))
        else:
            sources.append((_read_lexicon_file(Path(item)), str(item)))
    for raw, _ in sources:
        for table, entries in raw.items():
            for key, terms in entries.items():
                have = merged.setdefault(table, {}).setdefault(key, [])
                have.extend(t.strip().lower() for t in terms if t.strip().lower() not in have)

    def get(table: str, key: str) -> tuple[str, ...]:
        return tuple(merged.get(table, {}).get(key, ()))

    units = {u: get("units", u) for u in UNITS}
    return Lexicon(
        qualifiers={q: get("qualifiers", q) for q in _LEXICON_TABLES["qualifiers"]},
        units=units, not_messages=get("units", "not_messages"),
        rise=get("change", "rise"), fall=get("change", "fall"), rise_after=get("change", "rise_after"),
        fall_after=get("change", "fall_after"), fillers=get("change", "fillers"),
        measures={m: tuple(t) for m, t in merged.get("measures", {}).items()},
        flows=get("flows", "measures"),
        parties={p: tuple(t) for p, t in merged.get("parties", {}).items()},
    )


# ---------------------------------------------------------------- the page: blocks, headings, sentences

@dataclass
class _Sentence:
    text: str
    line: int
    heading_measure: str | None
    heading_ambiguous: bool


@dataclass
class _Figure:
    sentence: _Sentence
    start: int
    end: int  # end of the number
    printed: str
    value: float | None
    step: float | None
    unit: str | None = None
    unit_end: int = 0  # end of the unit word (== end when there is none)
    qualifier: str = "exact"
    hedge: str = ""
    hedge_start: int = 0
    kind: str | None = None
    sign: int = 1
    lead: str = ""  # "fra", "til", or a change word before the number
    lead_start: int = 0
    tail_year: int | None = None
    tail_end: int = 0
    notes: list[Note] = field(default_factory=list)


def page_text(text: str) -> str:
    """Return the page's text without header lines: what follows the first line "----", else all of it."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == HEADER_RULE:
            return "\n".join(lines[i + 1:])
    return "\n".join(lines)


def _body(text: str) -> tuple[list[str], int]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == HEADER_RULE:
            return lines[i + 1:], i + 1
    return lines, 0


def _is_heading(line: str) -> bool:
    s = line.strip()
    return bool(s) and s[0] not in _BULLETS and s[-1] not in ".:!?;)" and len(s.split()) <= 12


def _split_sentences(block: str) -> list[str]:
    out, start = [], 0
    for m in re.finditer(r"[.!?]\s+(?=[\"«(A-ZÆØÅ0-9])", block):
        before = re.search(r"([\w.]+)$", block[start:m.start()])
        if before and before.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        out.append(block[start:m.start() + 1])
        start = m.end()
    out.append(block[start:])
    return [s for s in out if s.strip()]


def _sentences(text: str, lex: Lexicon) -> list[_Sentence]:
    lines, first = _body(text)
    out, measure, ambiguous = [], None, False
    for i, raw in enumerate(lines):
        line = raw.replace("\u00a0", " ").replace("\u202f", " ")
        if not line.strip():
            continue
        if _is_heading(line) and not _has_figure(line, lex):
            found = _measures_named(line, lex)
            measure, ambiguous = (found[0] if len(found) == 1 else None), len(found) > 1
            continue
        block = line.strip().lstrip(_BULLETS).strip()
        for s in _split_sentences(block):
            out.append(_Sentence(s, first + i + 1, measure, ambiguous))
    return out


def _has_figure(line: str, lex: Lexicon) -> bool:
    return any(_unit_after(line, m.end(), lex)[0] for m in _NUMBER.finditer(line))


# ---------------------------------------------------------------- matching words

def _term_pattern(term: str, prefix: bool) -> str:
    body = re.escape(term).replace(r"\ ", r"\s+")
    start = r"(?<![\w-])" if term[0].isalnum() else ""
    if prefix:
        return start + body + r"[\w-]*"
    end = r"(?![\w])" if term[-1].isalnum() else ""
    return start + body + end


def _find_terms(text: str, table: Mapping[str, tuple[str, ...]]) -> list[tuple[int, int, str]]:
    """Every (start, end, code) of a table's terms in `text`, longest terms first, no overlaps."""
    terms = sorted(((t, code) for code, ts in table.items() for t in ts), key=lambda x: -len(x[0]))
    taken: list[tuple[int, int, str]] = []
    for term, code in terms:
        for m in re.finditer(_term_pattern(term, prefix=True), text, flags=re.IGNORECASE):
            if all(m.end() <= a or m.start() >= b for a, b, _ in taken):
                taken.append((m.start(), m.end(), code))
    return sorted(taken)


def _measures_named(text: str, lex: Lexicon) -> list[str]:
    return list(dict.fromkeys(code for _, _, code in _find_terms(text, lex.measures)))


def _ends_with(text: str, phrases: Iterable[str]) -> tuple[str, int] | None:
    """The longest phrase `text` ends with (as whole words), and where it starts."""
    for phrase in sorted(phrases, key=len, reverse=True):
        m = re.search(_term_pattern(phrase, prefix=False) + r"\s*$", text, flags=re.IGNORECASE)
        if m:
            return phrase, m.start()
    return None


def _is_change_word(word: str, words: Iterable[str]) -> bool:
    return any(word == w + suffix for w in words for suffix in _DEFINITE)


def _unit_after(text: str, pos: int, lex: Lexicon) -> tuple[str | None, int, bool]:
    """The unit word right after position `pos`: (unit code, end of the word, counts something else)."""
    rest = text[pos:]
    for unit, words in lex.units.items():
        for w in sorted(words, key=len, reverse=True):
            m = re.match(r"\s*" + _term_pattern(w, prefix=False), rest, flags=re.IGNORECASE)
            if m:
                after = re.match(r"\s*([^\W\d_]+)", rest[m.end():])
                other = bool(after) and after.group(1).lower() in lex.not_messages and unit != "percent"
                return unit, pos + m.end(), other
    return None, pos, False


# ---------------------------------------------------------------- reading the figures of one sentence

def _parse_number(m: re.Match) -> tuple[str, float | None, float | None, Note | None]:
    whole, sep, frac = m.group(1), m.group(2), m.group(3)
    printed = m.group(0)
    digits = whole.replace(" ", "")
    if sep == "." and frac is not None and len(frac) == 3:
        return printed, None, None, note("separator_ambiguous", printed=printed)
    if frac is not None:
        value = Decimal(f"{digits}.{frac}")
        return printed, float(value), float(Decimal(1).scaleb(-len(frac))), None
    value = Decimal(digits)
    if digits.endswith("0") and value != 0:
        stripped = digits.rstrip("0")
        return printed, float(value), None, note("step_open", printed=printed, smallest=1,
                                                 largest=10 ** (len(digits) - len(stripped)))
    return printed, float(value), 1.0, None


def _figures(sentence: _Sentence, lex: Lexicon) -> list[_Figure]:
    text = sentence.text
    spans = {m.start(g) for m in _YEAR_SPAN.finditer(text) for g in (1, 2)}
    out: list[_Figure] = []
    for m in _NUMBER.finditer(text):
        unit, unit_end, other = _unit_after(text, m.end(), lex)
        is_year = (unit is None and m.group(2) is None and re.fullmatch(r"(19|20)\d{2}", m.group(1)))
        if is_year or m.start() in spans:
            continue
        printed, value, step, n = _parse_number(m)
        fig = _Figure(sentence, m.start(), m.end(), printed, value, step, unit_end=unit_end)
        fig.notes += [n] if n else []
        if other:
            fig.notes.append(note("unit_unknown", printed=printed, word=text[unit_end:].split()[0]))
        else:
            fig.unit = unit
        out.append(fig)
    for i, fig in enumerate(out):
        if fig.unit is None and not any(n.code == "unit_unknown" for n in fig.notes):
            nxt = out[i + 1] if i + 1 < len(out) else None
            gap = _words(text[fig.end:nxt.start]) if nxt else ["?"]
            hedges = {w for q in lex.qualifiers.values() for t in q for w in _words(t)}
            if nxt and nxt.unit and gap and set(gap) <= _CONNECTORS | hedges and set(gap) & _CONNECTORS:
                fig.unit, fig.unit_end = nxt.unit, fig.end
                fig.notes.append(note("unit_carried", printed=fig.printed, unit=nxt.unit))
            else:
                fig.notes.append(note("unit_unknown", printed=fig.printed))
    for i, fig in enumerate(out):
        seg_start = out[i - 1].tail_end if i else 0
        _read_before(fig, text[seg_start:fig.start], seg_start, lex)
        limit = out[i + 1].start if i + 1 < len(out) else len(text)
        _read_after(fig, text[fig.unit_end:limit], lex)
    for prev, fig in zip(out, out[1:], strict=False):
        gap = _words(text[prev.tail_end:fig.start])
        if (fig.hedge == "" and prev.hedge and prev.qualifier != "exact" and "og" in gap
                and set(gap) <= {"og", "i", "meldinger"}):
            fig.qualifier, fig.hedge = prev.qualifier, prev.hedge
            fig.notes.append(note("qualifier_carried", printed=fig.printed, hedge=prev.hedge, of=prev.printed))
    return out


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _read_before(fig: _Figure, before: str, offset: int, lex: Lexicon) -> None:
    """The hedge word, and the change word or "fra"/"til" that leads the number."""
    fig.hedge_start = fig.start
    found = _ends_with(before, (p for ps in lex.qualifiers.values() for p in ps))
    if found:
        phrase, at = found
        fig.qualifier = next(q for q, ps in lex.qualifiers.items() if phrase in ps)
        fig.hedge = before[at:].strip()
        fig.hedge_start = offset + at
        before = before[:at]
    fig.lead_start = fig.hedge_start
    for m in reversed(list(_WORD.finditer(before))):
        w = m.group(0).lower()
        if w in lex.fillers:
            continue
        if _is_change_word(w, lex.rise) or _is_change_word(w, lex.fall):
            fig.kind, fig.sign = "change", (1 if _is_change_word(w, lex.rise) else -1)
            fig.lead, fig.lead_start = w, offset + m.start()
            art = re.search(r"(?<!\w)(en|et)\s+$", before[:m.start()], flags=re.IGNORECASE)
            if art:
                fig.lead_start = offset + art.start()
        elif w in ("fra", "til"):
            fig.lead, fig.lead_start = w, offset + m.start()
        break


def _read_after(fig: _Figure, after: str, lex: Lexicon) -> None:
    """The year right after the number ("... millioner meldinger i 2020"), or a change word ("flere")."""
    fig.tail_end = fig.unit_end
    m = re.match(r"(\s*meldinger)?\s+i\s+((?:19|20)\d{2})(?!\w|[,.]\d)", after, flags=re.IGNORECASE)
    if m:
        fig.tail_year, fig.tail_end = int(m.group(2)), fig.unit_end + m.end()
        return
    m = re.match(r"(\s*meldinger)?(\s+i\s+året)?", after, flags=re.IGNORECASE)
    fig.tail_end = fig.unit_end + (m.end() if m else 0)
    w = re.match(r"\s*([^\W\d_]+)", after)
    if w and fig.kind is None and fig.unit:
        word = w.group(1).lower()
        if word in lex.rise_after or word in lex.fall_after:
            fig.kind, fig.sign = "change", (1 if word in lex.rise_after else -1)
            fig.tail_end = fig.unit_end + w.end()


# ---------------------------------------------------------------- years, kinds, names

def page_years(text: str) -> tuple[int, int] | None:
    """The two latest years the page text names (spans like "2010-2021" aside): the years the page compares."""
    body = page_text(text)
    spans = {m.start(g) for m in _YEAR_SPAN.finditer(body) for g in (1, 2)}
    years = sorted({int(m.group(1)) for m in _YEAR.finditer(body) if m.start() not in spans})
    return (years[-2], years[-1]) if len(years) >= 2 else None


def _compared(sentence: _Sentence, page: tuple[int, int] | None) -> tuple[int | None, int | None]:
    spans = {m.start(g) for m in _YEAR_SPAN.finditer(sentence.text) for g in (1, 2)}
    years = sorted({int(m.group(1)) for m in _YEAR.finditer(sentence.text) if m.start() not in spans})
    if len(years) == 2:
        return years[0], years[1]
    if len(years) == 1:
        if page and page[1] == years[0]:
            return page
        return None, years[0]
    if not years and page:
        return page
    return None, None


def _place_years(figs: list[_Figure], page: tuple[int, int] | None) -> list[tuple[int | None, int | None]]:
    out = []
    for i, fig in enumerate(figs):
        start, end = _compared(fig.sentence, page)
        if fig.kind == "change":
            out.append((end, start))
            continue
        if fig.tail_year is not None:
            out.append((fig.tail_year, None))
            continue
        prev = figs[i - 1] if i else None
        nxt = figs[i + 1] if i + 1 < len(figs) else None
        if fig.lead == "fra" and nxt and nxt.lead == "til" and nxt.kind != "change":
            out.append((start, None))
            continue
        if fig.lead == "til" and prev and prev.lead == "fra" and prev.kind != "change":
            out.append((end, None))
            continue
        seg_start = prev.tail_end if prev else 0
        before = [int(m.group(1)) for m in _YEAR.finditer(fig.sentence.text[seg_start:fig.start])]
        if len(set(before)) == 1:
            out.append((before[0], None))
            continue
        named = {int(m.group(1)) for m in _YEAR.finditer(fig.sentence.text)}
        out.append((named.pop() if len(named) == 1 and len(figs) == 1 else None, None))
    return out


def _parties(sentence: _Sentence, lex: Lexicon) -> tuple[str | None, str | None, bool, bool]:
    """(sender, receiver, ambiguous, any party named) from "fra <party>" / "til <party>" in the sentence."""
    senders, receivers, named = [], [], False
    for start, _, code in _find_terms(sentence.text, lex.parties):
        named = True
        before = _words(sentence.text[:start])
        while before and before[-1] in ("de", "den", "det", "alle"):
            before.pop()
        if before and before[-1] == "fra":
            senders.append(code)
        elif before and before[-1] == "til":
            receivers.append(code)
    s, r = set(senders), set(receivers)
    ambiguous = len(s) > 1 or len(r) > 1
    return (senders[0] if len(s) == 1 else None), (receivers[0] if len(r) == 1 else None), ambiguous, named


# ---------------------------------------------------------------- the table

@dataclass(frozen=True)
class Extraction:
    """The draft table, each row's notes (by figure_id, in row order), each row's line and the page years used."""

    table: pd.DataFrame
    notes: Mapping[str, tuple[Note, ...]]
    lines: Mapping[str, int]
    page_years: tuple[int, int] | None


def _figure_id(row: Mapping, taken: set[str]) -> str:
    parts = [row["measure"] or "unknown"]
    s, r = row["sender"], row["receiver"]
    if (s, r) != ("all", "all") and (s or r):
        parts += [s or "unknown", r or "unknown"]
    kind = row["kind"]
    if kind == "change":
        parts.append("change")
    elif kind == "growth_percent":
        parts.append("growth")
    elif pd.notna(row["year"]):
        parts.append(str(row["year"]))
    else:
        parts.append("undated")
    base = "_".join(parts)
    fid, k = base, 2
    while fid in taken:
        fid, k = f"{base}_{k}", k + 1
    taken.add(fid)
    return fid


def extract_result(text: str, source_id: str, *, lexicon: Lexicon | None = None,
                   years: Sequence[int] | None = None) -> Extraction:
    """Return the draft table of every figure in a page's text with its notes, lines and page years."""
    lex = lexicon or load_lexicon()
    page = tuple(years) if years is not None else page_years(text)
    if page is not None and (len(page) != 2 or page[0] >= page[1]):
        raise DataError(f"years={list(page)}: give the two years the page compares, earlier first (2020 2021)")
    rows, notes, lines, taken = [], {}, {}, set()
    for sentence in _sentences(text, lex):
        figs = _figures(sentence, lex)
        placed = _place_years(figs, page)
        named = _measures_named(sentence.text, lex)
        sender, receiver, ambiguous, any_party = _parties(sentence, lex)
        for fig, (year, from_year) in zip(figs, placed, strict=True):
            row_notes = list(fig.notes)
            kind = fig.kind
            if kind == "change" and fig.unit == "percent":
                kind = "growth_percent"
            elif kind is None and fig.unit == "million messages":
                kind = "level"
            elif kind is None:
                row_notes.append(note("kind_unknown", printed=fig.printed, unit=fig.unit or ""))
            if year is None:
                row_notes.append(note("year_unknown", printed=fig.printed))
            if kind in ("change", "growth_percent") and from_year is None:
                row_notes.append(note("from_year_unknown", printed=fig.printed))
            if len(named) > 1:
                measure = None
                row_notes.append(note("measure_ambiguous", printed=fig.printed, named=tuple(named)))
            elif named:
                measure = named[0]
            elif sentence.heading_measure:
                measure = sentence.heading_measure
            else:
                measure = None
                code = "measure_ambiguous" if sentence.heading_ambiguous else "measure_unknown"
                row_notes.append(note(code, printed=fig.printed))
            s, r = sender, receiver
            if ambiguous:
                s = r = None
                row_notes.append(note("parties_ambiguous", printed=fig.printed))
            elif not any_party and measure is not None and measure not in lex.flows:
                s = r = "all"
            else:
                if s is None:
                    row_notes.append(note("sender_unknown", printed=fig.printed))
                if r is None:
                    row_notes.append(note("receiver_unknown", printed=fig.printed))
            value = None if fig.value is None else fig.sign * fig.value
            wording = sentence.text[fig.lead_start:fig.tail_end].strip(" ,;:")
            if any(n.code == "qualifier_carried" for n in row_notes):
                wording = f"[{fig.hedge}] " + sentence.text[fig.start:fig.tail_end].strip(" ,;:")
            row = {
                "source_id": source_id, "year": year, "from_year": from_year, "measure": measure, "kind": kind,
                "sender": s, "receiver": r, "value": value, "unit": fig.unit, "step": fig.step,
                "qualifier": fig.qualifier, "wording": wording, "paraphrase": "",
            }
            fid = _figure_id(row, taken)
            row["figure_id"] = fid
            row[REVIEW_COLUMN] = "; ".join(dict.fromkeys(n.code for n in row_notes))
            rows.append(row)
            notes[fid] = tuple(_with_line(n, sentence.line) for n in row_notes)
            lines[fid] = sentence.line
    table = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("year", "from_year"):
        table[col] = pd.array(table[col].tolist(), dtype="Int64")
    for col in ("value", "step"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    for col in ("measure", "kind", "sender", "receiver", "unit"):
        table[col] = table[col].fillna("").astype(str)
    return Extraction(table=table, notes=notes, lines=lines, page_years=page)


def _with_line(n: Note, line: int) -> Note:
    return Note(n.code, {**n.values, "line": line})


def extract(text: str, source_id: str, *, lexicon: Lexicon | None = None,
            years: Sequence[int] | None = None) -> pd.DataFrame:
    """Return every figure in a page's text in the published schema plus a needs_review column of codes."""
    return extract_result(text, source_id, lexicon=lexicon, years=years).table


# ---------------------------------------------------------------- command line

def _plain_number(v: float) -> str:
    if pd.isna(v):
        return ""
    return format(Decimal(repr(float(v))).normalize(), "f")


def to_csv(table: pd.DataFrame) -> str:
    """Return a draft table as CSV text: numbers as printed with a decimal point, empty fields empty."""
    out = table.copy()
    for col in ("value", "step"):
        out[col] = [_plain_number(v) for v in out[col]]
    for col in ("year", "from_year"):
        out[col] = ["" if pd.isna(v) else str(int(v)) for v in out[col]]
    return out.to_csv(index=False, lineterminator="\n")


def _read_page(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; give the path of the page's text (a .txt file)") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; give the path of the page's text (a .txt file)") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not UTF-8 text; save the page's text as UTF-8 and run again") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis.statements",
        description="Write a draft of the published-figures table from a page's text (CSV on stdout); "
                    "the rows to review are listed on stderr.")
    p.add_argument("page", type=Path, help="the page's text (UTF-8); lines above a line '----' are skipped")
    p.add_argument("--source-id", required=True, help="the source's id (its row in data/sources.csv)")
    p.add_argument("--years", nargs=2, type=int, metavar=("FROM", "TO"),
                   help="the years the page compares (default: the two latest years its text names)")
    p.add_argument("--lexicon", action="append", type=Path, default=[], metavar="FILE",
                   help="a TOML file of extra terms, in the form of statements_lexicon.toml (repeatable)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line: write the draft CSV to stdout, the rows to review to stderr; return the status."""
    args = _parser().parse_args(argv)
    try:
        if not args.source_id.strip():
            raise DataError("--source-id: empty; give the source's id, e.g. ehelse_meldingsutveksling")
        text = _read_page(args.page)
        result = extract_result(text, args.source_id, lexicon=load_lexicon(*args.lexicon), years=args.years)
        if result.table.empty:
            raise DataError(f"{args.page}: no numbers found after the header; check that this is the page's text")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(to_csv(result.table))
    flagged = result.table[result.table[REVIEW_COLUMN] != ""]
    years = "-".join(map(str, result.page_years)) if result.page_years else "none found"
    print(f"{len(result.table)} figures from {args.page} (years compared: {years}); "
          f"{len(flagged)} to review:", file=sys.stderr)
    for _, row in flagged.iterrows():
        print(f"  line {result.lines[row['figure_id']]}: {row['figure_id']} ({row['wording']}): "
              f"{row[REVIEW_COLUMN]}", file=sys.stderr)
    print("After review: fill in the empty fields, write the paraphrases, delete the needs_review column, "
          "and save the file under data/published/.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
