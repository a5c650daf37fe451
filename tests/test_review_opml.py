"""Review: the OPML follow-list must stay well-formed XML whatever a display name holds.

XML 1.0 has no way to write U+FFFE, U+FFFF (and the C0 controls but tab and line
breaks), not even as character references, and ``xml.etree`` writes them as they
are: a feed reader then refuses the whole file. A display name is whatever the
account's server says; the collectors replace control characters, but not these
two non-characters, and rows stored before that cleaning may still hold controls.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core import store
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.support import mastodon_settings, run_once

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_opml_export_parses_when_a_display_name_holds_an_xml_forbidden_character(tmp_path: Path) -> None:
    bea = make_account("bea", account_id="2")
    bea["display_name"] = "Bea \uffff\ufffe Library"
    statuses = [make_status(1, author=bea, text="Does anyone know a good ILS for a law library?",
                            created_at="2026-11-20T10:00:00.000Z")]
    with FakeMastodon(statuses) as server:
        settings = mastodon_settings(tmp_path, server.base)
        run_once(settings, now=NOW)
    with store.writing(settings.db_path) as con:  # a row stored before records were cleaned of controls
        con.execute("INSERT INTO account_store (account, platform, handle, display_name, bot, discoverable, "
                    "first_seen_at, last_seen_at, url) VALUES ('cy@glammr.us', 'mastodon', 'cy@glammr.us', "
                    "'Cy \x0b\x1b[31m', false, true, ?, ?, 'https://glammr.us/@cy')", [NOW, NOW])
    config = tmp_path / "peerdesk.toml"
    config.write_text(f"[database]\npath = '{settings.db_path}'\n", encoding="utf-8")
    runner = CliRunner()
    approved = runner.invoke(cli, ["--config", str(config), "follows", "approve", "bea@glammr.us", "cy@glammr.us"])
    assert approved.exit_code == 0, approved.output
    out = tmp_path / "follows.opml"
    exported = runner.invoke(cli, ["--config", str(config), "follows", "export", "--format", "opml", "--out", str(out),
                                   "--as-of", (NOW + timedelta(hours=1)).isoformat()])
    assert exported.exit_code == 0, exported.output
    root = ET.fromstring(out.read_bytes())  # a feed reader's parser: the whole list, or nothing
    feeds = {o.get("xmlUrl"): o.get("text") for o in root.iter("outline") if o.get("type") == "rss"}
    assert set(feeds) == {"https://glammr.us/@bea.rss", "https://glammr.us/@cy.rss"}
    assert feeds["https://glammr.us/@bea.rss"].startswith("Bea ") and "Library" in feeds["https://glammr.us/@bea.rss"]
