"""The claims registry, check and reconciliation: bounds worked by hand, properties, conflicts, the notebook."""

from __future__ import annotations

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis import DataError, paths
from analysis.claims import (
    FACE_VALUE,
    HEADLINE_QUANTITIES,
    NOTE_OTHERS_CONFLICT,
    NOTE_UNDATED_COMPARED,
    RELATION_JOIN,
    ClaimsCheck,
    InconsistentClaims,
    bound,
    bound_ends,
    check_claims,
    check_claims_result,
    derived,
    headline_quantities,
    printed_point,
    reconcile,
    registry,
    sensitivity,
    structural_constraints,
    unconstrained_levels,
    variable,
)
from analysis.data import load_published, load_series
from analysis.present.catalogue import text as catalogue_text
from conftest import USER_SERIES, image_count, outputs_text

PUB = load_published()
X = variable  # short alias for the arithmetic below


def claims_subset(*ids: str, convention: str | None = None) -> pd.DataFrame:
    """A small claim set: the published rows with these figure ids."""
    frame = load_published(convention=convention)
    missing = set(ids) - set(frame["figure_id"])
    assert not missing, missing
    return frame[frame["figure_id"].isin(ids)].reset_index(drop=True)


def edited(changes: dict[str, dict]) -> pd.DataFrame:
    """The published frame with some fields changed (synthetic: a deliberately altered claim set)."""
    frame = load_published().copy()
    for fid, fields in changes.items():
        for col, val in fields.items():
            frame.loc[frame["figure_id"] == fid, col] = val
    return frame


def lookup(rec: pd.DataFrame, quantity: str) -> tuple[float, float]:
    row = rec.set_index("quantity").loc[quantity]
    return float(row["low"]), float(row["high"])


# ---------------------------------------------------------------- names and interface


def test_variable_names():
    assert variable("sysvak", 2020) == "sysvak[all->all]@2020"
    assert variable("plo", 2021, "fastlege", "kommune") == "plo[fastlege->kommune]@2021"
    assert variable("total", pd.Period("2019-03", freq="M")) == "total[all->all]@2019-03"
    assert variable("total", "2019") == variable("total", 2019)


# ---------------------------------------------------------------- bounds worked by hand


def test_sysvak_rundt_5_over_63_opp_58_by_hand():
    # "rundt 5" -> x20 in [4.5, 5.5]; "over 63" -> x21 in [63, 64] (open ends closed);
    # "opp 58" -> x21 - x20 in [57.5, 58.5].
    data = claims_subset("sysvak_2020", "sysvak_2021", "sysvak_change")
    x20, x21 = X("sysvak", 2020), X("sysvak", 2021)
    # x20 >= max(4.5, 63 - 58.5) = 4.5 and <= min(5.5, 64 - 57.5) = 5.5
    assert bound({x20: 1}, data) == pytest.approx((max(4.5, 63 - 58.5), min(5.5, 64 - 57.5)))
    # x21 >= max(63, 4.5 + 57.5) = 63 and <= min(64, 5.5 + 58.5) = 64
    assert bound({x21: 1}, data) == pytest.approx((max(63, 4.5 + 57.5), min(64, 5.5 + 58.5)))
    # growth x21/x20 - 1: smallest at x20 = 5.5, x21 = 63 (change 57.5 allowed);
    # largest at x20 = 4.5 with x21 = 4.5 + 58.5 = 63
    ratio = bound({x21: 1}, data, denominator={x20: 1})
    assert ratio == pytest.approx((63 / 5.5, (4.5 + 58.5) / 4.5))

    check = check_claims(data).set_index("claim_id")
    # what the two others imply for each one
    assert tuple(check.loc["sysvak_2021", ["implied_low", "implied_high"]]) == pytest.approx((4.5 + 57.5, 5.5 + 58.5))
    assert tuple(check.loc["sysvak_2020", ["implied_low", "implied_high"]]) == pytest.approx((63 - 58.5, 64 - 57.5))
    assert tuple(check.loc["sysvak_change", ["implied_low", "implied_high"]]) == pytest.approx((63 - 5.5, 64 - 4.5))
    assert check["consistent"].all()


# ---------------------------------------------------------------- open and closed ends, worked by hand


