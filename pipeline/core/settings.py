"""What peerdesk can be told, and what it assumes when it is not: every setting, typed, with its default.

This is the one place defaults live. :mod:`pipeline.core.config` reads ``peerdesk.toml`` into these frozen
dataclasses and falls back to the values written here; everything else receives a :class:`Settings`
explicitly, so tests build one in a line and two configurations can live in one process. ``DEFAULT_TOML``
(what ``peerdesk init`` writes) spells the same defaults out for people, and a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

DEFAULT_TAGS = ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians")
DEFAULT_INSTANCES = ("glammr.us", "mastodon.social", "hcommons.social", "code4lib.social")
DEFAULT_ALERT_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class MastodonSettings:
    instances: tuple[str, ...] = tuple(f"https://{host}" for host in DEFAULT_INSTANCES)  # normalised base URLs
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
