"""Live Bluesky through Jetstream: filtering, consent, the durable cursor, restarts, and `peerdesk run`.

A local Jetstream (tests/fakes/jetstream.py) replays tests/data/jetstream/events.jsonl
over a real WebSocket; the fake Bluesky serves getProfiles. The first sample posts
(before CUT) are seeded as an earlier polling run would have stored them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors.bluesky.jetstream import filter as jetstream_filter
from collectors.bluesky.jetstream import stream as jetstream
from collectors.bluesky.jetstream.stream import ConnectOptions, MalformedEvent, StreamFilter
from collectors.bluesky.parse import parse_post_view, parse_time
from collectors.records import VIA_TAG, VIA_THREAD, Account, Page
from pipeline.collection.service import run_service
from pipeline.collection.stream.commit import CURSOR_KEY
from pipeline.collection.stream.profiles import ProfileCache
from pipeline.collection.stream.run import StreamOptions
from pipeline.core import store
from pipeline.core.ingest import store_page
from pipeline.core.settings import BlueskySettings, MastodonSettings, Settings
from tests.fakes.bluesky import FakeBluesky, load_sample
from tests.fakes.jetstream import DATA, FakeJetstream, event_times, load_frames, to_v2
from tests.support import ended, stream_until, wait_until, wait_until_async

ROOT = Path(__file__).resolve().parents[1]
FRAMES = load_frames()
TIMES = event_times(FRAMES)
CUT = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)
EXTRA_PROFILES = json.loads((DATA / "profiles.json").read_text(encoding="utf-8"))["profiles"]
FORM_Q = "at://did:plc:qtlajxu7frylmjh3hyqmtpxz/app.bsky.feed.post/3mzx3wczi2224"
TOM = "did:plc:kgb6rahsxnvi3m36ckvjgnet"
DREW = "did:plc:drewprattleaves5x2kq7mza"
FAST = StreamOptions(since=START, clock=lambda: CUT, batch_seconds=0.05, cursor_every=0.1, refresh_every=0.2,
                     gap_warning=90 * 86400,
                     connect=ConnectOptions(backoff_start=0.01, backoff_max=0.05, idle_timeout=10))
CLI = ("from pipeline.cli.commands import cli; from pipeline.cli.stream import run, stream; "
       "[cli.add_command(c) for c in (run, stream) if c.name not in cli.commands]; cli(prog_name='peerdesk')")


def _bluesky() -> FakeBluesky:
    state = load_sample()
    for profile in EXTRA_PROFILES:
        state.profiles[profile["did"]] = profile
    return FakeBluesky(state)


def _settings(tmp_path: Path, fake: FakeBluesky, name: str = "db", **kw: object) -> Settings:
    return Settings(db_path=tmp_path / f"{name}.duckdb", state_dir=tmp_path / "state", tags=("sololibrarians",),
                    timeout=5.0, max_retries=1, mastodon=MastodonSettings(instances=()),
                    bluesky=BlueskySettings(service=fake.url, appview=fake.url, **kw))  # type: ignore[arg-type]


def _seed(db: Path) -> None:
    """What a polling run stored before the stream started: the sample's tagged posts before CUT."""
    profiles = {p["did"]: p for p in load_sample().profiles.values()}
    posts = []
    for view in load_sample().posts:
        created = parse_time(view["record"]["createdAt"])
        if created is not None and created < CUT:
            post = parse_post_view(view, VIA_TAG)
            posts.append(replace(post, author=jetstream.account_from_profile(profiles[post.author.key])))
    with store.writing(db) as con:
        store_page(con, Page(posts=posts))


