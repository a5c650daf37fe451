"""Who could answer an open request, and what was asked before: reading the two documented macros.

The ranking itself is SQL (``suggested_peers_at`` and ``similar_requests_at`` in
:mod:`pipeline.core.views`), so that anyone with the DuckDB file gets the same answer
as the CLI, the dashboard and the alerts. This module only attaches those rows
to request rows, computed once per moment for every open request.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb

from pipeline.core.queries import serving


def suggested_peers(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, list[dict[str, Any]]]:
    """uri -> up to three ``{account, handle, score, reasons}``, best first, for requests open at ``as_of``."""
    rows = con.execute(
        "SELECT s.uri, s.account, coalesce(a.handle, s.account) AS handle, s.score, s.reasons "
        "FROM suggested_peers_at($as_of) s LEFT JOIN account_store a ON a.account = s.account "
        "ORDER BY s.uri, s.rank", {"as_of": as_of}).fetchall()
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for uri, account, handle, score, reasons in rows:
        out[uri].append({"account": account, "handle": handle, "score": score, "reasons": list(reasons)})
    return dict(out)


def similar_requests(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, list[dict[str, Any]]]:
    """uri -> up to three earlier answered requests most like it: ``{uri, url, text, score}``, best first."""
    rows = con.execute(
        "SELECT s.uri, s.similar_uri, p.url, p.text, s.score FROM similar_requests_at($as_of) s "
        "JOIN post_store p ON p.uri = s.similar_uri ORDER BY s.uri, s.rank", {"as_of": as_of}).fetchall()
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for uri, similar, url, text, score in rows:
        out[uri].append({"uri": similar, "url": url or similar, "text": text, "score": score})
    return dict(out)


def peers_and_similar(con: duckdb.DuckDBPyConnection, as_of: datetime
                      ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Both answers for one moment, from one matching pass.

    Both macros start from ``request_matches_at`` (which open request is like
    which answered one), the costly part. It is computed once here and, as the
    query layer does for ``help_requests_at``, a temporary macro of the same
    name serves it to both, so the answers are the documented macros' own.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    matches = con.sql("SELECT * FROM request_matches_at($as_of)", params={"as_of": as_of}).to_arrow_table()
    with serving(con, "request_matches_at(as_of)", matches, as_of, "request matches"):
        return suggested_peers(con, as_of), similar_requests(con, as_of)


def with_suggestions(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], as_of: datetime
                     ) -> list[dict[str, Any]]:
    """The rows with ``suggested_peers`` and ``asked_before`` lists (empty for requests not open)."""
    if not rows:
        return rows
    peers, similar = peers_and_similar(con, as_of)
    return [{**r, "suggested_peers": peers.get(r["uri"], []), "asked_before": similar.get(r["uri"], [])}
            for r in rows]


def peer_line(peers: list[dict[str, Any]]) -> str:
    """'bea@glammr.us (answered 3 questions about koha), cy@...': for a card, an e-mail or a chat message."""
    parts = []
    for peer in peers:
        reason = peer["reasons"][0] if peer["reasons"] else ""
        parts.append(f"{peer['handle']} ({reason})" if reason else peer["handle"])
    return ", ".join(parts)
