"""What the weekly summary says, as facts: an ISO week's requests, answers, open queue, newcomers and helpers.

Everything here is read from the same definitions every report uses
(``help_requests_at``, ``peer_activity_at``), for weeks in UTC as ``peerdesk
response-times`` counts them, so the summary never disagrees with the other
reports. Consent is applied here, once: a person the summary may name comes
out as a :class:`~pipeline.summary.render.Person`, anyone else only as a count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from collectors.records import Account
from pipeline.core import consent
from pipeline.core.settings import Settings
from pipeline.summary.render import Person

OPEN_MAX = 5  # open requests linked, oldest first
NEWCOMERS_MAX = 10
THANKS_MAX = 3


# ---------------------------------------------------------------- weeks


@dataclass(frozen=True)
class Week:
    """An ISO week in UTC, Monday 00:00 to the next Monday 00:00, as every peerdesk report counts weeks."""

    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + timedelta(weeks=1)

    @property
    def year(self) -> int:
        return self.start.isocalendar().year

    @property
    def number(self) -> int:
        return self.start.isocalendar().week

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def previous(self) -> Week:
        return Week(self.start - timedelta(weeks=1))

    def __str__(self) -> str:
        return self.label


_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


def parse_week(text: str) -> Week:
    """``2026-W47`` (or ``2026W47``) as a :class:`Week`; ValueError with one line saying why not."""
    match = _WEEK_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an ISO week such as 2026-W47")
    try:
        monday = datetime.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"{text!r}: {match.group(1)} has no week {int(match.group(2))}") from None
    return Week(monday.replace(tzinfo=UTC))


def week_of(moment: datetime) -> Week:
    """The ISO week (UTC) a moment falls in."""
    day = moment.astimezone(UTC).date()
    monday = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=day.weekday())
    return Week(monday)


def last_complete_week(now: datetime) -> Week:
    """The week before the one ``now`` falls in: the default week to summarise."""
    return week_of(now).previous()


# ---------------------------------------------------------------- the facts


@dataclass(frozen=True)
class Waiting:
    url: str
    platform: str
    created_at: datetime
    age: timedelta


@dataclass(frozen=True)
class Named:
    """People the summary may name, in order, and how many more it counts without naming."""

    people: tuple[Person, ...] = ()
    unnamed: int = 0

    @property
    def total(self) -> int:
        return len(self.people) + self.unnamed


@dataclass(frozen=True)
class WeekFacts:
    week: Week
    as_of: datetime
    asked: int
    answered: int
    median: timedelta | None
    median_before: timedelta | None  # the week before, seen at the same distance from its end
    waiting: tuple[Waiting, ...]  # linkable open requests, oldest first, at most OPEN_MAX
    waiting_total: int  # every open request in the window, linkable or not
    newcomers: Named | None  # None: the store does not reach back before the week, so nobody can be told new
    thanks: Named


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> tuple:
    return con.execute(sql, params).fetchall()[0]


def _stats(con: duckdb.DuckDBPyConnection, week: Week, as_of: datetime) -> tuple[int, int, timedelta | None]:
    return _one(con, "SELECT count(*), count(first_response_at), median(response_time) "
                     "FROM help_requests_at($as_of) WHERE created_at >= $start AND created_at < $end",
                {"as_of": as_of, "start": week.start, "end": week.end})


def _people(con: duckdb.DuckDBPyConnection, accounts: Sequence[str]) -> dict[str, Person | None]:
    """Each account as a :class:`Person` when it may be named, else None (consent decides, here only)."""
    if not accounts:
        return {}
    rows = con.execute(
        "SELECT a.account, a.platform, a.handle, a.bot, a.discoverable, coalesce(a.labels, []), "
        "       o.account IS NOT NULL OR f.account IS NOT NULL "
        "FROM account_store a LEFT JOIN opt_outs o ON o.account = a.account "
        "LEFT JOIN forgotten f ON f.account = a.account WHERE list_contains($accounts, a.account)",
        {"accounts": list(accounts)},
    ).fetchall()
    found: dict[str, Person | None] = dict.fromkeys(accounts)
    for account, platform, handle, bot, discoverable, labels, refused in rows:
        facts = Account(key=account, platform=platform, handle=handle, bot=bool(bot), discoverable=discoverable,
                        labels=tuple(labels))
        if consent.promotable(facts) and not refused:
            found[account] = Person(account, platform, handle)
    return found


def _named(con: duckdb.DuckDBPyConnection, accounts: Sequence[str], limit: int) -> Named:
    people = _people(con, accounts)
    named = [p for p in (people[a] for a in accounts) if p is not None][:limit]
    return Named(tuple(named), len(accounts) - len(named))


_LINKABLE = re.compile(r"https?://[^\s/?#]+[^\s]*")
_LINK_MAX = 8192  # bytes: a Bluesky facet's uri (lexicon format "uri")


def _link(url: str | None, uri: str) -> str | None:
    """The post's web address if a link can hold it, else its ActivityPub/AT uri if that can, else None.

    Servers send what they like: a Bluesky PDS refuses a whole post whose link facet holds whitespace or more
    than 8 KiB, so one odd address would stop every publish run of the week at the same post.
    """
    for candidate in (url, uri):
        if (candidate and _LINKABLE.fullmatch(candidate) and not _CONTROL.search(candidate)
                and len(candidate.encode("utf-8")) <= _LINK_MAX):
            return candidate
    return None


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def week_facts(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week, as_of: datetime) -> WeekFacts:
    """Everything the summary says about ``week``, computed as of ``as_of`` (statuses, consent, open list)."""
    asked, answered, median = _stats(con, week, as_of)
    median_before = _stats(con, week.previous(), as_of - timedelta(weeks=1))[2]
    horizon = timedelta(days=settings.thread_horizon_days)
    # Older open requests are no longer re-checked, so whether they still wait is unknown.
    waiting_rows = con.execute(
        "SELECT url, uri, platform, created_at, author FROM help_requests_at($as_of) "
        "WHERE status = 'open' AND created_at < $end AND created_at >= $since ORDER BY created_at, uri",
        {"as_of": as_of, "end": week.end, "since": as_of - horizon},
    ).fetchall()
    askers = _people(con, [r[4] for r in waiting_rows])
    waiting = tuple(Waiting(link, platform, created, as_of - created)
                    for url, uri, platform, created, author in waiting_rows
                    if askers.get(author) and (link := _link(url, uri)))[:OPEN_MAX]
    earliest = _one(con, "SELECT min(created_at) FROM post_store WHERE via <> 'thread'", {})[0]
    newcomers = None
    if earliest is not None and earliest < week.start:
        rows = con.execute(
            "WITH firsts AS (SELECT author, min(created_at) AS first_at FROM post_store "  # a deleted post is gone
            "                WHERE via <> 'thread' AND deleted_at IS NULL GROUP BY author) "
            "SELECT f.author FROM firsts f JOIN account_store a ON a.account = f.author "
            "WHERE f.first_at >= $start AND f.first_at < $end AND f.first_at <= $as_of AND NOT a.bot "
            "ORDER BY f.first_at, f.author",
            {"start": week.start, "end": week.end, "as_of": as_of},
        ).fetchall()
        newcomers = _named(con, [r[0] for r in rows], NEWCOMERS_MAX)
    helpers = con.execute(
        "SELECT account FROM peer_activity_at($as_of) "
        "WHERE week_start = $start AND NOT bot AND (first_responses > 0 OR replies_to_others > 0) "
        "ORDER BY first_responses DESC, replies_to_others DESC, median_response_time NULLS LAST, account",
        {"as_of": as_of, "start": week.start},
    ).fetchall()
    return WeekFacts(week=week, as_of=as_of, asked=asked, answered=answered, median=median,
                     median_before=median_before, waiting=waiting, waiting_total=len(waiting_rows),
                     newcomers=newcomers, thanks=_named(con, [r[0] for r in helpers], THANKS_MAX))
