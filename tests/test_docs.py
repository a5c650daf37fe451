"""The README's promises: every command is documented, the CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import click

from pipeline.cli.commands import cli
from pipeline.core.settings import DEFAULT_TOML

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += _commands(command, prefix + name + " ")
    return found


def test_every_command_has_help_and_is_in_the_readme() -> None:
    for name, command in _commands(cli):
        assert command.help and command.help.strip(), f"{name} has no help text"
        assert f"peerdesk {name}" in README, f"'peerdesk {name}' is not in the README"


def test_every_config_key_is_in_the_readme() -> None:
    section = None
    for line in DEFAULT_TOML.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        match = re.match(r"#?\s*(\w+) = ", line)
        if match and section:
            assert f"`[{section}] {match.group(1)}`" in README, f"[{section}] {match.group(1)} is not documented"


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
