"""Ingest throughput: timeline answers (JSON bytes) -> decode -> parse_statuses -> Page -> store_page -> DuckDB.

Run with ``.venv/bin/python -m tests.benchmarks.bench_ingest [--quick] [--profile] [--commits-only]``
(``--commits-only``: part (d) alone, its files made by cloning, so it runs at full size in minutes).

Phases (sizes are 10x smaller with ``--quick``):

(a) 1,000,000 statuses into an empty database, in commit groups of 10,000
    (one ``Page`` per group, one ``store_page`` per group). The statuses come
    from three instances, parsed in 40-item answers exactly as the collector
    parses them, from the JSON bytes a server sends (decoding is timed: into
    typed statuses by ``collectors.mastodon.entities.decode_timeline``, as the
    collector does). As in the collector, parsing and storing overlap: groups are
    parsed on the main thread and stored on a writer thread, and each answer's
    posts go to the classifier workers (``pipeline.detector.pool``) as it is
    parsed. CPU figures count those workers too. Generating the
    dicts is not timed: four groups are generated, then the stopwatch runs
    over parsing and storing them; the serial sum is shown beside.
    The limit: DuckDB's own ``read_json`` of the first 100,000 statuses' raw
    answers into a table of the same columns (no classification, accounts,
    sightings or deduplication), in the same process; our rate is shown as a
    fraction of its rate.
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
(d) the collector's real commit shape: 40-status pages, 16 pages per
    transaction (a commit takes whatever has queued, 1 to 64 pages), both files
    checkpointed first, the file opened and closed per commit (what ``pipeline.collection.cycle._commit`` does), on a
    100,000-post file and then on the 1M one: the per-commit time must not grow
    with the database (target: at 1M within 1.2x of that at 100k, judged on CPU
    time, which waiting for a shared core does not inflate).

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
import json
import os
import pstats
import queue
import shutil
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from collectors.mastodon.entities import decode_timeline
from collectors.mastodon.parse import parse_statuses
from collectors.records import VIA_THREAD, Page, Post
from pipeline.core import store
from pipeline.core.ingest import StoreResult, preclassify, store_page, store_pages_in_transaction
from pipeline.core.ingest.verdicts import _may_ask
from pipeline.detector import pool
from pipeline.detector.rules import classify
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
COLLECTOR_PAGES_PER_COMMIT = 16  # a commit gathers what has queued: 1 to 64 pages (collection.cycle.QUEUE_PAGES)
# (16 x 40 = 640 statuses per commit; split by instance, that is 18 pages of at most 40)
NAIVE_TIME_BUDGET = 45.0  # seconds; the naive baseline stops early (and says so) past this
NAIVE_CHUNK = 1_000  # statuses per naive transaction, so a budget stop loses little
LIMIT_GROUPS = 10  # (a)'s first groups are also read by DuckDB's read_json, the limit (100,000 statuses)

TARGET_A = 30_000
TARGET_B = 15_000
TARGET_RATIO = 10.0
TARGET_RSS = 2 * 1024**3
TARGET_GROWTH = 1.2  # per-commit time at 1M stored posts over that at 100k


@dataclass
class Wire:
    """Statuses as the collector receives them: each instance's 40-item timeline answers, as JSON bytes."""

    pages: dict[str, list[bytes]]
    statuses: int


def encode(chunk: dict[str, list[dict]]) -> Wire:
    """A generated chunk as the answers a server would send (untimed: the network hands us bytes)."""
    pages = {host: [json.dumps(items[i:i + API_PAGE]).encode() for i in range(0, len(items), API_PAGE)]
             for host, items in chunk.items()}
    return Wire(pages, sum(len(v) for v in chunk.values()))


def parse_pages(host: str, bodies: list[bytes], errors: list[str]) -> list[tuple[list[Post], list[str]]]:
    """Decode and parse as the collector does: ``decode_timeline`` (what ``collectors.mastodon.paging`` has
    ``collectors.mastodon.api._json`` decode a timeline with), then one parse_statuses per answer."""
    base = f"https://{host}"
    return [parse_statuses(decode_timeline(body), base, host, errors) for body in bodies]


def parse_chunk(chunk: Wire, errors: list[str]) -> list[Post]:
    posts: list[Post] = []
    for host, bodies in chunk.pages.items():
        for parsed, _ in parse_pages(host, bodies, errors):
            posts.extend(parsed)
    return posts


