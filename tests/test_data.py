"""The published figures, the context figures, and a user's series: contents, provenance and bad inputs."""

import re
from collections import Counter

import pandas as pd
import pytest

from analysis import DataError, paths
from analysis.data import levels, load_context, load_data, load_published, load_series, load_sources

PAGE = paths.PUBLISHED_DIR / "source_page_ehelsemonitor_meldingsutveksling.txt"


# ---------------------------------------------------------------- published figures

def test_every_number_on_the_page_is_a_row():
    # Every "N millioner" / "N prosent" in the page's text is one row, and nothing else is.
    text = PAGE.read_text(encoding="utf-8")
    on_page = Counter(re.findall(r"(\d+(?:,\d+)?) (?:millioner|prosent)", text))
    data = load_published()
    printed = Counter(f"{v:g}".replace(".", ",") for v in data["value"])
    assert printed == on_page
    assert len(data) == 22


def test_wording_contains_the_printed_number():
    data = load_published()
    for _, row in data.iterrows():
        assert f"{row['value']:g}".replace(".", ",") in row["wording"], row["figure_id"]


def test_every_source_id_is_in_sources():
    known = set(load_sources()["source_id"])
    assert set(load_published()["source_id"]) <= known
    assert set(load_context(scope=None)["source_id"]) <= known


def test_published_bounds_by_hand():
    data = load_published().set_index("figure_id")
    # "over 63 millioner" -> (63, 64)
    assert tuple(data.loc["sysvak_2021", ["low", "high"]]) == pytest.approx((63, 64))
    # "nesten 3,4 millioner" -> [3.4 - 0.05, 3.4)
    assert tuple(data.loc["plo_fastlege_kommune_2021", ["low", "high"]]) == pytest.approx((3.35, 3.4))
    # "23,5 millioner" -> [23.5 - 0.05, 23.5 + 0.05)
    assert tuple(data.loc["frikort_egenandel_2020", ["low", "high"]]) == pytest.approx((23.45, 23.55))
    # "over 82 prosent" -> (82, 83)
    assert tuple(data.loc["plo_fastlege_kommune_growth", ["low", "high"]]) == pytest.approx((82, 83))
    # "rundt 200 millioner" with step 20 -> [190, 210], which must contain 2020's 193
    plateau = data.loc["total_plateau"]
    assert pd.isna(plateau["year"])
    assert plateau["low"] <= 193 <= plateau["high"]


def test_published_totals_are_consistent_at_face_value():
    data = load_published().set_index("figure_id")
    assert data.loc["total_2021", "value"] - data.loc["total_2020", "value"] == data.loc["total_change", "value"]


def test_convention_is_a_parameter():
    wide = load_published(convention="wide").set_index("figure_id")
    assert tuple(wide.loc["sysvak_2020", ["low", "high"]]) == pytest.approx((4, 6))


def test_levels_view_of_published():
    lv = levels(load_published())
    assert len(lv) == 22 - 4 - 1 - 1  # minus the 4 changes, the growth rate and the undated plateau
    assert set(lv["measure"]) == {"total", "sysvak", "svarrapporter", "frikort_egenandel", "plo"}
    assert {str(p) for p in lv["period"]} == {"2020", "2021"}


def test_context_national_rows():
    ctx = load_context()
    assert set(ctx["scope"]) == {"national"}
    assert len(ctx) == 7
    weekday = ctx[ctx["metric"] == "total_medical_messages_per_weekday"].iloc[0]
    # "over 700 000" with step 100 000 -> (700 000, 800 000)
    assert (weekday["low"], weekday["high"]) == (700000, 800000)


# ---------------------------------------------------------------- a user's series: good input

