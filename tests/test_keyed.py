"""Rows found by key read the same whether the index or one scan finds them, and a large batch stores as a small one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.records import MASTODON, Account, Page, Post, Sighting
from pipeline.core import store
from pipeline.core.ingest import keyed, store_page

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MANY = keyed.INDEX_SCAN_MAX + 500  # more keys than one index chunk: the scan's turn when the table is small


def _posts(n: int, text: str = "Has anyone a retention schedule to share?", **kw: object) -> list[Post]:
    authors = [Account(key=f"u{i}@glammr.us", platform=MASTODON, handle=f"u{i}@glammr.us") for i in range(50)]
    return [Post(uri=f"https://glammr.us/users/u{i % 50}/statuses/{i}", platform=MASTODON, author=authors[i % 50],
                 created_at=T0 + timedelta(seconds=i), text=text, html=f"<p>{text}</p>",
                 sighting=Sighting("glammr.us", str(i)), **kw)  # type: ignore[arg-type]
            for i in range(n)]


@pytest.mark.parametrize("rows_per_key", [0, 10**9])  # 0: always the index; 10**9: one scan for a large batch
def test_large_batches_store_the_same_by_index_or_by_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          rows_per_key: int) -> None:
    monkeypatch.setattr(keyed, "SCAN_ROWS_PER_KEY", rows_per_key)
    con = store.connect(tmp_path / "d.duckdb")
    first = _posts(MANY)
    assert store_page(con, Page(posts=first), now=T0).new_posts == MANY
    edited = [replace(p, text="Edited: who has a retention schedule?", edited_at=T0 + timedelta(hours=1))
              for p in first[::2]]
    again = store_page(con, Page(posts=edited + first[1::2] + _posts(MANY + 10)[MANY:]), now=T0 + timedelta(hours=2))
    assert (again.new_posts, again.updated_posts) == (10, len(edited))
    assert con.execute("SELECT count(*), count(DISTINCT uri) FROM post_store").fetchone() == (MANY + 10, MANY + 10)
    assert con.execute("SELECT count(*) FROM post_store WHERE text LIKE 'Edited:%'").fetchone() == (len(edited),)
    assert con.execute("SELECT count(*) FROM sightings").fetchone() == (MANY + 10,)


def test_the_scan_and_the_index_find_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = store.connect(tmp_path / "d.duckdb")
    store_page(con, Page(posts=_posts(MANY)), now=T0)
    wanted = [f"https://glammr.us/users/u{i % 50}/statuses/{i}" for i in range(0, 2 * MANY, 2)]  # half not stored
    found = {}
    for rows_per_key in (0, 10**9):
        monkeypatch.setattr(keyed, "SCAN_ROWS_PER_KEY", rows_per_key)
        found[rows_per_key] = sorted(keyed.rows_by_key(con, "SELECT uri, author FROM post_store", "uri", wanted))
    assert found[0] == found[10**9] and len(found[0]) == MANY // 2 + MANY % 2


def test_a_select_without_its_table_is_refused(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "d.duckdb")
    with pytest.raises(ValueError, match="SELECT ... FROM"):
        keyed.rows_by_key(con, "SELECT 1", "uri", [str(i) for i in range(MANY)])
