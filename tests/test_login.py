"""Signing in once: `peerdesk login/logout/whoami` against local Mastodon and Bluesky servers speaking OAuth/XRPC.

The token ends up in one 0600 file under state_dir and nowhere else (not in the output, the configuration or the
database), every reader of the home token finds it there, and the environment still wins.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

from collectors.records import MASTODON, Account, Page
from pipeline.cli.commands import cli
from pipeline.core import store
from pipeline.core.config import load_settings
from pipeline.core.ingest import store_page
from pipeline.followlist import candidates as follows
from pipeline.followlist.sync_mastodon import mastodon_follow_sync
from pipeline.signin import credentials
from pipeline.signin.credentials import bluesky_credentials, mastodon_token
from tests.fakes.bluesky import DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky
from tests.fakes.mastodon import FakeMastodon, authorize, graph_of, make_account, oauth_of


@pytest.fixture()
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon(instance={"domain": "glammr.us", "version": "4.5.0"}) as fake:
        yield fake


def write_config(tmp_path: Path, home: str, sky: str | None = None) -> Path:
    config = tmp_path / "peerdesk.toml"
    text = (f'[database]\npath = "db/peerdesk.duckdb"\nstate_dir = "state"\n\n'
            f'[mastodon]\ninstances = []\nhome = "{home}"\n')
    if sky:
        text += f'\n[bluesky]\nservice = "{sky}"\nappview = "{sky}"\n'
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], input=input)


def sign_in(server: FakeMastodon, config: Path) -> tuple[Result, Result]:
    """The two steps a script takes: ask for the URL, then come back with the code the page showed."""
    first = run(config, "login", "mastodon", input="")
    url = next(line for line in first.stdout.splitlines() if "/oauth/authorize?" in line)
    client_id = parse_qs(urlsplit(url).query)["client_id"][0]
    return first, run(config, "login", "mastodon", "--code", authorize(server, client_id))


def test_mastodon_login_keeps_the_token_in_a_0600_file_that_every_reader_uses(
        server: FakeMastodon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    config = write_config(tmp_path, server.base)
    first, second = sign_in(server, config)
    assert first.exit_code == 1 and "no code given: run 'peerdesk login mastodon --code CODE'" in first.stderr
    assert "Traceback" not in first.output
    assert second.exit_code == 0, second.output
    host = urlsplit(server.base).netloc
    assert second.stdout.startswith(f"signed in to {host} as @organiser (scopes: read write:lists write:statuses)")

    apps = [r for r in server.requests if r.path == "/api/v1/apps"]
    assert len(apps) == 1  # the second run reused the app waiting for its code
    registered = parse_qs(apps[0].body.decode())
    assert registered["scopes"] == ["read write:lists write:statuses"]
    assert registered["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]
    token_request = parse_qs(next(r for r in server.requests if r.path == "/oauth/token").body.decode())
    assert token_request["grant_type"] == ["authorization_code"]

    settings = load_settings(config)
    path = credentials.mastodon_path(settings.state_dir, server.base)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = server.token
    assert token and json.loads(path.read_text())["access_token"] == token
    assert sorted(p.name for p in settings.state_dir.iterdir()) == [path.name]  # the pending app file is gone

    # Every reader of the home token finds it; the environment wins.
    assert mastodon_token(settings, server.base) == token
    monkeypatch.setenv("PEERDESK_MASTODON_TOKEN", "from-the-environment")
    assert mastodon_token(settings, server.base) == "from-the-environment"
    monkeypatch.delenv("PEERDESK_MASTODON_TOKEN")

    # The list sync runs on the saved token (no environment) and writes the database.
    graph = graph_of(server)
    graph.know(make_account("bea", account_id="2"), followed=True)
    with store.writing(settings.db_path) as con:
        store_page(con, Page(accounts=[Account(key="bea@glammr.us", platform=MASTODON, handle="bea@glammr.us")]))
        follows.decide(con, ["bea@glammr.us"], "approved")
    report, _ = mastodon_follow_sync(settings, apply=True)
    assert report.error is None and list(graph.members.values()) == [["2"]]

    whoami = run(config, "whoami", "--format", "json")
    assert whoami.exit_code == 0, whoami.output
    assert json.loads(whoami.stdout) == [{"platform": "mastodon", "account": "@organiser", "server": host,
                                          "scopes": "read write:lists write:statuses", "from": str(path),
                                          "status": "ok"}]

    secret = settings.state_dir.parent / "db" / "peerdesk.duckdb"
    client_secret = json.loads(path.read_text())["client_secret"]
    for value in (token, client_secret):
        for output in (first.output, second.output, whoami.output):
            assert value not in output
        assert value.encode() not in secret.read_bytes()
        assert value not in config.read_text()


def test_logout_revokes_the_token_on_the_instance_and_deletes_it(server: FakeMastodon, tmp_path: Path) -> None:
    config = write_config(tmp_path, server.base)
    assert sign_in(server, config)[1].exit_code == 0
    token = server.token
    path = credentials.mastodon_path(load_settings(config).state_dir, server.base)

    out = run(config, "logout", "mastodon")
    assert out.exit_code == 0, out.output
    assert "the token is revoked and deleted" in out.stdout
    assert oauth_of(server).revoked == [token] and server.token is None and not path.exists()
    nobody = run(config, "whoami")
    assert nobody.exit_code == 0 and "peerdesk acts as nobody" in nobody.stderr


def test_a_wrong_code_is_one_line_and_keeps_nothing(server: FakeMastodon, tmp_path: Path) -> None:
    config = write_config(tmp_path, server.base)
    run(config, "login", "mastodon", input="")
    out = run(config, "login", "mastodon", "--code", "not-the-code")
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "did not accept that code" in out.stderr
    assert not credentials.mastodon_path(load_settings(config).state_dir, server.base).exists()


def test_the_token_file_is_private_from_its_first_byte_even_with_a_permissive_umask(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret.json"
    path.parent.mkdir()
    path.write_text("old")
    os.chmod(path, 0o644)
    old = os.umask(0)
    try:
        credentials.write_private(path, "new")
    finally:
        os.umask(old)
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret.json"]  # no temporary file left


# ---------------------------------------------------------------- Bluesky


@pytest.fixture()
def sky() -> Iterator[FakeBluesky]:
    with FakeBluesky() as fake:
        yield fake


def test_bluesky_login_keeps_the_session_not_the_password(sky: FakeBluesky, tmp_path: Path) -> None:
    config = write_config(tmp_path, "https://glammr.us", sky.url)
    out = run(config, "login", "bluesky", input=f"{DEFAULT_HANDLE}\n{DEFAULT_PASSWORD}\n")
    assert out.exit_code == 0, out.output
    assert f"signed in to Bluesky as @{DEFAULT_HANDLE}" in out.stdout
    settings = load_settings(config)
    session = settings.state_dir / "bluesky-session.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert DEFAULT_PASSWORD not in session.read_text() and DEFAULT_PASSWORD not in out.output
    assert DEFAULT_PASSWORD not in config.read_text()

    # Without the environment, commands that need Bluesky use the saved session: no new createSession.
    assert bluesky_credentials(settings) == (DEFAULT_HANDLE, None)
    before = len(sky.calls("com.atproto.server.createSession"))
    who = run(config, "whoami", "--format", "csv")
    assert who.exit_code == 0, who.output
    assert f"bluesky,@{DEFAULT_HANDLE}," in who.stdout and "com.atproto.appPass" in who.stdout
    assert len(sky.calls("com.atproto.server.createSession")) == before

    gone = run(config, "logout", "bluesky")
    assert gone.exit_code == 0 and not session.exists()
    assert bluesky_credentials(settings) == (None, None)


def test_bluesky_login_refuses_the_accounts_own_password(sky: FakeBluesky, tmp_path: Path) -> None:
    config = write_config(tmp_path, "https://glammr.us", sky.url)
    out = run(config, "login", "bluesky", "--handle", DEFAULT_HANDLE, input="my real password\n")
    assert out.exit_code == 2 and "not an app password" in out.stderr
    assert sky.calls("com.atproto.server.createSession") == []  # refused before anything was sent

    sky.access_scope = "com.atproto.access"  # a main password that happens to look like an app password
    out = run(config, "login", "bluesky", "--handle", DEFAULT_HANDLE, input=f"{DEFAULT_PASSWORD}\n")
    assert out.exit_code == 2 and "was not an app password" in out.stderr
    assert not (load_settings(config).state_dir / "bluesky-session.json").exists()


def test_only_credentials_reads_secrets_from_the_environment() -> None:
    """The token order (instance variable, then PEERDESK_MASTODON_TOKEN for home, then the saved file) is written once.

    A second reader of those variables would drift from :func:`credentials.mastodon_token` the day the order changes.
    """
    import ast

    root = Path(__file__).resolve().parents[1]
    secret = ("PEERDESK_MASTODON_TOKEN", "PEERDESK_BLUESKY_HANDLE", "PEERDESK_BLUESKY_APP_PASSWORD")
    readers = []
    for path in sorted(p for folder in ("pipeline", "collectors", "dashboard") for p in root.glob(f"{folder}/**/*.py")):
        if path == root / "pipeline/signin/credentials.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            reads_environment = isinstance(node, ast.Call) and "environ" in ast.unparse(node.func)
            if reads_environment and any(
                    (isinstance(arg, ast.Constant) and str(arg.value).startswith(secret))
                    or (isinstance(arg, ast.Call) and ast.unparse(arg.func).endswith("token_env_name"))
                    for arg in node.args):
                readers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert readers == []
