"""analysis.decompose: hand-worked contributions, additivity, bounds, a synthetic user series, notebook 02.

Numbers are worked out by hand from the page (data/published/ehelsemonitor_2021.csv), with the arithmetic in
the test. Bounds follow the default convention: "193" exact is [192.5, 193.5); "rundt 5" is [4.5, 5.5];
"over 63" is (63, 64) (taken as closed by the LP); a stated change "opp 58" is [57.5, 58.5).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import decompose
from analysis.data import load_published, load_series
from analysis.errors import DataError
from analysis.present import decompose_report
from analysis.results import note
from conftest import image_count, outputs_text

ADDITIVE = ["start", "end", "change", "pp", "share_pct"]
QUANTITIES = ["start", "end", "change", "pp", "share_pct", "growth_pct"]


@pytest.fixture(scope="module")
def published():
    return load_published()


@pytest.fixture(scope="module")
def table(published):
    return decompose.contributions(published, 2020, 2021).set_index("driver")


@pytest.fixture(scope="module")
def result(published):
    return decompose.contributions_result(published, 2020, 2021)


def _codes(notes):
    return [n.code for n in notes]


# ---------------------------------------------------------------- the default case, by hand

def test_rows_and_columns(table):
    assert list(table.index) == ["sysvak", "svarrapporter", "frikort", "helseboka", "other", "total"]
    for col in ["label", "start", "start_low", "start_high", "end", "end_low", "end_high", "change", "change_low",
                "change_high", "pp", "pp_low", "pp_high", "share_pct", "share_pct_low", "share_pct_high",
                "growth_pct", "growth_pct_low", "growth_pct_high", "note"]:
        assert col in table.columns


def test_sysvak_by_hand(table):
    r = table.loc["sysvak"]
    assert r["change"] == pytest.approx(63 - 5)  # printed levels; equals the printed "opp 58 millioner"
    assert r["pp"] == pytest.approx(58 / 193 * 100)
    assert r["share_pct"] == pytest.approx(58 / 91 * 100)
    assert r["growth_pct"] == pytest.approx(58 / 5 * 100)
    # "opp 58" [57.5, 58.5) is tighter than the levels allow ((63, 64) - [4.5, 5.5] = [57.5, 59.5])
    assert (r["change_low"], r["change_high"]) == pytest.approx((57.5, 58.5))
    # pp: the change over the 2020 total, both at their extremes ([192.5, 193.5); other parts do not bind)
    assert (r["pp_low"], r["pp_high"]) == pytest.approx((57.5 / 193.5 * 100, 58.5 / 192.5 * 100))
    # levels: 2021 is "over 63" and at most 5.5 + 58.5 = 64
    assert (r["end_low"], r["end_high"]) == pytest.approx((63, 64))


def test_other_named_drivers_by_hand(table):
    assert table.loc["svarrapporter", "change"] == pytest.approx(47 - 26)
    assert table.loc["svarrapporter", "pp"] == pytest.approx(21 / 193 * 100)
    assert table.loc["frikort", "change"] == pytest.approx(31 - 23.5)
    assert table.loc["frikort", "pp"] == pytest.approx(7.5 / 193 * 100)
    # "fra 23,5" exact [23.45, 23.55), "opp 7,5" exact [7.45, 7.55): the change is the tighter one
    assert (table.loc["frikort", "change_low"], table.loc["frikort", "change_high"]) == pytest.approx((7.45, 7.55))
    total = table.loc["total"]
    assert total["change"] == pytest.approx(284 - 193)
    assert total["pp"] == pytest.approx(91 / 193 * 100) == pytest.approx(total["growth_pct"])
    assert (total["change_low"], total["change_high"]) == pytest.approx((90.5, 91.5))
    assert (total["share_pct"], total["share_pct_low"], total["share_pct_high"]) == (100, 100, 100)


def test_helseboka_by_hand(table):
    """GP -> municipality: 1.8 [1.75, 1.85) to almost 3.4 [3.35, 3.4), "over 82 %" growth (82, 83)."""
    r = table.loc["helseboka"]
    # 2021 >= 3.35 and 2021 <= 1.83 * 2020 give 2020 >= 3.35 / 1.83; 2020 < 1.85 gives 2021 <= 1.83 * 1.85
    s_lo, s_hi = 3.35 / 1.83, 1.85
    e_lo, e_hi = 3.35, 1.83 * 1.85
    assert (r["start_low"], r["start_high"]) == pytest.approx((s_lo, s_hi))
    assert (r["end_low"], r["end_high"]) == pytest.approx((e_lo, e_hi))
    # smallest change: 2021 at 3.35 with 2020 as large as 82 % growth allows (3.35 / 1.82);
    # largest: 83 % growth on the largest 2020 level, 0.83 * 1.85
    assert (r["change_low"], r["change_high"]) == pytest.approx((3.35 - 3.35 / 1.82, 0.83 * 1.85))
    assert (r["growth_pct_low"], r["growth_pct_high"]) == pytest.approx((82, 83))
    # the printed 1.8 and 3.4 are ruled out (1.8 -> 3.4 is 89 % growth): the 2020 point is the middle of
    # [s_lo, s_hi]; given it, 2021 may lie in [max(3.35, 1.82 * s), min(3.4, 1.83 * s)] and takes the middle
    s = (s_lo + s_hi) / 2
    e = (max(3.35, 1.82 * s) + min(3.4, 1.83 * s)) / 2
    assert r["start"] == pytest.approx(s)
    assert r["end"] == pytest.approx(e)
    assert r["change"] == pytest.approx(e - s)
    assert r["growth_pct"] == pytest.approx((e / s - 1) * 100)  # 82.5 %, inside "over 82 %"
    assert r["note"] == "not_fit; not_fit"  # both printed levels are ruled out
    assert 3.4 / 1.8 - 1 > 0.83  # why: the printed pair is not "over 82 %" read as (82, 83)


def test_not_fit_notes_carry_the_numbers(result):
    """The notes are codes with values: the printed level, the period, what the claims allow, the midpoint."""
    first, second = result.notes["helseboka"]
    assert (first.code, first["value"], first["period"]) == ("not_fit", 1.8, "2020")
    assert (first["low"], first["high"]) == pytest.approx((3.35 / 1.83, 1.85))
    assert first["mid"] == pytest.approx((3.35 / 1.83 + 1.85) / 2)
    s = first["mid"]  # given the 2020 point, 2021 lies in [max(3.35, 1.82 s), min(3.4, 1.83 s)]
    assert (second["value"], second["period"]) == (3.4, "2021")
    assert (second["low"], second["high"]) == pytest.approx((max(3.35, 1.82 * s), min(3.4, 1.83 * s)))
    en = decompose_report.notes_text(result.notes["helseboka"], "en", result.unit)
    assert "printed 1.8 (2020) does not fit" in en and "printed 3.4 (2021)" in en


def test_other_is_total_minus_drivers(table):
    named = 58 + 21 + 7.5 + table.loc["helseboka", "change"]
    assert table.loc["other", "change"] == pytest.approx(91 - named)
    assert table.loc["other", "start"] == pytest.approx(193 - (5 + 26 + 23.5 + table.loc["helseboka", "start"]))


def test_hedged_points_are_printed_numbers_and_say_so(table):
    assert table.loc["sysvak", "end"] == 63
    assert table.loc["sysvak", "note"] == "open_end"


def test_point_basis_says_which_points_the_code_chose(table):
    """GP -> municipality is a model point (the printed 1.8 and 3.4 are ruled out); so is the residual, which
    subtracts it. The others are arithmetic on the printed figures."""
    assert table.loc["helseboka", "point_basis"] == "model"
    assert table.loc["other", "point_basis"] == "model"
    for d in ("sysvak", "svarrapporter", "frikort", "total"):
        assert table.loc[d, "point_basis"] == "printed", d
    # the printed-figure arithmetic beside it: notebook 01's unexplained part, 91 - 58 - 21 - 7.5 - (3.4 - 1.8)
    assert table.loc["other", "change_printed"] == pytest.approx(91 - 58 - 21 - 7.5 - (3.4 - 1.8))
    assert table.loc["helseboka", "change_printed"] == pytest.approx(3.4 - 1.8)
    assert table.loc["sysvak", "change_printed"] == pytest.approx(table.loc["sysvak", "change"])
    # the printed 2.9 is inside the joint bounds; the printed 1.6 for GP -> municipality is not
    assert table.loc["other", "change_low"] < 2.9 < table.loc["other", "change_high"]
    assert not table.loc["helseboka", "change_low"] <= 1.6 <= table.loc["helseboka", "change_high"]


def test_open_and_closed_ends_by_hand(table):
    """An end is open when only a value the wording excludes reaches it."""
    r = table.loc["sysvak"]
    # 2021 "over 63": (63, 64); its top 64 needs 2020 = 5.5 and the change 58.5, but "opp 58" is [57.5, 58.5)
    assert (r["end_low_closed"], r["end_high_closed"]) == (False, False)
    # 2020 = 2021 - change > 63 - 58.5 = 4.5: open; 5.5 = 63.5 - 58 is reached
    assert (r["start_low_closed"], r["start_high_closed"]) == (False, True)
    t = table.loc["total"]
    # "193" exact is [192.5, 193.5): the low end is reached, the high end is not
    assert (t["start_low_closed"], t["start_high_closed"]) == (True, False)
    assert (t["share_pct_low_closed"], t["share_pct_high_closed"]) == (True, True)  # 100 % by definition


def test_row_labels_are_codes_and_name_the_residual_as_notebook_01_does(result):
    from analysis.present import claims_report

    assert list(result.table["label"]) == ["sysvak", "svarrapporter", "frikort", "helseboka", "other", "total"]
    for lang in ("nb", "en"):
        words = decompose_report.labels(result, lang)
        assert words[4] == claims_report.flow_label("unexplained", "all", "all", lang)
    assert "høyst" in decompose_report.labels(result, "nb")[3]  # the page says "i hovedsak": at most the flow


def test_result_object_says_what_attrs_said(result, published):
    assert (result.start, result.end, result.unit, result.published) == ("2020", "2021", "million messages", True)
    assert result.drivers["helseboka"] == (("plo", "fastlege", "kommune"),)
    assert not result.both_directions and not result.per_measure
    assert list(result.notes) == list(result.table["driver"])
    assert result.table.attrs == {}  # nothing rides in attrs any more
    pd.testing.assert_frame_equal(result.table, decompose.contributions(published, 2020, 2021))
    rev = decompose.contributions_result(published, 2020, 2021, include_reverse_helseboka=True)
    assert rev.both_directions and rev.table.set_index("driver").loc["helseboka", "label"] == "helseboka_both"


def test_notes_in_words_follow_lang(result):
    nb = decompose_report.notes_text(result.notes["helseboka"], "nb", result.unit)
    assert "trykt 1,8 (2020) passer ikke" in nb
    assert "«til over 63 millioner meldinger»" in decompose_report.notes_text(result.notes["sysvak"], "nb")
    assert decompose_report.labels(result, "nb")[3].startswith("PLO fastlege → kommune")
    assert decompose_report.labels(result, "en")[3].startswith("PLO GP → municipality")


def test_no_lang_in_the_analysis_functions():
    import inspect

    for fn in (decompose.contributions, decompose.contributions_result, decompose.counterfactual,
               decompose.counterfactual_result, decompose.compare_helseboka, decompose.counterfactual_variants):
        assert "lang" not in inspect.signature(fn).parameters, fn.__name__


def test_driver_names_read_as_in_a_sentence():
    assert decompose_report.driver_names(["sysvak", "svarrapporter", "frikort"], "nb") == (
        "SYSVAK, svarrapporter og frikort/egenandel")
    assert decompose_report.driver_names(["sysvak", "svarrapporter"], "en") == "SYSVAK and result reports"
    assert decompose_report.driver_name("helseboka", "en") == "PLO GP → municipality"


def test_reverse_helseboka_adds_the_flow_and_takes_it_from_other(published, table):
    rev = decompose.contributions(published, 2020, 2021, include_reverse_helseboka=True).set_index("driver")
    # kommune -> fastlege: 1.8 [1.75, 1.85) to 2.2 [2.15, 2.25): printed change 0.4
    assert rev.loc["helseboka", "change"] == pytest.approx(table.loc["helseboka", "change"] + (2.2 - 1.8))
    assert rev.loc["other", "change"] == pytest.approx(table.loc["other", "change"] - 0.4)
    assert rev.loc["total", "change"] == pytest.approx(91)
    assert rev.loc["helseboka", "change_low"] == pytest.approx(table.loc["helseboka", "change_low"] + 2.15 - 1.85)
    assert rev.loc["helseboka", "change_high"] == pytest.approx(table.loc["helseboka", "change_high"] + 2.25 - 1.75)


# ---------------------------------------------------------------- properties

def _check_properties(t: pd.DataFrame) -> None:
    t = t.set_index("driver")
    parts = t.drop(index="total")
    for col in ADDITIVE:  # drivers + other = total, exactly, for the point values
        assert parts[col].sum() == pytest.approx(t.loc["total", col], rel=1e-12, abs=1e-9), col
    for col in QUANTITIES:  # bounds contain the point values
        ok = t[col].isna() | ((t[f"{col}_low"] <= t[col] + 1e-7 * (1 + t[col].abs()))
                              & (t[col] <= t[f"{col}_high"] + 1e-7 * (1 + t[col].abs())))
        assert ok.all(), (col, t.loc[~ok, [col, f"{col}_low", f"{col}_high"]])
        assert (t[f"{col}_low"].isna() | (t[f"{col}_low"] <= t[f"{col}_high"])).all()


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("convention", [None, "about_1step", "wide"])
def test_published_properties(published, reverse, convention):
    _check_properties(decompose.contributions(published, 2020, 2021, include_reverse_helseboka=reverse,
                                              convention=convention))


def test_reconciled_bounds_inside_stated_ones(published, table):
    stated = published.set_index("figure_id")
    for driver, measure in [("sysvak", "sysvak"), ("svarrapporter", "svarrapporter"),
                            ("frikort", "frikort_egenandel")]:
        for when, year in [("start", 2020), ("end", 2021)]:
            fig = stated.loc[f"{measure}_{year}"]
            assert fig["low"] - 1e-9 <= table.loc[driver, f"{when}_low"] <= table.loc[driver, f"{when}_high"]
            assert table.loc[driver, f"{when}_high"] <= fig["high"] + 1e-9


def test_joint_bounds_no_wider_than_adding_intervals(published, table):
    """The residual's bounds from the LP lie inside naive interval arithmetic on the same figures."""
    lv = published.set_index("figure_id")

    def rng(fid: str) -> tuple[float, float]:
        return lv.loc[fid, "low"], lv.loc[fid, "high"]

    naive_lo = rng("total_change")[0] - sum(rng(f"{m}_change")[1] for m in ("sysvak", "svarrapporter",
                                                                             "frikort_egenandel"))
    naive_lo -= rng("plo_fastlege_kommune_2021")[1] - rng("plo_fastlege_kommune_2020")[0]
    naive_hi = rng("total_change")[1] - sum(rng(f"{m}_change")[0] for m in ("sysvak", "svarrapporter",
                                                                             "frikort_egenandel"))
    naive_hi -= rng("plo_fastlege_kommune_2021")[0] - rng("plo_fastlege_kommune_2020")[1]
    assert naive_lo - 1e-9 <= table.loc["other", "change_low"] <= table.loc["other", "change_high"] <= naive_hi + 1e-9


