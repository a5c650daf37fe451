"""Publishing the weekly summary to local Mastodon and Bluesky servers: exact requests, idempotence, resumption.

The fakes keep what was posted (``posting_of``, ``repo_records``) and every
request, so each test can say exactly what reached the server, how often, and
with which Idempotency-Key or record key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from atproto_client.models.string_formats import TID_RE
from click.testing import CliRunner

from collectors.bluesky.connection import open_bluesky
from collectors.bluesky.tid import new_tid
from collectors.mastodon.account import Account
from collectors.records import BLUESKY, SourceReport
from pipeline.cli.commands import cli
from pipeline.cli.summary import summary as summary_command
from pipeline.collection import mastodon_source
from pipeline.collection.bluesky_source import collector_settings
from pipeline.core import store
from pipeline.core.settings import BlueskySettings, MastodonSettings, Settings
from pipeline.followlist.curation import mark
from pipeline.summary.compose import MastodonLimits, Summary, compose_summary, parse_week
from pipeline.summary.publish import ThreadReport, idempotency_key, publish_thread, published, saved_plan
from pipeline.summary.publish_bluesky import POST, BlueskyPoster, thread_tid
from pipeline.summary.publish_mastodon import MastodonPoster, instance_limits
from pipeline.summary.render import short_url
from tests.fakes.bluesky import DEFAULT_DID, DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky, repo_records
from tests.fakes.mastodon import FakeMastodon, fail_post, posting_of
from tests.support import SAMPLE_NOW

NOW = SAMPLE_NOW  # the moment the shared demo_db fixture was loaded at
WEEK = parse_week("2026-W47")
TOKEN = "organiser-token"
COMMUNITY = Settings().community


@pytest.fixture()
def mastodon() -> Iterator[FakeMastodon]:
    instance = {"domain": "home.example", "version": "4.5.0",
                "configuration": {"statuses": {"max_characters": 300, "characters_reserved_per_url": 23}}}
    with FakeMastodon(instance=instance, token=TOKEN) as server:
        yield server


@pytest.fixture()
def sky() -> Iterator[FakeBluesky]:
    with FakeBluesky() as fake:
        yield fake


def settings_for(tmp_path: Path, db: Path, mastodon: FakeMastodon | None = None, sky: FakeBluesky | None = None
                 ) -> Settings:
    return Settings(db_path=db, state_dir=tmp_path / "state", max_retries=0, timeout=5.0,
                    mastodon=MastodonSettings(instances=(), home=mastodon.base if mastodon else None),
                    bluesky=BlueskySettings(service=sky.url, appview=sky.url) if sky else BlueskySettings())


LIMITS = MastodonLimits(max_characters=300, characters_reserved_per_url=23, known=True)  # the fake's


def compose(db: Path, settings: Settings | None = None) -> Summary:
    with store.reading(db) as con:
        return compose_summary(con, settings or Settings(), WEEK, as_of=NOW, mastodon_limits=LIMITS)


@pytest.fixture(scope="module")
def composed(demo_db: Path) -> Summary:
    """The sample week's summary: every test that does not change the database posts this one."""
    return compose(demo_db)


def post_mastodon(db: Path, settings: Settings, composed: Summary, retries: int = 0) -> ThreadReport:
    home = mastodon_source.account(dataclasses.replace(settings, max_retries=retries), settings.mastodon.home, TOKEN,
                                   sleep=lambda s: None)
    with MastodonPoster(home, community=COMMUNITY, language="en") as poster:
        return publish_thread(db, composed, poster)


def post_bluesky(db: Path, settings: Settings, composed: Summary) -> ThreadReport:
    report = SourceReport(source=BLUESKY, platform=BLUESKY)
    with open_bluesky(collector_settings(settings, NOW), DEFAULT_HANDLE, DEFAULT_PASSWORD, report,
                      sleep=lambda s: None) as conn:
        return publish_thread(db, composed, BlueskyPoster(conn, community=COMMUNITY, language="en"))


def status_posts(server: FakeMastodon) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path == "/api/v1/statuses"]


def rows(db: Path, platform: str) -> list:
    with store.reading(db) as con:
        return published(con, WEEK.label, platform)


# ---------------------------------------------------------------- Mastodon


