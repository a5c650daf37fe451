"""A stream batch into the store, in one transaction with its cursor, and what the database says to follow.

The cursor moves only in the transaction that stores the events it covers, so
a crash loses and duplicates nothing (the writes are idempotent, and a restart
resumes a little before the cursor). The roots and accounts the stream follows
are read back here too: help requests other sources stored, and accounts with
anything stored, whose deletions and departures must be applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb

from collectors.clean_text import clean_text
from collectors.records import Account, Page, Post
from pipeline.collection.stream.consent import root_author
from pipeline.collection.stream.known import Known, KnownWindow, load_known
from pipeline.core import store
from pipeline.core.ingest import StoreResult, store_pages_in_transaction

CURSOR_KEY = "bluesky:jetstream"


@dataclass
class BatchWork:
    """One batch, ready to commit."""

    posts: list[Post]
    replies: list[Post]
    accounts: list[Account]
    deleted: list[str]
    purge: list[str]
    cursor: int | None
    known_window: KnownWindow | None  # re-read roots and accounts, when due
    left: list[str] = field(default_factory=list)  # tagged posts edited to drop the tag: no longer the community's


def commit_batch(con: duckdb.DuckDBPyConnection, work: BatchWork
                 ) -> tuple[StoreResult, int, Known | None]:
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


def commit_in_parts(con: duckdb.DuckDBPyConnection, work: BatchWork, dropped: Callable[[str], None]
                    ) -> tuple[StoreResult, int, Known | None]:
    """A batch :func:`commit_batch` could not store, in transactions of its own parts: what is refused is dropped.

    One item the database refuses (text no parser cleaned) must neither stop
    the stream nor have it retry the same batch for ever. The batch's items
    are halved until each refused one is alone, so one bad post among two
    thousand costs a couple of dozen small transactions; ``dropped`` is told
    about each refused item, in one line. Items go in the order
    ``commit_batch`` applies them, and the cursor last, once everything
    before it is stored or dropped: a crash part-way leaves the cursor where
    it was, and the writes are idempotent. A cursor that still cannot be
    stored raises: that is the database, not an item.
    """
    result, purged = StoreResult(), 0

    def attempt(items: list[BatchWork]) -> None:
        nonlocal purged
        try:
            with store.transaction(con):
                stored, count, _ = commit_batch(con, _joined(items))
        except Exception as exc:
            if len(items) == 1:
                dropped(f"{_item_name(items[0])} cannot be stored: {_first_line(exc)}")
                return
            middle = len(items) // 2
            attempt(items[:middle])
            attempt(items[middle:])
            return
        result.add(stored)
        purged += count

    items = _items(work)
    if items:
        attempt(items)
    with store.transaction(con):
        _, _, known = commit_batch(con, _joined([], cursor=work.cursor, known_window=work.known_window))
    return result, purged, known


def _items(work: BatchWork) -> list[BatchWork]:
    """The batch as one-item works, in the order commit_batch applies them (departures first)."""
    empty = BatchWork(posts=[], replies=[], accounts=[], deleted=[], purge=[], cursor=None, known_window=None)
    return ([replace(empty, purge=[did]) for did in work.purge] + [replace(empty, posts=[p]) for p in work.posts]
            + [replace(empty, replies=[p]) for p in work.replies]
            + [replace(empty, accounts=[a]) for a in work.accounts]
            + [replace(empty, deleted=[uri]) for uri in work.deleted]
            + [replace(empty, left=[uri]) for uri in work.left])


def _joined(items: list[BatchWork], cursor: int | None = None,
            known_window: KnownWindow | None = None) -> BatchWork:
    return BatchWork(posts=[p for w in items for p in w.posts], replies=[p for w in items for p in w.replies],
                     accounts=[a for w in items for a in w.accounts], deleted=[u for w in items for u in w.deleted],
                     purge=[d for w in items for d in w.purge], cursor=cursor, known_window=known_window,
                     left=[u for w in items for u in w.left])


def _item_name(item: BatchWork) -> str:
    for kind, names in (("post", [p.uri for p in item.posts]), ("reply", [p.uri for p in item.replies]),
                        ("account", [a.key for a in item.accounts]), ("deletion of", item.deleted),
                        ("departure from the tag of", item.left),
                        ("departure of", item.purge)):
        if names:
            return f"{kind} {clean_text(names[0])}"
    return "an empty part"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return clean_text(lines[0] if lines else type(exc).__name__)


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
