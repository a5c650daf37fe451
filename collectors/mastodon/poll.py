"""Mastodon hashtag timelines and the account's lists as committable pages: what one cycle reads on an instance.

Tags share a request (one and up to four more in ``any[]``) where the server
reads ``any[]``, and each group, feed scope and list keeps a cursor of its own
(:func:`cursor_key`, :func:`list_key`). How a pass resumes is told in
:mod:`collectors.mastodon.paging`; what first contact asks, in
:mod:`collectors.mastodon.feed_access`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from urllib.parse import quote

from collectors.mastodon.api import Instance, LoginRequired, Malformed, MastodonError, NotFound, Unreachable
from collectors.mastodon.feed_access import explain_login, feed_scope
from collectors.mastodon.paging import ALL, LOCAL, REMOTE, PageBudget, add_note, backfill_pages, forward_pages
from collectors.mastodon.software import honours_any, software_key
from collectors.records import VIA_LIST, Page

log = logging.getLogger(__name__)

EXTRA_TAGS = 4  # tags that may ride along in any[]
# Timeline pages one instance may cost per cycle, all its tag groups together (4,000 statuses): a
# server that pages without end cannot hold the cycle. A forward pass resumes from its cursor next
# cycle; a first backfill that reaches the limit keeps what it read and polls forward from there.
MAX_PAGES = 100


def tag_groups(tags: Sequence[str]) -> list[tuple[str, ...]]:
    """One request covers a tag and up to four more in ``any[]``."""
    size = 1 + EXTRA_TAGS
    return [tuple(tags[i : i + size]) for i in range(0, len(tags), size)]


def cursor_key(base: str, group: Sequence[str], scope: str = ALL) -> str:
    return f"mastodon:{base}:tag:{'+'.join(group)}" + ("" if scope == ALL else f":{scope}")


def list_key(base: str, list_id: str) -> str:
    return f"mastodon:{base}:list:{list_id}"


def domain_key(base: str) -> str:
    """Where the instance's account domain, learned on first contact, is kept beside the cursors."""
    return f"mastodon:{base}:domain"


def rotations(group: Sequence[str]) -> list[tuple[str, ...]]:
    """The group with each tag in turn first: the order a saved cursor may have been polled in."""
    return [tuple(group[i:]) + tuple(group[:i]) for i in range(len(group))]


async def poll_tags(inst: Instance, tags: Sequence[str], cursors: Mapping[str, str], since: datetime,
                    max_pages: int = MAX_PAGES) -> AsyncIterator[Page]:
    """All new posts under the tags on one instance, as committable pages.

    A login requirement, an unknown tag or a malformed page ends that tag group
    only; a dead or rate-limited instance ends the instance (raised to the caller).
    At most ``max_pages`` timeline pages are read; a pass whose pages bring
    nothing new, or whose ids do not move past the bound asked for, ends its group.
    When no group could be read at all (every one refused or broken), the
    instance has failed this cycle, whatever it answered about itself.
    A server that ignores ``any[]`` (GoToSocial) is asked one tag per request,
    each with a cursor of its own (see :mod:`collectors.mastodon.software`).
    """
    budget = PageBudget(max_pages)
    saved = cursors.get(domain_key(inst.base))  # the verified account domain, or the host when there is none
    if saved is not None and inst.account_domain is None and saved != inst.host.lower():
        inst.account_domain = saved
    scopes: list[str | None] = []  # the instance's feed scope, read once however many groups are new
    software = cursors.get(software_key(inst.base))  # which decides whether tags share a request
    read = 0  # groups polled to their end
    groups = _groups(tags, software)
    if software is None or saved is None or any(_resumed(inst, g, cursors) is None for g in groups):
        # First contact with a group or this instance: which feed may we read, is its domain its own,
        # and does it read any[]? (GoToSocial does not: one tag per request there.)
        scope_found, domain_read, kind = await feed_scope(inst)
        scopes.append(scope_found)
        if saved is None and domain_read:  # saved before any post keyed by it
            saved = inst.account_domain or inst.host.lower()
            yield Page(cursor_key=domain_key(inst.base), cursor=saved)
        if kind is not None and kind != software:  # kept, so later cycles group without asking
            yield Page(cursor_key=software_key(inst.base), cursor=kind)
            software = kind
        groups = _groups(tags, software)
    for group in groups:
        resumed = _resumed(inst, group, cursors)
        if resumed is not None:
            order, scope = resumed
        else:
            found = scopes[0]
            if found is None:
                continue  # no access to this instance's hashtag feeds at all; the note says why
            order, scope = await _known_tag_first(inst, group), found
        key = cursor_key(inst.base, order, scope)
        try:
            if key in cursors:
                async for page in forward_pages(inst, order, key, cursors[key], scope, budget):
                    yield page
            else:
                async for page in backfill_pages(inst, order, key, since, scope, budget):
                    yield page
            read += 1
        except LoginRequired:
            await explain_login(inst)
        except NotFound:  # servers such as GoToSocial answer 404 for a tag they have never seen
            log.debug("%s: no tag %s here yet", inst.host, order[0])
            read += 1
        except Malformed as exc:
            inst.report.errors.append(str(exc))
    if groups and not read:
        inst.report.failed = True


