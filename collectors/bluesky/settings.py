"""What the Bluesky collector is told, built by the pipeline from its configuration (no secrets here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PUBLIC_APPVIEW = "https://public.api.bsky.app"
# Pages one cursor key (a tag search, a list feed) may read per cycle: 20,000 posts at 100 a page. A pass
# stopped there saves no position (newest first cannot resume half-way) and is read again next cycle.
MAX_PAGES = 200


@dataclass(frozen=True)
class BlueskySettings:
    """What the collector needs, built by the pipeline from its configuration (no secrets here).

    ``appview``, ``page_size`` and ``thread_depth`` have production defaults and
    exist so tests can point anonymous reads at a fake and page through a small
    sample.
    """

    service: str  # the PDS that signs in and searches
    tags: tuple[str, ...]  # lower-case, no '#'
    lists: tuple[str, ...]  # at:// list URIs or https://bsky.app/profile/<actor>/lists/<rkey> links
    since: datetime  # first-run backfill bound, UTC aware
    session_path: Path  # exported session (0600), never the database
    user_agent: str
    timeout: float = 20.0
    max_retries: int = 3
    appview: str = PUBLIC_APPVIEW  # anonymous reads (lists, profiles, threads) without credentials
    page_size: int = 100  # searchPosts/getListFeed limit (max 100)
    thread_depth: int = 100  # getPostThread depth (max 1000)
    max_pages: int = MAX_PAGES  # per cursor key per cycle
