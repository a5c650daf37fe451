"""The replies under a Mastodon help request, read from ``/api/v1/statuses/:id/context``.

Answers rarely carry the tag, so a request's thread is read on its own, best
from the server that published it; only that server is believed when it says
the request is gone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from collectors.mastodon.api import Instance, LoginRequired, Malformed, MastodonError, NotFound
from collectors.mastodon.entities import Timeline, decode_context
from collectors.mastodon.parse import parse_statuses
from collectors.records import VIA_THREAD, Page, host_of


def origin_of(uri: str) -> tuple[str, str] | None:
    """(base URL, local id) of a status on the server that published it, when its uri is Mastodon-shaped."""
    parts = urlsplit(uri)
    segments = parts.path.strip("/").split("/")
    if parts.scheme == "https" and len(segments) == 4 and segments[0] == "users" and segments[2] == "statuses":
        return f"https://{parts.netloc.lower()}", segments[3]
    return None


def descendants_of(context: object) -> Timeline | list | None:
    """The replies a context answer holds, None when it is not a context object.

    The answer is typed statuses or plain JSON (see :func:`collectors.mastodon.entities.decode_context`).
    """
    if type(context) is Timeline:
        return context
    descendants = context.get("descendants") if isinstance(context, dict) else None
    return descendants if isinstance(descendants, list) else None


async def fetch_thread(places: Sequence[tuple[Instance, str]], request_uri: str, checked_at: str) -> Page:
    """The replies under a help request, from the first place that answers.

    ``places`` are (instance, local id) pairs, best first: the origin server sees
    the fullest thread. A 404 or 410 from the origin means the request was
    deleted; from another instance it only means that copy is gone there (a
    server is believed only about its own posts), so the next place is asked.
    The page's cursor records when the thread was checked, which drives the
    re-check schedule.
    """
    key = f"thread:{request_uri}"
    last_error: MastodonError | None = None
    gone_elsewhere = False
    for inst, local_id in places:
        try:
            context, _ = await inst.get(f"/api/v1/statuses/{quote(local_id, safe='')}/context", decode=decode_context)
        except NotFound:
            if host_of(request_uri) in inst.hosts():
                return Page(deleted=[request_uri], cursor_key=key, cursor=checked_at)
            gone_elsewhere = True
            continue
        except (LoginRequired, Malformed, MastodonError) as exc:
            last_error = exc
            continue
        descendants = descendants_of(context)
        if descendants is None:
            last_error = Malformed(f"{inst.host}: context of {local_id} is not a context object")
            continue
        posts, _ = parse_statuses(descendants, inst.base, inst.host, inst.report.errors, VIA_THREAD,
                                  inst.account_domain)
        posts = [dataclasses.replace(p, reply_root=request_uri) for p in posts]
        return Page(posts=posts, cursor_key=key, cursor=checked_at, speaks_for=inst.hosts())
    if gone_elsewhere and last_error is None:  # checked: no copy left where it was seen, the origin not asked
        return Page(cursor_key=key, cursor=checked_at)
    raise last_error or MastodonError(f"no place to fetch the thread of {request_uri}")
