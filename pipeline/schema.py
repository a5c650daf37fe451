"""The database's shape: tables, versioned migrations and the documented views.

This module is the only place that says what the DuckDB file looks like. Each
migration runs once, in order, inside a transaction, and is recorded in
``schema_migrations``; views are recreated after migrating because they are
interface, not storage (README "Data model").
"""

from __future__ import annotations

import hashlib
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
        "the community's own help-request model",
        """
        -- The shipped model fine-tuned on this community's curator decisions (pipeline.detector_store):
        -- JSON in the shape of pipeline/request_model.json, replaced whole on each retrain.
        CREATE TABLE detector_models (
            name VARCHAR PRIMARY KEY,
            trained_at TIMESTAMPTZ NOT NULL,
            decisions INTEGER NOT NULL,
            model VARCHAR NOT NULL
        );
        """,
    ),
]

# Thread replies answer a request when they sit anywhere under it (reply_root),
# come from another account that is not a bot, and exist at the as_of time.
HELP_REQUESTS_AT = """
CREATE OR REPLACE MACRO help_requests_at(as_of) AS TABLE
WITH requests AS (
    SELECT p.uri, p.platform, p.url, p.author, p.created_at, p.text, p.lang, p.tags,
           coalesce(p.request_reasons, []) AS reasons, c.request_override,
           CASE WHEN c.resolved_at <= as_of THEN c.resolved_at END AS resolved_at
    FROM post_store p LEFT JOIN curation c ON c.uri = p.uri
    WHERE p.deleted_at IS NULL AND p.reply_to IS NULL AND p.reply_to_local_id IS NULL
      AND p.via <> 'thread' AND p.created_at <= as_of
      AND coalesce(c.request_override, p.is_request, false)
      -- our own weekly summaries come back under the tag; they never ask anything
      AND p.uri NOT IN (SELECT uri FROM published_posts WHERE uri IS NOT NULL)
),
answers AS (
    SELECT x.reply_root AS uri, min(x.created_at) AS first_response_at,
           arg_min(x.author, x.created_at) AS first_responder, count(*) AS replies_from_others
    FROM post_store x
    JOIN requests r ON r.uri = x.reply_root
    JOIN account_store a ON a.account = x.author
    WHERE x.deleted_at IS NULL AND x.author <> r.author AND NOT a.bot AND x.created_at <= as_of
    GROUP BY x.reply_root
)
SELECT r.uri, r.platform, r.url, r.author, r.created_at, r.text, r.lang, r.tags, r.reasons,
       r.request_override IS NOT NULL AS curated,
       CASE WHEN r.resolved_at IS NOT NULL THEN 'resolved'
            WHEN a.first_response_at IS NOT NULL THEN 'answered'
            ELSE 'open' END AS status,
       a.first_response_at, a.first_responder, coalesce(a.replies_from_others, 0) AS replies_from_others,
       a.first_response_at - r.created_at AS response_time, r.resolved_at
FROM requests r LEFT JOIN answers a ON a.uri = r.uri;
"""

# The Monday 00:00 UTC that starts a time's ISO week, by arithmetic on microseconds
# (1970-01-05 was a Monday): ten times cheaper than date_trunc over a million rows.
WEEK_START = """
CREATE OR REPLACE MACRO week_start(ts) AS
    make_timestamptz(epoch_us(ts) - ((epoch_us(ts) - 345600000000) % 604800000000));
"""

PEER_ACTIVITY_AT = """
CREATE OR REPLACE MACRO peer_activity_at(as_of, since := NULL) AS TABLE
WITH hr AS MATERIALIZED (SELECT uri, author, first_responder, first_response_at, response_time
                          FROM help_requests_at(as_of)),
authored AS (
    SELECT p.author AS account, week_start(p.created_at) AS week_start, count(*) AS posts,
           count(hr.uri) AS requests_asked
    FROM post_store p LEFT JOIN hr ON hr.uri = p.uri
    WHERE p.deleted_at IS NULL AND p.created_at <= as_of
      AND (since IS NULL OR p.created_at >= week_start(since::TIMESTAMPTZ))
    GROUP BY ALL
),
replies AS (
    SELECT x.author AS account, week_start(x.created_at) AS week_start,
           count(*) AS replies_to_others
    FROM post_store x JOIN hr ON hr.uri = x.reply_root
    WHERE x.deleted_at IS NULL AND x.author <> hr.author AND x.created_at <= as_of
      AND (since IS NULL OR x.created_at >= week_start(since::TIMESTAMPTZ))
    GROUP BY ALL
),
firsts AS (
    SELECT first_responder AS account, week_start(first_response_at) AS week_start,
           count(*) AS first_responses, median(response_time) AS median_response_time
    FROM hr WHERE first_responder IS NOT NULL
      AND (since IS NULL OR first_response_at >= week_start(since::TIMESTAMPTZ))
    GROUP BY ALL
),
weeks AS (
    SELECT account, week_start FROM authored UNION SELECT account, week_start FROM replies
)
SELECT w.account, acc.platform, acc.handle, acc.bot,
       strftime(w.week_start, '%G-W%V') AS week, w.week_start,
       coalesce(au.posts, 0) AS posts, coalesce(au.requests_asked, 0) AS requests_asked,
       coalesce(re.replies_to_others, 0) AS replies_to_others, coalesce(fi.first_responses, 0) AS first_responses,
       fi.median_response_time
FROM weeks w
JOIN account_store acc ON acc.account = w.account
LEFT JOIN authored au ON au.account = w.account AND au.week_start = w.week_start
LEFT JOIN replies re ON re.account = w.account AND re.week_start = w.week_start
LEFT JOIN firsts fi ON fi.account = w.account AND fi.week_start = w.week_start;
"""

VIEWS = WEEK_START + HELP_REQUESTS_AT + PEER_ACTIVITY_AT + """
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

CREATE OR REPLACE VIEW help_requests AS SELECT * FROM help_requests_at(now());
CREATE OR REPLACE VIEW peer_activity AS SELECT * FROM peer_activity_at(now());
"""


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open, and the connection then
    # refuses to register a table (see pipeline.store.mark_deleted right after connecting).
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
