"""What was collected and whether collection works: recent posts, totals, sources' runs and cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from pipeline.core import store
from pipeline.core.queries.results import fetch_rows


def recent_posts(con: duckdb.DuckDBPyConnection, *, limit: int = 50, platform: str | None = None,
                 tag: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
    return fetch_rows(
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


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """What is stored, counted from the tables (the ``posts`` view would count each post's sightings too)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM post_store WHERE deleted_at IS NULL), (SELECT count(*) FROM account_store),"
        " (SELECT count(*) FROM sightings)"
    ).fetchall()[0]
    return {"posts": row[0], "accounts": row[1], "sightings": row[2]}


def posts_per_day(con: duckdb.DuckDBPyConnection, as_of: datetime, *, days: int = 14, tz: str = "UTC"
                  ) -> list[dict[str, Any]]:
    """Stored posts (not deleted) per local calendar day and platform, the last ``days`` days; zeros included."""
    return fetch_rows(
        con,
        """
        WITH days AS (
            SELECT (timezone($tz, $as_of::TIMESTAMPTZ)::DATE - i::INTEGER) AS day FROM range($days) t(i)
        ), platforms AS (
            SELECT DISTINCT platform FROM account_store
        ), counts AS (
            SELECT timezone($tz, created_at)::DATE AS day, platform, count(*) AS posts
            FROM post_store
            WHERE deleted_at IS NULL AND created_at <= $as_of
              AND created_at >= $as_of::TIMESTAMPTZ - to_days($days + 1)
            GROUP BY ALL
        )
        SELECT d.day, p.platform, coalesce(c.posts, 0) AS posts
        FROM days d CROSS JOIN platforms p LEFT JOIN counts c ON c.day = d.day AND c.platform = p.platform
        ORDER BY d.day, p.platform
        """,
        {"as_of": as_of, "days": days, "tz": tz},
    )


def source_health(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """Per source: its last run, what it found, and how long it has been failing.

    A run "worked" when it was not marked failed and not every request it made was an error: a thread
    re-check whose every fetch failed is not "ok". A skipped run (``ok`` NULL: the source is not
    configured) is ``skipped``, neither working nor failing. ``failing_for_a_day`` counts from the last run
    that worked or, for a source that never worked, from its first run (not from the beginning of time).
    """
    return fetch_rows(
        con,
        """
        WITH runs AS (
            SELECT * REPLACE (CASE WHEN skipped THEN NULL ELSE ok END AS ok),
                   CASE WHEN skipped THEN NULL ELSE ok AND NOT (errors > 0 AND errors >= requests) END AS worked
            FROM (SELECT *, requests = 0 AND starts_with(coalesce(message, ''), $skipped) AS skipped
                  FROM collection_runs)
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) AS n FROM runs
        ), last_ok AS (
            SELECT source, max(finished_at) FILTER (WHERE worked) AS last_ok_at,
                   min(finished_at) FILTER (WHERE ok IS NOT NULL) AS first_run_at
            FROM runs GROUP BY source
        ), totals AS (
            SELECT source, count(*) FILTER (WHERE ok IS NOT NULL) AS runs, sum(new_posts) AS posts_collected,
                   sum(rate_limit_waits) AS rate_limit_waits
            FROM runs GROUP BY source
        )
        SELECT r.source, r.platform, r.finished_at AS last_run, r.worked AS last_ok, r.skipped,
               r.new_posts AS last_new_posts, r.errors AS last_errors, r.message, l.last_ok_at, l.first_run_at,
               t.runs, t.posts_collected, t.rate_limit_waits,
               coalesce(NOT r.worked AND coalesce(l.last_ok_at, l.first_run_at) < $as_of - INTERVAL 1 DAY, false)
                   AS failing_for_a_day
        FROM ranked r LEFT JOIN last_ok l USING (source) JOIN totals t USING (source)
        WHERE r.n = 1
        ORDER BY r.source
        """,
        {"as_of": as_of, "skipped": store.SKIPPED},
    )


def cursor_ages(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    return fetch_rows(
        con,
        "SELECT cursor_key, position, updated_at, $as_of - updated_at AS age FROM cursors ORDER BY cursor_key",
        {"as_of": as_of},
    )


def source_cursor_ages(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """Per collection source, its freshest saved position: how long since it last moved forward.

    Sources are named as ``collection_runs.source``: a Mastodon instance's host (or base URL),
    ``bluesky``, ``threads:mastodon`` and ``threads:bluesky``; cursor keys follow the collectors.
    """
    return fetch_rows(
        con,
        """
        WITH keyed AS (
            SELECT CASE
                WHEN starts_with(cursor_key, 'mastodon:') THEN
                    regexp_replace(regexp_extract(cursor_key, '^mastodon:(.*):tag:', 1), '^https://', '')
                WHEN starts_with(cursor_key, 'bluesky:') THEN 'bluesky'
                WHEN starts_with(cursor_key, 'thread:at://') THEN 'threads:bluesky'
                WHEN starts_with(cursor_key, 'thread:') THEN 'threads:mastodon'
                ELSE cursor_key END AS source, updated_at
            FROM cursors
        )
        SELECT source, count(*) AS cursors, max(updated_at) AS cursor_updated_at,
               $as_of - max(updated_at) AS cursor_age
        FROM keyed GROUP BY source ORDER BY source
        """,
        {"as_of": as_of},
    )
