"""Storing collector pages: consent, deduplication and idempotent batch upserts.

Every path that puts posts in the database comes through :func:`store_page`:
the collectors, ``peerdesk demo`` and the benchmarks. A page's posts, accounts,
sightings, deletions and cursor go in one transaction, so a process killed at
any moment leaves either all of a page or none of it, and a cursor never moves
past posts that were not committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from collectors.records import VIA_THREAD, Account, Page, Post
from pipeline import consent
from pipeline.request_rules import classify
from pipeline.store import forgotten_accounts, mark_deleted, now_utc, purge_accounts, transaction

_TS = pa.timestamp("us", tz="UTC")

POST_SCHEMA = pa.schema([
    ("uri", pa.string()), ("platform", pa.string()), ("url", pa.string()), ("author", pa.string()),
    ("created_at", _TS), ("edited_at", _TS), ("text", pa.string()), ("html", pa.string()),
    ("lang", pa.string()), ("tags", pa.list_(pa.string())), ("visibility", pa.string()),
    ("reply_to", pa.string()), ("reply_to_source", pa.string()), ("reply_to_local_id", pa.string()),
    ("reply_root", pa.string()), ("quote_of", pa.string()), ("via", pa.string()), ("raw", pa.string()),
    ("is_request", pa.bool_()), ("request_reasons", pa.list_(pa.string())),
])
ACCOUNT_SCHEMA = pa.schema([
    ("account", pa.string()), ("platform", pa.string()), ("handle", pa.string()),
    ("display_name", pa.string()), ("url", pa.string()), ("bot", pa.bool_()),
    ("discoverable", pa.bool_()), ("indexable", pa.bool_()), ("labels", pa.list_(pa.string())),
    ("avatar", pa.string()),
])
SIGHTING_SCHEMA = pa.schema([("source", pa.string()), ("local_id", pa.string()), ("uri", pa.string())])


@dataclass(slots=True)
class StoreResult:
    new_posts: int = 0
    new_requests: int = 0  # new posts that are help requests
    updated_posts: int = 0
    skipped_private: int = 0
    skipped_opted_out: int = 0
    purged_posts: int = 0
    deleted_posts: int = 0

    def add(self, other: StoreResult) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def store_page(con: duckdb.DuckDBPyConnection, page: Page, *, forgotten: set[str] | None = None,
               now: datetime | None = None) -> StoreResult:
    """Store one page and move its cursor, atomically."""
    with transaction(con):
        return store_page_in_transaction(con, page, forgotten=forgotten, now=now)


def store_page_in_transaction(con: duckdb.DuckDBPyConnection, page: Page, *, forgotten: set[str] | None = None,
                              now: datetime | None = None, link_replies: bool = True) -> StoreResult:
    """The body of :func:`store_page`, for callers that group several pages in one commit.

    Such callers pass ``link_replies=False`` and call :func:`link_replies` once after the
    last page: linking scans the table, which is a cost per commit, not per page.
    """
    now = now or now_utc()
    result = StoreResult()
    if forgotten is None:
        forgotten = forgotten_accounts(con)

    accounts: dict[str, Account] = {}
    reasons: dict[str, str] = {}
    for account in [*page.accounts, *(p.author for p in page.posts)]:
        accounts[account.key] = account
        reason = consent.opt_out_reason(account)
        if reason:
            reasons.setdefault(account.key, reason)
    refused = set(reasons) | (forgotten & accounts.keys()) | _still_opted_out(con, accounts, reasons, now)
    if reasons:
        _remember_opt_outs(con, reasons, now)

    keep: dict[str, Post] = {}
    for post in page.posts:
        if post.author.key in refused:
            result.skipped_opted_out += 1
            continue
        if not consent.storable_post(post):
            result.skipped_private += 1
            continue
        previous = keep.get(post.uri)
        # ON CONFLICT keeps the first of two equal keys, so pick the newest edit ourselves.
        if previous is None or _newer(post, previous):
            keep[post.uri] = post

    if refused:
        result.purged_posts = purge_accounts(con, sorted(refused))
    if keep:
        posts = list(keep.values())
        result.new_posts, result.new_requests, result.updated_posts = _upsert_posts(con, posts, now)
        _insert_sightings(con, posts, now)
        if link_replies:
            resolve_reply_parents(con)
    _upsert_accounts(con, [a for key, a in accounts.items() if key not in refused], now)
    if page.deleted:
        result.deleted_posts = mark_deleted(con, page.deleted, now)
    if page.cursor_key and page.cursor is not None:
        con.execute(
            "INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT (cursor_key) DO UPDATE "
            "SET position = excluded.position, updated_at = excluded.updated_at",
            [page.cursor_key, page.cursor, now],
        )
    return result


def _still_opted_out(con: duckdb.DuckDBPyConnection, accounts: dict[str, Account], reasons: dict[str, str],
                     now: datetime) -> set[str]:
    """Accounts that opted out earlier and whose copies here do not show they opted back in.

    A bio or field opt-out is visible everywhere, so a clean bio clears it; a
    ``noindex`` opt-out only clears when a copy states ``noindex: false``.
    """
    candidates = [k for k in accounts if k not in reasons]
    if not candidates:
        return set()
    con.register("candidates", pa.table({"account": pa.array(candidates, pa.string())}))
    try:
        known = dict(con.execute(
            "SELECT o.account, o.reason FROM opt_outs o JOIN candidates c USING (account)"
        ).fetchall())
    finally:
        con.unregister("candidates")
    still = {k for k, reason in known.items() if reason == "noindex" and accounts[k].noindex is not False}
    cleared = [k for k in known if k not in still]
    if cleared:
        con.register("cleared", pa.table({"account": pa.array(cleared, pa.string())}))
        con.execute("DELETE FROM opt_outs WHERE account IN (SELECT account FROM cleared)")
        con.unregister("cleared")
    return still


def _remember_opt_outs(con: duckdb.DuckDBPyConnection, reasons: dict[str, str], now: datetime) -> None:
    con.register("new_opt_outs", pa.table({"account": list(reasons), "reason": list(reasons.values())}))
    try:
        con.execute(
            "INSERT INTO opt_outs SELECT account, reason, $now FROM new_opt_outs "
            "ON CONFLICT (account) DO UPDATE SET reason = excluded.reason, seen_at = excluded.seen_at",
            {"now": now},
        )
    finally:
        con.unregister("new_opt_outs")


def _newer(a: Post, b: Post) -> bool:
    if a.edited_at is None:
        return False
    return b.edited_at is None or a.edited_at > b.edited_at


def _posts_table(posts: list[Post]) -> pa.Table:
    cols: dict[str, list] = {name: [] for name in POST_SCHEMA.names}
    for p in posts:
        cols["uri"].append(p.uri)
        cols["platform"].append(p.platform)
        cols["url"].append(p.url)
        cols["author"].append(p.author.key)
        cols["created_at"].append(p.created_at)
        cols["edited_at"].append(p.edited_at)
        cols["text"].append(p.text)
        cols["html"].append(p.html)
        cols["lang"].append(p.lang)
        cols["tags"].append(list(p.tags))
        cols["visibility"].append(p.visibility)
        cols["reply_to"].append(p.reply_to)
        cols["reply_to_source"].append(p.sighting.source if p.reply_to_local and p.sighting else None)
        cols["reply_to_local_id"].append(p.reply_to_local)
        cols["reply_root"].append(p.reply_root)
        cols["quote_of"].append(p.quote_of)
        cols["via"].append(p.via)
        cols["raw"].append(p.raw)
        if p.reply_to is None and p.reply_to_local is None and p.via != VIA_THREAD:
            verdict = classify(p.text, p.lang)
            cols["is_request"].append(verdict.is_request)
            cols["request_reasons"].append(list(verdict.reasons))
        else:  # replies are answers, never requests
            cols["is_request"].append(None)
            cols["request_reasons"].append(None)
    return pa.table(cols, schema=POST_SCHEMA)


def _upsert_posts(con: duckdb.DuckDBPyConnection, posts: list[Post], now: datetime) -> tuple[int, int, int]:
    """Insert unseen posts and apply newer edits; returns (new, new help requests, updated)."""
    batch = _posts_table(posts)
    con.register("batch_posts", batch)
    try:
        # An edit wins when it is newer than what we hold. Only edited rows of the batch are
        # joined, so the large text columns of unchanged posts are never read.
        edited = con.execute(
            """
            UPDATE post_store AS p SET
                text = b.text, html = b.html, raw = b.raw, tags = b.tags, is_request = b.is_request,
                request_reasons = b.request_reasons, edited_at = b.edited_at, updated_at = $now
            FROM (SELECT * FROM batch_posts WHERE edited_at IS NOT NULL) AS b
            WHERE p.uri = b.uri AND p.deleted_at IS NULL
              AND b.edited_at > coalesce(p.edited_at, '-infinity'::TIMESTAMPTZ)
            """,
            {"now": now},
        ).fetchall()[0][0]
        # A tag or list sighting upgrades a post first stored as a mere thread reply.
        upgraded = con.execute(
            f"""
            UPDATE post_store AS p SET via = b.via, updated_at = $now
            FROM batch_posts AS b
            WHERE p.uri = b.uri AND p.deleted_at IS NULL AND p.via = '{VIA_THREAD}' AND b.via <> '{VIA_THREAD}'
            """,
            {"now": now},
        ).fetchall()[0][0]
        updated = edited + upgraded
        inserted = con.execute(
            """
            WITH added AS (
            INSERT INTO post_store
            SELECT b.uri, b.platform, b.url, b.author, b.created_at, b.edited_at, b.text, b.html, b.lang,
                   b.tags, b.visibility, b.reply_to, b.reply_to_source, b.reply_to_local_id, b.reply_root,
                   b.quote_of, b.via, $now, $now, NULL, b.raw, b.is_request, b.request_reasons
            FROM batch_posts AS b ANTI JOIN post_store AS p ON p.uri = b.uri
            RETURNING is_request)
            SELECT count(*), count(*) FILTER (WHERE is_request) FROM added
            """,
            {"now": now},
        ).fetchall()[0]  # fetchall: DuckDB 2 keeps a half-read result open on the connection
    finally:
        con.unregister("batch_posts")
    return int(inserted[0]), int(inserted[1]), int(updated)


def _upsert_accounts(con: duckdb.DuckDBPyConnection, accounts: list[Account], now: datetime) -> None:
    if not accounts:
        return
    cols: dict[str, list] = {name: [] for name in ACCOUNT_SCHEMA.names}
    for a in accounts:
        cols["account"].append(a.key)
        cols["platform"].append(a.platform)
        cols["handle"].append(a.handle)
        cols["display_name"].append(a.display_name)
        cols["url"].append(a.url)
        cols["bot"].append(a.bot)
        cols["discoverable"].append(a.discoverable)
        cols["indexable"].append(a.indexable)
        cols["labels"].append(list(a.labels))
        cols["avatar"].append(a.avatar)
    con.register("batch_accounts", pa.table(cols, schema=ACCOUNT_SCHEMA))
    try:
        con.execute(
            """
            INSERT INTO account_store
            SELECT account, platform, handle, display_name, url, bot, discoverable, indexable, labels, avatar,
                   $now, $now
            FROM batch_accounts
            ON CONFLICT (account) DO UPDATE SET
                handle = excluded.handle, display_name = excluded.display_name, url = excluded.url,
                bot = excluded.bot, discoverable = excluded.discoverable, indexable = excluded.indexable,
                labels = excluded.labels, avatar = excluded.avatar, last_seen_at = excluded.last_seen_at
            """,
            {"now": now},
        )
    finally:
        con.unregister("batch_accounts")


def _insert_sightings(con: duckdb.DuckDBPyConnection, posts: list[Post], now: datetime) -> None:
    seen = [p for p in posts if p.sighting is not None]
    if not seen:
        return
    table = pa.table(
        {
            "source": [p.sighting.source for p in seen],  # type: ignore[union-attr]
            "local_id": [p.sighting.local_id for p in seen],  # type: ignore[union-attr]
            "uri": [p.uri for p in seen],
        },
        schema=SIGHTING_SCHEMA,
    )
    con.register("batch_sightings", table)
    try:
        con.execute(
            "INSERT INTO sightings SELECT source, local_id, uri, $now FROM batch_sightings "
            "ON CONFLICT (source, local_id) DO NOTHING",
            {"now": now},
        )
    finally:
        con.unregister("batch_sightings")


MAX_THREAD_DEPTH = 64


def resolve_reply_parents(con: duckdb.DuckDBPyConnection) -> None:
    """Link replies to their parents and roots as soon as both ends are stored.

    Mastodon names a parent by its local id on the instance where the reply
    was seen; once that id has been sighted, we know the parent's uri. A reply's
    root (the help request it answers) is its parent's root, or the parent.
    """
    con.execute(
        """
        UPDATE post_store AS p SET reply_to = s.uri
        FROM sightings AS s
        WHERE p.reply_to IS NULL AND p.reply_to_local_id IS NOT NULL
          AND s.source = p.reply_to_source AND s.local_id = p.reply_to_local_id
        """
    )
    for _ in range(MAX_THREAD_DEPTH):
        changed = con.execute(
            """
            UPDATE post_store AS c SET reply_root = coalesce(p.reply_root, p.uri)
            FROM post_store AS p
            WHERE c.reply_root IS NULL AND c.reply_to IS NOT NULL AND p.uri = c.reply_to
              AND (p.reply_to IS NULL AND p.reply_to_local_id IS NULL OR p.reply_root IS NOT NULL)
            """
        ).fetchone()[0]
        if not changed:
            break
