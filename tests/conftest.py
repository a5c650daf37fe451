"""Fixtures and hooks only: a clean environment and the sample database. Plain helpers live in tests/support.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import SAMPLE_NOW


@pytest.fixture(autouse=True)
def _no_peerdesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's own tokens or config."""
    import os

    for name in list(os.environ):
        if name.startswith("PEERDESK_"):
            monkeypatch.delenv(name, raising=False)


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
