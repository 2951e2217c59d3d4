"""The pages of a full build as readers get them: key findings on the first screen (in headless Chromium), the
index's summaries, the two-page briefing and its PDF (at most two A4 pages), teaching and solutions pages for
every notebook and language.

Every test here inspects ONE build of all notebooks (the suite's `published_build`, or a build of this module's
own when that fixture is not there). The browser tests drive the system's Chromium through playwright
(``executable_path``; ``playwright install`` is never run) and are skipped when either is missing; CI installs
Chromium (.ci/run).
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from analysis.pipeline import briefing, report_html
from conftest import LANGS, STEMS

FIRST_SCREEN = 900  # px: the key findings' top lies within the first screen of a 1280 px wide window
MAX_FINDINGS = 5


@pytest.fixture(scope="module")
def full_build(request, tmp_path_factory) -> tuple[Path, Path]:
    """(reports folder, executed-notebooks folder) of one build of every notebook in both languages."""
    try:
        build = request.getfixturevalue("published_build")
    except pytest.FixtureLookupError:
        from analysis.pipeline import reports

        root = tmp_path_factory.mktemp("full_build")
        code = reports.run(["--jobs", "2", "--out", str(root / "out"), "--build", str(root / "build")])
        assert code == 0
        return root / "out", root / "build"
    assert build.exit_code == 0, build.log
    return build.out, build.root / "build"


def chromium_path() -> str | None:
    """The system's Chromium, if any (the one the pipeline prints with)."""
    return briefing.find_chromium()


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by playwright; skips without Chromium or playwright."""
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium on this machine (CI installs it: .ci/run)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which(exe) or exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser, path: Path, fetched: list[str]):
    """Open `path` at 1280 x 900 with every request other than file: and data: refused (and recorded)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            return r.continue_()
        fetched.append(url)
        return r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return page


def page_paths(out: Path, folder: str = "briefing") -> list[Path]:
    """Every notebook's page in `folder`, both languages."""
    return [out / folder / f"{stem}_{lang}.html" for stem in STEMS for lang in LANGS]


def visible_text(page: str) -> str:
    """The text of an HTML page as one line: no tags, styles or scripts, entities decoded."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    body = re.sub(r"</?(p|li|ul|ol|h[1-6]|div|br|tr|td|th|table|section|pre)\b[^>]*>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body))).strip()  # inline tags: no space


def first_words(markdown: str, count: int = 6) -> str:
    """The first `count` words of a markdown cell's longest line of prose, as a page shows them."""
    lines = [re.sub(r"[*`]+", "", re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line.lstrip("#>-* 0123456789.")))
             for line in markdown.splitlines()]
    return " ".join(max(lines, key=len).split()[:count])


# ---------------------------------------------------------------- without a browser

def test_every_notebook_has_briefing_teaching_and_solutions_pages(full_build):
    out, executed = full_build
    for stem in STEMS:
        for lang in LANGS:
            pages = {f: (out / f / f"{stem}_{lang}.html").read_text(encoding="utf-8")
                     for f in ("briefing", "teaching", "teaching/solutions")}
            nb = nbformat.read(executed / lang / f"{stem}.ipynb", as_version=4)
            shown = [c for c in nb.cells if "own-data" not in c.get("metadata", {}).get("tags", [])]  # published
            tagged = {tag: [c for c in shown if tag in c.get("metadata", {}).get("tags", [])]
                      for tag in ("exercise", "solution")}
            assert tagged["exercise"] and tagged["solution"], f"{stem} ({lang}) has no exercises with solutions"
            text = {f: visible_text(p) for f, p in pages.items()}
            exercise = first_words(tagged["exercise"][-1].source)  # the last exercise's task
            assert exercise not in text["briefing"], (stem, lang)
            assert exercise in text["teaching"] and exercise in text["teaching/solutions"], (stem, lang, exercise)
            said = [c for c in tagged["solution"] if c.cell_type == "markdown"]
            if said:  # a worked solution in prose: for the teacher only
                solution = first_words(said[0].source)
                assert solution in text["teaching/solutions"], (stem, lang, solution)
                assert solution not in text["teaching"] and solution not in text["briefing"], (stem, lang)
            assert len(pages["teaching/solutions"]) > len(pages["teaching"])
            for page in pages.values():
                assert report_html.external_resources(page) == []


def test_solutions_ran_without_errors(full_build):
    _, executed = full_build
    for stem in STEMS:
        for lang in LANGS:
            nb = nbformat.read(executed / lang / f"{stem}.ipynb", as_version=4)
            for cell in nb.cells:
                if "solution" in cell.get("metadata", {}).get("tags", []) and cell.cell_type == "code":
                    assert cell.get("execution_count"), (stem, lang, cell.source[:60])  # it ran
                    assert not [o for o in cell.outputs if o.get("output_type") == "error"], (stem, lang)


