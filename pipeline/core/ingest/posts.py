"""Posts and sightings of a batch: as Arrow columns, classified, then inserted or updated by their own server."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from collectors.records import VIA_THREAD, Page, Post
from pipeline.core.store import registered
from pipeline.detector.rules import Verdict, classify

_TS = pa.timestamp("us", tz="UTC")

POST_SCHEMA = pa.schema([
    ("uri", pa.string()), ("platform", pa.string()), ("url", pa.string()), ("author", pa.string()),
    ("created_at", _TS), ("edited_at", _TS), ("text", pa.string()), ("html", pa.string()),
    ("lang", pa.string()), ("tags", pa.list_(pa.string())), ("visibility", pa.string()),
    ("reply_to", pa.string()), ("reply_to_source", pa.string()), ("reply_to_local_id", pa.string()),
    ("reply_root", pa.string()), ("quote_of", pa.string()), ("via", pa.string()),
    ("is_request", pa.bool_()), ("request_reasons", pa.list_(pa.string())), ("from_origin", pa.bool_()),
])
SIGHTING_SCHEMA = pa.schema([("source", pa.string()), ("local_id", pa.string()), ("uri", pa.string())])


def _posts_table(posts: list[Post], from_origin: list[bool]) -> pa.Table:
    """The batch as columns: one comprehension per column is about twice as fast as appending row by row."""
    verdicts = [_verdict(p) if _may_ask(p) else None for p in posts]  # replies are answers, never requests
    return pa.table({
        "uri": [p.uri for p in posts],
        "platform": [p.platform for p in posts],
        "url": [p.url for p in posts],
        "author": [p.author.key for p in posts],
        "created_at": [p.created_at for p in posts],
        "edited_at": [p.edited_at for p in posts],
        "text": [p.text for p in posts],
        "html": [p.html for p in posts],
        "lang": [p.lang for p in posts],
        "tags": [p.tags for p in posts],
        "visibility": [p.visibility for p in posts],
        "reply_to": [p.reply_to for p in posts],
        "reply_to_source": [p.sighting.source if p.reply_to_local and p.sighting else None for p in posts],
        "reply_to_local_id": [p.reply_to_local for p in posts],
        "reply_root": [p.reply_root for p in posts],
        "quote_of": [p.quote_of for p in posts],
        "via": [p.via for p in posts],
        "is_request": [v.is_request if v else None for v in verdicts],
        "request_reasons": [v.labels() if v else None for v in verdicts],
        "from_origin": from_origin,
    }, schema=POST_SCHEMA)


def _verdict(post: Post) -> Verdict:
    verdict = _verdicts.pop((post.text, post.lang), None)
    return verdict if verdict is not None else classify(post.text, post.lang)


# Verdicts worked out ahead by :func:`preclassify`, taken (and dropped) when the post is stored.
_verdicts: dict[tuple[str, str | None], Verdict] = {}
_VERDICTS_HELD = 50_000  # pages that never reach the writer must not grow it without end


def preclassify(page: Page) -> None:
    """Classify a page's posts before it reaches the writer, on the thread that parsed it.

    The writer holds the database; the thread that fetched and parsed the page
    is otherwise waiting on the network. Classifying there keeps the writer's
    share of the work short. Purely an optimisation: a post whose verdict is
    not waiting is classified when stored.
    """
    if len(_verdicts) > _VERDICTS_HELD:
        _verdicts.clear()
    for post in page.posts:
        if _may_ask(post) and (key := (post.text, post.lang)) not in _verdicts:  # a federated copy: once
            _verdicts[key] = classify(post.text, post.lang)


def _may_ask(post: Post) -> bool:
    """Only top-level posts found for themselves can be requests; replies are answers."""
    return post.reply_to is None and post.reply_to_local is None and post.via != VIA_THREAD


def upsert_posts(con: duckdb.DuckDBPyConnection, posts: list[Post], from_origin: list[bool], now: datetime
                  ) -> tuple[list[str], list[str], list[str]]:
    """Insert unseen posts and apply newer edits; returns the uris new, new help requests, and updated.

    Only the post's own server changes a stored post: its copy wins when its
    edit is newer than what we hold, or when what we hold came from a copy
    elsewhere (which may have been altered, or dated in the future to block
    later edits). Another instance's copy only ever adds a post not stored yet.
    """
    with registered(con, "batch_posts", _posts_table(posts, from_origin)):
        # Only the origin's edited rows, and those replacing a copy, are joined, so the large
        # text columns of unchanged posts are never read.
        edited = con.execute(
            """
            UPDATE post_store AS p SET
                text = b.text, html = b.html, tags = b.tags, is_request = b.is_request,
                request_reasons = b.request_reasons, edited_at = b.edited_at, from_origin = true, updated_at = $now
            FROM (SELECT * FROM batch_posts WHERE from_origin AND (edited_at IS NOT NULL
                  OR uri IN (SELECT uri FROM post_store WHERE from_origin = false))) AS b
            WHERE p.uri = b.uri AND p.deleted_at IS NULL
              AND (b.edited_at > coalesce(p.edited_at, '-infinity'::TIMESTAMPTZ)
                   OR (p.from_origin = false AND (b.text, b.edited_at) IS DISTINCT FROM (p.text, p.edited_at)))
            RETURNING p.uri
            """,
            {"now": now},
        ).fetchall()
        # The origin's copy of a post first stored from elsewhere, unchanged: now known to be its own.
        con.execute("UPDATE post_store SET from_origin = true WHERE from_origin = false AND deleted_at IS NULL "
                    "AND uri IN (SELECT uri FROM batch_posts WHERE from_origin)")
        # A tag or list sighting upgrades a post first stored as a mere thread reply.
        upgraded = con.execute(
            f"""
            UPDATE post_store AS p SET via = b.via, updated_at = $now
            FROM (SELECT uri, via FROM batch_posts WHERE via <> '{VIA_THREAD}') AS b
            WHERE p.uri = b.uri AND p.deleted_at IS NULL AND p.via = '{VIA_THREAD}'
            RETURNING p.uri
            """,
            {"now": now},
        ).fetchall()
        inserted = con.execute(
            f"""
            INSERT INTO post_store ({", ".join(_POST_COLUMNS)})
            SELECT b.uri, b.platform, b.url, b.author, b.created_at, b.edited_at, b.text, b.html, b.lang,
                   b.tags, b.visibility, b.reply_to, b.reply_to_source, b.reply_to_local_id, b.reply_root,
                   b.quote_of, b.via, $now, $now, NULL, b.is_request, b.request_reasons, b.from_origin
            FROM batch_posts AS b ANTI JOIN post_store AS p ON p.uri = b.uri
            RETURNING uri, is_request
            """,
            {"now": now},
        ).fetchall()  # fetchall: DuckDB 2 keeps a half-read result open on the connection
    return ([uri for uri, _ in inserted], [uri for uri, is_request in inserted if is_request],
            [uri for (uri,) in edited] + [uri for (uri,) in upgraded])


_POST_COLUMNS = (
    "uri", "platform", "url", "author", "created_at", "edited_at", "text", "html", "lang", "tags", "visibility",
    "reply_to", "reply_to_source", "reply_to_local_id", "reply_root", "quote_of", "via", "first_seen_at",
    "updated_at", "deleted_at", "is_request", "request_reasons", "from_origin",
)


def insert_sightings(con: duckdb.DuckDBPyConnection, sightings: dict[tuple[str, str], str], now: datetime) -> None:
    if not sightings:
        return
    table = pa.table(
        {
            "source": [source for source, _ in sightings],
            "local_id": [local_id for _, local_id in sightings],
            "uri": list(sightings.values()),
        },
        schema=SIGHTING_SCHEMA,
    )
    with registered(con, "batch_sightings", table):
        con.execute(
            "INSERT INTO sightings SELECT b.source, b.local_id, b.uri, $now FROM batch_sightings AS b "
            "ANTI JOIN sightings AS s ON s.source = b.source AND s.local_id = b.local_id",
            {"now": now},
        )
