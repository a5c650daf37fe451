"""Everything the dashboard reads or writes, in one place.

The pages never open the database themselves. Each loader here is cached, opens
a short read-only connection, asks ``pipeline.core.queries`` (the CLI asks the same
questions) and closes it, so the collector can take its write lock between two
page views. When the collector holds the lock for longer than a short wait, the
page keeps the last answer it had and says that it is refreshing instead of failing.

Answers are cached per state of the file (``data_version``), moment (``as_of``)
and question. Working out every help request's status scans every post (about
0.4 s over a million); that is done once per state and moment and kept
(``_snapshot``), and the queue with its filters, the response-time tables and
the peers over any period are all asked of it (``queries.answering_from``), so a
filter change costs a small query rather than a rescan. A commit by the
collector or a curator's decision changes the state, and the next view reads
the file again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from pipeline.core import queries, store
from pipeline.core.config import find_config, load_settings
from pipeline.core.config_checks import ConfigError
from pipeline.core.database_file import BadDatabase
from pipeline.core.settings import DEFAULT_ALERT_AFTER, Settings
from pipeline.followlist import curation
from pipeline.waiting import suggestions

CACHE_SECONDS = 600  # how long an answer nobody asks for again is kept (a new file state is a new key anyway)
SNAPSHOTS_KEPT = 3  # help-request snapshots held at once: about 40 MB each for 100,000 requests
ANSWERS_KEPT = 64  # per loader
VERSION_HOLD = 10.0  # seconds a file state is used before a newer one is picked up
MAX_LISTED = 1000  # the most help requests the queue lists at once
READ_WAIT = 2.0  # seconds a page waits for the collector's lock before showing older figures
WRITE_WAIT = 5.0
DB_ENV = "PEERDESK_DB"
AS_OF_ENV = "PEERDESK_AS_OF"

T = TypeVar("T")
Version = tuple[int, ...]

# DuckDB refuses, inside one process, a read-only and a read-write connection to the same file at
# once; Streamlit serves each browser session on its own thread, so connections take turns.
_DB_TURN = threading.Lock()
# The last answer of each loader call, kept to show while the collector holds the lock.
_LAST_GOOD: dict[tuple, Any] = {}
# Per file, the state in use and when it was picked up (time.monotonic()); see data_version.
_VERSIONS: dict[str, tuple[Version, float]] = {}
_VERSIONS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Desk:
    """What every page needs to know: which file, whose community, which clock."""

    db: str
    community: str = "Solo librarians"
    timezone: str = "UTC"
    pinned_as_of: datetime | None = None
    config_problem: str | None = None
    alert_after: timedelta = DEFAULT_ALERT_AFTER  # [alerts] after: when an open request counts as overdue
    home: str | None = None  # [mastodon] home: the organiser's own instance, where "answer" links open posts

    def as_of(self) -> datetime:
        """The moment figures are computed for: pinned, or the end of the current minute.

        Rounding lets a minute's page views share cached answers; rounding *up* keeps a decision
        just recorded (stamped with the real time) inside the view that follows it.
        """
        if self.pinned_as_of is not None:
            return self.pinned_as_of
        return store.now_utc().replace(second=0, microsecond=0) + timedelta(minutes=1)


def desk_from(argv: Sequence[str], environ: Mapping[str, str]) -> Desk:
    """``--db`` after ``--`` on the streamlit command line, else ``$PEERDESK_DB``, else the configuration."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    parser.add_argument("--as-of", dest="as_of")
    args, _ = parser.parse_known_args(list(argv))
    problem = None
    try:
        settings = load_settings(find_config(None))
    except ConfigError as exc:
        settings, problem = Settings(), str(exc)
    db = args.db or environ.get(DB_ENV) or str(settings.db_path)
    pin_text = args.as_of or environ.get(AS_OF_ENV)
    pinned = None
    if pin_text:
        try:
            pinned = datetime.fromisoformat(pin_text)
            pinned = pinned if pinned.tzinfo else pinned.replace(tzinfo=UTC)
        except ValueError:
            problem = f"--as-of {pin_text!r} is not an ISO date or time; showing now"
    return Desk(db=str(Path(db).expanduser().resolve()), community=settings.community,
                timezone=settings.timezone, pinned_as_of=pinned, config_problem=problem,
                alert_after=settings.alerts.after, home=settings.mastodon.home)


def current() -> Desk:
    """The desk ``app.py`` set up for this run."""
    return st.session_state["peerdesk_desk"]


class Unreadable(RuntimeError):
    """The file exists but is not a peerdesk database this version can read."""


