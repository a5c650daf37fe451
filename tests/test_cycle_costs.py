"""What a collection cycle and a stream refresh read: the recent rows only, with the answers the whole file gives.

The file is ``bench_cycle_costs``'s community, 200 days deep, written in row
groups of 2,048 rows (DuckDB's own are 122,880) so that a small file has many:
DuckDB's profile then says how many of each table's row groups a query read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.collection import opt_out_checks, threads, verify
from pipeline.collection.stream.known import KnownAccounts, load_known
from pipeline.core import queries, store
from tests.benchmarks import bench_cycle_costs as bench

POSTS = 55_000  # 200 days at the benchmark's rate: 27 row groups of post_store
GROWING = {"post_store", "cursors", "sightings"}  # the tables that grow with the history


@pytest.fixture(scope="module")
def deep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("costs") / "deep.duckdb"
    bench.build(path, POSTS, accounts=400, row_group_size=2048)
    return path


def _scans(node: dict[str, Any], out: list[tuple[str, int, int]]) -> None:
    if node.get("type") == "TABLE_SCAN":
        table = node["extra_info"].get("Table", "").rsplit(".", 1)[-1]
        out.append((table, node.get("row_groups_scanned", 0), node.get("total_row_groups_to_scan", 0)))
    for child in node.get("children", []) + node.get("operator", []):
        _scans(child, out)


class _Rows:
    def __init__(self, rows: list[tuple], description: list[tuple]) -> None:
        self.rows, self.description = rows, description

    def fetchall(self) -> list[tuple]:
        return self.rows


class Profiled:
    """A connection that keeps, for each growing table any statement read, the largest share of row groups read."""

    def __init__(self, con: duckdb.DuckDBPyConnection, profile: Path) -> None:
        self.con, self.profile, self.shares = con, profile, {}
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"SET profiling_output = '{profile}'")

    def execute(self, sql: str, params: object = None) -> _Rows:
        cursor = self.con.execute(sql, params)
        rows, description = cursor.fetchall(), cursor.description
        scans: list[tuple[str, int, int]] = []
        _scans(json.loads(self.profile.read_text()), scans)
        for table, read, total in scans:
            if table in GROWING and total:
                self.shares[table] = max(self.shares.get(table, 0.0), read / total)
        return _Rows(rows, description)


def read_share(con: duckdb.DuckDBPyConnection, tmp_path: Path, query: Callable[[Any], object]) -> dict[str, float]:
    """For each growing table the query's statements read: the largest share of its row groups one of them read."""
    profiled = Profiled(con, tmp_path / "profile.json")
    try:
        query(profiled)
    finally:
        con.execute("PRAGMA disable_profiling")
    return profiled.shares


def test_due_threads_reads_the_horizon_only_and_answers_as_the_whole_file(deep_file: Path, tmp_path: Path) -> None:
    with store.reading(deep_file) as con:
        due = threads.due_threads(con, bench.NOW, bench.HORIZON, 100)
        assert due == bench.old_due_threads(con, bench.NOW, bench.HORIZON, 100)
        assert due and all(t.sightings for t in due)
        shares = read_share(con, tmp_path, lambda c: threads.due_threads(c, bench.NOW, bench.HORIZON, 100))
    assert set(shares) == GROWING
    assert max(shares.values()) <= 0.25, shares


def test_due_posts_reads_the_last_month_only_and_answers_as_the_whole_file(deep_file: Path, tmp_path: Path) -> None:
    with store.reading(deep_file) as con:
        due = verify.due_posts(con, bench.NOW, limit=10**6)
        assert due and sorted(due, key=repr) == sorted(bench.old_due_posts(con, bench.NOW, limit=10**6), key=repr)
        shares = read_share(con, tmp_path, lambda c: verify.due_posts(c, bench.NOW))
    assert shares.keys() >= {"post_store", "cursors"}
    assert max(shares.values()) <= 0.25, shares


