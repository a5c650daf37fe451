"""peerdesk: watch a professional community's hashtags on Mastodon and Bluesky.

Each command body is a few lines calling library functions; shared options are
decorators. Exit status: 0 ok, 1 failed, 2 bad usage or configuration.
Errors go to stderr in one line.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from collectors.version import __version__
from pipeline.cli.common import BadConfig, Failed, PeerdeskGroup, check_out, handle_errors, settings_of, write_out
from pipeline.cli.options import format_option, parse_as_of, parse_duration, parse_every, parse_since
from pipeline.core import forgetting, queries, store
from pipeline.core.account_names import UnknownAccount, forget_target
from pipeline.core.config import CONFIG_NAME, DEFAULT_TOML, ConfigError, Settings, find_config, load_settings
from pipeline.core.export_views import FORMATS as EXPORT_FORMATS
from pipeline.core.output import readable_times, render
from pipeline.detector.rules import explain

log = logging.getLogger("peerdesk")


_settings = settings_of
_handle_errors = handle_errors()


# Beyond these a number is a typo, and dates or queries would overflow.
MAX_WEEKS = 1040  # twenty years
PORT = click.IntRange(1, 65535)


@click.group(cls=PeerdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="peerdesk")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar=None,
              help=f"Configuration file (default: $PEERDESK_CONFIG, then ./{CONFIG_NAME}).")
@click.option("-v", "--verbose", is_flag=True, help="Log details to stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Watch a community's hashtags on Mastodon and Bluesky: open help requests, active peers, response times."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)

    @functools.cache
    def settings() -> Settings:
        try:  # read when first needed: a command's own --config (cli_common.config_option) may have replaced it
            return load_settings(find_config(ctx.obj["config_path"]))
        except ConfigError as exc:
            raise BadConfig(str(exc)) from None

    ctx.obj = {"settings": settings, "config_path": config_path}


@cli.command()
@click.option("--path", type=click.Path(dir_okay=False), default=CONFIG_NAME, show_default=True,
              help="Where to write the configuration.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented peerdesk.toml with defaults for the solo-librarian community."""
    target = Path(path)
    if target.exists() and not force:
        raise BadConfig(f"{target} already exists (use --force to overwrite)")
    check_out(target, "--path")
    write_out(target, DEFAULT_TOML, "--path")
    click.echo(f"wrote {target}: edit the tags and instances, then run 'peerdesk collect'")


@cli.command()
@click.option("--since", "since_text", default=None, metavar="WHEN",
              help="How far back a first run reaches: a duration (14d) or a date. Default: [collect] since_days.")
@click.option("--every", "every_text", default=None, metavar="DURATION",
              help="Repeat the cycle at this interval (15m) until stopped with Ctrl-C.")
@click.pass_context
@_handle_errors
def collect(ctx: click.Context, since_text: str | None, every_text: str | None) -> None:
    """Poll every configured source once (or every DURATION) and store what is new."""
    from pipeline.collection.cycle import CycleOptions, cycle_succeeded, default_since, run_cycle

    settings = _settings(ctx)
    every = parse_every(every_text) if every_text else None
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


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Where to build the demo database (default data/demo.duckdb).")
@click.option("--no-dashboard", is_flag=True, help="Only build the database; do not open the dashboard.")
@click.option("--port", type=PORT, default=8501, show_default=True, help="Port for the dashboard.")
@_handle_errors
def demo(db_path: str | None, no_dashboard: bool, port: int) -> None:
    """Load the bundled sample community into data/demo.duckdb (newest post at now) and open the dashboard."""
    from pipeline.cli.launch import check_port, run_dashboard
    from pipeline.collection.demo import DEMO_DB, load_demo

    if not no_dashboard:
        _port_or_exit(check_port, port)  # before rebuilding: a taken port must not cost the curator's marks
    loaded = load_demo(Path(db_path) if db_path else DEMO_DB)
    s = loaded.stored
    with store.reading(loaded.path) as con:  # what the database holds, not what was handled on the way
        posts = queries.totals(con)["posts"]
        requests_held = queries.count_help_requests(con, store.now_utc(), status=None)
    click.echo(
        f"demo: loaded {posts} posts ({requests_held} help requests) from {loaded.instances} sample sources "
        f"into {loaded.path} ({s.deleted_posts} deleted, {s.skipped_private} non-public and "
        f"{s.skipped_opted_out} opted-out posts left out, times shifted by {loaded.shift.days} days)"
    )
    for error in loaded.errors:
        click.echo(f"demo: {error}", err=True)
    if no_dashboard:
        return
    _say_opening(port)
    sys.exit(run_dashboard(loaded.path, port=port, open_browser=True))


