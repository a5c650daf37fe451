"""The replies under a Bluesky post, read with getPostThread: how help requests are re-checked.

Answers rarely carry the tag, so a request's thread is read on its own; a
thread can also say the request itself is gone (:class:`PostGone`), which the
pipeline needs to blank it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors.bluesky.errors import BlueskyError, MalformedAnswer, PostGone, RequestFailed
from collectors.bluesky.parse import parse_post_view
from collectors.bluesky.settings import BlueskySettings
from collectors.records import BLUESKY, VIA_THREAD, Post, SourceReport

if TYPE_CHECKING:  # the connection (and atproto under it) is imported when a thread is fetched: `peerdesk demo`
    from collectors.bluesky.connection import BlueskyConnection  # parses sample threads and never needs it


def fetch_thread(
    source: BlueskyConnection | BlueskySettings, uri: str, *, report: SourceReport | None = None
) -> list[Post]:
    """The replies under a post (not the post itself), oldest first, as ``VIA_THREAD`` posts.

    Used to re-check help requests, whose answers rarely carry the tag. Given
    settings instead of a connection, it reads the public AppView without an
    account. Replies that are gone or blocked are left out; a malformed reply
    costs itself (a line in ``report.errors``). Raises :class:`PostGone` when the
    post itself no longer exists, so the pipeline can blank it, and another
    :class:`BlueskyError` when the thread could not be read.
    """
    from collectors.bluesky.connection import open_bluesky

    if isinstance(source, BlueskySettings):
        with open_bluesky(
            source, None, None, report or SourceReport(source=BLUESKY, platform=BLUESKY)
        ) as conn:
            return _fetch_thread(conn, uri)
    return _fetch_thread(source, uri)


def _fetch_thread(conn: BlueskyConnection, uri: str) -> list[Post]:
    from atproto import models

    params = models.AppBskyFeedGetPostThread.Params(
        uri=uri, depth=conn.settings.thread_depth, parent_height=0
    )
    try:
        body = conn.query("app.bsky.feed.getPostThread", params)
    except RequestFailed as e:
        if e.error == "NotFound":
            raise PostGone(f"{uri} no longer exists") from None
        raise
    replies = thread_replies(body, uri, conn.report.errors)
    return conn.with_bios(replies)


def thread_replies(body: dict, uri: str, errors: list[str]) -> list[Post]:
    """The replies in a getPostThread answer, oldest first; raises PostGone for a deleted root."""
    thread = body.get("thread")
    if not isinstance(thread, dict):
        raise MalformedAnswer("app.bsky.feed.getPostThread: no thread")
    if thread.get("$type") == "app.bsky.feed.defs#notFoundPost":
        raise PostGone(f"{uri} no longer exists")
    if thread.get("$type") == "app.bsky.feed.defs#blockedPost":
        raise BlueskyError(f"{uri}: the thread is blocked for this account")
    replies: list[Post] = []
    stack = list(thread.get("replies") or [])
    while stack:
        node = stack.pop()
        if (
            not isinstance(node, dict)
            or node.get("$type", "app.bsky.feed.defs#threadViewPost") != "app.bsky.feed.defs#threadViewPost"
        ):
            continue  # notFoundPost / blockedPost placeholders: nothing to store
        try:
            replies.append(parse_post_view(node.get("post"), VIA_THREAD))
        except ValueError as e:
            errors.append(f"thread {uri}: skipped a reply: {e}")
        stack.extend(node.get("replies") or [])
    replies.sort(key=lambda p: (p.created_at, p.uri))
    return replies
