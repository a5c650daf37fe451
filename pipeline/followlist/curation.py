"""A curator's decisions about posts, kept apart from what collection writes.

Collected rows are rewritten whenever a post is seen again; decisions live in
their own table so that they survive re-collection. The CLI and the dashboard
both come here, so a button and a command do exactly the same thing.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.core.store import now_utc, transaction

DECISIONS = ("request", "not-request", "resolved", "reopen", "rules")


class UnknownPost(LookupError):
    pass


def stored_uri(con: duckdb.DuckDBPyConnection, link: str) -> str:
    """The uri of the stored post a link names: its uri, or the web URL the dashboard and
    ``peerdesk requests`` show (which, on Mastodon, differs from the uri)."""
    rows = con.execute("SELECT uri FROM post_store WHERE uri = $l UNION SELECT uri FROM post_store WHERE url = $l",
                       {"l": link.strip()}).fetchall()
    if not rows:
        raise UnknownPost(f"no stored post has the uri or URL {link}")
    if len(rows) > 1:
        raise UnknownPost(f"{link} names {len(rows)} stored posts; give the uri (`peerdesk requests --format json`)")
    return rows[0][0]


def mark(con: duckdb.DuckDBPyConnection, uri: str, decision: str, *, note: str | None = None,
         when: datetime | None = None) -> None:
    """Record a decision: a post is (not) a help request, or a request is resolved (or open again).

    ``rules`` withdraws a request/not-request decision, so the rules decide again: it is what undoing
    "Not a request" on a post nobody had curated means, and it leaves no "decided by a curator" behind.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}")
    when = when or now_utc()
    with transaction(con):
        if con.execute("SELECT count(*) FROM post_store WHERE uri = ?", [uri]).fetchone()[0] == 0:
            raise UnknownPost(f"no stored post has the uri {uri}")
        con.execute("INSERT INTO curation (uri, decided_at) VALUES (?, ?) ON CONFLICT (uri) DO NOTHING", [uri, when])
        column, value = {
            "request": ("request_override", True),
            "not-request": ("request_override", False),
            "resolved": ("resolved_at", when),
            "reopen": ("resolved_at", None),
            "rules": ("request_override", None),
        }[decision]
        con.execute(f"UPDATE curation SET {column} = ?, decided_at = ?, note = coalesce(?, note) WHERE uri = ?",
                    [value, when, note, uri])
