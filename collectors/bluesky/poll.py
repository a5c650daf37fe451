"""Bluesky polling: tag searches and curated list feeds, each as a pass of committable pages.

The collector reports and the pipeline decides: it turns XRPC answers into
:mod:`collectors.records` and hands them out one committable :class:`Page` at a
time, with the account facts consent needs (self-labels, bot label,
description). It never filters an author out, and it never emits a post it
could not parse.

How each source resumes (the cursor value is always the ISO time of the newest
post seen, where a post's time is its *sortAt*: the earlier of ``createdAt`` and
``indexedAt``, which is what search's ``since``/``until`` filter on, and which a
clock-skewed ``createdAt`` in the future cannot push ahead of reality):

* Each pass re-reads the hour below the cursor (:data:`LATE_OVERLAP`): a post
  that becomes visible late (an author's clock behind, an indexing backlog)
  carries a sortAt below posts already seen, and would otherwise be skipped.
  The writes are idempotent, so the overlap costs a short page, not duplicates.
* ``bluesky:search:<tag>``: ``searchPosts q="#tag" sort=latest since=<cursor - overlap>``,
  newest first, so only the last page of a complete pass carries the cursor.
  A query returns 10,000 hits at most; a pass that hits that cap continues with
  a new query whose ``until`` is the oldest time seen (window narrowing). The
  AppView drops hidden posts (blocks, takedowns) from a page but keeps its
  cursor, so a short or empty page with a cursor is followed, and the cap is
  counted in results asked for, not results shown.
* ``bluesky:list:<at-uri>``: ``getListFeed`` pages until posts older than the
  cursor (less the overlap) appear. Without credentials list feeds, profiles and threads are
  read from the public AppView (``settings.appview``), which serves them without
  a login; a PDS only serves them to a logged-in account.

Every request goes through :class:`collectors.bluesky.connection.BlueskyConnection`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from atproto import models

from collectors.bluesky.connection import BlueskyConnection, open_bluesky
from collectors.bluesky.errors import (
    AUTH_ERRORS,
    BlueskyError,
    ListGone,
    LoginRefused,
    MalformedAnswer,
    PassStopped,
    RateLimited,
    RequestFailed,
)
from collectors.bluesky.parse import format_time, parse_post_view, parse_time, sort_time
from collectors.bluesky.settings import BlueskySettings
from collectors.records import VIA_LIST, VIA_TAG, Page, Post, SourceReport

log = logging.getLogger(__name__)

SEARCH_RESULT_CAP = 10_000  # hits one searchPosts query can page through
LATE_OVERLAP = timedelta(hours=1)  # how far below its cursor each pass re-reads
NO_CREDENTIALS_NOTE = "Bluesky tag search skipped: it needs an account"  # the pipeline says how to give it one


def poll_bluesky(
    settings: BlueskySettings,
    handle: str | None,
    password: str | None,
    cursors: Mapping[str, str],
    report: SourceReport,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Iterator[Page]:
    """Every watched tag (search) and list (feed) since its cursor, as committable pages.

    A failure costs what it touches: a malformed post that post, a failed or
    malformed page the rest of its cursor key (its cursor stays where it was), a
    refused login or a long rate-limit window the rest of the cycle. Nothing raises.
    """
    yielded = 0
    try:
        with open_bluesky(settings, handle, password, report, sleep=sleep, clock=clock) as conn:
            if conn.pds is None and settings.tags:
                _add_note(report, NO_CREDENTIALS_NOTE)
            for key, job in _jobs(conn, settings, cursors):
                try:
                    for page in job():
                        yielded += 1
                        yield page
                except (LoginRefused, RateLimited):
                    raise
                except (PassStopped, ListGone) as e:  # said in the summary line: the source worked, only partly
                    report.errors.append(f"{key}: {e}")
                    _add_note(report, f"{key}: {e}")
                    log.warning("bluesky: %s stopped: %s", key, e)
                except BlueskyError as e:
                    report.errors.append(f"{key}: {e}")
                    log.warning("bluesky: %s stopped: %s", key, e)
    except LoginRefused as e:
        report.failed = True
        _add_note(report, str(e))
        log.warning("bluesky: %s", e)
    except RateLimited as e:
        report.failed = report.failed or yielded == 0
        _add_note(report, str(e))
        log.warning("bluesky: %s", e)
    except BlueskyError as e:  # signing in failed for another reason (server down, garbage answer)
        report.failed = True
        _add_note(report, f"Bluesky could not be polled: {e}")
        log.warning("bluesky: could not be polled: %s", e)


def _jobs(
    conn: BlueskyConnection, settings: BlueskySettings, cursors: Mapping[str, str]
) -> list[tuple[str, Callable[[], Iterator[Page]]]]:
    """One job per cursor key: searches only with an account, lists either way."""
    jobs: list[tuple[str, Callable[[], Iterator[Page]]]] = []
    if conn.pds is not None:
        for tag in settings.tags:
            key = f"bluesky:search:{tag}"
            jobs.append((key, lambda t=tag, k=key: search_tag(conn, t, cursors.get(k))))
    for ref in settings.lists:
        jobs.append((f"bluesky:list:{ref}", lambda r=ref: _list_job(conn, r, cursors)))
    return jobs


def _add_note(report: SourceReport, note: str) -> None:
    report.note = f"{report.note}; {note}" if report.note else note


def _start(
    cursor: str | None, settings: BlueskySettings, report: SourceReport, key: str
) -> tuple[datetime, datetime | None]:
    """The pass's inclusive lower bound, and the saved position it resumes from (None on a first run).

    The bound is the position less :data:`LATE_OVERLAP`; the cursor a pass saves
    never moves below the position.
    """
    if cursor:
        parsed = parse_time(cursor)
        if parsed is not None:
            return parsed - LATE_OVERLAP, parsed
        report.errors.append(f"{key}: unreadable cursor {cursor[:40]!r}; backfilling from the start")
    return settings.since.astimezone(UTC), None


def _parse_items(conn: BlueskyConnection, key: str, views: list, via: str) -> list[tuple[Post, datetime]]:
    """Parsed posts with their sortAt; a malformed one costs itself and a line in ``report.errors``."""
    parsed: list[tuple[Post, datetime]] = []
    for view in views:
        try:
            post = parse_post_view(view, via)
        except ValueError as e:
            conn.report.errors.append(f"{key}: skipped a post: {e}")
            continue
        parsed.append((post, sort_time(view) or post.created_at))
    return parsed


@dataclass
class _Window:
    """One searchPosts query being paged: the pass narrows to a new window at the result cap."""

    until: datetime | None = None
    cursor: str | None = None
    asked: int = 0  # results this query has been asked for: the cap counts those, shown or hidden
    new: int = 0  # posts it contributed that the pass had not seen
    oldest: datetime | None = None
    given: set[str] = field(default_factory=set)  # its paging cursors: one coming back means no progress


def search_tag(conn: BlueskyConnection, tag: str, cursor: str | None) -> Iterator[Page]:
    """One complete search pass for ``#tag``, newest first, narrowing the time window at the result cap.

    Pages carry ``cursor=None`` until the pass is complete; the last one carries the
    newest time seen. A query stops at 10,000 hits: when it ends still above the
    bound (10,000 results asked for, a full last page without a next cursor, or a
    400 answer to a deep cursor), the pass goes on with ``until`` = the oldest
    time seen plus 1 ms (``until`` is exclusive; the overlap is deduplicated).
    """
    key = f"bluesky:search:{tag}"
    bound, newest = _start(cursor, conn.settings, conn.report, key)
    seen: set[str] = set()
    window = _Window()
    for _ in _page_budget(conn.settings, "app.bsky.feed.searchPosts"):
        body = _search_page(conn, tag, bound, window)
        views = body.get("posts") if body is not None else []
        if not isinstance(views, list):
            raise MalformedAnswer("app.bsky.feed.searchPosts: no posts array")
        items = _parse_items(conn, key, views, VIA_TAG)
        fresh = [(p, t) for p, t in items if p.uri not in seen and t >= bound]
        seen.update(p.uri for p, _ in items)
        reached_bound = any(t < bound for _, t in items)
        window.asked, window.new = window.asked + conn.settings.page_size, window.new + len(fresh)
        window.oldest = min([t for _, t in items] + ([window.oldest] if window.oldest else []), default=None)
        newest = max([t for _, t in fresh] + ([newest] if newest else []), default=None)
        step = "done" if reached_bound else _next_step(body, len(views), window, conn.settings.page_size)
        if step == "narrow" and window.new == 0:
            conn.report.errors.append(f"{key}: a capped search window gave nothing new; stopped narrowing")
            step = "done"
        repeated = step == "more" and _cursor(body) in window.given
        posts = conn.with_bios([p for p, _ in fresh])
        if posts or (step == "done" and newest is not None):
            yield Page(
                posts=posts,
                cursor_key=key,
                cursor=format_time(newest) if step == "done" and newest is not None else None,
            )
        if step == "done":
            return
        if repeated:
            raise _repeated("app.bsky.feed.searchPosts")
        if step == "narrow":
            log.info("bluesky: %s reached the result cap; narrowing to before %s", key, window.oldest)
            window = _Window(until=window.oldest + timedelta(milliseconds=1))
        else:
            window.cursor = _cursor(body)
            window.given.add(window.cursor)  # type: ignore[arg-type]


def _page_budget(settings: BlueskySettings, nsid: str) -> Iterator[int]:
    """Page numbers up to ``settings.max_pages``; asking for one more stops the pass (its position stays)."""
    yield from range(settings.max_pages)
    raise PassStopped(f"{nsid}: stopped after {settings.max_pages} pages (the per-cycle limit); "
                      "the pass is read again next cycle")


def _repeated(nsid: str) -> PassStopped:
    return PassStopped(f"{nsid} gave a paging cursor it had given before; stopped the pass, its position stays")


def _search_page(conn: BlueskyConnection, tag: str, bound: datetime, window: _Window) -> dict | None:
    """One searchPosts page; None when the server refuses a deep cursor (400), which is the cap."""
    params = models.AppBskyFeedSearchPosts.Params(
        q=f"#{tag}",
        sort="latest",
        limit=conn.settings.page_size,
        since=format_time(bound),
        until=format_time(window.until) if window.until else None,
        cursor=window.cursor,
    )
    try:
        return conn.query("app.bsky.feed.searchPosts", params, client=conn.pds)
    except RequestFailed as e:
        if window.cursor is None or window.asked == 0 or e.status != 400 or e.error in AUTH_ERRORS:
            raise
        return None


def _cursor(body: dict | None) -> str | None:
    """The answer's paging cursor; anything but a non-empty string means there is no next page."""
    value = body.get("cursor") if body is not None else None
    return value if isinstance(value, str) and value else None


