"""Syncing the approved follow-list to a Bluesky list (and starter pack) and a Mastodon list, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from collectors.records import BLUESKY, MASTODON, Account, Page, Post
from pipeline.cli.follows import follows as follows_group
from pipeline.core import store
from pipeline.core.ingest import store_page
from pipeline.core.settings import BlueskySettings, MastodonSettings, Settings
from pipeline.followlist import candidates as follows
from pipeline.followlist.sync_bluesky import (
    CURATELIST,
    LIST_KEY,
    LISTITEM,
    PACK_KEY,
    PACK_LIST_KEY,
    REFERENCELIST,
    STARTERPACK,
    bluesky_follow_sync,
    load_state,
)
from pipeline.followlist.sync_mastodon import LIST_KEY as MASTODON_LIST_KEY
from pipeline.followlist.sync_mastodon import mastodon_follow_sync
from tests.fakes.bluesky import DEFAULT_DID, DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky, FakeState, repo_records
from tests.fakes.mastodon import FakeMastodon, graph_of, make_account
from tests.fakes.server import Reply, Request

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WRITES = ("com.atproto.repo.putRecord", "com.atproto.repo.applyWrites", "com.atproto.repo.createRecord",
          "com.atproto.repo.deleteRecord")


def person(name: str) -> Account:
    return Account(key=f"did:plc:{name}", platform=BLUESKY, handle=f"{name}.bsky.social", display_name=name.title())


def settings_for(tmp_path: Path, fake_url: str = "http://127.0.0.1:9", **kw: object) -> Settings:
    return Settings(db_path=tmp_path / "peerdesk.duckdb", state_dir=tmp_path / "state", community="Solo librarians",
                    bluesky=BlueskySettings(service=fake_url, appview=fake_url), max_retries=1, timeout=5, **kw)


def seed(settings: Settings, names: list[str], *, approve: list[str], active: tuple[str, ...] = ()) -> None:
    """Store the accounts (the ``active`` ones with a post, so they rank first) and approve some."""
    posts = [Post(uri=f"at://did:plc:{n}/app.bsky.feed.post/1", platform=BLUESKY, author=person(n),
                  created_at=T0, text="Hello #sololibrarians", tags=("sololibrarians",)) for n in active]
    with store.writing(settings.db_path) as con:
        store_page(con, Page(posts=posts, accounts=[person(n) for n in names]), now=T0)
        follows.decide(con, [f"did:plc:{n}" for n in approve], "approved", when=T0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERDESK_BLUESKY_HANDLE", DEFAULT_HANDLE)
    monkeypatch.setenv("PEERDESK_BLUESKY_APP_PASSWORD", DEFAULT_PASSWORD)
    with FakeBluesky(FakeState()) as server:
        yield server


def writes(fake: FakeBluesky) -> list:
    return [r for r in fake.requests if r.nsid in WRITES]


def items(fake: FakeBluesky, list_uri: str) -> dict[str, dict]:
    return {k: v for k, v in repo_records(fake, DEFAULT_DID, LISTITEM).items() if v["list"] == list_uri}


def sync(settings: Settings, **kw: object):
    sleeps: list[float] = []
    report, _ = bluesky_follow_sync(settings, as_of=T0 + timedelta(days=1), sleep=sleeps.append, **kw)
    return report, sleeps


def state(settings: Settings) -> dict[str, str]:
    with store.reading(settings.db_path) as con:
        return load_state(con)


# ---------------------------------------------------------------- Bluesky


def test_first_sync_creates_the_list_and_one_item_per_approved_account(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve", "ivy"], approve=["dee", "eve"])
    report, _ = sync(settings, apply=True)
    assert report.error is None and report.lines() == [
        "created curate list 'Solo librarians'",
        "added dee.bsky.social (did:plc:dee) to the curate list",
        "added eve.bsky.social (did:plc:eve) to the curate list",
    ]
    uri = state(settings)[LIST_KEY]
    rkey = uri.rsplit("/", 1)[1]
    assert uri == f"at://{DEFAULT_DID}/app.bsky.graph.list/{rkey}" and len(rkey) == 13
    created = "2026-11-21T09:00:00.000Z"
    assert repo_records(fake, DEFAULT_DID, "app.bsky.graph.list") == {rkey: {
        "$type": "app.bsky.graph.list", "purpose": CURATELIST, "name": "Solo librarians",
        "description": "People of the Solo librarians community (#sololibrarians) who help each other, "
                       "chosen by its organiser.",
        "descriptionFacets": [{"index": {"byteStart": 41, "byteEnd": 56},
                               "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "sololibrarians"}]}],
        "createdAt": created}}
    assert sorted(items(fake, uri).values(), key=lambda v: v["subject"]) == [
        {"$type": LISTITEM, "subject": "did:plc:dee", "list": uri, "createdAt": created},
        {"$type": LISTITEM, "subject": "did:plc:eve", "list": uri, "createdAt": created},
    ]
    [put] = fake.calls("com.atproto.repo.putRecord")
    assert put.body["rkey"] == rkey and put.body["repo"] == DEFAULT_DID
    [batch] = fake.calls("com.atproto.repo.applyWrites")
    assert [w["$type"] for w in batch.body["writes"]] == ["com.atproto.repo.applyWrites#create"] * 2
    assert len(fake.calls("com.atproto.server.createSession")) == 1


def test_a_second_run_writes_nothing(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve"], approve=["dee", "eve"])
    sync(settings, apply=True, starter_pack=True)
    before = len(writes(fake))
    report, _ = sync(settings, apply=True, starter_pack=True)
    assert report.changes == [] and report.error is None
    assert len(writes(fake)) == before
    assert report.summary() == "bluesky: already in step, nothing written"
    assert len(fake.calls("com.atproto.server.createSession")) == 1  # the saved session was reused


def test_a_list_records_cursor_that_comes_back_stops_the_sync_before_any_write(tmp_path: Path,
                                                                              fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve", "fay"], approve=["dee", "eve"])
    sync(settings, apply=True)
    with store.writing(settings.db_path) as con:
        follows.decide(con, ["did:plc:fay"], "approved", when=T0)  # a change the sync would write
    before, fake.cursor_loop = len(writes(fake)), True
    report, _ = sync(settings, apply=True)
    assert report.error == "com.atproto.repo.listRecords gave a paging cursor it had given before"
    assert len(writes(fake)) == before
    assert len(fake.calls("com.atproto.repo.listRecords")) == 3


def test_a_dry_run_writes_nothing(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve"], approve=["dee", "eve"])
    report, _ = sync(settings, apply=False, starter_pack=True)
    assert writes(fake) == [] and state(settings) == {}
    assert report.lines() == [
        "would create curate list 'Solo librarians'",
        "would add dee.bsky.social (did:plc:dee) to the curate list",
        "would add eve.bsky.social (did:plc:eve) to the curate list",
        "would create starter pack list 'Solo librarians'",
        "would add dee.bsky.social (did:plc:dee) to the starter pack list",
        "would add eve.bsky.social (did:plc:eve) to the starter pack list",
        "would create starter pack 'Solo librarians'",
    ]
    assert report.summary().endswith("(dry run: nothing written; add --apply to write)")


def test_removals_delete_exactly_the_items_no_longer_approved(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve", "ivy"], approve=["dee", "eve", "ivy"])
    sync(settings, apply=True)
    uri = state(settings)[LIST_KEY]
    other_list = f"at://{DEFAULT_DID}/app.bsky.graph.list/3other0000000"
    mine = repo_records(fake, DEFAULT_DID, LISTITEM)
    mine["3zzzzzzzzzzz2"] = {"$type": LISTITEM, "subject": "did:plc:eve", "list": uri, "createdAt": "x"}  # duplicate
    mine["3zzzzzzzzzzz3"] = {"$type": LISTITEM, "subject": "did:plc:zed", "list": uri, "createdAt": "x"}  # stray
    mine["3zzzzzzzzzzz4"] = {"$type": LISTITEM, "subject": "did:plc:ivy", "list": other_list, "createdAt": "x"}
    ivy_rkey = next(k for k, v in items(fake, uri).items() if v["subject"] == "did:plc:ivy")
    with store.writing(settings.db_path) as con:
        follows.decide(con, ["ivy.bsky.social"], "rejected")
    report, _ = sync(settings, apply=True)
    assert report.lines() == ["removed a duplicate item of eve.bsky.social (did:plc:eve) from the curate list",
                              "removed did:plc:ivy from the curate list", "removed did:plc:zed from the curate list"]
    assert report.summary() == "bluesky: 0 added, 2 removed, 1 duplicate items removed"
    [batch] = fake.calls("com.atproto.repo.applyWrites")[1:]
    deleted = {w["rkey"] for w in batch.body["writes"]}
    assert deleted == {ivy_rkey, "3zzzzzzzzzzz2", "3zzzzzzzzzzz3"}
    assert sorted(v["subject"] for v in items(fake, uri).values()) == ["did:plc:dee", "did:plc:eve"]
    assert "3zzzzzzzzzzz4" in repo_records(fake, DEFAULT_DID, LISTITEM)  # another list is not touched


def test_a_run_that_fails_part_way_is_completed_by_the_next(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    names = [f"m{i:02d}" for i in range(7)]
    seed(settings, names, approve=names)
    fake.pass_next("com.atproto.repo.applyWrites")
    fake.fail_next("com.atproto.repo.applyWrites", status=400)
    report, _ = sync(settings, apply=True, batch=3)
    assert report.error and "applyWrites" in report.error
    assert [c.action for c in report.changes] == ["create", "add", "add", "add"]  # what really landed
    assert report.summary().startswith("bluesky: 3 added, 0 removed before it stopped: ")
    uri = state(settings)[LIST_KEY]
    assert len(items(fake, uri)) == 3  # the first batch landed, the second did not
    report, _ = sync(settings, apply=True, batch=3)
    assert report.error is None and [c.action for c in report.changes] == ["add"] * 4
    assert sorted(v["subject"] for v in items(fake, uri).values()) == [f"did:plc:{n}" for n in names]
    assert sync(settings, apply=True, batch=3)[0].changes == []


def test_a_list_whose_record_never_landed_is_written_at_the_saved_key(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee"], approve=["dee"])
    fake.fail_next("com.atproto.repo.putRecord", status=400)
    report, _ = sync(settings, apply=True)
    assert report.error and repo_records(fake, DEFAULT_DID, "app.bsky.graph.list") == {}
    uri = state(settings)[LIST_KEY]
    report, _ = sync(settings, apply=True)
    assert report.error is None
    assert list(repo_records(fake, DEFAULT_DID, "app.bsky.graph.list")) == [uri.rsplit("/", 1)[1]]
    assert [v["subject"] for v in items(fake, uri).values()] == ["did:plc:dee"]


def test_record_write_rate_limits_are_waited_out(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve"], approve=["dee", "eve"])
    fake.rate_limit_next("com.atproto.repo.applyWrites", reset_in=2)
    report, sleeps = sync(settings, apply=True)
    assert report.error is None and sleeps and 0 < sleeps[0] <= 2
    assert len(fake.calls("com.atproto.repo.applyWrites")) == 2  # refused once, then sent again
    assert len(items(fake, state(settings)[LIST_KEY])) == 2


def test_the_starter_pack_holds_the_150_most_helpful(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    names = [f"m{i:03d}" for i in range(151)] + ["zed"]
    seed(settings, names, approve=names, active=("zed",))
    report, _ = sync(settings, apply=True, starter_pack=True)
    assert report.error is None
    saved = state(settings)
    pack_list, pack = saved[PACK_LIST_KEY], saved[PACK_KEY]
    assert len(items(fake, saved[LIST_KEY])) == 152
    in_pack = {v["subject"] for v in items(fake, pack_list).values()}
    assert len(in_pack) == 150 and "did:plc:zed" in in_pack  # ranked first by activity
    assert {"did:plc:m149", "did:plc:m150"}.isdisjoint(in_pack)
    lists = repo_records(fake, DEFAULT_DID, "app.bsky.graph.list")
    assert lists[pack_list.rsplit("/", 1)[1]]["purpose"] == REFERENCELIST
    [record] = repo_records(fake, DEFAULT_DID, STARTERPACK).values()
    assert record["list"] == pack_list and record["name"] == "Solo librarians"
    assert pack.endswith("/" + next(iter(repo_records(fake, DEFAULT_DID, STARTERPACK))))
    assert max(len(c.body["writes"]) for c in fake.calls("com.atproto.repo.applyWrites")) <= 100


def test_the_command_is_a_dry_run_until_apply(tmp_path: Path, fake: FakeBluesky) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text(f"[database]\npath = 'peerdesk.duckdb'\n[bluesky]\nservice = '{fake.url}'\n"
                      f"appview = '{fake.url}'\n[collect]\nmax_retries = 0\n", encoding="utf-8")
    seed(settings_for(tmp_path), ["dee"], approve=["dee"])
    from pipeline.cli.commands import cli

    root = click.Group(name="peerdesk", params=cli.params, callback=cli.callback, commands={"follows": follows_group})
    dry = CliRunner().invoke(root, ["--config", str(config), "follows", "sync-bluesky"])
    assert dry.exit_code == 0, dry.output
    assert "would add dee.bsky.social (did:plc:dee) to the curate list" in dry.stdout and writes(fake) == []
    done = CliRunner().invoke(root, ["--config", str(config), "follows", "sync-bluesky", "--apply"])
    assert done.exit_code == 0 and "added dee.bsky.social (did:plc:dee)" in done.stdout
    assert "bluesky: 1 added, 0 removed" in done.stdout
    # Without the password the session saved above is used; with neither, the command says what is missing.
    (tmp_path / "data" / "state" / "bluesky-session.json").unlink()
    missing = CliRunner(env={"PEERDESK_BLUESKY_APP_PASSWORD": ""}).invoke(
        root, ["--config", str(config), "follows", "sync-bluesky"])
    assert missing.exit_code == 2 and "PEERDESK_BLUESKY_APP_PASSWORD" in missing.stderr


# ---------------------------------------------------------------- Mastodon


def test_the_mastodon_list_holds_the_approved_accounts_the_organiser_follows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", "organiser-token")
    with FakeMastodon(instance={"domain": "glammr.us", "version": "4.5.0"}, token="organiser-token") as server:
        graph = graph_of(server)
        bea = graph.know(make_account("bea", account_id="2"), followed=True)
        graph.know(make_account("cy", "mastodon.social", account_id="3"), followed=True)
        graph.know(make_account("ana", account_id="1"))  # known, but not followed
        stray = graph.know(make_account("old", account_id="9"), followed=True)
        graph.members[graph.add_list("Solo librarians", "77")["id"]] = [bea["id"], stray["id"]]
        settings = settings_for(tmp_path, mastodon=MastodonSettings(instances=(), home=server.base))
        with store.writing(settings.db_path) as con:
            accounts = [Account(key=k, platform=MASTODON, handle=k, discoverable=True)
                        for k in ("bea@glammr.us", "cy@mastodon.social", "ana@glammr.us", "new@elsewhere.example")]
            store_page(con, Page(accounts=accounts))
            follows.decide(con, [a.key for a in accounts], "approved")

        dry, _ = mastodon_follow_sync(settings, apply=False)
        assert [r.method for r in server.requests if r.method != "GET"] == []
        assert dry.lines() == ["would remove old from the Mastodon list",
                               "would add cy@mastodon.social to the Mastodon list"]

        report, _ = mastodon_follow_sync(settings, apply=True)
        assert report.error is None and graph.members["77"] == ["2", "3"]
        assert report.problems == [
            "cannot add new@elsewhere.example: your instance does not know it yet (search for it there and follow "
            "it, then run this again)",
            "cannot add ana@glammr.us: you do not follow it (a Mastodon list only holds accounts you follow; "
            "follow it, then run this again)",
        ]
        assert state(settings)[MASTODON_LIST_KEY + server.base] == "77"
        writes_before = [r for r in server.requests if r.method != "GET"]
        assert [(r.method, r.path) for r in writes_before] == [
            ("DELETE", "/api/v1/lists/77/accounts"), ("POST", "/api/v1/lists/77/accounts")]
        assert mastodon_follow_sync(settings, apply=True)[0].changes == []
        assert [r for r in server.requests if r.method != "GET"] == writes_before


def test_a_missing_mastodon_list_is_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", "organiser-token")
    with FakeMastodon(instance={"domain": "glammr.us", "version": "4.5.0"}, token="organiser-token") as server:
        graph_of(server).know(make_account("bea", account_id="2"), followed=True)
        settings = settings_for(tmp_path, mastodon=MastodonSettings(instances=(), home=server.base))
        with store.writing(settings.db_path) as con:
            store_page(con, Page(accounts=[Account(key="bea@glammr.us", platform=MASTODON, handle="bea@glammr.us")]))
            follows.decide(con, ["bea@glammr.us"], "approved")
        report, _ = mastodon_follow_sync(settings, apply=True)
        assert report.lines()[0] == "created Mastodon list 'Solo librarians'"
        assert [lst["title"] for lst in graph_of(server).lists.values()] == ["Solo librarians"]
        mastodon_follow_sync(settings, apply=True)
        assert len(graph_of(server).lists) == 1 and list(graph_of(server).members.values()) == [["2"]]


def _approve_bea(server: FakeMastodon, tmp_path: Path) -> Settings:
    graph_of(server).know(make_account("bea", account_id="2"), followed=True)
    graph_of(server).add_list("Solo librarians", "77")
    settings = settings_for(tmp_path, mastodon=MastodonSettings(instances=(), home=server.base))
    with store.writing(settings.db_path) as con:
        store_page(con, Page(accounts=[Account(key="bea@glammr.us", platform=MASTODON, handle="bea@glammr.us")]))
        follows.decide(con, ["bea@glammr.us"], "approved")
    return settings


def test_mastodon_reads_are_retried_but_a_failed_write_waits_for_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", "organiser-token")
    with FakeMastodon(instance={"domain": "glammr.us", "version": "4.5.0"}, token="organiser-token") as server:
        settings = _approve_bea(server, tmp_path)
        route, busy = server.route, []

        def busy_once(request: Request) -> Reply:  # the first write's answer is lost behind a proxy
            if request.method == "POST" and not busy:
                busy.append(request.path)
                return Reply(503, "<html>Service Unavailable</html>")
            return route(request)

        monkeypatch.setattr(server, "route", busy_once)
        server.inject(Reply(502, "Bad gateway"))  # the first read
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)

        report, _ = mastodon_follow_sync(settings, apply=True, sleep=sleep)
        assert report.error is not None and "503 on POST /api/v1/lists/77/accounts" in report.error
        assert report.changes == [] and graph_of(server).members["77"] == []
        assert busy == ["/api/v1/lists/77/accounts"] and len(sleeps) == 1  # only the read was sent again
        report, _ = mastodon_follow_sync(settings, apply=True, sleep=sleep)
        assert report.error is None and graph_of(server).members["77"] == ["2"]


def test_a_refused_mastodon_token_says_which_scopes_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", "revoked-token")
    with FakeMastodon(instance={"domain": "glammr.us", "version": "4.5.0"}, token="organiser-token") as server:
        report, _ = mastodon_follow_sync(_approve_bea(server, tmp_path), apply=True)
    assert report.error is not None and "answered 401" in report.error
    assert "the token needs the scopes read write:lists" in report.error
    assert report.changes == [] and [r.method for r in server.requests] == ["GET"]


def test_a_batch_whose_answer_was_lost_is_not_written_twice(tmp_path: Path, fake: FakeBluesky) -> None:
    settings = settings_for(tmp_path, fake.url)
    seed(settings, ["dee", "eve", "ivy"], approve=["dee", "eve", "ivy"])
    fake.lose_answer_next("com.atproto.repo.applyWrites")  # made on the PDS, but the client hears 502 and retries
    report, _ = sync(settings, apply=True)
    assert report.error is None
    assert [c.action for c in report.changes] == ["create", "add", "add", "add"]
    uri = state(settings)[LIST_KEY]
    assert sorted(v["subject"] for v in items(fake, uri).values()) == ["did:plc:dee", "did:plc:eve", "did:plc:ivy"]
    again, _ = sync(settings, apply=True)
    assert again.summary() == "bluesky: already in step, nothing written"


@pytest.mark.parametrize("community", [
    "Библиотекари-одиночки из маленьких городов и сёл", "Μοναχικοί βιβλιοθηκονόμοι της Ελλάδας",
                                       "📚👩‍💻 Solo librarians of the world, unite! 🌍🏳️‍🌈📚👩‍💻📚"])
def test_names_are_cut_to_the_lexicons_bytes_and_graphemes(tmp_path: Path, fake: FakeBluesky, community: str) -> None:
    from collectors.bluesky.lexicon import LIST_NAME, STARTER_PACK_NAME, fits

    settings = settings_for(tmp_path, fake.url)
    settings = Settings(**{**settings.__dict__, "community": community})
    seed(settings, ["dee"], approve=["dee"])
    report, _ = sync(settings, apply=True, starter_pack=True)
    assert report.error is None
    [curate, pack_list] = repo_records(fake, DEFAULT_DID, "app.bsky.graph.list").values()
    [pack] = repo_records(fake, DEFAULT_DID, STARTERPACK).values()
    for name in (curate["name"], pack_list["name"]):
        assert fits(name, LIST_NAME) and len(name.encode()) <= 64
        assert community.startswith(name.removesuffix("…")) or name == community
    assert fits(pack["name"], STARTER_PACK_NAME)
    text = curate["description"].encode()
    for facet in curate.get("descriptionFacets", []):
        assert text[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode().startswith("#")
