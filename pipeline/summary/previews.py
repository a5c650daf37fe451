"""How each platform's thread is measured and described in ``peerdesk summary``'s preview: one registry.

The preview shows every platform's thread the same way (a header, then each post with its length); what
differs per platform (the unit a post is measured in, the limits in the header and in ``--format json``,
whether the limits must first be asked of a server) is written here once, keyed like
:data:`pipeline.platforms.NAMES`, so adding a platform adds an entry here and leaves the command alone.
It loads no platform client: asking an instance for its limits is imported only when it is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collectors.records import BLUESKY, MASTODON
from pipeline.core.settings import Settings
from pipeline.summary.compose import Summary
from pipeline.summary.render import BLUESKY_GRAPHEMES, MASTODON_DEFAULT_LIMIT, graphemes, mastodon_length

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preview:
    unit: str  # what a post's length counts
    length: Callable[[Summary, str], int]  # a post's length as the platform counts it
    detail: Callable[[Summary, Settings], str]  # the limits, in the header's parentheses
    about: Callable[[Summary, Settings], dict[str, Any]]  # the same, as the JSON fields beside "posts"
    facets: bool = False  # whether the JSON shows each post's rich-text facets
    # Keyword arguments for compose_summary learnt before composing, and a line to show when that failed.
    prepare: Callable[[Settings], tuple[dict[str, Any], str | None]] = lambda settings: ({}, None)


def _mastodon_limits(settings: Settings) -> tuple[dict[str, Any], str | None]:
    """What ``[mastodon] home`` allows a post, asked of it, so the preview splits posts as they will be posted."""
    if not settings.mastodon.home:
        log.info(f"no [mastodon] home: Mastodon posts are split at {MASTODON_DEFAULT_LIMIT} characters")
        return {}, None
    from pipeline.summary.publish_mastodon import instance_limits

    limits, problem = instance_limits(settings)
    return {"mastodon_limits": limits}, problem


def _mastodon_detail(composed: Summary, settings: Settings) -> str:
    where = f" on {settings.mastodon.home}" if settings.mastodon.home else ""
    return f"{composed.options.visibility}{where}, {composed.mastodon_limits.max_characters} characters per post"


PREVIEWS: dict[str, Preview] = {
    MASTODON: Preview(
        "characters",
        length=lambda composed, text: mastodon_length(text, composed.mastodon_limits.characters_reserved_per_url),
        detail=_mastodon_detail,
        about=lambda composed, settings: {"home": settings.mastodon.home, "visibility": composed.options.visibility,
                                          "max_characters": composed.mastodon_limits.max_characters},
        prepare=_mastodon_limits),
    BLUESKY: Preview(
        "graphemes",
        length=lambda composed, text: graphemes(text),
        detail=lambda composed, settings: f"{BLUESKY_GRAPHEMES} graphemes per post",
        about=lambda composed, settings: {"max_graphemes": BLUESKY_GRAPHEMES},
        facets=True),
}