def test_frikort_2021_is_open_at_both_ends_by_hand():
    # "over 31" -> (31, 32); "23,5" -> [23.45, 23.55); "opp 7,5" -> [7.45, 7.55)
    data = claims_subset("frikort_egenandel_2020", "frikort_egenandel_2021", "frikort_egenandel_change")
    x21 = X("frikort_egenandel", 2021)
    # low: x21 > 31 strictly (23.45 + 7.45 = 30.9 is below it), so 31 is a limit, never attained: open
    # high: x21 = x20 + change < 23.55 + 7.55 = 31.1, both terms open above: open
    assert bound_ends({x21: 1}, data) == pytest.approx((31, 23.55 + 7.55, False, False))
    # x20 = x21 - change with x21 > 31 and change < 7.55, so x20 > 31 - 7.55 = 23.45 strictly: the stated end
    # 23.45 is closed, yet no value the wording allows reaches it: open. High: x20 < 23.55 (open as stated).
    assert bound_ends({X("frikort_egenandel", 2020): 1}, data) == pytest.approx((31 - 7.55, 23.55, False, False))
    rec = reconcile(data).set_index("quantity")
    assert not rec.loc[x21, "low_closed"] and not rec.loc[x21, "high_closed"]
    check = check_claims(data).set_index("claim_id")
    row = check.loc["frikort_egenandel_2021"]
    # what the two others imply: [23.45 + 7.45, 23.55 + 7.55) = [30.9, 31.1), closed below, open above
    assert (row["implied_low"], row["implied_high"]) == pytest.approx((23.45 + 7.45, 23.55 + 7.55))
    assert row["implied_low_closed"] and not row["implied_high_closed"]
    assert not row["reconciled_low_closed"] and not row["reconciled_high_closed"]
    assert row["consistent"]


def test_sysvak_ends_by_hand():
    # "rundt 5" [4.5, 5.5]; "over 63" (63, 64); "opp 58" [57.5, 58.5)
    data = claims_subset("sysvak_2020", "sysvak_2021", "sysvak_change")
    x20, x21 = X("sysvak", 2020), X("sysvak", 2021)
    # x21 high: 5.5 + 58.5 = 64 needs the change at 58.5, open ("opp 58" excludes 58.5): open
    assert bound_ends({x21: 1}, data) == pytest.approx((63, 5.5 + 58.5, False, False))
    # x20 low: 4.5 needs x21 = x20 + change < 4.5 + 58.5 = 63, but x21 > 63: open, though "rundt 5" is closed;
    # x20 high: 5.5 with x21 = 63.5 and change 58 satisfies every strict inequality: closed
    assert bound_ends({x20: 1}, data) == pytest.approx((63 - 58.5, 5.5, False, True))
    # change low: 57.5 with x20 = 5.5, x21 = 63 is excluded (x21 > 63), and x21 - 5.5 > 57.5: open
    # change high: 58.5 is open as stated
    assert bound_ends({x21: 1, x20: -1}, data) == pytest.approx((57.5, 58.5, False, False))


def test_gp_to_municipality_ends_by_hand():
    # "1,8" [1.75, 1.85); "nesten 3,4" [3.35, 3.4); "over 82 prosent" -> 1.82 x20 < x21 < 1.83 x20
    data = claims_subset("plo_fastlege_kommune_2020", "plo_fastlege_kommune_2021", "plo_fastlege_kommune_growth")
    x20, x21 = X("plo", 2020, "fastlege", "kommune"), X("plo", 2021, "fastlege", "kommune")
    # x20 low 3.35 / 1.83 needs growth exactly 83 %, excluded; high 1.85 excluded: (1.8306.., 1.85)
    assert bound_ends({x20: 1}, data) == pytest.approx((3.35 / 1.83, 1.85, False, False))
    # x21 low 3.35 is attained (x20 = 1.84: 3.35 / 1.84 = 1.8207 lies strictly in (1.82, 1.83)): closed;
    # high 1.83 * 1.85 needs both open ends: open
    assert bound_ends({x21: 1}, data) == pytest.approx((3.35, 1.83 * 1.85, True, False))
    assert 1.82 < 3.35 / 1.84 < 1.83 and 1.75 <= 1.84 < 1.85
    # growth (82, 83) stays open at both ends
    assert bound_ends({x21: 100, x20: -100}, data, denominator={x20: 1}) == pytest.approx((82, 83, False, False))


def test_published_page_closedness_in_reconcile():
    rec = reconcile().set_index("quantity")

    def ends(q: str) -> tuple[bool, bool]:
        return bool(rec.loc[q, "low_closed"]), bool(rec.loc[q, "high_closed"])

    # total 2020 "193" [192.5, 193.5): 192.5 fits every other claim (2021 = 283.5 .. 284 with change 91): closed
    assert ends(X("total", 2020)) == (True, False)
    # growth of the total: 90.5 / 193.5 needs x20 = 193.5, excluded; 91.5 / 192.5 needs change 91.5, excluded
    assert ends("growth_percent:total[all->all]@2020-2021") == (False, False)
    # "rundt 0,71" and "[rundt] 0,85" are closed and tied to nothing else: [0.705, 0.715], [0.845, 0.855]
    assert ends(X("plo", 2021, "kommune", "helseforetak_og_private_sykehus")) == (True, True)
    # their change 0.845 - 0.715 = 0.13 and 0.855 - 0.705 = 0.15, both attained
    assert lookup(rec.reset_index(), "change:plo[kommune->helseforetak_og_private_sykehus]@2020-2021") == \
        pytest.approx((0.845 - 0.715, 0.855 - 0.705))
    assert ends("change:plo[kommune->helseforetak_og_private_sykehus]@2020-2021") == (True, True)
    # every infinite or missing end is open, and closedness columns are plain booleans
    assert rec["low_closed"].dtype == bool and rec["high_closed"].dtype == bool


