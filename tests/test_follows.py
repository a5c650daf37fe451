"""The follow-list: candidates, decisions, consent, and the export formats (golden files)."""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner

from collectors.records import BLUESKY, MASTODON, VIA_LIST, VIA_THREAD, Account, Page, Post
from pipeline import forgetting
from pipeline.cli.follows import follows as follows_group
from pipeline.core import store
from pipeline.core.ingest import store_page
from pipeline.followlist import candidates as follows
from pipeline.followlist import exports as follow_exports
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once

GOLDEN = Path(__file__).parent / "golden" / "follows"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AS_OF = T0 + timedelta(days=2)
COMMUNITY = 'Solo librarians, "one-person" libraries'


def masto(user: str, host: str = "glammr.us", **kw: object) -> Account:
    facts = {"display_name": user.title(), "discoverable": True, "indexable": True, "noindex": False, **kw}
    return Account(key=f"{user}@{host}", platform=MASTODON, handle=f"{user}@{host}", url=f"https://{host}/@{user}",
                   **facts)  # type: ignore[arg-type]


def bsky(name: str, **kw: object) -> Account:
    return Account(key=f"did:plc:{name}", platform=BLUESKY, handle=f"{name}.bsky.social",
                   display_name=str(kw.pop("display_name", name.title())),
                   url=f"https://bsky.app/profile/{name}.bsky.social", **kw)  # type: ignore[arg-type]


ANA = masto("ana")
BEA = masto("bea", display_name='Bea "the cataloguer", MLIS')
CY = masto("cy", "bibliothèque.example", display_name="Cy <Library & Archives>")
DIGEST = masto("digest", bot=True)
FAY = masto("fay", "mastodon.social", discoverable=False)
GUS = masto("gus")
HAL = masto("hal")
DEE = bsky("dee", display_name="Dee Ørsted")
EVE = bsky("eve")
IVY = bsky("ivy")


def post(n: int, author: Account, minutes: int, text: str, *, parent: str | None = None, via: str = "tag") -> Post:
    if author.platform == BLUESKY:
        uri = f"at://{author.key}/app.bsky.feed.post/{n}"
    else:
        user, host = author.key.split("@")
        uri = f"https://{host}/users/{user}/statuses/{n}"
    return Post(uri=uri, platform=author.platform, author=author, created_at=T0 + timedelta(minutes=minutes),
                text=text, tags=("sololibrarians",) if parent is None else (), reply_to=parent,
                via=VIA_THREAD if parent else via, lang="en")


def community() -> list[Post]:
    """Ana asks; Bea answers first and Cy after; Eve asks on Bluesky and Dee answers; the rest just post."""
    ask = post(1, ANA, 0, "Does anyone know a good ILS for a two-person law library?")
    eve_ask = post(2, EVE, 10, "Can anyone recommend a free tool for tracking journal subscriptions?")
    return [
        ask, eve_ask,
        post(3, BEA, 60, "We use Koha, happily.", parent=ask.uri),
        post(4, CY, 90, "Seconding Koha.", parent=ask.uri),
        post(5, DEE, 30, "A spreadsheet, honestly.", parent=eve_ask.uri),
        post(6, DEE, 40, "Our reading room reopens on Monday.", via=VIA_LIST),
        post(7, DIGEST, 50, "Digest: 3 new posts"),
        post(8, FAY, 55, "Our library newsletter is out"),
        post(9, GUS, 56, "Conference notes are up"),
        post(10, HAL, 57, "Shelving day"),
        post(11, IVY, 58, "Hello from a hospital library", via=VIA_LIST),
    ]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = store.connect(tmp_path / "peerdesk.duckdb")
    store_page(connection, Page(posts=community()), now=T0)
    yield connection
    connection.close()


def approve_all(con: duckdb.DuckDBPyConnection) -> None:
    follows.decide(con, ["ana@glammr.us", "@bea@glammr.us", "cy@bibliothèque.example", "dee.bsky.social",
                         "did:plc:eve", "gus@glammr.us", "hal@glammr.us", "did:plc:ivy"], "approved",
                   note="active, helpful", when=T0)


