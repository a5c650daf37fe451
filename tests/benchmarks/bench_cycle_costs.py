"""Per-cycle queries on a 100,000- and a 1,000,000-post file: ``python -m tests.benchmarks.bench_cycle_costs``.

A collection cycle (and each stream refresh) asks the database what is due:
which open requests' threads to re-check (``due_threads``), which stored posts
to re-verify (``due_posts``), which roots and accounts the stream follows
(``load_known``), which opt-outs to confirm (``pending_opt_outs``). What is due
depends on what was posted lately, not on how long the history is, so each must
cost about the same on a file ten times as deep. Target: the 1M-post figure
within 1.2x the 100k-post one. Each is timed beside its baseline: the query it
replaced, kept here as it was. The best of ``--repeat`` runs (10), the files taking turns.

The two files hold the same community at the same rate (about 270 posts a
day, ten-post threads: a help request, three other posts, six replies; one
request in nineteen stays open; a quarter on Bluesky), one year deep and ten
years deep, written with SQL (``INSERT ... SELECT`` from ``range()``) as
``bench_dashboard`` does, with the cursors a collector leaves behind: a
``thread:`` cursor per request and a ``verify:`` cursor per Mastodon post.
``--quick`` uses 10,000 and 100,000 posts. Printed, not asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from collectors.mastodon.threads import origin_of
from collectors.mastodon.verify import BATCH
from collectors.records import BLUESKY, MASTODON
from pipeline.collection import opt_out_checks, threads, verify
from pipeline.collection.stream.known import KnownAccounts, load_known
from pipeline.core import queries, store
from pipeline.core.queries.results import fetch_rows

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECONDS_PER_POST = 315  # about 274 posts a day, whatever the file's size
ACCOUNTS = 4_000  # the same community: its people, whatever the file's size
HORIZON = timedelta(days=14)  # [threads] horizon_days, the default
TARGET_GROWTH = 1.2
AFTER = timedelta(hours=4)  # [alerts] after

# i: post number (0 = newest); k: its thread; m: its place in the thread (0 = the request).
POSTS_SQL = """
INSERT INTO post_store (uri, platform, url, author, created_at, text, tags, visibility, reply_to, reply_root, via,
                        first_seen_at, updated_at, is_request, request_reasons)
