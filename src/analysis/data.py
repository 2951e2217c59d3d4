"""Loading the published figures, the context figures and a user's own series, with validation."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis import paths
from analysis.errors import DataError
from analysis.intervals import QUALIFIERS, Convention, add_bounds

PUBLISHED_COLUMNS = [
    "figure_id", "source_id", "year", "from_year", "measure", "kind", "sender", "receiver",
    "value", "unit", "step", "qualifier", "wording", "paraphrase",
]
MEASURES = ("total", "sysvak", "svarrapporter", "frikort_egenandel", "plo")
KINDS = ("level", "change", "growth_percent")
PARTIES = ("all", "fastlege", "kommune", "helseforetak", "helseforetak_og_private_sykehus")
UNITS = ("million messages", "percent")

SERIES_REQUIRED = ["period", "measure", "sender", "receiver", "value"]
SERIES_OPTIONAL = ["qualifier", "step", "source_id"]
SERIES_KEY = ["period", "measure", "sender", "receiver"]
LEVEL_COLUMNS = ["period", "measure", "sender", "receiver", "value", "low", "high", "unit", "source_id"]

_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# ---------------------------------------------------------------- reading files

def _read_text_table(path: Path, what: str) -> pd.DataFrame:
    """Read a CSV or .xlsx file as strings only (nothing coerced), with clear errors for unreadable files."""
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path ({what})")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, na_filter=False)
        except Exception as exc:  # openpyxl raises many kinds
            raise DataError(f"{path}: cannot be read as an .xlsx workbook ({exc}); save it again from Excel") from exc
    elif suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DataError(
                f"{path}, line {line}: the file is not UTF-8 text (byte {raw[exc.start]:#x} at position "
                f"{exc.start}); save it as 'CSV UTF-8' so names with æ, ø and å survive"
            ) from exc
        if not text.strip():
            raise DataError(f"{path}: the file is empty; it needs a header row and at least one data row")
        sep = _separator(text)
        _check_field_counts(text, sep, path)
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                                index_col=False)
        except pd.errors.ParserError as exc:
            raise DataError(f"{path}: not a well-formed CSV file ({exc}); check quoting and separators") from exc
    else:
        raise DataError(f"{path}: unsupported file type {suffix!r}; give a .csv (UTF-8) or .xlsx file")
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError(f"{path}: the file has a header but no data rows; add at least one row")
    return frame


def _separator(text: str) -> str:
    """Comma, or semicolon for files saved as 'CSV' by a Norwegian-locale Excel (header has ; and no ,)."""
    header = text.lstrip("\ufeff").splitlines()[0]
    return ";" if ";" in header and "," not in header else ","


def _check_field_counts(text: str, sep: str, path: Path) -> None:
    """Every row must have as many fields as the header; else name the row (a decimal comma is the usual cause)."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(rows)
    for number, fields in enumerate(rows, start=2):
        if fields and len(fields) != len(header):
            hint = (
                "a decimal comma or a comma inside a name? Write decimals with a point (193.5) and put "
                "names that contain commas in double quotes"
                if len(fields) > len(header)
                else "a cell is missing; every row needs a value for every column"
            )
            raise DataError(
                f"{path}, row {number}: {len(fields)} fields but the header has {len(header)} "
                f"({', '.join(header)}); {hint}"
            )


def _row(index: int) -> int:
    """File row number (1 = header) of a frame row read from a file with one header line."""
    return int(index) + 2


def _check_columns(frame: pd.DataFrame, path: Path, required: list[str], optional: list[str]) -> None:
    cols = list(frame.columns)
    missing = [c for c in required if c not in cols]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; the file has {cols}. "
            f"Required columns are {required}, optional {optional}"
        )
    extra = [c for c in cols if c not in required + optional]
    if extra:
        raise DataError(
            f"{path}: unexpected column(s) {extra}; remove or rename them. "
            f"Allowed columns are {required + optional}"
        )
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise DataError(f"{path}: column(s) {dupes} appear more than once; keep one of each")


def _parse_number(text: str, path: Path, index: int, column: str, *, allow_empty: bool = False) -> float:
    s = text.strip()
    if s == "":
        if allow_empty:
            return math.nan
        raise DataError(
            f"{path}, row {_row(index)}, column '{column}': empty; write a number "
            f"(if the value is not known, leave the row out: missing stays missing)"
        )
    try:
        number = float(s)
    except ValueError:
        hint = " (use a point, not a comma, as decimal separator)" if re.fullmatch(r"-?\d+,\d+", s) else ""
        raise DataError(
            f"{path}, row {_row(index)}, column '{column}': {text!r} is not a number{hint}"
        ) from None
    if not math.isfinite(number):
        raise DataError(f"{path}, row {_row(index)}, column '{column}': {text!r} is not a finite number")
    return number


