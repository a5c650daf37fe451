"""A local Bluesky (PDS + AppView) that speaks XRPC over real HTTP, for tests and demos.

On :class:`tests.fakes.server.FakeServer`'s plumbing (a threaded HTTP server on
127.0.0.1), with its own request log and switches. It serves the sample community in ``data/sample/bluesky`` in the wire
shapes of the lexicons, issues JWT-shaped session tokens that the atproto client
can decode, answers errors as XRPC does (``{"error", "message"}``), sends the
``ratelimit-*`` headers, and records every request so tests can assert exactly
what was called. Switches (attributes and ``*_next`` methods) inject faults.

    with FakeBluesky() as fake:
        settings = BlueskySettings(service=fake.url, appview=fake.url, ...)
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import regex

from tests.fakes.server import FakeServer, Reply, Request

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample" / "bluesky"
DEFAULT_HANDLE = "peerdesk-test.bsky.social"
DEFAULT_PASSWORD = "abcd-efgh-ijkl-mnop"
DEFAULT_DID = "did:plc:peerdesktestaccount0000"


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    nsid: str
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: dict | None = None

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Fault:
    kind: str  # "status" | "slow" | "garbage" | "ratelimit" | "exhausted" | "lost" | "trickle" | "gzip" | "pass"
    times: int = 1
    status: int = 500
    seconds: float = 0.0
    reset_in: float = 0.0
    body: bytes = b""


@dataclass
class _Tokens:
    did: str
    handle: str
    refresh: str
    access: str
    expired: bool = False


@dataclass
class FakeState:
    posts: list[dict] = field(default_factory=list)  # searchable PostViews, newest first
    list_feeds: dict[str, list[dict]] = field(default_factory=dict)
    threads: dict[str, dict] = field(default_factory=dict)
    profiles: dict[str, dict] = field(default_factory=dict)  # did -> ProfileViewDetailed


def load_sample(directory: Path = SAMPLE_DIR) -> FakeState:
    """The sample community, as the endpoints will serve it."""
    state = FakeState()
    state.posts = json.loads((directory / "search_posts.json").read_text(encoding="utf-8"))["posts"]
    feed = json.loads((directory / "list_feed.json").read_text(encoding="utf-8"))
    state.list_feeds[feed["list"]] = feed["feed"]
    for path in sorted((directory / "threads").glob("*.json")):
        answer = json.loads(path.read_text(encoding="utf-8"))
        state.threads[answer["thread"]["post"]["uri"]] = answer
    for profile in json.loads((directory / "profiles.json").read_text(encoding="utf-8"))["profiles"]:
        state.profiles[profile["did"]] = profile
    return state


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sort_at(view: dict) -> str:
    """sortAt as the AppView computes it: the earlier of createdAt and indexedAt (indexedAt if odd)."""
    created = str(view.get("record", {}).get("createdAt", ""))
    indexed = view["indexedAt"]
    try:
        parsed = datetime.fromisoformat(created)
    except ValueError:
        return _norm(indexed)
    if parsed.tzinfo is None:
        return _norm(indexed)
    return min(_norm(created), _norm(indexed))


def _norm(value: str) -> str:
    """A comparable UTC timestamp string with milliseconds."""
    when = datetime.fromisoformat(value).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def post_tags(view: dict) -> set[str]:
    record = view.get("record", {})
    tags = {str(t).lower() for t in record.get("tags", [])}
    for facet in record.get("facets", []) or []:
        for feature in facet.get("features", []):
            if feature.get("$type") == "app.bsky.richtext.facet#tag":
                tags.add(str(feature.get("tag", "")).lower())
    return tags


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}


class FakeBluesky(FakeServer):
    """The server, its data, its switches and its request log (by NSID, not the base's by path)."""

    content_type = None  # every XRPC answer names its own

    def __init__(self, state: FakeState | None = None) -> None:
        super().__init__()
        self.state = state or load_sample()
        self.accounts = {DEFAULT_HANDLE: (DEFAULT_DID, DEFAULT_PASSWORD)}
        # What createSession scopes its access token to: an app password's session, or (a test sets
        # "com.atproto.access") one made with the account's own password.
        self.access_scope = "com.atproto.appPass"
        self.requests: list[Recorded] = []  # type: ignore[assignment]
        self.search_cap = 10_000
        self.cap_mode = "stop"  # "stop": no cursor past the cap; "error": 400 for a cursor past it
        # Post uris the AppView will not show (blocks, takedowns): dropped from a page after it is cut,
        # its cursor kept, as the real AppView does (searchPosts.ts, getListFeed.ts).
        self.hidden: set[str] = set()
        self.require_auth = {"app.bsky.feed.searchPosts"}
        self.next_access_ttl: int | None = None  # one-shot lifetime (seconds) of the next access token
        self.rate_limit = 3000
        self.cursor_loop = False  # searchPosts, getListFeed, listRecords answer paging cursors 1, 2, 1...: no progress
        self._remaining = self.rate_limit
        self._faults: dict[str, list[Fault]] = defaultdict(list)
        self._sessions: list[_Tokens] = []
        self._serial = itertools.count(1)

    @property
    def url(self) -> str:
        return self.base

    def serve(self, request: Request) -> Reply:
        """XRPC over the shared plumbing: the NSID from the path, a procedure's JSON body, lower-cased headers."""
        body: dict | None = None
        if request.method == "POST" and request.body:  # no body at all is what a procedure without input requires
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = {}
            body = parsed if isinstance(parsed, dict) else {}
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, out, payload = self.handle(request.method, request.path.removeprefix("/xrpc/"), request.query,
                                           headers, body)
        trickle = float(out.pop(TRICKLE_HEADER, 0))
        return Reply(status, payload, out, trickle=trickle)

    # -- switches

    def fail_next(self, nsid: str, status: int = 500, times: int = 1) -> None:
        self._faults[nsid].append(Fault("status", times=times, status=status))

    def slow_next(self, nsid: str, seconds: float, times: int = 1) -> None:
        self._faults[nsid].append(Fault("slow", times=times, seconds=seconds))

    def garbage_next(self, nsid: str, body: bytes = b"<html>upstream error</html>", times: int = 1) -> None:
        """A 200 answer labelled JSON whose body is ``body`` (by default not JSON at all)."""
        self._faults[nsid].append(Fault("garbage", times=times, body=body))

    def rate_limit_next(self, nsid: str, reset_in: float, times: int = 1) -> None:
        """429 RateLimitExceeded, with the window resetting ``reset_in`` seconds from now."""
        self._faults[nsid].append(Fault("ratelimit", times=times, reset_in=reset_in))

    def exhaust_next(self, nsid: str, reset_in: float, times: int = 1) -> None:
        """A normal answer whose headers say the budget is spent (``ratelimit-remaining: 0``)."""
        self._faults[nsid].append(Fault("exhausted", times=times, reset_in=reset_in))

    def lose_answer_next(self, nsid: str, status: int = 502, times: int = 1) -> None:
        """Carry the call out, then answer ``status`` as a proxy does when the answer is lost on its way back."""
        self._faults[nsid].append(Fault("lost", times=times, status=status))

    def pass_next(self, nsid: str, times: int = 1) -> None:
        """Answer the next ``times`` calls normally, so a fault queued after this lands on a later call."""
        self._faults[nsid].append(Fault("pass", times=times))

    def trickle_next(self, nsid: str, seconds_per_byte: float, times: int = 1) -> None:
        """A normal answer whose body leaves a byte every ``seconds_per_byte``: a slow-loris server."""
        self._faults[nsid].append(Fault("trickle", times=times, seconds=seconds_per_byte))

    def gzip_next(self, nsid: str, body: bytes, times: int = 1) -> None:
        """A 200 labelled JSON whose body is ``body`` (already gzipped: a bomb, say) with ``content-encoding: gzip``."""
        self._faults[nsid].append(Fault("gzip", times=times, body=body))

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now answers 400 ExpiredToken (the server's clock says so)."""
        with self._lock:
            for session in self._sessions:
                session.expired = True

    def calls(self, nsid: str) -> list[Recorded]:
        return [r for r in self.requests if r.nsid == nsid]

    def add_posts(self, views: list[dict]) -> None:
        """New searchable posts; an author without a profile here gets a plain one, as every account that can
        post has one on the AppView (getProfiles leaves out only accounts that are gone)."""
        for view in views:
            author = view.get("author")
            if not isinstance(author, dict) or not isinstance(author.get("did"), str):
                continue  # a malformed view a test serves on purpose
            self.state.profiles.setdefault(author["did"], {
                "did": author["did"], "handle": author["handle"], "displayName": author.get("displayName", ""),
                "description": "", "labels": author.get("labels", [])})
        self.state.posts = sorted(self.state.posts + views, key=_sort_at, reverse=True)

    # -- tokens

    def _jwt(self, did: str, scope: str, ttl: int) -> str:
        now = int(time.time())
        header = {"typ": "at+jwt" if scope != "com.atproto.refresh" else "refresh+jwt", "alg": "ES256K"}
        payload = {
            "scope": scope,
            "sub": did,
            "aud": "did:web:fake.bsky.test",
            "iat": now,
            "exp": now + ttl,
            "jti": f"fake-{next(self._serial)}",
        }
        signature = hashlib.sha256(json.dumps(payload).encode()).digest()
        return ".".join(_b64(json.dumps(x).encode()) for x in (header, payload)) + "." + _b64(signature)

    def _issue(self, did: str, handle: str) -> dict:
        ttl = self.next_access_ttl if self.next_access_ttl is not None else 7200
        self.next_access_ttl = None
        tokens = _Tokens(
            did,
            handle,
            access=self._jwt(did, self.access_scope, ttl),
            refresh=self._jwt(did, "com.atproto.refresh", 90 * 86400),
        )
        self._sessions.append(tokens)
        did_doc = {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{handle}"],
            "service": [
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.url}
            ],
        }
        return {
            "did": did,
            "handle": handle,
            "accessJwt": tokens.access,
            "refreshJwt": tokens.refresh,
            "didDoc": did_doc,
            "active": True,
            "email": "organiser@example.org",
            "emailConfirmed": True,
        }

    def _bearer(self, headers: dict[str, str]) -> str | None:
        value = headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def _check_access(self, nsid: str, headers: dict[str, str]) -> None:
        token = self._bearer(headers)
        if token is None:
            if nsid in self.require_auth:
                raise XrpcError(401, "AuthMissing", "Authentication Required")
            return
        session = next((s for s in self._sessions if s.access == token), None)
        if session is None:
            raise XrpcError(401, "InvalidToken", "Token could not be verified")
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        if session.expired or payload["exp"] < time.time():
            raise XrpcError(400, "ExpiredToken", "Token has expired")

    # -- dispatch

    def handle(
        self, method: str, nsid: str, params: dict[str, list[str]], headers: dict[str, str], body: dict | None
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(Recorded(method, nsid, params, headers, body))
            fault = self._take_fault(nsid)
            self._remaining = max(self._remaining - 1, 1)
            rate = {
                "ratelimit-limit": str(self.rate_limit),
                "ratelimit-remaining": str(self._remaining),
                "ratelimit-reset": str(int(time.time()) + 300),
                "ratelimit-policy": f"{self.rate_limit};w=300",
            }
        if fault and fault.kind == "exhausted":
            rate.update(
                {"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time() + fault.reset_in))}
            )
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)  # the behaviour under test: a slow server
        if fault and fault.kind == "garbage":
            return 200, {**rate, "content-type": "application/json; charset=utf-8"}, fault.body
        if fault and fault.kind == "gzip":
            return 200, {**rate, "content-type": "application/json", "content-encoding": "gzip"}, fault.body
        try:
            if fault and fault.kind == "ratelimit":
                reset = str(int(time.time() + fault.reset_in))
                raise XrpcError(
                    429,
                    "RateLimitExceeded",
                    "Rate Limit Exceeded",
                    {"ratelimit-remaining": "0", "ratelimit-reset": reset},
                )
            if fault and fault.kind == "status":
                raise XrpcError(fault.status, "InternalServerError", "Internal Server Error")
            route = _ROUTES.get(nsid)
            if route is None:
                raise XrpcError(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")
            if method == "POST" and nsid in _WITHOUT_INPUT and body is not None:
                raise XrpcError(400, "InvalidRequest", "A request body was provided when none was expected")
            if method == "POST" and nsid not in _WITHOUT_INPUT:
                _check_encoding(headers.get("content-type"))
            with self._lock:
                answer = route(self, _Call(params, headers, body or {}))
            if fault and fault.kind == "lost":
                raise XrpcError(fault.status, "UpstreamFailure", "Bad Gateway")
            out = {**rate, "content-type": "application/json; charset=utf-8"}
            if fault and fault.kind == "trickle":
                out[TRICKLE_HEADER] = str(fault.seconds)
            return 200, out, _json(answer)
        except XrpcError as e:
            headers_out = {**rate, **e.headers, "content-type": "application/json; charset=utf-8"}
            return e.status, headers_out, _json({"error": e.error, "message": e.message})

    def _take_fault(self, nsid: str) -> Fault | None:
        queue = self._faults.get(nsid)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    # -- endpoints

    def create_session(self, call: _Call) -> dict:
        identifier, password = call.body.get("identifier", ""), call.body.get("password", "")
        account = self.accounts.get(str(identifier).lower())
        if account is None or account[1] != password:
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        return self._issue(account[0], str(identifier).lower())

    def refresh_session(self, call: _Call) -> dict:
        token = self._bearer(call.headers)
        session = next((s for s in self._sessions if s.refresh == token), None)
        if session is None:
            raise XrpcError(400, "ExpiredToken", "Token has been revoked")
        self._sessions.remove(session)
        return self._issue(session.did, session.handle)

    def get_session(self, call: _Call) -> dict:
        self._check_access("com.atproto.server.getSession", call.headers)
        token = self._bearer(call.headers)
        if token is None:
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        session = next(s for s in self._sessions if s.access == token)
        return {"did": session.did, "handle": session.handle, "active": True}

    def resolve_handle(self, call: _Call) -> dict:
        handle = (call.one("handle") or "").lower()
        for profile in self.state.profiles.values():
            if profile["handle"] == handle:
                return {"did": profile["did"]}
        raise XrpcError(400, "HandleNotFound", "Unable to resolve handle")

    def search_posts(self, call: _Call) -> dict:
        self._check_access("app.bsky.feed.searchPosts", call.headers)
        q = call.one("q") or ""
        limit = call.limit(default=25)
        since, until = call.one("since"), call.one("until")
        wanted = [term.strip().lstrip("#").lower() for term in q.split(" OR ") if term.strip()]
        hits = [
            v
            for v in self.state.posts
            if any(w in post_tags(v) or f"#{w}" in v["record"].get("text", "").lower() for w in wanted)
            and (not since or _sort_at(v) >= _norm(since))
            and (not until or _sort_at(v) < _norm(until))
        ]
        if self.cursor_loop:
            return {"posts": hits[:limit], "hitsTotal": len(hits), "cursor": _loop_cursor(call.one("cursor"))}
        offset = int(call.one("cursor") or 0)
        if offset >= self.search_cap:
            raise XrpcError(400, "InvalidRequest", "Cursor is past the end of the result window")
        end = min(offset + limit, len(hits), self.search_cap)
        shown = [v for v in hits[offset:end] if v["uri"] not in self.hidden]
        answer: dict[str, Any] = {"posts": shown, "hitsTotal": len(hits)}
        more = end < len(hits) and (end < self.search_cap or self.cap_mode == "error")
        if more:
            answer["cursor"] = str(end)
        return answer

    def get_list_feed(self, call: _Call) -> dict:
        self._check_access("app.bsky.feed.getListFeed", call.headers)
        # The AppView answers a list it does not know (deleted, never made) with an empty feed, not an error.
        feed = self.state.list_feeds.get(call.one("list") or "", [])
        if self.cursor_loop:
            return {"feed": feed[: call.limit(default=50)], "cursor": _loop_cursor(call.one("cursor"))}
        offset, limit = int(call.one("cursor") or 0), call.limit(default=50)
        shown = [i for i in feed[offset : offset + limit] if i.get("post", {}).get("uri") not in self.hidden]
        answer: dict[str, Any] = {"feed": shown}
        if offset + limit < len(feed):
            answer["cursor"] = str(offset + limit)
        return answer

    def get_post_thread(self, call: _Call) -> dict:
        self._check_access("app.bsky.feed.getPostThread", call.headers)
        uri = call.one("uri") or ""
        depth = int(call.one("depth") or 6)
        answer = self.state.threads.get(uri)
        if answer is None:
            listed = [item["post"] for feed in self.state.list_feeds.values() for item in feed]
            view = next((v for v in [*self.state.posts, *listed] if v["uri"] == uri), None)
            if view is None:
                raise XrpcError(400, "NotFound", f"Post not found: {uri}")
            answer = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": []}}
        return {"thread": _prune(answer["thread"], depth)}

    def get_profiles(self, call: _Call) -> dict:
        self._check_access("app.bsky.actor.getProfiles", call.headers)
        actors = call.params.get("actors", [])
        if not actors or len(actors) > 25:
            raise XrpcError(400, "InvalidRequest", "actors must hold 1 to 25 items")
        by_handle = {p["handle"]: p for p in self.state.profiles.values()}
        found = [self.state.profiles.get(a) or by_handle.get(a) for a in actors]
        return {"profiles": [p for p in found if p]}


@dataclass
class _Call:
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: dict

    def one(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def limit(self, default: int) -> int:
        value = int(self.one("limit") or default)
        if not 1 <= value <= 100:
            raise XrpcError(400, "InvalidRequest", "limit must be between 1 and 100")
        return value


TRICKLE_HEADER = "x-fake-trickle"  # between handle() and the handler only; never sent


def _loop_cursor(given: str | None) -> str:
    return "2" if given == "1" else "1"


def _prune(node: dict, depth: int) -> dict:
    """Replies below ``depth`` levels are left out, as the AppView does."""
    node = dict(node)
    if "replies" in node:
        node["replies"] = [_prune(r, depth - 1) for r in node["replies"]] if depth > 0 else []
    return node


# Procedures whose lexicon has no input: a PDS takes them without a body or a Content-Type.
_WITHOUT_INPUT = {"com.atproto.server.refreshSession", "com.atproto.server.deleteSession"}


def _check_encoding(content_type: str | None) -> None:
    """A PDS (xrpc-server) refuses a procedure's body without the lexicon's encoding, before reading it."""
    if not content_type:
        raise XrpcError(400, "InvalidRequest", "Request encoding (Content-Type) required but not provided")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise XrpcError(400, "InvalidRequest", f"Wrong request encoding (Content-Type): {content_type}")


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


_ROUTES = {
    "com.atproto.server.createSession": FakeBluesky.create_session,
    "com.atproto.server.refreshSession": FakeBluesky.refresh_session,
    "com.atproto.server.getSession": FakeBluesky.get_session,
    "com.atproto.identity.resolveHandle": FakeBluesky.resolve_handle,
    "app.bsky.feed.searchPosts": FakeBluesky.search_posts,
    "app.bsky.feed.getListFeed": FakeBluesky.get_list_feed,
    "app.bsky.feed.getPostThread": FakeBluesky.get_post_thread,
    "app.bsky.actor.getProfiles": FakeBluesky.get_profiles,
}


def make_post_view(
    did: str,
    handle: str,
    rkey: str,
    created_at: str,
    text: str,
    *,
    tags: tuple[str, ...] = (),
    langs: tuple[str, ...] = ("en",),
) -> dict:
    """A minimal, well-formed PostView for tests that need more posts than the sample has."""
    facets = []
    encoded = text.encode("utf-8")
    for tag in tags:
        start = encoded.find(f"#{tag}".encode())
        if start >= 0:
            facets.append(
                {
                    "index": {"byteStart": start, "byteEnd": start + len(tag.encode()) + 1},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                }
            )
    uri = f"at://{did}/app.bsky.feed.post/{rkey}"
    return {
        "uri": uri,
        "cid": "bafyrei" + hashlib.sha256(uri.encode()).hexdigest()[:52],
        "author": {
            "did": did,
            "handle": handle,
            "displayName": handle.split(".")[0],
            "labels": [],
            "viewer": {"muted": False, "blockedBy": False},
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": created_at,
            "langs": list(langs),
            "text": text,
            **({"facets": facets} if facets else {}),
        },
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": created_at,
        "viewer": {},
        "labels": [],
    }


# ---------------------------------------------------------------- repository records (generic: any collection)
# Added for the follow-list sync (lists, list items, starter packs); publishing can use them for posts.
# Records live in ``repo_records(fake, did, collection)`` (rkey -> value). As on a PDS, writes need a
# session and go only to the session's own repo, a record's $type must be its collection, reads are
# public, listRecords is newest rkey first, and applyWrites is atomic (all or nothing, at most 200).

_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_tid_last = [0]
# The lexicons' string limits, as a PDS checks them: maxLength in UTF-8 bytes, maxGraphemes in grapheme clusters.
_STRING_LIMITS = {
    "app.bsky.graph.list": {"name": (64, None), "description": (3000, 300)},
    "app.bsky.graph.starterpack": {"name": (500, 50), "description": (3000, 300)},
    "app.bsky.feed.post": {"text": (3000, 300)},
}
_REQUIRED = {  # a light lexicon check: the fields a PDS would refuse a record without
    "app.bsky.graph.list": ("name", "purpose", "createdAt"),
    "app.bsky.graph.listitem": ("subject", "list", "createdAt"),
    "app.bsky.graph.starterpack": ("name", "list", "createdAt"),
    "app.bsky.feed.post": ("text", "createdAt"),
}
MAX_WRITES = 200


def new_tid() -> str:
    """A fresh TID record key (13 base32-sortable characters, microseconds since the epoch)."""
    now = max(int(time.time() * 1_000_000), _tid_last[0] + 1)
    _tid_last[0] = now
    value = now << 10
    return "".join(_TID_CHARS[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def repo_records(fake: FakeBluesky, did: str, collection: str) -> dict[str, dict]:
    """The records of one collection in one repo (rkey -> value); tests read and seed it directly."""
    repos = fake.__dict__.setdefault("records", {})
    return repos.setdefault(did, {}).setdefault(collection, {})


def _record_cid(value: dict) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:52]


def _commit() -> dict:
    return {"cid": "bafyrei" + hashlib.sha256(new_tid().encode()).hexdigest()[:52], "rev": new_tid()}


def _repo_did(fake: FakeBluesky, repo: object) -> str:
    repo = str(repo or "")
    if repo.startswith("did:"):
        return repo
    account = fake.accounts.get(repo.lower())
    if account:
        return account[0]
    profile = next((p for p in fake.state.profiles.values() if p["handle"] == repo.lower()), None)
    if profile is None:
        raise XrpcError(400, "InvalidRequest", f"Could not find repo: {repo}")
    return profile["did"]


def _own_repo(fake: FakeBluesky, call: _Call, nsid: str) -> str:
    token = fake._bearer(call.headers)
    if token is None:
        raise XrpcError(401, "AuthMissing", "Authentication Required")
    fake._check_access(nsid, call.headers)
    session = next(s for s in fake._sessions if s.access == token)
    repo = _repo_did(fake, call.body.get("repo"))
    if repo not in {did for did, _ in fake.accounts.values()}:
        raise XrpcError(403, "AccountNotFound", "Account not found")
    if repo != session.did:
        raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
    return session.did


def _checked(collection: object, record: object) -> tuple[str, dict]:
    if not isinstance(collection, str) or collection.count(".") < 2:
        raise XrpcError(400, "InvalidRequest", f"Invalid collection: {collection!r}")
    if not isinstance(record, dict) or record.get("$type") != collection:
        got = record.get("$type") if isinstance(record, dict) else type(record).__name__
        raise XrpcError(400, "InvalidRequest", f"Invalid $type: expected {collection}, got {got}")
    invalid = f"Invalid {collection} record"  # a PDS names every lexicon failure InvalidRequest, in these words
    missing = [f for f in _REQUIRED.get(collection, ()) if f not in record]
    if missing:
        raise XrpcError(400, "InvalidRequest", f'{invalid}: Missing required key "{missing[0]}" at $.record')
    for name, (max_bytes, max_graphemes) in _STRING_LIMITS.get(collection, {}).items():
        value = record.get(name)
        size = len(value.encode("utf-8")) if isinstance(value, str) else 0
        if size > max_bytes:
            raise XrpcError(400, "InvalidRequest",
                            f"{invalid}: string too big (maximum {max_bytes}, got {size}) at $.record.{name}")
        graphemes = len(regex.findall(r"\X", value)) if isinstance(value, str) and max_graphemes else 0
        if max_graphemes and graphemes > max_graphemes:
            raise XrpcError(400, "InvalidRequest", f"{invalid}: grapheme too big "
                            f"(maximum {max_graphemes}, got {graphemes}) at $.record.{name}")
    return collection, record


def _internal_error() -> XrpcError:
    """What a PDS answers for a write that collides with the repo (a taken key, a delete of nothing): a bare 500."""
    return XrpcError(500, "InternalServerError", "Internal Server Error")


def _put(fake: FakeBluesky, did: str, collection: str, rkey: str, record: dict) -> dict:
    repo_records(fake, did, collection)[rkey] = record
    return {"uri": f"at://{did}/{collection}/{rkey}", "cid": _record_cid(record), "validationStatus": "valid"}


def repo_create_record(fake: FakeBluesky, call: _Call) -> dict:
    did = _own_repo(fake, call, "com.atproto.repo.createRecord")
    collection, record = _checked(call.body.get("collection"), call.body.get("record"))
    rkey = call.body.get("rkey") or new_tid()
    if rkey in repo_records(fake, did, collection):
        raise _internal_error()  # a PDS has no answer of its own for a taken key: its insert fails
    return {**_put(fake, did, collection, rkey, record), "commit": _commit()}


def repo_put_record(fake: FakeBluesky, call: _Call) -> dict:
    did = _own_repo(fake, call, "com.atproto.repo.putRecord")
    collection, record = _checked(call.body.get("collection"), call.body.get("record"))
    rkey = call.body.get("rkey")
    if not rkey:
        raise XrpcError(400, "InvalidRequest", "Input must have the property \"rkey\"")
    return {**_put(fake, did, collection, rkey, record), "commit": _commit()}


def repo_delete_record(fake: FakeBluesky, call: _Call) -> dict:
    """Deleting a record that is not there is a no-op without a commit, as on a PDS."""
    did = _own_repo(fake, call, "com.atproto.repo.deleteRecord")
    records = repo_records(fake, did, str(call.body.get("collection")))
    if records.pop(str(call.body.get("rkey")), None) is None:
        return {}
    return {"commit": _commit()}


def repo_apply_writes(fake: FakeBluesky, call: _Call) -> dict:
    did = _own_repo(fake, call, "com.atproto.repo.applyWrites")
    writes = call.body.get("writes")
    if not isinstance(writes, list) or not writes:
        raise XrpcError(400, "InvalidRequest", "Input must have the property \"writes\"")
    if len(writes) > MAX_WRITES:
        raise XrpcError(400, "InvalidRequest", f"Too many writes. Max: {MAX_WRITES}")
    planned: list[tuple[str, str, str, dict | None]] = []  # validate everything before touching anything
    for w in writes:
        kind = str(w.get("$type", "")).removeprefix("com.atproto.repo.applyWrites#")
        collection, rkey = w.get("collection"), w.get("rkey")
        if kind in ("create", "update"):
            collection, value = _checked(collection, w.get("value"))
            rkey = rkey or new_tid()
            exists = rkey in repo_records(fake, did, collection)
            if kind == "create" and exists:
                raise _internal_error()
            planned.append((kind, collection, rkey, value))
        elif kind == "delete":
            if rkey not in repo_records(fake, did, str(collection)):
                raise _internal_error()  # unlike deleteRecord, which answers an empty 200
            planned.append((kind, str(collection), str(rkey), None))
        else:
            raise XrpcError(400, "InvalidRequest", f"Invalid write type: {w.get('$type')!r}")
    results = []
    for kind, collection, rkey, value in planned:
        if value is None:
            del repo_records(fake, did, collection)[rkey]
            results.append({"$type": "com.atproto.repo.applyWrites#deleteResult"})
        else:
            results.append({"$type": f"com.atproto.repo.applyWrites#{kind}Result",
                            **_put(fake, did, collection, rkey, value)})
    return {"commit": _commit(), "results": results}


def repo_get_record(fake: FakeBluesky, call: _Call) -> dict:
    did = _repo_did(fake, call.one("repo"))
    collection, rkey = call.one("collection") or "", call.one("rkey") or ""
    value = repo_records(fake, did, collection).get(rkey)
    if value is None:
        raise XrpcError(400, "RecordNotFound", f"Could not locate record: at://{did}/{collection}/{rkey}")
    return {"uri": f"at://{did}/{collection}/{rkey}", "cid": _record_cid(value), "value": value}


def repo_list_records(fake: FakeBluesky, call: _Call) -> dict:
    did = _repo_did(fake, call.one("repo"))
    collection = call.one("collection") or ""
    limit, cursor = call.limit(default=50), call.one("cursor")
    reverse = call.one("reverse") in ("true", "1")
    keys = sorted(repo_records(fake, did, collection), reverse=not reverse)
    if cursor and not fake.cursor_loop:
        keys = [k for k in keys if (k > cursor if reverse else k < cursor)]
    page = keys[:limit]
    records = repo_records(fake, did, collection)
    answer: dict[str, Any] = {"records": [
        {"uri": f"at://{did}/{collection}/{k}", "cid": _record_cid(records[k]), "value": records[k]} for k in page
    ]}
    if page:  # a PDS gives the last key as the cursor on every page that has records, the last one too
        answer["cursor"] = page[-1]
    if fake.cursor_loop:
        answer["cursor"] = _loop_cursor(cursor)
    return answer


def graph_get_list(fake: FakeBluesky, call: _Call) -> dict:
    """app.bsky.graph.getList from the repo's records (an AppView that is never behind)."""
    uri = call.one("list") or ""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.graph.list":
        raise XrpcError(400, "InvalidRequest", f"list must be a list AT-URI: {uri!r}")
    did = _repo_did(fake, parts[0])
    value = repo_records(fake, did, "app.bsky.graph.list").get(parts[2])
    if value is None:
        raise XrpcError(400, "InvalidRequest", "List not found")

    def profile(actor: str) -> dict:
        found = fake.state.profiles.get(actor) or {"did": actor, "handle": "handle.invalid"}
        return {k: found[k] for k in ("did", "handle", "displayName", "labels") if k in found}

    items = [
        {"uri": f"at://{did}/app.bsky.graph.listitem/{k}", "subject": profile(v["subject"])}
        for k, v in sorted(repo_records(fake, did, "app.bsky.graph.listitem").items(), reverse=True)
        if v.get("list") == uri
    ]
    offset, limit = int(call.one("cursor") or 0), call.limit(default=50)
    view = {"uri": uri, "cid": _record_cid(value), "creator": profile(did), "name": value.get("name"),
            "purpose": value.get("purpose"), "description": value.get("description"),
            "listItemCount": len(items), "indexedAt": value.get("createdAt")}
    answer: dict[str, Any] = {"list": view, "items": items[offset : offset + limit]}
    if offset + limit < len(items):
        answer["cursor"] = str(offset + limit)
    return answer


_ROUTES.update({
    "com.atproto.repo.createRecord": repo_create_record,
    "com.atproto.repo.putRecord": repo_put_record,
    "com.atproto.repo.deleteRecord": repo_delete_record,
    "com.atproto.repo.applyWrites": repo_apply_writes,
    "com.atproto.repo.getRecord": repo_get_record,
    "com.atproto.repo.listRecords": repo_list_records,
    "app.bsky.graph.getList": graph_get_list,
})
