"""The checks a configuration value passes, each failing with one line that names the key.

Every message has the shape ``<file>: [section] key: <what is wrong>``, so a typo in ``peerdesk.toml`` is
found from the message alone (tests/test_config.py and tests/test_bad_input.py pin the wording). The bounds
are here too: beyond them a value is a typo, and would overflow a timedelta or exhaust memory later.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A configuration problem, phrased as one line naming the key."""


# Mastodon accepts letters, digits, underscores and a middle dot inside a tag.
_TAG_RE = re.compile(r"^[^\W][\w\u00b7]*$")
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")


# Upper bounds: beyond them a value is a typo, and would overflow a timedelta or exhaust memory later.
MAX_DAYS = 36500  # a century: since_days, horizon_days and any duration
MAX_TIMEOUT = 3600  # seconds
MAX_RETRIES = 20
MAX_BUDGET = 100_000  # thread requests per cycle
MAX_IN_FLIGHT = 64  # requests at once per instance
_SECONDS_IN = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# key -> (type, description) for every table; unknown keys are errors.
SECTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "database": {"path": str, "state_dir": str},
    "community": {"name": str, "tags": list, "language": str, "timezone": str},
    "collect": {"since_days": int, "timeout": (int, float), "max_retries": int},
    "threads": {"budget": int, "horizon_days": int},
    "mastodon": {"instances": list, "home": str, "max_in_flight": int, "fetch_from_origin": bool, "lists": list},
    "bluesky": {"service": str, "appview": str, "lists": list, "jetstream": str},
    "run": {"every": str},
    "summary": {"template": str, "mentions": bool, "visibility": str},
    "alerts": {"after": str, "email_to": list, "email_from": str, "smtp_host": str, "smtp_port": int,
               "smtp_starttls": bool, "smtp_user": str, "webhook_url": str},
}


# One address, no display name: nothing that could smuggle a header line or a second recipient.
ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def check_address(value: str, where: str) -> str:
    if not ADDRESS_RE.match(value.strip()):
        raise ConfigError(f"{where}: {value!r} is not an e-mail address like name@example.org")
    return value.strip()


def check_duration_at_least(value: str, minimum: timedelta, where: str) -> timedelta:
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if duration < minimum:
        raise ConfigError(f"{where}: {value!r} is shorter than a minute")
    return duration


def check_shape(raw: dict, where: str) -> None:
    for table, value in raw.items():
        if table not in SECTIONS:
            raise ConfigError(f"{where}: [{table}]: unknown section (known: {', '.join(SECTIONS)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {table}: must be a [{table}] table")
        for key, item in value.items():
            expected = SECTIONS[table].get(key)
            if expected is None:
                known = ", ".join(SECTIONS[table])
                raise ConfigError(f"{where}: [{table}] {key}: unknown key (known: {known})")
            if (isinstance(item, bool) and expected is not bool) or not isinstance(item, expected):
                names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
                got = _toml_type(type(item).__name__)
                raise ConfigError(f"{where}: [{table}] {key}: expected {_toml_type(names)}, got {got}")
            if isinstance(item, list):
                for i, element in enumerate(item):
                    if not isinstance(element, str):
                        got = _toml_type(type(element).__name__)
                        raise ConfigError(f"{where}: [{table}] {key}[{i}]: expected a string, got {got}")


def _toml_type(name: str) -> str:
    return {"str": "a string", "int": "an integer", "float": "a number", "list": "an array", "dict": "a table",
            "bool": "true/false", "int or float": "a number"}.get(name, name)


def check_tag(value: str, where: str) -> str:
    tag = value.strip().removeprefix("#").lower()
    if not tag or not _TAG_RE.match(tag):
        raise ConfigError(f"{where}: {value!r} is not a hashtag (letters, digits and underscores, no spaces)")
    return tag


def base_url(value: str, where: str) -> str:
    """Accept a host name or a full http(s) base URL; return a base URL without a trailing slash."""
    text = value.strip()
    if "://" not in text:
        host = text.lower().rstrip("/")
        if not HOST_RE.match(host):
            raise ConfigError(f"{where}: {value!r} is not a host name or an http(s) URL")
        return f"https://{host}"
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed IPv6 bracket: "http://[::1"
        raise ConfigError(f"{where}: {value!r} is not a host name or an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {value!r} is not a host name or an http(s) URL")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"{where}: {value!r} has a malformed port") from None
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: {value!r}: a base URL takes no query or fragment")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


