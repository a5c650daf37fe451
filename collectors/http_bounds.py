"""Size caps and deadlines for HTTP answers: what keeps a hostile server from exhausting an unattended collector.

httpx bounds each socket read, not a request: a server sending a byte every two
seconds never trips a 20 s read timeout and can hold a cycle for hours. And it
decodes ``Content-Encoding`` without a limit: 200 kB of gzip become 650 MB in
memory. So the clients read raw bytes themselves, decode them here with a cap
on the *decoded* size, and stop at a wall-clock deadline around the whole
request (:func:`deadline_for`).

Caps per endpoint class (a page of 40 statuses is about 0.5 MB, a thread of 100
about 1.5 MB, a page of 100 Bluesky posts about 1 MB):

* :data:`PAGE_CAP` (8 MiB): lists of posts: timelines, contexts, searches, feeds, threads.
* :data:`DOCUMENT_CAP` (2 MiB): everything else: instance documents, profiles, sessions, writes.

Only ``gzip`` and ``deflate`` are asked for (``Accept-Encoding``), and only they
and ``identity`` are decoded; a server answering in anything else is malformed.
"""

from __future__ import annotations

import zlib

PAGE_CAP = 8 * 2**20
DOCUMENT_CAP = 2 * 2**20
ACCEPT_ENCODING = "gzip, deflate"
DEADLINE_FACTOR = 3  # a whole request may take this many read timeouts, body included


class TooLarge(Exception):
    """The decoded answer passed its cap; reading stopped there."""


class BadEncoding(Exception):
    """A ``Content-Encoding`` this reader does not decode, or a body that does not decode."""


def deadline_for(timeout: float) -> float:
    """The wall-clock limit of one request, from the per-read ``timeout``."""
    return DEADLINE_FACTOR * timeout


def mib(size: int) -> str:
    return f"{size / 2**20:g} MiB"


class CappedBody:
    """Decodes raw chunks as they arrive and raises :class:`TooLarge` as soon as the decoded size passes ``cap``.

    Decompression is asked for at most ``cap + 1`` bytes at a time
    (``max_length``), so a gzip bomb never expands in memory beyond the cap.
    """

    def __init__(self, content_encoding: str | None, cap: int) -> None:
        self.cap = cap
        self._parts: list[bytes] = []
        self._size = 0
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        self._decoders: list[zlib._Decompress] = []
        for coding in reversed(codings):  # applied in order, so undone last first
            if coding in ("gzip", "x-gzip"):
                self._decoders.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif coding == "deflate":
                self._decoders.append(_DeflateDecoder())  # type: ignore[arg-type]
            elif coding != "identity":
                raise BadEncoding(f"content-encoding {coding[:40]!r} is not one that was asked for")

    def feed(self, chunk: bytes) -> None:
        for decoder in self._decoders:
            chunk = self._inflate(decoder, chunk)
        self._add(chunk)

    def _inflate(self, decoder: zlib._Decompress, chunk: bytes) -> bytes:
        out: list[bytes] = []
        total = 0
        data = chunk
        try:
            while data:
                part = decoder.decompress(data, self.cap + 1 - self._size - total)
                out.append(part)
                total += len(part)
                if self._size + total > self.cap:
                    raise TooLarge(f"the answer is larger than {mib(self.cap)}")
                data = decoder.unconsumed_tail
                if not part and data:  # no progress: corrupt input
                    raise BadEncoding("the body does not decode")
        except zlib.error:
            raise BadEncoding("the body does not decode") from None
        return b"".join(out)

    def _add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.cap:
            raise TooLarge(f"the answer is larger than {mib(self.cap)}")
        self._parts.append(chunk)

    def body(self) -> bytes:
        return b"".join(self._parts)


class _DeflateDecoder:
    """HTTP ``deflate`` is zlib-wrapped, but some servers send raw deflate: try the one, then the other."""

    def __init__(self) -> None:
        self._decoder = zlib.decompressobj()
        self._first = True

    @property
    def unconsumed_tail(self) -> bytes:
        return self._decoder.unconsumed_tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._decoder.decompress(data, max_length)
            except zlib.error:
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._decoder.decompress(data, max_length)
