"""analysis.statements: the kept page text gives back the hand-made CSV, and each reading rule on its own."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import pandas as pd
import pytest

from analysis import DataError, paths
from analysis.data import PUBLISHED_COLUMNS, load_published
from analysis.statements import (
    COLUMNS,
    REVIEW_CODES,
    extract,
    extract_result,
    load_lexicon,
    main,
    page_text,
    page_years,
    to_csv,
)

PAGE = paths.PUBLISHED_DIR / "source_page_ehelsemonitor_meldingsutveksling.txt"
SOURCE = "ehelse_meldingsutveksling"
COMPARED = ["value", "unit", "step", "qualifier", "kind", "year", "from_year", "measure", "sender", "receiver"]

# Every field in which the extracted row differs from the hand-made row of data/published/ehelsemonitor_2021.csv,
# keyed by (the hand-made figure_id, field), with the extracted value and why.
DIFFERENCES = {
    ("total_plateau", "step"): (
        math.nan,
        "'rundt 200': the digits do not say whether 1, 10 or 100 was rounded; the hand-made row reads 20 from the "
        "context (data/README.md), the extractor leaves it empty and flags step_open"),
    ("total_plateau", "figure_id"): ("total_undated", "no year named: the id says undated, not the reading"),
    ("plo_kommune_helseforetak_2020", "figure_id"): (
        "plo_kommune_helseforetak_og_private_sykehus_2020", "the id spells out the receiver code"),
    ("plo_kommune_helseforetak_2021", "figure_id"): (
        "plo_kommune_helseforetak_og_private_sykehus_2021", "the id spells out the receiver code"),
    ("total_2020", "wording"): ("fra 193 millioner meldinger i 2020", "the extractor keeps the leading 'fra'"),
    ("total_2021", "wording"): ("til 284 millioner i 2021", "the extractor keeps the leading 'til'"),
    ("sysvak_change", "wording"): ("opp 58 millioner", "without the brackets around it"),
    ("svarrapporter_change", "wording"): ("opp 21 millioner", "without the brackets around it"),
    ("frikort_egenandel_change", "wording"): ("opp 7,5 millioner", "without the brackets around it"),
    ("plo_fastlege_kommune_growth", "wording"): (
        "en oppgang på over 82 prosent",
        "the extractor's phrase ends at the unit; the hand-made one goes on to the flow it is about"),
    ("plo_kommune_fastlege_2020", "wording"): (
        "fra 1,8 millioner", "the hand-made phrase starts at 'økning' to tell the two 'fra 1,8 millioner' apart"),
}


def _printed(value: float) -> str:
    return f"{abs(value):g}".replace(".", ",")


def _page_order(hand: pd.DataFrame, body: str) -> pd.DataFrame:
    """The hand-made rows in the order of their numbers on the page (found through each row's wording)."""
    where = []
    for _, row in hand.iterrows():
        wording = row["wording"].replace("[rundt] ", "")
        at = body.find(wording)
        assert at >= 0 and body.count(wording) == 1, row["figure_id"]
        where.append(at + wording.index(_printed(row["value"])))
    return hand.assign(_at=where).sort_values("_at").drop(columns="_at").reset_index(drop=True)


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    text = PAGE.read_text(encoding="utf-8")
    got = extract(text, SOURCE)
    hand = _page_order(load_published()[PUBLISHED_COLUMNS], page_text(text))
    return hand, got


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b))
    return a == b


# ---------------------------------------------------------------- the kept page against the hand-made CSV

def test_the_page_gives_22_rows_in_the_published_schema(pair):
    hand, got = pair
    assert len(got) == len(hand) == 22
    assert list(got.columns) == COLUMNS == [*PUBLISHED_COLUMNS, "needs_review"]
    assert set(got["source_id"]) == {SOURCE}
    assert got["figure_id"].is_unique


def test_the_page_matches_the_hand_made_csv_field_by_field(pair):
    hand, got = pair
    found = {}
    for (_, h), (_, g) in zip(hand.iterrows(), got.iterrows(), strict=True):
        for col in [*COMPARED, "figure_id", "wording"]:
            if not _same(h[col], g[col]):
                found[(h["figure_id"], col)] = g[col]
    assert set(found) == set(DIFFERENCES)
    for key, (expected, _why) in DIFFERENCES.items():
        assert _same(found[key], expected), key