def count(chunk: Wire) -> int:
    return chunk.statuses


def worker_cpu() -> float:
    """CPU seconds used so far by this process's classifier workers (``pipeline.detector.pool``), read from /proc.

    ``time.process_time`` counts this process only; since classifying moved to workers, a CPU figure without
    theirs would flatter us. 0 where /proc is missing.
    """
    total = 0.0
    for pid in pool.shared().pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


class Ingest:
    """Timed parse + store of successive groups, pipelined as the collector runs them.

    The collector parses on its event loop and commits on a worker thread
    (``pipeline.collection.cycle._writer``), so storing one group overlaps parsing the
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
        self.worker_cpu = 0.0  # the classifier workers' CPU seconds over the runs

    @property
    def cpu(self) -> float:
        """CPU seconds of the runs, every thread of this process and the classifier workers."""
        return self.wall.cpu + self.worker_cpu

    def run(self, chunks: list[Wire]) -> None:
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

        workers_before = worker_cpu()
        with self.wall:
            thread = threading.Thread(target=writer, name="bench-writer")
            thread.start()
            try:
                for chunk in chunks:
                    with self.parse:
                        posts: list[Post] = []
                        for host, bodies in chunk.pages.items():
                            for body in bodies:
                                parsed = parse_pages(host, [body], self.errors)[0][0]
                                # each answer as pipeline.collection.cycle's sources hand it on, before the next
                                preclassify(Page(posts=parsed))
                                posts.extend(parsed)
                        page = Page(posts=posts, cursor_key=f"bench:{self.label}", cursor=str(self.groups))
                    pages.put(page)
                    self.statuses += count(chunk)
                    self.groups += 1
            finally:
                pages.put(None)
                thread.join()
        self.worker_cpu += worker_cpu() - workers_before  # workers started during the run count from 0
        if failed:
            raise failed[0]

    def group(self, chunk: Wire) -> None:
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


def floor_cpu(chunk: Wire) -> float:
    """CPU seconds a status of ``chunk`` costs before anything is stored: decode, parse and classify, one thread.

    The part of ingest no store can remove: it bounds the rate on this machine's CPUs even if storing were free.
    """
    errors: list[str] = []
    started = time.process_time()
    posts = parse_chunk(chunk, errors)
    for text, lang in dict.fromkeys((p.text, p.lang) for p in posts if _may_ask(p)):  # as preclassify does
        classify(text, lang)
    return (time.process_time() - started) / count(chunk)


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


def run_naive(path: Path, chunks: list[Wire], budget: float) -> tuple[int, int, float, float]:
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


def merge(chunks: list[Wire]) -> Wire:
    """Consecutive chunks as one, each instance's answers still newest first."""
    out: dict[str, list[bytes]] = {}
    for chunk in reversed(chunks):
        for host, bodies in chunk.pages.items():
            out.setdefault(host, []).extend(bodies)
    return Wire(out, sum(c.statuses for c in chunks))


# -- the limit: DuckDB reading the same answers itself ---------------------------------------------------------

def write_answers(chunk: Wire, path: Path) -> None:
    """One answer (a JSON array of 40 statuses) per line: what ``read_json`` reads back below."""
    with path.open("wb") as f:
        for bodies in chunk.pages.values():
            for body in bodies:
                f.write(body + b"\n")


READ_JSON_SQL = """
CREATE TABLE raw_posts AS
SELECT s.uri, 'mastodon' AS platform, coalesce(s.url, s.uri) AS url, lower(s.account.acct) AS author,
       s.created_at::TIMESTAMPTZ AS created_at, s.edited_at::TIMESTAMPTZ AS edited_at,
       regexp_replace(s.content, '<[^>]*>', '', 'g') AS text, s.content AS html, s.language AS lang,
       [lower(t.name) FOR t IN s.tags] AS tags, s.visibility, s.in_reply_to_id AS reply_to_local_id,
       s.id AS local_id
FROM (SELECT unnest(json) AS s FROM read_json($files, format = 'newline_delimited', records = false))
"""


def read_json_limit(files: list[Path], db: Path) -> tuple[int, float, float]:
    """DuckDB's own ``read_json`` of the raw answers into a table of the same columns (no classification,
    no accounts, no deduplication): what no Python path can beat. Returns (rows, wall s, CPU s)."""
    con = store.connect(db)
    try:
        watch = Stopwatch()
        with watch:
            con.execute(READ_JSON_SQL, {"files": [str(f) for f in files]})
        return int(con.execute("SELECT count(*) FROM raw_posts").fetchone()[0]), watch.seconds, watch.cpu
    finally:
        con.close()


