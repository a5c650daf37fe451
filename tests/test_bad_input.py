"""Mistakes get one line, not a traceback: bad configuration, database paths and arguments.

Each case runs the real CLI and asserts what a person at a terminal (or cron) sees:
exactly one line on stderr naming what is wrong, no traceback, the documented exit
status (2 for configuration and usage, 1 for a failure at run time), and a database
file that is absent or byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.commands import cli

# Nothing listens on port 9: a collect that got past validation would fail there, quickly and offline.
BASE = "[database]\npath = 'db.duckdb'\n[mastodon]\ninstances = ['http://127.0.0.1:9']\n"


@dataclass(frozen=True)
class Case:
    """One mistake: the configuration (appended to BASE), the arguments, and what must be said."""

    name: str
    config: str | bytes
    args: tuple[str, ...]
    status: int
    says: str
    prepare: Callable[[Path], None] | None = field(default=None, compare=False)


def _fingerprint(path: Path) -> str | None:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(tmp_path: Path, case: Case) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_bytes(case.config if isinstance(case.config, bytes) else case.config.encode("utf-8"))
    if case.prepare:
        case.prepare(tmp_path)
    db = tmp_path / "db.duckdb"
    before = _fingerprint(db)
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.exit_code == case.status, (result.exit_code, result.stderr, result.stdout)
    assert len(lines) == 1, result.stderr
    assert case.says in lines[0], lines[0]
    assert _fingerprint(db) == before, "the database was written"
    assert not (tmp_path / "db.duckdb.wal").exists()


CONFIG_CASES = [
    Case("unclosed IPv6 bracket", BASE.replace("http://127.0.0.1:9", "http://[::1"), ("posts",), 2,
         "[mastodon] instances[0]: 'http://[::1'"),
    Case("huge since_days", BASE + "[collect]\nsince_days = 99999999999\n", ("collect",), 2,
         "[collect] since_days: must be at most"),
    Case("huge horizon_days", BASE + "[threads]\nhorizon_days = 99999999999\n", ("collect",), 2,
         "[threads] horizon_days: must be at most"),
    Case("huge [run] every", BASE + "[run]\nevery = '99999999999w'\n", ("collect",), 2, "[run] every"),
    Case("timeout nan", BASE + "[collect]\ntimeout = nan\n", ("collect",), 2, "[collect] timeout: must be a finite"),
    Case("timeout inf", BASE + "[collect]\ntimeout = inf\n", ("collect",), 2, "[collect] timeout: must be a finite"),
    Case("negative timeout", BASE + "[collect]\ntimeout = -1\n", ("collect",), 2,
         "[collect] timeout: must be at least"),
    Case("huge max_retries", BASE + "[collect]\nmax_retries = 99999999999\n", ("collect",), 2,
         "[collect] max_retries: must be at most"),
    Case("negative max_retries", BASE + "[collect]\nmax_retries = -1\n", ("collect",), 2, "[collect] max_retries"),
    Case("bool for an int", BASE + "[collect]\nmax_retries = true\n", ("collect",), 2,
         "[collect] max_retries: expected an integer, got true/false"),
    Case("huge budget", BASE + "[threads]\nbudget = 10000000000\n", ("collect",), 2, "[threads] budget"),
    Case("huge max_in_flight", BASE.replace("instances", "max_in_flight = 1000000\ninstances"), ("collect",), 2,
         "[mastodon] max_in_flight: must be at most"),
    Case("bool max_in_flight", BASE.replace("instances", "max_in_flight = true\ninstances"), ("collect",), 2,
         "[mastodon] max_in_flight: expected an integer"),
    Case("empty tag list", BASE + "[community]\ntags = []\n", ("collect",), 2, "[community] tags"),
    Case("same server twice", BASE.replace("'http://127.0.0.1:9'", "'glammr.us', 'http://glammr.us'"),
         ("collect",), 2, "[mastodon] instances[1]"),
    Case("language that is no tag", BASE + "[community]\nlanguage = 'english please'\n", ("collect",), 2,
         "[community] language"),
    Case("NUL in the database path", BASE.replace("'db.duckdb'", '"db\\u0000.duckdb"'), ("collect",), 2,
         "[database] path"),
    Case("not UTF-8", BASE.encode() + b"[community]\nname = 'caf\xe9'\n", ("collect",), 2, "not UTF-8"),
]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.name for c in CONFIG_CASES])
def test_bad_configuration(tmp_path: Path, case: Case) -> None:
    _run(tmp_path, case)


# ---------------------------------------------------------------- the database file

def _write(data: bytes) -> Callable[[Path], None]:
    return lambda tmp: (tmp / "db.duckdb").write_bytes(data)


def _directory(tmp: Path) -> None:
    (tmp / "db.duckdb").mkdir()


def _sqlite(tmp: Path) -> None:
    import sqlite3

    con = sqlite3.connect(tmp / "db.duckdb")
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()


def _duckdb(*statements: str) -> Callable[[Path], None]:
    def prepare(tmp: Path) -> None:
        import duckdb

        con = duckdb.connect(str(tmp / "db.duckdb"))
        for sql in statements:
            con.execute(sql)
        con.close()

    return prepare


def _peerdesk_db(tmp: Path) -> None:
    from pipeline.core import store

    with store.writing(tmp / "db.duckdb"):
        pass
    store.checkpoint(tmp / "db.duckdb")  # whole, with no WAL beside it: a WAL after the command means a write


def _read_only(tmp: Path) -> None:
    _peerdesk_db(tmp)
    (tmp / "db.duckdb").chmod(0o444)


def _locked_folder(tmp: Path) -> None:
    (tmp / "locked").mkdir(mode=0o555)


_NEWER = ("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ)",
          "INSERT INTO schema_migrations VALUES (999, 'from the future', now())",
          "CREATE TABLE post_store (uri VARCHAR)")
_AS_ROOT = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")

DATABASE_CASES = [
    *(Case(f"{what} ({command})", BASE, (command,), 2, says, prepare=prepare)
      for command in ("collect", "posts")
      for what, prepare, says in [
          ("a text file", _write(b"name,email\nana,ana@example.org\n"), "is not a DuckDB database"),
          ("an empty file", _write(b""), "is an empty file"),
          ("a directory", _directory, "is a directory"),
          ("a SQLite file", _sqlite, "is a SQLite database"),
          ("another application's DuckDB", _duckdb("CREATE TABLE invoices (n INTEGER)"), "another application"),
          ("a DuckDB with another schema_migrations", _duckdb(
              "CREATE TABLE schema_migrations (version VARCHAR)", "INSERT INTO schema_migrations VALUES ('20240101')"),
           "another application"),
          ("a newer peerdesk's database", _duckdb(*_NEWER), "written by a newer peerdesk (schema version 999"),
      ]),
    Case("a file where a folder should be", BASE.replace("'db.duckdb'", "'db.duckdb/peerdesk.duckdb'"),
         ("collect",), 2, "is a file, not a folder", prepare=_peerdesk_db),
    Case("reading an empty DuckDB file", BASE, ("posts",), 2, "without peerdesk's tables", prepare=_duckdb()),
    Case("reading a missing database", BASE, ("posts",), 1, "no database at"),
    Case("the dashboard on a missing database", BASE, ("dashboard",), 1, "no database at"),
    Case("exporting from a missing database", BASE, ("follows", "export", "--format", "json"), 1, "no database at"),
]
ROOT_CASES = [
    Case("a read-only database file", BASE, ("collect",), 2, "is read-only", prepare=_read_only),
    Case("an unwritable folder", BASE.replace("'db.duckdb'", "'locked/db.duckdb'"), ("collect",), 2,
         "not allowed to write in", prepare=_locked_folder),
]


@pytest.mark.parametrize("case", DATABASE_CASES, ids=[c.name for c in DATABASE_CASES])
def test_bad_database_path(tmp_path: Path, case: Case) -> None:
    _run(tmp_path, case)


@_AS_ROOT
@pytest.mark.parametrize("case", ROOT_CASES, ids=[c.name for c in ROOT_CASES])
def test_database_path_without_permission(tmp_path: Path, case: Case) -> None:
    _run(tmp_path, case)


# ---------------------------------------------------------------- arguments

ARGUMENT_CASES = [
    Case("negative --limit", BASE, ("posts", "--limit", "-5"), 2, "--limit"),
    Case("huge --since", BASE, ("collect", "--since", "99999999999w"), 2, "--since"),
    Case("--since before dates make sense", BASE, ("collect", "--since", "0001-01-01"), 2, "--since"),
    Case("huge --weeks", BASE, ("peers", "--weeks", "999999999"), 2, "--weeks"),
    Case("huge follows --weeks", BASE, ("follows", "candidates", "--weeks", "999999999"), 2, "--weeks"),
    Case("dashboard port out of range", BASE, ("dashboard", "--port", "99999"), 2, "--port"),
    Case("demo port out of range", BASE, ("demo", "--port", "0"), 2, "--port"),
    Case("export into /proc", BASE, ("follows", "export", "--format", "json", "--out", "/proc/x"), 2, "--out",
         prepare=_peerdesk_db),
    Case("export into a missing folder", BASE, ("follows", "export", "--format", "csv", "--out", "{tmp}/no/x.csv"),
         2, "--out", prepare=_peerdesk_db),
    Case("export onto a directory", BASE, ("follows", "export", "--format", "csv", "--out", "{tmp}"), 2, "--out",
         prepare=_peerdesk_db),
    Case("init into /proc", BASE, ("init", "--path", "/proc/x/peerdesk.toml"), 2, "--path"),
    Case("collect --every 0s", BASE, ("collect", "--every", "0s"), 2, "--every"),
    Case("run --every 0s", BASE, ("run", "--every", "30s"), 2, "--every"),
    Case("--as-of garbage", BASE, ("requests", "--as-of", "next tuesday"), 2, "--as-of"),
    Case("--as-of out of range", BASE, ("peers", "--as-of", "9999-12-31"), 2, "--as-of"),
    Case("huge --older-than", BASE, ("requests", "--older-than", "99999999999w"), 2, "--older-than"),
    Case("stream status every 0s", BASE, ("stream", "--status-every", "0s"), 2, "--status-every"),
    Case("an unknown option", BASE, ("posts", "--limt", "3"), 2, "--limt"),
]


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=[c.name for c in ARGUMENT_CASES])
def test_bad_arguments(tmp_path: Path, case: Case) -> None:
    _run(tmp_path, case)


# ---------------------------------------------------------------- --config anywhere, and the safety net

def test_config_is_accepted_after_the_command(tmp_path: Path) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text(BASE, encoding="utf-8")
    _peerdesk_db(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(cli, ["posts", "--config", str(config), "--format", "json"])
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]", listed.stderr
    nested = runner.invoke(cli, ["follows", "candidates", "--config", str(config), "--format", "json"])
    assert nested.exit_code == 0 and nested.stdout.strip() == "[]", nested.stderr

    config.write_text(BASE + "[collect]\ntimeout = nan\n", encoding="utf-8")
    refused = runner.invoke(cli, ["collect", "--config", str(config)])
    assert refused.exit_code == 2 and "[collect] timeout" in refused.stderr
    elsewhere = tmp_path / "other.toml"
    elsewhere.write_text(BASE.replace("db.duckdb", "other.duckdb"), encoding="utf-8")
    last_wins = runner.invoke(cli, ["--config", str(config), "posts", "--config", str(elsewhere)])
    assert last_wins.exit_code == 1 and "other.duckdb" in last_wins.stderr


def _failing_posts(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    from pipeline.core import queries

    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(queries, "recent_posts", fail)


def test_an_unexpected_failure_is_one_line_and_the_traceback_needs_verbose(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text(BASE, encoding="utf-8")
    _peerdesk_db(tmp_path)
    _failing_posts(monkeypatch, RuntimeError("disk\non fire"))
    quiet = CliRunner().invoke(cli, ["--config", str(config), "posts"])
    assert quiet.exit_code == 1
    assert quiet.stderr == "peerdesk: error: RuntimeError: disk on fire\n"
    loud = CliRunner().invoke(cli, ["--config", str(config), "--verbose", "posts"])
    assert loud.exit_code == 1
    assert "Traceback" in loud.stderr and loud.stderr.endswith("peerdesk: error: RuntimeError: disk on fire\n")


def test_ctrl_c_exits_130_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text(BASE, encoding="utf-8")
    _peerdesk_db(tmp_path)
    _failing_posts(monkeypatch, KeyboardInterrupt())
    result = CliRunner().invoke(cli, ["--config", str(config), "posts"])
    assert result.exit_code == 130
    assert result.stderr.strip() == "" and "Traceback" not in result.stdout
