"""Pages for three audiences (briefing, teaching, solutions), key findings in the index, the two-page briefing
(HTML and PDF) and the teaching index, on small hand-made notebooks (the full build: tests/test_pages.py)."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis import paths
from analysis.pipeline import briefing, report_html, reports
from analysis.present import catalogue

FINDINGS = {
    "nb": ("Totalen var mellom 283 og 285 millioner meldinger.", "Vaksinemeldingene sto for det meste av veksten."),
    "en": ("The total was between 283 and 285 million messages.", "Vaccination messages made most of the growth."),
}


def findings_html(lang: str) -> str:
    items = "".join(f"<li>{f}</li>" for f in FINDINGS[lang])
    return f'<section id="key-findings" class="hm-key-findings" lang="{lang}"><ul>{items}</ul></section>'


def toy_notebooks(folder: Path, stem: str = "02_toy") -> None:
    """One notebook in nb/ and en/: key findings, a figure saved as 02_waterfall_<lang>, two exercises (tagged
    `exercise`) and a solution cell of each kind (tagged `solution`); it reads the published figures."""
    for lang in ("nb", "en"):
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": paths.KERNEL_NAME, "display_name": "Python (helsemeldinger)",
                                     "language": "python"}
        cells = [
            new_markdown_cell(f"# Toy {lang}\n\nFirst paragraph, an old-style summary."),
            new_code_cell(f'lang = "{lang}"\nexport_dir = ""'),
            new_code_cell("from IPython.display import HTML, display\n"
                          "from analysis import data as hd\n"
                          "frame = hd.load_data('')\n"
                          f"display(HTML({findings_html(lang)!r}))"),
            new_code_cell("import matplotlib.pyplot as plt\nfrom analysis.present import outputs\n"
                          "fig, ax = plt.subplots(figsize=(6, 3))\nax.bar(['a', 'b'], [193, 284])\n"
                          "ax.set_title('Toy figure')\noutputs.save_figure(fig, f'02_waterfall_{lang}', export_dir)"),
            new_markdown_cell("## Exercises\n\nEXERCISE-HEADING-MARKER"),
            new_markdown_cell("### Exercise 1\n\nEXERCISE-ONE-MARKER: add 193 and 91."),
            new_code_cell("print('SOLUTION-CODE-MARKER', 193 + 91)"),
            new_markdown_cell("SOLUTION-TEXT-MARKER: 193 + 91 = 284."),
        ]
        cells[1].metadata["tags"] = ["parameters"]
        for i in (4, 5):
            cells[i].metadata["tags"] = ["exercise"]
        for i in (6, 7):
            cells[i].metadata["tags"] = ["solution"]
        nb.cells = cells
        (folder / lang).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / lang / f"{stem}.ipynb")


@pytest.fixture(scope="module")
def toy_build(tmp_path_factory):
    """The toy notebook built once in both languages (fixed build time), with the run's printed output."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("toy")
    toy_notebooks(root / "notebooks")
    log = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(log):
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        code = reports.run(["--notebooks", str(root / "notebooks"), "--out", str(root / "out"),
                            "--build", str(root / "build"), "--jobs", "2"])
    assert code == 0, log.getvalue()
    return root / "out", log.getvalue()


# ---------------------------------------------------------------- without a kernel

def executed_like() -> nbformat.NotebookNode:
    """A notebook as papermill leaves it: findings, an exercise, a solution (code with output, and markdown)."""
    shown = new_output("display_data", data={"text/html": findings_html("en")})
    code = new_code_cell("show_findings_marker()", outputs=[shown])
    ex = new_markdown_cell("### Exercise 1\n\nEXERCISE-MARKER")
    ex.metadata["tags"] = ["exercise"]
    sol = new_code_cell("solve_marker()", outputs=[new_output("stream", name="stdout", text="SOLUTION-OUTPUT\n")])
    sol.metadata["tags"] = ["solution"]
    sol_md = new_markdown_cell("SOLUTION-PROSE")
    sol_md.metadata["tags"] = ["solution"]
    return new_notebook(cells=[new_markdown_cell("# T"), code, ex, sol, sol_md])


