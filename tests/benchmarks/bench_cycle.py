"""One collection cycle over many slow Mastodon instances, against one instance alone and one after another.

Run with ``.venv/bin/python -m tests.benchmarks.bench_cycle [--quick] [--profile]``.

50 local fake instances (``tests.fakes.mastodon.FakeMastodon`` on 127.0.0.1,
``delay = 0.1``: every answer takes 100 ms) each hold a few statuses under the
community's tags: one help request posted 20 minutes ago with a reply in its
thread (the reply does not carry the tag, so only the thread re-check finds
it), and a few ordinary posts. The real :func:`pipeline.collection.cycle.run_cycle`
polls them with settings pointing at the servers' ``base`` URLs; thread
re-checks reach the "origin" of each post through ``mastodon.origins``, which
maps every fake host name to its 127.0.0.1 server, so nothing leaves the machine.
The servers run in a process of their own (:class:`Farm`), as remote servers
would: their request handling does not take turns with the collector's Python.

Measured (wall time of ``asyncio.run(run_cycle(...))``):

* the 50-instance cycle, first (backfill; ``/api/v2/instance`` and a tag lookup on first
  contact, the thread re-checks of the new requests) and second (nothing new:
  one forward request per instance), on a fresh database, repeated;
* each instance's own cycle (``run_cycle`` with only that instance, its own
  fresh database), first and second: the slowest is the yardstick;
* sequential polling, measured for real: those single-instance cycles run one
  after another, so their sum is what polling the instances in turn costs.

Target: the 50-instance cycle within 2x the slowest single instance's cycle.
With ``--quick`` there are 5 instances and one repetition.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import multiprocessing
import os
import pstats
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from pipeline.collection import cycle as collect
from pipeline.collection.cycle import CycleOptions, SourceOutcome, run_cycle
from pipeline.core.settings import MastodonSettings, Settings
from tests.benchmarks.common import Row, iso, parse_args, print_table, progress
from tests.fakes.mastodon import FakeMastodon, make_account, make_status

DELAY = 0.1  # seconds per answer, every answer
TARGET_RATIO = 2.0  # many-instance cycle / slowest single-instance cycle

ORDINARY = (
    "Spent the morning weeding the reference shelves, feeling lighter already.",
    "Reminder: the regional solo librarians meetup is online next Thursday at 4pm.",
    "Our reading room is closed on Friday for the annual stock check.",
    "Three new donations of local history pamphlets arrived today, cataloguing them now.",
)


def host_of(i: int) -> str:
    return f"inst{i:02d}.example"


def statuses_for(i: int, now: datetime) -> list[dict]:
    """A request 20 minutes old with one untagged reply, and a few ordinary posts; newest first."""
    host = host_of(i)
    asker = make_account("solo", host, on=host, account_id="1")
    helper = make_account("helper", host, on=host, account_id="2")
    base_id = 110_000_000_000_000_000 + i * 1_000
    request_id = str(base_id + 1)
    out = [make_status(base_id + 1, host=host, author=asker, created_at=iso(now - timedelta(minutes=20)),
                       text=f"Does anyone know a good ILS for a two-person law library? (asked on {host})"),
           make_status(base_id + 2, host=host, author=helper, tags=(), in_reply_to_id=request_id,
                       created_at=iso(now - timedelta(minutes=12)),
                       text="We moved to Koha last year and it has been fine for two people.")]
    for k, text in enumerate(ORDINARY):
        out.append(make_status(base_id + 3 + k, host=host, author=helper if k % 2 else asker, text=text,
                               created_at=iso(now - timedelta(minutes=10 - 2 * k))))
    return sorted(out, key=lambda s: int(s["id"]), reverse=True)


class Farm:
    """The fake instances, serving from a process of their own, as real servers would.

    In this process their request handling would take turns with the collector's
    own Python (one GIL), and fifty of them would slow the collector down in a way
    fifty remote servers never do. The collector still reaches them over real
    HTTP on 127.0.0.1; a pipe carries the base URLs and request counts back.
    """

    def __init__(self, n: int, now: datetime) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._proc = context.Process(target=_serve, args=(child, n, now, DELAY), daemon=True)
        self._proc.start()
        self.bases: list[str] = self._conn.recv()

    def requests_to(self, prefix: str) -> int:
        """Requests every instance received whose path starts with ``prefix``."""
        self._conn.send(prefix)
        return self._conn.recv()

    def close(self) -> None:
        self._conn.send(None)
        self._proc.join(10)


def _serve(conn: Connection, n: int, now: datetime, delay: float) -> None:
    servers = [FakeMastodon(statuses_for(i, now)) for i in range(n)]
    for s in servers:
        s.delay = delay
        s.__enter__()
    try:
        conn.send([s.base for s in servers])
        while (prefix := conn.recv()) is not None:
            conn.send(sum(len(s.requests_to(prefix)) for s in servers))
    finally:
        for s in servers:
            s.__exit__(None, None, None)


def settings_for(db: Path, bases: list[str], all_bases: list[str]) -> Settings:
    origins = tuple((host_of(i), base) for i, base in enumerate(all_bases))
    return Settings(
        db_path=db, state_dir=db.parent / "state",
        mastodon=MastodonSettings(instances=tuple(bases), fetch_from_origin=True, origins=origins),
        timeout=10.0, max_retries=2,
    )


class CommitMeter:
    """Counts and times the writer's commits by wrapping ``pipeline.collection.cycle._commit`` (in this process only).

    Instrumentation, not a change: the wrapper calls the original with the same
    arguments. It tells how much of a cycle the single writer spends committing
    (it runs in a worker thread, so the profile of the event loop does not show it).
    """

    def __init__(self) -> None:
        self.commits = 0
        self.pages = 0
        self.seconds = 0.0
        self._original = collect._commit

        def timed(db_path, batch, outcomes, stopped):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return self._original(db_path, batch, outcomes, stopped)
            finally:
                self.seconds += time.perf_counter() - t
                self.commits += 1
                self.pages += len(batch)

        collect._commit = timed  # type: ignore[assignment]

    def take(self) -> tuple[int, int, float]:
        out = (self.commits, self.pages, self.seconds)
        self.commits = self.pages = 0
        self.seconds = 0.0
        return out


METER: CommitMeter | None = None


@dataclass
class Cycle:
    seconds: float
    outcomes: list[SourceOutcome]
    commits: tuple[int, int, float] = (0, 0, 0.0)  # commits, pages, seconds inside them

    @property
    def new_posts(self) -> int:
        return sum(o.stored.new_posts for o in self.outcomes)

    @property
    def requests(self) -> int:
        return sum(o.report.requests for o in self.outcomes)

    @property
    def failures(self) -> list[str]:
        return [f"{o.report.source}: {o.report.errors[-1] if o.report.errors else 'failed'}"
                for o in self.outcomes if not o.ok and o.primary]

    def phases(self) -> tuple[float, float]:
        """(polling, thread re-checks) spans in seconds, from the outcomes' own timestamps."""
        polled = [o for o in self.outcomes if o.primary and o.finished_at is not None]
        threads = [o for o in self.outcomes if not o.primary and o.finished_at is not None]
        span = lambda os_: (max(o.finished_at for o in os_) - min(o.started_at for o in os_)).total_seconds()  # noqa: E731
        return (span(polled) if polled else 0.0), (span(threads) if threads else 0.0)


