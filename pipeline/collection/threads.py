"""Re-checking the threads of open help requests, on a schedule that backs off with age.

Replies rarely carry the community's tag, so a help request's replies are only
found by fetching its thread. Each open request is checked soon after it is
posted and then less and less often (15 minutes, 1 hour, 6 hours, 1 day, 3
days, 7 days after posting), and never after the horizon. The schedule needs
no state of its own: a thread's cursor records when it was last checked, and
the next check is the first step of the ladder after that.

This module decides which threads are due, for every platform; fetching them
is each platform's source module's (``rechecks`` in :mod:`pipeline.collection.sources`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from collectors.records import Page

LADDER: tuple[timedelta, ...] = (
    timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6),
    timedelta(days=1), timedelta(days=3), timedelta(days=7),
)


@dataclass(frozen=True)
class DueThread:
    uri: str
    platform: str
    created_at: datetime
    sightings: tuple[tuple[str, str], ...]  # (source, local id) where the request was seen


def next_check(created_at: datetime, last_checked: datetime | None, horizon: timedelta,
               ladder: tuple[timedelta, ...] = LADDER) -> datetime | None:
    """When a request posted at ``created_at`` is next due on ``ladder``, or None once past the horizon."""
    for step in ladder:
        if step >= horizon:
            break
        due = created_at + step
        if last_checked is None or due > last_checked:
            return due
    # Past the ladder (or a horizon shorter than it): once more at the horizon itself, then never.
    end = created_at + horizon
    return end if last_checked is None or end > last_checked else None


def position_floor(start: datetime) -> str:
    """A lower bound, as text, for an ISO-format cursor position at or after ``start``, in any UTC offset.

    Cursors compared with it (``position >= floor``) are read from the row groups
    written lately only (DuckDB skips the others by their min/max), instead of
    every cursor ever written. A position before a post was posted says nothing
    :func:`next_check` uses, so leaving out older ones changes no answer.
    """
    return (start.astimezone(UTC) - timedelta(days=1)).date().isoformat()


def due_threads(con: duckdb.DuckDBPyConnection, as_of: datetime, horizon: timedelta, budget: int,
                platform: str | None = None) -> list[DueThread]:
    """Open requests whose next check has come, oldest due first, at most ``budget``.

    Only what the horizon can hold is read: requests posted within it, their
    sightings from a week before it on (collected after they were posted, give or
    take a server's clock) and cursors written since.
    """
    since = as_of - horizon
    rows = con.execute(
        """
        SELECT h.uri, h.platform, h.created_at, c.position,
               list({'source': s.source, 'local_id': s.local_id} ORDER BY s.seen_at) AS places
        FROM help_requests_at($as_of, since := $since) h
        LEFT JOIN (SELECT cursor_key, position FROM cursors WHERE position >= $floor) c
               ON c.cursor_key = 'thread:' || h.uri
        LEFT JOIN (SELECT * FROM sightings WHERE seen_at >= $since - INTERVAL 7 DAY) s ON s.uri = h.uri
        WHERE h.status = 'open' AND ($platform IS NULL OR h.platform = $platform)
        GROUP BY ALL
        """,
        {"as_of": as_of, "since": since, "floor": position_floor(since), "platform": platform},
    ).fetchall()
    due: list[tuple[datetime, DueThread]] = []
    for uri, plat, created_at, position, places in rows:
        last = datetime.fromisoformat(position) if position else None
        when = next_check(created_at, last, horizon)
        if when is not None and when <= as_of:
            seen = tuple((p["source"], p["local_id"]) for p in places or [] if p["source"] is not None)
            due.append((when, DueThread(uri, plat, created_at, seen)))
    due.sort(key=lambda item: (item[0], item[1].created_at))
    return [thread for _, thread in due[:budget]]


async def pages_as_they_come(checks: Sequence[Awaitable[Page | None]]) -> AsyncIterator[Page]:
    """Run ``checks`` concurrently and yield their pages in the order they finish; the rest are cancelled on exit."""
    tasks = [asyncio.ensure_future(c) for c in checks]
    try:
        for done in asyncio.as_completed(tasks):
            page = await done
            if page is not None:
                yield page
    finally:
        for task in tasks:
            task.cancel()
