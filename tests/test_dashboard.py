"""The dashboard, page by page, through Streamlit's AppTest on the demo sample with a fixed clock.

Every number a page shows is compared with the query function the CLI uses, so
the two can never disagree about what an open help request is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, show
from pipeline.collection.demo import load_demo
from pipeline.core import queries, store
from pipeline.followlist import curation
from tests.support import dashboard_pages, held_open

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday: this week and last both have requests
PAGES = [file for file, _, _ in dashboard_pages()]


def _add_collection_history(db: Path) -> None:
    """One healthy source, one failing for two days, and their cursors."""
    with store.writing(db) as con:
        for source, ok, ago, message in [
            ("glammr.us", True, timedelta(hours=3), None),
            ("mastodon.social", True, timedelta(days=3), None),
            ("mastodon.social", False, timedelta(days=2), "mastodon.social: HTTP 503 <b>Service Unavailable</b>"),
            ("mastodon.social", False, timedelta(hours=1), "mastodon.social: HTTP 503 [retry](javascript:alert(1))"),
        ]:
            store.record_run(con, source=source, platform="mastodon", started_at=NOW - ago - timedelta(minutes=1),
                             finished_at=NOW - ago, ok=ok, new_posts=5 if ok else 0, updated_posts=0, requests=3,
                             errors=0 if ok else 2, rate_limit_waits=1, message=message)
        con.execute("INSERT INTO cursors VALUES (?, ?, ?), (?, ?, ?)",
                    ["mastodon:https://glammr.us:tag:sololibrarians", "1175", NOW - timedelta(hours=3),
                     "mastodon:https://mastodon.social:tag:sololibrarians", "1170", NOW - timedelta(days=3)])


def injection_samples(db: Path) -> list[str]:
    """The sample's hostile posts (``<script>`` in the text; ``<img onerror>`` and ``javascript:`` in the HTML),
    marked help requests by a curator so that they are in the queue whatever the rules make of them."""
    with store.writing(db) as con:
        uris = [r[0] for r in con.execute(
            "SELECT uri FROM post_store WHERE text LIKE '%<script>%' OR html LIKE '%onerror%' ORDER BY uri"
        ).fetchall()]
        for uri in uris:
            curation.mark(con, uri, "request")
    assert len(uris) == 2
    return uris


@pytest.fixture(scope="module")
def pinned_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("dash") / "pinned.duckdb"
    load_demo(db, now=NOW)
    _add_collection_history(db)
    injection_samples(db)
    return db


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    """The demo as ``peerdesk demo`` builds it: newest post now, clock not pinned (decisions are made now)."""
    db = tmp_path / "live.duckdb"
    load_demo(db)
    return db


def _app(monkeypatch: pytest.MonkeyPatch, db: Path, *, pinned: bool = True, page: str | None = None) -> AppTest:
    monkeypatch.setenv(data.DB_ENV, str(db))
    if pinned:
        monkeypatch.setenv(data.AS_OF_ENV, NOW.isoformat())
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _read(db: Path, func, *args, **kwargs):  # noqa: ANN001, ANN202
    with store.reading(db) as con:
        return func(con, *args, **kwargs)


def _cards(at: AppTest) -> list[str]:
    """The post texts on the requests page, in order (each card shows its text through st.text)."""
    return [t.value for t in at.text][1::2]


def test_every_page_renders_without_exception(monkeypatch: pytest.MonkeyPatch, pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db)
    titles = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        titles[page] = at.title[0].value
    assert all(titles.values()) and len(titles) == len(PAGES) >= 5, titles
    headings = {
        "views/overview.py": "Solo librarians: this week",
        "views/open_requests.py": "Help requests",
        "views/response_times.py": "Response times",
        "views/peers.py": "Peers",
        "views/health.py": "Collection health",
    }
    assert {page: titles.get(page) for page in headings} == headings
    assert at.button(key="refresh")  # the sidebar's way to skip the one-minute cache
    path = next(c.value for c in at.sidebar.caption if c.value.startswith("Database:"))
    assert "/\u200b" in path  # a narrow sidebar wraps the path after a slash, not mid-word


def test_every_view_but_the_first_run_page_is_in_the_menu() -> None:
    views = {f"views/{p.name}" for p in (APP.parent / "views").glob("*.py")}
    assert views - set(PAGES) == {"views/no_database.py"}  # shown alone, before there is a database
    assert set(PAGES) <= views


def test_an_empty_database_renders_every_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with store.writing(db):
        pass  # the schema, as `peerdesk collect` leaves it before anything was found
    at = _app(monkeypatch, db)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    assert "No collection runs recorded yet" in at.info[0].value


def test_overview_metrics_are_the_query_module_numbers(monkeypatch: pytest.MonkeyPatch, pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db)
    this, last = _read(pinned_db, queries.week_overview, NOW)
    metrics = {m.label: m for m in at.metric}
    assert metrics["New requests"].value == str(this["new_requests"])
    assert metrics["New requests"].delta == f"{this['new_requests'] - last['new_requests']:+d}"
    assert metrics["Answered"].value == str(this["answered"])
    assert metrics["Still open"].value == str(this["still_open"])
    assert metrics["Active peers"].value == str(this["active_peers"])
    assert metrics["Active peers"].delta == f"{this['active_peers'] - last['active_peers']:+d}"
    assert metrics["Open queue"].value == str(this["open_total"])
    assert metrics["Median first reply"].value == show.duration(this["median_response"])
    assert this["open_total"] == len(_read(pinned_db, queries.help_requests, NOW))
    assert at.metric[0].label == "Open queue"  # first, not the last of six stacked on a phone
    link = next(p.proto for p in at.get("page_link") if p.proto.label.startswith("Go to the open queue"))
    assert (link.page, link.label) == ("open_requests", f"Go to the open queue ({this['open_total']})")
    oldest = _read(pinned_db, queries.help_requests, NOW)[0]
    assert show.first_lines(oldest["text"], lines=2, chars=200) in [t.value for t in at.text]

    # The text equivalents: the week table and the posts-per-day table beside the charts.
    week_table = at.table[0].value
    assert list(week_table["New help requests"]) == [this["new_requests"], last["new_requests"]]
    assert list(week_table["Active peers"]) == [this["active_peers"], last["active_peers"]]
    per_day = _read(pinned_db, queries.posts_per_day, NOW, days=14)
    day_table = at.table[1].value
    assert len(day_table) == 14
    assert int(day_table["Total"].sum()) == sum(r["posts"] for r in per_day)
    assert int(day_table["Mastodon"].sum()) == sum(r["posts"] for r in per_day if r["platform"] == "mastodon")
    assert len(at.get("vega_lite_chart")) == 2  # one chart per platform, named in its title


def test_open_requests_oldest_first_with_age_reasons_and_link(monkeypatch: pytest.MonkeyPatch,
                                                               pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    rows = _read(pinned_db, queries.help_requests, NOW)
    assert at.subheader[0].value == f"{len(rows)} open help requests, oldest first"
    assert _cards(at) == [show.first_lines(r["text"]) for r in rows]
    assert [t.value for t in at.text][0::2][0] == f"{rows[0]['display_name']} ({rows[0]['author']}) asked:"
    heads = [m.value for m in at.markdown if m.value.startswith("**")]
    assert heads[0] == (f"**{show.platform(rows[0]['platform'])}** · :red-badge[overdue] waiting "
                        f"**{show.duration(rows[0]['age'])}**"
                        f" · posted {show.local(rows[0]['created_at'], 'UTC')}")
    whys = [c.value for c in at.caption if c.value.startswith("Why it counts")]
    assert len(whys) == len(rows)
    assert show.md_escape(show.reason(rows[0]["reasons"][0])) in whys[0]
    links = at.get("link_button")
    assert [link.proto.url for link in links] == [r["url"] for r in rows]
    assert links[0].proto.label == f"Open on {show.platform(rows[0]['platform'])} to answer"
    assert len([b for b in at.button if b.label == "Mark resolved"]) == len(rows)
    choices = _read(pinned_db, queries.request_filter_choices, NOW)
    assert at.selectbox(key="lang").options == ["(any)", *choices["langs"]]
    assert at.selectbox(key="tag").options == ["(any)", *(f"#{t}" for t in choices["tags"])]


@pytest.mark.parametrize(("widget", "choice", "query"), [
    ("platform", "bluesky", {"platform": "bluesky"}),
    ("tag", "sololibrarians", {"tag": "sololibrarians"}),
    ("lang", "fr", {"lang": "fr"}),
    ("age", "gt7d", {"min_age": timedelta(days=7)}),
    ("age", "1to3d", {"min_age": timedelta(days=1), "max_age": timedelta(days=3)}),
])
def test_open_request_filters_match_the_query(monkeypatch: pytest.MonkeyPatch, pinned_db: Path, widget: str,
                                              choice: str, query: dict) -> None:
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    at.selectbox(key=widget).select(choice).run()
    assert not at.exception
    rows = _read(pinned_db, queries.help_requests, NOW, **query)
    everything = _read(pinned_db, queries.help_requests, NOW)
    assert 0 < len(rows) < len(everything)  # the filter really narrows the demo queue
    assert _cards(at) == [show.first_lines(r["text"]) for r in rows]


def test_status_filter_shows_answered_requests_with_their_responder(monkeypatch: pytest.MonkeyPatch,
                                                                    pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    at.selectbox(key="status").select("answered").run()
    rows = _read(pinned_db, queries.help_requests, NOW, status="answered")
    assert at.subheader[0].value == f"{len(rows)} answered help requests, oldest first"
    first = next(m.value for m in at.markdown if m.value.startswith("**"))
    assert f"answered after **{show.duration(rows[0]['response_time'])}** by" in first
    assert show.md_code(rows[0]["first_responder"]) in first


def test_mark_resolved_confirms_in_place_and_undo_brings_it_back(monkeypatch: pytest.MonkeyPatch,
                                                                 live_db: Path) -> None:
    at = _app(monkeypatch, live_db, pinned=False, page="views/open_requests.py")
    before = _cards(at)
    rows = _read(live_db, queries.help_requests, store.now_utc())
    third = rows[2]
    at.button(key=f"resolve:{third['uri']}").click().run()
    assert not at.exception
    # The confirmation is where the click was, naming the post: the cards around it do not move this run.
    texts = [t.value for t in at.text]
    assert texts.index(next(t for t in texts if t.startswith(f"{third['display_name']} ({third['author']}):"))) \
        == texts.index(show.first_lines(rows[1]["text"])) + 1
    assert at.success[0].value.startswith("Resolved: the post by ")
    assert show.md_escape(third["author"]) in at.success[0].value
    assert at.button(key=f"undo:{third['uri']}")
    assert at.subheader[0].value.startswith(f"{len(before) - 1} open help requests")
    resolved = _read(live_db, queries.help_requests, store.now_utc(), status="resolved")
    assert [r["uri"] for r in resolved] == [third["uri"]]  # the same decision the CLI's `mark` records

    at.run()  # the next run: the card is gone and the list closes up
    assert _cards(at) == before[:2] + before[3:]
    assert not at.success

    at = _app(monkeypatch, live_db, pinned=False, page="views/open_requests.py")
    at.button(key=f"resolve:{rows[0]['uri']}").click().run()
    at.button(key=f"undo:{rows[0]['uri']}").click().run()
    assert _cards(at)[0] == before[0]
    assert any(c.value.startswith("Undone") for c in at.caption)


def test_undoing_not_a_request_leaves_no_curator_verdict(monkeypatch: pytest.MonkeyPatch, live_db: Path) -> None:
    at = _app(monkeypatch, live_db, pinned=False, page="views/open_requests.py")
    target = next(r for r in _read(live_db, queries.help_requests, store.now_utc()) if not r["curated"])
    at.button(key=f"notreq:{target['uri']}").click().run()
    at.button(key=f"undo:{target['uri']}").click().run()
    again = next(r for r in _read(live_db, queries.help_requests, store.now_utc()) if r["uri"] == target["uri"])
    assert not again["curated"]
    assert not any("(decided by a curator)" in c.value and target["author"] in c.value for c in at.caption)


def test_answer_link_goes_through_the_organisers_own_instance(monkeypatch: pytest.MonkeyPatch, live_db: Path,
                                                               tmp_path: Path) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text('[mastodon]\nhome = "glammr.us"\n')
    monkeypatch.setenv("PEERDESK_CONFIG", str(config))
    at = _app(monkeypatch, live_db, pinned=False, page="views/open_requests.py")
    first = next(r for r in _read(live_db, queries.help_requests, store.now_utc()) if r["platform"] == "mastodon")
    button = next(b for b in at.get("link_button") if b.proto.url.startswith("https://glammr.us/"))
    assert button.proto.url == "https://glammr.us/authorize_interaction?uri=" + quote(first["uri"], safe="")
    assert button.proto.label == "Answer from glammr.us"
    assert any(f"]({first['url']})" in m.value for m in at.markdown)  # the author's page, second


def test_not_a_request_takes_it_off_every_list(monkeypatch: pytest.MonkeyPatch, live_db: Path) -> None:
    at = _app(monkeypatch, live_db, pinned=False, page="views/open_requests.py")
    target = _read(live_db, queries.help_requests, store.now_utc())[-1]
    at.button(key=f"notreq:{target['uri']}").click().run()
    assert at.success[0].value.startswith("Marked not a request: the post by")
    at.run()
    assert show.first_lines(target["text"]) not in _cards(at)
    every = _read(live_db, queries.help_requests, store.now_utc(), status=None)
    assert target["uri"] not in {r["uri"] for r in every}


def test_response_times_page_matches_the_queries(monkeypatch: pytest.MonkeyPatch, pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/response_times.py")
    summary = _read(pinned_db, queries.response_summary, NOW, weeks=8)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Help requests"] == str(summary["requests"])
    assert metrics["Answered"] == str(summary["answered"])
    assert metrics["Median time to first response"] == show.duration(summary["median_response"])
    assert metrics["Answered within 24 hours"] == show.percent(summary["answered_within_24h"])
    buckets = _read(pinned_db, queries.response_time_buckets, NOW, weeks=8)
    distribution = at.table[0].value
    assert int(distribution["Total"].sum()) == sum(b["requests"] for b in buckets) == summary["requests"]
    assert list(distribution.index) == list(queries.RESPONSE_BUCKETS)
    weekly = _read(pinned_db, queries.response_times, NOW, weeks=8)
    table = at.table[1].value
    assert list(table["Week"]) == [show.week_label(r["week"]) for r in weekly]
    assert table["Week"].iloc[0].startswith("wk of ") and "-W" not in table["Week"].iloc[0]
    assert list(table["Median wait"]) == [show.duration(r["median_response"]) or "–" for r in weekly]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2 + 3  # distribution per platform; median, p90, within 24 h
    assert all('"title"' in c.proto.spec for c in charts)  # every chart says what it shows

    at.selectbox(key="rt_platform").select("bluesky").run()
    only = _read(pinned_db, queries.response_summary, NOW, weeks=8, platform="bluesky")
    assert any(c.value.startswith("Bluesky: ") for c in at.caption)  # not "All platforms"
    assert all("Mastodon" not in c.proto.spec for c in at.get("vega_lite_chart"))  # nor its legend
    assert {m.label: m.value for m in at.metric}["Help requests"] == str(only["requests"])


def test_peers_table_and_csv(monkeypatch: pytest.MonkeyPatch, pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/peers.py")
    rows = _read(pinned_db, queries.peers, NOW, since=NOW - timedelta(weeks=3))
    frame = at.dataframe[0].value
    assert list(frame["Handle"]) == [r["handle"] for r in rows]
    assert list(frame["First responses"]) == [r["first_responses"] for r in rows]
    assert list(frame["Replies to others"]) == [r["replies_to_others"] for r in rows]
    assert all(url is None or url.startswith(("https://", "http://")) for url in frame["Profile"])
    assert at.get("download_button")[0].proto.label == "Download the peer list (CSV)"

    assert "None" not in list(frame["Median first response"])
    assert list(frame["Median first response"]) == [show.duration(r["median_response_time"]) or "–" for r in rows]
    assert list(frame["Last post"].dt.tz_convert("UTC")) == [pd.Timestamp(r["last_post_at"]) for r in rows]
    assert len(set(frame["Last post"])) > 1  # each person's own newest post, not the time of loading
    heading = at.subheader[0].value
    this_week = _read(pinned_db, queries.week_overview, NOW)[0]
    at_week = _app(monkeypatch, pinned_db, page="views/peers.py")
    at_week.selectbox(key="peers_weeks").select(1).run()
    assert f"; {this_week['active_peers']} active peers" in at_week.subheader[0].value  # the Overview's figure
    assert heading.startswith(f"{len(rows)} people posted")

    csv = show.csv_bytes(frame).decode()
    assert csv.splitlines()[0].startswith("Handle,First responses,Replies to others")
    assert len(pd.read_csv(__import__("io").StringIO(csv))) == len(rows)

    at.selectbox(key="peers_weeks").select(1).run()
    assert len(at.dataframe[0].value) == len(_read(pinned_db, queries.peers, NOW, since=NOW))


@pytest.mark.parametrize("status", ["open", "answered", "all"])
def test_status_filter_counts_are_the_query_module_counts(monkeypatch: pytest.MonkeyPatch, pinned_db: Path,
                                                          status: str) -> None:
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    at.selectbox(key="status").select(status).run()
    rows = _read(pinned_db, queries.help_requests, NOW, status=None if status == "all" else status)
    assert at.subheader[0].value.startswith(f"{len(rows)} ")
    assert _cards(at) == [show.first_lines(r["text"]) for r in rows]


def test_filters_combine_as_the_query_combines_them(monkeypatch: pytest.MonkeyPatch, pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    seen = []
    for widget, choice in [("status", "all"), ("platform", "mastodon"), ("lang", "en"), ("age", "1to3d")]:
        at.selectbox(key=widget).select(choice).run()
        assert not at.exception
        seen.append(len(_cards(at)))
    rows = _read(pinned_db, queries.help_requests, NOW, status=None, platform="mastodon", lang="en",
                 min_age=timedelta(days=1), max_age=timedelta(days=3))
    assert rows and seen[0] > seen[-1]  # each filter narrowed the list, and something is left
    assert at.subheader[0].value.startswith(f"{len(rows)} help requests")
    assert _cards(at) == [show.first_lines(r["text"]) for r in rows]
    assert [link.proto.url for link in at.get("link_button")] == [r["url"] for r in rows]


@pytest.mark.parametrize(("weeks", "platform"), [(4, None), (26, "bluesky"), (52, "mastodon")])
def test_response_time_filters_match_the_queries(monkeypatch: pytest.MonkeyPatch, pinned_db: Path, weeks: int,
                                                 platform: str | None) -> None:
    at = _app(monkeypatch, pinned_db, page="views/response_times.py")
    at.selectbox(key="rt_weeks").select(weeks).run()
    if platform:
        at.selectbox(key="rt_platform").select(platform).run()
    assert not at.exception
    summary = _read(pinned_db, queries.response_summary, NOW, weeks=weeks, platform=platform)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Help requests"] == str(summary["requests"])
    assert metrics["Answered"] == str(summary["answered"])
    assert metrics["Median time to first response"] == show.duration(summary["median_response"])
    assert metrics["Answered within 24 hours"] == show.percent(summary["answered_within_24h"])
    buckets = _read(pinned_db, queries.response_time_buckets, NOW, weeks=weeks, platform=platform)
    assert int(at.table[0].value["Total"].sum()) == sum(b["requests"] for b in buckets)
    weekly = _read(pinned_db, queries.response_times, NOW, weeks=weeks, platform=platform)
    table = at.table[1].value
    assert list(zip(table["Week"], table["Requests"], strict=True)) == [
        (show.week_label(r["week"]), r["requests"]) for r in weekly]


@pytest.mark.parametrize("weeks", [1, 4, 12, 52])
def test_peer_periods_match_the_query(monkeypatch: pytest.MonkeyPatch, pinned_db: Path, weeks: int) -> None:
    at = _app(monkeypatch, pinned_db, page="views/peers.py")
    at.selectbox(key="peers_weeks").select(weeks).run()
    assert not at.exception
    rows = _read(pinned_db, queries.peers, NOW, since=NOW - timedelta(weeks=weeks - 1))
    frame = at.dataframe[0].value
    assert list(frame["Handle"]) == [r["handle"] for r in rows]
    for column, field in [("First responses", "first_responses"), ("Replies to others", "replies_to_others"),
                          ("Requests asked", "requests_asked"), ("Posts", "posts")]:
        assert list(frame[column]) == [r[field] for r in rows], column
    assert list(frame["Median first response"]) == [show.duration(r["median_response_time"]) or "–" for r in rows]


def test_the_dashboard_follows_changes_made_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A decision taken with ``peerdesk mark`` and a deletion found by the collector show on the next view."""
    db = tmp_path / "changing.duckdb"
    load_demo(db, now=NOW)
    monkeypatch.setattr(data, "VERSION_HOLD", 0.0)
    at = _app(monkeypatch, db, page="views/open_requests.py")
    first, second, *rest = _read(db, queries.help_requests, NOW)
    with store.writing(db) as con:
        curation.mark(con, first["uri"], "not-request")
    at.run()
    assert _cards(at) == [show.first_lines(r["text"]) for r in (second, *rest)]
    with store.writing(db) as con, store.transaction(con):  # as ingest commits a page
        store.mark_deleted(con, [second["uri"]], NOW)
    at.run()
    assert _cards(at) == [show.first_lines(r["text"]) for r in rest]
    assert at.subheader[0].value.startswith(f"{len(rest)} open help requests")


