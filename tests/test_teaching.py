"""Issue 12, teaching: every notebook ends with 2–3 exercises, each followed by a worked solution; the solutions
run (on the published figures and, for notebook 03's series exercises, on the synthetic example series), and
the numbers a solution computes by hand agree with the package's and with the arithmetic worked here."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser

import nbformat
import pytest

from analysis import paths
from conftest import LANGS, STEMS, errors, notebook_file

EXERCISE, SOLUTION = "exercise", "solution"
PUBLISHED, OWN = "published-data", "own-data"
HEADING = {"en": "## Exercises", "nb": "## Oppgaver"}
TITLE = {"en": "### Exercise {n} · ", "nb": "### Oppgave {n} · "}
SOLUTION_START = {"en": "**Solution", "nb": "**Løsning"}


def tags(cell) -> set[str]:
    """The cell's tags."""
    return set(cell.get("metadata", {}).get("tags", []))


def cells(stem: str, lang: str) -> list:
    """The notebook's cells as committed to the work tree."""
    return nbformat.read(notebook_file(stem, lang), as_version=4).cells


def for_data(cell_list: list, published: bool) -> list:
    """The cells a run on the published figures (or on a user's file) keeps: the other kind's cells dropped."""
    other = OWN if published else PUBLISHED
    return [c for c in cell_list if other not in tags(c)]


def exercises(cell_list: list) -> list:
    """The exercises' own markdown cells (tagged exercise, starting with a ### title)."""
    return [c for c in cell_list if EXERCISE in tags(c) and c.cell_type == "markdown"
            and c.source.startswith("###")]


# ---------------------------------------------------------------- structure (no kernel)

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", STEMS)
def test_every_notebook_ends_with_numbered_exercises_each_with_a_solution(stem, lang):
    all_cells = cells(stem, lang)
    first = next(i for i, c in enumerate(all_cells) if EXERCISE in tags(c))
    tail = all_cells[first:]
    assert tail[0].source.startswith(HEADING[lang]) and tags(tail[0]) == {EXERCISE}
    assert all(tags(c) & {EXERCISE, SOLUTION} for c in tail), "exercises and solutions come last"
    assert not any(tags(c) & {EXERCISE, SOLUTION} for c in all_cells[:first])
    for published in (True, False):
        kept = for_data(tail, published)
        titles = exercises(kept)
        if published:
            assert 2 <= len(titles) <= 3, f"{len(titles)} exercises on the published figures"
        else:  # on a user's file: 2-3 exercises, or a note that they need the published figures
            assert len(titles) == 0 and any(OWN in tags(c) for c in kept) or 2 <= len(titles) <= 3
        for n, title in enumerate(titles, start=1):
            assert title.source.startswith(TITLE[lang].format(n=n)), title.source[:40]
            i = kept.index(title)
            block = []
            for c in kept[i + 1:]:
                if c in titles:
                    break
                block.append(c)
            assert block and all(SOLUTION in tags(c) for c in block), "each exercise is followed by a solution"
            assert block[0].cell_type == "markdown" and block[0].source.startswith(SOLUTION_START[lang])
            assert any(c.cell_type == "code" for c in block), "a solution computes"
            kind = tags(title) & {PUBLISHED, OWN}
            assert all(tags(c) & {PUBLISHED, OWN} == kind for c in block), "a solution is for its exercise's data"


@pytest.mark.parametrize("stem", STEMS)
def test_exercises_have_the_same_cells_and_tags_in_both_languages(stem):
    shape = {lang: [(c.cell_type, sorted(tags(c))) for c in cells(stem, lang) if tags(c) & {EXERCISE, SOLUTION}]
             for lang in LANGS}
    assert shape["nb"] == shape["en"]


@pytest.mark.parametrize("stem", STEMS)
def test_solutions_write_nothing_and_published_ones_are_guarded(stem):
    for c in cells(stem, "en"):
        if SOLUTION in tags(c) and c.cell_type == "code":
            assert not re.search(r"save_table|save_figure|to_csv|to_excel|open\(|savefig", c.source), c.source
            first_line = c.source.splitlines()[0]
            if PUBLISHED in tags(c):  # must not fail on a user's file: nothing runs unless the published figures
                assert first_line.startswith("if ") and "published" in first_line or "reconciled_ok" in first_line
            if OWN in tags(c):
                assert first_line.startswith("if not published"), first_line


# ---------------------------------------------------------------- the solutions run