def test_claims_that_meet_only_at_an_open_end_contradict_each_other():
    # "rundt 5" [4.5, 5.5], "over 63" (63, 64), and the change edited to "nesten 57,5" [57.45, 57.5) (synthetic):
    # x21 = x20 + change < 5.5 + 57.5 = 63, yet x21 > 63. The closure meets at x21 = 63 only.
    data = edited({"sysvak_change": {"value": 57.5, "step": 0.1, "qualifier": "almost"}})
    data = data[data["figure_id"].str.startswith("sysvak")]
    with pytest.raises(InconsistentClaims, match="open end") as info:
        reconcile(data, "default")
    assert sorted(info.value.conflict) == ["sysvak_2020", "sysvak_2021", "sysvak_change"]
    check = check_claims(data, "default").set_index("claim_id")
    assert check["in_conflict"].all() and not check["consistent"].any()
    # read "rundt" as ±1 step ([4, 6]) the three can hold together: x21 < 6 + 57.5 = 63.5
    assert bound_ends({X("sysvak", 2021): 1}, data, "about_1step") == pytest.approx((63, 6 + 57.5, False, False))


def test_frikort_rounding_narrows_2021_by_hand():
    # "23,5" -> [23.45, 23.55]; "over 31" -> [31, 32]; "opp 7,5" -> [7.45, 7.55]
    # so x21 <= 23.55 + 7.55 = 31.1: the change pins "over 31" to [31, 31.1]
    data = claims_subset("frikort_egenandel_2020", "frikort_egenandel_2021", "frikort_egenandel_change")
    assert bound({X("frikort_egenandel", 2021): 1}, data) == pytest.approx((31, 23.55 + 7.55))
    check = check_claims(data).set_index("claim_id")
    assert check.loc["frikort_egenandel_2021", "implied_low"] == pytest.approx(23.45 + 7.45)


def test_over_82_prosent_pins_the_gp_to_municipality_flow_by_hand():
    # "1,8" -> [1.75, 1.85]; "nesten 3,4" -> [3.35, 3.4]; "over 82 prosent" -> x21 / x20 in [1.82, 1.83]
    data = claims_subset("plo_fastlege_kommune_2020", "plo_fastlege_kommune_2021", "plo_fastlege_kommune_growth")
    x20, x21 = X("plo", 2020, "fastlege", "kommune"), X("plo", 2021, "fastlege", "kommune")
    # x20 >= 3.35 / 1.83 (x21 >= 3.35 and x21 <= 1.83 x20); x20 <= 1.85
    assert bound({x20: 1}, data) == pytest.approx((3.35 / 1.83, 1.85))
    # x21 <= 1.83 * 1.85 = 3.3855 < 3.4
    assert bound({x21: 1}, data) == pytest.approx((3.35, 1.83 * 1.85))
    # the change: smallest at x21 = 3.35, x20 = 3.35 / 1.82; largest 0.83 * 1.85 (x21 = 1.83 x20)
    assert bound({x21: 1, x20: -1}, data) == pytest.approx((3.35 - 3.35 / 1.82, 0.83 * 1.85))
    check = check_claims(data).set_index("claim_id")
    # the levels alone allow growth from 3.35/1.85 - 1 to 3.4/1.75 - 1
    implied = tuple(check.loc["plo_fastlege_kommune_growth", ["implied_low", "implied_high"]])
    assert implied == pytest.approx((100 * (3.35 / 1.85 - 1), 100 * (3.4 / 1.75 - 1)))
    # printed values at face value give 3.4 / 1.8 - 1 = 88.9 %, outside "over 82 prosent"
    assert 100 * (3.4 / 1.8 - 1) > check.loc["plo_fastlege_kommune_growth", "stated_high"]


