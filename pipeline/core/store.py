"""Opening the DuckDB file, and the small writes that are not ingest.

A DuckDB file admits one writer process or many readers, and a refused connect
fails at once instead of waiting; so every connect here retries briefly on a
lock error, and writers hold their connection only as long as a batch takes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.core import schema
from pipeline.core.database_file import BadDatabase, EmptyDatabase, check_contents, check_database_file

log = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = 10.0
MEMORY_LIMIT = "1GB"

# A writer's commits go to the WAL only; the file itself is rewritten only by an explicit CHECKPOINT
# (checkpoint_if_due, checkpoint). DuckDB 2.0.1 rewrites a live metadata block in place while it
# checkpoints, and a kill -9 that lands inside that write leaves a file no one can open again
# (docs/notes/duckdb-kill-on-close.md); an interrupted WAL append only loses the unfinished commit.
WRITER_CONFIG = {"checkpoint_threshold": "1TB", "auto_checkpoint_skip_wal_threshold": 1 << 50}
# Fold the WAL into the file past this size: every connect (each reader's, and each commit's, since writers
# reopen per commit) replays the whole WAL, about 0.1 s a MB here; DuckDB's own default, 16 MB, cost 1 s a connect.
WAL_LIMIT = 1024 * 1024


class DatabaseBusy(RuntimeError):
    """Another process held the file for longer than we were willing to wait."""


class NoDatabase(FileNotFoundError):
    """A reader was pointed at a file that does not exist yet."""


class DamagedDatabase(RuntimeError):
    """The file is DuckDB's but cannot be read back: ``peerdesk repair`` (pipeline.core.recover) rebuilds it."""


# What DuckDB says when the file or its WAL cannot be read back (as opposed to a file that is not DuckDB's).
_DAMAGE_MARKERS = ("Corrupt database file", "checksum", "WAL checkpoint iteration does not match")


def damage(exc: Exception, path: Path | str = "the database") -> DamagedDatabase | None:
    """``exc`` as a :class:`DamagedDatabase` when it says the file cannot be read back, else None."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not any(marker in reason for marker in _DAMAGE_MARKERS):
        return None
    return DamagedDatabase(f"{path} is damaged ({reason[:160]}); 'peerdesk repair' rebuilds it from what is readable")


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Could not set lock" in text or "Conflicting lock" in text)


def connect(path: Path | str, *, read_only: bool = False,
            wait: float = LOCK_RETRY_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process holds a conflicting lock.

    Writers also bring the schema up to date, so every command sees the shape
    it expects without a separate setup step.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise NoDatabase(f"no database at {path}: run 'peerdesk collect' or 'peerdesk demo' first")
    check_database_file(path, read_only=read_only)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config={} if read_only else WRITER_CONFIG)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise DatabaseBusy(f"{path} is locked by another peerdesk process; try again shortly") from None
                raise (damage(exc, path) or exc) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise (damage(exc, path) or exc) from None
    _check_contents(con, path, read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB would otherwise take 80% of RAM for its buffer pool; peerdesk shares the machine.
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    if not read_only:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")  # see WRITER_CONFIG
        schema.migrate(con)
    return con


def wal_path(path: Path | str) -> Path:
    return Path(f"{path}.wal")


def checkpoint_if_due(con: duckdb.DuckDBPyConnection, path: Path | str, *, force: bool = False) -> bool:
    """Fold the WAL into the file once it passes ``WAL_LIMIT`` (or now, with ``force``); True when it did.

    The only moments peerdesk rewrites the file (see ``WRITER_CONFIG``): rare, so
    a kill rarely finds one under way. Skipped, not failed, while another
    connection of this process is inside a transaction: the next call does it.
    """
    wal = wal_path(path)
    if not wal.exists() or (not force and wal.stat().st_size <= WAL_LIMIT):
        return False
    try:
        con.execute("CHECKPOINT")
    except duckdb.TransactionException as exc:
        log.debug("checkpoint postponed: %s", exc)
        return False
    return True


def checkpoint(path: Path | str, wait: float = LOCK_RETRY_SECONDS) -> None:
    """At a clean exit: leave the file whole, with no WAL beside it, for readers and for copying.

    Best effort: when another process holds the file, the WAL stays for a later writer to fold in.
    """
    if not wal_path(path).exists():
        return
    try:
        with writing(path, wait=wait) as con:
            checkpoint_if_due(con, path, force=True)
    except DatabaseBusy as exc:
        log.info("checkpoint left for later: %s", exc)


def _check_contents(con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> None:
    """Close and refuse a file that is not ours (or newer than us) before a migration could change it."""
    try:
        check_contents(con, path)
    except EmptyDatabase:
        if read_only:  # nothing to read; a writer creates the tables
            con.close()
            raise
    except BadDatabase:
        con.close()
        raise


@contextlib.contextmanager
def writing(path: Path | str, wait: float = LOCK_RETRY_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, wait=wait)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def reading(path: Path | str, wait: float = LOCK_RETRY_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=True, wait=wait)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _clock_offset() -> timedelta:
    """How far ``PEERDESK_NOW`` (an ISO time) sets this process's clock from the wall clock; zero when unset.

    It exists to replay recorded traffic as of the day it was recorded (and for
    tests that run the CLI in a subprocess): the clock still ticks from there.
    """
    text = os.environ.get("PEERDESK_NOW")
    if not text:
        return timedelta(0)
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"PEERDESK_NOW: {text!r} is not an ISO time such as 2026-11-20T12:00:00+00:00") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at - datetime.now(UTC)


_CLOCK_OFFSET: timedelta | None = None


def now_utc() -> datetime:
    """The time: the wall clock, moved by ``PEERDESK_NOW`` when that is set. Analyses take ``as_of`` instead."""
    global _CLOCK_OFFSET
    if _CLOCK_OFFSET is None:
        _CLOCK_OFFSET = _clock_offset()
    return datetime.now(UTC) + _CLOCK_OFFSET


def load_cursors(con: duckdb.DuckDBPyConnection, prefix: str = "") -> dict[str, str]:
    rows = con.execute(
        "SELECT cursor_key, position FROM cursors WHERE starts_with(cursor_key, ?)", [prefix]
    ).fetchall()
    return {k: v for k, v in rows}


SKIPPED = "skipped: "


@dataclass(frozen=True)
class Run:
    """One source's part in one cycle: a row of ``collection_runs``.

    A source that did not run (Bluesky without an account) still gets its row, with ``message``
    starting with ``SKIPPED``, so the health page can say it is not configured rather than leave it out.
    """

    source: str
    platform: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    new_posts: int
    updated_posts: int
    requests: int
    errors: int
    rate_limit_waits: int
    message: str | None


_RUN_SCHEMA = pa.schema([
    ("source", pa.string()), ("platform", pa.string()), ("started_at", pa.timestamp("us", tz="UTC")),
    ("finished_at", pa.timestamp("us", tz="UTC")), ("ok", pa.bool_()), ("new_posts", pa.int32()),
    ("updated_posts", pa.int32()), ("requests", pa.int32()), ("errors", pa.int32()),
    ("rate_limit_waits", pa.int32()), ("message", pa.string()),
])


def record_runs(con: duckdb.DuckDBPyConnection, runs: Sequence[Run]) -> None:
    """A cycle's rows in one statement: one per source, fifty sources, cost a millisecond each."""
    if not runs:
        return
    table = pa.table({name: [getattr(r, name) for r in runs] for name in _RUN_SCHEMA.names}, schema=_RUN_SCHEMA)
    columns = ", ".join(_RUN_SCHEMA.names)
    with registered(con, "batch_runs", table):
        con.execute(f"INSERT INTO collection_runs ({columns}) SELECT {columns} FROM batch_runs")


