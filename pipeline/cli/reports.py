"""``peerdesk posts``, ``accounts``, ``sources``, ``requests``, ``peers``, ``response-times``, ``alerts``, ``export``.

The reports: each body asks :mod:`pipeline.core.queries` (or the alerts and export libraries) and prints the
rows through :func:`pipeline.output.formats.render`. Only ``alerts --send`` changes anything (it records what it
sent). Registered on the main group by :mod:`pipeline.cli.commands`, which this module does not import.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import click

from pipeline.cli.common import BadConfig, Failed, handle_errors, settings_of
from pipeline.cli.options import (
    POSTS_LIMIT,
    as_of_option,
    format_option,
    parse_duration,
    platform_option,
    weeks_option,
)
from pipeline.core import queries, store
from pipeline.core.queries.results import Rows
from pipeline.detector.rules import explain
from pipeline.output.formats import readable_times, render
from pipeline.output.view_files import FORMATS as EXPORT_FORMATS

_handle_errors = handle_errors()

REQUEST_COLUMNS = ("created_at", "age", "status", "platform", "author", "text", "reasons", "response_time", "url")


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=POSTS_LIMIT, show_default=True, help="How many posts.")
@platform_option()
@click.option("--tag", default=None, help="Only posts with this tag.")
@format_option()
@click.pass_context
@_handle_errors
def posts(ctx: click.Context, limit: int, platform: str | None, tag: str | None, fmt: str) -> None:
    """List the newest stored posts."""
    settings = settings_of(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.recent_posts(con, limit=limit, platform=platform, tag=tag)
    render(rows, fmt, tz=settings.timezone)


@click.command()
@platform_option()
@format_option()
@click.pass_context
@_handle_errors
def accounts(ctx: click.Context, platform: str | None, fmt: str) -> None:
    """List stored accounts, most active first."""
    settings = settings_of(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.account_list(con, platform=platform)
    render(rows, fmt, tz=settings.timezone)


@click.command()
@format_option()
@click.pass_context
@_handle_errors
def sources(ctx: click.Context, fmt: str) -> None:
    """Collection health: each source's last run, what it found, and errors."""
    settings = settings_of(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.source_health(con, store.now_utc())
    render(rows, fmt, tz=settings.timezone)


@click.command()
@click.option("--status", type=click.Choice(["open", "answered", "resolved", "all"]), default="open",
              show_default=True, help="Which requests.")
@platform_option()
@click.option("--tag", default=None, help="Only requests with this tag.")
@click.option("--lang", default=None, help="Only requests in this language (e.g. fr).")
@click.option("--older-than", "older", default=None, metavar="DURATION", help="Only requests at least this old (2h).")
@as_of_option()
@format_option()
@click.pass_context
@_handle_errors
def requests(ctx: click.Context, status: str, platform: str | None, tag: str | None, lang: str | None,
             older: str | None, as_of: datetime, fmt: str) -> None:
    """Help requests, oldest first: by default the open ones, still waiting for an answer."""
    settings = settings_of(ctx)
    min_age = parse_duration(older, "--older-than") if older else None
    with store.reading(settings.db_path) as con:
        rows = queries.help_requests(con, as_of, status=None if status == "all" else status,
                                     platform=platform, tag=tag, lang=lang, min_age=min_age)
        if fmt == "json":
            from pipeline.waiting.suggestions import with_suggestions

            rows = with_suggestions(con, rows, as_of)
    if fmt == "table":  # a person reads the words each reason matched; csv/json keep the stored labels
        rows = [{k: ", ".join(explain(x) for x in r[k] or ()) if k == "reasons" else r[k] for k in REQUEST_COLUMNS}
                for r in rows]
    render(rows, fmt, tz=settings.timezone)


@click.command()
@weeks_option(queries.PEERS_WEEKS)
@click.option("--by-week", is_flag=True, help="One row per account and week (the peer_activity view).")
@as_of_option()
@format_option()
@click.pass_context
@_handle_errors
def peers(ctx: click.Context, weeks: int, by_week: bool, as_of: datetime, fmt: str) -> None:
    """Active peers: who answers others, how often and how fast."""
    settings = settings_of(ctx)
    since = as_of - timedelta(weeks=weeks - 1)
    with store.reading(settings.db_path) as con:
        rows = (queries.peer_weeks(con, as_of, since=since) if by_week
                else queries.peers(con, as_of, since=since))
    render(rows, fmt, tz=settings.timezone)


@click.command("response-times")
@weeks_option(queries.RESPONSE_TIMES_WEEKS)
@platform_option()
@as_of_option()
@format_option()
@click.pass_context
@_handle_errors
def response_times(ctx: click.Context, weeks: int, platform: str | None, as_of: datetime, fmt: str) -> None:
    """Time to the first reply from someone else, per week and platform, and the share within [alerts] after."""
    settings = settings_of(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.response_times(con, as_of, weeks=weeks, platform=platform,
                                      target=settings.alerts.after)
    render(Rows.like([readable_times(r, fmt) for r in rows], rows), fmt, tz=settings.timezone)


@click.command()
@click.option("--send", is_flag=True, help="First announce newly overdue requests on the [alerts] channels.")
@click.option("--sent", "show_sent", is_flag=True, help="List what was sent instead of the overdue requests.")
@as_of_option()
@format_option()
@click.pass_context
@_handle_errors
def alerts(ctx: click.Context, send: bool, show_sent: bool, as_of: datetime, fmt: str) -> None:
    """Overdue help requests (open longer than [alerts] after) and what was sent about them."""
    from pipeline.waiting.alerts import overdue_rows, send_alerts

    settings = settings_of(ctx)
    if send:
        if not settings.alerts.channels:
            raise BadConfig("no alert channel: set [alerts] email_to or webhook_url in the configuration")
        report = asyncio.run(send_alerts(settings, as_of))
        click.echo(report.summary_line() if report else "alerts: not configured", err=True)
    with store.reading(settings.db_path) as con:
        rows = queries.alerts_log(con) if show_sent else overdue_rows(con, settings, as_of, fmt)
    render(rows, fmt, tz=settings.timezone)


@click.command("export")
@format_option(EXPORT_FORMATS, required=True, help="The files' format.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="The folder to write posts, accounts, help_requests and peer_activity into.")
@as_of_option()
@click.pass_context
@_handle_errors
def export(ctx: click.Context, fmt: str, out_dir: str, as_of: datetime) -> None:
    """Write the documented views as Parquet, CSV or JSON files for other tools, consent rules applied."""
    from pipeline.output.view_files import export_views

    with store.reading(settings_of(ctx).db_path) as con:
        try:
            written = export_views(con, Path(out_dir), fmt, as_of)
        except OSError as exc:
            raise Failed(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    for item in written:
        click.echo(f"wrote {item.path}: {item.rows} rows")


COMMANDS = (posts, accounts, sources, requests, peers, response_times, alerts, export)
