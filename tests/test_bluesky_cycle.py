"""Bluesky inside `peerdesk collect`: the same store, the same consent rules, its threads re-checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.core import queries, store
from pipeline.core.settings import BlueskySettings, Settings
from tests.fakes.bluesky import DEFAULT_HANDLE, DEFAULT_PASSWORD, FakeBluesky, load_sample
from tests.support import run_once

SAMPLE = load_sample()
LIST_URI = next(iter(SAMPLE.list_feeds))


def _settings(tmp_path: Path, fake: FakeBluesky, lists: tuple[str, ...] = ()) -> Settings:
    return Settings(db_path=tmp_path / "db.duckdb", state_dir=tmp_path / "state", tags=("sololibrarians",),
                    max_retries=1, timeout=5.0,
                    mastodon=dataclasses.replace(Settings().mastodon, instances=()),
                    bluesky=BlueskySettings(service=fake.url, appview=fake.url, lists=lists))


def test_without_credentials_search_is_skipped_with_a_how_to_line(tmp_path: Path) -> None:
    with FakeBluesky() as fake:
        outcomes = run_once(_settings(tmp_path, fake))
        assert fake.calls("app.bsky.feed.searchPosts") == []
    line = outcomes["bluesky"].summary_line()
    assert "PEERDESK_BLUESKY_HANDLE" in line and "PEERDESK_BLUESKY_APP_PASSWORD" in line


def test_lists_without_an_account_say_how_to_sign_in_for_search(tmp_path: Path) -> None:
    """The collector only says search needs an account; the cycle's line says how to give it one."""
    with FakeBluesky() as fake:
        outcomes = run_once(_settings(tmp_path, fake, lists=(LIST_URI,)))
        assert fake.calls("app.bsky.feed.searchPosts") == []
    line = outcomes["bluesky"].summary_line()
    assert outcomes["bluesky"].ok and "tag search skipped" in line
    assert "peerdesk login bluesky" in line and "PEERDESK_BLUESKY_APP_PASSWORD" in line


def test_search_lists_and_threads_land_in_one_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERDESK_BLUESKY_HANDLE", DEFAULT_HANDLE)
    monkeypatch.setenv("PEERDESK_BLUESKY_APP_PASSWORD", DEFAULT_PASSWORD)
    with FakeBluesky() as fake:
        settings = _settings(tmp_path, fake, lists=(LIST_URI,))
        outcomes = run_once(settings)
        assert outcomes["bluesky"].ok and outcomes["bluesky"].stored.new_posts > 0
        assert fake.calls("app.bsky.feed.getPostThread"), "open requests' threads are fetched"
        assert outcomes["threads:bluesky"].ok and outcomes["threads:bluesky"].stored.deleted_posts == 0
        second = run_once(settings)
        assert second["bluesky"].stored.new_posts == 0
    with store.reading(settings.db_path) as con:
        vias = dict(con.execute("SELECT via, count(*) FROM posts WHERE platform = 'bluesky' GROUP BY via").fetchall())
        assert set(vias) >= {"tag", "list"}
        handles = {r[0] for r in con.execute("SELECT handle FROM accounts").fetchall()}
        assert "quietshelves.bsky.social" not in handles  # !no-unauthenticated
        assert "kitharlow.bsky.social" not in handles  # #nobot in the description
        answered = queries.help_requests(con, store.now_utc(), status="answered")
        assert answered and all(r["platform"] == "bluesky" for r in answered)
    assert DEFAULT_PASSWORD not in str(outcomes["bluesky"].report)
