"""The dashboard as a person meets it: served by ``streamlit run``, driven in a real Chromium.

Skipped unless /usr/bin/chromium (Debian's ``chromium`` package) and the
``playwright`` Python package are installed; Playwright's own browser download
is not used. Also runs ``peerdesk collect`` against the file the dashboard is
serving, to show that neither side crashes because of the other.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.cli.launch import dashboard_command
from pipeline.collection.demo import load_demo
from pipeline.core import store
from pipeline.followlist import curation
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import dashboard_pages, free_port, page_url, wait_until

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the skip below says why
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = Path("/tmp/peerdesk-open-requests.png")
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.0 Mobile/15E148 Safari/604.1")  # Streamlit closes the sidebar on a page choice on phones

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() or sync_playwright is None,
                       reason="needs /usr/bin/chromium and the playwright package"),
]


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PEERDESK_")}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``peerdesk demo``'s database, with the sample's hostile posts curated into the queue."""
    db = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    load_demo(db)
    with store.writing(db) as con:
        for (uri,) in con.execute(
                "SELECT uri FROM post_store WHERE text LIKE '%<script>%' OR html LIKE '%onerror%'").fetchall():
            curation.mark(con, uri, "request")
    return db


@pytest.fixture(scope="module")
def dashboard(demo_db: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    log = open(demo_db.parent / "streamlit.log", "w+b")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(dashboard_command(demo_db, port, headless=True), cwd=demo_db.parent, env=_env(),
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(base), 60, "the dashboard to answer",
               unless=lambda: proc.poll() is not None and (demo_db.parent / "streamlit.log").read_text())
    yield base, proc
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A fresh tab that records every JavaScript dialog (an injected alert() would land here)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    tab = context.new_page()
    dialogs: list[str] = []

    def record(dialog) -> None:  # noqa: ANN001
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", record)
    tab.set_default_timeout(30_000)
    yield tab, dialogs
    context.close()


def _settled(tab: Page) -> None:
    """The script run that the last navigation or click started has finished, without an exception."""
    expect(tab.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(tab.get_by_test_id("stException")).to_have_count(0)


def _open(tab: Page, base: str, path: str, heading: str) -> None:
    tab.goto(f"{base}/{path}")
    expect(tab.get_by_role("heading", level=1)).to_contain_text(heading)
    _settled(tab)


def _refresh_now(tab: Page) -> None:
    """Press the sidebar's "Refresh now", opening the sidebar first (it starts collapsed)."""
    button = tab.get_by_role("button", name="Refresh now")
    if not button.is_visible():
        tab.get_by_test_id("stExpandSidebarButton").click()
    button.click()


def test_each_page_shows_its_key_elements(dashboard: tuple[str, subprocess.Popen],
                                          page: tuple[Page, list[str]]) -> None:
    base, _ = dashboard
    tab, dialogs = page
    _open(tab, base, "", "this week")
    for label in ("New requests", "Answered", "Still open", "Median first reply", "Active peers", "Open queue"):
        expect(tab.get_by_test_id("stMetricLabel").filter(has_text=label)).to_have_count(1)
    expect(tab.get_by_text("Bluesky: posts per day")).to_be_visible()
    expect(tab.get_by_test_id("stTable")).to_have_count(2)  # the text equivalents

    _open(tab, base, "open_requests", "Help requests")
    expect(tab.get_by_role("heading", level=3)).to_contain_text("open help requests, oldest first")
    answer = tab.get_by_role("link", name="Open on Mastodon to answer").first
    assert answer.get_attribute("href").startswith("https://")
    expect(tab.get_by_role("button", name="Mark resolved").first).to_be_visible()
    expect(tab.get_by_text("Why it counts:").first).to_be_visible()

    _open(tab, base, "response_times", "Response times")
    expect(tab.get_by_text("Mastodon: time to first reply")).to_be_visible()
    expect(tab.get_by_test_id("stVegaLiteChart")).to_have_count(5)

    _open(tab, base, "peers", "Peers")
    expect(tab.get_by_test_id("stDataFrame")).to_have_count(1)
    expect(tab.get_by_role("button", name="Download the peer list (CSV)")).to_be_visible()

    _open(tab, base, "health", "Collection health")
    expect(tab.get_by_text("No collection runs recorded yet")).to_be_visible()
    assert dialogs == []


def test_injection_sample_is_inert(dashboard: tuple[str, subprocess.Popen], page: tuple[Page, list[str]]) -> None:
    base, _ = dashboard
    tab, dialogs = page
    _open(tab, base, "open_requests?status=All", "Help requests")
    expect(tab.get_by_text("<script>alert(1)</script>", exact=False)).to_be_visible()
    expect(tab.get_by_text("FREE CE credits", exact=False)).to_be_visible()
    assert tab.locator("img[onerror]").count() == 0
    every_href = tab.eval_on_selector_all("[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in every_href if h.strip().lower().startswith(("javascript:", "data:", "vbscript:"))]
    scripts = tab.eval_on_selector_all("script", "els => els.map(e => e.textContent)")
    assert not [s for s in scripts if "alert(" in s]
    answer_links = tab.get_by_role("link", name=re.compile(r"^Open on (Mastodon|Bluesky) to answer$"))
    expect(answer_links.first).to_be_visible()
    hrefs = [link.get_attribute("href") for link in answer_links.all()]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    _open(tab, base, "open_requests", "Help requests")
    tab.screenshot(path=str(SCREENSHOT))
    assert dialogs == []  # checked last, so anything that slipped through had a whole page view to fire


def test_mark_resolved_in_the_browser(dashboard: tuple[str, subprocess.Popen], page: tuple[Page, list[str]]) -> None:
    """A card below the first screen: the confirmation and Undo show where the click was, and the next
    card's buttons do not slide under the pointer (a double tap must not resolve the wrong request)."""
    base, _ = dashboard
    tab, _ = page
    _open(tab, base, "open_requests", "Help requests")
    heading = tab.get_by_role("heading", level=3)
    before = int(heading.inner_text().split()[0])
    target = tab.get_by_role("button", name="Mark resolved").nth(4)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.click(x, y)
    _settled(tab)
    expect(heading).to_contain_text(f"{before - 1} open help requests")
    confirmation = tab.get_by_test_id("stAlertContentSuccess").filter(has_text="Resolved: the post by")
    expect(confirmation).to_be_in_viewport()
    expect(tab.get_by_role("button", name="Undo")).to_be_in_viewport()
    under = tab.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y);"
                         " const b = e && e.closest('button'); return b ? b.innerText : null; }", [x, y])
    assert under is None or "Mark resolved" not in under and "Not a request" not in under, under


def test_a_change_made_elsewhere_shows_without_a_click(dashboard: tuple[str, subprocess.Popen], demo_db: Path,
                                                      page: tuple[Page, list[str]]) -> None:
    base, _ = dashboard
    tab, _ = page
    _open(tab, base, "open_requests", "Help requests")
    heading = tab.get_by_role("heading", level=3)
    before = int(heading.inner_text().split()[0])
    with store.writing(demo_db) as con:  # what `peerdesk mark --resolved` does
        uri = con.execute("SELECT uri FROM help_requests_at(now()) WHERE status = 'open' "
                          "ORDER BY created_at LIMIT 1").fetchall()[0][0]
        curation.mark(con, uri, "resolved")
    expect(heading).to_contain_text(f"{before - 1} open help requests", timeout=25_000)


def test_on_a_phone_nothing_covers_the_page_or_leaves_127_0_0_1(dashboard: tuple[str, subprocess.Popen],
                                                                browser: Browser) -> None:
    base, _ = dashboard
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  user_agent=PHONE)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    outside: list[str] = []
    tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
           else None)
    try:
        _open(tab, base, "", "this week")
        sidebar = tab.get_by_test_id("stSidebar")
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        expect(tab.get_by_test_id("stMetricLabel").first).to_contain_text("Open queue")
        expect(tab.get_by_text("Waiting longest:")).to_be_in_viewport()  # the oldest request, on the first screen
        expect(tab.get_by_role("link", name=re.compile("Go to the open queue"))).to_be_in_viewport()
        title_top = tab.get_by_role("heading", level=1).bounding_box()["y"]
        assert 40 <= title_top < 80, title_top  # clear of the header, without ~110 px of blank above it
        tab.get_by_test_id("stExpandSidebarButton").click()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        tab.get_by_test_id("stSidebarNav").get_by_text("Open requests").click()
        expect(tab.get_by_role("heading", level=1)).to_contain_text("Help requests")
        _settled(tab)
        expect(sidebar).to_have_attribute("data-collapsed", "true")  # choosing a page closes it
        # The filters are folded away: the first card is on the first screen.
        expect(tab.get_by_text(re.compile(r" asked:$")).first).to_be_in_viewport()
        tab.reload()
        _settled(tab)
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        for file, _, _ in dashboard_pages():  # every page in the app's menu, each with its title on a phone
            tab.goto(f"{base}/{page_url(file)}")
            expect(tab.get_by_role("heading", level=1)).to_be_visible()
            _settled(tab)
    finally:
        context.close()
    assert outside == []  # no font host, no favicon host: the dashboard works offline


