"""The CLI's surface, pinned: ``--help`` of the group and of every command, and the exit status of bad invocations.

Help text, options and exit codes are a promise to people's scripts and cron lines (issue #15: a refactor must
not change them). The click tree is walked, so a command added later is pinned too: its golden file is missing
until written. Set UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change, and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.cli.commands import cli

GOLDEN = Path(__file__).parent / "golden" / "cli_help"
WIDTH = 100  # fixed, so the wrapping does not follow the terminal the tests run in


def _paths(command: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under ``command``, the group itself first."""
    found = [prefix]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _paths(command.commands[name], (*prefix, name))
    return found


cli.load_all()  # the group imports a command's module when it is used: walk them all
COMMANDS = _paths(cli)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {name}: a new command? (UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def _forget_cached_help_options(command: click.Command) -> None:
    """Click caches a command's help option on first use: a test that invoked a group on its own (without the
    root's ``-h``) would otherwise change the help printed here. Users always come in through the root."""
    command._help_option = None
    for sub in getattr(command, "commands", {}).values():
        _forget_cached_help_options(sub)


def _invoke(args: list[str], tmp_path: Path) -> tuple[int, str, str]:
    _forget_cached_help_options(cli)
    config = tmp_path / "peerdesk.toml"
    config.write_text(f"[database]\npath = '{tmp_path / 'db.duckdb'}'\n", encoding="utf-8")
    env = {"PEERDESK_CONFIG": str(config), "PEERDESK_NOW": "2026-11-25T12:00:00+00:00", "COLUMNS": str(WIDTH)}
    result = CliRunner(env=env).invoke(cli, args, prog_name="peerdesk", terminal_width=WIDTH)
    return result.exit_code, result.stdout, result.stderr


def test_the_walk_finds_every_command() -> None:
    assert len(COMMANDS) > 30  # the walk went into the groups
    assert ("follows", "sync-bluesky") in COMMANDS and ("login", "mastodon") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "peerdesk")
def test_help_is_unchanged(path: tuple[str, ...], tmp_path: Path) -> None:
    status, out, err = _invoke([*path, "--help"], tmp_path)
    assert (status, err) == (0, "")
    _check("-".join(("peerdesk", *path)) + ".txt", out)


BAD = {
    "unknown-command": ["nosuch"],
    "unknown-option": ["posts", "--nosuch"],
    "limit-zero": ["posts", "--limit", "0"],
    "bad-platform": ["accounts", "--platform", "twitter"],
    "bad-format": ["sources", "--format", "xml"],
    "bad-as-of": ["requests", "--as-of", "yesterday"],
    "as-of-out-of-range": ["peers", "--as-of", "1900-01-01"],
    "weeks-zero": ["response-times", "--weeks", "0"],
    "weeks-too-many": ["peers", "--weeks", "5000"],
    "bad-older-than": ["requests", "--older-than", "soon"],
    "bad-port": ["dashboard", "--port", "70000"],
    "every-too-short": ["collect", "--every", "10s"],
    "bad-since": ["collect", "--since", "whenever"],
    "mark-nothing": ["mark", "https://example.org/1"],
    "mark-twice": ["mark", "https://example.org/1", "--request", "--resolved"],
    "export-no-format": ["export", "--out", "x"],
    "follows-bad-platform": ["follows", "candidates", "--platform", "x"],
    "follows-bad-as-of": ["follows", "candidates", "--as-of", "never"],
    "follows-export-no-format": ["follows", "export"],
    "summary-bad-post": ["summary", "--post", "twitter"],
    "summary-bad-week": ["summary", "--week", "2026-47"],
    "summary-bad-format": ["summary", "--format", "csv"],
    "logout-bad-platform": ["logout", "twitter"],
    "stream-bad-status-every": ["stream", "--status-every", "0s"],
    "run-every-too-short": ["run", "--every", "5s"],
    "detector-no-text": ["detector", "check"],
    "no-command-in-group": ["follows"],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_invocations_exit_and_say_the_same(name: str, tmp_path: Path) -> None:
    status, out, err = _invoke(BAD[name], tmp_path)
    _check(f"bad-{name}.txt", f"exit {status}\n--- stdout\n{out}--- stderr\n{err}")
