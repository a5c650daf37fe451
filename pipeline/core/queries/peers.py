"""Who helps: accounts ranked by the answers they gave, per period or per ISO week."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline.core.queries.results import fetch_frame, fetch_rows

if TYPE_CHECKING:
    import pandas as pd

PEERS_WEEKS = 4  # how far back "who helps" looks unless asked otherwise: `peerdesk peers` and the Peers page

_PEERS_SQL = """
WITH hr AS MATERIALIZED (
    SELECT uri, author, created_at, first_responder, first_response_at, response_time FROM help_answers_at($as_of)
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
    return fetch_rows(con, _PEERS_SQL, {"as_of": as_of, "since": since, "include_bots": include_bots})


def peers_frame(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime | None,
                include_bots: bool = False) -> pd.DataFrame:
    """``peers`` as a DataFrame, for a page that shows every peer in one table.

    Built column by column: for 20,000 peers, a dict of Python objects per row costs more than
    the query itself.
    """
    return fetch_frame(con, _PEERS_SQL, {"as_of": as_of, "since": since, "include_bots": include_bots})


def peer_weeks(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime) -> list[dict[str, Any]]:
    """The ``peer_activity`` rows (one per account and ISO week) from a date on."""
    return fetch_rows(
        con,
        "SELECT * EXCLUDE (week_start) FROM peer_activity_at($as_of, since := $since) "
        "ORDER BY week, first_responses DESC, account",
        {"as_of": as_of, "since": since},
    )


def account_list(con: duckdb.DuckDBPyConnection, *, platform: str | None = None, limit: int = 500
                 ) -> list[dict[str, Any]]:
    return fetch_rows(
        con,
        """
        SELECT account, platform, handle, display_name, bot, discoverable, posts, last_seen_at, url
        FROM accounts WHERE ($platform IS NULL OR platform = $platform)
        ORDER BY posts DESC, account LIMIT $limit
        """,
        {"platform": platform, "limit": limit},
    )
