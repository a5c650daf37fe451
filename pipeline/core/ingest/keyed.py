"""Rows found by a batch's keys, at a cost bounded by the batch: index look-ups for a few keys, one scan for many.

DuckDB reads ``WHERE key IN (SELECT ...)`` and joins by scanning every stored key
(at 1,000,000 posts that pass dominated a collector's commit), but turns
``WHERE key IN (?, ?, ...)`` on an indexed column into index look-ups, up to
``index_scan_max_count`` keys; longer lists go in chunks of that size.

A look-up costs about 17 us a key, a scan about 20-40 ns a stored row (measured
on 1,000,000 uris: 10,000 keys by the index 170 ms, by one scan 25-30 ms). So a
batch of more keys than one chunk holds is met with one scan when the table is
small enough for that to cost less (``SCAN_ROWS_PER_KEY``): never dearer than
the look-ups it replaces, so the cost stays bounded by the batch. A collector's
commit (up to a few hundred keys) always takes the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import duckdb

INDEX_SCAN_MAX = 2048  # DuckDB's index_scan_max_count: a longer literal list is read by a scan
SCAN_ROWS_PER_KEY = 500  # one scan beats the look-ups while the table holds fewer rows than this per key

_FROM = re.compile(r"\bFROM\s+(\w+)\s*$", re.IGNORECASE)


def key_chunks(keys: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """``("?, ?, ...", keys)`` for each chunk of at most ``INDEX_SCAN_MAX`` distinct keys, in order."""
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), INDEX_SCAN_MAX):
        chunk = ordered[start:start + INDEX_SCAN_MAX]
        yield ", ".join("?" * len(chunk)), chunk


def rows_by_key(con: duckdb.DuckDBPyConnection, select: str, key: str, keys: Iterable[str]) -> list[tuple]:
    """The rows of ``select`` (``SELECT ... FROM table``, no WHERE) whose ``key``, an indexed column, is in ``keys``."""
    wanted = set(keys)
    if len(wanted) > INDEX_SCAN_MAX and _scan_is_cheaper(con, select, len(wanted)):
        return con.execute(f"{select} WHERE {key} IN (SELECT unnest(?::VARCHAR[]))", [list(wanted)]).fetchall()
    found: list[tuple] = []
    for marks, chunk in key_chunks(wanted):
        found += con.execute(f"{select} WHERE {key} IN ({marks})", chunk).fetchall()
    return found


def _scan_is_cheaper(con: duckdb.DuckDBPyConnection, select: str, keys: int) -> bool:
    """Whether one scan of the table costs less than ``keys`` index look-ups (a count is read from metadata)."""
    match = _FROM.search(select)
    if match is None:
        raise ValueError(f"rows_by_key needs SELECT ... FROM <table>, not {select!r}")
    stored = con.execute(f"SELECT count(*) FROM {match.group(1)}").fetchone()
    return stored is not None and stored[0] < keys * SCAN_ROWS_PER_KEY
