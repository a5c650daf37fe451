"""A local Jetstream that replays recorded frames over a real WebSocket, for tests and benchmarks.

On :class:`tests.fakes.websocket.FakeWebSocketServer` (``websockets``' asyncio
server on 127.0.0.1 in a background thread with its own event loop), so
synchronous tests and subprocesses can use it too.

It behaves like the real service where peerdesk depends on it:

* ``/subscribe`` (v1) honours ``wantedCollections`` and ``cursor`` (unix
  microseconds, inclusive); ``/xrpc/network.bsky.jetstream.subscribeEvents``
  honours ``collections`` and ``cursor`` (>= 1e15: microseconds) and renders the
  same events as ``{"$type": "message", "payload": ...}`` frames;
* events older than ``oldest_us`` are gone: a cursor before them starts at the
  oldest kept one (the xrpc wire says so with an ``#info OutdatedCursor`` frame);
* no cursor means the live tail: only frames published after connecting;
* identity and account events are sent whatever the collection filter;
  malformed frames are sent as they are.

Switches: ``drops`` (connection *n* is cut, without a close frame, after
``drops[n]`` frames), ``pace`` (seconds between frames). ``connections`` records
each request's path and query.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from tests.fakes.websocket import FakeWebSocketServer

DATA = Path(__file__).resolve().parents[1] / "data" / "jetstream"
V2_PATH = "/xrpc/network.bsky.jetstream.subscribeEvents"
V2 = "network.bsky.jetstream.subscribeEvents"


@dataclass(frozen=True)
class Frame:
    text: str
    time_us: int  # for a malformed frame: its position's time
    event: dict | None  # None for a malformed frame
    seq: int


def load_frames(path: Path = DATA / "events.jsonl") -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def event_times(texts: list[str]) -> list[int]:
    """Each valid event's ``time_us``, in order."""
    times = []
    for text in texts:
        event = _event(text)
        if event is not None:
            times.append(event["time_us"])
    return times


def _event(text: str) -> dict | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    ok = isinstance(data, dict) and isinstance(data.get("did"), str) and isinstance(data.get("time_us"), int)
    return data if ok and isinstance(data.get(data.get("kind", ""), None), dict) else None


def _iso(micros: int) -> str:
    when = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_v2(frame: Frame) -> str:
    """The same event as a subscribeEvents message frame."""
    event = frame.event
    if event is None:
        return frame.text
    kind = event["kind"]
    payload = {"$type": f"{V2}#{kind}", "did": event["did"], "seq": frame.seq, "time": _iso(event["time_us"]),
               "witnessed_at": _iso(event["time_us"])}
    if kind == "commit":
        payload.update(event["commit"])
    else:
        payload[kind] = event[kind]
    return json.dumps({"$type": "message", "payload": payload}, ensure_ascii=False, separators=(",", ":"))


class FakeJetstream(FakeWebSocketServer):
    """Start with ``with FakeJetstream(load_frames()) as fake:``; ``fake.url`` is the v1 endpoint."""

    subprotocols = ["xrpc.v1.json"]

    def __init__(self, texts: list[str] | None = None, *, oldest_us: int | None = None, pace: float = 0.0) -> None:
        super().__init__()
        self.frames: list[Frame] = []
        self.oldest_us = oldest_us
        self.pace = pace
        self.drops: list[int] = []
        self.connections: list[tuple[str, dict[str, list[str]]]] = []
        self.sent = 0
        self.caught_up = 0  # connections that reached the live tail
        self._lock = threading.Lock()
        self._published: asyncio.Condition | None = None
        self._add(texts or [])

    # -- data

    def _add(self, texts: list[str]) -> None:
        with self._lock:
            last = self.frames[-1].time_us if self.frames else 0
            for text in texts:
                event = _event(text)
                last = event["time_us"] if event else last
                self.frames.append(Frame(text, last, event, len(self.frames) + 1))

    def publish(self, texts: list[str]) -> None:
        """Frames that happen now: connections at the live tail get them."""
        self._add(texts)
        if self._loop and self._published:
            asyncio.run_coroutine_threadsafe(self._notify(), self._loop).result(5)

    async def _notify(self) -> None:
        assert self._published is not None
        async with self._published:
            self._published.notify_all()

    # -- serving

    async def prepare(self) -> None:
        self._published = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/subscribe"

    @property
    def url_v2(self) -> str:
        return f"ws://127.0.0.1:{self.port}/xrpc"

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path not in ("/subscribe", V2_PATH):
            return connection.respond(HTTPStatus.NOT_FOUND, "no such endpoint\n")
        cursor = parse_qs(parts.query).get("cursor", [None])[0]
        if cursor is not None and not cursor.isdigit():
            return connection.respond(HTTPStatus.BAD_REQUEST, "cursor must be an integer\n")
        return None

    def _start(self, cursor: int | None, v2: bool) -> tuple[int, bool]:
        """Index of the first frame to send, and whether the cursor fell before what is kept."""
        with self._lock:
            frames = list(self.frames)
        kept = 0 if self.oldest_us is None else next(
            (i for i, f in enumerate(frames) if f.time_us >= self.oldest_us), len(frames))
        if cursor is None:
            return len(frames), False
        if v2 and cursor < 10**15:
            start = next((i for i, f in enumerate(frames) if f.seq >= cursor), len(frames))
        else:
            start = next((i for i, f in enumerate(frames) if f.time_us >= cursor), len(frames))
        return max(start, kept), start < kept

    async def handle(self, connection: ServerConnection) -> None:
        parts = urlsplit(connection.request.path)
        query = parse_qs(parts.query)
        v2 = parts.path == V2_PATH
        with self._lock:
            number = len(self.connections)
            self.connections.append((parts.path, query))
        wanted = set(query.get("collections" if v2 else "wantedCollections", []))
        cursor = query.get("cursor", [None])[0]
        index, outdated = self._start(int(cursor) if cursor else None, v2)
        if outdated and v2:
            info = {"$type": f"{V2}#info", "name": "OutdatedCursor", "message": "cursor below the retention floor"}
            await connection.send(json.dumps({"$type": "message", "payload": info}))
        drop_after = self.drops[number] if number < len(self.drops) else None
        sent, tail = 0, False
        assert self._published is not None
        while True:
            with self._lock:
                frame = self.frames[index] if index < len(self.frames) else None
                if frame is None and not tail:
                    tail = True
                    self.caught_up += 1
            if frame is None:
                async with self._published:
                    await self._published.wait()
                continue
            index += 1
            commit = frame.event.get("commit") if frame.event else None
            if wanted and commit is not None and commit.get("collection") not in wanted:
                continue
            if drop_after is not None and sent >= drop_after:
                connection.transport.abort()  # a network cut: no close frame
                return
            await connection.send(to_v2(frame) if v2 else frame.text)
            sent += 1
            with self._lock:
                self.sent += 1
            if self.pace:
                await asyncio.sleep(self.pace)  # the behaviour under test: a stream that arrives over time