def _validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, path: Path) -> None:
    """Run a pandera schema lazily and turn its failure cases into one DataError naming rows and columns."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        for _, case in cases.iterrows():
            idx = case["index"]
            where = f"row {_row(idx)}" if idx is not None and not pd.isna(idx) else "file"
            rule, hint = _plain(str(case["check"]), str(case["column"]))
            value = case["failure_case"]
            shown = f"{value:g}" if isinstance(value, float) else repr(value)
            lines.append(f"{path}, {where}, column '{case['column']}': {shown} {rule}; {hint}")
        raise DataError("\n".join(sorted(set(lines), key=lines.index))) from None


def _plain(check: str, column: str) -> tuple[str, str]:
    """A validation rule in plain words, and what to do about a value that breaks it."""
    if check.startswith("greater_than_or_equal_to"):
        return "is negative", "counts cannot be negative: check the sign or leave the row out"
    if check.startswith("greater_than"):
        return "is not above 0", "a step must be positive (e.g. 1 for '63', 0.1 for '23,5')"
    if check.startswith("isin"):
        allowed = {"qualifier": QUALIFIERS, "measure": MEASURES, "kind": KINDS, "unit": UNITS}.get(column, PARTIES)
        return "is not an allowed value", f"use one of {list(allowed)}"
    if check.startswith("str_length"):
        return "is empty", f"every row needs a {column}"
    if "unique" in check:
        return "appears more than once", f"each {column} may appear only once"
    return f"breaks the rule {check}", "correct the value"


# ---------------------------------------------------------------- published figures

_PUBLISHED_SCHEMA = pa.DataFrameSchema(
    {
        "figure_id": pa.Column(str, unique=True),
        "measure": pa.Column(str, pa.Check.isin(MEASURES)),
        "kind": pa.Column(str, pa.Check.isin(KINDS)),
        "sender": pa.Column(str, pa.Check.isin(PARTIES)),
        "receiver": pa.Column(str, pa.Check.isin(PARTIES)),
        "unit": pa.Column(str, pa.Check.isin(UNITS)),
        "value": pa.Column(float),  # a level is not negative; a change or growth may be (a fall): see below
        "step": pa.Column(float, pa.Check.gt(0)),
        "qualifier": pa.Column(str, pa.Check.isin(QUALIFIERS)),
    }
)
SIGNED_KINDS = ("change", "growth_percent")  # kinds whose value may be negative: a fall


def load_sources(path: str | Path | None = None) -> pd.DataFrame:
    """Return data/sources.csv: one row per source with source_id, publisher, title, url, published, notes."""
    p = paths.resolve_existing(path, "sources table") if path else paths.SOURCES_CSV
    frame = _read_text_table(p, "sources table")
    _check_columns(frame, p, ["source_id", "publisher", "title", "url", "published", "notes"], [])
    return frame


def _check_source_ids(frame: pd.DataFrame, p: Path) -> None:
    known = set(load_sources()["source_id"])
    for idx, sid in frame["source_id"].items():
        if sid not in known:
            raise DataError(
                f"{p}, row {_row(idx)}, column 'source_id': {sid!r} is not in {paths.SOURCES_CSV}; "
                "add the source there first (every figure must trace to a source)"
            )


def load_published(path: str | Path | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Return every published figure with `low` and `high` bounds from the interval convention."""
    p = paths.resolve_existing(path, "published figures") if path else paths.PUBLISHED_CSV
    frame = _read_text_table(p, "published figures")
    _check_columns(frame, p, PUBLISHED_COLUMNS, [])
    out = frame.copy()
    for col in ("value", "step"):
        out[col] = [_parse_number(v, p, i, col) for i, v in out[col].items()]
    for col in ("year", "from_year"):
        out[col] = pd.array(
            [None if v.strip() == "" else int(_parse_number(v, p, i, col)) for i, v in out[col].items()],
            dtype="Int64",
        )
    _validate(out, _PUBLISHED_SCHEMA, p)
    _check_levels_not_negative(out, p)
    _check_source_ids(out, p)
    return add_bounds(out, convention)


def _check_levels_not_negative(frame: pd.DataFrame, p: Path) -> None:
    bad = frame[(frame["value"] < 0) & ~frame["kind"].isin(SIGNED_KINDS)]
    if len(bad):
        idx = bad.index[0]
        raise DataError(f"{p}, row {_row(idx)}, column 'value': {bad.loc[idx, 'value']:g} is negative; a level "
                        f"cannot be negative (only a change or a growth in percent can, for a fall): check the "
                        f"sign or the kind")


