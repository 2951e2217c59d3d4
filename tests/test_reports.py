"""The report pipeline: self-contained HTML for two audiences and two languages, provenance, index, errors.

Most tests run small notebooks written into tmp_path (so the real reports/ is never touched); one builds
notebook 00 end to end serially and compares it with the suite's published build (every notebook, --jobs 2),
for determinism and parallel equality.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis import paths
from analysis.errors import DataError
from analysis.pipeline import provenance, render, report_html, reports
from conftest import LANGS, STEMS, pipeline_run

# No test here reads a two-page briefing's PDF (test_briefing.py and test_pages.py do): builds print none.
pytestmark = pytest.mark.without_chromium

PARAMS = 'data_path = ""\nlang = "nb"\nexport_dir = ""'


def write_notebook(folder: Path, stem: str, cells: list, metadata: dict | None = None) -> Path:
    """Write a notebook from (kind, source[, tags]) tuples, with the project's kernelspec."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": paths.KERNEL_NAME, "display_name": "Python (helsemeldinger)",
                                 "language": "python"}
    nb.metadata.update(metadata or {})
    for kind, source, *tags in cells:
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        if tags:
            cell.metadata["tags"] = list(tags[0])
        nb.cells.append(cell)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, path)
    return path


def ok_notebook(folder: Path, stem: str = "10_ok") -> Path:
    """A trivial notebook with the three standard parameters that reads `data_path` when given."""
    return write_notebook(folder, stem, [
        ("md", "# Tittel med æøå ÆØÅ\n\nFørste avsnitt om blåbær. Andre setning."),
        ("code", PARAMS, ["parameters"]),
        ("code", "code_only_marker = 1\n"
                 "text = open(data_path, encoding='utf-8').read() if data_path else ''\n"
                 "print('språk=' + lang, len(text))"),
        ("md", "## Nynorsk?\n\nBerre bokmål her.", ["lang-nb"]),
        ("md", "## English only\n\nThis cell is for English readers.", ["lang-en"]),
    ])


def failing_notebook(folder: Path, stem: str = "20_fails") -> Path:
    """A notebook whose second cell raises."""
    return write_notebook(folder, stem, [
        ("md", "# Feiler"),
        ("code", PARAMS, ["parameters"]),
        ("code", "raise ValueError('planned failure for the test')"),
    ])


def plain_notebook(folder: Path, stem: str = "30_plain") -> Path:
    """A notebook without any parameters cell: rendered once, no lang."""
    return write_notebook(folder, stem, [("md", "# Plain\n\nNo parameters."), ("code", "print(6 * 7)")])


def build(tmp: Path, nbdir: Path, *extra: str) -> int:
    """Run the pipeline on `nbdir` into tmp/out and tmp/build; return the exit code."""
    return reports.run(["--notebooks", str(nbdir), "--out", str(tmp / "out"), "--build", str(tmp / "build"),
                        *extra])


def synthetic_series(path: Path) -> Path:
    """A small synthetic series in the tidy schema (fixed seed), labelled synthetic."""
    rng = np.random.default_rng(20240601)
    values = np.round(1000 + np.cumsum(rng.integers(10, 50, size=4))).astype(int)
    rows = [f"{2018 + i},total,all,all,{v},synthetic_test" for i, v in enumerate(values)]
    path.write_text("period,measure,sender,receiver,value,source_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- pure functions

def test_external_resources_finds_loads_but_not_links():
    page = """<html><head>
    <script src="https://cdn.example.org/require.js"></script>
    <link rel="stylesheet" href="//fonts.example.org/font.css">
    <link rel="icon" href="favicon.ico">
    <style>@import "theme.css"; body { background: url('https://x.example/bg.png'); }
      .ok { background: url("data:image/png;base64,AAAA"); }</style>
    <meta http-equiv="refresh" content="0; url=https://x.example/">
    </head><body>
    <img src="http://x.example/a.png"><img src="data:image/png;base64,iVBOR">
    <img srcset="data:image/png;base64,AA 1x, pic-2x.png 2x">
    <div style="background-image: url(local.png)"></div>
    <a href="https://www.ehelse.no/some/source">a source in the text</a>
    <svg><use xlink:href="#glyph1"></use><image href="http://x.example/i.svg"></image></svg>
    <script>var s = "not a resource: https://example.org";</script>
    </body></html>"""
    found = report_html.external_resources(page)
    joined = "\n".join(found)
    for ref in ("require.js", "//fonts.example.org/font.css", "favicon.ico", "theme.css", "bg.png",
                "refresh", "http://x.example/a.png", "pic-2x.png", "local.png", "http://x.example/i.svg"):
        assert ref in joined, ref
    assert len(found) == 10
    assert "ehelse.no" not in joined and "data:" not in joined and "#glyph1" not in joined


def test_title_and_summary_from_markdown_and_metadata():
    nb = new_notebook(cells=[
        new_code_cell("x = 1"),
        new_markdown_cell("Some text before.\n\n# 01 · *Første* tittel\n\nDette er [første](http://a.b) "
                          "setning. Dette er den andre.\n\n## Under"),
    ])
    assert report_html.notebook_title(nb) == "01 · Første tittel"
    assert report_html.notebook_summary(nb, "nb") == "Dette er første setning."
    nb.metadata["helsemeldinger"] = {"summary": {"nb": "Kort på norsk.", "en": "Short in English."}}
    assert report_html.notebook_summary(nb, "en") == "Short in English."
    assert report_html.notebook_title(new_notebook(), "fallback") == "fallback"


def test_heading_from_generated_markdown_output_counts():
    cell = new_code_cell("display(Markdown(...))")
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/markdown": "# Generert tittel\n\nTekst."})]
    nb = new_notebook(cells=[cell])
    assert report_html.notebook_title(nb) == "Generert tittel"
    assert report_html.notebook_summary(nb) == "Tekst."


def test_pages_do_not_carry_random_ids_of_styled_tables():
    import pandas as pd

    frame = pd.DataFrame({"år": [2020, 2021], "verdi": [193, 284]})
    pages, tables = [], []
    for _ in range(2):
        cell = new_code_cell("frame.style", id="fixed-cell-id")
        tables.append(frame.style.to_html())  # pandas gives each Styler a random id, e.g. T_3f9a1
        cell.outputs = [nbformat.v4.new_output("execute_result", {"text/html": tables[-1]}, execution_count=1)]
        pages.append(report_html.export_html(new_notebook(cells=[cell]), with_code=False, title="t", lang="nb"))
    assert tables[0] != tables[1]
    assert pages[0] == pages[1]
    assert '<table id="T_hm001"' in pages[0] and 'id="T_hm001_level0_col0"' in pages[0]


def test_select_language_drops_the_other_languages_cells():
    nb = new_notebook(cells=[new_markdown_cell("both"), new_markdown_cell("nb"), new_markdown_cell("en")])
    nb.cells[1].metadata["tags"] = ["lang-nb"]
    nb.cells[2].metadata["tags"] = ["lang-en"]
    assert [c.source for c in report_html.select_language(nb, "nb").cells] == ["both", "nb"]
    assert [c.source for c in report_html.select_language(nb, "en").cells] == ["both", "en"]
    assert len(report_html.select_language(nb, None).cells) == 3


def test_write_atomic_keeps_old_file_when_replace_fails(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        report_html.write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left behind


def test_sha256_build_time_and_convention_rules(tmp_path, monkeypatch):
    f = tmp_path / "abc.txt"
    f.write_bytes(b"abc")
    # FIPS 180-2 test vector for "abc"
    assert provenance.sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(86400 + 3600))
    assert provenance.build_time() == "1970-01-02T01:00:00Z"
    assert provenance.build_time(dt.datetime(2024, 5, 17, 12, 0, 5, 123, tzinfo=dt.UTC)) == "2024-05-17T12:00:05Z"
    name, rules = provenance.convention_rules("rel:0.01")
    assert name == "rel:0.01" and rules[-1] == "± 0.01·x"
    assert provenance.convention_rules("default")[1][0].startswith("exact [")


def test_parse_overrides_coerces_to_declared_types():
    declared = {"lang": "nb", "n_draws": 1000, "alpha": 0.05, "log": False}
    got = reports.parse_overrides(["lang=en", "n_draws=20", "alpha=1", "log=True"], declared)
    assert got == {"lang": "en", "n_draws": 20, "alpha": 1.0, "log": True}
    assert reports.parse_overrides(["lang=1"], declared) == {"lang": "1"}  # text parameter keeps the text
    # another type is passed on (some notebooks take a year or a month), the text kept as text
    assert reports.parse_overrides(["n_draws=2019-03", "alpha=[1, 2]"], declared) == {
        "n_draws": "2019-03", "alpha": [1, 2]}
    with pytest.raises(DataError, match=r"unknown parameter; the notebooks take \['alpha', 'lang', 'log', 'n_draws'\]"):
        reports.parse_overrides(["colour=red"], declared)
    with pytest.raises(DataError, match="name=value"):
        reports.parse_overrides(["lang"], declared)


def test_git_commit_in_a_clone_and_outside(tmp_path):
    if (paths.PROJ_ROOT / ".git").exists():
        commit, dirty = provenance.git_commit()
        assert re.fullmatch(r"[0-9a-f]{40}", commit) and isinstance(dirty, bool)
    assert provenance.git_commit(tmp_path) == (None, None)


def test_kernel_managers_use_unique_unix_sockets():
    a = render.IpcKernelManager(kernel_name=paths.KERNEL_NAME)
    b = render.IpcKernelManager(kernel_name=paths.KERNEL_NAME)
    if os.name == "nt":
        pytest.skip("no ipc transport on Windows")
    assert a.transport == b.transport == "ipc"
    assert a.ip != b.ip and len(a.ip) < 100  # a Unix socket path must stay under ~107 bytes


# ---------------------------------------------------------------- errors before any kernel starts

def test_unknown_parameter_is_an_error_listing_valid_ones(tmp_path, capsys):
    ok_notebook(tmp_path / "notebooks")
    assert build(tmp_path, tmp_path / "notebooks", "-p", "langauge=en") == reports.EXIT_USAGE
    err = capsys.readouterr().err
    assert "langauge" in err and "['data_path', 'export_dir', 'lang']" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "build").exists()  # nothing ran


