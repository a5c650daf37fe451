"""What the stream did, as counters and the one status line ``peerdesk stream`` and ``peerdesk run`` print."""

from __future__ import annotations

from dataclasses import dataclass

from collectors.bluesky.jetstream.events import from_micros
from pipeline.core import store


@dataclass
class StreamStats:
    """What the stream did, for status lines; counters only, so it stays small over a day."""

    events: int = 0
    new_posts: int = 0
    new_requests: int = 0
    updated: int = 0
    deleted: int = 0
    purged: int = 0
    skipped: int = 0  # not stored: opted out, forgotten, or no profile to check
    malformed: int = 0
    reconnects: int = 0
    commits: int = 0
    cursor: int | None = None  # the committed position (unix microseconds)

    def line(self, since: StreamStats | None = None) -> str:
        """One line: what changed since ``since`` (or since the start) and how far behind the stream is."""
        base = since or StreamStats()
        d = {name: getattr(self, name) - getattr(base, name) for name in
             ("events", "new_posts", "new_requests", "deleted", "purged", "skipped", "malformed", "reconnects")}
        text = (f"jetstream: {d['new_posts']} new posts ({d['new_requests']} help requests), {d['deleted']} deleted, "
                f"{d['purged']} purged, {d['skipped']} left out for consent, {d['malformed']} malformed "
                f"of {d['events']} events")
        if self.cursor is not None:
            at = from_micros(self.cursor)
            behind = max(0.0, (store.now_utc() - at).total_seconds())
            text += f"; at {at:%Y-%m-%d %H:%M:%S} UTC ({behind:.0f} s behind)"
        if d["reconnects"]:
            text += f"; {d['reconnects']} reconnects"
        return text

