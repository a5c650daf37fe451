"""Bluesky without an account: Jetstream, the network's post stream as JSON, filtered to the community.

Jetstream relays every public commit on the network. Subscribed to
``app.bsky.feed.post`` it carries tens of posts a second, of which the community
wants a handful an hour, so the work here is saying "no" cheaply: a frame is
first looked at as text (does it name a watched tag, a reply root we follow, a
deletion?) and only decoded when it might matter. Everything decoded is turned
into an :class:`Event`; the pipeline decides what is stored.

Two wires are spoken, picked by the endpoint's path:

* ``.../subscribe`` (the public ``jetstream{1,2}.{us-east,us-west}.bsky.network``
  instances): ``{"did", "time_us", "kind", "commit" | "identity" | "account"}``
  frames, ``wantedCollections`` and a ``cursor`` in unix microseconds.
* ``.../xrpc`` (``network.bsky.jetstream.subscribeEvents``, the lexicon wire the
  atproto package's ``JetstreamClient`` speaks): ``{"$type": "message", "payload"}``
  frames. Its cursor also accepts unix microseconds (values >= 1e15), so the
  position saved is the same number on both wires and on every instance.

The atproto package's ``JetstreamClient`` is not used: it only speaks the second
wire (the public ``/subscribe`` instances refuse it), and it decodes every frame
into pydantic models before a caller can look at it, which is several times the
cost of the text pre-check here (``tests/benchmarks/bench_jetstream.py``).
Connections use ``websockets`` directly; see :func:`frames`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from atproto import models
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from collectors.bluesky import (
    BlueskyConnection,
    MalformedAnswer,
    parse_author,
    parse_time,
    post_from_record,
    record_tags,
)
from collectors.records import VIA_TAG, VIA_THREAD, Account, Post
from collectors.version import USER_AGENT

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "wss://jetstream2.us-east.bsky.network/subscribe"
POST_COLLECTION = "app.bsky.feed.post"
V2_METHOD = "network.bsky.jetstream.subscribeEvents"
V2_SUBPROTOCOL = "xrpc.v1.json"
PROFILES_PER_CALL = 25
# An account event with active=false purges the account for these; "desynchronized" and
# "throttled" are transient states of the relay, not the person leaving.
GONE_STATUSES = frozenset({"deactivated", "deleted", "takendown", "suspended"})

_V1_TIME = re.compile(r'"time_us":(\d+)')
_ROOT_URI = re.compile(r'"root":\{[^{}]*?"uri":"([^"\\]+)"')
_TEXT_TAG = re.compile(r"(?:^|\s)[#＃]([^\W][\w\u00b7]*)")
_CREATE_OR_UPDATE = ('"operation":"create"', '"operation":"update"')


class JetstreamError(Exception):
    """Root of what this module raises; the text is one line, safe to show."""


class JetstreamRefused(JetstreamError):
    """The server refused the subscription itself (a 4xx answer, a bad URL): retrying would not help."""


class MalformedEvent(JetstreamError, ValueError):
    """A frame that is not a Jetstream event (not JSON, missing fields): it costs itself only."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event that may matter to the community, in a wire-neutral shape.

    ``kind`` is ``post`` (a create or update of a post that matched), ``delete``,
    ``identity`` (handle change), ``account`` (status change) or ``info`` (a
    server notice, e.g. ``OutdatedCursor``).
    """

    kind: str
    did: str
    time_us: int | None
    uri: str | None = None
    cid: str | None = None
    record: Mapping[str, Any] | None = None
    operation: str | None = None
    via: str | None = None
    handle: str | None = None
    active: bool | None = None
    status: str | None = None
    message: str | None = None


@dataclass
class StreamFilter:
    """Decides, frame by frame, what the community needs.

    ``roots`` (at:// URIs of stored help requests) and ``dids`` (accounts with
    something stored) are kept current by the pipeline (:meth:`set_known`).
    ``is_request`` is the pipeline's own request rule: a tagged top-level post
    it accepts becomes a root the moment it is seen, so a reply that follows it
    closely is kept whatever the batching, and the stored set depends on the
    events alone. Authors of posts kept since the last two refreshes are
    followed too (their posts may not be stored yet); older ones only if the
    database has them, so the sets stay as small as what is stored.
    """

    tags: frozenset[str]
    is_request: Callable[[str, str | None], bool] | None = None
    roots: set[str] = field(default_factory=set)
    dids: set[str] = field(default_factory=set)
    candidates: dict[str, datetime] = field(default_factory=dict)  # uri -> created_at, roots seen in the stream
    dead: dict[str, float] = field(default_factory=dict)  # uri -> when: roots deleted or purged, maybe not yet stored
    fresh: set[str] = field(default_factory=set)  # authors kept since the last refresh
    older: set[str] = field(default_factory=set)  # ... and in the refresh before it

    def __post_init__(self) -> None:
        # A frame naming "sololibrarians" also names "librarians": look for the shortest needles only.
        self._needles = tuple(t for t in self.tags if not any(o != t and o in t for o in self.tags))

    @classmethod
    def for_tags(cls, tags: Iterable[str], is_request: Callable[[str, str | None], bool] | None = None
                 ) -> StreamFilter:
        return cls(frozenset(t.lower().lstrip("#") for t in tags), is_request)

    def is_root(self, uri: str) -> bool:
        return uri in self.roots or uri in self.candidates

    def knows(self, did: str) -> bool:
        return did in self.dids or did in self.fresh or did in self.older

    def set_known(self, roots: set[str], dids: set[str]) -> None:
        """What the database holds: roots (less those whose deletion was decoded but may not be stored yet)
        and accounts. Recently kept authors stay followed for two refreshes, until their posts are stored."""
        self.roots = roots - self.dead.keys()
        self.dids = dids
        self.older, self.fresh = self.fresh, set()

    def prune(self, created_before: datetime, dead_before: float) -> None:
        """Forget stream-seen roots older than the thread horizon, and old burials: the sets stay bounded."""
        for uri in [u for u, t in self.candidates.items() if t < created_before]:
            del self.candidates[uri]
        for uri in [u for u, t in self.dead.items() if t < dead_before]:
            del self.dead[uri]

    def _bury(self, uris: Iterable[str]) -> None:
        for uri in list(uris):
            self.roots.discard(uri)
            self.candidates.pop(uri, None)
            self.dead[uri] = time.monotonic()

    # -- frames

    def decode(self, frame: str | bytes) -> tuple[int | None, Event | None]:
        """The frame's time in unix microseconds (for the cursor) and its event when it may matter.

        Raises :class:`MalformedEvent` for a frame that is not an event.
        """
        if isinstance(frame, bytes | bytearray):
            try:
                frame = bytes(frame).decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedEvent("a binary frame that is not UTF-8 text") from None
        if self._cannot_matter(frame):
            found = _V1_TIME.search(frame, 0, 400)  # top-level fields come first on this wire
            if found:
                return int(found.group(1)), None
        try:
            data = json.loads(frame)
        except ValueError:
            raise MalformedEvent(f"not JSON: {frame[:60]!r}") from None
        if not isinstance(data, dict):
            raise MalformedEvent(f"a JSON {type(data).__name__}, not an event object")
        if "$type" in data:
            return self._v2(data, frame)
        return self._v1(data, frame)

    def _cannot_matter(self, frame: str) -> bool:
        """A cheap look at the text: True only for a post create/update that names nothing we follow.

        Conservative by construction: anything unusual (escapes, other spacing, a
        root it cannot read) answers False, and the frame is decoded.
        """
        if not (_CREATE_OR_UPDATE[0] in frame or _CREATE_OR_UPDATE[1] in frame):
            return False  # deletions, identity and account events, other formatting
        if "\\u" in frame or "$type" in frame[:12]:
            return False  # escaped text could hide a tag; the xrpc wire needs decoding for its time
        lowered = frame.lower()
        if any(needle in lowered for needle in self._needles):
            return False
        if '"root"' in frame:
            found = _ROOT_URI.search(frame)
            if found is None or self.is_root(found.group(1)):
                return False
        return True

    def _v1(self, data: dict, frame: str) -> tuple[int | None, Event | None]:
        did, when = data.get("did"), data.get("time_us")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise MalformedEvent("an event without a DID")
        if not isinstance(when, int) or isinstance(when, bool):
            raise MalformedEvent(f"{did}: an event without time_us")
        kind = data.get("kind")
        if kind == "commit":
            commit = data.get("commit")
            if not isinstance(commit, dict):
                raise MalformedEvent(f"{did}: a commit event without its commit")
            return when, self._commit(did, when, commit, frame)
        if kind == "identity":
            body = data.get("identity")
            return when, self._identity(did, when, body if isinstance(body, dict) else {})
        if kind == "account":
            body = data.get("account")
            return when, self._account(did, when, body if isinstance(body, dict) else {})
        return when, None  # a kind added after this was written

    def _v2(self, data: dict, frame: str) -> tuple[int | None, Event | None]:
        if data.get("$type") == "error":
            raise JetstreamError(f"Jetstream error {data.get('error')}: {str(data.get('message') or '')[:160]}")
        payload = data.get("payload")
        if data.get("$type") != "message" or not isinstance(payload, dict):
            raise MalformedEvent(f"an xrpc frame of type {str(data.get('$type'))[:40]!r}")
        kind = str(payload.get("$type", "")).rpartition("#")[2]
        if kind == "info":
            return None, Event("info", "", None, status=str(payload.get("name") or ""),
                               message=str(payload.get("message") or ""))
        did = payload.get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise MalformedEvent("an event without a DID")
        when = micros(payload.get("witnessed_at")) or micros(payload.get("time"))
        if when is None:
            raise MalformedEvent(f"{did}: an event without a time")
        if kind == "commit":
            return when, self._commit(did, when, payload, frame)
        if kind == "identity":
            body = payload.get("identity")
            return when, self._identity(did, when, body if isinstance(body, dict) else {})
        if kind == "account":
            body = payload.get("account")
            return when, self._account(did, when, body if isinstance(body, dict) else {})
        return when, None

    # -- events

    def _commit(self, did: str, when: int, commit: Mapping[str, Any], frame: str) -> Event | None:
        if commit.get("collection") != POST_COLLECTION:
            return None
        rkey, operation = commit.get("rkey"), commit.get("operation")
        if not isinstance(rkey, str) or not rkey or "/" in rkey:
            raise MalformedEvent(f"{did}: a commit without a record key")
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        if operation == "delete":
            if self.is_root(uri):
                self._bury([uri])  # replies that come after it are no longer followed
            return Event("delete", did, when, uri=uri) if self.knows(did) else None
        if operation not in ("create", "update"):
            return None
        record = commit.get("record")
        if not isinstance(record, dict):
            raise MalformedEvent(f"{uri}: a {operation} without a record")
        via = self.match(record)
        if via is None:
            return None
        if via == VIA_TAG and not isinstance(record.get("reply"), dict) and self.is_request is not None:
            text, lang = record.get("text"), _first_lang(record)
            created = parse_time(record.get("createdAt")) or from_micros(when)
            if isinstance(text, str) and self.is_request(text, lang):
                self.candidates[uri] = created
        self.fresh.add(did)  # so its deletion, handle change or departure is followed from now on
        cid = commit.get("cid")
        return Event("post", did, when, uri=uri, cid=cid if isinstance(cid, str) else None, record=record,
                     operation=operation, via=via)

    def match(self, record: Mapping[str, Any]) -> str | None:
        """``tag`` when the post carries a watched tag, ``thread`` when it answers a followed root."""
        if self.tags.intersection(post_tags(record)):
            return VIA_TAG
        reply = record.get("reply")
        root = reply.get("root") if isinstance(reply, dict) else None
        uri = root.get("uri") if isinstance(root, dict) else None
        return VIA_THREAD if isinstance(uri, str) and self.is_root(uri) else None

    def _identity(self, did: str, when: int, body: Mapping[str, Any]) -> Event | None:
        if not self.knows(did):
            return None
        handle = body.get("handle")
        return Event("identity", did, when, handle=handle if isinstance(handle, str) else None)

    def _account(self, did: str, when: int, body: Mapping[str, Any]) -> Event | None:
        if not self.knows(did):
            return None
        active, status = body.get("active"), body.get("status")
        event = Event("account", did, when, active=active if isinstance(active, bool) else None,
                      status=status if isinstance(status, str) else None)
        if account_gone(event):
            prefix = f"at://{did}/"
            self._bury([u for u in [*self.roots, *self.candidates] if u.startswith(prefix)])
        return event


def account_gone(event: Event) -> bool:
    """An account event saying the person left or was removed: everything stored about them goes."""
    return event.kind == "account" and event.active is False and (event.status is None or event.status in GONE_STATUSES)


# ---------------------------------------------------------------- records


def post_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    """Tag facets and the ``tags`` array (as the poller reads them), then hashtags written in the text."""
    tags = list(record_tags(record))
    text = record.get("text")
    if isinstance(text, str) and ("#" in text or "＃" in text):
        tags.extend(m.lower() for m in _TEXT_TAG.findall(text))
    return tuple(dict.fromkeys(tags))


def build_post(event: Event, author: Account) -> Post:
    """A :class:`Post` from a post event and its author's profile; raises ValueError when the record is unusable."""
    record, uri = event.record, event.uri
    if record is None or uri is None or event.via is None:
        raise ValueError("not a post event")
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError(f"{uri}: record without text")
    when = from_micros(event.time_us) if event.time_us is not None else None
    created = parse_time(record.get("createdAt")) or when
    if created is None:
        raise ValueError(f"{uri}: neither createdAt nor the event carries a time")
    return post_from_record(uri, author, record, created, via=event.via, cid=event.cid or None,
                            edited_at=when if event.operation == "update" else None, tags=post_tags(record))


