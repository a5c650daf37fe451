"""How an answer comes back from DuckDB: as rows of dicts, or as a DataFrame for a wide table.

Results are always fetched to the end (fetchall, never fetchone): DuckDB 2 refuses to register a
table on a connection whose last result is unfinished, and ``answering_from`` registers one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class Rows(list):
    """Rows as dicts that still know their columns when there are none: CSV output keeps its header."""

    columns: tuple[str, ...] = ()

    @classmethod
    def like(cls, rows: list[dict[str, Any]], source: list[dict[str, Any]]) -> Rows:
        """``rows`` (made from ``source`` row by row, with the same keys) with ``source``'s columns."""
        out = cls(rows)
        out.columns = getattr(source, "columns", ())
        return out


def fetch_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
               ) -> list[dict[str, Any]]:
    """Every row of ``sql``'s answer as a dict keyed by column name (a :class:`Rows`, which knows the columns)."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    rows = Rows(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    rows.columns = tuple(names)
    return rows


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """A query's answer as a DataFrame with the types ``pd.DataFrame(fetch_rows(...))`` would infer.

    Through ``fetchnumpy`` rather than DuckDB's ``df()``, whose time-zone handling pandas 3.1
    deprecates; times with a zone arrive as UTC and are marked so, NULLs as NaN or NaT.
    """
    import pandas as pd  # here, not at the top: the CLI never asks for a frame and need not load pandas

    cursor = con.execute(sql, params)
    zoned = {d[0] for d in cursor.description if str(d[1]) == "TIMESTAMP WITH TIME ZONE"}
    columns = {}
    for name, values in cursor.fetchnumpy().items():
        if isinstance(values, np.ma.MaskedArray):
            values = pd.Series(np.ma.getdata(values)).mask(np.ma.getmaskarray(values))
        columns[name] = values
    frame = pd.DataFrame(columns)
    for name in zoned:
        frame[name] = frame[name].dt.tz_localize("UTC")
    return frame
