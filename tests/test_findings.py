"""Key findings (issue 12): the block every page opens with, the ranges in words, and each page's findings
against the results they come from, worked by hand from the published figures."""

import html
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis import claims, decompose, evidence, paths
from analysis import data as hd
from analysis.present import (
    catalogue,
    claims_report,
    decompose_report,
    evidence_report,
    findings,
    overview,
    trend_report,
)
from analysis.present.findings import KeyFindings, between, digits_for, ends, hedged, word_count
from analysis.trend import ModelChoice
from conftest import LANGS, STEMS, USER_SERIES, image_count, trend_series

HEADING = {"en": "## Key findings", "nb": "## Hovedfunn"}
DETAILS = {"en": "## Details", "nb": "## Detaljer"}
# Words a finding must not use: terms a reader has to have explained (the Details sections explain them).
JARGON = ("P-score", "P-skår", "model point", "modellert punkt", "convention", "konvensjon", "reconcil", "avstem",
          "interval", "intervall", "LP", "percentage point", "prosentpoeng", "residual")
BRACKETED_NUMBER = re.compile(r"[\[(][^\])]*\d[^\])]*[\])]")  # "(1.41–4.55)", "[63, 64)"


# ---------------------------------------------------------------- the block

def test_block_html_is_the_section_the_pipeline_reads():
    k = KeyFindings(["Grew by **91 million** <i>& more</i>.", "  ", "Second."], "en")
    assert k.sentences == ("Grew by **91 million** <i>& more</i>.", "Second.")  # the blank one is dropped
    assert k._repr_html_() == ('<section id="key-findings" class="hm-key-findings" lang="en"><ul>'
                               "<li>Grew by <strong>91 million</strong> &lt;i&gt;&amp; more&lt;/i&gt;.</li>"
                               "<li>Second.</li></ul></section>")
    assert k.plain() == ["Grew by 91 million <i>& more</i>.", "Second."]
    assert repr(k) == "- Grew by 91 million <i>& more</i>.\n- Second."
    assert k._repr_markdown_() == "- Grew by **91 million** <i>& more</i>.\n- Second."
    start = '<section id="key-findings" class="hm-key-findings" lang="nb">'
    assert findings.block(["Eén."], "nb")._repr_html_().startswith(start)


def test_block_takes_one_to_five_sentences_in_a_known_language():
    with pytest.raises(ValueError, match="0 sentences; a page has 1 to 5"):
        KeyFindings([], "en")
    with pytest.raises(ValueError, match="6 sentences"):
        KeyFindings(["a."] * 6, "en")
    with pytest.raises(ValueError, match="parameter 'lang'"):
        KeyFindings(["a."], "de")


def test_word_count():
    assert word_count("Between **90.5 and 91.5** million, a rise of 47 %.") == 10  # "%" is a word as read
    assert word_count("   ") == 0


# ---------------------------------------------------------------- numbers in words

def test_digits_one_decimal_two_below_one_none_when_whole_or_from_a_thousand():
    assert digits_for(90.5, 91.5) == 1
    assert digits_for(82.0, 83.0) == 0  # whole at one decimal: "82 and 83"
    assert digits_for(0.78, 0.8) == 2
    assert digits_for(1234.5) == 0


def test_between_rounds_outwards_and_writes_the_locale():
    # the unexplained change of notebook 01: 1.4145 down to 1.4, 4.540659 up to 4.6 (never 4.5)
    assert between(1.4145, 4.540659, "en") == "between 1.4 and 4.6 million messages"
    assert between(1.4145, 4.540659, "nb") == "mellom 1,4 og 4,6 millioner meldinger"
    assert between(82.0, 83.0, "en", "percent") == "between 82 and 83 %"
    # counts of messages in millions: 8 892 175 down to 8.8, 14 597 370 up to 14.6
    assert between(8_892_175, 14_597_370, "en", "messages") == "between 8.8 and 14.6 million messages"
    assert between(12_000, 15_500, "en", "messages") == "between 12.0 and 15.5 thousand messages"
    assert between(120, 155, "nb", "messages") == "mellom 120 og 155 meldinger"