# ---------------------------------------------------------------- counterfactual

def test_counterfactual_by_hand(published):
    cf = decompose.counterfactual(published, 2020, 2021).set_index("quantity")
    assert cf.loc["excluded_change", "value"] == pytest.approx(58 + 21)
    assert cf.loc["counterfactual_total", "value"] == pytest.approx(284 - (58 + 21))
    # end total [283.5, 284.5) and the two stated changes [57.5, 58.5) + [20.5, 21.5) are not linked
    assert (cf.loc["counterfactual_total", "low"], cf.loc["counterfactual_total", "high"]) == pytest.approx(
        (283.5 - 80, 284.5 - 78))
    assert cf.loc["counterfactual_change", "value"] == pytest.approx(284 - 79 - 193)
    assert cf.loc["counterfactual_growth_pct", "value"] == pytest.approx((205 - 193) / 193 * 100)
    assert (cf.loc["plateau", "value"], cf.loc["plateau", "low"], cf.loc["plateau", "high"]) == (200, 190, 210)
    assert cf.loc["counterfactual_total", "note"] == "counterfactual_total"  # a code; words in the report
    for q, r in cf.iterrows():
        assert r["low"] - 1e-9 <= r["value"] <= r["high"] + 1e-9, q


def test_counterfactual_with_frikort(published):
    cf = decompose.counterfactual(published, 2020, 2021, exclude=["sysvak", "svarrapporter", "frikort"])
    cf = cf.set_index("quantity")
    assert cf.loc["counterfactual_total", "value"] == pytest.approx(284 - (58 + 21 + 7.5))
    assert cf.loc["counterfactual_total", "low"] == pytest.approx(283.5 - (58.5 + 21.5 + 7.55))


