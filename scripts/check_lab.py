"""Open notebooks in JupyterLab in headless Chromium: one language per view, each heading once in the table of
contents, and not marked modified by only opening them.

    .venv/bin/python scripts/check_lab.py [STEM ...]      # or: make check-lab (default: 03_trend_models)

For each notebook stem, notebooks/nb/<stem>.ipynb and notebooks/en/<stem>.ipynb are opened in JupyterLab
(started from .venv on 127.0.0.1 with a random token, root notebooks/), the table of contents panel is opened
and a screenshot saved to build/check-lab/toc_<lang>.png (toc_<stem>_<lang>.png for other stems). Checks:

* the table of contents lists exactly the headings of the file (markdown cells, and markdown outputs if the
  file has any), each as often as the file has it: nothing twice, nothing of the other language's file;
* the notebook's tab is not marked modified (``jp-mod-dirty``) once the kernel is idle;
* the notebook files are byte for byte what they were (autosave is switched off for the check).

When a notebook is marked modified, the script finds out why: it opens a copy in a second JupyterLab in a
temporary folder, saves it there and prints what JupyterLab changed (e.g. ``metadata.language_info``).
JupyterLab's settings and workspaces live in a temporary folder, its news and update checks are off, and the
server and its kernels are stopped at the end. Skips (exit 0) when Chromium or playwright is missing
(``apt-get install chromium``; ``.venv/bin/pip install playwright``: the system Chromium is used, do not run
``playwright install``). Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from analysis import paths
from analysis.pipeline.report_html import plain_text

BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
OUT_DIR = paths.BUILD_DIR / "check-lab"
LANGS = ("nb", "en")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--disable-extensions", "--mute-audio"]
SETTINGS = {  # JupyterLab user settings for the check: no autosave, nothing fetched from the network
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}
START_TIMEOUT = 90  # seconds for the server to answer
OPEN_TIMEOUT = 120  # seconds for a notebook to open and its kernel to be idle
SETTLE = 3.0  # seconds to wait once the kernel is idle, for late metadata updates


def find_browser() -> str | None:
    """Return the path of an installed Chromium-family browser, or None."""
    for name in BROWSERS:
        found = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def markdown_headings(markdown: str) -> list[str]:
    """The ATX headings (``# ...`` to ``###### ...``) of a markdown text, outside code fences, as plain text."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        m = re.match(r"^ {0,3}#{1,6}\s+(.+?)\s*$", line)
        if m and not fenced:
            out.append(plain_text(m.group(1)).rstrip("#").strip())
    return out


def file_headings(path: Path) -> list[str]:
    """Every heading a notebook file holds, in order: markdown cells, and markdown outputs of code cells."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for cell in doc["cells"]:
        if cell["cell_type"] == "markdown":
            out += markdown_headings("".join(cell["source"]))
        elif cell["cell_type"] == "code":
            for o in cell.get("outputs", []):
                md = o.get("data", {}).get("text/markdown")
                if md:
                    out += markdown_headings(md if isinstance(md, str) else "".join(md))
    return out


def sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the server

@dataclass
class Lab:
    """A running JupyterLab server: its base URL, token and process."""

    url: str
    token: str
    process: subprocess.Popen
    home: Path
    log: Path

    def api(self, method: str, route: str) -> object:
        """Call the server's REST API; return the decoded JSON (None for an empty answer)."""
        req = urllib.request.Request(f"{self.url}{route}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def open_url(self, rel: str, workspace: str) -> str:
        """The URL that opens `rel` (relative to the server's root) in a fresh workspace."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{rel}?reset&token={self.token}"


@contextlib.contextmanager
def lab_server(root: Path) -> Iterator[Lab]:
    """Start JupyterLab from .venv on 127.0.0.1 with root `root`; stop it and its kernels at the end."""
    jupyter = paths.PROJ_ROOT / ".venv" / "bin" / "jupyter"
    if not jupyter.exists():
        raise SystemExit(f"check-lab: {jupyter} missing; run `make setup` first")
    home = Path(tempfile.mkdtemp(prefix="hm-check-lab-"))
    for rel, value in SETTINGS.items():
        target = home / "settings" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(24)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    cmd = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=", "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers often run as root; the server still listens on 127.0.0.1 only
    log = home / "server.log"
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, proc, home, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"check-lab: JupyterLab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                lab.api("GET", "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"check-lab: JupyterLab did not answer in {START_TIMEOUT} s") from None
                time.sleep(0.5)
        yield lab
    finally:
        with contextlib.suppress(OSError, ValueError):
            for kernel in lab.api("GET", "/api/kernels") or []:
                lab.api("DELETE", f"/api/kernels/{kernel['id']}")
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own session (start_new_session): it and its kernels
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- one notebook in the browser

@dataclass
class Seen:
    """What the browser showed for one notebook."""

    rel: str
    toc: list[str] = field(default_factory=list)
    dirty: bool = False
    screenshot: Path | None = None
    problems: list[str] = field(default_factory=list)


def open_notebook(browser, lab: Lab, rel: str) -> object:
    """Open `rel` in a new page and wait until it is shown and its kernel is idle; return the page."""
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    page.goto(lab.open_url(rel, f"check-{secrets.token_hex(4)}"), wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=OPEN_TIMEOUT * 1000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-Item, .jp-StatusBar-TextItem')]"
        ".some(e => /\\|\\s*Idle/.test(e.textContent))", timeout=OPEN_TIMEOUT * 1000)
    time.sleep(SETTLE)
    return page


def dirty_tabs(page) -> list[str]:
    """The names on the tabs JupyterLab marks modified (class jp-mod-dirty)."""
    return page.evaluate("[...document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty')]"
                         ".map(t => t.textContent.trim())")


def table_of_contents(page) -> list[str]:
    """Open the table of contents panel (widened so its entries show whole) and return its entries, in order."""
    page.click(".jp-SideBar .lm-TabBar-tab[data-id='table-of-contents']")
    page.wait_for_selector("#table-of-contents .jp-tocItem-content", timeout=30_000)
    handle = page.query_selector("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)")
    box = handle.bounding_box() if handle else None
    if box:  # drag the panel's edge to the right
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 330, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
    time.sleep(1.0)
    return page.evaluate("[...document.querySelectorAll('#table-of-contents .jp-tocItem-content')]"
                         ".map(e => e.textContent.replace(/\\s+/g, ' ').trim())")


def check_one(browser, lab: Lab, root: Path, path: Path, other: Path | None, shot: Path) -> Seen:
    """Open one notebook file: its table of contents against its headings, and whether it is marked modified."""
    rel = path.relative_to(root).as_posix()
    seen = Seen(rel)
    page = open_notebook(browser, lab, rel)
    try:
        seen.dirty = bool(dirty_tabs(page))
        seen.toc = table_of_contents(page)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        seen.screenshot = shot
        seen.dirty = seen.dirty or bool(dirty_tabs(page))
    finally:
        page.close()
    want = file_headings(path)
    if not want:
        seen.problems.append(f"{rel}: the file has no headings")
    twice = sorted(h for h, n in Counter(seen.toc).items() if n > Counter(want)[h])
    if twice:
        seen.problems.append(f"{rel}: listed more often in the table of contents than in the file: {twice}")
    if seen.toc != want:
        missing = [h for h in want if h not in seen.toc]
        extra = [h for h in seen.toc if h not in want]
        seen.problems.append(f"{rel}: table of contents differs from the file's headings; "
                             f"missing {missing}, not in the file {extra}")
    if other is not None:
        foreign = sorted(set(seen.toc) & (set(file_headings(other)) - set(want)))
        if foreign:
            seen.problems.append(f"{rel}: headings of {other.parent.name}/{other.name} in its table of contents: "
                                 f"{foreign}")
    if seen.dirty:
        seen.problems.append(f"{rel}: marked modified (jp-mod-dirty) after only opening it")
    return seen


# ---------------------------------------------------------------- why a notebook is marked modified

def json_changes(before: object, after: object, where: str = "") -> list[str]:
    """Every key path at which two JSON documents differ, with the values (cells by index)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            sub = f"{where}.{key}" if where else key
            if key not in before:
                out.append(f"{sub}: added {json.dumps(after[key], ensure_ascii=False)}")
            elif key not in after:
                out.append(f"{sub}: removed (was {json.dumps(before[key], ensure_ascii=False)})")
            else:
                out += json_changes(before[key], after[key], sub)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (a, b) in enumerate(zip(before, after, strict=True))
                for c in json_changes(a, b, f"{where}[{i}]")]
    if before != after:
        return [f"{where}: {json.dumps(before, ensure_ascii=False)} -> {json.dumps(after, ensure_ascii=False)}"]
    return []


def why_modified(browser, root: Path, files: list[Path]) -> dict[str, list[str]]:
    """Open copies of `files` (below `root`) in a JupyterLab on a temporary folder, save each, and return what
    JupyterLab changed in it (key paths with old and new values)."""
    out: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="hm-check-lab-copy-") as tmp:
        copy = Path(tmp)
        for f in files:
            target = copy / f.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
        with lab_server(copy) as lab:
            for f in files:
                rel = f.relative_to(root).as_posix()
                page = open_notebook(browser, lab, rel)
                try:
                    page.keyboard.press("Control+s")
                    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')",
                                           timeout=30_000)
                finally:
                    page.close()
                before = json.loads(f.read_text(encoding="utf-8"))
                after = json.loads((copy / rel).read_text(encoding="utf-8"))
                out[rel] = json_changes(before, after)
    return out


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    """Run the checks; return 0 when they pass or are skipped, 1 when one fails."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stems", nargs="*", default=["03_trend_models"], help="notebook stems to open")
    parser.add_argument("--out", default=str(OUT_DIR), help="folder for the screenshots")
    parser.add_argument("--notebooks", default=str(paths.NOTEBOOKS_DIR),
                        help="the notebooks folder (with nb/ and en/) to serve; default notebooks/")
    args = parser.parse_args(argv)

    browser_path = find_browser()
    if browser_path is None:
        print("check-lab: skipped, no Chromium found (Debian: apt-get install chromium)")
        return 0
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("check-lab: skipped, playwright is not installed (.venv/bin/pip install playwright; it drives the "
              f"installed {browser_path}, so `playwright install` is not needed)")
        return 0
    files: list[tuple[Path, Path | None, Path]] = []
    out, root = Path(args.out), Path(args.notebooks).resolve()
    for stem in args.stems:
        pair = {lang: root / lang / f"{stem}.ipynb" for lang in LANGS}
        for lang, path in pair.items():
            if not path.is_file():
                print(f"check-lab: {path} does not exist", file=sys.stderr)
                return 1
            other = next((p for x, p in pair.items() if x != lang), None)
            name = f"toc_{lang}.png" if stem == "03_trend_models" else f"toc_{stem}_{lang}.png"
            files.append((path, other, out / name))
    before = {p: sha256(p) for p, _, _ in files}

    results: list[Seen] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=FLAGS, headless=True)
        try:
            with lab_server(root) as lab:
                print(f"check-lab: JupyterLab on {lab.url} (root {root}), "
                      f"browser {Path(browser_path).name}", flush=True)
                for path, other, shot in files:
                    results.append(check_one(browser, lab, root, path, other, shot))
            dirty = [p for (p, _, _), s in zip(files, results, strict=True) if s.dirty]
            reasons = why_modified(browser, root, dirty) if dirty else {}
        finally:
            browser.close()

    problems = [p for s in results for p in s.problems]
    changed = [p for p, digest in before.items() if sha256(p) != digest]
    problems += [f"{p}: the file changed while the check ran" for p in changed]
    for s in results:
        state = "MARKED MODIFIED" if s.dirty else "not modified"
        print(f"  {s.rel}: {len(s.toc)} headings in the table of contents, {state}; screenshot {s.screenshot}")
        for h in s.toc:
            print(f"      {h}")
    for rel, changes in reasons.items():
        print(f"  why {rel} is marked modified: saved by JupyterLab it changes at")
        for c in changes or ["(nothing in the saved file: the mark comes from elsewhere)"]:
            print(f"      {c}")
    for p in problems:
        print(f"  FAILED: {p}")
    print("  result: " + ("FAILED" if problems else "ok, one language per notebook, each heading once, "
                                                  "not modified by opening"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
