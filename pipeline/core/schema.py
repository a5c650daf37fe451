"""The database's storage: tables and versioned migrations.

This module is the only place that says which tables the DuckDB file holds. Each
migration runs once, in order, inside a transaction, and is recorded in
``schema_migrations``; a released migration is never edited, a change is a new one.
The documented views over these tables live in :mod:`pipeline.core.views` and are
recreated after migrating, because they are interface, not storage (README "Data model").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb

from pipeline.core.views import VIEWS

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
    (
        2,
        "help requests: classification, curator overrides",
        """
        ALTER TABLE post_store ADD COLUMN is_request BOOLEAN;
        ALTER TABLE post_store ADD COLUMN request_reasons VARCHAR[];
        -- A curator's word beats the rules and survives re-collection.
        CREATE TABLE curation (
            uri VARCHAR PRIMARY KEY,
            request_override BOOLEAN,
            resolved_at TIMESTAMPTZ,
            note VARCHAR,
            decided_at TIMESTAMPTZ NOT NULL
        );
        -- Accounts seen opting out. Sticky, because some signals are only visible
        -- from the account's home server (Mastodon sends noindex for local
        -- accounts only): a copy seen elsewhere must not bring them back.
        CREATE TABLE opt_outs (
            account VARCHAR PRIMARY KEY,
            reason VARCHAR NOT NULL,
            seen_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    (
        3,
        "follow-list decisions, published summaries, small named state",
        """
        -- The organiser's decision about each account for the follow-list.
        CREATE TABLE follow_decisions (
            account VARCHAR PRIMARY KEY,
            decision VARCHAR NOT NULL CHECK (decision IN ('approved', 'rejected', 'pending')),
            note VARCHAR,
            decided_at TIMESTAMPTZ NOT NULL
        );
        -- What was posted for a week's summary, one row per post of the thread, so that
        -- publishing is idempotent and a half-posted thread is continued, not restarted.
        CREATE TABLE published_posts (
            week VARCHAR NOT NULL,
            platform VARCHAR NOT NULL,
            seq INTEGER NOT NULL,
            idempotency_key VARCHAR NOT NULL,
            remote_id VARCHAR,
            uri VARCHAR,
            cid VARCHAR,
            url VARCHAR,
            text VARCHAR NOT NULL,
            posted_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (week, platform, seq)
        );
        -- Named positions and remote ids that are not a source's cursor
        -- (the Bluesky list's AT-URI, the starter pack's, the Mastodon list id).
        CREATE TABLE app_state (
            key VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    (
        4,
        "posts no longer keep the API's raw JSON",
        """
        -- Nothing read it; it tripled the bytes written per post and kept profile
        -- details (bios, fields, avatars) of every author beside each post.
        ALTER TABLE post_store DROP COLUMN raw;
        """,
    ),
    (
        5,
        "overdue alerts: what was sent, and what is being sent",
        """
        -- One row per request and channel ('email', 'webhook') once delivered: never sent again.
        CREATE TABLE alerts_sent (
            uri VARCHAR NOT NULL,
            channel VARCHAR NOT NULL,
            sent_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (uri, channel)
        );
        -- Written and committed before a delivery starts; removed when it surely failed, turned into
        -- an alerts_sent row when it succeeded. One left behind (a crash, a timeout after the request
        -- went out) means "may have been delivered": it is not retried (at most once per channel).
        CREATE TABLE alert_claims (
            uri VARCHAR NOT NULL,
            channel VARCHAR NOT NULL,
            claimed_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (uri, channel)
        );
        """,
    ),
    (
        6,
        "trust: a post or account is changed only by its own server",
        """
        -- Whether the stored text came from the post's own server; a copy from another instance can
        -- create a post but never change one, and the origin's copy replaces a copy's text.
        -- NULL: stored before origins were told apart (treated as the origin's).
        ALTER TABLE post_store ADD COLUMN from_origin BOOLEAN;
        -- An opt-out seen only on another instance's copy of a profile hides the account at once but
        -- is confirmed with its home server before it purges anything (confirmed = false until then).
        ALTER TABLE opt_outs ADD COLUMN confirmed BOOLEAN DEFAULT true;
        -- Posts of an account with an unconfirmed opt-out, hidden (deleted_at set, text kept) so that
        -- they come back if its home server says it did not opt out.
        CREATE TABLE hidden_posts (
            uri VARCHAR PRIMARY KEY,
            account VARCHAR NOT NULL,
            hidden_at TIMESTAMPTZ NOT NULL
        );
        -- Account domains learned so far were taken on trust; they are verified on the next contact.
        DELETE FROM cursors WHERE cursor_key LIKE 'mastodon:%:domain';
        """,
    ),
    (
        7,
        "the community's own help-request model",
        """
        -- The shipped model fine-tuned on this community's curator decisions (pipeline.detector.store):
        -- JSON in the shape of pipeline/detector/request_model.json, replaced whole on each retrain.
        CREATE TABLE detector_models (
            name VARCHAR PRIMARY KEY,
            trained_at TIMESTAMPTZ NOT NULL,
            decisions INTEGER NOT NULL,
            model VARCHAR NOT NULL
        );
        """,
    ),
    (
        8,
        "replies still waiting for a parent or a root, apart; sightings found by local id",
        """
        -- The stored replies whose link is not complete: the parent named only by a local id not sighted
        -- yet, or the root of a thread whose top is not stored yet. Their columns as in post_store, kept
        -- in step with it in the same transaction (pipeline.core.ingest.replies): a commit looks here for
        -- what its posts complete, not through every stored post. A row leaves once its link is complete.
        CREATE TABLE reply_waits (
            uri VARCHAR PRIMARY KEY,
            reply_to VARCHAR,
            reply_to_source VARCHAR,
            reply_to_local_id VARCHAR,
            reply_root VARCHAR
        );
        INSERT INTO reply_waits
        SELECT uri, reply_to, reply_to_source, reply_to_local_id, reply_root FROM post_store
        WHERE (reply_to IS NULL AND reply_to_source IS NOT NULL AND reply_to_local_id IS NOT NULL)
           OR (reply_to IS NOT NULL AND reply_root IS NULL);
        -- A sighting is found by its local id through this index (DuckDB uses no index of two columns
        -- for a list of keys): without it every commit read every sighting twice.
        CREATE INDEX sightings_local_id ON sightings (local_id);
        """,
    ),
]

# The columns of ``post_store`` once every migration above has run, in table order: the one list a
# writer names when it inserts whole posts (tests/test_schema.py holds it to the migrated table).
POST_COLUMNS: tuple[str, ...] = (
    "uri", "platform", "url", "author", "created_at", "edited_at", "text", "html", "lang", "tags", "visibility",
    "reply_to", "reply_to_source", "reply_to_local_id", "reply_root", "quote_of", "via", "first_seen_at",
    "updated_at", "deleted_at", "is_request", "request_reasons", "from_origin",
)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open, and the connection then
    # refuses to register a table (see pipeline.core.store.mark_deleted right after connecting).
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    return int(rows[0][0]) if rows else 0


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
    sql = views() if callable(views) else views
    digest = hashlib.sha256(sql.encode()).hexdigest()
    con.execute("CREATE TABLE IF NOT EXISTS schema_views (digest VARCHAR NOT NULL)")
    stored = con.execute("SELECT digest FROM schema_views").fetchall()
    if todo or not stored or stored[0][0] != digest:
        # Views are interface, not data: recreate them whenever their definition changes.
        con.execute("BEGIN TRANSACTION")
        con.execute(sql)
        con.execute("DELETE FROM schema_views")
        con.execute("INSERT INTO schema_views VALUES (?)", [digest])
        con.execute("COMMIT")
    return len(todo)


def latest_version() -> int:
    return MIGRATIONS[-1][0]