def _rows(db: Path) -> dict[str, list]:
    """Everything stored, without the clock-dependent columns."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "posts": con.execute(
                "SELECT uri, platform, url, author, created_at, edited_at, text, lang, tags, reply_to, reply_root,"
                " quote_of, via, is_request, deleted_at IS NOT NULL FROM post_store ORDER BY uri").fetchall(),
            "accounts": con.execute(
                "SELECT account, handle, display_name, bot, labels FROM account_store ORDER BY 1").fetchall(),
            "sightings": con.execute("SELECT source, local_id, uri FROM sightings ORDER BY 1, 2").fetchall(),
            "cursors": con.execute("SELECT cursor_key, position FROM cursors ORDER BY 1").fetchall(),
            "opt_outs": con.execute("SELECT account, reason FROM opt_outs ORDER BY 1").fetchall(),
        }
    finally:
        con.close()


def _without_raw(posts: list[tuple]) -> list[tuple]:
    return [row[:13] + row[14:] for row in posts]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """The rows of one uninterrupted run over the whole log."""
    tmp = tmp_path_factory.mktemp("reference")
    with _bluesky() as fake, FakeJetstream(FRAMES) as js:
        settings = _settings(tmp, fake)
        _seed(settings.db_path)
        stream_until(settings, replace(FAST, endpoint=js.url), TIMES[-1])
    return _rows(settings.db_path)


# ---------------------------------------------------------------- decoding


def _filter(*roots: str, dids: tuple[str, ...] = ()) -> StreamFilter:
    f = StreamFilter.for_tags(["SoloLibrarians"], lambda text, lang: "?" in text)
    f.roots |= set(roots)
    f.dids |= set(dids)
    return f


def _find(predicate: object) -> str:
    return next(f for f in FRAMES if predicate(f))  # type: ignore[operator]


def test_tagged_posts_are_kept_whether_the_tag_is_a_facet_the_tags_array_or_plain_text() -> None:
    f = _filter()
    facet = _find(lambda t: 'facet#tag","tag":"sololibrarians"' in t and "Recommendations" in t)
    array = _find(lambda t: '"tags":["SoloLibrarians"]' in t)
    text_only = _find(lambda t: "reading list for new hires" in t)
    for frame in (facet, array, text_only):
        when, event = f.decode(frame)
        assert event is not None and event.kind == "post" and event.via == VIA_TAG
        assert when == json.loads(frame)["time_us"]
    post = jetstream.build_post(f.decode(text_only)[1], Account("did:x", "bluesky", "tom.example"))
    assert post.tags == ("sololibrarians",) and post.url.startswith("https://bsky.app/profile/tom.example/post/")


@pytest.mark.parametrize(("text", "facets", "tags"), [
    ("Welcome to all the #librarians-in-training!", ["librarians-in-training"], ("librarians-in-training",)),
    ("Welcome to all the #librarians-in-training!", None, ("librarians-in-training",)),
    ("See #librarians.com, #librarian's corner and #1", None, ("librarians.com", "librarian's")),
    ("Ask the #SoloLibrarians, please!", None, ("sololibrarians",)),
])
def test_text_hashtags_are_read_as_bluesky_clients_make_them(text: str, facets: list[str] | None,
                                                             tags: tuple[str, ...]) -> None:
    record: dict = {"text": text}
    if facets:
        record["facets"] = [{"index": {"byteStart": 0, "byteEnd": 1},
                             "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t} for t in facets]}]
    assert jetstream.post_tags(record) == tags
    watched = StreamFilter.for_tags(["librarians"], lambda text, lang: False)
    assert ("librarians" in tags) == bool(watched.tags.intersection(jetstream.post_tags(record)))


def test_untagged_posts_are_dropped_from_the_text_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    f = _filter()
    plain = _find(lambda t: "Lunch was great today" in t)
    expected = json.loads(plain)["time_us"]
    monkeypatch.setattr(jetstream_filter.json_decode, "loads",
                        lambda *_: pytest.fail("decoded a frame that cannot matter"))
    assert f.decode(plain) == (expected, None)


def test_near_misses_replies_elsewhere_likes_and_strangers_events_are_dropped() -> None:
    f = _filter()
    for frame in (_find(lambda t: "#librarianship" in t), _find(lambda t: "Totally agree" in t),
                  _find(lambda t: "app.bsky.feed.like" in t), _find(lambda t: '"operation":"delete"' in t),
                  _find(lambda t: '"kind":"identity"' in t), _find(lambda t: '"kind":"account"' in t)):
        when, event = f.decode(frame)
        assert when is not None and event is None, frame[:120]


def test_replies_follow_known_roots_and_deleted_roots_stop_being_followed() -> None:
    reply = _find(lambda t: "We added a 'who is the client' field" in t)
    assert _filter().decode(reply)[1] is None
    f = _filter(FORM_Q, dids=("did:plc:qtlajxu7frylmjh3hyqmtpxz",))
    event = f.decode(reply)[1]
    assert event is not None and event.via == VIA_THREAD
    delete = json.dumps({"did": "did:plc:qtlajxu7frylmjh3hyqmtpxz", "time_us": 1, "kind": "commit",
                         "commit": {"rev": "x", "operation": "delete", "collection": "app.bsky.feed.post",
                                    "rkey": "3mzx3wczi2224"}}, separators=(",", ":"))
    assert f.decode(delete)[1].kind == "delete"  # type: ignore[union-attr]
    assert f.decode(reply)[1] is None
    f.set_known({FORM_Q}, set())  # the database has not stored the deletion yet: it stays buried
    assert f.decode(reply)[1] is None


def test_a_tagged_request_becomes_a_root_as_soon_as_it_is_decoded() -> None:
    f = _filter()
    question = _find(lambda t: "free tool to weed a 5,000-item collection" in t)
    answer = _find(lambda t: "spreadsheet and a lot of patience" in t)
    assert f.decode(question)[1] is not None
    assert f.decode(answer)[1].via == VIA_THREAD  # type: ignore[union-attr]


def test_deletions_identity_and_account_events_of_known_accounts() -> None:
    f = _filter(dids=(TOM, DREW, "did:plc:qtlajxu7frylmjh3hyqmtpxz"))
    delete = f.decode(_find(lambda t: '"operation":"delete"' in t and "qtlajxu7" in t))[1]
    identity = f.decode(_find(lambda t: '"handle":"tom.becker.law"' in t))[1]
    gone = f.decode(_find(lambda t: '"status":"deactivated"' in t))[1]
    back = f.decode(_find(lambda t: '"kind":"account"' in t and '"active":true' in t))[1]
    assert delete.kind == "delete" and delete.uri.startswith("at://did:plc:qtlajxu7")  # type: ignore[union-attr]
    assert identity.kind == "identity" and identity.handle == "tom.becker.law"  # type: ignore[union-attr]
    assert jetstream.account_gone(gone) and not jetstream.account_gone(back)  # type: ignore[arg-type]


@pytest.mark.parametrize("frame", ["this is not json", "[1, 2, 3]", '{"time_us": 5, "kind": "commit"}',
                                   '{"did": "did:plc:x", "time_us": "soon", "kind": "commit"}',
                                   '{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"rev"',
                                   '{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"collection":'
                                   '"app.bsky.feed.post","operation":"create","rkey":"a","record":"#sololibrarians"}}'])
def test_malformed_frames_raise_one_line_errors(frame: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        _filter().decode(frame)
    assert "\n" not in str(caught.value)


def test_the_xrpc_wire_decodes_to_the_same_events() -> None:
    from tests.fakes.jetstream import Frame

    f1, f2 = _filter(FORM_Q, dids=(TOM,)), _filter(FORM_Q, dids=(TOM,))
    for seq, text in enumerate(FRAMES, 1):
        try:
            one = f1.decode(text)
        except MalformedEvent:
            continue
        event = json.loads(text)
        two = f2.decode(to_v2(Frame(text, event["time_us"], event, seq)))
        assert two[0] == one[0]
        assert two[1] == one[1]


def test_subscribe_urls_for_both_wires() -> None:
    assert jetstream.subscribe_url(jetstream.DEFAULT_ENDPOINT, 1_700_000_000_000_000) == (
        "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post"
        "&cursor=1700000000000000")
    assert jetstream.subscribe_url("wss://jetstream.us-east.bsky.network/xrpc", None) == (
        "wss://jetstream.us-east.bsky.network/xrpc/network.bsky.jetstream.subscribeEvents"
        "?collections=app.bsky.feed.post")
    with pytest.raises(jetstream.JetstreamRefused):
        jetstream.wire_of("https://example.org/subscribe")


# ---------------------------------------------------------------- profiles


def test_profile_cache_is_bounded_expires_and_batches() -> None:
    calls: list[list[str]] = []
    now = [0.0]

    def lookup(dids: list[str]) -> dict[str, Account | None]:
        calls.append(list(dids))
        return {d: (Account(d, "bluesky", d + ".example") if d != "did:gone" else None) for d in dids}

    cache = ProfileCache(lookup, size=3, ttl=100, missing_ttl=10, clock=lambda: now[0])
    found = asyncio.run(cache.accounts(["did:a", "did:b", "did:gone", "did:a"]))
    assert calls == [["did:a", "did:b", "did:gone"]] and found["did:gone"] is None
    asyncio.run(cache.accounts(["did:a", "did:b"]))
    assert len(calls) == 1
    asyncio.run(cache.accounts(["did:c", "did:d"]))
    assert len(cache) == 3
    now[0] = 50.0
    asyncio.run(cache.accounts(["did:gone"]))
    assert calls[-1] == ["did:gone"]  # a missing account is asked about again sooner


def test_profile_lookups_go_25_at_a_time() -> None:
    with _bluesky() as fake:
        from pipeline.collection.stream.profiles import appview_lookup

        dids = [p["did"] for p in load_sample().profiles.values()] * 3
        with appview_lookup(_settings(Path("/nonexistent"), fake)) as lookup:
            found = lookup(list(dict.fromkeys(dids)) + [f"did:plc:nobody{i:02d}" for i in range(20)])
        sizes = [len(r.params["actors"]) for r in fake.calls("app.bsky.actor.getProfiles")]
    assert sizes == [25, 5]
    assert found["did:plc:nobody00"] is None and found[TOM].bio.startswith("Law librarian")  # type: ignore[union-attr]


# ---------------------------------------------------------------- the stream end to end


def test_the_stream_stores_the_community_with_consent(reference: dict[str, list]) -> None:
    posts = {row[0]: row for row in reference["posts"]}
    texts = " | ".join(str(row[6]) for row in posts.values())
    authors = {row[3] for row in posts.values()}
    assert "reading list for new hires" in texts and "taxonomy workshop slides" in texts  # text tag, tags array
    assert "Our ILL request form is live" in texts and "Our ILL form is live #" not in texts  # the edit won
    assert not {"Lunch was great", "#librarianship", "Totally agree", "Same here, happy to compare"} & set(
        texts.split(" | "))
    assert "Same here, happy to compare notes" not in texts  # a reply under an opted-out author's request
    assert "did:plc:l6omvbmxdbw65woljo2yfy2h" not in authors  # #nobot in the bio
    assert "did:plc:6u2otl4zndgdxyfah72d2ncx" not in authors  # !no-unauthenticated
    assert DREW not in authors and DREW not in {a[0] for a in reference["accounts"]}  # deactivated: purged
    draft = next(row for row in posts.values() if row[6] is None)
    assert draft[-1] is True  # deleted: the row stays, its text is gone
    answer = next(row for row in posts.values() if "who is the client" in str(row[6]))
    assert answer[12] == VIA_THREAD and answer[10] == FORM_Q  # a reply to a help request stored before
    assert reference["cursors"] == [(CURSOR_KEY, str(TIMES[-1]))]
    assert ("did:plc:l6omvbmxdbw65woljo2yfy2h", "#nobot") in reference["opt_outs"]


def test_the_fake_was_asked_for_posts_from_the_cursor_and_profiles_in_batches(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.collection import bluesky_source

    connected, opened = [], bluesky_source.connect

    @contextlib.contextmanager
    def connect(*args: Any, **kw: Any) -> Iterator[Any]:  # the one place settings become a Bluesky client
        with opened(*args, **kw) as conn:
            connected.append(("open", kw.get("credentials")))
            yield conn
        connected.append(("closed", conn.pds))

    monkeypatch.setattr(bluesky_source, "connect", connect)
    with _bluesky() as fake, FakeJetstream(FRAMES, pace=0.003) as js:
        settings = _settings(tmp_path, fake)
        stats = stream_until(settings, replace(FAST, endpoint=js.url), TIMES[-1])
        profile_calls = fake.calls("app.bsky.actor.getProfiles")
    assert connected == [("open", (None, None)), ("closed", None)]  # anonymous, and closed with the stream
    path, query = js.connections[0]
    assert path == "/subscribe" and query == {"wantedCollections": ["app.bsky.feed.post"],
                                              "cursor": [str(jetstream.to_micros(START) - 5_000_000)]}
    assert all(len(r.params["actors"]) <= 25 for r in profile_calls)
    assert sum(TOM in r.params["actors"] for r in profile_calls) >= 2  # again after the identity event
    assert stats.malformed == 6


def test_cut_connections_end_with_the_rows_of_an_uninterrupted_run(tmp_path: Path, reference: dict) -> None:
    with _bluesky() as fake, FakeJetstream(FRAMES, pace=0.002) as js:  # paced: other batches than the reference
        js.drops = [20, 35, 1, 50, 7]
        settings = _settings(tmp_path, fake)
        _seed(settings.db_path)
        stats = stream_until(settings, replace(FAST, endpoint=js.url), TIMES[-1])
    assert len(js.connections) == 6 and stats.reconnects == 5
    assert all("cursor" in query for _, query in js.connections)
    assert _rows(settings.db_path) == reference


def test_a_restart_resumes_a_few_seconds_before_the_saved_cursor(tmp_path: Path, reference: dict) -> None:
    half = FRAMES[:110]
    with _bluesky() as fake, FakeJetstream(half) as js:
        settings = _settings(tmp_path, fake)
        _seed(settings.db_path)
        first = stream_until(settings, replace(FAST, endpoint=js.url), until=event_times(half)[-1])
        js.publish(FRAMES[110:])  # what happened while it was down
        stream_until(settings, replace(FAST, endpoint=js.url, since=None), TIMES[-1])
    assert first.cursor == event_times(half)[-1]
    assert js.connections[1][1]["cursor"] == [str(first.cursor - 5_000_000)]
    assert _rows(settings.db_path) == reference


def test_the_xrpc_wire_stores_the_same_rows(tmp_path: Path, reference: dict) -> None:
    with _bluesky() as fake, FakeJetstream(FRAMES) as js:
        js.drops = [40]
        settings = _settings(tmp_path, fake)
        _seed(settings.db_path)
        stream_until(settings, replace(FAST, endpoint=js.url_v2), TIMES[-1])
    assert js.connections[0][0] == "/xrpc/network.bsky.jetstream.subscribeEvents"
    assert js.connections[0][1]["collections"] == ["app.bsky.feed.post"]
    got = _rows(settings.db_path)
    assert _without_raw(got.pop("posts")) == _without_raw(reference["posts"])  # raw keeps each wire's own frame
    assert got == {k: v for k, v in reference.items() if k != "posts"}


@pytest.mark.parametrize("wire", ["v1", "v2"])
def test_a_cursor_older_than_jetstream_keeps_warns_once_and_resumes_from_the_oldest(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, wire: str) -> None:
    oldest = TIMES[60]
    with _bluesky() as fake, FakeJetstream(FRAMES, oldest_us=oldest) as js:
        js.drops = [10]
        settings = _settings(tmp_path, fake)
        with caplog.at_level(logging.WARNING, logger="pipeline.collection.stream.run"):
            stream_until(settings, replace(FAST, endpoint=js.url if wire == "v1" else js.url_v2, gap_warning=3600),
                         TIMES[-1])
    warnings = [r for r in caplog.records if "older than Jetstream keeps" in r.getMessage()]
    assert len(warnings) == 1
    first = min(row[4] for row in _rows(settings.db_path)["posts"])
    assert first >= jetstream.from_micros(oldest) - timedelta(days=1)


def test_one_writer_serves_the_cycle_and_the_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`peerdesk run`: polling cycles and the stream in one process; their commits never overlap."""
    from pipeline.collection import cycle as collect
    from pipeline.collection.stream import commit as stream_commit

    active, most = [0], [0]
    guard = threading.Lock()

    def counted(real):  # noqa: ANN001, ANN202
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            with guard:
                active[0] += 1
                most[0] = max(most[0], active[0])
            try:
                time.sleep(0.01)  # the behaviour under test: a commit that takes a while, so an overlap would show
                return real(*args, **kwargs)
            finally:
                with guard:
                    active[0] -= 1
        return wrapper

    monkeypatch.setattr(collect, "store_pages_in_transaction", counted(collect.store_pages_in_transaction))
    monkeypatch.setattr(stream_commit, "store_pages_in_transaction", counted(stream_commit.store_pages_in_transaction))
    lines: list[str] = []
    with _bluesky() as fake, FakeJetstream(FRAMES, pace=0.002) as js:
        list_uri = next(iter(load_sample().list_feeds))
        settings = _settings(tmp_path, fake, lists=(list_uri,))

        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(run_service(settings, replace(FAST, endpoint=js.url), timedelta(seconds=0.3),
                                                   stop, lines.append))
            await wait_until_async(lambda: len(lines) >= 2 and js.caught_up, 20, "two cycles and the live tail",
                                   unless=task.done)
            stop.set()
            await task

        asyncio.run(main())
    assert most[0] == 1
    assert all(line.startswith("cycle: ") and "; jetstream: " in line for line in lines)
    assert "1 sources ok" in lines[0] or "2 sources ok" in lines[0]
    rows = _rows(settings.db_path)
    vias = {row[12] for row in rows["posts"]}
    assert {"list", "tag", "thread"} <= vias


