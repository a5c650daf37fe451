"""One pass over a Mastodon timeline (a hashtag, a list), as pages that are each safe to commit.

How a source resumes (GrimoireLab's rule: say it, and move the position only
after the rows it covers are committed):

* Forward polling uses ``min_id``: each answer is the block of statuses
  immediately newer than the cursor, so every page is safe to commit with the
  cursor set to the newest id in it. A crash loses nothing and skips nothing.
  Each poll starts an hour below the cursor, because a post that federates late
  gets an id from its publication time (see :func:`overlap_floor`).
* The first run backfills newest-first with ``max_id`` until ``since``. Such a
  pass cannot resume half-way, so only its last page carries a cursor (the
  newest id seen); an interrupted backfill is simply redone, and the upserts
  make that harmless.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from collectors.mastodon.api import Instance
from collectors.mastodon.entities import decode_timeline
from collectors.mastodon.parse import parse_statuses
from collectors.records import VIA_TAG, Page, Post

PAGE_LIMIT = 40  # the most the tag timeline returns per request
FEDERATION_OVERLAP = timedelta(hours=1)  # how far back each forward poll re-reads

# Which half of a hashtag feed a request reads (Mastodon 4.5 ``local``/``remote``): "all" unless
# the instance keeps a half for logged-in users; each scope keeps a cursor of its own.
ALL, LOCAL, REMOTE = "all", "local", "remote"


def id_order(status_id: str) -> tuple[int, str]:
    """Mastodon ids are opaque strings; the API docs sort them by length, then lexically.

    That orders Mastodon's numeric snowflakes and the fixed-length ULIDs or
    flake ids of other servers speaking the same API alike.
    """
    return len(status_id), status_id


def overlap_floor(cursor: str, overlap: timedelta = FEDERATION_OVERLAP) -> str:
    """A ``min_id`` a little before the cursor, so late-federated posts are not skipped.

    Mastodon gives a status a snowflake id from a timestamp in its upper bits
    (milliseconds << 16), and remote statuses get ids from their published time;
    one that federates late lands *below* a cursor taken earlier. Re-reading the
    last ``overlap`` costs nothing in a quiet tag (the same short page) and the
    writes are idempotent. GoToSocial's ULIDs carry the same millisecond time in
    their first ten characters and get the same treatment; other ids are used
    as they are.
    """
    millis = int(overlap.total_seconds() * 1000)
    if _ULID.fullmatch(cursor):
        stamp = 0
        for c in cursor[:10]:
            stamp = stamp * 32 + _CROCKFORD.index(c)
        return _crockford(max(stamp - millis, 0), 10) + "0" * 16
    if not cursor.isdigit() or len(cursor) < 15:
        return cursor
    floor = int(cursor) - (millis << 16)
    return str(max(floor, 0))


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def _crockford(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        digits.append(_CROCKFORD[digit])
    return "".join(reversed(digits))


class PageBudget:
    """Timeline pages an instance has left this cycle, shared by its tag groups."""

    def __init__(self, pages: int) -> None:
        self.limit = self.left = pages

    def take(self, inst: Instance) -> bool:
        """Whether another page may be asked for; the first refusal says so in the instance's note."""
        if self.left > 0:
            self.left -= 1
            return True
        if self.left == 0:
            self.left = -1
            add_note(inst, f"stopped after {self.limit} timeline pages, the per-cycle limit")
        return False


def _params(group: Sequence[str], scope: str, **bounds: str) -> list[tuple[str, str]]:
    # Built from our own parameters each time: the Link header drops any[].
    params = [("limit", str(PAGE_LIMIT))]
    params += [("any[]", t) for t in group[1:]]
    if scope != ALL:
        params.append((scope, "true"))
    params += [(k, v) for k, v in bounds.items()]
    return params


def _path(group: Sequence[str]) -> str:
    return f"/api/v1/timelines/tag/{quote(group[0], safe='')}"


