"""Open one report in headless Chromium with networking off; save a screenshot and list network requests.

    .venv/bin/python scripts/check_browser.py [REPORT.html]     # or: make check-browser

Skips (exit 0) when no Chromium is installed (`apt-get install chromium` on Debian). Networking is off twice:
the browser runs in its own empty network namespace (`unshare -n`, when the system allows it) and all
traffic is sent to a dead proxy. Chromium's net log records every request; any request the page makes for
an http(s), ws(s) or ftp URL fails the check (the browser's own update checks are listed apart). The
screenshot goes to build/check-browser/ for a person to look at.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from analysis import paths

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
DEFAULT_REPORT = paths.REPORTS_DIR / "briefing" / "00_data_overview_nb.html"
OUT_DIR = paths.BUILD_DIR / "check-browser"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
    "--disable-extensions", "--disable-domain-reliability", "--metrics-recording-only", "--mute-audio",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--hide-scrollbars",
    "--window-size=1200,1800", "--virtual-time-budget=5000",
]


def find_browser() -> str | None:
    """Return the path of an installed Chromium-family browser, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def no_network_prefix() -> list[str]:
    """Return ["unshare", "-n"] (or "-rn" for a normal user) when an empty network namespace can be made."""
    unshare = shutil.which("unshare")
    if not unshare:
        return []
    for flags in (["-n"], ["-rn"]):
        try:
            if subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=10).returncode == 0:
                return [unshare, *flags]
        except (OSError, subprocess.SubprocessError):
            pass
    return []


def requested_urls(netlog: Path) -> tuple[list[str], list[str]]:
    """Return the (page's, browser's own) http(s)/ws(s)/ftp requests recorded in a Chromium net log.

    A request the browser makes for itself (component updates, clock checks) has the initiator
    "not an origin"; anything the page asks for has the page's origin (``null`` for a file).
    """
    if not netlog.exists():
        return [], []
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    try:
        log = json.loads(text if text.endswith("}") else text + "]}")  # a log cut short lacks its end
    except json.JSONDecodeError:
        return [], []
    start_job = log.get("constants", {}).get("logEventTypes", {}).get("URL_REQUEST_START_JOB")
    page: set[str] = set()
    browser: set[str] = set()
    for event in log.get("events", []):
        params = event.get("params", {})
        url = params.get("url", "")
        if event.get("type") != start_job or url.split(":", 1)[0] not in ("http", "https", "ws", "wss", "ftp"):
            continue
        (browser if params.get("initiator") == "not an origin" else page).add(url.split("?", 1)[0])
    return sorted(page), sorted(browser)


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) of a PNG file."""
    head = path.read_bytes()[:24]
    return struct.unpack(">II", head[16:24])


def main(argv: list[str] | None = None) -> int:
    """Run the check; return 0 when it passes or is skipped, 1 when it fails."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", nargs="?", default=str(DEFAULT_REPORT), help="HTML report to open")
    parser.add_argument("--out", default=str(OUT_DIR), help="folder for the screenshot and net log")
    args = parser.parse_args(argv)

    browser = find_browser()
    if browser is None:
        print("check-browser: skipped, no Chromium found (Debian: apt-get install chromium)")
        return 0
    report = Path(args.report).resolve()
    if not report.exists() and report == DEFAULT_REPORT.resolve():
        print(f"check-browser: {report.name} missing; rendering notebook 00 in nb first", flush=True)
        subprocess.run([sys.executable, "-m", "analysis.pipeline", "--only", "00_data_overview", "-p", "lang=nb"],
                       check=False)
    if not report.exists():
        print(f"check-browser: {report} does not exist; run `make report` first", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shot, netlog = out / f"{report.stem}.png", out / f"{report.stem}.netlog.json"
    for f in (shot, netlog):
        f.unlink(missing_ok=True)
    prefix = no_network_prefix()
    with tempfile.TemporaryDirectory(prefix="hm-chromium-") as profile:
        cmd = [*prefix, browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
               f"--log-net-log={netlog}", "--net-log-capture-mode=Default", report.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            print("check-browser: Chromium did not finish within 120 s", file=sys.stderr)
            return 1
    if not shot.exists() or shot.stat().st_size == 0:
        print(f"check-browser: no screenshot written (exit {proc.returncode})\n{proc.stderr[-3000:]}",
              file=sys.stderr)
        return 1
    urls, own = requested_urls(netlog)
    width, height = png_size(shot)
    isolation = "own empty network namespace + dead proxy" if prefix else "dead proxy only (no unshare)"
    print(f"check-browser: {report.name} rendered by {Path(browser).name} with networking off ({isolation})")
    print(f"  screenshot: {shot} ({width}x{height} px)")
    print(f"  network requests from the page: {len(urls)}")
    for url in urls:
        print(f"    {url}")
    if own:
        print(f"  (the browser's own background requests, not from the page, all blocked: {', '.join(own)})")
    print("  result: " + ("FAILED, the page is not self-contained" if urls else "ok, the page loads nothing"))
    return 1 if urls else 0


if __name__ == "__main__":
    sys.exit(main())
