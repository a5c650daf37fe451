"""Rich text for Mastodon and Bluesky: render segments, measure them by each platform's rule, split into threads.

A summary is composed once, as paragraphs of lines of :data:`Segment` (plain
text, links, hashtags, people), and rendered twice, because the platforms
disagree about almost everything:

* Mastodon counts grapheme clusters of a "countable" text in which every URL
  counts as ``characters_reserved_per_url`` (23) and a mention ``@user@domain``
  as ``@user`` (``StatusLengthValidator``); the limit is the instance's
  ``max_characters``. The server linkifies and tags on its own.
* Bluesky counts 300 grapheme clusters and 3,000 UTF-8 bytes of the text as it
  is; links, tags and mentions are facets over UTF-8 byte ranges. Links are
  shown shortened the way the Bluesky app does it, the facet holds the full URL.

Splitting prefers paragraph boundaries, then line boundaries, keeps a list's
heading with its first item, and cuts inside a line (at spaces, else between
grapheme clusters) only when one line is longer than a whole post.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import regex

MASTODON_DEFAULT_LIMIT = 500
MASTODON_URL_LENGTH = 23
BLUESKY_GRAPHEMES = 300
BLUESKY_BYTES = 3000
FACET = "app.bsky.richtext.facet"


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Link:
    url: str


@dataclass(frozen=True)
class Tag:
    name: str  # without '#'


@dataclass(frozen=True)
class Person:
    """Someone the summary names: their account key (a DID on Bluesky), platform and handle."""

    account: str
    platform: str
    handle: str


Segment = Text | Link | Tag | Person
Line = tuple[Segment, ...]
Paragraph = tuple[Line, ...]


@dataclass(frozen=True)
class BlueskyPost:
    """One post's text and its ``app.bsky.richtext.facet`` list (byte ranges into the UTF-8 text)."""

    text: str
    facets: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- measuring


def graphemes(text: str) -> int:
    """Extended grapheme clusters (UAX #29), what both platforms count: 👩‍👩‍👧‍👦 is one, so is é as e + U+0301."""
    return len(regex.findall(r"\X", text))


_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_MENTION = re.compile(r"(?<![=/\w])@(\w+)@[\w.-]+\w")
_URL_TRAILING = ".,;:!?)]'"


def mastodon_length(text: str, url_length: int = MASTODON_URL_LENGTH) -> int:
    """The length Mastodon checks against ``max_characters``.

    A URL counts ``url_length`` whatever its length; trailing punctuation and
    anything outside plain URL characters count as text, which can only make our
    count longer than the server's, never shorter.
    """
    countable = _MENTION.sub(r"@\1", text)

    def placeholder(match: re.Match[str]) -> str:
        url = match.group(0)
        core = url.rstrip(_URL_TRAILING)
        return "x" * url_length + url[len(core):]

    return graphemes(_URL.sub(placeholder, countable))


