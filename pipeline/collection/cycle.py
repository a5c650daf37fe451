"""One collection cycle: every source polled at once, one writer committing their pages.

Sources run concurrently on one event loop (a slow or dead instance costs only
its own time). Their pages go through a queue to a single writer that commits
whatever has arrived in one transaction and then lets go of the file, so the
dashboard can read between commits. A page that cannot be stored costs only
itself: the writer retries a failed batch source by source, then page by
page (see :func:`_commit`), and stops that page's source for the cycle, since
a later page of a forward pass carries a cursor past it and committing that
would leave a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from collectors.clean_text import clean_text
from collectors.records import Page, SourceReport
from pipeline.collection import sources as platform_sources
from pipeline.collection.threads import due_threads
from pipeline.core import store
from pipeline.core.ingest import StoreResult, preclassify, store_pages_in_transaction
from pipeline.core.settings import Settings
from pipeline.detector import store as detector_store

log = logging.getLogger(__name__)

QUEUE_PAGES = 64  # pages waiting for the writer before sources pause


@dataclass
class SourceOutcome:
    report: SourceReport
    stored: StoreResult = field(default_factory=StoreResult)
    started_at: datetime = field(default_factory=store.now_utc)  # run_cycle passes its clock's time
    finished_at: datetime | None = None
    primary: bool = True  # a polled source, rather than the thread re-checks that follow

    @property
    def ok(self) -> bool:
        return not self.report.failed

    def summary_line(self) -> str:
        r, s = self.report, self.stored
        if self.finished_at is None and not r.requests:
            return f"{r.source}: {r.note or 'skipped'}"
        state = "ok" if self.ok else "FAILED"
        line = (f"{r.source}: {state}, {s.new_posts} new posts ({s.new_requests} help requests), "
                f"{s.updated_posts} updated, {len(r.errors)} errors, {r.requests} HTTP requests")
        if r.rate_limit_waits:
            line += f", {r.rate_limit_waits} rate-limit waits"
        if r.note:
            line += f" ({r.note})"
        elif r.errors and not self.ok:
            line += f" ({r.errors[-1]})"
        return clean_text(line)  # an error may quote what a server sent: printable, whatever it was


@dataclass(frozen=True)
class CycleOptions:
    since: datetime
    backoff: float = 0.5  # first retry delay; tests shrink it
    max_rate_wait: float = 60.0
    progress: Callable[[str], None] | None = None  # told after each commit, for a terminal
    lock: asyncio.Lock | None = None  # held around every commit: `peerdesk run` shares it with the stream
    clock: Callable[[], datetime] = store.now_utc  # "now" for thread re-checks and run times; tests fix it


PageSource = Callable[[SourceReport], AsyncIterator[Page]]


async def run_cycle(settings: Settings, options: CycleOptions,
                    extra_sources: list[tuple[SourceReport, PageSource]] | None = None) -> list[SourceOutcome]:
    """Poll every configured source once, then re-check the threads that are due."""
    with store.writing(settings.db_path) as con:
        cursors = store.load_cursors(con)
        detector_store.prepare(con, options.clock())  # learn from new curator decisions before classifying
    outcomes: dict[str, SourceOutcome] = {}
    async with contextlib.AsyncExitStack() as clients:
        platforms = platform_sources.start(settings, options.since, clients, backoff=options.backoff,
                                           max_rate_wait=options.max_rate_wait)
        jobs = [job for platform in platforms for job in platform.polls(cursors)]
        jobs += [(report, make_pages(report)) for report, make_pages in extra_sources or []]
        await _drain(settings.db_path, jobs, outcomes, options.clock, progress=options.progress, lock=options.lock)

        # Threads second, so that requests this cycle found are checked in it when due: the first check is 15
        # minutes after a request was posted (collection.threads.LADDER), so one found older than that (a backfill,
        # a quarter-hourly poll) is checked at once, and one posted minutes ago waits for a later cycle.
        now = options.clock()
        horizon = timedelta(days=settings.thread_horizon_days)
        with store.writing(settings.db_path) as con:
            due = due_threads(con, now, horizon, settings.thread_budget)
            rechecks = [job for platform in platforms for job in platform.rechecks(con, due, now)]
        if rechecks:
            await _drain(settings.db_path, rechecks, outcomes, options.clock, primary=False,
                         progress=options.progress, lock=options.lock)
    skipped = [SourceOutcome(report, started_at=options.clock(), primary=False)
               for platform in platforms for report in platform.skipped() if report.source not in outcomes]
    async with options.lock or contextlib.nullcontext():
        _record_runs(settings.db_path, list(outcomes.values()) + skipped, options.clock)
    return list(outcomes.values()) + skipped


def cycle_succeeded(outcomes: list[SourceOutcome]) -> bool:
    """At least one polled source worked (thread re-checks alone do not make a cycle)."""
    return any(o.ok and o.primary for o in outcomes)


async def _drain(db_path: Path, sources: list[tuple[SourceReport, AsyncIterator[Page]]],
                 outcomes: dict[str, SourceOutcome], clock: Callable[[], datetime], primary: bool = True,
                 progress: Callable[[str], None] | None = None, lock: asyncio.Lock | None = None) -> None:
    """Run sources concurrently into one writer until all are done."""
    queue: asyncio.Queue[tuple[str, Page] | None] = asyncio.Queue(QUEUE_PAGES)
    stopped: set[str] = set()

    async def feed(report: SourceReport, pages: AsyncIterator[Page]) -> None:
        try:
            async for page in pages:
                if report.source in stopped:
                    break
                preclassify(page)
                await queue.put((report.source, page))
        except Exception as exc:  # a bug or an unexpected answer in one source must not stop the others
            # (the failures a platform knows, such as a rate limit, its source module reports itself)
            log.exception("%s: unexpected error", report.source)
            report.failed = True
            report.errors.append(f"{report.source}: {type(exc).__name__}: {exc}")
        finally:
            outcomes[report.source].finished_at = clock()

    for report, _ in sources:
        outcomes[report.source] = SourceOutcome(report, started_at=clock(), primary=primary)
    writer = asyncio.create_task(_writer(db_path, queue, outcomes, stopped, progress, lock))
    await asyncio.gather(*(feed(report, pages) for report, pages in sources))
    await queue.put(None)
    await writer


async def _writer(db_path: Path, queue: asyncio.Queue[tuple[str, Page] | None],
                  outcomes: dict[str, SourceOutcome], stopped: set[str],
                  progress: Callable[[str], None] | None = None, lock: asyncio.Lock | None = None) -> None:
    done = False
    while not done:
        item = await queue.get()
        batch: list[tuple[str, Page]] = []
        while item is not None:
            if item[0] not in stopped:
                batch.append(item)
            if queue.empty():
                break
            item = queue.get_nowait()
        done = item is None
        if batch:
            async with lock or contextlib.nullcontext():
                await asyncio.to_thread(_commit, db_path, batch, outcomes, stopped)
            if progress:
                stored = sum(o.stored.new_posts for o in outcomes.values())
                busy = sorted(o.report.source for o in outcomes.values() if o.finished_at is None)
                progress(f"{stored} new posts so far; waiting on {', '.join(busy) or 'nothing'}")


def _commit(db_path: Path, batch: list[tuple[str, Page]], outcomes: dict[str, SourceOutcome],
            stopped: set[str]) -> None:
    """Commit every page that has arrived in one transaction; if that fails, find the page that cannot be stored.

    One unstorable page must not cost the other sources their cycle: the batch
    is retried source by source, and a source that still fails page by page, in
    order. Its pages before the bad one are committed, the bad one is lost (one
    line naming the source and the reason) and the source stops for the cycle,
    so no later page carries its cursor past the loss. A re-checked thread is
    a page of its own with its own cursor, so there only that page is lost.
    """
    try:
        _store(db_path, batch, outcomes)
        return
    except store.DatabaseBusy as exc:  # the file, not a page: nothing to isolate
        _lose(batch, outcomes, stopped, _first_line(exc))
        return
    except Exception as exc:
        log.debug("a batch of %d pages could not be stored (%s); storing it source by source",
                  len(batch), _first_line(exc))
    for pages in _by_source(batch).values():
        try:
            _store(db_path, pages, outcomes)
        except Exception as exc:
            if len(pages) == 1:
                _lose(pages, outcomes, stopped, _first_line(exc))
            else:
                _store_page_by_page(db_path, pages, outcomes, stopped)


def _store_page_by_page(db_path: Path, pages: list[tuple[str, Page]], outcomes: dict[str, SourceOutcome],
                        stopped: set[str]) -> None:
    """One source's pages one transaction each, in order, until one fails (a thread re-check goes on past it)."""
    for i, (name, page) in enumerate(pages):
        try:
            _store(db_path, [(name, page)], outcomes)
        except Exception as exc:
            rest = pages[i + 1:] if outcomes[name].primary else []  # not committed: they may carry its cursor
            _lose([(name, page)], outcomes, stopped, _first_line(exc))
            if rest:
                return