def account_from_profile(profile: Mapping[str, Any]) -> Account:
    """An :class:`Account` with the description consent reads, from a ProfileViewDetailed."""
    account = parse_author(dict(profile), str(profile.get("did")))
    bio = profile.get("description")
    return replace(account, bio=bio if isinstance(bio, str) else "")


def lookup_profiles(conn: BlueskyConnection, dids: Sequence[str]) -> dict[str, Account | None]:
    """Profiles for these DIDs through ``app.bsky.actor.getProfiles``, 25 a call.

    None for an account the AppView does not show (deleted, taken down): its posts
    cannot be checked for consent and are not stored. Raises a ``BlueskyError``
    when a call fails, so the caller retries rather than store unchecked posts.
    """
    found: dict[str, Account | None] = {}
    for start in range(0, len(dids), PROFILES_PER_CALL):
        chunk = list(dids[start : start + PROFILES_PER_CALL])
        body = conn.query("app.bsky.actor.getProfiles", models.AppBskyActorGetProfiles.Params(actors=chunk))
        profiles = body.get("profiles")
        if not isinstance(profiles, list):
            raise MalformedAnswer("app.bsky.actor.getProfiles: no profiles array")
        for profile in profiles:
            try:
                account = account_from_profile(profile)
            except ValueError:
                continue
            found[account.key] = account
        for did in chunk:
            found.setdefault(did, None)
    return found


