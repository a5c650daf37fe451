"""The Bluesky collector against a local fake Bluesky, over real HTTP, through the real atproto client."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.bluesky.errors import PostGone
from collectors.bluesky.parse import parse_post_view
from collectors.bluesky.poll import LATE_OVERLAP, NO_CREDENTIALS_NOTE, poll_bluesky
from collectors.bluesky.settings import BlueskySettings
from collectors.bluesky.threads import fetch_thread
from collectors.records import VIA_LIST, VIA_TAG, VIA_THREAD, Page, Post, SourceReport
from tests.fakes.bluesky import (
    DEFAULT_HANDLE,
    DEFAULT_PASSWORD,
    FakeBluesky,
    load_sample,
    make_post_view,
    repo_records,
)

TAG = "sololibrarians"
SEARCH = "app.bsky.feed.searchPosts"
UA = "peerdesk-test/0.1 (+https://example.org/peerdesk)"
SINCE = datetime(2026, 11, 1, tzinfo=UTC)
SAMPLE = load_sample()
SAMPLE_URIS = [v["uri"] for v in SAMPLE.posts]
LIST_URI = next(iter(SAMPLE.list_feeds))
LIST_LINK = f"https://bsky.app/profile/analima.bsky.social/lists/{LIST_URI.rsplit('/', 1)[1]}"


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


@pytest.fixture
def settings(fake: FakeBluesky, tmp_path: Path) -> BlueskySettings:
    return BlueskySettings(
        service=fake.url,
        appview=fake.url,
        tags=(TAG,),
        lists=(),
        since=SINCE,
        session_path=tmp_path / "state" / "bluesky-session.json",
        user_agent=UA,
        timeout=2.0,
        page_size=5,
    )


class Sleeps(list):
    """Records requested sleeps instead of sleeping, so waits are asserted, not endured."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run(
    settings: BlueskySettings,
    cursors: dict[str, str] | None = None,
    *,
    handle: str | None = DEFAULT_HANDLE,
    password: str | None = DEFAULT_PASSWORD,
    sleeps: Sleeps | None = None,
) -> tuple[list[Page], SourceReport]:
    report = SourceReport(source="bluesky", platform="bluesky")
    pages = list(
        poll_bluesky(
            settings,
            handle,
            password,
            cursors or {},
            report,
            sleep=sleeps if sleeps is not None else Sleeps(),
        )
    )
    return pages, report


def cursors_of(pages: list[Page]) -> dict[str, str]:
    return {p.cursor_key: p.cursor for p in pages if p.cursor}


def posts_of(pages: list[Page], key_prefix: str = "bluesky:search:") -> list[Post]:
    return [post for p in pages if p.cursor_key.startswith(key_prefix) for post in p.posts]


# ---------------------------------------------------------------- signing in


def test_login_is_saved_0600_and_reused_without_leaking_secrets(fake, settings, caplog):
    caplog.set_level(logging.DEBUG)
    first, report1 = run(settings)
    assert len(fake.calls("com.atproto.server.createSession")) == 1
    assert stat.S_IMODE(os.stat(settings.session_path).st_mode) == 0o600
    assert DEFAULT_PASSWORD not in settings.session_path.read_text()

    second, report2 = run(settings, cursors_of(first))
    assert len(fake.calls("com.atproto.server.createSession")) == 1  # the saved session was reused
    assert fake.calls(SEARCH)[-1].headers["authorization"].startswith("Bearer ")
    assert all(r.headers["user-agent"] == UA for r in fake.requests)
    secrets = [DEFAULT_PASSWORD] + [t for s in fake._sessions for t in (s.access, s.refresh)]
    shown = caplog.text + repr(report1) + repr(report2)
    assert not [s for s in secrets if s in shown]


