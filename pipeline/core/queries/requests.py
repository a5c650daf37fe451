"""Help requests: the organiser's queue, the filters it offers, and what is overdue and was alerted about."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from pipeline.core.queries.results import fetch_rows

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
    return fetch_rows(con, _HELP_REQUESTS_SQL,
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


def overdue_requests(con: duckdb.DuckDBPyConnection, as_of: datetime, *, after: timedelta,
                     horizon: timedelta | None = None) -> list[dict[str, Any]]:
    """Requests open at ``as_of`` for at least ``after``, oldest first, with what was sent about each.

    ``horizon``: older requests are left out (their threads are no longer re-checked,
    so "still open" is no longer known), and not read at all. ``sent`` maps channel -> time delivered;
    ``uncertain`` lists channels whose delivery was interrupted (not retried).
    """
    return fetch_rows(
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
    return fetch_rows(
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
