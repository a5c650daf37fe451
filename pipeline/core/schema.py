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

# post_store's columns, in table order, once every migration below has run (``raw`` dropped, the rest added).
POST_COLUMNS = (
    "uri", "platform", "url", "author", "created_at", "edited_at", "text", "html", "lang", "tags", "visibility",
    "reply_to", "reply_to_source", "reply_to_local_id", "reply_root", "quote_of", "via", "first_seen_at",
    "updated_at", "deleted_at", "is_request", "request_reasons", "from_origin",
)

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

# Words that say a post asks something, not what it is about, in the languages the rules know.
_STOP_WORDS = """
'does','anyone','know','knows','have','with','that','this','what','which','there','their','about','would','could',
'should','from','your','some','good','best','help','need','looking','recommend','recommendations','thanks','please',
'here','when','where','using','someone','library','libraries','librarian','librarians','question','questions',
'advice','ideas','tips','like','want','just','also','they','them','been','into','than','then','more','most','other',
'anybody','experience','suggestions','solo','small','work','works','working','quelqu','quelque','avez','vous','pour',
'dans','avec','merci','bonjour','connaissez','connait','cherche','bibliothèque','bibliothécaire','conseils','conseil',
'nous','notre','votre','sont','kennt','jemand','eine','einen','einer','nach','suche','danke','bibliothek','habt',
'ihr','gibt','alguien','conoce','para','busco','gracias','biblioteca','tiene','tienen','sobre','alguém','conhece'
"""

# A request's terms: its words of four letters or more that are not stop words, and its hashtags.
REQUEST_TERMS = f"""
CREATE OR REPLACE MACRO request_terms(body, hashtags) AS list_distinct(
    list_filter(regexp_split_to_array(lower(regexp_replace(coalesce(body, ''), 'https?://\\S+|@\\S+', ' ', 'g')),
                                      '[^\\p{{L}}\\p{{N}}]+'),
                lambda w: length(w) >= 4 AND NOT list_contains([{_STOP_WORDS}], w))
    || list_transform(coalesce(hashtags, []), lambda t: '#' || lower(t)));
"""

# For each request open at as_of, the earlier answered (or resolved) requests sharing its rarer terms:
# a cosine of idf-weighted term sets. A term in more than one request in five says nothing of topic, and
# each term is looked up among the 100 newest answered requests that use it, so the work per open
# request stays bounded however long the history grows. The history is the 5,000 newest answered or
# resolved requests (months to years of a community): what it knows now, at a cost that does not grow
# with the file.
REQUEST_MATCHES_AT = """
CREATE OR REPLACE MACRO request_matches_at(as_of) AS TABLE
WITH everything AS MATERIALIZED (SELECT uri, created_at, status, text, tags FROM help_requests_at(as_of)),
corpus AS (
    SELECT * FROM everything WHERE status = 'open'
    UNION ALL
    (SELECT * FROM everything WHERE status <> 'open' ORDER BY created_at DESC, uri LIMIT 5000)
),
hr AS MATERIALIZED (SELECT uri, created_at, status, request_terms(text, tags) AS terms FROM corpus),
docs AS MATERIALIZED (SELECT uri, unnest(terms) AS term FROM hr),
weights AS MATERIALIZED (
    SELECT term, ln((SELECT count(*) FROM hr) + 1.0) - ln(count(*)) AS idf FROM docs GROUP BY term
    HAVING count(*) <= greatest(3, 0.2 * (SELECT count(*) FROM hr))
),
weighted AS MATERIALIZED (
    SELECT d.uri, d.term, w.idf, hr.status, hr.created_at FROM docs d JOIN weights w USING (term) JOIN hr USING (uri)
),
norms AS MATERIALIZED (SELECT uri, sqrt(sum(idf * idf)) AS norm FROM weighted GROUP BY uri),
asking AS MATERIALIZED (SELECT * FROM weighted WHERE status = 'open'),
answered AS MATERIALIZED (
    SELECT * FROM weighted WHERE status <> 'open' AND term IN (SELECT term FROM asking)
    QUALIFY row_number() OVER (PARTITION BY term ORDER BY created_at DESC, uri) <= 100
)
SELECT o.uri, p.uri AS past_uri, sum(o.idf * o.idf) / (no.norm * np.norm) AS score,
       first(o.term ORDER BY o.idf DESC, o.term) AS top_term
FROM asking o
JOIN answered p ON p.term = o.term AND p.created_at < o.created_at
JOIN norms no ON no.uri = o.uri
JOIN norms np ON np.uri = p.uri
GROUP BY o.uri, p.uri, no.norm, np.norm;
"""

SIMILAR_REQUESTS_AT = """
CREATE OR REPLACE MACRO similar_requests_at(as_of) AS TABLE
SELECT uri, row_number() OVER (PARTITION BY uri ORDER BY score DESC, past_uri) AS rank, past_uri AS similar_uri,
       round(score, 4) AS score
FROM request_matches_at(as_of)
QUALIFY rank <= 3;
"""

