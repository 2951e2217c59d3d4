"""Notebook 00 (data overview) and analysis.present.overview: what a reader sees, in both languages."""

import html
import json

import pandas as pd
import pytest

from analysis.data import load_published, load_sources
from analysis.pipeline.report_html import select_for_data
from conftest import LANGS, USER_SERIES, image_count, notebook_file, outputs_text


def page_text(nb, published: bool) -> str:
    """What a page of a run on that kind of data shows: the outputs and markdown of the cells it keeps."""
    kept = select_for_data(nb, published)
    return outputs_text(kept) + "\n" + "\n".join(c.source for c in kept.cells if c.cell_type == "markdown")


@pytest.mark.notebook
def test_data_overview_shows_published_figures(published_build):
    nb = published_build.notebook("00_data_overview", "en")
    text = outputs_text(nb)
    for phrase in ("over 63 millioner", "nesten 3,4 millioner", "rundt 200 millioner", "(63, 64)", "[3.35, 3.4)"):
        assert phrase in text
    assert image_count(nb) == 2
    # the sentences are generated from the data: 22 figures on the page, all citing one source
    assert "**Data:** the published figures · **rows:** 22 · **convention:** `default`" in text
    assert "Source of every row: `ehelse_meldingsutveksling` (see Sources below)." in text
    page = page_text(nb, published=True)
    assert "One row per number on the page" in page and "Bars show the printed value" in page
    for own_only in ("One row per measure and flow in the file", "Only what the file holds"):
        assert own_only not in page, own_only


@pytest.mark.notebook
def test_data_overview_in_norwegian_with_whole_sources(published_build):
    nb = published_build.notebook("00_data_overview", "nb")
    text = outputs_text(nb)
    # headers and values in Norwegian, decimal commas, intervals with their brackets
    for phrase in ("Forbehold", "Intervall", "millioner meldinger", "nesten", "[23,45; 23,55)", "(63; 64)",
                   "[x − 0,5·u; x + 0,5·u)"):
        assert phrase in text, phrase
    # the reader's tables; a solution (teacher's page) shows the data frame as the student's own code makes it,
    # with the schema's column names and decimal points, so it is left out of this check
    reader = outputs_text(nb, without_tags=("solution",))
    for english in ("figure_id", "low_steps", "growth_percent", "relative_tolerance", "23.45"):
        assert english not in reader, english
    # every cited source with its whole title and address, as a link (nothing cut with "…")
    src = load_sources().set_index("source_id").loc["ehelse_meldingsutveksling"]
    assert f'<a href="{src["url"]}">{src["url"]}</a>' in text
    assert html.escape(src["title"]) in text
    assert "…" not in text
    # the export keeps the machine-readable table: English codes, decimal points, closedness
    exported = published_build.out / "tables" / "00_figures_nb.csv"  # the build's export_dir is its reports folder
    assert exported in published_build.written("00_data_overview", "nb")
    table = pd.read_csv(exported)
    row = table.set_index("figure_id").loc["frikort_egenandel_2020"]
    assert (row["qualifier"], row["low"], row["high"], row["low_closed"], row["high_closed"]) == (
        "exact", 23.45, 23.55, True, False)
    assert "til nesten 3,4 millioner i 2021" in set(table["wording"])


@pytest.mark.notebook
def test_data_overview_on_a_user_series_says_nothing_about_the_page(executed):
    run = executed("00_data_overview", "en", data=USER_SERIES)  # synthetic: total and SYSVAK, 2019 and 2020
    nb, p = run.nb, run.data_path
    text = page_text(nb, published=False)  # what the page of this run shows (outputs and markdown)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert image_count(nb) == 1
    for published_only in ("One row per number on the page", "Bars show the printed value",
                           "The page's chart", "whiskers", "kept exactly as printed"):
        assert published_only not in text, published_only
    assert "One row per measure and flow in the file" in text and "Only what the file holds" in text
    assert f"**Data:** `{p}` · **rows:** 4 · **convention:** `default`" in text
    assert "The file has 4 rows from 2019 to 2020" in text
    assert "SYSVAK (vaccination register)" in text  # readable measure names, not codes
    assert "394,000,000" in text  # the total's sum 201 000 000 + 193 000 000, grouped in en
    assert "`synthetic_test`" in text  # a source id that data/sources.csv does not hold is named


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", ["00_data_overview", "01_reproduce_2021"])
def test_titles_and_summaries_hold_for_any_data(stem, lang):
    doc = json.loads(notebook_file(stem, lang).read_text(encoding="utf-8"))
    summary = doc["metadata"]["helsemeldinger"]["summary"]
    assert isinstance(summary, str), "one summary, in the file's language"
    own_file = {"nb": ("en egen ",), "en": ("of your own", "your own file")}[lang]
    assert any(words in summary for words in own_file), summary  # says what a user file gets
    # the page title is the first heading a reader sees: it must not say the data are the published figures
    first = next("".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "markdown")
    title = first.splitlines()[0]
    assert title.startswith("# "), title
    for claim in ("publisert", "published", "2021 figures", "Tallene for 2021"):
        assert claim not in title, title


