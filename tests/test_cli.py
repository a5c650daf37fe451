"""The CLI as people script it: exit statuses, formats, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.commands import cli
from tests.fakes.mastodon import FakeMastodon, make_account, make_status


def _config(tmp_path: Path, *bases: str) -> str:
    path = tmp_path / "peerdesk.toml"
    instances = ", ".join(f"'{b}'" for b in bases)
    path.write_text("[database]\npath = 'db.duckdb'\n[mastodon]\nfetch_from_origin = false\n"
                    f"instances = [{instances}]\n[collect]\nsince_days = 3650\nmax_retries = 0\ntimeout = 2\n",
                    encoding="utf-8")
    return str(path)


def test_collect_then_read_in_every_format(tmp_path: Path) -> None:
    statuses = [make_status(2, number=2, text='Quotes "and", commas', author=make_account("bea", account_id="2")),
                make_status(1)]
    runner = CliRunner()
    with FakeMastodon(statuses) as server:
        config = _config(tmp_path, server.base)
        result = runner.invoke(cli, ["--config", config, "collect"])
        assert result.exit_code == 0, result.output
        assert f"{server.base}: ok, 2 new posts" in result.output

    rows = json.loads(runner.invoke(cli, ["--config", config, "posts", "--format", "json"]).output)
    assert [r["author"] for r in rows] == ["bea@glammr.us", "ana@glammr.us"]
    output = runner.invoke(cli, ["--config", config, "posts", "--format", "csv"]).output
    parsed = list(csv.DictReader(io.StringIO(output)))
    assert parsed[0]["text"] == 'Quotes "and", commas #sololibrarians'
    table = runner.invoke(cli, ["--config", config, "accounts"]).output
    assert table.splitlines()[0].split()[:3] == ["account", "platform", "handle"]
    health = json.loads(runner.invoke(cli, ["--config", config, "sources", "--format", "json"]).output)
    by_source = {h["source"]: h for h in health}
    assert by_source[server.base]["last_ok"] is True and by_source[server.base]["posts_collected"] == 2
    assert by_source["bluesky"]["skipped"] is True  # not configured: its line is kept, as such

    forgot = runner.invoke(cli, ["--config", config, "forget", "@Bea@glammr.us"])
    assert forgot.exit_code == 0 and "1 posts removed" in forgot.output
    rows = json.loads(runner.invoke(cli, ["--config", config, "posts", "--format", "json"]).output)
    assert [r["author"] for r in rows] == ["ana@glammr.us"]


def test_collect_exits_1_when_every_source_failed(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", _config(tmp_path, "http://127.0.0.1:9"), "collect"])
    assert result.exit_code == 1
    assert "FAILED" in result.output


def test_reading_before_any_collection_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", _config(tmp_path, "http://127.0.0.1:9"), "posts"])
    assert result.exit_code == 1
    assert "run 'peerdesk collect' or 'peerdesk demo' first" in result.output


def test_bad_durations_are_usage_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", _config(tmp_path, "http://127.0.0.1:9"), "collect",
                                      "--since", "last tuesday"])
    assert result.exit_code == 2