def data_version(db: str) -> Version:
    """The state of the file: size and modification time of it and of its write-ahead log.

    Every commit (the collector's, a curator's here or through ``peerdesk mark``) changes it, so
    answers keyed on it are read again after a change, not after a timeout. A live collector
    commits every few seconds, so a new state is only picked up once the one in use is
    ``VERSION_HOLD`` seconds old: figures lag the file by at most that, and a filter change does
    not pay for a fresh scan each time.
    """
    now = time.monotonic()
    with _VERSIONS_LOCK:
        held = _VERSIONS.get(db)
        if held is not None and now - held[1] < VERSION_HOLD:
            return held[0]
        stamp = _file_stamp(db)
        if held is None or held[0] != stamp:
            _VERSIONS[db] = (stamp, now)
        return stamp


def _file_stamp(db: str) -> Version:
    stamp: list[int] = []
    for path in (db, db + ".wal"):
        try:
            info = os.stat(path)
        except OSError:
            stamp += [-1, -1]
        else:
            stamp += [info.st_mtime_ns, info.st_size]
    return tuple(stamp)


def _ask(loader: Callable[..., T], desk: Desk, *question: Any) -> T:
    """A cached loader's answer for the file's current state and moment.

    While the collector holds the lock, the last answer to the same question is shown instead;
    that fallback is keyed without the state and the clock, so a page still has figures when the
    file changed or the minute turned while the collector was writing.
    """
    key = (loader.__name__, desk.db, *question)
    try:
        value = loader(desk.db, data_version(desk.db), desk.as_of(), *question)
    except store.DatabaseBusy:
        st.session_state["peerdesk_busy"] = True
        if key in _LAST_GOOD:
            return _LAST_GOOD[key]
        raise
    except (duckdb.CatalogException, duckdb.IOException, BadDatabase) as exc:  # not peerdesk's, or not DuckDB
        raise Unreadable(str(exc).splitlines()[0]) from None
    _LAST_GOOD[key] = value
    return value


