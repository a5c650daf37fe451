"""Asking many questions about one moment: the help requests computed once, read many times.

Working out each request's status scans every post; a dashboard that asks a dozen questions
about the same moment keeps a snapshot and answers them all from it, through the same SQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa


def requests_snapshot(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pa.Table:
    """``help_answers_at(as_of)`` (what ``help_requests_at`` reads), every column, as an Arrow table (about 0.4 KB
    per request).

    Working out each request's status scans every post; a dashboard that asks a dozen questions
    about the same moment computes it once, keeps this, and asks them ``answering_from`` it.
    """
    return con.sql("SELECT * FROM help_answers_at($as_of)", params={"as_of": as_of}).to_arrow_table()


@contextlib.contextmanager
def answering_from(con: duckdb.DuckDBPyConnection, snapshot: pa.Table, as_of: datetime
                   ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Within the block, ``help_answers_at(as_of)``, and so ``help_requests_at``, on this connection read ``snapshot``.

    Every question in this package runs unchanged, from one definition, and gives the answer it would give
    without the snapshot (see :func:`serving`).
    """
    with serving(con, "help_answers_at(as_of, since := NULL)", snapshot, as_of, "help requests",
                 where="(since IS NULL OR created_at >= since)"):
        yield con


@contextlib.contextmanager
def serving(con: duckdb.DuckDBPyConnection, macro: str, table: pa.Table, as_of: datetime, what: str, *,
            where: str = "true") -> Iterator[duckdb.DuckDBPyConnection]:
    """Within the block, the table macro ``macro`` (its signature, e.g. ``"x_at(as_of)"``) reads ``table``.

    A temporary macro of the same name shadows the stored one, also inside other macros (DuckDB looks in
    the temporary schema first), so an answer computed once for a moment serves every question built on it.
    Asking about any other moment is an error rather than a silently wrong answer.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    name = macro.split("(", 1)[0]
    view = f"peerdesk_{name}_kept"
    con.register(view, table)
    moment = as_of.isoformat()
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO {macro} AS TABLE SELECT * FROM {view} WHERE {where} "
        f"AND CASE WHEN as_of::TIMESTAMPTZ = TIMESTAMPTZ '{moment}' THEN true "
        f"ELSE error('{what} were kept for {moment}, not for ' || as_of::VARCHAR) END"
    )
    try:
        yield con
    finally:
        con.execute(f"DROP MACRO TABLE IF EXISTS temp.{name}")
        con.unregister(view)