def test_matches_per_field(pair):
    # value, unit, qualifier, kind, year, from_year: 22 of 22; step: 21 (total_plateau's is open and flagged);
    # measure, sender, receiver: 22 of 22 (the issue asks for at least 20).
    hand, got = pair
    counts = {col: sum(_same(a, b) for a, b in zip(hand[col], got[col], strict=True)) for col in COMPARED}
    assert counts == {"value": 22, "unit": 22, "step": 21, "qualifier": 22, "kind": 22, "year": 22,
                      "from_year": 22, "measure": 22, "sender": 22, "receiver": 22}


def test_the_page_flags_exactly_the_round_undated_figure_and_the_shared_hedge(pair):
    _, got = pair
    flagged = got.loc[got["needs_review"] != "", ["figure_id", "needs_review"]].values.tolist()
    assert flagged == [
        ["total_undated", "step_open; year_unknown"],
        ["plo_kommune_helseforetak_og_private_sykehus_2021", "qualifier_carried"],
    ]


def test_paraphrase_is_left_to_the_reviewer(pair):
    _, got = pair
    assert set(got["paraphrase"]) == {""}


def test_every_wording_is_on_the_page(pair):
    _, got = pair
    body = page_text(PAGE.read_text(encoding="utf-8"))
    for w in got["wording"]:
        assert w.replace("[rundt] ", "") in body, w


def test_the_reviewed_draft_loads_with_the_hand_made_bounds(pair, tmp_path):
    # The reviewer's two decisions: step 20 for "rundt 200" (data/README.md) and 'rundt' covering 0,85.
    hand, got = pair
    draft = got.copy()
    draft.loc[draft["figure_id"] == "total_undated", "step"] = 20.0
    path = tmp_path / "reviewed.csv"
    path.write_text(to_csv(draft.drop(columns="needs_review")), encoding="utf-8")
    loaded = load_published(path)
    want = load_published().set_index("wording")
    for (_, g), (_, h) in zip(loaded.iterrows(), hand.iterrows(), strict=True):
        ref = want.loc[h["wording"]]
        assert (g["low"], g["high"]) == pytest.approx((ref["low"], ref["high"])), h["figure_id"]


def test_header_lines_are_skipped_so_its_years_do_not_count():
    text = PAGE.read_text(encoding="utf-8")
    assert page_years(text) == (2020, 2021)
    # Without the '----' line the header's "(published 2022)" would make 2021-2022 the years compared.
    assert page_years(text.replace("\n----\n", "\n\n")) == (2021, 2022)
    assert page_text(text).startswith("Hopp til hovedinnhold")
    assert "URL:" not in page_text(text)


# ---------------------------------------------------------------- each reading rule

def _one(sentence: str, **kw) -> pd.Series:
    table = extract(sentence, "test", years=(2020, 2021), **kw)
    assert len(table) == 1, table
    return table.iloc[0]


@pytest.mark.parametrize("hedge, qualifier", [
    ("rundt", "about"), ("ca.", "about"), ("omtrent", "about"), ("cirka", "about"), ("om lag", "about"),
    ("over", "over"), ("mer enn", "over"), ("nesten", "almost"), ("drøyt", "just_over"),
    ("i overkant av", "just_over"), ("", "exact"),
])
def test_each_hedge_word(hedge, qualifier):
    row = _one(f"SYSVAK: {hedge} 63 millioner meldinger i 2021.".replace("  ", " "))
    assert (row["qualifier"], row["value"], row["step"], row["year"]) == (qualifier, 63.0, 1.0, 2021)
    assert row["wording"] == f"{hedge} 63 millioner meldinger i 2021".strip()
    assert row["needs_review"] == ""


def test_over_as_a_preposition_is_not_a_hedge():
    row = _one("Økningen skjer over flere områder: SYSVAK fikk 63 millioner meldinger i 2021.")
    assert row["qualifier"] == "exact"


@pytest.mark.parametrize("printed, value, step", [
    ("23,5", 23.5, 0.1), ("0,71", 0.71, 0.01), ("7,5", 7.5, 0.1), ("2,0", 2.0, 0.1), ("1,25", 1.25, 0.01),
])
def test_decimal_commas(printed, value, step):
    row = _one(f"Frikort: {printed} millioner i 2020.")
    assert (row["value"], row["step"], row["unit"]) == (pytest.approx(value), pytest.approx(step),
                                                        "million messages")