def test_counterfactual_ends(published):
    res = decompose.counterfactual_result(published, 2020, 2021)
    cf = res.table.set_index("quantity")
    # the end total "284" is [283.5, 284.5) and the stated changes [57.5, 58.5) + [20.5, 21.5): the lowest
    # counterfactual 283.5 - 80 is reached only at 58.5 and 21.5, which the wording excludes
    assert not cf.loc["counterfactual_total", "low_closed"]
    assert not cf.loc["counterfactual_total", "high_closed"]  # 284.5 is excluded too
    assert cf.loc["plateau", "low_closed"] and cf.loc["plateau", "high_closed"]  # "rundt 200": [190, 210]
    words = decompose_report.display_counterfactual(res, "en").iloc[:, -1]
    assert "no substitution" in words.iloc[3]
    assert words.iloc[2].endswith("SYSVAK and result reports")  # names, not code keys
    assert res.exclude == ("sysvak", "svarrapporter") and res.code == "sysvak_svarrapporter"
    assert res.notes["plateau"]["step"] == 20  # "rundt 200": step 20 (data/README.md)


def test_counterfactual_variants(published):
    variants = decompose.counterfactual_variants_result(published, 2020, 2021)
    assert [v.code for v in variants] == ["sysvak_svarrapporter", "sysvak_svarrapporter_frikort"]
    assert list(decompose.counterfactual_variants(published, 2020, 2021)) == [v.code for v in variants]
    assert [decompose_report.variant_title(v, "nb") for v in variants] == [
        "uten SYSVAK og svarrapporter", "uten SYSVAK, svarrapporter og frikort/egenandel"]


