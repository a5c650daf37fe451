"""A post or account is changed only by its own server (design.md "Trust").

Two fake instances: glammr.us, the origin of Ana's posts and her home (reached
through ``mastodon.origins``), and a hostile instance that serves altered
copies of them. The hostile one may add sightings, never change what the
origin said.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.collection.opt_out_checks import cursor_key
from pipeline.core import store
from pipeline.core.settings import Settings
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once

NOBOT = "<p>Solo librarian. Please no bots #nobot</p>"
DEAD = "http://127.0.0.1:9"  # nothing listens here: a home server that cannot be reached


def _settings(tmp_path: Path, *bases: str, glammr: str, **mastodon: object) -> Settings:
    """Polling ``bases``; glammr.us (Ana's home, her posts' origin) is reached at ``glammr``."""
    settings = mastodon_settings(tmp_path, *bases)
    return dataclasses.replace(settings, mastodon=dataclasses.replace(
        settings.mastodon, origins=(("glammr.us", glammr),), **mastodon))  # type: ignore[arg-type]


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(sql).fetchall()


def _copy(status: dict, local_id: int, **changes: object) -> dict:
    """The hostile instance's copy of a glammr.us status: its own local id, Ana as a remote account."""
    copy = {**status, "id": str(local_id), **changes}
    copy["account"] = {**copy["account"], "acct": "ana@glammr.us", "id": "900"}
    return copy


ORIGINAL = make_status(7, number=7, text="Does anyone know a good ILS for a law library?")


def test_a_copy_with_a_newer_edit_does_not_rewrite_the_origins_post(tmp_path: Path) -> None:
    forged = _copy(ORIGINAL, 500, content="<p>Buy cheap watches #sololibrarians</p>",
                   edited_at="2027-06-01T00:00:00.000Z")
    with FakeMastodon([ORIGINAL]) as origin, FakeMastodon([forged]) as hostile:
        run_once(_settings(tmp_path, origin.base, glammr=origin.base))
        settings = _settings(tmp_path, hostile.base, glammr=origin.base)
        assert run_once(settings)[hostile.base].stored.updated_posts == 0
    assert _rows(settings, "SELECT text, edited_at FROM posts") == [
        ("Does anyone know a good ILS for a law library? #sololibrarians", None)]
    assert _rows(settings, "SELECT count(*) FROM sightings") == [(2,)]  # the copy is still a sighting


def test_the_origins_copy_replaces_a_copy_first_seen_elsewhere_however_it_was_dated(tmp_path: Path) -> None:
    forged = _copy(ORIGINAL, 500, content="<p>Buy cheap watches #sololibrarians</p>",
                   edited_at="2027-06-01T00:00:00.000Z")
    with FakeMastodon([ORIGINAL]) as origin, FakeMastodon([forged]) as hostile:
        settings = _settings(tmp_path, hostile.base, glammr=origin.base)
        assert run_once(settings)[hostile.base].stored.new_posts == 1  # first seen on the copy: stored as seen
        settings = _settings(tmp_path, hostile.base, origin.base, glammr=origin.base)
        assert run_once(settings)[origin.base].stored.updated_posts == 1
        assert run_once(settings)[origin.base].stored.updated_posts == 0  # settled: the origin's copy holds
    assert _rows(settings, "SELECT text, edited_at, from_origin FROM post_store") == [
        ("Does anyone know a good ILS for a law library? #sololibrarians", None, True)]


def test_a_copy_does_not_change_a_stored_profile(tmp_path: Path) -> None:
    shy = make_account("ana", discoverable=False)
    bold = {**shy, "acct": "ana@glammr.us", "discoverable": True, "display_name": "Not Ana"}
    post = make_status(7, number=7, author=shy)
    with FakeMastodon([post]) as origin, FakeMastodon([{**post, "id": "500", "account": bold}]) as hostile:
        run_once(_settings(tmp_path, origin.base, glammr=origin.base))
        settings = _settings(tmp_path, hostile.base, glammr=origin.base)
        run_once(settings)
        run_once(_settings(tmp_path, origin.base, hostile.base, glammr=origin.base))  # together: home wins
    assert _rows(settings, "SELECT display_name, discoverable FROM accounts") == [("Ana", False)]