@pytest.mark.parametrize("audience, shown, hidden", [
    ("briefing", [], ["EXERCISE-MARKER", "SOLUTION-OUTPUT", "SOLUTION-PROSE", "solve_marker", "show_findings_marker"]),
    ("teaching", ["EXERCISE-MARKER", "show_findings_marker"], ["SOLUTION-OUTPUT", "SOLUTION-PROSE", "solve_marker"]),
    ("solutions", ["EXERCISE-MARKER", "SOLUTION-OUTPUT", "SOLUTION-PROSE", "solve_marker"], []),
])
def test_each_audience_sees_its_cells(audience, shown, hidden):
    page = report_html.export_html(executed_like(), with_code=audience != "briefing", audience=audience,
                                   title="T", lang="en")
    for marker in shown:
        assert marker in page, (audience, marker)
    for marker in hidden:
        assert marker not in page, (audience, marker)
    assert report_html.key_findings(page) == list(FINDINGS["en"])  # every audience keeps the findings
    assert report_html.read_meta(page)["helsemeldinger:audience"] == audience
    assert "@page" in page and "counter(pages)" in page and "break-inside: avoid" in page


def test_unknown_audience_is_refused():
    with pytest.raises(ValueError, match="audience 'students'"):
        report_html.select_audience(executed_like(), "students")


def test_key_findings_are_the_list_items_of_the_first_findings_block():
    page = ('<p>before</p><section id="key-findings" lang="nb"><ul><li>Én <b>fet</b>   ting &amp; mer.</li>'
            '<li>To<br>linjer</li><li> </li></ul><p>not an item</p></section>'
            '<section id="key-findings"><ul><li>second block</li></ul></section><ul><li>outside</li></ul>')
    assert report_html.key_findings(page) == ["Én fet ting & mer.", "To linjer"]
    assert report_html.key_findings("<ul><li>no block</li></ul>") == []
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("display_data", data={"text/html": "<p>other html</p>"}),
        new_output("display_data", data={"text/html": findings_html("nb")})])])
    assert report_html.notebook_findings(nb) == list(FINDINGS["nb"])


def test_figures_are_chosen_by_preference_then_by_name(tmp_path):
    for name in ("03_zeta_en", "01_totals_stack_en", "02_counterfactual_en", "00_alpha_en", "02_waterfall_nb"):
        (tmp_path / f"{name}.png").write_bytes(b"png")
    got = [p.name for p in briefing.choose_figures(tmp_path, "en")]
    assert got == ["02_counterfactual_en.png", "01_totals_stack_en.png"]  # no English waterfall here
    assert [p.name for p in briefing.choose_figures(tmp_path, "en", 4)] == [
        "02_counterfactual_en.png", "01_totals_stack_en.png", "00_alpha_en.png", "03_zeta_en.png"]
    assert [p.name for p in briefing.choose_figures(tmp_path, "nb")] == ["02_waterfall_nb.png"]
    assert briefing.choose_figures(tmp_path / "missing", "en") == []


def test_sources_are_the_rows_the_data_files_name(tmp_path):
    own = tmp_path / "own.csv"
    own.write_text("period;measure;sender;receiver;value;source_id\n2020;total;all;all;5;nhn_10_aar\n"
                   "2021;total;all;all;6;my_count\n2019;total;all;all;4;nhn_10_aar\n", encoding="utf-8")
    published = paths.PUBLISHED_CSV.relative_to(paths.PROJ_ROOT).as_posix()
    ids = briefing.source_ids([published, "data/sources.csv", str(own), "data/missing.csv"], own)
    assert len(ids) == len(set(ids)) and {"nhn_10_aar", "my_count"} <= set(ids)  # semicolons: the loader read it
    assert "ehelse_meldingsutveksling" in ids  # from the published figures
    assert "cw_meldinger_doblet" not in ids  # sources.csv names every source, but is not data
    rows, unknown = briefing.source_rows(["my_count", "nhn_10_aar", "ehelse_meldingsutveksling"])
    assert [r["source_id"] for r in rows] == ["ehelse_meldingsutveksling", "nhn_10_aar"]  # the file's order
    assert rows[1]["publisher"] == "Norsk helsenett" and unknown == ["my_count"]