def test_counterfactual_unknown_driver(published):
    with pytest.raises(DataError, match="not drivers"):
        decompose.counterfactual(published, 2020, 2021, exclude=["covid"])


# ---------------------------------------------------------------- a user's series (synthetic)

def _synthetic_series(path, with_total: bool = False, drop_start_row: bool = False):
    """SYNTHETIC test data (fixed seed): three years, SYSVAK starting at zero, two other categories."""
    rng = np.random.default_rng(20240501)
    rows = []
    for year, sysvak in zip(["2019", "2020", "2021"], [0, 1_000, 9_000], strict=True):
        epikrise = int(rng.integers(40_000, 50_000))
        plo = int(rng.integers(3_000, 4_000))
        rows += [
            dict(period=year, measure="sysvak", sender="all", receiver="all", value=sysvak),
            dict(period=year, measure="epikrise", sender="all", receiver="all", value=epikrise),
            dict(period=year, measure="plo", sender="fastlege", receiver="kommune", value=plo),
        ]
        if with_total:
            rows.append(dict(period=year, measure="total", sender="all", receiver="all",
                             value=sysvak + epikrise + plo + 500))
    frame = pd.DataFrame(rows)
    if drop_start_row:
        frame = frame[~((frame["period"] == "2019") & (frame["measure"] == "sysvak"))]
    frame.to_csv(path, index=False)
    return frame


