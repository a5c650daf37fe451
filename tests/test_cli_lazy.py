"""The CLI imports a command's module only when that command runs, and still knows every command.

`peerdesk demo` is the first thing a new user runs; before this it imported atproto, Mastodon.py and the
detector's training code for commands it never calls (about a second). The golden help files pin what every
command says; here: that each lazily named command is the one it names, and that the demo loads no protocol client.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from pipeline.cli.commands import COMMANDS, cli
from pipeline.cli.common import PeerdeskGroup

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL_CLIENTS = ("atproto", "atproto_client", "mastodon", "websockets")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_named_command_is_the_command_of_that_name(name: str) -> None:
    module, _, attribute = COMMANDS[name].partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command) and command.name == name
    assert cli.get_command(click.Context(cli), name) is command
    assert any(p.name == "config_path" for p in command.params)  # the shared --config, as add_command gives it


def test_the_group_lists_every_command_once_and_refuses_a_wrong_entry() -> None:
    assert cli.list_commands(click.Context(cli)) == sorted(COMMANDS)
    assert cli.get_command(click.Context(cli), "nosuch") is None
    wrong = PeerdeskGroup(lazy_commands={"demo": "pipeline.cli.viewer:dashboard"})
    with pytest.raises(TypeError, match="is not the command 'demo'"):
        wrong.get_command(click.Context(wrong), "demo")


def test_the_demo_loads_no_protocol_client(tmp_path: Path) -> None:
    code = ("import json, sys\nfrom pipeline.cli.commands import cli\n"
            "try:\n    cli.main(['demo', '--no-dashboard', '--db', sys.argv[1]], prog_name='peerdesk')\n"
            "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {PROTOCOL_CLIENTS!r})))\n")
    env = {**os.environ, "PEERDESK_NOW": "2026-11-25T12:00:00+00:00"}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "demo.duckdb")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("demo: loaded")
    assert json.loads(lines[-1]) == []