def test_mastodon_thread_is_posted_with_exact_requests_and_only_once(db: Path, tmp_path: Path, composed: Summary,
                                                                     mastodon: FakeMastodon) -> None:
    settings = settings_for(tmp_path, db, mastodon)
    assert instance_limits(settings) == (LIMITS, None) and len(composed.mastodon) >= 3
    report = post_mastodon(db, settings, composed)
    assert report.ok and len(report.posted) == len(composed.mastodon)

    statuses = posting_of(mastodon).statuses
    requests = status_posts(mastodon)
    assert len(requests) == len(statuses) == len(composed.mastodon)
    for seq, (request, text) in enumerate(zip(requests, composed.mastodon, strict=True), 1):
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Idempotency-Key"] == idempotency_key(COMMUNITY, WEEK, "mastodon", seq)
        body = {k: v[0] for k, v in parse_qs(request.body.decode(), strict_parsing=True).items()}  # a form
        expected = {"status": text, "visibility": "unlisted", "language": "en", "sensitive": "0"}
        if seq > 1:
            expected["in_reply_to_id"] = statuses[seq - 2]["id"]
        assert body == expected
    assert [(r.seq, r.remote_id, r.url, r.text) for r in rows(db, "mastodon")] == [
        (i, s["id"], s["url"], t) for i, (s, t) in enumerate(zip(statuses, composed.mastodon, strict=True), 1)]

    again = post_mastodon(db, settings, composed)
    assert again.ok and again.posted == [] and again.already == len(composed.mastodon)
    assert len(status_posts(mastodon)) == len(requests)  # the second run sent nothing
    assert "already published" in again.line()


def test_a_failed_mastodon_thread_is_continued_with_the_saved_texts(db: Path, tmp_path: Path, composed: Summary,
                                                                    mastodon: FakeMastodon) -> None:
    settings = settings_for(tmp_path, db, mastodon)
    fail_post(mastodon, call=3, status=503, times=4)  # the third post fails, retries included
    first = post_mastodon(db, settings, composed, retries=3)
    assert not first.ok and len(first.posted) == 2
    assert "FAILED after 2 of" in first.line() and "run again to continue" in first.line()
    assert len(posting_of(mastodon).statuses) == 2
    assert [r.seq for r in rows(db, "mastodon")] == [1, 2]

    # The community moved on: a fresh composition would differ; the thread must not.
    with store.writing(db) as con:
        waiting = con.execute("SELECT uri FROM help_requests_at(?) WHERE status = 'open' ORDER BY created_at",
                              [NOW]).fetchall()[0][0]
        mark(con, waiting, "resolved", when=NOW)
        assert saved_plan(con, WEEK.label, "mastodon") is not None
    fresh = compose(db)
    assert fresh.mastodon != composed.mastodon

    second = post_mastodon(db, settings, fresh)
    assert second.ok and second.already == 2 and len(second.posted) == len(composed.mastodon) - 2
    assert "continued" in second.line()
    statuses = posting_of(mastodon).statuses
    assert [s["text"] for s in statuses] == composed.mastodon
    assert statuses[2]["in_reply_to_id"] == statuses[1]["id"]
    third_post_keys = {r.headers["Idempotency-Key"] for r in status_posts(mastodon)[2:7]}
    assert third_post_keys == {idempotency_key(COMMUNITY, WEEK, "mastodon", 3)}  # every retry, one key


def test_a_lost_answer_is_retried_under_the_same_key_without_a_duplicate(db: Path, tmp_path: Path, composed: Summary,
                                                                        mastodon: FakeMastodon) -> None:
    settings = settings_for(tmp_path, db, mastodon)
    fail_post(mastodon, call=2, status=502, commit=True)  # made, but the answer never arrives
    report = post_mastodon(db, settings, composed, retries=2)
    assert report.ok
    statuses = posting_of(mastodon).statuses
    assert len(statuses) == len(composed.mastodon)  # not one more
    assert len(status_posts(mastodon)) == len(composed.mastodon) + 1
    assert [r.remote_id for r in rows(db, "mastodon")] == [s["id"] for s in statuses]