def _next_step(body: dict | None, page_len: int, window: _Window, page_size: int) -> str:
    """After a page above the bound: "more" (follow the cursor), "narrow" (the cap was hit) or "done".

    A page may be short, even empty, and still have a cursor: the AppView drops
    what it will not show after the search service filled the page.
    """
    next_cursor = _cursor(body)
    if window.asked >= SEARCH_RESULT_CAP or body is None:
        return "narrow"
    if next_cursor and next_cursor != window.cursor:
        return "more"
    if page_len >= page_size:
        return "narrow"  # a full page with no way on: cut off, not exhausted
    return "done"


def _list_job(conn: BlueskyConnection, ref: str, cursors: Mapping[str, str]) -> Iterator[Page]:
    list_uri = conn.resolve_list(ref)
    key = f"bluesky:list:{list_uri}"
    return list_feed(conn, list_uri, cursors.get(key))


def _check_list(conn: BlueskyConnection, list_uri: str) -> None:
    """Raise :class:`ListGone` if the AppView does not know the list.

    Why: ``getListFeed`` answers a deleted list with an empty feed, not an error, so without this a watched list
    that was deleted would be reported as polled, with nothing new, for ever. Asked only when the feed's first
    answer is empty (a list whose members post is never checked). Any other failure of this one check is not the
    list's: it is logged and the pass goes on.
    """
    try:
        conn.query("app.bsky.graph.getList", models.AppBskyGraphGetList.Params(list=list_uri, limit=1))
    except RequestFailed as e:
        if e.status in (400, 404) and e.error in ("InvalidRequest", "NotFound") and "not found" in str(e).lower():
            raise ListGone(f"the list {list_uri} no longer exists (deleted?): remove it from the watched lists"
                           ) from None
        log.warning("bluesky: could not check that the list %s still exists: %s", list_uri, e)