def test_help_requests_since_is_the_whole_computation_cut_at_since(deep_file: Path, tmp_path: Path) -> None:
    since = bench.NOW - timedelta(days=20)
    with store.reading(deep_file) as con:
        sql = "SELECT * FROM help_requests_at($as_of{}) WHERE created_at >= $since ORDER BY uri"
        windowed = con.execute(sql.format(", since := $since"), {"as_of": bench.NOW, "since": since}).fetchall()
        whole = con.execute(sql.format(""), {"as_of": bench.NOW, "since": since}).fetchall()
        assert windowed and windowed == whole
        assert {r[10] for r in windowed} == {"open", "answered"}


def test_help_requests_since_reads_a_kept_snapshot_too(deep_file: Path) -> None:
    """The dashboard keeps the requests of a moment and answers from them: asking with ``since`` works there too."""
    since = bench.NOW - timedelta(days=20)
    sql = "SELECT uri, status FROM help_requests_at($as_of, since := $since) ORDER BY uri"
    with store.reading(deep_file) as con:
        direct = con.execute(sql, {"as_of": bench.NOW, "since": since}).fetchall()
        with queries.answering_from(con, queries.requests_snapshot(con, bench.NOW), bench.NOW):
            kept = con.execute(sql, {"as_of": bench.NOW, "since": since}).fetchall()
    assert direct and kept == direct


def test_stream_refresh_reads_new_rows_only(deep_file: Path, tmp_path: Path) -> None:
    """A refresh reads the recent row groups, and brings a full read up to date exactly."""
    with store.reading(deep_file) as con:
        full = load_known(con, bench.NOW, bench.NOW - bench.HORIZON)
        roots, dids = bench.old_load_known(con, bench.NOW, bench.NOW - bench.HORIZON)
        assert (full.roots, full.dids) == (roots, dids) and roots and dids
        mark = bench.NOW - timedelta(minutes=11)  # the benchmark's rows were first seen when posted
        refresh = load_known(con, bench.NOW, bench.NOW - bench.HORIZON, mark)
        assert (full.dids - refresh.gone) | refresh.dids == full.dids and refresh.roots == roots
        shares = read_share(con, tmp_path, lambda c: load_known(c, bench.NOW, bench.NOW - bench.HORIZON, mark))
    assert shares.keys() == {"post_store"} and shares["post_store"] <= 0.25, shares  # the horizon's requests


def test_pending_opt_outs_read_the_opt_out_cursors_only(deep_file: Path, tmp_path: Path) -> None:
    """Already so: DuckDB passes the opt-out keys' range to the cursors' scan, which skips the other keys' groups."""
    with store.reading(deep_file) as con:
        assert len(opt_out_checks.pending_opt_outs(con)) == 20
        shares = read_share(con, tmp_path, lambda c: opt_out_checks.pending_opt_outs(c))
    assert shares.get("cursors", 0.0) <= 0.1, shares


def test_due_home_checks_read_the_accounts_and_the_home_cursors_only(deep_file: Path, tmp_path: Path) -> None:
    """The noindex lookups to make: account_store and the ``home:`` cursors' range, never the posts."""
    with store.reading(deep_file) as con:
        due = opt_out_checks.due_home_checks(con, bench.NOW, 100)
        assert len(due) == 100 and all("@" in a for a in due)
        shares = read_share(con, tmp_path, lambda c: opt_out_checks.due_home_checks(c, bench.NOW, 100))
    assert "post_store" not in shares and shares.get("cursors", 0.0) <= 0.1, shares


def test_position_floor_is_below_every_later_position_in_any_offset() -> None:
    start = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
    floor = threads.position_floor(start)
    for hours in range(-12, 15):
        zone = timezone(timedelta(hours=hours))
        for later in (start, start + timedelta(minutes=1), start + timedelta(days=40)):
            assert later.astimezone(zone).isoformat() >= floor
    assert (start - timedelta(days=3)).isoformat() < floor  # and it leaves older ones out


def _account(con: duckdb.DuckDBPyConnection, did: str, first_seen: datetime) -> None:
    con.execute("INSERT INTO account_store VALUES (?, 'bluesky', ?, NULL, NULL, false, true, true, [], NULL, ?, ?)",
                [did, did, first_seen, first_seen])


