"""``peerdesk run``: the polling cycle on a schedule beside the Jetstream stream, in one process with one writer.

Signals are the CLI's (:mod:`pipeline.cli.stream`): they set the ``stop`` event
that everything here winds down on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from pipeline.collection.cycle import CycleOptions, SourceOutcome, default_since, run_cycle
from pipeline.collection.stream.run import StreamOptions, run_stream
from pipeline.collection.stream.stats import StreamStats
from pipeline.core.settings import Settings
from pipeline.core.writer import Writer

# The logger's name is the one these lines carried before ``peerdesk run`` had a module of its own.
log = logging.getLogger("pipeline.collection.stream.run")


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


async def _alerts_part(settings: Settings, options: StreamOptions, writer: Writer) -> str:
    """'; alerts: ...' for the cycle line: newly overdue requests announced after each cycle."""
    from pipeline.waiting.alerts import send_alerts

    try:
        report = await send_alerts(settings, options.clock(), writer.lock)
    except Exception as exc:  # the service keeps running; the next cycle tries again
        log.error("alerts failed: %s", exc)
        return f"; alerts: error ({type(exc).__name__})"
    return f"; {report.summary_line()}" if report is not None else ""


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
                run_cycle(settings, CycleOptions(since=default_since(settings, options.clock()), lock=writer.lock,
                                                 clock=options.clock)))
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
                echo(cycle_line(cycle.result(), stats.line(last)) + await _alerts_part(settings, options, writer))
            last = replace(stats)
            pause = every.total_seconds() - (time.monotonic() - started)
            await asyncio.wait({streaming, stopping}, timeout=max(pause, 0.0))
    finally:
        stop.set()
        stopping.cancel()
        await asyncio.gather(streaming, return_exceptions=True)
    streaming.result()  # the stream's own failure (a refused endpoint) is the service's
