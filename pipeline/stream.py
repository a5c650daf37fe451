"""Live Bluesky through Jetstream: events into the store in small batches, with a durable cursor.

One reader task turns frames into events (most frames are dropped as text, see
:mod:`collectors.jetstream`); one batcher task gathers at most a second of
events, looks their authors up (cached), and commits the batch and its cursor in
one transaction through the process's single :class:`Writer`. The cursor is the
last event's ``time_us``; a restart resumes a few seconds before it (the writes
are idempotent), so a crash, a restart or a cut connection loses and duplicates
nothing.

Why the stored set depends on the events alone, not on how they were batched:
a reply is kept when its thread root is a stored help request, and the filter
learns new roots (and forgets deleted ones) while decoding, in event order. The
database is only asked for roots that other sources stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb

from collectors import jetstream
from collectors.bluesky import BlueskyConnection, BlueskyError
from collectors.jetstream import Connected, Event, JetstreamError, MalformedEvent, StreamFilter
from collectors.records import BLUESKY, VIA_THREAD, Account, Page, Post, SourceReport
from pipeline import bluesky_source, consent, store
from pipeline.collect import CycleOptions, SourceOutcome, default_since, run_cycle
from pipeline.config import Settings
from pipeline.ingest import StoreResult, store_pages_in_transaction
from pipeline.request_rules import classify

log = logging.getLogger(__name__)

CURSOR_KEY = "bluesky:jetstream"
T = TypeVar("T")
Lookup = Callable[[Sequence[str]], dict[str, Account | None]]


@dataclass(frozen=True)
class StreamOptions:
    """How the stream behaves; production defaults, which tests shrink."""

    endpoint: str = jetstream.DEFAULT_ENDPOINT
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
    connect: jetstream.ConnectOptions = field(default_factory=jetstream.ConnectOptions)


class Writer:
    """The process's one database writer: every commit (stream batches, polling pages) takes its lock.

    DuckDB allows one writing process; inside it, two transactions that touch
    the same rows conflict. ``peerdesk run`` shares this lock with the polling
    cycle (``CycleOptions.lock``), so commits never interleave.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.lock = asyncio.Lock()

    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` in one transaction on a connection held only for it (readers get the file between)."""
        async with self.lock:
            return await asyncio.to_thread(self._run, work)

    def _run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with store.writing(self.db_path) as con, store.transaction(con):
            return work(con)


class ProfileCache:
    """Authors' profiles (bio, labels, handle) for consent, looked up in batches and remembered, bounded.

    Least recently used entries go first; entries expire so a later opt-out in a
    bio is seen within ``ttl``. ``lookup`` is synchronous (atproto's client) and
    runs in a worker thread.
    """

    def __init__(self, lookup: Lookup, size: int, ttl: float, missing_ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lookup, self._size, self._ttl, self._missing_ttl, self._clock = lookup, size, ttl, missing_ttl, clock
        self._entries: OrderedDict[str, tuple[float, Account | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def forget(self, did: str) -> None:
        self._entries.pop(did, None)

    async def accounts(self, dids: Iterable[str]) -> dict[str, Account | None]:
        """Each DID's account (None when the AppView does not show it); raises BlueskyError on failure."""
        now, found, missing = self._clock(), {}, []
        for did in dict.fromkeys(dids):
            entry = self._entries.get(did)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(did)
                found[did] = entry[1]
            else:
                missing.append(did)
        if missing:
            looked = await asyncio.to_thread(self._lookup, missing)
            for did in missing:
                account = looked.get(did)
                found[did] = account
                self._entries[did] = (now + (self._ttl if account else self._missing_ttl), account)
                self._entries.move_to_end(did)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return found


@dataclass
class StreamStats:
    """What the stream did, for status lines; counters only, so it stays small over a day."""

    events: int = 0
    new_posts: int = 0
    new_requests: int = 0
    updated: int = 0
    deleted: int = 0
    purged: int = 0
    skipped: int = 0  # not stored: opted out, forgotten, or no profile to check
    malformed: int = 0
    reconnects: int = 0
    commits: int = 0
    cursor: int | None = None  # the committed position (unix microseconds)

    def line(self, since: StreamStats | None = None) -> str:
        """One line: what changed since ``since`` (or since the start) and how far behind the stream is."""
        base = since or StreamStats()
        d = {name: getattr(self, name) - getattr(base, name) for name in
             ("events", "new_posts", "new_requests", "deleted", "purged", "skipped", "malformed", "reconnects")}
        text = (f"jetstream: {d['new_posts']} new posts ({d['new_requests']} help requests), {d['deleted']} deleted, "
                f"{d['purged']} purged, {d['skipped']} left out for consent, {d['malformed']} malformed "
                f"of {d['events']} events")
        if self.cursor is not None:
            at = jetstream.from_micros(self.cursor)
            behind = max(0.0, (store.now_utc() - at).total_seconds())
            text += f"; at {at:%Y-%m-%d %H:%M:%S} UTC ({behind:.0f} s behind)"
        if d["reconnects"]:
            text += f"; {d['reconnects']} reconnects"
        return text


@dataclass
class _Batch:
    events: list[Event] = field(default_factory=list)
    purge: set[str] = field(default_factory=set)  # accounts that left: purged before the batch is stored
    refresh: set[str] = field(default_factory=set)  # accounts whose identity changed: profile read again
    last_time: int | None = None


@dataclass
class _Work:
    """One batch, ready to commit."""

    posts: list[Post]
    replies: list[Post]
    accounts: list[Account]
    deleted: list[str]
    purge: list[str]
    cursor: int | None
    known_since: datetime | None  # re-read roots and accounts created after this, when due


_STOP = object()


def _known(con: duckdb.DuckDBPyConnection, since: datetime) -> tuple[set[str], set[str]]:
    """Roots to follow (Bluesky help requests within the thread horizon) and accounts with something stored."""
    roots = {r[0] for r in con.execute(
        "SELECT uri FROM help_requests_at($now) WHERE platform = $p AND created_at >= $since",
        {"now": store.now_utc(), "p": BLUESKY, "since": since}).fetchall()}
    dids = {r[0] for r in con.execute(
        "SELECT account FROM account_store WHERE platform = $p UNION SELECT author FROM post_store WHERE platform = $p",
        {"p": BLUESKY}).fetchall()}
    return roots, dids


def _commit(con: duckdb.DuckDBPyConnection, work: _Work) -> tuple[StoreResult, int, tuple[set[str], set[str]] | None]:
    """A batch in the order its events came: departures, posts, thread replies, deletions, cursor.

    A post created and edited within one batch goes in as two pages, as it would
    in two batches: ``store_page`` keeps one version per page, and each version
    is a sighting of its own (its CID).
    """
    forgotten = store.forgotten_accounts(con)
    purged = store.purge_accounts(con, work.purge) if work.purge else 0
    result = StoreResult()
    replies = [p for p in work.replies if _root_author(p) not in forgotten]
    result.skipped_opted_out += len(work.replies) - len(replies)
    pages = [Page(posts=run) for run in _distinct_runs(work.posts)] + [Page(posts=run) for run in
                                                                       _distinct_runs(replies)]
    pages.append(Page(deleted=work.deleted, cursor_key=CURSOR_KEY,
                      cursor=str(work.cursor) if work.cursor is not None else None))
    pages[0].accounts = work.accounts
    for page in pages:  # one call per page: a later version of a post must land after the earlier
        result.add(store_pages_in_transaction(con, [page], forgotten=forgotten)[0])
    return result, purged, _known(con, work.known_since) if work.known_since else None


def _distinct_runs(posts: list[Post]) -> list[list[Post]]:
    """The posts in order, cut wherever a URI comes back (a later version of a post in the same batch)."""
    runs: list[list[Post]] = []
    seen: set[str] = set()
    for post in posts:
        if not runs or post.uri in seen:
            runs.append([])
            seen = set()
        runs[-1].append(post)
        seen.add(post.uri)
    return runs


def _root_author(post: Post) -> str:
    return _did_of(post.reply_root or "")


class _Stream:
    def __init__(self, settings: Settings, options: StreamOptions, writer: Writer, stats: StreamStats,
                 lookup: Lookup) -> None:
        self.settings, self.options, self.writer, self.stats = settings, options, writer, stats
        self.filter = StreamFilter.for_tags(settings.tags, lambda text, lang: classify(text, lang).is_request)
        self.profiles = ProfileCache(lookup, options.profile_cache, options.profile_ttl, options.missing_ttl)
        self.queue: asyncio.Queue[Event | object] = asyncio.Queue(options.queue_events)
        self.seen: int | None = None  # newest event time read; every event up to it is queued or irrelevant
        self.resume_from: int | None = None
        self.asked: int | None = None  # the cursor the current connection asked for, until its first event
        self.warned_gap = False
        self.last_refresh = time.monotonic()
        self.stopping = False

    # -- reading

    def cursor(self) -> int | None:
        """Where a (re)connection starts: a few seconds before the newest event held, or the saved cursor."""
        position = self.seen if self.seen is not None else self.resume_from
        return None if position is None else position - int(self.options.rewind_seconds * 1_000_000)

    async def read(self) -> None:
        async for item in jetstream.frames(self.options.endpoint, self.cursor, self.options.connect):
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
                    self._warn_gap(f"the first event is from {jetstream.from_micros(when):%Y-%m-%d %H:%M:%S} UTC")
                self.asked = None
            if event is not None:
                await self.queue.put(event)
            if when is not None and (self.seen is None or when > self.seen):
                self.seen = when  # only after the event is queued: the cursor never passes an unqueued event

    def _warn_gap(self, detail: str) -> None:
        if self.warned_gap:
            return
        self.warned_gap = True
        asked = jetstream.from_micros(self.asked) if self.asked else None
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
        if jetstream.account_gone(event):
            # What they posted earlier in this batch goes with them; purge runs before the batch is stored.
            batch.events = [e for e in batch.events if e.did != event.did or e.kind != "post"]
            batch.purge.add(event.did)
            self.profiles.forget(event.did)
        elif event.kind == "identity":
            batch.refresh.add(event.did)
            self.profiles.forget(event.did)
        elif event.kind in ("post", "delete"):
            batch.events.append(event)

    async def _flush(self, batch: _Batch, cursor: int | None) -> bool:
        """Look up authors, then commit; retries while the AppView or the database is unavailable."""
        posts = [e for e in batch.events if e.kind == "post"]
        wanted = {e.did for e in posts} | batch.refresh
        wanted |= {_did_of(root) for e in posts if e.via == VIA_THREAD and (root := _event_root(e))}
        accounts = await self._retry("profile lookup", lambda: self.profiles.accounts(wanted))
        if accounts is None:
            return False
        work = self._work(batch, posts, accounts, cursor)
        outcome = await self._retry("commit", lambda: self.writer.run(lambda con: _commit(con, work)))
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
        if known is not None:
            self._refreshed(*known)
        return True

    def _work(self, batch: _Batch, posts: list[Event], accounts: dict[str, Account | None],
              cursor: int | None) -> _Work:
        built: list[Post] = []
        for event in posts:
            author = accounts.get(event.did)
            if author is None:
                self.stats.skipped += 1  # no profile to check consent against
                continue
            try:
                built.append(jetstream.build_post(event, author))
            except ValueError as exc:
                self._malformed(str(exc))
        refused_roots = {p.reply_root for p in built if p.via == VIA_THREAD and _refused(accounts.get(_root_author(p)))}
        replies = [p for p in built if p.via == VIA_THREAD and p.reply_root not in refused_roots]
        self.stats.skipped += sum(1 for p in built if p.via == VIA_THREAD and p.reply_root in refused_roots)
        # A root's author who opted out goes in as an account, so the store purges what it holds of them.
        gone = {_root_author(p) for p in built if p.reply_root in refused_roots}
        changed = [a for d in batch.refresh | gone if (a := accounts.get(d)) is not None]
        refresh_due = time.monotonic() - self.last_refresh >= self.options.refresh_every
        if refresh_due:
            self.last_refresh = time.monotonic()
        return _Work(
            posts=[p for p in built if p.via != VIA_THREAD], replies=replies, accounts=changed,
            deleted=[e.uri for e in batch.events if e.kind == "delete" and e.uri], purge=sorted(batch.purge),
            cursor=cursor, known_since=self._horizon_start() if refresh_due else None,
        )

    def _horizon_start(self) -> datetime:
        return store.now_utc() - timedelta(days=self.settings.thread_horizon_days)

    def _refreshed(self, roots: set[str], dids: set[str]) -> None:
        self.filter.set_known(roots, dids)
        self.filter.prune(self._horizon_start(), time.monotonic() - 86_400)

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


def _event_root(event: Event) -> str | None:
    reply = event.record.get("reply") if event.record else None
    root = reply.get("root") if isinstance(reply, dict) else None
    uri = root.get("uri") if isinstance(root, dict) else None
    return uri if isinstance(uri, str) else None


def _did_of(uri: str) -> str:
    return uri.removeprefix("at://").split("/", 1)[0]


def _refused(account: Account | None) -> bool:
    return account is None or consent.opt_out_reason(account) is not None


def appview_lookup(settings: Settings) -> Lookup:
    """Profile lookups on the public AppView without an account, through the Bluesky collector's connection."""
    report = SourceReport(source="bluesky:jetstream", platform=BLUESKY)
    conn = BlueskyConnection(bluesky_source.collector_settings(settings, store.now_utc()), report)
    return lambda dids: jetstream.lookup_profiles(conn, dids)


async def run_stream(settings: Settings, options: StreamOptions, writer: Writer, stop: asyncio.Event,
                     stats: StreamStats | None = None, lookup: Lookup | None = None) -> StreamStats:
    """Follow Jetstream until ``stop`` is set; the batch in hand is committed before returning.

    Raises :class:`collectors.jetstream.JetstreamRefused` when the endpoint refuses the subscription.
    """
    stats = stats if stats is not None else StreamStats()
    stream = _Stream(settings, options, writer, stats, lookup or appview_lookup(settings))

    def load(con: duckdb.DuckDBPyConnection) -> tuple[str | None, tuple[set[str], set[str]]]:
        return store.load_cursors(con, CURSOR_KEY).get(CURSOR_KEY), _known(con, stream._horizon_start())

    saved, known = await writer.run(load)
    stream._refreshed(*known)
    if saved is not None and saved.isdigit():
        stream.resume_from = stats.cursor = int(saved)
        log.info("jetstream: resuming from %s UTC", f"{jetstream.from_micros(int(saved)):%Y-%m-%d %H:%M:%S}")
    elif options.since is not None:
        stream.resume_from = jetstream.to_micros(options.since)
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
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        if not batcher.done():
            await stream.queue.put(_STOP)
            await batcher
    if reader.done() and not reader.cancelled() and reader.exception() is not None:
        raise reader.exception()  # type: ignore[misc]
    batcher.result()  # a commit that failed for good
    return stats


# ---------------------------------------------------------------- peerdesk run


def cycle_line(outcomes: Sequence[SourceOutcome], stream: str) -> str:
    """The one line a service prints per cycle: sources, what they stored, and the stream's progress."""
    ran = [o for o in outcomes if o.finished_at is not None]
    failed = [o.report.source for o in ran if not o.ok]
    new = sum(o.stored.new_posts for o in ran)
    requests = sum(o.stored.new_requests for o in ran)
    updated = sum(o.stored.updated_posts for o in ran)
    text = f"cycle: {len(ran) - len(failed)} sources ok, {len(failed)} failed"
    if failed:
        text += f" ({', '.join(failed)})"
    return f"{text}, {new} new posts ({requests} help requests), {updated} updated; {stream}"


async def run_service(settings: Settings, options: StreamOptions, every: timedelta, stop: asyncio.Event,
                      echo: Callable[[str], None]) -> None:
    """``peerdesk run``: the polling cycle every ``every`` and the stream, in one process with one writer.

    Both commit through the same :class:`Writer` lock. On ``stop`` the stream
    commits the batch in hand; a cycle still running is cancelled (each of its
    pages is committed whole or not at all, so nothing is half-stored).
    """
    writer = Writer(settings.db_path)
    await writer.run(lambda con: None)  # migrations first, before two tasks connect at once
    stats = StreamStats()
    streaming = asyncio.create_task(run_stream(settings, options, writer, stop, stats))
    stopping = asyncio.create_task(stop.wait())
    last = replace(stats)
    try:
        while not (stop.is_set() or streaming.done()):
            started = time.monotonic()
            cycle = asyncio.create_task(
                run_cycle(settings, CycleOptions(since=default_since(settings), lock=writer.lock)))
            await asyncio.wait({cycle, streaming, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not cycle.done():
                cycle.cancel()
                await asyncio.gather(cycle, return_exceptions=True)
                break
            if cycle.exception() is not None:
                log.error("the polling cycle failed: %s", cycle.exception(), exc_info=cycle.exception())
            else:
                for outcome in cycle.result():
                    log.info("%s", outcome.summary_line())
                echo(cycle_line(cycle.result(), stats.line(last)))
            last = replace(stats)
            pause = every.total_seconds() - (time.monotonic() - started)
            await asyncio.wait({streaming, stopping}, timeout=max(pause, 0.0))
    finally:
        stop.set()
        stopping.cancel()
        await asyncio.gather(streaming, return_exceptions=True)
    streaming.result()  # the stream's own failure (a refused endpoint) is the service's