WITH p AS (
    SELECT i, i // 10 AS k, i % 10 AS m, (i // 10) % 4 = 0 AS bsky,
           $now::TIMESTAMPTZ - to_seconds((i // 10) * 10 * $step) AS thread_at
    FROM range($posts - 1, -1, -1) t(i)
), q AS (
    SELECT *,
           CASE WHEN bsky THEN $accounts * 3 // 4 + (k * 31 + m * 7) % ($accounts // 4)
                ELSE (k * 31 + m * 7) % ($accounts * 3 // 4) END AS who,
           CASE WHEN m = 0 THEN thread_at
                WHEN m < 4 THEN thread_at + to_minutes(m * 37)
                ELSE thread_at + to_minutes(((i * 7919) % 4320)::BIGINT) END AS posted,
           m >= 4 AND k % 19 <> 7 AS is_reply
    FROM p
), u AS (
    SELECT *,
           CASE WHEN bsky THEN 'at://did:plc:bench/app.bsky.feed.post/' || i
                ELSE 'https://example.social/users/u' || who || '/statuses/' || i END AS uri,
           CASE WHEN bsky THEN 'at://did:plc:bench/app.bsky.feed.post/' || (k * 10)
                ELSE 'https://example.social/users/u' || ((k * 31) % ($accounts * 3 // 4)) || '/statuses/' || (k * 10)
           END AS root_uri
    FROM q
)
SELECT uri, CASE WHEN bsky THEN 'bluesky' ELSE 'mastodon' END, NULL,
       CASE WHEN bsky THEN 'did:plc:bench' || who ELSE 'u' || who || '@example.social' END,
       posted,
       CASE WHEN m = 0 THEN 'Does anyone know a good way to handle interlibrary loans alone? Thread ' || k
            ELSE 'We use a shared spreadsheet and a weekly reminder. Note ' || i END,
       ['sololibrarians'], 'public',
       CASE WHEN is_reply THEN root_uri END, CASE WHEN is_reply THEN root_uri END,
       CASE WHEN is_reply THEN 'thread' ELSE 'tag' END,
       posted, posted, m = 0, CASE WHEN m = 0 THEN ['question-mark'] ELSE ['not:no-ask'] END
FROM u
"""

ACCOUNTS_SQL = """
INSERT INTO account_store (account, platform, handle, display_name, url, bot, discoverable, indexable, labels,
                           avatar, first_seen_at, last_seen_at)
SELECT CASE WHEN bsky THEN 'did:plc:bench' || a ELSE 'u' || a || '@example.social' END,
       CASE WHEN bsky THEN 'bluesky' ELSE 'mastodon' END,
       CASE WHEN bsky THEN 'u' || a || '.bsky.social' ELSE 'u' || a || '@example.social' END,
       'Person ' || a, NULL, a % 500 = 0, true, true, [], NULL, $now::TIMESTAMPTZ, $now::TIMESTAMPTZ
FROM (SELECT range AS a, range >= $accounts * 3 // 4 AS bsky FROM range($accounts))
"""

# What a collector leaves behind: each request's thread last checked past its ladder (or an hour ago when
# younger), each Mastodon post verified a day after it was posted (so the older ones are due again).
CURSORS_SQL = """
INSERT INTO cursors
SELECT 'thread:' || uri, strftime(least(created_at + INTERVAL 8 DAY, $now::TIMESTAMPTZ - INTERVAL 1 HOUR),
                                  '%Y-%m-%dT%H:%M:%S+00:00'), $now
FROM post_store WHERE is_request AND created_at < $now::TIMESTAMPTZ - INTERVAL 1 HOUR
UNION ALL
SELECT 'verify:' || uri, strftime(created_at + INTERVAL 1 DAY, '%Y-%m-%dT%H:%M:%S+00:00'), $now
FROM post_store WHERE platform = 'mastodon' AND created_at < $now::TIMESTAMPTZ - INTERVAL 1 DAY
ORDER BY 2
"""


def build(path: Path, posts: int, accounts: int = ACCOUNTS, row_group_size: int | None = None) -> float:
    """Write the community, ``posts`` deep, oldest first as a collector would; returns the seconds it took.

    ``row_group_size`` (DuckDB's is 122,880 rows) lets a test see row groups skipped on a small file.
    """
    started = time.perf_counter()
    with store.writing(path):
        pass  # the schema, migrated
    con = duckdb.connect()
    size = f" (ROW_GROUP_SIZE {row_group_size})" if row_group_size else ""
    con.execute(f"ATTACH '{path}' AS bench{size}")
    con.execute("USE bench")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    try:
        params = {"now": NOW, "accounts": accounts}
        con.execute(ACCOUNTS_SQL, params)
        con.execute(POSTS_SQL, {**params, "posts": posts, "step": SECONDS_PER_POST})
        con.execute("INSERT INTO sightings SELECT 'example.social', 'local' || row_number() OVER "
                    "(ORDER BY created_at), uri, first_seen_at FROM post_store ORDER BY first_seen_at")
        con.execute(CURSORS_SQL, {"now": NOW})
        con.execute("INSERT INTO opt_outs SELECT account, 'noindex', $now, false FROM account_store "
                    "WHERE platform = 'mastodon' ORDER BY account LIMIT 20", {"now": NOW})
        con.execute("CHECKPOINT bench")
    finally:
        con.close()
    return time.perf_counter() - started


# -- the baselines: each query as it was before it read only what is due ------------------------------------


def old_due_threads(con: duckdb.DuckDBPyConnection, as_of: datetime, horizon: timedelta, budget: int,
                    platform: str | None = None) -> list[threads.DueThread]:
    rows = con.execute(
        """
        SELECT h.uri, h.platform, h.created_at, c.position,
               list({'source': s.source, 'local_id': s.local_id} ORDER BY s.seen_at) AS places
        FROM help_requests_at($as_of) h
        LEFT JOIN cursors c ON c.cursor_key = 'thread:' || h.uri
        LEFT JOIN sightings s ON s.uri = h.uri
        WHERE h.status = 'open' AND h.created_at >= $as_of - $horizon
          AND ($platform IS NULL OR h.platform = $platform)
        GROUP BY ALL
        """,
        {"as_of": as_of, "horizon": horizon, "platform": platform},
    ).fetchall()
    due = []
    for uri, plat, created_at, position, places in rows:
        last = datetime.fromisoformat(position) if position else None
        when = threads.next_check(created_at, last, horizon)
        if when is not None and when <= as_of:
            seen = tuple((p["source"], p["local_id"]) for p in places or [] if p["source"] is not None)
            due.append((when, threads.DueThread(uri, plat, created_at, seen)))
    due.sort(key=lambda item: (item[0], item[1].created_at))
    return [thread for _, thread in due[:budget]]


def old_due_posts(con: duckdb.DuckDBPyConnection, as_of: datetime, limit: int = verify.BUDGET * BATCH
                  ) -> list[verify.DuePost]:
    rows = con.execute(
        """
        SELECT p.uri, p.created_at, c.position
        FROM post_store p LEFT JOIN cursors c ON c.cursor_key = 'verify:' || p.uri
        WHERE p.platform = $p AND p.deleted_at IS NULL
          AND p.created_at BETWEEN $as_of - $horizon AND $as_of - $first
          AND p.uri NOT IN (SELECT uri FROM help_requests_at($as_of) WHERE status = 'open')
        """,
        {"p": MASTODON, "as_of": as_of, "horizon": verify.HORIZON, "first": verify.LADDER[0]},
    ).fetchall()
    due = []
    for uri, created_at, position in rows:
        origin = origin_of(uri)
        if origin is None:
            continue
        when = threads.next_check(created_at, datetime.fromisoformat(position) if position else None,
                                  verify.HORIZON, verify.LADDER)
        if when is not None and when <= as_of:
            due.append((when, verify.DuePost(uri, *origin)))
    due.sort(key=lambda item: item[0])
    return [post for _, post in due[:limit]]


def old_load_known(con: duckdb.DuckDBPyConnection, now: datetime, since: datetime) -> tuple[set[str], set[str]]:
    roots = {r[0] for r in con.execute(
        "SELECT uri FROM help_requests_at($now) WHERE platform = $p AND created_at >= $since",
        {"now": now, "p": BLUESKY, "since": since}).fetchall()}
    dids = {r[0] for r in con.execute(
        "SELECT account FROM account_store WHERE platform = $p UNION SELECT author FROM post_store WHERE platform = $p",
        {"p": BLUESKY}).fetchall()}
    return roots, dids


def old_overdue_requests(con: duckdb.DuckDBPyConnection, as_of: datetime, after: timedelta, horizon: timedelta
                         ) -> list[dict[str, Any]]:
    return fetch_rows(
        con,
        """
        SELECT h.uri, h.url, h.platform, h.author, a.handle, h.created_at, $as_of - h.created_at AS waiting,
               h.text, h.lang, h.tags,
               map_from_entries(coalesce((SELECT list(struct_pack(k := s.channel, v := s.sent_at))
                                          FROM alerts_sent s WHERE s.uri = h.uri), [])) AS sent,
               coalesce((SELECT list(c.channel ORDER BY c.channel) FROM alert_claims c WHERE c.uri = h.uri), [])
                   AS uncertain
        FROM help_requests_at($as_of) h JOIN account_store a ON a.account = h.author
        WHERE h.status = 'open' AND h.created_at <= $as_of - $after
          AND ($horizon IS NULL OR h.created_at >= $as_of - $horizon)
        ORDER BY h.created_at, h.uri
        """,
        {"as_of": as_of, "after": after, "horizon": horizon},
    )


# -- timing ---------------------------------------------------------------------------------------------------

Query = Callable[[duckdb.DuckDBPyConnection], Any]
REFRESH = timedelta(minutes=1)  # the stream's refresh_every: what its accounts read asks for since the last


def stream_refresh(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """A stream's refresh after a full read a minute ago: the roots, and its accounts brought up to date."""
    known = load_known(con, NOW, NOW - HORIZON, NOW - REFRESH - KnownAccounts.margin)
    return known.roots, (FULL[con] - known.gone) | known.dids


FULL: dict[duckdb.DuckDBPyConnection, set[str]] = {}  # the accounts of the full read at the stream's start

QUERIES: list[tuple[str, Query, Query | None]] = [
    ("due_threads (thread re-checks)", lambda con: threads.due_threads(con, NOW, HORIZON, 100),
     lambda con: old_due_threads(con, NOW, HORIZON, 100)),
    ("due_posts (re-verification)", lambda con: verify.due_posts(con, NOW),
     lambda con: old_due_posts(con, NOW)),
    ("load_known (stream refresh)", stream_refresh, lambda con: old_load_known(con, NOW, NOW - HORIZON)),
    ("load_known at the stream's start", lambda con: load_known(con, NOW, NOW - HORIZON), None),
    ("pending_opt_outs", lambda con: opt_out_checks.pending_opt_outs(con), None),
    ("overdue_requests (alerts)", lambda con: queries.overdue_requests(con, NOW, after=AFTER, horizon=HORIZON),
     lambda con: old_overdue_requests(con, NOW, AFTER, HORIZON)),
]


def timed(con: duckdb.DuckDBPyConnection, query: Query) -> float:
    started = time.perf_counter()
    query(con)
    return time.perf_counter() - started


def same(answer: Any, expected: Any) -> bool:
    """Equal answers; lists in any order (the baselines order posts due at the same moment as a join gives them)."""
    if isinstance(answer, list) and isinstance(expected, list):
        return sorted(map(repr, answer)) == sorted(map(repr, expected))
    return answer == expected


def measure(paths: list[Path], repeat: int) -> list[dict[str, tuple[float, float | None, bool | None]]]:
    """Per file and query: (best seconds now, best seconds of the baseline, whether both answered the same).

    The files take turns, run by run, and the best of ``repeat`` runs is kept: on a machine other jobs
    share, a slow run says more about them than about the query.
    """
    out: list[dict[str, tuple[float, float | None, bool | None]]] = [{} for _ in paths]
    cons = [store.connect(path, read_only=True) for path in paths]
    try:
        for con in cons:
            FULL[con] = load_known(con, NOW, NOW - HORIZON).dids
        for name, new, old in QUERIES:
            answers = [(new(con), old(con) if old else None) for con in cons]  # also warms each file's cache
            best = [[float("inf"), float("inf")] for _ in cons]
            for _ in range(repeat):
                for i, con in enumerate(cons):
                    best[i][0] = min(best[i][0], timed(con, new))
                    if old is not None:
                        best[i][1] = min(best[i][1], timed(con, old))
            for i, (answer, expected) in enumerate(answers):
                out[i][name] = (best[i][0], best[i][1] if old else None, same(answer, expected) if old else None)
    finally:
        for con in cons:
            con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 posts")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per query and file (the best is shown)")
    args = parser.parse_args()
    small, large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for posts in (small, large):
            paths.append(Path(tmp) / f"cycle-{posts}.duckdb")
            print(f"  .. building {posts:,} posts: {build(paths[-1], posts):.1f} s", flush=True)
        measured = measure(paths, args.repeat)
    print(f"\nper-cycle queries, best of {args.repeat}: {small:,} posts -> {large:,} posts "
          f"(target: at most {TARGET_GROWTH}x; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"{'query':<34}{'now':>22}{'growth':>9}  {'':4}{'baseline':>22}{'growth':>9}  same answer")
    for name, *_ in QUERIES:
        s_new, s_old, s_same = measured[0][name]
        l_new, l_old, l_same = measured[1][name]
        growth = l_new / s_new
        verdict = "PASS" if growth <= TARGET_GROWTH else "MISS"
        base = f"{s_old * 1000:8.1f} -> {l_old * 1000:7.1f} ms{l_old / s_old:8.1f}x" if s_old else f"{'-':>31}"
        same_ = "" if s_same is None else ("yes" if s_same and l_same else "NO")
        print(f"{name:<34}{s_new * 1000:8.1f} -> {l_new * 1000:7.1f} ms{growth:8.2f}x  {verdict:4}{base}  {same_}")


if __name__ == "__main__":
    main()
