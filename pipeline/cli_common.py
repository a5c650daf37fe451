"""What every peerdesk command module shares: exit statuses, error translation, common options.

Command groups live in their own modules (``cli_follows``, ``cli_summary``,
``cli_stream``) and must not import :mod:`pipeline.cli`, which registers them;
they all come here instead, so a failure reads and exits the same everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from pipeline import store
from pipeline.config import ConfigError, Settings
from pipeline.config import parse_duration as config_duration
from pipeline.output import FORMATS


class Failed(click.ClickException):
    """The work could not be done: one line on stderr, exit status 1."""

    exit_code = 1


class BadConfig(click.ClickException):
    """Configuration or usage problems: one line on stderr, exit status 2."""

    exit_code = 2


def settings_of(ctx: click.Context) -> Settings:
    """The settings the root group loads lazily (so `--help` works with a broken file)."""
    return ctx.find_root().obj["settings"]()


def handle_errors(*failures: type[BaseException], usage: tuple[type[BaseException], ...] = ()
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn library errors into one-line CLI errors: ``usage`` ones exit 2, ``failures`` exit 1."""
    usage_errors = (ConfigError, *usage)
    failed_errors = (store.DatabaseBusy, store.NoDatabase, *failures)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except usage_errors as exc:
                raise BadConfig(str(exc)) from None
            except failed_errors as exc:
                raise Failed(str(exc)) from None
        return wrapper

    return decorate


def parse_duration(text: str, option: str | None = None) -> timedelta:
    """'15m', '2h', '14d', '90s' -> timedelta, or a usage error naming ``option`` (parsed in a command's
    body, click cannot tell which option the text came from)."""
    try:
        return config_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def parse_since(text: str, now: datetime, option: str | None = "--since") -> datetime:
    """A duration back from now ('14d') or a date/time ('2026-11-01')."""
    try:
        return now - parse_duration(text)
    except click.BadParameter:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (14d) nor a date (2026-11-01)",
                                 param_hint=option) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_as_of(text: str | None) -> datetime:
    """``--as-of``: an ISO date or time (UTC when no zone is given), or now."""
    if not text:
        return store.now_utc()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or time", param_hint="--as-of") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="How to print the rows.")(func)
