"""Write the Bluesky half of the demo community as the XRPC endpoints return it.

Run ``python data/sample/bluesky/build.py``: it rewrites ``search_posts.json``,
``list_feed.json``, ``profiles.json`` and ``threads/*.json`` next to itself.
Standard library only and deterministic (identifiers are derived from hashes of
the content, never from the clock or a random source), so a re-run changes
nothing unless this file changed. Facet offsets are UTF-8 byte offsets, as the
lexicon requires, computed from the text rather than typed by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
TAG = "sololibrarians"
POST = "app.bsky.feed.post"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"

# ---------------------------------------------------------------- identifiers


def did_for(handle: str) -> str:
    """A did:plc-shaped identifier (24 base32 characters) stable per handle."""
    digest = hashlib.sha256(handle.encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def cid_for(*parts: str) -> str:
    """A CIDv1 (dag-cbor, sha2-256, base32) shaped like the real ones: bafyrei..."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def tid_for(when: datetime, clock_id: int) -> str:
    """A record key in TID form: 53-bit microsecond time and a 10-bit clock id, base32-sortable."""
    micros = int(when.timestamp() * 1_000_000)
    value = (micros << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------- people

PEOPLE = {
    "ana": dict(
        handle="analima.bsky.social",
        name="Ana Lima",
        bio="Solo law librarian at a 140-lawyer firm in Toronto. Legal research, knowledge management, "
        "too many loose-leafs. Also on Mastodon: @analima@glammr.us · https://analima.ca",
    ),
    "tom": dict(
        handle="tbecker.law",
        name="Tom Becker",
        bio="Law librarian, one-person library since 2019. Westlaw whisperer. Views my own.",
    ),
    "helen": dict(
        handle="hokafor.bsky.social",
        name="Helen Okafor",
        bio="Clinical librarian running a one-person hospital library. Evidence searches, nursing CE, "
        "coffee.",
    ),
    "marguerite": dict(
        handle="mdubois.bsky.social",
        name="Marguerite Dubois",
        bio="Bibliothécaire (seule !) au centre hospitalier de Trois-Rivières. Désherbage, santé, café ☕",
    ),
    "javier": dict(
        handle="jmorales.bsky.social",
        name="Javier Morales",
        bio="Bibliotecario escolar en Sevilla. Lectura, alfabetización mediática y fútbol.",
    ),
    "priya": dict(
        handle="priyareads.bsky.social",
        name="Priya Natarajan",
        bio="K-8 school librarian, the only one in the district. Graphic novel evangelist.",
    ),
    "eunji": dict(
        handle="eunjipark.bsky.social",
        name="Eun-ji Park",
        bio="Corporate librarian at an engineering firm. Taxonomies and tea. I run @libjobs.bsky.social.",
    ),
    "sam": dict(  # opted out through the self-label
        handle="quietshelves.bsky.social",
        name="Sam Reyes",
        bio="Museum librarian. Logged-out visitors cannot see my posts.",
        labels=("!no-unauthenticated",),
    ),
    "kit": dict(  # opted out through the description
        handle="kitharlow.bsky.social",
        name="Kit Harlow",
        bio="Prison librarian, solo. Happy to chat, not to be archived. #nobot",
    ),
    "bot": dict(
        handle="libjobs.bsky.social",
        name="Library Jobs Bot",
        bio="Automated: reposts solo library job ads tagged #sololibrarians. Run by @eunjipark.bsky.social.",
        labels=("bot",),
    ),
}
for _key, _person in PEOPLE.items():
    _person["did"] = did_for(_person["handle"])
    _person.setdefault("labels", ())
    _person["joined"] = at(1, 9, 0) - timedelta(days=300 + 37 * len(_key))
HANDLE_TO_DID = {p["handle"]: p["did"] for p in PEOPLE.values()}


def self_labels(person: dict) -> list[dict]:
    did = person["did"]
    return [
        {
            "src": did,
            "uri": f"at://{did}/app.bsky.actor.profile/self",
            "cid": cid_for(did, "profile"),
            "val": value,
            "cts": iso(person["joined"]),
        }
        for value in person["labels"]
    ]


def avatar(person: dict) -> str:
    return f"https://cdn.bsky.app/img/avatar/plain/{person['did']}/{cid_for(person['did'], 'avatar')}@jpeg"


def profile_basic(person: dict) -> dict:
    """app.bsky.actor.defs#profileViewBasic: what a PostView carries (no description)."""
    return {
        "did": person["did"],
        "handle": person["handle"],
        "displayName": person["name"],
        "avatar": avatar(person),
        "associated": {"chat": {"allowIncoming": "following"}},
        "viewer": {"muted": False, "blockedBy": False},
        "labels": self_labels(person),
        "createdAt": iso(person["joined"]),
    }


def profile_detailed(person: dict, posts: int) -> dict:
    """app.bsky.actor.defs#profileViewDetailed: what getProfiles returns, description included."""
    return {
        "did": person["did"],
        "handle": person["handle"],
        "displayName": person["name"],
        "description": person["bio"],
        "avatar": avatar(person),
        "followersCount": 40 + 13 * len(person["name"]),
        "followsCount": 25 + 7 * len(person["handle"]),
        "postsCount": posts,
        "associated": {
            "lists": 1 if person is PEOPLE["ana"] else 0,
            "feedgens": 0,
            "starterPacks": 0,
            "labeler": False,
            "chat": {"allowIncoming": "following"},
        },
        "indexedAt": iso(person["joined"] + timedelta(minutes=3)),
        "createdAt": iso(person["joined"]),
        "viewer": {"muted": False, "blockedBy": False},
        "labels": self_labels(person),
    }


# ---------------------------------------------------------------- posts


def byte_slice(text: str, start: int, end: int) -> dict:
    """Facet index: UTF-8 byte offsets, not character offsets (the lexicon's rule)."""
    return {"byteStart": len(text[:start].encode("utf-8")), "byteEnd": len(text[:end].encode("utf-8"))}


def facets_for(text: str) -> list[dict]:
    """Tag, mention and link facets, the way the Bluesky app writes them."""
    found: list[tuple[int, int, dict]] = []
    for m in re.finditer(r"(?:(?<=\s)|^)#(\w+)", text):
        found.append((m.start(), m.end(), {"$type": "app.bsky.richtext.facet#tag", "tag": m.group(1)}))
    for m in re.finditer(r"(?:(?<=\s)|^)@([a-z0-9.-]+[a-z0-9])", text):
        did = HANDLE_TO_DID.get(m.group(1))
        if did:
            found.append((m.start(), m.end(), {"$type": "app.bsky.richtext.facet#mention", "did": did}))
    for m in re.finditer(r"https?://[^\s]+[^\s.,;:!?)]", text):
        found.append((m.start(), m.end(), {"$type": "app.bsky.richtext.facet#link", "uri": m.group(0)}))
    found.sort(key=lambda f: f[0])
    return [
        {"$type": "app.bsky.richtext.facet", "index": byte_slice(text, s, e), "features": [feat]}
        for s, e, feat in found
    ]


class Community:
    """Builds PostViews and remembers them, so replies and quotes can point at real posts."""

    def __init__(self) -> None:
        self.views: dict[str, dict] = {}  # name -> PostView
        self.counter = 0

    def post(
        self,
        name: str,
        who: str,
        when: datetime,
        text: str,
        *,
        langs: tuple[str, ...] = ("en",),
        reply_to: str | None = None,
        quote: str | None = None,
        with_media: bool = False,
        tags: tuple[str, ...] = (),
        facets: bool = True,
        created_at: str | None = None,
    ) -> dict:
        person = PEOPLE[who]
        self.counter += 1
        rkey = tid_for(when, self.counter)
        uri = f"at://{person['did']}/{POST}/{rkey}"
        record: dict = {
            "$type": POST,
            "createdAt": created_at or iso(when),
            "langs": list(langs),
            "text": text,
        }
        if facets and (found := facets_for(text)):
            record["facets"] = found
        if tags:
            record["tags"] = list(tags)
        if reply_to:
            parent = self.views[reply_to]
            root = parent["record"].get("reply", {}).get("root") or {
                "uri": parent["uri"],
                "cid": parent["cid"],
            }
            record["reply"] = {"root": dict(root), "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
        embed_view = None
        if quote:
            record["embed"], embed_view = self._quote_embed(quote, with_media)
        view = {
            "uri": uri,
            "cid": cid_for(uri, text),
            "author": profile_basic(person),
            "record": record,
            "replyCount": 0,
            "repostCount": self.counter % 3,
            "likeCount": 2 + self.counter % 7,
            "quoteCount": 0,
            "indexedAt": iso(when + timedelta(seconds=2)),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        if embed_view:
            view["embed"] = embed_view
        if reply_to:
            self.views[reply_to]["replyCount"] += 1
        if quote:
            self.views[quote]["quoteCount"] += 1
        self.views[name] = view
        return view

    def _quote_embed(self, name: str, with_media: bool) -> tuple[dict, dict]:
        quoted = self.views[name]
        strong = {"uri": quoted["uri"], "cid": quoted["cid"]}
        view_record = {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": quoted["uri"],
            "cid": quoted["cid"],
            "author": quoted["author"],
            "value": quoted["record"],
            "labels": [],
            "likeCount": quoted["likeCount"],
            "replyCount": quoted["replyCount"],
            "repostCount": quoted["repostCount"],
            "quoteCount": quoted["quoteCount"],
            "indexedAt": quoted["indexedAt"],
            "embeds": [],
        }
        if not with_media:
            return (
                {"$type": "app.bsky.embed.record", "record": strong},
                {"$type": "app.bsky.embed.record#view", "record": view_record},
            )
        blob_cid = cid_for(quoted["uri"], "image")
        image = {
            "alt": "A one-page subscription review checklist",
            "image": {"$type": "blob", "ref": {"$link": blob_cid}, "mimeType": "image/jpeg", "size": 182044},
            "aspectRatio": {"width": 1200, "height": 1600},
        }
        author_did = self.views[name]["author"]["did"]
        image_view = {
            "thumb": f"https://cdn.bsky.app/img/feed_thumbnail/plain/{author_did}/{blob_cid}@jpeg",
            "fullsize": f"https://cdn.bsky.app/img/feed_fullsize/plain/{author_did}/{blob_cid}@jpeg",
            "alt": image["alt"],
            "aspectRatio": image["aspectRatio"],
        }
        return (
            {
                "$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record", "record": strong},
                "media": {"$type": "app.bsky.embed.images", "images": [image]},
            },
            {
                "$type": "app.bsky.embed.recordWithMedia#view",
                "record": {"$type": "app.bsky.embed.record#view", "record": view_record},
                "media": {"$type": "app.bsky.embed.images#view", "images": [image_view]},
            },
        )


def build_community() -> tuple[Community, list[str], list[tuple[str, list]]]:
    """The sample community. Returns the builder, the names searches find, and the threads."""
    c = Community()
    p = c.post
    p(
        "welcome",
        "ana",
        at(9, 14, 5),
        "Hello #sololibrarians! Starting a weekly thread for questions from "
        "one-person libraries. Law, hospital, school, corporate: all welcome.",
    )
    # Help request answered through a reply chain (Tom answers, Ana thanks, Tom follows up).
    p(
        "form_q",
        "ana",
        at(10, 9, 12),
        "Does anyone have a template for a legal research request form? Our attorneys email me "
        "'can you find X' with no deadline or matter number. #sololibrarians #lawlibrarians",
    )
    p(
        "form_a1",
        "tom",
        at(10, 10, 58),
        "Yes! Ours asks for matter number, deadline, budget cap and 'what have "
        "you tried already'. I'll share a PDF.",
        reply_to="form_q",
    )
    p("form_a2", "ana", at(10, 11, 20), "That would be wonderful, thank you!", reply_to="form_a1")
    p(
        "form_a3",
        "tom",
        at(10, 11, 45),
        "Here it is: https://example.org/research-request-form.pdf",
        reply_to="form_a2",
    )
    p(
        "form_a4",
        "eunji",
        at(10, 13, 0),
        "We added a 'who is the client' field. Saved us hours.",
        reply_to="form_q",
    )
    # Help request answered in French, after a self-reply and a bot reply (neither counts).
    p(
        "cite_q",
        "helen",
        at(10, 16, 40),
        "Recommendations for a free citation manager I can teach to nurses in "
        "30 minutes? Zotero feels heavy for them. #sololibrarians #medlibs",
    )
    p(
        "cite_self",
        "helen",
        at(10, 16, 55),
        "(It has to run in the browser: no installs on ward PCs.)",
        reply_to="cite_q",
    )
    p(
        "cite_bot",
        "bot",
        at(10, 17, 2),
        "Automated: our list of free tools for small libraries is at https://example.org/free-tools",
        reply_to="cite_q",
    )
    p(
        "cite_a",
        "marguerite",
        at(11, 7, 30),
        "Nous utilisons ZoteroBib : aucun compte, tout se passe dans le "
        "navigateur. Les infirmières l'adorent.",
        langs=("fr",),
        reply_to="cite_q",
    )
    # Spanish help request, answered by a reply that itself carries the tag (so search finds the reply).
    p(
        "media_q",
        "javier",
        at(11, 8, 30),
        "¿Alguien tiene recursos para enseñar alfabetización mediática a "
        "niños de 10 años? Busco actividades cortas, en español. #sololibrarians #bibliotecasescolares",
        langs=("es",),
    )
    # Non-ASCII text before a facet: offsets must be bytes, not characters.
    p(
        "weed_q",
        "marguerite",
        at(11, 19, 2),
        "Question pour les bibliothécaires solos : comment gérez-vous le "
        "désherbage quand personne ne peut vous remplacer ? Des conseils ? 📚 #sololibrarians #bibliothèques",
        langs=("fr",),
    )
    p(
        "media_a",
        "priya",
        at(11, 21, 5),
        "@jmorales.bsky.social Not in Spanish, but the News Literacy "
        "Project has free short lessons. I'll ask my Spanish-teaching colleague too. #sololibrarians",
        reply_to="media_q",
    )
    p(
        "weed_self",
        "marguerite",
        at(11, 21, 30),
        "J'ajoute : la collection fait 12 000 documents.",
        langs=("fr",),
        reply_to="weed_q",
    )
    p(
        "media_thanks",
        "javier",
        at(12, 7, 40),
        "¡Gracias, Priya! Justo lo que necesitaba.",
        langs=("es",),
        reply_to="media_a",
    )
    p(
        "job",
        "bot",
        at(12, 10, 15),
        "Job: solo librarian, Riverside Community Hospital, full time. "
        "Apply by 1 December. #sololibrarians #libraryjobs",
    )
    p(
        "museum",
        "sam",
        at(12, 13, 0),
        "Anyone else the only librarian at a museum? Looking for cataloguing peers. #sololibrarians",
    )
    p(
        "quote",
        "helen",
        at(13, 11, 20),
        "This thread is gold for hospital folks too. #sololibrarians",
        quote="welcome",
    )
    p(
        "ebooks_q",
        "priya",
        at(13, 15, 45),
        "Any advice on getting budget approval for ebooks at a K-8 school? "
        "Admin keeps saying 'the kids have Chromebooks'. #SoloLibrarians #SchoolLibrarians",
    )
    # Tags only in the record's tags array (no facet in the text).
    p(
        "subs_q",
        "tom",
        at(14, 9, 0),
        "Looking for a checklist for the annual print subscription review at a "
        "small law firm. What do you cut first?",
        tags=("SoloLibrarians", "lawlibrarians"),
    )
    p(
        "courier_q",
        "kit",
        at(14, 17, 30),
        "Solo prison librarian here: our interlibrary loan courier stopped "
        "coming. Anyone dealt with this? #sololibrarians",
    )
    p(
        "taxonomy",
        "eunji",
        at(15, 10, 10),
        "Sharing my one-page taxonomy cheat sheet for solo corporate "
        "libraries: https://example.org/taxonomy-cheatsheet #sololibrarians",
    )
    # createdAt without a time zone: malformed, the collector falls back to indexedAt.
    p(
        "bookclub",
        "javier",
        at(16, 12, 0),
        "Hoy en la biblioteca: club de lectura con 4º de primaria. ¡Éxito total! #sololibrarians",
        langs=("es",),
        created_at="2026-11-16T12:00:00",
    )
    p(
        "subs_quote",
        "ana",
        at(18, 14, 20),
        "Tom's question is mine too. Here is our current review sheet. #sololibrarians",
        quote="subs_q",
        with_media=True,
    )
    p(
        "journal_q",
        "helen",
        at(19, 9, 30),
        "Has anyone set up a simple journal-club sign-up for residents? Free "
        "tools only, please. #sololibrarians #medlibs",
    )
    p(
        "journal_a",
        "eunji",
        at(19, 12, 10),
        "We use a shared form plus a calendar; happy to share the template.",
        reply_to="journal_q",
    )
    p("tom_loose", "tom", at(19, 15, 0), "Annual reminder that loose-leaf supplements are a lifestyle.")
    p(
        "ill_q",
        "helen",
        at(20, 9, 10),
        "Does anyone know a good free tool to track ILL requests? My spreadsheet is groaning.",
    )
    p(
        "merci",
        "marguerite",
        at(20, 16, 0),
        "Merci à @analima.bsky.social et à toutes et à tous pour les "
        "conseils sur le désherbage ! Compte rendu très bientôt. #sololibrarians",
        langs=("fr",),
    )
    p(
        "loan_q",
        "javier",
        at(21, 10, 30),
        "¿Qué programa usáis para el préstamo en una biblioteca escolar "
        "pequeña? Necesito algo gratuito. #sololibrarians",
        langs=("es",),
    )
    p("ana_quiet", "ana", at(21, 18, 0), "Quiet week at the firm. Finally indexing the 2025 memos.")
    p(
        "share",
        "eunji",
        at(22, 8, 15),
        "Reminder: the #sololibrarians weekly share thread is up. Post a win from this week!",
    )

    searchable = [
        "welcome",
        "form_q",
        "cite_q",
        "media_q",
        "weed_q",
        "media_a",
        "job",
        "museum",
        "quote",
        "ebooks_q",
        "subs_q",
        "courier_q",
        "taxonomy",
        "bookclub",
        "subs_quote",
        "journal_q",
        "merci",
        "loan_q",
        "share",
    ]
    threads = [
        ("form_q", [("form_a1", [("form_a2", [("form_a3", [])])]), ("form_a4", []), ("gone", [])]),
        ("cite_q", [("cite_self", []), ("cite_bot", []), ("cite_a", [])]),
        ("media_q", [("media_a", [("media_thanks", [])])]),
        ("weed_q", [("weed_self", [])]),
        ("ebooks_q", []),
        ("journal_q", [("journal_a", [])]),
    ]
    return c, searchable, threads


def thread_node(c: Community, name: str, children: list) -> dict:
    if name == "gone":  # a reply whose post is gone: the lexicon's placeholder in the replies union
        return {
            "$type": "app.bsky.feed.defs#notFoundPost",
            "uri": f"at://{PEOPLE['kit']['did']}/{POST}/{tid_for(at(10, 12, 0), 999)}",
            "notFound": True,
        }
    return {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": c.views[name],
        "replies": [thread_node(c, n, kids) for n, kids in children],
    }


def sort_key(view: dict) -> str:
    """Searches sort by sortAt: the earlier of createdAt and indexedAt (indexedAt when createdAt is odd)."""
    created = view["record"]["createdAt"]
    return min(created, view["indexedAt"]) if created.endswith("Z") else view["indexedAt"]


def list_feed(c: Community) -> dict:
    ana = PEOPLE["ana"]
    list_uri = f"at://{ana['did']}/app.bsky.graph.list/{tid_for(at(1, 12, 0), 7)}"
    members = {"ana", "tom", "helen", "marguerite", "javier", "priya", "eunji"}
    by_did = {PEOPLE[m]["did"] for m in members}
    items: list[dict] = []
    for view in c.views.values():
        if view["author"]["did"] not in by_did:
            continue
        item: dict = {"post": view}
        reply = view["record"].get("reply")
        if reply:
            parent = next(v for v in c.views.values() if v["uri"] == reply["parent"]["uri"])
            root = next(v for v in c.views.values() if v["uri"] == reply["root"]["uri"])
            item["reply"] = {
                "root": {"$type": "app.bsky.feed.defs#postView", **root},
                "parent": {"$type": "app.bsky.feed.defs#postView", **parent},
            }
        items.append(item)
    # A member's repost of someone else's post: list feeds carry reposts too.
    job = c.views["job"]
    items.append(
        {
            "post": job,
            "reason": {
                "$type": "app.bsky.feed.defs#reasonRepost",
                "by": profile_basic(ana),
                "indexedAt": iso(at(12, 18, 0)),
            },
        }
    )
    items.sort(key=lambda i: i["reason"]["indexedAt"] if "reason" in i else sort_key(i["post"]), reverse=True)
    return {
        "list": list_uri,
        "listUrl": f"https://bsky.app/profile/{ana['handle']}/lists/{list_uri.rsplit('/', 1)[1]}",
        "name": "Solo librarians",
        "feed": items,
    }


SPECIAL_CASES = [
    ("welcome", "quoted by `quote`; not a help request"),
    (
        "form_q",
        "help request answered through a reply chain (Tom, Ana, Tom) plus a second reply and a "
        "`#notFoundPost` placeholder in `threads/`; first answer after 1 h 46 min",
    ),
    (
        "cite_q",
        "help request answered in French (`cite_a`, 14 h 50 min later) after a self-reply and a "
        "reply from the bot, neither of which counts",
    ),
    (
        "media_q",
        'help request in Spanish (`langs: ["es"]`); the answer `media_a` carries the tag, so '
        "search returns the reply too (record.reply parent = root = `media_q`)",
    ),
    (
        "weed_q",
        "French, non-ASCII text before the facets (byte offsets differ from character offsets), "
        "tag `#bibliothèques`; open: only a self-reply",
    ),
    ("job", "from the `bot`-labelled account; reposted by Ana in the list feed (a `reasonRepost` item)"),
    ("museum", "author opted out with the `!no-unauthenticated` self-label"),
    ("quote", "quote post (`app.bsky.embed.record`) of `welcome`"),
    ("ebooks_q", "open help request; tag facets written `#SoloLibrarians #SchoolLibrarians` (mixed case)"),
    ("subs_q", "open help request whose tags are only in the record's `tags` array (no facet)"),
    ("courier_q", "help request by an author who opted out with `#nobot` in the description"),
    ("taxonomy", "link facet before a tag facet"),
    ("bookclub", "malformed `createdAt` (no time zone): readers fall back to `indexedAt`"),
    ("subs_quote", "quote with media (`app.bsky.embed.recordWithMedia`) of `subs_q`"),
    ("journal_q", "help request answered by `journal_a` (2 h 40 min)"),
    ("merci", "French, mention facet after non-ASCII text"),
    ("loan_q", "open help request in Spanish"),
    ("ill_q", "untagged help request, only in the list feed (list posts count without a tag); open"),
    ("ana_quiet", "untagged post by Ana, only in the list feed"),
]


def readme(c: Community, list_info: dict) -> str:
    """The README, generated so its URIs always match the data."""
    people = "\n".join(
        f"| {p['name']} | `{p['handle']}` | `{p['did']}` | {', '.join(p['labels']) or ''} |"
        for p in PEOPLE.values()
    )
    cases = "\n".join(f"| `{name}` | `{c.views[name]['uri']}` | {what} |" for name, what in SPECIAL_CASES)
    return f"""# Bluesky sample community

The Bluesky half of the demo community (solo librarians in law firms, hospitals, schools), in the
exact JSON shapes the XRPC endpoints return. Written by `build.py` (standard library only,
deterministic): edit that file and run `python data/sample/bluesky/build.py`, never the JSON.
Dates fall within 2026-11-09..2026-11-22 UTC. The local fake server (`tests/fakes/bluesky.py`)
serves these files.

- `search_posts.json`: `{{"posts": [PostView]}}`, every post a `#sololibrarians` search can return,
  newest first (by sortAt).
- `list_feed.json`: a getListFeed `feed` (FeedViewPost items, newest first) for one curated list,
  with `list` (its AT-URI), `listUrl` and `name`.
- `threads/<rkey>.json`: getPostThread answers (`{{"thread": threadViewPost}}`) for the help requests.
- `profiles.json`: a getProfiles answer (`{{"profiles": [ProfileViewDetailed]}}`) for every author,
  descriptions included.

Curated list: `{list_info["list"]}` ({list_info["listUrl"]}), owned by Ana Lima; members Ana, Tom,
Helen, Marguerite, Javier, Priya and Eun-ji.

## People

| name | handle | DID | self-labels |
|---|---|---|---|
{people}

Ana Lima is also on Mastodon as `analima@glammr.us` (see `data/sample/mastodon/`); her description
says so. Kit Harlow's description carries `#nobot`. Identifiers (DIDs, CIDs, TID record keys) are
derived from hashes: shaped like the real ones, resolvable nowhere.

## Special cases

| key in build.py | uri | case |
|---|---|---|
{cases}
"""


def main() -> None:
    c, searchable, threads = build_community()
    posts = sorted((c.views[n] for n in searchable), key=sort_key, reverse=True)
    write("search_posts.json", {"posts": posts})
    list_info = list_feed(c)
    write("list_feed.json", list_info)
    counts = {
        p["did"]: sum(1 for v in c.views.values() if v["author"]["did"] == p["did"]) for p in PEOPLE.values()
    }
    write("profiles.json", {"profiles": [profile_detailed(p, counts[p["did"]]) for p in PEOPLE.values()]})
    thread_dir = HERE / "threads"
    thread_dir.mkdir(exist_ok=True)
    for old in thread_dir.glob("*.json"):
        old.unlink()
    for root, children in threads:
        rkey = c.views[root]["uri"].rsplit("/", 1)[1]
        write(f"threads/{rkey}.json", {"thread": thread_node(c, root, children)})
    (HERE / "README.md").write_text(readme(c, list_info), encoding="utf-8")


def write(name: str, data: dict) -> None:
    (HERE / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
