"""Reproduce: a kill -9 inside DuckDB's checkpoint (on close) leaves a file that never opens again.

Run with ``.venv/bin/python docs/notes/duckdb_kill_on_close.py``; explained in duckdb-kill-on-close.md.
Only duckdb is needed. It does not kill anything: it builds, byte for byte, the file a kill leaves when it
lands inside the one write of a checkpoint that goes to a block the file's header still uses (Linux may
stop a large buffered write at a page boundary when a fatal signal arrives).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

BLOCKS_START = 3 * 4096  # the main header and the two database headers come first
PAGE = 4096


def commit(path: Path, i: int, *, checkpoint_on_close: bool = True) -> None:
    con = duckdb.connect(str(path))
    if not checkpoint_on_close:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("CREATE TABLE IF NOT EXISTS t (id BIGINT PRIMARY KEY, k VARCHAR UNIQUE, payload VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS cursors (k VARCHAR PRIMARY KEY, pos BIGINT)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t SELECT ? * 500 + range, 'k' || (? * 500 + range), repeat('x', 300) FROM range(500)",
                [i, i])
    con.execute("INSERT INTO cursors VALUES ('c', ?) ON CONFLICT (k) DO UPDATE SET pos = excluded.pos", [i])
    con.execute("COMMIT")
    con.close()


def opens(path: Path) -> str:
    try:
        con = duckdb.connect(str(path), read_only=True)
        rows = con.execute("SELECT count(*), (SELECT pos FROM cursors) FROM t").fetchall()[0]
        con.close()
        return f"opens: {rows[0]} rows, cursor {rows[1]}"
    except duckdb.Error as exc:
        return f"DOES NOT OPEN: {str(exc).splitlines()[0]}"


def main() -> int:
    print(f"duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before.duckdb"
        for i in range(6):
            commit(before, i)  # each close checkpoints: the file alone holds everything
        commit(before, 6, checkpoint_on_close=False)  # the state at the instant a close begins: file + WAL
        after = Path(tmp) / "after.duckdb"
        shutil.copyfile(before, after)
        shutil.copyfile(f"{before}.wal", f"{after}.wal")
        con = duckdb.connect(str(after))
        con.execute("CHECKPOINT")  # what the close would have done
        con.close()
        old, new = before.read_bytes(), after.read_bytes()
        print(f"before the close: {opens(before)}; after a whole close: {opens(after)}")
        block = 262_144
        broken = 0
        for start in range(BLOCKS_START, min(len(old), len(new)), block):
            if old[start:start + block] == new[start:start + block]:
                continue
            # The checkpoint rewrote this block of the old file in place; the kill stops that write after one page.
            torn = Path(tmp) / f"torn-{start}.duckdb"
            torn.write_bytes(old[:start] + new[start:start + PAGE] + old[start + PAGE:])
            shutil.copyfile(f"{before}.wal", f"{torn}.wal")  # the WAL is only removed after the checkpoint
            verdict = opens(torn)
            broken += verdict.startswith("DOES NOT")
            print(f"killed inside the in-place write of the block at byte {start}: {verdict}")
        print("reproduced" if broken else "not reproduced with this DuckDB")
    return 0 if broken else 1


if __name__ == "__main__":
    sys.exit(main())
