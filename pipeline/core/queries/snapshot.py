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

_SNAPSHOT_VIEW = "peerdesk_requests_snapshot"


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

    A temporary macro of the same name shadows the stored one, also inside other macros
    (DuckDB looks in the temporary schema first), so every question in this package runs
    unchanged, from one definition, and gives the answer it would give without the snapshot.
    Asking about any other moment is an error rather than a silently wrong answer.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    con.register(_SNAPSHOT_VIEW, snapshot)
    moment = as_of.isoformat()
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO help_answers_at(as_of, since := NULL) AS TABLE "
        f"SELECT * FROM {_SNAPSHOT_VIEW} "
        f"WHERE (since IS NULL OR created_at >= since) "
        f"AND CASE WHEN as_of::TIMESTAMPTZ = TIMESTAMPTZ '{moment}' THEN true "
        f"ELSE error('help requests were kept for {moment}, not for ' || as_of::VARCHAR) END"
    )
    try:
        yield con
    finally:
        con.execute("DROP MACRO TABLE IF EXISTS temp.help_answers_at")
        con.unregister(_SNAPSHOT_VIEW)
