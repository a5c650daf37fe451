"""Bluesky record keys in the TID form (13 base32-sortable characters), chosen by the writer, not the PDS.

A TID is 53 bits of microseconds since the Unix epoch and a 10-bit clock id,
written five bits at a time, most significant first, in an alphabet that sorts
like the numbers: keys sort by time, as a repository lists them. Writers choose
their own keys so that a write can be repeated at the same key: the follow-list
sync saves a fresh key before it writes the record, and publishing derives one
from the week and the position in the thread.
"""

from __future__ import annotations

import time

TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def tid(micros: int, clock_id: int = 0) -> str:
    """The TID for an instant (microseconds since the epoch) and a clock id (its low 10 bits)."""
    value = (micros << 10) | (clock_id & 0x3FF)
    return "".join(TID_CHARS[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def new_tid(now: float | None = None, clock_id: int = 0) -> str:
    """A key for a record made now (``now`` in seconds since the epoch, as ``time.time()`` gives)."""
    return tid(int((time.time() if now is None else now) * 1_000_000), clock_id)
