"""Bluesky as a source of the collection cycle, and the one place settings become a Bluesky connection.

The Bluesky collector is synchronous (atproto's ``Client``) while the cycle is
asynchronous; each page is pulled from the collector in a worker thread, so a
slow Bluesky never holds up the Mastodon instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import datetime

import duckdb

from collectors.bluesky.connection import BlueskyConnection, open_bluesky
from collectors.bluesky.errors import BlueskyError, LoginRefused, PostGone, RateLimited
from collectors.bluesky.poll import NO_CREDENTIALS_NOTE, poll_bluesky
from collectors.bluesky.settings import BlueskySettings
from collectors.bluesky.threads import fetch_thread
from collectors.records import BLUESKY, Page, SourceReport
from collectors.version import USER_AGENT
from pipeline.collection.threads import DueThread
from pipeline.core import store
from pipeline.core.settings import Settings
from pipeline.signin import needs
from pipeline.signin.credentials import bluesky_credentials

SOURCE = "bluesky"
SESSION_FILE = "bluesky-session.json"
NOT_CONFIGURED = f"skipped: {needs.bluesky_account('searching Bluesky')}, or add [bluesky] lists"

Job = tuple[SourceReport, AsyncIterator[Page]]


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


@contextlib.contextmanager
def connect(settings: Settings, report: SourceReport, *, since: datetime | None = None,
            credentials: tuple[str | None, str | None] | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Iterator[BlueskyConnection]:
    """A connection as the configured account (or as ``credentials``): signed in when it can be, else anonymous.

    Raises :class:`collectors.bluesky.errors.LoginRefused` when the account cannot sign in.
    """
    handle, password = credentials if credentials is not None else bluesky_credentials(settings)
    with open_bluesky(collector_settings(settings, since or store.now_utc()), handle, password, report,
                              sleep=sleep) as conn:
        yield conn


def signed_in(conn: BlueskyConnection, purpose: str) -> BlueskyConnection:
    """``conn`` if it has an account; :class:`needs.Missing` saying how to sign in, for ``purpose``, if not."""
    if conn.pds is None:
        raise needs.Missing(needs.bluesky_account(purpose))
    return conn


def require_account(settings: Settings, purpose: str) -> None:
    """:class:`needs.Missing` before any work when no Bluesky account is configured for ``purpose``."""
    handle, _ = bluesky_credentials(settings)
    if not handle:
        raise needs.Missing(needs.bluesky_account(purpose))


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
        _worded(poll_bluesky(collector_settings(settings, since), handle, password, cursors, report), report)
    )


def _worded(pages: Iterator[Page], report: SourceReport) -> Iterator[Page]:
    """The collector says search needs an account; the pipeline adds how to give it one (see :mod:`needs`)."""
    try:
        yield from pages
    finally:
        if report.note and NO_CREDENTIALS_NOTE in report.note:
            report.note = report.note.replace(NO_CREDENTIALS_NOTE,
                                              f"{NO_CREDENTIALS_NOTE}: {needs.BLUESKY_SIGN_IN}")


def thread_pages(settings: Settings, since: datetime, uris: Sequence[str], report: SourceReport,
                 checked_at: datetime) -> Iterator[Page]:
    """One page per re-checked Bluesky request: its replies, or its deletion."""
    try:
        with connect(settings, report, since=since) as conn:
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


class BlueskyCycle:
    """Bluesky's part of one collection cycle: search and lists, then the due threads."""

    platform = BLUESKY

    def __init__(self, settings: Settings, since: datetime, clients: contextlib.AsyncExitStack, *,
                 backoff: float, max_rate_wait: float) -> None:
        # The connection is the collector's own (opened per job, in a worker thread): no shared client to close,
        # and its retries and rate-limit waits follow the settings rather than the cycle's knobs.
        self.settings, self.since = settings, since
        self.report = new_report()

    def polls(self, cursors: Mapping[str, str]) -> list[Job]:
        if not wanted(self.settings):
            self.report.note = NOT_CONFIGURED
            return []
        return [(self.report, poll(self.settings, self.since, cursors, self.report))]

    def skipped(self) -> list[SourceReport]:
        return [self.report] if self.report.note == NOT_CONFIGURED else []

    def rechecks(self, con: duckdb.DuckDBPyConnection, due: Sequence[DueThread], now: datetime) -> list[Job]:
        uris = [t.uri for t in due if t.platform == BLUESKY]
        if not uris:
            return []
        report = SourceReport(source="threads:bluesky", platform=BLUESKY)
        return [(report, pages_in_thread(thread_pages(self.settings, self.since, uris, report, now)))]