def test_between_says_one_number_when_both_ends_show_the_same():
    # an exact count of 9 195 309 messages (step 1): 9 195 308.5 to 9 195 309.5 is 9.2 million either way
    assert between(9_195_308.5, 9_195_309.5, "en", "messages", value=9_195_309) == "9.2 million messages"
    assert between(9_195_308.5, 9_195_309.5, "nb", "messages") == "9,2 millioner meldinger"


def test_hedge_words_in_plain_words():
    assert hedged(63, "over", "en") == "more than 63"
    assert hedged(3.4, "almost", "nb") == "nesten 3,4"
    assert hedged(200, "about", "en") == "about 200"
    assert hedged(284, "exact", "en") == "284"
    assert hedged(5, "no_such_word", "en") == "5"  # an unknown code reads as the figure alone


def test_every_code_the_findings_name_has_words_in_both_languages():
    """Ids built from codes (hedge words, models, drivers, units), which the literal-id scan cannot see."""
    for lang in LANGS:
        for q in catalogue.section(lang, "labels.qualifier"):
            assert catalogue.has(lang, f"findings.hedge.{q}"), (lang, q)
        for m in catalogue.section(lang, "trend.model"):
            assert catalogue.has(lang, f"findings.model.{m}"), (lang, m)
        for d in decompose.DEFAULT_DRIVERS:
            assert catalogue.has(lang, f"findings.driver.{d}") and catalogue.has(lang, f"findings.driver_short.{d}")
        for key in ("million", "thousand", "messages", "percent", "between", "single"):
            assert catalogue.has(lang, f"findings.range.{key}")
        for key in ("within", "above", "below"):
            assert catalogue.has(lang, f"findings.decompose.{key}")


# ---------------------------------------------------------------- each page's findings, on the published figures

def _published_findings(stem: str) -> dict[str, KeyFindings]:
    """The key findings of notebook `stem` in each language, computed here from the published figures as the
    notebook does (the analysis once, the words per language)."""
    data = hd.load_data("", "default")
    if stem == "00_data_overview":
        return {lang: overview.key_findings(data, lang) for lang in LANGS}
    if stem == "01_reproduce_2021":
        result, derived = claims.check_claims_result(data), claims.derived(data)
        return {lang: claims_report.key_findings(result, derived, lang) for lang in LANGS}
    if stem == "02_growth_decomposition":
        growth = decompose.contributions_result(data, 2020, 2021, convention="default")
        main_cf = decompose.counterfactual_variants_result(data, 2020, 2021)[0]
        return {lang: decompose_report.key_findings(growth, main_cf, lang) for lang in LANGS}
    pe = evidence.plateau_excess_steps(data, [2020, 2021], [20, 50], "default")
    sets = [["sysvak", "svarrapporter"], ["sysvak", "svarrapporter", "frikort"]]
    beside = evidence.beside_driver_sets(data, pe[pe["year"] == 2021].iloc[0], sets, 2020, 2021, "default")
    return {lang: evidence_report.key_findings(pe, beside, lang) for lang in LANGS}


@pytest.fixture(scope="module")
def published() -> dict:
    return {(stem, lang): found for stem in STEMS for lang, found in _published_findings(stem).items()}


def _plain_checks(k: KeyFindings) -> None:
    assert 1 <= len(k.sentences) <= findings.MAX_FINDINGS
    for s in k.plain():
        assert word_count(s) <= findings.MAX_WORDS, s
        assert "[" not in s and not BRACKETED_NUMBER.search(s), s
        assert not [w for w in JARGON if re.search(rf"\b{re.escape(w)}", s, 0 if w.isupper() else re.I)], s
        assert s[0].isupper() or s[0].isdigit() or s[0] in "«“", s
        assert s.endswith("."), s