def test_server_side_expired_token_is_refreshed_and_the_new_session_saved(fake, settings):
    first, _ = run(settings)
    before = settings.session_path.read_text()
    fake.expire_access_tokens()

    fake.add_posts(
        [
            make_post_view(
                "did:plc:newcomer00000000000000000",
                "newcomer.bsky.social",
                "3n3aaaaaaaa22",
                "2026-11-22T12:00:00.000Z",
                "First post! #sololibrarians",
                tags=(TAG,),
            )
        ]
    )
    pages, report = run(settings, cursors_of(first))
    seen = {p.uri for p in posts_of(first)}
    assert [p.uri for p in posts_of(pages) if p.uri not in seen] == [fake.state.posts[0]["uri"]]
    assert len(fake.calls("com.atproto.server.refreshSession")) == 1
    assert len(fake.calls("com.atproto.server.createSession")) == 1
    assert settings.session_path.read_text() != before
    assert stat.S_IMODE(os.stat(settings.session_path).st_mode) == 0o600
    assert report.errors == [] and not report.failed


def test_token_past_its_exp_is_refreshed_before_it_is_used(fake, settings):
    fake.next_access_ttl = -60  # the session is born expired; atproto reads exp and refreshes first
    pages, report = run(settings)
    assert len(fake.calls("com.atproto.server.refreshSession")) == 1
    assert len(posts_of(pages)) == len(SAMPLE_URIS)
    first_token = fake.calls("com.atproto.server.refreshSession")[0].headers["authorization"]
    assert all(r.headers["authorization"] != first_token for r in fake.calls(SEARCH))


def test_revoked_saved_session_falls_back_to_the_password(fake, settings):
    first, _ = run(settings)
    fake._sessions.clear()  # the server forgot every token (revoked)
    pages, report = run(settings, cursors_of(first))
    assert len(fake.calls("com.atproto.server.createSession")) == 2
    assert not report.failed and report.errors == []


def test_refused_password_ends_the_source_with_one_clear_line(fake, settings, caplog):
    caplog.set_level(logging.DEBUG)
    pages, report = run(settings, password="wrong-password-1234")
    assert pages == []
    assert report.failed
    assert "\n" not in report.note and DEFAULT_HANDLE in report.note
    assert "app password" in report.note and "PEERDESK_" not in report.note  # collectors name no PEERDESK_ variable
    assert "wrong-password-1234" not in report.note + caplog.text + repr(report)
    assert fake.calls(SEARCH) == []
    assert not settings.session_path.exists()


def test_no_credentials_skips_search_and_reads_lists_from_the_public_appview(settings, tmp_path):
    with FakeBluesky() as pds, FakeBluesky() as appview:
        settings = replace(settings, service=pds.url, appview=appview.url, lists=(LIST_URI,))
        pages, report = run(settings, handle=None, password=None)
    assert report.note == NO_CREDENTIALS_NOTE and "PEERDESK_" not in report.note  # the pipeline says how to sign in
    assert not report.failed
    assert pds.requests == []
    assert {r.nsid for r in appview.requests} == {"app.bsky.feed.getListFeed", "app.bsky.actor.getProfiles"}
    assert all("authorization" not in r.headers for r in appview.requests)
    assert posts_of(pages, "bluesky:list:") and all(
        p.via == VIA_LIST for p in posts_of(pages, "bluesky:list:")
    )


# ---------------------------------------------------------------- tag search


def test_search_pages_a_full_pass_then_polls_forward(fake, settings):
    pages, report = run(settings)
    assert [len(p.posts) for p in pages] == [5, 5, 5, 4]
    assert [p.cursor for p in pages] == [None, None, None, "2026-11-22T08:15:00.000Z"]
    assert [p.uri for p in posts_of(pages)] == SAMPLE_URIS
    assert all(p.via == VIA_TAG for p in posts_of(pages))
    first = fake.calls(SEARCH)[0]
    assert (first.param("q"), first.param("sort"), first.param("limit"), first.param("since")) == (
        "#sololibrarians",
        "latest",
        "5",
        "2026-11-01T00:00:00.000Z",
    )
    assert [r.param("cursor") for r in fake.calls(SEARCH)] == [None, "5", "10", "15"]
    assert report.requests == len(fake.requests) and report.errors == []

    before = len(fake.calls(SEARCH))
    again, _ = run(settings, cursors_of(pages))
    assert len(fake.calls(SEARCH)) == before + 1
    assert fake.calls(SEARCH)[-1].param("since") == "2026-11-22T07:15:00.000Z"  # the cursor less the overlap
    assert_only_the_overlap(again, pages, "2026-11-22T08:15:00.000Z")


