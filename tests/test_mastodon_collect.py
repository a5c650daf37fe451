"""The Mastodon collector end to end: real client code over real HTTP to local fake instances."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import forgetting
from pipeline.core import store
from tests.fakes.mastodon import MASTODON_INSTANCE, FakeMastodon, WebFingerRedirect, make_account, make_status
from tests.fakes.server import Reply
from tests.support import mastodon_settings, run_once


def _day(n: int, hour: int = 10) -> str:
    return f"2026-11-{n:02d}T{hour:02d}:00:00.000Z"


def _rows(settings, sql: str) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(sql).fetchall()


def _timeline_requests(server: FakeMastodon) -> list:
    return server.requests_to("/api/v1/timelines/tag/")


def test_first_run_backfills_and_second_run_asks_once_and_stores_nothing(tmp_path: Path) -> None:
    statuses = [make_status(100 + i, created_at=_day(10 + i)) for i in range(5)]
    with FakeMastodon(statuses[::-1]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        first = run_once(settings)[server.base]
        assert first.ok and first.stored.new_posts == 5
        assert [r.param("max_id") for r in _timeline_requests(server)] == [None]  # a short page is the last
        second = run_once(settings)[server.base]
        assert second.stored.new_posts == 0 and second.stored.updated_posts == 0
        assert len(_timeline_requests(server)) == 2  # one request per instance and tag group
        assert len(server.requests_to("/api/v2/instance")) == 1  # only on first contact
        assert _timeline_requests(server)[-1].param("min_id") is not None
    assert _rows(settings, "SELECT count(*) FROM posts") == [(5,)]


def _snowflake(when: str, seq: int = 0) -> str:
    from datetime import datetime

    ms = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    return str((ms << 16) + seq)


def test_forward_polling_pages_with_min_id_and_loses_nothing(tmp_path: Path) -> None:
    first = _snowflake(_day(10))
    with FakeMastodon([make_status(first, number=1, created_at=_day(10))]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
        new = [_snowflake(_day(11), i) for i in range(95)]
        server.add(*[make_status(sid, number=100 + i, created_at=_day(11)) for i, sid in enumerate(new)])
        outcome = run_once(settings)[server.base]
        assert outcome.stored.new_posts == 95
        min_ids = [r.param("min_id") for r in _timeline_requests(server)[1:]]
        assert int(min_ids[0]) < int(first)  # re-reads an hour below the cursor
        assert min_ids[1:] == [new[38], new[78]]  # 40 (the old post + 39) + 40 + 16: a short page ends it
    assert _rows(settings, "SELECT position FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'") == [(new[-1],)]


def test_a_post_that_federates_late_is_not_skipped(tmp_path: Path) -> None:
    with FakeMastodon([make_status(_snowflake(_day(20, 12)), number=1, created_at=_day(20, 12))]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
        # Published before the newest post we hold, arriving after we polled: its id is older than our cursor.
        late = "2026-11-20T11:30:00.000Z"
        server.add(make_status(_snowflake(late), number=2, created_at=late))
        assert run_once(settings)[server.base].stored.new_posts == 1


def test_backfill_stops_at_since(tmp_path: Path) -> None:
    old = [make_status(i, created_at=_day(2)) for i in range(1, 60)]
    new = [make_status(100 + i, created_at=_day(20)) for i in range(50)]
    with FakeMastodon((old + new)[::-1]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        from datetime import UTC, datetime

        run_once(settings, since=datetime(2026, 11, 15, tzinfo=UTC))
        asked = [r.param("max_id") for r in _timeline_requests(server)]
        assert asked == [None, "110"]  # the second page reached older posts: no third request
    assert _rows(settings, "SELECT position FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'") == [("149",)]
    assert _rows(settings, "SELECT count(*) FROM posts") == [(80,)]


def test_tags_ride_in_any_and_groups_of_five(tmp_path: Path) -> None:
    tags = ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians", "lawlibrarians", "medlibs")
    with FakeMastodon([make_status(1, tags=("medlibs",))]) as server:
        settings = mastodon_settings(tmp_path, server.base, tags=tags)
        run_once(settings)
        first, *_ = _timeline_requests(server)
        assert first.path.endswith("/sololibrarians")
        assert first.query["any[]"] == ["sololibrarian", "onepersonlibrary", "librarians", "lawlibrarians"]
        assert any(r.path.endswith("/medlibs") and "any[]" not in r.query for r in _timeline_requests(server))
        assert all(r.headers["User-Agent"].startswith("peerdesk/") for r in server.requests)
    assert _rows(settings, "SELECT tags FROM posts") == [(["medlibs"],)]


def test_federated_copies_are_one_post_with_several_sightings(tmp_path: Path) -> None:
    ana_on_b = make_account("ana", "glammr.us", on="mastodon.social", account_id="77")
    with FakeMastodon([make_status(500, number=1)]) as a, \
            FakeMastodon([make_status(9000, number=1, author=ana_on_b)]) as b:
        settings = mastodon_settings(tmp_path, a.base, b.base)
        outcomes = run_once(settings)
        assert outcomes[a.base].stored.new_posts + outcomes[b.base].stored.new_posts == 1
    assert _rows(settings, "SELECT author, sightings FROM posts") == [("ana@glammr.us", 2)]
    assert sorted(_rows(settings, "SELECT local_id FROM sightings")) == [("500",), ("9000",)]


def test_boost_is_stored_as_the_boosted_post(tmp_path: Path) -> None:
    original = make_status(40, text="Any tips for weeding a law collection?")
    boost = make_status(41, text="", tags=())
    boost.update(reblog=original, content="", uri=boost["uri"] + "/activity",
                 account=make_account("bea", "glammr.us", account_id="2"))
    with FakeMastodon([boost]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
    rows = _rows(settings, "SELECT uri, author, text FROM posts")
    assert rows == [(original["uri"], "ana@glammr.us", "Any tips for weeding a law collection? #sololibrarians")]
    assert _rows(settings, "SELECT local_id FROM sightings") == [("40",)]


def test_an_edit_updates_the_stored_text(tmp_path: Path) -> None:
    first = make_status(7, number=7, text="Old words")
    edited = make_status(7, number=7, text="New words", edited_at=_day(21))  # at its origin, under its own id
    with FakeMastodon([first]) as a:
        settings = mastodon_settings(tmp_path, a.base)
        run_once(settings)
        with FakeMastodon([edited]) as b:  # the post's own server (glammr.us): only it may change the post
            settings = mastodon_settings(tmp_path, a.base, b.base)
            settings = replace(settings, mastodon=replace(settings.mastodon, origins=(("glammr.us", b.base),)))
            outcome = run_once(settings)[b.base]
            assert outcome.stored.updated_posts == 1
    assert _rows(settings, "SELECT text, edited_at IS NOT NULL FROM posts") == [("New words #sololibrarians", True)]


def test_an_older_copy_does_not_undo_an_edit(tmp_path: Path) -> None:
    edited = make_status(7, number=7, text="New words", edited_at=_day(21))  # at its origin, under its own id
    stale = make_status(7, number=7, text="Old words")
    with FakeMastodon([edited]) as a, FakeMastodon([stale]) as b:
        run_once(mastodon_settings(tmp_path, a.base))
        settings = mastodon_settings(tmp_path, a.base, b.base)
        run_once(settings)
    assert _rows(settings, "SELECT text FROM posts") == [("New words #sololibrarians",)]


def test_plain_text_keeps_paragraphs_links_and_tags(tmp_path: Path) -> None:
    status = make_status(5)
    status["content"] = ('<p>Hello <span class="h-card"><a href="https://glammr.us/@bea" class="u-url mention">'
                         '@<span>bea</span></a></span>!</p><p>Line<br />two <a href="https://example.org/x">'
                         '<span class="invisible">https://</span><span class="">example.org/x</span></a> &amp; '
                         '<a href="https://glammr.us/tags/SoloLibrarians" class="mention hashtag" rel="tag">'
                         '#<span>SoloLibrarians</span></a></p>')
    status["tags"] = [{"name": "SoloLibrarians", "url": "https://glammr.us/tags/sololibrarians"}]
    with FakeMastodon([status]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
    [(text, html, tags)] = _rows(settings, "SELECT text, html, tags FROM posts")
    assert text == "Hello @bea!\n\nLine\ntwo https://example.org/x & #SoloLibrarians"
    assert html == status["content"] and tags == ["sololibrarians"]


# -- consent ---------------------------------------------------------------------------------------

def test_non_public_posts_and_opted_out_accounts_are_never_stored(tmp_path: Path) -> None:
    nobot = make_account("cy", account_id="3", note='<p>Law librarian. <a href="https://glammr.us/tags/nobot" '
                         'class="mention hashtag" rel="tag">#<span>NoBot</span></a></p>')
    noindex_field = make_account("di", account_id="4",
                                 fields=[{"name": "Bots", "value": "#noindex please", "verified_at": None}])
    noindex = make_account("ed", account_id="5", noindex=True)
    nosearch = make_account("fa", account_id="6", note="<p>#nosearch</p>")
    statuses = [
        make_status(1, text="public"),
        make_status(2, text="unlisted reply", visibility="unlisted"),
        make_status(3, text="followers only", visibility="private"),
        make_status(4, text="direct", visibility="direct"),
        make_status(5, author=nobot), make_status(6, author=noindex_field), make_status(7, author=noindex),
        make_status(8, author=nosearch),
    ]
    with FakeMastodon(statuses[::-1]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
    assert _rows(settings, "SELECT text FROM posts ORDER BY text") == [
        ("public #sololibrarians",), ("unlisted reply #sololibrarians",)]
    assert _rows(settings, "SELECT account FROM accounts") == [("ana@glammr.us",)]
    assert _rows(settings, "SELECT count(*) FROM post_store WHERE text LIKE '%followers%'") == [(0,)]


def test_a_later_opt_out_purges_at_the_next_sighting(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1), make_status(2, number=2)][::-1]) as server:  # ana's home, glammr.us
        settings = mastodon_settings(tmp_path, server.base)
        settings = replace(settings, mastodon=replace(settings.mastodon, origins=(("glammr.us", server.base),)))
        run_once(settings)
        assert _rows(settings, "SELECT count(*) FROM posts") == [(2,)]
        opted = make_account("ana", note="<p>Please no bots #nobot</p>")
        server.add(make_status(3, author=opted))
        outcome = run_once(settings)[server.base]
        assert outcome.stored.purged_posts == 2
    assert _rows(settings, "SELECT count(*) FROM post_store") == [(0,)]
    assert _rows(settings, "SELECT count(*) FROM account_store") == [(0,)]


def test_forget_purges_and_keeps_out(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
        with store.writing(settings.db_path) as con:
            assert forgetting.forget(con, "ana@glammr.us") == 1
        server.add(make_status(2, number=2))
        run_once(settings)
    assert _rows(settings, "SELECT count(*) FROM post_store") == [(0,)]
    assert _rows(settings, "SELECT account FROM forgotten") == [("ana@glammr.us",)]


def test_bots_are_stored_but_flagged(tmp_path: Path) -> None:
    bot = make_account("digest", bot=True, account_id="9")
    with FakeMastodon([make_status(1, author=bot)]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
    assert _rows(settings, "SELECT account, bot FROM accounts") == [("digest@glammr.us", True)]


# -- faults ------------------------------------------------------------------------------------------

def test_a_short_429_is_waited_out(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        server.inject(Reply(200, MASTODON_INSTANCE),
                      Reply(429, {"error": "Too many requests"}, {"X-RateLimit-Reset": _soon(0.2)}))
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.report.rate_limit_waits == 1 and outcome.stored.new_posts == 1


def test_a_long_429_leaves_the_instance_for_the_next_cycle(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        server.inject(Reply(200, MASTODON_INSTANCE),
                      Reply(429, {"error": "Too many requests"}, {"X-RateLimit-Reset": _soon(3600)}))
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.stored.new_posts == 0 and "rate limited" in outcome.summary_line()
        assert len(server.requests) == 2
        assert _rows(settings, "SELECT count(*) FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'") == [(0,)]
        assert run_once(settings)[server.base].stored.new_posts == 1


def test_5xx_and_timeouts_are_retried(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        server.inject(Reply(200, MASTODON_INSTANCE), Reply(503, "<html>Service Unavailable</html>"),
                      Reply(200, [], delay=2.5))
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.stored.new_posts == 1


def test_persistent_5xx_fails_the_source_without_moving_its_cursor(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        server.inject(Reply(200, MASTODON_INSTANCE), *[Reply(502, "Bad gateway")] * 3)
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert not outcome.ok and "server error 502" in outcome.summary_line()
    assert _rows(settings, "SELECT ok, errors FROM collection_runs WHERE source <> 'bluesky'") == [(False, 1)]
    assert _rows(settings, "SELECT message FROM collection_runs WHERE source = 'bluesky'")[0][0].startswith(
        "skipped: ")  # not configured: the line is stored, as the README says


def test_an_html_error_page_costs_the_page_not_the_run(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        server.inject(Reply(200, MASTODON_INSTANCE),
                      Reply(200, "<!DOCTYPE html><h1>We're sorry</h1>", {"Content-Type": "text/html"}))
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert not outcome.ok and outcome.stored.new_posts == 0  # its one page was lost: nothing was read
        assert "text/html that is not JSON" in outcome.report.errors[0]
        assert _rows(settings, "SELECT count(*) FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'") == [(0,)]
        assert run_once(settings)[server.base].stored.new_posts == 1


def test_a_malformed_status_costs_that_status_only(tmp_path: Path) -> None:
    broken = make_status(2, number=2)
    broken["created_at"] = 12345
    missing = make_status(3, number=3)
    del missing["uri"]
    with FakeMastodon() as server:
        server.inject(Reply(200, MASTODON_INSTANCE), Reply(200, [missing, broken, make_status(1), "not a status"]))
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.stored.new_posts == 1 and len(outcome.report.errors) == 3
        assert _rows(settings, "SELECT position FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'") == [("3",)]


def test_a_dead_instance_never_stops_the_others(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as alive:
        settings = mastodon_settings(tmp_path, alive.base, "http://127.0.0.1:9")
        outcomes = run_once(settings)
        assert outcomes[alive.base].ok and outcomes[alive.base].stored.new_posts == 1
        dead = outcomes["http://127.0.0.1:9"]
        assert not dead.ok and "could not connect" in dead.summary_line()


def test_remote_hashtag_feeds_behind_a_login_fall_back_to_local_posts(tmp_path: Path) -> None:
    remote = make_account("gus", "other.example", account_id="8")
    statuses = [make_status(2, number=2, author=remote), make_status(1)]
    with FakeMastodon(statuses, hashtag_access=("public", "authenticated")) as server:
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.stored.new_posts == 1
        assert "PEERDESK_MASTODON_TOKEN_127_0_0_1_" in outcome.report.note
        assert all(r.param("local") == "true" for r in _timeline_requests(server))


def test_a_group_whose_first_tag_the_instance_never_saw_is_polled_under_one_it_knows(tmp_path: Path) -> None:
    tags = ("sololibrarians", "onepersonlibrary", "librarians")
    statuses = [make_status(2, number=2, tags=("librarians",)), make_status(1, tags=("onepersonlibrary",))]
    with FakeMastodon(statuses) as server:
        settings = mastodon_settings(tmp_path, server.base, tags=tags)
        assert run_once(settings)[server.base].stored.new_posts == 2
        first = _timeline_requests(server)[0]
        assert first.path.endswith("/tag/onepersonlibrary") and first.query["any[]"] == ["librarians", "sololibrarians"]
        second = run_once(settings)[server.base]
        assert second.ok and second.stored.new_posts == 0
        assert len(server.requests_to("/api/v1/tags/")) == 2  # looked up on first contact only
        assert len(_timeline_requests(server)) == 2 and _timeline_requests(server)[-1].path == first.path


def test_a_tag_the_server_answers_404_for_costs_only_its_group(tmp_path: Path) -> None:
    tags = ("newtag", "a1", "a2", "a3", "a4", "sololibrarians")  # two groups; the first unknown here
    with FakeMastodon([make_status(1)], unknown_tag_404=True) as server:
        settings = mastodon_settings(tmp_path, server.base, tags=tags)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.stored.new_posts == 1 and outcome.report.errors == []


def test_a_local_only_feed_stays_local_on_later_cycles(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)], hashtag_access=("public", "authenticated")) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
        server.add(make_status(5, number=5))
        later = run_once(settings)[server.base]
        assert later.ok and later.stored.new_posts == 1 and later.report.errors == []
        assert all(r.param("local") == "true" for r in _timeline_requests(server))


def test_only_remote_posts_public_polls_the_remote_half(tmp_path: Path) -> None:
    remote = make_account("gus", "other.example", account_id="8")
    statuses = [make_status(2, number=2, author=remote), make_status(1)]
    with FakeMastodon(statuses, hashtag_access=("authenticated", "public")) as server:
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.stored.new_posts == 1 and "other servers' posts" in outcome.report.note
        assert all(r.param("remote") == "true" for r in _timeline_requests(server))


def test_a_token_from_the_environment_unlocks_the_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = make_account("gus", "other.example", account_id="8")
    with FakeMastodon([make_status(2, number=2, author=remote), make_status(1)],
                      hashtag_access=("authenticated", "authenticated"), token="s3cret-token") as server:
        settings = mastodon_settings(tmp_path, server.base)
        no_token = run_once(settings)[server.base]
        assert "requires a login" in no_token.report.note and no_token.stored.new_posts == 0
        from pipeline.signin.credentials import token_env_name

        monkeypatch.setenv(token_env_name(server.base), "s3cret-token")
        outcome = run_once(settings)[server.base]
        assert outcome.stored.new_posts == 2 and outcome.report.note is None
    assert "s3cret" not in str(_rows(settings, "SELECT * FROM collection_runs"))


def _soon(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_quotes_are_read_in_mastodon_and_akkoma_shapes() -> None:
    from collectors.mastodon.parse import parse_status

    quoted = make_status(7, number=7)
    mastodon = {**make_status(8, number=8), "quote": {"state": "accepted", "quoted_status": quoted}}
    akkoma = {**make_status(9, number=9), "quote": quoted, "quote_id": "7"}
    pending = {**make_status(10, number=10), "quote": {"state": "pending", "quoted_status": None}}
    assert parse_status(mastodon, "https://a.example", "a.example").quote_of == quoted["uri"]
    assert parse_status(akkoma, "https://a.example", "a.example").quote_of == quoted["uri"]
    assert parse_status(pending, "https://a.example", "a.example").quote_of is None


def test_the_overlap_reaches_an_hour_below_a_snowflake_or_a_ulid_cursor() -> None:
    from datetime import UTC, datetime

    from collectors.mastodon.paging import overlap_floor

    snowflake = _snowflake(_day(20, 12))
    assert overlap_floor(snowflake) == _snowflake(_day(20, 11))
    # GoToSocial: 10 Crockford base32 characters of milliseconds, then 16 of randomness.
    ms = int(datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp() * 1000)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    stamp = "".join(alphabet[(ms >> (5 * i)) & 31] for i in reversed(range(10)))
    hour_before = "".join(alphabet[((ms - 3_600_000) >> (5 * i)) & 31] for i in reversed(range(10)))
    assert overlap_floor(stamp + "7ZZZZZZZZZZZZZZZ") == hour_before + "0" * 16
    assert overlap_floor("opaque-id") == "opaque-id"


def test_a_split_domain_servers_own_user_has_one_key_so_her_noindex_holds_everywhere(tmp_path: Path) -> None:
    # example.com's users are @alice@example.com, served from mastodon.example.com (WEB_DOMAIN): their
    # uris name the web host, and only the home server says noindex.
    at_home = make_account("alice", "mastodon.example.com", on="mastodon.example.com", noindex=True)
    elsewhere = {**make_account("alice", "mastodon.example.com", on="glammr.us", noindex=None),
                 "acct": "alice@example.com"}
    home = FakeMastodon([make_status(1, number=1, author=at_home, host="mastodon.example.com")],
                        instance={"domain": "example.com", "version": "4.5.0", "configuration": {},
                                  "contact": {"account": at_home}})
    other = FakeMastodon([make_status(2, number=2, author=elsewhere)])
    with home, other, WebFingerRedirect(home) as apex:  # example.com sends WebFinger on to mastodon.example.com
        settings = mastodon_settings(tmp_path, home.base, other.base)
        origins = (("mastodon.example.com", home.base), ("example.com", apex.base))
        settings = replace(settings, mastodon=replace(settings.mastodon, origins=origins))
        outcomes = run_once(settings)
        assert outcomes[home.base].ok and outcomes[other.base].ok
        assert _rows(settings, "SELECT account FROM opt_outs") == [("alice@example.com",)]
        assert _rows(settings, "SELECT count(*) FROM posts") == [(0,)]
        run_once(settings)  # later cycles key her the same way without asking the instance again
        assert len(home.requests_to("/api/v2/instance")) == 1
    assert _rows(settings, "SELECT count(*) FROM posts") == [(0,)]


def test_a_source_whose_every_request_failed_has_failed(tmp_path: Path) -> None:
    """An instance that answers 401 to every tag request (GoToSocial wants a token; it says so nowhere else)."""
    from tests.fakes.server import Reply

    with FakeMastodon([make_status(1)]) as server:
        server._tag_timeline = lambda request: Reply(401, {"error": "Unauthorized"})  # type: ignore[method-assign]
        settings = mastodon_settings(tmp_path, server.base, tags=("sololibrarians", "a", "b", "c", "d", "e"))
        outcome = run_once(settings)[server.base]
    assert not outcome.ok and outcome.report.errors
    assert outcome.summary_line().startswith(f"{server.base}: FAILED, 0 new posts")