def test_total_growth_and_unexplained_change_by_hand():
    rec = reconcile()
    # growth: smallest 90.5 / 193.5 (x20 = 193.5, x21 = x20 + 90.5 = 284); largest 91.5 / 192.5
    assert lookup(rec, "growth_percent:total[all->all]@2020-2021") == pytest.approx(
        (100 * 90.5 / 193.5, 100 * 91.5 / 192.5))
    # unexplained = change(total) - changes of SYSVAK, svarrapporter, frikort and PLO GP -> municipality
    fk_min, fk_max = 3.35 - 3.35 / 1.82, 0.83 * 1.85
    assert lookup(rec, "unexplained_change@2020-2021") == pytest.approx(
        (90.5 - 58.5 - 21.5 - 7.55 - fk_max, 91.5 - 57.5 - 20.5 - 7.45 - fk_min))
    # other 2020 = total - every named category: smallest with every part at its top
    parts_max = 5.5 + 26.5 + 23.55 + 1.85 + 1.85 + 1.3 + 0.715
    assert lookup(rec, "other[all->all]@2020")[0] == pytest.approx(192.5 - parts_max)
    # the printed-arithmetic column: 284 - 193 = 91, 91 / 193
    d = derived().set_index("quantity")
    assert d.loc["change:total[all->all]@2020-2021", "from_printed"] == pytest.approx(284 - 193)
    assert d.loc["growth_percent:total[all->all]@2020-2021", "from_printed"] == pytest.approx(100 * 91 / 193)
    assert d.loc["unexplained_change@2020-2021", "from_printed"] == pytest.approx(91 - 58 - 21 - 7.5 - (3.4 - 1.8))
    assert not d.loc["change:plo[fastlege->kommune]@2020-2021", "printed_inside"]


def test_reconcile_covers_every_quantity_the_issue_lists():
    rec = reconcile()
    q = set(rec["quantity"])
    for m in ("total", "sysvak", "svarrapporter", "frikort_egenandel"):
        for y in (2020, 2021):
            assert X(m, y) in q
        assert f"change:{m}[all->all]@2020-2021" in q
        assert f"growth_percent:{m}[all->all]@2020-2021" in q
    flows = PUB[PUB["measure"] == "plo"][["sender", "receiver"]].drop_duplicates()
    assert len(flows) == 4
    for s, r in flows.itertuples(index=False):
        for y in (2020, 2021):
            assert X("plo", y, s, r) in q
        assert f"change:plo[{s}->{r}]@2020-2021" in q
    assert "unexplained_change@2020-2021" in q
    assert np.isfinite(rec[["low", "high"]].to_numpy()).all()
    assert (rec["low"] <= rec["high"] + 1e-9).all()
    assert set(rec["kind"]) == {"level", "change", "growth_percent", "residual"}


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("convention", ["default", "about_1step", "wide", "rel:0.01"])
def test_every_claim_consistent_and_reconciled_inside_stated(convention):
    check = check_claims(convention=convention)
    assert len(check) == len(PUB)
    assert check["consistent"].all(), check.loc[~check["consistent"], "claim_id"].tolist()
    assert not check["in_conflict"].any()
    dated = check[check["claim_id"] != "total_plateau"]
    assert (dated["reconciled_low"] >= dated["stated_low"] - 1e-9).all()
    assert (dated["reconciled_high"] <= dated["stated_high"] + 1e-9).all()
    # the reconciled range lies inside both the stated and the implied range
    assert (dated["reconciled_low"] >= dated["implied_low"] - 1e-9).all()
    assert (dated["reconciled_high"] <= dated["implied_high"] + 1e-9).all()


def test_wider_convention_never_narrows_the_bounds():
    tight = reconcile().set_index("quantity")
    for conv in ("about_1step", "wide", "rel:0.01"):
        wide = reconcile(convention=conv).set_index("quantity").loc[tight.index]
        assert (wide["low"] <= tight["low"] + 1e-9).all() and (wide["high"] >= tight["high"] - 1e-9).all()


