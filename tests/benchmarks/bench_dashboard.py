"""How fast the dashboard's pages answer on a large database: ``python -m tests.benchmarks.bench_dashboard``.

Builds (or reuses, with ``--db`` and ``--reuse``) a DuckDB file of a million posts a year deep,
written straight into the tables ``pipeline/core/schema.py`` defines with
``INSERT ... SELECT`` from ``range()`` (seconds, where the ingest path would take
minutes), then renders every page through Streamlit's AppTest with cold caches
and changes a filter on each page that has one. Targets: a page's first render
under 1.5 s, a filter change under 0.5 s. Printed, not asserted. ``--quick`` builds a
tenth of the data (100,000 posts, 2,000 accounts).

Shape of the data: threads of ten posts. The first post of each thread is a help
request, three more are top-level posts, six are replies to the request from
others on the same platform, arriving minutes to three days later. One thread in
nineteen gets no replies (its request stays open); a quarter of threads are on
Bluesky; one account in 500 is a bot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.core import store
from tests.support import dashboard_pages

TARGET_RENDER = 1.5
TARGET_FILTER = 0.5
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"

ACCOUNTS_SQL = """
INSERT INTO account_store (account, platform, handle, display_name, url, bot, discoverable, indexable, labels,
                           avatar, first_seen_at, last_seen_at)
SELECT CASE WHEN bsky THEN 'did:plc:bench' || a ELSE 'u' || a || '@example.social' END,
       CASE WHEN bsky THEN 'bluesky' ELSE 'mastodon' END,
       CASE WHEN bsky THEN 'u' || a || '.bsky.social' ELSE 'u' || a || '@example.social' END,
       'Person ' || a,
       CASE WHEN bsky THEN 'https://bsky.app/profile/u' || a || '.bsky.social'
            ELSE 'https://example.social/@u' || a END,
       a % 500 = 0, true, true, [], NULL, $now::TIMESTAMPTZ - INTERVAL 400 DAY, $now::TIMESTAMPTZ