def cycle(settings: Settings, since: datetime) -> Cycle:
    options = CycleOptions(since=since, backoff=0.05, max_rate_wait=2.0)
    if METER:
        METER.take()
    t = time.perf_counter()
    outcomes = asyncio.run(run_cycle(settings, options))
    return Cycle(time.perf_counter() - t, outcomes, METER.take() if METER else (0, 0, 0.0))


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s"


def commits_text(c: Cycle) -> str:
    n, pages, secs = c.commits
    return f"{n} commits of {pages} pages, {secs:.2f} s"


def main() -> None:
    global METER
    args = parse_args(__doc__.splitlines()[0])
    METER = CommitMeter()
    for name in [n for n in os.environ if n.startswith("PEERDESK_")]:
        del os.environ[name]  # no developer tokens, config or Bluesky login: only the fakes are polled
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    n = 5 if args.quick else 50
    repeats = 1 if args.quick else 3
    now = datetime.now(UTC)
    since = now - timedelta(days=14)
    rows: list[Row] = []
    notes = [f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"]
    started = time.perf_counter()

    farm = Farm(n, now)
    bases = farm.bases
    try:
        with tempfile.TemporaryDirectory(prefix="peerdesk-bench-") as tmp:
            tmpdir = Path(tmp)

            # ---- many instances at once, repeated on fresh databases
            firsts: list[Cycle] = []
            seconds: list[Cycle] = []
            for r in range(repeats):
                progress(f"{n}-instance cycles, repetition {r + 1}/{repeats}")
                settings = settings_for(tmpdir / f"all{r}" / "peerdesk.duckdb", bases, bases)
                before = farm.requests_to("/api/v2/instance")
                firsts.append(cycle(settings, since))
                mid = farm.requests_to("/api/v2/instance")
                seconds.append(cycle(settings, since))
                after = farm.requests_to("/api/v2/instance")
                if r == 0:
                    notes.append(f"/api/v2/instance requests: {mid - before} in the first cycle, "
                                 f"{after - mid} in the second (first contact only)")

            # ---- each instance alone, one after another (this is the sequential measurement)
            progress(f"{n} single-instance cycles, one after another")
            single_first: list[Cycle] = []
            single_second: list[Cycle] = []
            for i, base in enumerate(bases):
                settings = settings_for(tmpdir / f"one{i}" / "peerdesk.duckdb", [base], bases)
                single_first.append(cycle(settings, since))
                single_second.append(cycle(settings, since))

            profile_text = ""
            if args.profile:
                progress(f"profiling one {n}-instance first cycle")
                settings = settings_for(tmpdir / "profiled" / "peerdesk.duckdb", bases, bases)
                prof = cProfile.Profile()
                prof.enable()
                cycle(settings, since)
                prof.disable()
                out = io.StringIO()
                stats = pstats.Stats(prof, stream=out)
                stats.sort_stats("cumulative").print_stats(30)
                profile_text = out.getvalue()
    finally:
        farm.close()

    failed = [f for c in firsts + seconds + single_first + single_second for f in c.failures]
    med1 = statistics.median(c.seconds for c in firsts)
    med2 = statistics.median(c.seconds for c in seconds)
    slow1 = max(c.seconds for c in single_first)
    slow2 = max(c.seconds for c in single_second)
    seq1 = sum(c.seconds for c in single_first)
    seq2 = sum(c.seconds for c in single_second)
    mid1 = sorted(firsts, key=lambda c: c.seconds)[len(firsts) // 2]
    mid2 = sorted(seconds, key=lambda c: c.seconds)[len(seconds) // 2]
    slowest1 = max(single_first, key=lambda c: c.seconds)
    slowest2 = max(single_second, key=lambda c: c.seconds)
    poll1, threads1 = mid1.phases()
    poll2, _ = mid2.phases()
    spoll1, sthreads1 = slowest1.phases()
    spoll2, _ = slowest2.phases()
    r1, r2 = med1 / slow1, med2 / slow2
    medsingle1 = statistics.median(c.seconds for c in single_first)
    medsingle2 = statistics.median(c.seconds for c in single_second)
    spread = lambda cs: f"{min(c.seconds for c in cs):.2f}-{max(c.seconds for c in cs):.2f} s"  # noqa: E731
    rows += [
        Row(f"first cycle (backfill), {n} instances: median of {repeats}", fmt(med1)),
        Row("    range over repetitions", spread(firsts)),
        Row("    polling phase / thread re-check phase", f"{poll1:.2f} / {threads1:.2f} s"),
        Row("    writer (worker thread)", commits_text(mid1)),
        Row("    rest: opening the file, due threads, run records", fmt(mid1.seconds - poll1 - threads1)),
        Row("    requests / new posts", f"{firsts[0].requests} / {firsts[0].new_posts}"),
        Row("slowest single instance, first cycle", fmt(slow1)),
        Row("    its polling / thread re-check phase", f"{spoll1:.2f} / {sthreads1:.2f} s"),
        Row("    its writer", commits_text(slowest1)),
        Row("    single-instance first cycles: median", fmt(medsingle1)),
        Row(f"  ratio {n}-instance / slowest single", f"{r1:.2f}x", f"<= {TARGET_RATIO:.0f}x", r1 <= TARGET_RATIO),
        Row(f"  ratio {n}-instance / median single", f"{med1 / medsingle1:.2f}x"),
        Row(f"sequential: {n} single first cycles one after another", fmt(seq1)),
        Row(f"  ratio {n}-instance / sequential", f"{med1 / seq1:.3f} ({seq1 / med1:.1f}x faster)"),
        Row(f"second cycle (nothing new), {n} instances: median of {repeats}", fmt(med2)),
        Row("    range over repetitions", spread(seconds)),
        Row("    polling phase", fmt(poll2)),
        Row("    writer (worker thread)", commits_text(mid2)),
        Row("    requests / new posts", f"{seconds[0].requests} / {seconds[0].new_posts}"),
        Row("slowest single instance, second cycle", fmt(slow2)),
        Row("    its polling phase / writer", f"{spoll2:.2f} s / {commits_text(slowest2)}"),
        Row("    single-instance second cycles: median", fmt(medsingle2)),
        Row(f"  ratio {n}-instance / slowest single", f"{r2:.2f}x", f"<= {TARGET_RATIO:.0f}x", r2 <= TARGET_RATIO),
        Row(f"  ratio {n}-instance / median single", f"{med2 / medsingle2:.2f}x"),
        Row(f"sequential: {n} single second cycles one after another", fmt(seq2)),
        Row(f"  ratio {n}-instance / sequential", f"{med2 / seq2:.3f} ({seq2 / med2:.1f}x faster)"),
    ]
    notes.append(f"every answer takes {DELAY * 1000:.0f} ms; a first cycle per instance is /api/v2/instance, "
                 "/api/v1/tags/:name, one timeline page, then the request's thread (context); "
                 "a second is one timeline page")
    notes.append("sequential figures are measured, not estimated: the single-instance cycles ran one after another")
    if failed:
        notes.append(f"FAILED sources: {len(failed)}; first: {failed[0]}")
    notes.append(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    title = (f"bench_cycle{' --quick (5 instances)' if args.quick else ''}"
             f" - {time.perf_counter() - started:.0f} s in all")
    print_table(title, rows, notes)
    if profile_text:
        print(f"\ncProfile of one {n}-instance first cycle (main thread; the writer runs in a worker thread):\n")
        print(profile_text)


if __name__ == "__main__":
    main()