# Who could answer each open request: people who answered similar requests (the first answer counts
# double), in its language, recently. Never its author, a bot, an opted-out, forgotten or
# non-discoverable account. Everyone active in the last 180 days is a candidate, so a request
# with no similar past still gets the community's steadiest answerers.
SUGGESTED_PEERS_AT = """
CREATE OR REPLACE MACRO suggested_peers_at(as_of) AS TABLE
WITH hr AS MATERIALIZED (SELECT uri, author, lang, status, first_responder FROM help_requests_at(as_of)),
eligible AS MATERIALIZED (
    SELECT account FROM account_store
    WHERE NOT bot AND discoverable IS DISTINCT FROM false
      AND account NOT IN (SELECT account FROM opt_outs) AND account NOT IN (SELECT account FROM forgotten)
),
answers AS MATERIALIZED (
    SELECT x.author AS account, r.uri AS request, any_value(r.lang) AS lang, max(x.created_at) AS replied_at,
           CASE WHEN bool_or(x.author = r.first_responder) THEN 1.0 ELSE 0.3 END AS weight
    FROM post_store x JOIN hr r ON r.uri = x.reply_root AND r.status <> 'open'
    WHERE x.deleted_at IS NULL AND x.created_at <= as_of AND x.author <> r.author
      AND x.author IN (SELECT account FROM eligible)
    GROUP BY x.author, r.uri
),
profile AS MATERIALIZED (
    SELECT account, count(*) AS answered, max(replied_at) AS last_at,
           count(*) FILTER (WHERE replied_at >= as_of::TIMESTAMPTZ - INTERVAL 180 DAYS) AS recent
    FROM answers GROUP BY account
),
langs AS (SELECT account, lang, count(*) AS n FROM answers WHERE lang IS NOT NULL GROUP BY ALL),
topical AS (
    SELECT m.uri, a.account, sum(m.score * m.score * a.weight) AS topic, count(*) AS questions,
           first(m.top_term ORDER BY m.score * a.weight DESC, m.top_term) AS about
    FROM request_matches_at(as_of) m JOIN answers a ON a.request = m.past_uri
    GROUP BY m.uri, a.account
),
steady AS (SELECT account FROM profile WHERE recent > 0 ORDER BY recent DESC, account LIMIT 20),
candidates AS (
    SELECT uri, account FROM topical
    UNION SELECT o.uri, s.account FROM hr o, steady s WHERE o.status = 'open'
),
scored AS (
    SELECT c.uri, c.account, t.questions, t.about, o.lang, coalesce(l.n, 0) / p.answered AS lang_share,
           date_diff('day', p.last_at, as_of::TIMESTAMPTZ) AS idle_days,
           (coalesce(t.topic, 0) + 0.05 * ln(1 + p.recent))
             * CASE WHEN o.lang IS NULL THEN 1 ELSE 0.2 + 0.8 * coalesce(l.n, 0) / p.answered END
             * exp(-date_diff('day', p.last_at, as_of::TIMESTAMPTZ) / 60.0) AS score
    FROM candidates c
    JOIN hr o ON o.uri = c.uri
    JOIN profile p ON p.account = c.account
    LEFT JOIN topical t ON t.uri = c.uri AND t.account = c.account
    LEFT JOIN langs l ON l.account = c.account AND l.lang = o.lang
    WHERE c.account <> o.author
)
SELECT uri, row_number() OVER (PARTITION BY uri ORDER BY score DESC, account) AS rank, account,
       round(score, 4) AS score,
       list_filter([
           CASE WHEN questions > 0 THEN 'answered ' || questions || ' question' || CASE WHEN questions > 1 THEN 's'
                ELSE '' END || ' about ' || ltrim(about, '#') END,
           CASE WHEN lang IS NOT NULL AND lang_share >= 0.5 THEN 'answers in ' || lang END,
           CASE WHEN idle_days <= 1 THEN 'answered someone today or yesterday'
                ELSE 'last answered ' || idle_days || ' days ago' END
       ], lambda r: r IS NOT NULL) AS reasons
FROM scored
QUALIFY rank <= 3;
"""

VIEWS = WEEK_START + HELP_REQUESTS_AT + PEER_ACTIVITY_AT + REQUEST_TERMS + REQUEST_MATCHES_AT + SIMILAR_REQUESTS_AT \
    + SUGGESTED_PEERS_AT + """
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
FROM account_store a
WHERE a.account NOT IN (SELECT account FROM opt_outs);  -- hidden while an opt-out awaits its home server

CREATE OR REPLACE VIEW help_requests AS SELECT * FROM help_requests_at(now());
CREATE OR REPLACE VIEW peer_activity AS SELECT * FROM peer_activity_at(now());
"""


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