def assert_only_the_overlap(again: list[Page], first: list[Page], cursor: str) -> None:
    """A pass with nothing new re-reads only the hour below its cursor, and keeps the cursor."""
    bound = datetime.fromisoformat(cursor) - LATE_OVERLAP
    assert {p.uri for p in posts_of(again)} <= {p.uri for p in posts_of(first)}
    assert all(p.created_at >= bound for p in posts_of(again))
    assert again[-1].cursor == cursor


def test_a_post_that_shows_up_late_below_the_cursor_is_still_read(fake, settings):
    first, _ = run(settings)
    late = make_post_view("did:plc:slowclock0000000000000000", "slowclock.bsky.social", "3n3aaaaaaaa33",
                          "2026-11-22T07:50:00.000Z", "Anyone know a good ILS? #sololibrarians", tags=(TAG,))
    fake.add_posts([late])  # created (and so sorted) 25 minutes below the saved cursor, visible only now
    again, report = run(settings, cursors_of(first))
    assert late["uri"] in {p.uri for p in posts_of(again)}
    assert again[-1].cursor == "2026-11-22T08:15:00.000Z" and report.errors == []


def test_search_follows_a_cursor_past_pages_the_appview_emptied(fake, settings):
    fake.hidden = set(SAMPLE_URIS[5:12])  # page 2 empty, page 3 short: blocked or taken down
    pages, report = run(settings)
    assert [p.uri for p in posts_of(pages)] == [u for u in SAMPLE_URIS if u not in fake.hidden]
    assert pages[-1].cursor is not None and report.errors == []
    assert all(r.param("until") is None for r in fake.calls(SEARCH))  # followed, not mistaken for the cap


def test_a_pass_that_fails_midway_gives_no_cursor(fake, settings):
    report = SourceReport(source="bluesky", platform="bluesky")
    pages = poll_bluesky(settings, DEFAULT_HANDLE, DEFAULT_PASSWORD, {}, report, sleep=Sleeps())
    first = next(pages)
    fake.fail_next(SEARCH, 503, times=settings.max_retries + 1)
    rest = list(pages)
    assert first.cursor is None and len(first.posts) == 5
    assert rest == []
    assert len(report.errors) == 1 and report.errors[0].startswith(f"bluesky:search:{TAG}:")


@pytest.mark.parametrize("cap_mode", ["stop", "error"])
def test_the_result_cap_is_passed_by_narrowing_the_time_window(fake, settings, cap_mode):
    fake.search_cap, fake.cap_mode = 6, cap_mode
    pages, report = run(replace(settings, page_size=3))
    uris = [p.uri for p in posts_of(pages)]
    assert sorted(uris) == sorted(SAMPLE_URIS) and len(uris) == len(set(uris))
    assert [p.cursor for p in pages][-1] == "2026-11-22T08:15:00.000Z"
    assert all(p.cursor is None for p in pages[:-1])
    windows = list(dict.fromkeys(r.param("until") for r in fake.calls(SEARCH)))
    assert windows[0] is None and len(windows) == 4  # the first query, then three narrowed ones
    assert windows[1:] == sorted(windows[1:], reverse=True)
    assert report.errors == []


# ---------------------------------------------------------------- lists


