"""Mastodon statuses and accounts as :mod:`collectors.records`, for every server speaking its API.

A status that is not usable costs that status (a line in the source's errors),
never the page: :func:`parse_statuses` still returns every readable id, so a
cursor can move past a bad item. A boost becomes the post it boosts; an
account is keyed ``user@home-domain`` whichever instance was asked.

Timelines arrive as :class:`collectors.mastodon.entities.Timeline` (typed
structs, the fast path) or as plain JSON (every other answer, and any timeline
the typed decode refused). The dict path is the one source of truth: the typed
path reads the same fields the same way, and hands any answer it cannot read
whole back to the dict path, which skips only the bad items.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from collectors.clean_text import clean_account, clean_post, clean_text
from collectors.mastodon import entities
from collectors.mastodon.api import Malformed
from collectors.mastodon.html_text import html_to_text
from collectors.records import MASTODON, VIA_TAG, Account, Post, Sighting


def parse_time(value: object) -> datetime:
    """An ISO 8601 time as aware UTC; a naive one is taken as UTC. Raises ValueError on anything else.

    A time whose offset takes it past year 1 or 9999 (``0001-01-01T00:00:00+01:00``)
    is a ValueError too: the OverflowError it raises used to escape the per-item
    handling and cost the whole page, every cycle.
    """
    if not isinstance(value, str):
        raise ValueError(f"time is {type(value).__name__}, not a string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is out of range in UTC") from None


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
_typed_accounts: dict[tuple, Account] = {}  # the same, keyed on the (hashable) typed Account


def _remember(memo: dict[tuple, Account], key: tuple, account: Account) -> None:
    if len(memo) >= _ACCOUNT_MEMO_SIZE:
        for old in list(itertools.islice(memo, _ACCOUNT_MEMO_SIZE // 2)):
            del memo[old]
    memo[key] = account


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
            _remember(_parsed_accounts, memo, account)
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


def parse_statuses(items: object, source: str, host: str, errors: list[str], via: str = VIA_TAG,
                   local_domain: str | None = None) -> tuple[list[Post], list[str]]:
    """Parse a timeline answer; a bad item costs that item. Returns posts and every readable item id."""
    if type(items) is entities.Timeline:
        typed = _typed_statuses(items.statuses, source, host, via, local_domain)
        if typed is not None:
            return typed
        try:
            items = items.plain()
        except (ValueError, RecursionError):  # cannot happen to JSON msgspec read, but never a traceback
            raise Malformed(f"{host}: statuses answer could not be read again") from None
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


def _typed_statuses(statuses: list[entities.Status], source: str, host: str, via: str, local_domain: str | None
                    ) -> tuple[list[Post], list[str]] | None:
    """What :func:`parse_statuses` gives for the same answer as plain JSON, or None to let the dict path read it.

    Any item the typed path cannot read (a time ``parse_time`` refuses, a uri
    ``urlsplit`` refuses...) sends the whole answer to the dict path: it decides
    what is skipped and says why, once.
    """
    posts: list[Post] = []
    ids: list[str] = []
    try:
        for item in statuses:
            ids.append(clean_text(item.id))
            posts.append(_typed_status(item if item.reblog is None else item.reblog, source, host, via, local_domain))
    except Exception:  # noqa: BLE001 - whatever it is, the dict path is the judge
        return None
    return posts, ids


def _typed_status(s: entities.Status, source: str, host: str, via: str, local_domain: str | None) -> Post:
    """:func:`parse_status` on a typed Status: the same fields, read the same way."""
    tags = tuple(dict.fromkeys([t.name.lower() for t in s.tags])) if s.tags else ()
    return clean_post(Post(
        uri=s.uri,
        platform=MASTODON,
        author=_typed_account(s.account, host, local_domain),
        created_at=parse_time(s.created_at),
        text=html_to_text(s.content),
        url=s.url or s.uri,
        html=s.content,
        edited_at=parse_time(s.edited_at) if s.edited_at else None,
        lang=s.language or None,
        tags=tags,
        visibility=s.visibility,
        reply_to_local=s.in_reply_to_id or None,
        quote_of=s.quote.quoted_uri() if s.quote is not None else None,
        via=via,
        sighting=Sighting(source, s.id),
    ))


def _typed_account(a: entities.Account, instance_host: str, local_domain: str | None) -> Account:
    """:func:`parse_account` on a typed Account, memoised on the struct itself (it is frozen, so hashable)."""
    memo = (None if "@" in a.acct else (instance_host, local_domain), a)
    account = _typed_accounts.get(memo)
    if account is None:
        if "@" in a.acct:
            key = a.acct
        else:
            key = f"{a.acct}@{local_domain or urlsplit(a.uri or a.url or '').netloc or instance_host}"
        texts = [html_to_text(text or "") for f in a.fields or () for text in (f.name, f.value)]
        account = clean_account(Account(
            key=key.lower(),
            platform=MASTODON,
            handle=key.lower(),
            display_name=a.display_name or "",
            url=a.url or None,
            bio=html_to_text(a.note or ""),
            fields=tuple(texts),
            bot=a.bot is True,
            discoverable=a.discoverable,
            indexable=a.indexable,
            noindex=a.noindex,
            avatar=a.avatar or None,
        ))
        _remember(_typed_accounts, memo, account)
    return account
