"""The one HTTP plumbing every fake server shares: a threaded server on 127.0.0.1 whose answers tests script.

Every HTTP fake (Mastodon, Bluesky, WebFinger, the alert webhook) subclasses :class:`FakeServer`, which owns the
thread, the port, shutdown and the writing of a :class:`Reply`. Most fakes provide ``route``: the server records
every request (path, query, headers, body) so tests can assert exactly what the client asked, and takes injected
faults from a queue so a test can say "the next request gets a 503" without touching the client. A fake with its
own request log and switches (FakeBluesky) overrides ``serve`` instead. The WebSocket fakes share
:class:`tests.fakes.websocket.FakeWebSocketServer`.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | object = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0  # seconds between the body's bytes: a slow-loris server
    trickle_head: bool = False  # trickle the status line and headers too: a client waits for headers that never end

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class FakeServer:
    """Start with ``with FakeMastodon(...) as server:``; ``server.base`` is its URL."""

    methods: tuple[str, ...] = ("GET", "POST")  # what the server answers; anything else gets a 501
    content_type: str | None = "application/json; charset=utf-8"  # unless the reply names its own
    disable_nagle = False  # on for a fake whose client keeps connections alive (see FakeMastodon)

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Reply] = []  # served, in order, instead of the real answer
        self.delay = 0.0  # added to every answer
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- to be provided by subclasses
    def route(self, request: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def serve(self, request: Request) -> Reply:
        """Record the request, then answer the next injected fault, else what ``route`` says."""
        with self._lock:
            self.requests.append(request)
            fault = self.faults.pop(0) if self.faults else None
        return fault if fault is not None else self.route(request)

    # -- for tests
    @property
    def base(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, *replies: Reply) -> None:
        with self._lock:
            self.faults.extend(replies)

    def requests_to(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    # -- plumbing
    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"fake": self, "disable_nagle_algorithm": self.disable_nagle})
        for method in self.methods:
            setattr(handler, f"do_{method}", _Handler.answer)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def answer(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
        reply = self.fake.serve(request)
        pause = reply.delay + self.fake.delay
        if pause:
            time.sleep(pause)  # the behaviour under test: a slow server
        payload = reply.encoded()
        default = {"Content-Type": self.fake.content_type} if self.fake.content_type else {}
        headers = {**default, **reply.headers, "Content-Length": str(len(payload))}
        try:
            if reply.trickle_head:
                phrase = HTTPStatus(reply.status).phrase
                head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                self._trickle((head + "\r\n").encode("latin-1") + payload, reply.trickle)
                return
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.trickle:
                self._trickle(payload, reply.trickle)
            else:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _trickle(self, data: bytes, pause: float) -> None:
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(pause)  # the behaviour under test: a slow-loris server

    def log_message(self, *args: object) -> None:
        pass


# -- hostile answers, for the bounds every client must keep


def gzip_bomb(decoded_size: int) -> Reply:
    """A 200 whose gzip body is small on the wire (about 1/1000) and ``decoded_size`` bytes of JSON decoded."""
    return Reply(200, _bomb(decoded_size), {"Content-Encoding": "gzip"})


@functools.cache
def _bomb(decoded_size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    parts = [packer.compress(b"[")]
    block = b" " * 2**20
    left = decoded_size - 2
    while left > 0:
        parts.append(packer.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(packer.compress(b"]") + packer.flush())
    return b"".join(parts)


def deep_json(depth: int, inner: str = "[]") -> bytes:
    """Valid JSON nested ``depth`` arrays deep: more than Python's recursive decoder can take."""
    return ("[" * depth + inner + "]" * depth).encode()


def redirect_loop(path: str) -> Reply:
    """A redirect to the same path, forever."""
    return Reply(302, b"", {"Location": path})
