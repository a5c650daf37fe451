"""One seam per platform: every registry covers every platform, and a credential's sentence is written once.

A platform is its collector package plus one source module
(``pipeline/collection/<platform>_source.py``), found by the cycle through
:data:`pipeline.collection.sources.SOURCES`; publishing finds it through
:data:`pipeline.summary.publishers.PUBLISHERS`. These tests are what the
"Adding a platform" checklist in the README points at.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from collectors.records import Page, SourceReport
from pipeline import platforms
from pipeline.collection import sources
from pipeline.collection.cycle import CycleOptions, run_cycle
from pipeline.core import store
from pipeline.core.settings import MastodonSettings, Settings
from pipeline.followlist.sync_bluesky import SyncError, bluesky_follow_sync
from pipeline.followlist.sync_mastodon import mastodon_follow_sync
from pipeline.signin import needs
from pipeline.summary import previews, publish, publish_bluesky, publish_mastodon
from pipeline.summary.publishers import PUBLISHERS
from tests.support import NOW, SINCE

ROOT = Path(__file__).resolve().parents[1]


def test_every_registry_covers_every_platform() -> None:
    registries = {"collection.sources.SOURCES": sources.SOURCES, "summary.publish.PLANNED": publish.PLANNED,
                  "summary.publishers.PUBLISHERS": PUBLISHERS, "summary.previews.PREVIEWS": previews.PREVIEWS}
    for where, registry in registries.items():
        assert set(registry) == set(platforms.NAMES), where
    assert publish.PLATFORMS == platforms.NAMES
    assert all(platforms.label(name) != name for name in platforms.NAMES), "every platform has a label"


def test_collectors_name_no_peerdesk_variable() -> None:
    """Collectors say what is missing; how to provide it (variables, commands) is worded in pipeline.signin.needs."""
    naming = [str(p.relative_to(ROOT)) for p in (ROOT / "collectors").rglob("*.py")
              if "PEERDESK_" in p.read_text(encoding="utf-8")]
    assert naming == []


def test_each_credential_sentence_is_written_once() -> None:
    """Only the credentials (which read the variables), the config template and needs.py (which words them) do."""
    for variable in ("PEERDESK_BLUESKY_HANDLE", "PEERDESK_BLUESKY_APP_PASSWORD"):
        naming = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pipeline").rglob("*.py")
                        if variable in p.read_text(encoding="utf-8"))
        allowed = {"pipeline/signin/credentials.py", "pipeline/core/settings.py", "pipeline/signin/needs.py"}
        assert set(naming) <= allowed
        assert "pipeline/signin/needs.py" in naming, variable


def test_the_cycle_names_no_platform() -> None:
    """cycle.py reaches platforms only through the registry: no collector package, no platform name."""
    text = (ROOT / "pipeline/collection/cycle.py").read_text(encoding="utf-8")
    assert not [name for name in platforms.NAMES if f"collectors.{name}" in text or name.upper() in text]


def _settings(tmp_path: Path, home: str | None = None) -> Settings:
    return Settings(db_path=tmp_path / "peerdesk.duckdb", state_dir=tmp_path / "state",
                    mastodon=MastodonSettings(instances=(), home=home))


def test_a_missing_home_or_token_reads_the_same_for_the_sync_and_for_posting(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(SyncError) as sync:
        mastodon_follow_sync(settings, apply=False)
    with pytest.raises(needs.Missing) as posting:
        publish_mastodon.check(settings)
    assert str(sync.value) == needs.mastodon_home("syncing the Mastodon list")
    assert str(posting.value) == needs.mastodon_home("posting to Mastodon")

    settings = _settings(tmp_path, home="https://glammr.example")
    with pytest.raises(SyncError) as sync:
        mastodon_follow_sync(settings, apply=False)
    with pytest.raises(needs.Missing) as posting:
        publish_mastodon.check(settings)
    for error in (sync.value, posting.value):
        assert "glammr.example" in str(error) and needs.MASTODON_SIGN_IN in str(error)


def test_a_missing_bluesky_account_reads_the_same_for_the_sync_and_for_posting(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(SyncError) as sync:
        bluesky_follow_sync(settings, apply=False)
    with pytest.raises(needs.Missing) as posting:
        publish_bluesky.check(settings)
    assert str(sync.value) == needs.bluesky_account("syncing the Bluesky list")
    assert str(posting.value) == needs.bluesky_account("posting to Bluesky")


class _Elsewhere:
    """A third platform that exists only in this test: the cycle must need nothing but its registry entry."""

    platform = "elsewhere"

    def __init__(self, settings: Settings, since: datetime, clients: contextlib.AsyncExitStack, *,
                 backoff: float, max_rate_wait: float) -> None:
        self.report = SourceReport(source="elsewhere", platform=self.platform)
        self.rechecked: list[str] = []

    def polls(self, cursors: Mapping[str, str]) -> list[sources.Job]:
        async def pages() -> AsyncIterator[Page]:
            yield Page(cursor_key="elsewhere:tag", cursor="42")

        return [(self.report, pages())]

    def skipped(self) -> list[SourceReport]:
        return [SourceReport(source="elsewhere lists", platform=self.platform, note="skipped: no lists")]

    def rechecks(self, con: object, due: Sequence[object], now: datetime) -> list[sources.Job]:
        return []


def test_the_cycle_runs_a_platform_from_its_registry_entry_alone(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = dataclasses.replace(_settings(tmp_path), tags=("sololibrarians",))
    monkeypatch.setattr(sources, "NAMES", (*platforms.NAMES, "elsewhere"))
    monkeypatch.setitem(sources.SOURCES, "elsewhere", _Elsewhere)
    outcomes = {o.report.source: o for o in asyncio.run(
        run_cycle(settings, CycleOptions(since=SINCE, backoff=0.01, clock=lambda: NOW)))}
    assert outcomes["elsewhere"].ok and outcomes["elsewhere"].primary
    assert outcomes["elsewhere lists"].report.note == "skipped: no lists"
    with store.reading(settings.db_path) as con:
        assert store.load_cursors(con)["elsewhere:tag"] == "42"
        runs = {row[0] for row in con.execute("SELECT source FROM collection_runs").fetchall()}
    assert {"elsewhere", "elsewhere lists"} <= runs


def test_the_summary_preview_shows_a_platform_from_its_registry_entry_alone(demo_db: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.cli.summary import _prepare, render_preview
    from pipeline.summary.compose import compose_summary, last_complete_week

    asked: list[str] = []
    monkeypatch.setattr("pipeline.cli.summary.PLATFORMS", (*platforms.NAMES, "elsewhere"))
    monkeypatch.setitem(previews.PREVIEWS, "elsewhere", previews.Preview(
        "words", length=lambda composed, text: len(text.split()),
        detail=lambda composed, settings: "200 words per post",
        about=lambda composed, settings: {"max_words": 200},
        prepare=lambda settings: (asked.append("elsewhere") or {}, "elsewhere: limits unknown")))
    settings = Settings()
    assert _prepare(settings) == {} and asked == ["elsewhere"]
    with store.reading(demo_db) as con:
        composed = compose_summary(con, settings, last_complete_week(NOW), as_of=NOW)
    states = {p: (publish.planned_posts(composed, p), []) for p in platforms.NAMES}
    states["elsewhere"] = ([publish.Planned("one two three")], [])
    text = render_preview(composed, states, settings)
    assert "=== elsewhere: 1 post (200 words per post) ===" in text and "--- 1/1: 3 words ---" in text
    assert "=== Mastodon:" in text and "=== Bluesky:" in text
    shown = json.loads(render_preview(composed, states, settings, "json"))
    assert shown["elsewhere"] == {"max_words": 200, "posts": [{"text": "one two three", "length": 3,
                                                               "posted_url": None}]}
