"""Rows found through an index: a literal list of keys, so that a batch's read costs the same however much is stored.

DuckDB reads ``WHERE key IN (SELECT ...)`` and joins by scanning every stored key
(at 1,000,000 posts that pass dominated a commit), but turns ``WHERE key IN (?, ?, ...)``
on an indexed column into index look-ups, up to ``index_scan_max_count`` keys; longer
lists go in chunks of that size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb

INDEX_SCAN_MAX = 2048  # DuckDB's index_scan_max_count: a longer literal list is read by a scan


def key_chunks(keys: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """``("?, ?, ...", keys)`` for each chunk of at most ``INDEX_SCAN_MAX`` distinct keys, in order."""
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), INDEX_SCAN_MAX):
        chunk = ordered[start:start + INDEX_SCAN_MAX]
        yield ", ".join("?" * len(chunk)), chunk


def rows_by_key(con: duckdb.DuckDBPyConnection, select: str, key: str, keys: Iterable[str]) -> list[tuple]:
    """The rows of ``select`` (``SELECT ... FROM table``, no WHERE) whose ``key``, an indexed column, is in ``keys``."""
    found: list[tuple] = []
    for marks, chunk in key_chunks(keys):
        found += con.execute(f"{select} WHERE {key} IN ({marks})", chunk).fetchall()
    return found