def test_series_by_hand(tmp_path):
    path = tmp_path / "synthetic_series.csv"
    raw = _synthetic_series(path).set_index(["period", "measure"])["value"]
    series = load_series(path)
    res = decompose.contributions_result(series, 2019, 2021)
    t = res.table.set_index("driver")
    assert list(t.index) == ["sysvak", "helseboka", "other", "total"]  # defaults found in the file
    total_2019 = raw.loc["2019"].sum()  # no measure 'total': the sum of all rows
    total_2021 = raw.loc["2021"].sum()
    assert t.loc["total", "change"] == pytest.approx(total_2021 - total_2019)
    assert t.loc["sysvak", "change"] == pytest.approx(9_000 - 0)
    assert t.loc["sysvak", "pp"] == pytest.approx(9_000 / total_2019 * 100)
    assert math.isnan(t.loc["sysvak", "growth_pct"])  # starts at zero: undefined, not infinite
    assert t.loc["sysvak", "note"] == "undefined"
    assert "growth rate undefined" in decompose_report.notes_text(res.notes["sysvak"], "en")
    assert t.loc["other", "change"] == pytest.approx(raw.loc[("2021", "epikrise")] - raw.loc[("2019", "epikrise")])
    plo = raw.loc[("2021", "plo")] / raw.loc[("2019", "plo")] * 100 - 100
    assert t.loc["helseboka", "growth_pct"] == pytest.approx(plo)
    assert "sum_total" in t.loc["total", "note"].split("; ")
    assert "sum of all rows" in decompose_report.notes_text(res.notes["total"], "en")
    _check_properties(t.reset_index())