_LIST_URI = re.compile(r"^at://[^/\s]+/app\.bsky\.graph\.list/[A-Za-z0-9._:~-]+$")
_LIST_LINK = re.compile(r"^https://bsky\.app/profile/[^/\s]+/lists/[A-Za-z0-9._:~-]+/?$")


def check_bluesky_list(value: str, where: str) -> str:
    text = value.strip()
    if not (_LIST_URI.match(text) or _LIST_LINK.match(text)):
        raise ConfigError(
            f"{where}: {value!r} is neither a list AT-URI (at://did/app.bsky.graph.list/rkey) "
            "nor a https://bsky.app/profile/.../lists/... link"
        )
    return text.rstrip("/")


class DurationTooLong(ValueError):
    """A well-formed duration beyond any sensible window (and beyond what dates can subtract)."""


def parse_duration(text: str) -> timedelta:
    """'15m', '2h', '14d', '90s', '1w' -> timedelta; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d{1,15})\s*([smhdw])\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 2h or 14d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    number = int(match.group(1))
    # Compared before building the timedelta, which overflows long before the number does.
    if number * _SECONDS_IN[match.group(2)] > MAX_DAYS * 86400:
        raise DurationTooLong(f"{text!r} is longer than {MAX_DAYS // 365} years")
    return timedelta(**{unit: number})


def parse_every(text: str) -> timedelta:
    """A polling interval (``[run] every``, ``--every``): a duration of at least a minute, so servers get a rest."""
    every = parse_duration(text)
    if every < timedelta(minutes=1):
        raise ValueError(f"{text!r} is shorter than a minute")
    return every


def check_every(value: str, where: str) -> timedelta:
    try:
        return parse_every(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def check_jetstream(value: str, where: str) -> str:
    parts = urlsplit(value.strip())
    path = parts.path.rstrip("/")
    if (parts.scheme not in ("ws", "wss") or not parts.hostname or parts.query or parts.fragment
            or not (path.endswith("/subscribe") or "/xrpc" in path)):
        raise ConfigError(f"{where}: {value!r} is not a ws(s):// Jetstream URL ending in /subscribe or /xrpc")
    return value.strip().rstrip("/")


def check_nonempty(value: str, where: str) -> str:
    if not value.strip():
        raise ConfigError(f"{where}: must not be empty")
    return value.strip()


def check_within(value: int | float, minimum: int, maximum: int, where: str) -> int | float:
    """A number in range: nan, inf and sizes no clock or queue can hold stop here, not deep in a cycle."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: must be a finite number, got {value}")
    if value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, got {value}")
    if value > maximum:
        raise ConfigError(f"{where}: must be at most {maximum}, got {value}")
    return value


def check_distinct_servers(bases: tuple[str, ...], where: str) -> None:
    """The same server under two schemes would be polled twice and share one token name: refuse, naming both."""
    seen: dict[str, int] = {}
    for i, base in enumerate(bases):
        parts = urlsplit(base)
        key = parts.netloc + parts.path
        if key in seen and bases[seen[key]] != base:
            raise ConfigError(f"{where}[{i}]: {base!r} is the same server as [{seen[key]}] {bases[seen[key]]!r}")
        seen.setdefault(key, i)


_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


def check_language(value: str, where: str) -> str:
    """A language tag such as 'en' or 'pt-BR': it is sent with every summary post, and servers refuse anything else."""
    if not _LANGUAGE_RE.match(value.strip()):
        raise ConfigError(f"{where}: {value!r} is not a language tag such as 'en' or 'pt-BR'")
    return value.strip()


def check_timezone(name: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: {name!r} is not a time zone name such as 'Europe/Paris'") from None


def check_smtp_host(value: str, where: str) -> str:
    """A host name, ``localhost`` or an IPv4 address: where the alert e-mails are handed over."""
    host = value.strip()
    if not HOST_RE.match(host.lower()) and host != "localhost" and not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
        raise ConfigError(f"{where}: {value!r} is not a host name")
    return host


def check_webhook_url(value: str, where: str) -> str:
    """An http(s) URL; the message names the key, never the value, since the URL itself may hold a token."""
    parts = urlsplit(value.strip())
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: not an http(s) URL")
    return value.strip()


def check_visibility(value: str, where: str) -> str:
    if value not in ("public", "unlisted", "private"):
        raise ConfigError(f"{where}: {value!r} is not public, unlisted or private")
    return value
