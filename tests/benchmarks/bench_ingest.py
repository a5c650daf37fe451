"""Ingest throughput: API-shaped Mastodon statuses -> parse_statuses -> Page -> store_page -> DuckDB.

Run with ``.venv/bin/python -m tests.benchmarks.bench_ingest [--quick] [--profile]``.

Phases (sizes are 10x smaller with ``--quick``):

(a) 1,000,000 statuses into an empty database, in commit groups of 10,000
    (one ``Page`` per group, one ``store_page`` per group). The statuses come
    from three instances, parsed in 40-item answers exactly as the collector
    parses them. As in the collector, parsing and storing overlap: groups are
    parsed on the main thread and stored on a writer thread. Generating the
    dicts is not timed: four groups are generated, then the stopwatch runs
    over parsing and storing them; the serial sum is shown beside.
    Peak memory: ``ru_maxrss`` right after (a) (including the 40,000
    generated dicts waiting their turn), and tracemalloc's peak of the
    Python heap over one extra group.
(b) the database is topped up (untimed) to 1,000,000 stored posts, then
    10,000-status batches are timed one at a time (parse, then store: a batch
    that arrives alone has nothing to overlap with). The top-up clones rows of
    (a) under new uris with SQL (fast, and the same shape of data): it only
    sets the stage, (b) measures the batches that follow.
(c) a naive baseline on the first 20,000 statuses of (a)'s data: the same
    parsing, then one INSERT per post (``executemany``) with the same columns,
    into an empty database; against our path (pipelined, as in (a)) on the same subset, also empty.
(d) for information, the collector's real commit shape on the 1M database:
    40-status pages, 16 pages per transaction (a commit takes whatever has
    queued, 1 to 64 pages), the file opened and closed per commit (what
    ``pipeline.collect._commit`` does).

Every phase has a time budget, so a run stops by itself within about ten
minutes however slow the code under test is: a phase that runs out of time
stops at a group boundary, says so, and its rate is over what it did.

Rates are API statuses handed in per second (federated duplicates and
opted-out authors included, as the collector would hand them); the number
of distinct posts stored is shown beside.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import queue
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from collectors.mastodon import parse_statuses
from collectors.records import VIA_THREAD, Page, Post
from pipeline import store
from pipeline.ingest import StoreResult, preclassify, store_page, store_pages_in_transaction
from pipeline.request_rules import classify
from tests.benchmarks.common import (
    Row,
    StatusStream,
    Stopwatch,
    fmt_bytes,
    fmt_rate,
    maxrss_bytes,
    parse_args,
    print_table,
    progress,
)

GROUP = 10_000  # statuses per commit group / batch (the unit; not scaled by --quick)
PREGENERATED = 4  # groups generated (untimed) before each pipelined run in (a)
API_PAGE = 40  # statuses per timeline answer
COLLECTOR_PAGES_PER_COMMIT = 16  # a commit gathers what has queued: 1 to 64 pages (pipeline.collect.QUEUE_PAGES)
# (16 x 40 = 640 statuses per commit; split by instance, that is 18 pages of at most 40)
NAIVE_TIME_BUDGET = 45.0  # seconds; the naive baseline stops early (and says so) past this
NAIVE_CHUNK = 1_000  # statuses per naive transaction, so a budget stop loses little

TARGET_A = 30_000
TARGET_B = 15_000
TARGET_RATIO = 10.0
TARGET_RSS = 2 * 1024**3


def parse_chunk(chunk: dict[str, list[dict]], errors: list[str]) -> list[Post]:
    """Parse as the collector does: one parse_statuses call per 40-item answer of each instance."""
    posts: list[Post] = []
    for host, statuses in chunk.items():
        base = f"https://{host}"
        for i in range(0, len(statuses), API_PAGE):
            parsed, _ = parse_statuses(statuses[i:i + API_PAGE], base, host, errors)
            posts.extend(parsed)
    return posts


def count(chunk: dict[str, list[dict]]) -> int:
    return sum(len(v) for v in chunk.values())


class Ingest:
    """Timed parse + store of successive groups, pipelined as the collector runs them.

    The collector parses on its event loop and commits on a worker thread
    (``pipeline.collect._writer``), so storing one group overlaps parsing the
    next: DuckDB lets go of the GIL while it executes. ``groups`` does the
    same with a thread and a one-group queue. The wall time over a call is
    the headline; each half is also timed on its own thread.
    """

    def __init__(self, con, label: str) -> None:
        self.con = con
        self.label = label
        self.parse = Stopwatch()
        self.store = Stopwatch()
        self.wall = Stopwatch()
        self.statuses = 0
        self.result = StoreResult()
        self.errors: list[str] = []
        self.groups = 0

    def run(self, chunks: list[dict[str, list[dict]]]) -> None:
        pages: queue.Queue[Page | None] = queue.Queue(maxsize=1)
        failed: list[BaseException] = []

        def writer() -> None:
            while (page := pages.get()) is not None:
                if failed:
                    continue
                try:
                    with self.store:
                        self.result.add(store_page(self.con, page))
                except BaseException as exc:  # re-raised on the main thread
                    failed.append(exc)

        with self.wall:
            thread = threading.Thread(target=writer, name="bench-writer")
            thread.start()
            try:
                for chunk in chunks:
                    with self.parse:
                        page = Page(posts=parse_chunk(chunk, self.errors), cursor_key=f"bench:{self.label}",
                                    cursor=str(self.groups))
                        preclassify(page)  # as pipeline.collect's sources do before handing a page on
                    pages.put(page)
                    self.statuses += count(chunk)
                    self.groups += 1
            finally:
                pages.put(None)
                thread.join()
        if failed:
            raise failed[0]

    def group(self, chunk: dict[str, list[dict]]) -> None:
        self.run([chunk])

    @property
    def seconds(self) -> float:
        return self.wall.seconds

    @property
    def serial_seconds(self) -> float:
        return self.parse.seconds + self.store.seconds

    @property
    def group_laps(self) -> list[float]:
        return [p + s for p, s in zip(self.parse.laps, self.store.laps, strict=True)]

    def rate(self) -> float:
        return self.statuses / self.seconds if self.seconds else 0.0


def post_count(con) -> int:
    return int(con.execute("SELECT count(*) FROM post_store").fetchone()[0])


# -- (c) the naive baseline -----------------------------------------------------------------------------------

def naive_rows(posts: list[Post], now: datetime) -> list[tuple]:
    """The same columns and values our path writes, one tuple per post (first sighting of a uri wins)."""
    rows = []
    for p in posts:
        if p.reply_to is None and p.reply_to_local is None and p.via != VIA_THREAD:
            verdict = classify(p.text, p.lang)
            is_request, reasons = verdict.is_request, list(verdict.reasons)
        else:
            is_request, reasons = None, None
        rows.append((
            p.uri, p.platform, p.url, p.author.key, p.created_at, p.edited_at, p.text, p.html, p.lang,
            list(p.tags), p.visibility, p.reply_to,
            p.sighting.source if p.reply_to_local and p.sighting else None, p.reply_to_local, p.reply_root,
            p.quote_of, p.via, now, now, None, is_request, reasons, True,
        ))
    return rows


def run_naive(path: Path, chunks: list[dict[str, list[dict]]], budget: float) -> tuple[int, int, float, float]:
    """Row-at-a-time inserts, a transaction per chunk, stopping between chunks past ``budget`` seconds.

    Returns (statuses, rows inserted, seconds in all, seconds inserting).
    """
    con = store.connect(path)
    cols = [r[0] for r in con.execute("DESCRIBE post_store").fetchall()]
    sql = f"INSERT INTO post_store ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    seen: set[str] = set()
    total = Stopwatch()
    insert = Stopwatch()
    statuses = inserted = 0
    errors: list[str] = []
    try:
        for chunk in chunks:
            with total:
                posts = parse_chunk(chunk, errors)
                fresh = []
                for p in posts:  # plain INSERT into an empty table: give it no conflict to meet
                    if p.uri not in seen and p.visibility in ("public", "unlisted"):
                        seen.add(p.uri)
                        fresh.append(p)
                rows = naive_rows(fresh, datetime.now(UTC))
                with insert:
                    con.execute("BEGIN TRANSACTION")
                    con.executemany(sql, rows)
                    con.execute("COMMIT")
            inserted += len(rows)
            statuses += count(chunk)
            if total.seconds > budget:
                break
    finally:
        con.close()
    return statuses, inserted, total.seconds, insert.seconds


def merge(chunks: list[dict[str, list[dict]]]) -> dict[str, list[dict]]:
    """Consecutive chunks as one, each instance's list still newest first."""
    out: dict[str, list[dict]] = {}
    for chunk in reversed(chunks):
        for host, items in chunk.items():
            out.setdefault(host, []).extend(items)
    return out


