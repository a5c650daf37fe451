"""Configuration: defaults that work, and one clear line (exit 2, nothing written) for a bad file."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core.config import find_config, load_settings, parse_settings
from pipeline.core.config_checks import ConfigError
from pipeline.core.settings import DEFAULT_TOML, AlertSettings, Settings


def test_the_written_defaults_parse_to_the_documented_defaults(tmp_path: Path) -> None:
    settings = parse_settings(tomllib.loads(DEFAULT_TOML), base_dir=tmp_path)
    assert settings.tags == ("sololibrarians", "sololibrarian", "onepersonlibrary", "librarians")
    assert settings.mastodon.instances[0] == "https://glammr.us"
    assert settings.db_path == tmp_path / "data" / "peerdesk.duckdb"
    assert settings.bluesky.service == "https://bsky.social"


def test_defaults_are_written_once(tmp_path: Path) -> None:
    """An empty file, no file at all and the file ``peerdesk init`` writes all mean ``Settings()``."""
    rebased = dataclasses.replace(Settings(), db_path=tmp_path / Settings().db_path,
                                  state_dir=tmp_path / Settings().state_dir)
    assert parse_settings({}, base_dir=tmp_path) == rebased
    assert load_settings(None) == Settings()
    assert parse_settings(tomllib.loads(DEFAULT_TOML), base_dir=tmp_path) == dataclasses.replace(
        rebased, alerts=AlertSettings(enabled=True))
    assert all(base.startswith("https://") for base in Settings().mastodon.instances)


def test_instances_take_hosts_and_base_urls_and_tags_are_normalised(tmp_path: Path) -> None:
    raw = {"mastodon": {"instances": ["Glammr.US", "http://127.0.0.1:8001/", "https://example.org/masto"]},
           "community": {"tags": ["#SoloLibrarians", "sololibrarians", "médiathèque"]},
           "bluesky": {"lists": ["https://bsky.app/profile/ana.bsky.social/lists/3kabc",
                                 "at://did:plc:abc/app.bsky.graph.list/3kxyz"]}}
    settings = parse_settings(raw, base_dir=tmp_path)
    assert settings.mastodon.instances == ("https://glammr.us", "http://127.0.0.1:8001", "https://example.org/masto")
    assert settings.tags == ("sololibrarians", "médiathèque")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[community]\nnmae = 'x'\n", "[community] nmae: unknown key"),
        ("[comunity]\nname = 'x'\n", "[comunity]: unknown section"),
        ("[community]\ntags = 'sololibrarians'\n", "[community] tags: expected an array, got a string"),
        ("[community]\ntags = ['#foo bar']\n", "[community] tags[0]: '#foo bar' is not a hashtag"),
        ("[community]\ntags = [3]\n", "[community] tags[0]: expected a string, got an integer"),
        ("[mastodon]\ninstances = ['ftp://x.org']\n", "[mastodon] instances[0]: 'ftp://x.org' is not a host name"),
        ("[mastodon]\ninstances = ['not a host']\n", "[mastodon] instances[0]"),
        ("[mastodon]\ninstances = ['http://127.0.0.1:99999']\n", "malformed port"),
        ("[collect]\nsince_days = 0\n", "[collect] since_days: must be at least 1"),
        ("[collect]\ntimeout = true\n", "[collect] timeout: expected a number"),
        ("[community]\ntimezone = 'Mars/Base'\n", "[community] timezone"),
        ("[bluesky]\nlists = ['https://example.org/list']\n", "[bluesky] lists[0]"),
        ("[community\n", "not valid TOML"),
    ],
)
def test_a_bad_file_gets_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "peerdesk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_cli_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text("[database]\npath = 'x.duckdb'\n[mastodon]\ninstances = ['http://']\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "collect"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "[mastodon] instances[0]" in lines[0]
    assert not (tmp_path / "x.duckdb").exists()


def test_config_is_found_by_flag_then_environment_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config(None) is None
    (tmp_path / "peerdesk.toml").write_text("", encoding="utf-8")
    assert find_config(None) == tmp_path / "peerdesk.toml"
    monkeypatch.setenv("PEERDESK_CONFIG", "/elsewhere.toml")
    assert find_config(None) == Path("/elsewhere.toml")
    assert find_config("given.toml") == Path("given.toml")


def test_init_writes_a_commented_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "peerdesk.toml"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--path", str(target)]).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("# peerdesk configuration")
    again = runner.invoke(cli, ["init", "--path", str(target)])
    assert again.exit_code == 2 and "already exists" in again.output
