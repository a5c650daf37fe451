"""The platforms as the collection cycle sees them: one source module each, in one registry keyed by name.

A platform is a collector package (``collectors/<platform>/``) plus one source
module here that turns the settings into its clients and its jobs. The cycle
knows nothing else about a platform: it asks each one for its polls, commits
their pages, then asks each for the re-checks now due (threads, and whatever
else the platform verifies after a poll), and records the sources it skipped.
Adding a platform adds an entry to :data:`SOURCES`; a test checks that every
name in :data:`pipeline.platforms.NAMES` has one.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import duckdb

from collectors.records import Page, SourceReport
from pipeline.collection.bluesky_source import BlueskyCycle
from pipeline.collection.mastodon_source import MastodonCycle
from pipeline.collection.threads import DueThread
from pipeline.core.settings import Settings
from pipeline.platforms import NAMES

Job = tuple[SourceReport, AsyncIterator[Page]]


class PlatformCycle(Protocol):
    """One platform's part of one collection cycle (built afresh for each cycle)."""

    platform: str

    def polls(self, cursors: Mapping[str, str]) -> list[Job]:
        """The sources to poll now, each with its own report; none when the platform is not configured."""
        ...

    def skipped(self) -> list[SourceReport]:
        """Sources that did not run, with a note saying why: recorded so the health page can say so."""
        ...

    def rechecks(self, con: duckdb.DuckDBPyConnection, due: Sequence[DueThread], now: datetime) -> list[Job]:
        """After the polls: this platform's due threads (of ``due``, all platforms') and other re-checks."""
        ...


class StartCycle(Protocol):
    def __call__(self, settings: Settings, since: datetime, clients: contextlib.AsyncExitStack, *,
                 backoff: float, max_rate_wait: float) -> PlatformCycle: ...


SOURCES: dict[str, StartCycle] = {cycle.platform: cycle for cycle in (MastodonCycle, BlueskyCycle)}


def start(settings: Settings, since: datetime, clients: contextlib.AsyncExitStack, *, backoff: float,
          max_rate_wait: float) -> list[PlatformCycle]:
    """Every platform's part of a cycle, in the order of :data:`pipeline.platforms.NAMES`."""
    return [SOURCES[name](settings, since, clients, backoff=backoff, max_rate_wait=max_rate_wait) for name in NAMES]