def _groups(tags: Sequence[str], software: str | None) -> list[tuple[str, ...]]:
    """Tags as requests: groups in ``any[]`` where the server reads it, else one tag per request."""
    return tag_groups(tags) if honours_any(software) else [(tag,) for tag in tags]


async def poll_lists(inst: Instance, lists: Sequence[str], cursors: Mapping[str, str], since: datetime,
                     max_pages: int = MAX_PAGES) -> AsyncIterator[Page]:
    """New posts on the signed-in account's lists (ids or titles), as committable pages with ``via=list``.

    ``GET /api/v1/timelines/list/:id`` pages like a tag timeline, so each list
    has a cursor of its own (:func:`list_key`), moved forward with ``min_id``
    after a first backfill to ``since``. It needs the owner's token: without
    one the source says so and reads nothing. A list that is not there (deleted,
    a mistyped title) costs that list, one line.
    """
    if not inst.token:
        add_note(inst, "Mastodon lists need your account: run 'peerdesk login mastodon'")
        return
    budget = PageBudget(max_pages)
    inst.account_domain = inst.account_domain or cursors.get(domain_key(inst.base))
    try:
        owned, _ = await inst.get("/api/v1/lists")
    except LoginRequired as exc:
        inst.report.failed = True
        inst.report.errors.append(f"{exc}; the token needs the read scope")
        return
    by_title = {str(x.get("title")): str(x.get("id")) for x in owned if isinstance(x, dict)} if isinstance(
        owned, list) else {}
    ids = set(by_title.values())
    read = 0
    for wanted in lists:
        list_id = wanted if wanted in ids else by_title.get(wanted)
        if list_id is None:
            inst.report.errors.append(f"{inst.host}: you have no list {wanted!r} (give its id or exact title)")
            continue
        key, path, label = list_key(inst.base, list_id), f"/api/v1/timelines/list/{quote(list_id, safe='')}", (
            f"list {wanted}",)
        try:
            if key in cursors:
                async for page in forward_pages(inst, label, key, cursors[key], ALL, budget, path, VIA_LIST):
                    yield page
            else:
                async for page in backfill_pages(inst, label, key, since, ALL, budget, path, VIA_LIST):
                    yield page
            read += 1
        except (LoginRequired, NotFound, Malformed) as exc:
            inst.report.errors.append(str(exc))
    if lists and not read:
        inst.report.failed = True


def _resumed(inst: Instance, group: Sequence[str], cursors: Mapping[str, str]) -> tuple[tuple[str, ...], str] | None:
    """The tag order and feed scope a saved cursor of this group was polled with, if there is one."""
    for order in rotations(group):
        for scope in (ALL, LOCAL, REMOTE):
            if cursor_key(inst.base, order, scope) in cursors:
                return order, scope
    return None


async def _known_tag_first(inst: Instance, group: Sequence[str]) -> tuple[str, ...]:
    """The group turned so that a tag the instance knows is in the path.

    Mastodon looks up only the path's tag, and answers an empty list when it has
    never seen it, whatever ``any[]`` holds: a small instance where nobody wrote
    the first tag would hide the whole group. ``GET /api/v1/tags/:name`` says
    which tags exist (404 for the others). Asked once, on first contact; the
    order is kept in the cursor's key from then on.
    """
    if len(group) == 1:
        return tuple(group)
    for order in rotations(group):
        try:
            await inst.get(f"/api/v1/tags/{quote(order[0], safe='')}")
        except NotFound:
            continue
        except Unreachable:
            raise
        except MastodonError as exc:  # an older server or a refusal: poll in the configured order
            log.debug("%s: could not look up tag %s: %s", inst.host, order[0], exc)
            return tuple(group)
        return order
    return tuple(group)

