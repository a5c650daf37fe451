"""Where "answer this" should take the organiser: to the post as their own account sees it.

A Mastodon post's page on the author's server is a place where the organiser is
not logged in, so replying from it takes several steps. Through the organiser's
own instance (``[mastodon] home``), ``/authorize_interaction?uri=`` opens the same
post there, one click from a reply. The author's page stays as a second link.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from dashboard import show


def answer_links(row: dict, home: str | None) -> list[tuple[str, str, str]]:
    """(label, http(s) URL, tooltip) for a help request, the one to answer from first; empty if none is safe."""
    where = show.platform(row["platform"])
    author_page = show.safe_url(row.get("url")) or show.safe_url(row.get("uri"))
    links: list[tuple[str, str, str]] = []
    if row["platform"] == "mastodon" and home and show.safe_url(row.get("uri")):
        through = show.safe_url(f"{home.rstrip('/')}/authorize_interaction?uri={quote(row['uri'], safe='')}")
        if through:
            host = urlsplit(home).hostname
            links.append((f"Answer from {host}", through,
                          f"Opens the post on your own instance ({host}), where you are logged in, ready to reply."))
    if author_page:
        if links:
            links.append(("author's page", author_page, "The post on the author's own server."))
        else:
            links.append((f"Open on {where} to answer", author_page, "Opens the post on its platform in a new tab."))
    return links
