"""nbconvert's HTML exporter, doing once what the three pages of a report would each do again.

:class:`PageExporter` gives byte for byte the page :class:`nbconvert.HTMLExporter` gives for the same notebook,
configuration and template. The three pages of a report (briefing, teaching, solutions) share most of their
cells, so it keeps, per process, what depends only on its input:

- a code cell's highlighted source (``highlight_code``), the bleach cleaning of it (``clean_html``) and a
  markdown text's HTML (``markdown2html``);
- a cell part after nbconvert's BeautifulSoup pass. nbconvert parses each whole page with BeautifulSoup
  (html.parser), gives images without alternative text one, makes inputs and outputs focusable (``tabindex``)
  and writes the page out again, which also normalises its HTML. A template that extends
  :data:`FRAGMENTS_TEMPLATE` marks each input, output and markdown cell as a fragment (filter ``hm_fragment``).
  A fragment that starts and ends with a tag, whose end tags each close the element opened last and which
  leaves nothing open (:func:`self_contained`) is read the same wherever it stands: it goes through the pass
  once, on its own, and each page parses only its skeleton, where a placeholder element stands for each such
  fragment. The page takes nbconvert's pass whole instead when the skeleton is not cut cleanly at each
  placeholder (a comment, tag or script begun before it is not over) or a placeholder is not where a fragment
  is read as on its own (inside the notebook element, outside ``<pre>`` and ``<textarea>``).

Kept values are bounded (:data:`MEMO_CHARS`). The exporters of a process share their compiled templates (a
Jinja bytecode cache in memory). The notebook is validated once after the preprocessors (nbconvert's
``optimistic_validation``), not after each, and copied twice per page, not three times.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from collections.abc import Callable, Hashable
from html.parser import HTMLParser
from typing import Any

from bs4 import BeautifulSoup
from bs4.builder import HTMLParserTreeBuilder
from jinja2 import BytecodeCache, Environment, pass_context
from jinja2.bccache import Bucket
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.strings import clean_html
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

FRAGMENTS_TEMPLATE = "hm_fragments.html.j2"
# The lab template, each input, output and markdown cell passed through the hm_fragment filter (same text otherwise).
FRAGMENTS_SOURCE = """{%- extends 'index.html.j2' -%}
{% block input_group %}{% filter hm_fragment %}{{ super() }}{% endfilter %}{% endblock input_group %}
{% block output %}{% filter hm_fragment %}{{ super() }}{% endfilter %}{% endblock output %}
{% block markdowncell %}{% filter hm_fragment %}{{ super() }}{% endfilter %}{% endblock markdowncell %}
"""
MEMO_CHARS = 16_000_000  # about this many characters kept per kind (a build keeps ~3 M); a full memo starts again

_PLACEHOLDER = "hm-fragment"  # the element standing for a fragment in the skeleton: <hm-fragment data-hm="...">
_RESOURCE = "hm_fragments"
_NOTEBOOK = '<div class="jp-Notebook">'  # a fragment is read inside this, as in the page
_BUILDER = HTMLParserTreeBuilder()  # what nbconvert's BeautifulSoup(..., features="html.parser") reads with
_VOID = frozenset(_BUILDER.empty_element_tags)  # elements bs4 closes as soon as they open
_PRESERVE = frozenset(_BUILDER.preserve_whitespace_tags)  # inside these bs4 keeps whitespace-only text as it is


class _Memo:
    """A dict of computed values, emptied when the text it holds passes `limit` characters."""

    def __init__(self, limit: int = MEMO_CHARS) -> None:
        self.values: dict[Hashable, Any] = {}
        self.size = 0
        self.limit = limit
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any], size: int) -> Any:
        try:
            return self.values[key]
        except KeyError:
            pass
        value = compute()
        with self._lock:
            if self.size + size > self.limit:
                self.values.clear()
                self.size = 0
            self.values[key] = value
            self.size += size
        return value


_CLEAN = _Memo()
_HIGHLIGHT = _Memo()
_MARKDOWN = _Memo()
_FRAGMENTS = _Memo()


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def kept_clean_html(element: str | bytes) -> str:
    """nbconvert's ``clean_html`` (bleach), computed once per distinct input."""
    return _CLEAN.get(element, lambda: clean_html(element), len(element))