def test_collect_runs_while_the_dashboard_serves_the_same_file(dashboard: tuple[str, subprocess.Popen],
                                                               demo_db: Path, page: tuple[Page, list[str]]) -> None:
    base, server_proc = dashboard
    tab, dialogs = page
    statuses = [make_status(5000 + i, number=5000 + i, author=make_account(f"peer{i % 7}", account_id=str(i % 7)),
                            text=f"Does anyone have advice on shelving problem number {i}?",
                            created_at=f"2026-11-{1 + i // 20:02d}T{i % 24:02d}:00:00.000Z")
                for i in range(200)]
    with FakeMastodon(statuses) as fake:
        fake.delay = 0.03  # long enough that collection overlaps the page views below
        config = demo_db.parent / "collect.toml"
        config.write_text(f"[database]\npath = '{demo_db}'\n[community]\ntags = ['sololibrarians']\n"
                          f"[mastodon]\nfetch_from_origin = false\ninstances = ['{fake.base}']\n"
                          "[collect]\nsince_days = 3650\n[threads]\nbudget = 10\n", encoding="utf-8")
        collector = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--config", str(config), "collect"],
                                     cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        views = during = 0
        while collector.poll() is None or views < 3:
            during += collector.poll() is None
            _open(tab, base, ["", "open_requests", "health"][views % 3], ["this week", "Help requests",
                                                                          "Collection health"][views % 3])
            _refresh_now(tab)  # read the file now, not the cache
            _settled(tab)
            views += 1
        out, err = collector.communicate(timeout=60)
    assert during >= 1, "no page was viewed while the collector ran"
    assert collector.returncode == 0, err
    assert f"{fake.base}: ok, 200 new posts" in out
    assert server_proc.poll() is None  # the dashboard is still serving

    _open(tab, base, "health", "Collection health")
    _refresh_now(tab)
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        con.close()
    expect(tab.get_by_test_id("stMetricValue").first).to_have_text(f"{stored:,}")
    expect(tab.get_by_text("Every configured source's last run worked.")).to_be_visible()
    assert dialogs == []