# -- (d) the collector's commit shape -------------------------------------------------------------------------

def collector_commits(path: Path, stream: StatusStream, statuses: int, budget: float) -> tuple[int, float, int]:
    """Pages of 40 per instance, up to 64 pages per transaction, the file opened per commit.

    Mirrors ``pipeline.collect._commit``: ``store.writing``, ``store.transaction``, ``store_pages_in_transaction``.
    """
    per_commit = API_PAGE * COLLECTOR_PAGES_PER_COMMIT
    watch = Stopwatch()
    done = commits = 0
    errors: list[str] = []
    while done < statuses and watch.seconds < budget:
        chunk = stream.chunk(per_commit)
        with watch:
            pages = []
            for host, items in chunk.items():
                base = f"https://{host}"
                for i in range(0, len(items), API_PAGE):
                    posts, ids = parse_statuses(items[i:i + API_PAGE], base, host, errors)
                    pages.append(Page(posts=posts, cursor_key=f"bench:{host}", cursor=str(max(ids))))
            with store.writing(path) as con, store.transaction(con):
                store_pages_in_transaction(con, pages)
        done += count(chunk)
        commits += 1
    return done, watch.seconds, commits


def top_up(con, target: int) -> int:
    """Clone stored posts (and their sightings) under new uris until ``target`` posts are stored."""
    round_ = 0
    while (have := post_count(con)) < target:
        round_ += 1
        need = target - have
        tag = f"#copy{round_}"
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "CREATE TEMP TABLE cloned AS SELECT uri FROM post_store WHERE NOT contains(uri, '#copy') "
            "ORDER BY created_at LIMIT $need", {"need": need})
        con.execute(
            "INSERT INTO post_store SELECT * REPLACE (p.uri || $tag AS uri) "
            "FROM post_store p SEMI JOIN cloned c ON c.uri = p.uri", {"tag": tag})
        con.execute(
            "INSERT INTO sightings SELECT s.source, s.local_id || $tag, s.uri || $tag, s.seen_at "
            "FROM sightings s SEMI JOIN cloned c ON c.uri = s.uri", {"tag": tag})
        con.execute("DROP TABLE cloned")
        con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return post_count(con)


