"""What a Mastodon server says about itself: ``GET /api/v2/instance``.

The document is public (no token) and changes rarely, so whoever needs it reads
it once per run: publishing for ``configuration.statuses`` (how long a post may
be, how much a link costs), the collector for ``configuration.timelines_access``
(whether hashtag feeds need a login). It goes through
:meth:`collectors.mastodon.api.Instance.get`, with the project's User-Agent,
timeout, rate-limit and retry policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from collectors.mastodon.api import Instance, Malformed

INSTANCE_PATH = "/api/v2/instance"


@dataclass(frozen=True)
class StatusLimits:
    """``configuration.statuses``: the longest post the instance takes, and what one link counts for."""

    max_characters: int
    characters_reserved_per_url: int


async def instance_info(inst: Instance) -> dict:
    """The Instance entity; :class:`Malformed` when the answer is not a JSON object."""
    body, _ = await inst.get(INSTANCE_PATH)
    if not isinstance(body, dict):
        raise Malformed(f"{inst.host}: {INSTANCE_PATH} is not an object")
    return body


def status_limits(info: Mapping[str, object]) -> StatusLimits | None:
    """The instance's post limits, or None when it does not say (older versions and other servers may not).

    A missing ``characters_reserved_per_url`` is Mastodon's 23; a missing or
    unusable ``max_characters`` is None, since guessing one is the caller's call.
    """
    configuration = info.get("configuration")
    statuses = configuration.get("statuses") if isinstance(configuration, Mapping) else None
    if not isinstance(statuses, Mapping):
        return None
    limit = statuses.get("max_characters")
    per_url = statuses.get("characters_reserved_per_url", 23)
    if not isinstance(limit, int) or limit < 1 or not isinstance(per_url, int) or per_url < 0:
        return None
    return StatusLimits(limit, per_url)


def hashtag_feed_access(info: object) -> tuple[str, str] | None:
    """Who may read hashtag feeds, as (local, remote): ``public``, ``authenticated`` or ``disabled``.

    Read from ``configuration.timelines_access.hashtag_feeds``; None when the
    instance does not say, as before Mastodon 4.5, when every hashtag feed was public.
    """
    try:
        feeds = info["configuration"]["timelines_access"]["hashtag_feeds"]  # type: ignore[index]
        return str(feeds.get("local", "public")), str(feeds.get("remote", "public"))
    except (KeyError, TypeError, AttributeError):
        return None
