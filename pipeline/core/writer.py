"""The one database writer of a long-running peerdesk: stream batches and polling pages commit through it in turn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from pipeline.core import store

T = TypeVar("T")


class Writer:
    """The process's one database writer: every commit (stream batches, polling pages) takes its lock.

    DuckDB allows one writing process; inside it, two transactions that touch
    the same rows conflict. ``peerdesk run`` shares this lock with the polling
    cycle (``CycleOptions.lock``), so commits never interleave.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.lock = asyncio.Lock()

    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` in one transaction on a connection held only for it (readers get the file between)."""
        async with self.lock:
            return await asyncio.to_thread(self._run, work)

    async def run_in_parts(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` on a connection held only for it, opening no transaction: it commits in parts of its own.

        For isolating what the database refuses in a batch, in as many
        transactions as that takes, without reopening the file for each.
        """
        async with self.lock:
            return await asyncio.to_thread(self._run_in_parts, work)

    def _run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with store.writing(self.db_path) as con:
            with store.transaction(con):
                result = work(con)
            store.checkpoint_if_due(con, self.db_path)  # the stream commits every second: the WAL grows fast
            return result

    def _run_in_parts(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with store.writing(self.db_path) as con:
            result = work(con)
            store.checkpoint_if_due(con, self.db_path)
            return result
