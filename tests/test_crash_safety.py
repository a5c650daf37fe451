"""kill -9 at any moment: the file opens, and the next run ends with exactly the rows of an uninterrupted run.

The kills aimed at commits and closes come from tests/killing.py, which
tests/benchmarks/bench_kills.py runs hundreds of times.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.core.ingest.replies import WAITING, WAITING_COLUMNS
from tests.fakes.mastodon import FakeMastodon, make_status
from tests.killing import collect_config, kill_collect, kill_stream
from tests.support import ended, wait_until

ROOT = Path(__file__).resolve().parents[1]


def _collect(config: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERDESK_")}
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--config", str(config), "collect"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _state(db: Path) -> tuple[list, list, list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        posts = con.execute("SELECT uri, text FROM post_store ORDER BY uri").fetchall()
        sightings = con.execute("SELECT source, local_id, uri FROM sightings ORDER BY 1, 2").fetchall()
        cursors = con.execute(
            "SELECT cursor_key, position FROM cursors WHERE cursor_key LIKE 'mastodon:%' ORDER BY 1").fetchall()
        waiting = con.execute(f"SELECT {WAITING_COLUMNS} FROM reply_waits ORDER BY uri").fetchall()
        # The replies kept apart as waiting are committed with the posts: never out of step after a kill.
        assert waiting == con.execute(f"SELECT {WAITING_COLUMNS} FROM post_store WHERE {WAITING} ORDER BY uri"
                                      ).fetchall()
    finally:
        con.close()
    return posts, sightings, cursors, waiting


def _kill_after(proc: subprocess.Popen, server: FakeMastodon, timeline_requests: int) -> None:
    wait_until(lambda: len(server.requests_to("/api/v1/timelines/tag/")) >= timeline_requests, 60,
               f"{timeline_requests} timeline requests", unless=ended(proc))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("phase", ["backfill", "forward"])
def test_killed_collector_resumes_without_loss_or_duplicates(tmp_path: Path, phase: str) -> None:
    # Some answer the one before (their parent may come in another commit), some a post never seen: replies
    # waiting for a link across the kill.
    statuses = [make_status(1000 + i, text=f"Newsletter number {i} is out",
                            created_at=f"2026-11-{1 + i // 20:02d}T10:00:00.000Z",
                            in_reply_to_id=str(999 + i) if i % 5 == 4 else f"9{i}" if i % 7 == 6 else None)
                for i in range(400)]
    first = statuses[:1] if phase == "forward" else []
    with FakeMastodon(first) as server:
        server.delay = 0.03
        killed = collect_config(tmp_path, "killed", server.base)
        reference = collect_config(tmp_path, "reference", server.base)
        if first:
            for config in (killed, reference):
                assert _collect(config).wait() == 0
        server.add(*statuses[1:] if first else statuses)
        assert _collect(reference).wait() == 0
        seen = len(server.requests_to("/api/v1/timelines/tag/"))
        _kill_after(_collect(killed), server, seen + 4)
        assert _collect(killed).wait() == 0
    got, want = _state(tmp_path / "killed.duckdb"), _state(tmp_path / "reference.duckdb")
    assert len(got[0]) == 400
    assert got[3]  # the replies to a post never seen still wait
    assert got == want


# ---------------------------------------------------------------- kills aimed at commits and closes


def test_kills_at_collect_commits_leave_a_readable_file_and_lose_nothing(tmp_path: Path) -> None:
    tally = kill_collect(tmp_path, kills=3, rng=random.Random(13), posts=200)
    assert tally.tried >= 2, tally.line("collect")
    assert tally.problems == [] and tally.unreadable == tally.lost == tally.duplicated == 0, tally.problems


def test_kills_at_stream_commits_leave_a_readable_file_and_lose_nothing(tmp_path: Path) -> None:
    tally = kill_stream(tmp_path, kills=3, rng=random.Random(13))
    assert tally.tried >= 2, tally.line("stream")
    assert tally.problems == [] and tally.unreadable == tally.lost == tally.duplicated == 0, tally.problems