def test_a_503_on_posting_a_status_is_retried_under_the_same_key_and_makes_one_status(mastodon: FakeMastodon
                                                                                     ) -> None:
    fail_post(mastodon, call=1, status=503, commit=True)  # the status is made, but its answer is a 503
    home = Account(mastodon.base, TOKEN, timeout=5.0, max_retries=2, sleep=lambda s: None)
    status = home.post_status("Hello, colleagues", idempotency_key="week-1", visibility="unlisted")
    assert [s["id"] for s in posting_of(mastodon).statuses] == [status.id]  # one status, not two
    assert [r.headers["Idempotency-Key"] for r in status_posts(mastodon)] == ["week-1", "week-1"]
    assert home.requests == 2 and status.url == posting_of(mastodon).statuses[0]["url"]


def test_a_server_that_counts_links_in_full_gets_the_refused_posts_cut_in_two(db: Path, tmp_path: Path,
                                                                           composed: Summary,
                                                                           mastodon: FakeMastodon) -> None:
    """GoToSocial counts every character of a link while saying 23 are reserved: refused posts are cut and sent."""
    settings = settings_for(tmp_path, db, mastodon)
    posting_of(mastodon).links_in_full = True
    first = post_mastodon(db, settings, composed)
    assert first.ok, first.line()
    statuses = posting_of(mastodon).statuses
    assert len(statuses) > len(composed.mastodon) and first.total == len(statuses)
    total = len(statuses)
    markers = [s["text"].rsplit("\n\n", 1)[1].split("/") for s in statuses]
    assert [int(n) for n, _ in markers] == list(range(1, total + 1))  # posts already out keep their "1/3"
    assert markers[-1][1] == str(total)
    body = " ".join(s["text"].rsplit("\n\n", 1)[0] for s in statuses).split()
    assert body == " ".join(t.rsplit("\n\n", 1)[0] for t in composed.mastodon).split()  # nothing lost, no dupes
    assert all(s["in_reply_to_id"] == statuses[i - 1]["id"] for i, s in enumerate(statuses) if i)
    again = post_mastodon(db, settings, composed)
    assert again.ok and again.posted == [] and len(posting_of(mastodon).statuses) == total


def test_a_refused_token_says_so_in_one_line(db: Path, composed: Summary, mastodon: FakeMastodon) -> None:
    home = mastodon_source.account(Settings(), mastodon.base, "wrong", sleep=lambda s: None)
    with MastodonPoster(home, community=COMMUNITY) as poster:
        report = publish_thread(db, composed, poster)
    assert not report.ok and "refused the token (401)" in report.error and "wrong" not in report.line()
    assert rows(db, "mastodon") == []


# ---------------------------------------------------------------- Bluesky


def _records(sky: FakeBluesky) -> dict[str, dict]:
    return repo_records(sky, DEFAULT_DID, POST)


