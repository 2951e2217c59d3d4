"""Self-contained HTML from an executed notebook for three audiences, and the index.

A briefing page has no code and no exercises (cells tagged ``exercise`` or ``solution`` are left out); a
teaching page has the code and the exercises but not their solutions (cells tagged ``solution`` left out); a
solutions page, for the teacher, has everything. A page's key findings are the list in its
``<section id="key-findings">`` (:func:`key_findings`); the first is the page's meta description.

nbconvert's default ``lab`` template loads require.js, MathJax and mermaid.js from a CDN. The template here
extends it and drops those blocks, images are embedded as data URIs, and :func:`external_resources` finds any
attribute or CSS rule that would still make a browser fetch something. LaTeX in markdown is therefore shown
as written (no MathJax); write formulas in plain text or code.

Cell tags a notebook can use: ``published-data`` / ``own-data`` (the cell appears only on pages of a run on
published figures, the package's or a user's file in that schema, or only on pages of a run on a user's
series, by what :func:`analysis.data.load_data` loaded: a cell that does nothing on the other kind of data does
not show there as dead code), ``lang-nb`` / ``lang-en`` (for a notebook kept as one
file for both languages: the cell appears only in that language's pages), ``remove-cell``, ``remove-input``,
``remove-output``. A briefing page also leaves out stderr output
(warnings). A figure's alternative text can be given with
``display(fig, metadata={"image/png": {"alt": "..."}})``; a figure shown after
:func:`analysis.present.outputs.save_figure` was first called carries its own title; otherwise a generic
text in the page's language is used.
A page built from synthetic data starts with a banner saying so (:func:`synthetic_banner`). Every word these
pages add (banner, alternative text, provenance footer, the index) comes from the message catalogue
(``messages/<lang>/pages.toml``).
The title of a page is the first ``#`` or ``##`` heading a reader sees; its one-line summary is the
notebook metadata ``helsemeldinger.summary`` (text or ``{"nb": ..., "en": ...}``), else the first sentence
after the title.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from analysis.present import catalogue
from analysis.present.catalogue import LANGS

TEMPLATE_NAME = "helsemeldinger.html.j2"
# A4 with "n / N" page numbers: every printed page but the two-page briefing (which sets tighter margins)
A4_PAGE = """@page { size: A4; margin: 15mm 14mm 17mm;
  @bottom-center { content: counter(page) " / " counter(pages); font: 9pt system-ui, sans-serif; color: #444; } }
"""
PRINT_STYLE = "\n" + A4_PAGE + """@media print {
  html, body { background: #fff; }
  main { max-width: none; padding: 0; }
  img, svg, table, figure, pre, .jp-OutputArea-output, .jp-RenderedImage, .hm-key-findings, .hm-synthetic,
  .hm-figure, footer.hm-provenance dl { break-inside: avoid; }
  h1, h2, h3, h4, h5, h6 { break-after: avoid; break-inside: avoid; }
  .jp-OutputArea-output { overflow: visible; }
  .jp-OutputArea-output img { max-height: 240mm; width: auto; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .hm-nav, .anchor-link, a.anchor-link, .jp-skiplink, .skip-link, nav { display: none !important; }
  .hm-key-findings, .hm-synthetic, th { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; }
}
"""

STYLE = """
main { max-width: 68rem; margin: 0 auto; padding: 1rem 1.5rem 2rem; }
.jp-OutputArea-output { overflow-x: auto; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
.jp-RenderedHTMLCommon table { font-size: 0.85rem; }
footer.hm-provenance { margin-top: 3rem; padding-top: 1rem; border-top: 2px solid #888; font-size: 0.8rem;
  color: #333; font-family: system-ui, sans-serif; }
footer.hm-provenance h2 { font-size: 1rem; margin: 0 0 0.5rem; }
footer.hm-provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
footer.hm-provenance dt { font-weight: bold; }
footer.hm-provenance dd { margin: 0; overflow-wrap: anywhere; }
footer.hm-provenance ul { margin: 0; padding-left: 1.2rem; }
.hm-key-findings { margin: 0.5rem 0 1.25rem; padding: 0.7rem 1.1rem 0.7rem 1.2rem; border-left: 6px solid #1f5f8b;
  background: #eef4f9; border-radius: 0 6px 6px 0; font-size: 1.05rem; line-height: 1.45; color: #1a1a1a; }
.hm-key-findings ul { margin: 0; padding-left: 1.1rem; }
.hm-key-findings li { margin: 0.3rem 0; }
"""
STYLE_SYNTHETIC = """
.hm-synthetic { margin: 0 0 1.5rem; padding: 0.8rem 1rem; border: 4px solid #c00000; background: #fff0f0;
  color: #8b0000; font: bold 1.2rem/1.4 system-ui, sans-serif; text-align: center; letter-spacing: 0.02em; }
.hm-synthetic p { margin: 0; }
"""
TEMPLATE = """{%- extends 'hm_fragments.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_css -%}
<meta name="description" content="{{ resources.hm_summary | e }}">
<meta name="helsemeldinger:notebook" content="{{ resources.hm_notebook | e }}">
<meta name="helsemeldinger:lang" content="{{ resources.hm_lang | e }}">
<meta name="helsemeldinger:audience" content="{{ resources.hm_audience | e }}">
<meta name="helsemeldinger:built" content="{{ resources.hm_built | e }}">
<meta name="helsemeldinger:synthetic" content="{{ resources.hm_synthetic | e }}">
<meta name="helsemeldinger:data-files" content="{{ resources.hm_data_files | e }}">
<style type="text/css">{{ resources.hm_style }}</style>
{%- endblock html_head_css -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
alt="{{ (output.metadata.get('image/png', {}).get('alt') or resources.hm_image_alt) | escape_html }}"
{%- set width=output | get_metadata('width', 'image/png') -%}
{%- if width is not none %} width={{ width | escape_html }}{%- endif %}
{%- set height=output | get_metadata('height', 'image/png') -%}
{%- if height is not none %} height={{ height | escape_html }}{%- endif %}
>
</div>
{%- endblock data_png %}
{% block body_header %}
{{ super() }}
{{ resources.hm_banner }}
{% endblock body_header %}
{% block body_footer %}
{{ resources.hm_footer }}
</main>
</body>
{% endblock body_footer %}
"""
# Tags a notebook author can put on cells (the usual Jupyter Book / nbconvert names).
REMOVE_CELL_TAGS = {"remove-cell", "remove_cell", "hm-provenance"}
REMOVE_INPUT_TAGS = {"remove-input", "remove_input", "hide-input"}
REMOVE_OUTPUT_TAGS = {"remove-output", "remove_output"}
AUDIENCES = ("briefing", "teaching", "solutions")
# Cells each audience does not see: a briefing has no exercises, a student's teaching page no solutions.
AUDIENCE_DROPS = {"briefing": {"exercise", "solution"}, "teaching": {"solution"}, "solutions": set()}


def select_language(nb: nbformat.NotebookNode, lang: str | None) -> nbformat.NotebookNode:
    """Copy of `nb` without the cells tagged for another language (`lang-nb`, `lang-en`); all if no lang."""
    out = copy.deepcopy(nb)
    if lang:
        other = {f"lang-{x}" for x in LANGS if x != lang}
        out.cells = [c for c in out.cells if not set(c.get("metadata", {}).get("tags", [])) & other]
    return out


DATA_TAGS = {True: "published-data", False: "own-data"}  # cells only for runs on that kind of data


def select_for_data(nb: nbformat.NotebookNode, published: bool) -> nbformat.NotebookNode:
    """Copy of `nb` without the cells tagged for the other kind of data (`published-data`, `own-data`)."""
    out = copy.deepcopy(nb)
    other = DATA_TAGS[not published]
    out.cells = [c for c in out.cells if other not in c.get("metadata", {}).get("tags", [])]
    return out


_STYLER_ID = re.compile(r'<table id="T_([0-9a-f]{5,})"')


def _shallow(node):  # type: ignore[no-untyped-def]
    """A copy of a notebook node of the same type, sharing its values."""
    return type(node)(node)


def _stable_styler_ids(cells: list) -> list:
    """`cells` with the random ids pandas' Styler gives its tables (``T_3f9a1``) replaced by ones numbered in page
    order; a cell whose HTML changes is a copy (`cells` are left as they are)."""
    count = 0
    result = []
    for cell in cells:
        outputs = cell.get("outputs", [])
        changed = None
        for i, out in enumerate(outputs):
            page = out.get("data", {}).get("text/html")
            if not isinstance(page, str):
                continue
            new = page
            for uuid in dict.fromkeys(_STYLER_ID.findall(page)):
                count += 1
                new = re.sub(rf"\bT_{uuid}(?![0-9a-f])", f"T_hm{count:03d}", new)
            if new != page:
                changed = changed or list(outputs)
                changed[i] = out = _shallow(out)
                out["data"] = _shallow(out["data"])
                out["data"]["text/html"] = new
        if changed is not None:
            cell = _shallow(cell)
            cell["outputs"] = changed
        result.append(cell)
    return result


def select_audience(nb: nbformat.NotebookNode, audience: str) -> nbformat.NotebookNode:
    """Copy of `nb` without the cells `audience` does not see (briefing: `exercise`, `solution`; teaching:
    `solution`; solutions: none)."""
    if audience not in AUDIENCE_DROPS:
        raise ValueError(f"audience {audience!r}: use one of {list(AUDIENCES)}")
    out = copy.deepcopy(nb)
    drop = AUDIENCE_DROPS[audience]
    out.cells = [c for c in out.cells if not set(c.get("metadata", {}).get("tags", [])) & drop]
    return out


def _strip(nb: nbformat.NotebookNode, briefing: bool, audience: str = "") -> nbformat.NotebookNode:
    """Copy of `nb` without tagged cells, inputs and outputs and the cells `audience` does not see (default:
    briefing or teaching, by `briefing`); a briefing also drops stderr (warnings).

    The copy shares the cells it does not change with `nb` (nbconvert copies the notebook it is given)."""
    audience = audience or ("briefing" if briefing else "teaching")
    if audience not in AUDIENCE_DROPS:
        raise ValueError(f"audience {audience!r}: use one of {list(AUDIENCES)}")
    drop = AUDIENCE_DROPS[audience]
    shown = [c for c in nb.cells if not set(c.get("metadata", {}).get("tags", [])) & drop]
    cells = []
    for cell in _stable_styler_ids(shown):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if "injected-parameters" in tags:
            cell = _shallow(cell)
            cell["id"] = "injected-parameters"  # papermill gives it a random id: keep pages reproducible
        if cell.cell_type == "code":
            if tags & REMOVE_INPUT_TAGS:
                cell = _shallow(cell)
                cell["metadata"] = metadata = _shallow(cell.metadata)
                transient = _shallow(metadata["transient"]) if "transient" in metadata else {}
                transient["remove_source"] = True
                metadata["transient"] = transient
            if tags & REMOVE_OUTPUT_TAGS:
                cell = _shallow(cell)
                cell["outputs"] = []
            if briefing:
                shown_outputs = [o for o in cell.outputs
                                 if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
                if not shown_outputs:
                    continue  # nothing a reader would see
                if len(shown_outputs) != len(cell.outputs):
                    cell = _shallow(cell)
                    cell["outputs"] = shown_outputs
        cells.append(cell)
    out = _shallow(nb)
    out["metadata"] = _shallow(nb.metadata)
    out["cells"] = cells
    return out


_LOCAL = threading.local()


def _exporter(with_code: bool, language_code: str):
    """An HTMLExporter for this thread, kept: building one and compiling its template costs ~0.3 s."""
    cache = _LOCAL.__dict__.setdefault("exporters", {})
    key = with_code
    if key in cache:
        cache[key].language_code = language_code
    else:
        import jinja2

        from analysis.pipeline.page_exporter import PageExporter  # TEMPLATE extends its FRAGMENTS_TEMPLATE

        cache[key] = PageExporter(
            template_name="lab",
            extra_loaders=[jinja2.DictLoader({TEMPLATE_NAME: TEMPLATE})],
            template_file=TEMPLATE_NAME,
            embed_images=True,
            exclude_input=not with_code,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            mathjax_url="",
            require_js_url="",
            language_code=language_code,
        )
    return cache[key]


def export_html(
    nb: nbformat.NotebookNode,
    *,
    with_code: bool,
    title: str,
    summary: str = "",
    footer: str = "",
    lang: str | None = None,
    notebook: str = "",
    built: str = "",
    synthetic: bool = False,
    audience: str = "",
    data_files: Iterable[tuple[str, str]] = (),
) -> str:
    """Return one self-contained HTML page for an executed notebook: with code cells or without.

    `audience` (briefing, teaching, solutions; default briefing without code, teaching with code) decides
    which tagged cells are left out. With `synthetic`, the page starts with the synthetic-data banner.
    `data_files` (path, sha256) are recorded in the page's meta ``helsemeldinger:data-files`` (JSON).
    """
    audience = audience or ("teaching" if with_code else "briefing")
    doc = _strip(nb, briefing=not with_code, audience=audience)
    doc.metadata["title"] = title
    exporter = _exporter(with_code, lang or "en")
    resources = {
        "hm_footer": footer,
        "hm_summary": summary,
        "hm_lang": lang or "",
        "hm_notebook": notebook,
        "hm_audience": audience,
        "hm_built": built,
        "hm_style": STYLE + STYLE_SYNTHETIC + PRINT_STYLE,
        "hm_data_files": json.dumps([list(f) for f in data_files], ensure_ascii=False),
        "hm_image_alt": image_alt(lang),
        "hm_banner": synthetic_banner(lang) if synthetic else "",
        "hm_synthetic": "true" if synthetic else "false",
    }
    body, _ = exporter.from_notebook_node(doc, resources=resources)
    return body


# A small notebook with every kind of cell and output a report has, exported once per process by
# start_warm_up(): nbconvert and what its filters load (pygments' lexer and formatter, the markdown renderer, the
# HTML cleaner, BeautifulSoup) are imported and the two page templates compiled before the first real page.
_WARM_UP_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
WAIT_FOR_KERNEL = 60.0  # seconds the warm-up waits for the event it is given before it starts anyway
_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def _warm_up_notebook() -> nbformat.NotebookNode:
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    code = new_code_cell("import math\nprint(math.pi)  # a comment\ndisplay({'a': 1})", execution_count=1)
    code.outputs = [
        new_output("stream", name="stdout", text="3.14\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("display_data", {"text/markdown": "**bold** text", "text/plain": "bold"}),
        new_output("display_data", {"image/png": _WARM_UP_PNG, "text/plain": "<Figure>"},
                   metadata={"image/png": {"alt": "a figure", "width": 1, "height": 1}}),
        new_output("execute_result", {"text/html": "<table><thead><tr><th>a</th></tr></thead>"
                                                   "<tbody><tr><td>1</td></tr></tbody></table>",
                                      "text/plain": "a 1"}, execution_count=1),
    ]
    return new_notebook(cells=[
        new_markdown_cell("# Title\n\nA paragraph with *emphasis*, `code` and a [link](#x).\n\n"
                          "| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two"),
        code,
        new_markdown_cell("## Key findings\n\n1. First.\n2. Second."),
    ], metadata={"language_info": {"name": "python"}})


def _warm_up(after: threading.Event | None = None) -> None:
    if after is not None:
        after.wait(WAIT_FOR_KERNEL)
    try:
        nb = _warm_up_notebook()
        for with_code in (False, True):
            export_html(nb, with_code=with_code, title="warm-up", lang="en")
    except Exception:  # noqa: BLE001 - only a head start: the first real page does this work if it failed
        pass


def start_warm_up(after: threading.Event | None = None) -> threading.Thread:
    """Export a small notebook in a background thread, once per process, so the first real page does not pay
    for nbconvert's imports and the templates' compilation; the thread first waits until `after` is set (e.g.
    the kernel has been launched), at most WAIT_FOR_KERNEL seconds. Return the thread. Pages are the same with
    and without it: what it leaves behind is compiled templates and memos."""
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is None:
            _warm_up_thread = threading.Thread(target=_warm_up, args=(after,), name="pages-warm-up", daemon=True)
            _warm_up_thread.start()
        return _warm_up_thread


def image_alt(lang: str | None = None) -> str:
    """Return the alternative text of a figure that has none of its own, in `lang` (English when None)."""
    return catalogue.text(catalogue.check_lang(lang or "en"), "pages.figure.alt")


def synthetic_banner(lang: str | None = None) -> str:
    """Return the synthetic-data banner as HTML: in `lang`, or in every language when it is None."""
    langs = [catalogue.check_lang(lang)] if lang else list(LANGS)
    lines = "".join(f'<p lang="{x}">{html.escape(catalogue.text(x, "pages.synthetic.banner"))}</p>' for x in langs)
    return f'<div class="hm-synthetic" role="note">{lines}</div>'


# ---------------------------------------------------------------- title and summary

_HEADING = re.compile(r"^\s{0,3}#{1,2}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _markdown_sources(nb: nbformat.NotebookNode) -> Iterable[str]:
    """Markdown a reader sees, in order: markdown cells and markdown outputs of code cells."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            yield cell.source
        elif cell.cell_type == "code":
            for out in cell.get("outputs", []):
                text = out.get("data", {}).get("text/markdown")
                if text:
                    yield text if isinstance(text, str) else "".join(text)


def plain_text(markdown: str) -> str:
    """Return markdown as one line of plain text (links, emphasis, code marks and HTML tags removed)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markdown)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[*_`]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def notebook_title(nb: nbformat.NotebookNode, fallback: str = "") -> str:
    """Return the notebook's first level-1 or level-2 markdown heading as plain text, else `fallback`."""
    for source in _markdown_sources(nb):
        m = _HEADING.search(source)
        if m:
            return plain_text(m.group(1))
    return fallback


def _first_sentence(text: str, limit: int = 220) -> str:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«\"(])", text, maxsplit=1)
    first = parts[0]
    if len(first) > limit:
        first = first[: limit - 1].rsplit(" ", 1)[0] + "…"
    return first


def notebook_summary(nb: nbformat.NotebookNode, lang: str | None = None) -> str:
    """Return a one-line summary: metadata `summary` (text or {lang: text}), else the first sentence of the
    first paragraph after the title heading."""
    meta = nb.metadata.get("helsemeldinger", {}).get("summary") or nb.metadata.get("summary")
    if isinstance(meta, Mapping):
        meta = meta.get(lang or "", "") or next(iter(meta.values()), "")
    if isinstance(meta, str) and meta.strip():
        return plain_text(meta)
    seen_title = False
    for source in _markdown_sources(nb):
        for block in re.split(r"\n\s*\n", source):
            stripped = block.strip()
            if not stripped:
                continue
            if _HEADING.match(stripped):
                seen_title = True
                rest = _HEADING.sub("", stripped).strip()
                if not rest:
                    continue
                stripped = rest
            if seen_title and not stripped.startswith(("|", "```", "<", "-", "*", ">")):
                return _first_sentence(plain_text(stripped))
    return ""


# ---------------------------------------------------------------- key findings

FINDINGS_ID = "key-findings"  # <section id="key-findings"><ul><li>...</li></ul></section>


class _FindingsReader(HTMLParser):
    """Collects the text of each <li> inside the first element with id="key-findings"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[str] = []
        self.lang = ""
        self._depth = 0  # open elements inside the findings element (0: outside)
        self._done = False
        self._item: list[str] | None = None
        self._item_depth = 0

    _VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "source", "col", "area", "base", "embed", "track"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._item is not None and tag == "br":
            self._item.append(" ")
        if self._done or tag in self._VOID:
            return
        if self._depth == 0:
            a = {k: (v or "") for k, v in attrs}
            if a.get("id") == FINDINGS_ID:
                self._depth = 1
                self.lang = a.get("lang", "")
            return
        self._depth += 1
        if tag == "li" and self._item is None:
            self._item, self._item_depth = [], self._depth

    def handle_endtag(self, tag: str) -> None:
        if self._done or self._depth == 0 or tag in self._VOID:
            return
        if self._item is not None and self._depth == self._item_depth:
            self.items.append(re.sub(r"\s+", " ", "".join(self._item)).strip())
            self._item = None
        self._depth -= 1
        if self._depth == 0:
            self._done = True

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)


def key_findings(page: str) -> list[str]:
    """Return the key findings of an HTML page or fragment: the plain text of each list item of its
    ``id="key-findings"`` element, in order ([] when it has none)."""
    if FINDINGS_ID not in page:
        return []
    reader = _FindingsReader()
    reader.feed(page)
    reader.close()
    return [item for item in reader.items if item]


def notebook_findings(nb: nbformat.NotebookNode) -> list[str]:
    """Return the key findings an executed notebook displays (the first HTML output holding them)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            page = out.get("data", {}).get("text/html")
            page = "".join(page) if isinstance(page, list) else page
            if isinstance(page, str) and FINDINGS_ID in page:
                found = key_findings(page)
                if found:
                    return found
    return []


# ---------------------------------------------------------------- checking that a page is self-contained

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE)
_RESOURCE_ATTRS = {
    "script": ("src",), "img": ("src", "srcset"), "source": ("src", "srcset"), "iframe": ("src",),
    "frame": ("src",), "embed": ("src",), "object": ("data",), "video": ("src", "poster"), "audio": ("src",),
    "track": ("src",), "input": ("src",), "image": ("href", "xlink:href"), "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
}
_LINK_OK_RELS = {"canonical", "alternate", "author", "help", "license", "next", "prev", "search", "bookmark"}


def _is_embedded(ref: str) -> bool:
    ref = ref.strip()
    return ref == "" or ref.startswith("#") or ref.lower().startswith(("data:", "about:blank"))


class _ResourceFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def _check(self, where: str, ref: str) -> None:
        # srcset: "url 1x, url 2x"; a data: URI has a comma of its own but no space after it
        refs = [part.strip().split(" ")[0] for part in re.split(r",\s+", ref)] if "srcset" in where else [ref]
        self.found.extend(f"{where}={r}" for r in refs if not _is_embedded(r))

    def _check_css(self, where: str, css: str) -> None:
        for m in _CSS_URL.finditer(css):
            ref = m.group(2) if m.group(2) is not None else m.group(4)
            if not _is_embedded(ref):
                self.found.append(f"{where} {m.group(0)}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        for name in _RESOURCE_ATTRS.get(tag, ()):
            if name in a:
                self._check(f"<{tag} {name}>", a[name])
        if tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            if not rels or not rels <= _LINK_OK_RELS:
                self._check(f"<link rel={a.get('rel', '')} href>", a["href"])
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh" and "url=" in a.get("content", "").lower():
            self.found.append(f"<meta refresh> {a['content']}")
        if "style" in a:
            self._check_css(f"<{tag} style>", a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._check_css("<style>", data)


def page_head(lang: str, title_html: str, style: str, meta: Sequence[tuple[str, str]]) -> str:
    """The start of a self-contained page up to ``<body>``: language, charset, viewport, the named metas
    (values escaped here), the title (given as HTML) and the style."""
    metas = "".join(f'<meta name="{html.escape(n)}" content="{html.escape(v)}">\n' for n, v in meta)
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n{metas}'
            f'<title>{title_html}</title>\n<style>{style}</style>\n</head>\n<body>\n')


def external_resources(page: str) -> list[str]:
    """Return every reference in an HTML page that a browser would fetch (anything but data: URIs and #ids).

    Links a reader can click (``<a href>``) are not resources and are not listed.
    """
    finder = _ResourceFinder()
    finder.feed(page)
    finder.close()
    return finder.found


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        elif tag == "title":
            self._title = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self.meta["title"] = "".join(self._title).strip()
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)


def read_meta(page: str) -> dict[str, str]:
    """Return a report page's <title> (key "title") and its <meta name=...> contents."""
    reader = _MetaReader()
    reader.feed(page.split("</head>", 1)[0])
    return reader.meta


# ---------------------------------------------------------------- writing

def write_atomic(target: Path, text: str) -> Path:
    """Write `text` to `target` via a temporary file and a rename, so a failure never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


# ---------------------------------------------------------------- the index page

INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 0 auto; padding: 1rem 1.5rem 2rem;
  color: #222; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.5rem; border-bottom: 1px solid #ccc; }
th { background: #f0f0f0; }
.hm-stale { color: #a00; font-weight: bold; }
.hm-files { columns: 2; font-size: 0.85rem; }
footer { margin-top: 2rem; font-size: 0.8rem; color: #444; border-top: 2px solid #888; padding-top: 0.5rem; }
.hm-synthetic-label { color: #c00000; font-weight: bold; }
ul.hm-findings { margin: 0; padding-left: 1.1rem; }
ul.hm-findings li { margin: 0 0 0.2rem; }
@media print { tr { break-inside: avoid; } }
"""


def bilingual(msgid: str, /, **values: object) -> str:
    """Return message `msgid` in every language, joined by " / " (the index page is for readers of both)."""
    return " / ".join(catalogue.text(lang, msgid, **values) for lang in LANGS)


def inline_html(text: str) -> str:
    """Return catalogue text as HTML: escaped, with `backticked` parts as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def index_footer(version: str, commit: str | None, dirty: bool | None, data_path: str = "",
                 data_sha256: str = "", built: str = "") -> str:
    """Return the footer of an index page: package version, commit, the data (a file with its sha256, or the
    published figures) and the build time, in both languages."""
    e = html.escape
    if data_path:
        data = f"<code>{e(data_path)}</code>" + (f" (sha256 <code>{e(data_sha256)}</code>)" if data_sha256 else "")
    else:
        data = f"{e(bilingual('pages.index.published_data'))} (<code>data/</code>)"
    changes = f" (+ {e(bilingual('pages.index.changes'))})" if dirty else ""
    return (f'<footer class="hm-provenance">helsemeldinger {e(version)} · commit '
            f"<code>{e(commit or 'unknown')}</code>{changes} · data: {data} · "
            f"{e(bilingual('pages.index.built'))} <time>{e(built)}</time></footer>")


def index_html(
    entries: list[Mapping[str, str]],
    figures: list[str],
    tables: list[str],
    footer: str,
    *,
    data_name: str = "",
    data_path: str = "",
    synthetic: bool = False,
    data_sets: list[Mapping[str, str]] | None = None,
    up: str = "",
    built: str = "",
    handouts: Mapping[str, str] | None = None,
) -> str:
    """Return an index page: one row per report (title, key findings or one-line summary, language, audiences).

    Its words are in both languages, side by side (catalogue ids ``pages.index.*``). `data_name` (the file
    name of a user's data) makes it the index of reports on that file; `synthetic` puts the synthetic-data
    banner on top; `data_sets` lists report sets on users' files (href, name, path, built, synthetic) in
    folders below; `up` links back to the index of the published reports. An entry's `findings` (a list) are
    shown as its summary; `handouts` (label key -> href: ``briefing_<lang>``, ``pdf_<lang>``, ``teaching``)
    links the two-page briefing and the teaching index.
    """
    e = html.escape

    def both(msgid: str, **values: object) -> str:
        return e(bilingual(msgid, **values))

    synthetic_label = f'<br><span class="hm-synthetic-label">{both("pages.synthetic.label")}</span>'
    rows = []
    for ent in entries:
        stale = f'<br><span class="hm-stale">{both("pages.index.stale")}</span>' if ent.get("stale") else ""
        fake = synthetic_label if ent.get("synthetic") else ""
        teaching = (f'<a href="{e(ent["teaching"])}">{both("pages.index.code_link")}</a>'
                    if ent.get("teaching") else "–")
        findings = ent.get("findings") or []
        lang_attr = f' lang="{e(ent["lang"])}"' if ent.get("lang") else ""
        summary = (f'<ul class="hm-findings"{lang_attr}>' + "".join(f"<li>{e(f)}</li>" for f in findings) + "</ul>"
                   if findings else e(ent.get("summary", "")))
        rows.append(
            f"<tr><td><a href=\"{e(ent['briefing'])}\">{e(ent['title'])}</a>{fake}{stale}</td>"
            f"<td>{summary}</td><td>{e(ent.get('lang', '') or '–')}</td>"
            f"<td>{teaching}</td><td><code>{e(ent['notebook'])}</code></td>"
            f"<td><time>{e(ent.get('built', ''))}</time></td></tr>"
        )

    def file_list(names: list[str], folder: str) -> str:
        if not names:
            return "<p>–</p>"
        return '<ul class="hm-files">' + "".join(
            f'<li><a href="{e(folder)}/{e(n)}">{e(n)}</a></li>' for n in names) + "</ul>"

    def paragraph(msgid: str) -> str:
        """The message in nb, then in English in italics, as one paragraph."""
        nb, *others = (inline_html(catalogue.text(lang, msgid)) for lang in LANGS)
        return nb + "".join(f'<br>\n<i lang="{lang}">{t}</i>' for lang, t in zip(LANGS[1:], others, strict=True))

    sets = ""
    if data_sets:
        built_word = both("pages.index.built")
        items = "".join(
            f'<li><a href="{e(d["href"])}">{e(d["name"])}</a> (<code>{e(d.get("path", ""))}</code>'
            f'{f", {built_word} <time>" + e(d["built"]) + "</time>" if d.get("built") else ""})'
            f'{synthetic_label if d.get("synthetic") else ""}</li>'
            for d in data_sets)
        sets = (f'<h2>{both("pages.index.own_sets")}</h2>\n<p>{paragraph("pages.index.own_sets_intro")}</p>\n'
                f'<ul>{items}</ul>\n')
    if data_name:
        heading = f"helsemeldinger: {bilingual('pages.index.title_data', name=data_name)}"
        intro_data = (f"<p><strong>Data: <code>{e(data_path or data_name)}</code></strong> – "
                      f"{both('pages.index.data_own')}</p>\n")
    else:
        heading = f"helsemeldinger: {bilingual('pages.index.title')}"
        intro_data = ""
    banner = synthetic_banner(None) if synthetic else ""
    up_link = f'<p class="hm-nav"><a href="{e(up)}">← {both("pages.index.back")}</a></p>\n' if up else ""
    extra = ""
    if handouts:
        links = []
        for lang in LANGS:
            if handouts.get(f"briefing_{lang}"):
                pdf = handouts.get(f"pdf_{lang}")
                pdf_word = e(catalogue.text(lang, "pages.index.briefing_pdf"))
                pdf_link = f' (<a href="{e(pdf)}">{pdf_word}</a>)' if pdf else ""
                links.append(f'<li lang="{lang}"><a href="{e(handouts[f"briefing_{lang}"])}">'
                             f'{e(catalogue.text(lang, "pages.index.briefing_intro"))}</a>{pdf_link}</li>')
        if handouts.get("teaching"):
            links.append(f'<li><a href="{e(handouts["teaching"])}">{both("pages.index.teaching_index")}</a></li>')
        if links:
            extra = f'<h2>{both("pages.index.briefing_heading")}</h2>\n<ul class="hm-handouts">{"".join(links)}</ul>\n'

    columns = "".join(f"<th>{both(f'pages.index.col_{c}')}</th>"
                      for c in ("report", "summary", "lang", "code", "notebook", "built"))
    head = page_head(LANGS[0], e(heading), f"{INDEX_STYLE}{STYLE_SYNTHETIC}{PRINT_STYLE}", [
        ("helsemeldinger:data-name", data_name), ("helsemeldinger:data", data_path),
        ("helsemeldinger:synthetic", "true" if synthetic else "false"), ("helsemeldinger:built", built)])
    return f"""{head}<main>
{banner}{up_link}<h1>{e(heading)}</h1>
{intro_data}
<p>{paragraph("pages.index.intro")}</p>
{extra}<table>
<thead><tr>{columns}</tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
<h2>{both("pages.index.figures")} (PNG, SVG)</h2>
{file_list(figures, "figures")}
<h2>{both("pages.index.tables")} (CSV, UTF-8)</h2>
{file_list(tables, "tables")}
{sets}{footer}
</main>
</body>
</html>
"""
