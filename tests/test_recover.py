"""A commit never rewrites the file; a file torn by a kill inside a checkpoint is named and rebuilt by `repair`.

The torn file is built the way docs/notes/duckdb_kill_on_close.py shows: the
state at the instant a checkpoint starts, with the first page of DuckDB's
in-place rewrite of a block already written and the rest not.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from collectors.mastodon.parse import parse_statuses
from collectors.records import Page
from pipeline.cli.commands import cli
from pipeline.core import store
from pipeline.core.ingest import store_pages_in_transaction
from pipeline.core.recover import _copy_tables, checksum
from pipeline.core.writer import Writer
from tests.fakes.mastodon import make_account, make_status
from tests.support import held_open

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BLOCKS_START = 3 * 4096


def _page(batch: int, size: int = 40) -> Page:
    items = [make_status(batch * size + i, author=make_account(f"user{i % 7}", account_id=str(i % 7)),
                         text=f"Newsletter number {batch * size + i} is out") for i in range(size)]
    posts, _ = parse_statuses(items, "glammr.us", "glammr.us", [])
    return Page(posts=posts, cursor_key="mastodon:https://glammr.us:sololibrarians", cursor=str(batch))


def _commit(db: Path, batch: int) -> None:
    with store.writing(db) as con, store.transaction(con):
        store_pages_in_transaction(con, [_page(batch)])


def _rows(db: Path) -> tuple[list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        posts = con.execute("SELECT uri, text FROM post_store ORDER BY uri").fetchall()
        cursors = con.execute("SELECT cursor_key, position FROM cursors ORDER BY 1").fetchall()
    finally:
        con.close()
    return posts, cursors


def test_a_commit_goes_to_the_wal_and_leaves_the_file_itself_untouched(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _commit(db, 0)
    store.checkpoint(db)
    assert not store.wal_path(db).exists()
    before = db.read_bytes()
    for batch in (1, 2, 3):
        _commit(db, batch)
    assert db.read_bytes() == before  # closing a writer no longer checkpoints into the file
    assert store.wal_path(db).stat().st_size > 0
    assert len(_rows(db)[0]) == 160  # a reader sees the WAL's commits
    store.checkpoint(db)
    assert not store.wal_path(db).exists() and db.read_bytes() != before
    assert len(_rows(db)[0]) == 160


def test_the_writer_folds_the_wal_into_the_file_once_it_passes_the_limit(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "db.duckdb"
    writer = Writer(db)
    asyncio.run(writer.run(lambda con: store_pages_in_transaction(con, [_page(0)])))
    assert store.wal_path(db).exists()
    monkeypatch.setattr(store, "WAL_LIMIT", store.wal_path(db).stat().st_size + 1)
    asyncio.run(writer.run(lambda con: store_pages_in_transaction(con, [_page(1)])))
    assert not store.wal_path(db).exists()
    assert len(_rows(db)[0]) == 80


def test_a_clean_exit_leaves_the_wal_to_a_later_writer_while_another_process_holds_the_file(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _commit(db, 0)
    with held_open(db):
        store.checkpoint(db, wait=0.2)  # no exception: the stop stays clean
    assert len(_rows(db)[0]) == 40


def _torn(tmp_path: Path) -> tuple[Path, Path]:
    """A file killed inside a close's checkpoint, and the same file had the close finished."""
    db = tmp_path / "peerdesk.duckdb"
    for batch in range(4):
        _commit(db, batch)
        store.checkpoint(db)  # as every close did before
    _commit(db, 4)  # the commit whose close is interrupted: in the WAL
    finished = tmp_path / "finished.duckdb"
    shutil.copyfile(db, finished)
    shutil.copyfile(store.wal_path(db), store.wal_path(finished))
    store.checkpoint(finished)
    old, new = db.read_bytes(), finished.read_bytes()
    block = 262_144
    for start in range(BLOCKS_START, min(len(old), len(new)), block):
        if old[start:start + block] != new[start:start + block] and old[start:start + 8] != new[start:start + 8]:
            db.write_bytes(old[:start] + new[start:start + 4096] + old[start + 4096:])
            try:
                duckdb.connect(str(db), read_only=True).close()
            except duckdb.Error:
                return db, finished
            db.write_bytes(old)
    raise AssertionError("no in-place block write found whose tearing breaks the file")