@pytest.mark.parametrize("sentence, kind, value", [
    ("SYSVAK gikk ned 3 millioner.", "change", -3.0),
    ("SYSVAK: en nedgang på 2,5 millioner.", "change", -2.5),
    ("SYSVAK falt med 4 millioner.", "change", -4.0),
    ("SYSVAK faller 12 prosent.", "growth_percent", -12.0),
    ("Det ble 3 millioner færre SYSVAK-meldinger.", "change", -3.0),
    ("SYSVAK (opp 58 millioner).", "change", 58.0),
    ("SYSVAK stiger med 7 millioner.", "change", 7.0),
    ("SYSVAK: en økning på 91 millioner.", "change", 91.0),
    ("SYSVAK: en oppgang på over 82 prosent.", "growth_percent", 82.0),
    ("Det ble 5 millioner flere SYSVAK-meldinger.", "change", 5.0),
])
def test_falls_and_rises(sentence, kind, value):
    row = _one(sentence)
    assert (row["kind"], row["value"], row["year"], row["from_year"]) == (kind, value, 2021, 2020)
    assert row["measure"] == "sysvak"


def test_a_fall_from_one_level_to_another_is_two_positive_levels():
    table = extract("SYSVAK faller fra 12 millioner til 8 millioner.", "test", years=(2020, 2021))
    assert table[["kind", "value", "year"]].values.tolist() == [["level", 12.0, 2020], ["level", 8.0, 2021]]


def test_two_figures_one_hedge_word():
    # The page's sentence: 'rundt' is printed once, before 0,71, and covers 0,85 too (flagged for review).
    text = ("Antall sendte pleie- og omsorgsmeldinger\n\n"
            "Fra kommuner til helseforetak/private sykehus ble det sendt rundt 0,71 millioner meldinger i 2020 "
            "og 0,85 millioner meldinger i 2021.")
    result = extract_result(text, "test")
    t = result.table
    assert t["qualifier"].tolist() == ["about", "about"]
    assert t["value"].tolist() == [0.71, 0.85] and t["step"].tolist() == [0.01, 0.01]
    assert t["year"].tolist() == [2020, 2021]
    assert t["measure"].tolist() == ["plo"] * 2  # from the heading
    assert t["receiver"].tolist() == ["helseforetak_og_private_sykehus"] * 2
    assert t["needs_review"].tolist() == ["", "qualifier_carried"]
    assert t["wording"].iloc[1] == "[rundt] 0,85 millioner meldinger i 2021"
    (carried,) = result.notes[t["figure_id"].iloc[1]]
    assert dict(carried.values) == {"printed": "0,85", "hedge": "rundt", "of": "0,71", "line": 3}


def test_a_hedge_is_not_carried_across_fra_til():
    table = extract("SYSVAK øker fra rundt 5 millioner til 63 millioner.", "test", years=(2020, 2021))
    assert table["qualifier"].tolist() == ["about", "exact"]
    assert table["needs_review"].tolist() == ["", ""]


def test_years_from_the_sentence_before_the_page():
    # The sentence names 2019 and 2020, so its change runs 2019 -> 2020 whatever the page compares.
    row = _one("SYSVAK: en økning på 4 millioner fra 2019 til 2020.")
    assert (row["year"], row["from_year"]) == (2020, 2019)
    row = _one("I 2021 ble det sendt 284 millioner medisinske meldinger.")
    assert (row["measure"], row["kind"], row["year"]) == ("total", "level", 2021) and pd.isna(row["from_year"])


def test_the_unit_of_the_next_number_is_carried_and_flagged():
    table = extract("Frikort øker fra 5 til 63 millioner.", "test", years=(2020, 2021))
    assert table["unit"].tolist() == ["million messages"] * 2
    assert table["needs_review"].tolist() == ["unit_carried", ""]


def test_a_number_it_cannot_place_is_returned_with_empty_fields_and_codes():
    row = _one("Det gikk 40 000 meldinger mellom fastleger og kommunene.")
    assert row["value"] == 40000.0 and pd.isna(row["step"])
    assert (row["unit"], row["kind"], row["measure"], row["sender"], row["receiver"]) == ("", "", "", "", "")
    assert pd.isna(row["year"])
    assert row["needs_review"].split("; ") == ["step_open", "unit_unknown", "kind_unknown", "year_unknown",
                                                "measure_unknown", "sender_unknown", "receiver_unknown"]
    assert set(row["needs_review"].split("; ")) <= set(REVIEW_CODES)