def _first_lang(record: Mapping[str, Any]) -> str | None:
    langs = record.get("langs")
    return langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None


def micros(value: object) -> int | None:
    """Unix microseconds from an RFC 3339 time, or None."""
    when = parse_time(value)
    return None if when is None else to_micros(when)


def to_micros(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000 + when.microsecond


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


# ---------------------------------------------------------------- the connection


def wire_of(endpoint: str) -> str:
    """``v1`` for a ``/subscribe`` endpoint, ``v2`` for an ``/xrpc`` one; raises JetstreamRefused otherwise."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise JetstreamRefused(f"{endpoint!r} is not a ws:// or wss:// URL")
    path = parts.path.rstrip("/")
    if path.endswith("/subscribe"):
        return "v1"
    if path.endswith("/xrpc") or path.endswith(f"/xrpc/{V2_METHOD}"):
        return "v2"
    raise JetstreamRefused(f"{endpoint!r}: expected a path ending in /subscribe or /xrpc")


def subscribe_url(endpoint: str, cursor: int | None, collections: Collection[str] = (POST_COLLECTION,)) -> str:
    """The subscription URL: posts only, from ``cursor`` (unix microseconds) when given."""
    endpoint = endpoint.rstrip("/")
    if wire_of(endpoint) == "v1":
        params: list[tuple[str, str]] = [("wantedCollections", c) for c in collections]
    else:
        endpoint = endpoint if endpoint.endswith(V2_METHOD) else f"{endpoint}/{V2_METHOD}"
        params = [("collections", c) for c in collections]
    if cursor is not None:
        params.append(("cursor", str(max(cursor, 10**15))))  # >= 1e15 reads as microseconds on both wires
    return f"{endpoint}?{urlencode(params)}"


@dataclass(frozen=True)
class Connected:
    """Yielded by :func:`frames` each time a connection opens, with the cursor it asked for."""

    url: str
    cursor: int | None
    reconnects: int


@dataclass(frozen=True)
class ConnectOptions:
    backoff_start: float = 1.0  # first wait after a failure; doubles, with jitter
    backoff_max: float = 60.0
    healthy_after: float = 60.0  # a connection that lived this long starts the backoff over
    idle_timeout: float = 90.0  # no frame for this long: the connection is dead
    open_timeout: float = 15.0


async def frames(endpoint: str, cursor: Callable[[], int | None], options: ConnectOptions = ConnectOptions(),
                 sleep: Callable[[float], Any] = asyncio.sleep) -> AsyncIterator[str | bytes | Connected]:
    """Frames from Jetstream forever, reconnecting after any failure with a backoff of up to a minute.

    ``cursor`` is asked at every (re)connection, so the caller decides where to
    resume (the last event it holds, rewound). A :class:`Connected` marks each new
    connection. Raises :class:`JetstreamRefused` when the server refuses the
    subscription with a 4xx (other than 408/429): a wrong URL will not heal.
    """
    wire = wire_of(endpoint)
    failures = reconnects = 0
    while True:
        position = cursor()
        url = subscribe_url(endpoint, position)
        opened: float | None = None
        try:
            async with connect(url, user_agent_header=USER_AGENT, open_timeout=options.open_timeout,
                               subprotocols=[V2_SUBPROTOCOL] if wire == "v2" else None,  # type: ignore[list-item]
                               max_size=8 * 2**20, close_timeout=2) as ws:
                opened = time.monotonic()
                log.info("jetstream: connected to %s", url)
                yield Connected(url, position, reconnects)
                while True:
                    yield await asyncio.wait_for(ws.recv(), options.idle_timeout)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if 400 <= status < 500 and status not in (408, 429):
                raise JetstreamRefused(f"{endpoint} refused the subscription: HTTP {status}") from None
            reason = f"HTTP {status}"
        except InvalidURI:
            raise JetstreamRefused(f"{endpoint!r} is not a usable WebSocket URL") from None
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
            reason = _reason(exc)
        healthy = opened is not None and time.monotonic() - opened >= options.healthy_after
        failures = 1 if healthy else failures + 1
        reconnects += 1
        delay = min(options.backoff_start * 2 ** (failures - 1), options.backoff_max)
        delay *= random.uniform(0.8, 1.0)  # many clients dropped at once should not return at once  # noqa: S311
        log.warning("jetstream: connection lost (%s); reconnecting in %.1f s", reason, delay)
        await sleep(delay)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no frame for too long" if not str(exc) else f"timed out: {exc}"
    if isinstance(exc, ConnectionClosed):
        return f"closed by the server (code {exc.rcvd.code})" if exc.rcvd else "the connection dropped"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}".rstrip(": ")
