"""The follow-list in the formats people import: Mastodon's CSVs, OPML for feed readers, JSON and CSV.

Each function takes the members of a :class:`pipeline.followlist.candidates.Listing` (already
filtered by consent) and returns the file's text. CSV goes through the ``csv``
module and OPML through ``xml.etree``, so commas, quotes, ampersands and
non-ASCII names come out escaped the way importers expect.

Mastodon's importers (Settings > Import and export) read the same shapes its
exports write: following is ``Account address,Show boosts,Notify on new posts,
Languages`` with ``true``/``false``; lists are headerless ``list name,address``
rows.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from collectors.records import BLUESKY, MASTODON

FORMATS = ("mastodon-csv", "mastodon-lists-csv", "opml", "json", "csv")
MASTODON_FOLLOWING_HEADER = ("Account address", "Show boosts", "Notify on new posts", "Languages")
FIELDS = ("rank", "account", "platform", "handle", "display_name", "follow_address", "profile_url", "feed_url",
          "first_responses", "replies_to_others", "requests_asked", "posts", "median_response_seconds",
          "list_member", "note", "decided_at", "last_seen_at")

Member = dict[str, Any]


def render(fmt: str, members: Sequence[Member], *, community: str, generated_at: datetime) -> str:
    """The export in ``fmt`` (one of :data:`FORMATS`)."""
    writers: dict[str, Callable[[], str]] = {
        "mastodon-csv": lambda: mastodon_following_csv(members),
        "mastodon-lists-csv": lambda: mastodon_lists_csv(members, community),
        "opml": lambda: opml(members, community, generated_at),
        "json": lambda: json_export(members, community, generated_at),
        "csv": lambda: csv_export(members),
    }
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return writers[fmt]()


def written(fmt: str, members: Sequence[Member]) -> int:
    """How many accounts the export in ``fmt`` holds: Mastodon's imports hold its accounts only."""
    if fmt in ("mastodon-csv", "mastodon-lists-csv"):
        return sum(1 for m in members if m["platform"] == MASTODON)
    return len(members)


# ---------------------------------------------------------------- addresses and feeds


def follow_address(member: Member) -> str:
    """What a person types to follow: ``user@domain`` on Mastodon, the handle (or DID) on Bluesky."""
    if member["platform"] == MASTODON:
        return member["account"]
    handle = member.get("handle") or ""
    return handle if handle and handle != "handle.invalid" else member["account"]


def feed_url(member: Member) -> str:
    """The account's public RSS feed: ``https://<instance>/@<user>.rss`` or Bluesky's per-DID feed."""
    if member["platform"] == BLUESKY:
        return f"https://bsky.app/profile/{member['account']}/rss"
    url = member.get("url") or ""
    # The profile URL names the server that really serves the account (its web domain can differ
    # from the domain in its address); fall back to the address when it is not the usual shape.
    if re.fullmatch(r"https://[^/]+/@[^/@]+", url):
        host, user = urlsplit(url).netloc, url.rsplit("/@", 1)[1]
    else:
        user, host = member["account"].split("@", 1)
    return f"https://{_ascii_host(host)}/@{quote(user, safe='')}.rss"


def profile_url(member: Member) -> str:
    if member.get("url"):
        return str(member["url"])
    if member["platform"] == BLUESKY:
        return f"https://bsky.app/profile/{member['account']}"
    user, host = member["account"].split("@", 1)
    return f"https://{_ascii_host(host)}/@{quote(user, safe='')}"


def _ascii_host(host: str) -> str:
    """An internationalised domain in its punycode form, which every feed reader can fetch."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


# ---------------------------------------------------------------- Mastodon


def mastodon_following_csv(members: Sequence[Member]) -> str:
    """Mastodon's "Following list" import: boosts shown, no notifications, all languages."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MASTODON_FOLLOWING_HEADER)
    for m in members:
        if m["platform"] == MASTODON:
            writer.writerow([m["account"], "true", "false", ""])
    return out.getvalue()


def mastodon_lists_csv(members: Sequence[Member], list_name: str) -> str:
    """Mastodon's "Lists" import: ``list name,address`` rows without a header; importing follows them too."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for m in members:
        if m["platform"] == MASTODON:
            writer.writerow([list_name, m["account"]])
    return out.getvalue()


# ---------------------------------------------------------------- feed readers


def opml(members: Sequence[Member], title: str, generated_at: datetime) -> str:
    """An OPML 2.0 subscription list of every member's RSS feed, in one folder named after the community."""
    title = _xml_text(title)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(generated_at, usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    folder = ET.SubElement(ET.SubElement(root, "body"), "outline", text=title, title=title)
    for m in members:
        label = _xml_text(_label(m))
        ET.SubElement(folder, "outline", type="rss", text=label, title=label, xmlUrl=_xml_text(feed_url(m)),
                      htmlUrl=_xml_text(profile_url(m)))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# What XML 1.0 cannot hold at all, not even as a character reference; xml.etree writes it as it is, and a reader
# then refuses the whole file. Display names come from servers (U+FFFE/U+FFFF are not controls the parsers replace).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _label(member: Member) -> str:
    address = follow_address(member)
    name = (member.get("display_name") or "").strip()
    return f"{name} (@{address})" if name else f"@{address}"


# ---------------------------------------------------------------- other tools


def records(members: Sequence[Member]) -> list[dict[str, Any]]:
    """Everything known about each member, flat and JSON-ready (times as ISO 8601 UTC)."""
    rows = []
    for m in members:
        median = m.get("median_response_time")
        row = {
            **{k: m.get(k) for k in FIELDS if k in m},
            "handle": m.get("handle") or m["account"],
            "display_name": m.get("display_name") or "",
            "follow_address": follow_address(m),
            "profile_url": profile_url(m),
            "feed_url": feed_url(m),
            "median_response_seconds": median.total_seconds() if isinstance(median, timedelta) else None,
            "decided_at": _iso(m.get("decided_at")),
            "last_seen_at": _iso(m.get("last_seen_at")),
        }
        rows.append({k: row.get(k) for k in FIELDS})
    return rows


def json_export(members: Sequence[Member], community: str, generated_at: datetime) -> str:
    document = {"community": community, "generated_at": _iso(generated_at), "accounts": records(members)}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def csv_export(members: Sequence[Member]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in records(members):
        writer.writerow(["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row.values()])
    return out.getvalue()


def _iso(value: object) -> str | None:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else None