# ---------------------------------------------------------------- candidates and decisions


def test_candidates_rank_helpfulness_then_activity_and_leave_out_who_may_not_be_listed(con) -> None:
    rows = follows.candidates(con, AS_OF)
    assert [r["account"] for r in rows[:3]] == ["did:plc:dee", "bea@glammr.us", "cy@bibliothèque.example"]
    assert rows[1]["first_responses"] == 1 and rows[2]["replies_to_others"] == 1
    assert {r["decision"] for r in rows} == {"pending"}
    accounts = {r["account"] for r in rows}
    assert "digest@glammr.us" not in accounts  # a bot
    assert "fay@mastodon.social" not in accounts  # discoverable: false
    assert next(r for r in rows if r["account"] == "did:plc:ivy")["list_member"] is True
    everyone = {r["account"]: r["excluded"] for r in follows.candidates(con, AS_OF, include_excluded=True)}
    assert everyone["digest@glammr.us"] == "bot" and everyone["fay@mastodon.social"] == "not discoverable"


def test_a_list_member_is_a_candidate_even_when_quiet(con) -> None:
    later = AS_OF + timedelta(weeks=20)  # nobody active in the window any more
    assert [r["account"] for r in follows.candidates(con, later)] == ["did:plc:dee", "did:plc:ivy"]


def test_accounts_are_named_as_people_type_them(con) -> None:
    assert follows.resolve_account(con, "@Bea@Glammr.us") == "bea@glammr.us"
    assert follows.resolve_account(con, "@dee.bsky.social") == "did:plc:dee"
    assert follows.resolve_account(con, "did:plc:eve") == "did:plc:eve"
    with pytest.raises(follows.UnknownAccount):
        follows.resolve_account(con, "nobody@glammr.us")
    with pytest.raises(follows.UnknownAccount):
        follows.resolve_account(con, "nobody.bsky.social")


def test_decisions_are_all_or_nothing_and_keep_their_note(con) -> None:
    with pytest.raises(follows.NotListable, match="digest@glammr.us: bot"):
        follows.decide(con, ["ana@glammr.us", "digest@glammr.us"], "approved")
    with pytest.raises(follows.UnknownAccount):
        follows.decide(con, ["ana@glammr.us", "ghost@glammr.us"], "rejected")
    assert follows.decisions(con) == {}
    follows.decide(con, ["ana@glammr.us"], "approved", note="asks good questions", when=T0)
    follows.decide(con, ["ana@glammr.us"], "rejected", when=T0 + timedelta(hours=1))
    assert follows.decisions(con)["ana@glammr.us"]["note"] == "asks good questions"
    assert follows.decisions(con)["ana@glammr.us"]["decision"] == "rejected"
    follows.decide(con, ["digest@glammr.us"], "rejected")  # keeping a bot off is always allowed
    assert [r["account"] for r in follows.candidates(con, AS_OF, decision="rejected")] == ["ana@glammr.us"]


def test_decisions_survive_re_collection(tmp_path: Path) -> None:
    statuses = [make_status(2, author=make_account("bea", account_id="2"), text="Koha works well for us"),
                make_status(1, text="Does anyone know a good ILS?")]
    with FakeMastodon(statuses) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings)
        with store.writing(settings.db_path) as con:
            follows.decide(con, ["bea@glammr.us"], "approved", note="kind")
            follows.decide(con, ["ana@glammr.us"], "rejected")
        server.add(make_status(3, author=make_account("bea", account_id="2"), text="Another post"))
        run_once(settings)
    with store.reading(settings.db_path) as con:
        assert {k: v["decision"] for k, v in follows.decisions(con).items()} == {
            "bea@glammr.us": "approved", "ana@glammr.us": "rejected"}
        assert [m["account"] for m in follows.listing(con, datetime.now(UTC)).members] == ["bea@glammr.us"]


# ---------------------------------------------------------------- consent