def test_list_feed_from_a_bsky_app_link(fake, settings):
    settings = replace(settings, tags=(), lists=(LIST_LINK,))
    pages, report = run(settings)
    key = f"bluesky:list:{LIST_URI}"
    assert {p.cursor_key for p in pages} == {key}
    assert fake.calls("com.atproto.identity.resolveHandle")[0].param("handle") == "analima.bsky.social"
    posts = posts_of(pages, "bluesky:list:")
    assert all(p.via == VIA_LIST for p in posts)
    assert any(not p.tags for p in posts)  # members' posts count without a tag
    reposted = [i["post"]["uri"] for i in SAMPLE.list_feeds[LIST_URI] if i.get("reason")]
    assert reposted and not {p.uri for p in posts} & set(reposted)
    assert len(posts) == len(SAMPLE.list_feeds[LIST_URI]) - len(reposted)
    assert [p.cursor for p in pages][-1] == "2026-11-22T08:15:00.000Z"
    assert all(p.cursor is None for p in pages[:-1])
    assert fake.calls("app.bsky.feed.getListFeed")[0].headers["authorization"].startswith("Bearer ")

    calls = len(fake.calls("app.bsky.feed.getListFeed"))
    again, _ = run(settings, cursors_of(pages))
    assert_only_the_overlap(again, pages, "2026-11-22T08:15:00.000Z")
    assert len(fake.calls("app.bsky.feed.getListFeed")) == calls + 1


def test_a_list_feed_page_the_appview_emptied_is_paged_past(fake, settings):
    settings = replace(settings, tags=(), lists=(LIST_LINK,), page_size=2)
    own = [i["post"]["uri"] for i in SAMPLE.list_feeds[LIST_URI] if not i.get("reason")]
    fake.hidden = set(SAMPLE.list_feeds[LIST_URI][i]["post"]["uri"] for i in (0, 1))  # the first page, emptied
    pages, report = run(settings)
    assert [p.uri for p in posts_of(pages, "bluesky:list:")] == [u for u in own if u not in fake.hidden]
    assert report.errors == []


def test_a_deleted_watched_list_is_reported_not_polled_quietly_for_ever(fake, settings):
    gone = "at://did:plc:gone/app.bsky.graph.list/3kgone"  # the AppView answers its feed with nothing
    pages, report = run(replace(settings, tags=(), lists=(gone, LIST_URI)))
    assert any("3kgone" in e and "no longer exists" in e for e in report.errors)
    assert "no longer exists" in (report.note or "") and not report.failed
    assert posts_of(pages, f"bluesky:list:{LIST_URI}")  # the other list is polled as before
    assert all(p.cursor is None for p in pages if p.cursor_key == f"bluesky:list:{gone}")
    assert [c.param("list") for c in fake.calls("app.bsky.graph.getList")] == [gone]  # only the empty one


def test_a_list_whose_members_never_posted_is_quiet_not_gone(fake, settings):
    did = "did:plc:quiet"
    repo_records(fake, did, "app.bsky.graph.list")["3kquiet"] = {
        "$type": "app.bsky.graph.list", "name": "Quiet", "purpose": "app.bsky.graph.defs#curatelist",
        "createdAt": "2026-11-01T00:00:00Z"}
    pages, report = run(replace(settings, tags=(), lists=(f"at://{did}/app.bsky.graph.list/3kquiet",)))
    assert report.errors == [] and report.note is None
    assert len(fake.calls("app.bsky.graph.getList")) == 1


def test_a_failing_list_check_is_not_taken_for_a_deleted_list(fake, settings, caplog):
    fake.fail_next("app.bsky.graph.getList", status=500, times=10)
    pages, report = run(replace(settings, tags=(), lists=("at://did:plc:gone/app.bsky.graph.list/3kgone",)))
    assert report.errors == [] and not report.failed
    assert "could not check" in caplog.text


# ---------------------------------------------------------------- records


@pytest.fixture
def sample_posts(fake, settings) -> dict[str, Post]:
    pages, report = run(replace(settings, page_size=100))
    assert report.errors == []
    return {p.text[:24]: p for p in posts_of(pages)}


def by_start(posts: dict[str, Post], start: str) -> Post:
    return next(p for key, p in posts.items() if key.startswith(start))


