"""Read-only questions about the store, shared by the CLI and the dashboard.

One definition of each answer: the dashboard and ``peerdesk`` commands call
these functions, so a number never differs between the two.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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


def help_requests(con: duckdb.DuckDBPyConnection, as_of: datetime, *, status: str | None = "open",
                  platform: str | None = None, tag: str | None = None, lang: str | None = None,
                  min_age: timedelta | None = None, max_age: timedelta | None = None,
                  since: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Help requests as of a moment, oldest first: the organiser's queue when ``status`` is "open"."""
    return _rows(
        con,
        """
        SELECT h.created_at, $as_of - h.created_at AS age, h.status, h.platform, a.handle AS author,
               a.display_name, h.text, h.reasons, h.lang, h.tags, h.url, h.uri, h.first_response_at,
               h.response_time, fr.handle AS first_responder, h.replies_from_others, h.curated
        FROM help_requests_at($as_of) h
        JOIN account_store a ON a.account = h.author
        LEFT JOIN account_store fr ON fr.account = h.first_responder
        WHERE ($status IS NULL OR h.status = $status)
          AND ($platform IS NULL OR h.platform = $platform)
          AND ($tag IS NULL OR list_contains(h.tags, lower($tag)))
          AND ($lang IS NULL OR h.lang = $lang)
          AND ($min_age IS NULL OR h.created_at <= $as_of - $min_age)
          AND ($max_age IS NULL OR h.created_at >= $as_of - $max_age)
          AND ($since IS NULL OR h.created_at >= $since)
        ORDER BY h.created_at, h.uri
        LIMIT coalesce($limit, 1000000)
        """,
        {"as_of": as_of, "status": status, "platform": platform, "tag": tag.lstrip("#") if tag else None,
         "lang": lang, "min_age": min_age, "max_age": max_age, "since": since, "limit": limit},
    )


def response_times(con: duckdb.DuckDBPyConnection, as_of: datetime, *, weeks: int = 8,
                   platform: str | None = None) -> list[dict[str, Any]]:
    """Per ISO week and platform: requests, answered, median and 90th percentile time to first response."""
    return _rows(
        con,
        """
        SELECT strftime(date_trunc('week', created_at), '%G-W%V') AS week, platform,
               count(*) AS requests,
               count(first_response_at) AS answered,
               count(*) FILTER (WHERE status = 'open') AS still_open,
               median(response_time) AS median_response,
               quantile_cont(epoch(response_time), 0.9) AS p90_response_seconds,
               count(*) FILTER (WHERE response_time <= INTERVAL 24 HOURS) / count(*) AS answered_within_24h
        FROM help_requests_at($as_of)
        WHERE created_at >= date_trunc('week', $as_of) - to_weeks($weeks - 1)
          AND ($platform IS NULL OR platform = $platform)
        GROUP BY ALL
        ORDER BY week, platform
        """,
        {"as_of": as_of, "weeks": weeks, "platform": platform},
    )


def peers(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime,
          include_bots: bool = False) -> list[dict[str, Any]]:
    """Who helps: per account over a period, most first responses first."""
    return _rows(
        con,
        """
        SELECT pa.account, pa.platform, pa.handle, a.display_name, a.url,
               sum(first_responses)::BIGINT AS first_responses, sum(replies_to_others)::BIGINT AS replies_to_others,
               sum(requests_asked)::BIGINT AS requests_asked, sum(posts)::BIGINT AS posts,
               (SELECT median(h.response_time) FROM help_requests_at($as_of) h
                 WHERE h.first_responder = pa.account AND h.first_response_at >= $since) AS median_response_time,
               a.last_seen_at
        FROM peer_activity_at($as_of) pa JOIN account_store a ON a.account = pa.account
        WHERE pa.week_start >= date_trunc('week', $since) AND ($include_bots OR NOT pa.bot)
        GROUP BY ALL
        ORDER BY first_responses DESC, replies_to_others DESC, posts DESC, pa.account
        """,
        {"as_of": as_of, "since": since, "include_bots": include_bots},
    )


def peer_weeks(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime) -> list[dict[str, Any]]:
    """The ``peer_activity`` rows (one per account and ISO week) from a date on."""
    return _rows(
        con,
        "SELECT * EXCLUDE (week_start) FROM peer_activity_at($as_of) WHERE week_start >= date_trunc('week', $since) "
        "ORDER BY week, first_responses DESC, account",
        {"as_of": as_of, "since": since},
    )
