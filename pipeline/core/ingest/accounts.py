"""Accounts of a batch: new ones inserted, known ones rewritten only by their home server."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from collectors.records import Account
from pipeline.core.store import registered

ACCOUNT_SCHEMA = pa.schema([
    ("account", pa.string()), ("platform", pa.string()), ("handle", pa.string()),
    ("display_name", pa.string()), ("url", pa.string()), ("bot", pa.bool_()),
    ("discoverable", pa.bool_()), ("indexable", pa.bool_()), ("labels", pa.list_(pa.string())),
    ("avatar", pa.string()), ("from_home", pa.bool_()),
])

# last_seen_at is kept to this resolution: re-writing every author of every batch
# only to move a timestamp by seconds made the account upsert the slowest statement.
LAST_SEEN_RESOLUTION = timedelta(hours=1)


def upsert_accounts(con: duckdb.DuckDBPyConnection, accounts: list[Account], home: set[str], now: datetime
                     ) -> None:
    """Insert new accounts; rewrite a known one only when it changed or was last seen over an hour ago.

    Only the home server's profile (keys in ``home``) changes a stored account;
    a copy elsewhere adds an account not stored yet, and otherwise only says it
    was seen.
    """
    if not accounts:
        return
    cols = {  # a comprehension per column: half the time of appending account by account
        "account": [a.key for a in accounts], "platform": [a.platform for a in accounts],
        "handle": [a.handle for a in accounts], "display_name": [a.display_name for a in accounts],
        "url": [a.url for a in accounts], "bot": [a.bot for a in accounts],
        "discoverable": [a.discoverable for a in accounts], "indexable": [a.indexable for a in accounts],
        "labels": [a.labels for a in accounts], "avatar": [a.avatar for a in accounts],
        "from_home": [a.key in home for a in accounts],
    }
    with registered(con, "batch_accounts", pa.table(cols, schema=ACCOUNT_SCHEMA)):
        con.execute(
            """
            INSERT INTO account_store
            SELECT b.account, b.platform, b.handle, b.display_name, b.url, b.bot, b.discoverable, b.indexable,
                   b.labels, b.avatar, $now, $now
            FROM batch_accounts AS b LEFT JOIN account_store AS a ON a.account = b.account
            WHERE a.account IS NULL OR b.from_home AND (a.last_seen_at < $stale
               OR (a.handle, a.display_name, a.url, a.bot, a.discoverable, a.indexable, a.labels, a.avatar)
                  IS DISTINCT FROM
                  (b.handle, b.display_name, b.url, b.bot, b.discoverable, b.indexable, b.labels, b.avatar))
            ON CONFLICT (account) DO UPDATE SET
                handle = excluded.handle, display_name = excluded.display_name, url = excluded.url,
                bot = excluded.bot, discoverable = excluded.discoverable, indexable = excluded.indexable,
                labels = excluded.labels, avatar = excluded.avatar, last_seen_at = excluded.last_seen_at
            """,
            {"now": now, "stale": now - LAST_SEEN_RESOLUTION},
        )
        con.execute(
            "UPDATE account_store AS a SET last_seen_at = $now FROM batch_accounts AS b "
            "WHERE a.account = b.account AND NOT b.from_home AND a.last_seen_at < $stale",
            {"now": now, "stale": now - LAST_SEEN_RESOLUTION},
        )