def test_an_opt_out_on_a_copy_hides_at_once_and_waits_for_the_home_server(tmp_path: Path) -> None:
    opted = _copy(make_status(8, number=8), 501)
    opted["account"]["note"] = NOBOT
    with FakeMastodon([ORIGINAL]) as origin, FakeMastodon([opted]) as hostile:
        run_once(_settings(tmp_path, origin.base, glammr=origin.base))
        asked = len(origin.requests_to("/api/v1/accounts/lookup"))  # her home, asked about noindex once stored
        # Her home cannot be reached: she is hidden at once, but nothing is purged or remembered for good.
        settings = _settings(tmp_path, hostile.base, glammr=DEAD)
        outcomes = run_once(settings)
        assert outcomes[hostile.base].stored.hidden_posts == 1
        assert outcomes[hostile.base].stored.purged_posts == 0
        assert "opt-out of ana@glammr.us not confirmed yet" in outcomes["consent:mastodon"].report.errors[0]
        assert _rows(settings, "SELECT count(*) FROM posts") == [(0,)]
        assert _rows(settings, "SELECT count(*) FROM accounts") == [(0,)]
        assert _rows(settings, "SELECT account, reason, confirmed FROM opt_outs") == [
            ("ana@glammr.us", "#nobot", False)]
        assert _rows(settings, "SELECT count(*) FROM post_store WHERE text IS NOT NULL") == [(1,)]
        run_once(settings)  # still unreachable: still hidden, still pending
        assert _rows(settings, "SELECT confirmed FROM opt_outs") == [(False,)]
        # Her home answers: no opt-out there, so the claim goes and her post comes back.
        settings = _settings(tmp_path, hostile.base, glammr=origin.base)
        run_once(settings)
        lookups = origin.requests_to("/api/v1/accounts/lookup")[asked:]
        assert [r.path for r in lookups] == ["/api/v1/accounts/lookup"]
        assert lookups[0].query == {"acct": ["ana"]}
    assert _rows(settings, "SELECT count(*) FROM opt_outs") == [(0,)]
    assert _rows(settings, "SELECT text FROM posts") == [
        ("Does anyone know a good ILS for a law library? #sololibrarians",)]
    assert _rows(settings, "SELECT account FROM accounts") == [("ana@glammr.us",)]
    assert _rows(settings, f"SELECT count(*) FROM cursors WHERE cursor_key = '{cursor_key('ana@glammr.us')}'") == [
        (1,)]


def test_an_opt_out_the_home_server_confirms_becomes_a_sticky_refusal(tmp_path: Path) -> None:
    opted = _copy(make_status(8, number=8), 501)
    opted["account"]["note"] = NOBOT
    with FakeMastodon([ORIGINAL]) as origin, FakeMastodon([opted]) as hostile:
        run_once(_settings(tmp_path, origin.base, glammr=origin.base))
        origin.profiles = {"ana": make_account("ana", note=NOBOT)}  # she did opt out, at home
        settings = _settings(tmp_path, hostile.base, glammr=origin.base)
        run_once(settings)
    assert _rows(settings, "SELECT account, reason, confirmed FROM opt_outs") == [("ana@glammr.us", "#nobot", True)]
    assert _rows(settings, "SELECT count(*) FROM post_store") == [(0,)]  # purged
    assert _rows(settings, "SELECT count(*) FROM hidden_posts") == [(0,)]


def test_a_claimed_account_domain_is_used_only_when_its_webfinger_points_back(tmp_path: Path) -> None:
    with FakeMastodon([ORIGINAL], instance={"domain": "glammr.us", "version": "4.5.0"}) as origin, \
            FakeMastodon() as hostile:
        here = hostile.base.split("://", 1)[1]
        eve = make_account("eve", here, on=here)
        hostile.instance = {"domain": "glammr.us", "version": "4.5.0", "contact": {"account": eve}}
        hostile.add(make_status(600, author=eve, host=here, text="Is anyone hiring?"))
        origin.profiles = {"eve": make_account("eve")}  # glammr.us has an eve of its own
        settings = _settings(tmp_path, hostile.base, glammr=origin.base)
        run_once(settings)
        [webfinger] = origin.requests_to("/.well-known/webfinger")
        assert webfinger.query == {"resource": ["acct:eve@glammr.us"]}
    assert _rows(settings, "SELECT author FROM posts") == [(f"eve@{here}",)]
    assert _rows(settings, f"SELECT position FROM cursors WHERE cursor_key = 'mastodon:{hostile.base}:domain'") == [
        (here,)]