def test_bounds_match_an_independent_sampling_check():
    # Independent of the LP: for each measure/flow draw (x2020, x2021) uniformly in the box of their stated
    # level intervals (fixed seed), keep the pairs that satisfy that flow's change/growth claims, then combine
    # the flows and keep the points where the total holds its named parts (other >= 0). Every kept value must
    # lie inside the reconciled bounds, and the kept values must reach close to both ends (bounds not loose).
    rng = np.random.default_rng(20220101)
    rec = reconcile().set_index("quantity")
    lv = PUB[(PUB["kind"] == "level") & PUB["year"].notna()]
    n, kept = 40_000, {}
    for (m, s, r), grp in lv.groupby(["measure", "sender", "receiver"]):
        box = {int(y): (lo, hi) for y, lo, hi in zip(grp["year"], grp["low"], grp["high"], strict=True)}
        x20, x21 = rng.uniform(*box[2020], n), rng.uniform(*box[2021], n)
        ok = np.ones(n, dtype=bool)
        stmt = PUB[(PUB["measure"] == m) & (PUB["sender"] == s) & (PUB["receiver"] == r) & (PUB["kind"] != "level")]
        for _, c in stmt.iterrows():
            val = x21 - x20 if c["kind"] == "change" else 100 * (x21 / x20 - 1)
            ok &= (val >= c["low"]) & (val <= c["high"])
        kept[(m, s, r)] = (x20[ok], x21[ok])
    size = min(len(a) for a, _ in kept.values())
    assert size > 500
    pts = {}
    for (m, s, r), (a, b) in kept.items():
        pts[X(m, 2020, s, r)], pts[X(m, 2021, s, r)] = a[:size], b[:size]
    for y in (2020, 2021):
        parts = sum(v for k, v in pts.items() if k.endswith(f"@{y}") and not k.startswith("total"))
        pts[X("other", y)] = pts[X("total", y)] - parts
    assert (pts[X("other", 2020)] >= 0).all() and (pts[X("other", 2021)] >= 0).all()
    named = [("sysvak", "all", "all"), ("svarrapporter", "all", "all"), ("frikort_egenandel", "all", "all"),
             ("plo", "fastlege", "kommune")]
    values = {k: v for k, v in pts.items()}
    for (m, s, r) in kept:
        values[f"change:{m}[{s}->{r}]@2020-2021"] = pts[X(m, 2021, s, r)] - pts[X(m, 2020, s, r)]
    values["unexplained_change@2020-2021"] = values["change:total[all->all]@2020-2021"] - sum(
        values[f"change:{m}[{s}->{r}]@2020-2021"] for m, s, r in named)
    for q, v in values.items():
        lo, hi = rec.loc[q, ["low", "high"]]
        assert lo - 1e-9 <= v.min() and v.max() <= hi + 1e-9, q
        if not q.startswith(("other", "unexplained")):  # sums of many draws rarely reach their extremes
            assert (v.max() - v.min()) >= 0.9 * (hi - lo), q


def test_parts_sum_to_the_total_at_the_printed_point():
    point = printed_point()
    parts_2021 = 63 + 47 + 31 + 3.4 + 2.2 + 1.4 + 0.85
    assert point[X("other", 2021)] == pytest.approx(284 - parts_2021)
    assert point[X("other", 2021)] + parts_2021 == pytest.approx(point[X("total", 2021)])


# ---------------------------------------------------------------- contradictions


def test_contradictory_set_is_reported_with_its_claims():
    # "opp 50" instead of "opp 58": x21 - x20 >= 63 - 5.5 = 57.5 > 50.5, so the three SYSVAK claims conflict
    data = edited({"sysvak_change": {"value": 50.0}})
    with pytest.raises(InconsistentClaims) as info:
        reconcile(data, "default")
    assert sorted(info.value.conflict) == ["sysvak_2020", "sysvak_2021", "sysvak_change"]
    assert "sysvak_change" in str(info.value)
    assert isinstance(info.value, DataError)
    with pytest.raises(InconsistentClaims):
        bound({X("total", 2021): 1}, data, "default")
    result = check_claims_result(data, "default")  # does not raise
    assert isinstance(result, ClaimsCheck) and not result.consistent
    assert list(result.conflict) == info.value.conflict
    check = result.table.set_index("claim_id")
    assert check.attrs == {}  # the conflicting sets are in the result object, not in attrs
    assert not check.loc["sysvak_change", "consistent"] and check.loc["sysvak_change", "in_conflict"]
    assert check.loc["total_2021", "consistent"]  # unrelated claims still check out
    assert check["reconciled_low"].isna().all()  # no bounds as if nothing were wrong
    # dropping any one of the three restores feasibility (the set is irreducible)
    for cid in info.value.conflict:
        reconcile(data[data["figure_id"] != cid], "default")


def test_structural_conflict_total_below_its_parts():
    # a total of 20 million in 2020 cannot hold the parts (at least 4.5 + 25.5 + 23.45 + ... > 20)
    data = edited({"total_2020": {"value": 20.0}})
    with pytest.raises(InconsistentClaims) as info:
        reconcile(data, "default")
    conflict = set(info.value.conflict)
    assert "total_2020" in conflict
    # smallest: with 2021 gone, the 2020 total of at most 20.5 conflicts with svarrapporter (>= 25.5) alone
    assert len(conflict) == 2
    assert "other_nonnegative@2020" in set(structural_constraints()["label"])