def test_index_summaries_are_each_pages_key_findings(full_build):
    out, _ = full_build
    index = (out / "index.html").read_text(encoding="utf-8")
    for path in page_paths(out):
        page = path.read_text(encoding="utf-8")
        found = report_html.key_findings(page)
        assert 1 <= len(found) <= MAX_FINDINGS, path.name
        assert report_html.read_meta(page)["description"] == found[0]
        lang = path.stem.rsplit("_", 1)[1]
        items = "".join(f"<li>{html.escape(f)}</li>" for f in found)
        assert f'<ul class="hm-findings" lang="{lang}">{items}</ul>' in index, path.name
    for lang in LANGS:
        assert f'href="briefing/briefing_{lang}.html"' in index
    assert 'href="teaching/index.html"' in index


def test_two_page_briefing_holds_every_pages_findings_and_is_self_contained(full_build):
    out, _ = full_build
    for lang in LANGS:
        page = (out / "briefing" / f"briefing_{lang}.html").read_text(encoding="utf-8")
        assert report_html.external_resources(page) == []
        expected = [f for stem in STEMS for f in report_html.key_findings(
            (out / "briefing" / f"{stem}_{lang}.html").read_text(encoding="utf-8"))]
        assert report_html.key_findings(page) == expected
        for stem in STEMS:
            assert f'href="{stem}_{lang}.html"' in page
        assert page.count('<img src="data:image/png;base64,') == 2
        for figure in briefing.choose_figures(out / "figures", lang):
            assert html.escape(briefing.figure_caption(lang, figure)) in page
        assert "ehelse_meldingsutveksling" in page  # the source of the published figures


def test_teaching_index_links_every_teaching_and_solutions_page(full_build):
    out, _ = full_build
    page = (out / "teaching" / "index.html").read_text(encoding="utf-8")
    for stem in STEMS:
        for lang in LANGS:
            assert f'href="{stem}_{lang}.html"' in page and f'href="solutions/{stem}_{lang}.html"' in page
    assert report_html.external_resources(page) == []


def test_two_page_briefing_pdf_fits_on_two_a4_pages(full_build):
    out, _ = full_build
    if chromium_path() is None:
        pytest.skip("no Chromium: the PDF is not printed (CI installs it: .ci/run)")
    pypdf = pytest.importorskip("pypdf")
    for lang in LANGS:
        reader = pypdf.PdfReader(str(out / "briefing" / f"briefing_{lang}.pdf"))
        assert 1 <= len(reader.pages) <= 2, lang
        assert briefing.pdf_pages(out / "briefing" / f"briefing_{lang}.pdf") == len(reader.pages)  # the build's count
        box = reader.pages[0].mediabox
        assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4
        text = " ".join(p.extract_text() for p in reader.pages)
        assert " / " in text  # the page numbers of the @page margin box ("1 / 2")


# ---------------------------------------------------------------- in a browser

def test_key_findings_lie_within_the_first_screen(full_build, browser):
    out, _ = full_build
    for path in [*page_paths(out), *(out / "briefing" / f"briefing_{lang}.html" for lang in LANGS)]:
        fetched: list[str] = []
        page = open_page(browser, path, fetched)
        box = page.evaluate("""() => { const s = document.getElementById('key-findings');
            if (!s) return null; const r = s.getBoundingClientRect();
            return {top: r.top + window.scrollY, items: s.querySelectorAll('li').length}; }""")
        page.close()
        assert box is not None, f"{path.name}: no #key-findings"
        assert box["top"] <= FIRST_SCREEN, f"{path.name}: key findings start at {box['top']:.0f} px"
        if not path.stem.startswith(briefing.BRIEFING_STEM):
            assert 1 <= box["items"] <= MAX_FINDINGS, path.name
        assert fetched == [], f"{path.name} fetched {fetched}"


def test_print_hides_navigation_and_keeps_figures_whole(full_build, browser):
    out, _ = full_build
    fetched: list[str] = []
    page = open_page(browser, out / "teaching" / "index.html", fetched)
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.hm-nav')).display") == "none"
    page.close()
    page = open_page(browser, out / "briefing" / f"{STEMS[0]}_en.html", fetched)
    page.emulate_media(media="print")
    styles = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output img, #key-findings')]
        .map(e => getComputedStyle(e).breakInside)""")
    page.close()
    assert styles and set(styles) == {"avoid"}
    assert fetched == []
