"""The shared CLI options mean the same in every command: one list of platforms, one parser per kind of value.

Walks the whole click tree, so a command that brings its own copy of ``--as-of`` (a string parsed later, or not
at all) or its own list of platforms fails here, not in a user's script (issue #15, "knowledge written once").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from pipeline.cli.commands import cli
from pipeline.cli.options import MAX_WEEKS, duration_text, parse_platforms
from pipeline.core.settings import RunSettings
from pipeline.platforms import NAMES


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _commands(command.commands[name], (*path, name))
    return found


cli.load_all()  # the group imports a command's module when it is used: walk them all
COMMANDS = [(p, c) for p, c in _commands(cli) if p and not isinstance(c, click.Group)]


def _with(command: click.Command, opt: str) -> click.Parameter | None:
    return next((p for p in command.params if opt in p.opts), None)


def _required_args(command: click.Command) -> list[str]:
    """The least a command needs to parse: its required options and arguments, each with a valid value."""
    args: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        value = param.type.choices[0] if isinstance(param.type, click.Choice) else "x"
        args += [param.opts[0], value] if isinstance(param, click.Option) else [value]
    return args


def _parse(path: tuple[str, ...], command: click.Command, extra: list[str]) -> dict:
    root = cli.make_context("peerdesk", [*path], resilient_parsing=True)
    parent = root
    for name in path[:-1]:  # a subcommand's parent chain, as click builds it
        parent = click.Context(parent.command.commands[name], parent=parent, info_name=name)  # type: ignore[attr-defined]
    with command.make_context(path[-1], [*_required_args(command), *extra], parent=parent) as ctx:
        return ctx.params


def _having(opt: str) -> list[tuple[tuple[str, ...], click.Command]]:
    return [(p, c) for p, c in COMMANDS if _with(c, opt) is not None]


@pytest.mark.parametrize("path,command", _having("--as-of"), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_as_of_reaches_the_command_parsed(path: tuple[str, ...], command: click.Command) -> None:
    assert _parse(path, command, ["--as-of", "2026-11-01"])["as_of"] == datetime(2026, 11, 1, tzinfo=UTC)
    assert _parse(path, command, ["--as-of", "2026-11-01T12:00+01:00"])["as_of"] == datetime(2026, 11, 1, 11,
                                                                                            tzinfo=UTC)
    with pytest.raises(click.BadParameter, match="not an ISO date") as refused:
        _parse(path, command, ["--as-of", "yesterday"])
    assert refused.value.param_hint == "--as-of"  # said as in every other command: "Invalid value for --as-of"


def test_as_of_is_offered_where_reports_are_computed() -> None:
    having = {" ".join(p) for p, _ in _having("--as-of")}
    assert {"requests", "peers", "response-times", "alerts", "export", "summary", "follows candidates",
            "follows export"} <= having


def test_every_platform_choice_is_the_platform_list() -> None:
    choices = {" ".join(p): list(param.type.choices) for p, c in COMMANDS for param in c.params
               if param.name == "platform" and isinstance(param.type, click.Choice)}
    assert set(choices) >= {"posts", "accounts", "requests", "response-times", "follows candidates", "logout"}
    assert all(c == list(NAMES) for c in choices.values()), choices


def test_every_weeks_has_the_same_bounds() -> None:
    bounds = {" ".join(p): (c.params[c.params.index(_with(c, "--weeks"))].type.min,  # type: ignore[arg-type]
                            _with(c, "--weeks").type.max) for p, c in _having("--weeks")}  # type: ignore[union-attr]
    assert len(bounds) >= 4 and set(bounds.values()) == {(1, MAX_WEEKS)}, bounds


@pytest.mark.parametrize("path,command", _having("--db"), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_db_reaches_the_command_as_a_path(path: tuple[str, ...], command: click.Command) -> None:
    assert _parse(path, command, ["--db", "some/file.duckdb"])["db_path"] == Path("some/file.duckdb")
    assert _parse(path, command, [])["db_path"] is None
    assert _parse(path, command, ["--db", ""])["db_path"] is None  # empty: the command's own default


@pytest.mark.parametrize("path,command", _having("--every"), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_every_is_a_timedelta_of_a_minute_or_more(path: tuple[str, ...], command: click.Command) -> None:
    assert _parse(path, command, ["--every", "2h"])["every"] == timedelta(hours=2)
    assert _parse(path, command, [])["every"] is None
    with pytest.raises(click.BadParameter, match="shorter than a minute"):
        _parse(path, command, ["--every", "30s"])


def test_a_list_of_platforms_is_each_once_in_the_order_given() -> None:
    assert parse_platforms(" Bluesky, mastodon,bluesky ", "--post") == ["bluesky", "mastodon"]
    for bad in ("", ",", "mastodon,twitter"):
        with pytest.raises(click.BadParameter, match="name mastodon, bluesky or both"):
            parse_platforms(bad, "--post")


def test_durations_are_shown_as_people_type_them() -> None:
    assert [duration_text(timedelta(seconds=s)) for s in (900, 3600, 86400, 604800, 90, 0)] == \
        ["15m", "1h", "1d", "1w", "90s", "0s"]
    assert duration_text(RunSettings.every) == "15m"  # what `peerdesk run --help` says, read from the config
