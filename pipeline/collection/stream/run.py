"""Live Bluesky through Jetstream: events into the store in small batches, with a durable cursor.

One reader task turns frames into events (most frames are dropped as text, see
:mod:`collectors.bluesky.jetstream.filter`); one batcher task gathers at most a second of
events, looks their authors up (cached, :mod:`pipeline.collection.stream.profiles`), keeps
what consent allows (:mod:`pipeline.collection.stream.consent`), and commits the batch and
its cursor in one transaction (:mod:`pipeline.collection.stream.commit`) through the
process's single :class:`~pipeline.core.writer.Writer`. The cursor is the last
event's ``time_us``; a restart resumes a few seconds before it (the writes are
idempotent), so a crash, a restart or a cut connection loses and duplicates
nothing.

Why the stored set depends on the events alone, not on how they were batched:
a reply is kept when its thread root is a stored help request, and the filter
learns new roots (and forgets deleted ones) while decoding, in event order. The
database is only asked for roots that other sources stored.

``peerdesk run``, which runs this stream beside the polling cycle, is
:mod:`pipeline.collection.service`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import duckdb

from collectors.bluesky.errors import BlueskyError
from collectors.bluesky.jetstream.connection import DEFAULT_ENDPOINT, Connected, ConnectOptions, frames
from collectors.bluesky.jetstream.events import (
    Event,
    JetstreamError,
    MalformedEvent,
    account_gone,
    from_micros,
    to_micros,
)
from collectors.bluesky.jetstream.filter import StreamFilter
from collectors.records import Account
from pipeline.collection.stream.commit import CURSOR_KEY, BatchWork, commit_batch, commit_in_parts
from pipeline.collection.stream.consent import authors_to_check, check_posts
from pipeline.collection.stream.known import Known, KnownAccounts, KnownWindow, load_known
from pipeline.collection.stream.profiles import Lookup, ProfileCache, appview_lookup
from pipeline.collection.stream.stats import StreamStats
from pipeline.core import store
from pipeline.core.ingest import StoreResult
from pipeline.core.settings import Settings
from pipeline.core.writer import Writer
from pipeline.detector import store as detector_store
from pipeline.detector.rules import classify

# StreamStats and Writer live in their own modules; callers such as the benchmark still take them from here.
__all__ = ["StreamOptions", "StreamStats", "Writer", "run_stream"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class StreamOptions:
    """How the stream behaves; production defaults, which tests shrink."""

    endpoint: str = DEFAULT_ENDPOINT
    since: datetime | None = None  # where a first run starts (no saved cursor); None: the live tail
    batch_seconds: float = 1.0  # a batch holds at most this much time's worth of events
    max_batch: int = 2_000  # ... and at most this many kept events
    cursor_every: float = 30.0  # save the position this often even when nothing matched
    rewind_seconds: float = 5.0  # resume this far before the saved cursor
    refresh_every: float = 60.0  # re-read the roots other sources stored
    gap_warning: float = 600.0  # a resume landing this far past the cursor means Jetstream no longer had it
    queue_events: int = 10_000  # kept events waiting for the batcher (a bounded backlog)
    profile_cache: int = 20_000  # authors remembered
    profile_ttl: float = 6 * 3600.0  # a bio can change: look again after this long
    missing_ttl: float = 600.0  # an account the AppView did not show
    retry_max: float = 60.0  # longest wait between retries of a failed lookup or a busy database
    connect: ConnectOptions = field(default_factory=ConnectOptions)
    clock: Callable[[], datetime] = store.now_utc  # "now" for the thread horizon; tests replaying old events fix it


@dataclass
class _Batch:
    events: list[Event] = field(default_factory=list)
    purge: set[str] = field(default_factory=set)  # accounts that left: purged before the batch is stored
    refresh: set[str] = field(default_factory=set)  # accounts whose identity changed: profile read again
    last_time: int | None = None


_STOP = object()


class _Stream:
    """One run of the stream: the reader and the batcher, which share the filter, the queue and the position."""

    def __init__(self, settings: Settings, options: StreamOptions, writer: Writer, stats: StreamStats,
                 lookup: Lookup) -> None:
        self.settings, self.options, self.writer, self.stats = settings, options, writer, stats
        self.filter = StreamFilter.for_tags(
            settings.tags, lambda text, lang: classify(text, lang, quote=False).is_request)
        self.profiles = ProfileCache(lookup, options.profile_cache, options.profile_ttl, options.missing_ttl)
        self.queue: asyncio.Queue[Event | object] = asyncio.Queue(options.queue_events)
        self.seen: int | None = None  # newest event time read; every event up to it is queued or irrelevant
        self.resume_from: int | None = None
        self.asked: int | None = None  # the cursor the current connection asked for, until its first event
        self.warned_gap = False
        self.last_refresh = time.monotonic()
        self.accounts = KnownAccounts()  # accounts with something stored, read whole once a day
        self.stopping = False

    # -- reading

    def cursor(self) -> int | None:
        """Where a (re)connection starts: a few seconds before the newest event held, or the saved cursor."""
        position = self.seen if self.seen is not None else self.resume_from
        return None if position is None else position - int(self.options.rewind_seconds * 1_000_000)

    async def read(self) -> None:
        async for item in frames(self.options.endpoint, self.cursor, self.options.connect):
            if isinstance(item, Connected):
                self.stats.reconnects = item.reconnects
                self.asked = item.cursor
                continue
            self.stats.events += 1
            try:
                when, event = self.filter.decode(item)
            except MalformedEvent as exc:
                self._malformed(str(exc))
                continue
            except JetstreamError as exc:
                log.warning("jetstream: %s", exc)
                continue
            if event is not None and event.kind == "info":
                if event.status == "OutdatedCursor":
                    self._warn_gap(event.message or "")
                continue
            if when is not None and self.asked is not None:
                if when - self.asked > self.options.gap_warning * 1_000_000:
                    self._warn_gap(f"the first event is from {from_micros(when):%Y-%m-%d %H:%M:%S} UTC")
                self.asked = None
            if event is not None:
                await self.queue.put(event)
            if when is not None and (self.seen is None or when > self.seen):
                self.seen = when  # only after the event is queued: the cursor never passes an unqueued event

    def _warn_gap(self, detail: str) -> None:
        if self.warned_gap:
            return
        self.warned_gap = True
        asked = from_micros(self.asked) if self.asked else None
        log.warning("jetstream: the saved position (%s UTC) is older than Jetstream keeps; resumed from the oldest "
                    "event it has (%s). Posts in between were missed: a 'peerdesk collect' with a Bluesky account "
                    "fills the gap.", f"{asked:%Y-%m-%d %H:%M:%S}" if asked else "?", detail)

    def _malformed(self, reason: str) -> None:
        self.stats.malformed += 1
        if self.stats.malformed <= 10 or self.stats.malformed % 1000 == 0:
            log.warning("jetstream: skipped a malformed event (%d so far): %s", self.stats.malformed, reason[:200])

    # -- batching

    async def batches(self) -> None:
        last_commit = time.monotonic()
        while True:
            batch, deadline, final = _Batch(), None, False
            while len(batch.events) < self.options.max_batch:
                now = time.monotonic()
                wait = (deadline - now) if deadline else (last_commit + self.options.cursor_every - now)
                try:
                    item = await asyncio.wait_for(self.queue.get(), timeout=max(wait, 0.0))
                except TimeoutError:
                    break
                if item is _STOP:
                    final = True
                    break
                self._add(batch, item)  # type: ignore[arg-type]
                deadline = deadline or time.monotonic() + self.options.batch_seconds
            cursor = self.seen if self.queue.empty() else batch.last_time
            if batch.events or batch.purge or batch.refresh or (cursor is not None and cursor != self.stats.cursor):
                if not await self._flush(batch, cursor):
                    return
            last_commit = time.monotonic()
            if final:
                return

    def _add(self, batch: _Batch, event: Event) -> None:
        batch.last_time = event.time_us
        if account_gone(event):
            # What they posted earlier in this batch goes with them; purge runs before the batch is stored.
            batch.events = [e for e in batch.events if e.did != event.did or e.kind != "post"]
            batch.purge.add(event.did)
            self.profiles.forget(event.did)
        elif event.kind == "identity":
            batch.refresh.add(event.did)
            self.profiles.forget(event.did)
        elif event.kind in ("post", "leave"):
            # The last version in a batch wins: a post that left and came back is a post, and the other way round.
            batch.events = [e for e in batch.events if e.uri != event.uri or e.kind not in ("post", "leave")]
            batch.events.append(event)
        elif event.kind == "delete":
            batch.events.append(event)

    async def _flush(self, batch: _Batch, cursor: int | None) -> bool:
        """Look up authors, then commit; retries while the AppView or the database is unavailable."""
        posts = [e for e in batch.events if e.kind == "post"]
        wanted = authors_to_check(posts, batch.refresh)
        accounts = await self._retry("profile lookup", lambda: self.profiles.accounts(wanted))
        if accounts is None:
            return False
        work = self._work(batch, posts, accounts, cursor)
        outcome = await self._retry("commit", lambda: self._commit(work))
        if outcome is None:
            return False
        result, purged, known = outcome
        s = self.stats
        s.new_posts += result.new_posts
        s.new_requests += result.new_requests
        s.updated += result.updated_posts
        s.deleted += result.deleted_posts
        s.purged += purged + result.purged_posts
        s.skipped += result.skipped_opted_out
        s.commits += 1
        s.cursor = cursor if cursor is not None else s.cursor
        self.accounts.purged(work.purge)
        if known is not None:
            self._refreshed(known)
        return True

    async def _commit(self, work: BatchWork) -> tuple[StoreResult, int, Known | None]:
        """The batch in one transaction; if the database refuses something in it, in parts, dropping what it refuses.

        Without the parts, one unstorable post would stop the stream, or have it
        retry the same batch for ever.
        """
        try:
            return await self.writer.run(lambda con: commit_batch(con, work))
        except (BlueskyError, store.DatabaseBusy):
            raise
        except Exception:
            log.warning("jetstream: a batch could not be stored in one transaction; storing it in parts")
        return await self.writer.run_in_parts(lambda con: commit_in_parts(con, work, self._unstorable))

    def _unstorable(self, reason: str) -> None:
        self._malformed(reason)  # counted with the malformed events: both are events we could not keep

    def _work(self, batch: _Batch, posts: list[Event], accounts: dict[str, Account | None],
              cursor: int | None) -> BatchWork:
        checked = check_posts(posts, batch.refresh, accounts)
        self.stats.skipped += checked.skipped
        for reason in checked.malformed:
            self._malformed(reason)
        refresh_due = time.monotonic() - self.last_refresh >= self.options.refresh_every
        if refresh_due:
            self.last_refresh = time.monotonic()
        return BatchWork(
            posts=checked.posts, replies=checked.replies, accounts=checked.accounts,
            deleted=[e.uri for e in batch.events if e.kind == "delete" and e.uri],
            left=[e.uri for e in batch.events if e.kind == "leave" and e.uri], purge=sorted(batch.purge),
            cursor=cursor, known_window=self._known_window() if refresh_due else None,
        )

    def _known_window(self) -> KnownWindow:
        """(now, start of the thread horizon, accounts stored since): the roots worth following are the requests
        posted in between; the accounts, all of them or what changed since the last read (:class:`KnownAccounts`)."""
        now = self.options.clock()
        return now, now - timedelta(days=self.settings.thread_horizon_days), self.accounts.since()

    def _refreshed(self, known: Known) -> None:
        self.filter.set_known(known.roots, set(self.accounts.apply(known)))
        self.filter.prune(self._known_window()[1], time.monotonic() - 86_400)

    async def _retry(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T | None:
        """Await ``attempt()`` until it works; None when asked to stop meanwhile (nothing is committed then)."""
        delay = 1.0
        while True:
            try:
                return await attempt()
            except (BlueskyError, store.DatabaseBusy) as exc:
                if self.stopping:
                    log.warning("jetstream: %s failed while stopping (%s); the batch is left for the next start",
                                what, str(exc).splitlines()[0])
                    return None
                log.warning("jetstream: %s failed (%s); retrying in %.0f s", what, str(exc).splitlines()[0], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.retry_max)


async def cancel_until_done(task: asyncio.Task[object], every: float = 1.0) -> None:
    """Cancel ``task`` and wait for it, cancelling again while it runs: one cancel can be lost.

    On Python 3.11 a cancel that meets a result at the same moment inside ``asyncio.wait_for`` is swallowed
    (CPython gh-86296), in our code or a library's; a stream that lost its one cancel ignored SIGTERM.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    if not task.cancelled():
        task.exception()  # retrieved here; the caller reads it again to raise it


