"""A replayable community history where we know who answered what, for suggestions and "asked before".

Deterministic (seeded). Requests are about one of a dozen topics, each with its
own vocabulary in several phrasings, in English, French, German or Spanish.
Answerers are specialists (one or two topics, their language, some of them
going quiet half-way), generalists (anything in English), bots (reply to
everything, never count), opted-out, forgotten and non-discoverable accounts
(answer often, must never be suggested). The ground truth (each request's topic
and first responder) is returned beside the rows and is never stored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa

START = datetime(2026, 6, 1, tzinfo=UTC)

TOPICS: dict[str, list[str]] = {
    "koha": ["Koha", "Koha serials module", "Koha circulation rules", "Koha MARC import", "Koha upgrade",
             "Koha patron notices"],
    "cataloguing": ["RDA cataloguing", "authority records", "copy cataloguing", "MARC 856 fields",
                    "Dewey call numbers", "subject headings"],
    "archives": ["finding aids", "ArchivesSpace", "accession records", "archival processing", "EAD finding aids"],
    "preservation": ["mould on books", "acid-free boxes", "humidity control", "water-damaged volumes",
                     "book conservation"],
    "copyright": ["copyright for scans", "fair dealing", "licensing photocopies", "public domain images",
                  "copyright clearance"],
    "ebooks": ["ebook licensing", "OverDrive", "Libby lending", "ebook platforms", "DRM-free ebooks"],
    "budget": ["budget cuts", "annual budget", "grant applications", "funding proposals", "vendor invoices"],
    "children": ["storytime", "story time rhymes", "children's programming", "summer reading challenge",
                 "toddler sessions"],
    "repository": ["DSpace", "institutional repository", "open access deposit", "DOI minting", "Dublin Core"],
    "weeding": ["weeding", "deselection criteria", "CREW method", "weeding reference books", "discard policy"],
    "zotero": ["Zotero", "citation manager", "Zotero groups", "reference management", "EndNote migration"],
    "ill": ["interlibrary loan", "ILL requests", "document delivery", "resource sharing", "ILL fees"],
}
TEMPLATES = {
    "en": ["Does anyone know a good approach to {a}?", "Looking for advice on {a} and {b}.",
           "Has anyone dealt with {a}? Struggling with {b} too.", "Any recommendations for {a}?",
           "Quick question about {a}: how do you handle {b}?", "Help! {a} is giving me trouble."],
    "fr": ["Quelqu'un connaît une solution pour {a} ?", "Je cherche des conseils sur {a} et {b}.",
           "Avez-vous une expérience avec {a} ?"],
    "de": ["Kennt jemand eine Lösung für {a}?", "Ich suche Tipps zu {a} und {b}.", "Hat jemand Erfahrung mit {a}?"],
    "es": ["¿Alguien conoce una solución para {a}?", "Busco consejos sobre {a} y {b}.",
           "¿Alguien tiene experiencia con {a}?"],
}
NOISE = ["Our newsletter is out today", "Lovely display of autumn books this week", "Conference slides are up",
         "Reading room closed on Friday", "New acquisitions list posted"]
LANG_WEIGHTS = {"en": 0.7, "fr": 0.12, "de": 0.1, "es": 0.08}


@dataclass
class Person:
    account: str
    kind: str  # specialist, generalist, bot, opted_out, forgotten, hidden, asker
    topics: tuple[str, ...] = ()
    lang: str = "en"
    active_until: int = 10_000  # day after which they stop answering
    weight: float = 1.0


@dataclass
class History:
    posts: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    topic_of: dict[str, str] = field(default_factory=dict)  # request uri -> topic
    first_responder: dict[str, str] = field(default_factory=dict)  # request uri -> account
    forbidden: set[str] = field(default_factory=set)  # bots, opted-out, forgotten, non-discoverable


def _people(rng: random.Random, askers: int) -> list[Person]:
    people: list[Person] = []
    topics = list(TOPICS)
    for i in range(30):  # each topic has two or three specialists, some in other languages
        lang = "en" if i < 20 else ("fr", "de", "es")[i % 3]
        mine = (topics[i % len(topics)],) + ((topics[(i * 5 + 3) % len(topics)],) if i % 3 == 0 else ())
        people.append(Person(f"spec{i}@x.org", "specialist", mine, lang, 60 if i % 7 == 0 else 10_000,
                             rng.uniform(0.5, 2.0)))
    people += [Person(f"gen{i}@x.org", "generalist", weight=rng.uniform(1.0, 3.0)) for i in range(6)]
    people += [Person(f"bot{i}@x.org", "bot") for i in range(2)]
    people += [Person(f"optout{i}@x.org", "opted_out", (topics[i],)) for i in range(2)]
    people += [Person("gone@x.org", "forgotten", (topics[3],)), Person("hidden@x.org", "hidden", (topics[5],))]
    people += [Person(f"asker{i}@x.org", "asker", lang=rng.choices(list(LANG_WEIGHTS), list(LANG_WEIGHTS.values()))[0])
               for i in range(askers)]
    return people


def _first_responder(rng: random.Random, people: list[Person], topic: str, lang: str, day: int, author: str,
                     unanswered: float = 0.08) -> Person | None:
    def live(p: Person) -> bool:
        return p.account != author and day <= p.active_until

    roll = rng.random()
    if roll < 0.08:
        if rng.random() < unanswered / 0.08:
            return None  # nobody answers
        roll = 0.08 + rng.random() * 0.92
    if roll < 0.70:
        pool = [p for p in people if p.kind == "specialist" and topic in p.topics and live(p)]
        same = [p for p in pool if p.lang == lang]
        pool = same or pool
    elif roll < 0.82 and lang == "en":
        pool = [p for p in people if p.kind == "generalist" and live(p)]
    elif roll < 0.90:
        pool = [p for p in people if p.kind in ("opted_out", "forgotten", "hidden") and topic in p.topics]
    else:
        pool = [p for p in people if p.kind in ("specialist", "generalist") and live(p) and p.lang == lang]
    if not pool:
        pool = [p for p in people if p.kind == "generalist" and live(p)]
    if not pool:
        return None  # everyone who could answer has left (a long history)
    return rng.choices(pool, [p.weight for p in pool])[0]


def generate(days: int = 120, per_day: int = 8, askers: int = 80, seed: int = 7, open_tail_days: int = 0,
             noise_per_day: int = 4, unanswered: float = 0.08) -> History:
    """A history of ``days`` days; requests in the last ``open_tail_days`` days get no answer (they stay open)."""
    rng = random.Random(seed)
    people = _people(rng, askers)
    askers_list = [p for p in people if p.kind == "asker"]
    history = History()
    for p in people:
        history.accounts.append({"account": p.account, "platform": "mastodon", "handle": p.account,
                                 "bot": p.kind == "bot", "discoverable": p.kind != "hidden", "indexable": True,
                                 "first_seen_at": START, "last_seen_at": START})
        if p.kind in ("bot", "opted_out", "forgotten", "hidden"):
            history.forbidden.add(p.account)
    history.opted_out = [p.account for p in people if p.kind == "opted_out"]
    history.forgotten = [p.account for p in people if p.kind == "forgotten"]
    n = 0

    def post(author: str, at: datetime, text: str, lang: str, root: str | None = None, request: bool = False,
             tags: tuple[str, ...] = ("sololibrarians",)) -> str:
        nonlocal n
        n += 1
        uri = f"https://x.org/{author.split('@')[0]}/{n}"
        history.posts.append({"uri": uri, "platform": "mastodon", "url": uri, "author": author, "created_at": at,
                              "text": text, "lang": lang, "tags": list(tags), "visibility": "public",
                              "reply_to": root, "reply_root": root, "via": "thread" if root else "tag",
                              "first_seen_at": at, "updated_at": at, "is_request": request})
        return uri

    for day in range(days):
        for _ in range(rng.randint(per_day // 2, per_day + per_day // 2)):
            asker = rng.choice(askers_list)
            topic = rng.choice(list(TOPICS))
            a, b = rng.sample(TOPICS[topic], 2)
            at = START + timedelta(days=day, minutes=rng.randint(0, 24 * 60 - 1))
            tags = ("sololibrarians",) + ((topic,) if rng.random() < 0.3 else ())
            uri = post(asker.account, at, rng.choice(TEMPLATES[asker.lang]).format(a=a, b=b), asker.lang,
                       request=True, tags=tags)
            history.topic_of[uri] = topic
            if rng.random() < 0.5:  # a bot replies first, within minutes: it never counts
                post(f"bot{rng.randint(0, 1)}@x.org", at + timedelta(minutes=2), "Boosted to the digest", "en",
                     root=uri, tags=())
            if day >= days - open_tail_days:
                continue
            first = _first_responder(rng, people, topic, asker.lang, day, asker.account, unanswered)
            if first is None:
                continue
            reply_at = at + timedelta(minutes=rng.randint(20, 600))
            post(first.account, reply_at, f"I had the same with {a.lower()}, here is what worked", asker.lang,
                 root=uri, tags=())
            history.first_responder[uri] = first.account
            if rng.random() < 0.4:  # a second voice, later
                other = rng.choice([p for p in people if p.kind in ("specialist", "generalist")])
                if other.account != asker.account:
                    post(other.account, reply_at + timedelta(hours=2), "Seconding this", asker.lang, root=uri,
                         tags=())
        for _ in range(noise_per_day):
            who = rng.choice(people)
            post(who.account, START + timedelta(days=day, minutes=rng.randint(0, 1439)), rng.choice(NOISE), "en")
    return history


def load(con, history: History) -> None:  # noqa: ANN001 - a DuckDB connection
    """Insert the history into a migrated database (opt-outs and forgotten accounts included)."""
    posts = pa.Table.from_pylist(history.posts)
    accounts = pa.Table.from_pylist(history.accounts)
    con.register("h_posts", posts)
    con.register("h_accounts", accounts)
    con.execute("INSERT INTO account_store BY NAME SELECT * FROM h_accounts")
    con.execute("INSERT INTO post_store BY NAME SELECT * FROM h_posts")
    con.unregister("h_posts")
    con.unregister("h_accounts")
    for account in history.opted_out:
        con.execute("INSERT INTO opt_outs (account, reason, seen_at) VALUES (?, 'nobot', ?)", [account, START])
    for account in history.forgotten:
        con.execute("INSERT INTO forgotten VALUES (?, ?)", [account, START])