def list_feed(conn: BlueskyConnection, list_uri: str, cursor: str | None) -> Iterator[Page]:
    """Posts of a curated list's members since the cursor, newest first (``via=VIA_LIST``).

    They count whether or not they carry a tag. Reposts are skipped: the post is
    not the member's own. Paging stops at the first post older than the cursor
    less the overlap (the first run: older than ``settings.since``). A page the
    AppView emptied (blocks, takedowns) but gave a cursor is paged past.
    """
    settings, report = conn.settings, conn.report
    key = f"bluesky:list:{list_uri}"
    bound, newest = _start(cursor, settings, report, key)
    page_cursor: str | None = None
    given: set[str] = set()  # every paging cursor of this pass: one coming back means no progress
    for _ in _page_budget(settings, "app.bsky.feed.getListFeed"):
        body = conn.query(
            "app.bsky.feed.getListFeed",
            models.AppBskyFeedGetListFeed.Params(list=list_uri, limit=settings.page_size, cursor=page_cursor),
        )
        feed = body.get("feed")
        if not isinstance(feed, list):
            raise MalformedAnswer("app.bsky.feed.getListFeed: no feed array")
        views = [item.get("post") for item in feed if isinstance(item, dict) and not item.get("reason")]
        views += [None for item in feed if not isinstance(item, dict)]  # reported as malformed below
        items = _parse_items(conn, key, views, VIA_LIST)
        fresh = [(p, t) for p, t in items if t >= bound]
        reached_bound = len(fresh) < len(items)
        if fresh:
            top = max(t for _, t in fresh)
            newest = top if newest is None or top > newest else newest
        page_cursor = _cursor(body)
        done = reached_bound or not page_cursor
        repeated = not done and page_cursor in given
        if not feed and not page_cursor and not given:  # the first answer, empty and the last:
            _check_list(conn, list_uri)  # a list whose members never posted, or one that is gone
        given.add(page_cursor or "")
        posts = conn.with_bios([p for p, _ in fresh])
        if posts or done:
            yield Page(
                posts=posts,
                cursor_key=key,
                cursor=format_time(newest) if done and newest is not None else None,
            )
        if done:
            return
        if repeated:
            raise _repeated("app.bsky.feed.getListFeed")
