"""``peerdesk repair``: rebuild a damaged database file from everything in it that still reads.

Why a file can be damaged at all, and the one kind of damage this can undo
exactly, is in docs/notes/duckdb-kill-on-close.md: a kill -9 landing inside
DuckDB's in-place rewrite of a metadata block leaves that block half new and
half old, so its checksum no longer matches, although every part of it that the
file's header still points to is intact. Re-sealing that block's checksum (on a
copy, never on the original) makes the file readable as it was before the
checkpoint started, and its WAL then replays the commits that followed.

Whatever is readable, by that route or directly, is copied table by table into
a fresh file with the current schema. The damaged file and its WAL are kept
beside it as ``<name>.damaged-<time>`` and nothing is deleted.
"""

from __future__ import annotations

import array
import fcntl
import re
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.core import store
from pipeline.core.ingest.replies import refill_reply_waits

# DuckDB's block checksum (src/common/checksum.cpp): each 8-byte word times this constant, xor-ed into 5381.
_CHECKSUM_MULTIPLIER = 0xBF58476D1CE4E5B9
_WORD = (1 << 64) - 1
_HEADERS = 3 * 4096  # the main header and the two database headers; blocks start after them
_BAD_BLOCK = re.compile(r"in block at location (\d+)")
_STALE_WAL = "WAL checkpoint iteration does not match"
_OWN_TABLES = {"schema_migrations", "schema_views"}  # the fresh file writes its own
MAX_RESEALS = 16


class Unrecoverable(RuntimeError):
    """Not even a copy of the file could be opened: nothing could be read out of it."""


@dataclass
class TableCopy:
    """One table's fate: how many rows reached the fresh file, or why none did."""

    name: str
    rows: int = 0
    error: str | None = None

    def line(self) -> str:
        if self.error is not None:
            return f"{self.name}: NOT copied ({self.error})"
        return f"{self.name}: {self.rows} rows copied"


@dataclass
class Repair:
    """What ``repair`` found and did."""

    sound: bool  # the file read whole: nothing was changed
    tables: list[TableCopy] = field(default_factory=list)
    resealed: list[int] = field(default_factory=list)  # byte offsets of the blocks whose checksum was re-sealed
    wal_set_aside: bool = False  # the WAL and the file disagree on their checkpoint: DuckDB will not replay it
    wal_older: bool = True  # ... because the WAL predates the file's last checkpoint (its commits are in the file)
    kept_as: Path | None = None