FROM (SELECT range AS a, range >= $accounts * 3 // 4 AS bsky FROM range($accounts))
"""

# i: post number (0 = newest); k: its thread; m: its place in the thread (0 = the request).
POSTS_SQL = """
INSERT INTO post_store (uri, platform, url, author, created_at, edited_at, text, html, lang, tags, visibility,
                        reply_to, reply_to_source, reply_to_local_id, reply_root, quote_of, via, first_seen_at,
                        updated_at, deleted_at, is_request, request_reasons)
WITH p AS (
    SELECT i, i // 10 AS k, i % 10 AS m, (i // 10) % 4 = 0 AS bsky,
           $now::TIMESTAMPTZ - to_microseconds(((i // 10) * 10 * ($span_us // $posts))::BIGINT) AS thread_at
    FROM range($posts) t(i)
), q AS (
    SELECT *,
           CASE WHEN bsky THEN $accounts * 3 // 4 + (k * 31 + m * 7) % ($accounts // 4)
                ELSE (k * 31 + m * 7) % ($accounts * 3 // 4) END AS who,
           CASE WHEN m = 0 THEN thread_at
                WHEN m < 4 THEN thread_at + to_minutes(m * 37)
                ELSE thread_at + to_minutes(((i * 7919) % 4320)::BIGINT) END AS posted,
           'bench:' || (k * 10) AS root_uri,
           m >= 4 AND k % 19 <> 7 AS is_reply
    FROM p
)
SELECT 'bench:' || i,
       CASE WHEN bsky THEN 'bluesky' ELSE 'mastodon' END,
       CASE WHEN bsky THEN 'https://bsky.app/profile/u' || who || '.bsky.social/post/' || i
            ELSE 'https://example.social/@u' || who || '/' || i END,
       CASE WHEN bsky THEN 'did:plc:bench' || who ELSE 'u' || who || '@example.social' END,
       posted, NULL,
       CASE WHEN m = 0 THEN 'Does anyone know a good way to handle interlibrary loans alone? Asking for thread ' || k
            WHEN is_reply THEN 'We use a shared spreadsheet and a weekly reminder, happy to share the template.'
            ELSE 'Weeding the reference collection today, the budget review is next week. Note ' || i END,
       NULL,
       ['en', 'en', 'fr', 'de', 'es'][1 + i % 5],
       ['sololibrarians', ['libraries', 'ils', 'koha', 'weeding', 'budget', 'lawlibrarians', 'medlibs'][1 + k % 7]],
       'public',
       CASE WHEN is_reply THEN root_uri END, NULL, NULL,
       CASE WHEN is_reply THEN root_uri END, NULL,
       CASE WHEN is_reply THEN 'thread' ELSE 'tag' END,
       posted, posted, NULL,
       m = 0,
       CASE WHEN m = 0 THEN ['asks:does-anyone-know', 'question-mark'] ELSE ['not:no-ask'] END
FROM q
"""


def build(path: Path, posts: int = 1_000_000, accounts: int = 20_000) -> float:
    """Write the synthetic community; returns the seconds it took."""
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    params = {"now": NOW, "accounts": accounts}
    with store.writing(path) as con:
        con.execute(ACCOUNTS_SQL, params)
        con.execute(POSTS_SQL, {**params, "posts": posts, "span_us": 365 * 86_400 * 1_000_000})
        con.execute("INSERT INTO sightings SELECT 'example.social', 'local' || i, 'bench:' || i, $now "
                    "FROM range($posts) t(i)", {"now": NOW, "posts": posts})
        for n in range(150):  # four sources, 15-minute runs; one source failing for 25 hours
            for s, source in enumerate(("glammr.us", "mastodon.social", "hcommons.social", "bluesky")):
                finished = NOW - timedelta(minutes=15 * n)
                ok = source != "hcommons.social" or n >= 100
                store.record_run(con, source=source, platform="bluesky" if source == "bluesky" else "mastodon",
                                 started_at=finished - timedelta(seconds=20), finished_at=finished, ok=ok,
                                 new_posts=(n * 7 + s) % 40 if ok else 0, updated_posts=1, requests=4,
                                 errors=0 if ok else 1, rate_limit_waits=int(n % 3 == 0),
                                 message=None if ok else "HTTP 502")
        con.execute("INSERT INTO cursors SELECT 'thread:bench:' || (k * 10), $now::TIMESTAMPTZ::VARCHAR, $now "
                    "FROM range(2000) t(k)", {"now": NOW})
        con.execute("CHECKPOINT")
    return time.perf_counter() - started


def _timed(action) -> float:  # noqa: ANN001
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(path: Path, repeat: int = 3) -> list[tuple[str, float, float]]:
    """(what, median seconds, target) for each page's cold first render and each filter change."""
    import logging

    from streamlit.testing.v1 import AppTest

    for name in list(logging.root.manager.loggerDict):  # AppTest outside a server warns on every cache use
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)

    from dashboard import data

    os.environ[data.DB_ENV] = str(path)
    os.environ[data.AS_OF_ENV] = NOW.isoformat()
    results: dict[str, list[float]] = {}
    pages = [(title, file) for file, title, _ in dashboard_pages()]
    filters = [
        ("Open requests: platform -> Bluesky", "views/open_requests.py", "platform", "bluesky"),
        ("Open requests: tag -> #koha", "views/open_requests.py", "tag", "koha"),
        ("Open requests: age -> over 7 days", "views/open_requests.py", "age", "gt7d"),
        ("Open requests: status -> answered", "views/open_requests.py", "status", "answered"),
        ("Response times: 8 -> 26 weeks", "views/response_times.py", "rt_weeks", 26),
        ("Response times: platform -> Bluesky", "views/response_times.py", "rt_platform", "bluesky"),
        ("Peers: 4 -> 12 weeks", "views/peers.py", "peers_weeks", 12),
        ("Peers: 4 -> 52 weeks", "views/peers.py", "peers_weeks", 52),
    ]
    for _ in range(repeat):
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()  # imports and the first connection, outside the figures
        for label, page in pages:
            data.forget_cached()
            at.switch_page(page)
            results.setdefault(f"first render: {label}", []).append(_timed(at.run))
            assert not at.exception, [e.value for e in at.exception]
        for label, page, key, value in filters:
            at.switch_page(page).run()
            results.setdefault(f"filter change: {label}", []).append(_timed(at.selectbox(key=key).select(value).run))
            assert not at.exception, [e.value for e in at.exception]
    return [(what, statistics.median(times), TARGET_RENDER if what.startswith("first") else TARGET_FILTER)
            for what, times in results.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=None, help="Posts to build (default 1,000,000).")
    parser.add_argument("--quick", action="store_true", help="A tenth of the size: 100,000 posts, 2,000 accounts.")
    parser.add_argument("--db", type=Path, default=Path("data/bench-dashboard.duckdb"),
                        help="Where to build the database (reused with --reuse).")
    parser.add_argument("--reuse", action="store_true", help="Measure an existing --db instead of rebuilding it.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per figure; the median is printed.")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    posts = args.posts or 1_000_000 // scale
    if not (args.reuse and args.db.exists()):
        seconds = build(args.db, posts, accounts=20_000 // scale)
        print(f"built {args.db}: {posts:,} posts in {seconds:.1f} s")
    with store.reading(args.db) as con:
        from pipeline.core import queries

        counts = {s: queries.count_help_requests(con, NOW, status=s) for s in ("open", "answered")}
        print(f"help requests as of {NOW:%Y-%m-%d %H:%M}: {counts['open']:,} open, {counts['answered']:,} answered")
    print(f"{'what':<52} {'median s':>9} {'target s':>9}  ")
    for what, seconds, target in measure(args.db, args.repeat):
        print(f"{what:<52} {seconds:>9.3f} {target:>9.1f}  {'ok' if seconds < target else 'SLOW'}")


if __name__ == "__main__":
    main()
