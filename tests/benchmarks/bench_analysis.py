"""Benchmark: recomputing help_requests and peer_activity, and a thread re-check cycle's budget.

Run: .venv/bin/python -m tests.benchmarks.bench_analysis [--quick]

(a) 1,000,000 posts of which 400,000 are replies: time to recompute both views in DuckDB, against a
    naive baseline that loads the posts into Python and loops (target: under 1 s, and 10x faster).
(b) a collection cycle with 1,000 open requests due for a re-check, against a local fake instance: the
    thread requests it makes must not exceed [threads] budget.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipeline.core import store

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)

# The definitions as they were before 2026-12-05, kept to time beside them (as temporary macros): answers
# grouped by the request's uri; replies counted in a second pass over the posts, and the account-weeks that
# posted and that replied joined by a UNION.
BEFORE_HELP_REQUESTS = """
CREATE OR REPLACE TEMP MACRO help_answers_before(as_of, since := NULL) AS TABLE
WITH requests AS (
    SELECT p.uri, p.platform, p.url, p.author, p.created_at, p.text, p.lang, p.tags,
           coalesce(p.request_reasons, []) AS reasons, c.request_override,
           CASE WHEN c.resolved_at <= as_of THEN c.resolved_at END AS resolved_at
    FROM post_store p LEFT JOIN curation c ON c.uri = p.uri
    WHERE p.deleted_at IS NULL AND p.reply_to IS NULL AND p.reply_to_local_id IS NULL AND p.via <> 'thread'
      AND p.created_at <= as_of
      AND (since IS NULL OR p.created_at >= since)
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
      AND (since IS NULL OR x.created_at >= since::TIMESTAMPTZ - INTERVAL 7 DAY)
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

CREATE OR REPLACE TEMP MACRO help_requests_before(as_of, since := NULL) AS TABLE
SELECT * REPLACE (CASE WHEN first_responder IN (SELECT account FROM nameable_accounts) THEN first_responder
                  END AS first_responder)
FROM help_answers_before(as_of, since := since);
"""

BEFORE_PEER_ACTIVITY = """
CREATE OR REPLACE TEMP MACRO peer_activity_before(as_of, since := NULL) AS TABLE
WITH hr AS MATERIALIZED (SELECT uri, author, first_responder, first_response_at, response_time
                          FROM help_answers_before(as_of)),
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


def build(path: Path, posts: int, replies: int, accounts: int = 20_000) -> None:
    """Fill the schema with SQL (fast): top-level posts, a third of them requests, and replies under them."""
    tops = posts - replies
    with store.writing(path) as con:
        con.execute(f"""
            INSERT INTO account_store
            SELECT 'user' || i || '@example.org', 'mastodon', 'user' || i || '@example.org', 'User ' || i, NULL,
                   i % 97 = 0, true, true, [], NULL, TIMESTAMPTZ '2026-01-01', TIMESTAMPTZ '2026-11-01'
            FROM range({accounts}) t(i)""")
        con.execute(f"""
            INSERT INTO post_store (uri, platform, url, author, created_at, text, tags, visibility, via,
                                    first_seen_at, updated_at, is_request, request_reasons)
            SELECT 'https://example.org/p/' || i, 'mastodon', NULL, 'user' || (i * 7919 % {accounts}) || '@example.org',
                   TIMESTAMPTZ '2026-08-01' + to_seconds(i * 8), 'post ' || i, ['sololibrarians'], 'public', 'tag',
                   TIMESTAMPTZ '2026-11-01', TIMESTAMPTZ '2026-11-01', i % 3 = 0,
                   CASE WHEN i % 3 = 0 THEN ['question-mark'] END
            FROM range({tops}) t(i)""")
        con.execute(f"""
            INSERT INTO post_store (uri, platform, url, author, created_at, text, tags, visibility, reply_to,
                                    reply_root, via, first_seen_at, updated_at)
            SELECT 'https://example.org/r/' || j, 'mastodon', NULL,
                   'user' || (j * 104729 % {accounts}) || '@example.org',
                   TIMESTAMPTZ '2026-08-01' + to_seconds(root * 8 + 60 + j % 86400),
                   'reply ' || j, [], 'public', 'https://example.org/p/' || root, 'https://example.org/p/' || root,
                   'thread', TIMESTAMPTZ '2026-11-01', TIMESTAMPTZ '2026-11-01'
            FROM (SELECT j, (j * 3 % {tops}) // 3 * 3 AS root FROM range({replies}) t(j))""")


def views_once(con: duckdb.DuckDBPyConnection, suffix: str = "at") -> tuple[float, int, int]:
    """Both views, every row and column kept (as a temporary table), as one reader asks them.

    ``suffix`` "before" times the definitions this file keeps, in place of ``pipeline/core/views.py``'s.
    """
    start = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE hr AS SELECT * FROM help_requests_{suffix}($1)", [AS_OF])
    con.execute(f"CREATE OR REPLACE TEMP TABLE pa AS SELECT * FROM peer_activity_{suffix}($1)", [AS_OF])
    elapsed = time.perf_counter() - start
    n_hr = con.execute("SELECT count(*) FROM hr").fetchall()[0][0]
    n_pa = con.execute("SELECT count(*) FROM pa").fetchall()[0][0]
    return elapsed, n_hr, n_pa


def same_rows(con: duckdb.DuckDBPyConnection, view: str) -> bool:
    """Whether ``view``'s macro now and before give the same rows (as many times each)."""
    return con.execute(f"""
        SELECT count(*) = 0 FROM (
            (SELECT * FROM {view}_at($1) EXCEPT ALL SELECT * FROM {view}_before($1))
            UNION ALL
            (SELECT * FROM {view}_before($1) EXCEPT ALL SELECT * FROM {view}_at($1)))
        """, [AS_OF]).fetchall()[0][0]


def views_best(path: Path, runs: int = 3) -> tuple[tuple[float, int, int], tuple[float, int, int], bool]:
    """The best of ``runs`` for the views as defined now and as they were, taking turns on one connection.

    Also whether both definitions give the same rows, for both views.
    """
    with store.reading(path) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(BEFORE_HELP_REQUESTS + BEFORE_PEER_ACTIVITY)
        now, before = [], []
        for _ in range(runs):
            now.append(views_once(con))
            before.append(views_once(con, "before"))
        same = same_rows(con, "help_requests") and same_rows(con, "peer_activity")
    return min(now), min(before), same


def naive(path: Path) -> tuple[float, list[tuple], list[tuple]]:
    """The obvious Python: fetch the rows, then loop over them with dictionaries, making both views' rows.

    It answers what the views answer (deleted posts, the curator's overrides and marks, our own summaries,
    bots, who may be named), so :func:`same_answers` can check it against them.
    """
    with store.reading(path) as con:
        start = time.perf_counter()
        posts = con.execute(
            "SELECT uri, platform, url, author, created_at, text, lang, tags, request_reasons, is_request, "
            "reply_to, reply_to_local_id, reply_root, via FROM post_store WHERE deleted_at IS NULL").fetchall()
        accounts = {a: (platform, handle, bot, not bot and discoverable is not False
                        and "!no-unauthenticated" not in (labels or []))
                    for a, platform, handle, bot, discoverable, labels in con.execute(
                        "SELECT account, platform, handle, bot, discoverable, labels FROM account_store").fetchall()}
        hidden = {a for (a,) in con.execute("SELECT account FROM opt_outs UNION SELECT account FROM forgotten")
                  .fetchall()}
        curation = {u: (o, r) for u, o, r in con.execute(
            "SELECT uri, request_override, resolved_at FROM curation").fetchall()}
        published = {u for (u,) in con.execute("SELECT uri FROM published_posts WHERE uri IS NOT NULL").fetchall()}
    requests = {}
    for post in posts:
        uri, created, is_request, reply_to, reply_local, via = post[0], post[4], post[9], post[10], post[11], post[13]
        override = curation.get(uri, (None, None))[0]
        if created <= AS_OF and reply_to is None and reply_local is None and via != "thread" \
                and (override if override is not None else bool(is_request)) and uri not in published:
            requests[uri] = post
    first: dict[str, tuple[datetime, str]] = {}
    replies_from_others: dict[str, int] = defaultdict(int)
    weekly: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, 0, 0, []])
    for uri, _, _, author, created, *_, root, _ in posts:
        if created > AS_OF:
            continue
        week = created.strftime("%G-W%V")
        weekly[(author, week)][0] += 1
        if uri in requests:
            weekly[(author, week)][1] += 1
        request = requests.get(root)
        if request is not None and author != request[3]:
            weekly[(author, week)][2] += 1
            if author in accounts and not accounts[author][2]:
                replies_from_others[root] += 1
                if root not in first or created < first[root][0]:
                    first[root] = (created, author)
    help_requests = []
    for uri, (_, platform, url, author, created, text, lang, tags, reasons, *_) in requests.items():
        override, resolved = curation.get(uri, (None, None))
        resolved = resolved if resolved is not None and resolved <= AS_OF else None
        when, who = first.get(uri, (None, None))
        named = who if who is not None and accounts[who][3] and who not in hidden else None
        status = "resolved" if resolved is not None else "answered" if when is not None else "open"
        help_requests.append((uri, platform, url, author, created, text, lang, tags, reasons or [],
                              override is not None, status, when, named, replies_from_others.get(uri, 0),
                              when - created if when is not None else None, resolved))
    for root, (when, who) in first.items():
        row = weekly[(who, when.strftime("%G-W%V"))]
        row[3] += 1
        row[4].append(when - requests[root][4])
    peer_activity = []
    for (account, week), (posted, asked, replied, firsts, times) in weekly.items():
        if account in accounts:
            platform, handle, bot, _ = accounts[account]
            monday = datetime.strptime(week + "-1", "%G-W%V-%u").replace(tzinfo=UTC)
            peer_activity.append((account, platform, handle, bot, week, monday, posted, asked, replied, firsts,
                                  statistics.median(times) if times else None))
    return time.perf_counter() - start, help_requests, peer_activity


def same_answers(path: Path, help_requests: list[tuple], peer_activity: list[tuple]) -> bool:
    """Whether the naive rows are the views' rows (medians to the microsecond: an even count's is a mean)."""
    def rounded(rows: list[tuple]) -> list[tuple]:
        return sorted(row[:-1] + (None if row[-1] is None else round(row[-1].total_seconds(), 3),) for row in rows)

    with store.reading(path) as con:
        views_hr = con.execute("SELECT * FROM help_requests_at($1)", [AS_OF]).fetchall()
        views_pa = con.execute("SELECT * FROM peer_activity_at($1)", [AS_OF]).fetchall()
    key = str  # NULLs sort beside values
    return (sorted(views_hr, key=key) == sorted(help_requests, key=key)
            and rounded(views_pa) == rounded(peer_activity))


def recheck_budget(n_requests: int, budget: int) -> tuple[int, int, float]:
    from pipeline.collection.cycle import CycleOptions, run_cycle
    from tests.fakes.mastodon import FakeMastodon, make_account, make_status
    from tests.support import mastodon_settings

    author = make_account("asker")
    statuses = [make_status(10_000 + i, author=author, text=f"Any tips for problem {i}?",
                            created_at=(AS_OF - timedelta(days=3, minutes=i)).isoformat().replace("+00:00", "Z"))
                for i in range(n_requests)]
    with tempfile.TemporaryDirectory() as tmp, FakeMastodon(statuses[::-1]) as server:
        settings = mastodon_settings(Path(tmp), server.base, thread_budget=budget)
        options = CycleOptions(since=AS_OF - timedelta(days=30), backoff=0.01, clock=lambda: AS_OF)
        start = time.perf_counter()
        asyncio.run(run_cycle(settings, options))
        elapsed = time.perf_counter() - start
        return len(server.requests_to("/api/v1/statuses/")), n_requests, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    posts, replies = 1_000_000 // scale, 400_000 // scale
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        start = time.perf_counter()
        build(path, posts, replies)
        print(f"built {posts:,} posts ({replies:,} replies) in {time.perf_counter() - start:.1f}s")
        ours, before, same = views_best(path)
        theirs = naive(path)
        agree = same_answers(path, theirs[1], theirs[2])
    print(f"{'measure':<44}{'figure':>14}  target")
    print(f"{'help_requests + peer_activity (DuckDB)':<44}{ours[0]:>13.3f}s  < 1 s  "
          f"{'PASS' if ours[0] < 1 else 'MISS'}  ({ours[1]:,} requests, {ours[2]:,} account-weeks)")
    print(f"{'the same, as defined before 2026-12-05':<44}{before[0]:>13.3f}s  (same rows: {same})")
    print(f"{'naive Python baseline':<44}{theirs[0]:>13.3f}s  ({len(theirs[1]):,} requests, "
          f"{len(theirs[2]):,} account-weeks; the views' rows: {agree})")
    ratio = theirs[0] / ours[0]
    print(f"{'speed-up over baseline':<44}{ratio:>13.1f}x  >= 10x  {'PASS' if ratio >= 10 else 'MISS'}")
    made, due, elapsed = recheck_budget(1000 // scale, 100 // scale)
    print(f"{'re-check cycle: thread requests made':<44}{made:>14}  <= budget {100 // scale} "
          f"({due} open requests due)  {'PASS' if made <= 100 // scale else 'MISS'}  [{elapsed:.1f}s]")


if __name__ == "__main__":
    main()
