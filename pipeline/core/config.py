"""The one place that reads ``peerdesk.toml`` and the environment.

Everything else receives a frozen :class:`Settings` explicitly: nothing reads
configuration at import time, so tests build settings in a line and two
configurations can live in one process. Secrets never come from the file; they
are looked up in the environment at the moment a collector needs them.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_TAGS = ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians")
DEFAULT_INSTANCES = ("glammr.us", "mastodon.social", "hcommons.social", "code4lib.social")
CONFIG_ENV = "PEERDESK_CONFIG"
CONFIG_NAME = "peerdesk.toml"

# Mastodon accepts letters, digits, underscores and a middle dot inside a tag.
_TAG_RE = re.compile(r"^[^\W][\w\u00b7]*$")
_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")


# Upper bounds: beyond them a value is a typo, and would overflow a timedelta or exhaust memory later.
MAX_DAYS = 36500  # a century: since_days, horizon_days and any duration
MAX_TIMEOUT = 3600  # seconds
MAX_RETRIES = 20
MAX_BUDGET = 100_000  # thread requests per cycle
MAX_IN_FLIGHT = 64  # requests at once per instance
_SECONDS_IN = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(ValueError):
    """A configuration problem, phrased as one line naming the key."""


@dataclass(frozen=True)
class MastodonSettings:
    instances: tuple[str, ...] = DEFAULT_INSTANCES  # normalised base URLs
    home: str | None = None  # the organiser's own instance, for PEERDESK_MASTODON_TOKEN
    max_in_flight: int = 2  # requests in flight per host
    fetch_from_origin: bool = True  # fetch threads from the server that published the request
    origins: tuple[tuple[str, str], ...] = ()  # host -> base URL where to reach it (tests point it at 127.0.0.1)
    lists: tuple[str, ...] = ()  # ids or titles of the home account's lists, polled like tag timelines


@dataclass(frozen=True)
class BlueskySettings:
    service: str = "https://bsky.social"
    appview: str = "https://public.api.bsky.app"
    lists: tuple[str, ...] = ()
    jetstream: str = "wss://jetstream2.us-east.bsky.network/subscribe"  # live posts without an account


@dataclass(frozen=True)
class RunSettings:
    every: timedelta = timedelta(minutes=15)  # `peerdesk run`: how often the sources are polled


@dataclass(frozen=True)
class SummarySettings:
    template: str = ""  # empty: the built-in one, in [community] language
    mentions: bool = False  # mentions notify people; by default handles are plain text
    visibility: str = "unlisted"


DEFAULT_ALERT_AFTER = timedelta(hours=24)
SMTP_PASSWORD_ENV = "PEERDESK_SMTP_PASSWORD"


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]``: when an open help request counts as overdue, and where the news goes.

    ``after`` is read even without the table: response-time targets use it. The
    SMTP password is never here; it is read from ``PEERDESK_SMTP_PASSWORD`` when sending.
    """

    enabled: bool = False  # the file has an [alerts] table: without it nothing is ever sent
    after: timedelta = DEFAULT_ALERT_AFTER
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    webhook_url: str | None = None  # may itself be a secret (Slack's carry a token): never printed

    @property
    def channels(self) -> tuple[str, ...]:
        """The configured delivery channels, in the order they are tried."""
        if not self.enabled:
            return ()
        return (("email",) if self.email_to else ()) + (("webhook",) if self.webhook_url else ())


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("data/peerdesk.duckdb")
    state_dir: Path = Path("data/state")
    community: str = "Solo librarians"
    tags: tuple[str, ...] = DEFAULT_TAGS
    language: str = "en"
    timezone: str = "UTC"
    since_days: int = 14
    thread_budget: int = 100  # thread re-check requests per cycle
    thread_horizon_days: int = 14  # stop re-checking an open request after this long
    timeout: float = 20.0
    max_retries: int = 3
    mastodon: MastodonSettings = field(default_factory=MastodonSettings)
    bluesky: BlueskySettings = field(default_factory=BlueskySettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    run: RunSettings = field(default_factory=RunSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    source_file: Path | None = None


# key -> (type, description) for every table; unknown keys are errors.
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
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


def find_config(explicit: str | os.PathLike[str] | None) -> Path | None:
    """``--config`` first, then ``PEERDESK_CONFIG``, then ``./peerdesk.toml``."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path.cwd() / CONFIG_NAME
    return local if local.exists() else None


def load_settings(path: Path | None) -> Settings:
    """Read and validate a config file; ``None`` gives the defaults."""
    if path is None:
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (run 'peerdesk init')") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except PermissionError:
        raise ConfigError(f"{path}: not allowed to read this configuration file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return parse_settings(raw, base_dir=path.resolve().parent, source=path)


def parse_settings(raw: dict, base_dir: Path, source: Path | None = None) -> Settings:
    where = str(source) if source else "config"
    _check_shape(raw, where)
    db = raw.get("database", {})
    com = raw.get("community", {})
    col = raw.get("collect", {})
    mas = raw.get("mastodon", {})
    bsky = raw.get("bluesky", {})
    thr = raw.get("threads", {})
    summ = raw.get("summary", {})
    defaults = Settings()

    def path_of(key: str, value: str | None, default: Path) -> Path:
        if value is None:
            return base_dir / default
        if not value.strip():
            raise ConfigError(f"{where}: [database] {key}: must not be empty")
        if "\0" in value:
            raise ConfigError(f"{where}: [database] {key}: {value!r} holds a NUL character")
        p = Path(value).expanduser()
        return p if p.is_absolute() else base_dir / p

    tags = tuple(_tag(t, f"{where}: [community] tags[{i}]") for i, t in enumerate(com.get("tags", DEFAULT_TAGS)))
    if not tags:
        raise ConfigError(f"{where}: [community] tags: give at least one tag")
    instances = tuple(
        base_url(v, f"{where}: [mastodon] instances[{i}]")
        for i, v in enumerate(mas.get("instances", DEFAULT_INSTANCES))
    )
    _check_distinct_servers(instances, f"{where}: [mastodon] instances")
    home = mas.get("home")
    tz = com.get("timezone", defaults.timezone)
    _check_timezone(tz, f"{where}: [community] timezone")
    return Settings(
        db_path=path_of("path", db.get("path"), defaults.db_path),
        state_dir=path_of("state_dir", db.get("state_dir"), defaults.state_dir),
        community=_nonempty(com.get("name", defaults.community), f"{where}: [community] name"),
        tags=tuple(dict.fromkeys(tags)),
        language=_language(com.get("language", defaults.language), f"{where}: [community] language"),
        timezone=tz,
        since_days=_within(col.get("since_days", defaults.since_days), 1, MAX_DAYS, f"{where}: [collect] since_days"),
        timeout=float(_within(col.get("timeout", defaults.timeout), 1, MAX_TIMEOUT, f"{where}: [collect] timeout")),
        max_retries=_within(col.get("max_retries", defaults.max_retries), 0, MAX_RETRIES,
                            f"{where}: [collect] max_retries"),
        thread_budget=_within(thr.get("budget", defaults.thread_budget), 0, MAX_BUDGET, f"{where}: [threads] budget"),
        thread_horizon_days=_within(thr.get("horizon_days", defaults.thread_horizon_days), 1, MAX_DAYS,
                                    f"{where}: [threads] horizon_days"),
        mastodon=MastodonSettings(
            instances=tuple(dict.fromkeys(instances)),
            home=base_url(home, f"{where}: [mastodon] home") if home else None,
            max_in_flight=_within(mas.get("max_in_flight", 2), 1, MAX_IN_FLIGHT, f"{where}: [mastodon] max_in_flight"),
            fetch_from_origin=mas.get("fetch_from_origin", True),
            lists=_mastodon_lists(mas.get("lists", []), bool(home), f"{where}: [mastodon] lists"),
        ),
        bluesky=BlueskySettings(
            service=base_url(bsky.get("service", "https://bsky.social"), f"{where}: [bluesky] service"),
            appview=base_url(bsky.get("appview", "https://public.api.bsky.app"), f"{where}: [bluesky] appview"),
            lists=tuple(_bluesky_list(v, f"{where}: [bluesky] lists[{i}]")
                        for i, v in enumerate(bsky.get("lists", []))),
            jetstream=_jetstream(bsky.get("jetstream", BlueskySettings.jetstream), f"{where}: [bluesky] jetstream"),
        ),
        run=RunSettings(every=_every(raw.get("run", {}).get("every", "15m"), f"{where}: [run] every")),
        summary=_summary(summ, where),
        alerts=_alerts(raw, where),
        source_file=source,
    )


def _mastodon_lists(values: list[str], has_home: bool, where: str) -> tuple[str, ...]:
    lists = tuple(dict.fromkeys(v.strip() for v in values))
    if any(not v for v in lists):
        raise ConfigError(f"{where}: a list id or title must not be empty")
    if lists and not has_home:
        raise ConfigError(f"{where}: lists are read from your own account: set [mastodon] home too")
    return lists


def _summary(raw: dict, where: str) -> SummarySettings:
    from pipeline.summary.template import check_template

    template = raw.get("template", "")
    if template:
        try:
            check_template(template)
        except ValueError as exc:
            raise ConfigError(f"{where}: [summary] template: {exc}") from None
    visibility = raw.get("visibility", "unlisted")
    if visibility not in ("public", "unlisted", "private"):
        raise ConfigError(f"{where}: [summary] visibility: {visibility!r} is not public, unlisted or private")
    return SummarySettings(template=template, mentions=raw.get("mentions", False), visibility=visibility)


# One address, no display name: nothing that could smuggle a header line or a second recipient.
_ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def _alerts(raw: dict, where: str) -> AlertSettings:
    if "alerts" not in raw:
        return AlertSettings()
    table = raw["alerts"]
    after = _duration_at_least(table.get("after", "24h"), timedelta(minutes=1), f"{where}: [alerts] after")
    email_to = tuple(_address(v, f"{where}: [alerts] email_to[{i}]") for i, v in enumerate(table.get("email_to", [])))
    email_from = table.get("email_from")
    smtp_host = table.get("smtp_host")
    if email_from is not None:
        email_from = _address(email_from, f"{where}: [alerts] email_from")
    if smtp_host is not None and not _HOST_RE.match(smtp_host.strip().lower()) and smtp_host.strip() != "localhost" \
            and not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", smtp_host.strip()):
        raise ConfigError(f"{where}: [alerts] smtp_host: {smtp_host!r} is not a host name")
    if email_to and not email_from:
        raise ConfigError(f"{where}: [alerts] email_from: required when email_to is set")
    if email_to and not smtp_host:
        raise ConfigError(f"{where}: [alerts] smtp_host: required when email_to is set")
    port = table.get("smtp_port", 587)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}: [alerts] smtp_port: must be between 1 and 65535, got {port}")
    user = table.get("smtp_user")
    if user is not None and (not user.strip() or any(c in user for c in "\r\n")):
        raise ConfigError(f"{where}: [alerts] smtp_user: must be a non-empty single line")
    webhook = table.get("webhook_url")
    if webhook is not None:
        parts = urlsplit(webhook.strip())
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            parts = parts._replace(netloc="")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # the URL itself may hold a token: name the key, not the value
            raise ConfigError(f"{where}: [alerts] webhook_url: not an http(s) URL")
        webhook = webhook.strip()
    return AlertSettings(enabled=True, after=after, email_to=tuple(dict.fromkeys(email_to)), email_from=email_from,
                         smtp_host=smtp_host.strip() if smtp_host else None, smtp_port=port,
                         smtp_starttls=table.get("smtp_starttls", True), smtp_user=user.strip() if user else None,
                         webhook_url=webhook)


def _address(value: str, where: str) -> str:
    if not _ADDRESS_RE.match(value.strip()):
        raise ConfigError(f"{where}: {value!r} is not an e-mail address like name@example.org")
    return value.strip()


def _duration_at_least(value: str, minimum: timedelta, where: str) -> timedelta:
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if duration < minimum:
        raise ConfigError(f"{where}: {value!r} is shorter than a minute")
    return duration


def smtp_password() -> str | None:
    """The SMTP password, from the environment only, read when an e-mail is sent."""
    return os.environ.get(SMTP_PASSWORD_ENV) or None


def _check_shape(raw: dict, where: str) -> None:
    for table, value in raw.items():
        if table not in _SCHEMA:
            raise ConfigError(f"{where}: [{table}]: unknown section (known: {', '.join(_SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {table}: must be a [{table}] table")
        for key, item in value.items():
            expected = _SCHEMA[table].get(key)
            if expected is None:
                known = ", ".join(_SCHEMA[table])
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


def _tag(value: str, where: str) -> str:
    tag = value.strip().removeprefix("#").lower()
    if not tag or not _TAG_RE.match(tag):
        raise ConfigError(f"{where}: {value!r} is not a hashtag (letters, digits and underscores, no spaces)")
    return tag


def base_url(value: str, where: str) -> str:
    """Accept a host name or a full http(s) base URL; return a base URL without a trailing slash."""
    text = value.strip()
    if "://" not in text:
        host = text.lower().rstrip("/")
        if not _HOST_RE.match(host):
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


def _bluesky_list(value: str, where: str) -> str:
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


def _every(value: str, where: str) -> timedelta:
    try:
        return parse_every(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _jetstream(value: str, where: str) -> str:
    parts = urlsplit(value.strip())
    path = parts.path.rstrip("/")
    if (parts.scheme not in ("ws", "wss") or not parts.hostname or parts.query or parts.fragment
            or not (path.endswith("/subscribe") or "/xrpc" in path)):
        raise ConfigError(f"{where}: {value!r} is not a ws(s):// Jetstream URL ending in /subscribe or /xrpc")
    return value.strip().rstrip("/")


def _nonempty(value: str, where: str) -> str:
    if not value.strip():
        raise ConfigError(f"{where}: must not be empty")
    return value.strip()


def _within(value: int | float, minimum: int, maximum: int, where: str) -> int | float:
    """A number in range: nan, inf and sizes no clock or queue can hold stop here, not deep in a cycle."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: must be a finite number, got {value}")
    if value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, got {value}")
    if value > maximum:
        raise ConfigError(f"{where}: must be at most {maximum}, got {value}")
    return value


def _check_distinct_servers(bases: tuple[str, ...], where: str) -> None:
    """The same server under two schemes would be polled twice and share one token name: refuse, naming both."""
    seen: dict[str, int] = {}
    for i, base in enumerate(bases):
        parts = urlsplit(base)
        key = parts.netloc + parts.path
        if key in seen and bases[seen[key]] != base:
            raise ConfigError(f"{where}[{i}]: {base!r} is the same server as [{seen[key]}] {bases[seen[key]]!r}")
        seen.setdefault(key, i)


_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


def _language(value: str, where: str) -> str:
    """A language tag such as 'en' or 'pt-BR': it is sent with every summary post, and servers refuse anything else."""
    if not _LANGUAGE_RE.match(value.strip()):
        raise ConfigError(f"{where}: {value!r} is not a language tag such as 'en' or 'pt-BR'")
    return value.strip()


def _check_timezone(name: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: {name!r} is not a time zone name such as 'Europe/Paris'") from None


def token_env_name(base: str) -> str:
    """``PEERDESK_MASTODON_TOKEN_<HOST>``: a token is only ever sent to its own instance."""
    netloc = urlsplit(base).netloc
    return "PEERDESK_MASTODON_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", netloc.upper())


def mastodon_token(settings: Settings, base: str) -> str | None:
    """The access token for one instance: the environment first, else the one ``peerdesk login`` saved.

    Every reader of a Mastodon token comes through here, so the order is the same everywhere.
    """
    from pipeline.signin.credentials import saved_mastodon_token

    token = os.environ.get(token_env_name(base))
    if not token and settings.mastodon.home == base:
        token = os.environ.get("PEERDESK_MASTODON_TOKEN")
    return token or saved_mastodon_token(settings.state_dir, base)


def bluesky_credentials(settings: Settings | None = None) -> tuple[str | None, str | None]:
    """(handle, app password) from the environment; else, given settings, the handle ``peerdesk login`` saved.

    A handle without a password means "use the saved session" (it never holds the password).
    """
    handle = os.environ.get("PEERDESK_BLUESKY_HANDLE") or None
    password = os.environ.get("PEERDESK_BLUESKY_APP_PASSWORD") or None
    if (handle and password) or settings is None:
        return handle, password
    from pipeline.signin.credentials import saved_bluesky_handle

    return saved_bluesky_handle(settings.state_dir, settings.bluesky.service), None


DEFAULT_TOML = """\
# peerdesk configuration. Every key is optional; the values below are the defaults.
# Secrets never go in this file: tokens and passwords come from the environment
# (PEERDESK_MASTODON_TOKEN_<HOST>, PEERDESK_BLUESKY_HANDLE, PEERDESK_BLUESKY_APP_PASSWORD).

[database]
# The DuckDB file, relative to this file. The collector writes it; the dashboard reads it.
path = "data/peerdesk.duckdb"
# Where peerdesk keeps its small state files (the Bluesky session, 0600).
state_dir = "data/state"

[community]
name = "Solo librarians"
# Hashtags to watch, without '#'. Case does not matter.
tags = ["sololibrarians", "sololibrarian", "onepersonlibrary", "librarians"]
# The language summaries are written in, and the time zone times are shown in.
language = "en"
timezone = "UTC"

[collect]
# How far back the first run of a source reaches (peerdesk collect --since overrides).
since_days = 14
# Seconds before a request is given up, and how often a 5xx or timeout is retried.
timeout = 20
max_retries = 3

[threads]
# Open help requests are re-checked for replies 15 minutes, 1 hour, 6 hours, 1 day,
# 3 days and 7 days after they were posted, and no more after horizon_days.
horizon_days = 14
# At most this many thread requests per collection cycle, oldest due first.
budget = 100

[mastodon]
# Instances whose hashtag timelines are polled: host names or full base URLs
# (http://127.0.0.1:8001 works too). Each sees the posts federated to it.
instances = ["glammr.us", "mastodon.social", "hcommons.social", "code4lib.social"]
# Your own instance: PEERDESK_MASTODON_TOKEN is sent to it and to no other.
# home = "glammr.us"
# Requests in flight at once per instance.
max_in_flight = 2
# Replies rarely carry the tag, so help requests' threads are fetched, from the
# server that published the request when possible (it sees the fullest thread).
fetch_from_origin = true
# Your own lists on [mastodon] home (ids or exact titles), polled like the tags: a member's request
# counts whether or not it carries a tag. Needs 'peerdesk login mastodon'.
lists = []

[bluesky]
# Your PDS, used for search when PEERDESK_BLUESKY_HANDLE and _APP_PASSWORD are set.
service = "https://bsky.social"
# Public AppView, used for list feeds without an account.
appview = "https://public.api.bsky.app"
# Curated lists whose members' posts count as community posts: AT-URIs or bsky.app links.
lists = []
# Jetstream, Bluesky's public stream, for following it live without an account (peerdesk stream / run).
jetstream = "wss://jetstream2.us-east.bsky.network/subscribe"

[run]
# How often `peerdesk run` polls every source; the Jetstream stream runs all the time.
every = "15m"

[summary]
# The weekly summary's text (peerdesk summary). Empty: the built-in one, in [community] language.
# A blank line separates paragraphs; a paragraph whose fields are all empty that week is left out.
template = ""
# Write handles as mentions (@user@domain, @handle), which notify the people named.
mentions = false
# Mastodon visibility of the summary posts: public, unlisted or private.
visibility = "unlisted"

[alerts]
# Help requests still open this long (at least 1m) are overdue: announced once on each channel
# below, and the response-time target. With no channel set, nothing is sent.
after = "24h"
# email_to = ["organiser@example.org"]
# email_from = "peerdesk@example.org"
# smtp_host = "smtp.example.org"
# smtp_port = 587
# smtp_starttls = true      # false: plain SMTP to a relay on this machine or network
# smtp_user = "peerdesk"    # the password comes from PEERDESK_SMTP_PASSWORD only
# webhook_url = "https://chat.example.org/hooks/..."
"""
