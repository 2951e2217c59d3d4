"""Every notebook: one literal-only `parameters` cell, no committed outputs, a kernelspec, and it runs."""

import ast
import json

import pytest

from analysis import paths
from conftest import LANGS, NOTEBOOKS, STEMS, errors, image_count, notebook_file

ids = [f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS]
CODE_LINES = 8  # a code cell a student reads: at most this many lines of code (blank lines and comments aside)
LITERAL = 60  # characters: a longer string literal is prose, which belongs in markdown or the catalogue


def test_there_are_notebooks_in_both_languages():
    assert "00_data_overview" in STEMS
    for stem in STEMS:
        for lang in LANGS:
            assert notebook_file(stem, lang).is_file(), f"{stem} has no {lang} file"


def _committed(path) -> dict:
    """The notebook as git would commit it: the index's copy (through the nbstripout filter), else the file."""
    import subprocess

    rel = path.relative_to(paths.PROJ_ROOT).as_posix()
    got = subprocess.run(["git", "show", f":{rel}"], cwd=paths.PROJ_ROOT, capture_output=True, text=True)
    return json.loads(got.stdout if got.returncode == 0 else path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_structure(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    cells = doc["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    source = "".join(tagged[0]["source"])
    values = {}
    for node in ast.parse(source).body:  # literals only: papermill does not recompute derived defaults
        assert isinstance(node, ast.Assign), ast.dump(node)
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values.get("lang") == path.parent.name, "the lang parameter is the language of the file's folder"
    assert doc["metadata"]["kernelspec"]["name"] == "helsemeldinger"
    # complete metadata and cell ids: JupyterLab does not mark a notebook modified when it only opens it
    assert (doc["nbformat"], doc["nbformat_minor"]) >= (4, 5)
    # the kernel's whole language_info: with less, JupyterLab fills it in on opening and marks the file modified
    assert set(doc["metadata"]["language_info"]) >= {"codemirror_mode", "file_extension", "mimetype", "name",
                                                     "nbconvert_exporter", "pygments_lexer", "version"}
    assert all("id" in c for c in cells)
    assert not any(c.get("metadata", {}).get("tags") and
                   {t for t in c["metadata"]["tags"] if t.startswith("lang-")} for c in cells), \
        "one language per file: no lang-nb / lang-en cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_notebook_has_no_outputs(path):
    for c in _committed(path)["cells"]:
        if c["cell_type"] == "code":
            assert c.get("outputs") == [], "committed with outputs"
            assert c.get("execution_count") is None


def _literal_length(node: ast.AST) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return len(node.value)
    if isinstance(node, ast.JoinedStr):
        return sum(len(v.value) for v in node.values if isinstance(v, ast.Constant))
    return 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_code_cells_are_short_analysis_calls(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    for i, c in enumerate(doc["cells"]):
        if c["cell_type"] != "code" or "parameters" in c["metadata"].get("tags", []):
            continue
        text = "".join(c["source"])
        lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert len(lines) <= CODE_LINES, f"cell {i}: {len(lines)} lines of code"
        tree = ast.parse(text)
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))], \
            f"cell {i} defines a function"
        longest = max([_literal_length(n) for n in ast.walk(tree)] + [0])
        assert longest <= LITERAL, f"cell {i}: a string literal of {longest} characters"


def _code(path) -> list[str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("stem", STEMS)
def test_languages_share_one_analysis(stem):
    """The analysis code exists once: every language's file has the same code cells (compared as Python, so
    the comments may be in the file's language), and the same parameters but for `lang`."""
    nb, en = (_code(notebook_file(stem, lang)) for lang in LANGS)
    assert len(nb) == len(en)
    for a, b in zip(nb, en, strict=True):
        assert ast.dump(ast.parse(a.replace('lang = "nb"', 'lang = "en"'))) == ast.dump(ast.parse(b)), a[:80]


def test_a_changed_line_of_code_is_caught():
    """The comparison above sees a change in code but not in a comment (worked on two small cells)."""
    same = ("x = f(1)  # one", "x = f(1)  # en")
    other = ("x = f(1)", "x = f(2)")
    assert ast.dump(ast.parse(same[0])) == ast.dump(ast.parse(same[1]))
    assert ast.dump(ast.parse(other[0])) != ast.dump(ast.parse(other[1]))


@pytest.mark.parametrize("stem", STEMS)
def test_languages_share_cell_tags(stem):
    """Cells kept for one kind of data (tags published-data, own-data) are the same in both languages."""
    tags = [[sorted(c["metadata"].get("tags", [])) for c in json.loads(notebook_file(stem, lang).read_text(
        encoding="utf-8"))["cells"] if c["cell_type"] == "code"] for lang in LANGS]
    assert tags[0] == tags[1]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_runs_on_default_data(path, published_build):
    nb = published_build.notebook(path.stem, path.parent.name)
    assert not errors(nb)
    assert image_count(nb) >= 1, "every report shows at least one figure"