def test_approved_accounts_that_withdraw_consent_drop_from_the_listing(con) -> None:
    approve_all(con)
    assert len(follows.listing(con, AS_OF).members) == 8
    store_page(con, Page(accounts=[replace(GUS, bio="Please no bots #nobot")]), now=T0 + timedelta(days=1))
    store_page(con, Page(accounts=[replace(IVY, labels=("!no-unauthenticated",))]), now=T0 + timedelta(days=1))
    forgetting.forget(con, "hal@glammr.us")
    store_page(con, Page(accounts=[replace(BEA, discoverable=False)]), now=T0 + timedelta(days=1))
    listing = follows.listing(con, AS_OF)
    assert [m["account"] for m in listing.members] == [
        "did:plc:dee", "cy@bibliothèque.example", "ana@glammr.us", "did:plc:eve"]
    assert follows.dropped_lines(listing) == [
        'dropped bea@glammr.us: not discoverable',
        "dropped did:plc:ivy: opted out (!no-unauthenticated)",
        "dropped gus@glammr.us: opted out (#nobot)",
    ]  # forget takes the decision too: the organiser asked, and the list keeps no trace of hal
    with pytest.raises(follows.NotListable, match="asked to be forgotten"):
        follows.decide(con, ["hal@glammr.us"], "approved")
    follows.decide(con, ["gus@glammr.us"], "rejected")  # the organiser can silence the notice
    assert len(follows.listing(con, AS_OF).dropped) == 2


# ---------------------------------------------------------------- exports


def golden_members(con: duckdb.DuckDBPyConnection) -> list[dict]:
    approve_all(con)
    store_page(con, Page(accounts=[replace(GUS, bio="#nobot")]), now=T0 + timedelta(days=1))
    forgetting.forget(con, "hal@glammr.us")
    return follows.listing(con, AS_OF).members


@pytest.mark.parametrize("fmt, name", [("mastodon-csv", "mastodon.csv"), ("mastodon-lists-csv", "mastodon-lists.csv"),
                                       ("opml", "follows.opml"), ("json", "follows.json"), ("csv", "follows.csv")])
def test_export_matches_the_golden_file(con, fmt: str, name: str) -> None:
    text = follow_exports.render(fmt, golden_members(con), community=COMMUNITY, generated_at=AS_OF)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_mastodon_csv_round_trips_through_a_csv_parser(con) -> None:
    members = golden_members(con)
    following = list(csv.reader(io.StringIO(follow_exports.mastodon_following_csv(members))))
    assert following[0] == ["Account address", "Show boosts", "Notify on new posts", "Languages"]
    assert following[1:] == [["bea@glammr.us", "true", "false", ""], ["cy@bibliothèque.example", "true", "false", ""],
                             ["ana@glammr.us", "true", "false", ""]]
    lists = list(csv.reader(io.StringIO(follow_exports.mastodon_lists_csv(members, COMMUNITY))))
    assert lists == [[COMMUNITY, "bea@glammr.us"], [COMMUNITY, "cy@bibliothèque.example"], [COMMUNITY, "ana@glammr.us"]]


def test_opml_parses_and_names_every_feed(con) -> None:
    root = ET.fromstring(follow_exports.opml(golden_members(con), COMMUNITY, AS_OF).encode("utf-8"))
    assert root.get("version") == "2.0" and root.findtext("head/title") == COMMUNITY
    feeds = {o.get("xmlUrl"): o.get("text") for o in root.iter("outline") if o.get("type") == "rss"}
    assert feeds == {
        "https://glammr.us/@bea.rss": 'Bea "the cataloguer", MLIS (@bea@glammr.us)',
        "https://bsky.app/profile/did:plc:dee/rss": "Dee Ørsted (@dee.bsky.social)",
        "https://xn--bibliothque-59a.example/@cy.rss": "Cy <Library & Archives> (@cy@bibliothèque.example)",
        "https://glammr.us/@ana.rss": "Ana (@ana@glammr.us)",
        "https://bsky.app/profile/did:plc:eve/rss": "Eve (@eve.bsky.social)",
        "https://bsky.app/profile/did:plc:ivy/rss": "Ivy (@ivy.bsky.social)",
    }


