"""How a real PDS and AppView answer the calls peerdesk depends on: one table, checked against both servers.

Each case was first observed on the real stack (@atproto/dev-env 0.6.7, see docs/notes/real-servers.md).
``tests/test_fake_bluesky_contract.py`` runs the cases against tests/fakes/bluesky.py in the default run, so a
fake that drifts from the real server fails there; ``tests/integration/test_contract_real.py`` runs the same
cases against the real stack, so a real server that changes fails there. A case gets a :class:`Target` (where
to send it, and a signed-in account with one post at :data:`TAKEN_RKEY`) and returns what came back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

TAKEN_RKEY = "3lbbbbbbbbbb2"  # a record key each target's account already has an app.bsky.feed.post at
FREE_RKEY = "3lzzzzzzzzzz2"  # a record key nothing is at
POST = "app.bsky.feed.post"


@dataclass
class Target:
    pds: str
    appview: str
    did: str
    access: str
    refresh: str
    other_did: str  # another account on the same PDS

    def get(self, base: str, nsid: str, params: dict, token: str | None = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{base}/xrpc/{nsid}", params=params, headers=headers, timeout=30)

    def post(self, nsid: str, body: dict | None, token: str | None = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token or self.access}"}
        if body is None:
            return httpx.post(f"{self.pds}/xrpc/{nsid}", headers=headers, timeout=30)
        return httpx.post(f"{self.pds}/xrpc/{nsid}", json=body, headers=headers, timeout=30)


def record(text: str = "hello #sololibrarians", **extra: object) -> dict:
    return {"$type": POST, "text": text, "createdAt": "2026-11-20T12:00:00.000Z", **extra}


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Target], httpx.Response]
    status: int
    error: str | None = None  # the XRPC error name, when the answer is an error
    check: Callable[[dict], bool] | None = None  # on the JSON body, when it is not an error


def _list_last_page(t: Target) -> httpx.Response:
    """listRecords with room for every record: a real PDS still gives a cursor (the last rkey)."""
    return t.get(t.pds, "com.atproto.repo.listRecords", {"repo": t.did, "collection": POST, "limit": 100})


def _list_after_last(t: Target) -> httpx.Response:
    first = _list_last_page(t).json()
    return t.get(t.pds, "com.atproto.repo.listRecords",
                 {"repo": t.did, "collection": POST, "limit": 100, "cursor": first.get("cursor") or FREE_RKEY})


CASES = [
    Case("createRecord at a taken rkey is a 500, not a 400 (a retry of a landed write)",
         lambda t: t.post("com.atproto.repo.createRecord",
                          {"repo": t.did, "collection": POST, "rkey": TAKEN_RKEY, "record": record()}),
         500, "InternalServerError"),
    Case("applyWrites creating at a taken rkey is a 500",
         lambda t: t.post("com.atproto.repo.applyWrites", {"repo": t.did, "writes": [
             {"$type": "com.atproto.repo.applyWrites#create", "collection": POST, "rkey": TAKEN_RKEY,
              "value": record()}]}),
         500, "InternalServerError"),
    Case("applyWrites deleting a record that is not there is a 500",
         lambda t: t.post("com.atproto.repo.applyWrites", {"repo": t.did, "writes": [
             {"$type": "com.atproto.repo.applyWrites#delete", "collection": POST, "rkey": FREE_RKEY}]}),
         500, "InternalServerError"),
    Case("deleteRecord of a record that is not there is an empty 200",
         lambda t: t.post("com.atproto.repo.deleteRecord", {"repo": t.did, "collection": POST, "rkey": FREE_RKEY}),
         200, check=lambda body: body == {}),
    Case("a record the lexicon refuses is a 400 InvalidRequest (not InvalidRecord)",
         lambda t: t.post("com.atproto.repo.createRecord",
                          {"repo": t.did, "collection": POST, "record": {"$type": POST, "text": "no date"}}),
         400, "InvalidRequest"),
    Case("a post over 300 graphemes is a 400 InvalidRequest",
         lambda t: t.post("com.atproto.repo.createRecord",
                          {"repo": t.did, "collection": POST, "record": record("x" * 301)}),
         400, "InvalidRequest"),
    Case("a write to another account's repo is a 401 AuthenticationRequired",
         lambda t: t.post("com.atproto.repo.createRecord",
                          {"repo": t.other_did, "collection": POST, "record": record()}),
         401, "AuthenticationRequired"),
    Case("a write to a repo the PDS does not host is a 403 AccountNotFound",
         lambda t: t.post("com.atproto.repo.createRecord",
                          {"repo": "did:plc:someoneelse00000000000000", "collection": POST, "record": record()}),
         403, "AccountNotFound"),
    Case("listRecords gives a cursor on its last page too",
         _list_last_page, 200, check=lambda body: body.get("cursor") == body["records"][-1]["uri"].rsplit("/", 1)[1]),
    Case("listRecords after the last record is empty and has no cursor",
         _list_after_last, 200, check=lambda body: body == {"records": []}),
    Case("listRecords refuses a limit over 100",
         lambda t: t.get(t.pds, "com.atproto.repo.listRecords", {"repo": t.did, "collection": POST, "limit": 101}),
         400, "InvalidRequest"),
    Case("getRecord of a missing record is a 400 RecordNotFound",
         lambda t: t.get(t.pds, "com.atproto.repo.getRecord", {"repo": t.did, "collection": POST, "rkey": FREE_RKEY}),
         400, "RecordNotFound"),
    Case("refreshSession with a body is refused: its lexicon has no input",
         lambda t: t.post("com.atproto.server.refreshSession", {}, token=t.refresh),
         400, "InvalidRequest"),
    Case("resolveHandle of an unknown handle is a 400 HandleNotFound",
         lambda t: t.get(t.pds, "com.atproto.identity.resolveHandle", {"handle": "nobody-here.test"}),
         400, "HandleNotFound"),
    Case("searchPosts through the PDS needs a session",
         lambda t: t.get(t.pds, "app.bsky.feed.searchPosts", {"q": "#sololibrarians"}),
         401, "AuthMissing"),
    Case("getListFeed of a list that does not exist is an empty feed, not an error",
         lambda t: t.get(t.appview, "app.bsky.feed.getListFeed",
                         {"list": f"at://{t.did}/app.bsky.graph.list/{FREE_RKEY}"}),
         200, check=lambda body: body == {"feed": []}),
    Case("getList of a list that does not exist is a 400 InvalidRequest",
         lambda t: t.get(t.appview, "app.bsky.graph.getList",
                         {"list": f"at://{t.did}/app.bsky.graph.list/{FREE_RKEY}"}),
         400, "InvalidRequest"),
]


def verdict(case: Case, target: Target) -> str | None:
    """None when the server answered as the case says, else one line saying what it answered instead."""
    answer = case.run(target)
    try:
        body = answer.json()
    except ValueError:
        body = None
    got_error = body.get("error") if isinstance(body, dict) else None
    if answer.status_code != case.status or (case.error and got_error != case.error):
        return f"{case.name}: expected {case.status} {case.error or ''}, got {answer.status_code} {body}"
    if case.check and not (isinstance(body, dict) and case.check(body)):
        return f"{case.name}: unexpected body {body}"
    return None