def open_close_cost(path: Path, times: int = 5) -> float:
    watch = Stopwatch()
    for _ in range(times):
        with watch, store.writing(path):
            pass
    return watch.seconds / times


class TimedConnection:
    """A connection stand-in that times every statement (grouped by its first words), for ``--profile``."""

    def __init__(self, con) -> None:
        self.con = con
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
        key = " ".join(sql.split())[:64]
        t = time.perf_counter()
        try:
            return self.con.execute(sql, *args)
        finally:
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t
            self.calls[key] = self.calls.get(key, 0) + 1

    def register(self, *args):  # type: ignore[no-untyped-def]
        return self.con.register(*args)

    def unregister(self, *args):  # type: ignore[no-untyped-def]
        return self.con.unregister(*args)

    def report(self, title: str, top: int = 10) -> str:
        lines = [f"{title}: {sum(self.seconds.values()):.2f} s in SQL"]
        for key, secs in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {secs:7.3f} s {self.calls[key]:4d}x  {key}")
        return "\n".join(lines)


def profile_batches(con, stream: StatusStream, batches: int) -> str:
    """cProfile and per-statement SQL times over a few extra batches (not part of any figure above)."""
    chunks = [stream.chunk(GROUP) for _ in range(batches)]
    prof = cProfile.Profile()
    timed = TimedConnection(con)
    errors: list[str] = []
    prof.enable()
    for i, chunk in enumerate(chunks):
        posts = parse_chunk(chunk, errors)
        store_page(timed, Page(posts=posts, cursor_key="bench:profile", cursor=str(i)))  # type: ignore[arg-type]
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(22)
    text = out.getvalue() + "\n" + timed.report(f"SQL statements in {batches} batches of {GROUP:,}")

    # The same for one collector-shaped commit: 16 pages of 40 in one transaction.
    timed = TimedConnection(con)
    chunk = stream.chunk(API_PAGE * COLLECTOR_PAGES_PER_COMMIT)
    pages = []
    for host, items in chunk.items():
        for i in range(0, len(items), API_PAGE):
            posts, _ = parse_statuses(items[i:i + API_PAGE], f"https://{host}", host, errors)
            pages.append(Page(posts=posts))
    with store.transaction(con):
        store_pages_in_transaction(timed, pages)  # type: ignore[arg-type]
    return text + "\n\n" + timed.report(f"SQL statements in one commit of {count(chunk)} statuses in {len(pages)} "
                                          f"pages of <= {API_PAGE} (one store_pages_in_transaction)")


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    quick = args.quick
    scale = 10 if quick else 1
    n_a = 1_000_000 // scale
    existing = 1_000_000 // scale
    b_batches = 2 if quick else 6
    n_naive = 20_000 // scale
    n_collector = 20_480 // scale  # or fewer: (d) has a time budget
    accounts = 20_000 // scale
    # Time budgets (seconds) that keep a full run near ten minutes whatever the code's speed.
    budget_a = 10.0 if quick else 180.0
    budget_d = 5.0 if quick else 40.0
    budget_naive = 8.0 if quick else NAIVE_TIME_BUDGET

    rows: list[Row] = []
    notes: list[str] = [f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
                        f"on {os.cpu_count()} CPUs (other processes share the machine)"]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="peerdesk-bench-") as tmp:
        tmpdir = Path(tmp)
        db = tmpdir / "bench.duckdb"

        # ---- (a)
        rss_before = maxrss_bytes()
        stream = StatusStream(accounts=accounts)
        con = store.connect(db)
        a = Ingest(con, "a")
        gen = Stopwatch()
        progress(f"(a) {n_a:,} statuses into an empty database, groups of {GROUP:,} (budget {budget_a:.0f} s)")
        while a.statuses < n_a and a.seconds < budget_a:
            with gen:  # a few groups at a time, so the pipeline runs over several groups untouched by generation
                sizes = [min(GROUP, n_a - start) for start in range(a.statuses, n_a, GROUP)][:PREGENERATED]
                chunks = [stream.chunk(size) for size in sizes]
            a.run(chunks)
            del chunks
            if a.groups % 10 < PREGENERATED:
                progress(f"(a) {a.statuses:,} statuses, {a.rate():,.0f}/s so far")
        rss_a = maxrss_bytes()
        stored_a = post_count(con)
        laps = a.group_laps
        tenth = max(1, len(laps) // 10)
        first_rate = GROUP * tenth / sum(laps[:tenth])
        last_rate = GROUP * tenth / sum(laps[-tenth:])
        done_note = "" if a.statuses >= n_a else f" [stopped at {a.statuses:,}: budget]"
        rows += [
            Row(f"(a) ingest {n_a:,} statuses, empty DB (parse+store){done_note}", fmt_rate(a.rate()),
                f">= {TARGET_A:,}/s", a.rate() >= TARGET_A),
            Row("    parse_statuses + classify alone (parse thread)", fmt_rate(a.statuses / a.parse.seconds)),
            Row("    store_page alone (writer thread)", fmt_rate(a.statuses / a.store.seconds)),
            Row("    the same one after the other (parse, then store)", fmt_rate(a.statuses / a.serial_seconds)),
            Row("    time parse / store / pipelined (wall)",
                f"{a.parse.seconds:.1f} / {a.store.seconds:.1f} / {a.seconds:.1f} s"),
            Row("    CPU time parse / store (all threads)", f"{a.parse.cpu:.1f} / {a.store.cpu:.1f} s"),
            Row(f"    first / last {tenth} groups (parse + store)", f"{fmt_rate(first_rate)} / {fmt_rate(last_rate)}"),
            Row("    distinct posts stored", f"{stored_a:,} ({stored_a / a.seconds:,.0f}/s)"),
            Row(f"    slowest / median {GROUP:,} group (parse + store)",
                f"{max(laps):.2f} / {sorted(laps)[len(laps) // 2]:.2f} s"),
            Row("    peak RSS after (a) (ru_maxrss)", fmt_bytes(rss_a), f"< {fmt_bytes(TARGET_RSS)}",
                rss_a < TARGET_RSS),
        ]
        notes.append(f"(a) generating the dicts took {gen.seconds:.1f} s, not counted; "
                     f"RSS before (a) was {fmt_bytes(rss_before)}; {a.result}")
        if a.statuses < n_a:
            notes.append(f"(a) ran out of its {budget_a:.0f} s budget after {a.statuses:,} of {n_a:,} statuses; "
                         f"at the last groups' rate the whole {n_a:,} would take ~{n_a / last_rate / 60:.1f} min")

        # Python-side peak over one more group, into a scratch file (tracemalloc slows code: untimed).
        chunk = StatusStream(accounts=accounts, seed=7).chunk(GROUP)
        gc.collect()
        scratch = store.connect(tmpdir / "scratch.duckdb")
        tracemalloc.start()
        store_page(scratch, Page(posts=parse_chunk(chunk, [])))
        _, py_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        scratch.close()
        del chunk
        rows.append(Row(f"    Python heap peak per {GROUP:,} group (tracemalloc)", fmt_bytes(py_peak)))

        # ---- (b)
        progress(f"(b) topping up to {existing:,} stored posts (untimed)")
        held = top_up(con, existing)
        b = Ingest(con, "b")
        progress(f"(b) {b_batches} batches of {GROUP:,} into {held:,} posts")
        for _ in range(b_batches):
            b.group(stream.chunk(GROUP))
        worst_b = GROUP / max(b.group_laps)
        rows += [
            Row(f"(b) {GROUP:,}-status batches into {held:,} posts (mean of {b_batches})", fmt_rate(b.rate()),
                f">= {TARGET_B:,}/s", b.rate() >= TARGET_B),
            Row("    parse_statuses + classify / store_page alone",
                f"{fmt_rate(b.statuses / b.parse.seconds)} / {fmt_rate(b.statuses / b.store.seconds)}"),
            Row("    CPU time parse / store (all threads)", f"{b.parse.cpu:.1f} / {b.store.cpu:.1f} s"),
            Row("    slowest batch", f"{fmt_rate(worst_b)} ({max(b.group_laps):.2f} s)"),
            Row("    DB file size", fmt_bytes(db.stat().st_size)),
        ]
        profile_text = profile_batches(con, stream, 2) if args.profile else ""
        con.close()

        # ---- (d) on the same big file
        progress(f"(d) collector-shaped commits, up to {n_collector:,} statuses (budget {budget_d:.0f} s)")
        open_close = open_close_cost(db)
        done_d, secs_d, commits_d = collector_commits(db, stream, n_collector, budget_d)
        rows += [
            Row(f"(d) collector shape: {API_PAGE * COLLECTOR_PAGES_PER_COMMIT}/commit in pages of <= {API_PAGE}, "
                "file reopened per commit",
                fmt_rate(done_d / secs_d)),
            Row(f"    per {API_PAGE} statuses", f"{secs_d / (done_d / API_PAGE) * 1000:.0f} ms"),
            Row("    store.writing() open+close on that file", f"{open_close * 1000:.0f} ms"),
        ]
        notes.append(f"(d) {done_d:,} statuses in {commits_d} commits of {API_PAGE * COLLECTOR_PAGES_PER_COMMIT:,} "
                     f"(by instance, pages of at most {API_PAGE}), "
                     f"{secs_d:.1f} s, into the {held:,}-post file")

        # ---- (c) naive vs ours on the same first statuses of (a)'s stream
        progress(f"(c) naive baseline on {n_naive:,} statuses (budget {budget_naive:.0f} s)")
        same = StatusStream(accounts=accounts)  # (a)'s seed: the first statuses of (a), in small chunks
        small = [same.chunk(NAIVE_CHUNK) for _ in range(max(1, n_naive // NAIVE_CHUNK))]
        n_st, n_rows, n_secs, n_insert = run_naive(tmpdir / "naive.duckdb", small, budget_naive)
        naive_rate = n_st / n_secs
        ours_con = store.connect(tmpdir / "ours.duckdb")
        ours = Ingest(ours_con, "c")
        per_group = GROUP // NAIVE_CHUNK
        ours.run([merge(small[i:i + per_group]) for i in range(0, len(small), per_group)])  # pipelined, as (a)
        ours_con.close()
        ratio = ours.rate() / naive_rate
        store_ratio = (ours.statuses / ours.store.seconds) / (n_st / n_insert)
        rows += [
            Row(f"(c) naive row-at-a-time INSERT, {n_st:,} statuses", fmt_rate(naive_rate)),
            Row("    naive insert step alone (executemany)", fmt_rate(n_rows / n_insert) + " rows"),
            Row(f"    ours on the same {ours.statuses:,} statuses, empty DB", fmt_rate(ours.rate())),
            Row("    ratio ours / naive, end to end", f"{ratio:.1f}x", f">= {TARGET_RATIO:.0f}x",
                ratio >= TARGET_RATIO),
            Row("    ratio ours / naive, storing step only", f"{store_ratio:.1f}x"),
        ]
        if n_st < n_naive:
            notes.append(f"(c) the naive baseline stopped after its {budget_naive:.0f} s budget: {n_st:,} of "
                         f"{n_naive:,} statuses")
        notes.append("(c) naive = same parse_statuses + classify, then one INSERT per distinct post via executemany "
                     "(plain INSERT, duplicates dropped in Python, one transaction per group): posts only, "
                     "no accounts/sightings/replies, so it is a generous baseline")

    notes.append(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    title = (f"bench_ingest{' --quick (sizes 10x smaller: indicative only)' if quick else ''}"
             f" - {time.perf_counter() - started:.0f} s in all")
    print_table(title, rows, notes)
    if profile_text:
        print("\ncProfile of 2 extra batches into the big database (cProfile slows Python ~2x):\n")
        print(profile_text)


if __name__ == "__main__":
    main()