def test_every_catalogue_id_of_the_handouts_exists_in_both_languages():
    ids = [*briefing.FIGURE_CAPTIONS.values(), *(part for _, _, part in briefing.CLASS_PLAN)]
    for lang in catalogue.LANGS:
        for msgid in ids:
            assert catalogue.text(lang, msgid).strip(), (lang, msgid)


def test_teaching_index_plans_90_minutes_and_links_what_exists(tmp_path):
    assert briefing.teaching_index_html(tmp_path) is None  # no teaching page of the plan: no index
    assert sum(minutes for _, minutes, _ in briefing.CLASS_PLAN) == 15 + 15 + 30 + 20 + 10 == 90
    for name in ("teaching/00_data_overview_nb.html", "teaching/00_data_overview_en.html",
                 "teaching/solutions/00_data_overview_nb.html", "teaching/02_growth_decomposition_en.html",
                 "briefing/briefing_en.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    page = briefing.teaching_index_html(tmp_path, built="2023-11-14T22:13:20Z")
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs == ["../index.html", "00_data_overview_nb.html", "solutions/00_data_overview_nb.html",
                     "00_data_overview_en.html", "02_growth_decomposition_en.html", "../briefing/briefing_en.html"]
    for lang in catalogue.LANGS:
        assert html.escape(catalogue.text(lang, "pages.teaching.part_02")) in page
    assert "<strong>90</strong>" in page and report_html.external_resources(page) == []


# ---------------------------------------------------------------- a toy build

def test_pages_of_each_audience_and_the_index_from_a_build(toy_build):
    out, _ = toy_build
    for lang in ("nb", "en"):
        brief, teach, sol = ((out / folder / f"02_toy_{lang}.html").read_text(encoding="utf-8")
                             for folder in ("briefing", "teaching", "teaching/solutions"))
        assert "EXERCISE-ONE-MARKER" not in brief and "EXERCISE-HEADING-MARKER" not in brief
        assert "EXERCISE-ONE-MARKER" in teach and "SOLUTION-CODE-MARKER" not in teach
        assert "SOLUTION-TEXT-MARKER" not in teach
        assert "SOLUTION-CODE-MARKER 284" in sol and "SOLUTION-TEXT-MARKER" in sol  # the solution ran
        for page in (brief, teach, sol):
            assert report_html.key_findings(page) == list(FINDINGS[lang])
            assert report_html.read_meta(page)["description"] == FINDINGS[lang][0]  # not the first paragraph
            assert report_html.external_resources(page) == []
    index = (out / "index.html").read_text(encoding="utf-8")
    for lang in ("nb", "en"):
        items = "".join(f"<li>{f}</li>" for f in FINDINGS[lang])
        assert f'<ul class="hm-findings" lang="{lang}">{items}</ul>' in index
        assert f'href="briefing/briefing_{lang}.html"' in index
    assert "old-style summary" not in index


def test_two_page_briefing_gathers_findings_figure_sources_and_provenance(toy_build):
    out, log = toy_build
    digest = hashlib.sha256(paths.PUBLISHED_CSV.read_bytes()).hexdigest()
    for lang in ("nb", "en"):
        page = (out / "briefing" / f"briefing_{lang}.html").read_text(encoding="utf-8")
        assert report_html.external_resources(page) == []
        assert report_html.key_findings(page) == list(FINDINGS[lang])
        assert f'<h3><a href="02_toy_{lang}.html">Toy {lang}</a></h3>' in page  # grouped, linked to the page
        assert page.count('<img src="data:image/png;base64,') == 1  # the one figure the toy saved
        assert catalogue.text(lang, "pages.briefing.figure_waterfall") in page
        assert catalogue.text(lang, "pages.briefing.limits") in page
        assert "Elektronisk meldingsutveksling (Nasjonal e-helsemonitor)" in page  # sources.csv's row
        assert "Om meldingstelleren" not in page  # a source the data files do not name
        assert digest in page and "2023-11-14T22:13:20Z" in page
        assert f"briefing/briefing_{lang}.html" in log
    if briefing.find_chromium() is None:
        assert "briefing_nb.pdf, briefing_en.pdf not written: no Chromium found" in log
        pytest.skip("no Chromium: the PDF is not printed")
    for lang in ("nb", "en"):
        pdf = out / "briefing" / f"briefing_{lang}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
        assert b"(D:20231114221320+00'00')" in pdf.read_bytes()  # the build time, not the printing time
        pages = briefing.pdf_pages(pdf)
        assert pages == 1  # so little fits on one page
        pypdf = pytest.importorskip("pypdf")
        assert len(pypdf.PdfReader(pdf).pages) == pages  # the page objects counted are the pages
        assert f"briefing_{lang}.pdf: " in log
    assert 'href="briefing/briefing_en.pdf"' in (out / "index.html").read_text(encoding="utf-8")


def test_the_same_page_prints_to_the_same_pdf(toy_build, tmp_path):
    chromium = briefing.find_chromium()
    if chromium is None:
        pytest.skip("no Chromium")
    out, _ = toy_build
    page = out / "briefing" / "briefing_en.html"
    # the build printed it (its build time: SOURCE_DATE_EPOCH 1700000000); a second Chromium run prints it again
    first = (out / "briefing" / "briefing_en.pdf").read_bytes()
    assert briefing.print_pdf(page, tmp_path / "b.pdf", chromium, "2023-11-14T22:13:20Z").read_bytes() == first


def test_without_chromium_one_line_says_how_to_install_it(toy_build, tmp_path, monkeypatch):
    import shutil

    out, _ = toy_build
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "briefing" / "briefing_nb.pdf").write_bytes(b"%PDF old")  # would no longer match the page
    monkeypatch.setenv("HM_CHROMIUM", "")
    notebooks = sorted((out.parent / "notebooks").glob("*/*.ipynb"))
    done = briefing.write_handouts(copy, notebooks, "2023-11-14T22:13:20Z", ("a" * 40, True))
    assert [p.relative_to(copy).as_posix() for p in done.pages] == [
        "briefing/briefing_nb.html", "briefing/briefing_en.html"]  # no notebook of the class plan: no index
    assert done.pdfs == [] and not list((copy / "briefing").glob("*.pdf"))
    assert done.notes == ["briefing_nb.pdf, briefing_en.pdf not written: no Chromium found; install Chromium "
                          "(Debian/Ubuntu: sudo apt-get install chromium) and run make report again"]  # one line
    page = (copy / "briefing" / "briefing_nb.html").read_text(encoding="utf-8")
    assert "a" * 40 in page and catalogue.text("nb", "pages.briefing.dirty") in page


