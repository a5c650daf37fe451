"""Posting the summary thread to Bluesky, through the collector's connection (one client in the project).

Each post is a ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post``
with its facets and, after the first, a ``reply`` whose ``root`` is the first
post and whose ``parent`` the previous one (strong refs: uri and cid).

The record key is not left to the PDS: it is a TID derived from the week, the
position in the thread and the community, so the same post always lands at the
same key. If a post was created but its answer lost (or the run died before
recording it), the next ``createRecord`` at that key is refused and the record
already there is read back instead of posting a second copy. The connection
retries 5xx answers and timeouts, refreshes the session and honours rate
limits; with a fixed key those retries are as harmless as Mastodon's
``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from collectors.bluesky.connection import BlueskyConnection
from collectors.bluesky.errors import BlueskyError, RequestFailed
from collectors.bluesky.parse import format_time
from collectors.bluesky.repo import BlueskyRepo
from collectors.bluesky.tid import tid
from collectors.records import BLUESKY, SourceReport
from pipeline.collection import bluesky_source
from pipeline.core.settings import Settings
from pipeline.core.store import now_utc
from pipeline.signin import needs
from pipeline.summary.compose import Summary, Week
from pipeline.summary.publish import Planned, Posted, PublishError, Remote, ThreadReport, publish_thread

POST = "app.bsky.feed.post"
PURPOSE = "posting to Bluesky"
T = TypeVar("T")


def thread_tid(week: Week, seq: int, community: str) -> str:
    """A TID record key for post ``seq`` of ``week``'s thread: the week's end plus ``seq`` µs, a community clock id.

    Deterministic, so a retry or a resumed run addresses the same record; the
    clock id keeps two communities posting from one account apart.
    """
    micros = int(week.end.timestamp()) * 1_000_000 + seq
    return tid(micros, clock_id=int(hashlib.sha256(community.encode("utf-8")).hexdigest(), 16))


class BlueskyPoster:
    """The signed-in account's repository, posting one thread."""

    platform = "bluesky"

    def __init__(self, conn: BlueskyConnection, *, community: str, language: str | None = None,
                 clock: Callable[[], datetime] = now_utc) -> None:
        if conn.pds is None:
            raise PublishError(needs.bluesky_account(PURPOSE))
        self.conn, self.community, self.language, self._clock = conn, community, language, clock
        self._repo: BlueskyRepo | None = None

    def repo(self) -> BlueskyRepo:
        """The signed-in account's repository (its DID to write to, its handle for the posts' web links)."""
        if self._repo is None:
            self._repo = self._safely(lambda: BlueskyRepo(self.conn))
        return self._repo

    def key(self, week: Week, seq: int) -> str:
        return thread_tid(week, seq, self.community)

    def post(self, item: Planned, key: str, thread: Sequence[Posted]) -> Remote:
        record: dict[str, Any] = {"$type": POST, "text": item.text, "createdAt": format_time(self._clock())}
        if self.language:
            record["langs"] = [self.language]
        if item.facets:
            record["facets"] = item.facets
        if thread:
            root, parent = thread[0], thread[-1]
            if not (root.uri and root.cid and parent.uri and parent.cid):
                raise PublishError("the thread's earlier posts have no uri and cid to reply to")
            record["reply"] = {"root": {"uri": root.uri, "cid": root.cid},
                               "parent": {"uri": parent.uri, "cid": parent.cid}}
        repo = self.repo()
        try:
            answer = repo.create(POST, key, record)
        except RequestFailed as exc:
            existing = self._safely(lambda: repo.get(POST, key))  # made by an attempt whose answer was lost?
            if existing is None:
                raise PublishError(f"Bluesky did not take the post: {exc}") from None
            answer = existing
        except BlueskyError as exc:
            raise PublishError(str(exc)) from None
        uri, cid = answer.get("uri"), answer.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            raise PublishError("com.atproto.repo.createRecord: no uri and cid in the answer")
        return Remote(remote_id=key, uri=uri, cid=cid, url=f"https://bsky.app/profile/{repo.handle}/post/{key}")

    @staticmethod
    def _safely(call: Callable[[], T]) -> T:
        try:
            return call()
        except BlueskyError as exc:
            raise PublishError(str(exc)) from None


def check(settings: Settings) -> None:
    """:class:`needs.Missing` before anything is composed or sent, when there is no account to post as."""
    bluesky_source.require_account(settings, PURPOSE)


def publish(settings: Settings, composed: Summary) -> ThreadReport:
    """Post what is missing of the week's thread as the signed-in account; a refusal is the report's error."""
    report = SourceReport(source=BLUESKY, platform=BLUESKY)
    try:
        with bluesky_source.connect(settings, report) as conn:
            poster = BlueskyPoster(conn, community=settings.community, language=composed.language)
            return publish_thread(settings.db_path, composed, poster)
    except (BlueskyError, PublishError) as exc:
        return ThreadReport(BLUESKY, composed.week.label, error=str(exc))