def _store(db_path: Path, batch: list[tuple[str, Page]], outcomes: dict[str, SourceOutcome]) -> None:
    """One transaction for these pages; their results are credited only once it has committed."""
    with store.writing(db_path) as con:
        with store.transaction(con):
            stored = store_pages_in_transaction(con, [page for _, page in batch])
        # Merged into the file once the WAL passes its threshold, as the stream's writer does: otherwise every
        # reopen in a long backfill replays a WAL that grows through the whole cycle.
        store.checkpoint_if_due(con, db_path)
    for (name, _), result in zip(batch, stored, strict=True):
        outcomes[name].stored.add(result)


def _lose(lost: list[tuple[str, Page]], outcomes: dict[str, SourceOutcome], stopped: set[str], why: str) -> None:
    """One line per source for what was lost; a polled source stops for the cycle, a thread re-check goes on."""
    for name, pages in _by_source(lost).items():
        posts = sum(len(page.posts) for _, page in pages)
        line = f"{name}: could not store {len(pages)} page{'s' if len(pages) > 1 else ''} ({posts} posts): {why}"
        outcome = outcomes[name]
        if outcome.primary:
            stopped.add(name)
            outcome.report.failed = True
            line += "; stopped for this cycle"
        log.error("%s", line)
        outcome.report.errors.append(line)


