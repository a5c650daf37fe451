"""Storing several pages in one batch behaves as storing them one after the other."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collectors.records import MASTODON, Account, Page, Post, Sighting
from pipeline.core import store
from pipeline.core.ingest import LAST_SEEN_RESOLUTION, store_page, store_pages_in_transaction

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def account(user: str, **kw: object) -> Account:
    return Account(key=f"{user}@glammr.us", platform=MASTODON, handle=f"{user}@glammr.us", **kw)  # type: ignore[arg-type]


def post(n: int, author: Account, source: str, text: str = "Has anyone got a retention schedule to share?",
         **kw: object) -> Post:
    return Post(uri=f"https://glammr.us/users/{author.key.split('@')[0]}/statuses/{n}", platform=MASTODON,
                author=author, created_at=T0 + timedelta(minutes=n), text=text, html=f"<p>{text}</p>",
                sighting=Sighting(source, f"{source}-{n}"), **kw)  # type: ignore[arg-type]


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_pages_in_one_batch_are_credited_and_merged_as_if_stored_in_turn(tmp_path: Path) -> None:
    ana, bob, cy = account("ana"), account("bob"), account("cy")
    edited = post(1, ana, "b.example", text="Edited: has anyone a retention schedule?",
                  edited_at=T0 + timedelta(hours=1))
    first = Page(posts=[post(1, ana, "a.example"), post(2, bob, "a.example")], cursor_key="a", cursor="10")
    second = Page(posts=[edited, post(3, cy, "b.example", visibility="private")], cursor_key="b", cursor="7")
    third = Page(posts=[post(4, bob, "a.example")], cursor_key="a", cursor="12",
                 accounts=[replace(bob, bio="Please, #nobot")])  # bob opts out later in the batch
    con = store.connect(tmp_path / "d.duckdb")
    with store.transaction(con):
        results = store_pages_in_transaction(con, [first, second, third], now=T0)

    assert [r.new_posts for r in results] == [1, 0, 0]  # ana's post, credited to the page that first had it
    assert results[0].skipped_opted_out == 1 and results[2].skipped_opted_out == 1
    assert results[1].skipped_private == 1
    assert rows(con, "SELECT uri, text FROM post_store") == [(edited.uri, edited.text)]  # the newest edit won
    assert rows(con, "SELECT source, local_id FROM sightings ORDER BY 1") == [("a.example", "a.example-1"),
                                                                             ("b.example", "b.example-1")]
    assert rows(con, "SELECT cursor_key, position FROM cursors ORDER BY 1") == [("a", "12"), ("b", "7")]
    assert rows(con, "SELECT account FROM account_store") == [("ana@glammr.us",)]  # cy posted only privately
    assert rows(con, "SELECT account, reason FROM opt_outs") == [("bob@glammr.us", "#nobot")]


def test_an_opt_out_purges_what_was_stored_and_credits_the_page_that_carried_it(tmp_path: Path) -> None:
    ana, bob = account("ana"), account("bob")
    con = store.connect(tmp_path / "d.duckdb")
    store_page(con, Page(posts=[post(1, ana, "a.example"), post(2, bob, "a.example")]), now=T0)
    with store.transaction(con):
        results = store_pages_in_transaction(
            con, [Page(posts=[post(3, ana, "a.example")]), Page(accounts=[replace(bob, noindex=True)])], now=T0)
    assert [r.purged_posts for r in results] == [0, 1]
    assert {a for (a,) in rows(con, "SELECT DISTINCT author FROM post_store")} == {"ana@glammr.us"}


def test_an_unchanged_account_keeps_its_row_until_it_is_an_hour_stale(tmp_path: Path) -> None:
    ana = account("ana", display_name="Ana")
    con = store.connect(tmp_path / "d.duckdb")
    store_page(con, Page(accounts=[ana]), now=T0)
    store_page(con, Page(accounts=[ana]), now=T0 + timedelta(minutes=5))
    assert rows(con, "SELECT last_seen_at FROM account_store") == [(T0,)]
    store_page(con, Page(accounts=[replace(ana, display_name="Ana L.")]), now=T0 + timedelta(minutes=6))
    assert rows(con, "SELECT display_name, last_seen_at FROM account_store") == [
        ("Ana L.", T0 + timedelta(minutes=6))]
    later = T0 + timedelta(minutes=6) + LAST_SEEN_RESOLUTION + timedelta(seconds=1)
    store_page(con, Page(accounts=[replace(ana, display_name="Ana L.")]), now=later)
    assert rows(con, "SELECT first_seen_at, last_seen_at FROM account_store") == [(T0, later)]


def test_verdicts_worked_out_ahead_are_the_ones_stored_and_are_not_kept(tmp_path: Path) -> None:
    from pipeline.core.ingest import verdicts as ingest
    from pipeline.detector.rules import classify

    ana = account("ana")
    asks = post(1, ana, "a.example")
    says = post(2, ana, "a.example", text="Weeded the reference shelves today, feeling lighter.")
    page = Page(posts=[asks, says])
    ingest.preclassify(page)
    assert (asks.text, None) in ingest._verdicts
    con = store.connect(tmp_path / "d.duckdb")
    store_page(con, page, now=T0)
    assert (asks.text, None) not in ingest._verdicts and (says.text, None) not in ingest._verdicts
    stored = dict(rows(con, "SELECT text, is_request FROM post_store"))
    assert stored == {asks.text: classify(asks.text).is_request, says.text: classify(says.text).is_request}
    assert stored[asks.text] is True and stored[says.text] is False


def test_verdicts_of_posts_not_stored_are_not_kept_either(tmp_path: Path) -> None:
    """A verdict kept for a post the writer refuses (opted out, private, an older copy) holds its worker message."""
    from pipeline.core.ingest import verdicts as ingest

    ana, bob = account("ana"), account("bob", bio="#nobot")
    older = post(3, ana, "b.example", text="Does anyone have a retention schedule? (first draft)")
    newer = replace(older, text="Does anyone have a retention schedule?", edited_at=T0 + timedelta(hours=1))
    page = Page(posts=[post(1, bob, "a.example", text="Has anyone a weeding policy to share?"),
                       post(2, ana, "a.example", text="Who has a loans policy?", visibility="private"), older, newer])
    ingest.preclassify(page)
    assert len(ingest._verdicts) == 4
    store_page(store.connect(tmp_path / "d.duckdb"), page, now=T0)
    assert ingest._verdicts == {}


def test_a_fresh_connection_can_mark_deletions_at_once(tmp_path: Path) -> None:
    """Connecting leaves no half-read result behind (DuckDB 2 then refuses to register a table)."""
    path = tmp_path / "d.duckdb"
    with store.writing(path) as con:
        store_page(con, Page(posts=[post(1, account("ana"), "a.example")]), now=T0)
    with store.writing(path) as con:
        assert store.mark_deleted(con, [post(1, account("ana"), "a.example").uri], T0) == 1


class _Counting:
    """A connection that counts the statements passing over post_store's uris (a join, or a write from one)."""

    def __init__(self, con) -> None:  # type: ignore[no-untyped-def]
        self.con = con
        self.passes = 0

    def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
        self.passes += "post_store" in sql and "IN (?" not in sql  # a literal list is an index scan
        return self.con.execute(sql, *args)

    def register(self, *args):  # type: ignore[no-untyped-def]
        return self.con.register(*args)

    def unregister(self, *args):  # type: ignore[no-untyped-def]
        return self.con.unregister(*args)