def load_context(scope: str | None = "national", path: str | Path | None = None) -> pd.DataFrame:
    """Return the context figures (all, or those of one `scope` such as "national") with bounds."""
    p = paths.resolve_existing(path, "context figures") if path else paths.CONTEXT_CSV
    frame = _read_text_table(p, "context figures")
    out = frame.copy()
    for col in ("value", "step"):
        out[col] = [_parse_number(v, p, i, col) for i, v in out[col].items()]
    out["year"] = pd.array([None if v == "" else int(v) for v in out["year"]], dtype="Int64")
    _check_source_ids(out, p)
    if scope is not None:
        out = out[out["scope"] == scope]
    return add_bounds(out, None)


# ---------------------------------------------------------------- a user's own series

_SERIES_SCHEMA = pa.DataFrameSchema(
    {
        "measure": pa.Column(str, pa.Check.str_length(min_value=1)),
        "sender": pa.Column(str, pa.Check.str_length(min_value=1)),
        "receiver": pa.Column(str, pa.Check.str_length(min_value=1)),
        "value": pa.Column(float, pa.Check.ge(0)),
        "step": pa.Column(float, pa.Check.gt(0)),
        "qualifier": pa.Column(str, pa.Check.isin(QUALIFIERS)),
    },
)


def _check_unique_keys(frame: pd.DataFrame, p: Path) -> None:
    keys = ["period_text", "measure", "sender", "receiver"]
    dup = frame[frame.duplicated(keys, keep=False)]
    if dup.empty:
        return
    first = tuple(dup.iloc[0][keys])
    rows = [_row(i) for i, r in dup.iterrows() if tuple(r[keys]) == first]
    raise DataError(
        f"{p}, rows {' and '.join(map(str, rows))}, columns {SERIES_KEY}: the same key {first} appears "
        f"{len(rows)} times; keep one row per period, measure, sender and receiver "
        "(add parts together first if they are pieces of one count)"
    )


RESERVED = {"measure": "total", "sender": "all", "receiver": "all"}


def _check_reserved_names(frame: pd.DataFrame, p: Path) -> None:
    """'Total' or 'ALL' would silently be a different name from the package's `total` and `all`."""
    for col, word in RESERVED.items():
        for idx, name in frame[col].items():
            if name != word and name.lower() == word:
                raise DataError(
                    f"{p}, row {_row(idx)}, column '{col}': {name!r}; names are case-sensitive and the package "
                    f"uses {word!r} (lower case) for this, so write {word!r}"
                )


def _check_parts_within_total(frame: pd.DataFrame, p: Path) -> None:
    """No single row can hold more messages than the same period's total (measure total, all -> all)."""
    is_total = (frame["measure"] == "total") & (frame["sender"] == "all") & (frame["receiver"] == "all")
    totals = dict(zip(frame.loc[is_total, "period_text"], frame.loc[is_total].index, strict=True))
    for idx, row in frame[~is_total].iterrows():
        t = totals.get(row["period_text"])
        if t is not None and row["value"] > frame.at[t, "value"]:
            raise DataError(
                f"{p}, row {_row(idx)}, column 'value': {row['value']:g} {row['measure']} messages in "
                f"{row['period_text']} is more than that period's total {frame.at[t, 'value']:g} (row {_row(t)}); "
                "a part cannot exceed the total: check both values (and that both are counts, not millions)"
            )


def _parse_periods(frame: pd.DataFrame, p: Path) -> pd.Series:
    kinds = []
    for idx, text in frame["period"].items():
        s = text.strip()
        if _YEAR.match(s):
            kinds.append("Y")
        elif _MONTH.match(s):
            kinds.append("M")
        else:
            raise DataError(
                f"{p}, row {_row(idx)}, column 'period': {text!r} is not a period; "
                "write a year as 2019 or a month as 2019-03"
            )
    if len(set(kinds)) > 1:
        first = kinds[0]
        odd = next(i for i, k in zip(frame.index, kinds, strict=True) if k != first)
        raise DataError(
            f"{p}, row {_row(odd)}, column 'period': {frame.at[odd, 'period']!r} mixes "
            f"{'months' if first == 'Y' else 'years'} into a file of {'years' if first == 'Y' else 'months'}; "
            "use one kind of period per file (split yearly and monthly series into two files)"
        )
    return pd.Series(
        pd.PeriodIndex([s.strip() for s in frame["period"]], freq=kinds[0]), index=frame.index, name="period"
    )


