"""Is ``[database] path`` a peerdesk database we may open? Checked before DuckDB touches the file.

DuckDB given the wrong file does harm or fails obscurely: a SQLite file makes it
download an extension from the network, a text file or a directory gives an IO
error deep in a command, and a writer would run our migrations inside another
application's database. So the file is looked at first (its first bytes, its
permissions) and, once open, its tables, and anything that is not ours, or is
newer than this code, is refused in one line saying what it is.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipeline.core import schema

_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"  # bytes 8 to 11 of every DuckDB file, after a checksum


class BadDatabase(ValueError):
    """``[database] path`` names something peerdesk must not open or change: a configuration error."""


class EmptyDatabase(BadDatabase):
    """A DuckDB file with no tables at all: nothing to read yet (a writer fills it)."""


def check_database_file(path: Path, *, read_only: bool) -> None:
    """Refuse, before connecting, a path that is not a DuckDB file we can use (readers need it to exist)."""
    if path.is_dir():
        raise BadDatabase(f"{path}: is a directory, not a database file (give a file name in [database] path)")
    if path.exists():
        _check_existing(path, read_only=read_only)
    elif not read_only:
        _check_creatable(path)


def _check_existing(path: Path, *, read_only: bool) -> None:
    if not path.is_file():
        raise BadDatabase(f"{path}: is not a regular file, so it cannot be a database")
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except PermissionError:
        raise BadDatabase(f"{path}: not allowed to read this database file") from None
    if not head:
        raise BadDatabase(f"{path}: is an empty file, not a DuckDB database (remove it and peerdesk creates one)")
    if head.startswith(_SQLITE_MAGIC):
        raise BadDatabase(f"{path}: is a SQLite database, not a peerdesk (DuckDB) one; peerdesk will not open it")
    if head[8:12] != _DUCKDB_MAGIC:
        raise BadDatabase(f"{path}: is not a DuckDB database (another kind of file); peerdesk will not open it")
    if not read_only and not os.access(path, os.W_OK):
        raise BadDatabase(f"{path}: is read-only, and this command writes to the database")


def _check_creatable(path: Path) -> None:
    """A new file needs its nearest existing folder to be a folder we may write in."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise BadDatabase(f"{path}: cannot be created, {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadDatabase(f"{path}: cannot be created, not allowed to write in {folder}")


def check_contents(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse, before any migration, a DuckDB file another application wrote or a newer peerdesk migrated."""
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()}
    if "schema_migrations" not in names:
        if names - {"schema_views"}:
            shown = ", ".join(sorted(names)[:4]) + (", ..." if len(names) > 4 else "")
            raise BadDatabase(f"{path}: a DuckDB database from another application (tables: {shown}; no "
                              "schema_migrations); peerdesk will not change it")
        raise EmptyDatabase(f"{path}: a DuckDB database without peerdesk's tables (it is empty); "
                            "'peerdesk collect' fills it")
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_name = 'schema_migrations'"
    ).fetchall()}
    if not {"version", "name"} <= columns:
        raise BadDatabase(f"{path}: a DuckDB database from another application (its schema_migrations is not "
                          "peerdesk's); peerdesk will not change it")
    version, rows = con.execute("SELECT max(TRY_CAST(version AS BIGINT)), count(*) FROM schema_migrations"
                                ).fetchall()[0]
    if rows and version is None:
        raise BadDatabase(f"{path}: a DuckDB database from another application (its schema_migrations is not "
                          "peerdesk's); peerdesk will not change it")
    version = version or 0
    if version > schema.latest_version():
        raise BadDatabase(f"{path}: written by a newer peerdesk (schema version {version}, this one knows up to "
                          f"{schema.latest_version()}); upgrade peerdesk to use it")
    if version >= 1 and "post_store" not in names:
        raise BadDatabase(f"{path}: a DuckDB database from another application (schema_migrations without "
                          "peerdesk's tables); peerdesk will not change it")
