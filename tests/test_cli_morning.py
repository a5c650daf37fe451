"""The CLI on the demo, as an organiser uses it in the morning: counts that are true, links that can be copied
back, units a person reads, conflicting options refused, and a taken port found before anything is rebuilt."""

from __future__ import annotations

import csv
import io
import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import launch
from pipeline.cli.commands import cli
from pipeline.core import queries, store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``peerdesk demo --no-dashboard`` into a file, and a configuration pointing at it."""
    folder = tmp_path_factory.mktemp("morning")
    db = folder / "demo.duckdb"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--no-dashboard"])
    assert result.exit_code == 0, result.output
    config = folder / "peerdesk.toml"
    config.write_text(f"[database]\npath = '{db}'\n", encoding="utf-8")
    return db, str(config)


def _run(config: str, *args: str):  # noqa: ANN202
    return CliRunner().invoke(cli, ["--config", config, *args])


def test_demo_says_what_the_database_holds(tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    out = CliRunner().invoke(cli, ["demo", "--db", str(db), "--no-dashboard"]).output
    with store.reading(db) as con:
        posts = queries.totals(con)["posts"]
        held = queries.count_help_requests(con, store.now_utc(), status=None)
    assert f"demo: loaded {posts} posts ({held} help requests)" in out  # the deleted post is not counted


def test_mark_takes_the_link_requests_shows_and_the_table_prints_it_whole(demo: tuple[Path, str]) -> None:
    db, config = demo
    table = _run(config, "requests").output
    with store.reading(db) as con:
        row = next(r for r in queries.help_requests(con, store.now_utc()) if r["url"] != r["uri"])
    assert row["url"] in table and "…" not in "".join(line.split()[-1] for line in table.splitlines()[1:])
    marked = _run(config, "mark", row["url"], "--resolved")
    assert marked.exit_code == 0, marked.output
    assert marked.output == f"marked {row['uri']}: resolved\n"
    assert row["url"] not in _run(config, "requests").output
    assert _run(config, "mark", row["url"], "--reopen").exit_code == 0
    missing = _run(config, "mark", "https://nowhere.example/@x/1", "--resolved")
    assert missing.exit_code == 1 and "no stored post has the uri or URL" in missing.output


def test_conflicting_or_meaningless_values_are_refused(demo: tuple[Path, str]) -> None:
    db, config = demo
    with store.reading(db) as con:
        uri = queries.help_requests(con, store.now_utc())[0]["uri"]
    both = _run(config, "mark", uri, "--resolved", "--reopen")
    assert both.exit_code == 2 and "give one decision, not --resolved and --reopen" in both.output
    for command in ("peers", "response-times"):
        zero = _run(config, command, "--weeks", "0")
        assert zero.exit_code == 2 and "--weeks" in zero.output, command
    duration = _run(config, "requests", "--older-than", "1 day")
    assert duration.exit_code == 2 and "--older-than" in duration.output and "Traceback" not in duration.output


def test_language_and_tag_match_whatever_their_case(demo: tuple[Path, str]) -> None:
    _, config = demo
    lower = json.loads(_run(config, "requests", "--status", "all", "--lang", "fr", "--format", "json").output)
    upper = json.loads(_run(config, "requests", "--status", "all", "--lang", "FR", "--format", "json").output)
    assert lower and [r["uri"] for r in upper] == [r["uri"] for r in lower]


def test_response_times_read_as_durations_and_percentages(demo: tuple[Path, str]) -> None:
    _, config = demo
    table = _run(config, "response-times", "--weeks", "52").output
    header, *lines = table.splitlines()
    assert "p90_response" in header and "p90_response_seconds" not in header
    answered = [line for line in lines if "%" in line]
    assert answered, table
    assert not any(word.replace(".", "").isdigit() and "." in word for line in lines for word in line.split())
    rows = list(csv.DictReader(io.StringIO(_run(config, "response-times", "--weeks", "52",
                                                "--format", "csv").output)))
    p90s = [r["p90_response_seconds"] for r in rows if r["p90_response_seconds"]]
    assert p90s and all(v.isdigit() for v in p90s)  # whole seconds, not 129699.60000000002
    shares = [float(r["answered_within_24h"]) for r in rows if r["answered_within_24h"]]
    assert shares and all(0 <= v <= 1 for v in shares)


@pytest.mark.parametrize("command", ["demo", "dashboard"])
def test_a_taken_port_is_named_before_anything_is_rebuilt(demo: tuple[Path, str], command: str) -> None:
    db, config = demo
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = db.stat().st_mtime_ns
        args = ["demo", "--db", str(db)] if command == "demo" else ["dashboard"]
        result = _run(config, *args, "--port", str(port))
    assert result.exit_code == 2
    assert f"port {port} is taken: use --port " in result.output
    assert db.stat().st_mtime_ns == before  # the demo database, and its marks, untouched


def test_dashboard_says_when_it_cannot_open_a_browser(demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, config = demo
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(launch, "run_dashboard", lambda *a, **k: 0)
    monkeypatch.setattr(launch, "check_port", lambda port: None)
    result = _run(config, "dashboard", "--port", "8599")
    assert result.exit_code == 0
    assert "no display here, so no browser was opened" in result.output
