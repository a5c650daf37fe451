"""help_requests_at and peer_activity_at, made faster, give the rows they gave before; the weeks read the posts once.

A small community from the analysis benchmark's generator, roughened with what the definition has to leave
out (deleted posts, bots, authors answering themselves, a curator's overrides and marks, one of our own
summaries, a reply dated after ``as_of``), is read by the definition now in ``pipeline/core/views.py`` and by
the one it replaced (kept in the benchmark), for several moments and ``since`` values: the rows must match.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.core import store
from tests.benchmarks import bench_analysis as bench

MOMENTS = [datetime(2026, 8, 1, 3, tzinfo=UTC), datetime(2026, 8, 1, 6, 30, tzinfo=UTC), bench.AS_OF]
SINCE = [None, datetime(2026, 7, 20, tzinfo=UTC), datetime(2026, 8, 1, 2, 15, tzinfo=UTC)]


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "community.duckdb"
    bench.build(path, posts=3_000, replies=1_200, accounts=60)
    with store.writing(path) as con:
        con.execute("UPDATE account_store SET bot = true WHERE account IN ('user7@example.org', 'user8@example.org')")
        con.execute("UPDATE post_store SET deleted_at = TIMESTAMPTZ '2026-08-01' "
                    "WHERE uri LIKE '%/p/%' AND hash(uri) % 11 = 0 OR uri LIKE '%/r/%' AND hash(uri) % 13 = 0")
        # authors answering their own requests, and a reply posted after the last moment asked about
        con.execute("""UPDATE post_store r SET author = p.author FROM post_store p
                       WHERE p.uri = r.reply_root AND hash(r.uri) % 5 = 0""")
        con.execute("UPDATE post_store SET created_at = TIMESTAMPTZ '2026-12-01' WHERE uri = 'https://example.org/r/9'")
        con.execute("""INSERT INTO curation (uri, request_override, resolved_at, decided_at) VALUES
            ('https://example.org/p/1', true, NULL, TIMESTAMPTZ '2026-08-02'),
            ('https://example.org/p/3', false, NULL, TIMESTAMPTZ '2026-08-02'),
            ('https://example.org/p/6', NULL, TIMESTAMPTZ '2026-08-01 04:00', TIMESTAMPTZ '2026-08-02')""")
        con.execute("""INSERT INTO published_posts (week, platform, seq, idempotency_key, uri, text, posted_at)
                       VALUES ('2026-W31', 'mastodon', 0, 'k', 'https://example.org/p/12', 'summary',
                               TIMESTAMPTZ '2026-08-01')""")
    return path


@pytest.mark.parametrize("macro", ["help_answers", "help_requests", "peer_activity"])
def test_the_views_give_the_rows_the_replaced_definitions_gave(community: Path, macro: str) -> None:
    with store.reading(community) as con:
        con.execute(bench.BEFORE_HELP_REQUESTS + bench.BEFORE_PEER_ACTIVITY)
        assert con.execute(f"DESCRIBE SELECT * FROM {macro}_at(now())").fetchall() == \
            con.execute(f"DESCRIBE SELECT * FROM {macro}_before(now())").fetchall()
        rows = 0
        for as_of in MOMENTS:
            for since in SINCE:
                now, before = (con.execute(f"SELECT * FROM {macro}_{suffix}($1, since := $2::TIMESTAMPTZ) ORDER BY ALL",
                                           [as_of, since]).fetchall() for suffix in ("at", "before"))
                assert now == before, (as_of, since)
                rows += len(now)
        assert rows > 100  # not a comparison of empty tables


def _post_store_scans(node: dict[str, Any]) -> int:
    here = node.get("type") == "TABLE_SCAN" and node["extra_info"].get("Table", "").endswith(".post_store")
    return int(here) + sum(_post_store_scans(c) for c in node.get("children", []) + node.get("operator", []))


def _scans_of(con: duckdb.DuckDBPyConnection, query: str, profile: Path) -> int:
    con.execute("PRAGMA enable_profiling='json'")
    con.execute(f"PRAGMA profiling_output='{profile}'")
    con.execute(query).fetchall()
    con.execute("PRAGMA disable_profiling")
    return _post_store_scans(json.loads(profile.read_text()))


def test_peer_activity_reads_the_posts_once_beyond_what_the_answers_read(community: Path, tmp_path: Path) -> None:
    """The answers read the posts twice (the requests, then the replies); the weeks read them only once more."""
    with store.reading(community) as con:
        as_of = bench.AS_OF.isoformat()
        answers = _scans_of(con, f"SELECT * FROM help_answers_at(TIMESTAMPTZ '{as_of}')", tmp_path / "a.json")
        peers = _scans_of(con, f"SELECT * FROM peer_activity_at(TIMESTAMPTZ '{as_of}')", tmp_path / "p.json")
    assert (answers, peers) == (2, 3)


def test_the_benchmarks_naive_baseline_answers_what_the_views_answer(community: Path) -> None:
    """bench_analysis's speed-up is over a loop that does the same job, edge cases included."""
    _, help_requests, peer_activity = bench.naive(community)
    assert {row[10] for row in help_requests} == {"open", "answered", "resolved"}
    assert bench.same_answers(community, help_requests, peer_activity)