def test_tags_come_from_facets_and_the_tags_array_lower_cased(sample_posts):
    assert by_start(sample_posts, "Any advice on getting").tags == ("sololibrarians", "schoollibrarians")
    assert by_start(sample_posts, "Looking for a checklist").tags == ("sololibrarians", "lawlibrarians")


def test_non_ascii_text_facets_and_languages(sample_posts):
    post = by_start(sample_posts, "Question pour les")
    assert post.tags == ("sololibrarians", "bibliothèques") and post.lang == "fr"
    assert [w for w in post.text.split() if w.startswith("#")] == ["#sololibrarians", "#bibliothèques"]
    assert by_start(sample_posts, "¿Alguien tiene").lang == "es"


def test_replies_quotes_urls_and_identity(sample_posts):
    question = by_start(sample_posts, "¿Alguien tiene")
    answer = by_start(sample_posts, "@jmorales.bsky.social")
    assert answer.reply_to == question.uri and answer.reply_root == question.uri
    welcome = by_start(sample_posts, "Hello #sololibrarians")
    assert by_start(sample_posts, "This thread is gold").quote_of == welcome.uri
    assert by_start(sample_posts, "Tom's question").quote_of == by_start(sample_posts, "Looking for a").uri
    assert welcome.author.display_name == "Ana Lima" and welcome.author.handle == "analima.bsky.social"
    assert welcome.author.key.startswith("did:plc:")
    assert welcome.url == f"https://bsky.app/profile/analima.bsky.social/post/{welcome.uri.rsplit('/', 1)[1]}"
    assert welcome.sighting.local_id.startswith("bafy")
    assert welcome.created_at == datetime(2026, 11, 9, 14, 5, tzinfo=UTC)
    assert welcome.edited_at is None and welcome.visibility == "public"


def test_account_facts_for_consent(sample_posts):
    assert "!no-unauthenticated" in by_start(sample_posts, "Anyone else the only").author.labels
    assert "#nobot" in by_start(sample_posts, "Solo prison librarian").author.bio
    bot = by_start(sample_posts, "Job: solo librarian").author
    assert bot.bot and "bot" in bot.labels
    assert by_start(sample_posts, "Hello #sololibrarians").author.bio.startswith("Solo law librarian")


def test_created_at_falls_back_to_indexed_at(sample_posts):
    post = by_start(sample_posts, "Hoy en la biblioteca")
    assert post.created_at == datetime(2026, 11, 16, 12, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    "breakage, reason",
    [
        (lambda v: v.pop("record"), "record without text"),
        (lambda v: v.update(uri="https://example.org/x"), "at:// post uri"),
        (lambda v: v["author"].pop("did"), "author without a DID"),
        (lambda v: v["record"].update(createdAt="soon") or v.update(indexedAt="later"), "time"),
    ],
)
def test_parse_post_view_rejects_what_it_cannot_read(breakage, reason):
    view = json.loads(json.dumps(SAMPLE.posts[0]))
    breakage(view)
    with pytest.raises(ValueError, match=reason) as caught:
        parse_post_view(view, VIA_TAG)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- faults


def test_429_with_a_short_reset_waits_and_goes_on(fake, settings):
    fake.rate_limit_next(SEARCH, reset_in=2)
    sleeps = Sleeps()
    pages, report = run(settings, sleeps=sleeps)
    assert report.rate_limit_waits == 1 and 0 < sleeps[0] <= 3
    assert len(posts_of(pages)) == len(SAMPLE_URIS) and report.errors == []


def test_429_with_a_long_reset_stops_the_source_for_the_cycle(fake, settings):
    settings = replace(settings, lists=(LIST_URI,))
    fake.rate_limit_next(SEARCH, reset_in=900)
    sleeps = Sleeps()
    pages, report = run(settings, sleeps=sleeps)
    assert pages == [] and sleeps == []
    assert "rate limit" in report.note and "\n" not in report.note
    assert fake.calls("app.bsky.feed.getListFeed") == []  # the whole source stopped, not just the key