async def forward_pages(inst: Instance, group: Sequence[str], key: str, cursor: str, scope: str,
                        budget: PageBudget, path: str | None = None, via: str = VIA_TAG) -> AsyncIterator[Page]:
    """Pages of statuses newer than the cursor (less the overlap), each safe to commit with its cursor.

    ``min_id`` answers the block immediately above it, so pages are contiguous;
    a page shorter than the limit is the last one, which keeps a quiet poll
    to a single request. A server that ignores ``min_id`` (the same page
    again, or ids below the bound) ends the pass: the cursor only moves with
    ids above the bound that was asked for.
    """
    floor = overlap_floor(cursor)
    seen: set[str] = set()
    while budget.take(inst):
        posts, ids, fresh = await _page(inst, group, scope, path, via, seen, min_id=floor)
        if not ids:
            return
        top = max(ids, key=id_order)
        moved = id_order(top) > id_order(floor)
        if moved:
            floor = top
            cursor = max(cursor, floor, key=id_order)
        if fresh:
            yield Page(posts=posts, cursor_key=key, cursor=cursor, speaks_for=inst.hosts())
        if not (fresh and moved):
            _no_progress(inst, group, f"min_id {floor}", path)
            return
        if len(ids) < PAGE_LIMIT:
            return


async def backfill_pages(inst: Instance, group: Sequence[str], key: str, since: datetime, scope: str,
                         budget: PageBudget, path: str | None = None, via: str = VIA_TAG) -> AsyncIterator[Page]:
    """Newest first with ``max_id`` down to ``since``; only a pass that ends (or reaches the page limit) saves a cursor.

    A server that ignores ``max_id`` (the same page again, or ids that do not
    go down) ends the pass without a cursor: the next cycle starts it over.
    """
    newest: str | None = None
    max_id: str | None = None
    seen: set[str] = set()
    while budget.take(inst):
        bounds = {"max_id": max_id} if max_id else {}
        posts, ids, fresh = await _page(inst, group, scope, path, via, seen, **bounds)
        if not ids:
            break
        low = min(ids, key=id_order)
        moved = max_id is None or id_order(low) < id_order(max_id)
        if fresh:
            newest = max([*ids, newest] if newest else ids, key=id_order)
            yield Page(posts=posts, cursor_key=key, speaks_for=inst.hosts())  # newest-first: no cursor until the end
        if not (fresh and moved):
            _no_progress(inst, group, f"max_id {max_id}", path)
            return
        max_id = low
        if len(ids) < PAGE_LIMIT or (posts and min(p.created_at for p in posts) < since):
            break
    if newest is not None:
        yield Page(cursor_key=key, cursor=newest)


async def _page(inst: Instance, group: Sequence[str], scope: str, path: str | None, via: str, seen: set[str],
                **bounds: str) -> tuple[list[Post], list[str], bool]:
    """One page of a timeline, parsed: its posts, its ids, and whether any id is new to this pass.

    Both paging directions judge progress the same way, so a server that repeats a page ends either pass.
    """
    items, _ = await inst.get(path or _path(group), _params(group, scope, **bounds), decode_timeline)
    posts, ids = parse_statuses(items, inst.base, inst.host, inst.report.errors, via,
                                local_domain=inst.account_domain)
    fresh = not seen.issuperset(ids)
    seen.update(ids)
    return posts, ids, fresh


def _no_progress(inst: Instance, group: Sequence[str], bound: str, path: str | None = None) -> None:
    what, which = (f"{group[0]} timeline", "that list") if path else (f"#{group[0]} timeline", "that tag")
    inst.report.errors.append(f"{inst.host}: {what} ignored {bound} (a page with nothing new "
                              f"or ids that did not move); stopped {which} for this cycle")


def add_note(inst: Instance, note: str) -> None:
    """Add to the instance's one-line note (shown in the cycle summary) without losing what it already says."""
    inst.report.note = f"{inst.report.note}; {note}" if inst.report.note else note