def test_two_separate_conflicts_are_both_reported():
    data = edited({"sysvak_change": {"value": 50.0}, "svarrapporter_change": {"value": 10.0}})
    result = check_claims_result(data, "default")
    check = result.table.set_index("claim_id")
    # svarrapporter: x21 - x20 >= 47 - 26.5 = 20.5 > 10.5
    assert sorted(map(sorted, result.conflicts)) == [
        ["svarrapporter_2020", "svarrapporter_2021", "svarrapporter_change"],
        ["sysvak_2020", "sysvak_2021", "sysvak_change"]]
    assert check["in_conflict"].sum() == 6 and (check["consistent"] == ~check["in_conflict"]).all()
    # the others of total_2021 contradict each other: it is checked against the claims outside both sets
    assert check.loc["total_2021", "note"] == NOTE_OTHERS_CONFLICT
    assert [n.code for n in result.notes("total_2021")] == [NOTE_OTHERS_CONFLICT]


def test_face_value_reading_contradicts_itself():
    # every printed figure taken as exact: 3.4 / 1.8 = 1.889 is not 1.82
    with pytest.raises(InconsistentClaims) as info:
        reconcile(convention=FACE_VALUE)
    assert sorted(info.value.conflict) == sorted(
        ["plo_fastlege_kommune_growth", "plo_fastlege_kommune_2020", "plo_fastlege_kommune_2021"])
    sens = sensitivity(["default", FACE_VALUE], ["change:total[all->all]@2020-2021"])
    assert list(sens["consistent"]) == [True, False]
    assert "plo_fastlege_kommune_growth" in sens["conflict"].iloc[1]


def test_undated_plateau_is_checked_against_2020_but_does_not_constrain_it():
    check = check_claims().set_index("claim_id")
    row = check.loc["total_plateau"]
    # "rundt 200" with step 20 -> [190, 210]; compared with the 2020 total [192.5, 193.5]
    assert (row["stated_low"], row["stated_high"]) == pytest.approx((190, 210))
    assert (row["implied_low"], row["implied_high"]) == pytest.approx((192.5, 193.5))
    assert row["consistent"] and row["note"] == NOTE_UNDATED_COMPARED
    assert row["compared_with"] == X("total", 2020)
    assert check_claims_result().notes("total_plateau")[0].values == {"compared_with": X("total", 2020)}
    # read with step 10 -> [195, 205]: 193 is outside, flagged, but 2020 and 2021 bounds are unchanged
    narrow = edited({"total_plateau": {"step": 10.0}})
    check2 = check_claims(narrow, "default").set_index("claim_id")
    assert not check2.loc["total_plateau", "consistent"] and not check2.loc["total_plateau", "in_conflict"]
    assert lookup(reconcile(narrow, "default"), X("total", 2020)) == pytest.approx((192.5, 193.5))


# ---------------------------------------------------------------- registry, series, errors


def test_registry_has_every_claim_with_its_relation():
    reg = registry()
    assert list(reg["claim_id"]) == list(PUB["figure_id"])
    rel = reg.set_index("claim_id")["relation"]
    # "opp 58" is [57.5, 58.5): strict at the open top (the review's finding 5: open ends were shown closed)
    assert rel["sysvak_change"] == "57.5 ≤ sysvak[all->all]@2021 − sysvak[all->all]@2020 < 58.5"
    # "over 82 prosent" is (82, 83): both ends strict
    assert "1.82·plo[fastlege->kommune]@2020 > 0" in rel["plo_fastlege_kommune_growth"]
    assert "1.83·plo[fastlege->kommune]@2020 < 0" in rel["plo_fastlege_kommune_growth"]
    assert rel["sysvak_2020"] == "4.5 ≤ sysvak[all->all]@2020 ≤ 5.5"  # "rundt 5": closed at both ends


def test_unknown_variable_is_named():
    with pytest.raises(DataError, match=r"sysvak\[all->all\]@2019"):
        bound({X("sysvak", 2019): 1})


def test_ratio_needs_a_positive_denominator():
    data = claims_subset("sysvak_change")  # nothing keeps x20 away from 0
    with pytest.raises(DataError, match="denominator"):
        bound({X("sysvak", 2021): 1}, data, denominator={X("sysvak", 2020): 1})
    # reconcile reports such a growth rate as unbounded instead of failing
    rec = reconcile(data)
    assert lookup(rec, "growth_percent:sysvak[all->all]@2020-2021") == (-np.inf, np.inf)
    assert lookup(rec, "change:sysvak[all->all]@2020-2021") == pytest.approx((57.5, 58.5))


