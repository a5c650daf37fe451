"""Options several peerdesk commands share, each written once with the one parser for its kind of value.

A command says ``@platform_option()`` instead of repeating ``click.Choice(["mastodon", "bluesky"])``: the
choice comes from :data:`pipeline.platforms.NAMES`, so a new platform shows up in every command at once, and
``--as-of`` means the same, parsed by the same function, wherever it is given (issue #15, "knowledge written
once"). Values reach the command parsed (``--as-of`` as an aware datetime, ``--every`` as a timedelta), and a bad
one is a usage error naming the option, exit status 2. The CLI's own defaults live here too, next to the option
that offers them; configuration defaults stay in :mod:`pipeline.core.config`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from pipeline.core import store
from pipeline.core.config import CONFIG_ENV, CONFIG_NAME
from pipeline.core.config_checks import DurationTooLong
from pipeline.core.config_checks import parse_duration as config_duration
from pipeline.core.config_checks import parse_every as config_every
from pipeline.output.formats import FORMATS
from pipeline.platforms import NAMES

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

# The CLI's own defaults (configuration defaults live in pipeline.core.config).
DASHBOARD_PORT = 8501  # Streamlit's own default: what people already know to type
POSTS_LIMIT = 20
CANDIDATE_WEEKS = 12  # activity that ranks a follow-list candidate
STATUS_EVERY = "15m"  # `peerdesk stream`: how often a status line is printed

# Beyond these a number is a typo, and dates or queries would overflow.
MAX_WEEKS = 1040  # twenty years
MIN_YEAR, MAX_YEAR = 1970, 2999

PLATFORM = click.Choice(NAMES)
PORT = click.IntRange(1, 65535)
PLATFORM_LIST = f"{', '.join(NAMES)} or {'both' if len(NAMES) == 2 else 'all'} ({','.join(NAMES)})"
WEEKS_BACK = "How many ISO weeks back, this one included."


# ---------------------------------------------------------------- parsers, one per kind of value


def parse_duration(text: str, hint: str | None = None) -> timedelta:
    """'15m', '2h', '14d', '90s' -> timedelta, or a usage error naming the option ``hint``."""
    try:
        return config_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def parse_every(text: str, hint: str = "--every") -> timedelta:
    """A polling interval: at least a minute, like ``[run] every``, so a typo cannot poll servers back to back."""
    try:
        return config_every(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def parse_since(text: str, now: datetime) -> datetime:
    """A duration back from now ('14d') or a date/time ('2026-11-01')."""
    try:
        return now - config_duration(text)
    except DurationTooLong as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    except ValueError:
        pass  # not a duration: perhaps a date
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (14d) nor a date (2026-11-01)",
                                 param_hint="--since") from None
    return _in_range(value if value.tzinfo else value.replace(tzinfo=UTC), text, "--since")


def parse_as_of(text: str | None) -> datetime:
    """``--as-of``: an ISO date or time (UTC when no zone is given), or now."""
    if not text:
        return store.now_utc()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or time", param_hint="--as-of") from None
    return _in_range(value if value.tzinfo else value.replace(tzinfo=UTC), text, "--as-of")


def parse_platforms(text: str, hint: str) -> list[str]:
    """A comma-separated choice of platforms ('mastodon,bluesky'), each once, in the order given."""
    wanted = [p.strip().lower() for p in text.split(",") if p.strip()]
    if not wanted or any(p not in NAMES for p in wanted):
        raise click.BadParameter(f"{text!r}: name {PLATFORM_LIST}", param_hint=hint)
    return list(dict.fromkeys(wanted))


def duration_text(value: timedelta) -> str:
    """A timedelta as a person types it (``15m``), for help texts that show a default kept as a timedelta."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _in_range(value: datetime, text: str, hint: str) -> datetime:
    """Dates a week or a century can be added to and taken from without overflowing."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise click.BadParameter(f"{text!r} is not between {MIN_YEAR} and {MAX_YEAR}", param_hint=hint)
    return value


# ---------------------------------------------------------------- the options


def _remember_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().ensure_object(dict)["config_path"] = value


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--config FILE``, on the group and on every command: the last one given wins (``peerdesk collect --config``).

    The settings are read from it only when a command needs them, so ``--help`` works with a broken file.
    """
    return click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                        expose_value=False, callback=_remember_config,
                        help=f"Configuration file (default: ${CONFIG_ENV}, then ./{CONFIG_NAME}).")(func)


def as_of_option(help: str = "Compute as of this date/time (ISO 8601; default now).") -> Decorator:
    """``--as-of WHEN``, given to the command as ``as_of``: an aware datetime, now when not given."""
    return click.option("--as-of", "as_of", default=None, metavar="WHEN", help=help,
                        callback=lambda ctx, param, value: parse_as_of(value))


def platform_option() -> Decorator:
    """``--platform``: only one platform's rows (every platform when not given)."""
    return click.option("--platform", type=PLATFORM, default=None)


def format_option(choices: Sequence[str] = FORMATS, default: str = "table", required: bool = False,
                  help: str = "How to print the rows.") -> Decorator:
    """``--format``, given to the command as ``fmt``: by default the row formats of :mod:`pipeline.output.formats`."""
    if required:  # no default at all: click 8.3+ takes an explicit None as a value given
        return click.option("--format", "fmt", type=click.Choice(choices), required=True, help=help)
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help=help)


def weeks_option(default: int, help: str = WEEKS_BACK) -> Decorator:
    """``--weeks N``: how far back a report reaches."""
    return click.option("--weeks", type=click.IntRange(1, MAX_WEEKS), default=default, show_default=True, help=help)


def since_option(help: str) -> Decorator:
    """``--since WHEN`` as text: it is read against the time a run starts (:func:`parse_since`), not at parsing."""
    return click.option("--since", "since_text", default=None, metavar="WHEN", help=help)


def every_option(help: str) -> Decorator:
    """``--every DURATION``, given to the command as ``every``: a timedelta of a minute or more, or None."""
    return click.option("--every", "every", default=None, metavar="DURATION", help=help,
                        callback=lambda ctx, param, value: parse_every(value) if value else None)


def db_option(help: str) -> Decorator:
    """``--db FILE``, given to the command as ``db_path``: a Path, or None for the command's own default."""
    return click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None, help=help,
                        callback=lambda ctx, param, value: Path(value) if value else None)


def port_option(help: str) -> Decorator:
    """``--port``: where the dashboard listens."""
    return click.option("--port", type=PORT, default=DASHBOARD_PORT, show_default=True, help=help)
