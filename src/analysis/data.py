"""Loading the published figures, the context figures and a user's own series, with validation."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis import paths
from analysis.errors import DataError
from analysis.intervals import QUALIFIERS, Convention, add_bounds, get_convention

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
#
# What is accepted as "the same table": UTF-8 with or without a byte-order mark; LF, CRLF or CR line ends;
# comma, semicolon or tab between fields (detected from the header row); fields in double quotes; blank lines
# and rows whose every cell is empty (skipped, but counted, so row numbers in messages are those a text editor
# or a spreadsheet shows: the header is row 1); an .xlsx workbook with one sheet of data, or the sheet named by
# `sheet`. Everything else stops with a DataError naming the file, the row and column, and what to do.

TEXT_SUFFIXES = (".csv", ".tsv")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
MAX_LINE_BYTES = 1 << 20  # a line longer than 1 MiB is not a row of this table
LOW_MEMORY_PARSE = False  # one pass: chunked parsing (True) is slower with categories and peaks higher
_EXTRA = "\x00extra"  # a column after the last named one: filled only by rows with one field too many
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other old Office files)


def _check_is_file(path: Path, what: str) -> None:
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a file ({what}); give the path of the .csv or .xlsx file in it")
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path ({what})")


def _kind_of_file(path: Path, head: bytes) -> str:
    """What the file holds by its first bytes: 'workbook', 'xls', 'utf16' or 'text'."""
    if head.startswith(_ZIP_MAGIC):
        return "workbook"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 4 and head[1:4:2] == b"\x00\x00"):
        return "utf16"
    return "text"


def _read_text_table(path: Path, what: str, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or .xlsx file as text only (nothing coerced); index = file row - 2 (header = row 1)."""
    _check_is_file(path, what)
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(8)
    kind = _kind_of_file(path, head)
    if suffix in WORKBOOK_SUFFIXES:
        if kind == "text" and head.strip():
            raise DataError(f"{path}: this file is text (CSV?), not an Excel workbook, though it is named "
                            f"{suffix}; rename it to .csv")
        if kind == "xls":
            raise DataError(f"{path}: an old Excel 97-2003 workbook saved as {suffix}; open it in Excel and save "
                            "it as .xlsx (Excel Workbook) or CSV UTF-8")
        frame = _read_workbook(path, sheet)
    elif suffix in TEXT_SUFFIXES or suffix == ".xls":
        if kind == "workbook":
            raise DataError(f"{path}: this file is an Excel workbook, not CSV (it is only named {suffix}); rename "
                            "it to .xlsx, or save it from Excel as CSV UTF-8")
        if kind == "xls" or suffix == ".xls":
            raise DataError(f"{path}: an old Excel 97-2003 workbook (.xls); open it in Excel and save it as .xlsx "
                            "(Excel Workbook) or CSV UTF-8")
        if kind == "utf16":
            raise DataError(f"{path}: the file is UTF-16 text (Excel's 'Unicode text'); save it as 'CSV UTF-8'")
        if sheet:
            raise DataError(f"{path}: sheet={sheet!r} is given, but a CSV file has no sheets; leave sheet empty")
        frame = _read_csv_text(path)
    else:
        raise DataError(f"{path}: unsupported file type {suffix!r}; give a .csv (UTF-8) or .xlsx file "
                        "(a tab-separated .txt file: rename it to .csv)")
    if frame.empty:
        raise DataError(f"{path}: the file has a header but no data rows; add at least one row")
    return frame


# ---- CSV

def _header_line(path: Path) -> tuple[str, int]:
    """The header row's text (a BOM removed) and how many blank lines come before it."""
    with path.open("rb") as fh:
        chunk = fh.read(MAX_LINE_BYTES + 4)
    if not chunk.strip():
        raise DataError(f"{path}: the file is empty; it needs a header row and at least one data row")
    text = chunk.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    skipped = 0
    for line in lines[:-1] if len(lines) > 1 else lines:
        if line.strip():
            return line, skipped
        skipped += 1
    raise DataError(f"{path}, row 1: the header row is longer than {MAX_LINE_BYTES // 1024} KiB; the first row must "
                    "name the columns (period, measure, sender, receiver, value)")


def _split_header(path: Path, line: str) -> tuple[str, list[str]]:
    """Detect the separator (the one that splits the header into the most columns) and return the columns."""
    best = max(SEPARATORS, key=lambda s: (len(next(csv.reader([line], delimiter=s))), s == ","))
    columns = [c.strip() for c in next(csv.reader([line], delimiter=best))]
    return best, columns