@pytest.mark.parametrize("stem", STEMS)
def test_published_findings_are_plain_short_and_as_many_in_both_languages(published, stem):
    for lang in LANGS:
        _plain_checks(published[stem, lang])
    assert len(published[stem, "nb"].sentences) == len(published[stem, "en"].sentences)


def test_data_overview_findings_worked_by_hand(published):
    en, nb = published["00_data_overview", "en"].plain(), published["00_data_overview", "nb"].plain()
    assert en[0].startswith("The page “Elektronisk meldingsutveksling (Nasjonal e-helsemonitor)” gives 22 figures")
    # "284 millioner" printed to the million: half a step either side, 283.5 to 284.5
    assert en[1] == ("In 2021 the health network carried 284 million messages; the printed figure allows anything "
                     "between 283.5 and 284.5 million.")
    assert "between 192.5 and 193.5 million" in en[2] and "mellom 192,5 og 193,5 millioner" in nb[2]
    assert en[3].endswith("the page says only “about 200 million a year”.")
    assert nb[3].endswith("sier siden bare «rundt 200 millioner i året».")


def test_claims_findings_worked_by_hand(published):
    en, nb = published["01_reproduce_2021", "en"].plain(), published["01_reproduce_2021", "nb"].plain()
    assert en[0].startswith("All 22 statements on the page agree")
    # total change "91": 90.5 to 91.5; growth 90.5 / 193.5 = 46.77 % (down: 46.7) to 91.5 / 192.5 = 47.53 % (up: 47.6)
    assert "grew by between 90.5 and 91.5 million messages, a rise of between 46.7 and 47.6 %" in en[1]
    assert "mellom 90,5 og 91,5 millioner meldinger, en vekst på mellom 46,7 og 47,6 %" in nb[1]
    der = claims.derived(hd.load_data("", "default")).set_index("quantity")
    u = der.loc["unexplained_change@2020-2021"]
    assert f"Of the 91 million rise, between {' and '.join(ends(u['low'], u['high'], 'en'))} million" in en[2]
    # "over 82 prosent" caps the growth at 82-83 %; the printed 1.8 -> 3.4 would be 3.4 / 1.8 - 1 = 88.9 %
    assert "grew by between 82 and 83 %, not the 89 % that the rounded figures 1.8 and 3.4 million" in en[3]


def test_decompose_findings_worked_by_hand(published):
    en, nb = published["02_growth_decomposition", "en"].plain(), published["02_growth_decomposition", "nb"].plain()
    assert "grew by between 90.5 and 91.5 million messages" in en[0]
    # SYSVAK and result reports: "opp 58" + "opp 21" = 57.5 + 20.5 = 78 to 58.5 + 21.5 = 80
    assert en[1] == ("Most of the growth came from vaccination registrations (SYSVAK) and test results "
                     "(svarrapporter): together between 78 and 80 million messages.")
    # SYSVAK's share: 57.5 / 91.5 = 62.84 % (down: 62.8) to 58.5 / 90.5 = 64.64 % (up: 64.7)
    assert en[2].startswith("Vaccinations explain between 62.8 and 64.7 % of the growth")
    # without them: 283.5 - 80 = 203.5 to 284.5 - 78 = 206.5, inside "rundt 200" read as 190-210
    assert ("2021 would have had between 203.5 and 206.5 million messages, in line with the about 200 million"
            in en[3])
    assert "ville 2021 hatt mellom 203,5 og 206,5 millioner meldinger, på linje med rundt 200 millioner" in nb[3]
    growth = decompose.contributions_result(hd.load_data("", "default"), 2020, 2021).table.set_index("driver")
    other = growth.loc["other"]
    assert f"grew by between {' and '.join(ends(other['change_low'], other['change_high'], 'en'))} million" in en[4]


