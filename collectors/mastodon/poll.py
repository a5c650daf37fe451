"""Mastodon hashtag timelines as pages of records.

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

import dataclasses
import itertools
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from collectors.clean_text import clean_account, clean_post, clean_text
from collectors.mastodon.api import Instance, LoginRequired, Malformed, MastodonError, NotFound, Unreachable
from collectors.mastodon.html_text import html_to_text
from collectors.mastodon.instance import INSTANCE_PATH, hashtag_feed_access, instance_info
from collectors.mastodon.software import from_instance, honours_any, probe_nodeinfo, software_key
from collectors.mastodon.trust import verify_domain
from collectors.records import MASTODON, VIA_LIST, VIA_TAG, VIA_THREAD, Account, Page, Post, Sighting, host_of

log = logging.getLogger(__name__)

PAGE_LIMIT = 40  # the most the tag timeline returns per request
FEDERATION_OVERLAP = timedelta(hours=1)  # how far back each forward poll re-reads
EXTRA_TAGS = 4  # tags that may ride along in any[]
# Timeline pages one instance may cost per cycle, all its tag groups together (4,000 statuses): a
# server that pages without end cannot hold the cycle. A forward pass resumes from its cursor next
# cycle; a first backfill that reaches the limit keeps what it read and polls forward from there.
MAX_PAGES = 100


def tag_groups(tags: Sequence[str]) -> list[tuple[str, ...]]:
    """One request covers a tag and up to four more in ``any[]``."""
    size = 1 + EXTRA_TAGS
    return [tuple(tags[i : i + size]) for i in range(0, len(tags), size)]


# Which half of a hashtag feed a request reads (Mastodon 4.5 ``local``/``remote``): "all" unless
# the instance keeps a half for logged-in users; each scope keeps a cursor of its own.
ALL, LOCAL, REMOTE = "all", "local", "remote"


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


def parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"time is {type(value).__name__}, not a string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _str(d: Mapping, key: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"field {key!r} missing or not a string")
    return value


def _opt_str(d: Mapping, key: str) -> str | None:
    value = d.get(key)
    return value if isinstance(value, str) and value else None


# Every status embeds its author in full, and turning a bio and its fields from
# HTML into text is most of what parsing an account costs: a profile seen again
# with the same values is parsed once. The memo is keyed on every value read;
# the instance only matters for a local ``acct`` (no "@"), so a remote author
# seen on several instances is one entry. When full, the older half goes.
_ACCOUNT_KEYS = ("acct", "uri", "url", "note", "display_name", "bot", "discoverable", "indexable", "noindex", "avatar")
_ACCOUNT_MEMO_SIZE = 50_000
_parsed_accounts: dict[tuple, Account] = {}


def parse_account(d: object, instance_host: str, local_domain: str | None = None) -> Account:
    """An Account entity; the key is ``user@home-domain`` whichever instance we asked.

    ``local_domain`` is the instance's own account domain when known (its
    ``/api/v2/instance`` ``domain``): on a server whose web host differs from the
    domain in its users' handles, a local account's uri names the web host,
    while every other server calls it ``user@domain``.
    """
    if not isinstance(d, dict):
        raise ValueError("account is not an object")
    try:
        values = tuple(map(d.get, _ACCOUNT_KEYS))
        acct = values[0]
        host = None if isinstance(acct, str) and "@" in acct else (instance_host, local_domain)
        fields = d.get("fields") or ()
        memo: tuple | None = (host, values, *(tuple(f.items()) for f in fields if isinstance(f, dict)))
        account = _parsed_accounts.get(memo)  # type: ignore[arg-type]
    except TypeError:  # an unhashable or odd value: parse it without the memo
        memo, account = None, None
    if account is None:
        account = _parse_account(d, instance_host, local_domain)
        if memo is not None:
            if len(_parsed_accounts) >= _ACCOUNT_MEMO_SIZE:
                for old in list(itertools.islice(_parsed_accounts, _ACCOUNT_MEMO_SIZE // 2)):
                    del _parsed_accounts[old]
            _parsed_accounts[memo] = account
    return account


def _parse_account(d: dict, instance_host: str, local_domain: str | None) -> Account:
    acct = _str(d, "acct")
    if "@" in acct:
        key = acct
    else:
        home = local_domain or urlsplit(_opt_str(d, "uri") or _opt_str(d, "url") or "").netloc or instance_host
        key = f"{acct}@{home}"
    fields = d.get("fields") or []
    field_texts: list[str] = []
    if isinstance(fields, list):
        for f in fields:
            if isinstance(f, dict):
                field_texts.append(html_to_text(str(f.get("name") or "")))
                field_texts.append(html_to_text(str(f.get("value") or "")))
    return clean_account(Account(
        key=key.lower(),
        platform=MASTODON,
        handle=key.lower(),
        display_name=str(d.get("display_name") or ""),
        url=_opt_str(d, "url"),
        bio=html_to_text(d.get("note") if isinstance(d.get("note"), str) else ""),
        fields=tuple(field_texts),
        bot=d.get("bot") is True,
        discoverable=d.get("discoverable") if isinstance(d.get("discoverable"), bool) else None,
        indexable=d.get("indexable") if isinstance(d.get("indexable"), bool) else None,
        noindex=d.get("noindex") if isinstance(d.get("noindex"), bool) else None,
        avatar=_opt_str(d, "avatar"),
    ))


def parse_status(d: object, source: str, instance_host: str, via: str = VIA_TAG, local_domain: str | None = None
                 ) -> Post:
    """A Status entity as a Post. A boost becomes the boosted post, sighted under its own local id.

    Raises ValueError, with a one-line reason, on anything that is not a usable status.
    """
    if not isinstance(d, dict):
        raise ValueError("status is not an object")
    if isinstance(d.get("reblog"), dict):
        d = d["reblog"]
    uri = _str(d, "uri")
    local_id = _str(d, "id")
    content = d.get("content")
    if not isinstance(content, str):
        raise ValueError(f"status {local_id}: content is not a string")
    raw_tags = d.get("tags") or []
    if not isinstance(raw_tags, list):
        raise ValueError(f"status {local_id}: tags is not a list")
    tags = tuple(dict.fromkeys(
        t["name"].lower() for t in raw_tags if isinstance(t, dict) and isinstance(t.get("name"), str)
    ))
    edited = d.get("edited_at")
    quote_obj = d.get("quote")
    quote_of = None
    if isinstance(quote_obj, dict):
        # Mastodon 4.5 quotes: {state, quoted_status}; Akkoma and Pleroma put the quoted Status itself there.
        quoted = quote_obj.get("quoted_status") if "state" in quote_obj else quote_obj
        if isinstance(quoted, dict) and isinstance(quoted.get("uri"), str):
            quote_of = quoted["uri"]
    reply_local = d.get("in_reply_to_id")
    return clean_post(Post(
        uri=uri,
        platform=MASTODON,
        author=parse_account(d.get("account"), instance_host, local_domain),
        created_at=parse_time(d.get("created_at")),
        text=html_to_text(content),
        url=_opt_str(d, "url") or uri,
        html=content,
        edited_at=parse_time(edited) if edited else None,
        lang=_opt_str(d, "language"),
        tags=tags,
        visibility=_str(d, "visibility"),
        reply_to_local=str(reply_local) if reply_local not in (None, "") else None,
        quote_of=quote_of,
        via=via,
        sighting=Sighting(source, local_id),
    ))


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


_DOMAIN = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def _crockford(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        digits.append(_CROCKFORD[digit])
    return "".join(reversed(digits))


def parse_statuses(items: object, source: str, host: str, errors: list[str], via: str = VIA_TAG,
                   local_domain: str | None = None) -> tuple[list[Post], list[str]]:
    """Parse a timeline answer; a bad item costs that item. Returns posts and every readable item id."""
    if not isinstance(items, list):
        raise Malformed(f"{host}: timeline answer is {type(items).__name__}, not a list")
    posts: list[Post] = []
    ids: list[str] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            ids.append(clean_text(item["id"]))  # a cursor must be storable too
        try:
            posts.append(parse_status(item, source, host, via, local_domain))
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(f"{host}: skipped a status: {exc}")
    return posts, ids


class _PageBudget:
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
            _add_note(inst, f"stopped after {self.limit} timeline pages, the per-cycle limit")
        return False


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
    budget = _PageBudget(max_pages)
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
        scope_found, domain_read, kind = await _feed_scope(inst)
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
                async for page in _forward(inst, order, key, cursors[key], scope, budget):
                    yield page
            else:
                async for page in _backfill(inst, order, key, since, scope, budget):
                    yield page
            read += 1
        except LoginRequired:
            await _explain_login(inst)
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
        _add_note(inst, "Mastodon lists need your account: run 'peerdesk login mastodon'")
        return
    budget = _PageBudget(max_pages)
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
                async for page in _forward(inst, label, key, cursors[key], ALL, budget, path, VIA_LIST):
                    yield page
            else:
                async for page in _backfill(inst, label, key, since, ALL, budget, path, VIA_LIST):
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


async def _forward(inst: Instance, group: Sequence[str], key: str, cursor: str, scope: str, budget: _PageBudget,
                   path: str | None = None, via: str = VIA_TAG) -> AsyncIterator[Page]:
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
        items, _ = await inst.get(path or _path(group), _params(group, scope, min_id=floor))
        posts, ids = parse_statuses(items, inst.base, inst.host, inst.report.errors, via,
                                    local_domain=inst.account_domain)
        if not ids:
            return
        fresh = not seen.issuperset(ids)
        seen.update(ids)
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


async def _backfill(inst: Instance, group: Sequence[str], key: str, since: datetime, scope: str,
                    budget: _PageBudget, path: str | None = None, via: str = VIA_TAG) -> AsyncIterator[Page]:
    """Newest first with ``max_id`` down to ``since``; only a pass that ends (or reaches the page limit) saves a cursor.

    A server that ignores ``max_id`` (the same page again, or ids that do not
    go down) ends the pass without a cursor: the next cycle starts it over.
    """
    newest: str | None = None
    max_id: str | None = None
    seen: set[str] = set()
    while budget.take(inst):
        bounds = {"max_id": max_id} if max_id else {}
        items, _ = await inst.get(path or _path(group), _params(group, scope, **bounds))
        posts, ids = parse_statuses(items, inst.base, inst.host, inst.report.errors, via,
                                    local_domain=inst.account_domain)
        if not ids:
            break
        fresh = not seen.issuperset(ids)
        seen.update(ids)
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


def _no_progress(inst: Instance, group: Sequence[str], bound: str, path: str | None = None) -> None:
    what, which = (f"{group[0]} timeline", "that list") if path else (f"#{group[0]} timeline", "that tag")
    inst.report.errors.append(f"{inst.host}: {what} ignored {bound} (a page with nothing new "
                              f"or ids that did not move); stopped {which} for this cycle")


def _add_note(inst: Instance, note: str) -> None:
    inst.report.note = f"{inst.report.note}; {note}" if inst.report.note else note


async def _feed_scope(inst: Instance) -> tuple[str | None, bool, str | None]:
    """Read ``/api/v2/instance`` on first contact: the half of a hashtag feed we may read, or None (neither).

    Instances on 4.5+ may reserve hashtag feeds, or one half of them, for
    logged-in users; a request naming neither half needs both to be public.
    With a token we poll everything; without one we say so, and still read the
    half that is public. The same document names the instance's account
    domain, which is used only once verified (:func:`_learn_domain`). The
    second value says whether the domain is settled (to be saved); the third
    is the server's kind (:mod:`collectors.mastodon.software`), None when it
    would not say (asked again next time, one tag per request meanwhile).
    """
    try:
        info = await instance_info(inst)
    except Unreachable:
        raise  # a dead instance: no point asking its timelines
    except MastodonError as exc:
        log.debug("%s: could not read %s: %s", inst.host, INSTANCE_PATH, exc)
        return ALL, False, await probe_nodeinfo(inst)
    settled = await _learn_domain(inst, info)
    kind = from_instance(info) or await probe_nodeinfo(inst)
    access = hashtag_feed_access(info)
    if access is None or inst.token:
        return ALL, settled, kind
    local, remote = access
    if local == "public" and remote == "public":
        return ALL, settled, kind
    env = _token_hint(inst)
    if local == "public":
        inst.report.note = (f"{inst.host} shows only its own users' posts under a hashtag without a login "
                            f"(hashtag_feeds remote={remote}); set {env} to see everything")
        return LOCAL, settled, kind
    if remote == "public":
        inst.report.note = (f"{inst.host} shows only other servers' posts under a hashtag without a login "
                            f"(hashtag_feeds local={local}); set {env} to see everything")
        return REMOTE, settled, kind
    inst.report.note = f"{inst.host} requires a login for hashtag feeds (local={local}, remote={remote}); set {env}"
    return None, settled, kind


async def _learn_domain(inst: Instance, info: dict) -> bool:
    """Take the instance's account ``domain`` only when it is its own (design.md "Trust").

    A server whose users are ``user@example.com`` but which is reached at
    ``mastodon.example.com`` must have example.com send WebFinger to it; a
    server merely claiming someone else's domain would otherwise key its users
    under it. A domain that is the instance's own host, or one it is
    configured to be reached as, needs no request; an unverified one is
    ignored, and its users are keyed by the server's own host. Returns False
    when the domain could not be asked: the question stays open for next time.
    """
    domain = info.get("domain")
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
        return True
    domain = domain.lower()
    if domain == inst.host.lower():
        return True  # no separate account domain
    verified = domain in inst.hosts() or ("." in domain and await verify_domain(inst, domain, info))
    if verified:
        inst.account_domain = domain
    elif verified is False:
        log.warning("%s: says its users are @%s, but %s does not send their WebFinger here; keyed by %s instead",
                    inst.host, domain, domain, inst.host)
    return verified is not None


async def _explain_login(inst: Instance) -> None:
    env = _token_hint(inst)
    if inst.token:
        inst.report.note = f"{inst.host} refused the token in {env} for hashtag feeds"
    else:
        inst.report.note = f"{inst.host} requires a login for hashtag feeds; set {env}"
    inst.report.errors.append(inst.report.note)


def _token_hint(inst: Instance) -> str:
    return inst.token_env or "an access token for this instance"


def origin_of(uri: str) -> tuple[str, str] | None:
    """(base URL, local id) of a status on the server that published it, when its uri is Mastodon-shaped."""
    parts = urlsplit(uri)
    segments = parts.path.strip("/").split("/")
    if parts.scheme == "https" and len(segments) == 4 and segments[0] == "users" and segments[2] == "statuses":
        return f"https://{parts.netloc.lower()}", segments[3]
    return None


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
            context, _ = await inst.get(f"/api/v1/statuses/{quote(local_id, safe='')}/context")
        except NotFound:
            if host_of(request_uri) in inst.hosts():
                return Page(deleted=[request_uri], cursor_key=key, cursor=checked_at)
            gone_elsewhere = True
            continue
        except (LoginRequired, Malformed, MastodonError) as exc:
            last_error = exc
            continue
        if not isinstance(context, dict) or not isinstance(context.get("descendants"), list):
            last_error = Malformed(f"{inst.host}: context of {local_id} is not a context object")
            continue
        posts, _ = parse_statuses(context["descendants"], inst.base, inst.host, inst.report.errors, VIA_THREAD,
                                  inst.account_domain)
        posts = [dataclasses.replace(p, reply_root=request_uri) for p in posts]
        return Page(posts=posts, cursor_key=key, cursor=checked_at, speaks_for=inst.hosts())
    if gone_elsewhere and last_error is None:  # checked: no copy left where it was seen, the origin not asked
        return Page(cursor_key=key, cursor=checked_at)
    raise last_error or MastodonError(f"no place to fetch the thread of {request_uri}")