@pytest.mark.parametrize("start,end", [(2019, 2020), ("2020", "2021"), (2019, 2021)])
def test_series_any_two_periods_with_total(tmp_path, start, end):
    path = tmp_path / "synthetic_series_total.csv"
    raw = _synthetic_series(path, with_total=True).set_index(["period", "measure"])["value"]
    t = decompose.contributions(load_series(path), start, end, drivers={"vacc": "sysvak", "epi": ["epikrise"]})
    t = t.set_index("driver")
    s, e = str(start), str(end)
    assert t.loc["total", "change"] == pytest.approx(raw.loc[(e, "total")] - raw.loc[(s, "total")])
    assert t.loc["epi", "pp"] == pytest.approx(
        (raw.loc[(e, "epikrise")] - raw.loc[(s, "epikrise")]) / raw.loc[(s, "total")] * 100)
    # other = total - drivers: the plo flow plus the 500 messages only in the total
    assert t.loc["other", "change"] == pytest.approx(raw.loc[(e, "plo")] - raw.loc[(s, "plo")])
    _check_properties(t.reset_index())


def test_series_missing_start_row_counts_as_zero_with_note(tmp_path):
    path = tmp_path / "synthetic_series_missing.csv"
    _synthetic_series(path, drop_start_row=True)
    res = decompose.contributions_result(load_series(path), 2019, 2020)
    t = res.table.set_index("driver")
    assert t.loc["sysvak", "start"] == 0 and t.loc["sysvak", "change"] == pytest.approx(1_000)
    assert res.notes["sysvak"][0] == note("no_row", key="sysvak/all/all", period="2019")
    assert "no row for sysvak/all/all in 2019: counted as 0" in decompose_report.notes_text(res.notes["sysvak"], "en")
    assert math.isnan(t.loc["sysvak", "growth_pct"])