def short_url(url: str) -> str:
    """The Bluesky app's link text: host and path without the scheme, the path cut after 13 characters."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    path = ("" if parts.path == "/" else parts.path) + (f"?{parts.query}" if parts.query else "") + (
        f"#{parts.fragment}" if parts.fragment else "")
    return parts.netloc + (path[:13] + "..." if len(path) > 15 else path)


# ---------------------------------------------------------------- rendering


Piece = tuple[str, dict | None]  # text, and the facet feature that covers it (Bluesky)


def _assemble(paragraphs: Sequence[Paragraph], piece: Callable[[Segment], Piece]) -> tuple[str, list[dict]]:
    """Join lines with a line break and paragraphs with a blank line, collecting facets at UTF-8 byte offsets."""
    out: list[str] = []
    facets: list[dict] = []
    offset = 0

    def emit(text: str, feature: dict | None = None) -> None:
        nonlocal offset
        size = len(text.encode("utf-8"))
        if feature is not None and size:
            facets.append({"index": {"byteStart": offset, "byteEnd": offset + size}, "features": [feature]})
        out.append(text)
        offset += size

    for p, paragraph in enumerate(paragraphs):
        if p:
            emit("\n\n")
        for n, line in enumerate(paragraph):
            if n:
                emit("\n")
            for i, segment in enumerate(line):
                text, feature = piece(segment)
                if i == len(line) - 1 and isinstance(segment, Text):
                    text = text.rstrip()
                emit(text, feature)
    return "".join(out), facets


def mastodon_piece(mentions: bool) -> Callable[[Segment], Piece]:
    def piece(segment: Segment) -> Piece:
        if isinstance(segment, Text):
            return segment.text, None
        if isinstance(segment, Link):
            return segment.url, None
        if isinstance(segment, Tag):
            return f"#{segment.name}", None
        if mentions and segment.platform == "mastodon":
            return f"@{segment.handle}", None  # notifies: only when [summary] mentions = true
        return segment.handle, None

    return piece


def bluesky_piece(mentions: bool) -> Callable[[Segment], Piece]:
    def piece(segment: Segment) -> Piece:
        if isinstance(segment, Text):
            return segment.text, None
        if isinstance(segment, Link):
            return short_url(segment.url), {"$type": f"{FACET}#link", "uri": segment.url}
        if isinstance(segment, Tag):
            return f"#{segment.name}", {"$type": f"{FACET}#tag", "tag": segment.name}
        if mentions and segment.platform == "bluesky" and segment.handle != "handle.invalid":
            return f"@{segment.handle}", {"$type": f"{FACET}#mention", "did": segment.account}
        return segment.handle, None

    return piece


# ---------------------------------------------------------------- splitting


Fits = Callable[[Sequence[Paragraph]], bool]


def split_thread(paragraphs: Sequence[Paragraph], fits: Fits) -> list[list[Paragraph]]:
    """The paragraphs as one post, or as a thread whose posts end with a "1/3" paragraph; each post fits."""
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return []
    if fits(paragraphs):
        return [list(paragraphs)]
    digits = 1
    while True:
        widest: Paragraph = ((Text(f"{'9' * digits}/{'9' * digits}"),),)
        posts = _pack(paragraphs, lambda post, label=widest: fits([*post, label]))
        if len(str(len(posts))) <= digits:
            n = len(posts)
            return [[*post, ((Text(f"{i}/{n}"),),)] for i, post in enumerate(posts, 1)]
        digits += 1


def _pack(paragraphs: Sequence[Paragraph], fits: Fits) -> list[list[Paragraph]]:
    posts: list[list[Paragraph]] = []
    current: list[Paragraph] = []

    def close() -> None:
        nonlocal current
        if current:
            posts.append(current)
        current = []

    for par in paragraphs:
        if fits([*current, par]):
            current.append(par)
            continue
        if fits([par]):
            close()
            current = [par]
            continue
        placed: list[Line] = []  # this paragraph's lines in the current post
        for line in par:
            if fits([*current, (*placed, line)]):
                placed.append(line)
                continue
            # The line opens a new post; a heading left alone at the end of a post goes with it.
            carry = placed if placed == [par[0]] and current else []
            if placed and not carry:
                current.append(tuple(placed))
            close()
            placed = list(carry)
            if fits([(*placed, line)]):
                placed.append(line)
                continue
            if placed:
                current = [tuple(placed)]
                close()
                placed = []
            if fits([(line,)]):
                placed = [line]
                continue
            pieces = _cut_line(line, lambda candidate: fits([(candidate,)]))
            posts.extend([[(piece,)] for piece in pieces[:-1]])
            placed = [pieces[-1]]
        if placed:
            current.append(tuple(placed))
    close()
    return posts


def _cut_line(line: Line, fits: Callable[[Line], bool]) -> list[Line]:
    """A line too long for one post, cut at spaces (between grapheme clusters inside an overlong word)."""
    atoms: list[Segment] = []
    for segment in line:
        if isinstance(segment, Text):
            atoms.extend(Text(w) for w in re.findall(r"\s*\S+\s*|\s+", segment.text))
        else:
            atoms.append(segment)
    pieces: list[Line] = []
    current: list[Segment] = []
    for atom in atoms:
        if fits((*current, atom)):
            current.append(atom)
            continue
        if current:
            pieces.append(tuple(current))
            current = []
        if isinstance(atom, Text):
            atom = Text(atom.text.lstrip())  # a piece never starts with the space it was cut at
            if not atom.text:
                continue
        if fits((atom,)):
            current = [atom]
            continue
        if not isinstance(atom, Text):
            raise ValueError(f"{atom!r} is longer than a whole post")
        chunk = ""
        for cluster in regex.findall(r"\X", atom.text):
            if chunk and not fits((Text(chunk + cluster),)):
                pieces.append((Text(chunk),))
                chunk = ""
            chunk += cluster
        current = [Text(chunk)]
    if current:
        pieces.append(tuple(current))
    return pieces


# ---------------------------------------------------------------- the two platforms


def mastodon_thread(paragraphs: Sequence[Paragraph], *, limit: int = MASTODON_DEFAULT_LIMIT,
                    url_length: int = MASTODON_URL_LENGTH, mentions: bool = False) -> list[str]:
    """The posts of a Mastodon thread, each within ``limit`` as the instance counts."""
    piece = mastodon_piece(mentions)

    def render(post: Sequence[Paragraph]) -> str:
        return _assemble(post, piece)[0]

    posts = split_thread(paragraphs, lambda post: mastodon_length(render(post), url_length) <= limit)
    return [render(post) for post in posts]


def bluesky_fits(text: str) -> bool:
    return graphemes(text) <= BLUESKY_GRAPHEMES and len(text.encode("utf-8")) <= BLUESKY_BYTES


def bluesky_thread(paragraphs: Sequence[Paragraph], *, mentions: bool = False) -> list[BlueskyPost]:
    """The posts of a Bluesky thread, each within 300 graphemes and 3,000 bytes, with their facets."""
    piece = bluesky_piece(mentions)
    posts = split_thread(paragraphs, lambda post: bluesky_fits(_assemble(post, piece)[0]))
    return [BlueskyPost(*_assemble(post, piece)) for post in posts]


def bluesky_text(paragraphs: Sequence[Paragraph]) -> BlueskyPost:
    """One text with its facets, uncut (a list or starter pack description: the caller fits it to its lexicon)."""
    return BlueskyPost(*_assemble(paragraphs, bluesky_piece(False)))
