"""A stream batch into the store, in one transaction with its cursor, and what the database says to follow.

The cursor moves only in the transaction that stores the events it covers, so
a crash loses and duplicates nothing (the writes are idempotent, and a restart
resumes a little before the cursor). The roots and accounts the stream follows
are read back here too: help requests other sources stored, and accounts with
anything stored, whose deletions and departures must be applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from collectors.records import BLUESKY, Account, Page, Post
from pipeline import store
from pipeline.ingest import StoreResult, store_pages_in_transaction
from pipeline.stream_consent import root_author

CURSOR_KEY = "bluesky:jetstream"


@dataclass
class BatchWork:
    """One batch, ready to commit."""

    posts: list[Post]
    replies: list[Post]
    accounts: list[Account]
    deleted: list[str]
    left: list[str]  # tagged posts edited to drop the tag: no longer the community's
    purge: list[str]
    cursor: int | None
    known_window: tuple[datetime, datetime] | None  # (now, horizon start): re-read roots and accounts, when due


def load_known(con: duckdb.DuckDBPyConnection, now: datetime, since: datetime) -> tuple[set[str], set[str]]:
    """Roots to follow (Bluesky help requests within the thread horizon) and accounts with something stored."""
    roots = {r[0] for r in con.execute(
        "SELECT uri FROM help_requests_at($now) WHERE platform = $p AND created_at >= $since",
        {"now": now, "p": BLUESKY, "since": since}).fetchall()}
    dids = {r[0] for r in con.execute(
        "SELECT account FROM account_store WHERE platform = $p UNION SELECT author FROM post_store WHERE platform = $p",
        {"p": BLUESKY}).fetchall()}
    return roots, dids


def commit_batch(con: duckdb.DuckDBPyConnection, work: BatchWork
                 ) -> tuple[StoreResult, int, tuple[set[str], set[str]] | None]:
    """A batch in the order its events came: departures, posts, thread replies, deletions, cursor.

    A post created and edited within one batch goes in as two pages, as it would
    in two batches: ``store_page`` keeps one version per page, and each version
    is a sighting of its own (its CID).
    """
    forgotten = store.forgotten_accounts(con)
    purged = store.purge_accounts(con, work.purge) if work.purge else 0
    result = StoreResult()
    replies = [p for p in work.replies if root_author(p) not in forgotten]
    result.skipped_opted_out += len(work.replies) - len(replies)
    pages = [Page(posts=run) for run in _distinct_runs(work.posts)] + [Page(posts=run) for run in
                                                                       _distinct_runs(replies)]
    pages.append(Page(deleted=work.deleted, cursor_key=CURSOR_KEY,
                      cursor=str(work.cursor) if work.cursor is not None else None))
    pages[0].accounts = work.accounts
    for page in pages:  # one call per page: a later version of a post must land after the earlier
        result.add(store_pages_in_transaction(con, [page], forgotten=forgotten)[0])
    result.purged_posts += store.drop_tagged_posts(con, work.left)  # counted with what consent removed
    return result, purged, load_known(con, *work.known_window) if work.known_window else None


def _distinct_runs(posts: list[Post]) -> list[list[Post]]:
    """The posts in order, cut wherever a URI comes back (a later version of a post in the same batch)."""
    runs: list[list[Post]] = []
    seen: set[str] = set()
    for post in posts:
        if not runs or post.uri in seen:
            runs.append([])
            seen = set()
        runs[-1].append(post)
        seen.add(post.uri)
    return runs