def test_series_monthly_periods(tmp_path):
    path = tmp_path / "synthetic_monthly.csv"
    pd.DataFrame([
        dict(period=p, measure=m, sender="all", receiver="all", value=v)
        for p, vals in [("2019-03", (10, 100)), ("2019-04", (30, 101))]
        for m, v in zip(["sysvak", "epikrise"], vals, strict=True)
    ]).to_csv(path, index=False)
    t = decompose.contributions(load_series(path), "2019-03", "2019-04").set_index("driver")
    assert t.loc["sysvak", "pp"] == pytest.approx((30 - 10) / (10 + 100) * 100)
    assert t.loc["sysvak", "growth_pct"] == pytest.approx((30 - 10) / 10 * 100)


def test_series_points_are_data(tmp_path):
    path = tmp_path / "synthetic_series.csv"
    _synthetic_series(path)
    res = decompose.contributions_result(load_series(path), 2019, 2021)
    assert set(res.table["point_basis"]) == {"data"}
    assert res.table.set_index("driver").loc["helseboka", "label"] == "plo_flow"  # no Helseboka claim
    assert decompose_report.labels(res, "en")[1] == "PLO GP → municipality"


def test_series_without_default_drivers_uses_one_per_measure(tmp_path):
    path = tmp_path / "synthetic_other_measures.csv"
    pd.DataFrame([dict(period=p, measure=m, sender="all", receiver="all", value=v)
                  for p, vals in [("2020", (5, 7)), ("2021", (6, 9))]
                  for m, v in zip(["henvisning", "epikrise"], vals, strict=True)]).to_csv(path, index=False)
    res = decompose.contributions_result(load_series(path), 2020, 2021)
    t = res.table
    assert list(t["driver"]) == ["epikrise", "henvisning", "other", "total"]
    assert t.set_index("driver").loc["other", "change"] == pytest.approx(0)
    # every measure is a driver: the residual is the messages in no measure, 01's "other messages"
    assert res.per_measure and t.set_index("driver").loc["other", "label"] == "other_measures"
    assert decompose_report.labels(res, "nb")[2] == "Øvrige meldinger"
    with pytest.raises(DataError, match="exclude"):
        decompose.counterfactual(load_series(path), 2020, 2021)


# ---------------------------------------------------------------- errors a user can act on

def test_errors(published, tmp_path):
    with pytest.raises(DataError, match="'start'.*2019.*2020"):
        decompose.contributions(published, 2019, 2021)
    with pytest.raises(DataError, match="start must come before end"):
        decompose.contributions(published, 2021, 2020)
    with pytest.raises(DataError, match="not a period"):
        decompose.contributions(published, "twenty", 2021)
    with pytest.raises(DataError, match="epikrise"):
        decompose.contributions(published, 2020, 2021, drivers={"epi": "epikrise"})
    with pytest.raises(DataError, match="overlap|both cover"):
        decompose.contributions(published, 2020, 2021, drivers={"a": "sysvak", "b": [("sysvak", "all", "all")]})
    with pytest.raises(DataError, match="'total' cannot be a driver"):
        decompose.contributions(published, 2020, 2021, drivers={"t": "total"})


# ---------------------------------------------------------------- text

def test_summary_numbers_come_from_the_table(published):
    t = decompose.contributions_result(published, 2020, 2021)
    cf = decompose.counterfactual_result(published, 2020, 2021)
    text = decompose_report.summary_text(t, cf, "en")
    assert f"{58 / 193 * 100:.1f} of the {91 / 193 * 100:.1f} percentage points" in text  # 30.1 of the 47.2
    assert f"about {284 - 79:.1f} million messages" in text
    assert "within" in text
    nb = decompose_report.summary_text(t, cf, "nb")
    assert f"{58 / 193 * 100:.1f}".replace(".", ",") + " av de " in nb
    # the model points say so; the residual gives the printed-figure arithmetic beside its model point
    assert "0.79 (model point) of the" in text
    assert "(model point; the printed figures, taken as exact, give 2.9)" in text
    assert "at most" in text and "høyst" in nb
    assert "no substitution" in text
    # bounds rounded outwards, open ends round: the total's growth (46.77, 47.54) at one decimal
    lo, hi = (90.5 / 193.5 * 100, 91.5 / 192.5 * 100)
    assert f"{math.floor(lo * 10) / 10:.1f}" == "46.7" and f"{math.ceil(hi * 10) / 10:.1f}" == "47.6"
    assert "47.2 percentage points, interval (46.7–47.6)" in text