def test_user_series_boxes_each_level(tmp_path):
    p = tmp_path / "synthetic_series.csv"  # synthetic test data
    p.write_text("period,measure,sender,receiver,value,qualifier,step\n"
                 "2019-01,total,all,all,100,about,10\n"
                 "2019-02,total,all,all,120,exact,1\n", encoding="utf-8")
    s = load_series(p)
    jan, feb = X("total", "2019-01"), X("total", s["period"].iloc[1])
    # "about 100" step 10 -> [95, 105]; "120" -> [119.5, 120.5]; change in [119.5 - 105, 120.5 - 95]
    assert bound({feb: 1, jan: -1}, s) == pytest.approx((119.5 - 105, 120.5 - 95))
    # both ends of "about" are closed, "120" is open above: the change's low end 119.5 - 105 is attained,
    # its high end 120.5 - 95 is not
    assert bound_ends({feb: 1, jan: -1}, s) == pytest.approx((119.5 - 105, 120.5 - 95, True, False))
    rec = reconcile(s)
    assert set(rec["kind"]) == {"level"} and len(rec) == 2
    with pytest.raises(DataError, match="published"):
        check_claims(s)


def test_presentation_formats_by_language():
    from analysis.present.formatting import bracketed as fmt_interval
    from analysis.present.formatting import significant as fmt_number
    assert fmt_number(23.45, "nb") == "23,45" and fmt_number(23.45, "en") == "23.45"
    assert fmt_interval(63, 64, "en", False, False) == "(63, 64)"
    assert fmt_interval(3.35, 3.4, "nb", True, False) == "[3,35; 3,4)"
    assert fmt_interval(0, np.inf, "en") == "[0, ∞)"


def test_claims_module_is_language_free():
    # results are numbers and codes: no function takes a language, nothing imports the presentation layer
    import ast
    import inspect

    import analysis.claims as module
    imported = [n.module for n in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(n, ast.Import)
                 for a in n.names]
    assert "analysis.data" in imported and not [m for m in imported if m and m.startswith("analysis.present")]
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ == module.__name__:
            assert "lang" not in inspect.signature(fn).parameters, name
    assert set(reconcile()["description"]) == {"level", "other", "change", "growth_percent", "unexplained"}
    assert structural_constraints().set_index("label").loc["nonnegative", "relation"] == "level ≥ 0"


def test_claims_report_uses_only_public_names_of_claims():
    import ast
    import inspect

    from analysis.present import claims_report
    tree = ast.parse(inspect.getsource(claims_report))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "analysis.claims"
             for a in n.names]
    assert names and not [n for n in names if n.startswith("_")]


def test_headline_and_unconstrained_quantities():
    rec = reconcile()
    assert headline_quantities(rec) == list(HEADLINE_QUANTITIES)  # the published figures have all six
    assert headline_quantities(None) is None  # no reconciliation: sensitivity() over every quantity
    assert headline_quantities(rec[rec["kind"] == "level"]) is None
    # the page states each of the three flows other than GP -> municipality only as levels, and no other claim
    # names them: the others imply 0 from below (and the room the total leaves above), 2 claims per flow
    free = unconstrained_levels(check_claims())
    assert free == [f"plo_{f}_{y}" for f in ("kommune_fastlege", "helseforetak_kommune", "kommune_helseforetak")
                    for y in (2020, 2021)]


def test_readers_tables_and_sentences_come_from_the_catalogue():
    from analysis.present import claims_report as cr
    reg = registry()
    growth = reg.set_index("claim_id").loc["plo_fastlege_kommune_growth", "relation"]
    assert growth.split(RELATION_JOIN)[1] == "plo[fastlege->kommune]@2021 − 1.83·plo[fastlege->kommune]@2020 < 0"
    nb = cr.registry_table(reg, "nb").set_index("id")
    assert "Omskrevet (engelsk)" not in nb.columns  # the paraphrase is English: shown on en pages only
    assert nb.loc["plo_fastlege_kommune_growth"].iloc[-1].count(" og ") == 1
    assert "1,83·plo" in nb.loc["plo_fastlege_kommune_growth"].iloc[-1]
    assert "Paraphrase" in cr.registry_table(reg, "en").columns
    struct = cr.structural_table(structural_constraints(), "nb")
    assert list(struct.iloc[0]) == ["Ingen negative nivåer", "hvert nivå ≥ 0 (antall meldinger)"]
    assert struct.iloc[1, 0] == "Øvrige meldinger, 2020"
    assert cr.data_line(PUB, "", "default", "en").startswith("**Data:** the published figures · **claims:** 22")
    assert "`my.csv`" in cr.data_line(PUB, "my.csv", "wide", "nb") and "`wide`" in cr.data_line(PUB, "", "wide", "nb")
    sens = sensitivity(["default", FACE_VALUE], ["change:total[all->all]@2020-2021"])
    note = cr.sensitivity_note(sens, "en")
    assert note.startswith("Under `face_value` the statements contradict each other")
    assert "plo_fastlege_kommune_growth" in note and "`default`" not in note
    assert cr.sensitivity_note(sens[sens["convention"] == "default"], "nb") == catalogue_text(
        "nb", "claims.page.sensitivity_agree")
    assert cr.hedged(82, "over", "nb") == "over 82" and cr.hedged(5, "about", "en") == "about 5"


