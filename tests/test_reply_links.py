"""Replies find their parents and roots whatever order a thread arrives in, at a cost bounded by the batch."""

from __future__ import annotations

import json
from pathlib import Path

from collectors.records import Page
from pipeline.core import store
from pipeline.core.ingest import resolve_reply_parents, store_page, store_pages_in_transaction
from pipeline.core.ingest.replies import WAITING, WAITING_COLUMNS
from pipeline.core.store import purge_accounts
from tests.test_ingest import account, post

ASKER, HELPER = account("asker"), account("helper")


def links(con) -> dict[str, tuple[str | None, str | None]]:
    return {uri.rsplit("/", 1)[1]: (to and to.rsplit("/", 1)[1], root and root.rsplit("/", 1)[1])
            for uri, to, root in con.execute("SELECT uri, reply_to, reply_root FROM post_store").fetchall()}


def thread() -> list:
    """1 asks; 2 answers 1; 3 answers 2: each names its parent by its local id on the source it was seen on."""
    top = post(1, ASKER, "a")
    answer = post(2, HELPER, "a", text="Try the records society's template.", reply_to_local="a-1")
    again = post(3, ASKER, "a", text="Thanks, that works.", reply_to_local="a-2")
    return [top, answer, again]


def test_a_thread_stored_leaves_first_is_linked_when_its_top_arrives(tmp_path: Path) -> None:
    top, answer, again = thread()
    con = store.connect(tmp_path / "db.duckdb")
    for p in (again, answer):
        store_page(con, Page(posts=[p]))
    assert links(con) == {"3": ("2", None), "2": (None, None)}
    store_page(con, Page(posts=[top]))
    assert links(con) == {"1": (None, None), "2": ("1", "1"), "3": ("2", "1")}


def test_a_reply_arriving_below_a_rooted_thread_takes_its_root(tmp_path: Path) -> None:
    top, answer, again = thread()
    con = store.connect(tmp_path / "db.duckdb")
    store_page(con, Page(posts=[top, answer]))
    store_page(con, Page(posts=[again]))
    assert links(con) == {"1": (None, None), "2": ("1", "1"), "3": ("2", "1")}


class CountingConnection:
    """Passes statements through and remembers the most rows any one of them brought back to Python."""

    def __init__(self, con) -> None:
        self.con = con
        self.most = 0
        self.statements: list[str] = []

    def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
        self.statements.append(" ".join(sql.split()))
        result = self.con.execute(sql, *args)
        rows = result.fetchall()
        self.most = max(self.most, len(rows))
        return _Rows(rows)

    def register(self, *args):  # type: ignore[no-untyped-def]
        return self.con.register(*args)

    def unregister(self, *args):  # type: ignore[no-untyped-def]
        return self.con.unregister(*args)


class _Rows:
    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


def test_a_commit_reads_its_batch_not_every_reply_still_waiting_for_a_parent(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "db.duckdb")
    waiting = [post(100 + i, HELPER, "a", text=f"Answer {i}", reply_to_local=f"gone-{i}") for i in range(150)]
    waiting += [post(300 + i, HELPER, "a", text=f"Answer {i}", reply_to=f"https://elsewhere.example/{i}")
                for i in range(150)]
    store_page(con, Page(posts=waiting))
    top, answer, _ = thread()
    counting = CountingConnection(con)
    store_page(counting, Page(posts=[top, answer]))  # type: ignore[arg-type]
    assert counting.most <= 2  # before: every one of the 300 waiting replies, at every commit
    assert links(con)["2"] == ("1", "1")


def test_a_commit_writes_its_parents_and_roots_in_one_update(tmp_path: Path) -> None:
    """Each UPDATE joined to post_store is a pass over every stored uri: the links go in one."""
    top, answer, again = thread()
    con = store.connect(tmp_path / "db.duckdb")
    store_page(con, Page(posts=[again, answer]))
    counting = CountingConnection(con)
    store_page(counting, Page(posts=[top]))  # type: ignore[arg-type]
    assert links(con) == {"1": (None, None), "2": ("1", "1"), "3": ("2", "1")}
    assert len([s for s in counting.statements if s.startswith("UPDATE post_store")]) == 1  # was two