# -- (d) the collector's commit shape -------------------------------------------------------------------------

def collector_commits(path: Path, stream: StatusStream, statuses: int, budget: float) -> tuple[int, Stopwatch]:
    """Pages of 40 per instance, up to 64 pages per transaction, the file opened per commit.

    Mirrors ``collection.cycle._commit``: ``store.writing``, ``store.transaction``, ``store_pages_in_transaction``.
    Returns the statuses handed in and the stopwatch (a lap per commit).
    """
    per_commit = API_PAGE * COLLECTOR_PAGES_PER_COMMIT
    watch = Stopwatch()
    done = 0
    errors: list[str] = []
    while done < statuses and watch.seconds < budget:
        chunk = encode(stream.chunk(per_commit))
        with watch:
            pages = [Page(posts=posts, cursor_key=f"bench:{host}", cursor=str(max(ids)))
                     for host, bodies in chunk.pages.items() for posts, ids in parse_pages(host, bodies, errors)]
            with store.writing(path) as con, store.transaction(con):
                store_pages_in_transaction(con, pages)
        done += count(chunk)
    return done, watch


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def top_up(con, target: int) -> int:
    """Clone stored posts (their sightings, their waiting links) under new uris until ``target`` posts are stored."""
    while (have := post_count(con)) < target:
        need = target - have
        tag = f"#copy{have}"  # the count only grows, so a later top-up of the same file never repeats a tag
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
        con.execute(  # the clones of replies still waiting wait too (their parents are the originals')
            "INSERT INTO reply_waits SELECT w.* REPLACE (w.uri || $tag AS uri) "
            "FROM reply_waits w SEMI JOIN cloned c ON c.uri = w.uri", {"tag": tag})
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
    chunks = [encode(stream.chunk(GROUP)) for _ in range(batches)]
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
    chunk = encode(stream.chunk(API_PAGE * COLLECTOR_PAGES_PER_COMMIT))
    pages = [Page(posts=posts) for host, bodies in chunk.pages.items()
             for posts, _ in parse_pages(host, bodies, errors)]
    with store.transaction(con):
        store_pages_in_transaction(timed, pages)  # type: ignore[arg-type]
    return text + "\n\n" + timed.report(f"SQL statements in one commit of {count(chunk)} statuses in {len(pages)} "
                                          f"pages of <= {API_PAGE} (one store_pages_in_transaction)")