def test_evidence_findings_worked_by_hand(published):
    en, nb = published["03_trend_models", "en"].plain(), published["03_trend_models", "nb"].plain()
    # 2021 over "rundt 200" read as 190-210: 283.5 - 210 = 73.5 to 284.5 - 190 = 94.5
    assert en[0] == ("In 2021 the network carried between 73.5 and 94.5 million messages more than the earlier "
                     "level of about 200 million a year.")
    assert "yearly totals before 2020 are not published" in en[1]
    # the drivers' change 78-80 million; its share of the excess is at least 78 / 94.5 = 82.5 %: "most"
    assert "between 78 and 80 million messages, accounts for most of that excess" in en[2]
    # step 50 reads "rundt 200" as 175-225: 283.5 - 225 = 58.5 to 284.5 - 175 = 109.5
    assert ("from 175 to 225 million, 2021 lies between 58.5 and 109.5 million messages above it" in en[3])
    assert "fra 175 til 225 millioner, ligger 2021 mellom 58,5 og 109,5 millioner meldinger over det" in nb[3]


# ---------------------------------------------------------------- on other results, built by hand

def _series_file(tmp_path, rows: dict) -> pd.DataFrame:
    """A user's file of exact counts (synthetic test data): {(period, measure): value}."""
    frame = pd.DataFrame([{"period": p, "measure": m, "sender": "all", "receiver": "all", "value": v,
                           "source_id": "synthetic_test"} for (p, m), v in rows.items()])
    path = tmp_path / "synthetic_series.csv"
    frame.to_csv(path, index=False)
    return hd.load_data(str(path), "default")


def test_decompose_findings_on_a_user_series_worked_by_hand(tmp_path):
    data = _series_file(tmp_path, {(2020, "total"): 200e6, (2021, "total"): 260e6, (2020, "sysvak"): 5e6,
                                   (2021, "sysvak"): 45e6, (2020, "svarrapporter"): 20e6,
                                   (2021, "svarrapporter"): 30e6})
    growth = decompose.contributions_result(data, 2020, 2021)
    cf = decompose.counterfactual_variants_result(data, 2020, 2021)[0]
    en = decompose_report.key_findings(growth, cf, "en").plain()
    # 260 - 200 = 60 million, 60 / 200 = 30 %; SYSVAK 40 and result reports 10: 50 of the 60 ("most")
    assert en[0] == "From 2020 to 2021 the total grew by 60 million messages, a rise of 30 %."
    assert en[1].startswith("Most of the growth came from") and en[1].endswith("together 50 million messages.")
    # shares 40 / 60 = 66.7 % and 10 / 60 = 16.7 %; without them 260 - 50 = 210; the rest 60 - 50 = 10
    assert en[2] == "Vaccinations explain 66.7 % of the growth, test results 16.7 %."
    assert en[3] == "Without the growth in vaccinations and test results, 2021 would have had 210 million messages."
    assert en[4] == "All other messages, outside these areas, grew by 10 million messages."
    nb = decompose_report.key_findings(growth, cf, "nb")
    assert len(nb.sentences) == 5 and nb.plain()[2] == "Vaksinasjoner forklarer 66,7 % av veksten, prøvesvar 16,7 %."


def test_decompose_findings_on_a_fall(tmp_path):
    data = _series_file(tmp_path, {(2020, "total"): 200e6, (2021, "total"): 180e6, (2020, "sysvak"): 30e6,
                                   (2021, "sysvak"): 5e6})
    growth = decompose.contributions_result(data, 2020, 2021)
    cf = decompose.counterfactual_variants_result(data, 2020, 2021)[0]
    en = decompose_report.key_findings(growth, cf, "en").plain()
    # 180 - 200 = -20 million, -10 %; SYSVAK fell by 25 of it; the rest rose by 5
    assert en[0] == "From 2020 to 2021 the total fell by 20 million messages, a fall of 10 %."
    # a fall has no "most of the growth": SYSVAK's change, 5 - 30 = -25 million, said as a fall
    assert en[1] == "Vaccination registrations (SYSVAK) fell by 25 million messages in all."
    assert en[-1] == "All other messages, outside these areas, grew by 5 million messages."
    for k in (decompose_report.key_findings(growth, cf, lang) for lang in LANGS):
        _plain_checks(k)