def test_json_export_holds_everything_known(con) -> None:
    document = json.loads(follow_exports.json_export(golden_members(con), COMMUNITY, AS_OF))
    assert document["community"] == COMMUNITY and document["generated_at"] == "2026-11-22T09:00:00+00:00"
    bea = next(a for a in document["accounts"] if a["account"] == "bea@glammr.us")
    assert bea["first_responses"] == 1 and bea["median_response_seconds"] == 3600.0
    assert bea["note"] == "active, helpful" and bea["feed_url"] == "https://glammr.us/@bea.rss"
    assert {a["platform"] for a in document["accounts"]} == {"mastodon", "bluesky"}


# ---------------------------------------------------------------- the commands


def peerdesk() -> click.Group:
    """The real root group with ``follows`` added, without touching the module-level ``cli``."""
    from pipeline.cli.commands import cli

    return click.Group(name="peerdesk", params=cli.params, callback=cli.callback,
                       commands={**cli.commands, "follows": follows_group})


def _config(tmp_path: Path) -> str:
    path = tmp_path / "peerdesk.toml"
    path.write_text(f"[database]\npath = 'peerdesk.duckdb'\n[community]\nname = '{COMMUNITY}'\n", encoding="utf-8")
    return str(path)


def test_the_commands_curate_and_export(con, tmp_path: Path) -> None:
    con.close()
    config, runner = _config(tmp_path), CliRunner()
    run = lambda *args: runner.invoke(peerdesk(), ["--config", config, "follows", *args])  # noqa: E731

    approved = run("approve", "@bea@glammr.us", "dee.bsky.social", "gus@glammr.us", "--note", "helps a lot")
    assert approved.exit_code == 0, approved.output
    assert approved.output == "approved bea@glammr.us\napproved did:plc:dee\napproved gus@glammr.us\n"
    refused = run("approve", "digest@glammr.us")
    assert refused.exit_code == 1 and "cannot approve digest@glammr.us: bot" in refused.stderr
    assert run("reject", "nobody@glammr.us").exit_code == 1
    assert run("reject", "ana@glammr.us").exit_code == 0
    assert run("reset", "ana@glammr.us").output == "pending ana@glammr.us\n"
    assert run("reject", "ana@glammr.us").output == "rejected ana@glammr.us\n"

    rows = json.loads(run("candidates", "--as-of", AS_OF.isoformat(), "--format", "json").stdout)
    assert [(r["account"], r["decision"]) for r in rows[:2]] == [("did:plc:dee", "approved"),
                                                                  ("bea@glammr.us", "approved")]
    table = run("candidates", "--as-of", AS_OF.isoformat(), "--decision", "pending").stdout
    assert table.splitlines()[0].split()[:3] == ["rank", "handle", "platform"] and "ana@" not in table

    with store.writing(tmp_path / "peerdesk.duckdb") as db:
        store_page(db, Page(accounts=[replace(GUS, bio="#nobot")]))
    exported = run("export", "--format", "mastodon-csv", "--as-of", AS_OF.isoformat())
    assert exported.exit_code == 0
    assert exported.stdout == ("Account address,Show boosts,Notify on new posts,Languages\n"
                               "bea@glammr.us,true,false,\n")
    assert exported.stderr == "dropped gus@glammr.us: opted out (#nobot)\n"
    out = tmp_path / "list.csv"
    wrote = run("export", "--format", "mastodon-lists-csv", "--out", str(out))
    assert wrote.exit_code == 0
    assert f"wrote 1 account to {out} (1 on other platforms left out" in wrote.stderr  # the file has one line
    assert out.read_text(encoding="utf-8") == f'"{COMMUNITY.replace(chr(34), chr(34) * 2)}",bea@glammr.us\n'
    assert run("export", "--format", "vcard").exit_code == 2


def test_every_follows_command_has_help() -> None:
    for name, command in follows_group.commands.items():
        assert command.help and command.help.strip(), name
