"""peerdesk: watch a professional community's hashtags on Mastodon and Bluesky.

Each command body is a few lines calling library functions; shared options are
decorators. Exit status: 0 ok, 1 failed, 2 bad usage or configuration.
Errors go to stderr in one line.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from collectors.version import __version__
from pipeline import queries, store
from pipeline.config import CONFIG_NAME, DEFAULT_TOML, ConfigError, Settings, find_config, load_settings
from pipeline.output import FORMATS, render

log = logging.getLogger("peerdesk")


class Failed(click.ClickException):
    exit_code = 1


class BadConfig(click.ClickException):
    """Configuration or usage problems: one line on stderr, exit status 2."""

    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]()


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="How to print the rows.")(func)


def parse_duration(text: str) -> timedelta:
    """'15m', '2h', '14d', '90s' -> timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration like 15m, 2h or 14d")
    n, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]: n})


def parse_since(text: str, now: datetime) -> datetime:
    """A duration back from now ('14d') or a date/time ('2026-11-01')."""
    try:
        return now - parse_duration(text)
    except click.BadParameter:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (14d) nor a date (2026-11-01)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise BadConfig(str(exc)) from None
        except (store.DatabaseBusy, store.NoDatabase) as exc:
            raise Failed(str(exc)) from None
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
        try:
            return load_settings(find_config(config_path))
        except ConfigError as exc:
            raise BadConfig(str(exc)) from None

    ctx.obj = {"settings": settings}


@cli.command()
@click.option("--path", type=click.Path(dir_okay=False), default=CONFIG_NAME, show_default=True,
              help="Where to write the configuration.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented peerdesk.toml with defaults for the solo-librarian community."""
    target = Path(path)
    if target.exists() and not force:
        raise BadConfig(f"{target} already exists (use --force to overwrite)")
    target.write_text(DEFAULT_TOML, encoding="utf-8")
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
    from pipeline.collect import CycleOptions, default_since, run_cycle

    settings = _settings(ctx)
    every = parse_duration(every_text) if every_text else None
    while True:
        now = store.now_utc()
        since = parse_since(since_text, now) if since_text else default_since(settings, now)
        outcomes = asyncio.run(run_cycle(settings, CycleOptions(since=since)))
        for outcome in outcomes:
            click.echo(outcome.summary_line())
        ok = any(o.ok for o in outcomes)
        if every is None:
            if not ok:
                raise Failed("every source failed")
            return
        try:
            time.sleep(every.total_seconds())
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
            return


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Where to build the demo database (default data/demo.duckdb).")
@_handle_errors
def demo(db_path: str | None) -> None:
    """Load the bundled sample community into data/demo.duckdb, newest post at now."""
    from pipeline.demo import DEMO_DB, load_demo

    loaded = load_demo(Path(db_path) if db_path else DEMO_DB)
    s = loaded.stored
    click.echo(
        f"demo: loaded {s.new_posts} posts from {loaded.instances} sample sources into {loaded.path} "
        f"({s.updated_posts} edits applied, {s.deleted_posts} deleted, {s.skipped_private} non-public and "
        f"{s.skipped_opted_out} opted-out posts left out, times shifted by {loaded.shift.days} days)"
    )
    for error in loaded.errors:
        click.echo(f"demo: {error}", err=True)


@cli.command()
@click.argument("account")
@click.pass_context
@_handle_errors
def forget(ctx: click.Context, account: str) -> None:
    """Purge ACCOUNT (user@domain or a Bluesky DID) and keep it out from now on."""
    key = account.strip().lstrip("@").lower() if not account.startswith("did:") else account.strip()
    with store.writing(_settings(ctx).db_path) as con:
        removed = store.forget(con, key)
    click.echo(f"forgot {key}: {removed} posts removed; it will not be stored again")


@cli.command()
@click.option("--limit", default=20, show_default=True, help="How many posts.")
@click.option("--platform", type=click.Choice(["mastodon", "bluesky"]), default=None)
@click.option("--tag", default=None, help="Only posts with this tag.")
@format_option
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
@format_option
@click.pass_context
@_handle_errors
def accounts(ctx: click.Context, platform: str | None, fmt: str) -> None:
    """List stored accounts, most active first."""
    settings = _settings(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.account_list(con, platform=platform)
    render(rows, fmt, tz=settings.timezone)


@cli.command()
@format_option
@click.pass_context
@_handle_errors
def sources(ctx: click.Context, fmt: str) -> None:
    """Collection health: each source's last run, what it found, and errors."""
    settings = _settings(ctx)
    with store.reading(settings.db_path) as con:
        rows = queries.source_health(con, store.now_utc())
    render(rows, fmt, tz=settings.timezone)


def main() -> None:
    cli(prog_name="peerdesk")


if __name__ == "__main__":
    main()
