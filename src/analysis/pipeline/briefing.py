"""Pages to hand out: the two-page briefing (HTML and PDF) and the teaching index of a 90-minute class.

``briefing/briefing_<lang>.html`` gathers the key findings of every briefing page in the folder (the list in
each page's ``<section id="key-findings">``, grouped per notebook and linking to the page), two figures from
``figures/`` (embedded), the sources of the data the notebooks read (rows of ``data/sources.csv``; for a user's
file, its ``source_id`` values) and one paragraph on what the figures can and cannot say. It is written only
when at least one page of the folder has key findings, and is self-contained like every page.
``briefing_<lang>.pdf`` is printed from it by headless Chromium when one is found (:func:`find_chromium`),
every PDF of a build in one browser session (:class:`PrintSession`); the print CSS keeps it to at most two A4
pages. ``teaching/index.html`` says in what order to use the
notebooks in a class (:data:`CLASS_PLAN`), linking each notebook's teaching and solutions pages; it is written
when a notebook of the plan has a teaching page in the folder. Every word comes from the message catalogue
(``pages.briefing.*``, ``pages.teaching.*``).
"""

from __future__ import annotations

import base64
import csv
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis import paths
from analysis.present import catalogue
from analysis.present.catalogue import LANGS

BRIEFING_STEM = "briefing"  # briefing/briefing_<lang>.html and .pdf
# Figures of the briefing, in order of preference (names without `_<lang>.png`); then any other figure.
FIGURE_PREFERENCE = ("02_waterfall", "02_counterfactual", "01_totals_stack")
FIGURE_CAPTIONS = {
    "02_waterfall": "pages.briefing.figure_waterfall",
    "02_counterfactual": "pages.briefing.figure_counterfactual",
    "01_totals_stack": "pages.briefing.figure_totals_stack",
}
# A 90-minute class: (notebook stem, minutes, catalogue id of what to do); "" is the wrap-up with the briefing.
CLASS_PLAN = (
    ("00_data_overview", 15, "pages.teaching.part_00"),
    ("01_reproduce_2021", 15, "pages.teaching.part_01"),
    ("02_growth_decomposition", 30, "pages.teaching.part_02"),
    ("03_trend_models", 20, "pages.teaching.part_03"),
    ("", 10, "pages.teaching.part_end"),
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT = 120  # seconds for Chromium to print one page
INSTALL_HINT = "install Chromium (Debian/Ubuntu: sudo apt-get install chromium) and run make report again"

STYLE = """
@page { size: A4; margin: 12mm 14mm 14mm;
  @bottom-center { content: counter(page) " / " counter(pages); font: 8pt system-ui, sans-serif; color: #444; } }
html { background: #fff; }
body { font: 9.6pt/1.36 system-ui, "DejaVu Sans", sans-serif; color: #1a1a1a; max-width: 182mm;
  margin: 0 auto; padding: 6mm 4mm; }
h1 { font-size: 16pt; line-height: 1.2; margin: 0 0 1.5mm; color: #123f5e; }
h2 { font-size: 11pt; margin: 3.5mm 0 1mm; color: #123f5e; break-after: avoid; }
h3 { font-size: 10pt; margin: 2.5mm 0 0.6mm; break-after: avoid; }
h3 a { color: inherit; }
p { margin: 0.8mm 0; }
.hm-prov { font-size: 7.2pt; color: #444; overflow-wrap: anywhere; }
.hm-prov code { font-size: 7pt; }
.hm-intro { margin: 1.5mm 0 1mm; }
.hm-key-findings { margin: 1mm 0 2mm; padding: 0.5mm 4mm 1.5mm; border-left: 4px solid #1f5f8b;
  background: #eef4f9; }
.hm-key-findings ul { margin: 0; padding-left: 4.5mm; }
.hm-key-findings li { margin: 0.5mm 0; }
.hm-group { break-inside: avoid; }
.hm-figures { display: flex; flex-direction: column; align-items: center; gap: 2mm; }
.hm-figure { margin: 0; text-align: center; break-inside: avoid; }
.hm-figure img { height: 66mm; width: auto; max-width: 100%; }
.hm-figure figcaption { font-size: 8.2pt; color: #333; }
.hm-sources ul { margin: 0; padding-left: 4.5mm; font-size: 8pt; }
.hm-sources li { margin: 0.3mm 0; overflow-wrap: anywhere; }
.hm-limits { font-size: 8.8pt; }
.hm-synthetic { margin: 0 0 2mm; padding: 1.5mm 3mm; border: 3px solid #c00000; background: #fff0f0;
  color: #8b0000; font-weight: bold; text-align: center; }
.hm-synthetic p { margin: 0; }
@media print {
  body { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .hm-nav { display: none !important; }
  .hm-key-findings, .hm-synthetic { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""

# The teaching index's style: these rules, then report_html.A4_PAGE and TEACHING_PRINT (joined where the page is
# written, so that importing this module does not import report_html and nbformat: an up-to-date build needs neither)
TEACHING_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 2rem;
  color: #222; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.5rem; border-bottom: 1px solid #ccc; }
th { background: #f0f0f0; }
td.hm-min { text-align: right; white-space: nowrap; }
"""
TEACHING_PRINT = (
    "@media print { .hm-nav { display: none !important; } tr { break-inside: avoid; } a { color: inherit; } }\n")


@dataclass(frozen=True)
class PageFindings:
    """The key findings of one briefing page, with what the two-page briefing says about the page."""

    notebook: str  # file name of the notebook
    title: str
    href: str  # the page, relative to the briefing folder
    findings: tuple[str, ...]
    data_files: tuple[tuple[str, str], ...] = ()  # (path, sha256) of the data files the notebook read
    synthetic: bool = False
    built: str = ""


@dataclass
class Written:
    """What :func:`write_handouts` wrote, and the one line to say about each PDF."""

    pages: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading the pages

def page_findings(out_dir: Path, lang: str, notebooks: Sequence[Path]) -> list[PageFindings]:
    """Return the key findings of the briefing pages `briefing/<stem>_<lang>.html` in `out_dir` of the given
    notebooks, in name order (a page without findings is kept, with none)."""
    from analysis.pipeline.report_html import key_findings, read_meta

    names = {nb.name for nb in notebooks}
    found = []
    for page in sorted((out_dir / "briefing").glob(f"*_{lang}.html")):
        text = page.read_text(encoding="utf-8")
        meta = read_meta(text)
        if meta.get("helsemeldinger:notebook") not in names or meta.get("helsemeldinger:lang") != lang:
            continue
        try:
            files = tuple((str(p), str(s)) for p, s in json.loads(meta.get("helsemeldinger:data-files") or "[]"))
        except (ValueError, TypeError):
            files = ()
        found.append(PageFindings(meta["helsemeldinger:notebook"], meta.get("title", page.stem), page.name,
                                  tuple(key_findings(text)), files,
                                  meta.get("helsemeldinger:synthetic") == "true", meta.get("helsemeldinger:built", "")))
    return found


def choose_figures(figures_dir: Path, lang: str, count: int = 2) -> list[Path]:
    """Return up to `count` PNG figures of `lang` in `figures_dir`: those of :data:`FIGURE_PREFERENCE` that
    exist, in that order, then any others in name order."""
    if not figures_dir.is_dir():
        return []
    available = {p.name[: -len(f"_{lang}.png")]: p for p in figures_dir.glob(f"*_{lang}.png") if p.is_file()}
    ordered = [available[n] for n in FIGURE_PREFERENCE if n in available]
    ordered += [available[n] for n in sorted(available) if n not in FIGURE_PREFERENCE]
    return ordered[:count]


def _csv_source_ids(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if "source_id" not in (reader.fieldnames or []):
            return []
        return [row["source_id"].strip() for row in reader if (row.get("source_id") or "").strip()]


def source_ids(files: Sequence[str], data: Path | None = None, sheet: str | None = None) -> list[str]:
    """Return the distinct `source_id` values of the data files read (paths as the pages show them), in
    first-seen order; a user's file `data` is read with :func:`analysis.data.load_data` (any accepted format)."""
    from analysis.errors import DataError

    ids: list[str] = []
    for shown in files:
        path = paths.resolve(shown).resolve()
        if path == paths.SOURCES_CSV.resolve() or not path.is_file():
            continue
        try:
            if data is not None and path == Path(data).resolve():
                from analysis.data import load_data

                frame = load_data(path, None, sheet or None)
                found = [str(x) for x in frame["source_id"].dropna()] if "source_id" in frame else []
            elif path.suffix.lower() == ".csv":
                found = _csv_source_ids(path)
            else:
                found = []
        except (DataError, OSError, UnicodeDecodeError, csv.Error):
            found = []
        ids += [x for x in dict.fromkeys(found) if x and x not in ids]
    return ids


def source_rows(ids: Sequence[str]) -> tuple[list[dict[str, str]], list[str]]:
    """Return the rows of data/sources.csv named by `ids` (in the file's order) and the ids it does not have."""
    with open(paths.SOURCES_CSV, encoding="utf-8-sig", newline="") as fh:
        rows = [row for row in csv.DictReader(fh) if row.get("source_id") in set(ids)]
    known = {row["source_id"] for row in rows}
    return rows, [x for x in ids if x not in known]


# ---------------------------------------------------------------- the two-page briefing

def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def figure_caption(lang: str, figure: Path) -> str:
    """Return the caption of a briefing figure: the catalogue's for the preferred ones, else its name."""
    name = figure.name[: -len(f"_{lang}.png")] if figure.name.endswith(f"_{lang}.png") else figure.stem
    msgid = FIGURE_CAPTIONS.get(name)
    return catalogue.text(lang, msgid) if msgid else catalogue.text(lang, "pages.briefing.figure_other", name=name)


def briefing_html(
    lang: str,
    groups: Sequence[PageFindings],
    figures: Sequence[Path],
    sources: Sequence[dict[str, str]],
    *,
    own_ids: Sequence[str] = (),
    built: str = "",
    commit: tuple[str | None, bool | None] = (None, None),
    data_name: str = "",
    synthetic: bool = False,
) -> str:
    """Return the two-page briefing in `lang` as one self-contained HTML page.

    `groups` are the pages' key findings, `figures` PNG files to embed, `sources` rows of data/sources.csv and
    `own_ids` source ids the file named that data/sources.csv does not have; `data_name` (a user's file) changes
    the title and the paragraph on what the figures can say.
    """
    from analysis.pipeline.report_html import page_head, synthetic_banner

    catalogue.check_lang(lang)
    e = html.escape

    def t(msgid: str, **values: object) -> str:
        return catalogue.text(lang, msgid, **values)

    title = t("pages.briefing.title_data", name=data_name) if data_name else t("pages.briefing.title")
    sections = []
    for g in groups:
        items = "".join(f"<li>{e(f)}</li>" for f in g.findings) or f"<li>{e(t('pages.briefing.no_findings'))}</li>"
        sections.append(f'<section class="hm-group"><h3><a href="{e(g.href)}">{e(g.title)}</a></h3>'
                        f"<ul>{items}</ul></section>")
    figs = "".join(
        f'<figure class="hm-figure"><img src="{_png_data_uri(f)}" alt="{e(figure_caption(lang, f))}">'
        f"<figcaption>{e(figure_caption(lang, f))}</figcaption></figure>" for f in figures)
    items = [f"<li>{e(r.get('publisher', ''))}, {e(r.get('published', ''))}: "
             f"<a href=\"{e(r.get('url', ''))}\">{e(r.get('title', ''))}</a> <code>{e(r['source_id'])}</code></li>"
             for r in sources]
    sources_html = f"<ul>{''.join(items)}</ul>" if items else f"<p>{e(t('pages.briefing.no_sources'))}</p>"
    if own_ids:
        sources_html += (f"<p>{e(t('pages.briefing.own_sources'))}: "
                         + ", ".join(f"<code>{e(x)}</code>" for x in own_ids) + "</p>")
    limits = t("pages.briefing.limits_own", name=data_name) if data_name else t("pages.briefing.limits")
    git, dirty = commit
    commit_text = (f"<code>{e(git)}</code>" + (f" ({e(t('pages.briefing.dirty'))})" if dirty else "")
                   if git else e(t("pages.briefing.no_commit")))
    files = sorted({f for g in groups for f in g.data_files})
    data_text = "; ".join(f"<code>{e(p)}</code> sha256 <code>{e(s)}</code>" for p, s in files) or e(
        t("pages.briefing.published_data"))
    prov = e(t("pages.briefing.provenance", built="\0", commit="\1")).replace(
        "\0", f'<time datetime="{e(built)}">{e(built)}</time>').replace("\1", commit_text)
    banner = synthetic_banner(lang) if synthetic else ""
    head = page_head(lang, e(title), STYLE, [
        ("description", t("pages.briefing.intro")), ("helsemeldinger:lang", lang),
        ("helsemeldinger:audience", "two-page-briefing"), ("helsemeldinger:built", built),
        ("helsemeldinger:synthetic", "true" if synthetic else "false")])
    return f"""{head}<main>
{banner}<h1>{e(title)}</h1>
<p class="hm-prov">{prov}: {data_text}</p>
<p class="hm-intro">{e(t('pages.briefing.intro'))}</p>
<section id="key-findings" class="hm-key-findings" lang="{lang}">
{"".join(sections)}
</section>
<section class="hm-figures-block"><h2>{e(t('pages.briefing.figures'))}</h2>
<div class="hm-figures">{figs}</div></section>
<section class="hm-limits"><h2>{e(t('pages.briefing.limits_heading'))}</h2>
<p>{e(limits)}</p></section>
<section class="hm-sources"><h2>{e(t('pages.briefing.sources'))}</h2>
{sources_html}</section>
</main>
</body>
</html>
"""


# ---------------------------------------------------------------- printing to PDF

def find_chromium() -> str | None:
    """Return the Chromium (or Chrome) to print with: $HM_CHROMIUM when set (empty: none), else the first of
    :data:`CHROMIUM_NAMES` on the PATH; None when there is none."""
    if "HM_CHROMIUM" in os.environ:
        return shutil.which(os.environ["HM_CHROMIUM"]) if os.environ["HM_CHROMIUM"] else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def _pdf_date(built: str) -> bytes | None:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", built)
    return f"D:{''.join(m.groups())}+00'00'".encode() if m else None


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run")
# What ``chromium --headless --print-to-pdf --no-pdf-header-footer`` asks the page for (Chromium's headless
# command handler), so that a page printed in a session gives the same PDF as one printed from the command line.
PRINT_PARAMETERS = {"displayHeaderFooter": False, "generateTaggedPDF": True, "printBackground": True,
                    "preferCSSPageSize": True}


def _write_pdf(pdf: bytes, target: Path, built: str) -> Path:
    """Write the PDF bytes Chromium printed to `target` atomically, its dates set to `built` (when given)."""
    date = _pdf_date(built)
    if date:  # same length as Chromium's own dates: the cross-reference offsets stay right
        pdf = re.sub(rb"/(CreationDate|ModDate) \(D:\d{14}\+00'00'\)",
                     lambda m: b"/" + m.group(1) + b" (" + date + b")", pdf)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def print_pdf(page: Path, target: Path, chromium: str, built: str = "", timeout: int = PDF_TIMEOUT) -> Path:
    """Print the HTML file `page` to the PDF `target` with headless `chromium` (a new empty profile, network
    off); the PDF's dates are set to `built` so that the same page gives the same bytes. Raises RuntimeError
    naming the page when Chromium fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hm-chromium-") as profile:
        out = Path(profile) / "out.pdf"
        cmd = [chromium, *CHROMIUM_FLAGS, "--no-pdf-header-footer", f"--user-data-dir={Path(profile) / 'profile'}",
               f"--print-to-pdf={out}", page.resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{page}: Chromium did not print it ({type(exc).__name__}: {exc})") from None
        if not out.is_file() or not out.read_bytes().startswith(b"%PDF"):
            last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
            raise RuntimeError(f"{page}: Chromium wrote no PDF ({last})")
        return _write_pdf(out.read_bytes(), target, built)


class PrintSession:
    """One headless Chromium that prints any number of pages to PDF: the browser starts once (in the background,
    from :meth:`start`, so it can start while a build is still rendering) and each page is printed in the same
    tab over the DevTools protocol on a pipe (``--remote-debugging-pipe``), with the print parameters of
    ``--print-to-pdf`` (:data:`PRINT_PARAMETERS`): a page gives the same PDF as :func:`print_pdf`.

    Needs ``os.posix_spawn`` (Linux, macOS); :meth:`usable` says whether it is there. Errors are RuntimeError
    naming the page; :meth:`close` ends the browser (also when it never started).
    """

    def __init__(self, chromium: str, timeout: int = PDF_TIMEOUT) -> None:
        """A session of `chromium` (not started); `timeout`: seconds allowed for the start and for each page."""
        self.chromium, self.timeout = chromium, timeout
        self._pid: int | None = None
        self._to = self._from = -1
        self._buffer = b""
        self._events: list[dict] = []
        self._next_id = 0
        self._session = ""
        self._profile = ""
        self._failed: str | None = None  # why the session cannot print, once it failed
        self._thread: threading.Thread | None = None

    @staticmethod
    def usable() -> bool:
        """Whether this platform can start a session (a pipe on file descriptors 3 and 4 needs posix_spawn)."""
        return hasattr(os, "posix_spawn") and hasattr(os, "POSIX_SPAWN_DUP2")

    def start(self, after: threading.Event | None = None) -> PrintSession:
        """Start the browser in a background thread (open a tab, load an empty page) and return at once; the thread
        first waits until `after` is set (e.g. a kernel has been launched), at most the session's timeout."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._start, args=(after,), name="chromium-session", daemon=True)
            self._thread.start()
        return self

    def _start(self, after: threading.Event | None = None) -> None:
        if after is not None:
            after.wait(self.timeout)
        try:
            self._launch()
            deadline = time.monotonic() + self.timeout
            self._call("Browser.getVersion", deadline=deadline)
            target = self._call("Target.createTarget", {"url": "about:blank"}, deadline=deadline)["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                       deadline=deadline)["sessionId"]
            self._call("Page.enable", deadline=deadline, session=True)
            self._call("Page.setLifecycleEventsEnabled", {"enabled": True}, deadline=deadline, session=True)
            blank = Path(self._profile) / "blank.html"  # a first file page: the renderer of file: pages starts now
            blank.write_text("<!DOCTYPE html><title></title>", encoding="utf-8")
            self._load(blank.as_uri(), deadline)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            self._failed = f"{type(exc).__name__}: {exc}" if not isinstance(exc, RuntimeError) else str(exc)

    def _launch(self) -> None:
        import fcntl

        self._profile = tempfile.mkdtemp(prefix="hm-chromium-")
        child_in, self._to = os.pipe()
        self._from, child_out = os.pipe()
        err = os.open(os.path.join(self._profile, "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # Chromium reads the protocol from fd 3 and writes to fd 4: the pipe ends are put there in the child, from
        # copies above 9 (which close at exec), so that no end is overwritten by another before it is moved.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (child_in, child_out)]
        try:
            self._pid = os.posix_spawn(
                self.chromium,
                [self.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={os.path.join(self._profile, 'profile')}",
                 "--remote-debugging-pipe"],
                os.environ,
                file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                              (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                              (os.POSIX_SPAWN_DUP2, err, 2),
                              (os.POSIX_SPAWN_DUP2, high[0], 3),
                              (os.POSIX_SPAWN_DUP2, high[1], 4)])
        finally:
            for fd in (child_in, child_out, err, *high):
                os.close(fd)

    def _stderr(self) -> str:
        """The last line Chromium wrote to its standard error (for an error message)."""
        try:
            lines = Path(self._profile, "stderr.txt").read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        return next((line.strip() for line in reversed(lines) if line.strip()), "no message")

    def _receive(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from], [], [], left)[0]:
                raise RuntimeError(f"no answer within {self.timeout} s")
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium ended ({self._stderr()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _call(self, method: str, params: dict | None = None, *, deadline: float, session: bool = False) -> dict:
        """Send one command (to the tab with `session`) and return its result; events that come before it are
        kept for :meth:`_load`."""
        self._next_id += 1
        sent = self._next_id
        message = {"id": sent, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to, data):]
        except BrokenPipeError:
            raise RuntimeError(f"Chromium ended ({self._stderr()})") from None
        while True:
            got = self._receive(deadline)
            if got.get("id") == sent:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error'].get('message', got['error'])}")
                return got.get("result", {})
            if "method" in got:
                self._events.append(got)

    def _load(self, url: str, deadline: float) -> None:
        """Navigate the tab to `url` and wait for its load event."""
        self._events.clear()
        nav = self._call("Page.navigate", {"url": url}, deadline=deadline, session=True)
        if nav.get("errorText"):
            raise RuntimeError(f"not loaded ({nav['errorText']})")
        while True:
            event = self._events.pop(0) if self._events else self._receive(deadline)
            method, params = event.get("method"), event.get("params", {})
            if method in ("Inspector.detached", "Target.detachedFromTarget", "Target.targetCrashed"):
                raise RuntimeError(f"the tab closed ({params.get('reason', method)})")
            if (method == "Page.lifecycleEvent" and params.get("name") == "load"
                    and params.get("frameId") == nav.get("frameId") and params.get("loaderId") == nav.get("loaderId")):
                return

    def print_pdf(self, page: Path, target: Path, built: str = "") -> Path:
        """Print the HTML file `page` to the PDF `target` (as :func:`print_pdf` would); RuntimeError naming the
        page when the session cannot."""
        self.start()
        assert self._thread is not None
        self._thread.join()
        if self._failed is None:
            try:
                deadline = time.monotonic() + self.timeout
                self._load(page.resolve().as_uri(), deadline)
                data = self._call("Page.printToPDF", PRINT_PARAMETERS, deadline=deadline, session=True)["data"]
                pdf = base64.b64decode(data)
                if pdf.startswith(b"%PDF"):
                    return _write_pdf(pdf, target, built)
                self._failed = "Page.printToPDF gave no PDF"
            except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
                self._failed = f"{type(exc).__name__}: {exc}" if not isinstance(exc, RuntimeError) else str(exc)
        raise RuntimeError(f"{page}: Chromium did not print it ({self._failed})")

    def close(self, wait: bool = True) -> None:
        """End the browser (asked to close, killed if it has not within 10 s) and remove its profile; without
        `wait`, in a thread of its own that the interpreter waits for before it exits."""
        if not wait:
            threading.Thread(target=self.close, name="chromium-close").start()
            return
        if self._thread is not None:
            self._thread.join()
        if self._pid is not None:
            try:
                self._call("Browser.close", deadline=time.monotonic() + 10)
            except (OSError, RuntimeError, ValueError):
                pass  # it may close before it answers
            _end(self._pid, 10.0)
            self._pid = None
        for fd in (self._to, self._from):
            if fd >= 0:
                os.close(fd)
        self._to = self._from = -1
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> PrintSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end(pid: int, timeout: float) -> None:
    """Wait up to `timeout` seconds for process `pid` to exit, then kill it; reap it either way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            return
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")  # a page's dictionary (not the /Pages tree's)


def pdf_pages(path: Path) -> int | None:
    """Return the number of pages of a PDF: its page objects counted, as Chromium writes them (each page's
    dictionary in the open, its content compressed; tests/test_briefing.py checks the count against pypdf's).
    A PDF that keeps its objects in compressed object streams is read with pypdf (a dev dependency); None when
    that is not installed."""
    data = Path(path).read_bytes()
    if b"/ObjStm" not in data:
        return len(_PAGE_OBJECT.findall(data))
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(str(path)).pages)


# ---------------------------------------------------------------- the teaching index

def teaching_index_html(out_dir: Path, built: str = "") -> str | None:
    """Return teaching/index.html for `out_dir`: the class plan, bilingual, with links to each notebook's
    teaching and solutions pages found there; None when no notebook of the plan has a teaching page."""
    from analysis.pipeline.report_html import A4_PAGE, inline_html, page_head

    e = html.escape
    teaching = out_dir / "teaching"
    rows, found = [], False
    for stem, minutes, part in CLASS_PLAN:
        links = []
        for lang in LANGS:
            if stem and (teaching / f"{stem}_{lang}.html").is_file():
                found = True
                sol = (teaching / "solutions" / f"{stem}_{lang}.html").is_file()
                links.append(f'<a href="{stem}_{lang}.html">{e(catalogue.text(lang, "pages.teaching.teaching_link"))}'
                             f" ({lang})</a>" + (f' · <a href="solutions/{stem}_{lang}.html">'
                                                 f'{e(catalogue.text(lang, "pages.teaching.solutions_link"))}'
                                                 f" ({lang})</a>" if sol else ""))
            elif not stem and (out_dir / "briefing" / f"{BRIEFING_STEM}_{lang}.html").is_file():
                links.append(f'<a href="../briefing/{BRIEFING_STEM}_{lang}.html">'
                             f'{e(catalogue.text(lang, "pages.teaching.briefing_link"))} ({lang})</a>')
        what = "<br>".join(f'<span lang="{lang}">{inline_html(catalogue.text(lang, part))}</span>' if i == 0 else
                           f'<i lang="{lang}">{inline_html(catalogue.text(lang, part))}</i>'
                           for i, lang in enumerate(LANGS))
        rows.append(f"<tr><td><code>{e(stem)}</code></td><td class=\"hm-min\">{minutes}</td><td>{what}</td>"
                    f"<td>{'<br>'.join(links) or '–'}</td></tr>")
    if not found:
        return None
    both = " / ".join

    def b(msgid: str) -> str:
        return e(both(catalogue.text(lang, msgid) for lang in LANGS))

    intro = "<br>".join(f'<span lang="{lang}">{e(catalogue.text(lang, "pages.teaching.intro"))}</span>' if i == 0
                        else f'<i lang="{lang}">{e(catalogue.text(lang, "pages.teaching.intro"))}</i>'
                        for i, lang in enumerate(LANGS))
    cols = "".join(f"<th>{b(f'pages.teaching.col_{c}')}</th>" for c in ("part", "minutes", "what", "pages"))
    total = sum(m for _, m, _ in CLASS_PLAN)
    style = TEACHING_STYLE + A4_PAGE + TEACHING_PRINT
    head = page_head(LANGS[0], f"helsemeldinger: {b('pages.teaching.title')}", style, [
        ("helsemeldinger:audience", "teaching-index"), ("helsemeldinger:built", built)])
    return f"""{head}<main>
<p class="hm-nav"><a href="../index.html">← {b('pages.teaching.back')}</a></p>
<h1>{b('pages.teaching.title')}</h1>
<p>{intro}</p>
<h2>{b('pages.teaching.order')}</h2>
<table>
<thead><tr>{cols}</tr></thead>
<tbody>
{"".join(rows)}
<tr><td></td><td class="hm-min"><strong>{total}</strong></td><td></td><td></td></tr>
</tbody>
</table>
</main>
</body>
</html>
"""


# ---------------------------------------------------------------- writing

def write_handouts(
    out_dir: Path,
    notebooks: Sequence[Path],
    built: str,
    commit: tuple[str | None, bool | None],
    data: Path | None = None,
    synthetic: bool = False,
    sheet: str | None = None,
    langs: Sequence[str] = LANGS,
    pdf: bool = True,
    session: PrintSession | None = None,
) -> Written:
    """Write the two-page briefing of each language in `langs` whose pages in `out_dir` have key findings
    (HTML, and PDF when Chromium is found and `pdf`), and the teaching index; return what was written.

    The PDFs are printed in one browser session: `session` when given (started ahead by the caller, who closes
    it), else one started here; a page the session cannot print is printed from the command line
    (:func:`print_pdf`). The briefings of languages not in `langs` are left as they are.
    """
    from analysis.pipeline.report_html import write_atomic

    done = Written()
    chromium = find_chromium() if pdf else None
    missing: list[str] = []  # PDFs not printed for want of Chromium: said in one line
    to_print: list[tuple[Path, Path, bool]] = []  # (page, PDF, printed from this very page before)
    for lang in langs:
        groups = page_findings(out_dir, lang, notebooks)
        html_path = out_dir / "briefing" / f"{BRIEFING_STEM}_{lang}.html"
        pdf_path = html_path.with_suffix(".pdf")
        if not any(g.findings for g in groups):  # nothing to brief on: an old briefing would be stale
            for old in (html_path, pdf_path):
                old.unlink(missing_ok=True)
            continue
        files = sorted({p for g in groups for p, _ in g.data_files})
        rows, unknown = source_rows(source_ids(files, data, sheet))
        page = briefing_html(lang, groups, choose_figures(out_dir / "figures", lang), rows,
                             own_ids=unknown if data is not None else (), built=built, commit=commit,
                             data_name=data.name if data is not None else "",
                             synthetic=synthetic or any(g.synthetic for g in groups))
        unchanged = html_path.is_file() and html_path.read_text(encoding="utf-8") == page
        target = html_path if unchanged else write_atomic(html_path, page)
        done.pages.append(target)
        if not pdf:
            continue
        if unchanged and pdf_path.is_file() and pdf_path.stat().st_mtime >= html_path.stat().st_mtime:
            to_print.append((target, pdf_path, True))  # not printed again
        elif chromium is None:
            pdf_path.unlink(missing_ok=True)  # it would no longer match the page
            missing.append(pdf_path.name)
        else:
            to_print.append((target, pdf_path, False))
    own = None
    if session is None and chromium is not None and PrintSession.usable() and not all(f for *_, f in to_print):
        own = session = PrintSession(chromium).start()
    try:
        for page, target, fresh in to_print:
            if fresh:
                done.pdfs.append(target)
                done.notes.append(f"{target.name}: up to date")
                continue
            error = _print(page, target, chromium or "", built, session)
            if error is not None:
                target.unlink(missing_ok=True)
                done.notes.append(f"{target.name} not written: {error}")
                continue
            done.pdfs.append(target)
            count = pdf_pages(target)
            done.notes.append(f"{target.name}: " + (f"{count} page(s) A4" if count is not None else "written"))
    finally:
        if own is not None:
            own.close()
    if missing:
        done.notes.append(f"{', '.join(missing)} not written: no Chromium found; {INSTALL_HINT}")
    index = teaching_index_html(out_dir, built)
    if index is not None:
        done.pages.append(write_atomic(out_dir / "teaching" / "index.html", index))
    return done


def _print(page: Path, target: Path, chromium: str, built: str, session: PrintSession | None) -> str | None:
    """Print `page` to `target` in `session`, else (no session, or it cannot) from the command line; return
    None when printed, else why not."""
    if session is not None:
        try:
            session.print_pdf(page, target, built)
            return None
        except RuntimeError:
            pass  # the command line may still print it
    try:
        print_pdf(page, target, chromium, built)
    except RuntimeError as exc:
        return str(exc)
    return None