def _excess(excess: float, lower: float, upper: float) -> pd.DataFrame:
    return pd.DataFrame({"row": ["total"], "excess": [excess], "excess_lower": [lower], "excess_upper": [upper]})


def test_trend_findings_worked_by_hand():
    series = pd.Series(np.arange(12.0) * 1e6 + 150e6, index=pd.period_range("2010", periods=12, freq="Y"))
    fc = pd.DataFrame({"period": pd.period_range("2022", periods=3, freq="Y"), "mean": [1.7e8, 1.75e8, 1.8e8],
                       "lower": [1.6e8, 1.62e8, 1.7412e8], "upper": [1.8e8, 1.85e8, 1.8201e8]})
    weak = ModelChoice("ets", automatic=True, n_predictions=4, weak=True, note=None)
    args = (series, _excess(11.77e6, 8.89e6, 14.59e6), weak, fc, (2010, 2019), [2020, 2021], 0.05)
    en = trend_report.key_findings(*args, "en").plain()
    assert en[0] == ("In 2020 and 2021 there were 11.8 million messages more than the earlier trend predicts; the "
                     "trend's 95 % range puts the excess between 8.8 and 14.6 million messages.")
    assert en[1] == ("The earlier trend is a smoothed line that flattens out, fitted to 2010–2019; it predicted "
                     "unseen years best, but only 4, so the choice is uncertain.")
    # the last forecast period: 174.12 down to 174.1, 182.01 up to 182.1
    assert en[2] == ("If the trend goes on, 2024 would see between 174.1 and 182.1 million messages; this is a "
                     "forecast, not a count.")
    nb = trend_report.key_findings(*args, "nb")
    assert "mellom 8,8 og 14,6 millioner meldinger" in nb.plain()[0] and len(nb.sentences) == 3
    # an excess whose range holds zero says so, in words: from 2.1 million fewer to 3.4 million more
    given = ModelChoice("linear", automatic=False, n_predictions=8, weak=False, note=None)
    unclear = trend_report.key_findings(series, _excess(0.6e6, -2.1e6, 3.4e6), given, fc, (2010, 2019), [2021],
                                        0.1, "en").plain()
    assert unclear[0] == ("In 2021 the total was close to what the earlier trend predicts: the trend's 90 % range "
                          "runs from 2.1 million messages fewer to 3.4 million messages more.")
    assert unclear[1] == "The earlier trend is a straight line, fitted to 2010–2019, as the parameters ask."
    below = trend_report.key_findings(series, _excess(-5e6, -7e6, -3e6), given, fc, (2010, 2019), [2021], 0.05, "en")
    assert "5 million messages fewer" in below.plain()[0] and "shortfall between 3 and 7 million" in below.plain()[0]
    for lang in LANGS:
        _plain_checks(trend_report.key_findings(*args, lang))


def test_claims_findings_where_the_check_does_not_apply_or_claims_disagree(tmp_path):
    for lang in LANGS:
        k = claims_report.key_findings(None, None, lang)
        assert len(k.sentences) == 1
        _plain_checks(k)
    frame = pd.read_csv(paths.PUBLISHED_CSV, dtype=str, keep_default_na=False)
    frame.loc[frame["figure_id"] == "sysvak_change", "value"] = "50"  # deliberately contradictory (synthetic)
    frame.to_csv(tmp_path / "contradictory_published.csv", index=False)
    result = claims.check_claims_result(hd.load_data(str(tmp_path / "contradictory_published.csv"), "default"))
    assert not result.consistent
    for lang in LANGS:
        k = claims_report.key_findings(result, None, lang)
        assert len(k.sentences) == 1
        _plain_checks(k)
    bad = int((~result.table["consistent"]).sum())
    assert k.plain()[0].startswith(f"{bad} of the 22 statements do not agree with the others: “")


# ---------------------------------------------------------------- the pages

