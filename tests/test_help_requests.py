"""Help requests end to end: detection at ingest, thread fetching, status, response times and peers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.collection.threads import LADDER, due_threads, next_check
from pipeline.core import queries, store
from pipeline.core.settings import MastodonSettings, Settings
from pipeline.followlist.curation import mark
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", ".000Z")


ANA = make_account("ana", account_id="1")
BEA = make_account("bea", account_id="2")
CY = make_account("cy", account_id="3")
BOT = make_account("digest", account_id="4", bot=True)


def _thread() -> list[dict]:
    """A request by Ana; her own follow-up, a bot, then Bea two hours in, and Cy answering Bea."""
    return [
        make_status(10, author=ANA, text="Does anyone know a good ILS for a two-person law library?",
                    created_at=_at(0)),
        make_status(11, author=ANA, text="(It must run on Windows.)", tags=(), in_reply_to_id="10",
                    created_at=_at(5)),
        make_status(12, author=BOT, text="Digest: 3 new posts", tags=(), in_reply_to_id="10", created_at=_at(10)),
        make_status(13, author=BEA, text="We use Koha, happily.", tags=(), in_reply_to_id="10",
                    created_at=_at(120), visibility="unlisted"),
        make_status(14, author=CY, text="Seconding Koha.", tags=(), in_reply_to_id="13", created_at=_at(180)),
        make_status(20, author=CY, text="Our library newsletter is out", created_at=_at(30)),
    ][::-1]


def _settings(tmp_path: Path, server: FakeMastodon, **mastodon: object) -> Settings:
    settings = mastodon_settings(tmp_path, server.base)
    origins = (("glammr.us", server.base),) if mastodon.pop("origin", True) else (("glammr.us", "http://127.0.0.1:9"),)
    return dataclasses.replace(settings, mastodon=MastodonSettings(
        instances=(server.base,), fetch_from_origin=True, origins=origins, **mastodon))  # type: ignore[arg-type]


def _requests(settings: Settings, as_of: datetime, status: str | None = None) -> list[dict]:
    with store.reading(settings.db_path) as con:
        return queries.help_requests(con, as_of, status=status)


def test_replies_without_the_tag_are_found_through_the_thread(tmp_path: Path) -> None:
    with FakeMastodon(_thread()) as server:
        settings = _settings(tmp_path, server)
        outcomes = run_once(settings)
        assert outcomes["threads:mastodon"].stored.new_posts == 4
        assert [r.path for r in server.requests_to("/api/v1/statuses/")] == ["/api/v1/statuses/10/context"]
    [request] = _requests(settings, T0 + timedelta(days=1), status=None)
    assert request["status"] == "answered"
    assert request["first_responder"] == "bea@glammr.us"  # not Ana's own follow-up, not the bot
    assert request["response_time"] == timedelta(hours=2)
    assert request["replies_from_others"] == 2  # Bea and Cy; the bot does not count
    assert "asks:does-anyone-know=anyone know" in request["reasons"]
    with store.reading(settings.db_path) as con:
        vias = dict(con.execute("SELECT author, via FROM posts WHERE author <> 'ana@glammr.us' "
                                "AND uri LIKE '%/13' OR uri LIKE '%/14'").fetchall())
    assert set(vias.values()) == {"thread"}


def test_status_is_computed_for_an_explicit_time(tmp_path: Path) -> None:
    with FakeMastodon(_thread()) as server:
        settings = _settings(tmp_path, server)
        run_once(settings)
    assert [r["status"] for r in _requests(settings, T0 + timedelta(minutes=60), status=None)] == ["open"]
    assert _requests(settings, T0 - timedelta(minutes=1), status=None) == []
    assert [r["status"] for r in _requests(settings, T0 + timedelta(hours=3), status=None)] == ["answered"]


def test_the_origin_server_is_asked_first_and_the_seen_instance_is_the_fallback(tmp_path: Path) -> None:
    with FakeMastodon(_thread()) as server:
        settings = _settings(tmp_path, server, origin=False)  # the origin is unreachable
        outcomes = run_once(settings)
        assert outcomes["threads:mastodon"].stored.new_posts == 4
    assert _requests(settings, T0 + timedelta(days=1), status="answered")


def test_only_due_requests_are_rechecked_and_the_second_cycle_asks_nothing(tmp_path: Path) -> None:
    lonely = [make_status(30, author=ANA, text="Any tips for weeding a law collection?", created_at=_at(0))]
    with FakeMastodon(lonely) as server:
        settings = _settings(tmp_path, server)
        run_once(settings)
        run_once(settings)
        assert len(server.requests_to("/api/v1/statuses/")) == 1
    assert [r["status"] for r in _requests(settings, T0 + timedelta(days=1))] == ["open"]


def test_a_deleted_request_loses_its_text_and_leaves_the_open_list(tmp_path: Path) -> None:
    lonely = [make_status(30, author=ANA, text="Any tips for weeding a law collection?", created_at=_at(0))]
    with FakeMastodon(lonely, deleted=["30"]) as server:
        settings = _settings(tmp_path, server)
        outcomes = run_once(settings)
        assert outcomes["threads:mastodon"].stored.deleted_posts == 1
    assert _requests(settings, T0 + timedelta(days=1)) == []
    with store.reading(settings.db_path) as con:
        assert con.execute("SELECT text, deleted_at IS NOT NULL FROM post_store").fetchall() == [(None, True)]


def test_curator_decisions_survive_recollection(tmp_path: Path) -> None:
    statuses = [make_status(30, author=ANA, text="Any tips for weeding a law collection?", created_at=_at(0)),
                make_status(31, author=BEA, text="Who else is going to the law library conference?",
                            created_at=_at(1))][::-1]
    with FakeMastodon(statuses) as server:
        settings = _settings(tmp_path, server)
        run_once(settings)
        uris = {r["author"]: r["uri"] for r in _requests(settings, T0 + timedelta(days=1), status=None)}
        with store.writing(settings.db_path) as con:
            mark(con, uris["ana@glammr.us"], "resolved", when=T0 + timedelta(hours=5))
            con.execute("DELETE FROM cursors")  # force a full re-collection
        run_once(settings)
    rows = {r["author"]: r["status"] for r in _requests(settings, T0 + timedelta(days=1), status=None)}
    assert rows == {"ana@glammr.us": "resolved"}  # "Who else is going...?" is rhetorical
    before = {r["author"]: r["status"] for r in _requests(settings, T0 + timedelta(hours=4), status=None)}
    assert before["ana@glammr.us"] == "open"


def test_not_a_request_override_and_request_override(tmp_path: Path) -> None:
    statuses = [make_status(30, author=ANA, text="Any tips for weeding a law collection?", created_at=_at(0)),
                make_status(31, author=BEA, text="Our newsletter is out today", created_at=_at(1))][::-1]
    with FakeMastodon(statuses) as server:
        settings = _settings(tmp_path, server)
        run_once(settings)
    with store.writing(settings.db_path) as con:
        uri_of = dict(con.execute("SELECT author, uri FROM posts").fetchall())
        mark(con, uri_of["ana@glammr.us"], "not-request")
        mark(con, uri_of["bea@glammr.us"], "request")
    rows = _requests(settings, T0 + timedelta(days=1), status=None)
    assert [(r["author"], r["curated"]) for r in rows] == [("bea@glammr.us", True)]


def test_peer_activity_counts_answers_per_iso_week(tmp_path: Path) -> None:
    with FakeMastodon(_thread()) as server:
        settings = _settings(tmp_path, server)
        run_once(settings)
    as_of = T0 + timedelta(days=2)
    with store.reading(settings.db_path) as con:
        weeks = {r["account"]: r for r in queries.peer_weeks(con, as_of, since=T0 - timedelta(days=7))}
        assert weeks["bea@glammr.us"]["week"] == "2026-W47"
        assert weeks["bea@glammr.us"]["first_responses"] == 1
        assert weeks["bea@glammr.us"]["median_response_time"] == timedelta(hours=2)
        assert weeks["cy@glammr.us"]["replies_to_others"] == 1 and weeks["cy@glammr.us"]["first_responses"] == 0
        assert weeks["ana@glammr.us"]["requests_asked"] == 1 and weeks["ana@glammr.us"]["replies_to_others"] == 0
        helpers = queries.peers(con, as_of, since=T0 - timedelta(days=7))
        assert helpers[0]["account"] == "bea@glammr.us"
        assert all(not h["account"].startswith("digest") for h in helpers)
        [week] = queries.response_times(con, as_of, weeks=2)
        assert (week["requests"], week["answered"], week["answered_within_24h"]) == (1, 1, 1.0)


# -- the re-check schedule -------------------------------------------------------------------------

def test_the_schedule_backs_off_with_age_and_stops_at_the_horizon() -> None:
    horizon = timedelta(days=14)
    assert next_check(T0, None, horizon) == T0 + LADDER[0]
    assert next_check(T0, T0 + timedelta(minutes=20), horizon) == T0 + timedelta(hours=1)
    assert next_check(T0, T0 + timedelta(days=2), horizon) == T0 + timedelta(days=3)
    assert next_check(T0, T0 + timedelta(days=8), horizon) == T0 + horizon
    assert next_check(T0, T0 + horizon, horizon) is None
    assert next_check(T0, T0 + timedelta(hours=2), timedelta(hours=3)) == T0 + timedelta(hours=3)


def test_due_threads_respects_the_budget_oldest_due_first(tmp_path: Path) -> None:
    statuses = [make_status(100 + i, author=ANA, text=f"Any tips for problem {i}?", created_at=_at(i * 60))
                for i in range(5)]
    with FakeMastodon(statuses[::-1]) as server:
        settings = dataclasses.replace(mastodon_settings(tmp_path, server.base), thread_budget=0)
        run_once(settings)
    with store.reading(settings.db_path) as con:
        due = due_threads(con, T0 + timedelta(days=1), timedelta(days=14), budget=3)
    assert [d.uri.rsplit("/", 1)[1] for d in due] == ["100", "101", "102"]
    assert due[0].sightings[0][1] == "100"


@pytest.mark.parametrize("budget", [2])
def test_a_cycle_spends_at_most_its_budget(tmp_path: Path, budget: int) -> None:
    statuses = [make_status(100 + i, author=ANA, text=f"Any tips for problem {i}?", created_at=_at(i * 60))
                for i in range(5)]
    with FakeMastodon(statuses[::-1]) as server:
        settings = dataclasses.replace(_settings(tmp_path, server), thread_budget=budget)
        run_once(settings)
        assert len(server.requests_to("/api/v1/statuses/")) == budget
