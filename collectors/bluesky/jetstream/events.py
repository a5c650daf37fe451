"""What a Jetstream frame becomes once decoded: one wire-neutral :class:`Event`, and the errors.

Both wires (see :mod:`collectors.bluesky.jetstream.stream`) decode to the same events, so the
pipeline never learns which one it is reading. Times stay in unix microseconds,
the unit of the cursor on both wires, until a record needs a datetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.bluesky.parse import parse_time

POST_COLLECTION = "app.bsky.feed.post"
# An account event with active=false purges the account for these; "desynchronized" and
# "throttled" are transient states of the relay, not the person leaving.
GONE_STATUSES = frozenset({"deactivated", "deleted", "takendown", "suspended"})


class JetstreamError(Exception):
    """Root of what the Jetstream collector raises; the text is one line, safe to show."""


class JetstreamRefused(JetstreamError):
    """The server refused the subscription itself (a 4xx answer, a bad URL): retrying would not help."""


class MalformedEvent(JetstreamError, ValueError):
    """A frame that is not a Jetstream event (not JSON, missing fields): it costs itself only."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event that may matter to the community, in a wire-neutral shape.

    ``kind`` is ``post`` (a create or update of a post that matched), ``leave`` (an
    update of a known author's post that no longer matches: its tag was taken away), ``delete``,
    ``identity`` (handle change), ``account`` (status change) or ``info`` (a
    server notice, e.g. ``OutdatedCursor``).
    """

    kind: str
    did: str
    time_us: int | None
    uri: str | None = None
    cid: str | None = None
    record: Mapping[str, Any] | None = None
    operation: str | None = None
    via: str | None = None
    handle: str | None = None
    active: bool | None = None
    status: str | None = None
    message: str | None = None


def account_gone(event: Event) -> bool:
    """An account event saying the person left or was removed: everything stored about them goes."""
    return event.kind == "account" and event.active is False and (event.status is None or event.status in GONE_STATUSES)


def micros(value: object) -> int | None:
    """Unix microseconds from an RFC 3339 time, or None."""
    when = parse_time(value)
    return None if when is None else to_micros(when)


def to_micros(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000 + when.microsecond


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)