def test_a_flow_measure_without_parties_is_not_filled_with_all():
    row = _one("Pleie- og omsorgsmeldinger: 9 millioner i 2021.")
    assert (row["measure"], row["sender"], row["receiver"]) == ("plo", "", "")
    assert row["needs_review"] == "sender_unknown; receiver_unknown"


def test_two_flows_in_one_sentence_are_ambiguous():
    row = _one("Fra fastleger til kommunene og fra kommunene til fastlegene gikk det 4 millioner "
               "pleie- og omsorgsmeldinger i 2021.")
    assert (row["sender"], row["receiver"], row["needs_review"]) == ("", "", "parties_ambiguous")


def test_a_percentage_without_a_change_word_may_be_a_share():
    row = _one("Andelen SYSVAK var 95 prosent i 2021.")
    assert (row["unit"], row["kind"], row["needs_review"]) == ("percent", "", "kind_unknown")


def test_a_point_before_three_digits_is_not_read():
    row = _one("Frikort: 3.400 millioner i 2021.")
    assert pd.isna(row["value"]) and row["needs_review"] == "separator_ambiguous"


def test_the_heading_gives_the_measure_when_the_sentence_names_none():
    text = "Totalt antall medisinske meldinger\n\nDet ble sendt 284 millioner i 2021.\n"
    assert _one(text)["measure"] == "total"
    assert _one("Det ble sendt 284 millioner i 2021.")["needs_review"] == "measure_unknown; sender_unknown; " \
                                                                        "receiver_unknown"


def test_a_user_lexicon_adds_terms(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text('[qualifiers]\nalmost = ["knapt"]\n[parties]\nkommune = ["bydel"]\n', encoding="utf-8")
    sentence = "Fra fastleger til bydelene gikk knapt 2 millioner pleie- og omsorgsmeldinger i 2021."
    plain = _one(sentence)
    assert (plain["qualifier"], plain["receiver"]) == ("exact", "")
    row = _one(sentence, lexicon=load_lexicon(extra))
    assert (row["qualifier"], row["sender"], row["receiver"], row["needs_review"]) == (
        "almost", "fastlege", "kommune", "")


def test_bad_lexicons_and_years_are_data_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[hedges]\nabout = ['rundt']\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.toml: unknown table \[hedges\]"):
        load_lexicon(bad)
    bad.write_text("[qualifiers\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid TOML"):
        load_lexicon(bad)
    with pytest.raises(DataError, match="earlier first"):
        extract("SYSVAK: 5 millioner.", "x", years=(2021, 2020))


def test_text_without_numbers_gives_an_empty_table():
    table = extract("Elektronisk meldingsutveksling\n\nIngen tall her.\n", "x")
    assert table.empty and list(table.columns) == COLUMNS


# ---------------------------------------------------------------- command line

def test_command_line_writes_the_draft(capsys):
    assert main([str(PAGE), "--source-id", SOURCE]) == 0
    out, err = capsys.readouterr()
    draft = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(draft.columns) == COLUMNS and len(draft) == 22
    assert draft.loc[draft["figure_id"] == "frikort_egenandel_2020", ["value", "step"]].values.tolist() == [
        ["23.5", "0.1"]]
    assert draft.loc[draft["figure_id"] == "total_undated", ["year", "step"]].values.tolist() == [["", ""]]
    assert "2 to review" in err and "line 16: total_undated" in err


@pytest.mark.parametrize("args, message", [
    (["missing.txt", "--source-id", "x"], "missing.txt: file not found"),
    ([str(PAGE), "--source-id", "x", "--years", "2021", "2020"], "earlier first"),
])
def test_command_line_errors_are_one_line_and_status_2(args, message, capsys):
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err


def test_command_line_not_utf8_names_the_line(tmp_path, capsys):
    page = tmp_path / "page.txt"
    page.write_bytes("Linje en\nSYSVAK: 5 millioner p\xe5 linje to\n".encode("latin-1"))
    assert main([str(page), "--source-id", "x"]) == 2
    assert "page.txt, line 2: not UTF-8" in capsys.readouterr().err


def test_python_dash_m_runs():
    proc = subprocess.run([sys.executable, "-m", "analysis.statements", str(PAGE), "--source-id", SOURCE],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == ",".join(COLUMNS) and len(proc.stdout.splitlines()) == 23
