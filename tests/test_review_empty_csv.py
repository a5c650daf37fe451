"""Review: `--format csv` with no rows must still print the header.

A script that runs `peerdesk requests --format csv > open.csv` every morning, or
loads it into a spreadsheet, finds the columns by name; on a quiet day (nothing
open) the command printed an empty line, so the file had no columns at all
(pandas: "No columns to parse from file"; a DictReader: no fieldnames).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core import store
from tests.support import seed_open_request

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _header(config: Path, *args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args, "--format", "csv"])
    assert result.exit_code == 0, result.output
    return next(csv.reader(io.StringIO(result.stdout)), [])


def test_csv_keeps_its_header_when_there_are_no_rows(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    config = tmp_path / "peerdesk.toml"
    config.write_text(f"[database]\npath = '{db}'\n", encoding="utf-8")
    with store.writing(db):
        pass
    as_of = (T0 + timedelta(hours=1)).isoformat()
    commands = {"posts": ("posts",), "requests": ("requests", "--as-of", as_of),
                "response-times": ("response-times", "--as-of", as_of),
                "alerts": ("alerts", "--as-of", (T0 + timedelta(days=2)).isoformat())}
    empty = {name: _header(config, *args) for name, args in commands.items()}
    seed_open_request(db, T0)
    full = {name: _header(config, *args) for name, args in commands.items()}
    assert all(full.values())
    assert empty == full
