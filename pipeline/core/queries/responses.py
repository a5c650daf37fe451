"""How fast requests are answered: per week, in buckets, over a window, and this week against last."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from pipeline.core.queries.results import fetch_rows


def response_times(con: duckdb.DuckDBPyConnection, as_of: datetime, *, weeks: int = 8,
                   platform: str | None = None, target: timedelta = timedelta(hours=24)) -> list[dict[str, Any]]:
    """Per ISO week and platform: requests, answered, median and 90th percentile time to first response.

    ``answered_within_target``: the share of all requests whose first reply came within
    ``target`` (``[alerts] after``): the promise the alerts exist to keep.
    """
    return fetch_rows(
        con,
        """
        SELECT strftime(date_trunc('week', created_at), '%G-W%V') AS week, platform,
               count(*) AS requests,
               count(first_response_at) AS answered,
               count(*) FILTER (WHERE status = 'open') AS still_open,
               median(response_time) AS median_response,
               quantile_cont(epoch(response_time), 0.9) AS p90_response_seconds,
               count(*) FILTER (WHERE response_time <= INTERVAL 24 HOURS) / count(*) AS answered_within_24h,
               count(*) FILTER (WHERE response_time <= $target) / count(*) AS answered_within_target
        FROM help_requests_at($as_of)
        WHERE created_at >= date_trunc('week', $as_of) - to_weeks($weeks - 1)
          AND ($platform IS NULL OR platform = $platform)
        GROUP BY ALL
        ORDER BY week, platform
        """,
        {"as_of": as_of, "weeks": weeks, "platform": platform, "target": target},
    )


RESPONSE_TIMES_WEEKS = 8  # the weeks shown unless asked otherwise: `peerdesk response-times` and its page

RESPONSE_BUCKETS = ("under 1 hour", "1 to 4 hours", "4 to 24 hours", "1 to 3 days", "over 3 days",
                    "resolved, no reply", "no reply yet")


def response_time_buckets(con: duckdb.DuckDBPyConnection, as_of: datetime, *, weeks: int = 8,
                          platform: str | None = None) -> list[dict[str, Any]]:
    """How long requests waited for a first reply, in ``RESPONSE_BUCKETS`` (same weeks as ``response_times``)."""
    return fetch_rows(
        con,
        """
        WITH r AS (
            SELECT platform, CASE
                WHEN response_time IS NULL AND status = 'resolved' THEN 5
                WHEN response_time IS NULL THEN 6
                WHEN response_time < INTERVAL 1 HOUR THEN 0
                WHEN response_time < INTERVAL 4 HOURS THEN 1
                WHEN response_time <= INTERVAL 24 HOURS THEN 2
                WHEN response_time <= INTERVAL 72 HOURS THEN 3
                ELSE 4 END AS bucket_order
            FROM help_requests_at($as_of)
            WHERE created_at >= date_trunc('week', $as_of) - to_weeks($weeks - 1)
              AND ($platform IS NULL OR platform = $platform)
        )
        SELECT bucket_order, list_extract($names, bucket_order + 1) AS bucket, platform, count(*) AS requests
        FROM r GROUP BY ALL ORDER BY bucket_order, platform
        """,
        {"as_of": as_of, "weeks": weeks, "platform": platform, "names": list(RESPONSE_BUCKETS)},
    )


def response_summary(con: duckdb.DuckDBPyConnection, as_of: datetime, *, weeks: int = 8,
                     platform: str | None = None, target: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    """``response_times`` over the whole window at once (a median of weekly medians is not a median)."""
    return fetch_rows(
        con,
        """
        SELECT count(*) AS requests, count(first_response_at) AS answered,
               count(*) FILTER (WHERE status = 'open') AS still_open,
               median(response_time) AS median_response,
               quantile_cont(epoch(response_time), 0.9) AS p90_response_seconds,
               count(*) FILTER (WHERE response_time <= INTERVAL 24 HOURS) / nullif(count(*), 0)
                   AS answered_within_24h,
               count(*) FILTER (WHERE response_time <= $target) / nullif(count(*), 0) AS answered_within_target
        FROM help_requests_at($as_of)
        WHERE created_at >= date_trunc('week', $as_of) - to_weeks($weeks - 1)
          AND ($platform IS NULL OR platform = $platform)
        """,
        {"as_of": as_of, "weeks": weeks, "platform": platform, "target": target},
    )[0]


_PERIOD_SQL = """
WITH hr AS (SELECT * FROM help_requests_at($end)),
new AS (SELECT * FROM hr WHERE created_at >= $start)
SELECT (SELECT count(*) FROM new) AS new_requests,
       (SELECT count(first_response_at) FROM new) AS answered,
       (SELECT count(*) FROM new WHERE status = 'open') AS still_open,
       (SELECT median(response_time) FROM new) AS median_response,
       (SELECT count(*) FROM hr WHERE status = 'open') AS open_total,
       (SELECT count(DISTINCT x.author)
          FROM post_store x JOIN hr ON hr.uri = x.reply_root JOIN account_store a ON a.account = x.author
         WHERE x.deleted_at IS NULL AND x.author <> hr.author AND NOT a.bot
           AND x.created_at >= $start AND x.created_at <= $end) AS active_peers,
       (SELECT count(*) FROM post_store
         WHERE deleted_at IS NULL AND created_at >= $start AND created_at <= $end) AS posts
"""


def week_overview(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """This ISO week so far against the same span of last week, each seen as it stood at its own end.

    Two rows, "this week" then "last week". Comparing a Tuesday's week-to-date with a whole week
    would make every count look like a drop, so last week stops at the same weekday and hour, and
    its requests' statuses are taken as of then. ``new_requests``/``answered``/``still_open``/
    ``median_response`` are about the requests posted in the span (as ``response_times`` counts a
    week); ``open_total`` is the whole open queue at the span's end (the "Open requests" list);
    ``active_peers`` counts human accounts that replied to someone else's request in the span.
    """
    start = con.execute("SELECT date_trunc('week', $as_of::TIMESTAMPTZ)", {"as_of": as_of}).fetchall()[0][0]
    rows = []
    for period, shift in (("this week", timedelta(0)), ("last week", timedelta(weeks=1))):
        row = fetch_rows(con, _PERIOD_SQL, {"start": start - shift, "end": as_of - shift})[0]
        rows.append({"period": period, "start": start - shift, "end": as_of - shift, **row})
    return rows