def test_known_accounts_follow_what_is_stored_between_full_reads(tmp_path: Path) -> None:
    now = bench.NOW
    path = tmp_path / "known.duckdb"
    known = KnownAccounts()
    with store.writing(path) as con:
        _account(con, "did:plc:old", store.now_utc() - timedelta(days=400))
        _account(con, "did:plc:left", store.now_utc() - timedelta(days=400))
        _account(con, "did:plc:forgets", store.now_utc() - timedelta(days=400))
        assert known.since() is None  # the first read is whole
        assert known.apply(load_known(con, now, now - bench.HORIZON)) == {
            "did:plc:old", "did:plc:left", "did:plc:forgets"}
        mark = known.since()
        assert mark is not None and mark <= store.now_utc() - known.margin

        _account(con, "did:plc:new", store.now_utc())  # stored since
        con.execute("INSERT INTO forgotten VALUES ('did:plc:forgets', ?)", [store.now_utc()])
        con.execute("DELETE FROM account_store WHERE account = 'did:plc:forgets'")
        known.purged(["did:plc:left"])  # the stream purged it itself
        con.execute("DELETE FROM account_store WHERE account = 'did:plc:left'")
        refresh = load_known(con, now, now - bench.HORIZON, mark)
        assert not refresh.complete and refresh.dids == {"did:plc:new"}
        assert known.apply(refresh) == {"did:plc:old", "did:plc:new"}
        assert known.apply(load_known(con, now, now - bench.HORIZON)) == {"did:plc:old", "did:plc:new"}

    known.last_full -= known.full_every  # a day later: whole again
    assert known.since() is None


def test_overdue_alerts_read_the_horizon_only(deep_file: Path, tmp_path: Path) -> None:
    with store.reading(deep_file) as con:
        rows = queries.overdue_requests(con, bench.NOW, after=bench.AFTER, horizon=bench.HORIZON)
        assert rows and rows == bench.old_overdue_requests(con, bench.NOW, bench.AFTER, bench.HORIZON)
        shares = read_share(con, tmp_path, lambda c: queries.overdue_requests(
            c, bench.NOW, after=bench.AFTER, horizon=bench.HORIZON))
    assert max(shares.values()) <= 0.25, shares


def _post(con: duckdb.DuckDBPyConnection, uri: str, author: str, created_at: datetime, reply_root: str | None) -> None:
    con.execute(
        "INSERT INTO post_store (uri, platform, author, created_at, text, tags, visibility, reply_to, reply_root, via, "
        "first_seen_at, updated_at, is_request) VALUES (?, 'mastodon', ?, ?, 'Does anyone know?', [], 'public', ?, ?, "
        "?, ?, ?, ?)",
        [uri, author, created_at, reply_root, reply_root, "thread" if reply_root else "tag", created_at, created_at,
         reply_root is None])


def test_since_counts_replies_a_clock_put_before_their_request_by_up_to_a_week(tmp_path: Path) -> None:
    since = bench.NOW - bench.HORIZON
    with store.writing(tmp_path / "skew.duckdb") as con:
        for who in ("asker@x.example", "helper@y.example"):
            con.execute("INSERT INTO account_store VALUES (?, 'mastodon', ?, NULL, NULL, false, true, true, [], NULL, "
                        "?, ?)", [who, who, since, since])
        for n, skew in enumerate((timedelta(days=2), timedelta(days=9))):
            request = f"https://x.example/users/asker/statuses/{n}"
            _post(con, request, "asker@x.example", since + timedelta(hours=1), None)
            _post(con, f"https://y.example/users/helper/statuses/{n}", "helper@y.example",
                  since + timedelta(hours=1) - skew, request)
        sql = "SELECT uri, status FROM help_requests_at($as_of{}) WHERE created_at >= $since ORDER BY uri"
        whole = con.execute(sql.format(""), {"as_of": bench.NOW, "since": since}).fetchall()
        windowed = con.execute(sql.format(", since := $since"), {"as_of": bench.NOW, "since": since}).fetchall()
    assert [s for _, s in whole] == ["answered", "answered"]
    assert [s for _, s in windowed] == ["answered", "open"]  # nine days early: past the week, re-checked as open
