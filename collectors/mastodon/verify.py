"""Whether stored statuses still exist, asked of the server that published them.

Only requests' threads are re-read, so without this an ordinary post deleted
by its author would keep its words in the store forever. Mastodon 4.3+ answers
``GET /api/v1/statuses?id[]=…`` with the statuses it still shows, up to 20 at a
time, and leaves out the rest; older servers answer 404, GoToSocial 405 (others may
ignore the ids), and then each status is asked for on its own
(``GET /api/v1/statuses/:id``, where 404 or 410 means gone). Only the origin
is asked: a server is believed only about its own posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from collectors.mastodon.api import Instance, LoginRequired, Malformed, NotFound, NotSupported

BATCH = 20  # ids per GET /api/v1/statuses (Mastodon's cap)


async def gone_statuses(inst: Instance, ids: Sequence[str], *, batch: bool = True) -> tuple[set[str], bool]:
    """The ids among ``ids`` that ``inst`` no longer shows, and whether its batch lookup can be used again.

    An id whose fate stays unknown (an error on its own lookup) is in neither
    answer: it is simply not gone, and it is asked again on its next turn.
    """
    if batch:
        found = await _batch(inst, ids)
        if found is not None:
            return found, True
    gone: set[str] = set()
    for status_id in ids:
        if await _one(inst, status_id):
            gone.add(status_id)
    return gone, False


async def _batch(inst: Instance, ids: Sequence[str]) -> set[str] | None:
    """The missing ids, or None when the answer cannot be trusted to mean "gone" (then ask one by one)."""
    try:
        answer, _ = await inst.get("/api/v1/statuses", params=[("id[]", i) for i in ids])
    except (NotFound, NotSupported, LoginRequired, Malformed):  # GoToSocial: 405, no GET on /api/v1/statuses
        return None
    if not isinstance(answer, list):
        return None
    shown = {s.get("id") for s in answer if isinstance(s, dict)}
    if not shown & set(ids):
        return None  # a server that ignored the ids, or every one gone at once: too much to take on one answer
    return set(ids) - shown


async def _one(inst: Instance, status_id: str) -> bool:
    try:
        await inst.get(f"/api/v1/statuses/{quote(status_id, safe='')}")
    except NotFound:
        return True
    except (LoginRequired, Malformed):
        return False
    return False
