"""kill -9 aimed at the moments a peerdesk process commits and closes, and what it cost.

Shared by tests/test_crash_safety.py (a handful of kills) and
tests/benchmarks/bench_kills.py (hundreds). No hook inside peerdesk: the
harness watches the database's WAL, which changes at every commit, and kills
the process a random few milliseconds later, when it is closing the
connection or starting the next batch. After every kill the file must open;
after the last, one uninterrupted run must leave exactly the rows of a run that
was never killed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tests.fakes.bluesky import FakeBluesky, load_sample
from tests.fakes.jetstream import DATA, FakeJetstream, load_frames
from tests.fakes.mastodon import FakeMastodon, make_status
from tests.support import GaveUp, wait_until

ROOT = Path(__file__).resolve().parents[1]
FRAMES = load_frames()
START = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)  # where the sample's Jetstream log is replayed from
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # the stream's clock (PEERDESK_NOW): the log's day
CLI = ("from pipeline.cli.commands import cli; from pipeline.cli.stream import run, stream; "
       "[cli.add_command(c) for c in (run, stream) if c.name not in cli.commands]; cli(prog_name='peerdesk')")
MAX_DELAY = 0.008  # a kill lands this long at most after a commit: the close, or the next batch's start


@dataclass
class Tally:
    """What the kills cost, over one or many rounds."""

    tried: int = 0  # kills that landed on a running process
    unreadable: int = 0  # kills after which the file did not open
    lost: int = 0  # rows of the uninterrupted run missing after the last restart
    duplicated: int = 0  # rows stored twice, or not in the uninterrupted run
    problems: list[str] = field(default_factory=list)

    @property
    def survived(self) -> int:
        return self.tried - self.unreadable

    def add(self, other: Tally) -> None:
        self.tried += other.tried
        self.unreadable += other.unreadable
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.problems += other.problems

    def line(self, what: str) -> str:
        return (f"{what}: {self.survived}/{self.tried} kills survived, {self.lost} rows lost, "
                f"{self.duplicated} duplicated, {self.unreadable} unreadable files")


def rows(db: Path) -> list[tuple]:
    """Posts, sightings and cursors, without clock-dependent columns."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (con.execute("SELECT 'post', uri, text, author, via FROM post_store").fetchall()
                + con.execute("SELECT 'sighting', source, local_id, uri, NULL FROM sightings").fetchall()
                + con.execute("SELECT 'cursor', cursor_key, CASE WHEN cursor_key LIKE 'home:%' THEN NULL "
                              "ELSE position END, NULL, NULL FROM cursors "  # home: when asked, by the clock
                              "WHERE cursor_key NOT LIKE '%:domain'").fetchall())
    finally:
        con.close()


