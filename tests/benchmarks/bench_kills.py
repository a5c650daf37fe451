"""Benchmark: kill -9 landing at commits and closes of ``peerdesk collect`` and ``peerdesk stream``.

Run: .venv/bin/python -m tests.benchmarks.bench_kills [--quick] [--kills 100] [--seed 1] [--only stream]

Each round starts from an empty file: an uninterrupted run makes the reference, then the same
command is started again and again on a second file and killed a few milliseconds (0 to 8) after
one of its first commits (the harness watches the WAL, which every commit changes): inside the
connection's close, or at the start of the next batch. After every kill the file must open and
every table read; after the last, one whole run must leave exactly the reference's rows.

Prints, for each command: kills survived / tried, rows lost, rows duplicated, unreadable files.
``--quick`` runs a tenth of the kills. With 2 CPUs shared, expect about 2 s a kill (most of it
starting Python).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.common import progress
from tests.killing import Tally, kill_collect, kill_stream

KILLS_PER_ROUND = 5


def _rounds(name: str, kills: int, rng: random.Random, run: object) -> Tally:
    total = Tally()
    started = time.monotonic()
    while total.tried < kills:
        with tempfile.TemporaryDirectory(prefix=f"bench-kills-{name}-") as tmp:
            round_tally = run(Path(tmp), min(KILLS_PER_ROUND, kills - total.tried), rng)  # type: ignore[operator]
        total.add(round_tally)
        progress(f"{total.line(name)} ({time.monotonic() - started:.0f} s)")
        if round_tally.tried == 0:
            total.problems.append(f"{name}: a round ended before any kill landed")
            break
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the kills")
    parser.add_argument("--kills", type=int, default=100, help="kills of each command (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random kill delays")
    parser.add_argument("--only", choices=("collect", "stream"), default=None, help="kill only this command")
    args = parser.parse_args()
    kills = max(1, args.kills // 10) if args.quick else args.kills
    rng = random.Random(args.seed)
    commands = {"collect": lambda tmp, n, r: kill_collect(tmp, n, r, posts=200), "stream": kill_stream}
    results = {name: _rounds(name, kills, rng, run) for name, run in commands.items() if args.only in (None, name)}
    print("kill -9 at commits and closes (0-8 ms after a commit)")
    for name, tally in results.items():
        print("  " + tally.line(name))
        for problem in tally.problems[:10]:
            print(f"    {problem}")
    failed = any(t.unreadable or t.lost or t.duplicated or t.problems for t in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