def test_a_batch_meets_the_stored_posts_in_one_read_and_one_update(tmp_path: Path) -> None:
    """DuckDB joins scan the whole uri column, so each extra statement costs a commit more as the file grows."""
    from pipeline.core.ingest.posts import upsert_posts

    ana = account("ana")
    thread_reply = post(1, ana, "a.example", via="thread")
    copied = post(2, ana, "a.example")
    edited = post(3, ana, "a.example")
    con = store.connect(tmp_path / "d.duckdb")
    with store.transaction(con):
        upsert_posts(con, [thread_reply, copied, edited], [True, False, True], T0)
    later = [replace(thread_reply, via="tag"), copied, replace(edited, text="Edited.", edited_at=T0 + timedelta(1)),
             post(4, ana, "a.example")]
    counting = _Counting(con)
    with store.transaction(con):
        new, requests, updated = upsert_posts(counting, later, [True] * 4, T0 + timedelta(2))  # type: ignore[arg-type]
    assert counting.passes == 1  # the new rows inserted; the stored rows read and changed through the primary key
    fourth = later[-1]
    assert (new, requests, sorted(updated)) == ([fourth.uri], [fourth.uri], sorted([edited.uri, thread_reply.uri]))
    assert rows(con, "SELECT uri, via, from_origin, text FROM post_store ORDER BY uri") == [
        (thread_reply.uri, "tag", True, thread_reply.text), (copied.uri, "tag", True, copied.text),
        (edited.uri, "tag", True, "Edited."), (fourth.uri, "tag", True, fourth.text)]


def test_only_posts_inserted_or_edited_are_classified(tmp_path: Path, monkeypatch) -> None:
    """A post seen again (an overlap re-read, a federated copy) keeps its stored verdict: none is worked out."""
    from pipeline.core.ingest import verdicts

    asked: list[str] = []
    real = verdicts.classify
    monkeypatch.setattr(verdicts, "classify", lambda text, lang=None: asked.append(text) or real(text, lang))
    ana = account("ana")
    first = [post(1, ana, "a.example"), post(2, ana, "a.example", text="Anyone know a good ILS?")]
    con = store.connect(tmp_path / "d.duckdb")
    store_page(con, Page(posts=first), now=T0)
    assert len(asked) == 2
    asked.clear()
    edited = replace(first[1], text="Edited: anyone know a cheap ILS?", edited_at=T0 + timedelta(hours=1))
    store_page(con, Page(posts=[first[0], edited, post(3, ana, "a.example", text="Thanks all.")]), now=T0)
    assert sorted(asked) == ["Edited: anyone know a cheap ILS?", "Thanks all."]
    assert rows(con, "SELECT text, is_request FROM post_store ORDER BY uri") == [
        (first[0].text, True), (edited.text, True), ("Thanks all.", False)]