def commits_only(quick: bool) -> None:
    """Part (d) alone, at full size: its two files made by cloning one generated group (minutes, not ten)."""
    existing = 1_000_000 // (10 if quick else 1)
    n_collector = 20_480 // (10 if quick else 1)
    budget = 5.0 if quick else 40.0
    accounts = 20_000 // (10 if quick else 1)
    notes = [f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="peerdesk-bench-") as tmp:
        small, big = Path(tmp) / "tenth.duckdb", Path(tmp) / "full.duckdb"
        con = store.connect(small)
        progress(f"(d) files of {existing // 10:,} and {existing:,} posts (untimed)")
        Ingest(con, "d").group(encode(StatusStream(accounts=accounts, seed=11).chunk(GROUP)))
        sizes = [top_up(con, existing // 10)]
        con.close()
        shutil.copy(small, big)
        with store.writing(big) as con:
            sizes.append(top_up(con, existing))
        stream = StatusStream(accounts=accounts)
        shapes = []
        for path, size in zip((small, big), sizes, strict=True):
            progress(f"(d) collector-shaped commits into {size:,} posts")
            open_close = open_close_cost(path)
            done, watch = collector_commits(path, stream, n_collector, budget)
            shapes.append((size, done, watch, open_close))
        rows += commit_rows(shapes)
    notes.append(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print_table(f"bench_ingest --commits-only{' --quick' if quick else ''}", rows, notes)


def commit_rows(shapes: list[tuple[int, int, Stopwatch, float]]) -> list[Row]:
    """(d)'s figures: each file's commits, then the growth from the smaller file to the larger, on CPU time."""
    rows: list[Row] = []
    per_commit = API_PAGE * COLLECTOR_PAGES_PER_COMMIT
    for size, done_d, watch_d, open_close in shapes:
        commits = len(watch_d.laps)
        rows += [
            Row(f"(d) collector shape into {size:,} posts: {per_commit}/commit in pages of <= {API_PAGE}, "
                "file reopened per commit", fmt_rate(done_d / watch_d.seconds)),
            Row(f"    per commit: median wall / mean CPU ({commits} commits)",
                f"{median(watch_d.laps) * 1000:.0f} / {watch_d.cpu / commits * 1000:.0f} ms"),
            Row("    store.writing() open+close on that file", f"{open_close * 1000:.0f} ms"),
        ]
    (small_size, _, small_watch, _), (big_size, _, big_watch, _) = shapes
    growth = (big_watch.cpu / len(big_watch.laps)) / (small_watch.cpu / len(small_watch.laps))
    wall_growth = median(big_watch.laps) / median(small_watch.laps)
    rows.append(Row(f"    per-commit CPU at {big_size:,} / at {small_size:,} posts (wall: {wall_growth:.2f}x)",
                    f"{growth:.2f}x", f"<= {TARGET_GROWTH:.1f}x", growth <= TARGET_GROWTH))
    return rows


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], {"commits-only": "only (d), the collector's commits, at full size"})
    quick = args.quick
    if args.commits_only:
        commits_only(quick)
        return
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
        answers: list[Path] = []  # the first groups' raw answers, for read_json below
        progress(f"(a) {n_a:,} statuses into an empty database, groups of {GROUP:,} (budget {budget_a:.0f} s)")
        while a.statuses < n_a and a.seconds < budget_a:
            with gen:  # a few groups at a time, so the pipeline runs over several groups untouched by generation
                sizes = [min(GROUP, n_a - start) for start in range(a.statuses, n_a, GROUP)][:PREGENERATED]
                chunks = [encode(stream.chunk(size)) for size in sizes]
                for chunk in chunks[:max(0, LIMIT_GROUPS - len(answers))]:
                    answers.append(tmpdir / f"answers-{len(answers)}.ndjson")
                    write_answers(chunk, answers[-1])
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
            Row("    decode + parse_statuses + classify alone (parse thread)", fmt_rate(a.statuses / a.parse.seconds)),
            Row("    store_page alone (writer thread)", fmt_rate(a.statuses / a.store.seconds)),
            Row("    the same one after the other (parse, then store)", fmt_rate(a.statuses / a.serial_seconds)),
            Row("    time parse / store / pipelined (wall)",
                f"{a.parse.seconds:.1f} / {a.store.seconds:.1f} / {a.seconds:.1f} s"),
            Row("    CPU time parse / store (all threads)", f"{a.parse.cpu:.1f} / {a.store.cpu:.1f} s"),
            Row("    CPU per status, this process + classifier workers",
                f"{a.wall.cpu / a.statuses * 1e6:.0f} + {a.worker_cpu / a.statuses * 1e6:.0f} us"),
            Row(f"    so at most, on this machine's {os.cpu_count()} CPUs kept busy",
                fmt_rate((os.cpu_count() or 1) * a.statuses / a.cpu)),
            Row(f"    first / last {tenth} groups (parse + store)", f"{fmt_rate(first_rate)} / {fmt_rate(last_rate)}"),
            Row("    distinct posts stored", f"{stored_a:,} ({stored_a / a.seconds:,.0f}/s)"),
            Row(f"    slowest / median {GROUP:,} group (parse + store)",
                f"{max(laps):.2f} / {sorted(laps)[len(laps) // 2]:.2f} s"),
            Row("    peak RSS after (a) (ru_maxrss)", fmt_bytes(rss_a), f"< {fmt_bytes(TARGET_RSS)}",
                rss_a < TARGET_RSS),
        ]
        limit_rows, limit_secs, limit_cpu = read_json_limit(answers, tmpdir / "limit.duckdb")
        limit_rate = limit_rows / limit_secs
        rows += [
            Row(f"    DuckDB read_json of the first {limit_rows:,} statuses' raw answers (the limit)",
                fmt_rate(limit_rate)),
            Row("    ours as a fraction of read_json (wall / CPU)",
                f"{a.rate() / limit_rate:.1%} / {(a.statuses / a.cpu) / (limit_rows / limit_cpu):.1%}"),
        ]
        notes.append(f"(a) generating the dicts took {gen.seconds:.1f} s, not counted; "
                     f"RSS before (a) was {fmt_bytes(rss_before)}; {a.result}")
        if a.statuses < n_a:
            notes.append(f"(a) ran out of its {budget_a:.0f} s budget after {a.statuses:,} of {n_a:,} statuses; "
                         f"at the last groups' rate the whole {n_a:,} would take ~{n_a / last_rate / 60:.1f} min")

        # Python-side peak over one more group, into a scratch file (tracemalloc slows code: untimed).
        chunk = encode(StatusStream(accounts=accounts, seed=7).chunk(GROUP))
        gc.collect()
        scratch = store.connect(tmpdir / "scratch.duckdb")
        tracemalloc.start()
        store_page(scratch, Page(posts=parse_chunk(chunk, [])))
        _, py_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        scratch.close()
        del chunk
        rows.append(Row(f"    Python heap peak per {GROUP:,} group (tracemalloc)", fmt_bytes(py_peak)))
        floor = floor_cpu(encode(StatusStream(accounts=accounts, seed=9).chunk(GROUP)))
        rows += [
            Row("    CPU per status before storing: decode + parse + classify (one thread)", f"{floor * 1e6:.0f} us"),
            Row(f"    so even with storing free, at most on {os.cpu_count()} CPUs",
                fmt_rate((os.cpu_count() or 1) / floor)),
            Row("    DuckDB read_json's own CPU per status (the limit, above)",
                f"{limit_cpu / limit_rows * 1e6:.0f} us"),
        ]

        # ---- (b)
        progress(f"(b) topping up to {existing:,} stored posts (untimed)")
        held = top_up(con, existing)
        b = Ingest(con, "b")
        progress(f"(b) {b_batches} batches of {GROUP:,} into {held:,} posts")
        for _ in range(b_batches):
            b.group(encode(stream.chunk(GROUP)))
        worst_b = GROUP / max(b.group_laps)
        rows += [
            Row(f"(b) {GROUP:,}-status batches into {held:,} posts (mean of {b_batches})", fmt_rate(b.rate()),
                f">= {TARGET_B:,}/s", b.rate() >= TARGET_B),
            Row("    decode + parse + classify / store_page alone",
                f"{fmt_rate(b.statuses / b.parse.seconds)} / {fmt_rate(b.statuses / b.store.seconds)}"),
            Row("    CPU time parse / store (all threads)", f"{b.parse.cpu:.1f} / {b.store.cpu:.1f} s"),
            Row("    slowest batch", f"{fmt_rate(worst_b)} ({max(b.group_laps):.2f} s)"),
            Row("    DB file size", fmt_bytes(db.stat().st_size)),
        ]
        profile_text = profile_batches(con, stream, 2) if args.profile else ""
        con.close()
        # Both files of (d) start checkpointed, as a collector finds a file after a clean exit: otherwise every
        # reopen of the big one replays (b)'s write-ahead log, a cost of the log's size, not the file's.
        store.checkpoint(db)

        # ---- (d) the collector's commits on a file a tenth of the size, then on the big one
        small_db = tmpdir / "tenth.duckdb"
        progress(f"(d) a {existing // 10:,}-post file (untimed), then collector-shaped commits on it and on the "
                 f"{held:,}-post one, up to {n_collector:,} statuses each (budget {budget_d:.0f} s each)")
        small_con = store.connect(small_db)
        Ingest(small_con, "d").group(encode(StatusStream(accounts=accounts, seed=11).chunk(GROUP)))
        small_held = top_up(small_con, existing // 10)
        small_con.close()
        shapes = []
        for path, size in ((small_db, small_held), (db, held)):
            open_close = open_close_cost(path)
            done_d, watch_d = collector_commits(path, stream, n_collector, budget_d)
            shapes.append((size, done_d, watch_d, open_close))
        rows += commit_rows(shapes)
        notes.append("(d) per-commit growth is judged on CPU time (all threads of this process): on a shared "
                     "machine, wall time also counts waiting for a core")

        # ---- (c) naive vs ours on the same first statuses of (a)'s stream
        progress(f"(c) naive baseline on {n_naive:,} statuses (budget {budget_naive:.0f} s)")
        same = StatusStream(accounts=accounts)  # (a)'s seed: the first statuses of (a), in small chunks
        small = [encode(same.chunk(NAIVE_CHUNK)) for _ in range(max(1, n_naive // NAIVE_CHUNK))]
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
