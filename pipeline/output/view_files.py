"""Writing the documented views to files other tools read: Parquet, CSV or JSON, one file per view.

Notebooks, spreadsheets and other engines should not need DuckDB or peerdesk
to read the community's data. What is written is what the views show, with
the consent rules applied once more on the way out: nothing by an account
that asked to be forgotten or opted out (even one whose purge has not run
yet), no deleted post. Each file is written beside its final name and renamed
into place, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

FORMATS = ("parquet", "csv", "json")
VIEWS = ("posts", "accounts", "help_requests", "peer_activity")

_REFUSED = "(SELECT account FROM forgotten UNION SELECT account FROM opt_outs)"
_QUERIES = {  # the documented views, at an explicit time where they have one
    "posts": f"SELECT * FROM posts WHERE author NOT IN {_REFUSED} AND created_at <= $as_of ORDER BY created_at, uri",
    "accounts": f"SELECT * FROM accounts WHERE account NOT IN {_REFUSED} ORDER BY account",
    "help_requests": f"SELECT * FROM help_requests_at($as_of) WHERE author NOT IN {_REFUSED} ORDER BY created_at, uri",
    "peer_activity": f"SELECT * FROM peer_activity_at($as_of) WHERE account NOT IN {_REFUSED} "
                     "ORDER BY week_start, account",
}
_OPTIONS = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true"}


@dataclass(frozen=True)
class Written:
    view: str
    path: Path
    rows: int


def export_views(con: duckdb.DuckDBPyConnection, out_dir: Path, fmt: str, as_of: datetime) -> list[Written]:
    """Write every documented view as ``out_dir/<view>.<fmt>``; raises OSError when the folder cannot be written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    con.execute("SET TimeZone = 'UTC'")  # times in CSV and JSON read the same on every machine
    written: list[Written] = []
    for view in VIEWS:
        final = out_dir / f"{view}.{fmt}"
        partial = out_dir / f".{view}.{fmt}.partial"
        query = _QUERIES[view]
        params = {"as_of": as_of} if "$as_of" in query else None
        rows = con.execute(f"SELECT count(*) FROM ({query})", params).fetchall()[0][0]
        literal = str(partial).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{literal}' ({_OPTIONS[fmt]})", params)
        os.replace(partial, final)
        written.append(Written(view, final, int(rows)))
    return written
