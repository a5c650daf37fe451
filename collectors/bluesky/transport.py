"""The synchronous HTTP transport under atproto's ``Client``: a deadline and a size cap on every XRPC call.

atproto's ``Request`` takes httpx ``Client`` arguments, so the bounds go in as a
transport (public httpx API) rather than a patched SDK. It reads each answer
raw, decodes it under a cap (:mod:`collectors.http_bounds`), and hands the SDK
an ordinary response.

The deadline must hold while headers arrive too, where a sync transport cannot
interrupt httpcore from outside; so every socket read is given at most the time
left until the deadline, by wrapping httpcore's network backend (the pool's
``_network_backend``, the one attribute used that httpx does not document; were
it gone, reads would be bounded by the per-read timeout only).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpcore
import httpx

from collectors.http_bounds import DOCUMENT_CAP, PAGE_CAP, CappedBody, deadline_for

# Lists of posts (a page of 100 with embeds, a thread of up to 1,000 replies); everything else is a document.
PAGE_NSIDS = frozenset({
    "app.bsky.feed.searchPosts", "app.bsky.feed.getListFeed", "app.bsky.feed.getPostThread",
    "app.bsky.actor.getProfiles",
})


class AnswerTooSlow(Exception):
    """No whole answer (headers and body) within the deadline."""


def cap_for(path: str) -> int:
    return PAGE_CAP if path.removeprefix("/xrpc/") in PAGE_NSIDS else DOCUMENT_CAP


class BoundedTransport(httpx.BaseTransport):
    """An ``HTTPTransport`` whose exchanges end by ``deadline`` seconds and whose decoded bodies stop at their cap.

    Raises :class:`AnswerTooSlow`, :class:`collectors.http_bounds.TooLarge` or
    :class:`collectors.http_bounds.BadEncoding`, which are not httpx errors, so
    the SDK passes them through unchanged and they are not retried.
    """

    def __init__(self, timeout: float, **transport: Any) -> None:
        self.deadline = deadline_for(timeout)
        self._clock = _Deadline()
        self._inner = httpx.HTTPTransport(**transport)
        pool = getattr(self._inner, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None:
            pool._network_backend = _DeadlineBackend(backend, self._clock)  # type: ignore[union-attr]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._clock.start(self.deadline)
        try:
            try:
                response = self._inner.handle_request(request)
                try:
                    reader = CappedBody(response.headers.get("content-encoding"), cap_for(request.url.path))
                    for chunk in response.stream:  # type: ignore[union-attr]
                        reader.feed(chunk)
                        self._clock.check()
                finally:
                    response.close()
            except httpx.TimeoutException:
                if self._clock.passed():
                    raise AnswerTooSlow(f"no whole answer within {self.deadline:g}s") from None
                raise
        finally:
            self._clock.stop()
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in (b"content-encoding", b"content-length")]
        return httpx.Response(response.status_code, headers=headers, content=reader.body(), request=request,
                              extensions=response.extensions)

    def close(self) -> None:
        self._inner.close()


class _Deadline(threading.local):
    """This thread's current request deadline (monotonic seconds), or None between requests."""

    at: float | None = None

    def start(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.seconds = seconds

    def stop(self) -> None:
        self.at = None

    def left(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def passed(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    def check(self) -> None:
        if self.passed():
            raise AnswerTooSlow(f"no whole answer within {self.seconds:g}s")


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's backend, with each connection's reads cut to the time the request has left."""

    def __init__(self, inner: httpcore.NetworkBackend, deadline: _Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                         socket_options=socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None
                            ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        left = self._deadline.left()
        if left is not None:
            if left <= 0:
                raise httpcore.ReadTimeout("the request's deadline passed")
            timeout = left if timeout is None else min(timeout, left)
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
                  ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
