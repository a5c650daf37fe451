"""`peerdesk demo` starts the dashboard's server first and loads the sample while it starts (issue #20, part 4).

What must hold: the whole sample is in the file before anyone is sent to the page (the address is printed, and the
browser opened, after the load), and a load that fails leaves no server behind.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import launch, viewer
from pipeline.cli.commands import cli
from pipeline.collection.demo import load_demo
from pipeline.core import queries, store
from tests.support import ended, wait_until

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-25T12:00:00+00:00"


class FakeServer:
    """Stands for the Streamlit process: records being waited on or stopped."""

    def __init__(self) -> None:
        self.stopped = False


def _serving(db: Path) -> list[int]:
    """The processes whose command line names ``db`` (a dashboard server left running has it after ``--db``)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if str(db).encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _posts(db: Path) -> int:
    with store.reading(db) as con:
        return queries.totals(con)["posts"]


def _record(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> FakeServer:
    server = FakeServer()

    def start(db: Path, port: int, **_: object) -> FakeServer:
        events.append(f"start {Path(db).name} {port}")
        return server

    def serve(proc: FakeServer, port: int, open_browser: bool = False) -> int:
        assert proc is server
        events.append(f"serve {port}")
        return 0

    def stop(proc: FakeServer) -> None:
        proc.stopped = True
        events.append("stop")

    real_load = viewer.load_demo

    def load(path: Path):  # noqa: ANN202
        events.append("load")
        return real_load(path)

    monkeypatch.setattr(launch, "check_port", lambda port: None)
    monkeypatch.setattr(launch, "start_dashboard", start)
    monkeypatch.setattr(launch, "serve", serve)
    monkeypatch.setattr(launch, "stop", stop)
    monkeypatch.setattr(viewer, "load_demo", load)
    return server


def test_the_server_starts_first_and_the_sample_is_whole_before_the_address_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    _record(monkeypatch, events)
    db = tmp_path / "demo.duckdb"
    result = CliRunner(env={"PEERDESK_NOW": NOW}).invoke(cli, ["demo", "--db", str(db), "--port", "8597"])
    assert result.exit_code == 0, result.output
    assert events == ["start demo.duckdb 8597", "load", "serve 8597"]
    out = result.output
    assert out.index("demo: loaded") < out.index("dashboard: ")
    assert _posts(db) == _posts(load_demo(tmp_path / "alone.duckdb").path)  # nothing lost to the overlap


def test_a_failed_load_stops_the_server_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    server = _record(monkeypatch, events)

    def busy(path: Path):  # noqa: ANN202
        events.append("load")
        raise store.DatabaseBusy(f"{path} is in use by another peerdesk process")

    monkeypatch.setattr(viewer, "load_demo", busy)
    result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "d.duckdb"), "--port", "8597"])
    assert result.exit_code == 1
    assert events == ["start d.duckdb 8597", "load", "stop"] and server.stopped
    assert "dashboard: " not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_a_real_demo_serves_the_whole_sample(tmp_path: Path) -> None:
    port, db = _free_port(), tmp_path / "demo.duckdb"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")} | {"PEERDESK_NOW": NOW}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "demo", "--db", str(db), "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/_stcore/health"), 60, "the dashboard's server",
                   unless=ended(proc))
        # Streamlit prints no address of its own: the first thing said is what was loaded, then where to go.
        first, second = proc.stdout.readline(), proc.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("demo: loaded") and second.startswith(f"dashboard: http://127.0.0.1:{port}"), \
            first + second
        assert _posts(db) == _posts(load_demo(tmp_path / "alone.duckdb").path)
        proc.terminate()  # as a service manager or ``kill`` stops it: this process alone
        assert proc.wait(timeout=30) == 143
        assert _serving(db) == []  # its dashboard server went with it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
