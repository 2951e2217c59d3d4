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