def test_a_folder_without_findings_gets_no_briefing_and_loses_an_old_one(tmp_path):
    (tmp_path / "briefing").mkdir()
    page = report_html.export_html(new_notebook(cells=[new_markdown_cell("# T\n\nText.")]), with_code=False,
                                   title="T", lang="nb", notebook="10_x.ipynb")
    (tmp_path / "briefing" / "10_x_nb.html").write_text(page, encoding="utf-8")
    for old in ("briefing_nb.html", "briefing_nb.pdf"):
        (tmp_path / "briefing" / old).write_text("old", encoding="utf-8")
    done = briefing.write_handouts(tmp_path, [Path("10_x.ipynb")], "", (None, None), langs=["nb"])
    assert done.pages == [] and sorted(p.name for p in (tmp_path / "briefing").iterdir()) == ["10_x_nb.html"]


def test_one_browser_session_prints_each_page_as_the_command_line_does(toy_build, tmp_path):
    chromium = briefing.find_chromium()
    if chromium is None or not briefing.PrintSession.usable():
        pytest.skip("no Chromium, or no posix_spawn for a session")
    out, _ = toy_build
    pages = [out / "briefing" / f"briefing_{lang}.html" for lang in ("nb", "en")]
    with briefing.PrintSession(chromium) as session:  # started ahead; both pages in the same tab
        printed = [session.print_pdf(page, tmp_path / f"s_{page.stem}.pdf", "2023-11-14T22:13:20Z").read_bytes()
                   for page in pages]
    assert printed[0] != printed[1]
    for page, pdf in zip(pages, printed, strict=True):
        assert briefing.print_pdf(page, tmp_path / f"c_{page.stem}.pdf", chromium,
                                  "2023-11-14T22:13:20Z").read_bytes() == pdf