# ---------------------------------------------------------------- as a process


def _config(tmp: Path, name: str, fake: FakeBluesky, extra: str = "") -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f"[database]\npath = '{name}.duckdb'\n[community]\ntags = ['sololibrarians']\n[mastodon]\ninstances = []\n"
        f"[bluesky]\nservice = '{fake.url}'\nappview = '{fake.url}'\n{extra}[collect]\ntimeout = 5\n",
        encoding="utf-8")
    return path


def _peerdesk(config: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERDESK_")}
    env["PEERDESK_NOW"] = CUT.isoformat()  # the events' day, whatever today's date
    return subprocess.Popen([sys.executable, "-c", CLI, "--config", str(config), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _terminate(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    return code, proc.stderr.read() if proc.stderr else ""


def test_kill_9_during_a_batch_then_a_restart_loses_and_duplicates_nothing(tmp_path: Path, reference: dict) -> None:
    with _bluesky() as fake, FakeJetstream(FRAMES, pace=0.01) as js:
        config = _config(tmp_path, "killed", fake)
        _seed(tmp_path / "killed.duckdb")
        args = ("stream", "--endpoint", js.url, "--since", START.isoformat())
        proc = _peerdesk(config, *args)
        # The batcher looks a batch's authors up, then commits it, then does the next: a second
        # lookup means the first batch is committed and the second is on its way to the database.
        wait_until(lambda: len(fake.calls("app.bsky.actor.getProfiles")) >= 2, 30, "a second batch", unless=ended(proc))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        js.pace, before = 0.0, js.caught_up
        proc = _peerdesk(config, *args)
        wait_until(lambda: len(js.connections) == 2 and js.caught_up > before, 30, "the live tail again",
                   unless=ended(proc))
        # Not a wait for a condition: SIGTERM within a moment of catching up leaves `peerdesk stream` hanging (seen
        # with js.delivered() here; reported, not fixed in this change), so the last batch is let commit first.
        time.sleep(0.5)
        code, err = _terminate(proc)
        out = proc.stdout.read() if proc.stdout else ""
    assert code == 0, err
    assert "stopped" in err and out.startswith("jetstream: ")
    assert int(js.connections[1][1]["cursor"][0]) > jetstream.to_micros(START)  # resumed from the saved cursor
    assert _rows(tmp_path / "killed.duckdb") == reference


def test_sigterm_stops_run_cleanly_after_a_cycle(tmp_path: Path) -> None:
    with _bluesky() as fake, FakeJetstream(FRAMES) as js:
        list_uri = next(iter(load_sample().list_feeds))
        config = _config(tmp_path, "service", fake, extra=f"lists = ['{list_uri}']\n")
        proc = _peerdesk(config, "run", "--every", "1m", "--endpoint", js.url, "--since", START.isoformat())
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
        reader.start()
        wait_until(lambda: lines and js.caught_up >= 1, 30, "a cycle and the live tail", unless=ended(proc))
        js.delivered()
        code, err = _terminate(proc)
        reader.join(5)
    assert code == 0, err
    assert len(lines) == 1 and re.match(r"cycle: [12] sources ok, 0 failed, \d+ new posts", lines[0]), lines
    assert "stopped" in err
    cursor = dict(_rows(tmp_path / "service.duckdb")["cursors"])[CURSOR_KEY]
    assert int(cursor) == TIMES[-1]  # the batch in hand was committed on SIGTERM


def _untagged_edit(frame: str, seconds_later: float) -> str:
    """The same post edited so that it no longer carries the watched tag (an ``update`` commit)."""
    event = json.loads(frame)
    event["time_us"] += int(seconds_later * 1_000_000)
    commit = event["commit"]
    commit["operation"], commit["cid"] = "update", "bafyreiedited"
    record = commit["record"]
    record["text"] = "A reading list for new hires, if anyone wants one."
    record.pop("facets", None)
    record.pop("tags", None)
    return json.dumps(event, separators=(",", ":"))


@pytest.mark.parametrize("pace", [0.0, 0.3])  # the edit in the same batch as the post, and in a later one
def test_an_edit_that_takes_the_tag_away_takes_the_post_out_of_the_store(tmp_path: Path, pace: float) -> None:
    created = _find(lambda t: "reading list for new hires" in t)
    uri = "at://{did}/app.bsky.feed.post/{rkey}".format(did=json.loads(created)["did"],
                                                        rkey=json.loads(created)["commit"]["rkey"])
    edited = _untagged_edit(created, 1)
    assert _filter(dids=(json.loads(created)["did"],)).decode(edited)[1].kind == "leave"  # type: ignore[union-attr]
    with _bluesky() as fake, FakeJetstream([created, edited], pace=pace) as js:
        settings = _settings(tmp_path, fake)
        stats = stream_until(settings, replace(FAST, endpoint=js.url, since=START - timedelta(days=30)),
                             until=json.loads(edited)["time_us"])
    rows = _rows(settings.db_path)
    assert uri not in {row[0] for row in rows["posts"]}
    assert uri not in {row[2] for row in rows["sightings"]}
    if pace:
        assert stats.new_posts == 1 and stats.purged == 1


def test_a_lost_cancel_does_not_keep_the_stream_running() -> None:
    """SIGTERM stops the stream even when the reader's one cancel is swallowed (Python 3.11's wait_for can)."""
    from pipeline.collection.stream.run import cancel_until_done

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # lost, as asyncio.wait_for loses a cancel that meets a result
        await asyncio.sleep(3600)

    async def main() -> bool:
        task = asyncio.create_task(stubborn())
        await asyncio.sleep(0)
        await asyncio.wait_for(cancel_until_done(task, every=0.05), 5)
        return task.cancelled()

    assert asyncio.run(main())


def test_a_stream_alone_classifies_with_the_community_s_detector(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``peerdesk stream`` without a cycle beside it installs the model the curator's decisions trained."""
    from pipeline.detector import store as detector_store

    prepared: list[datetime] = []
    real = detector_store.prepare
    monkeypatch.setattr(detector_store, "prepare", lambda con, now: prepared.append(now) or real(con, now))
    with _bluesky() as fake, FakeJetstream(FRAMES) as js:
        settings = _settings(tmp_path, fake)
        _seed(settings.db_path)
        stream_until(settings, replace(FAST, endpoint=js.url), TIMES[0])
    assert prepared == [FAST.clock()]
