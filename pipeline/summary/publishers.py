"""Who publishes the weekly summary on each platform: one registry, keyed like :data:`pipeline.platforms.NAMES`.

:mod:`pipeline.summary.publish` is the platform-neutral part (the record, the
keys, resuming a thread); each platform's module says how to find the account
to post as and how to post. ``peerdesk summary --post`` reads only this table,
so adding a platform adds an entry here (a test checks every name has one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from collectors.records import BLUESKY, MASTODON
from pipeline.core.settings import Settings
from pipeline.summary import publish_bluesky, publish_mastodon
from pipeline.summary.compose import Summary
from pipeline.summary.publish import ThreadReport


@dataclass(frozen=True)
class Publisher:
    check: Callable[[Settings], None]  # raises pipeline.signin.needs.Missing, before anything is composed or sent
    publish: Callable[[Settings, Summary], ThreadReport]  # never raises PublishError: the report carries it


PUBLISHERS: dict[str, Publisher] = {
    MASTODON: Publisher(publish_mastodon.check, publish_mastodon.publish),
    BLUESKY: Publisher(publish_bluesky.check, publish_bluesky.publish),
}
