"""The message catalogue and the three layers: one catalogue per language with the same ids and placeholders,
every id the code asks for exists, and the analysis modules stay free of language."""

import ast
import json

import pytest

from analysis import paths
from analysis.present import catalogue
from analysis.present.catalogue import LANGS, MessageError, placeholders, text

SRC = paths.PROJ_ROOT / "src" / "analysis"
ANALYSIS = ("data", "intervals", "claims", "decompose", "trend", "evidence", "statements")
PRESENT = SRC / "present"
PIPELINE = SRC / "pipeline"


def test_both_languages_have_the_same_ids():
    nb, en = (set(catalogue.catalogue(lang)) for lang in LANGS)
    assert nb, "the catalogue is empty"
    assert sorted(nb - en) == [], "ids only in nb"
    assert sorted(en - nb) == [], "ids only in en"


def test_each_message_has_the_same_placeholders_in_both_languages():
    nb, en = (catalogue.catalogue(lang) for lang in LANGS)
    differ = {k: (placeholders(nb[k]), placeholders(en[k])) for k in nb.keys() & en.keys()
              if placeholders(nb[k]) != placeholders(en[k])}
    assert differ == {}


def test_placeholders_and_text_worked_by_hand():
    assert placeholders("{value} millioner i {year}, {value}") == {"value", "year"}
    assert placeholders("no placeholders, {{escaped}}") == set()
    assert text("nb", "labels.measure.sysvak") == "SYSVAK (vaksinasjonsregisteret)"
    assert catalogue.label("en", "party", "fastlege") == "GP"
    assert catalogue.label("en", "party", "no_such_party") == "no_such_party"  # unknown code: the code itself


def test_missing_ids_and_values_say_what_is_wrong(monkeypatch):
    with pytest.raises(MessageError, match=r"no message 'labels\.nope' in the nb catalogue"):
        text("nb", "labels.nope")
    with pytest.raises(ValueError, match="parameter 'lang': 'de' is not supported"):
        text("de", "labels.measure.sysvak")
    monkeypatch.setattr(catalogue, "catalogue", lambda lang: {"test.only": "{x} and {y}"})
    with pytest.raises(MessageError, match=r"message 'test\.only' \(en\) needs a value for \{x\}"):
        text("en", "test.only", y=1)
    assert text("en", "test.only", x=1, y="b") == "1 and b"


# ---------------------------------------------------------------- every id the code asks for exists

def _callee(call: ast.Call) -> str | None:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _wrappers(tree: ast.Module) -> dict[str, tuple[str, int]]:
    """Functions that ask the catalogue for an id: name -> (prefix, position of the id argument).

    ``text`` and ``has`` take the id itself; a function ``def _t(lang, key): return text(lang, f"trend.{key}")``
    takes the rest of an id after "trend." (found through any chain of such wrappers)."""
    funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    known = {"text": ("", 1), "has": ("", 1)}
    changed = True
    while changed:
        changed = False
        for name, func in funcs.items():
            params = [a.arg for a in func.args.posonlyargs + func.args.args]
            for node in ast.walk(func):
                if name in known or not (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)):
                    continue
                call = node.value
                if _callee(call) not in known:
                    continue
                prefix, at = known[_callee(call)]
                arg = call.args[at] if len(call.args) > at else None
                if (isinstance(arg, ast.JoinedStr) and len(arg.values) == 2
                        and isinstance(arg.values[0], ast.Constant) and isinstance(arg.values[1], ast.FormattedValue)
                        and isinstance(arg.values[1].value, ast.Name) and arg.values[1].value.id in params):
                    known[name] = (prefix + arg.values[0].value, params.index(arg.values[1].value.id))
                    changed = True
    return known


def literal_ids(source: str) -> list[str]:
    """Every message id a piece of code asks for with a literal: text(lang, "a.b"), or _t(lang, "b") for a
    wrapper _t that adds "a." (ids built at run time, f"a.{code}", cannot be read off the code)."""
    tree = ast.parse(source)
    wrappers = _wrappers(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in wrappers:
            prefix, at = wrappers[_callee(node)]
            arg = node.args[at] if len(node.args) > at else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (prefix or "." in arg.value):
                out.append(prefix + arg.value)
    return out


def test_literal_ids_are_read_through_wrappers():
    code = ('def _t(lang, key, **kw):\n    return catalogue.text(lang, f"trend.{key}", **kw)\n'
            'def _d(key, lang):\n    return _t(lang, f"head.{key}")\n'
            'a = text("nb", "labels.unit.percent")\nb = _t("nb", "sentences.x")\nc = _d("low", "en")\n'
            'd = text("nb", f"labels.{x}")\n')
    assert literal_ids(code) == ["labels.unit.percent", "trend.sentences.x", "trend.head.low"]


def _code_files():
    for path in sorted(SRC.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")
    for nb in sorted(paths.NOTEBOOKS_DIR.glob("*/*.ipynb")):
        doc = json.loads(nb.read_text(encoding="utf-8"))
        yield nb, "\n".join("".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code")


def test_every_literal_message_id_in_the_code_exists():
    ids = set(catalogue.catalogue("nb"))
    asked, missing = 0, []
    for path, source in _code_files():
        found = literal_ids(source)
        asked += len(found)
        missing += [f"{path.relative_to(paths.PROJ_ROOT)}: {m}" for m in found if m not in ids]
    assert missing == []
    assert asked > 200  # the presentation layer asks for hundreds of ids: the scan must find them


# ---------------------------------------------------------------- the layers

def _imports(path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in a file, `from x import a, b` giving ("x", ["a", "b"])."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


@pytest.mark.parametrize("name", ANALYSIS)
def test_analysis_modules_are_language_free(name):
    path = SRC / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    takes_lang = [f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and any(a.arg == "lang" for a in f.args.args + f.args.kwonlyargs + f.args.posonlyargs)]
    assert takes_lang == [], f"{name} functions take `lang`"
    layered = [m for m, _ in _imports(path) if m.startswith(("analysis.present", "analysis.pipeline"))]
    assert layered == [], f"{name} imports the presentation or pipeline layer"
    attrs = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "attrs"]
    assert attrs == [], f"{name} passes results in DataFrame.attrs (lines {attrs})"


@pytest.mark.parametrize("path", sorted(PRESENT.glob("*.py")), ids=lambda p: p.stem)
def test_presentation_does_not_reach_into_the_pipeline_or_private_helpers(path):
    for module, names in _imports(path):
        assert not module.startswith("analysis.pipeline"), module
        if module.startswith("analysis."):
            private = [n for n in names if n.startswith("_")]
            assert private == [], f"{path.name} imports private {private} from {module}"


@pytest.mark.parametrize("path", sorted(PIPELINE.glob("*.py")), ids=lambda p: p.stem)
def test_pipeline_imports_no_private_helpers(path):
    for module, names in _imports(path):
        if module.startswith("analysis.") and not module.startswith("analysis.pipeline"):
            assert [n for n in names if n.startswith("_")] == [], module


def test_no_language_dictionaries_outside_the_catalogue():
    """No {"nb": ..., "en": ...} text tables in code: every reader word lives in the catalogue."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"nb", "en"} <= keys:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == []
