"""The documented views: what the database means, defined once, in SQL (README "Data model").

**An open help request** is a post that (1) is top-level: it answers nothing and was found for itself
(a tag, a list, the stream), not fetched as someone's thread reply; (2) is classified as asking the community
for something, unless the curator said otherwise; (3) is not deleted and not one of our own published
summaries; and (4) has, as of the moment asked about, neither been marked resolved by the curator nor
received a reply anywhere in its thread from another account that is not a bot. A reply like that makes it
"answered"; the curator's mark makes it "resolved". ``help_requests_at(as_of)`` is that definition; the
``help_requests`` view is it at ``now()``, and every count in the CLI, the dashboard, the weekly summary
and the alerts reads from it.

The rest builds on it: ``peer_activity_at`` (who helps, per ISO week), ``similar_requests_at`` and
``suggested_peers_at`` (who could answer an open request), and the ``posts``/``accounts`` views over the
tables. :func:`pipeline.core.schema.migrate` recreates them whenever this text changes: views are interface,
not storage.
"""

from __future__ import annotations

from collectors.records import VIA_THREAD


def top_level(alias: str = "") -> str:
    """The SQL condition "this stored post is top-level" for ``post_store`` (named ``alias`` in the query).

    A reply, even one whose parent is known only by a local id not sighted yet, is an answer, and a post
    fetched only as part of someone's thread was not found for itself: neither can be a request.
    Everything that asks "could this be a request?" of the table uses this one condition.
    """
    p = f"{alias}." if alias else ""
    return f"{p}reply_to IS NULL AND {p}reply_to_local_id IS NULL AND {p}via <> '{VIA_THREAD}'"


# Who may be named in anything peerdesk shows or writes (a report, an export, the dashboard, a summary,
# an alert): consent.promotable's rule in SQL, and not forgotten or opted out, even while the opt-out awaits
# its home server. Everyone else may still be counted.
NAMEABLE = """
CREATE OR REPLACE VIEW nameable_accounts AS
SELECT account FROM account_store
WHERE NOT bot AND discoverable IS DISTINCT FROM false
  AND NOT list_contains(coalesce(labels, []), '!no-unauthenticated')
  AND account NOT IN (SELECT account FROM opt_outs) AND account NOT IN (SELECT account FROM forgotten);
"""

# Thread replies answer a request when they sit anywhere under it (reply_root),
# come from another account that is not a bot, and exist at the as_of time.
# ``since`` keeps only the requests posted from then on, for what a collection cycle asks each time (the
# threads due, the posts to re-verify, the roots the stream follows): only posts of the last weeks are read,
# so the cost follows what was posted lately, not the size of the file. Replies are then read from a week
# before ``since`` on: a reply that says it was posted more than a week before its request (a clock far
# off) does not count as an answer there, and the request is re-checked as if open.
# ``help_answers_at`` is the whole definition and knows who answered first, for counting who helps
# (``peer_activity_at``, the peers report, suggestions). ``help_requests_at``, which every output reads,
# names that first responder only when the account may be named (see ``NAMEABLE``); the request is still
# answered, and its response time counts. The answers are grouped, and joined back, by the request's row id
# (a number) rather than by its uri (a string): a fifth less work over a million posts, the same rows.
HELP_REQUESTS_AT = f"""
CREATE OR REPLACE MACRO help_answers_at(as_of, since := NULL) AS TABLE
WITH requests AS (
    SELECT p.rowid AS rid, p.uri, p.platform, p.url, p.author, p.created_at, p.text, p.lang, p.tags,
           coalesce(p.request_reasons, []) AS reasons, c.request_override,
           CASE WHEN c.resolved_at <= as_of THEN c.resolved_at END AS resolved_at
    FROM post_store p LEFT JOIN curation c ON c.uri = p.uri
    WHERE p.deleted_at IS NULL AND {top_level('p')} AND p.created_at <= as_of
      AND (since IS NULL OR p.created_at >= since)
      AND coalesce(c.request_override, p.is_request, false)
      -- our own weekly summaries come back under the tag; they never ask anything
      AND p.uri NOT IN (SELECT uri FROM published_posts WHERE uri IS NOT NULL)
),
answers AS (
    SELECT r.rid, min(x.created_at) AS first_response_at,
           arg_min(x.author, x.created_at) AS first_responder, count(*) AS replies_from_others
    FROM post_store x
    JOIN requests r ON r.uri = x.reply_root
    JOIN account_store a ON a.account = x.author
    WHERE x.deleted_at IS NULL AND x.author <> r.author AND NOT a.bot AND x.created_at <= as_of
      AND (since IS NULL OR x.created_at >= since::TIMESTAMPTZ - INTERVAL 7 DAY)
    GROUP BY r.rid
)
SELECT r.uri, r.platform, r.url, r.author, r.created_at, r.text, r.lang, r.tags, r.reasons,
       r.request_override IS NOT NULL AS curated,
       CASE WHEN r.resolved_at IS NOT NULL THEN 'resolved'
            WHEN a.first_response_at IS NOT NULL THEN 'answered'
            ELSE 'open' END AS status,
       a.first_response_at, a.first_responder, coalesce(a.replies_from_others, 0) AS replies_from_others,
       a.first_response_at - r.created_at AS response_time, r.resolved_at
FROM requests r LEFT JOIN answers a ON a.rid = r.rid;

CREATE OR REPLACE MACRO help_requests_at(as_of, since := NULL) AS TABLE
SELECT * REPLACE (CASE WHEN first_responder IN (SELECT account FROM nameable_accounts) THEN first_responder
                  END AS first_responder)
FROM help_answers_at(as_of, since := since);
"""

# The Monday 00:00 UTC that starts a time's ISO week, by arithmetic on microseconds
# (1970-01-05 was a Monday): ten times cheaper than date_trunc over a million rows.
WEEK_START = """
CREATE OR REPLACE MACRO week_start(ts) AS
    make_timestamptz(epoch_us(ts) - ((epoch_us(ts) - 345600000000) % 604800000000));
"""

# Every reply is a post of its author's, and so is every request, so the account-weeks that replied or asked
# are among those that posted: one pass over the posts counts posts and replies to others' requests together
# (one hash lookup into the requests), and the requests asked are counted from the requests themselves. Before,
# a second pass over the replies, a lookup of every post's uri among the requests and a UNION cost twice as much.
PEER_ACTIVITY_AT = """
CREATE OR REPLACE MACRO peer_activity_at(as_of, since := NULL) AS TABLE
WITH hr AS MATERIALIZED (SELECT uri, author, created_at, first_responder, first_response_at, response_time
                          FROM help_answers_at(as_of)),
authored AS (
    SELECT p.author AS account, week_start(p.created_at) AS week_start, count(*) AS posts,
           count(*) FILTER (WHERE p.author <> answered.author) AS replies_to_others
    FROM post_store p
    LEFT JOIN hr answered ON answered.uri = p.reply_root
    WHERE p.deleted_at IS NULL AND p.created_at <= as_of
      AND (since IS NULL OR p.created_at >= week_start(since::TIMESTAMPTZ))
    GROUP BY ALL
),
asked AS (
    SELECT author AS account, week_start(created_at) AS week_start, count(*) AS requests_asked
    FROM hr WHERE since IS NULL OR created_at >= week_start(since::TIMESTAMPTZ)
    GROUP BY ALL
),
firsts AS (
    SELECT first_responder AS account, week_start(first_response_at) AS week_start,
           count(*) AS first_responses, median(response_time) AS median_response_time
    FROM hr WHERE first_responder IS NOT NULL
      AND (since IS NULL OR first_response_at >= week_start(since::TIMESTAMPTZ))
    GROUP BY ALL
)
SELECT au.account, acc.platform, acc.handle, acc.bot,
       strftime(au.week_start, '%G-W%V') AS week, au.week_start,
       au.posts, coalesce(aq.requests_asked, 0) AS requests_asked, au.replies_to_others,
       coalesce(fi.first_responses, 0) AS first_responses, fi.median_response_time
FROM authored au
JOIN account_store acc ON acc.account = au.account
LEFT JOIN asked aq ON aq.account = au.account AND aq.week_start = au.week_start
LEFT JOIN firsts fi ON fi.account = au.account AND fi.week_start = au.week_start;
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
WITH hr AS MATERIALIZED (SELECT uri, author, lang, status, first_responder FROM help_answers_at(as_of)),
eligible AS MATERIALIZED (SELECT account FROM nameable_accounts),
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

VIEWS = NAMEABLE + WEEK_START + HELP_REQUESTS_AT + PEER_ACTIVITY_AT + REQUEST_TERMS + REQUEST_MATCHES_AT \
    + SIMILAR_REQUESTS_AT + SUGGESTED_PEERS_AT + """
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