def write(tmp_path, text, name="series.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


GOOD = (
    "period,measure,sender,receiver,value\n"
    "2019,total,all,all,201000000\n"
    "2020,total,all,all,193000000\n"
    "2020,plo,fastlege,kommune,1800000\n"
)


def test_load_series_good_file(tmp_path):
    s = load_series(write(tmp_path, GOOD))
    assert list(s["value"]) == [201000000, 193000000, 1800000]
    assert [str(p) for p in s["period"]] == ["2019", "2020", "2020"]
    # no qualifier/step columns: exact whole counts, step 1 message -> [v - 0.5, v + 0.5)
    assert (s["low"] == s["value"] - 0.5).all() and (s["high"] == s["value"] + 0.5).all()


def test_load_series_monthly_with_qualifiers_and_norwegian_names(tmp_path):
    text = (
        "period,measure,sender,receiver,value,qualifier,step,source_id\n"
        "2012-01,total,all,all,4500000,about,100000,cw\n"
        "2012-02,total,Tromsø kommune,Helse Nord RHF,1000,exact,1,ørsta\n"
    )
    s = load_series(write(tmp_path, text))
    assert s.loc[1, "sender"] == "Tromsø kommune"
    assert s.loc[1, "source_id"] == "ørsta"
    # "about 4 500 000" with step 100 000 -> [4 450 000, 4 550 000]
    assert (s.loc[0, "low"], s.loc[0, "high"]) == (4450000, 4550000)
    assert s["period"].iloc[0] == pd.Period("2012-01", freq="M")


def test_load_series_xlsx(tmp_path):
    frame = pd.DataFrame({"period": ["2019", "2020"], "measure": ["total", "total"], "sender": ["all", "all"],
                          "receiver": ["Bodø", "Bodø"], "value": [10, 12]})
    p = tmp_path / "series.xlsx"
    frame.to_excel(p, index=False)
    s = load_series(p)
    assert list(s["value"]) == [10, 12]
    assert list(s["receiver"]) == ["Bodø", "Bodø"]


def test_load_data_tells_published_from_series(tmp_path):
    assert "figure_id" in load_data("").columns
    assert "figure_id" in load_data(str(paths.PUBLISHED_CSV)).columns
    assert "figure_id" not in load_data(write(tmp_path, GOOD)).columns


# ---------------------------------------------------------------- a user's series: bad input (each explained)

HEADER = "period,measure,sender,receiver,value\n"

BAD = [
    ("missing column", "period,measure,sender,value\n2019,total,all,1\n", r"missing column\(s\) \['receiver'\]"),
    ("extra column", HEADER.strip() + ",comment\n2019,total,all,all,1,x\n", r"unexpected column\(s\) \['comment'\]"),
    ("non-numeric value", HEADER + "2019,total,all,all,many\n", r"row 2, column 'value': 'many' is not a number"),
    ("decimal comma", HEADER + '2019,total,all,all,"1,5"\n', r"row 2, column 'value'.*decimal separator"),
    ("unquoted decimal comma", HEADER + "2019,total,all,all,193,5\n",
     r"row 2: 6 fields but the header has 5 .*decimal comma"),
    ("short row", HEADER + "2019,total,all\n", r"row 2: 3 fields but the header has 5 .*a cell is missing"),
    ("capitalised reserved name", HEADER + "2019,Total,all,all,1\n",
     r"row 2, column 'measure': 'Total'; names are case-sensitive .*write 'total'"),
    ("part above total", HEADER + "2019,total,all,all,100\n2019,sysvak,all,all,150\n",
     r"row 3, column 'value': 150 sysvak messages in 2019 is more than that period's total 100 \(row 2\)"),
    ("negative value", HEADER + "2019,total,all,all,1\n2020,total,all,all,-3\n",
     r"row 3, column 'value': -3 is negative; counts cannot be negative"),
    ("empty value", HEADER + "2019,total,all,all,\n", r"row 2, column 'value': empty.*missing stays missing"),
    ("duplicated key", HEADER + "2019,total,all,all,1\n2019,total,all,all,2\n",
     r"rows 2 and 3, columns \['period', 'measure', 'sender', 'receiver'\]: the same key"),
    ("unknown qualifier", "period,measure,sender,receiver,value,qualifier\n2019,total,all,all,1,roughly\n",
     r"row 2, column 'qualifier': 'roughly' is not an allowed value; use one of \['exact', 'about'"),
    ("bad period", HEADER + "19,total,all,all,1\n", r"row 2, column 'period': '19' is not a period"),
    ("month 13", HEADER + "2019-13,total,all,all,1\n", r"row 2, column 'period': '2019-13' is not a period"),
    ("mixed periods", HEADER + "2019,total,all,all,1\n2019-03,total,all,all,1\n",
     r"row 3, column 'period': '2019-03' mixes months into a file of years"),
    ("empty file", "", r"the file is empty"),
    ("header only", HEADER, r"no data rows"),
    ("empty measure", HEADER + "2019,,all,all,1\n", r"row 2, column 'measure': empty"),
    ("zero step", "period,measure,sender,receiver,value,step\n2019,total,all,all,1,0\n",
     r"row 2, column 'step': 0 is not above 0; a step must be positive"),
    ("empty qualifier", "period,measure,sender,receiver,value,qualifier\n2019,total,all,all,1,\n",
     r"row 2, column 'qualifier': empty; write 'exact'"),
    ("infinite value", HEADER + "2019,total,all,all,inf\n", r"row 2, column 'value': 'inf' is not a finite number"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_series_is_explained(tmp_path, case, text, message):
    p = write(tmp_path, text)
    with pytest.raises(DataError, match="(?s)" + message) as info:
        load_series(p)
    assert str(p) in str(info.value)  # every message names the file


def test_non_utf8_file_is_explained(tmp_path):
    p = write(tmp_path, HEADER + "2019,total,Tromsø,all,1\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"line 2: the file is not UTF-8 .*save it as 'CSV UTF-8'"):
        load_series(p)


def test_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_series(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"unsupported file type '\.txt'"):
        load_series(write(tmp_path, GOOD, name="series.txt"))


def test_semicolon_separated_file_from_norwegian_excel(tmp_path):
    text = "period;measure;sender;receiver;value\n2019;total;all;all;201000000\n2020;plo;fastlege;Tromsø;12\n"
    s = load_series(write(tmp_path, text))
    assert list(s["value"]) == [201000000, 12]
    assert s.loc[1, "receiver"] == "Tromsø"


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_nothing_is_dropped(tmp_path):
    rows = "".join(f"{1980 + i},m{i % 3},all,all,{i}\n" for i in range(40))  # up to 2019: not after next year
    s = load_series(write(tmp_path, HEADER + rows))
    assert len(s) == 40
    assert s["value"].sum() == sum(range(40))


def test_published_fall_loads_and_a_negative_level_is_refused(tmp_path):
    """A fall is a negative change ("ned 3 millioner": -3, exact, step 1 gives [-3.5, -2.5)); a level cannot be
    negative."""
    import csv

    rows = list(csv.DictReader(paths.PUBLISHED_CSV.open(encoding="utf-8")))
    fields = list(rows[0])
    change = next(r for r in rows if r["kind"] == "change" and r["qualifier"] == "exact" and r["step"] == "1")
    change.update(value="-3", wording="ned 3 millioner")
    p = tmp_path / "published_fall.csv"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        w.writerows(rows)
    from analysis.data import load_published

    got = load_published(p).set_index("figure_id").loc[change["figure_id"]]
    assert (got["value"], got["low"], got["high"]) == (-3.0, -3.5, -2.5)
    level = next(r for r in rows if r["kind"] == "level")
    level["value"] = "-5"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        w.writerows(rows)
    row = rows.index(level) + 2  # header is row 1
    with pytest.raises(DataError, match=rf"row {row}, column 'value': -5 is negative; a level cannot be negative"):
        load_published(p)


# ---------------------------------------------------------------- files as they come (issue 10)
#
# Each case is a file as a spreadsheet or an export writes it. Accepted files: the rows and values that load.
# Refused files: the message names the file, the row as an editor or a spreadsheet shows it (header = row 1,
# blank lines counted), the column, what is wrong and what to do.

ROWS = "2019,total,all,all,201000000\n2020,total,all,all,193000000\n"


def _values(s):
    return [(str(p), m, a, b, v) for p, m, a, b, v in s[["period", "measure", "sender", "receiver", "value"]].values]


TWO_YEARS = [("2019", "total", "all", "all", 201000000.0), ("2020", "total", "all", "all", 193000000.0)]

ACCEPTED = [
    ("utf8 bom crlf", "\ufeff" + (HEADER + ROWS).replace("\n", "\r\n"), TWO_YEARS),
    ("old mac cr only", (HEADER + ROWS).replace("\n", "\r"), TWO_YEARS),
    ("tab separated", (HEADER + ROWS).replace(",", "\t"), TWO_YEARS),
    ("semicolon crlf bom", "\ufeff" + (HEADER + ROWS).replace(",", ";").replace("\n", "\r\n"), TWO_YEARS),
    ("quoted fields", '"period","measure","sender","receiver","value"\n"2019","total","all","all","201000000"\n'
                      '"2020","total","all","all","193000000"\n', TWO_YEARS),
    ("blank lines between rows", HEADER + "\n2019,total,all,all,201000000\n\n\n2020,total,all,all,193000000\n\n",
     TWO_YEARS),
    ("emptied spreadsheet row", HEADER + "2019,total,all,all,201000000\n,,,,\n2020,total,all,all,193000000\n",
     TWO_YEARS),
    ("blank lines before the header", "\n\n" + HEADER + ROWS, TWO_YEARS),
    ("cells padded with blanks", "period , measure,sender,receiver, value\n 2019 , total , all,all, 201000000 \n"
                                 "2020,total,all,all,193000000\n", TWO_YEARS),
    ("comma inside a quoted name", HEADER + '2019,plo,"Helse Nord, RHF",all,5\n',
     [("2019", "plo", "Helse Nord, RHF", "all", 5.0)]),
    ("scientific notation", HEADER + "2019,total,all,all,2.01e8\n", [("2019", "total", "all", "all", 201000000.0)]),
    ("no total, parts that do not overlap", HEADER + "2019,plo,fastlege,kommune,40\n2019,epikrise,all,all,500\n"
                                              "2019,plo,kommune,fastlege,30\n",
     [("2019", "plo", "fastlege", "kommune", 40.0), ("2019", "epikrise", "all", "all", 500.0),
      ("2019", "plo", "kommune", "fastlege", 30.0)]),
    ("an explicit total beside overlapping rows", HEADER + "2019,total,all,all,600\n2019,plo,all,all,100\n"
                                                    "2019,plo,fastlege,kommune,40\n2019,epikrise,all,all,500\n",
     [("2019", "total", "all", "all", 600.0), ("2019", "plo", "all", "all", 100.0),
      ("2019", "plo", "fastlege", "kommune", 40.0), ("2019", "epikrise", "all", "all", 500.0)]),
]


@pytest.mark.parametrize(("case", "text", "rows"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_awkward_but_valid_file_is_read(tmp_path, case, text, rows):
    s = load_series(write(tmp_path, text))
    assert _values(s) == rows


def test_tsv_suffix_is_read(tmp_path):
    s = load_series(write(tmp_path, (HEADER + ROWS).replace(",", "\t"), name="series.tsv"))
    assert _values(s) == TWO_YEARS


REFUSED = [
    ("row number after a blank line", HEADER + "2019,total,all,all,1\n\n2020,total,all,all,many\n",
     r"row 4, column 'value': 'many' is not a number"),
    ("thousands with spaces", HEADER + "2019,total,all,all,1 234 567\n",
     r"row 2, column 'value': '1 234 567' .*looks like a thousands separator: write 1234567"),
    ("thousands with no-break spaces", HEADER + "2019,total,all,all,1\u00a0234\u00a0567\n",
     r"row 2, column 'value': .*looks like a thousands separator: write 1234567"),
    ("thousands with points", HEADER + "2019,total,all,all,1.234.567\n",
     r"row 2, column 'value': '1.234.567' .*thousands separator: write 1234567"),
    ("thousands with commas, quoted", HEADER + '2019,total,all,all,"1,234,567"\n',
     r"row 2, column 'value': '1,234,567' .*thousands separator: write 1234567"),
    ("nan", HEADER + "2019,total,all,all,1\n2020,total,all,all,nan\n",
     r"row 3, column 'value': 'nan' is a missing value; leave the row out"),
    ("NaN", HEADER + "2019,total,all,all,NaN\n", r"row 2, column 'value': 'NaN' is a missing value; leave the row out"),
    ("two dots", HEADER + "2019,total,all,all,..\n", r"row 2, column 'value': '..' is a missing value; leave the row"),
    ("above 2^53", HEADER + "2019,total,all,all,9007199254740993\n",
     r"row 2, column 'value': 9007199254740992 is 2\^53 .*too large to be stored exactly"),
    ("name with a line break", HEADER + '2019,plo,"Helse\nNord",all,5\n',
     r"row 2, column 'sender': 'Helse\\nNord'; the name contains a line break"),
    ("name with a NUL byte", HEADER + "2019,plo,Hel\x00se,all,5\n",
     r"row 2, column 'sender': 'Hel\\x00se'; the name contains a NUL byte"),
    ("name with a tab in a comma file", HEADER + "2019,plo,Helse\tNord,all,5\n",
     r"row 2, column 'sender': .*a control character \(U\+0009\)"),
    ("year 2999", HEADER + "2019,total,all,all,1\n2999,total,all,all,1\n",
     r"row 3, column 'period': '2999' is after next year"),
    ("unclosed quote", HEADER + '2019,total,all,all,1\n2020,"total,all,all,1\n2021,total,all,all,1\n',
     r"row 3: a double quote \(\"\) opens a field that is never closed"),
    ("duplicated column", "period,measure,sender,receiver,value,value\n2019,total,all,all,1,2\n",
     r"row 1: column 'value' appears twice \(columns 5 and 6\); keep one"),
    ("one column (unknown separator)", "period|measure|sender|receiver|value\n2019|total|all|all|1\n",
     r"row 1: the header has one column .*separate the columns with commas, semicolons or tabs"),
    ("unnamed column", "period,measure,sender,receiver,value,\n2019,total,all,all,1,\n",
     r"row 1: column 6 has no name"),
    ("short row after blank line", HEADER + "2019,total,all,all,1\n\n2020,total,all\n",
     r"row 4: 3 fields but the header has 5 .*a cell is missing"),
    ("row one field too long", HEADER + "2019,total,all,all,1\n2020,total,all,all,1,7\n",
     r"row 3: 6 fields but the header has 5"),
    ("row two fields too long", HEADER + "2019,total,all,all,1\n2020,total,all,all,1,7,8\n",
     r"row 3: 7 fields but the header has 5"),
    ("double counting without a total", HEADER + "2019,plo,all,all,100\n2019,plo,fastlege,kommune,40\n"
                                          "2019,epikrise,all,all,500\n",
     r"rows 2 and 3, columns \['measure', 'sender', 'receiver'\]: 2019 has no total row and plo/all/all includes "
     r"plo/fastlege/kommune, so a total taken as the sum of the rows would count those messages twice; add a row "
     r"with measure 'total'"),
    ("sender all covers a sender", HEADER + "2020,plo,fastlege,kommune,40\n2020,plo,all,kommune,90\n",
     r"rows 3 and 2, .*plo/all/kommune includes plo/fastlege/kommune"),
    ("overlap only in the period without a total", HEADER + "2019,total,all,all,600\n2019,plo,all,all,100\n"
     "2019,plo,fastlege,kommune,40\n2020,plo,all,all,100\n2020,plo,fastlege,kommune,40\n",
     r"rows 5 and 6, .*2020 has no total row"),
]


@pytest.mark.parametrize(("case", "text", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_awkward_bad_file_is_explained(tmp_path, case, text, message):
    p = write(tmp_path, text)
    with pytest.raises(DataError, match="(?s)" + message) as info:
        load_series(p)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)  # one line


def test_the_double_counting_example_of_the_issue(tmp_path):
    """plo 100 + its flow 40 + epikrise 500: summed, the total would be 640, not 600; refused, and with the total
    given the file loads: the total row is the total (600), every row kept."""
    rows = "2019,plo,all,all,100\n2019,plo,fastlege,kommune,40\n2019,epikrise,all,all,500\n"
    with pytest.raises(DataError, match="count those messages twice"):
        load_series(write(tmp_path, HEADER + rows))
    s = load_series(write(tmp_path, HEADER + "2019,total,all,all,600\n" + rows))
    assert s.loc[s["measure"] == "total", "value"].tolist() == [600.0]
    assert len(s) == 4


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match=rf"{re.escape(str(tmp_path))}: a folder, not a file"):
        load_series(tmp_path)
    with pytest.raises(DataError, match="a folder, not a file"):
        load_data(tmp_path)


def test_utf16_file_is_explained(tmp_path):
    p = write(tmp_path, "\ufeff" + HEADER + ROWS, encoding="utf-16-le")
    with pytest.raises(DataError, match=r"the file is UTF-16 text .*save it as 'CSV UTF-8'"):
        load_series(p)


def test_long_line_is_refused_without_parsing_it(tmp_path, monkeypatch):
    from analysis import data as hd

    monkeypatch.setattr(hd, "MAX_LINE_BYTES", 200)
    p = write(tmp_path, HEADER + ROWS + "2021,total," + "x" * 500 + ",all,1\n" + ROWS.replace("20", "19"))
    with pytest.raises(DataError, match=r"row 4: the row is 0.0 MiB long; .*check that this is the right file"):
        load_series(p)


def xlsx(path, sheets):
    """Write a workbook: sheet name -> list of rows (None: an empty cell)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


COLS = ["period", "measure", "sender", "receiver", "value"]


def test_xlsx_month_stored_as_a_date_is_that_month(tmp_path):
    import datetime as dt

    p = xlsx(tmp_path / "m.xlsx", {"Ark1": [COLS, [dt.datetime(2019, 3, 1), "total", "all", "all", 10],
                                             [dt.datetime(2019, 4, 1), "total", "all", "all", 12.0]]})
    s = load_series(p)
    assert [str(x) for x in s["period"]] == ["2019-03", "2019-04"] and list(s["value"]) == [10, 12]


def test_xlsx_year_stored_as_a_number(tmp_path):
    p = xlsx(tmp_path / "y.xlsx", {"Ark1": [COLS, [2019, "total", "all", "all", 10],
                                             [2020.0, "total", "all", "all", 11]]})
    assert [str(x) for x in load_series(p)["period"]] == ["2019", "2020"]


def test_xlsx_date_that_is_not_a_first_of_month_is_refused(tmp_path):
    import datetime as dt

    p = xlsx(tmp_path / "d.xlsx", {"Ark1": [COLS, [dt.datetime(2019, 3, 1), "total", "all", "all", 10],
                                             [dt.datetime(2019, 4, 15), "total", "all", "all", 12]]})
    with pytest.raises(DataError, match=r"d.xlsx, row 3, column 'period': the date 2019-04-15 is not a month; a month "
                                        r"is written 2019-03"):
        load_series(p)


def test_xlsx_two_sheets_with_data_need_a_sheet(tmp_path):
    p = xlsx(tmp_path / "two.xlsx", {"A": [COLS, [2019, "total", "all", "all", 10]],
                                     "B": [COLS, [2020, "total", "all", "all", 11]]})
    with pytest.raises(DataError, match=r"two.xlsx: this workbook has sheets A, B with data: pass sheet=\.\.\."):
        load_series(p)
    assert _values(load_series(p, sheet="B")) == [("2020", "total", "all", "all", 11.0)]
    assert _values(load_data(p, sheet="A")) == [("2019", "total", "all", "all", 10.0)]
    with pytest.raises(DataError, match=r"the workbook has no sheet 'C'; its sheets are A, B: pass one of them"):
        load_series(p, sheet="C")


def test_xlsx_empty_second_sheet_is_no_choice(tmp_path):
    p = xlsx(tmp_path / "one.xlsx", {"Data": [COLS, [2019, "total", "all", "all", 10]], "Notes": []})
    assert len(load_series(p)) == 1


def test_xlsx_row_numbers_are_the_sheets(tmp_path):
    p = xlsx(tmp_path / "r.xlsx", {"Ark1": [COLS, [2019, "total", "all", "all", 10], [None] * 5,
                                             [2020, "total", "all", "all", -1]]})
    with pytest.raises(DataError, match=r"r.xlsx, row 4, column 'value': -1 is negative"):
        load_series(p)


def test_xlsx_formula_without_a_saved_result(tmp_path):
    p = xlsx(tmp_path / "f.xlsx", {"Ark1": [COLS, [2019, "total", "all", "all", 10],
                                             [2020, "total", "all", "all", "=E2*2"]]})
    with pytest.raises(DataError, match=r"row 3, column 'value': a formula \(=E2\*2\) with no saved result; open the "
                                        r"workbook in Excel and save it"):
        load_series(p)


def test_empty_and_corrupt_workbooks(tmp_path):
    with pytest.raises(DataError, match=r"empty.xlsx: the workbook is empty"):
        load_series(xlsx(tmp_path / "empty.xlsx", {"Ark1": []}))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"bad.xlsx: cannot be read as an .xlsx workbook \(damaged or not a workbook"):
        load_series(bad)


def test_workbook_saved_with_a_csv_suffix_and_csv_saved_as_xlsx(tmp_path):
    p = xlsx(tmp_path / "wb.xlsx", {"Ark1": [COLS, [2019, "total", "all", "all", 10]]})
    renamed = p.rename(tmp_path / "wb.csv")
    with pytest.raises(DataError, match=r"wb.csv: this file is an Excel workbook, not CSV .*rename it to .xlsx"):
        load_series(renamed)
    with pytest.raises(DataError, match=r"this file is an Excel workbook, not CSV"):
        load_data(renamed)
    text = write(tmp_path, HEADER + ROWS, name="text.xlsx")
    with pytest.raises(DataError, match=r"text.xlsx: this file is text \(CSV\?\), not an Excel workbook.*rename it to "
                                        r"\.csv"):
        load_series(text)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"old.xls: an old Excel 97-2003 workbook \(.xls\); .*save it as .xlsx"):
        load_series(old)


def test_sheet_for_a_csv_file_or_the_published_figures(tmp_path):
    with pytest.raises(DataError, match=r"sheet='A' is given, but a CSV file has no sheets"):
        load_series(write(tmp_path, GOOD), sheet="A")
    with pytest.raises(DataError, match=r"sheet='A' is given but data_path is empty"):
        load_data("", sheet="A")


# ---------------------------------------------------------------- the large-file path, on a small file

def generated(tmp_path, months=24, flows=60):
    """A valid monthly file like the benchmark's: per month a total and `flows` flows (fixed seed)."""
    import numpy as np

    rng = np.random.default_rng(7)
    lines = [HEADER]
    for m in range(months):
        period = f"{2015 + m // 12}-{m % 12 + 1:02d}"
        values = rng.integers(0, 1000, size=flows)
        lines.append(f"{period},total,all,all,{int(values.sum()) + 5}\n")
        lines += [f"{period},plo,kommune_{i % 7},hf_{i},{v}\n" for i, v in enumerate(values)]
    return write(tmp_path, "".join(lines))


def test_typed_read_gives_the_same_frame_as_the_text_read(tmp_path, monkeypatch):
    from analysis import data as hd

    p = generated(tmp_path)
    monkeypatch.setattr(hd, "FAST_READ_BYTES", 10**12)  # the text read
    slow = load_series(p, "rel:0.01")
    monkeypatch.setattr(hd, "FAST_READ_BYTES", 0)  # the typed read of large files
    fast = load_series(p, "rel:0.01")
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == 24 * 61 and fast["value"].sum() == pytest.approx(2 * fast.loc[fast["measure"] == "plo",
                                                                                      "value"].sum() + 24 * 5)


def test_bounds_on_whole_columns_equal_add_bounds(tmp_path):
    from analysis.intervals import add_bounds

    text = ("period,measure,sender,receiver,value,qualifier,step\n2019,total,all,all,193,exact,1\n"
            "2020,total,all,all,200,about,20\n2021,total,all,all,63,over,1\n2022,total,all,all,3.4,almost,0.1\n")
    for conv in (None, "wide", "about_1step", "rel:0.01"):
        s = load_series(write(tmp_path, text), conv)
        again = add_bounds(s.drop(columns=["low", "high", "low_closed", "high_closed", "unit"]), conv)
        for col in ("low", "high", "low_closed", "high_closed"):
            assert s[col].tolist() == again[col].tolist(), (conv, col)
    # about 200, step 20: [190, 210]; over 63: (63, 64); almost 3.4: [3.35, 3.4)
    s = load_series(write(tmp_path, text))
    assert (s.loc[1, "low"], s.loc[1, "high"], s.loc[2, "low"], s.loc[2, "high"]) == (190, 210, 63, 64)


@pytest.mark.parametrize(("case", "line", "message"), [
    ("a word", "2016-01,plo,kommune_0,hf_0,many\n", r"row \d+, column 'value': 'many' is not a number"),
    ("a blank line", "\n", None),
    ("a short row", "2016-01,plo,kommune_0\n", r"row \d+: 3 fields but the header has 5"),
    ("a negative count", "2016-01,plo,kommune_9,hf_0,-4\n", r"row \d+, column 'value': -4 is negative"),
])
def test_large_file_path_falls_back_for_exact_messages(tmp_path, monkeypatch, case, line, message):
    from analysis import data as hd

    p = generated(tmp_path)
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(100, line)
    p.write_text("".join(lines), encoding="utf-8")
    monkeypatch.setattr(hd, "FAST_READ_BYTES", 0)
    if message is None:
        assert len(load_series(p)) == 24 * 61
        return
    with pytest.raises(DataError, match=message.replace(r"\d+", "101")):
        load_series(p)
