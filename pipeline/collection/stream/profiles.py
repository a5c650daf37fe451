"""Authors' profiles for the stream's consent checks: looked up on the public AppView in batches, and remembered.

A Jetstream event names its author's DID and nothing more, while consent reads
the profile (bio, labels). The cache spares the AppView a call for an author
seen recently, and is bounded so that a day of new authors does not grow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence

from collectors.bluesky.jetstream.records import lookup_profiles
from collectors.records import BLUESKY, Account, SourceReport
from pipeline.collection import bluesky_source
from pipeline.core.settings import Settings

Lookup = Callable[[Sequence[str]], dict[str, Account | None]]


class ProfileCache:
    """Authors' profiles (bio, labels, handle) for consent, looked up in batches and remembered, bounded.

    Least recently used entries go first; entries expire so a later opt-out in a
    bio is seen within ``ttl``. ``lookup`` is synchronous (atproto's client) and
    runs in a worker thread.
    """

    def __init__(self, lookup: Lookup, size: int, ttl: float, missing_ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lookup, self._size, self._ttl, self._missing_ttl, self._clock = lookup, size, ttl, missing_ttl, clock
        self._entries: OrderedDict[str, tuple[float, Account | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def forget(self, did: str) -> None:
        self._entries.pop(did, None)

    async def accounts(self, dids: Iterable[str]) -> dict[str, Account | None]:
        """Each DID's account (None when the AppView does not show it); raises BlueskyError on failure."""
        now, found, missing = self._clock(), {}, []
        for did in dict.fromkeys(dids):
            entry = self._entries.get(did)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(did)
                found[did] = entry[1]
            else:
                missing.append(did)
        if missing:
            looked = await asyncio.to_thread(self._lookup, missing)
            for did in missing:
                account = looked.get(did)
                found[did] = account
                self._entries[did] = (now + (self._ttl if account else self._missing_ttl), account)
                self._entries.move_to_end(did)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return found


@contextlib.contextmanager
def appview_lookup(settings: Settings) -> Iterator[Lookup]:
    """Profile lookups on the public AppView without an account, for as long as the stream runs.

    The connection comes from :func:`bluesky_source.connect`, the one place settings become a Bluesky client,
    anonymous on purpose (the stream needs no account), and is closed when the block ends.
    """
    report = SourceReport(source="bluesky:jetstream", platform=BLUESKY)
    with bluesky_source.connect(settings, report, credentials=(None, None)) as conn:
        yield lambda dids: lookup_profiles(conn, dids)
