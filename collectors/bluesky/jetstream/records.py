"""Posts and Accounts from Jetstream events: the record as the poller reads it, the author from the AppView.

An event carries the post's record but nothing about its author, and consent is
read from the author's profile (bio, labels), so the pipeline looks authors up
here before it builds a post. A post's tags are the poller's (facets and the
``tags`` array); only a record without tag facets (a client that writes none)
has its hashtags read from the text, by the rules Bluesky's own clients use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from atproto import models

from collectors.bluesky.connection import BlueskyConnection
from collectors.bluesky.errors import MalformedAnswer
from collectors.bluesky.jetstream.events import Event, from_micros
from collectors.bluesky.parse import parse_author, parse_time, post_from_record, record_tags
from collectors.clean_text import clean_account
from collectors.records import Account, Post

PROFILES_PER_CALL = 25

# Bluesky's rich-text TAG_REGEX: "#" after a space or the start, then everything up to
# whitespace (or an invisible separator), less trailing punctuation; at least one
# character that is neither a digit nor punctuation; at most 64 characters.
_TEXT_TAG = re.compile(r"(?:^|\s)[#\uff03](?!\ufe0f)([^\s\u00ad\u2060\u200a-\u200d\u20e2]+)")
_MAX_TAG = 64


def _punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def text_tags(text: str) -> tuple[str, ...]:
    """Hashtags written in ``text``, lower-case, as a Bluesky client would have made them facets."""
    found: list[str] = []
    for raw in _TEXT_TAG.findall(text):
        tag = raw
        while tag and _punctuation(tag[-1]):
            tag = tag[:-1]
        if tag and len(tag) <= _MAX_TAG and any(not (c.isdigit() or _punctuation(c)) for c in tag):
            found.append(tag.lower())
    return tuple(dict.fromkeys(found))


def post_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The poller's tags (facets and the ``tags`` array); the text's hashtags only when no facet names a tag.

    With facets the text adds nothing a client did not already mark, and reading
    it again would find tags Bluesky does not index ("#librarians-in-training"
    is not "#librarians").
    """
    tags = record_tags(record)
    text = record.get("text")
    if not _has_tag_facet(record) and isinstance(text, str) and ("#" in text or "\uff03" in text):
        return tuple(dict.fromkeys((*tags, *text_tags(text))))
    return tags


def _has_tag_facet(record: Mapping[str, Any]) -> bool:
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else ():
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#tag":
                return True
    return False


def build_post(event: Event, author: Account) -> Post:
    """A :class:`Post` from a post event and its author's profile; raises ValueError when the record is unusable."""
    record, uri = event.record, event.uri
    if record is None or uri is None or event.via is None:
        raise ValueError("not a post event")
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError(f"{uri}: record without text")
    when = from_micros(event.time_us) if event.time_us is not None else None
    created = parse_time(record.get("createdAt")) or when
    if created is None:
        raise ValueError(f"{uri}: neither createdAt nor the event carries a time")
    return post_from_record(uri, author, record, created, via=event.via, cid=event.cid or None,
                            edited_at=when if event.operation == "update" else None, tags=post_tags(record))


def account_from_profile(profile: Mapping[str, Any]) -> Account:
    """An :class:`Account` with the description consent reads, from a ProfileViewDetailed."""
    account = parse_author(dict(profile), str(profile.get("did")))
    bio = profile.get("description")
    return clean_account(replace(account, bio=bio if isinstance(bio, str) else ""))


def lookup_profiles(conn: BlueskyConnection, dids: Sequence[str]) -> dict[str, Account | None]:
    """Profiles for these DIDs through ``app.bsky.actor.getProfiles``, 25 a call.

    None for an account the AppView does not show (deleted, taken down): its posts
    cannot be checked for consent and are not stored. Raises a ``BlueskyError``
    when a call fails, so the caller retries rather than store unchecked posts.
    """
    found: dict[str, Account | None] = {}
    for start in range(0, len(dids), PROFILES_PER_CALL):
        chunk = list(dids[start : start + PROFILES_PER_CALL])
        body = conn.query("app.bsky.actor.getProfiles", models.AppBskyActorGetProfiles.Params(actors=chunk))
        profiles = body.get("profiles")
        if not isinstance(profiles, list):
            raise MalformedAnswer("app.bsky.actor.getProfiles: no profiles array")
        for profile in profiles:
            try:
                account = account_from_profile(profile)
            except ValueError:
                continue
            found[account.key] = account
        for did in chunk:
            found.setdefault(did, None)
    return found