def test_a_thread_fetched_from_another_instance_neither_deletes_nor_rewrites(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    request = make_status(7, number=7, text="Does anyone know a good ILS?", created_at=_at(t0))
    follow_up = make_status(9, number=9, text="(It must run on Windows.)", tags=(), in_reply_to_id="7",
                            created_at=_at(t0 + timedelta(minutes=5)))
    mirror_request = _copy(request, 700)
    mirror_follow_up = _copy(follow_up, 701, in_reply_to_id="700", content="<p>Buy cheap watches</p>",
                             edited_at="2027-06-01T00:00:00.000Z")
    with FakeMastodon([follow_up, request]) as origin:
        settings = _settings(tmp_path, origin.base, glammr=origin.base)
        run_once(settings, now=t0 + timedelta(minutes=20))  # the request and, through its thread, the follow-up
    assert _rows(settings, "SELECT count(*) FROM posts") == [(2,)]
    with FakeMastodon([mirror_follow_up, mirror_request], deleted=["700"]) as mirror:
        # Her home is down; the mirror says the request is gone: only the origin's word deletes a post.
        settings = _settings(tmp_path, mirror.base, glammr=DEAD, fetch_from_origin=True)
        run_once(settings, now=t0 + timedelta(hours=2))
        assert mirror.requests_to("/api/v1/statuses/700/context")
        assert _rows(settings, "SELECT count(*) FROM posts") == [(2,)]
        mirror.deleted.clear()
        run_once(settings, now=t0 + timedelta(hours=7))  # the mirror's copy of the thread: a sighting, no more
        assert len(mirror.requests_to("/api/v1/statuses/700/context")) == 2
    assert _rows(settings, "SELECT text, edited_at FROM posts ORDER BY created_at") == [
        ("Does anyone know a good ILS? #sololibrarians", None), ("(It must run on Windows.)", None)]
    assert _rows(settings, "SELECT count(*) FROM sightings WHERE local_id = '701'") == [(1,)]


def _at(when: datetime) -> str:
    return when.isoformat().replace("+00:00", ".000Z")


def test_a_claimed_domain_that_cannot_be_asked_is_asked_again_and_not_used_meanwhile(tmp_path: Path) -> None:
    with FakeMastodon() as hostile:
        here = hostile.base.split("://", 1)[1]
        eve = make_account("eve", here, on=here)
        hostile.instance = {"domain": "glammr.us", "version": "4.5.0", "contact": {"account": eve}}
        hostile.add(make_status(600, author=eve, host=here, text="Is anyone hiring?"))
        settings = _settings(tmp_path, hostile.base, glammr=DEAD)
        run_once(settings)
        assert _rows(settings, "SELECT count(*) FROM cursors WHERE cursor_key LIKE '%:domain'") == [(0,)]
        run_once(settings)  # its tag cursor is saved, but the domain is still open: the document is read again
        assert len(hostile.requests_to("/api/v2/instance")) == 2
    assert _rows(settings, "SELECT author FROM posts") == [(f"eve@{here}",)]


def test_a_servers_own_post_credited_to_another_servers_user_is_not_stored(tmp_path: Path) -> None:
    with FakeMastodon() as hostile:
        here = hostile.base.split("://", 1)[1]
        mallory = make_account("mallory", here, on=here)
        own = make_status(600, author=mallory, host=here, text="Is anyone hiring?")
        impostor = {**own, "id": "601", "uri": own["uri"].replace("600", "601"),
                    "account": {**mallory, "acct": "ana@glammr.us"}}  # its own post, "by" glammr.us's Ana
        hostile.add(own, impostor)
        settings = _settings(tmp_path, hostile.base, glammr=DEAD)
        assert run_once(settings)[hostile.base].stored.skipped_untrusted == 1
    assert _rows(settings, "SELECT author FROM posts") == [(f"mallory@{here}",)]


def test_the_home_servers_profile_in_the_same_batch_outweighs_a_copys_opt_out(tmp_path: Path) -> None:
    from collectors.records import MASTODON, Account, Page, Post, Sighting
    from pipeline.core.ingest import store_pages_in_transaction

    ana = Account(key="ana@glammr.us", platform=MASTODON, handle="ana@glammr.us", bio="Solo librarian.")
    post = Post(uri="https://glammr.us/users/ana/statuses/1", platform=MASTODON, author=ana,
                created_at=datetime(2026, 11, 20, tzinfo=UTC), text="Does anyone know a good ILS?",
                sighting=Sighting("https://glammr.us", "1"))
    copy = dataclasses.replace(ana, bio="#nobot")
    con = store.connect(tmp_path / "d.duckdb")
    with store.transaction(con):
        [claim, home] = store_pages_in_transaction(con, [
            Page(accounts=[copy], speaks_for=frozenset({"evil.example"})),
            Page(posts=[post], speaks_for=frozenset({"glammr.us"}))])
    assert home.new_posts == 1 and claim.hidden_posts == 0
    assert con.execute("SELECT count(*) FROM opt_outs").fetchall() == [(0,)]


def test_a_thread_from_a_split_domain_origin_keys_its_users_by_the_verified_domain(tmp_path: Path) -> None:
    from tests.fakes.mastodon import WebFingerRedirect

    web = "mastodon.example.com"
    alice, bob = make_account("alice", web, on=web), make_account("bob", web, on=web, account_id="2")
    request = make_status(1, author=alice, host=web, text="Does anyone know a good ILS?",
                          created_at="2026-11-21T11:00:00.000Z")
    answer = make_status(2, author=bob, host=web, text="Koha.", tags=(), in_reply_to_id="1",
                         created_at="2026-11-21T11:30:00.000Z")
    home = FakeMastodon([answer, request], instance={"domain": "example.com", "version": "4.5.0",
                                                     "contact": {"account": alice}})
    with home, WebFingerRedirect(home) as apex:
        settings = mastodon_settings(tmp_path, home.base)
        settings = dataclasses.replace(settings, mastodon=dataclasses.replace(
            settings.mastodon, fetch_from_origin=True, origins=((web, home.base), ("example.com", apex.base))))
        run_once(settings)
        assert home.requests_to("/api/v1/statuses/1/context")
    assert _rows(settings, "SELECT author FROM posts ORDER BY created_at") == [("alice@example.com",),
                                                                              ("bob@example.com",)]
