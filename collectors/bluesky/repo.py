"""The signed-in account's own repository: the one place that reads and writes its records over XRPC.

The follow-list sync (a list, its items, a starter pack) and the weekly summary
(posts) both write records into the account's repository. They share this
seam, so the protocol (getSession, getRecord, listRecords, putRecord,
createRecord, applyWrites) is written once, next to the connection that
carries it, and ``pipeline/`` needs no atproto import of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from atproto import models

from collectors.bluesky.connection import BlueskyConnection
from collectors.bluesky.errors import LoginRefused, MalformedAnswer, PassStopped, RequestFailed


class BlueskyRepo:
    """The repository of the account ``conn`` is signed in as."""

    def __init__(self, conn: BlueskyConnection) -> None:
        if conn.pds is None:
            raise LoginRefused("writing records needs a signed-in Bluesky account")
        self.conn = conn
        body = conn.query("com.atproto.server.getSession", None, client=conn.pds)
        did, handle = body.get("did"), body.get("handle")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise MalformedAnswer("com.atproto.server.getSession: no DID in the answer")
        self.did: str = did
        self.handle: str = handle if isinstance(handle, str) and handle else did

    def get(self, collection: str, rkey: str) -> dict | None:
        """The record's answer (``uri``, ``cid``, ``value``), or None when there is none at that key."""
        params = models.ComAtprotoRepoGetRecord.Params(repo=self.did, collection=collection, rkey=rkey)
        try:
            body = self.conn.query("com.atproto.repo.getRecord", params, client=self.conn.pds)
        except RequestFailed as exc:
            if exc.error == "RecordNotFound" or exc.status == 404:
                return None
            raise
        return body if isinstance(body.get("value"), dict) else None

    def records(self, collection: str) -> Iterator[dict]:
        """Every record of ``collection``, page by page; a paging cursor that comes back stops with an error."""
        cursor: str | None = None
        given: set[str] = set()  # a cursor coming back would page forever; a partial answer would misplan
        while True:
            params = models.ComAtprotoRepoListRecords.Params(repo=self.did, collection=collection, limit=100,
                                                             cursor=cursor)
            body = self.conn.query("com.atproto.repo.listRecords", params, client=self.conn.pds)
            records = body.get("records")
            if not isinstance(records, list):
                raise MalformedAnswer("com.atproto.repo.listRecords: no records array")
            yield from (r for r in records if isinstance(r, dict))
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not cursor or not records:
                return
            if cursor in given:
                raise PassStopped("com.atproto.repo.listRecords gave a paging cursor it had given before")
            given.add(cursor)

    def put(self, collection: str, rkey: str, record: dict) -> dict:
        return self.conn.procedure("com.atproto.repo.putRecord",
                                   {"repo": self.did, "collection": collection, "rkey": rkey, "record": record})

    def create(self, collection: str, rkey: str, record: dict) -> dict:
        """Create at a key chosen by the caller; a PDS refuses a second create at the same key (RequestFailed)."""
        return self.conn.procedure("com.atproto.repo.createRecord",
                                   {"repo": self.did, "collection": collection, "rkey": rkey, "record": record})

    def apply(self, writes: list[dict]) -> None:
        self.conn.procedure("com.atproto.repo.applyWrites", {"repo": self.did, "writes": writes})