def record_run(con: duckdb.DuckDBPyConnection, **fields: Any) -> None:
    """One row of ``collection_runs`` (the fields of :class:`Run`)."""
    record_runs(con, [Run(**fields)])


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """``table`` visible to SQL as ``name`` for the block: how a batch reaches a statement in one go.

    Unregistered even when a statement fails, so the name is free for the next batch.
    """
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)


def purge_accounts(con: duckdb.DuckDBPyConnection, accounts: list[str]) -> int:
    """Remove everything stored about these accounts; returns the posts removed.

    Their posts go with their sightings, their place among the replies waiting for a
    link, and the curator's rows about them (a note may quote the post); replies by
    others stay, since those are the others' words.
    """
    if not accounts:
        return 0
    with registered(con, "purge_keys", pa.table({"account": pa.array(accounts, pa.string())})):
        removed = con.execute(
            "SELECT count(*) FROM post_store WHERE author IN (SELECT account FROM purge_keys)"
        ).fetchall()[0][0]
        for table in ("sightings", "curation", "reply_waits"):
            con.execute(
                f"DELETE FROM {table} WHERE uri IN "
                "(SELECT uri FROM post_store WHERE author IN (SELECT account FROM purge_keys))"
            )
        con.execute("DELETE FROM post_store WHERE author IN (SELECT account FROM purge_keys)")
        con.execute("DELETE FROM account_store WHERE account IN (SELECT account FROM purge_keys)")
    return int(removed)


def forgotten_accounts(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT account FROM forgotten").fetchall()}


def drop_tagged_posts(con: duckdb.DuckDBPyConnection, uris: list[str]) -> int:
    """Remove posts that were kept for their tag and no longer carry it; returns how many went.

    Such a post has left the community rather than been deleted, so nothing of
    it stays (a deleted one keeps its row). Posts kept for another reason (a list
    member's, a reply in a followed thread) stay.
    """
    if not uris:
        return 0
    with registered(con, "leaving", pa.table({"uri": pa.array(uris, pa.string())})):
        where = "uri IN (SELECT uri FROM leaving) AND via = 'tag'"
        gone = int(con.execute(f"SELECT count(*) FROM post_store WHERE {where}").fetchall()[0][0])
        for table in ("sightings", "curation", "reply_waits"):
            con.execute(f"DELETE FROM {table} WHERE uri IN (SELECT uri FROM post_store WHERE {where})")
        con.execute(f"DELETE FROM post_store WHERE {where}")
    return gone


def mark_deleted(con: duckdb.DuckDBPyConnection, uris: list[str], when: datetime) -> int:
    """A deleted post keeps its row (so it is never re-counted) but loses its words."""
    if not uris:
        return 0
    with registered(con, "gone", pa.table({"uri": pa.array(uris, pa.string())})):
        # A hidden post (see pipeline.core.ingest) is deleted too, or it would come back with its words.
        n = con.execute(
            "UPDATE post_store SET text = NULL, html = NULL, deleted_at = ? WHERE uri IN (SELECT uri FROM gone) "
            "AND (deleted_at IS NULL OR uri IN (SELECT uri FROM hidden_posts))",
            [when],
        ).fetchall()[0][0]
        con.execute("DELETE FROM hidden_posts WHERE uri IN (SELECT uri FROM gone)")
    return int(n)