def test_a_commit_reads_the_sightings_through_the_local_id_index_only(tmp_path: Path) -> None:
    """New sightings and the new replies' parents are found by local id, never by reading every sighting."""
    top, answer, again = thread()
    con = store.connect(tmp_path / "db.duckdb")
    store_page(con, Page(posts=[post(50 + i, HELPER, "a") for i in range(20)]))
    store_page(con, Page(posts=[top]))
    counting = CountingConnection(con)
    plans: list[str] = []
    real = counting.execute

    def execute(sql: str, *args):  # type: ignore[no-untyped-def]
        if sql.lstrip().startswith("SELECT"):  # (EXPLAIN ANALYZE runs the statement: only reads)
            plans.append(con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args).fetchall()[0][1])
        elif "sightings" in sql:
            plans.append(con.execute("EXPLAIN (FORMAT JSON) " + sql, *args).fetchall()[0][1])
        return real(sql, *args)

    counting.execute = execute  # type: ignore[method-assign]
    store_page(counting, Page(posts=[answer, again]))  # type: ignore[arg-type]
    assert links(con)["2"] == ("1", "1") and links(con)["3"] == ("2", "1")
    assert plans and not [table for plan in plans for table in _sequential_scans(json.loads(plan))
                          if table.endswith(".sightings")]


def waiting_apart(con) -> set[tuple]:
    return set(con.execute(f"SELECT {WAITING_COLUMNS} FROM reply_waits").fetchall())


def waiting_in_posts(con) -> set[tuple]:
    return set(con.execute(f"SELECT {WAITING_COLUMNS} FROM post_store WHERE {WAITING}").fetchall())


def test_the_replies_kept_waiting_apart_are_those_the_posts_say_wait(tmp_path: Path) -> None:
    """reply_waits holds exactly the stored replies missing a parent or a root, whatever order a thread comes in."""
    top, answer, again = thread()
    far = post(4, HELPER, "b", text="From elsewhere.", reply_to="https://elsewhere.example/9")
    con = store.connect(tmp_path / "db.duckdb")
    for batch in ([again], [far, answer], [top]):
        store_page(con, Page(posts=batch))
        assert waiting_apart(con) == waiting_in_posts(con)
    assert {row[0].rsplit("/", 1)[1] for row in waiting_apart(con)} == {"4"}  # the thread is complete
    unrooted = post(5, ASKER, "a", text="Answering a gone post.", reply_to_local="a-99")
    store_page(con, Page(posts=[unrooted]))
    assert {row[0].rsplit("/", 1)[1] for row in waiting_apart(con)} == {"4", "5"}
    purge_accounts(con, [HELPER.key])  # forgetting an author takes their waiting replies out too
    assert waiting_apart(con) == waiting_in_posts(con)
    assert {row[0].rsplit("/", 1)[1] for row in waiting_apart(con)} == {"5"}


def test_a_commit_reads_no_whole_table_to_link_its_replies(tmp_path: Path) -> None:
    """Parents are read through the primary key and waiting replies from reply_waits: no pass over post_store."""
    top, answer, again = thread()
    con = store.connect(tmp_path / "db.duckdb")
    store_page(con, Page(posts=[post(50 + i, HELPER, "c") for i in range(20)]))
    store_page(con, Page(posts=[again, answer]))
    plans: list[str] = []
    counting = CountingConnection(con)
    real = counting.execute

    def execute(sql: str, *args):  # type: ignore[no-untyped-def]
        if sql.lstrip().startswith("SELECT"):  # (EXPLAIN ANALYZE runs the statement: only reads)
            plans.append(con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args).fetchall()[0][1])
        return real(sql, *args)

    counting.execute = execute  # type: ignore[method-assign]
    with store.transaction(con):
        store_pages_in_transaction(con, [Page(posts=[top])], link_replies=False)
        resolve_reply_parents(counting, [top], {("a", "a-1"): top.uri})  # type: ignore[arg-type]
    assert {k: v for k, v in links(con).items() if int(k) < 50} == {"1": (None, None), "2": ("1", "1"),
                                                                     "3": ("2", "1")}
    assert plans and not [table for plan in plans for table in _sequential_scans(json.loads(plan))
                          if table.endswith(".post_store")]


def _sequential_scans(node: object) -> list[str]:
    """The tables a profiled plan (EXPLAIN (ANALYZE, FORMAT JSON)) reads whole rather than through an index."""
    if isinstance(node, list):
        return [t for child in node for t in _sequential_scans(child)]
    if not isinstance(node, dict):
        return []
    info = node.get("extra_info") or {}
    found = [info["Table"]] if info.get("Type") == "Sequential Scan" and "Table" in info else []
    return found + [t for key in ("operator", "children") for t in _sequential_scans(node.get(key, []))]