def test_conflicts_note_names_every_set():
    from analysis.present import claims_report as cr
    data = edited({"sysvak_change": {"value": 50.0}, "svarrapporter_change": {"value": 10.0}})
    result = check_claims_result(data, "default")
    text = cr.conflicts_note(result, "nb")
    assert text.startswith("**Utsagnene motsier hverandre")
    for ids in result.conflicts:
        assert ", ".join(ids) in text
    assert cr.conflicts_note(check_claims_result(), "en") == ""


# ---------------------------------------------------------------- the notebook


@pytest.mark.notebook
def test_notebook_default_nb(published_build):
    nb = published_build.notebook("01_reproduce_2021", "nb")
    text = outputs_text(nb)
    assert image_count(nb) == 3
    assert "Alle 22 utsagn" in text
    assert text.count("✓") >= 22
    # "opp 7,5" from 23,5 caps "over 31" at 23.55 + 7.55 = 31.1; both ends open (finding 5 of the review:
    # this was shown as "[31; 31,1]", closed, which no value the wording allows reaches)
    assert "(31; 31,1)" in text and "[31; 31,1]" not in text
    # total growth 90.5/193.5 .. 91.5/192.5, five significant digits, open at both ends (193.5 and the change
    # 91.5 are excluded by "193" and "91"); the upper end 47.5324... rounds up to 47.533
    assert f"({100 * 90.5 / 193.5:.2f}; 47,533)".replace(".", ",") in text
    # the registry's relations: Norwegian decimal commas, strict at an open end, escaped for HTML
    assert "57,5 ≤ sysvak[all-&gt;all]@2021 − sysvak[all-&gt;all]@2020 &lt; 58,5" in text
    assert "hvert nivå ≥ 0 (antall meldinger)" in text and "every level" not in text
    assert "For some years before 2021" not in text  # the English paraphrase is left out in nb
    # the closing section is generated from the data, with the hedge words as printed
    assert "rundt 5 → over 63 millioner, opp 58" in text
    assert "Traceback" not in text


@pytest.mark.notebook
def test_notebook_english_and_exports(published_build):
    nb = published_build.notebook("01_reproduce_2021", "en")
    text = outputs_text(nb)
    assert image_count(nb) == 3
    assert "All 22 statements on the page agree" in text
    # printed arithmetic 3.4 - 1.8 = 1.6 lies outside the reconciled (3.35 - 3.35/1.82, 0.83 * 1.85); both ends
    # are open ("over 82 prosent" and "1,8" exclude the corners that reach them): finding 5 of the review
    assert f"({3.35 - 3.35 / 1.82:.4f}, {0.83 * 1.85:.4f})" in text
    assert "about 5 → over 63 million, up 58" in text
    assert "face_value" in text and "plo_fastlege_kommune_growth" in text
    # the build gave export_dir = its reports folder: what this kernel wrote there (its audit cell's list)
    written = published_build.written("01_reproduce_2021", "en")
    figures = sorted(p.name for p in written if p.parent == published_build.out / "figures" and p.suffix == ".png")
    assert figures == ["01_changes_en.png", "01_plo_flows_en.png", "01_totals_stack_en.png"]
    assert published_build.out / "tables" / "01_claims_check_en.csv" in written
    assert (published_build.out / "tables" / "01_claims_check_en.csv").exists()


@pytest.mark.notebook
def test_notebook_on_a_user_series_skips_the_claims(executed):
    nb = executed("01_reproduce_2021", "en", data=USER_SERIES).nb  # synthetic: total and SYSVAK, 2019 and 2020
    text = outputs_text(nb)
    assert "does not apply to this file" in text
    assert "Skipped" in text
    # nothing about the published page is said of the user's file: the closing section is skipped too
    assert "What the page says" not in text and "193 → 284" not in text and "rundt 200" not in text
    closing = [c for c in nb.cells if c.cell_type == "code" and "closing_notes" in c.source]
    assert len(closing) == 1 and "Skipped" in outputs_text(nbformat.v4.new_notebook(cells=closing))
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.notebook
def test_notebook_on_contradictory_claims_names_them(executed):
    frame = pd.read_csv(paths.PUBLISHED_CSV, dtype=str, keep_default_na=False)
    frame.loc[frame["figure_id"] == "sysvak_change", "value"] = "50"  # deliberately contradictory (synthetic)
    nb = executed("01_reproduce_2021", "en", data=("contradictory_published.csv", frame.to_csv(index=False))).nb
    text = outputs_text(nb)
    assert "contradict each other" in text
    assert "sysvak_2020, sysvak_2021, sysvak_change" in text
    assert "✗" in text
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
