"""Load the bundled sample community, through the collectors' own parsing and ingest path.

The sample is the exact JSON the APIs return, so ``peerdesk demo`` exercises the
same code as ``peerdesk collect``; only the transport differs. Times are shifted
so the newest post is "now", which keeps the dashboard's "this week" meaningful
whenever the demo is run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from collectors.bluesky.parse import parse_post_view
from collectors.bluesky.threads import thread_replies
from collectors.mastodon.parse import parse_statuses
from collectors.records import VIA_LIST, VIA_TAG, Page, Post
from pipeline.core import store
from pipeline.core.ingest import StoreResult, store_page

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"
DEMO_DB = Path("data/demo.duckdb")


@dataclass
class DemoLoad:
    path: Path
    stored: StoreResult
    instances: int
    shift: timedelta
    errors: list[str]


def mastodon_pages(sample: Path, errors: list[str]) -> Iterator[tuple[str, Page]]:
    """Each sample instance's statuses as the collector would page them, then its deletions."""
    for folder in sorted(p for p in (sample / "mastodon").iterdir() if p.is_dir()):
        host = folder.name
        items = json.loads((folder / "statuses.json").read_text(encoding="utf-8"))
        posts, _ = parse_statuses(items, f"https://{host}", host, errors)
        yield host, Page(posts=posts)
        deleted_file = folder / "deleted.json"
        if deleted_file.exists():
            gone = set(json.loads(deleted_file.read_text(encoding="utf-8")))
            uris = [(s.get("reblog") or s)["uri"] for s in items if s.get("id") in gone]
            yield host, Page(deleted=uris)


def bluesky_pages(sample: Path, errors: list[str]) -> Iterator[tuple[str, Page]]:
    """The Bluesky sample as search, list-feed and thread answers, with authors' bios from getProfiles."""
    folder = sample / "bluesky"
    if not folder.is_dir():
        return
    read = lambda name: json.loads((folder / name).read_text(encoding="utf-8"))  # noqa: E731
    bios = {p["did"]: p.get("description") or "" for p in read("profiles.json")["profiles"]}

    def parsed(views: list, via: str) -> list[Post]:
        posts = []
        for view in views:
            try:
                posts.append(parse_post_view(view, via))
            except ValueError as exc:
                errors.append(f"bluesky sample: {exc}")
        return posts

    pages = [
        Page(posts=parsed(read("search_posts.json")["posts"], VIA_TAG)),
        Page(posts=parsed([item["post"] for item in read("list_feed.json")["feed"]
                           if "reason" not in item], VIA_LIST)),
    ]
    for thread in sorted((folder / "threads").glob("*.json")):
        body = json.loads(thread.read_text(encoding="utf-8"))
        pages.append(Page(posts=thread_replies(body, body["thread"]["post"]["uri"], errors)))
    for page in pages:
        page.posts = [dataclasses.replace(p, author=dataclasses.replace(p.author, bio=bios.get(p.author.key, "")))
                      for p in page.posts]
        yield "bluesky", page


def _shift(post: Post, delta: timedelta) -> Post:
    return dataclasses.replace(
        post,
        created_at=post.created_at + delta,
        edited_at=post.edited_at + delta if post.edited_at else None,
    )


def load_demo(path: Path = DEMO_DB, sample: Path = SAMPLE_DIR, now: datetime | None = None) -> DemoLoad:
    """Rebuild the demo database from the sample, newest post at ``now``."""
    now = now or store.now_utc()
    pages: list[Page] = []
    errors: list[str] = []
    hosts: set[str] = set()
    for host, page in [*mastodon_pages(sample, errors), *bluesky_pages(sample, errors)]:
        hosts.add(host)
        pages.append(page)
    newest = max((p.created_at for page in pages for p in page.posts), default=now)
    delta = now - newest
    for page in pages:
        page.posts = [_shift(p, delta) for p in page.posts]
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    total = StoreResult()
    with store.writing(path) as con:
        for page in pages:
            total.add(store_page(con, page, now=now))
    store.checkpoint(path)  # the demo file is whole by itself: it gets copied around (tests, other machines)
    return DemoLoad(path=path, stored=total, instances=len(hosts), shift=delta, errors=errors)