def test_a_file_torn_by_a_kill_inside_a_checkpoint_is_named_then_repaired(tmp_path: Path) -> None:
    db, finished = _torn(tmp_path)
    with pytest.raises(store.DamagedDatabase, match="peerdesk repair"):
        store.connect(db, read_only=True)
    config = tmp_path / "peerdesk.toml"
    config.write_text(f"[database]\npath = '{db.name}'\n", encoding="utf-8")
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", str(config), "posts"])
    assert listed.exit_code == 1
    assert "is damaged" in listed.output and "peerdesk repair" in listed.output
    assert "Traceback" not in listed.output and len(listed.output.strip().splitlines()) == 1
    collecting = runner.invoke(cli, ["--config", str(config), "collect"])  # a writer: fails before any request
    assert collecting.exit_code == 1 and "peerdesk repair" in collecting.output, collecting.output

    repaired = runner.invoke(cli, ["--config", str(config), "repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "post_store: 200 rows copied" in repaired.output
    assert "re-sealed the torn block" in repaired.output
    assert _rows(db) == _rows(finished)  # nothing lost, the interrupted commit included, nothing twice
    kept = list(tmp_path.glob("peerdesk.duckdb.damaged-*"))
    assert {p.name.endswith(".wal") for p in kept} == {False, True}
    assert not list(tmp_path.glob(".peerdesk.duckdb.repair-*"))
    # The rebuilt file takes the next collection as any other would.
    _commit(db, 5)
    with store.writing(db) as con:
        store.record_run(con, source="glammr.us", platform="mastodon", started_at=NOW, finished_at=NOW, ok=True,
                         new_posts=40, updated_posts=0, requests=1, errors=0, rate_limit_waits=0, message=None)
    assert len(_rows(db)[0]) == 240


def test_a_wal_left_from_before_the_last_checkpoint_is_set_aside(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _commit(db, 0)
    store.checkpoint(db)
    _commit(db, 1)
    stale = store.wal_path(db).read_bytes()
    store.checkpoint(db)
    store.wal_path(db).write_bytes(stale)  # as if the WAL had been copied back beside a newer file
    with pytest.raises(store.DamagedDatabase, match="WAL checkpoint iteration"):
        store.connect(db)
    result = CliRunner().invoke(cli, ["repair", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "set aside a WAL older than the file's last checkpoint" in result.output
    assert "post_store: 80 rows copied" in result.output
    assert len(_rows(db)[0]) == 80


def test_repair_leaves_a_sound_file_alone(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _commit(db, 0)
    before = (db.read_bytes(), store.wal_path(db).read_bytes())
    result = CliRunner().invoke(cli, ["repair", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "post_store: 40 rows, readable" in result.output
    assert "nothing to repair" in result.output
    assert (db.read_bytes(), store.wal_path(db).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([db.name, store.wal_path(db).name])


def test_repair_waits_for_writers_to_stop(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _commit(db, 0)
    with held_open(db):
        result = CliRunner().invoke(cli, ["repair", "--db", str(db)])
    assert result.exit_code == 1 and "stop 'peerdesk run'" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_checksum_is_duckdbs(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _commit(db, 0)
    store.checkpoint(db)
    data = db.read_bytes()
    block = 262_144
    stored = int.from_bytes(data[BLOCKS_START:BLOCKS_START + 8], "little")
    assert checksum(data[BLOCKS_START + 8:BLOCKS_START + block]) == stored


def test_repair_makes_the_waiting_replies_again_from_the_posts_it_copied(tmp_path: Path) -> None:
    """reply_waits is derived from post_store: rebuilt from the copied posts, whatever of it was readable."""
    damaged, fresh = tmp_path / "damaged.duckdb", tmp_path / "fresh.duckdb"
    items = [make_status(1, author=make_account("ana", account_id="1"), text="Any tips for weeding?"),
             make_status(2, author=make_account("bo", account_id="2"), text="Start with the reference shelf.",
                         in_reply_to_id="999")]
    posts, _ = parse_statuses(items, "glammr.us", "glammr.us", [])
    with store.writing(damaged) as con, store.transaction(con):
        store_pages_in_transaction(con, [Page(posts=posts)])
    with store.writing(damaged) as con:
        waiting = con.execute("SELECT * FROM reply_waits").fetchall()
        con.execute("DELETE FROM reply_waits")  # as if its blocks had not read back
    assert len(waiting) == 1
    _copy_tables(damaged, fresh)
    with store.writing(fresh) as con:
        assert con.execute("SELECT * FROM reply_waits").fetchall() == waiting