def _port_or_exit(check: Callable[[int], int | None], port: int) -> None:
    """Exit 2 with a free port to try when ``port`` is taken (Streamlit would pick another one silently)."""
    other = check(port)
    if other is not None:
        raise BadConfig(f"port {port} is taken: use --port {other}")


def _say_opening(port: int) -> None:
    from pipeline.cli.launch import can_open_browser

    where = f"http://127.0.0.1:{port}"
    if can_open_browser():
        click.echo(f"dashboard: opening {where} in your browser (Ctrl-C to stop)")
    else:
        click.echo(f"dashboard: {where} (no display here, so no browser was opened: open that address; "
                   "Ctrl-C to stop)")


@cli.command()
@click.argument("account")
@click.option("--unseen", is_flag=True,
              help="Keep ACCOUNT out even though nothing is stored under it yet (user@domain or a DID only).")
@click.pass_context
@handle_errors(usage=(UnknownAccount,))
def forget(ctx: click.Context, account: str, unseen: bool) -> None:
    """Purge ACCOUNT (user@domain, a DID, a Bluesky handle or a profile URL) and keep it out from now on."""
    with store.writing(_settings(ctx).db_path) as con:
        key, already = forget_target(con, account, unseen=unseen)
        removed = forgetting.forget(con, key)
    named = key if account.strip().lstrip("@").lower() == key else f"{account.strip()} ({key})"
    if already:
        click.echo(f"{named} was already forgotten: {removed} posts removed; it will not be stored again")
    else:
        click.echo(f"forgot {named}: {removed} posts removed; it will not be stored again")


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many posts.")
@click.option("--platform", type=click.Choice(["mastodon", "bluesky"]), default=None)
@click.option("--tag", default=None, help="Only posts with this tag.")
@format_option()
@click.pass_context
@_handle_errors
def posts(ctx: click.Context, limit: int, platform: str | None, tag: str | None, fmt: str) -> None:
    """List the newest stored posts."""
    settings = _settings(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.recent_posts(con, limit=limit, platform=platform, tag=tag)
    render(rows, fmt, tz=settings.timezone)


@cli.command()
@click.option("--platform", type=click.Choice(["mastodon", "bluesky"]), default=None)
@format_option()
@click.pass_context
@_handle_errors
def accounts(ctx: click.Context, platform: str | None, fmt: str) -> None:
    """List stored accounts, most active first."""
    settings = _settings(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.account_list(con, platform=platform)
    render(rows, fmt, tz=settings.timezone)


@cli.command()
@format_option()
@click.pass_context
@_handle_errors
def sources(ctx: click.Context, fmt: str) -> None:
    """Collection health: each source's last run, what it found, and errors."""
    settings = _settings(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.source_health(con, store.now_utc())
    render(rows, fmt, tz=settings.timezone)


def as_of_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as-of", "as_of_text", default=None, metavar="WHEN",
                        help="Compute as of this date/time (ISO 8601; default now).")(func)


@cli.command()
@click.option("--status", type=click.Choice(["open", "answered", "resolved", "all"]), default="open",
              show_default=True, help="Which requests.")
@click.option("--platform", type=click.Choice(["mastodon", "bluesky"]), default=None)
@click.option("--tag", default=None, help="Only requests with this tag.")
@click.option("--lang", default=None, help="Only requests in this language (e.g. fr).")
@click.option("--older-than", "older", default=None, metavar="DURATION", help="Only requests at least this old (2h).")
@as_of_option
@format_option()
@click.pass_context
@_handle_errors
def requests(ctx: click.Context, status: str, platform: str | None, tag: str | None, lang: str | None,
             older: str | None, as_of_text: str | None, fmt: str) -> None:
    """Help requests, oldest first: by default the open ones, still waiting for an answer."""
    settings = _settings(ctx)
    as_of = parse_as_of(as_of_text)
    min_age = parse_duration(older, "--older-than") if older else None
    with store.reading(settings.db_path) as con:
        rows = queries.help_requests(con, as_of, status=None if status == "all" else status,
                                     platform=platform, tag=tag, lang=lang, min_age=min_age)
        if fmt == "json":
            from pipeline.waiting.suggestions import with_suggestions

            rows = with_suggestions(con, rows, as_of)
    columns = ("created_at", "age", "status", "platform", "author", "text", "reasons", "response_time", "url")
    if fmt == "table":  # a person reads the words each reason matched; csv/json keep the stored labels
        rows = [{k: ", ".join(explain(x) for x in r[k] or ()) if k == "reasons" else r[k] for k in columns}
                for r in rows]
    render(rows, fmt, tz=settings.timezone)


@cli.command()
@click.option("--weeks", type=click.IntRange(1, MAX_WEEKS), default=4, show_default=True,
              help="How many ISO weeks back, this one included.")
@click.option("--by-week", is_flag=True, help="One row per account and week (the peer_activity view).")
@as_of_option
@format_option()
@click.pass_context
@_handle_errors
def peers(ctx: click.Context, weeks: int, by_week: bool, as_of_text: str | None, fmt: str) -> None:
    """Active peers: who answers others, how often and how fast."""
    settings = _settings(ctx)
    as_of = parse_as_of(as_of_text)
    since = as_of - timedelta(weeks=weeks - 1)
    with store.reading(settings.db_path) as con:
        rows = (queries.peer_weeks(con, as_of, since=since) if by_week
                else queries.peers(con, as_of, since=since))
    render(rows, fmt, tz=settings.timezone)


@cli.command("response-times")
@click.option("--weeks", type=click.IntRange(1, MAX_WEEKS), default=8, show_default=True,
              help="How many ISO weeks back, this one included.")
@click.option("--platform", type=click.Choice(["mastodon", "bluesky"]), default=None)
@as_of_option
@format_option()
@click.pass_context
@_handle_errors
def response_times(ctx: click.Context, weeks: int, platform: str | None, as_of_text: str | None, fmt: str) -> None:
    """Time to the first reply from someone else, per week and platform, and the share within [alerts] after."""
    settings = _settings(ctx)
    as_of = parse_as_of(as_of_text)
    with store.reading(settings.db_path) as con:
        rows = queries.response_times(con, as_of, weeks=weeks, platform=platform,
                                      target=settings.alerts.after)
    render([readable_times(r, fmt) for r in rows], fmt, tz=settings.timezone)


@cli.command()
@click.option("--send", is_flag=True, help="First announce newly overdue requests on the [alerts] channels.")
@click.option("--sent", "show_sent", is_flag=True, help="List what was sent instead of the overdue requests.")
@as_of_option
@format_option()
@click.pass_context
@_handle_errors
def alerts(ctx: click.Context, send: bool, show_sent: bool, as_of_text: str | None, fmt: str) -> None:
    """Overdue help requests (open longer than [alerts] after) and what was sent about them."""
    from pipeline.waiting.alerts import overdue_rows, send_alerts

    settings = _settings(ctx)
    if send:
        if not settings.alerts.channels:
            raise BadConfig("no alert channel: set [alerts] email_to or webhook_url in the configuration")
        report = asyncio.run(send_alerts(settings, parse_as_of(as_of_text)))
        click.echo(report.summary_line() if report else "alerts: not configured", err=True)
    with store.reading(settings.db_path) as con:
        rows = queries.alerts_log(con) if show_sent else overdue_rows(con, settings, parse_as_of(as_of_text), fmt)
    render(rows, fmt, tz=settings.timezone)


@cli.command()
@click.argument("uri", metavar="URI_OR_URL")
@click.option("--request", "as_request", is_flag=True, help="It is a help request, whatever the rules say.")
@click.option("--not-request", "not_request", is_flag=True, help="It is not a help request.")
@click.option("--resolved", is_flag=True, help="The request is resolved.")
@click.option("--reopen", is_flag=True, help="The request is open again.")
@click.option("--note", default=None, help="Why, for the other curators.")
@click.pass_context
@_handle_errors
def mark(ctx: click.Context, uri: str, as_request: bool, not_request: bool, resolved: bool, reopen: bool,
         note: str | None) -> None:
    """Record a curator's decision about a post, named by its uri or web URL (it survives re-collection)."""
    from pipeline.followlist.curation import UnknownPost, stored_uri
    from pipeline.followlist.curation import mark as mark_post

    chosen = [d for d, on in (("request", as_request), ("not-request", not_request), ("resolved", resolved),
                              ("reopen", reopen)) if on]
    if not chosen:
        raise BadConfig("say what to mark: --request, --not-request, --resolved or --reopen")
    if len(chosen) > 1:
        raise BadConfig(f"give one decision, not {' and '.join('--' + d for d in chosen)}")
    decision = chosen[0]
    with store.writing(_settings(ctx).db_path) as con:
        try:
            target = stored_uri(con, uri)
            mark_post(con, target, decision, note=note)
        except UnknownPost as exc:
            raise Failed(str(exc)) from None
    click.echo(f"marked {target}: {decision}")


@cli.command()
@click.option("--port", type=PORT, default=8501, show_default=True, help="Port to serve on.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Database to show (default: [database] path).")
@click.pass_context
@_handle_errors
def dashboard(ctx: click.Context, port: int, db_path: str | None) -> None:
    """Open the dashboard (Streamlit) on the database, in a browser when there is a display."""
    from pipeline.cli.launch import check_port, run_dashboard

    db = Path(db_path) if db_path else _settings(ctx).db_path
    with store.reading(db):  # a missing or foreign file is said here, in one line, rather than in the browser
        pass
    _port_or_exit(check_port, port)
    _say_opening(port)
    sys.exit(run_dashboard(db, port=port, config=_settings(ctx).source_file, open_browser=True))


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True, help="The files' format.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="The folder to write posts, accounts, help_requests and peer_activity into.")
@as_of_option
@click.pass_context
@_handle_errors
def export(ctx: click.Context, fmt: str, out_dir: str, as_of_text: str | None) -> None:
    """Write the documented views as Parquet, CSV or JSON files for other tools, consent rules applied."""
    from pipeline.core.export_views import export_views

    as_of = parse_as_of(as_of_text)
    with store.reading(_settings(ctx).db_path) as con:
        try:
            written = export_views(con, Path(out_dir), fmt, as_of)
        except OSError as exc:
            raise Failed(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    for item in written:
        click.echo(f"wrote {item.path}: {item.rows} rows")


def _register_groups() -> None:
    """Command groups that live in their own modules, each owning one feature."""
    from pipeline.cli.account import login, logout, whoami
    from pipeline.cli.detector import detector
    from pipeline.cli.follows import follows
    from pipeline.cli.stream import run, stream
    from pipeline.cli.summary import summary

    cli.add_command(follows)
    cli.add_command(summary)
    cli.add_command(stream)
    cli.add_command(run)
    cli.add_command(detector)
    cli.add_command(login)
    cli.add_command(logout)
    cli.add_command(whoami)


_register_groups()


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="The file to check (default: [database] path).")
@_handle_errors
@click.pass_context
def repair(ctx: click.Context, db_path: str | None) -> None:
    """Check the database file; if damaged, rebuild it from every table that still reads."""
    from pipeline.core.recover import Unrecoverable
    from pipeline.core.recover import repair as rebuild

    path = Path(db_path) if db_path else _settings(ctx).db_path
    try:
        outcome = rebuild(path, store.now_utc(), click.echo)
    except Unrecoverable as exc:
        raise Failed(f"{path}: {exc}") from None
    if outcome.sound:
        click.echo(f"{path} reads whole: nothing to repair", err=True)
    elif any(t.error for t in outcome.tables):
        raise Failed(f"{path} rebuilt without the tables marked NOT copied; the damaged file is {outcome.kept_as}")


def main() -> None:
    cli(prog_name="peerdesk")