def test_series_figure_in_millions_with_readable_labels():
    from analysis.present.overview import plot_series, series_scale

    frame = pd.DataFrame({  # synthetic: two yearly measures, counts in messages
        "period": pd.PeriodIndex(["2019", "2020", "2019", "2020"], freq="Y"),
        "measure": ["total", "total", "plo", "plo"], "sender": ["all", "all", "fastlege", "fastlege"],
        "receiver": ["all", "all", "kommune", "kommune"], "value": [201e6, 193e6, 1.8e6, 3.4e6]})
    frame["low"], frame["high"] = frame["value"], frame["value"]
    assert series_scale(frame["value"]) == (1e6, "million")
    assert series_scale(pd.Series([4500.0])) == (1e3, "thousand") and series_scale(pd.Series([12.0])) == (1.0, "one")
    fig = plot_series(frame, "nb")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "millioner meldinger per år"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Alle medisinske meldinger",
                                                                  "PLO: fastlege → kommune"]
    # the lines are drawn in millions: 201e6 / 1e6 = 201
    assert max(max(line.get_ydata()) for line in ax.get_lines()) == pytest.approx(201)
    assert ax.yaxis.get_offset_text().get_text() == ""


def test_category_labels_keep_words_whole():
    from analysis.data import load_published
    from analysis.present.overview import plot_categories

    fig = plot_categories(load_published(), "nb")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert any("(vaksinasjonsregisteret)" in lab for lab in labels)  # one whole word on its own line


def test_sentences_carry_the_data_values():
    from analysis.present import overview

    frame = pd.DataFrame({  # synthetic: a monthly series of three rows from two sources
        "period": pd.PeriodIndex(["2021-01", "2021-02", "2021-03"], freq="M"), "measure": "total",
        "sender": "all", "receiver": "all", "value": [1.0, 2.0, 3.0], "source_id": ["mine", "mine", "other"]})
    assert overview.data_line(frame, "nb", path="data/x.csv", convention="wide") == (
        "**Data:** `data/x.csv` · **rader:** 3 · **intervallkonvensjon:** `wide`\n\n"
        "Filen har 3 rader fra 2021-01 til 2021-03, i antall meldinger. Et intervall kommer fra kolonnene "
        "`qualifier` og `step`; uten dem er hvert tall et helt antall meldinger (steg 1).")
    assert overview.source_line(frame, "en") == "The column Source says where each row comes from (see Sources below)."
    assert overview.unknown_sources(frame) == ["mine", "other"]  # neither is in data/sources.csv
    assert overview.unknown_sources_line(["mine", "other"], "en").endswith(": `mine`, `other`")
    published = load_published()
    assert overview.unknown_sources(published) == []
    assert overview.source_line(published, "nb") == ("Kilde for alle radene: `ehelse_meldingsutveksling` "
                                                     "(se Kilder nedenfor).")


def test_reader_tables_in_each_language():
    from analysis.present import overview

    data = load_published()
    nb, en = overview.figures_display(data, "nb"), overview.figures_display(data, "en")
    assert "Måling" in nb and "Paraphrase" in en and "Measure" not in en  # en shows the page's own paraphrase
    row = nb.set_index("id").loc["plo_fastlege_kommune_2021"]
    assert (row["Måling"], row["Forbehold"], row["Enhet"], row["Intervall"]) == (
        "PLO: fastlege → kommune", "nesten", "mill.", "[3,35; 3,4)")
    assert en.set_index("id").loc["plo_fastlege_kommune_growth", "Unit"] == "%"
    # the interval is kept on one line, named explicitly (no DataFrame.attrs)
    assert not overview.figures_display(data, "en").attrs
    assert "white-space: nowrap" in overview.figures_view(data, "en").to_html()
    # the convention with a relative tolerance of 1 %: x = 100 · 0.01
    conv = overview.convention_display("rel:0.01", "nb")
    assert list(conv["Relativ toleranse"].unique()) == ["1 %"]
    assert conv.set_index("Forbehold").loc["over", "Intervall"] == "(x; x + 1·u)"
    assert overview.convention_display("default", "en").set_index("Hedge word").loc[
        "almost", "Interval"] == "[x − 0.5·u, x)"
