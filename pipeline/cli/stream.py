"""``peerdesk collect``, ``stream`` and ``run``: the commands that collect, once, live, or as a service.

Registered on the main group by ``pipeline/cli/commands.py`` (``cli.add_command``). Like
the other command modules it takes what it shares with the rest of the CLI from
``pipeline.cli.common`` and ``pipeline.cli.options``, never from ``pipeline.cli.commands``, which imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from collectors.bluesky.jetstream.connection import DEFAULT_ENDPOINT, wire_of
from collectors.bluesky.jetstream.events import JetstreamRefused
from pipeline.cli.common import Failed, handle_errors, settings_of
from pipeline.cli.options import (
    STATUS_EVERY,
    duration_text,
    every_option,
    parse_duration,
    parse_since,
    since_option,
)
from pipeline.core import store
from pipeline.core.settings import RunSettings, Settings

if TYPE_CHECKING:
    from pipeline.collection.stream.run import StreamOptions
    from pipeline.collection.stream.stats import StreamStats

STREAM_SINCE = ("Where the stream starts when no position is saved yet: a duration (2h) or a date/time. "
                "Default: now. Jetstream only keeps a limited window (hours to days).")


def _endpoint_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--endpoint", default=None, metavar="URL",
                        help=f"Jetstream endpoint (default: [bluesky] jetstream, else {DEFAULT_ENDPOINT}).")(func)


def _stream_options(settings: Settings, endpoint: str | None, since: datetime | None) -> StreamOptions:
    from pipeline.collection.stream.run import StreamOptions

    chosen = endpoint or settings.bluesky.jetstream
    try:
        wire_of(chosen)
    except JetstreamRefused as exc:
        raise click.BadParameter(str(exc), param_hint="--endpoint") from None
    return StreamOptions(endpoint=chosen, since=since)


async def _until_signalled(main: Callable[[asyncio.Event], Any]) -> Any:
    """Run ``main(stop)``; SIGTERM and SIGINT set ``stop`` so it can finish the batch in hand."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await main(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _since(text: str | None) -> datetime | None:
    return parse_since(text, store.now_utc()) if text else None


@click.command()
@since_option("How far back a first run reaches: a duration (14d) or a date. Default: [collect] since_days.")
@every_option("Repeat the cycle at this interval (15m) until stopped with Ctrl-C.")
@click.pass_context
@handle_errors()
def collect(ctx: click.Context, since_text: str | None, every: timedelta | None) -> None:
    """Poll every configured source once (or every DURATION) and store what is new."""
    from pipeline.collection.cycle import CycleOptions, cycle_succeeded, default_since, run_cycle

    settings = settings_of(ctx)
    progress = _progress_line if sys.stderr.isatty() else None  # quiet under cron
    try:
        while True:
            now = store.now_utc()
            since = parse_since(since_text, now) if since_text else default_since(settings, now)
            outcomes = asyncio.run(run_cycle(settings, CycleOptions(since=since, progress=progress)))
            if progress:
                click.echo("\r\033[K", nl=False, err=True)
            for outcome in outcomes:
                click.echo(outcome.summary_line())
            _alerts_line(settings, click.echo)
            if every is None:
                store.checkpoint(settings.db_path)
                if not cycle_succeeded(outcomes):
                    raise Failed("every source failed")
                return
            time.sleep(every.total_seconds())
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


def _alerts_line(settings: Settings, echo: Callable[[str], None]) -> None:
    """Announce newly overdue requests after a cycle; a failure here never fails the collection."""
    from pipeline.waiting.alerts import send_alerts

    try:
        report = asyncio.run(send_alerts(settings, store.now_utc()))
    except store.DatabaseBusy as exc:
        echo(f"alerts: skipped this cycle ({exc})")
        return
    if report is not None:
        echo(report.summary_line())


def _progress_line(text: str) -> None:
    click.echo(f"\r\033[Kcollecting: {text}"[:200], nl=False, err=True)


@click.command()
@_endpoint_option
@since_option(STREAM_SINCE)
@click.option("--status-every", "status_text", default=STATUS_EVERY, show_default=True, metavar="DURATION",
              help="Print a status line this often.")
@click.pass_context
def stream(ctx: click.Context, endpoint: str | None, since_text: str | None, status_text: str) -> None:
    """Follow Bluesky live through Jetstream (no account needed) until stopped."""
    from pipeline.collection.stream.run import run_stream
    from pipeline.collection.stream.stats import StreamStats
    from pipeline.core.writer import Writer

    @handle_errors()
    def body() -> None:
        settings = settings_of(ctx)
        options = _stream_options(settings, endpoint, _since(since_text))
        every = parse_duration(status_text, "--status-every").total_seconds()
        if every < 1:
            raise click.BadParameter(f"{status_text!r} is shorter than a second", param_hint="--status-every")
        stats = StreamStats()

        async def main(stop: asyncio.Event) -> None:
            reporter = asyncio.create_task(_report(stats, every, stop))
            try:
                await run_stream(settings, options, Writer(settings.db_path), stop, stats)
            finally:
                reporter.cancel()

        try:
            asyncio.run(_until_signalled(main))
        except JetstreamRefused as exc:
            raise Failed(str(exc)) from None
        _checkpoint(settings)
        click.echo(stats.line())
        click.echo("stopped", err=True)

    body()


async def _report(stats: StreamStats, every: float, stop: asyncio.Event) -> None:
    last = replace(stats)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if not stop.is_set():
            click.echo(stats.line(last))
            last = replace(stats)


@click.command()
@every_option(f"How often the polling cycle runs (default: [run] every, else {duration_text(RunSettings.every)}).")
@_endpoint_option
@since_option(STREAM_SINCE)
@click.pass_context
def run(ctx: click.Context, every: timedelta | None, endpoint: str | None, since_text: str | None) -> None:
    """Run as a service: poll every source every DURATION and follow Bluesky live, until SIGTERM."""
    from pipeline.collection.service import run_service

    @handle_errors()
    def body() -> None:
        settings = settings_of(ctx)
        interval = every or settings.run.every
        options = _stream_options(settings, endpoint, _since(since_text))
        try:
            asyncio.run(_until_signalled(lambda stop: run_service(settings, options, interval, stop, click.echo)))
        except JetstreamRefused as exc:
            raise Failed(str(exc)) from None
        _checkpoint(settings)
        click.echo("stopped", err=True)

    body()


def _checkpoint(settings: Settings) -> None:
    """A clean stop leaves the file whole, without a WAL beside it (see ``pipeline.core.store.WRITER_CONFIG``)."""
    store.checkpoint(settings.db_path)
