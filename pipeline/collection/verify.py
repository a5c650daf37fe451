"""Re-verifying stored Mastodon posts, so that a deletion is seen whatever the post was.

Threads are re-read only for open requests; every other post would keep its
words after its author deleted it, against the README's promise. Each stored
post is asked about on its origin server 1, 7 and 30 days after it was posted
(a deletion is likeliest early), in batches, within a request budget per
cycle: the cost follows how much was posted lately, not the size of the store.
When each post was last verified is kept in ``cursors`` as ``verify:<uri>``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from collectors.mastodon.api import Instance, MastodonError
from collectors.mastodon.threads import origin_of
from collectors.mastodon.verify import BATCH, gone_statuses
from collectors.records import MASTODON, Page, SourceReport
from pipeline.collection.threads import next_check, position_floor

LADDER: tuple[timedelta, ...] = (timedelta(days=1), timedelta(days=7), timedelta(days=30))
HORIZON = timedelta(days=30)
BUDGET = 20  # requests per cycle: at most BUDGET * BATCH posts verified per cycle on servers with batch lookups


@dataclass(frozen=True)
class DuePost:
    uri: str
    base: str  # the origin server
    local_id: str


def due_posts(con: duckdb.DuckDBPyConnection, as_of: datetime, limit: int = BUDGET * BATCH) -> list[DuePost]:
    """Stored, undeleted Mastodon posts whose next verification has come, oldest due first, at most ``limit``."""
    since = as_of - HORIZON
    rows = con.execute(
        """
        SELECT p.uri, p.created_at, c.position
        FROM post_store p
        LEFT JOIN (SELECT cursor_key, position FROM cursors WHERE position >= $floor) c
               ON c.cursor_key = 'verify:' || p.uri
        WHERE p.platform = $p AND p.deleted_at IS NULL
          AND p.created_at BETWEEN $since AND $as_of - $first
          AND p.uri NOT IN (SELECT uri FROM help_requests_at($as_of, since := $since)
                            WHERE status = 'open')  -- their threads tell
        """,
        {"p": MASTODON, "as_of": as_of, "since": since, "first": LADDER[0], "floor": position_floor(since)},
    ).fetchall()
    due: list[tuple[datetime, DuePost]] = []
    for uri, created_at, position in rows:
        origin = origin_of(uri)
        if origin is None:
            continue  # not a Mastodon-shaped uri (other software): no origin id to ask about
        when = next_check(created_at, datetime.fromisoformat(position) if position else None, HORIZON, LADDER)
        if when is not None and when <= as_of:
            due.append((when, DuePost(uri, *origin)))
    due.sort(key=lambda item: (item[0], item[1].uri))  # the same posts each time, whatever order rows come in
    return [post for _, post in due[:limit]]


async def verify_pages(due: list[DuePost], instance_for: Callable[[str], Instance], report: SourceReport,
                       checked_at: datetime, budget: int = BUDGET) -> AsyncIterator[Page]:
    """One page per origin batch: the posts found gone, and the verified posts' new positions.

    Origins are asked concurrently; a batch that fails costs that batch only
    (its posts stay due). Requests stop at ``budget``.
    """
    by_origin: dict[str, list[DuePost]] = defaultdict(list)
    for post in due:
        by_origin[post.base].append(post)
    stamp = checked_at.isoformat()
    spent = 0

    async def check(base: str, posts: list[DuePost]) -> list[Page]:
        nonlocal spent
        inst = instance_for(base)
        pages: list[Page] = []
        batch_ok = True
        for start in range(0, len(posts), BATCH):
            if spent >= budget:
                break
            chunk = posts[start:start + BATCH]
            before = report.requests
            try:
                gone, batch_ok = await gone_statuses(inst, [p.local_id for p in chunk], batch=batch_ok)
            except MastodonError as exc:
                report.errors.append(f"verifying posts on {inst.host}: {exc}")
                break
            finally:
                spent += max(1, report.requests - before)
            gone_uris = [p.uri for p in chunk if p.local_id in gone]
            pages += [Page(deleted=gone_uris if i == 0 else [], cursor_key=f"verify:{p.uri}", cursor=stamp)
                      for i, p in enumerate(chunk)]
        return pages

    results = await asyncio.gather(*(check(base, posts) for base, posts in by_origin.items()))
    for pages in results:
        for page in pages:
            yield page