def _check_header(path: Path, columns: list[str], sep: str) -> None:
    if len(columns) == 1:
        raise DataError(f"{path}, row 1: the header has one column {columns[0]!r}; separate the columns with "
                        "commas, semicolons or tabs")
    seen: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if name in seen:
            raise DataError(f"{path}, row 1: column {name!r} appears twice (columns {seen[name]} and {number}); "
                            "keep one of each")
        seen[name] = number
    empty = [i for i, c in enumerate(columns, start=1) if c == ""]
    if empty:
        raise DataError(f"{path}, row 1: column {empty[0]} has no name; name it or delete the column "
                        f"(a {SEPARATORS[sep]} at the end of the header?)")


def _line_starts(raw: bytes) -> np.ndarray:
    """Byte offsets where each line starts (LF, CRLF or CR line ends)."""
    b = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(b == 10)
    if not len(ends):
        ends = np.flatnonzero(b == 13)
    return np.concatenate(([0], ends + 1))


def _longest_line(path: Path, chunk_bytes: int = 1 << 23) -> tuple[int, int]:
    """(length in bytes, line number) of the longest line, read in chunks (LF, CRLF or CR line ends)."""
    for end in (10, 13):
        best, best_line, line, current, found = 0, 1, 1, 0, False
        with path.open("rb") as fh:
            while chunk := fh.read(chunk_bytes):
                ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == end)
                if not len(ends):
                    current += len(chunk)
                    continue
                found = True
                lengths = np.diff(ends, prepend=-1)
                lengths[0] += current
                i = int(np.argmax(lengths))
                if lengths[i] > best:
                    best, best_line = int(lengths[i]), line + i
                line += len(ends)
                current = len(chunk) - int(ends[-1]) - 1
        if current > best:
            best, best_line = current, line
        if found or end == 13:
            return best, best_line
    return best, best_line


def _check_line_lengths(path: Path) -> None:
    """A line of over 1 MiB is no row of this table (it would also take a lot of memory to parse)."""
    length, line = _longest_line(path)
    if length > MAX_LINE_BYTES:
        raise DataError(f"{path}, row {line}: the row is {length / 2**20:.1f} MiB long; a row of this table "
                        "is a few dozen characters: check that this is the right file and that quotes (\") are "
                        "closed")


def _parse_error(path: Path, exc: Exception, skipped: int, columns: list[str]) -> DataError:
    """A pandas ParserError in plain words, with the row as a text editor shows it."""
    text = str(exc)
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        line, saw = int(m.group(2)), int(m.group(3))  # pandas counts every line of the file, from 1
        return DataError(
            f"{path}, row {line}: {saw} fields but the header has {len(columns)} ({', '.join(columns)}); a decimal "
            "comma or a comma inside a name? Write decimals with a point (193.5) and put names that contain "
            "commas in double quotes")
    m = re.search(r"EOF inside string starting at row (\d+)", text)
    if m:
        return DataError(f"{path}, row {int(m.group(1)) + 1}: a double quote (\") opens a field that is "
                         "never closed; close the quote or remove it")
    return DataError(f"{path}: not a well-formed CSV file ({text.strip().splitlines()[-1]}); check quoting "
                     "and separators")


def _utf8_error(path: Path, exc: UnicodeDecodeError | None = None) -> DataError:
    raw = path.read_bytes()
    try:
        raw.decode("utf-8-sig")
        return DataError(f"{path}: the file is not UTF-8 text; save it as 'CSV UTF-8'")
    except UnicodeDecodeError as err:
        line = len(_line_starts(raw[: err.start]))
        return DataError(
            f"{path}, line {line}: the file is not UTF-8 text (byte {raw[err.start]:#x} at position {err.start}); "
            "save it as 'CSV UTF-8' so names with æ, ø and å survive")


