"""Read-only questions about the store, shared by the CLI and the dashboard.

One definition of each answer: the dashboard and ``peerdesk`` commands call
these functions, so a number never differs between the two.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.core import store

if TYPE_CHECKING:
    import pandas as pd


# Results are always fetched to the end (fetchall, never fetchone): DuckDB 2 refuses to register a
# table on a connection whose last result is unfinished, and answering_from registers one.
def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- Asking many questions about one moment -----------------------------------------------------

_SNAPSHOT_VIEW = "peerdesk_requests_snapshot"


def requests_snapshot(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pa.Table:
    """``help_requests_at(as_of)``, every column, as an Arrow table (about 0.4 KB per request).

    Working out each request's status scans every post; a dashboard that asks a dozen questions
    about the same moment computes it once, keeps this, and asks them ``answering_from`` it.
    """
    return con.sql("SELECT * FROM help_requests_at($as_of)", params={"as_of": as_of}).to_arrow_table()


@contextlib.contextmanager
def answering_from(con: duckdb.DuckDBPyConnection, snapshot: pa.Table, as_of: datetime
                   ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Within the block, ``help_requests_at(as_of)`` on this connection reads ``snapshot`` instead.

    A temporary macro of the same name shadows the stored one, also inside other macros
    (DuckDB looks in the temporary schema first), so every question in this module runs
    unchanged, from one definition, and gives the answer it would give without the snapshot.
    Asking about any other moment is an error rather than a silently wrong answer.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    con.register(_SNAPSHOT_VIEW, snapshot)
    moment = as_of.isoformat()
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO help_requests_at(as_of, since := NULL) AS TABLE "
        f"SELECT * FROM {_SNAPSHOT_VIEW} "
        f"WHERE (since IS NULL OR created_at >= since) AND CASE WHEN as_of::TIMESTAMPTZ = TIMESTAMPTZ '{moment}' THEN true "
        f"ELSE error('help requests were kept for {moment}, not for ' || as_of::VARCHAR) END"
    )
    try:
        yield con
    finally:
        con.execute("DROP MACRO TABLE IF EXISTS temp.help_requests_at")
        con.unregister(_SNAPSHOT_VIEW)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """A query's answer as a DataFrame with the types ``pd.DataFrame(_rows(...))`` would infer.

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
    """Per source: its last run, what it found, and how long it has been failing.

    A run "worked" when it was not marked failed and not every request it made was an error: a thread
    re-check whose every fetch failed is not "ok". A skipped run (``ok`` NULL: the source is not
    configured) is ``skipped``, neither working nor failing. ``failing_for_a_day`` counts from the last run
    that worked or, for a source that never worked, from its first run (not from the beginning of time).
    """
    return _rows(
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
    return _rows(
        con,
        "SELECT cursor_key, position, updated_at, $as_of - updated_at AS age FROM cursors ORDER BY cursor_key",
        {"as_of": as_of},
    )


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """What is stored, counted from the tables (the ``posts`` view would count each post's sightings too)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM post_store WHERE deleted_at IS NULL), (SELECT count(*) FROM account_store),"
        " (SELECT count(*) FROM sightings)"
    ).fetchall()[0]
    return {"posts": row[0], "accounts": row[1], "sightings": row[2]}


_HELP_REQUESTS_SQL = """
SELECT h.created_at, $as_of - h.created_at AS age, h.status, h.platform, a.handle AS author,
       a.display_name, h.text, h.reasons, h.lang, h.tags, h.url, h.uri, h.first_response_at,
       h.response_time, fr.handle AS first_responder, h.replies_from_others, h.curated
FROM help_requests_at($as_of) h
JOIN account_store a ON a.account = h.author
LEFT JOIN account_store fr ON fr.account = h.first_responder
WHERE ($status IS NULL OR h.status = $status)
  AND ($platform IS NULL OR h.platform = $platform)
  AND ($tag IS NULL OR list_contains(h.tags, lower($tag)))
  AND ($lang IS NULL OR lower(h.lang) = lower($lang))
  AND ($min_age IS NULL OR h.created_at <= $as_of - $min_age)
  AND ($max_age IS NULL OR h.created_at >= $as_of - $max_age)
  AND ($since IS NULL OR h.created_at >= $since)
ORDER BY h.created_at, h.uri
LIMIT coalesce($limit, 1000000)
"""


def _help_request_params(as_of: datetime, status: str | None, platform: str | None, tag: str | None,
                         lang: str | None, min_age: timedelta | None, max_age: timedelta | None,
                         since: datetime | None, limit: int | None) -> dict[str, Any]:
    return {"as_of": as_of, "status": status, "platform": platform, "tag": tag.lstrip("#") if tag else None,
            "lang": lang, "min_age": min_age, "max_age": max_age, "since": since, "limit": limit}


def help_requests(con: duckdb.DuckDBPyConnection, as_of: datetime, *, status: str | None = "open",
                  platform: str | None = None, tag: str | None = None, lang: str | None = None,
                  min_age: timedelta | None = None, max_age: timedelta | None = None,
                  since: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Help requests as of a moment, oldest first: the organiser's queue when ``status`` is "open"."""
    return _rows(con, _HELP_REQUESTS_SQL,
                 _help_request_params(as_of, status, platform, tag, lang, min_age, max_age, since, limit))


def count_help_requests(con: duckdb.DuckDBPyConnection, as_of: datetime, *, status: str | None = "open",
                        platform: str | None = None, tag: str | None = None, lang: str | None = None,
                        min_age: timedelta | None = None, max_age: timedelta | None = None,
                        since: datetime | None = None) -> int:
    """How many rows ``help_requests`` gives for these filters, without turning each into a dict.

    A page that lists the first fifty of 90,000 answered requests needs the count and fifty rows,
    not 90,000 rows of Python objects.
    """
    params = _help_request_params(as_of, status, platform, tag, lang, min_age, max_age, since, None)
    return con.execute(f"SELECT count(*) FROM ({_HELP_REQUESTS_SQL})", params).fetchall()[0][0]


def response_times(con: duckdb.DuckDBPyConnection, as_of: datetime, *, weeks: int = 8,
                   platform: str | None = None, target: timedelta = timedelta(hours=24)) -> list[dict[str, Any]]:
    """Per ISO week and platform: requests, answered, median and 90th percentile time to first response.

    ``answered_within_target``: the share of all requests whose first reply came within
    ``target`` (``[alerts] after``): the promise the alerts exist to keep.
    """
    return _rows(
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


_PEERS_SQL = """
WITH hr AS MATERIALIZED (
    SELECT uri, author, created_at, first_responder, first_response_at, response_time FROM help_requests_at($as_of)
), posted AS (
    SELECT p.author AS account, count(*) AS posts, max(p.created_at) AS last_post_at,
           count(*) FILTER (WHERE root.uri IS NOT NULL AND p.author <> root.author) AS replies_to_others
    FROM post_store p LEFT JOIN hr root ON root.uri = p.reply_root
    WHERE p.deleted_at IS NULL AND p.created_at <= $as_of
      AND ($since IS NULL OR p.created_at >= week_start($since::TIMESTAMPTZ))
    GROUP BY p.author
), asked AS (  -- a request is one of its author's posts, so it is counted from the requests alone
    SELECT author AS account, count(*) AS requests_asked
    FROM hr WHERE $since IS NULL OR created_at >= week_start($since::TIMESTAMPTZ)
    GROUP BY author
), firsts AS (
    SELECT first_responder AS account, count(*) AS first_responses,
           median(response_time) AS median_response_time
    FROM hr
    WHERE first_responder IS NOT NULL
      AND ($since IS NULL OR first_response_at >= week_start($since::TIMESTAMPTZ))
    GROUP BY first_responder
)
SELECT a.account, a.platform, a.handle, a.display_name, a.url,
       coalesce(f.first_responses, 0) AS first_responses, p.replies_to_others,
       coalesce(q.requests_asked, 0) AS requests_asked, p.posts, f.median_response_time, a.last_seen_at,
       p.last_post_at
FROM posted p
JOIN account_store a ON a.account = p.account
LEFT JOIN asked q ON q.account = p.account
LEFT JOIN firsts f ON f.account = p.account
WHERE ($include_bots OR NOT a.bot)
ORDER BY first_responses DESC, p.replies_to_others DESC, p.posts DESC, a.account
"""


def peers(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime | None,
          include_bots: bool = False) -> list[dict[str, Any]]:
    """Who helps: per account over a period, most first responses first.

    The period is the ISO weeks from ``since``'s up to ``as_of`` (all time when ``since`` is None),
    and each figure is the sum of that account's ``peer_weeks`` rows over them (a test holds the two
    to it); it is counted per account directly rather than per week and summed, which over a year of
    a million posts is several times faster.
    """
    return _rows(con, _PEERS_SQL, {"as_of": as_of, "since": since, "include_bots": include_bots})


def peers_frame(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime | None,
                include_bots: bool = False) -> pd.DataFrame:
    """``peers`` as a DataFrame, for a page that shows every peer in one table.

    Built column by column: for 20,000 peers, a dict of Python objects per row costs more than
    the query itself.
    """
    return _frame(con, _PEERS_SQL, {"as_of": as_of, "since": since, "include_bots": include_bots})


def peer_weeks(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime) -> list[dict[str, Any]]:
    """The ``peer_activity`` rows (one per account and ISO week) from a date on."""
    return _rows(
        con,
        "SELECT * EXCLUDE (week_start) FROM peer_activity_at($as_of, since := $since) "
        "ORDER BY week, first_responses DESC, account",
        {"as_of": as_of, "since": since},
    )


# --- Dashboard questions (appended for dashboard/; read-only, same definitions as above) ---

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
        row = _rows(con, _PERIOD_SQL, {"start": start - shift, "end": as_of - shift})[0]
        rows.append({"period": period, "start": start - shift, "end": as_of - shift, **row})
    return rows


def posts_per_day(con: duckdb.DuckDBPyConnection, as_of: datetime, *, days: int = 14, tz: str = "UTC"
                  ) -> list[dict[str, Any]]:
    """Stored posts (not deleted) per local calendar day and platform, the last ``days`` days; zeros included."""
    return _rows(
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


RESPONSE_BUCKETS = ("under 1 hour", "1 to 4 hours", "4 to 24 hours", "1 to 3 days", "over 3 days",
                    "resolved, no reply", "no reply yet")


def response_time_buckets(con: duckdb.DuckDBPyConnection, as_of: datetime, *, weeks: int = 8,
                          platform: str | None = None) -> list[dict[str, Any]]:
    """How long requests waited for a first reply, in ``RESPONSE_BUCKETS`` (same weeks as ``response_times``)."""
    return _rows(
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
    return _rows(
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


def source_cursor_ages(con: duckdb.DuckDBPyConnection, as_of: datetime) -> list[dict[str, Any]]:
    """Per collection source, its freshest saved position: how long since it last moved forward.

    Sources are named as ``collection_runs.source``: a Mastodon instance's host (or base URL),
    ``bluesky``, ``threads:mastodon`` and ``threads:bluesky``; cursor keys follow the collectors.
    """
    return _rows(
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


def request_filter_choices(con: duckdb.DuckDBPyConnection, as_of: datetime, *, status: str | None = "open"
                           ) -> dict[str, list[str]]:
    """The tags, languages and platforms that occur among help requests: what a filter can offer."""
    row = con.execute(
        """
        SELECT list_sort(list_distinct(flatten(list(tags)))), list_sort(list_distinct(list(lang))),
               list_sort(list_distinct(list(platform)))
        FROM help_requests_at($as_of) WHERE $status IS NULL OR status = $status
        """,
        {"as_of": as_of, "status": status},
    ).fetchall()[0]
    return {"tags": row[0] or [], "langs": row[1] or [], "platforms": row[2] or []}



# --- Overdue requests and alerts --------------------------------------------------------------------


def overdue_requests(con: duckdb.DuckDBPyConnection, as_of: datetime, *, after: timedelta,
                     horizon: timedelta | None = None) -> list[dict[str, Any]]:
    """Requests open at ``as_of`` for at least ``after``, oldest first, with what was sent about each.

    ``horizon``: older requests are left out (their threads are no longer re-checked,
    so "still open" is no longer known), and not read at all. ``sent`` maps channel -> time delivered;
    ``uncertain`` lists channels whose delivery was interrupted (not retried).
    """
    return _rows(
        con,
        """
        SELECT h.uri, h.url, h.platform, h.author, a.handle, h.created_at, $as_of - h.created_at AS waiting,
               h.text, h.lang, h.tags,
               map_from_entries(coalesce((SELECT list(struct_pack(k := s.channel, v := s.sent_at))
                                          FROM alerts_sent s WHERE s.uri = h.uri), [])) AS sent,
               coalesce((SELECT list(c.channel ORDER BY c.channel) FROM alert_claims c WHERE c.uri = h.uri), [])
                   AS uncertain
        FROM help_requests_at($as_of, since := $as_of - $horizon) h JOIN account_store a ON a.account = h.author
        WHERE h.status = 'open' AND h.created_at <= $as_of - $after
        ORDER BY h.created_at, h.uri
        """,
        {"as_of": as_of, "after": after, "horizon": horizon},
    )


def count_overdue(con: duckdb.DuckDBPyConnection, as_of: datetime, *, after: timedelta) -> int:
    """How many requests have been open at least ``after`` (the dashboard's headline number)."""
    return con.execute("SELECT count(*) FROM help_requests_at($as_of) WHERE status = 'open' "
                       "AND created_at <= $as_of - $after", {"as_of": as_of, "after": after}).fetchall()[0][0]


def alerts_log(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> list[dict[str, Any]]:
    """What was sent (newest first), and deliveries that were interrupted and will not be retried."""
    return _rows(
        con,
        """
        SELECT s.sent_at AS happened_at, s.channel, 'sent' AS state, s.uri, p.url
        FROM alerts_sent s LEFT JOIN post_store p ON p.uri = s.uri
        UNION ALL
        SELECT c.claimed_at, c.channel, 'uncertain', c.uri, p.url
        FROM alert_claims c LEFT JOIN post_store p ON p.uri = c.uri
        ORDER BY happened_at DESC, channel, uri
        LIMIT $limit
        """,
        {"limit": limit},
    )