async def run_stream(settings: Settings, options: StreamOptions, writer: Writer, stop: asyncio.Event,
                     stats: StreamStats | None = None, lookup: Lookup | None = None) -> StreamStats:
    """Follow Jetstream until ``stop`` is set; the batch in hand is committed before returning.

    Raises :class:`collectors.bluesky.jetstream.stream.JetstreamRefused` when the endpoint refuses the subscription.
    """
    stats = stats if stats is not None else StreamStats()
    if lookup is not None:
        return await _run_stream(settings, options, writer, stop, stats, lookup)
    with appview_lookup(settings) as appview:
        return await _run_stream(settings, options, writer, stop, stats, appview)


async def _run_stream(settings: Settings, options: StreamOptions, writer: Writer, stop: asyncio.Event,
                      stats: StreamStats, lookup: Lookup) -> StreamStats:
    stream = _Stream(settings, options, writer, stats, lookup)

    def load(con: duckdb.DuckDBPyConnection) -> tuple[str | None, Known]:
        # The community's own detector, as a cycle installs it: a stream run alone classified with the shipped one.
        detector_store.prepare(con, options.clock())
        return store.load_cursors(con, CURSOR_KEY).get(CURSOR_KEY), load_known(con, *stream._known_window())

    saved, known = await writer.run(load)
    stream._refreshed(known)
    if saved is not None and saved.isdigit():
        stream.resume_from = stats.cursor = int(saved)
        log.info("jetstream: resuming from %s UTC", f"{from_micros(int(saved)):%Y-%m-%d %H:%M:%S}")
    elif options.since is not None:
        stream.resume_from = to_micros(options.since)
    else:
        log.info("jetstream: no saved position; starting at the live tail")
    reader = asyncio.create_task(stream.read())
    batcher = asyncio.create_task(stream.batches())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({reader, batcher, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stream.stopping = True
        stopper.cancel()
        await cancel_until_done(reader)
        if not batcher.done():
            await stream.queue.put(_STOP)
            await batcher
    if reader.done() and not reader.cancelled() and reader.exception() is not None:
        raise reader.exception()  # type: ignore[misc]
    batcher.result()  # a commit that failed for good
    return stats

