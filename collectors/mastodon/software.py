"""Which software a server speaking the Mastodon API runs, and whether its hashtag feed takes ``any[]``.

Mastodon (and its forks), Pleroma and Akkoma answer ``GET /api/v1/timelines/tag/:tag?any[]=b`` with
posts under either tag. GoToSocial reads only the tag in the path and ignores ``any[]`` without a word
(``internal/processing/timeline/tag.go``), so a post carrying only the second tag of a group is never
seen there. The collector asks once, on first contact, and keeps the answer beside the cursors
(:func:`software_key`), so later cycles cost no request. A server that cannot be told apart gets one
tag per request: more requests, but no post missed.

``/api/v2/instance`` is asked first (the collector reads it anyway): ``source_url`` names the project
(GoToSocial may put a Mastodon-like number in ``version``: ``instance-inject-mastodon-version``),
``version`` carries Pleroma's and Akkoma's ``(compatible; …)`` and Mastodon's bare number. When that
says nothing, NodeInfo's ``software.name`` decides.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from collectors.mastodon.api import Instance, LoginRequired, Malformed, NotFound, ServerError

MASTODON_KIND, GOTOSOCIAL, UNKNOWN = "mastodon", "gotosocial", "unknown"
# Software whose hashtag timeline honours any[] (Mastodon forks report "mastodon" or their own name).
HONOURS_ANY = frozenset({MASTODON_KIND, "glitch-soc", "hometown", "pleroma", "akkoma"})
NODEINFO_PATH = "/.well-known/nodeinfo"

_MASTODON_VERSION = re.compile(r"[1-9][0-9]*\.[0-9]+\.[0-9]+")
_COMPATIBLE = re.compile(r"\(compatible;\s*([A-Za-z][\w-]*)", re.IGNORECASE)


def software_key(base: str) -> str:
    """Where the server's kind (``name version``) is kept beside its cursors."""
    return f"mastodon:{base}:software"


def software_name(software: str | None) -> str:
    """The lowercase name part of a kept ``name version`` string."""
    return (software or UNKNOWN).split(" ", 1)[0].lower()


def honours_any(software: str | None) -> bool:
    """Whether a request's ``any[]`` tags are read by this server; unknown servers are asked one tag at a time."""
    return software_name(software) in HONOURS_ANY


def from_instance(info: object) -> str | None:
    """``name version`` from an ``/api/v2/instance`` document, or None when it does not tell."""
    if not isinstance(info, dict):
        return None
    version = info.get("version") if isinstance(info.get("version"), str) else ""
    source = info.get("source_url") if isinstance(info.get("source_url"), str) else ""
    number = version.split(" ", 1)[0][:40]
    path = urlsplit(source).path.lower().rstrip("/")
    for name in (GOTOSOCIAL, "hometown", "glitch-soc", "pleroma", "akkoma"):
        if path.endswith("/" + name):
            return _kept(name, number)
    if GOTOSOCIAL in version.lower():
        return _kept(GOTOSOCIAL, number)
    compatible = _COMPATIBLE.search(version)
    if compatible:  # Pleroma and Akkoma: "2.7.2 (compatible; Akkoma 3.13.2)"
        return _kept(compatible.group(1), number)
    if path.endswith("/mastodon") or (not source and _MASTODON_VERSION.match(version)):
        return _kept(MASTODON_KIND, number)
    return None


def from_nodeinfo(document: object) -> str | None:
    """``name version`` from a NodeInfo 2.x document's ``software``."""
    software = document.get("software") if isinstance(document, dict) else None
    if not isinstance(software, dict) or not isinstance(software.get("name"), str) or not software["name"]:
        return None
    version = software.get("version") if isinstance(software.get("version"), str) else ""
    return _kept(software["name"], version.split(" ", 1)[0][:40])


async def probe_nodeinfo(inst: Instance) -> str | None:
    """Ask NodeInfo which software the server runs (two requests); None when it will not say."""
    try:
        index, _ = await inst.get(NODEINFO_PATH)
        links = index.get("links") if isinstance(index, dict) else None
        hrefs = [link.get("href") for link in links or [] if isinstance(link, dict)
                 and str(link.get("rel", "")).startswith("http://nodeinfo.diaspora.software/ns/schema/2.")]
        path = next((urlsplit(h).path for h in hrefs if isinstance(h, str) and urlsplit(h).path.startswith("/")), None)
        if path is None:
            return None
        document, _ = await inst.get(path)
    except (NotFound, LoginRequired, Malformed, ServerError):  # a dead or rate-limited server is raised
        return None
    return from_nodeinfo(document)


def _kept(name: str, version: str) -> str:
    name = re.sub(r"[^a-z0-9._-]", "", name.lower()) or UNKNOWN
    version = re.sub(r"[^A-Za-z0-9.+_-]", "", version)
    return f"{name} {version}".strip()