def checksum(block: bytes) -> int:
    """DuckDB's checksum of a block's bytes after its 8-byte checksum field."""
    words = array.array("Q")
    words.frombytes(block[: len(block) // 8 * 8])
    result = 5381
    for word in words:
        result ^= (word * _CHECKSUM_MULTIPLIER) & _WORD
    return result


def _block_size(path: Path) -> int:
    """The file's block allocation size, from the newer of its two database headers."""
    with path.open("rb") as f:
        f.seek(4096)
        headers = f.read(8192)
    newest = max((headers[:4096], headers[4096:]), key=lambda h: struct.unpack_from("<Q", h, 8)[0])
    # DatabaseHeader after its checksum: iteration, meta_block, free_list, block_count, block_alloc_size
    size = struct.unpack_from("<Q", newest, 8 + 4 * 8)[0]
    return size if size and size % 4096 == 0 else 262_144


def _reseal(path: Path, offset: int) -> None:
    size = _block_size(path)
    with path.open("r+b") as f:
        f.seek(offset)
        block = f.read(size)
        if len(block) < size:
            raise Unrecoverable(f"the damaged block at {offset} lies past the end of the file")
        f.seek(offset)
        f.write(struct.pack("<Q", checksum(block[8:])))


def _open_copy(copy: Path, repair: Repair) -> duckdb.DuckDBPyConnection:
    """Open the copy read-only, re-sealing torn blocks and setting aside a stale WAL until it opens."""
    while True:
        try:
            con = duckdb.connect(str(copy), read_only=True)
            _read_all_metadata(con)
            return con
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0]
            bad = _BAD_BLOCK.search(reason)
            wal = store.wal_path(copy)
            if _STALE_WAL in reason and wal.exists() and not repair.wal_set_aside:
                wal.rename(wal.with_name(wal.name + ".stale"))
                repair.wal_set_aside = True
                iterations = [int(n) for n in re.findall(r"checkpoint iteration: (\d+)", reason)]
                repair.wal_older = len(iterations) != 2 or iterations[0] > iterations[1]
            elif bad and int(bad.group(1)) >= _HEADERS and int(bad.group(1)) not in repair.resealed \
                    and len(repair.resealed) < MAX_RESEALS:
                _reseal(copy, int(bad.group(1)))
                repair.resealed.append(int(bad.group(1)))
            else:
                raise Unrecoverable(f"cannot open even a copy of the file: {reason[:200]}") from None


def _read_all_metadata(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SELECT * FROM duckdb_tables()").fetchall()
    con.execute("SELECT * FROM duckdb_columns()").fetchall()


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
                       "ORDER BY table_name", [catalog]).fetchall()
    return [r[0] for r in rows]


def _reads_whole(con: duckdb.DuckDBPyConnection) -> list[TableCopy]:
    """Every table of an open file read to its last row; a table that fails says why."""
    catalog = con.execute("SELECT current_database()").fetchall()[0][0]
    found = []
    for name in _tables(con, catalog):
        try:
            rows = len(con.execute(f'SELECT * FROM "{name}"').fetchall())
            found.append(TableCopy(name, rows))
        except duckdb.Error as exc:
            found.append(TableCopy(name, error=str(exc).splitlines()[0][:160]))
    return found


def _copy_tables(source: Path, target: Path) -> list[TableCopy]:
    """Each readable table of ``source`` into ``target`` (which has the current schema), by column name."""
    copies = []
    with store.writing(target) as con:
        quoted = str(source).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS damaged (READ_ONLY)")
        mine = set(_tables(con, con.execute("SELECT current_database()").fetchall()[0][0]))
        for name in _tables(con, "damaged"):
            if name in _OWN_TABLES:
                continue
            try:
                with store.transaction(con):
                    if name in mine:
                        con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM damaged."{name}"')
                    else:
                        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM damaged."{name}"')
                rows = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
                copies.append(TableCopy(name, int(rows)))
            except duckdb.Error as exc:
                copies.append(TableCopy(name, error=str(exc).splitlines()[0][:160]))
        # Derived from post_store: made again from the posts that were copied, whatever of it was readable.
        with store.transaction(con):
            refill_reply_waits(con)
        # A sequence is not a table: the next run id must follow the copied ones.
        top = con.execute("SELECT coalesce(max(run_id), 0) FROM collection_runs").fetchall()[0][0]
        con.execute("SELECT nextval('collection_run_ids') FROM range(?)", [int(top)]).fetchall()
        con.execute("DETACH damaged")
        con.execute("CHECKPOINT")
    return copies


def _hold(held: object, path: Path) -> None:
    """Take the lock DuckDB takes (fcntl, whole file) so that no peerdesk process writes while we copy and swap."""
    try:
        fcntl.lockf(held, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        raise store.DatabaseBusy(f"{path} is open in another process: stop 'peerdesk run', 'stream' or "
                                 "'collect' and try again") from None


def repair(path: Path | str, now: datetime, echo: Callable[[str], None] = lambda _: None) -> Repair:
    """Check the file; when damaged, rebuild it from what reads and keep the damaged one beside it.

    Run it with no peerdesk process writing the file (stop ``peerdesk run``
    first): the rebuilt file replaces the damaged one.
    """
    path = Path(path)
    if not path.exists():
        raise store.NoDatabase(f"no database at {path}")
    wal = store.wal_path(path)
    with path.open("rb") as held, tempfile.TemporaryDirectory(prefix=f".{path.name}.repair-", dir=path.parent) as work:
        _hold(held, path)
        copy = Path(work) / "damaged.duckdb"
        with copy.open("wb") as out:  # through the held descriptor: closing another would drop the lock
            shutil.copyfileobj(held, out)
        if wal.exists():
            shutil.copyfile(wal, store.wal_path(copy))
        report = Repair(sound=False)
        con = _open_copy(copy, report)
        try:
            found = _reads_whole(con)
        finally:
            con.close()
        if not report.resealed and not report.wal_set_aside and all(t.error is None for t in found):
            report.sound, report.tables = True, found
            for table in found:
                echo(f"{table.name}: {table.rows} rows, readable")
            return report
        for offset in report.resealed:
            echo(f"re-sealed the torn block at byte {offset} (its checksum no longer matched its contents)")
        if report.wal_set_aside:
            echo("set aside a WAL older than the file's last checkpoint (its commits are already in the file)"
                 if report.wal_older else
                 "set aside a WAL newer than the file (was the file restored from a copy?): its commits are NOT in "
                 "the rebuilt file; it is kept beside the damaged one")
        fresh = Path(work) / "fresh.duckdb"
        report.tables = _copy_tables(copy, fresh)
        for table in report.tables:
            echo(table.line())
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        report.kept_as = path.with_name(f"{path.name}.damaged-{stamp}")
        path.rename(report.kept_as)
        if wal.exists():
            wal.rename(report.kept_as.with_name(report.kept_as.name + ".wal"))
        shutil.move(str(fresh), path)
        echo(f"the damaged file is kept as {report.kept_as}")
    return report
