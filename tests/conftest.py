"""Shared fixtures: settings pointed at a temporary database, and a way to run one cycle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.collection.cycle import CycleOptions, SourceOutcome, run_cycle
from pipeline.core.settings import MastodonSettings, Settings

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
# The cycle's "now" in tests: after every fixture post, well inside the thread horizon, whatever today's date.
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def mastodon_settings(tmp_path: Path, *bases: str, tags: tuple[str, ...] = ("sololibrarians",), **kw: object
                      ) -> Settings:
    return Settings(db_path=tmp_path / "peerdesk.duckdb", state_dir=tmp_path / "state", tags=tags,
                    mastodon=MastodonSettings(instances=tuple(bases), fetch_from_origin=False),
                    max_retries=2, timeout=2.0, **kw)


def run_once(settings: Settings, since: datetime = SINCE, max_rate_wait: float = 2.0,
             now: datetime = NOW) -> dict[str, SourceOutcome]:
    options = CycleOptions(since=since, backoff=0.01, max_rate_wait=max_rate_wait, clock=lambda: now)
    outcomes = asyncio.run(run_cycle(settings, options))
    return {o.report.source: o for o in outcomes}


@pytest.fixture(autouse=True)
def _no_peerdesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's own tokens or config."""
    import os

    for name in list(os.environ):
        if name.startswith("PEERDESK_"):
            monkeypatch.delenv(name, raising=False)


# The sample community as of a fixed Wednesday (2026-W48), shared by the summary and publish tests.
SAMPLE_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample community, loaded once per session; read-only (use ``db`` to change it)."""
    from pipeline.collection.demo import load_demo

    path = tmp_path_factory.mktemp("sample-demo") / "d.duckdb"
    load_demo(path, now=SAMPLE_NOW)
    return path


@pytest.fixture()
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample database that a test may change."""
    import shutil

    path = tmp_path / "d.duckdb"
    shutil.copy(demo_db, path)
    return path