@contextlib.contextmanager
def _reading(db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    with _DB_TURN, store.reading(db, wait=READ_WAIT) as con:
        yield con


@contextlib.contextmanager
def _writing(db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    with _DB_TURN, store.writing(db, wait=WRITE_WAIT) as con:
        yield con


# --- cached loaders: keyed on the file, its state, the moment and the question ---
# ``version`` is not read inside a loader: it is there so that a new state of the file is a new key.

# An Arrow table is immutable, so it is shared as it is (st.cache_resource) rather than copied
# into every view (st.cache_data would unpickle 40 MB each time).
@st.cache_resource(ttl=CACHE_SECONDS, max_entries=SNAPSHOTS_KEPT, show_spinner=False)
def _snapshot(db: str, version: Version, as_of: datetime) -> pa.Table:
    with _reading(db) as con:
        return queries.requests_snapshot(con, as_of)


@contextlib.contextmanager
def _asking(db: str, version: Version, as_of: datetime) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read connection on which the help requests of this state and moment come from the snapshot."""
    snapshot = _snapshot(db, version, as_of)  # taken before _reading: the connection lock is not re-entrant
    with _reading(db) as con, queries.answering_from(con, snapshot, as_of):
        yield con


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _overview(db: str, version: Version, as_of: datetime, tz: str) -> tuple[list[dict], list[dict]]:
    # Not from the snapshot: last week is looked at as it stood a week ago, another moment.
    with _reading(db) as con:
        return queries.week_overview(con, as_of), queries.posts_per_day(con, as_of, days=14, tz=tz)


REQUEST_COLUMNS = ["created_at", "age", "status", "platform", "author", "display_name", "text", "reasons", "lang",
                   "tags", "url", "uri", "first_response_at", "response_time", "first_responder",
                   "replies_from_others", "curated"]


@dataclass(frozen=True)
class RequestList:
    """Help requests matching the filters: how many, and the oldest ``MAX_LISTED`` of them."""

    total: int
    rows: pd.DataFrame


# Long answers are cached as DataFrames: st.cache_data hands out a copy of its value on every view,
# and unpickling a few columns costs milliseconds where thousands of dicts of datetimes cost tenths.
@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _requests(db: str, version: Version, as_of: datetime, status: str | None, platform: str | None,
              tag: str | None, lang: str | None, min_age: timedelta | None, max_age: timedelta | None
              ) -> RequestList:
    filters = {"status": status, "platform": platform, "tag": tag, "lang": lang, "min_age": min_age,
               "max_age": max_age}
    with _asking(db, version, as_of) as con:
        total = queries.count_help_requests(con, as_of, **filters)
        rows = queries.help_requests(con, as_of, **filters, limit=MAX_LISTED)
    return RequestList(total, pd.DataFrame(rows, columns=REQUEST_COLUMNS))


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _request_choices(db: str, version: Version, as_of: datetime, status: str | None) -> dict[str, list[str]]:
    with _asking(db, version, as_of) as con:
        return queries.request_filter_choices(con, as_of, status=status)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _response_times(db: str, version: Version, as_of: datetime, weeks: int, platform: str | None,
                    target: timedelta = DEFAULT_ALERT_AFTER) -> tuple[list[dict], list[dict], dict]:
    with _asking(db, version, as_of) as con:
        return (queries.response_times(con, as_of, weeks=weeks, platform=platform),
                queries.response_time_buckets(con, as_of, weeks=weeks, platform=platform),
                queries.response_summary(con, as_of, weeks=weeks, platform=platform, target=target))


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _peers(db: str, version: Version, as_of: datetime, weeks: int) -> pd.DataFrame:
    with _asking(db, version, as_of) as con:
        return queries.peers_frame(con, as_of, since=as_of - timedelta(weeks=weeks - 1))


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _health(db: str, version: Version, as_of: datetime) -> tuple[list[dict], list[dict], list[dict], dict]:
    with _reading(db) as con:
        return (queries.source_health(con, as_of), queries.source_cursor_ages(con, as_of),
                queries.cursor_ages(con, as_of), queries.totals(con))


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _suggestions(db: str, version: Version, as_of: datetime) -> dict[str, dict[str, list[dict]]]:
    with _asking(db, version, as_of) as con:
        peers, similar = suggestions.peers_and_similar(con, as_of)
    return {uri: {"peers": peers.get(uri, []), "asked_before": similar.get(uri, [])} for uri in {*peers, *similar}}


@st.cache_data(ttl=CACHE_SECONDS, max_entries=ANSWERS_KEPT, show_spinner=False)
def _overdue(db: str, version: Version, as_of: datetime, after: timedelta) -> int:
    with _asking(db, version, as_of) as con:
        return queries.count_overdue(con, as_of, after=after)


_LOADERS = (_snapshot, _overview, _requests, _request_choices, _response_times, _peers, _health, _suggestions,
            _overdue)


# --- what the pages call ---

def overview(desk: Desk) -> tuple[list[dict], list[dict]]:
    return _ask(_overview, desk, desk.timezone)


def help_requests(desk: Desk, *, status: str | None = "open", platform: str | None = None, tag: str | None = None,
                  lang: str | None = None, min_age: timedelta | None = None, max_age: timedelta | None = None
                  ) -> RequestList:
    """``queries.help_requests``, oldest first: the count, and the first ``MAX_LISTED`` rows as a table."""
    return _ask(_requests, desk, status, platform, tag, lang, min_age, max_age)


def request_choices(desk: Desk, status: str | None) -> dict[str, list[str]]:
    """What the filters can offer: the platforms, tags and languages among the requests of this status."""
    return _ask(_request_choices, desk, status)


def response_times(desk: Desk, *, weeks: int, platform: str | None) -> tuple[list[dict], list[dict], dict]:
    return _ask(_response_times, desk, weeks, platform, desk.alert_after)


def peers(desk: Desk, *, weeks: int) -> pd.DataFrame:
    """``queries.peers`` over the last ``weeks`` ISO weeks, this one included (as ``peerdesk peers --weeks``)."""
    return _ask(_peers, desk, weeks)


def health(desk: Desk) -> tuple[list[dict], list[dict], list[dict], dict]:
    return _ask(_health, desk)


def suggestions_for(desk: Desk) -> dict[str, dict[str, list[dict]]]:
    """Per open request: who could answer (``peers``) and earlier similar requests (``asked_before``)."""
    return _ask(_suggestions, desk)


def overdue_count(desk: Desk) -> int:
    """Open requests waiting longer than ``[alerts] after``."""
    return _ask(_overdue, desk, desk.alert_after)


def forget_cached() -> None:
    """Drop every cached answer and the file state in use, so the next view reads the file again."""
    for loader in _LOADERS:
        loader.clear()
    with _VERSIONS_LOCK:
        _VERSIONS.clear()


def mark(desk: Desk, uri: str, decision: str) -> str:
    """Record a curator's decision the way ``peerdesk mark`` does; returns a sentence for the page."""
    try:
        with _writing(desk.db) as con:
            curation.mark(con, uri, decision)
    except store.DatabaseBusy:
        return "error:The collector is saving posts right now, so the change was not saved. Try again in a moment."
    except curation.UnknownPost:
        return "error:That post is no longer stored (it may have been deleted), so nothing was changed."
    forget_cached()
    return "ok:" + {"resolved": "Marked resolved.", "not-request": "Marked as not a help request.",
                    "reopen": "Reopened.", "request": "Marked as a help request.",
                    "rules": "Left to the rules again."}[decision]


def database_exists(desk: Desk) -> bool:
    return Path(desk.db).is_file()


def is_busy_run() -> bool:
    return bool(st.session_state.get("peerdesk_busy"))


def start_run() -> None:
    st.session_state["peerdesk_busy"] = False