class _Tables(HTMLParser):
    """The cells of every HTML table in a pandas HTML repr: a list of rows, each a list of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def frame(cell) -> dict[str, dict[str, str]]:
    """The DataFrame a solution cell displays, from its HTML output: {row label: {column: cell text}}."""
    html = next(o["data"]["text/html"] for o in cell.get("outputs", []) if "text/html" in o.get("data", {}))
    parser = _Tables()
    parser.feed(html)
    header, *rest = parser.rows
    if rest and rest[0] and rest[0][0] and not any(rest[0][1:]):  # a named index: its own header row
        rest = rest[1:]
    if any(len(row) != len(header) for row in rest):  # several header rows (grouped columns): not one frame
        return {}
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rest}


def solution_frames(nb, column: str) -> list[dict[str, dict[str, str]]]:
    """Every table shown by a solution code cell that has `column`."""
    found = []
    for c in nb.cells:
        if SOLUTION in tags(c) and c.cell_type == "code" and any(
                "text/html" in o.get("data", {}) for o in c.get("outputs", [])):
            table = frame(c)
            if table and column in next(iter(table.values())):
                found.append(table)
    return found


def num(text: str) -> float:
    """A number as pandas prints it in an HTML table."""
    return float(text)


@pytest.mark.notebook
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", STEMS)
def test_solutions_run_on_the_published_figures(published_build, stem, lang):
    nb = published_build.notebook(stem, lang)
    assert not errors(nb)
    solutions = [c for c in nb.cells if SOLUTION in tags(c) and c.cell_type == "code"]
    assert solutions
    for c in solutions:
        if OWN in tags(c):
            assert not c.get("outputs"), "a series solution shows nothing on the published figures"
        else:
            assert c.get("outputs"), f"a solution cell without output: {c.source[:60]}"
            assert not any(o.get("name") == "stderr" for o in c["outputs"]), "no warnings in a solution"


@pytest.mark.notebook
def test_00_intervals_by_hand_and_the_wide_reading(published_build):
    nb = published_build.notebook("00_data_overview", "en")
    (table,) = solution_frames(nb, "by_hand_low")
    # rundt 5 (step 1): 5 - 1/2 = 4.5 to 5 + 1/2 = 5.5; over 63 (step 1): 63 to 63 + 1 = 64;
    # nesten 3,4 (step 0.1): 3.4 - 0.1/2 = 3.35 up to 3.4
    hand = {"sysvak_2020": (4.5, 5.5), "sysvak_2021": (63.0, 64.0), "plo_fastlege_kommune_2021": (3.35, 3.4)}
    for figure, (low, high) in hand.items():
        row = table[figure]
        assert num(row["by_hand_low"]) == pytest.approx(low) == num(row["low"])
        assert num(row["by_hand_high"]) == pytest.approx(high) == num(row["high"])
    assert [table[f]["low_closed"] for f in hand] == ["True", "False", "True"]  # over excludes 63 itself
    (wide,) = solution_frames(nb, "width_ratio")
    assert {num(r["width_ratio"]) for r in wide.values()} == {2.0}  # wide: every interval twice as wide
    for row in wide.values():  # the end a hedge word states stays: over keeps its low, nesten (almost) its high
        assert (row["low_stays"] == "True") == (row["qualifier"] == "over")
        assert (row["high_stays"] == "True") == (row["qualifier"] == "almost")


@pytest.mark.notebook
def test_01_naive_growth_the_bounds_it_forces_and_the_wide_reading(published_build):
    nb = published_build.notebook("01_reproduce_2021", "en")
    growth = solution_frames(nb, "from_printed")[0]["growth_percent:plo[fastlege->kommune]@2020-2021"]
    naive = (3.4 / 1.8 - 1) * 100  # = 88.89 %
    assert num(growth["by_hand"]) == pytest.approx(naive, abs=1e-4) == num(growth["from_printed"])
    assert num(growth["high"]) == pytest.approx(83)  # "over 82 prosent": below 83 %
    assert naive > num(growth["high"])  # the prose: the naive growth lies above the bounds
    (levels,) = [t for t in solution_frames(nb, "by_hand") if "plo[fastlege->kommune]@2020" in t]
    low_2020, high_2021 = 3.35 / 1.83, 1.85 * 1.83  # = 1.8306 and 3.3855
    assert num(levels["plo[fastlege->kommune]@2020"]["by_hand"]) == pytest.approx(low_2020, abs=1e-5)
    assert num(levels["plo[fastlege->kommune]@2020"]["low"]) == pytest.approx(low_2020, abs=1e-5)
    assert num(levels["plo[fastlege->kommune]@2021"]["high"]) == pytest.approx(high_2021, abs=1e-5)
    assert low_2020 > 1.75 and high_2021 < 3.4  # inside the intervals of "1,8" and "nesten 3,4"
    (wide,) = solution_frames(nb, "low_wide")
    unexplained = wide["unexplained_change@2020-2021"]
    assert num(unexplained["low_wide"]) < 0 < num(unexplained["low"])  # the prose: below zero only under wide
    for stated_low in ("sysvak[all->all]@2021", "growth_percent:plo[fastlege->kommune]@2020-2021"):
        assert wide[stated_low]["low_moves"] == "False"  # "over": the lower end is the word's own
    assert wide["plo[helseforetak->kommune]@2021"]["high_moves"] == "False"  # "nesten 1,4": its upper end
    assert wide["total[all->all]@2021"]["low_moves"] == wide["total[all->all]@2021"]["high_moves"] == "True"


@pytest.mark.notebook
def test_02_percentage_points_and_counterfactual_by_hand(published_build):
    from analysis import data as hd
    from analysis import decompose

    nb = published_build.notebook("02_growth_decomposition", "en")
    (pp,) = solution_frames(nb, "pp_low")
    row = pp["sysvak"]
    # SYSVAK: up 58 over the 2020 total 193, x 100 = 30.05 pp; bounds 57.5 / 193.5 = 29.72 and 58.5 / 192.5 = 30.39
    for hand, table, value in (("by_hand", "pp", 58 / 193 * 100), ("by_hand_low", "pp_low", 57.5 / 193.5 * 100),
                               ("by_hand_high", "pp_high", 58.5 / 192.5 * 100)):
        assert num(row[hand]) == pytest.approx(value, abs=1e-5) == num(row[table])
    (cf,) = solution_frames(nb, "by_hand_high")[1:]
    total = cf["counterfactual_total"]  # 284 - (58 + 21) = 205, from 283.5 - 80 = 203.5 to 284.5 - 78 = 206.5
    for hand, table, value in (("by_hand", "value", 205), ("by_hand_low", "low", 203.5),
                               ("by_hand_high", "high", 206.5)):
        assert num(total[hand]) == pytest.approx(value) == num(total[table])
    data = hd.load_data("")
    # the prose: without SYSVAK and result reports 2021 is back inside "rundt 200" (step 20: 190-210) ...
    (both, *_) = decompose.counterfactual_variants_result(data, 2020, 2021)
    values = both.table.set_index("quantity")
    assert values.loc["plateau", "low"] <= values.loc["counterfactual_total", "low"]
    assert values.loc["counterfactual_total", "high"] <= values.loc["plateau", "high"]
    # ... and without SYSVAK alone it lies above the whole plateau interval
    (only, *_) = decompose.counterfactual_variants_result(data, 2020, 2021, ["sysvak"])
    values = only.table.set_index("quantity")
    assert values.loc["counterfactual_total", "low"] > values.loc["plateau", "high"]


@pytest.mark.notebook
def test_03_plateau_step_and_the_drivers_share_by_hand(published_build):
    nb = published_build.notebook("03_trend_models", "en")
    steps = solution_frames(nb, "by_hand_low")[0]
    by_step = {num(r["plateau_step"]): r for r in steps.values()}
    # step 10: 283.5 - 205 = 78.5 to 284.5 - 195 = 89.5; step 100: 283.5 - 250 = 33.5 to 284.5 - 150 = 134.5
    for step, (low, high) in {10.0: (78.5, 89.5), 100.0: (33.5, 134.5)}.items():
        row = by_step[step]
        assert num(row["by_hand_low"]) == pytest.approx(low) == num(row["excess_low"])
        assert num(row["by_hand_high"]) == pytest.approx(high) == num(row["excess_high"])
    (zero,) = solution_frames(nb, "excess_low")[1:2]
    (row,) = zero.values()  # step 2 x (283.5 - 200) = 167: the lowest excess is 0
    assert num(row["plateau_step"]) == pytest.approx(167) and num(row["excess_low"]) == pytest.approx(0)
    share = solution_frames(nb, "by_hand")[-1]["share"]
    # 79 / 84 = 94.05 %; lowest 78 / 94.5 = 82.54 %, highest 80 / 73.5 = 108.84 %
    for hand, table, value in (("by_hand", "value", 79 / 84 * 100), ("by_hand_low", "low", 78 / 94.5 * 100),
                               ("by_hand_high", "high", 80 / 73.5 * 100)):
        assert num(share[hand]) == pytest.approx(value, abs=1e-5) == num(share[table])
    assert num(share["high"]) > 100  # the prose: the share's upper bound exceeds 100 %


def _synthetic_example_csv() -> str:
    """The SYNTHETIC example series of scripts/make_example_series.py (made-up numbers), as CSV text."""
    spec = importlib.util.spec_from_file_location("make_example_series",
                                                  paths.PROJ_ROOT / "scripts" / "make_example_series.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_series().to_csv(index=False)


@pytest.mark.notebook
def test_03_series_solutions_run_on_the_synthetic_example(executed):
    run = executed("03_trend_models", "en", data=("synthetic_example_series.csv", _synthetic_example_csv()),
                   n_boot=60)
    nb = run.nb
    assert not errors(nb)
    for c in nb.cells:
        if SOLUTION in tags(c) and c.cell_type == "code":
            assert bool(c.get("outputs")) == (OWN in tags(c)), c.source[:60]
    (pscore,) = solution_frames(nb, "table")
    for name, row in pscore.items():  # excess = actual - expected; P-score = (actual / expected - 1) x 100
        assert num(row["by_hand"]) == pytest.approx(num(row["table"]), rel=1e-6), name
    assert num(pscore["p_score_lower"]["by_hand"]) < num(pscore["p_score"]["by_hand"]) < num(
        pscore["p_score_upper"]["by_hand"])
    windows = next(c for c in nb.cells if "later = (baseline_start + 3" in c.source)
    html = next(o["data"]["text/html"] for o in windows["outputs"] if "text/html" in o.get("data", {}))
    assert "2010-2019" in html and "2013-2019" in html  # both windows side by side
