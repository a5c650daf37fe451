"""Everything the dashboard reads or writes, in one place.

The pages never open the database themselves. Each loader here is an
``st.cache_data`` function that opens a short read-only connection, asks one
question of ``pipeline.queries`` (the CLI asks the same ones) and closes it,
so the collector can take its write lock between two page views. When the
collector holds the lock for longer than a short wait, the page keeps the
last answer it had and says that it is refreshing instead of failing.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import streamlit as st

from pipeline import curation, queries, store
from pipeline.config import ConfigError, Settings, find_config, load_settings

CACHE_SECONDS = 60
READ_WAIT = 2.0  # seconds a page waits for the collector's lock before showing older figures
WRITE_WAIT = 5.0
DB_ENV = "PEERDESK_DB"
AS_OF_ENV = "PEERDESK_AS_OF"

# DuckDB refuses, inside one process, a read-only and a read-write connection to the same file at
# once; Streamlit serves each browser session on its own thread, so connections take turns.
_DB_TURN = threading.Lock()
# The last answer of each loader call, kept to show while the collector holds the lock.
_LAST_GOOD: dict[tuple, Any] = {}

T = TypeVar("T")


@dataclass(frozen=True)
class Desk:
    """What every page needs to know: which file, whose community, which clock."""

    db: str
    community: str = "Solo librarians"
    timezone: str = "UTC"
    pinned_as_of: datetime | None = None
    config_problem: str | None = None

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
                timezone=settings.timezone, pinned_as_of=pinned, config_problem=problem)


def current() -> Desk:
    """The desk ``app.py`` set up for this run."""
    return st.session_state["peerdesk_desk"]


class Unreadable(RuntimeError):
    """The file exists but is not a peerdesk database this version can read."""


def _guarded(loader: Callable[..., T], *args: Any) -> T:
    """Call a cached loader; while the collector holds the lock, fall back to its last answer.

    The fallback is keyed without the clock (always the second argument), so a page still has
    figures to show when the minute turned while the collector was writing.
    """
    key = (loader.__name__, args[0], *args[2:])
    try:
        value = loader(*args)
    except store.DatabaseBusy:
        st.session_state["peerdesk_busy"] = True
        if key in _LAST_GOOD:
            return _LAST_GOOD[key]
        raise
    except (duckdb.CatalogException, duckdb.IOException) as exc:  # not peerdesk's tables, or not DuckDB at all
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


# --- cached loaders: one query each, keyed on the file, the moment and the filters ---

@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _overview(db: str, as_of: datetime, tz: str) -> tuple[list[dict], list[dict]]:
    with _reading(db) as con:
        return queries.week_overview(con, as_of), queries.posts_per_day(con, as_of, days=14, tz=tz)


REQUEST_COLUMNS = ["created_at", "age", "status", "platform", "author", "display_name", "text", "reasons", "lang",
                   "tags", "url", "uri", "first_response_at", "response_time", "first_responder",
                   "replies_from_others", "curated"]
PEER_COLUMNS = ["account", "platform", "handle", "display_name", "url", "first_responses", "replies_to_others",
                "requests_asked", "posts", "median_response_time", "last_seen_at"]


# Long answers are cached as DataFrames: st.cache_data hands out a copy of its value on every view,
# and unpickling a few columns costs milliseconds where thousands of dicts of datetimes cost tenths.
@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _requests(db: str, as_of: datetime, status: str | None, platform: str | None, tag: str | None,
              lang: str | None, min_age: timedelta | None, max_age: timedelta | None) -> pd.DataFrame:
    with _reading(db) as con:
        rows = queries.help_requests(con, as_of, status=status, platform=platform, tag=tag, lang=lang,
                                     min_age=min_age, max_age=max_age)
    return pd.DataFrame(rows, columns=REQUEST_COLUMNS)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _response_times(db: str, as_of: datetime, weeks: int, platform: str | None
                    ) -> tuple[list[dict], list[dict], dict]:
    with _reading(db) as con:
        return (queries.response_times(con, as_of, weeks=weeks, platform=platform),
                queries.response_time_buckets(con, as_of, weeks=weeks, platform=platform),
                queries.response_summary(con, as_of, weeks=weeks, platform=platform))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _peers(db: str, as_of: datetime, since: datetime) -> pd.DataFrame:
    with _reading(db) as con:
        return pd.DataFrame(queries.peers(con, as_of, since=since), columns=PEER_COLUMNS)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _health(db: str, as_of: datetime) -> tuple[list[dict], list[dict], list[dict], dict]:
    with _reading(db) as con:
        return (queries.source_health(con, as_of), queries.source_cursor_ages(con, as_of),
                queries.cursor_ages(con, as_of), queries.totals(con))


_LOADERS = (_overview, _requests, _response_times, _peers, _health)


# --- what the pages call ---

def overview(desk: Desk) -> tuple[list[dict], list[dict]]:
    return _guarded(_overview, desk.db, desk.as_of(), desk.timezone)


def help_requests(desk: Desk, *, status: str | None = "open", platform: str | None = None, tag: str | None = None,
                  lang: str | None = None, min_age: timedelta | None = None, max_age: timedelta | None = None
                  ) -> pd.DataFrame:
    """``queries.help_requests`` as a table, one row per request, oldest first."""
    return _guarded(_requests, desk.db, desk.as_of(), status, platform, tag, lang, min_age, max_age)


def request_choices(desk: Desk, status: str | None) -> dict[str, list[str]]:
    """What the filters can offer: the platforms, tags and languages among the requests of this status.

    Read off the unfiltered list, which the page shows anyway until a filter is set, so the first
    view of the page costs one query rather than two.
    """
    rows = help_requests(desk, status=status)
    return {"platforms": sorted(set(rows["platform"])),
            "tags": sorted({t for tags in rows["tags"] for t in tags}),
            "langs": sorted({lang for lang in rows["lang"] if lang})}


def response_times(desk: Desk, *, weeks: int, platform: str | None) -> tuple[list[dict], list[dict], dict]:
    return _guarded(_response_times, desk.db, desk.as_of(), weeks, platform)


def peers(desk: Desk, *, weeks: int) -> pd.DataFrame:
    """``queries.peers`` over the last ``weeks`` ISO weeks, this one included (as ``peerdesk peers --weeks``)."""
    as_of = desk.as_of()
    return _guarded(_peers, desk.db, as_of, as_of - timedelta(weeks=weeks - 1))


def health(desk: Desk) -> tuple[list[dict], list[dict], list[dict], dict]:
    return _guarded(_health, desk.db, desk.as_of())


def forget_cached() -> None:
    """Drop every cached answer, so the next view reads the file again."""
    for loader in _LOADERS:
        loader.clear()


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
                    "reopen": "Reopened.", "request": "Marked as a help request."}[decision]


def database_exists(desk: Desk) -> bool:
    return Path(desk.db).is_file()


def is_busy_run() -> bool:
    return bool(st.session_state.get("peerdesk_busy"))


def start_run() -> None:
    st.session_state["peerdesk_busy"] = False
