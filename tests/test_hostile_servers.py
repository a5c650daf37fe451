"""Hostile or broken servers: every loop and every wait is bounded, and each fault costs only what it touches.

Each test drives a misbehaving mode of the fakes (tests/fakes) through the real
client code. A cycle that would hang is run under a time limit, so a regression
fails instead of blocking the suite.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collectors.bluesky.jetstream.events import MalformedEvent
from collectors.bluesky.jetstream.filter import StreamFilter
from collectors.bluesky.poll import poll_bluesky
from collectors.bluesky.settings import BlueskySettings
from collectors.bluesky.transport import AnswerTooSlow, BoundedTransport
from collectors.mastodon.api import Instance, make_client
from collectors.mastodon.poll import poll_tags
from collectors.records import MASTODON, Page, SourceReport
from pipeline.collection.cycle import CycleOptions, SourceOutcome, run_cycle
from pipeline.core import store
from pipeline.core.settings import Settings
from tests.fakes import mastodon as fm
from tests.fakes.bluesky import DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky, load_sample
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.fakes.server import FakeServer, Reply, Request, deep_json, gzip_bomb
from tests.support import NOW, SINCE, mastodon_settings

HANG = 30.0  # seconds after which a cycle counts as hung


def _day(n: int, hour: int = 10, minute: int = 0) -> str:
    return f"2026-11-{n:02d}T{hour:02d}:{minute:02d}:00.000Z"


def _statuses(count: int, first_id: int = 1000) -> list[dict]:
    """``count`` tagged statuses, one a minute on Nov 20, newest first."""
    return [make_status(first_id + i, created_at=_day(20, 8 + i // 60, i % 60)) for i in range(count)][::-1]


def _run(settings: Settings) -> dict[str, SourceOutcome]:
    options = CycleOptions(since=SINCE, backoff=0.01, max_rate_wait=2.0, clock=lambda: NOW)
    outcomes = asyncio.run(asyncio.wait_for(run_cycle(settings, options), HANG))
    return {o.report.source: o for o in outcomes}


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(sql).fetchall()


def _tag_cursors(settings: Settings) -> list[tuple]:
    return _rows(settings, "SELECT position FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'")


def _timelines(server: FakeMastodon) -> list:
    return server.requests_to("/api/v1/timelines/tag/")


# ---------------------------------------------------------------- paging without progress


@pytest.mark.parametrize("mode", [fm.IGNORE_CURSOR, fm.BACKWARDS])
def test_a_backfill_whose_bound_is_ignored_stops_on_the_page_that_brings_nothing_new(tmp_path: Path,
                                                                                   mode: str) -> None:
    with FakeMastodon(_statuses(100)) as server:
        server.hostile = mode
        settings = mastodon_settings(tmp_path, server.base)
        outcome = _run(settings)[server.base]
        assert len(_timelines(server)) == 2  # the second page repeated the first: stop there
    assert outcome.ok and outcome.stored.new_posts == 40
    assert any("ignored max_id" in e for e in outcome.report.errors)
    assert _tag_cursors(settings) == []  # an incomplete newest-first pass saves no position


@pytest.mark.parametrize("mode", [fm.IGNORE_CURSOR, fm.BACKWARDS])
def test_a_forward_poll_whose_min_id_is_ignored_stops_and_keeps_its_cursor(tmp_path: Path, mode: str) -> None:
    with FakeMastodon(_statuses(100)) as server:
        settings = mastodon_settings(tmp_path, server.base)
        assert _run(settings)[server.base].stored.new_posts == 100
        [(cursor,)] = _tag_cursors(settings)
        server.hostile = mode
        before = len(_timelines(server))
        outcome = _run(settings)[server.base]
        assert len(_timelines(server)) - before == 1
    assert outcome.ok and outcome.stored.new_posts == 0
    assert any("ignored min_id" in e for e in outcome.report.errors)
    assert _tag_cursors(settings) == [(cursor,)]
    assert _rows(settings, "SELECT count(*) FROM posts") == [(100,)]


def _instance(server: FakeMastodon, client: httpx.AsyncClient) -> Instance:
    return Instance(base=server.base, client=client, report=SourceReport(server.base, MASTODON), backoff=0.01)


async def _poll(server: FakeMastodon, cursors: dict[str, str], max_pages: int) -> tuple[list, SourceReport]:
    async with make_client(2.0) as client:
        inst = _instance(server, client)
        pages = [p async for p in poll_tags(inst, ("sololibrarians",), cursors, SINCE, max_pages=max_pages)]
        return pages, inst.report


def test_pages_per_instance_are_bounded_and_a_forward_pass_resumes_next_cycle() -> None:
    with FakeMastodon(_statuses(10)) as server:
        pages, report = asyncio.run(_poll(server, {}, max_pages=2))
        cursors = {p.cursor_key: p.cursor for p in pages if p.cursor}
        server.add(*_statuses(200, first_id=5000))
        before = len(_timelines(server))
        pages, report = asyncio.run(_poll(server, cursors, max_pages=2))
        assert len(_timelines(server)) - before == 2
        assert "stopped after 2 timeline pages" in (report.note or "")
        [key] = [k for k in cursors if ":tag:" in k]
        assert [p.cursor for p in pages] == ["5039", "5079"]  # each committed page moves the cursor
        pages, _ = asyncio.run(_poll(server, {**cursors, key: "5079"}, max_pages=10))
        ids = [p.sighting.local_id for page in pages for p in page.posts]
        assert min(map(int, ids)) == 5080 and max(map(int, ids)) == 5199  # on from where the limit stopped


def test_a_first_backfill_at_the_page_limit_keeps_what_it_read_and_polls_forward_from_there() -> None:
    with FakeMastodon(_statuses(200)) as server:
        pages, report = asyncio.run(_poll(server, {}, max_pages=3))
        pages = [p for p in pages if ":tag:" in (p.cursor_key or "")]
        assert len(_timelines(server)) == 3
    assert sum(len(p.posts) for p in pages) == 120
    assert pages[-1].cursor == "1199" and all(p.cursor is None for p in pages[:-1])
    assert "timeline pages" in (report.note or "")


# ---------------------------------------------------------------- slow answers, huge answers


def test_a_slow_loris_timeline_costs_its_deadline_not_the_night(tmp_path: Path) -> None:
    with FakeMastodon(_statuses(3)) as server:
        server.hostile, server.trickle = fm.SLOW_LORIS, 0.1  # every read well inside the 0.5 s timeout
        settings = dataclasses.replace(mastodon_settings(tmp_path, server.base), timeout=0.5)
        started = time.monotonic()
        outcome = _run(settings)[server.base]
        elapsed = time.monotonic() - started
        assert len(_timelines(server)) == 1  # not retried: a trickling server is left for the cycle
    assert elapsed < 5  # the deadline is 3 x timeout = 1.5 s; the body alone would take minutes
    assert not outcome.ok
    assert outcome.report.errors[-1].endswith("no whole answer to /api/v1/timelines/tag/sololibrarians within 1.5s")


def test_a_gzip_bomb_is_refused_at_the_cap(tmp_path: Path) -> None:
    with FakeMastodon(_statuses(3)) as server:
        server.hostile, server.bomb_size = fm.GZIP_BOMB, 64 * 2**20
        settings = mastodon_settings(tmp_path, server.base)
        outcome = _run(settings)[server.base]
    # The page is lost, not the process: its one page was all this instance had, so the instance read nothing
    # and has failed this cycle (README: a source whose every request failed has failed).
    assert not outcome.ok and outcome.stored.new_posts == 0
    assert any(e.endswith("the answer is larger than 8 MiB") for e in outcome.report.errors)


def test_a_redirect_loop_is_one_line_without_a_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeMastodon(_statuses(3)) as server:
        server.hostile = fm.REDIRECT_LOOP
        settings = mastodon_settings(tmp_path, server.base)
        with caplog.at_level(logging.DEBUG):
            outcome = _run(settings)[server.base]
    assert not outcome.ok
    assert outcome.report.errors == [f"{server.base.split('://')[1]}: /api/v2/instance redirects in a loop "
                                     "(too many redirects)"]
    assert not any(r.exc_info for r in caplog.records)


# ---------------------------------------------------------------- deep nesting


def test_a_deeply_nested_timeline_costs_that_page(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeMastodon(_statuses(3)) as server:
        server.hostile = fm.DEEP_JSON
        settings = mastodon_settings(tmp_path, server.base)
        with caplog.at_level(logging.DEBUG):
            outcome = _run(settings)[server.base]
    assert not outcome.ok and outcome.stored.new_posts == 0  # its only page was lost: nothing was read
    assert any(e.endswith("answered JSON nested too deeply to read") for e in outcome.report.errors)
    assert not any(r.exc_info for r in caplog.records)


def test_a_deeply_nested_context_loses_that_thread_only(tmp_path: Path) -> None:
    ana, bea = make_account("ana", account_id="1"), make_account("bea", account_id="2")
    statuses = [
        make_status(10, author=ana, text="Does anyone know a good ILS?", created_at=_day(20, 9)),
        make_status(11, author=bea, text="Koha.", tags=(), in_reply_to_id="10", created_at=_day(20, 10)),
        make_status(20, author=ana, text="Can anyone recommend a scanner?", created_at=_day(20, 9, 30)),
        make_status(21, author=bea, text="A flatbed.", tags=(), in_reply_to_id="20", created_at=_day(20, 11)),
    ][::-1]
    with FakeMastodon(statuses) as server:
        server.deep_contexts = {"10"}
        settings = mastodon_settings(tmp_path, server.base)
        threads = _run(settings)["threads:mastodon"]
    assert threads.ok and threads.stored.new_posts == 1
    [error] = threads.report.errors
    assert error.startswith("thread of https://glammr.us/users/ana/statuses/10: ")
    assert error.endswith("/api/v1/statuses/10/context answered JSON nested too deeply to read")
    assert _rows(settings, "SELECT text FROM posts WHERE reply_root LIKE '%/20'") == [("A flatbed.",)]


# ---------------------------------------------------------------- Bluesky

TAG = "sololibrarians"
SEARCH, LIST_FEED = "app.bsky.feed.searchPosts", "app.bsky.feed.getListFeed"
LIST_URI = next(iter(load_sample().list_feeds))


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


def _bluesky(fake: FakeBluesky, tmp_path: Path, **overrides: object) -> BlueskySettings:
    settings = BlueskySettings(service=fake.url, appview=fake.url, tags=(TAG,), lists=(), since=SINCE,
                               session_path=tmp_path / "state" / "bluesky-session.json",
                               user_agent="peerdesk-test/0.1", timeout=2.0, page_size=5)
    return dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]


def _poll_bluesky(settings: BlueskySettings, signed_in: bool = True) -> tuple[list[Page], SourceReport]:
    report = SourceReport(source="bluesky", platform="bluesky")
    credentials = (DEFAULT_HANDLE, DEFAULT_PASSWORD) if signed_in else (None, None)
    done: list = []

    def poll() -> None:
        done.append(list(poll_bluesky(settings, *credentials, {}, report, sleep=lambda s: None)))

    worker = threading.Thread(target=poll, daemon=True)
    worker.start()
    worker.join(HANG)
    assert done, "the Bluesky pass did not end"
    return done[0], report


def test_a_search_cursor_that_comes_back_stops_the_pass_without_a_position(fake, tmp_path: Path) -> None:
    fake.cursor_loop = True
    pages, report = _poll_bluesky(_bluesky(fake, tmp_path))
    assert len(fake.calls(SEARCH)) == 3  # cursors 1, 2, then 1 again
    assert [p.cursor for p in pages] == [None]  # the first page's posts, and no position
    assert len(pages[0].posts) == 5
    assert report.errors == [f"bluesky:search:{TAG}: {SEARCH} gave a paging cursor it had given before; "
                             "stopped the pass, its position stays"]
    assert report.note == report.errors[0] and not report.failed


def test_a_list_feed_cursor_that_comes_back_stops_the_pass(fake, tmp_path: Path) -> None:
    fake.cursor_loop = True
    settings = _bluesky(fake, tmp_path, tags=(), lists=(LIST_URI,))
    pages, report = _poll_bluesky(settings, signed_in=False)
    assert len(fake.calls(LIST_FEED)) == 3
    assert all(p.cursor is None for p in pages)
    assert report.errors == [f"bluesky:list:{LIST_URI}: {LIST_FEED} gave a paging cursor it had given before; "
                             "stopped the pass, its position stays"]


def test_bluesky_pages_per_cursor_key_are_bounded(fake, tmp_path: Path) -> None:
    pages, report = _poll_bluesky(_bluesky(fake, tmp_path, max_pages=2))
    assert len(fake.calls(SEARCH)) == 2
    assert all(p.cursor is None for p in pages) and sum(len(p.posts) for p in pages) == 10
    assert "stopped after 2 pages (the per-cycle limit)" in (report.note or "")


def test_a_slow_loris_bluesky_answer_costs_its_deadline(fake, tmp_path: Path) -> None:
    fake.trickle_next(SEARCH, 0.1)  # every read well inside the 0.5 s timeout
    started = time.monotonic()
    pages, report = _poll_bluesky(_bluesky(fake, tmp_path, timeout=0.5))
    assert time.monotonic() - started < 5
    assert len(fake.calls(SEARCH)) == 1 and pages == []  # not retried
    assert report.errors == [f"bluesky:search:{TAG}: {SEARCH}: no whole answer within 1.5s"]


def test_a_bluesky_gzip_bomb_is_refused_at_the_cap(fake, tmp_path: Path) -> None:
    fake.gzip_next(SEARCH, gzip_bomb(64 * 2**20).body)  # type: ignore[arg-type]
    pages, report = _poll_bluesky(_bluesky(fake, tmp_path))
    assert pages == []
    assert report.errors == [f"bluesky:search:{TAG}: {SEARCH}: the answer is larger than 8 MiB"]


def test_deeply_nested_bluesky_json_costs_that_page(fake, tmp_path: Path) -> None:
    fake.garbage_next(SEARCH, deep_json(100_000))
    pages, report = _poll_bluesky(_bluesky(fake, tmp_path))
    assert report.errors == [f"bluesky:search:{TAG}: {SEARCH}: the answer is not valid JSON"]


def test_headers_trickled_a_byte_at_a_time_still_meet_the_deadline() -> None:
    """The slow loris before the body: only a deadline on every socket read stops it in a sync client."""

    class Loris(FakeServer):
        def route(self, request: Request) -> Reply:
            return Reply(200, headers={"X-Padding": "a" * 10_000}, trickle=0.05, trickle_head=True)

    started = time.monotonic()
    with Loris() as server, httpx.Client(transport=BoundedTransport(0.3), timeout=0.3) as client, \
            pytest.raises(AnswerTooSlow):
        client.get(f"{server.base}/xrpc/{SEARCH}")
    assert time.monotonic() - started < 3  # deadline 0.9 s; the headers alone would take 500 s


# ---------------------------------------------------------------- Jetstream


def test_a_deeply_nested_jetstream_frame_is_one_malformed_event() -> None:
    frame = '{"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": ' + deep_json(100_000).decode() + "}"
    with pytest.raises(MalformedEvent):
        StreamFilter(tags=frozenset({"sololibrarians"})).decode(frame)