def test_a_browser_that_cannot_print_is_named_with_the_page(toy_build, tmp_path, monkeypatch):
    import shutil

    false = shutil.which("false")
    if false is None or not briefing.PrintSession.usable():
        pytest.skip("no false(1), or no posix_spawn for a session")
    out, _ = toy_build
    page = out / "briefing" / "briefing_en.html"
    session = briefing.PrintSession(false)
    with pytest.raises(RuntimeError, match=re.escape(str(page)) + r": Chromium did not print it \(Chromium ended"):
        session.print_pdf(page, tmp_path / "x.pdf")
    session.close()
    assert not (tmp_path / "x.pdf").exists()
    copy = tmp_path / "out"  # the handouts: the session fails, then the command line, each PDF said in one line
    shutil.copytree(out, copy)
    monkeypatch.setenv("HM_CHROMIUM", false)
    done = briefing.write_handouts(copy, sorted((out.parent / "notebooks").glob("*/*.ipynb")), "2023-11-15T00:00:00Z",
                                   (None, None), langs=["en"])
    assert [p.name for p in done.pages] == ["briefing_en.html"] and done.pdfs == []
    assert done.notes == [f"briefing_en.pdf not written: {copy / 'briefing' / 'briefing_en.html'}: Chromium wrote "
                          "no PDF (exit code 1)"]
    assert not (copy / "briefing" / "briefing_en.pdf").exists()


@pytest.mark.notebook
def test_a_change_in_one_language_writes_only_that_languages_briefing(tmp_path, monkeypatch, capsys):
    toy_notebooks(tmp_path / "notebooks")
    out = tmp_path / "out"
    cli = ["--notebooks", str(tmp_path / "notebooks"), "--out", str(out), "--build", str(tmp_path / "build")]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    assert reports.run(cli) == 0
    capsys.readouterr()
    handouts = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "briefing").glob("briefing_*")}
    assert {"briefing_nb.html", "briefing_en.html"} <= set(handouts)

    edited = tmp_path / "notebooks" / "en" / "02_toy.ipynb"
    nb = nbformat.read(edited, as_version=4)
    nb.cells[0].source += " Edited."
    nbformat.write(nb, edited)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # 2027-01-15T08:00:00Z
    assert reports.run(cli) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^  ok +02_toy_en ", printed, re.M) and re.search(r"^  up to date 02_toy_nb ", printed, re.M)
    assert "  briefing/briefing_en.html\n" in printed and "briefing/briefing_nb.html" not in printed
    assert "  two-page briefing (nb): up to date" in printed
    en = (out / "briefing" / "briefing_en.html").read_text(encoding="utf-8")
    assert "2027-01-15T08:00:00Z" in en and "2023-11-14T22:13:20Z" not in en
    for name, (content, mtime) in handouts.items():  # the Norwegian briefing (and its PDF) stand, build time and all
        if "_nb." in name:
            assert ((out / "briefing" / name).read_bytes(), (out / "briefing" / name).stat().st_mtime_ns) == \
                (content, mtime), name
    if "briefing_en.pdf" in handouts:  # printed again, from the new page
        assert b"(D:20270115080000+00'00')" in (out / "briefing" / "briefing_en.pdf").read_bytes()

    (out / "briefing" / "briefing_nb.html").unlink()  # every report up to date, but a briefing missing: written again
    assert reports.run(cli) == 0
    printed = capsys.readouterr().out
    assert "Summary: 0 rendered, 0 failed, 2 up to date" in printed and "  briefing/briefing_nb.html\n" in printed
    assert "2027-01-15T08:00:00Z" in (out / "briefing" / "briefing_nb.html").read_text(encoding="utf-8")
    assert "  two-page briefing (en): up to date" in printed