def opens(db: Path) -> str | None:
    """None when every table of the file reads; else DuckDB's first line."""
    try:
        con = duckdb.connect(str(db), read_only=True)
        try:
            for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                con.execute(f'SELECT * FROM "{name}"').fetchall()
        finally:
            con.close()
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def _peerdesk(config: Path, *args: str, now: datetime | None = None) -> subprocess.Popen:
    """The command as a process; its stderr goes to a file beside the config (a pipe nobody drains would fill
    and stall a long-running stream)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERDESK_")}
    if now is not None:
        env["PEERDESK_NOW"] = now.isoformat()
    with (config.parent / f"{config.stem}.stderr").open("a", encoding="utf-8") as err:
        return subprocess.Popen([sys.executable, "-c", CLI, "--config", str(config), *args], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)


def _stderr(config: Path) -> str:
    path = config.parent / f"{config.stem}.stderr"
    return path.read_text(encoding="utf-8")[-2000:] if path.exists() else ""


def _wal_state(db: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(f"{db}.wal")
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def kill_at_a_commit(proc: subprocess.Popen, db: Path, rng: random.Random, timeout: float = 60) -> bool:
    """SIGKILL a few ms after one of the process's first commits.

    False when no kill landed on a commit: the process ended first, or made no commit within ``timeout``
    (then it is stopped, and the kill is not counted).
    """
    deadline = time.monotonic() + timeout
    for _ in range(rng.randint(1, 3)):
        seen = _wal_state(db)
        try:  # a fine poll: the kill is aimed within milliseconds of the commit
            wait_until(lambda seen=seen: _wal_state(db) != seen, deadline - time.monotonic(), "a commit", every=0.001,
                       unless=lambda: proc.poll() is not None)
        except GaveUp:
            return False
        except TimeoutError:  # a stream at the end of the log commits no more: nothing to aim at
            proc.kill()
            proc.wait()
            return False
    time.sleep(rng.uniform(0, MAX_DELAY))  # the behaviour under test: where after the commit the kill lands
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def compare(got: list[tuple], want: list[tuple], tally: Tally, what: str) -> None:
    missing = set(want) - set(got)
    extra = (len(got) - len(set(got))) + len(set(got) - set(want))
    tally.lost += len(missing)
    tally.duplicated += extra
    if missing or extra:
        tally.problems.append(f"{what}: {len(missing)} rows lost, {extra} extra")


def _after_kill(db: Path, tally: Tally, what: str) -> None:
    tally.tried += 1
    problem = opens(db)
    if problem is not None:
        tally.unreadable += 1
        tally.problems.append(f"{what}: unreadable after a kill: {problem}")


# ---------------------------------------------------------------- collect


def collect_config(tmp: Path, name: str, base: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f"[database]\npath = '{name}.duckdb'\n[community]\ntags = ['sololibrarians']\n"
        f"[mastodon]\nfetch_from_origin = false\ninstances = ['{base}']\n[collect]\nsince_days = 3650\n",
        encoding="utf-8",
    )
    return path


def statuses(count: int) -> list[dict]:
    return [make_status(1000 + i, text=f"Newsletter number {i} is out",
                        created_at=f"2026-11-{1 + i * 28 // count:02d}T10:00:00.000Z") for i in range(count)]


def kill_collect(tmp: Path, kills: int, rng: random.Random, posts: int = 400, delay: float = 0.02) -> Tally:
    """``kills`` kills of ``peerdesk collect`` at its commits, then one whole run, against an unkilled one."""
    tally = Tally()
    with FakeMastodon(statuses(posts)) as server:
        server.delay = delay
        killed, reference = collect_config(tmp, "killed", server.base), collect_config(tmp, "reference", server.base)
        assert _peerdesk(reference, "collect").wait() == 0
        db = tmp / "killed.duckdb"
        for n in range(kills):
            proc = _peerdesk(killed, "collect")
            if kill_at_a_commit(proc, db, rng):
                _after_kill(db, tally, f"collect kill {n + 1}")
        done = _peerdesk(killed, "collect")
        if done.wait() != 0:
            tally.problems.append(f"collect after the kills: {_stderr(killed)}")
    if opens(db) is None:
        compare(rows(db), rows(tmp / "reference.duckdb"), tally, "collect")
    return tally


# ---------------------------------------------------------------- stream


def _bluesky() -> FakeBluesky:
    state = load_sample()
    for profile in json.loads((DATA / "profiles.json").read_text(encoding="utf-8"))["profiles"]:
        state.profiles[profile["did"]] = profile
    return FakeBluesky(state)


def _stream_config(tmp: Path, name: str, fake: FakeBluesky) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f"[database]\npath = '{name}.duckdb'\n[community]\ntags = ['sololibrarians']\n[mastodon]\ninstances = []\n"
        f"[bluesky]\nservice = '{fake.url}'\nappview = '{fake.url}'\n[collect]\ntimeout = 5\n", encoding="utf-8")
    return path


def _stream_to_the_end(config: Path, js: FakeJetstream, args: tuple[str, ...]) -> str | None:
    """One run that reads the whole log and stops on SIGTERM (committing the batch in hand); None when clean."""
    before = js.caught_up
    proc = _peerdesk(config, *args, now=NOW)
    try:
        wait_until(lambda: js.caught_up != before, 60, "the live tail", unless=lambda: proc.poll() is not None)
    except (GaveUp, TimeoutError):
        proc.kill()
        return f"stream ended early: {_stderr(config)}"
    # Not a wait for a condition: SIGTERM within a moment of catching up leaves `peerdesk stream` hanging (seen with
    # js.delivered() here; reported, not fixed in this change), so the tail's batch is let commit first.
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    return None if code == 0 else f"stream exited {code}: {_stderr(config)}"


def kill_stream(tmp: Path, kills: int, rng: random.Random, pace: float = 0.01) -> Tally:
    """``kills`` kills of ``peerdesk stream`` at its commits, then a run to the end, against an unkilled one."""
    tally = Tally()
    with _bluesky() as fake, FakeJetstream(FRAMES) as js:
        args = ("stream", "--endpoint", js.url, "--since", START.isoformat())
        problem = _stream_to_the_end(_stream_config(tmp, "reference", fake), js, args)
        if problem:
            tally.problems.append(f"reference {problem}")
        config, db = _stream_config(tmp, "killed", fake), tmp / "killed.duckdb"
        js.pace = pace  # slow enough that each run commits several batches before it catches up
        for n in range(kills):
            proc = _peerdesk(config, *args, now=NOW)
            if kill_at_a_commit(proc, db, rng, timeout=10):
                _after_kill(db, tally, f"stream kill {n + 1}")
        js.pace = 0.0
        problem = _stream_to_the_end(config, js, args)
        if problem:
            tally.problems.append(problem)
    if opens(db) is None:
        compare(rows(db), rows(tmp / "reference.duckdb"), tally, "stream")
    return tally