def test_bluesky_thread_is_posted_with_replies_facets_and_fixed_record_keys(db: Path, tmp_path: Path,
                                                                            composed: Summary, sky: FakeBluesky
                                                                            ) -> None:
    settings = settings_for(tmp_path, db, sky=sky)
    report = post_bluesky(db, settings, composed)
    assert report.ok and len(report.posted) == len(composed.bluesky) == 3

    assert [r.nsid for r in sky.requests] == ["com.atproto.server.createSession", "com.atproto.server.getSession",
                                             *["com.atproto.repo.createRecord"] * 3]
    keys = [thread_tid(WEEK, seq, COMMUNITY) for seq in (1, 2, 3)]
    assert sorted(_records(sky)) == sorted(keys)
    posted = rows(db, "bluesky")
    for seq, (row, planned) in enumerate(zip(posted, composed.bluesky, strict=True), 1):
        request = sky.calls("com.atproto.repo.createRecord")[seq - 1].body
        assert (request["repo"], request["collection"], request["rkey"]) == (DEFAULT_DID, POST, keys[seq - 1])
        record = _records(sky)[keys[seq - 1]]
        assert record["text"] == planned.text and record["langs"] == ["en"]
        assert record.get("facets", []) == planned.facets
        assert row.uri == f"at://{DEFAULT_DID}/{POST}/{keys[seq - 1]}" and row.idempotency_key == keys[seq - 1]
        assert row.url == f"https://bsky.app/profile/{DEFAULT_HANDLE}/post/{keys[seq - 1]}"
        if seq == 1:
            assert "reply" not in record
        else:
            assert record["reply"] == {"root": {"uri": posted[0].uri, "cid": posted[0].cid},
                                       "parent": {"uri": posted[seq - 2].uri, "cid": posted[seq - 2].cid}}
        data = record["text"].encode("utf-8")
        for facet in record.get("facets", []):  # the bytes each facet covers, in the text as the server has it
            covered = data[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode("utf-8")
            feature = facet["features"][0]
            assert covered == ("#" + feature["tag"] if "tag" in feature else short_url(feature["uri"]))

    before = len(sky.requests)
    again = post_bluesky(db, settings, composed)
    assert again.ok and again.posted == [] and len(_records(sky)) == 3
    assert not sky.calls("com.atproto.repo.createRecord")[3:]
    assert len(sky.requests) - before <= 2  # a login at most; no write


def test_a_failed_bluesky_thread_is_continued_from_the_third_post(db: Path, tmp_path: Path, composed: Summary,
                                                                   sky: FakeBluesky) -> None:
    settings = settings_for(tmp_path, db, sky=sky)
    sky.pass_next("com.atproto.repo.createRecord", times=2)
    sky.fail_next("com.atproto.repo.createRecord", status=500)  # max_retries = 0: the third post fails
    first = post_bluesky(db, settings, composed)
    assert not first.ok and len(first.posted) == 2 and len(_records(sky)) == 2

    second = post_bluesky(db, settings, composed)
    assert second.ok and second.already == 2 and len(second.posted) == 1
    posted = rows(db, "bluesky")
    third = _records(sky)[thread_tid(WEEK, 3, COMMUNITY)]
    assert third["reply"] == {"root": {"uri": posted[0].uri, "cid": posted[0].cid},
                              "parent": {"uri": posted[1].uri, "cid": posted[1].cid}}
    assert {c.body["rkey"] for c in sky.calls("com.atproto.repo.createRecord")[2:]} == {
        thread_tid(WEEK, 3, COMMUNITY)}


def test_a_bluesky_post_made_but_not_recorded_is_read_back_not_duplicated(db: Path, tmp_path: Path,
                                                                         composed: Summary, sky: FakeBluesky
                                                                         ) -> None:
    settings = settings_for(tmp_path, db, sky=sky)
    first = {"$type": POST, "text": composed.bluesky[0].text, "createdAt": "2026-11-25T12:00:00.000Z"}
    _records(sky)[thread_tid(WEEK, 1, COMMUNITY)] = first  # an earlier run died before committing
    report = post_bluesky(db, settings, composed)
    assert report.ok and len(_records(sky)) == 3
    assert [c.nsid for c in sky.requests if c.nsid.startswith("com.atproto.repo")] == [
        "com.atproto.repo.createRecord", "com.atproto.repo.getRecord",
        "com.atproto.repo.createRecord", "com.atproto.repo.createRecord"]
    second = _records(sky)[thread_tid(WEEK, 2, COMMUNITY)]
    assert second["reply"]["root"]["uri"] == f"at://{DEFAULT_DID}/{POST}/{thread_tid(WEEK, 1, COMMUNITY)}"


def test_record_keys_are_valid_sortable_tids() -> None:
    keys = [thread_tid(WEEK, seq, COMMUNITY) for seq in (1, 2, 3)]
    assert all(len(k) == 13 and k[0] in "234567abcdefghij" for k in keys)
    assert keys == sorted(keys) and len(set(keys)) == 3
    assert thread_tid(WEEK, 1, "another community") != keys[0]


def test_fresh_record_keys_are_tids_in_time_order() -> None:
    keys = [new_tid(t) for t in (1_700_000_000.0, 1_700_000_000.000001, 1_800_000_000.0)]
    assert all(TID_RE.match(k) for k in keys) and keys == sorted(keys) and len(set(keys)) == 3


# ---------------------------------------------------------------- the command


def _config(tmp_path: Path, db: Path, mastodon: FakeMastodon, sky: FakeBluesky) -> str:
    path = tmp_path / "peerdesk.toml"
    path.write_text(f'[database]\npath = "{db}"\nstate_dir = "{tmp_path / "state"}"\n'
                    f'[collect]\nmax_retries = 0\ntimeout = 5\n'
                    f'[mastodon]\nhome = "{mastodon.base}"\n'
                    f'[bluesky]\nservice = "{sky.url}"\nappview = "{sky.url}"\n', encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True, scope="module")
def _summary_registered() -> Iterator[None]:
    """``peerdesk summary`` as pipeline/cli/commands.py registers it; undone afterwards if this module did it."""
    added = "summary" not in cli.commands
    if added:
        cli.add_command(summary_command)
    yield
    if added:
        cli.commands.pop("summary", None)


def _run(config: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", config, "summary", "--as-of", "2026-11-25T12:00", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", TOKEN)
    monkeypatch.setenv("PEERDESK_BLUESKY_HANDLE", DEFAULT_HANDLE)
    monkeypatch.setenv("PEERDESK_BLUESKY_APP_PASSWORD", DEFAULT_PASSWORD)


def test_the_command_previews_posts_and_posts_nothing_twice(db: Path, tmp_path: Path, mastodon: FakeMastodon,
                                                            sky: FakeBluesky, credentials: None) -> None:
    config = _config(tmp_path, db, mastodon, sky)
    code, out, _ = _run(config)
    assert code == 0 and "=== Mastodon: 3 posts (unlisted on http://127.0.0.1" in out and "=== Bluesky: 3" in out
    assert not status_posts(mastodon) and not sky.calls("com.atproto.repo.createRecord")

    code, out, err = _run(config, "--post", "mastodon,bluesky")
    assert code == 0, err
    assert out.splitlines()[0] == "mastodon: posted 2026-W47, 3 of 3 posts: https://home.example/@organiser/120000000000000001"
    assert out.splitlines()[1].startswith(f"bluesky: posted 2026-W47, 3 of 3 posts: https://bsky.app/profile/"
                                          f"{DEFAULT_HANDLE}/post/")
    requests_before = len(mastodon.requests), len(sky.requests)

    code, out, _ = _run(config, "--post", "mastodon,bluesky")
    assert code == 0
    assert out.splitlines() == ["mastodon: 2026-W47 already published (3 posts)",
                                "bluesky: 2026-W47 already published (3 posts)"]
    assert (len(mastodon.requests), len(sky.requests)) == (requests_before[0] + 1, requests_before[1])  # limits

    code, out, _ = _run(config)
    assert out.count("posted: ") == 6


def test_the_command_continues_a_thread_a_failure_cut(db: Path, tmp_path: Path, mastodon: FakeMastodon,
                                                      sky: FakeBluesky, credentials: None) -> None:
    config = _config(tmp_path, db, mastodon, sky)
    fail_post(mastodon, call=2)
    code, out, err = _run(config, "--post", "mastodon")
    assert code == 1
    assert "mastodon: FAILED after 1 of 3 posts: " in err and "run again to continue the thread" in err
    code, out, _ = _run(config)
    assert "=== Mastodon: 3 posts, 1 already posted" in out
    code, out, err = _run(config, "--post", "mastodon")
    assert code == 0 and out.startswith("mastodon: continued 2026-W47, 3 of 3 posts"), err
    assert len(posting_of(mastodon).statuses) == 3


def test_the_command_refuses_an_unfinished_week_unless_forced(db: Path, tmp_path: Path, mastodon: FakeMastodon,
                                                              sky: FakeBluesky, credentials: None) -> None:
    config = _config(tmp_path, db, mastodon, sky)
    code, _, err = _run(config, "--week", "2026-W48", "--post", "mastodon")
    assert code == 2 and "2026-W48 is not over until 2026-11-30 00:00 UTC" in err and "--force" in err
    assert not status_posts(mastodon)
    code, out, err = _run(config, "--week", "2026-W48", "--post", "mastodon", "--force")
    assert code == 0 and out.startswith("mastodon: posted 2026-W48"), err


def test_the_command_says_what_is_missing_before_posting_anything(db: Path, tmp_path: Path, mastodon: FakeMastodon,
                                                                  sky: FakeBluesky,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, db, mastodon, sky)
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", TOKEN)
    code, _, err = _run(config, "--post", "mastodon,bluesky")
    assert code == 2 and "PEERDESK_BLUESKY_HANDLE" in err
    assert not status_posts(mastodon)
    code, _, err = _run(config, "--post", "twitter")
    assert code == 2 and "mastodon, bluesky or both" in err
    code, _, err = _run(config, "--week", "2026-47")
    assert code == 2 and "not an ISO week" in err
