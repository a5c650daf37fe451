"""A local Jetstream that replays recorded frames over a real WebSocket, for tests and benchmarks.

``websockets``' asyncio server on 127.0.0.1 (port 0), in a background thread
with its own event loop, so synchronous tests and subprocesses can use it too.

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

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

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


class FakeJetstream:
    """Start with ``with FakeJetstream(load_frames()) as fake:``; ``fake.url`` is the v1 endpoint."""

    def __init__(self, texts: list[str] | None = None, *, oldest_us: int | None = None, pace: float = 0.0) -> None:
        self.frames: list[Frame] = []
        self.oldest_us = oldest_us
        self.pace = pace
        self.drops: list[int] = []
        self.connections: list[tuple[str, dict[str, list[str]]]] = []
        self.sent = 0
        self.caught_up = 0  # connections that reached the live tail
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._published: asyncio.Condition | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
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

    # -- lifecycle

    def start(self) -> FakeJetstream:
        threading.Thread(target=self._run, daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Jetstream did not start")
        return self

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._published = asyncio.Condition()
        self._stopped = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", 0, process_request=self._check,
                         subprotocols=["xrpc.v1.json"], select_subprotocol=_any_subprotocol) as server:
            self._server = server
            self._ready.set()
            await self._stopped.wait()

    def stop(self) -> None:
        if self._loop and self._stopped:
            self._loop.call_soon_threadsafe(self._stopped.set)

    def __enter__(self) -> FakeJetstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/subscribe"

    @property
    def url_v2(self) -> str:
        return f"ws://127.0.0.1:{self.port}/xrpc"

    # -- serving

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
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

    async def _handle(self, connection: ServerConnection) -> None:
        try:
            await self._replay(connection)
        except ConnectionClosed:
            pass  # the client went away (a test killed it): nothing to tell

    async def _replay(self, connection: ServerConnection) -> None:
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
                await asyncio.sleep(self.pace)


def _any_subprotocol(connection: ServerConnection, subprotocols: list[str]) -> str | None:
    return subprotocols[0] if subprotocols else None
