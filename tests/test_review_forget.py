"""Review: ``peerdesk forget --unseen`` given a profile URL keeps out the account that URL shows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core import store
from pipeline.core.settings import MastodonSettings
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once


def test_forgetting_an_unseen_account_by_its_profile_url_on_a_split_domain_server(tmp_path: Path) -> None:
    """example.com's users are @alice@example.com, served from another web host, where her profile page is
    ``https://<web host>/@alice``. Alice asks to be kept out before peerdesk ever saw her, and the organiser
    pastes that profile URL with --unseen: the command says she will not be stored, and then she is."""
    with FakeMastodon(instance={"domain": "example.com", "version": "4.5.0", "configuration": {}}) as server:
        web_host = server.base.split("://", 1)[1]
        alice = make_account("alice", web_host, on=web_host)
        server.add(make_status(10, author=alice, host=web_host, text="Does anyone know a good ILS?"))
        settings = mastodon_settings(tmp_path, server.base)
        settings = dataclasses.replace(settings, mastodon=MastodonSettings(
            instances=(server.base,), fetch_from_origin=True,
            origins=((web_host, server.base), ("example.com", server.base))))
        config = tmp_path / "peerdesk.toml"
        config.write_text(f"[database]\npath = '{settings.db_path}'\n", encoding="utf-8")
        store.connect(settings.db_path).close()
        result = CliRunner().invoke(cli, ["--config", str(config), "forget", "--unseen", alice["url"]])
        if result.exit_code == 2:  # refused: the organiser is asked for user@domain, which names her for certain
            assert "user@domain" in result.output
            return
        assert result.exit_code == 0 and "will not be stored again" in result.output
        run_once(settings)
    with store.reading(settings.db_path) as con:
        assert con.execute("SELECT author FROM post_store").fetchall() == []