def test_a_new_file_state_is_picked_up_at_most_every_few_seconds(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    db = tmp_path / "state.duckdb"
    db.write_bytes(b"one")
    data.forget_cached()
    held = data.data_version(str(db))
    db.write_bytes(b"three")
    assert data.data_version(str(db)) == held  # a live collector commits every few seconds: not every one
    monkeypatch.setattr(data, "VERSION_HOLD", 0.0)
    assert data.data_version(str(db)) != held
    db.write_bytes(b"one")
    data.forget_cached()  # what a curator's button does after writing: the next view reads the file
    monkeypatch.setattr(data, "VERSION_HOLD", 60.0)
    assert data.data_version(str(db)) != held


def test_questions_asked_of_a_snapshot_get_the_same_answers(pinned_db: Path) -> None:
    """The dashboard computes every request's status once per moment; each question must not notice."""
    since = NOW - timedelta(weeks=3)
    questions = [
        (queries.help_requests, {"status": None}),
        (queries.help_requests, {"platform": "bluesky", "tag": "#SoloLibrarians", "min_age": timedelta(days=1)}),
        (queries.count_help_requests, {"status": "answered"}),
        (queries.request_filter_choices, {"status": None}),
        (queries.response_times, {"weeks": 4}),
        (queries.response_time_buckets, {"weeks": 8, "platform": "mastodon"}),
        (queries.response_summary, {"weeks": 26}),
        (queries.peers, {"since": since}),
        (queries.peer_weeks, {"since": since}),
    ]
    with store.reading(pinned_db) as con:
        plain = [ask(con, NOW, **kw) for ask, kw in questions]
        snapshot = queries.requests_snapshot(con, NOW)
        with queries.answering_from(con, snapshot, NOW):
            assert [ask(con, NOW, **kw) for ask, kw in questions] == plain
            with pytest.raises(duckdb.Error, match="kept for"):
                queries.week_overview(con, NOW)  # last week is another moment: an error, not a wrong number
        with queries.answering_from(con, snapshot.slice(0, 0), NOW):  # it really is the snapshot that answers
            assert queries.help_requests(con, NOW, status=None) == []
            assert all(p["first_responses"] == 0 for p in queries.peers(con, NOW, since=since))
        assert queries.help_requests(con, NOW, status=None) == plain[0]  # and the stored macro is back


@pytest.mark.parametrize("weeks", [1, 2, 4])
def test_peers_are_the_weekly_activity_summed(pinned_db: Path, weeks: int) -> None:
    since = NOW - timedelta(weeks=weeks - 1)
    fields = ("posts", "requests_asked", "replies_to_others", "first_responses")
    summed: dict[str, dict[str, int]] = {}
    for row in _read(pinned_db, queries.peer_weeks, NOW, since=since):
        totals = summed.setdefault(row["account"], dict.fromkeys(fields, 0))
        for field in fields:
            totals[field] += row[field]
    peers = _read(pinned_db, queries.peers, NOW, since=since, include_bots=True)
    assert {p["account"]: {f: p[f] for f in fields} for p in peers} == summed
    assert any(p["first_responses"] for p in peers) and any(p["replies_to_others"] for p in peers)


def test_health_warns_in_words_about_a_source_failing_for_a_day(monkeypatch: pytest.MonkeyPatch,
                                                                pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/health.py")
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    assert "Failing for more than a day: mastodon\\.social" in warnings[0]
    assert "javascript" in warnings[0] and "](" not in warnings[0]  # the message is shown, not linked
    table = at.dataframe[0].value
    assert list(table["Source"]) == ["glammr.us", "mastodon.social"]
    assert list(table["Result"]) == ["ok", "FAILING for over a day"]
    assert list(table["Rate-limit waits (all runs)"]) == [1, 3]
    assert list(table["Cursor age"]) == ["3h 00m", "3d 0h"]
    assert {m.label: m.value for m in at.metric}["Posts stored"] == f"{_read(pinned_db, queries.totals)['posts']:,}"


def test_health_tells_the_truth_about_new_failing_skipped_and_error_only_sources(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "health.duckdb"
    load_demo(db, now=NOW)
    with store.writing(db) as con:
        for source, platform, ok, requests, errors, message in [
            ("glammr.us", "mastodon", False, 1, 1, "glammr.us: HTTP 503"),  # a first collect, failed 2 min ago
            ("threads:mastodon", "mastodon", True, 4, 4, "HTTP 500"),  # every request failed
            ("bluesky", "bluesky", True, 0, 0, "skipped: set PEERDESK_BLUESKY_HANDLE"),  # not configured
        ]:
            store.record_run(con, source=source, platform=platform, started_at=NOW - timedelta(minutes=3),
                             finished_at=NOW - timedelta(minutes=2), ok=ok, new_posts=0, updated_posts=0,
                             requests=requests, errors=errors, rate_limit_waits=0, message=message)
    at = _app(monkeypatch, db, page="views/health.py")
    table = at.dataframe[0].value
    assert dict(zip(table["Source"], table["Result"], strict=True)) == {
        "bluesky": "not configured", "glammr.us": "never worked", "threads:mastodon": "never worked"}
    assert not at.warning  # nothing has been failing for a day
    infos = " ".join(i.value for i in at.info)
    assert "glammr\\.us failed (glammr\\.us\\: HTTP 503); it has never worked \\(first tried 2m ago\\)" in infos
    assert "bluesky is not configured" in infos
    assert not at.success

    at.switch_page("views/overview.py").run()  # every configured source failed: every page says so
    assert "**Collection is failing**: every source" in at.error[0].value


def test_no_database_explains_how_to_make_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _app(monkeypatch, tmp_path / "missing.duckdb")
    assert at.title[0].value == "No database yet"
    codes = [c.value for c in at.code]
    assert str(tmp_path / "missing.duckdb") in codes
    assert "peerdesk demo" in codes and any("peerdesk collect" in c for c in codes)
    assert not (tmp_path / "missing.duckdb").exists()  # looking did not create it


@pytest.mark.parametrize("content", ["duckdb", "text"])
def test_a_file_that_is_not_a_peerdesk_database_gets_a_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                 content: str) -> None:
    other = tmp_path / "other.duckdb"
    if content == "duckdb":
        duckdb.connect(str(other)).close()  # a DuckDB file without peerdesk's tables
    else:
        other.write_text("not a database", encoding="utf-8")
    at = _app(monkeypatch, other)
    assert "is not a peerdesk database this version can read" in at.error[0].value


def test_injection_sample_is_shown_as_inert_text(monkeypatch: pytest.MonkeyPatch, pinned_db: Path) -> None:
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    at.selectbox(key="status").select("all").run()
    texts = [t.value for t in at.text]
    assert any("<script>alert(1)</script>" in t for t in texts)  # literal, through st.text
    assert any(t.startswith("FREE CE credits") and "<img" not in t for t in texts)  # its HTML is never shown
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for body in rendered:
        assert not re.search(r"<\s*(script|img|a|iframe)", body, re.I), body
        assert "javascript:" not in body.lower()
    assert all(link.proto.url.startswith(("https://", "http://")) for link in at.get("link_button"))

    at.switch_page("views/peers.py").run()
    names = list(at.dataframe[0].value["Name"])
    assert 'Priya <Law Lib> & "Co" :lawbook:' in names  # a display name with markup, kept as data


def test_a_locked_database_shows_a_refreshing_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    load_demo(db, now=NOW)
    monkeypatch.setattr(data, "READ_WAIT", 0.3)
    at = _app(monkeypatch, db, page="views/open_requests.py")
    shown = _cards(at)
    with held_open(db):
        data.forget_cached()
        at.run()  # the collector holds the file: the last figures stay, with a note
        assert not at.exception
        assert "Refreshing" in at.info[0].value
        assert _cards(at) == shown
        at.switch_page("views/peers.py").run()  # nothing to fall back on: a note, not a traceback
        assert not at.exception
        assert "Refreshing" in at.info[0].value
    at.run()
    assert not at.info and not at.exception
    assert at.title[0].value == "Peers"


def test_community_name_and_time_zone_come_from_the_configuration(monkeypatch: pytest.MonkeyPatch,
                                                                   pinned_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text('[community]\nname = "Bibliothécaires *solo*"\ntimezone = "Pacific/Auckland"\n',
                      encoding="utf-8")
    monkeypatch.setenv("PEERDESK_CONFIG", str(config))
    at = _app(monkeypatch, pinned_db, page="views/open_requests.py")
    oldest = _read(pinned_db, queries.help_requests, NOW)[0]
    head = next(m.value for m in at.markdown if m.value.startswith("**"))
    assert head.endswith(f"posted {show.local(oldest['created_at'], 'Pacific/Auckland')}")
    at.switch_page("views/overview.py").run()
    assert at.title[0].value == "Bibliothécaires \\*solo\\*: this week"


def test_desk_reads_db_from_argv_then_environment_then_configuration(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text('[database]\npath = "from-config.duckdb"\n', encoding="utf-8")
    monkeypatch.setenv("PEERDESK_CONFIG", str(config))
    env = {data.DB_ENV: str(tmp_path / "from-env.duckdb")}
    assert data.desk_from(["--db", str(tmp_path / "a.duckdb")], env).db == str(tmp_path / "a.duckdb")
    assert data.desk_from([], env).db == str(tmp_path / "from-env.duckdb")
    assert data.desk_from([], {}).db == str(tmp_path / "from-config.duckdb")
    pinned = data.desk_from(["--db", "x.duckdb", "--as-of", "2026-11-20T08:00"], {})
    assert pinned.as_of() == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert data.desk_from(["--as-of", "soon"], env).config_problem


def test_links_and_markdown_are_made_safe() -> None:
    assert show.safe_url("https://glammr.us/@ana/1") == "https://glammr.us/@ana/1"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "data:text/html,<b>",
                "//evil.example/x", "https://", "http://exa mple.org", "vbscript:x", None, 42):
        assert show.safe_url(bad) is None, bad
    assert show.md_escape("<img src=x onerror=alert(1)> [a](javascript:b) $x$ :red[y]") == (
        "\\<img src\\=x onerror\\=alert\\(1\\)\\> \\[a\\]\\(javascript\\:b\\) \\$x\\$ \\:red\\[y\\]")
    assert show.md_code("ana@glammr.us") == "`ana@glammr.us`"
    assert show.md_code("a`b``c") == "```a`b``c```"
    assert show.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"


@pytest.mark.parametrize(("page", "key", "name", "other"), [
    ("views/peers.py", "peers_weeks", "PEERS_WEEKS", 12),
    ("views/response_times.py", "rt_weeks", "RESPONSE_TIMES_WEEKS", 26)])
def test_the_pages_open_at_the_periods_the_commands_default_to(monkeypatch: pytest.MonkeyPatch, pinned_db: Path,
                                                               page: str, key: str, name: str, other: int) -> None:
    import click

    from pipeline.cli.commands import cli

    command = {"PEERS_WEEKS": "peers", "RESPONSE_TIMES_WEEKS": "response-times"}[name]
    loaded = cli.get_command(click.Context(cli), command)  # commands load lazily: asked for, not looked up
    assert loaded is not None
    option = next(p for p in loaded.params if p.name == "weeks")
    assert option.default == getattr(queries, name)  # the command reads the one default
    monkeypatch.setattr(queries, name, other)  # and so does the page, whatever it says
    assert _app(monkeypatch, pinned_db, page=page).selectbox(key=key).value == other
