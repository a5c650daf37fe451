"""The lexicons' string limits for the records peerdesk writes, and cutting text to fit them.

A PDS validates every record against its lexicon and refuses the whole write
when one string is too long. The limits count two things: ``maxLength`` counts
UTF-8 *bytes* and ``maxGraphemes`` counts extended grapheme clusters (what a
reader sees as one character). A list named in Cyrillic or with an emoji is
well under 64 characters and still over 64 bytes, so both are checked, and a
cut never splits a grapheme (a flag, an accented letter, a family emoji).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex


@dataclass(frozen=True)
class Limit:
    max_bytes: int
    max_graphemes: int | None = None


# From app.bsky.graph.list and app.bsky.graph.starterpack.
LIST_NAME = Limit(64)
LIST_DESCRIPTION = Limit(3000, 300)
STARTER_PACK_NAME = Limit(500, 50)
STARTER_PACK_DESCRIPTION = Limit(3000, 300)

_GRAPHEME = regex.compile(r"\X")


def fits(text: str, limit: Limit) -> bool:
    if len(text.encode("utf-8")) > limit.max_bytes:
        return False
    return limit.max_graphemes is None or len(_GRAPHEME.findall(text)) <= limit.max_graphemes


def fit(text: str, limit: Limit, ellipsis: str = "…") -> str:
    """``text`` whole when it fits, else cut at a grapheme boundary with ``ellipsis`` added, within both limits."""
    if fits(text, limit):
        return text
    budget_bytes = limit.max_bytes - len(ellipsis.encode("utf-8"))
    budget_graphemes = None if limit.max_graphemes is None else limit.max_graphemes - 1
    kept: list[str] = []
    size = 0
    for cluster in _GRAPHEME.findall(text):
        cost = len(cluster.encode("utf-8"))
        if size + cost > budget_bytes or (budget_graphemes is not None and len(kept) >= budget_graphemes):
            break
        kept.append(cluster)
        size += cost
    return "".join(kept).rstrip() + ellipsis