def _section(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, HTML) of every key-findings output of an executed notebook."""
    return [(i, "".join(o["data"]["text/html"])) for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
            if "text/html" in o.get("data", {}) and 'id="key-findings"' in "".join(o["data"]["text/html"])]


def _items(section: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", section)]


def _check_page_order(nb: nbformat.NotebookNode, lang: str, published: bool) -> list[str]:
    """Title, data line, "Key findings", the block, the one main figure, "Details": return the findings."""
    from analysis.pipeline.report_html import select_for_data

    page = select_for_data(nb, published)
    cells = page.cells
    heads = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.strip() == HEADING[lang]]
    details = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(DETAILS[lang])]
    assert len(heads) == 1 and len(details) == 1 and heads[0] < details[0]
    shown = [(i, o) for i, c in enumerate(cells[:details[0]]) for o in c.get("outputs", [])
             if o.get("output_type") in ("display_data", "execute_result")]
    before = [o for i, o in shown if i < heads[0]]
    assert len(before) <= 1, "above the findings only the data line"
    after = [o for i, o in shown if i > heads[0]]
    assert 'id="key-findings"' in "".join(after[0]["data"].get("text/html", "")), "the block first"
    images = [o for o in after[1:] if {"image/png", "image/svg+xml"} & set(o["data"])]
    if published or image_count(page):
        assert len(images) == 1 and len(after) == 2, "then the page's one main figure, then Details"
    sections = _section(page)
    assert len(sections) == 1
    return _items(sections[0][1])


@pytest.mark.notebook
@pytest.mark.parametrize("stem", STEMS)
def test_each_page_opens_with_its_findings_and_one_figure(published_build, published, stem):
    counts = {}
    for lang in LANGS:
        shown = _check_page_order(published_build.notebook(stem, lang), lang, published=True)
        assert shown == published[stem, lang].plain(), "the page shows the findings of the results"
        counts[lang] = len(shown)
    assert counts["nb"] == counts["en"]


# synthetic test data, written by hand: the total and SYSVAK in 2019 and 2020, four rows; the suite's user series
# (conftest.USER_SERIES), so notebooks 00 and 01 run on it once for this module and the others
SYNTHETIC = USER_SERIES[1]


@pytest.mark.notebook
@pytest.mark.parametrize("stem", ["00_data_overview", "01_reproduce_2021", "02_growth_decomposition"])
def test_findings_on_a_user_series(executed, stem):
    params = {"start": 2019, "end": 2020} if stem == "02_growth_decomposition" else {}
    nb = executed(stem, "en", data=("synthetic_series.csv", SYNTHETIC), **params).nb
    shown = _check_page_order(nb, "en", published=False)
    _plain_checks(KeyFindings(shown, "en"))
    if stem == "01_reproduce_2021":
        assert shown == [catalogue.text("en", "findings.claims.not_applicable")]
    if stem == "00_data_overview":
        # 2 measures, 2019-2020, 4 rows; the 2020 total 193 000 000 (step 1) is 193 million
        assert shown[:2] == ["Your file holds 2 series (measures and flows) from 2019 to 2020, 4 rows in all.",
                             "In 2020 the file's total was 193 million messages."]
    if stem == "02_growth_decomposition":
        # 193 - 201 = -8 million, -8 / 201 = -3.98 %: "fell by 8 million messages, a fall of 4 %"
        assert shown[0] == "From 2019 to 2020 the total fell by 8 million messages, a fall of 4 %."


@pytest.mark.notebook
def test_trend_findings_on_a_full_series(executed):
    # the series of tests/test_trend.py::test_notebook_on_a_synthetic_full_series: the same execution
    data, parameters = trend_series()
    nb = executed("03_trend_models", "en", data=data, **parameters).nb
    shown = _check_page_order(nb, "en", published=False)
    _plain_checks(KeyFindings(shown, "en"))
    assert len(shown) == 3 and shown[0].startswith("In 2020 and 2021 ")
    assert shown[2].startswith("If the trend goes on, 2024 would see ")
