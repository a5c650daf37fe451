"""Benchmark: Jetstream parse-and-filter rate, against decoding every event into atproto's models; memory over a day.

Run: .venv/bin/python -m tests.benchmarks.bench_jetstream [--events 200000] [--soak 300000]

(a) A generated replay file in the public ``/subscribe`` shape, written to a temporary file and
    read back, in two mixes: ``posts`` (what ``wantedCollections=app.bsky.feed.post`` delivers:
    mostly untagged posts, replies, embeds, deletions, a few identity/account events, ~1% watched
    tags, some replies under followed roots) and ``all`` (the same without the collection filter:
    likes, reposts, follows... dominate). On one core, the rate of:
      - peerdesk's ``StreamFilter.decode`` (text pre-check, then JSON only when a frame may matter);
      - the same decoder on the same events rendered as xrpc ``subscribeEvents`` frames (always JSON);
      - atproto's own path on those xrpc frames (``parse_frame`` + ``parse_subscribe_events_message``,
        what ``JetstreamClient`` does to every frame: full pydantic models, records included);
      - ``json.loads`` + ``models.get_or_create`` of the record for the /subscribe frames.
    Target: at least 20,000 events/s for peerdesk's path.
(b) Soak: the real stream (``run_stream``: WebSocket, batching, profile cache, commits) against a
    local server generating events on the fly, with a small profile cache; resident memory and the
    sizes of every cache, queue and set at ten checkpoints. A day of ``app.bsky.feed.post`` events
    is a few million: ``--soak 4000000``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import random
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.bluesky.jetstream.stream import ConnectOptions, MalformedEvent, StreamFilter
from tests.fakes.jetstream import Frame, to_v2
from tests.fakes.websocket import FakeWebSocketServer

WATCHED = ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians")
WORDS = ("the library book today new great love just think people time good really know work want help need "
         "day thanks art photo music coffee weekend morning city river cat dog news vote game team code data "
         "reading writing garden rain sunny summer winter friend family school meeting project idea story").split()
OTHER_TAGS = ("art", "photography", "bookstodon", "libraries", "caturday", "news", "academicsky", "librarianship")
START_US = 1_794_300_000_000_000


def _did(rng: random.Random) -> str:
    return "did:plc:" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz234567", k=24))


def _rkey(rng: random.Random) -> str:
    return "3m" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz234567", k=11))


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(3, 45))).capitalize()


def _facet(text: str, start: int, feature: dict) -> dict:
    return {"$type": "app.bsky.richtext.facet", "index": {"byteStart": start, "byteEnd": len(text.encode())},
            "features": [feature]}


def _post(rng: random.Random, when: int, roots: list[str], known_roots: list[str]) -> dict:
    text = _text(rng)
    record: dict = {"$type": "app.bsky.feed.post", "createdAt": _iso(when), "langs": [rng.choice(["en", "en", "ja",
                    "pt", "de", "es", "fr"])], "text": text}
    facets = []
    roll = rng.random()
    if roll < 0.012:  # a watched tag
        tag = rng.choice(WATCHED)
        start = len(text.encode()) + 1
        text = record["text"] = f"{text} #{tag}"
        facets.append(_facet(text, start, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    elif roll < 0.08:  # somebody else's tag
        tag = rng.choice(OTHER_TAGS)
        start = len(text.encode()) + 1
        text = record["text"] = f"{text} #{tag}"
        facets.append(_facet(text, start, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    if rng.random() < 0.12:
        start = len(text.encode()) + 1
        text = record["text"] = f"{text} https://example.org/{_rkey(rng)}"
        facets.append(_facet(text, start, {"$type": "app.bsky.richtext.facet#link", "uri": text.rsplit(" ", 1)[1]}))
    if facets:
        record["facets"] = facets
    if rng.random() < 0.38:
        root = rng.choice(known_roots) if known_roots and rng.random() < 0.004 else rng.choice(roots)
        ref = {"cid": "bafyrei" + _rkey(rng) * 4, "uri": root}
        record["reply"] = {"parent": ref, "root": ref}
    embed = rng.random()
    if embed < 0.15:
        record["embed"] = {"$type": "app.bsky.embed.images", "images": [
            {"alt": _text(rng), "image": {"$type": "blob", "ref": {"$link": "bafkrei" + _rkey(rng) * 4},
                                          "mimeType": "image/jpeg", "size": rng.randint(10_000, 900_000)},
             "aspectRatio": {"width": 1200, "height": 900}}]}
    elif embed < 0.25:
        record["embed"] = {"$type": "app.bsky.embed.external", "external": {
            "uri": f"https://example.org/{_rkey(rng)}", "title": _text(rng)[:80], "description": _text(rng)}}
    elif embed < 0.28:
        record["embed"] = {"$type": "app.bsky.embed.record", "record": {"cid": "bafyrei" + _rkey(rng) * 4,
                                                                          "uri": rng.choice(roots)}}
    return record


def _iso(micros: int) -> str:
    when = datetime.fromtimestamp(micros / 1_000_000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _commit(rng: random.Random, did: str, when: int, operation: str, collection: str, rkey: str,
            record: dict | None) -> str:
    body: dict = {"rev": _rkey(rng), "operation": operation, "collection": collection, "rkey": rkey}
    if record is not None:
        body["record"] = record
        body["cid"] = "bafyrei" + rkey * 4
    return json.dumps({"did": did, "time_us": when, "kind": "commit", "commit": body}, ensure_ascii=False,
                      separators=(",", ":"))


def generate(count: int, all_collections: bool, known_roots: list[str], seed: int = 7,
             start_us: int = START_US) -> list[str]:
    """``count`` frames in the /subscribe shape, times 25 ms apart on average."""
    rng = random.Random(seed)
    dids = [_did(rng) for _ in range(100_000)]  # the network is large: few authors are ever seen twice
    roots = [f"at://{rng.choice(dids)}/app.bsky.feed.post/{_rkey(rng)}" for _ in range(2_000)]
    frames, when = [], start_us
    for _ in range(count):
        when += rng.randint(1, 50_000)
        did, roll = rng.choice(dids), rng.random()
        if all_collections and roll < 0.70:
            kind = rng.choices(["app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow",
                                "app.bsky.graph.block", "app.bsky.graph.listitem"], [55, 12, 8, 2, 3])[0]
            subject = ({"cid": "bafyrei" + _rkey(rng) * 4, "uri": rng.choice(roots)} if "feed" in kind
                       else rng.choice(dids))
            record = {"$type": kind, "createdAt": _iso(when), "subject": subject}
            frames.append(_commit(rng, did, when, "create", kind, _rkey(rng), record))
        elif roll < 0.93 or (all_collections and roll < 0.97):
            frames.append(_commit(rng, did, when, "create", "app.bsky.feed.post", _rkey(rng),
                                  _post(rng, when, roots, known_roots)))
        elif roll < 0.985:
            frames.append(_commit(rng, did, when, "delete", "app.bsky.feed.post", _rkey(rng), None))
        elif roll < 0.995:
            frames.append(json.dumps({"did": did, "time_us": when, "kind": "identity", "identity": {
                "did": did, "handle": f"user{rng.randint(1, 10**6)}.bsky.social", "seq": when, "time": _iso(when)}},
                separators=(",", ":")))
        else:
            frames.append(json.dumps({"did": did, "time_us": when, "kind": "account", "account": {
                "active": rng.random() < 0.5, "did": did, "seq": when, "status": "deactivated", "time": _iso(when)}},
                separators=(",", ":")))
    return frames


# ---------------------------------------------------------------- (a) rates


def _rate(frames: list[str], decode: Callable[[str], object], repeat: int = 3) -> tuple[float, int]:
    """Events per second on one core, the best of ``repeat`` passes (the machine may be busy)."""
    best, kept = 0.0, 0
    for _ in range(repeat):
        kept = 0
        gc.collect()
        start = time.perf_counter()
        for frame in frames:
            try:
                if decode(frame) is not None:
                    kept += 1
            except (MalformedEvent, ValueError):
                pass
        best = max(best, len(frames) / (time.perf_counter() - start))
    return best, kept


def rates(count: int) -> None:
    from atproto_client.models.utils import get_or_create
    from atproto_jetstream.models import parse_frame, parse_subscribe_events_message

    known = [f"at://did:plc:request{i:016d}/app.bsky.feed.post/3mrequest{i:04d}" for i in range(200)]
    for mix in ("posts", "all"):
        with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", encoding="utf-8") as replay:
            replay.write("\n".join(generate(count, mix == "all", known)) + "\n")
            replay.flush()
            replay.seek(0)
            frames = replay.read().splitlines()
        xrpc = [to_v2(Frame(f, e["time_us"], e, i)) for i, f in enumerate(frames, 1) if (e := json.loads(f))]
        size = sum(map(len, frames)) / len(frames)


        def models_v1(frame: str) -> object:
            event = json.loads(frame)
            record = (event.get("commit") or {}).get("record")
            return get_or_create(record, strict=False) if record else None

        def models_v2(frame: str) -> object:
            return parse_subscribe_events_message(parse_frame(frame))  # type: ignore[arg-type]

        ours_rate, ours_kept = _rate(frames, _decoder(_filter(known)))
        v2_rate, v2_kept = _rate(xrpc, _decoder(_filter(known)))
        atproto_v2, _ = _rate(xrpc, models_v2)
        atproto_v1, _ = _rate(frames, models_v1)
        print(f"mix '{mix}': {len(frames):,} events, {size:,.0f} bytes/frame on average, "
              f"{ours_kept:,} passed the filter ({v2_kept:,} on the xrpc wire)")
        print(f"  peerdesk StreamFilter.decode, /subscribe frames  {ours_rate:>10,.0f} events/s")
        print(f"  peerdesk StreamFilter.decode, xrpc frames        {v2_rate:>10,.0f} events/s")
        print(f"  atproto JetstreamClient decode (xrpc, models)    {atproto_v2:>10,.0f} events/s "
              f"({ours_rate / atproto_v2:.1f}x slower than peerdesk)")
        print(f"  json.loads + models.get_or_create(record)        {atproto_v1:>10,.0f} events/s "
              f"({ours_rate / atproto_v1:.1f}x slower than peerdesk)")


def _decoder(f: StreamFilter) -> Callable[[str], object]:
    return lambda frame: f.decode(frame)[1]


def _filter(known: list[str]) -> StreamFilter:
    f = StreamFilter.for_tags(WATCHED, lambda text, lang: "?" in text)
    f.roots |= set(known)
    return f


# ---------------------------------------------------------------- (b) soak


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _Generated(FakeWebSocketServer):
    """``total`` events, 25 ms apart, from a pool whose authors change every pass.

    Rewriting each pooled frame's DID and time is cheap, so the server keeps up with the stream, and
    every pass brings authors the profile cache has not seen: the cache has to stay bounded.
    """

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        known = [f"at://did:plc:request{i:016d}/app.bsky.feed.post/3mrequest{i:04d}" for i in range(200)]
        self.pool = generate(20_000, False, known, seed=11)
        self.tails = [frame[frame.index(",", frame.index('"time_us":')):] for frame in self.pool]
        self.dids = [frame[8:8 + len("did:plc:") + 20] for frame in self.pool]

    async def handle(self, connection: Any) -> None:
        pool, dids, tails = self.pool, self.dids, self.tails
        for i in range(self.total):
            n = i % len(pool)
            frame = f'{{"did":"{dids[n]}{i // len(pool):04d}","time_us":{START_US + i * 25_000}{tails[n]}'
            await connection.send(frame)
        await asyncio.Future()


def _serve_generated(total: int, ports: multiprocessing.Queue) -> None:
    """In its own process, so generating events does not slow the stream under test; ends when terminated."""
    with _Generated(total) as server:
        ports.put(server.port)
        threading.Event().wait()


async def _soak(total: int) -> None:
    from collectors.records import Account
    from pipeline.collection.stream.run import StreamOptions, StreamStats, Writer, run_stream
    from pipeline.core.settings import MastodonSettings, Settings

    def lookup(dids: object) -> dict[str, Account | None]:
        return {d: Account(d, "bluesky", f"{d[8:20]}.example") for d in dids}  # type: ignore[attr-defined]

    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve_generated, args=(total, ports), daemon=True)
    server.start()
    port = ports.get(timeout=60)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(db_path=Path(tmp) / "soak.duckdb", state_dir=Path(tmp), tags=WATCHED,
                                mastodon=MastodonSettings(instances=()))
            options = StreamOptions(endpoint=f"ws://127.0.0.1:{port}/subscribe", profile_cache=2_000,
                                    since=datetime(2026, 11, 11, tzinfo=UTC), gap_warning=1e12,
                                    connect=ConnectOptions(idle_timeout=60))
            stats, stop = StreamStats(), asyncio.Event()
            task = asyncio.create_task(run_stream(settings, options, Writer(settings.db_path), stop, stats,
                                                  lookup=lookup))
            hours = total * 0.025 / 3600
            print(f"soak: {total:,} events ({hours:.1f} h of the post stream at 40 events/s) through run_stream, "
                  f"profile cache bounded at {options.profile_cache:,}")
            started, next_mark = time.perf_counter(), 0
            while stats.events < total and not task.done():
                await asyncio.sleep(0.1)  # how often the soak reports, not a wait for something
                if stats.events >= next_mark:
                    sizes = _sizes(_the_stream(task))
                    print(f"  {stats.events:>10,} events  {_rss_mb():7.1f} MB resident  {sizes}  "
                          f"{stats.new_posts:>6,} stored  {stats.events / (time.perf_counter() - started):>7,.0f}"
                          " events/s")
                    next_mark += max(total // 10, 1)
            stop.set()
            await task
            print(f"  {stats.events:>10,} events  {_rss_mb():7.1f} MB resident at the end; {stats.line()}")
    finally:
        server.terminate()


def _sizes(stream: Any) -> str:
    """Every structure that could grow over a day: the profile cache, the queue, the filter's sets."""
    if stream is None:
        return ""
    f = stream.filter
    return (f"cache {len(stream.profiles):>5,}  queue {stream.queue.qsize():>4,}  "
            f"roots {len(f.roots) + len(f.candidates) + len(f.dead):>4,}  dids {len(f.dids | f.fresh | f.older):>6,}")


def _the_stream(task: asyncio.Task) -> Any:
    """The _Stream behind a running run_stream task, for the size figures."""
    frame = getattr(task.get_coro(), "cr_frame", None)
    return frame.f_locals.get("stream") if frame is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per mix for the rates")
    parser.add_argument("--soak", type=int, default=300_000, help="events for the memory soak (0: skip)")
    parser.add_argument("--quick", action="store_true", help="10x fewer events for both (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.soak = args.events // 10, args.soak // 10
    rates(args.events)
    if args.soak:
        asyncio.run(_soak(args.soak))


if __name__ == "__main__":
    main()