def test_a_spent_budget_waits_for_a_short_reset_before_the_next_request(fake, settings):
    fake.exhaust_next(SEARCH, reset_in=3)
    sleeps = Sleeps()
    pages, report = run(settings, sleeps=sleeps)
    assert report.rate_limit_waits == 1 and 0 < sleeps[0] <= 4
    assert len(posts_of(pages)) == len(SAMPLE_URIS)


def test_an_unreachable_service_fails_the_source_without_raising(settings):
    sleeps = Sleeps()
    pages, report = run(replace(settings, service="http://127.0.0.1:9"), sleeps=sleeps)
    assert pages == [] and report.failed
    assert report.note.startswith("Bluesky could not be polled") and "\n" not in report.note
    assert len(sleeps) == settings.max_retries and report.requests == settings.max_retries + 1


def test_5xx_and_timeouts_are_retried(fake, settings):
    fake.fail_next(SEARCH, 500, times=2)
    fake.slow_next("app.bsky.actor.getProfiles", seconds=1.0)
    sleeps = Sleeps()
    pages, report = run(replace(settings, timeout=0.3), sleeps=sleeps)
    assert len(posts_of(pages)) == len(SAMPLE_URIS) and report.errors == []
    assert len(sleeps) == 3  # two 500s and one timeout, each followed by a short backoff
    assert report.requests == len(fake.requests)


def test_a_malformed_item_costs_only_that_item(fake, settings):
    broken = make_post_view(
        "did:plc:broken0000000000000000000",
        "broken.bsky.social",
        "3n3bbbbbbbb22",
        "2026-11-21T00:00:00.000Z",
        "Broken #sololibrarians",
        tags=(TAG,),
    )
    del broken["author"]["did"]
    fake.add_posts([broken])
    pages, report = run(settings)
    assert [p.uri for p in posts_of(pages)] == SAMPLE_URIS
    assert len(report.errors) == 1 and "author without a DID" in report.errors[0]
    assert pages[-1].cursor == "2026-11-22T08:15:00.000Z"


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"<html>upstream error</html>", "not valid JSON"),
        (b'{"posts": "none", "cursor": 5}', "no posts array"),
    ],
)
def test_a_malformed_page_stops_its_key_without_a_cursor(fake, settings, body, reason):
    settings = replace(settings, lists=(LIST_URI,))
    report = SourceReport(source="bluesky", platform="bluesky")
    pages = poll_bluesky(settings, DEFAULT_HANDLE, DEFAULT_PASSWORD, {}, report, sleep=Sleeps())
    first = next(pages)
    fake.garbage_next(SEARCH, body)
    rest = [first, *pages]
    search_pages = [p for p in rest if p.cursor_key.startswith("bluesky:search:")]
    assert len(search_pages) == 1 and search_pages[0].cursor is None
    assert len(report.errors) == 1 and reason in report.errors[0]
    assert cursors_of(rest) == {f"bluesky:list:{LIST_URI}": "2026-11-22T08:15:00.000Z"}
    assert not report.failed


# ---------------------------------------------------------------- threads


def test_fetch_thread_returns_the_replies_with_bios(fake, settings):
    question = next(v for v in SAMPLE.posts if v["record"]["text"].startswith("Does anyone have a template"))
    report = SourceReport(source="bluesky", platform="bluesky")
    replies = fetch_thread(settings, question["uri"], report=report)
    assert [p.text[:12] for p in replies] == ["Yes! Ours as", "That would b", "Here it is: ", "We added a '"]
    assert all(p.via == VIA_THREAD and p.author.bio for p in replies)
    chain = {p.uri: p for p in replies}
    last = replies[2]
    assert last.reply_root == question["uri"] and chain[last.reply_to].reply_to in chain
    assert all("authorization" not in r.headers for r in fake.requests)  # settings alone: anonymous AppView
    with pytest.raises(PostGone):
        fetch_thread(settings, question["uri"].replace("3mz", "3aa"), report=report)