# ---------------------------------------------------------------- the notebook

@pytest.mark.parametrize("lang", ["nb", "en"])
def test_notebook_title_is_true_for_both_kinds_of_data(lang):
    import nbformat

    from conftest import notebook_file

    nb = nbformat.read(notebook_file("02_growth_decomposition", lang), as_version=4)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    title = markdown[0].source.splitlines()[0]
    assert title.startswith("# 02 · ") and "193" not in title and "284" not in title, title
    # the published page only appears in cells shown for the published figures; no markdown types its numbers
    untagged = [c for c in markdown if "published-data" not in c.metadata.get("tags", [])]
    assert not [c for c in untagged if "Kildesiden" in c.source or "source page" in c.source]
    # an exercise on the published figures may quote the page's printed figures for a by-hand computation
    quoting = [c for c in markdown if {"published-data", "exercise"} <= set(c.metadata.get("tags", []))
               or {"published-data", "solution"} <= set(c.metadata.get("tags", []))]
    assert not [c for c in markdown if ("193" in c.source or "284" in c.source) and c not in quoting]
    assert isinstance(nb.metadata["helsemeldinger"]["summary"], str)
    if lang == "nb":
        assert "notebook" not in " ".join(c.source for c in markdown).lower()


@pytest.mark.notebook
def test_notebook_default(published_build):
    nb = published_build.notebook("02_growth_decomposition", "nb")
    text = outputs_text(nb)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert image_count(nb) >= 3  # waterfall, pp chart, counterfactual
    assert f"{58 / 193 * 100:.1f}".replace(".", ",") + " av de " + f"{91 / 193 * 100:.1f}".replace(".", ",") in text
    assert "205,0" in text  # 284 - 58 - 21
    # chosen points are labelled, the residual is named as in notebook 01, Helseboka is an upper end
    assert "0,79 (modellert punkt)" in text and "Uforklart del av endringen i totalen" in text
    assert "Øvrige meldinger" not in text and "høyst" in text
    # SYSVAK 2021 "over 63": (63, 64), both ends open (see test_open_and_closed_ends_by_hand)
    assert "63,0 (63,0–64,0)" in text
    assert "Punktverdiene" in text and "89 % vekst" in text  # the model point, explained on the published page
    assert "tillater bare 82–83 %" in text  # 1.8 -> 3.4 is 88.9 % growth; "over 82 %" read as (82, 83)


@pytest.mark.notebook
def test_notebook_en_with_reverse_flow(executed):
    nb = executed("02_growth_decomposition", "en", include_reverse_helseboka=True).nb
    text = outputs_text(nb)
    assert image_count(nb) >= 3
    assert "GP ↔ municipality" in text
    assert f"{58 / 193 * 100:.1f} of the {91 / 193 * 100:.1f} percentage points" in text


@pytest.mark.notebook
def test_notebook_on_synthetic_series(executed, tmp_path):
    made = tmp_path / "synthetic_series.csv"
    raw = _synthetic_series(made).set_index(["period", "measure"])["value"]
    run = executed("02_growth_decomposition", "en", data=(made.name, made.read_text(encoding="utf-8")), start=2019,
                   end=2020)
    nb, path = run.nb, run.data_path
    text = outputs_text(nb)
    assert image_count(nb) >= 3
    change = raw.loc["2020"].sum() - raw.loc["2019"].sum()
    verb = "grew" if change >= 0 else "fell"
    assert f"the total {verb} by {abs(change):,.0f} messages" in text
    assert "SYSVAK (vaccination register) alone explains" in text  # 0 -> 1000 is the largest driver here
    # nothing about the published page on a user's file (review finding 2)
    for published_only in ("The source page", "193", "284", "grey band", "Helseboka", "58 / 193"):
        assert published_only not in text, published_only
    assert f"**Data:** {path} ·" in text  # the data line names the user's file (the own-data cell says more)
