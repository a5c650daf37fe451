"""The database's shape: tables, versioned migrations and the documented views.

This module is the only place that says what the DuckDB file looks like. Each
migration runs once, in order, inside a transaction, and is recorded in
``schema_migrations``; views are recreated after migrating because they are
interface, not storage (README "Data model").
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

Migration = tuple[int, str, str]

MIGRATIONS: list[Migration] = [
    (
        1,
        "posts, accounts, sightings, cursors, runs, consent",
        """
        CREATE TABLE post_store (
            uri VARCHAR PRIMARY KEY,
            platform VARCHAR NOT NULL,
            url VARCHAR,
            author VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            edited_at TIMESTAMPTZ,
            text VARCHAR,
            html VARCHAR,
            lang VARCHAR,
            tags VARCHAR[] NOT NULL,
            visibility VARCHAR NOT NULL,
            reply_to VARCHAR,
            reply_to_source VARCHAR,
            reply_to_local_id VARCHAR,
            reply_root VARCHAR,
            quote_of VARCHAR,
            via VARCHAR NOT NULL,
            first_seen_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            deleted_at TIMESTAMPTZ,
            raw VARCHAR
        );
        CREATE TABLE account_store (
            account VARCHAR PRIMARY KEY,
            platform VARCHAR NOT NULL,
            handle VARCHAR NOT NULL,
            display_name VARCHAR,
            url VARCHAR,
            bot BOOLEAN NOT NULL,
            discoverable BOOLEAN,
            indexable BOOLEAN,
            labels VARCHAR[],
            avatar VARCHAR,
            first_seen_at TIMESTAMPTZ NOT NULL,
            last_seen_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE sightings (
            source VARCHAR NOT NULL,
            local_id VARCHAR NOT NULL,
            uri VARCHAR NOT NULL,
            seen_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (source, local_id)
        );
        CREATE TABLE cursors (
            cursor_key VARCHAR PRIMARY KEY,
            position VARCHAR NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE SEQUENCE collection_run_ids;
        CREATE TABLE collection_runs (
            run_id BIGINT PRIMARY KEY DEFAULT nextval('collection_run_ids'),
            source VARCHAR NOT NULL,
            platform VARCHAR NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ NOT NULL,
            ok BOOLEAN NOT NULL,
            new_posts INTEGER NOT NULL,
            updated_posts INTEGER NOT NULL,
            requests INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            rate_limit_waits INTEGER NOT NULL,
            message VARCHAR
        );
        -- Accounts that asked to be forgotten (peerdesk forget): kept so that
        -- they stay out; nothing else about them is kept.
        CREATE TABLE forgotten (
            account VARCHAR PRIMARY KEY,
            forgotten_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
]

VIEWS = """
CREATE OR REPLACE VIEW posts AS
SELECT uri, platform, url, author, created_at, edited_at, text, html, lang, tags,
       visibility, reply_to, reply_root, quote_of, via,
       (SELECT count(*) FROM sightings s WHERE s.uri = p.uri) AS sightings,
       first_seen_at, updated_at
FROM post_store p
WHERE deleted_at IS NULL;

CREATE OR REPLACE VIEW accounts AS
SELECT a.account, a.platform, a.handle, a.display_name, a.url, a.bot, a.discoverable,
       a.indexable, a.labels, a.first_seen_at, a.last_seen_at,
       (SELECT count(*) FROM post_store p WHERE p.author = a.account AND p.deleted_at IS NULL) AS posts
FROM account_store a;
"""


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None,
            views: str | Callable[[], str] = VIEWS) -> int:
    """Bring the file up to date; returns the number of migrations applied."""
    todo = [m for m in (migrations or MIGRATIONS) if m[0] > current_version(con)]
    for version, name, sql in todo:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    if todo or not _views_exist(con):
        con.execute(views() if callable(views) else views)
    return len(todo)


def _views_exist(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'posts' AND NOT internal").fetchone()
    return bool(row and row[0])


def latest_version() -> int:
    return MIGRATIONS[-1][0]
