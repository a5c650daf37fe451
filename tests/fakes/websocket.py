"""The one WebSocket plumbing the fake servers share: ``websockets``' asyncio server on 127.0.0.1 in its own thread.

A fake (FakeJetstream) subclasses :class:`FakeWebSocketServer` and provides ``handle`` (one connection) and, if it
refuses some requests before the upgrade, ``check``. The base owns the thread, the event loop, the port, shutdown
and the open connections, so it can tell a test when everything sent so far has reached the client.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


class FakeWebSocketServer:
    """Start with ``with FakeJetstream(...) as fake:``; ``fake.port`` is where it listens."""

    subprotocols: list[str] | None = None  # offered to the client; the first one it asks for is chosen

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._open: set[ServerConnection] = set()

    # -- to be provided by subclasses
    async def handle(self, connection: ServerConnection) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        """An answer instead of the upgrade (a 404, a 400), or None to go on."""
        return None

    async def prepare(self) -> None:
        """Set up what lives on the server's event loop (conditions, events), before the first connection."""

    # -- for tests
    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def delivered(self, timeout: float = 10) -> None:
        """Return once every frame sent so far has reached each open connection's client.

        A ping sent after the frames and its pong: a client's WebSocket answers a ping only after reading what came
        before it, and stops reading while its own queue is full.
        """
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._ping_all(timeout), self._loop).result(timeout + 1)

    # -- plumbing
    def start(self) -> Self:
        threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the fake {type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._stopped:
            self._loop.call_soon_threadsafe(self._stopped.set)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        await self.prepare()
        async with serve(self._connected, "127.0.0.1", 0, process_request=self.check,
                         subprotocols=self.subprotocols, select_subprotocol=_first_asked) as server:
            self._server = server
            self._ready.set()
            await self._stopped.wait()

    async def _connected(self, connection: ServerConnection) -> None:
        self._open.add(connection)
        try:
            await self.handle(connection)
        except ConnectionClosed:
            pass  # the client went away (a test killed it): nothing to tell
        finally:
            self._open.discard(connection)

    async def _ping_all(self, timeout: float) -> None:
        pongs = []
        for connection in list(self._open):
            try:
                pongs.append(await connection.ping())
            except ConnectionClosed:
                continue
        await asyncio.wait_for(asyncio.gather(*pongs, return_exceptions=True), timeout)


def _first_asked(connection: ServerConnection, subprotocols: list[str]) -> str | None:
    return subprotocols[0] if subprotocols else None