@pytest.mark.parametrize("args, message", [
    (["-p", "lang=de"], "'de' is not supported"),
    (["--only", "99_missing"], "no notebook named ['99_missing']"),
    (["--jobs", "0"], "--jobs 0"),
])
def test_bad_arguments_stop_before_running(tmp_path, capsys, args, message):
    ok_notebook(tmp_path / "notebooks")
    assert build(tmp_path, tmp_path / "notebooks", *args) == reports.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert not (tmp_path / "build").exists()


def test_bad_data_file_stops_with_loaders_error_and_leaves_reports(tmp_path, capsys):
    ok_notebook(tmp_path / "notebooks")
    old = tmp_path / "out" / "briefing" / "10_ok_nb.html"
    old.parent.mkdir(parents=True)
    old.write_text("previous good report", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("period,measure,value\n2020,total,5\n", encoding="utf-8")
    assert build(tmp_path, tmp_path / "notebooks", "--data", str(bad)) == reports.EXIT_USAGE
    err = capsys.readouterr().err
    assert "bad.csv: missing column(s) ['sender', 'receiver']" in err
    assert old.read_text(encoding="utf-8") == "previous good report"
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["10_ok_nb.html", "briefing"]
    assert not (tmp_path / "build").exists()


def test_list_shows_parameters_with_defaults(tmp_path, capsys):
    ok_notebook(tmp_path / "notebooks")
    plain_notebook(tmp_path / "notebooks")
    assert build(tmp_path, tmp_path / "notebooks", "--list") == 0
    out = capsys.readouterr().out
    assert re.search(r'^10_ok\n  data_path  = ""\s+\(str\)\n  lang       = "nb"\s+\(str\)', out, re.MULTILINE), out
    assert "30_plain\n  (no parameters)" in out
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- batches of small notebooks

@pytest.mark.notebook
def test_batch_writes_both_audiences_languages_index_and_footer(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    ok_notebook(nbdir)
    plain_notebook(nbdir)
    data = synthetic_series(tmp_path / "synthetic_series.csv")
    assert build(tmp_path, nbdir, "--jobs", "2", "--data", str(data)) == 0
    out = tmp_path / "out"
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert names == ["briefing/10_ok_en.html", "briefing/10_ok_nb.html", "briefing/30_plain.html", "index.html",
                     "teaching/10_ok_en.html", "teaching/10_ok_nb.html", "teaching/30_plain.html",
                     "teaching/solutions/10_ok_en.html", "teaching/solutions/10_ok_nb.html",
                     "teaching/solutions/30_plain.html"]
    assert (tmp_path / "build" / "nb" / "10_ok.ipynb").exists()
    assert (tmp_path / "build" / "all" / "30_plain.ipynb").exists()

    pages = {n: (out / n).read_text(encoding="utf-8") for n in names}
    for name, page in pages.items():
        assert report_html.external_resources(page) == [], name
    nb_brief, nb_teach, en_brief = (pages["briefing/10_ok_nb.html"], pages["teaching/10_ok_nb.html"],
                                    pages["briefing/10_ok_en.html"])
    assert "<title>Tittel med æøå ÆØÅ</title>" in nb_brief and '<html lang="nb">' in nb_brief
    assert "språk=nb" in nb_brief and "språk=en" in en_brief  # the lang parameter reached the kernel
    assert "Berre bokmål her." in nb_brief and "English readers" not in nb_brief
    assert "English readers" in en_brief and "Berre bokmål" not in en_brief
    assert "code_only_marker" not in nb_brief and "code_only_marker" in nb_teach  # code only when teaching
    assert "HELSEMELDINGER-DATA-FILES" not in nb_teach  # the audit cells are not shown

    # footer: the data file the notebook opened, with its sha256 worked out here, and the parameters used
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    for page in (nb_brief, nb_teach, en_brief):
        footer = page[page.index('<footer class="hm-provenance"'):]
        assert "synthetic_series.csv" in footer and digest in footer
        assert "lang = " in footer and ("Bygget" in footer or "Built" in footer)
    assert "<dt>Intervallkonvensjon</dt>" in nb_brief and "<dt>Interval convention</dt>" in en_brief
    plain = pages["briefing/30_plain.html"]
    assert "42" in plain and "no data files read" in plain

    index = pages["index.html"]
    for href in ("briefing/10_ok_nb.html", "briefing/10_ok_en.html", "briefing/30_plain.html",
                 "teaching/10_ok_nb.html", "teaching/30_plain.html"):
        assert f'href="{href}"' in index
    assert index.count(">Tittel med æøå ÆØÅ</a>") == 2 and "Første avsnitt om blåbær." in index
    progress = capsys.readouterr().out
    assert "[3/3]" in progress and "Summary: 3 rendered, 0 failed" in progress


@pytest.mark.notebook
def test_failing_notebook_keeps_previous_html_and_batch_exits_nonzero(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    ok_notebook(nbdir)
    failing_notebook(nbdir)
    out = tmp_path / "out"
    previous = {}
    for audience in ("briefing", "teaching"):
        page = out / audience / "20_fails_nb.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<html><head><meta name="helsemeldinger:notebook" content="20_fails.ipynb">'
                        f"<title>Old good {audience}</title></head></html>", encoding="utf-8")
        previous[page] = page.read_text(encoding="utf-8")
    assert build(tmp_path, nbdir, "-p", "lang=nb") == reports.EXIT_FAILED
    for page, text in previous.items():
        assert page.read_text(encoding="utf-8") == text
    assert (out / "briefing" / "10_ok_nb.html").exists()  # the other notebook still rendered
    assert not (out / "briefing" / "10_ok_en.html").exists()  # -p lang=nb renders one language
    captured = capsys.readouterr()
    assert "Summary: 1 rendered, 1 failed" in captured.out
    assert "ValueError: planned failure for the test" in captured.err
    assert (tmp_path / "build" / "nb" / "20_fails.ipynb").exists()  # the executed copy shows the error
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Old good briefing" in index and "The last build failed" in index
    assert list(out.rglob("*.tmp")) == []


# ---------------------------------------------------------------- notebook 00 end to end

@pytest.mark.notebook
def test_notebook_00_end_to_end_serial_and_parallel_identical(tmp_path, published_build):
    """Notebook 00 built alone and serially (--jobs 1) against the published build (every notebook, --jobs 2,
    so 00's kernels ran beside others): the same files, byte for byte. Both builds fix the time
    (SOURCE_DATE_EPOCH) and the footer's commit (others may commit between them; git_commit is tested on its
    own above), see conftest.pipeline_run."""
    assert published_build.exit_code == 0, published_build.log
    assert pipeline_run(tmp_path, "--only", "00_data_overview", "--jobs", "1") == 0, (tmp_path / "log.txt").read_text()
    serial, parallel = tmp_path / "out", published_build.out
    shared = ("index.html", reports.STATE_FILE)  # about every notebook of a build, compared below
    # the two-page briefings and the teaching index are about every notebook too (tests/test_pages.py)
    shared += (*(f"briefing/briefing_{lang}.{ext}" for lang in ("nb", "en") for ext in ("html", "pdf")),
               "teaching/index.html")

    files = sorted(p.relative_to(serial).as_posix() for p in serial.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(parallel).as_posix() for p in parallel.rglob("*") if p.is_file() and (
        p.name.startswith("00_") or p.relative_to(parallel).as_posix() in shared))
    for lang in ("nb", "en"):
        for name in (f"tables/00_figures_{lang}.csv", f"figures/00_categories_{lang}.png",
                     f"figures/00_categories_{lang}.svg", f"figures/00_plo_flows_{lang}.png",
                     f"briefing/00_data_overview_{lang}.html", f"teaching/00_data_overview_{lang}.html"):
            assert name in files
    # Tables and figures: byte for byte. Pages: identical once the output folder's own path is replaced.
    for name in files:
        if name in shared:
            continue
        a, b = (serial / name).read_bytes(), (parallel / name).read_bytes()
        if name.endswith(".html"):
            a, b = a.replace(str(serial).encode(), b"OUT"), b.replace(str(parallel).encode(), b"OUT")
        assert a == b, name
    # the index of the build of 00 alone: each of its rows (00's reports, figures, tables) is in the other's
    rows = re.findall(r"<tr>.*?</tr>", (serial / "index.html").read_text(encoding="utf-8"), re.DOTALL)
    assert len([r for r in rows if "00_data_overview_" in r]) == 2
    parallel_index = (parallel / "index.html").read_text(encoding="utf-8")
    for row in rows:
        assert row in parallel_index, row
    assert (serial / reports.STATE_FILE).read_bytes() == (parallel / reports.STATE_FILE).read_bytes()

    published = paths.PUBLISHED_CSV.read_bytes()
    for name in files:
        if not name.endswith(".html"):
            continue
        page = (serial / name).read_text(encoding="utf-8")
        assert report_html.external_resources(page) == [], name
        if name in shared:
            continue
        assert "data/published/ehelsemonitor_2021.csv" in page
        assert hashlib.sha256(published).hexdigest() in page
        assert "2023-11-14T22:13:20Z" in page  # SOURCE_DATE_EPOCH 1700000000, in UTC
        assert "f" * 40 in page
    briefing_nb = (serial / "briefing/00_data_overview_nb.html").read_text(encoding="utf-8")
    assert "nesten 3,4 millioner" in briefing_nb and "set_style" not in briefing_nb
    assert "set_style" in (serial / "teaching/00_data_overview_nb.html").read_text(encoding="utf-8")
    assert "ehelsemonitor_2021.csv" not in ",".join(files)  # data stays in data/
    table = (serial / "tables/00_figures_nb.csv").read_text(encoding="utf-8")
    assert "nesten 3,4 millioner" in table  # Norwegian characters survive into the CSV


# ---------------------------------------------------------------- synthetic data, user-data folders, stale files

EXPORT_PARAMS = 'data_path = ""\nlang = "nb"\nexport_dir = ""\nextra = False'


def export_notebook(folder: Path, stem: str = "10_export") -> Path:
    """A notebook that loads its data with analysis.data and saves a titled figure and a table or two.

    Its outputs are named for the data: `10_series_<lang>` on a user's file, `10_published_<lang>` otherwise.
    """
    return write_notebook(folder, stem, [
        ("md", "# Eksport\n\nEn figur og en tabell."),
        ("code", EXPORT_PARAMS, ["parameters"]),
        ("code", "import matplotlib.pyplot as plt\n"
                 "from analysis import data as hd\n"
                 "from analysis.present import outputs\n"
                 "frame = hd.load_data(data_path)\n"
                 "what = 'series' if data_path else 'published'\n"
                 "fig, ax = plt.subplots(figsize=(4, 3))\n"
                 "ax.plot([1, 2, 3], [1, 4, 9])\n"
                 "ax.set_title('Figurtittel ' + lang)\n"
                 "outputs.save_figure(fig, f'10_{what}_{lang}', export_dir)\n"
                 "outputs.save_table(frame[['source_id']].head(2), f'10_{what}_{lang}', export_dir)\n"
                 "if extra:\n"
                 "    outputs.save_table(frame[['source_id']].head(1), f'10_extra_{lang}', export_dir)"),
    ])


def red_pixels(png: Path) -> int:
    """Number of strongly red pixels (the stamp's colour) in a PNG file."""
    import matplotlib.image as mpimg

    rgb = mpimg.imread(png)[..., :3]
    return int(((rgb[..., 0] > 0.6) & (rgb[..., 1] < 0.25) & (rgb[..., 2] < 0.25)).sum())


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (relative POSIX path -> bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_is_synthetic_and_the_loaders_set_and_clear_the_mark(tmp_path):
    import pandas as pd

    from analysis import data as hd
    from analysis.present import outputs

    assert outputs.is_synthetic(pd.DataFrame({"source_id": ["ehelse_2021", "My_SYNTHETIC_set"]}))
    assert not outputs.is_synthetic(pd.DataFrame({"source_id": ["ehelse_2021", None]}))
    assert not outputs.is_synthetic(pd.DataFrame({"value": [1]}))
    synthetic = synthetic_series(tmp_path / "fake.csv")
    real = tmp_path / "real.csv"
    real.write_text("period,measure,sender,receiver,value,source_id\n2020,total,all,all,5,my_count\n",
                    encoding="utf-8")
    try:
        hd.load_series(synthetic)
        assert outputs.synthetic_marked()
        hd.load_series(real)  # other data clear the mark
        assert not outputs.synthetic_marked()
        hd.load_data(synthetic)
        assert outputs.synthetic_marked()
        hd.load_data("")  # the published figures clear it too
        assert not outputs.synthetic_marked()
    finally:
        outputs.mark_synthetic(False)


def test_save_figure_stamps_and_save_table_marks_synthetic_outputs(tmp_path):
    import pandas as pd
    from matplotlib.figure import Figure

    from analysis.present import outputs

    def figure() -> Figure:
        fig = Figure(figsize=(4, 3))
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#1f77b4")
        ax.set_title("Meldinger  per år")
        return fig

    frame = pd.DataFrame({"year": [2020, 2021], "value": [193, 284]})
    plain_fig = figure()
    outputs.save_figure(plain_fig, "10_plain_nb", tmp_path)
    outputs.save_table(frame, "10_plain_nb", tmp_path)
    outputs.mark_synthetic()
    try:
        fake_fig = figure()
        outputs.save_figure(fake_fig, "10_fake_nb", tmp_path)
        outputs.save_figure(fake_fig, "10_fake_nb", tmp_path)  # a second save does not stamp twice
        outputs.save_table(frame, "10_fake_en", tmp_path)
        stamped_in_memory = Figure()
        outputs.save_figure(stamped_in_memory, "10_nothing_en", "")  # no export folder: still stamped inline
    finally:
        outputs.mark_synthetic(False)

    assert red_pixels(tmp_path / "figures/10_plain_nb.png") == 0
    assert red_pixels(tmp_path / "figures/10_fake_nb.png") > 500
    assert [t.get_text() for t in fake_fig.texts] == ["SYNTETISKE DATA", "SYNTETISKE DATA: oppdiktede tall til øving"]
    assert stamped_in_memory.texts[0].get_text() == "SYNTHETIC DATA"
    svg = (tmp_path / "figures/10_fake_nb.svg").read_text(encoding="utf-8")
    assert 'id="hm-synthetic-stamp-across"' in svg and 'id="hm-synthetic-stamp-corner"' in svg
    assert "hm-synthetic" not in (tmp_path / "figures/10_plain_nb.svg").read_text(encoding="utf-8")

    assert (tmp_path / "tables/10_plain_nb.csv").read_text(encoding="utf-8") == "year,value\n2020,193\n2021,284\n"
    assert (tmp_path / "tables/10_fake_en.csv").read_text(encoding="utf-8") == (
        "data_note,year,value\nsynthetic,2020,193\nsynthetic,2021,284\n")
    assert list(frame.columns) == ["year", "value"]  # the caller's frame is not changed

    # alternative text: the figure's own title (whitespace folded), then the stamp
    assert outputs.figure_title(plain_fig) == "Meldinger per år"
    assert outputs.alt_text(fake_fig) == "Meldinger per år (SYNTETISKE DATA: oppdiktede tall til øving)"
    both = Figure()
    left, right = both.subplots(1, 2)
    left.set_title("A")
    right.set_title("B")
    assert outputs.figure_title(both) == "A; B"
    both.suptitle("Overtittel")
    assert outputs.figure_title(both) == "Overtittel"
    assert outputs.alt_text(Figure()) == ""


def shown_pngs(nb: nbformat.NotebookNode) -> list[tuple[bytes, dict]]:
    """Every PNG an executed notebook shows: (the image's bytes, its image/png metadata)."""
    import base64

    return [(base64.b64decode(o["data"]["image/png"]), o.get("metadata", {}).get("image/png", {}))
            for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, from a PNG's IHDR chunk."""
    import struct

    return struct.unpack(">II", png[16:24])


def test_every_exported_figure_is_shown_as_the_file_it_wrote(published_build):
    """A figure save_figure wrote is shown as that PNG file (rendered once, at the file's 150 dpi), sized for
    the screen's 110 dpi: a file 1650 px wide is shown 1650 * 110 / 150 = 1210 px wide."""
    import matplotlib.pyplot as plt

    from analysis.present.plotting import set_style

    set_style()
    screen, file_dpi = plt.rcParams["figure.dpi"], plt.rcParams["savefig.dpi"]
    assert (screen, file_dpi) == (110, 150)
    for stem in STEMS:
        for lang in LANGS:
            files = {p.read_bytes(): p.name for p in published_build.written(stem, lang) if p.suffix == ".png"}
            shown = shown_pngs(published_build.notebook(stem, lang))
            assert files and len(shown) == len(files), (stem, lang)
            # each file, once; a PNG that is not one of the files would show as "rendered again"
            assert sorted(files.get(png, "rendered again") for png, _ in shown) == sorted(files.values())
            for png, meta in shown:
                width, height = png_size(png)
                assert (meta["width"], meta["height"]) == (round(width * screen / file_dpi),
                                                           round(height * screen / file_dpi))
                assert meta["alt"]


def test_a_figure_changed_after_saving_is_rendered_afresh(tmp_path):
    """Changing a saved figure (here its title) makes the notebook show it as it is now, not the saved file; a
    figure given no export folder is shown as the PNG an export would have written (150 dpi, sized for 110)."""
    import papermill

    nb = write_notebook(tmp_path, "10_twice", [
        ("code", 'export_dir = ""', ["parameters"]),
        ("code", "import matplotlib.pyplot as plt\nfrom analysis.present import outputs\n"
                 "plt.rcParams.update({'figure.dpi': 110, 'savefig.dpi': 150})\n"
                 "kept, ax = plt.subplots(figsize=(3, 2))\nax.set_title('Saved as shown')\n"
                 "outputs.save_figure(kept, '10_kept_en', export_dir)\n"
                 "changed, ax2 = plt.subplots(figsize=(3, 2))\nax2.set_title('Before')\n"
                 "outputs.save_figure(changed, '10_changed_en', export_dir)\nax2.set_title('After')\n"
                 "unsaved, ax3 = plt.subplots(figsize=(3, 2))\nax3.set_title('Not exported')\n"
                 "outputs.save_figure(unsaved, '10_unsaved_en', '')"),
    ])
    out = tmp_path / "out"
    papermill.execute_notebook(str(nb), str(tmp_path / "run.ipynb"), parameters={"export_dir": str(out)},
                               kernel_name=paths.KERNEL_NAME, kernel_manager_class=render.IpcKernelManager,
                               request_save_on_cell_execute=False, progress_bar=False, cwd=str(tmp_path))
    shown = shown_pngs(nbformat.read(tmp_path / "run.ipynb", as_version=4))
    (kept, kept_meta), (changed, changed_meta), (unsaved, unsaved_meta) = shown
    assert kept == (out / "figures/10_kept_en.png").read_bytes() and "width" in kept_meta
    assert kept_meta["alt"] == "Saved as shown"
    assert changed != (out / "figures/10_changed_en.png").read_bytes() and "width" not in changed_meta
    assert changed_meta["alt"] == "After"
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["10_changed_en.png", "10_changed_en.svg",
                                                                    "10_kept_en.png", "10_kept_en.svg"]
    width, height = png_size(unsaved)
    assert (unsaved_meta["width"], unsaved_meta["height"]) == (round(width * 110 / 150), round(height * 110 / 150))
    assert unsaved_meta["alt"] == "Not exported"


def test_kernel_report_reads_both_marker_forms():
    line = provenance.MARKER + '{"read": ["/d/a.csv"], "written": ["/o/figures/x.png"], "synthetic": true}'
    got = provenance.kernel_report("other output\n" + line + "\n")
    assert got == provenance.KernelReport(("/d/a.csv",), ("/o/figures/x.png",), True)
    assert provenance.kernel_report(provenance.MARKER + '["/d/a.csv"]') == provenance.KernelReport(("/d/a.csv",))
    assert provenance.kernel_report("no marker here") is None


def test_banner_on_synthetic_pages_only():
    nb = new_notebook(cells=[new_markdown_cell("# T\n\nText.")])
    for lang, words in (("nb", "SYNTETISKE DATA – oppdiktede tall til øving, ikke ekte meldingstall"),
                        ("en", "SYNTHETIC DATA – invented numbers for practice, not real message counts")):
        for with_code in (False, True):
            page = report_html.export_html(nb, with_code=with_code, title="T", lang=lang, synthetic=True)
            body = page[page.index("<main>"):]
            assert body.index(words) < body.index("<h1")  # at the top, before the title
            assert report_html.read_meta(page)["helsemeldinger:synthetic"] == "true"
        plain = report_html.export_html(nb, with_code=False, title="T", lang=lang)
        assert "hm-synthetic" not in plain[plain.index("<main>"):] and words not in plain


@pytest.mark.notebook
def test_user_data_gets_its_own_folder_and_stale_outputs_are_removed(tmp_path, monkeypatch, capsys):
    """The reviewer's case: a synthetic run, then a published run, in one folder; then --data in its own."""
    top = tmp_path / "reports"
    monkeypatch.setattr(paths, "REPORTS_DIR", top)
    monkeypatch.setattr(paths, "EXECUTED_DIR", tmp_path / "build" / "executed")
    nbdir = tmp_path / "notebooks"
    export_notebook(nbdir)
    data = synthetic_series(tmp_path / "my synthetic.csv")
    cli = ["--notebooks", str(nbdir), "--jobs", "2"]

    # 1. synthetic data forced into the published folder with --out, then 2. a plain run there
    assert reports.run([*cli, "--data", str(data), "--out", str(top), "-p", "extra=True"]) == 0
    assert sorted(files_under(top / "figures")) == ["10_series_en.png", "10_series_en.svg",
                                                    "10_series_nb.png", "10_series_nb.svg"]
    assert "10_extra_nb.csv" in files_under(top / "tables")
    assert reports.run(cli) == 0
    printed = capsys.readouterr().out
    assert sorted(files_under(top / "figures")) == ["10_published_en.png", "10_published_en.svg",
                                                    "10_published_nb.png", "10_published_nb.svg"]
    assert sorted(files_under(top / "tables")) == ["10_published_en.csv", "10_published_nb.csv"]
    assert "removed (not written by this run): figures/10_series_nb.png" in printed
    assert "removed (not written by this run): tables/10_extra_en.csv" in printed
    index = (top / "index.html").read_text(encoding="utf-8")
    assert "10_series" not in index and "SYNTETISKE DATA" not in index and "SYNTHETIC DATA" not in index
    for page in (top / "briefing").glob("*.html"):
        assert "SYNTETISKE DATA" not in page.read_text(encoding="utf-8")
    assert red_pixels(top / "figures/10_published_nb.png") == 0
    published_files = {k: v for k, v in files_under(top).items() if k not in ("index.html", reports.STATE_FILE)}

    # 3. --data without --out: a folder of its own; the published files are not touched
    assert reports.run([*cli, "--data", str(data)]) == 0
    printed = capsys.readouterr().out
    own = top / "data" / "my_synthetic"
    assert f"Reports on my synthetic.csv (SYNTHETIC data) are in {own}/" in printed
    assert {k: v for k, v in files_under(top).items()
            if k not in ("index.html", reports.STATE_FILE) and not k.startswith("data/")} == published_files
    assert (tmp_path / "build" / "executed" / "data" / "my_synthetic" / "nb" / "10_export.ipynb").exists()
    assert sorted(files_under(own / "figures")) == ["10_series_en.png", "10_series_en.svg",
                                                    "10_series_nb.png", "10_series_nb.svg"]
    assert red_pixels(own / "figures/10_series_nb.png") > 100  # the kernel stamped the figure
    assert (own / "tables/10_series_en.csv").read_text(encoding="utf-8").startswith(
        "data_note,source_id\nsynthetic,synthetic_test\n")
    banners = {"nb": "SYNTETISKE DATA – oppdiktede tall til øving, ikke ekte meldingstall",
               "en": "SYNTHETIC DATA – invented numbers for practice, not real message counts"}
    for audience in ("briefing", "teaching"):
        for lang, words in banners.items():
            page = (own / audience / f"10_export_{lang}.html").read_text(encoding="utf-8")
            assert words in page, (audience, lang)
            # the figure shown in the page carries its title and the stamp as alternative text
            stamp = "SYNTETISKE DATA: oppdiktede tall til øving" if lang == "nb" else \
                "SYNTHETIC DATA: invented numbers for practice"
            assert f'alt="Figurtittel {lang} ({stamp})"' in page
    own_index = (own / "index.html").read_text(encoding="utf-8")
    assert banners["nb"] in own_index and banners["en"] in own_index
    assert "reports on my synthetic.csv" in own_index and 'href="../../index.html"' in own_index
    assert 'href="briefing/10_export_nb.html"' in own_index
    top_index = (top / "index.html").read_text(encoding="utf-8")
    link = top_index[top_index.index('href="data/my_synthetic/index.html"'):]
    assert link.startswith('href="data/my_synthetic/index.html">my synthetic.csv</a>')
    assert "SYNTHETIC DATA" in link[:link.index("</li>")]
    assert 'href="briefing/10_export_nb.html"' in top_index  # still the published reports' index


@pytest.mark.notebook
def test_stale_removal_spares_failed_notebooks_and_shared_numbers(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    ok_notebook(nbdir)
    failing_notebook(nbdir)
    ok_notebook(nbdir, "40_twin_a")
    ok_notebook(nbdir, "40_twin_b")
    out = tmp_path / "out"
    old = {
        "figures/10_old_nb.png": False,  # 10_ok rendered and did not write it: removed
        "tables/10_old_en.csv": True,  # this run rendered nb only (-p lang=nb): en files are left alone
        "briefing/10_ok.html": False,  # a page from when 10_ok had no lang parameter
        "teaching/10_ok_en.html": True,  # the other language's page: left alone too
        "figures/100_other_nb.png": True,  # another number
        "tables/20_old_nb.csv": True,  # 20_fails failed: keeps its files and pages
        "briefing/20_fails_nb.html": True,
        "figures/40_twin_nb.png": True,  # 40_twin_b shares the number and did not run
        "briefing/40_twin_b_nb.html": True,
        "briefing/10_ok_extra_nb.html": True,  # not a page name of 10_ok
        "tables/.10_hidden.csv.tmp": True,
    }
    for name in old:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("old", encoding="utf-8")
    code = build(tmp_path, nbdir, "--only", "10_ok", "--only", "20_fails", "--only", "40_twin_a", "-p", "lang=nb")
    assert code == reports.EXIT_FAILED
    for name, kept in old.items():
        assert (out / name).exists() == kept, name
    assert (out / "briefing/10_ok_nb.html").exists() and (out / "briefing/40_twin_a_nb.html").exists()
    assert "removed (not written by this run): briefing/10_ok.html" in capsys.readouterr().out


# ---------------------------------------------------------------- data_path from the root or the notebook's folder

def test_relative_data_path_is_found_from_the_notebooks_folder(tmp_path, monkeypatch):
    """JupyterLab runs the kernel in notebooks/<lang>/: `../../data/...` typed there must work."""
    from analysis import data as hd

    (tmp_path / "mine" / "data").mkdir(parents=True)
    series = synthetic_series(tmp_path / "mine" / "data" / "series.csv")
    here = tmp_path / "mine" / "notebooks" / "nb"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    relative = "../../data/series.csv"
    assert not (paths.PROJ_ROOT / relative).exists()  # not there from the project root
    assert paths.resolve_existing(relative) == series.resolve()
    frame = hd.load_series(relative)
    assert list(frame["source_id"].unique()) == ["synthetic_test"] and len(frame) == 4
    assert len(hd.load_data(relative)) == 4
    # from the project root first: the published file is found from any folder
    published = "data/published/ehelsemonitor_2021.csv"
    assert paths.resolve_existing(published) == paths.PUBLISHED_CSV
    assert len(hd.load_data(published)) == len(hd.load_data(""))
    # a file at both places: the project root's wins (the rule the README states)
    (here / "data" / "published").mkdir(parents=True)
    (here / published).write_text("not the published file\n", encoding="utf-8")
    assert paths.resolve_existing(published) == paths.PUBLISHED_CSV
    # absolute paths are returned as given
    assert paths.resolve_existing(series) == series


def test_missing_relative_data_path_says_how_paths_are_resolved(tmp_path, monkeypatch):
    from analysis import data as hd

    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as info:
        hd.load_series("../data/nope.csv")
    message = str(info.value)
    assert "\n" not in message  # one line
    assert message.startswith("../data/nope.csv: file not found (user series)")
    assert f"taken from the project root ({paths.PROJ_ROOT})" in message
    assert f"notebook's (current) folder ({tmp_path})" in message
    assert f"tried {paths.PROJ_ROOT / '../data/nope.csv'} and {tmp_path / '../data/nope.csv'}" in message
    with pytest.raises(DataError, match=r"nope\.csv: file not found \(data file\); a relative path"):
        hd.load_data("nope.csv")
    with pytest.raises(DataError, match="file not found"):  # an absolute path: the loader's own message
        hd.load_series(tmp_path / "nope.csv")


def test_command_line_data_is_taken_from_the_current_folder(tmp_path, monkeypatch):
    """--data keeps its rule: relative to the folder the command runs in, even when the project has that path."""
    here = tmp_path / "work"
    (here / "data").mkdir(parents=True)
    synthetic_series(here / "data" / "sources.csv")
    monkeypatch.chdir(here)
    path, synthetic = reports.load_checked("data/sources.csv")  # the project also has data/sources.csv
    assert path == here / "data" / "sources.csv" and synthetic
    with pytest.raises(DataError, match="file not found"):
        reports.load_checked("data/published/ehelsemonitor_2021.csv")  # only from the project root: refused


# ---------------------------------------------------------------- notebooks kept once per language; data tags

def language_pair(folder: Path, stem: str = "10_pair") -> dict[str, Path]:
    """The same notebook kept as notebooks/nb/<stem>.ipynb and notebooks/en/<stem>.ipynb, each in its language,
    with a cell for runs on the published figures only and one for runs on a user's file only."""
    words = {"nb": ("Tittel på bokmål", "Bare bokmål her."), "en": ("Title in English", "English words only.")}
    files = {}
    for lang, (title, prose) in words.items():
        files[lang] = write_notebook(folder / lang, stem, [
            ("md", f"# {title}\n\n{prose}"),
            ("code", PARAMS.replace('lang = "nb"', f'lang = "{lang}"'), ["parameters"]),
            ("code", "text = open(data_path, encoding='utf-8').read() if data_path else ''\n"
                     "print('file=' + lang, len(text))"),
            ("md", "Published-only cell.", ["published-data"]),
            ("md", "Own-data-only cell.", ["own-data"]),
        ])
    return files


def test_plan_gives_one_task_per_language_file(tmp_path):
    nbdir = tmp_path / "notebooks"
    pair = language_pair(nbdir)
    single = ok_notebook(nbdir)  # one file for both languages (lang-tagged cells): still rendered twice
    found = reports.discover(None, nbdir)
    assert found == [single, pair["nb"], pair["en"]]  # by stem, nb before en
    out, build_dir = tmp_path / "out", tmp_path / "build"
    tasks = reports.plan(found, {}, None, out, build_dir)
    got = [(t.notebook, t.lang, t.parameters["lang"], t.name) for t in tasks]
    assert got == [(single, "nb", "nb", "10_ok_nb"), (single, "en", "en", "10_ok_en"),
                   (pair["nb"], "nb", "nb", "10_pair_nb"), (pair["en"], "en", "en", "10_pair_en")]
    assert {t.executed for t in tasks if t.notebook in pair.values()} == {
        build_dir / "nb" / "10_pair.ipynb", build_dir / "en" / "10_pair.ipynb"}
    only_en = reports.plan(reports.discover(["10_pair"], nbdir), {"lang": "en"}, None, out, build_dir)
    assert [(t.notebook, t.lang) for t in only_en] == [(pair["en"], "en")]
    assert reports.list_parameters(reports.discover(["10_pair"], nbdir)).splitlines()[0] == "10_pair (nb, en)"


@pytest.mark.notebook
def test_lang_en_renders_only_the_english_file(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    language_pair(nbdir)
    assert build(tmp_path, nbdir, "-p", "lang=en") == 0
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == [
        "briefing/10_pair_en.html", "index.html", "teaching/10_pair_en.html",
        "teaching/solutions/10_pair_en.html"]
    page = (out / "briefing/10_pair_en.html").read_text(encoding="utf-8")
    assert "<title>Title in English</title>" in page and "English words only." in page and "file=en" in page
    assert "bokmål" not in page and '<html lang="en">' in page
    assert "<dt>Notebook</dt><dd><code>" in page and "notebooks/en/10_pair.ipynb" in page  # which file ran
    assert not (tmp_path / "build" / "nb").exists()
    assert "Summary: 1 rendered, 0 failed" in capsys.readouterr().out


@pytest.mark.notebook
def test_stale_removal_goes_by_notebook_stem_for_language_files(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    language_pair(nbdir)
    out = tmp_path / "out"
    old = ["briefing/10_pair.html", "briefing/10_pair_nb.html", "teaching/10_pair_en.html",
           "briefing/10_pair_extra_en.html"]
    for name in old:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("old", encoding="utf-8")
    (out / "briefing/10_pair_nb.html").write_text("old nb page", encoding="utf-8")

    assert build(tmp_path, nbdir, "-p", "lang=en") == 0  # one language: the nb page is left alone
    assert (out / "briefing/10_pair_nb.html").read_text(encoding="utf-8") == "old nb page"
    assert not (out / "briefing/10_pair.html").exists()  # a page without a language: removed
    assert "removed (not written by this run): briefing/10_pair.html" in capsys.readouterr().out
    assert (out / "teaching/10_pair_en.html").read_text(encoding="utf-8") != "old"  # written again

    assert build(tmp_path, nbdir) == 0  # both files: both languages' pages written, nothing else kept
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == [
        "briefing/10_pair_en.html", "briefing/10_pair_extra_en.html", "briefing/10_pair_nb.html", "index.html",
        "teaching/10_pair_en.html", "teaching/10_pair_nb.html", "teaching/solutions/10_pair_en.html",
        "teaching/solutions/10_pair_nb.html"]  # 10_pair_extra is another stem's name
    assert (out / "briefing/10_pair_nb.html").read_text(encoding="utf-8") != "old nb page"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('<code>10_pair.ipynb</code>') == 2  # one row per language file


def test_select_for_data_drops_the_other_kind_of_datas_cells():
    nb = new_notebook(cells=[new_markdown_cell("both"), new_markdown_cell("published"), new_code_cell("own()"),
                             new_markdown_cell("untagged")])
    nb.cells[1].metadata["tags"] = ["published-data"]
    nb.cells[2].metadata["tags"] = ["own-data", "remove-input"]
    assert [c.source for c in report_html.select_for_data(nb, published=True).cells] == [
        "both", "published", "untagged"]
    assert [c.source for c in report_html.select_for_data(nb, published=False).cells] == [
        "both", "own()", "untagged"]
    assert len(nb.cells) == 4  # a copy: the notebook given is not changed


@pytest.mark.notebook
def test_pages_show_the_cells_for_their_kind_of_data(tmp_path):
    nbdir = tmp_path / "notebooks"
    language_pair(nbdir)
    data = synthetic_series(tmp_path / "series.csv")
    assert build(tmp_path, nbdir, "--only", "10_pair", "-p", "lang=nb") == 0
    assert build(tmp_path / "own", nbdir, "--only", "10_pair", "-p", "lang=nb", "--data", str(data)) == 0
    for audience in ("briefing", "teaching"):
        published = (tmp_path / "out" / audience / "10_pair_nb.html").read_text(encoding="utf-8")
        own = (tmp_path / "own" / "out" / audience / "10_pair_nb.html").read_text(encoding="utf-8")
        assert "Published-only cell." in published and "Own-data-only cell." not in published
        assert "Own-data-only cell." in own and "Published-only cell." not in own
        assert "series.csv" in own and "SYNTETISKE DATA" in own


# ---------------------------------------------------------------- the pipeline's words come from the catalogue

def test_footer_is_in_the_pages_language_convention_included():
    from analysis.present import catalogue

    prov = provenance.make_provenance(paths.NOTEBOOKS_DIR / "nb" / "10_x.ipynb", {"convention": "rel:0.01"}, [],
                                      "2024-01-01T00:00:00Z", ("a" * 40, True))
    nb, en = provenance.footer_html(prov, "nb"), provenance.footer_html(prov, "en")
    for lang, page in (("nb", nb), ("en", en)):
        for key in ("heading", "notebook", "package", "commit", "data", "parameters", "convention", "built"):
            assert html_escape(catalogue.text(lang, f"pages.provenance.{key}")) in page, (lang, key)
        assert html_escape(catalogue.text(lang, "pages.provenance.dirty")) in page
    # default rules, offsets in steps u of the last stated digit: "rundt" [x-0.5u, x+0.5u], "over" (x, x+1u)
    assert "<br>rundt [x−0,5·u; x+0,5·u]<br>over (x; x+1·u)<br>" in nb  # nb: decimal comma, minus sign, "; "
    assert "<br>about [x-0.5·u, x+0.5·u]<br>over (x, x+1·u)<br>" in en
    assert nb.endswith("<br>± 0,01·x</dd><dt>Bygget</dt><dd><time datetime=\"2024-01-01T00:00:00Z\">"
                       "2024-01-01T00:00:00Z</time></dd></dl></footer>")
    assert "<br>± 0.01·x</dd>" in en
    for english in ("Interval convention", "about [", "Provenance", "bytes"):
        assert english not in nb
    assert provenance.convention_rules("rel:0.01", "nb")[1][0] == "(uten forbehold) [x−0,5·u; x+0,5·u)"
    assert provenance.convention_rules("wide", "en")[1][2] == "over (x, x+2·u)"


def html_escape(text: str) -> str:
    """`text` as it appears in a page (HTML-escaped)."""
    import html

    return html.escape(text)


def test_index_shows_both_languages_words_from_the_catalogue():
    from analysis.present import catalogue

    footer = report_html.index_footer("9.9", "c" * 40, True, "", "", "2024-01-01T00:00:00Z")
    entry = {"briefing": "briefing/x_nb.html", "teaching": "teaching/x_nb.html", "title": "T", "notebook": "x.ipynb",
             "lang": "nb", "stale": True, "synthetic": True}
    page = report_html.index_html([entry], [], [], footer, data_name="s.csv", synthetic=True, up="../../index.html",
                                  data_sets=[{"href": "data/s/index.html", "name": "s.csv", "built": "B"}])
    keys = ["title_data", "data_own", "stale", "code_link", "col_report", "col_summary", "col_lang", "col_code",
            "col_notebook", "col_built", "figures", "tables", "own_sets", "built", "back", "changes"]
    for lang in ("nb", "en"):
        for key in keys:
            assert html_escape(catalogue.text(lang, f"pages.index.{key}", name="s.csv")) in page, (lang, key)
        assert html_escape(catalogue.text(lang, "pages.synthetic.banner")) in page
        assert report_html.inline_html(catalogue.text(lang, "pages.index.intro")) in page
    assert "<code>briefing/</code>" in page and "`" not in page  # backticks become <code>
    assert "Rapport / Report" in page  # nb first, then en
    assert "publiserte tall / published figures" in report_html.index_footer("9.9", None, False)


def test_figure_without_alt_text_gets_the_catalogues_words():
    from analysis.present import catalogue

    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    cell = new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", {"image/png": png})]
    for lang in ("nb", "en"):
        page = report_html.export_html(new_notebook(cells=[cell]), with_code=False, title="t", lang=lang)
        assert f'alt="{html_escape(catalogue.text(lang, "pages.figure.alt"))}"' in page



def _nbconvert_exporters() -> dict[bool, object]:
    """nbconvert's own HTMLExporter on the pages' template (fragments marked by a filter that does nothing)."""
    import jinja2
    from nbconvert import HTMLExporter

    from analysis.pipeline import page_exporter

    templates = {report_html.TEMPLATE_NAME: report_html.TEMPLATE,
                 page_exporter.FRAGMENTS_TEMPLATE: page_exporter.FRAGMENTS_SOURCE}
    return {with_code: HTMLExporter(
        template_name="lab", extra_loaders=[jinja2.DictLoader(templates)], template_file=report_html.TEMPLATE_NAME,
        filters={"hm_fragment": lambda text: text}, embed_images=True, exclude_input=not with_code,
        exclude_input_prompt=True, exclude_output_prompt=True, mathjax_url="", require_js_url="")
        for with_code in (False, True)}


def _html_cell(source: str, *htmls: str, tags: tuple[str, ...] = ()):
    cell = new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": h, "text/plain": "x"}) for h in htmls]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


# Cells that cannot be read on their own (they stay in the page, which then takes nbconvert's pass whole), each
# with a cell after it that would come out otherwise if it had been read on its own.
UNBALANCED = {
    "unbalanced": [new_markdown_cell("<div>never closed"), _html_cell("y", "</div>", "<p>open"),
                   _html_cell("z", "<ul><li>one<li>two</ul>", "<br></br>"), new_markdown_cell("after <b>x</b>")],
    "comment ended in a later cell": [_html_cell("y", "<!-- no end"), _html_cell("w", "<i>x</i><!-- ends it -->")],
    "later cells inside <pre>": [_html_cell("y", "<pre><div><div><div>", "<p>a</p>   <p>b</p>")],
    "later cells outside the notebook": [_html_cell("y", "</body>"), _html_cell("w", "<p>out</p>")],
}


@pytest.mark.parametrize("kind", ["self-contained", *UNBALANCED])
def test_pages_are_byte_for_byte_nbconverts(kind, monkeypatch):
    from analysis.pipeline import page_exporter

    cells = [new_markdown_cell("# Tittel\n\nTekst med <b>fet</b> skrift &amp; et bilde ![x](data:image/png;base64,AA)"),
             _html_cell("x = 1  # a < b", "<table><tr><td>1</td><td class='a  b '>2</td></tr></table>",
                        "  <p>a</p>   <p>b &#39;c&#39; &nbsp;</p>\n"),
             _html_cell("print('<b>')", '<img src="data:image/png;base64,AA">', "<pre>  kept\n   as is </pre>"),
             _html_cell("", "<div class='jp-OutputArea-output'>inner</div><br><br/>"), *UNBALANCED.get(kind, [])]
    nb = nbformat.from_dict(new_notebook(cells=cells, metadata={"language_info": {"name": "python"}}))
    before = nbformat.writes(nb)
    whole = []  # pages that took nbconvert's pass whole
    real_pass = page_exporter.page_pass
    monkeypatch.setattr(page_exporter, "page_pass",
                        lambda page: (whole.append(page) if "<!DOCTYPE" in page else None) or real_pass(page))
    ours = {w: report_html.export_html(nb, with_code=w, title="T", lang="nb") for w in (False, True)}
    stock = _nbconvert_exporters()

    def nbconvert_exporter(with_code: bool, language_code: str):
        stock[with_code].language_code = language_code
        return stock[with_code]

    monkeypatch.setattr(report_html, "_exporter", nbconvert_exporter)
    for with_code, page in ours.items():
        assert page == report_html.export_html(nb, with_code=with_code, title="T", lang="nb"), with_code
    assert nbformat.writes(nb) == before  # the notebook given is not changed
    assert len(whole) == (0 if kind == "self-contained" else 2)


def test_self_contained_fragments():
    from analysis.pipeline.page_exporter import self_contained

    for ok in ("<b>x</b>", "<div><p>a</p> text <br><img src=x></div>", "<p>a &amp; b</p><!-- c -->",
               "<div/>", "<script>if (a < b) {}</script>"):
        assert self_contained(ok), ok
    for not_ok in ("text <b>x</b>", "<b>x</b> text", "< 5 <b>x</b>", "<b>x</b> 5 >", "<p>open", "</div>",
                   "<div><p>a</div>", "<div><p>a</div></p>", "<br></br>", "<p><b></br></p>", "<!-- open",
                   "<script>x", "<b>x</b", "<hm-fragment></hm-fragment>"):
        assert not self_contained(not_ok), not_ok



def test_exporters_share_compiled_templates(monkeypatch):
    import jinja2

    from analysis.pipeline import page_exporter

    nb = nbformat.from_dict(new_notebook(cells=[_html_cell("x = 1", "<b>out</b>")]))
    first = page_exporter.PageExporter(template_name="lab").from_notebook_node(nb)[0]
    compiled = []
    real_compile = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda env, *a, **k: compiled.append(a) or real_compile(env, *a, **k))
    assert page_exporter.PageExporter(template_name="lab").from_notebook_node(nb)[0] == first
    assert compiled == []  # the second exporter's templates came compiled


def test_shared_templates_compile_again_where_a_filter_is_passed_otherwise():
    import jinja2

    from analysis.pipeline.page_exporter import _SharedTemplates

    shared = _SharedTemplates()
    pages = []
    for f in (lambda value: f"plain {value}", jinja2.pass_context(lambda context, value: f"{context['who']} {value}")):
        env = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ x|f }}"}))
        env.bytecode_cache = shared
        env.filters["f"] = f
        pages.append(env.get_template("t").render(x=1, who="context"))
    assert pages == ["plain 1", "context 1"]

def test_briefing_drops_warnings_and_tagged_inputs_and_outputs():
    cells = [_html_cell("shown_source", "<b>shown_output</b>", tags=("remove-input",)),
             _html_cell("kept_source", "<b>removed_output</b>", tags=("remove-output",)), new_code_cell("w")]
    cells[0].outputs.append(nbformat.v4.new_output("stream", name="stderr", text="a_warning\n"))
    cells[2].outputs = [nbformat.v4.new_output("stream", name="stderr", text="only_a_warning\n")]
    nb = new_notebook(cells=cells)
    before = nbformat.writes(nb)
    briefing = report_html.export_html(nb, with_code=False, title="T", lang="en")
    teaching = report_html.export_html(nb, with_code=True, title="T", lang="en")
    assert nbformat.writes(nb) == before  # the notebook given is not changed
    assert "shown_output" in briefing and "removed_output" not in briefing and "a_warning" not in briefing
    assert "shown_source" not in teaching and "kept_source" in teaching and "removed_output" not in teaching
    assert "a_warning" in teaching and "only_a_warning" in teaching

# ---------------------------------------------------------------- parameters checked before any kernel (issue 10)

def params_notebook(folder: Path) -> Path:
    """A notebook declaring parameters of the real ones (periods, alpha, models, drivers, n_boot)."""
    return write_notebook(folder, "40_params", [
        ("md", "# Parametre"),
        ("code", 'data_path = ""\nsheet = ""\nlang = "nb"\nexport_dir = ""\nstart = 2020\nend = 2021\n'
                 'alpha = 0.05\nn_boot = 200\nmodels = ["linear", "ets"]\nexclude = []', ["parameters"]),
        ("code", "print(start, end, alpha)"),
    ])


def existing_reports(tmp_path: Path) -> dict[str, bytes]:
    """A previous run's reports (index included) in tmp/out; return them as bytes."""
    out = tmp_path / "out"
    (out / "briefing").mkdir(parents=True)
    (out / "briefing" / "40_params_nb.html").write_text("previous good report", encoding="utf-8")
    (out / "index.html").write_text("<html>previous index</html>", encoding="utf-8")
    return files_under(out)


@pytest.mark.parametrize("args, message", [
    (["-p", "alpha=2"], "40_params: parameter 'alpha': 2.0 is outside (0, 1); give e.g. 0.05"),
    (["-p", "alpha=0"], "parameter 'alpha': 0.0 is outside (0, 1)"),
    (["-p", 'models=["nosuch"]'], "parameter 'models': ['nosuch'] has unknown model name(s) ['nosuch']; the models "
                                  "are ['linear', 'loglinear'"),
    (["-p", "start=2030"], "parameter 'start': 2030 is not a period in the data; the data have ['2020', '2021']"),
    (["-p", "start=2021", "-p", "end=2020"], "parameters 'start' (2021) and 'end' (2020): start must come before end"),
    (["-p", "start=abc"], "parameter 'start': 'abc' is not a period"),
    (["-p", 'exclude=["nope"]'], "parameter 'exclude': ['nope'] has unknown driver name(s) ['nope']"),
    (["-p", "n_boot=0"], "parameter 'n_boot': 0 is below 1"),
    (["--sheet", "A"], "--sheet A: a sheet belongs to a workbook given with --data"),
])
def test_bad_parameter_exits_2_and_leaves_reports_byte_for_byte(tmp_path, capsys, args, message):
    params_notebook(tmp_path / "notebooks")
    before = existing_reports(tmp_path)
    assert build(tmp_path, tmp_path / "notebooks", *args) == reports.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [err.splitlines()[-2]]  # one line
    assert files_under(tmp_path / "out") == before
    assert not (tmp_path / "build").exists()  # no kernel started


def test_data_and_data_path_together_are_an_error(tmp_path, capsys):
    params_notebook(tmp_path / "notebooks")
    before = existing_reports(tmp_path)
    series = synthetic_series(tmp_path / "fake.csv")
    code = build(tmp_path, tmp_path / "notebooks", "--data", str(series), "-p", f"data_path={series}")
    assert code == reports.EXIT_USAGE
    assert "both name a data file; give one of them (--data)" in capsys.readouterr().err
    assert files_under(tmp_path / "out") == before


def test_periods_are_checked_against_the_users_file(tmp_path, capsys):
    params_notebook(tmp_path / "notebooks")
    series = synthetic_series(tmp_path / "fake.csv")  # 2018-2021
    code = build(tmp_path, tmp_path / "notebooks", "--data", str(series), "-p", "start=2017")
    assert code == reports.EXIT_USAGE
    assert "parameter 'start': 2017 is not a period in the data; the data have ['2018', '2019', '2020', '2021']" \
        in capsys.readouterr().err


def test_sheet_reaches_the_loader_and_the_notebook(tmp_path, capsys):
    import openpyxl

    params_notebook(tmp_path / "notebooks")
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["just a note"])
    ws = wb.create_sheet("Data")
    ws.append(["period", "measure", "sender", "receiver", "value"])
    for year in (2020, 2021):
        ws.append([year, "total", "all", "all", 100 + year % 10])
    book = tmp_path / "book.xlsx"
    wb.save(book)
    assert build(tmp_path, tmp_path / "notebooks", "--data", str(book)) == reports.EXIT_USAGE
    assert "this workbook has sheets Notes, Data with data: pass sheet=... (--sheet" in capsys.readouterr().err
    tasks = reports.plan([tmp_path / "notebooks" / "40_params.ipynb"], {"sheet": "Data"}, book, tmp_path / "out",
                         tmp_path / "build")
    assert tasks[0].parameters["sheet"] == "Data" and tasks[0].parameters["data_path"] == str(book)
    path, synthetic = reports.load_checked(book, None, "Data")
    assert path == book.resolve() and synthetic is False


def test_published_figures_are_never_stamped_after_a_synthetic_load(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import data as hd
    from analysis.present import outputs

    fake = hd.load_series(synthetic_series(tmp_path / "fake.csv"))
    try:
        assert outputs.synthetic_marked()
        published = hd.load_published()  # the published figures: the mark goes
        assert not outputs.synthetic_marked()
        fig, _ = plt.subplots()
        outputs.save_figure(fig, "00_published_en", "")
        assert not any(str(t.get_gid()).startswith(outputs.STAMP_GID) for t in fig.texts)
        # by what a figure shows: given the frame it is made from, the mark follows that frame
        fig2, _ = plt.subplots()
        outputs.save_figure(fig2, "00_fake_en", "", data=fake)
        assert any(str(t.get_gid()).startswith(outputs.STAMP_GID) for t in fig2.texts)
        hd.load_series(synthetic_series(tmp_path / "fake2.csv"))
        fig3, _ = plt.subplots()
        outputs.save_figure(fig3, "00_published_en", "", data=published)
        assert not any(str(t.get_gid()).startswith(outputs.STAMP_GID) for t in fig3.texts)
        table = outputs.save_table(published[["figure_id"]], "00_t_en", tmp_path, data=published)
        assert table.read_text(encoding="utf-8").startswith("figure_id\n")
        plt.close("all")
    finally:
        outputs.mark_synthetic(False)
