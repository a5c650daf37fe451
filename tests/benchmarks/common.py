"""Shared pieces of the benchmarks: realistic Mastodon statuses, timing helpers and the result table.

The generator produces Status entities shaped as ``json.loads`` of a real
``/api/v1/timelines/tag/:tag`` answer (see ``tests/fakes/mastodon.py`` for the
same shape at small scale): about 1 KB of Mastodon-rendered HTML per status
(paragraphs, mention h-cards, shortened links, hashtag links, entities),
a full Account entity per status, a mix of languages, replies, edits, quotes,
unlisted posts, and federated duplicates: the same post (same ``uri``) seen
on another of the polled instances under that instance's own local id, with
the author's ``acct`` as that instance presents it.

It is deterministic (seeded) and stateful, so successive chunks continue the
same timeline (ids and times keep increasing) and a later benchmark phase can
reply to, or re-sight, posts generated earlier.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SOURCES = ("glammr.us", "mastodon.social", "hcommons.social")  # the polled instances
OTHER_HOMES = tuple(f"{name}.example" for name in (
    "libraryland", "archives", "bibliotheque", "bibliothek", "biblioteca", "scholar", "musetech", "lis",
    "infosci", "catalog", "metadata", "openaccess", "digipres", "glam", "reading", "oclc", "records",
    "special-collections", "lawlib", "medlib", "schoollib", "publib", "academic", "zines", "rarebooks",
    "knowledge", "museum",
))
HOMES = SOURCES + OTHER_HOMES
WATCHED_TAGS = ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians")
OTHER_TAGS = ("libraries", "glam", "archives", "cataloging", "metadata", "openaccess", "ils", "koha",
              "folio", "digitalpreservation", "lawlibrarians", "medlibs", "schoollibrarians", "publiclibraries",
              "academiclibraries", "zotero", "marc", "bibframe", "copyright", "oer", "weeding", "budget",
              "conference", "webinar", "jobs", "bookstodon", "museums", "research")

_SENTENCES = {
    "en": (
        "Does anyone know a good ILS for a two-person law library?",
        "We are a one-person library and I am the only one who touches the catalogue.",
        "Has anyone migrated from a hosted system to Koha on their own?",
        "Any recommendations for a cheap barcode scanner that works with FOLIO?",
        "I spent the afternoon weeding the reference collection and feel lighter already.",
        "Our budget was cut again this year, so the journal subscriptions are under review.",
        "Reminder: the regional solo librarians meetup is online next Thursday at 4pm.",
        "Can someone point me to a template for a collection development policy?",
        "Thanks to everyone who answered yesterday, the vendor finally sent the MARC records.",
        "Here is a thread of the tools I use to keep statistics without a proper dashboard.",
        "How do you handle interlibrary loan requests when you are alone at the desk?",
        "Webinar next week on copyright for digitised special collections, free to attend.",
        "We're hiring a part-time assistant, see the link for details and the closing date.",
        "Is there a simple way to export circulation data as CSV from an old system?",
        "I would love advice on training volunteers to shelve in call number order.",
        "Our reading room is closed on Friday for the annual stock check & deep clean.",
    ),
    "fr": (
        "Quelqu'un connaît-il un bon SIGB pour une petite bibliothèque d'entreprise ?",
        "Je suis seule à la bibliothèque et je cherche des conseils pour le désherbage.",
        "Merci à toutes et à tous pour vos réponses, c'était très utile !",
        "Avez-vous des idées pour présenter les nouveautés sans présentoir ?",
        "Le catalogue collectif a enfin été mis à jour après trois semaines d'attente.",
    ),
    "de": (
        "Kennt jemand ein gutes Bibliothekssystem für eine One-Person-Library?",
        "Gibt es eine Vorlage für ein Erwerbungsprofil, die ihr empfehlen könnt?",
        "Heute habe ich den ganzen Tag Zeitschriften abbestellt, schweren Herzens.",
        "Wer hat Erfahrung mit der Migration von Allegro zu Koha?",
    ),
    "es": (
        "¿Alguien conoce un buen programa de gestión para una biblioteca escolar pequeña?",
        "Soy bibliotecaria única en un centro de investigación y busco consejos.",
        "Gracias por todas las respuestas, ya tengo una lista para empezar.",
        "¿Conocéis alguna guía sobre preservación digital para archivos pequeños?",
    ),
}
_LANGS = ("en",) * 14 + ("fr", "fr", "de", "de", "es") + (None,)
_QUESTION = {lang: [s for s in sents if "?" in s] for lang, sents in _SENTENCES.items()}
_STATEMENT = {lang: [s for s in sents if "?" not in s] for lang, sents in _SENTENCES.items()}


def snowflake(when: datetime, seq: int) -> int:
    """A Mastodon-style id: milliseconds since the epoch, shifted, plus a sequence."""
    return (int(when.timestamp() * 1000) << 16) | (seq & 0xFFFF)


def iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class _Author:
    username: str
    home: str
    account_id: str
    display_name: str
    note: str
    fields: list[dict]
    bot: bool
    discoverable: bool | None
    noindex: bool | None


@dataclass(slots=True)
class _Original:
    """What a federated copy needs to re-present a post on another instance."""

    number: int
    author: int
    created: str
    content: str
    tags: list[dict]
    language: str | None
    visibility: str
    edited_at: str | None
    seen_on: set[str] = field(default_factory=set)


class StatusStream:
    """An endless, deterministic stream of API-shaped statuses on three instances.

    ``chunk(n)`` returns ``{source host: [status dict, ...]}``, each list newest
    first as a timeline answer is; together they hold exactly ``n`` statuses.
    """

    def __init__(self, *, accounts: int = 20_000, seed: int = 20261123, start: datetime | None = None,
                 duplicate_rate: float = 0.12, reply_rate: float = 0.15, edit_rate: float = 0.03,
                 opt_out_rate: float = 0.01, posts_per_second: float = 0.5) -> None:
        self.rng = random.Random(seed)
        self.duplicate_rate = duplicate_rate
        self.reply_rate = reply_rate
        self.edit_rate = edit_rate
        self.clock = start or datetime(2025, 6, 1, tzinfo=UTC)
        self.step = timedelta(seconds=1 / posts_per_second)
        self.number = 10_000_000  # the post's id at its origin
        self.seq = 0
        self.authors = [self._author(i, opt_out_rate) for i in range(accounts)]
        self.recent: deque[_Original] = deque(maxlen=2_000)  # posts that may federate again
        self.recent_ids: dict[str, deque[str]] = {s: deque(maxlen=5_000) for s in SOURCES}  # reply targets
        self.generated = 0
        self.duplicates = 0

    # -- accounts
    def _author(self, i: int, opt_out_rate: float) -> _Author:
        rng = self.rng
        home = rng.choice(HOMES)
        username = f"{rng.choice(('lib', 'cat', 'arch', 'read', 'meta', 'book', 'info'))}{i:05d}"
        note = ("<p>Solo librarian at a " + rng.choice(("law firm", "hospital", "school", "museum", "charity"))
                + ". Cataloguing, reference, everything else. Views my own. "
                + '<a href="https://' + home + '/tags/SoloLibrarians" class="mention hashtag" rel="tag">'
                + "#<span>SoloLibrarians</span></a></p>")
        roll = rng.random()
        noindex: bool | None = False
        if roll < opt_out_rate / 2:
            note += "<p>#nobot please, no archiving.</p>"
        elif roll < opt_out_rate:
            noindex = True
        fields = [{"name": "Pronouns", "value": rng.choice(("she/her", "he/him", "they/them")), "verified_at": None}]
        if rng.random() < 0.5:
            fields.append({"name": "Website",
                           "value": f'<a href="https://{home}/~{username}" rel="nofollow noopener me" '
                                    f'target="_blank"><span class="invisible">https://</span>'
                                    f'<span class="">{home}/~{username}</span><span class="invisible"></span></a>',
                           "verified_at": None})
        return _Author(username=username, home=home, account_id=str(100_000 + i),
                       display_name=username.title() + (" 📚" if i % 3 == 0 else ""), note=note, fields=fields,
                       bot=rng.random() < 0.02, discoverable=rng.random() > 0.1, noindex=noindex)

    def _account(self, a: _Author, on: str) -> dict:
        return {
            "id": a.account_id, "username": a.username,
            "acct": a.username if a.home == on else f"{a.username}@{a.home}",
            "display_name": a.display_name, "locked": False, "bot": a.bot, "discoverable": a.discoverable,
            "indexable": True, "noindex": a.noindex, "group": False, "created_at": "2023-01-05T00:00:00.000Z",
            "note": a.note, "url": f"https://{a.home}/@{a.username}", "uri": f"https://{a.home}/users/{a.username}",
            "avatar": f"https://{a.home}/system/accounts/avatars/{a.account_id}/original/avatar.png",
            "avatar_static": f"https://{a.home}/system/accounts/avatars/{a.account_id}/original/avatar.png",
            "header": f"https://{a.home}/headers/original/missing.png",
            "header_static": f"https://{a.home}/headers/original/missing.png",
            "followers_count": 120, "following_count": 200, "statuses_count": 900,
            "last_status_at": "2026-11-20", "hide_collections": False, "emojis": [],
            "fields": [dict(f) for f in a.fields],
        }

    # -- content
    def _content(self, lang: str | None, tags: list[str], on: str, question: bool) -> str:
        rng = self.rng
        pool = _STATEMENT[lang or "en"]  # the body; a question, when there is one, opens the post
        parts: list[str] = []
        first = rng.choice(_QUESTION[lang or "en"]) if question else rng.choice(pool)
        para = [first.replace("&", "&amp;").replace("'", "&#39;")]
        size = len(first)
        # Mastodon's default limit is 500 characters (links count 23, a mention its username): the body
        # leaves room for the mention, link and tags added below. Most posts are well short of the limit.
        target = rng.triangular(40, 400, 160)
        while size < target:
            s = rng.choice(pool)
            para.append(s.replace("&", "&amp;").replace("'", "&#39;"))
            size += len(s)
            if rng.random() < 0.25:
                parts.append("<p>" + " ".join(para) + "</p>")
                para = []
        if rng.random() < 0.6:
            who = self.authors[rng.randrange(len(self.authors))]
            para.append(f'<span class="h-card" translate="no"><a href="https://{who.home}/@{who.username}" '
                        f'class="u-url mention">@<span>{who.username}</span></a></span>')
        if rng.random() < 0.5:
            path = f"/2026/11/{rng.randrange(10_000, 99_999)}/solo-librarian-notes"
            para.append(f'<a href="https://blog.example.org{path}" target="_blank" rel="nofollow noopener" '
                        f'translate="no"><span class="invisible">https://</span><span class="ellipsis">'
                        f'blog.example.org{path[:20]}</span><span class="invisible">{path[20:]}</span></a>')
        if para:
            parts.append("<p>" + " ".join(para) + "</p>")
        parts.append("<p>" + " ".join(
            f'<a href="https://{on}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a>' for t in tags
        ) + "</p>")
        return "".join(parts)

    # -- statuses
    def _new_original(self, on: str) -> _Original:
        rng = self.rng
        self.clock += self.step
        self.number += rng.randrange(1, 50)
        lang = rng.choice(_LANGS)
        tags = [rng.choice(WATCHED_TAGS)]
        tags += rng.sample(OTHER_TAGS, rng.randrange(0, 4))
        content = self._content(lang, tags, on, question=rng.random() < 0.3)
        created = iso(self.clock)
        edited = iso(self.clock + timedelta(minutes=rng.randrange(1, 90))) if rng.random() < self.edit_rate else None
        return _Original(
            number=self.number, author=rng.randrange(len(self.authors)), created=created, content=content,
            tags=[{"name": t, "url": f"https://{on}/tags/{t}"} for t in tags], language=lang,
            visibility="public" if rng.random() < 0.92 else "unlisted", edited_at=edited,
        )

    def _status(self, o: _Original, on: str) -> dict:
        rng = self.rng
        self.seq += 1
        local_id = str(snowflake(self.clock, self.seq))
        a = self.authors[o.author]
        home_uri = f"https://{a.home}/users/{a.username}/statuses/{o.number}"
        reply_to = None
        targets = self.recent_ids[on]
        if targets and rng.random() < self.reply_rate:
            # Mostly a post this instance has shown (resolvable), sometimes one it never did.
            reply_to = rng.choice(targets) if rng.random() < 0.7 else str(snowflake(self.clock, self.seq + 7))
        quote = None
        if self.recent and rng.random() < 0.01:
            q = rng.choice(self.recent)
            qa = self.authors[q.author]
            quote = {"state": "accepted", "quoted_status": {
                "id": "1", "uri": f"https://{qa.home}/users/{qa.username}/statuses/{q.number}"}}
        status = {
            "id": local_id, "created_at": o.created, "in_reply_to_id": reply_to,
            "in_reply_to_account_id": "1" if reply_to else None, "sensitive": False, "spoiler_text": "",
            "visibility": o.visibility, "language": o.language, "uri": home_uri,
            "url": f"https://{a.home}/@{a.username}/{o.number}", "replies_count": rng.randrange(0, 5),
            "reblogs_count": rng.randrange(0, 10), "favourites_count": rng.randrange(0, 30), "quotes_count": 0,
            "edited_at": o.edited_at, "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
            "content": o.content, "filtered": [], "reblog": None, "application": None,
            "account": self._account(a, on), "media_attachments": [],
            "mentions": [], "tags": [dict(t) for t in o.tags], "emojis": [], "card": None, "poll": None,
        }
        if quote:
            status["quote"] = quote
        targets.append(local_id)
        o.seen_on.add(on)
        self.generated += 1
        return status

    def chunk(self, n: int) -> dict[str, list[dict]]:
        """``n`` more statuses, by the instance that shows them, newest first."""
        rng = self.rng
        out: dict[str, list[dict]] = {s: [] for s in SOURCES}
        for _ in range(n):
            o = None
            if self.recent and rng.random() < self.duplicate_rate:
                o = self.recent[rng.randrange(len(self.recent))]
                elsewhere = [s for s in SOURCES if s not in o.seen_on]
                if elsewhere:
                    on = rng.choice(elsewhere)
                    self.duplicates += 1
                else:
                    o = None
            if o is None:
                on = rng.choice(SOURCES)
                o = self._new_original(on)
                self.recent.append(o)
            out[on].append(self._status(o, on))
        for statuses in out.values():
            statuses.reverse()
        return out


# -- measuring ----------------------------------------------------------------------------------------------


def maxrss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def rss_bytes() -> int:
    """Current resident set size, when /proc tells it."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class Stopwatch:
    """Accumulates the wall time (and this process's CPU time, all threads) spent inside ``with watch:`` blocks.

    The CPU figure helps read a run made while other processes share the machine:
    wall time then includes waiting for a core, CPU time does not.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = 0.0
        self.laps: list[float] = []

    def __enter__(self) -> Stopwatch:
        self._t = time.perf_counter()
        self._c = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        lap = time.perf_counter() - self._t
        self.cpu += time.process_time() - self._c
        self.seconds += lap
        self.laps.append(lap)


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}/s"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1024
    return f"{n:.1f} GiB"


def fmt_s(x: float) -> str:
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


@dataclass
class Row:
    name: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


def print_table(title: str, rows: list[Row], notes: list[str] | None = None) -> None:
    headers = ("measure", "value", "target", "")
    cells = [headers] + [(r.name, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    line = "+".join("-" * (w + 2) for w in widths)
    print()
    print(title)
    print(line)
    for i, c in enumerate(cells):
        print(" | ".join(c[j].ljust(widths[j]) if j != 1 else c[j].rjust(widths[j]) for j in range(4)).rstrip())
        if i == 0:
            print(line)
    print(line)
    for note in notes or []:
        print(f"  {note}")
    sys.stdout.flush()


def parse_args(description: str, flags: dict[str, str] | None = None) -> argparse.Namespace:
    """The options every benchmark takes, and a benchmark's own on/off ``flags`` (name -> help)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="10x smaller sizes: a smoke test that takes seconds")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the main timed phase")
    for name, text in (flags or {}).items():
        parser.add_argument(f"--{name}", action="store_true", help=text)
    return parser.parse_args()


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)
