"""Write ``events.jsonl``: a recorded-shape Jetstream replay of the Bluesky sample community.

Run ``python tests/data/jetstream/build.py``. One line per WebSocket frame, exactly
as a public ``/subscribe`` instance sends it (compact JSON, top-level fields
first): ``{"did", "time_us", "kind", "commit" | "identity" | "account"}``. The
fake Jetstream (``tests/fakes/jetstream.py``) serves these lines, and renders
them as ``subscribeEvents`` frames for the xrpc wire.

What is in it (standard library only, deterministic):

* every sample post (``data/sample/bluesky``) created after ``CUT`` as a create
  commit, ``time_us`` a second after its ``createdAt``. Posts before ``CUT`` are
  what an earlier polling run stored; the tests seed them (``SEEDED``), so a
  reply in the stream to ``form_q`` is a reply to an already stored request;
* noise: strangers' untagged posts, replies to threads nobody follows, a post
  tagged ``#librarianship`` (it contains "librarians": the text pre-check lets it
  through and decoding says no), likes (``wantedCollections`` keeps them out);
* a post tagged only in the ``tags`` array, one tagged only in its text (no
  facet), one edited (an ``update`` commit), one deleted;
* a reply to a help request whose author opted out (``!no-unauthenticated``);
* Drew Pratt (``profiles.json``), who posts, answers, and deactivates;
* identity events (Tom's new handle; a stranger's), account events;
* malformed frames: not JSON, a JSON array, no DID, a string ``time_us``, a
  tagged post without text, a truncated frame.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample" / "bluesky"
POST = "app.bsky.feed.post"
CUT = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
END = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TID = "234567abcdefghijklmnopqrstuvwxyz"
DREW = "did:plc:drewprattleaves5x2kq7mza"
TOM = "did:plc:kgb6rahsxnvi3m36ckvjgnet"
ANA = "did:plc:qtlajxu7frylmjh3hyqmtpxz"
HELEN = "did:plc:b3frcqdq2kz3dw2hpq2bz7xw"
EUNJI = "did:plc:t7vx4nqan7utywcja4psufks"
MUSEUM_Q = "at://did:plc:6u2otl4zndgdxyfah72d2ncx/app.bsky.feed.post/3n24jlu7h222l"


def did_for(name: str) -> str:
    return "did:plc:" + base64.b32encode(hashlib.sha256(name.encode()).digest()).decode().lower()[:24]


def cid_for(*parts: str) -> str:
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + hashlib.sha256("\x00".join(parts).encode()).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def tid_for(when: datetime, clock: int) -> str:
    value = (int(when.timestamp() * 1_000_000) << 10) | (clock & 0x3FF)
    return "".join(TID[(value >> (5 * i)) & 0x1F] for i in reversed(range(13)))


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def micros(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000 + when.microsecond


def parse(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def tag_facets(text: str, tags: list[str]) -> list[dict]:
    encoded, facets = text.encode(), []
    for tag in tags:
        start = encoded.lower().find(f"#{tag}".lower().encode())
        if start >= 0:
            facets.append({"$type": "app.bsky.richtext.facet",
                           "index": {"byteStart": start, "byteEnd": start + len(tag.encode()) + 1},
                           "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    return facets


class Log:
    def __init__(self) -> None:
        self.items: list[tuple[datetime, int, str]] = []  # (time, order, frame)
        self.clock = 0

    def frame(self, when: datetime, frame: str) -> None:
        self.clock += 1
        self.items.append((when, self.clock, frame))

    def event(self, did: str, when: datetime, kind: str, body: dict) -> None:
        # Jetstream's field order: did, time_us, kind, then the body.
        self.frame(when, json.dumps({"did": did, "time_us": micros(when), "kind": kind, kind: body},
                                    ensure_ascii=False, separators=(",", ":")))

    def commit(self, did: str, when: datetime, operation: str, rkey: str, record: dict | None = None,
               collection: str = POST) -> str:
        body: dict = {"rev": tid_for(when, 7), "operation": operation, "collection": collection, "rkey": rkey}
        if record is not None:
            body["record"] = record
            body["cid"] = cid_for(did, rkey, json.dumps(record, sort_keys=True))
        self.event(did, when, "commit", body)
        return f"at://{did}/{collection}/{rkey}"

    def post(self, did: str, when: datetime, text: str, *, tags: list[str] = (), reply: str | None = None,
             extra: dict | None = None) -> str:
        record: dict = {"$type": POST, "createdAt": iso(when), "langs": ["en"], "text": text}
        facets = tag_facets(text, list(tags))
        if facets:
            record["facets"] = facets
        if reply:
            ref = {"cid": cid_for(reply), "uri": reply}
            record["reply"] = {"parent": ref, "root": ref}
        record.update(extra or {})
        self.clock += 1
        return self.commit(did, when + timedelta(seconds=1), "create", tid_for(when, self.clock), record)

    def write(self, path: Path) -> None:
        lines = [frame for _, _, frame in sorted(self.items)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sample_views() -> list[dict]:
    views: dict[str, dict] = {}
    for view in json.loads((SAMPLE / "search_posts.json").read_text(encoding="utf-8"))["posts"]:
        views.setdefault(view["uri"], view)
    for item in json.loads((SAMPLE / "list_feed.json").read_text(encoding="utf-8"))["feed"]:
        views.setdefault(item["post"]["uri"], item["post"])

    def walk(node: dict) -> None:
        if node.get("$type", "app.bsky.feed.defs#threadViewPost") == "app.bsky.feed.defs#threadViewPost":
            views.setdefault(node["post"]["uri"], node["post"])
            for child in node.get("replies", []):
                walk(child)

    for path in sorted((SAMPLE / "threads").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8"))["thread"])
    return sorted(views.values(), key=lambda v: parse(v["record"]["createdAt"]))


def build() -> Log:
    log, rng = Log(), random.Random(20261110)
    for view in sample_views():
        created = parse(view["record"]["createdAt"])
        if created >= CUT:
            did, rkey = view["author"]["did"], view["uri"].rsplit("/", 1)[1]
            log.commit(did, created + timedelta(seconds=1), "create", rkey, view["record"])

    strangers = [did_for(f"stranger-{i}") for i in range(12)]
    chatter = ["Lunch was great today", "Anyone watching the match tonight?", "New blog post on compilers",
               "Cats are the best librarians of sunny spots", "Rainy Monday, send coffee",
               "My garden finally has tomatoes", "Reading a great book about rivers"]
    span = (END - CUT).total_seconds()
    for i in range(140):
        when = CUT + timedelta(seconds=span * (i + rng.random()) / 140)
        who = strangers[i % len(strangers)]
        if i % 9 == 4:
            log.post(who, when, "Great talk on #librarianship today", tags=["librarianship"])
        elif i % 7 == 3:
            log.post(who, when, "Totally agree!", reply=f"at://{strangers[0]}/{POST}/3n2aaaaaaaa2{i % 10}")
        else:
            log.post(who, when, chatter[i % len(chatter)])
        if i % 6 == 0:
            like = {"$type": "app.bsky.feed.like", "createdAt": iso(when),
                    "subject": {"cid": cid_for(str(i)), "uri": f"at://{ANA}/{POST}/3mzv3td5qs223"}}
            log.commit(who, when + timedelta(seconds=2), "create", tid_for(when, 900 + i), like, "app.bsky.feed.like")

    day = lambda d, h, m=0: datetime(2026, 11, d, h, m, tzinfo=UTC)  # noqa: E731
    log.post(EUNJI, day(12, 9), "Uploaded our taxonomy workshop slides for the group",
             extra={"tags": ["SoloLibrarians"]})
    log.post(TOM, day(13, 10), "Anyone have a good #sololibrarians reading list for new hires?")
    deleted = log.post(ANA, day(14, 8), "Draft: is anyone going to the #sololibrarians meetup?",
                       tags=["sololibrarians"])
    log.commit(ANA, day(14, 8, 10), "delete", deleted.rsplit("/", 1)[1])
    log.commit(strangers[3], day(14, 9), "delete", "3n2bbbbbbbb22")
    edited = log.post(HELEN, day(15, 14), "Our ILL form is live #sololibrarians", tags=["sololibrarians"])
    text = "Our ILL request form is live, feedback welcome #sololibrarians"
    record = {"$type": POST, "createdAt": iso(day(15, 14)), "langs": ["en"], "text": text,
              "facets": tag_facets(text, ["sololibrarians"])}
    log.commit(HELEN, day(15, 14, 20), "update", edited.rsplit("/", 1)[1], record)
    log.post(HELEN, day(12, 14), "Same here, happy to compare notes!", reply=MUSEUM_Q)

    drew_q = log.post(DREW, day(16, 9), "Does anyone know a free tool to weed a 5,000-item collection? #sololibrarians",
                      tags=["sololibrarians"])
    log.post(TOM, day(16, 11), "We use a spreadsheet and a lot of patience.", reply=drew_q)
    log.post(DREW, day(16, 12), "Thanks Tom!", reply=drew_q)
    log.event(DREW, day(18, 7), "account", {"active": False, "did": DREW, "seq": 9001, "status": "deactivated",
                                            "time": iso(day(18, 7))})
    log.event(ANA, day(18, 8), "account", {"active": True, "did": ANA, "seq": 9002, "time": iso(day(18, 8))})
    log.event(TOM, day(19, 7), "identity", {"did": TOM, "handle": "tom.becker.law", "seq": 9003,
                                            "time": iso(day(19, 7))})
    log.event(strangers[5], day(19, 8), "identity", {"did": strangers[5], "handle": "someone.example",
                                                     "seq": 9004, "time": iso(day(19, 8))})

    t = lambda d, h: micros(day(d, h))  # noqa: E731
    log.frame(day(12, 1), "this is not json")
    log.frame(day(13, 1), "[1, 2, 3]")
    log.frame(day(14, 1), json.dumps({"time_us": t(14, 1), "kind": "commit", "commit": {}}, separators=(",", ":")))
    log.frame(day(15, 1), json.dumps({"did": strangers[1], "time_us": "soon", "kind": "commit"}, separators=(",", ":")))
    no_text = {"$type": POST, "createdAt": iso(day(16, 1)), "facets": tag_facets("#sololibrarians", ["sololibrarians"])}
    log.commit(EUNJI, day(16, 1), "create", tid_for(day(16, 1), 1), no_text)
    truncated = '{"did":"' + strangers[4] + '","time_us":' + str(t(17, 1)) + ',"kind":"commit","commit":{"rev"'
    log.frame(day(17, 1), truncated)
    log.post(strangers[6], day(22, 11, 59), "Last light on the reading room")  # the log ends on a plain event
    return log


if __name__ == "__main__":
    build().write(HERE / "events.jsonl")
