"""From ``peerdesk demo`` to a dashboard that answers: ``python -m tests.benchmarks.bench_first_look``.

Runs ``peerdesk demo --db <tmp> --port <free>`` as a real process, as a new user
would (it starts the Streamlit dashboard and, while it starts, loads the bundled
sample through the ingest path), and times, from the moment the process is started:

* the sample loaded (the command's "demo: loaded ..." line);
* the dashboard's HTTP server answering (``/_stcore/health`` says 200; peerdesk
  starts it while the sample loads, so this can come first);
* the first page rendered with its data, in a real browser: Chromium
  (``/usr/bin/chromium``) driven by Playwright opens the address as soon as the
  server answers and peerdesk has printed it (when it would open a browser
  itself), and the clock stops when the Overview's heading and its six
  figures are on screen and Streamlit says the script run finished without an
  exception. The browser is started before the clock (a user's is already open).
* the CPU time peerdesk's processes (the command and the Streamlit server it
  starts) had used by then: on a machine other jobs share, what the wall time
  would shrink towards (Chromium's own is not counted).

Target: under 10 s. Printed, not asserted. ``--runs N`` (default 3; ``--quick``: 1)
repeats it; the median is shown with each run. Without Chromium or Playwright
only the first two figures are measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

TARGET = 10.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command() -> list[str]:
    """The installed ``peerdesk`` next to this Python, else the same entry point through ``-m``."""
    script = Path(sys.executable).with_name("peerdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli"]


def _health(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by ``root`` and every process under it, from /proc (0 elsewhere)."""
    stats: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    wanted, total = {root}, 0.0
    changed = True
    while changed:
        more = {pid for pid, (parent, _) in stats.items() if parent in wanted} - wanted
        changed = bool(more)
        wanted |= more
    for pid in wanted:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def one_run(browser: object | None, timeout: float = 120.0) -> dict[str, float]:
    """One ``peerdesk demo`` from start to first page; the seconds to each milestone."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    marks: dict[str, float] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERDESK_")}
    env.pop("DISPLAY", None)  # no browser of its own: this one is timed instead
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.Popen([*_command(), "demo", "--db", str(Path(tmp) / "demo.duckdb"), "--port", str(port)],
                                cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output: list[str] = []

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                output.append(line)
                if line.startswith("demo: loaded") and "loaded" not in marks:
                    marks["loaded"] = time.perf_counter() - started
                if line.startswith("dashboard:") and "told" not in marks:
                    marks["told"] = time.perf_counter() - started

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            while not _health(base):
                if proc.poll() is not None or time.perf_counter() - started > timeout:
                    raise RuntimeError("the dashboard did not start:\n" + "".join(output))
                time.sleep(0.02)
            marks["answers"] = time.perf_counter() - started
            while "told" not in marks:  # the server may start before the sample is in: open when peerdesk says
                if proc.poll() is not None or time.perf_counter() - started > timeout:
                    raise RuntimeError("peerdesk never gave the dashboard's address:\n" + "".join(output))
                time.sleep(0.02)
            if browser is not None:
                _first_page(browser, base)
                marks["rendered"] = time.perf_counter() - started
            marks["cpu"] = tree_cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
    return marks


def _first_page(browser: object, base: str) -> None:
    """The Overview, heading and figures on screen, its script run finished without an exception."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1100})  # type: ignore[attr-defined]
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(base)
        expect(tab.get_by_role("heading", level=1)).to_contain_text("this week")
        expect(tab.get_by_test_id("stMetric")).to_have_count(6)
        expect(tab.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
        expect(tab.get_by_test_id("stException")).to_have_count(0)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run")
    parser.add_argument("--runs", type=int, default=None, help="how many runs (default 3)")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    have_browser = sync_playwright is not None and shutil.which(CHROMIUM) is not None
    results: list[dict[str, float]] = []
    if have_browser:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for _ in range(runs):
                    results.append(one_run(browser))
            finally:
                browser.close()
    else:
        print("  (no Chromium or Playwright here: the first page is not timed)")
        results = [one_run(None) for _ in range(runs)]
    print(f"\nfrom `peerdesk demo` to the dashboard, {runs} run(s): median [each]")
    for key, label in (("loaded", "sample loaded"), ("answers", "dashboard server answers"),
                       ("rendered", "first page rendered with its data"),
                       ("cpu", "CPU used by peerdesk's processes to then")):
        values = [r[key] for r in results if key in r]
        if not values:
            continue
        median = statistics.median(values)
        target = f"  target under {TARGET:.0f} s: {'PASS' if median < TARGET else 'MISS'}" if key == "rendered" else ""
        print(f"  {label:<42}{median:6.2f} s  [{', '.join(f'{v:.2f}' for v in values)}]{target}")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