def _read_csv(path: Path, dtypes: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Parse a delimited text file with pandas: columns typed by `dtypes` (default: all text).

    Returns (frame, columns, separator); the frame's index is the file row - 2 (blank lines counted), blank rows
    are dropped, and rows with more fields than the header are refused.
    """
    line, skipped = _header_line(path)
    sep, columns = _split_header(path, line)
    _check_header(path, columns, sep)
    size = path.stat().st_size
    if size > MAX_LINE_BYTES:
        _check_line_lengths(path)
    types = {c: (dtypes or {}).get(c, "str") for c in columns} | {_EXTRA: "category"}
    try:
        frame = pd.read_csv(path, sep=sep, header=None, skiprows=skipped + 1, names=[*columns, _EXTRA], dtype=types,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False, index_col=False,
                            encoding="utf-8-sig", quotechar='"', doublequote=True, engine="c",
                            low_memory=LOW_MEMORY_PARSE)
    except UnicodeDecodeError as exc:
        raise _utf8_error(path, exc) from None
    except pd.errors.ParserError as exc:
        raise _parse_error(path, exc, skipped, columns) from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in [*columns, _EXTRA]})
    if skipped:
        frame.index = frame.index + skipped
    extra = frame.pop(_EXTRA)
    longer = ~_category_blank(extra.astype("category"))
    if longer.any():
        raise _parse_error(path, pd.errors.ParserError(
            f"Expected {len(columns)} fields in line {_row(frame.index[int(np.argmax(longer))])}, "
            f"saw {len(columns) + 1}"), skipped, columns)
    return frame, columns, sep


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or blank (a blank line, or ',,,,' from an emptied spreadsheet row)."""
    blank = np.ones(len(frame), dtype=bool)
    for col in frame.columns:
        s = frame[col]
        if s.dtype.kind == "f":
            return np.zeros(len(frame), dtype=bool)  # parsed as numbers: no cell was empty
        blank &= (s.astype("str").str.strip() == "").to_numpy() if s.dtype.name != "category" else \
            _category_blank(s)
        if not blank.any():
            break
    return blank


def _category_blank(s: pd.Series) -> np.ndarray:
    cats = s.cat.categories.astype("str").str.strip() == ""
    codes = s.cat.codes.to_numpy()
    return np.where(codes < 0, True, np.asarray(cats)[codes] if len(cats) else True)


def _read_csv_text(path: Path) -> pd.DataFrame:
    frame, columns, _ = _read_csv(path)
    frame = frame[~_blank_rows(frame)]
    _check_short_rows(path, frame, columns)
    return frame


def _check_short_rows(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    """pandas pads a row with too few fields with empty cells: find such rows among those with an empty last
    cell by counting their fields."""
    last = frame[columns[-1]]
    if last.dtype.kind == "f":
        return
    empty_last = (last.astype("str") == "").to_numpy()
    if not empty_last.any():
        return
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    starts = _line_starts(raw)
    sep = _split_header(path, _header_line(path)[0])[0]
    for index in frame.index[empty_last][:10000]:
        number = int(index) + 2
        if number - 1 >= len(starts):
            continue
        begin = int(starts[number - 1])
        end = int(starts[number]) if number < len(starts) else len(raw)
        text = raw[begin:end].decode("utf-8", errors="replace").rstrip("\r\n")
        fields = next(csv.reader([text], delimiter=sep), [])
        if fields and len(fields) < len(columns):
            raise DataError(f"{path}, row {number}: {len(fields)} fields but the header has {len(columns)} "
                            f"({', '.join(columns)}); a cell is missing; every row needs a value for every column")


# ---- workbooks

def _cell_text(value: object) -> str:
    """A workbook cell as the text a person typed: 2019 not 2019.0, a month's first day as 2019-03."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.day == 1 and value.time() == dt.time():
            return f"{value.year:04d}-{value.month:02d}"
        return _DATE_MARK + value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}" if value.day == 1 else _DATE_MARK + value.isoformat()
    return str(value)


_DATE_MARK = "\x00date:"  # a workbook date that is not the first of a month (refused in `period`, shown plainly)


def _open_workbook(path: Path, formulas: bool):
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=not formulas)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise DataError(f"{path}: cannot be read as an .xlsx workbook (damaged or not a workbook: "
                        f"{type(exc).__name__}); open it in Excel and save it again as .xlsx, or save it as "
                        "CSV UTF-8") from None


def _has_data(ws) -> bool:
    return any(v is not None and str(v).strip() != "" for row in ws.iter_rows(values_only=True) for v in row)


def _read_workbook(path: Path, sheet: str | None) -> pd.DataFrame:
    wb = _open_workbook(path, formulas=False)
    try:
        names = list(wb.sheetnames)
        if sheet:
            if sheet not in names:
                raise DataError(f"{path}: the workbook has no sheet {sheet!r}; its sheets are "
                                f"{', '.join(names)}: pass one of them as sheet=...")
            chosen = sheet
        else:
            with_data = [n for n in names if _has_data(wb[n])]
            if not with_data:
                raise DataError(f"{path}: the workbook is empty (no sheet holds data); put the table on a sheet "
                                "with a header row and at least one data row")
            if len(with_data) > 1:
                raise DataError(f"{path}: this workbook has sheets {', '.join(with_data)} with data: pass "
                                "sheet=... (--sheet on the command line) to say which one holds the table, or "
                                "put all rows on one sheet")
            chosen = with_data[0]
        rows = list(wb[chosen].iter_rows(values_only=True))
    finally:
        wb.close()
    formulas = None
    numbered = [(i, r) for i, r in enumerate(rows, start=1) if any(_cell_text(v).strip() for v in r)]
    if not numbered:
        raise DataError(f"{path}: sheet {chosen!r} is empty; it needs a header row and at least one data row")
    head_row, header = numbered[0]
    columns = [_cell_text(v).strip() for v in header]
    while columns and columns[-1] == "":
        columns.pop()
    _check_header(path, columns, ",")
    body = []
    index = []
    for number, row in numbered[1:]:
        cells = [_cell_text(v) for v in row[: len(columns)]]
        extra = [v for v in row[len(columns):] if _cell_text(v).strip()]
        if extra:
            raise DataError(f"{path}, sheet {chosen!r}, row {number}: a value right of the last named column "
                            f"({_cell_text(extra[0])!r}); give that column a name in row {head_row} or delete it")
        cells += [""] * (len(columns) - len(cells))
        for col, value in enumerate(row[: len(columns)]):
            if value is None:
                formulas = formulas if formulas is not None else _formula_cells(path, chosen)
                if (number, col + 1) in formulas:
                    raise DataError(
                        f"{path}, sheet {chosen!r}, row {number}, column {columns[col]!r}: a formula "
                        f"({formulas[(number, col + 1)]}) with no saved result; open the workbook in Excel and "
                        "save it (Excel stores the results), or paste the values instead of the formulas")
        body.append(cells)
        index.append(number - 2)
    frame = pd.DataFrame(body, columns=columns, index=index, dtype="str")
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
    return frame


def _formula_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """(row, column) -> formula of each formula cell of `sheet` (read only when a cell came out empty)."""
    wb = _open_workbook(path, formulas=True)
    try:
        out = {}
        for r, row in enumerate(wb[sheet].iter_rows(values_only=True), start=1):
            for c, v in enumerate(row, start=1):
                if isinstance(v, str) and v.startswith("="):
                    out[(r, c)] = v
        return out
    finally:
        wb.close()


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
        cases = exc.failure_cases.head(20)  # the first few are enough to see what is wrong
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


def load_published(path: str | Path | None = None, convention: str | Convention | None = None,
                   sheet: str | None = None) -> pd.DataFrame:
    """Return every published figure with `low` and `high` bounds from the interval convention.

    Loading published figures sets the synthetic mark by their rows (the package's figures clear it)."""
    p = paths.resolve_existing(path, "published figures") if path else paths.PUBLISHED_CSV
    frame = _read_text_table(p, "published figures", sheet or None)
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
    return _note_synthetic(add_bounds(out, convention).reset_index(drop=True))


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
    out = out.reset_index(drop=True)
    if scope is not None:
        out = out[out["scope"] == scope]
    return add_bounds(out, None)


# ---------------------------------------------------------------- a user's own series
#
# Validation works on whole columns: text columns are checked once per distinct value (a file of a million
# rows has a few hundred distinct names), numbers as arrays, keys as integer codes. No loop runs per row.

_SERIES_SCHEMA = pa.DataFrameSchema(
    {
        "value": pa.Column(float, pa.Check.ge(0)),
        "step": pa.Column(float, pa.Check.gt(0)),
    },
)
SERIES_TEXT = ("period", "measure", "sender", "receiver", "qualifier", "source_id")
MAX_EXACT = 2**53  # counts from here on cannot all be stored exactly in a float
FAST_READ_BYTES = 65536  # files larger than this are read typed first (text columns as categories, numbers as floats)
RESERVED = {"measure": "total", "sender": "all", "receiver": "all"}
MISSING_MARKERS = ("nan", "na", "n/a", "null", "none", "..", ".", "-", "–", "—", "?", "x", ":")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f\u2009'.,])\d{3}(\1\d{3})*([.,]\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


class _Retry(Exception):
    """The fast typed read met something it cannot explain: read the file again as text."""


def next_year() -> int:
    """The latest year a period may have: next year (a count cannot come from later)."""
    return dt.date.today().year + 1


def _factor(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and distinct values (stripped of surrounding blanks) of a text column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, cats = s.cat.codes.to_numpy(), pd.Index(s.cat.categories.astype("str"))
    else:
        codes, cats = pd.factorize(s.astype("str"))
        cats = pd.Index(cats, dtype="str")
    stripped = cats.str.strip()
    if not stripped.equals(cats):
        recode, stripped = pd.factorize(stripped)
        codes = recode[codes]
    return np.asarray(codes, dtype=np.int64), pd.Index(stripped, dtype="str")


def _first_row(index: pd.Index, mask: np.ndarray) -> int:
    """File row number of the first row where `mask` holds."""
    return _row(index[int(np.argmax(mask))])


def _column_of(frame: pd.DataFrame, col: str) -> tuple[np.ndarray, pd.Index]:
    return _factor(frame[col])


def _check_text(p: Path, index: pd.Index, col: str, codes: np.ndarray, cats: pd.Index) -> None:
    """Names: no line breaks, NUL bytes or other control characters."""
    bad = cats.str.contains(_CONTROL.pattern, regex=True)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    name = cats[i]
    what = ("a line break" if re.search(r"[\r\n]", name) else "a NUL byte" if "\x00" in name else
            f"a control character (U+{ord(_CONTROL.search(name).group()):04X})")
    raise DataError(f"{p}, row {_first_row(index, codes == i)}, column '{col}': {name!r}; the name contains {what}; "
                    "write it on one line without control characters (in a spreadsheet: remove the line break "
                    "inside the cell)")


def _periods(p: Path, index: pd.Index, codes: np.ndarray, cats: pd.Index) -> pd.PeriodIndex:
    """The period column as Periods: one kind (years or months) per file, none after next year."""
    kinds = []
    for i, text in enumerate(cats):
        if text.startswith(_DATE_MARK):
            shown = text[len(_DATE_MARK):].removesuffix(" 00:00:00")
            raise DataError(
                f"{p}, row {_first_row(index, codes == i)}, column 'period': the date {shown} is not a month; a "
                "month is written 2019-03 (a date on the first of a month is read as that month): write the "
                "month, or a year such as 2019")
        if _YEAR.match(text):
            kinds.append("Y")
        elif _MONTH.match(text):
            kinds.append("M")
        else:
            raise DataError(f"{p}, row {_first_row(index, codes == i)}, column 'period': {text!r} is not a period; "
                            "write a year as 2019 or a month as 2019-03")
        if int(text[:4]) > next_year():
            raise DataError(f"{p}, row {_first_row(index, codes == i)}, column 'period': {text!r} is after next "
                            f"year ({next_year()}); a count cannot come from the future: check the year")
    kinds_arr = np.asarray(kinds)
    row_kinds = kinds_arr[codes]
    if (row_kinds != row_kinds[0]).any():
        first = row_kinds[0]
        odd = row_kinds != first
        text = cats[codes[int(np.argmax(odd))]]
        raise DataError(
            f"{p}, row {_first_row(index, odd)}, column 'period': {text!r} mixes "
            f"{'months' if first == 'Y' else 'years'} into a file of {'years' if first == 'Y' else 'months'}; "
            "use one kind of period per file (split yearly and monthly series into two files)")
    return pd.PeriodIndex(list(cats), freq=kinds[0])


def _number_hint(text: str) -> str:
    """What a text that is not a number probably is, and what to write instead."""
    s = text.strip()
    if s == "":
        return ("empty; write a number (if the value is not known, leave the row out: missing stays missing)")
    if s.lower() in MISSING_MARKERS:
        return f"{text!r} is a missing value; leave the row out (missing stays missing), or write the number"
    if s.lower().lstrip("+-") in ("inf", "infinity"):
        return f"{text!r} is not a finite number; write the count"
    if _DECIMAL_COMMA.match(s) and not _THOUSANDS.match(s):
        return f"{text!r} is not a number (use a point, not a comma, as decimal separator)"
    m = _THOUSANDS.match(s)
    if m:
        plain = re.sub(r"[ \u00a0\u202f\u2009'.,]", "", s) if m.group(3) is None else None
        if _DECIMAL_COMMA.match(s):
            return (f"{text!r} is not a number: a decimal comma or a thousands separator? Write decimals with a "
                    f"point (1.5) and whole numbers without separators ({plain or '1234567'})")
        return (f"{text!r} is not a number: it looks like a thousands separator: write "
                f"{plain or '1234567 (digits only, a point for decimals)'}")
    return f"{text!r} is not a number"


def _numbers(p: Path, frame: pd.DataFrame, col: str, *, fast: bool) -> np.ndarray:
    """A column of numbers as floats; the first cell that is not a finite number (or is 2^53 or more) is refused."""
    s = frame[col]
    if s.dtype.kind == "f":
        values = s.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise _Retry
    else:
        text = s.astype("str").str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{p}, row {_row(frame.index[i])}, column '{col}': {_number_hint(s.iloc[i])}")
    big = np.abs(values) >= MAX_EXACT
    if big.any():
        i = int(np.argmax(big))
        raise DataError(f"{p}, row {_row(frame.index[i])}, column '{col}': {values[i]:.0f} is 2^53 "
                        f"({MAX_EXACT}) or more, too large to be stored exactly; check the value (a count of "
                        "messages, not bytes or a sum of columns)")
    return values


def _combine(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One int64 key per row from several code columns (re-numbered when the product would overflow)."""
    key = codes[0].astype(np.int64)
    for c, n in zip(codes[1:], sizes[1:], strict=True):
        if key.size and int(key.max()) + 1 > (2**62) // max(n, 1):
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * n + c
    return key


def _read_series_frame(p: Path, sheet: str | None) -> tuple[pd.DataFrame, bool]:
    """The user's table: typed (text columns as categories, numbers as floats) when possible, else as text."""
    _check_is_file(p, "user series")
    if p.suffix.lower() in TEXT_SUFFIXES and p.stat().st_size > FAST_READ_BYTES and not sheet:
        with p.open("rb") as fh:
            kind = _kind_of_file(p, fh.read(8))
        if kind == "text":
            types = {c: "category" for c in SERIES_TEXT} | {"value": "float64", "step": "float64"}
            try:
                frame, columns, _ = _read_csv(p, types)
            except DataError:
                raise
            except (ValueError, TypeError, OverflowError):
                pass  # a cell that is not a number (or a blank line): read again as text, for the message
            else:
                if len(frame):
                    _check_short_rows(p, frame, columns)
                    return frame, True
    return _read_text_table(p, "user series", sheet), False


def load_series(path: str | Path, convention: str | Convention | None = None, sheet: str | None = None
                ) -> pd.DataFrame:
    """Return a user's series (CSV or .xlsx in the tidy schema) validated, with `low` and `high` bounds."""
    p = paths.resolve_existing(path, "user series")
    frame, fast = _read_series_frame(p, sheet or None)
    try:
        return _series(p, frame, convention, fast)
    except _Retry:
        return _series(p, _read_text_table(p, "user series", sheet or None), convention, False)


def _series(p: Path, frame: pd.DataFrame, convention: str | Convention | None, fast: bool) -> pd.DataFrame:
    _check_columns(frame, p, SERIES_REQUIRED, SERIES_OPTIONAL)
    index = frame.index
    texts = {col: _column_of(frame, col) for col in SERIES_TEXT if col in frame}
    pc, pcats = texts["period"]
    periods = _periods(p, index, pc, pcats)
    for col, (codes, cats) in texts.items():
        if col != "period":
            _check_text(p, index, col, codes, cats)
    for col in ("measure", "sender", "receiver", "qualifier"):
        if col not in texts:
            continue
        codes, cats = texts[col]
        if (cats == "").any():
            row = _first_row(index, codes == int(np.flatnonzero(cats == "")[0]))
            hint = (f"write 'exact' for a count with no hedge word, or one of {list(QUALIFIERS)}"
                    if col == "qualifier" else f"every row needs a {col} name")
            raise DataError(f"{p}, row {row}, column '{col}': empty; {hint}")
    values = _numbers(p, frame, "value", fast=fast)
    steps = _numbers(p, frame, "step", fast=fast) if "step" in frame else np.ones(len(frame))
    if "qualifier" in texts:
        codes, cats = texts["qualifier"]
        unknown = ~cats.isin(QUALIFIERS)
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise DataError(f"{p}, row {_first_row(index, codes == i)}, column 'qualifier': {cats[i]!r} is not an "
                            f"allowed value; use one of {list(QUALIFIERS)}")
    _validate(pd.DataFrame({"value": values, "step": steps}, index=index), _SERIES_SCHEMA, p)
    for col, word in RESERVED.items():
        codes, cats = texts[col]
        odd = (cats != word) & (cats.str.lower() == word)
        if odd.any():
            i = int(np.flatnonzero(odd)[0])
            raise DataError(f"{p}, row {_first_row(index, codes == i)}, column '{col}': {cats[i]!r}; names are "
                            f"case-sensitive and the package uses {word!r} (lower case) for this, so write {word!r}")
    keys = [texts[c] for c in ("period", "measure", "sender", "receiver")]
    _check_unique_keys(p, index, keys)
    _check_totals(p, index, keys, values)

    n = len(frame)
    del frame  # the parsed file is no longer needed: free it before the result is built
    cols: dict[str, object] = {"period": periods.take(pc)}
    for col in ("measure", "sender", "receiver"):
        codes, cats = texts[col]
        cols[col] = cats.take(codes).astype("str")
    cols["value"] = values
    cols["qualifier"] = (texts["qualifier"][1].take(texts["qualifier"][0]).astype("str") if "qualifier" in texts
                         else pd.Index(["exact"], dtype="str").repeat(n))
    cols["step"] = steps
    if "source_id" in texts:
        codes, cats = texts["source_id"]
        cols["source_id"] = cats.take(codes).astype("str")
        synthetic = bool(cats[np.unique(codes)].str.contains(SYNTHETIC_WORD, case=False, regex=False).any())
    else:
        cols["source_id"] = pd.Index([p.name], dtype="str").repeat(n)
        synthetic = False
    cols.update(_bounds(values, steps, cols["qualifier"], convention))
    cols["unit"] = pd.Index(["messages"], dtype="str").repeat(n)
    out = pd.DataFrame({k: pd.Series(v, copy=False) if isinstance(v, pd.Index) else v for k, v in cols.items()},
                       copy=False)
    mark_synthetic(synthetic)
    return out


def _bounds(value: np.ndarray, step: np.ndarray, qualifier: pd.Index | pd.Series,
            convention: str | Convention | None) -> dict[str, np.ndarray]:
    """low, high, low_closed, high_closed as :func:`analysis.intervals.add_bounds` gives them, on whole columns
    (the same arithmetic, value + offset·step ∓ tolerance·|value|, one qualifier at a time)."""
    conv = get_convention(convention)
    step = np.broadcast_to(np.asarray(step, dtype=float), value.shape)
    low, high = np.empty_like(value), np.empty_like(value)
    lc, hc = np.zeros(len(value), dtype=bool), np.zeros(len(value), dtype=bool)
    codes, names = pd.factorize(np.asarray(qualifier, dtype=object))
    slack = conv.rel_tol * np.abs(value)
    for i, q in enumerate(names):
        if q not in conv.rules:
            raise DataError(f"qualifier {q!r} is not known to convention {conv.name!r}; use one of "
                            f"{sorted(conv.rules)}")
        rule, m = conv.rules[q], codes == i
        low[m] = value[m] + rule.low * step[m] - slack[m]
        high[m] = value[m] + rule.high * step[m] + slack[m]
        lc[m], hc[m] = rule.low_closed, rule.high_closed
    return {"low": low, "high": high, "low_closed": lc, "high_closed": hc}


def _check_unique_keys(p: Path, index: pd.Index, keys: list[tuple[np.ndarray, pd.Index]]) -> None:
    codes = [c for c, _ in keys]
    key = _combine(codes, [len(cats) for _, cats in keys])
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    first = int(np.argmax(dup))
    same = np.flatnonzero(key == key[first])
    shown = tuple(cats[c[first]] for c, cats in keys)
    rows = [_row(index[i]) for i in same]
    raise DataError(
        f"{p}, rows {' and '.join(map(str, rows[:10]))}{' …' if len(rows) > 10 else ''}, columns {SERIES_KEY}: "
        f"the same key {shown} appears {len(rows)} times; keep one row per period, measure, sender and receiver "
        "(add parts together first if they are pieces of one count)")


def _wildcard(cats: pd.Index, word: str) -> int:
    """The code of `word` in `cats`, or len(cats) when no row has it."""
    hits = np.flatnonzero(cats == word)
    return int(hits[0]) if len(hits) else len(cats)


def _check_totals(p: Path, index: pd.Index, keys: list[tuple[np.ndarray, pd.Index]], values: np.ndarray) -> None:
    """The totals rule (README, "Your own data"): a period's total is its `total`/`all`/`all` row; a period
    without one is totalled as the sum of its rows, so those rows must not overlap (none may include another).
    No part may exceed its period's total."""
    (pc, pcats), (mc, mcats), (sc, scats), (rc, rcats) = keys
    wm, ws, wr = _wildcard(mcats, "total"), _wildcard(scats, "all"), _wildcard(rcats, "all")
    is_total = (mc == wm) & (sc == ws) & (rc == wr)
    period_total = np.full(len(pcats), np.nan)
    total_row = np.full(len(pcats), -1, dtype=np.int64)
    period_total[pc[is_total]] = values[is_total]
    total_row[pc[is_total]] = np.flatnonzero(is_total)
    above = ~is_total & (values > period_total[pc])  # NaN (no total) compares False
    if above.any():
        i = int(np.argmax(above))
        t = int(total_row[pc[i]])
        raise DataError(
            f"{p}, row {_row(index[i])}, column 'value': {values[i]:g} {mcats[mc[i]]} messages in {pcats[pc[i]]} is "
            f"more than that period's total {values[t]:g} (row {_row(index[t])}); a part cannot exceed the total: "
            "check both values (and that both are counts, not millions)")
    open_rows = np.flatnonzero(total_row[pc] < 0)  # rows of periods without a total row
    if not len(open_rows):
        return
    sizes = [len(pcats), len(mcats) + 1, len(scats) + 1, len(rcats) + 1]
    sub = [pc[open_rows], mc[open_rows], sc[open_rows], rc[open_rows]]
    have = _combine(sub, sizes)
    order = np.argsort(have, kind="stable")
    for gm, gs, gr in [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1) if a or b or c]:
        m2 = np.where(gm, wm, sub[1])
        s2 = np.where(gs, ws, sub[2])
        r2 = np.where(gr, wr, sub[3])
        general = _combine([sub[0], m2, s2, r2], sizes)
        changed = (m2 != sub[1]) | (s2 != sub[2]) | (r2 != sub[3])
        pos = np.searchsorted(have, general, sorter=order)
        pos = np.minimum(pos, len(have) - 1)
        found = changed & (have[order[pos]] == general)
        if found.any():
            i = int(np.argmax(found))
            part, whole = open_rows[i], open_rows[order[pos[i]]]
            shown = "/".join((mcats[mc[whole]], scats[sc[whole]], rcats[rc[whole]]))
            inner = "/".join((mcats[mc[part]], scats[sc[part]], rcats[rc[part]]))
            raise DataError(
                f"{p}, rows {_row(index[whole])} and {_row(index[part])}, columns ['measure', 'sender', "
                f"'receiver']: {pcats[pc[part]]} has no total row and {shown} includes {inner}, so a total taken "
                "as the sum of the rows would count those messages twice; add a row with measure 'total', sender "
                f"'all' and receiver 'all' for {pcats[pc[part]]}, or leave out one of the two rows")


# The synthetic mark is set per load: every load_series, load_published and load_data call sets it from the rows
# it loaded (a source_id containing "synthetic"), so loading the published figures clears it and figures drawn
# from them are never stamped. analysis.present.outputs reads it; save_figure/save_table given `data=` follow
# that frame instead (the mark by what a figure shows).
SYNTHETIC_WORD = "synthetic"  # a source_id containing this word (any case) marks synthetic data
_synthetic_loaded = False  # set by load_series / load_published / load_data; read by analysis.present.outputs
_published_loaded: bool | None = None  # set by load_data: the data last loaded are published figures (None: none yet)


def is_synthetic(frame: pd.DataFrame) -> bool:
    """True when any `source_id` of `frame` contains "synthetic" (case-insensitive)."""
    if "source_id" not in frame.columns:
        return False
    ids = pd.Series(pd.unique(frame["source_id"].dropna().astype(str)), dtype=object)  # once per distinct id
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


def load_data(path: str | Path | None = None, convention: str | Convention | None = None,
              sheet: str | None = None) -> pd.DataFrame:
    """Load either the published figures or a user's series, telling them apart by their columns."""
    if not path:
        if sheet:
            raise DataError(f"sheet={sheet!r} is given but data_path is empty (the published figures are one CSV "
                            "file); leave sheet empty, or give data_path")
        return _note_loaded(load_published(None, convention))
    p = paths.resolve_existing(path)
    if p.suffix.lower() in TEXT_SUFFIXES and p.is_file():
        with p.open("rb") as fh:
            head = fh.read(MAX_LINE_BYTES)
        if _kind_of_file(p, head) == "text":
            first = head.decode("utf-8-sig", errors="replace").replace("\r", "\n").split("\n", 1)[0]
            if "figure_id" in first and "wording" in first:
                return _note_loaded(load_published(p, convention, sheet))
    return _note_loaded(load_series(p, convention, sheet))
