"""Platform-neutral records that collectors hand to the pipeline.

These are the contract between ``collectors/`` and ``pipeline/``: a collector
turns API answers into these and nothing else, and the pipeline stores them
without knowing which API they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

MASTODON = "mastodon"
BLUESKY = "bluesky"

# How a post entered the store: under a watched tag, from a curated list, or as
# a reply fetched with a help request's thread. Tag and list matches are the
# community's own posts; thread replies only count as answers.
VIA_TAG = "tag"
VIA_LIST = "list"
VIA_THREAD = "thread"


def host_of(uri: str) -> str:
    """The lower-cased host (with any port) of a post's uri: the server that published it."""
    return urlsplit(uri).netloc.lower()


@dataclass(frozen=True, slots=True)
class Account:
    """An author as the platform describes them, with the facts consent needs.

    The collector reports; the pipeline decides (see ``pipeline.core.consent``).
    """

    key: str  # acct@home-domain (lower-cased) for Mastodon, the DID for Bluesky
    platform: str
    handle: str  # what people type: user@domain, or the Bluesky handle
    display_name: str = ""
    url: str | None = None
    bio: str = ""  # plain text of the note / description
    fields: tuple[str, ...] = ()  # profile field names and values, plain text
    bot: bool = False
    discoverable: bool | None = None
    indexable: bool | None = None
    noindex: bool | None = None
    labels: tuple[str, ...] = ()  # self-labels such as "!no-unauthenticated"
    avatar: str | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where a post was seen: an instance (or service) and its local id there."""

    source: str
    local_id: str


@dataclass(frozen=True, slots=True)
class Post:
    uri: str  # ActivityPub uri or at:// uri: the same wherever the post is seen
    platform: str
    author: Account
    created_at: datetime  # timezone-aware UTC
    text: str
    url: str | None = None
    html: str | None = None
    edited_at: datetime | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()
    visibility: str = "public"
    reply_to: str | None = None  # parent uri when the API gives it
    reply_to_local: str | None = None  # parent's local id where sighted (Mastodon)
    reply_root: str | None = None
    quote_of: str | None = None
    via: str = VIA_TAG
    sighting: Sighting | None = None


@dataclass(slots=True)
class Page:
    """One committable unit: posts plus the cursor that is safe once they are stored.

    ``cursor`` is None while a newest-first pass is still under way: such a pass
    can only move its position when it is complete.
    """

    posts: list[Post] = field(default_factory=list)
    cursor_key: str | None = None  # which saved position this page moves
    cursor: str | None = None
    deleted: list[str] = field(default_factory=list)  # uris found deleted
    accounts: list[Account] = field(default_factory=list)  # seen without a post
    # The hosts the server that gave this page speaks for: a Mastodon post is its uri's host's, an account its
    # key's domain's; a copy from elsewhere is a sighting that changes nothing stored (design.md "Trust").
    # None: the page's source is trusted about everything on it (Bluesky's AppView, the bundled sample).
    speaks_for: frozenset[str] | None = None

    def is_from_origin(self, post: Post) -> bool:
        """Did the post's own server give this copy?"""
        return self.speaks_for is None or host_of(post.uri) in self.speaks_for

    def is_from_home(self, account: Account) -> bool:
        """Did the account's home server give this profile?"""
        return self.speaks_for is None or account.key.rpartition("@")[2] in self.speaks_for


@dataclass(slots=True)
class SourceReport:
    """What one source did in a cycle, for the summary line and ``collection_runs``."""

    source: str
    platform: str
    requests: int = 0
    rate_limit_waits: int = 0
    errors: list[str] = field(default_factory=list)
    failed: bool = False  # the source could not be polled at all this cycle
    note: str | None = None  # one line for the organiser (e.g. "needs a login")
