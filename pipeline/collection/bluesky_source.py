"""Bluesky as a source of the collection cycle: settings, credentials and the thread bridge.

The Bluesky collector is synchronous (atproto's ``Client``) while the cycle is
asynchronous; each page is pulled from the collector in a worker thread, so a
slow Bluesky never holds up the Mastodon instances.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime

from collectors.bluesky.connection import open_bluesky
from collectors.bluesky.errors import BlueskyError, LoginRefused, PostGone, RateLimited
from collectors.bluesky.poll import poll_bluesky
from collectors.bluesky.settings import BlueskySettings
from collectors.bluesky.threads import fetch_thread
from collectors.records import BLUESKY, Page, SourceReport
from collectors.version import USER_AGENT
from pipeline.core.config import bluesky_credentials
from pipeline.core.settings import Settings

SOURCE = "bluesky"
SESSION_FILE = "bluesky-session.json"
NOT_CONFIGURED = ("skipped: run 'peerdesk login bluesky' or set PEERDESK_BLUESKY_HANDLE and "
                  "PEERDESK_BLUESKY_APP_PASSWORD (an app password) "
                  "to search Bluesky, or add [bluesky] lists")


def collector_settings(settings: Settings, since: datetime) -> BlueskySettings:
    return BlueskySettings(
        service=settings.bluesky.service,
        appview=settings.bluesky.appview,
        tags=settings.tags,
        lists=settings.bluesky.lists,
        since=since,
        session_path=settings.state_dir / SESSION_FILE,
        user_agent=USER_AGENT,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


def wanted(settings: Settings) -> bool:
    """Poll Bluesky when there is something it can do: search with an account, or lists."""
    handle, _ = bluesky_credentials(settings)
    return bool(settings.bluesky.lists) or bool(handle)


async def pages_in_thread(pages: Iterator[Page]) -> AsyncIterator[Page]:
    """Pull a synchronous page iterator from a worker thread, one page at a time."""
    done = object()
    while True:
        page = await asyncio.to_thread(next, pages, done)
        if page is done:
            return
        yield page  # type: ignore[misc]


def poll(settings: Settings, since: datetime, cursors: Mapping[str, str], report: SourceReport
         ) -> AsyncIterator[Page]:
    handle, password = bluesky_credentials(settings)
    return pages_in_thread(
        poll_bluesky(collector_settings(settings, since), handle, password, cursors, report)
    )


def thread_pages(settings: Settings, since: datetime, uris: Sequence[str], report: SourceReport,
                 checked_at: datetime) -> Iterator[Page]:
    """One page per re-checked Bluesky request: its replies, or its deletion."""
    handle, password = bluesky_credentials(settings)
    try:
        with open_bluesky(collector_settings(settings, since), handle, password, report) as conn:
            for uri in uris:
                key, stamp = f"thread:{uri}", checked_at.isoformat()
                try:
                    replies = fetch_thread(conn, uri)
                except PostGone:
                    yield Page(deleted=[uri], cursor_key=key, cursor=stamp)
                    continue
                except (LoginRefused, RateLimited):
                    raise
                except BlueskyError as exc:
                    report.errors.append(f"thread of {uri}: {exc}")
                    continue
                yield Page(posts=replies, cursor_key=key, cursor=stamp)
    except BlueskyError as exc:
        report.errors.append(f"Bluesky threads: {exc}")


def new_report() -> SourceReport:
    return SourceReport(source=SOURCE, platform=BLUESKY)