class _KeptHighlight:
    """A ``highlight_code`` filter whose results are kept (the highlighter's lexer and options are in the key)."""

    def __init__(self, highlighter: Highlight2HTML) -> None:
        self.highlighter = highlighter

    def __call__(self, source: str, language: str | None = None, metadata: object = None) -> str:
        h = self.highlighter
        key = (h.pygments_lexer, _json(h.extra_formatter_options), source, language, _json(metadata))
        return _HIGHLIGHT.get(key, lambda: h(source, language=language, metadata=metadata), len(source))


def page_pass(page: str) -> tuple[str, int]:
    """nbconvert's BeautifulSoup pass over a page: alternative text for images without, ``tabindex`` on inputs and
    outputs, written out again; returns the page and the number of images that had no alternative text."""
    return _soup_pass(BeautifulSoup(page, features="html.parser"))


def _soup_pass(soup: BeautifulSoup) -> tuple[str, int]:
    # as HTMLExporter.from_notebook_node (nbconvert 7)
    missing_alt = 0
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = "No description has been provided for this image"
        missing_alt += 1
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return str(soup), missing_alt


class _Closure(HTMLParser):
    """Reads HTML as BeautifulSoup's html.parser builder does and tells whether its elements all close inside it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # as bs4 reads: character references come one by one
        self.open: list[str] = []
        self.closed = True
        self.first = self.last = ""

    def _seen(self, kind: str) -> None:
        self.first = self.first or kind
        self.last = kind

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._seen("tag")
        if tag not in _VOID:  # bs4 closes a void element at once
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._seen("tag")  # <x/>: opened and closed

    def handle_endtag(self, tag: str) -> None:
        self._seen("tag")
        # an end tag closing more than the last element, or nothing, or a void element (whether bs4 ignores that
        # one depends on what came before) would act on elements outside the fragment
        if tag in _VOID or not self.open or self.open[-1] != tag:
            self.closed = False
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self._seen("data")

    def handle_charref(self, name: str) -> None:
        self._seen("data")

    def handle_entityref(self, name: str) -> None:
        self._seen("data")

    def handle_comment(self, data: str) -> None:
        self._seen("other")

    def handle_decl(self, decl: str) -> None:
        self._seen("other")

    def handle_pi(self, data: str) -> None:
        self._seen("other")

    def unknown_decl(self, data: str) -> None:
        self._seen("other")


def self_contained(fragment: str) -> bool:
    """Whether `fragment` is read by BeautifulSoup the same wherever it stands in a page: it starts and ends with
    a tag (no text to join the page's), every end tag closes the element last opened, nothing is left open."""
    if not fragment.startswith("<") or not fragment.endswith(">") or _PLACEHOLDER in fragment:
        return False
    reader = _Closure()
    reader.feed(fragment)
    return (reader.closed and not reader.open and not reader.rawdata and reader.cdata_elem is None
            and reader.first != "data" and reader.last != "data")


def _fragment_pass(fragment: str) -> tuple[str, int] | None:
    """The page pass over a self-contained fragment, read inside the notebook element; None if not self-contained."""
    if not self_contained(fragment):
        return None
    out, missing_alt = page_pass(f"{_NOTEBOOK}{fragment}</div>")
    if not (out.startswith(_NOTEBOOK) and out.endswith("</div>")):
        return None
    return out[len(_NOTEBOOK):-len("</div>")], missing_alt


class _Tokens(HTMLParser):
    """Reads HTML as bs4's parser does, noting end tags of void elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.void_end = False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <x/>: bs4 opens and closes it, whatever the void elements before

    def handle_endtag(self, tag: str) -> None:
        self.void_end = self.void_end or tag in _VOID


def _cut_at_marks(skeleton: str, marks: re.Pattern[str]) -> bool:
    """Whether html.parser has read everything before each placeholder of `skeleton` when it gets there, so that no
    comment, declaration, tag or script text before it could end inside the fragment it stands for, and whether the
    skeleton has no end tag of a void element (bs4 ignores one or not by the void elements seen before it)."""
    reader = _Tokens()
    start = 0
    for m in marks.finditer(skeleton):
        reader.feed(skeleton[start:m.start()])
        if reader.rawdata or reader.cdata_elem is not None:
            return False
        start = m.end()
    reader.feed(skeleton[start:])
    return not reader.void_end


class _Fragments:
    """The fragments of one page, in order, and the mark of this page's placeholders."""

    def __init__(self) -> None:
        self.mark = secrets.token_hex(8)
        self.items: list[tuple[str, str, int]] = []  # (fragment as rendered, after the page pass, images without alt)


_LEAD = re.compile(r"^\s*")
_TRAIL = re.compile(r"\s*$")


def _compiles_alike(env: Environment) -> tuple:
    """What of an environment a compiled template depends on: its class, syntax and options, its extensions, and
    its filters and tests (the compiler writes in how each is passed, and may call one on constant arguments)."""
    syntax = (env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
              env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
              env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline)

    def what(f: object) -> tuple[str, str]:
        target = getattr(f, "__func__", f)  # a method: its function
        if not hasattr(target, "__qualname__"):
            target = type(target)  # a callable object: its class
        return f"{target.__module__}.{target.__qualname__}", repr(getattr(f, "jinja_pass_arg", None))

    functions = tuple(sorted((kind, name, *what(f)) for kind, table in (("filter", env.filters), ("test", env.tests))
                             for name, f in table.items()))
    return (type(env), env.code_generator_class, env.sandboxed, syntax, env.optimized, env.is_async,
            repr(env.autoescape), tuple(sorted(env.extensions)), functions,
            None if env.finalize is None else what(env.finalize))


class _SharedTemplates(BytecodeCache):
    """Compiled templates shared by the exporters of a process: each would otherwise compile nbconvert's
    templates again on its first page (~0.5 s; the pipeline keeps two exporters in each thread)."""

    def __init__(self) -> None:
        self.codes: dict[tuple, tuple[str, Any]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give `bucket` the code compiled for the same template source in an environment that compiles alike."""
        found = self.codes.get((bucket.key, _compiles_alike(bucket.environment)))
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled for `bucket`."""
        self.codes[(bucket.key, _compiles_alike(bucket.environment))] = (bucket.checksum, bucket.code)


_TEMPLATES = _SharedTemplates()


class PageExporter(HTMLExporter):
    """An HTMLExporter with the same output that keeps, per process, what a report's pages have in common."""

    def __init__(self, **kw: Any) -> None:
        import jinja2

        kw.setdefault("optimistic_validation", True)
        loaders = [*kw.pop("extra_loaders", []), jinja2.DictLoader({FRAGMENTS_TEMPLATE: FRAGMENTS_SOURCE})]
        super().__init__(extra_loaders=loaders, **kw)

    def _create_environment(self) -> Environment:
        """nbconvert's environment, its compiled templates shared with the process's other PageExporters."""
        environment = super()._create_environment()
        environment.bytecode_cache = _TEMPLATES
        return environment

    def default_filters(self):  # type: ignore[no-untyped-def]
        """nbconvert's filters, ``clean_html`` kept, and ``hm_fragment``."""
        yield from super().default_filters()
        yield ("clean_html", kept_clean_html)
        yield ("hm_fragment", self._fragment)

    @pass_context
    def markdown2html(self, context, source):  # type: ignore[no-untyped-def]
        """nbconvert's markdown filter, computed once per text, cell attachments, folder and settings."""
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (source, _json(cell.get("attachments", {})), path, self.embed_images, self.anchor_link_text,
               self.exclude_anchor_links, _json(self.lexer_options))
        return _MARKDOWN.get(key, lambda: super(PageExporter, self).markdown2html(context, source), len(source))

    @pass_context
    def _fragment(self, context, html):  # type: ignore[no-untyped-def]
        """Filter hm_fragment: a placeholder for the fragment, kept for the page's skeleton (or the text itself)."""
        fragments = context.get("resources", {}).get(_RESOURCE)
        if not isinstance(fragments, _Fragments):
            return html
        text = str(html)
        lead, trail = _LEAD.match(text).end(), _TRAIL.search(text).start()
        core = text[lead:trail]
        if not core:
            return html
        done = _FRAGMENTS.get(core, lambda: _fragment_pass(core), len(core))
        if done is None:
            return html  # stays in the page, for the page's own pass
        fragments.items.append((core, *done))
        mark = f"{fragments.mark}-{len(fragments.items) - 1}"
        return f'{text[:lead]}<{_PLACEHOLDER} data-hm="{mark}"></{_PLACEHOLDER}>{text[trail:]}'

    def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[no-untyped-def, override]
        """Convert a notebook node to HTML: HTMLExporter.from_notebook_node with its page pass made per fragment."""
        # as HTMLExporter.from_notebook_node (nbconvert 7), with the highlighter kept
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", _KeptHighlight(Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                 resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        resources[_RESOURCE] = _Fragments()
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        fragments = resources.pop(_RESOURCE)
        page = self._assemble(html, fragments) if fragments.items else None
        if page is None:
            raw = [core for core, _, _ in fragments.items]
            page, missing_alt = page_pass(self._placeholders(fragments).sub(lambda m: raw[int(m[1])], html))
        else:
            page, missing_alt = page
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        return page, resources

    def _preprocess(self, nb, resources):  # type: ignore[no-untyped-def]
        """Exporter._preprocess (nbconvert 7) without its first copy of `nb`: Exporter.from_notebook_node, its only
        caller, passes its own deep copy."""
        from nbformat import validator

        resc = copy.deepcopy(resources)
        if hasattr(validator, "normalize"):
            _, nb = validator.normalize(nb)
        preprocessor = None
        for preprocessor in self._preprocessors:
            nb, resc = preprocessor(nb, resc)
            if not self.optimistic_validation:
                self._validate_preprocessor(nb, preprocessor)
        if self.optimistic_validation:
            self._validate_preprocessor(nb, preprocessor)
        return nb, resc

    @staticmethod
    def _placeholders(fragments: _Fragments) -> re.Pattern[str]:
        return re.compile(rf'<{_PLACEHOLDER} data-hm="{fragments.mark}-(\d+)"></{_PLACEHOLDER}>')

    @staticmethod
    def _assemble(skeleton: str, fragments: _Fragments) -> tuple[str, int] | None:
        """The page pass over the skeleton, the fragments put back; None if a placeholder is not where a fragment
        reads as on its own."""
        if not _cut_at_marks(skeleton, PageExporter._placeholders(fragments)):
            return None
        soup = BeautifulSoup(skeleton, features="html.parser")
        marks = soup.find_all(_PLACEHOLDER)
        inside = {id(m) for m in soup.select(f".jp-Notebook {_PLACEHOLDER}")}
        expected = [f"{fragments.mark}-{i}" for i in range(len(fragments.items))]
        if [m.get("data-hm") for m in marks] != expected:
            return None
        if any(id(m) not in inside or m.find_parent(list(_PRESERVE)) is not None for m in marks):
            return None
        skeleton, missing_alt = _soup_pass(soup)
        found: list[int] = []

        def put_back(m: re.Match[str]) -> str:
            found.append(int(m[1]))
            return fragments.items[int(m[1])][1]

        page = PageExporter._placeholders(fragments).sub(put_back, skeleton)
        if found != list(range(len(fragments.items))):
            return None
        return page, missing_alt + sum(item[2] for item in fragments.items)

