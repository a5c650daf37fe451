"""Fixtures and hooks only: a clean environment and the sample database. Plain helpers live in tests/support.py."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
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


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """No test reaches a real server: a name other than this machine's fails at once, as a name nobody serves.

    Fake servers listen on 127.0.0.1, but fixtures name real places (an account of ``glammr.us``), and a cycle
    asks an account's home server about it: without this, a machine with network would ask the real one.
    Subprocesses (``peerdesk`` run as a command) are not covered.
    """
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _is_local(name):
            raise socket.gaierror(socket.EAI_NONAME, f"no network in tests: {name}")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = local_only
    try:
        yield
    finally:
        socket.getaddrinfo = real


def _is_local(name: str) -> bool:
    if name.lower() in ("", "localhost") or name.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


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
