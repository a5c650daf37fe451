"""Mistakes get one line, not a traceback: bad configuration, database paths and arguments.

Each case runs the real CLI and asserts what a person at a terminal (or cron) sees:
exactly one line on stderr naming what is wrong, no traceback, the documented exit
status (2 for configuration and usage, 1 for a failure at run time), and a database
file that is absent or byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

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
    Case("negative timeout", BASE + "[collect]\ntimeout = -1\n", ("collect",), 2, "[collect] timeout: must be at least"),
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
