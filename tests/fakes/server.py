"""A tiny threaded HTTP server on 127.0.0.1 whose answers tests script.

Each fake platform subclasses :class:`FakeServer` with a ``route`` method. The
server records every request (path, query, headers) so tests can assert exactly
what the client asked, and takes injected faults from a queue so a test can
say "the next request gets a 503" without touching the client.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class FakeServer:
    """Start with ``with FakeMastodon(...) as server:``; ``server.base`` is its URL."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Reply] = []  # served, in order, instead of the real answer
        self.delay = 0.0  # added to every answer
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- to be provided by subclasses
    def route(self, request: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- plumbing
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

    def _handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            fault = self.faults.pop(0) if self.faults else None
        return fault if fault is not None else self.route(request)

    def __enter__(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                reply = fake._handle(request)
                pause = reply.delay + fake.delay
                if pause:
                    time.sleep(pause)
                payload = reply.encoded()
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if reply.trickle:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


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
