"""A few plain XRPC calls the integration tests make themselves, as any client would: httpx and JSON.

Kept apart from peerdesk's own client on purpose: the setup (accounts, app passwords, posts, a list) and the
read-back must not share code with what is under test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx


class XrpcFailed(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body


def call(base: str, nsid: str, *, params: dict | None = None, body: dict | None = None, token: str | None = None,
         ) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    url = f"{base}/xrpc/{nsid}"
    if body is None:
        r = httpx.get(url, params=params, headers=headers, timeout=30)
    else:
        r = httpx.post(url, json=body, headers=headers, timeout=30)
    data = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text
    if r.status_code != 200:
        raise XrpcFailed(r.status_code, data)
    return data


@dataclass
class Account:
    did: str
    handle: str
    password: str
    access: str


def create_account(pds: str, name: str) -> Account:
    handle, password = f"{name}.test", f"{name}-main-password"
    out = call(pds, "com.atproto.server.createAccount",
               body={"handle": handle, "email": f"{name}@example.org", "password": password})
    return Account(out["did"], out["handle"], password, out["accessJwt"])


def create_app_password(pds: str, account: Account, name: str = "peerdesk") -> str:
    return call(pds, "com.atproto.server.createAppPassword", body={"name": name}, token=account.access)["password"]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tag_facets(text: str) -> list[dict]:
    """A tag facet for every ``#word`` in ``text``, at its UTF-8 byte offsets, as the official clients write them."""
    facets, raw = [], text.encode("utf-8")
    for word in text.split():
        if word.startswith("#") and len(word) > 1:
            tag = word[1:].rstrip(".,!?")
            start = raw.find(f"#{tag}".encode())
            facets.append({"index": {"byteStart": start, "byteEnd": start + len(f"#{tag}".encode())},
                           "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    return facets


def create_record(pds: str, account: Account, collection: str, record: dict) -> dict:
    return call(pds, "com.atproto.repo.createRecord", token=account.access,
                body={"repo": account.did, "collection": collection, "record": {"$type": collection, **record}})


def post(pds: str, account: Account, text: str, reply_to: dict | None = None) -> dict:
    record: dict[str, Any] = {"text": text, "createdAt": now_iso(), "langs": ["en"], "facets": tag_facets(text)}
    if reply_to:
        record["reply"] = {"root": reply_to, "parent": reply_to}
    return create_record(pds, account, "app.bsky.feed.post", record)


def list_records(pds: str, did: str, collection: str) -> list[dict]:
    records, cursor = [], None
    for _ in range(50):
        params = {"repo": did, "collection": collection, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = call(pds, "com.atproto.repo.listRecords", params=params)
        records += page["records"]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            break
    return records


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``check`` until it holds: the AppView indexes the PDS's firehose asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
