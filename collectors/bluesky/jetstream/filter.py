"""Deciding, frame by frame, what the community needs from Jetstream: most frames are refused as text.

Jetstream relays every public commit on the network. Subscribed to
``app.bsky.feed.post`` it carries tens of posts a second, of which the community
wants a handful an hour, so the work here is saying "no" cheaply: a frame is
first looked at as text (does it name a watched tag, a reply root we follow, a
deletion?) and only decoded when it might matter. Everything decoded is turned
into an :class:`Event`; the pipeline decides what is stored.

Both wires' frames are read (see :mod:`collectors.bluesky.jetstream.connection`):
``{"did", "time_us", "kind", "commit" | "identity" | "account"}`` from
``/subscribe``, and ``{"$type": "message", "payload"}`` from ``/xrpc``, which is
always decoded (its time is inside the payload). Decoding every frame into
atproto's pydantic models instead costs several times the text pre-check
(``tests/benchmarks/bench_jetstream.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collectors import json_decode
from collectors.bluesky.jetstream.events import (
    POST_COLLECTION,
    Event,
    JetstreamError,
    MalformedEvent,
    account_gone,
    from_micros,
    micros,
)
from collectors.bluesky.jetstream.records import post_tags
from collectors.bluesky.parse import parse_time
from collectors.records import VIA_TAG, VIA_THREAD

_V1_TIME = re.compile(r'"time_us":(\d+)')
_ROOT_URI = re.compile(r'"root":\{[^{}]*?"uri":"([^"\\]+)"')
_CREATE_OR_UPDATE = ('"operation":"create"', '"operation":"update"')


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
            data = json_decode.loads(frame)
        except RecursionError:  # nested deeper than Python's stack: this frame only, never the stream
            raise MalformedEvent("JSON nested too deeply to read") from None
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
        if _CREATE_OR_UPDATE[0] not in frame:
            return False  # updates (one may take a tag away), deletions, identity and account events, other formatting
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
            # An edit that took the watched tag away: the post leaves the community, so it leaves the store.
            return Event("leave", did, when, uri=uri) if operation == "update" and self.knows(did) else None
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


def _first_lang(record: Mapping[str, Any]) -> str | None:
    langs = record.get("langs")
    return langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
