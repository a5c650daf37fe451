"""XRPC post views and records as :mod:`collectors.records`: one mapping for search, lists, threads and Jetstream.

A post's place in time is its *sortAt*, the earlier of ``createdAt`` and
``indexedAt``: that is what search's ``since``/``until`` filter on, and a
clock-skewed ``createdAt`` in the future cannot push it ahead of reality. A
view that lacks what a post needs raises ValueError with a one-line reason, so
the caller skips that post and keeps the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from collectors.clean_text import clean_account, clean_post
from collectors.records import BLUESKY, Account, Post, Sighting

# ---------------------------------------------------------------- times


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an atproto datetime string, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the lexicon requires an offset; a naive time is ambiguous
        return None
    return parsed.astimezone(UTC)


def format_time(when: datetime) -> str:
    """Milliseconds and a Z: the form atproto writes and the search ``since``/``until`` accept."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sort_time(view: Mapping[str, Any]) -> datetime | None:
    """The post's sortAt: the earlier of createdAt and indexedAt, the time search filters on."""
    record = view.get("record")
    created = parse_time(record.get("createdAt")) if isinstance(record, dict) else None
    indexed = parse_time(view.get("indexedAt"))
    times = [t for t in (created, indexed) if t is not None]
    return min(times) if times else None


# ---------------------------------------------------------------- parsing


def parse_post_view(view: dict, via: str) -> Post:
    """A :class:`Post` from an ``app.bsky.feed.defs#postView`` dict.

    Raises ValueError with a one-line reason when the view lacks what a post needs
    (an at:// post URI, an author DID and handle, a record with text, a time).
    """
    if not isinstance(view, dict):
        raise ValueError(f"post view is {type(view).__name__}, not an object")
    uri = view.get("uri")
    if not isinstance(uri, str) or not re.fullmatch(r"at://[^/]+/app\.bsky\.feed\.post/[^/]+", uri):
        raise ValueError(f"post view without an at:// post uri ({str(uri)[:80]!r})")
    record = view.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError(f"{uri}: record without text")
    author = parse_author(view.get("author"), uri)
    created = parse_time(record.get("createdAt")) or parse_time(view.get("indexedAt"))
    if created is None:
        raise ValueError(f"{uri}: neither createdAt nor indexedAt is a time")
    cid = view.get("cid")
    return post_from_record(uri, author, record, created, via=via, cid=cid if isinstance(cid, str) else None)


def post_from_record(uri: str, author: Account, record: Mapping[str, Any], created: datetime, *, via: str,
                     cid: str | None, edited_at: datetime | None = None,
                     tags: tuple[str, ...] | None = None) -> Post:
    """A :class:`Post` from an ``app.bsky.feed.post`` record: one mapping for search, threads and Jetstream."""
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    langs = record.get("langs")
    web_actor = author.handle if author.handle != "handle.invalid" else author.key
    return clean_post(Post(
        uri=uri,
        platform=BLUESKY,
        author=author,
        created_at=created,
        text=record["text"],
        url=f"https://bsky.app/profile/{web_actor}/post/{uri.rsplit('/', 1)[1]}",
        edited_at=edited_at,
        lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        tags=record_tags(record) if tags is None else tags,
        reply_to=_ref_uri(reply.get("parent")),
        reply_root=_ref_uri(reply.get("root")),
        quote_of=quoted_uri(record.get("embed")),
        via=via,
        sighting=Sighting(source=BLUESKY, local_id=cid) if cid else None,
    ))


def parse_author(author: object, where: str) -> Account:
    """An :class:`Account` from a profileViewBasic; ``bio`` stays empty (it only comes with getProfiles)."""
    if not isinstance(author, dict) or not str(author.get("did", "")).startswith("did:"):
        raise ValueError(f"{where}: author without a DID")
    handle = author.get("handle")
    if not isinstance(handle, str) or not handle:
        raise ValueError(f"{where}: author without a handle")
    labels = label_values(author.get("labels"))
    web_actor = handle if handle != "handle.invalid" else author["did"]
    return clean_account(Account(
        key=author["did"],
        platform=BLUESKY,
        handle=handle,
        display_name=author.get("displayName") or "",
        url=f"https://bsky.app/profile/{web_actor}",
        bot="bot" in labels,
        labels=labels,
        avatar=author.get("avatar") if isinstance(author.get("avatar"), str) else None,
    ))


def with_profile(account: Account, profile: Mapping[str, Any]) -> Account:
    """The author with the bio and labels of its full profile (getProfiles), which a post view leaves out."""
    bio = profile.get("description")
    labels = tuple(dict.fromkeys(account.labels + label_values(profile.get("labels"))))
    return clean_account(replace(
        account,
        bio=bio if isinstance(bio, str) else "",
        labels=labels,
        bot=account.bot or "bot" in labels,
    ))


def label_values(labels: object) -> tuple[str, ...]:
    """Label values in order, without negations (a ``neg`` label withdraws an earlier one)."""
    if not isinstance(labels, list):
        return ()
    values = [
        x["val"] for x in labels if isinstance(x, dict) and isinstance(x.get("val"), str) and not x.get("neg")
    ]
    return tuple(dict.fromkeys(values))


def record_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    """Hashtags from ``#tag`` facets and the record's ``tags`` array: lower-case, no '#', first seen first."""
    found: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else ():
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#tag":
                found.append(str(feature.get("tag", "")))
    extra = record.get("tags")
    found.extend(t for t in (extra if isinstance(extra, list) else ()) if isinstance(t, str))
    cleaned = (t.strip().lstrip("#＃").lower() for t in found)
    return tuple(dict.fromkeys(t for t in cleaned if t))


def quoted_uri(embed: object) -> str | None:
    """The post a record quotes (``embed.record``, ``embed.recordWithMedia``); a list or feed is no quote."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    ref = embed.get("record")
    if kind == "app.bsky.embed.recordWithMedia" and isinstance(ref, dict):
        ref = ref.get("record")
    elif kind != "app.bsky.embed.record":
        return None
    uri = _ref_uri(ref)
    return uri if uri and "/app.bsky.feed.post/" in uri else None


def _ref_uri(ref: object) -> str | None:
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None
