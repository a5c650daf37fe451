"""``peerdesk forget``: every name form, everything purged, the refusal kept by every path that stores or promotes.

The sample community (``db``, loaded as of SAMPLE_NOW) for naming and purging;
the fake Mastodon instance and the fake Jetstream for "never stored again".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.bluesky.jetstream.stream import ConnectOptions
from collectors.records import Account, Page
from pipeline import forgetting
from pipeline.cli.commands import cli
from pipeline.collection.stream.run import StreamOptions
from pipeline.core import account_names, store
from pipeline.core.ingest import store_page
from pipeline.core.settings import BlueskySettings, MastodonSettings, Settings
from pipeline.followlist import candidates as follows
from pipeline.followlist import exports as follow_exports
from pipeline.summary import publish
from pipeline.summary.compose import compose_summary
from tests.fakes.bluesky import FakeBluesky, load_sample
from tests.fakes.jetstream import DATA, FakeJetstream, event_times, load_frames
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import NOW, SAMPLE_NOW, mastodon_settings, run_once, stream_until

ANALIMA = "did:plc:qtlajxu7frylmjh3hyqmtpxz"  # analima.bsky.social in the sample
TOM = "did:plc:kgb6rahsxnvi3m36ckvjgnet"  # tbecker.law
WEEK = "2026-W47"


def _config(tmp_path: Path, db: Path) -> str:
    path = tmp_path / "peerdesk.toml"
    path.write_text(f'[database]\npath = "{db}"\n', encoding="utf-8")
    return str(path)


def _forget(tmp_path: Path, db: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", _config(tmp_path, db), "forget", *args])


def _one(db: Path, sql: str, params: list | None = None) -> object:
    with store.reading(db) as con:
        return con.execute(sql, params or []).fetchall()[0][0]


def _everything_about(db: Path, key: str) -> dict[str, int]:
    """How many rows anywhere still hold this account (its own words and the organiser's rows about it)."""
    with store.reading(db) as con:
        return {table: con.execute(sql, [key]).fetchall()[0][0] for table, sql in {
            "posts": "SELECT count(*) FROM post_store WHERE author = ?",
            "account": "SELECT count(*) FROM account_store WHERE account = ?",
            "sightings": "SELECT count(*) FROM sightings WHERE uri LIKE '%' || ? || '%'",
            "decision": "SELECT count(*) FROM follow_decisions WHERE account = ?",
            "opt_out": "SELECT count(*) FROM opt_outs WHERE account = ?",
        }.items()}


# ---------------------------------------------------------------- naming


@pytest.mark.parametrize("typed, key", [
    ("analima.bsky.social", ANALIMA),
    ("@Analima.bsky.social", ANALIMA),
    (ANALIMA, ANALIMA),
    ("https://bsky.app/profile/analima.bsky.social", ANALIMA),
    (f"https://bsky.app/profile/{ANALIMA}", ANALIMA),
    ("tbecker.law", TOM),
    ("deb@glammr.us", "deb@glammr.us"),
    ("  @Deb@Glammr.us ", "deb@glammr.us"),
    ("https://glammr.us/@deb", "deb@glammr.us"),
    ("https://glammr.us/users/deb", "deb@glammr.us"),
    ("https://mastodon.social/@deb@glammr.us", "deb@glammr.us"),  # her page as another server shows it
])
def test_every_name_form_the_commands_accept_resolves_to_the_stable_key(db: Path, typed: str, key: str) -> None:
    with store.reading(db) as con:
        assert account_names.resolve_account(con, typed) == key


def test_a_split_domain_account_is_found_by_its_profile_page(db: Path) -> None:
    """A server on social.example whose users are bea@example.org: its pages name the web host."""
    bea = Account(key="bea@example.org", platform="mastodon", handle="bea@example.org",
                  url="https://social.example/@bea")
    with store.writing(db) as con:
        store_page(con, Page(accounts=[bea]), now=SAMPLE_NOW)
        for typed in ("https://social.example/@bea", "https://social.example/users/bea", "bea@social.example"):
            assert account_names.resolve_account(con, typed) == "bea@example.org"


@pytest.mark.parametrize("typed, says", [
    ("", "an empty account name"),
    ("   ", "an empty account name"),
    ("nobody.bsky.social", "no stored Bluesky account has this handle"),
    ("nobody@glammr.us", "not a stored account; check the spelling, or add --unseen"),
    ("did:plc:nobody", "not a stored account"),
    ("https://glammr.us/@nobody", "not a stored account"),
    ("bea@", "not an account name"),
    ("did:nope", "not a DID"),
    ("https://glammr.us/about", "not a profile URL"),
    ("ftp://glammr.us/@deb", "not a profile URL"),
])
def test_a_name_that_matches_nobody_is_refused_in_one_line_and_changes_nothing(
        db: Path, tmp_path: Path, typed: str, says: str) -> None:
    before = _one(db, "SELECT count(*) FROM post_store")
    result = _forget(tmp_path, db, typed)
    assert result.exit_code == 2, result.output
    assert says in result.output and len(result.output.strip().splitlines()) == 1
    assert "forgot" not in result.output
    assert _one(db, "SELECT count(*) FROM post_store") == before
    assert _one(db, "SELECT count(*) FROM forgotten") == 0


def test_a_handle_two_accounts_have_held_is_refused_naming_both(db: Path, tmp_path: Path) -> None:
    newcomer = Account(key="did:plc:newowner", platform="bluesky", handle="analima.bsky.social")
    with store.writing(db) as con:
        store_page(con, Page(accounts=[newcomer]), now=SAMPLE_NOW)
    result = _forget(tmp_path, db, "analima.bsky.social")
    assert result.exit_code == 2
    assert f"more than one account answers to this name (did:plc:newowner, {ANALIMA})" in result.output
    assert _one(db, "SELECT count(*) FROM forgotten") == 0
    with store.writing(db) as con, pytest.raises(follows.UnknownAccount, match="more than one"):
        follows.decide(con, ["analima.bsky.social"], "approved")  # the same resolver: nobody approved by chance


# ---------------------------------------------------------------- purging


def test_forgetting_a_bluesky_handle_purges_everything_and_keeps_the_did(db: Path, tmp_path: Path) -> None:
    with store.writing(db) as con:
        follows.decide(con, [ANALIMA], "approved", note="helpful")
        own = con.execute("SELECT uri FROM post_store WHERE author = ? ORDER BY uri", [ANALIMA]).fetchall()
        other = con.execute("SELECT uri FROM post_store WHERE author <> ? AND reply_root IN "
                            "(SELECT uri FROM post_store WHERE author = ?)", [ANALIMA, ANALIMA]).fetchall()
        for (uri,) in own[:2] + other[:1]:
            con.execute("INSERT INTO curation VALUES (?, true, NULL, 'curator note', ?)", [uri, SAMPLE_NOW])
        con.execute("INSERT INTO opt_outs (account, reason, seen_at) VALUES (?, '#nobot', ?)", [ANALIMA, SAMPLE_NOW])
    assert len(own) == 5 and other, "the sample should hold her posts and replies by others under them"
    result = _forget(tmp_path, db, "analima.bsky.social")
    assert result.exit_code == 0, result.output
    assert result.output == f"forgot analima.bsky.social ({ANALIMA}): 5 posts removed; it will not be stored again\n"
    assert _everything_about(db, ANALIMA) == dict.fromkeys(
        ("posts", "account", "sightings", "decision", "opt_out"), 0)
    assert _one(db, "SELECT count(*) FROM curation") == 1  # the curator's row about someone else's reply stays
    assert _one(db, "SELECT count(*) FROM post_store WHERE uri = ?", [other[0][0]]) == 1  # others' words stay
    assert _one(db, "SELECT list(account) FROM forgotten") == [ANALIMA]  # the DID, never the handle


def test_forgetting_twice_says_so_and_a_mastodon_url_names_the_key(db: Path, tmp_path: Path) -> None:
    first = _forget(tmp_path, db, "https://glammr.us/users/deb")
    assert first.output == "forgot https://glammr.us/users/deb (deb@glammr.us): 6 posts removed; " \
                           "it will not be stored again\n"
    again = _forget(tmp_path, db, "@deb@glammr.us")
    assert again.exit_code == 0
    assert again.output == "deb@glammr.us was already forgotten: 0 posts removed; it will not be stored again\n"
    assert _one(db, "SELECT list(account) FROM forgotten") == ["deb@glammr.us"]


def test_an_account_never_seen_is_kept_out_only_on_purpose_and_only_by_a_stable_key(db: Path, tmp_path: Path) -> None:
    assert _forget(tmp_path, db, "--unseen", "newbie.bsky.social").exit_code == 2  # a handle can change hands
    assert _forget(tmp_path, db, "newbie@glammr.us").exit_code == 2  # a typo must not pass for a purge
    for name in ("@Newbie@Glammr.us", "did:plc:newbie"):
        result = _forget(tmp_path, db, "--unseen", name)
        assert result.exit_code == 0 and "0 posts removed" in result.output
    assert _one(db, "SELECT list(account ORDER BY account) FROM forgotten") == ["did:plc:newbie", "newbie@glammr.us"]


# ---------------------------------------------------------------- never promoted, never named


def _summary_text(db: Path) -> str:
    with store.reading(db) as con:
        summary = compose_summary(con, Settings(), WEEK, as_of=SAMPLE_NOW)
    return "\n".join(summary.mastodon + [p.text for p in summary.bluesky])


@pytest.mark.parametrize("victim, typed", [("deb@glammr.us", "https://glammr.us/@deb"),
                                           ("kwame@mastodon.social", "@kwame@mastodon.social")])
def test_a_forgotten_account_leaves_the_candidates_the_exports_and_the_summary(
        db: Path, tmp_path: Path, victim: str, typed: str) -> None:
    assert victim in _summary_text(db)  # thanked (deb) or welcomed (kwame) that week
    with store.writing(db) as con:
        follows.decide(con, [victim], "approved")
    assert _forget(tmp_path, db, typed).exit_code == 0
    with store.reading(db) as con:
        everyone = follows.candidates(con, SAMPLE_NOW, include_excluded=True)
        listing = follows.listing(con, SAMPLE_NOW)
    assert victim not in {r["account"] for r in everyone}
    for fmt in follow_exports.FORMATS:
        assert victim not in follow_exports.render(fmt, listing.members, community="x", generated_at=SAMPLE_NOW)
    assert victim not in _summary_text(db)
    with store.writing(db) as con, pytest.raises(follows.NotListable, match="asked to be forgotten"):
        follows.decide(con, [victim], "approved")


def test_saved_summary_threads_lose_the_name(db: Path, tmp_path: Path) -> None:
    """What was posted keeps its place but not the name; a thread still to be sent is composed afresh."""
    plan = {"posts": [{"text": "1/2 Thanks to @emily@mastodon.social and noor@mastodon.social.", "facets": []},
                      {"text": "2/2 Welcome emily@mastodon.social!", "facets": []}]}
    done = {"posts": [{"text": "Thanks to tbecker.law", "facets": [
        {"index": {"byteStart": 10, "byteEnd": 21}, "features": [{"$type": "x#mention", "did": TOM}]}]}]}
    with store.writing(db) as con:
        for week, platform, key, value, text in (
                ("2026-W46", "mastodon", "summary:2026-W46:mastodon", plan, plan["posts"][0]["text"]),
                ("2026-W46", "bluesky", "summary:2026-W46:bluesky", done, "Thanks to @tbecker.law")):
            con.execute("INSERT INTO published_posts VALUES (?, ?, 1, 'k', NULL, NULL, NULL, NULL, ?, ?)",
                        [week, platform, text, SAMPLE_NOW])
            con.execute("INSERT INTO app_state VALUES (?, ?, ?)", [key, json.dumps(value), SAMPLE_NOW])
    assert _forget(tmp_path, db, "emily@mastodon.social").exit_code == 0
    assert _forget(tmp_path, db, "tbecker.law").exit_code == 0
    with store.reading(db) as con:
        texts = [r[0] for r in con.execute("SELECT text FROM published_posts ORDER BY platform DESC").fetchall()]
        assert texts == ["1/2 Thanks to someone and noor@mastodon.social.", "Thanks to someone"]
        assert publish.saved_plan(con, "2026-W46", "mastodon") is None  # post 2 would have named her
        assert publish.saved_plan(con, "2026-W46", "bluesky") == [publish.Planned("Thanks to someone", [])]


# ---------------------------------------------------------------- never stored again


def test_collect_and_thread_fetches_never_store_a_forgotten_account_again(tmp_path: Path) -> None:
    bea = make_account("bea", account_id="2")
    request = make_status(1, text="Does anyone know a good ILS?")
    reply = make_status(2, author=bea, text="We use Koha", tags=(), in_reply_to_id="1")
    with FakeMastodon([request, reply]) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
        assert _one(settings.db_path, "SELECT count(*) FROM post_store WHERE author = 'bea@glammr.us'") == 1
        with store.writing(settings.db_path) as con:
            key, _ = account_names.forget_target(con, "https://glammr.us/users/bea")
            assert forgetting.forget(con, key) == 1
        contexts = len(server.requests_to("/api/v1/statuses/1/context"))
        server.add(make_status(3, author=bea, text="Evergreen too", tags=(), in_reply_to_id="1"),
                   make_status(4, author=bea, text="Does anyone have a budget template?"))
        run_once(settings, now=NOW + timedelta(days=2))
        assert len(server.requests_to("/api/v1/statuses/1/context")) > contexts  # the thread was read again
    assert _everything_about(settings.db_path, "bea@glammr.us")["posts"] == 0
    assert _one(settings.db_path, "SELECT count(*) FROM account_store WHERE account = 'bea@glammr.us'") == 0
    assert _one(settings.db_path, "SELECT count(*) FROM post_store") == 1


def _bluesky() -> FakeBluesky:
    state = load_sample()
    for profile in json.loads((DATA / "profiles.json").read_text(encoding="utf-8"))["profiles"]:
        state.profiles[profile["did"]] = profile
    return FakeBluesky(state)


def test_the_stream_never_stores_a_forgotten_did(tmp_path: Path, db: Path) -> None:
    frames = load_frames()
    last = event_times(frames)[-1]
    start = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)
    with _bluesky() as fake, FakeJetstream(frames) as js:
        settings = Settings(db_path=db, state_dir=tmp_path / "state", tags=("sololibrarians",), timeout=5.0,
                            max_retries=1, mastodon=MastodonSettings(instances=()),
                            bluesky=BlueskySettings(service=fake.url, appview=fake.url))  # type: ignore[arg-type]
        assert _forget(tmp_path, db, "https://bsky.app/profile/tbecker.law").exit_code == 0
        before = _one(db, "SELECT count(*) FROM post_store")
        options = StreamOptions(endpoint=js.url, since=start, clock=lambda: datetime(2026, 11, 10, 12, tzinfo=UTC),
                                batch_seconds=0.05, cursor_every=0.1, refresh_every=0.2, gap_warning=90 * 86400,
                                connect=ConnectOptions(backoff_start=0.01, backoff_max=0.05, idle_timeout=10))
        stream_until(settings, options, last)
    assert _one(db, "SELECT count(*) FROM post_store") > before  # the stream did store the others
    assert _everything_about(db, TOM) == dict.fromkeys(("posts", "account", "sightings", "decision", "opt_out"), 0)
