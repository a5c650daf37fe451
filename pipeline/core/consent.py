"""Who may be stored and who may be promoted: the consent rules in one place.

Peer support must not feel like being watched, so these rules are not options.
Collectors report what the platforms say about an account; this module decides.
"""

from __future__ import annotations

import re
import unicodedata

from collectors.records import Account, Post

# A hashtag-like opt-out anywhere in the bio or profile fields. Mastodon renders
# hashtags as links, but collectors hand us plain text, so "#nobot" is literal.
_OPT_OUT_TAG = re.compile(r"#(nobot|noindex|nosearch)(?![\w])", re.IGNORECASE)
NO_UNAUTHENTICATED = "!no-unauthenticated"
STORABLE_VISIBILITY = frozenset({"public", "unlisted"})


def opt_out_reason(account: Account) -> str | None:
    """Why this account must not be stored, or None when it may be."""
    if account.noindex:
        return "noindex"
    if NO_UNAUTHENTICATED in account.labels:
        return NO_UNAUTHENTICATED
    for text in (account.bio, *account.fields):
        # Both platforms take a full-width "＃" for a hashtag's sign (CJK keyboards type it) and Mastodon folds
        # full-width letters in a tag's name: NFKC makes "＃ｎｏｂｏｔ" the "#nobot" its author meant.
        found = _OPT_OUT_TAG.search(text if text.isascii() else unicodedata.normalize("NFKC", text))
        if found:
            return "#" + found.group(1).lower()
    return None


def storable_post(post: Post) -> bool:
    """Only posts their authors made public (public or unlisted) are kept.

    Unlisted is Mastodon's "quiet public": visible to anyone with the link and
    common for replies, which is exactly where answers live.
    """
    return post.visibility in STORABLE_VISIBILITY


def promotable(account: Account) -> bool:
    """May this account be put in a follow-list or named in a summary?"""
    return opt_out_reason(account) is None and not account.bot and account.discoverable is not False
