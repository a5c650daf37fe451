"""The platforms peerdesk watches, written once: everything that offers a choice of platform reads this list.

A platform's name is the key stored in every row (``posts.platform``, cursor keys), so it never changes; its
label is what a person reads. Adding a platform starts here (see "Adding a platform" in the README).
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.records import BLUESKY, MASTODON


@dataclass(frozen=True)
class Platform:
    name: str
    label: str


PLATFORMS: tuple[Platform, ...] = (Platform(MASTODON, "Mastodon"), Platform(BLUESKY, "Bluesky"))
NAMES: tuple[str, ...] = tuple(p.name for p in PLATFORMS)


def label(name: str) -> str:
    """The platform's name for people; an unknown name (a row from a newer peerdesk) is shown as stored."""
    return next((p.label for p in PLATFORMS if p.name == name), name)
