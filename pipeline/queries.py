"""Read-only questions about the store, shared by the CLI and the dashboard.

One definition of each answer: the dashboard and ``peerdesk`` commands call
these functions, so a number never differs between the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def recent_posts(con: duckdb.DuckDBPyConnection, *, limit: int = 50, platform: str | None = None,
                 tag: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
    return _rows(
        con,
        """
        SELECT p.created_at, p.platform, a.handle AS author, p.tags, p.text, p.url, p.uri
        FROM posts p JOIN accounts a ON a.account = p.author
        WHERE ($platform IS NULL OR p.platform = $platform)
          AND ($tag IS NULL OR list_contains(p.tags, lower($tag)))
          AND ($since IS NULL OR p.created_at >= $since)
        ORDER BY p.created_at DESC
        LIMIT $limit
        """,
        {"platform": platform, "tag": tag.lstrip("#") if tag else None, "since": since, "limit": limit},
    )


def account_list(con: duckdb.DuckDBPyConnection, *, platform: str | None = None, limit: int = 500
                 ) -> list[dict[str, Any]]:
    return _rows(
        con,
        """
        SELECT account, platform, handle, display_name, bot, discoverable, posts, last_seen_at, url
        FROM accounts WHERE ($platform IS NULL OR platform = $platform)
        ORDER BY posts DESC, account LIMIT $limit
        """,
        {"platform": platform, "limit": limit},
    )


def source_health(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """Per source: its last run, what it found, and how long it has been failing."""
    return _rows(
        con,
        """
        WITH ranked AS (
            SELECT *, row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) AS n
            FROM collection_runs
        ), last_ok AS (
            SELECT source, max(finished_at) AS last_ok_at FROM collection_runs WHERE ok GROUP BY source
        ), totals AS (
            SELECT source, count(*) AS runs, sum(new_posts) AS posts_collected,
                   sum(rate_limit_waits) AS rate_limit_waits
            FROM collection_runs GROUP BY source
        )
        SELECT r.source, r.platform, r.finished_at AS last_run, r.ok AS last_ok, r.new_posts AS last_new_posts,
               r.errors AS last_errors, r.message, l.last_ok_at, t.runs, t.posts_collected, t.rate_limit_waits,
               (l.last_ok_at IS NULL OR l.last_ok_at < $as_of - INTERVAL 1 DAY) AND NOT r.ok AS failing_for_a_day
        FROM ranked r LEFT JOIN last_ok l USING (source) JOIN totals t USING (source)
        WHERE r.n = 1
        ORDER BY r.source
        """,
        {"as_of": as_of},
    )


def cursor_ages(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    return _rows(
        con,
        "SELECT cursor_key, position, updated_at, $as_of - updated_at AS age FROM cursors ORDER BY cursor_key",
        {"as_of": as_of},
    )


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = con.execute(
        "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM accounts), (SELECT count(*) FROM sightings)"
    ).fetchone()
    return {"posts": row[0], "accounts": row[1], "sightings": row[2]}
