"""The bundled sample, loaded the way `peerdesk demo` loads it: every special case lands as the rules say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.collection.demo import load_demo
from pipeline.core import queries, store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    loaded = load_demo(path, now=NOW)
    assert loaded.errors == []
    return path


def _one(path: Path, sql: str) -> object:
    with store.reading(path) as con:
        return con.execute(sql).fetchall()[0][0]


def test_newest_post_is_now_and_both_platforms_are_there(demo_db: Path) -> None:
    with store.reading(demo_db) as con:
        newest, platforms = con.execute("SELECT max(created_at), list(DISTINCT platform ORDER BY platform) "
                                        "FROM post_store").fetchall()[0]
    assert newest == NOW and platforms == ["bluesky", "mastodon"]


def test_opted_out_and_private_never_land(demo_db: Path) -> None:
    stored = {r[0] for r in _rows(demo_db, "SELECT account FROM account_store")}
    for account in ("bernie@mastodon.social", "greta@mastodon.social", "rosa@glammr.us"):
        assert account not in stored
    handles = {r[0] for r in _rows(demo_db, "SELECT handle FROM account_store")}
    assert not handles & {"quietshelves.bsky.social", "kitharlow.bsky.social"}
    assert _one(demo_db, "SELECT count(*) FROM post_store WHERE visibility NOT IN ('public', 'unlisted')") == 0
    assert _one(demo_db, "SELECT count(*) FROM post_store WHERE uri LIKE '%kwame/statuses/117599878971450743'") == 0


def test_federated_copies_boosts_edits_and_deletions(demo_db: Path) -> None:
    assert _one(demo_db, "SELECT max(sightings) FROM posts") == 3
    assert _one(demo_db, "SELECT count(*) FROM post_store WHERE uri LIKE '%/activity'") == 0
    edited = "https://glammr.us/users/layla/statuses/117604300947478908"
    assert _one(demo_db, f"SELECT edited_at IS NOT NULL FROM post_store WHERE uri = '{edited}'")
    deleted = "https://mastodon.social/users/emily/statuses/117630843355201515"
    assert _one(demo_db, f"SELECT text IS NULL AND deleted_at IS NOT NULL FROM post_store WHERE uri = '{deleted}'")
    assert _one(demo_db, f"SELECT count(*) FROM posts WHERE uri = '{deleted}'") == 0


def test_the_bot_is_flagged_and_injection_is_kept_as_text(demo_db: Path) -> None:
    assert _one(demo_db, "SELECT bool_and(bot) FROM account_store WHERE handle LIKE 'digest@%'")
    text = _one(demo_db, "SELECT text FROM post_store WHERE uri LIKE '%sam/statuses/117608391966780648'")
    assert "<script>" in text  # the author wrote it as text; it is shown as text
    raw = _one(demo_db, "SELECT text FROM post_store WHERE uri LIKE '%freece/statuses/117643279925252641'")
    assert "onerror" not in raw and "javascript:" not in raw


def test_help_requests_open_and_answered_on_both_platforms(demo_db: Path) -> None:
    with store.reading(demo_db) as con:
        rows = queries.help_requests(con, NOW, status=None)
    statuses = {(r["platform"], r["status"]) for r in rows}
    assert statuses >= {("mastodon", "open"), ("mastodon", "answered"), ("bluesky", "open"), ("bluesky", "answered")}
    assert all(r["reasons"] for r in rows)


def test_demo_command_without_dashboard(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "d.duckdb"), "--no-dashboard"])
    assert result.exit_code == 0, result.output
    assert "help requests" in result.output and (tmp_path / "d.duckdb").exists()


def _rows(path: Path, sql: str) -> list[tuple]:
    with store.reading(path) as con:
        return con.execute(sql).fetchall()