def _by_source(batch: list[tuple[str, Page]]) -> dict[str, list[tuple[str, Page]]]:
    """The batch's pages grouped by source, each source's pages in the order they came."""
    groups: dict[str, list[tuple[str, Page]]] = {}
    for name, page in batch:
        groups.setdefault(name, []).append((name, page))
    return groups


def _first_line(exc: BaseException) -> str:
    """An error's first line, safe to print and store (a message may quote the text it refused)."""
    lines = str(exc).splitlines()
    return clean_text(lines[0] if lines else type(exc).__name__)


def _record_runs(db_path: Path, outcomes: Iterable[SourceOutcome], clock: Callable[[], datetime]) -> None:
    try:
        runs = [
            store.Run(source=o.report.source, platform=o.report.platform, started_at=o.started_at,
                      finished_at=o.finished_at or clock(), ok=o.ok, new_posts=o.stored.new_posts,
                      updated_posts=o.stored.updated_posts, requests=o.report.requests, errors=len(o.report.errors),
                      rate_limit_waits=o.report.rate_limit_waits,
                      message=_message(o.report) if o.finished_at or o.report.requests
                      else _skipped(o.report.note))
            for o in outcomes
        ]
        with store.writing(db_path) as con:
            with store.transaction(con):
                store.record_runs(con, runs)
            store.checkpoint_if_due(con, db_path)  # a cycle's last commit: see store.WRITER_CONFIG
    except Exception as exc:
        log.error("could not record the collection run: %s", str(exc).splitlines()[0])


def _skipped(note: str | None) -> str:
    """The message of a source that did not run, marked as such for the health page."""
    text = clean_text(note or "not run")
    return text if text.startswith(store.SKIPPED) else store.SKIPPED + text


def _message(report: SourceReport) -> str | None:
    """The run's note or last error, storable: one quoting text a server sent must not cost every source its row."""
    text = report.note or (report.errors[-1] if report.errors else None)
    return None if text is None else clean_text(text)


def default_since(settings: Settings, now: datetime | None = None) -> datetime:
    return (now or store.now_utc()) - timedelta(days=settings.since_days)
