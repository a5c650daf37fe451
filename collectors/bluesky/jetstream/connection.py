"""The WebSocket to Jetstream: the subscription URL on either wire, and reconnecting with a backoff.

Two wires are spoken, picked by the endpoint's path:

* ``.../subscribe`` (the public ``jetstream{1,2}.{us-east,us-west}.bsky.network``
  instances): ``wantedCollections`` and a ``cursor`` in unix microseconds.
* ``.../xrpc`` (``network.bsky.jetstream.subscribeEvents``, the lexicon wire the
  atproto package's ``JetstreamClient`` speaks): ``collections``, and a cursor
  that also accepts unix microseconds (values >= 1e15), so the position saved
  is the same number on both wires and on every instance.

The atproto package's ``JetstreamClient`` is not used: it only speaks the second
wire (the public ``/subscribe`` instances refuse it). Connections use
``websockets`` directly; see :func:`frames`. Where to resume is the caller's to
say (a ``cursor`` callable asked at every connection): this module keeps no position.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from collectors.bluesky.jetstream.events import POST_COLLECTION, JetstreamRefused
from collectors.version import USER_AGENT

# The logger's name is the one these lines carried before the collector was split into modules.
log = logging.getLogger("collectors.bluesky.jetstream.stream")

DEFAULT_ENDPOINT = "wss://jetstream2.us-east.bsky.network/subscribe"
V2_METHOD = "network.bsky.jetstream.subscribeEvents"
V2_SUBPROTOCOL = "xrpc.v1.json"
# The largest frame read, after permessage-deflate (websockets applies max_size to the decompressed message,
# so a compressed bomb closes the connection with 1009 and the stream reconnects). A post event is a few kB.
MAX_FRAME = 8 * 2**20


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
                               max_size=MAX_FRAME, close_timeout=2) as ws:
                opened = time.monotonic()
                log.info("jetstream: connected to %s", url)
                yield Connected(url, position, reconnects)
                while True:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives as
                    # the frame does (CPython gh-86296), and the stream would then ignore SIGTERM.
                    async with asyncio.timeout(options.idle_timeout):
                        frame = await ws.recv()
                    yield frame
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
