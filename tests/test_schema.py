"""The database's shape: every released version upgrades, and the definitions written once hold.

A file made by any earlier release (a version between 1 and the latest) must open in a writer and come out
at the latest version with its rows intact and the documented views answering; ``POST_COLUMNS`` must be the
migrated ``post_store``; and "a request is a top-level post" must mean the same to the views and the
detector's re-scoring.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.core import schema, store
from pipeline.core.views import top_level
from pipeline.detector.model import base_model
from pipeline.detector.store import rescore_posts

T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DOCUMENTED_VIEWS = ("posts", "accounts", "help_requests", "peer_activity")


def _file_at(path: Path, version: int) -> None:
    """A file as release ``version`` left it: its migrations, and one post and its author in the tables."""
    con = duckdb.connect(str(path))
    schema.migrate(con, migrations=schema.MIGRATIONS[:version], views="")
    con.execute("INSERT INTO account_store (account, platform, handle, bot, first_seen_at, last_seen_at) "
                "VALUES ('ana', 'mastodon', 'ana@glammr.us', false, $t, $t)", {"t": T})
    con.execute("INSERT INTO post_store (uri, platform, author, created_at, tags, visibility, via, first_seen_at, "
                "updated_at, text) VALUES ('u1', 'mastodon', 'ana', $t, ['sololibrarians'], 'public', 'tag', $t, $t, "
                "'Does anyone know a good ILS?')", {"t": T})
    con.close()


@pytest.mark.parametrize("version", [m[0] for m in schema.MIGRATIONS])
def test_a_file_from_every_released_version_upgrades(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.duckdb"
    _file_at(path, version)
    with store.writing(path) as con:
        assert schema.current_version(con) == schema.latest_version()
        assert con.execute("SELECT uri, text FROM posts").fetchall() == [("u1", "Does anyone know a good ILS?")]
        for view in DOCUMENTED_VIEWS:
            con.execute(f"SELECT * FROM {view}").fetchall()
        assert con.execute("SELECT count(*) FROM help_requests_at($t)", {"t": T}).fetchall() == [(0,)]


def test_post_columns_are_the_migrated_post_store() -> None:
    con = duckdb.connect()
    schema.migrate(con)
    described = tuple(row[0] for row in con.execute("DESCRIBE post_store").fetchall())
    assert schema.POST_COLUMNS == described


def _post(con: duckdb.DuckDBPyConnection, uri: str, *, reply_to: str | None = None, local: str | None = None,
          via: str = "tag") -> None:
    con.execute(
        "INSERT INTO post_store (uri, platform, author, created_at, text, tags, visibility, reply_to, reply_to_source,"
        " reply_to_local_id, via, first_seen_at, updated_at) VALUES ($uri, 'mastodon', 'ana', $t,"
        " 'Does anyone know a good ILS for a small law library?', [], 'public', $reply_to, $source, $local, $via,"
        " $t, $t)",
        {"uri": uri, "t": T, "reply_to": reply_to, "source": "glammr.us" if local else None, "local": local,
         "via": via})


def test_only_top_level_posts_are_rescored_as_requests() -> None:
    """A reply whose parent is known only by its local id is an answer: re-scoring must not make it a request."""
    con = duckdb.connect()
    schema.migrate(con)
    _post(con, "top")
    _post(con, "reply", reply_to="top")
    _post(con, "reply-to-unsighted", local="10")
    _post(con, "thread-reply", via="thread")
    rescore_posts(con, base_model())
    flagged = con.execute("SELECT uri FROM post_store WHERE is_request ORDER BY uri").fetchall()
    top = con.execute(f"SELECT uri FROM post_store WHERE {top_level()} ORDER BY uri").fetchall()
    assert flagged == top == [("top",)]


def _documented() -> dict[str, dict[str, str]]:
    """README "Data model": each view's (or table macro's) columns and the types written beside them."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Data model"):]
    section = section[:section.index("\n## ", 1)]
    found: dict[str, dict[str, str]] = {}
    current = None
    for line in section.splitlines():
        heading = re.match(r"^`(\w+)(\(TIMESTAMP\))?`: ", line)
        if heading:
            current = heading.group(1)
            continue
        row = re.match(r"^\| (`[^|]+`) \|([^|]*)\|", line)
        if current and row:
            for name in re.findall(r"`(\w+)`", row.group(1)):
                found.setdefault(current, {})[name] = row.group(2).strip()
    return found


def test_the_documented_views_have_the_documented_columns() -> None:
    """The README's tables are the interface: every column of each view, in its type; nothing undocumented."""
    con = duckdb.connect()
    schema.migrate(con)
    documented = _documented()
    assert set(documented) == {"posts", "accounts", "help_requests", "peer_activity", "suggested_peers_at"}
    borrowed = {"help_requests": "posts", "peer_activity": "accounts"}  # rows that say "as in posts"
    for name, columns in documented.items():
        source = f"{name}(now())" if name.endswith("_at") else name
        described = {row[0]: row[1].replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
                     for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        assert set(columns) == set(described), name
        for column, kind in columns.items():
            expected = kind or documented[borrowed[name]][column]
            assert described[column] == expected, (name, column)


def test_version_8_sets_apart_the_stored_replies_still_waiting_for_a_link(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    schema.migrate(con, migrations=schema.MIGRATIONS[:7], views="")
    _post(con, "top")
    _post(con, "answered", reply_to="top")  # a parent, no root: waits for the walk that gives it one
    _post(con, "reply-to-unsighted", local="10")
    con.execute("UPDATE post_store SET reply_root = 'top' WHERE uri = 'answered'")
    _post(con, "reply-to-missing", reply_to="gone")
    con.close()
    with store.writing(path) as con:
        assert con.execute("SELECT uri, reply_to, reply_to_source, reply_to_local_id, reply_root FROM reply_waits "
                           "ORDER BY uri").fetchall() == [("reply-to-missing", "gone", None, None, None),
                                                          ("reply-to-unsighted", None, "glammr.us", "10", None)]