def load_series(path: str | Path, convention: str | Convention | None = None) -> pd.DataFrame:
    """Return a user's series (CSV or .xlsx in the tidy schema) validated, with `low` and `high` bounds."""
    p = paths.resolve_existing(path, "user series")
    frame = _read_text_table(p, "user series")
    _check_columns(frame, p, SERIES_REQUIRED, SERIES_OPTIONAL)
    for col in ("measure", "sender", "receiver"):
        for idx, v in frame[col].items():
            if v.strip() == "":
                raise DataError(f"{p}, row {_row(idx)}, column '{col}': empty; every row needs a {col} name")
    out = pd.DataFrame(index=frame.index)
    out["period_text"] = frame["period"].str.strip()
    out["period"] = _parse_periods(frame, p)
    for col in ("measure", "sender", "receiver"):
        out[col] = frame[col].str.strip()
    out["value"] = [_parse_number(v, p, i, "value") for i, v in frame["value"].items()]
    if "qualifier" in frame:
        for idx, v in frame["qualifier"].items():
            if v.strip() == "":
                raise DataError(
                    f"{p}, row {_row(idx)}, column 'qualifier': empty; write 'exact' for a count with no "
                    f"hedge word, or one of {list(QUALIFIERS)}"
                )
        out["qualifier"] = frame["qualifier"].str.strip()
    else:
        out["qualifier"] = "exact"
    # Without a step column the values are whole message counts: step 1 message.
    out["step"] = (
        [_parse_number(v, p, i, "step") for i, v in frame["step"].items()] if "step" in frame else 1.0
    )
    out["source_id"] = frame["source_id"].str.strip() if "source_id" in frame else p.name
    _validate(out, _SERIES_SCHEMA, p)
    _check_reserved_names(out, p)
    _check_unique_keys(out, p)
    _check_parts_within_total(out, p)
    out = add_bounds(out.drop(columns="period_text"), convention)
    out["unit"] = "messages"
    return _note_synthetic(out.reset_index(drop=True))


SYNTHETIC_WORD = "synthetic"  # a source_id containing this word (any case) marks synthetic data
_synthetic_loaded = False  # set by load_series / load_data; read by analysis.present.outputs
_published_loaded: bool | None = None  # set by load_data: the data last loaded are published figures (None: none yet)


def is_synthetic(frame: pd.DataFrame) -> bool:
    """True when any `source_id` of `frame` contains "synthetic" (case-insensitive)."""
    if "source_id" not in frame.columns:
        return False
    ids = frame["source_id"].dropna().astype(str)
    return bool(ids.str.contains(SYNTHETIC_WORD, case=False, regex=False).any())


def mark_synthetic(flag: bool = True) -> None:
    """Mark (or with False, unmark) the data loaded in this process as synthetic."""
    global _synthetic_loaded
    _synthetic_loaded = bool(flag)


def synthetic_loaded() -> bool:
    """True while the data last loaded in this process (load_series, load_data) are synthetic."""
    return _synthetic_loaded


def published_loaded() -> bool | None:
    """True when the data last loaded with load_data are published figures (the page's statements, the
    package's or a user's file in that schema), False for a series, None before any load_data call. The report
    pipeline reads it to keep the cells tagged ``published-data`` or ``own-data`` that fit the data."""
    return _published_loaded


def _note_synthetic(frame: pd.DataFrame) -> pd.DataFrame:
    """Record whether `frame` is synthetic, so figures and tables saved from it are marked; loading other data
    clears the mark. Returns `frame` unchanged."""
    mark_synthetic(is_synthetic(frame))
    return frame


def _note_loaded(frame: pd.DataFrame) -> pd.DataFrame:
    """Record what load_data loaded: synthetic or not, published figures or a series. Returns `frame`."""
    global _published_loaded
    _published_loaded = is_published(frame)
    return _note_synthetic(frame)


# ---------------------------------------------------------------- common views

def levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the level rows with a known period as period, measure, sender, receiver, value, low, high."""
    if "kind" in frame.columns:  # published figures: keep levels with a stated year
        rows = frame[(frame["kind"] == "level") & frame["year"].notna()].copy()
        rows["period"] = pd.PeriodIndex([str(int(y)) for y in rows["year"]], freq="Y")
    else:
        rows = frame.copy()
    return rows[LEVEL_COLUMNS].reset_index(drop=True)


def is_published(frame: pd.DataFrame) -> bool:
    """True when `frame` holds published figures (from load_published) rather than a user's series."""
    return "kind" in frame.columns and "figure_id" in frame.columns


def load_data(path: str | Path | None = None, convention: str | Convention | None = None) -> pd.DataFrame:
    """Load either the published figures or a user's series, telling them apart by their columns."""
    if not path:
        return _note_loaded(load_published(None, convention))
    p = paths.resolve_existing(path)
    if p.suffix.lower() == ".csv" and p.exists():
        header = p.read_bytes().split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        if "figure_id" in header and "wording" in header:
            return _note_loaded(load_published(p, convention))
    return _note_loaded(load_series(p, convention))
