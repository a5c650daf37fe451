"""`peerdesk export`: the documented views as Parquet, CSV and JSON files, consent rules applied."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core import store
from tests.support import SAMPLE_NOW

VIEWS = ("posts", "accounts", "help_requests", "peer_activity")


def _export(db: Path, tmp_path: Path, fmt: str) -> tuple[int, str, Path]:
    config = tmp_path / "p.toml"
    config.write_text(f"[database]\npath = '{db}'\n", encoding="utf-8")
    out = tmp_path / f"out-{fmt}"
    result = CliRunner().invoke(cli, ["--config", str(config), "export", "--format", fmt, "--out", str(out),
                                      "--as-of", SAMPLE_NOW.isoformat()])
    return result.exit_code, result.output, out


def _expected(db: Path, view: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        query = {"help_requests": "help_requests_at($t)", "peer_activity": "peer_activity_at($t)"}.get(view, view)
        where = " WHERE created_at <= $t" if view == "posts" else ""
        params = {"t": SAMPLE_NOW} if "$t" in query + where else None
        return con.execute(f"SELECT count(*) FROM {query}{where}", params).fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_every_view_is_written_whole(db: Path, tmp_path: Path, fmt: str) -> None:
    code, output, out = _export(db, tmp_path, fmt)
    assert code == 0, output
    for view in VIEWS:
        path = out / f"{view}.{fmt}"
        if fmt == "parquet":
            rows = pq.read_table(path).num_rows
        elif fmt == "csv":
            rows = len(list(csv.DictReader(path.open(encoding="utf-8"))))
        else:
            rows = len(json.loads(path.read_text(encoding="utf-8")))
        assert rows == _expected(db, view) > 0, view
        assert f"wrote {path}: {rows} rows" in output
    assert not list(out.glob(".*"))  # no partial file left behind


def test_an_account_that_opted_out_is_left_out_even_before_its_purge(db: Path, tmp_path: Path) -> None:
    with store.writing(db) as con:
        author = con.execute("SELECT author FROM help_requests_at(?) LIMIT 1", [SAMPLE_NOW]).fetchall()[0][0]
        con.execute("INSERT INTO opt_outs (account, reason, seen_at) VALUES (?, '#nobot', ?)", [author, SAMPLE_NOW])
    code, output, out = _export(db, tmp_path, "json")
    assert code == 0, output
    for view in VIEWS:
        assert author not in (out / f"{view}.json").read_text(encoding="utf-8"), view


def test_an_unwritable_folder_is_one_line(db: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    config = tmp_path / "p.toml"
    config.write_text(f"[database]\npath = '{db}'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "export", "--format", "csv",
                                      "--out", str(blocker / "sub")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot write to" in result.output
