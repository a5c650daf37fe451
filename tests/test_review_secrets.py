"""Review: secrets never reach a log line, even with ``-v`` (README "-v logs details (never a secret)")."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.server import FakeServer, Reply, Request
from tests.support import seed_open_request

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SECRET = "T0K3N-s3cr3t-path"


class FakeWebhook(FakeServer):
    def route(self, request: Request) -> Reply:
        return Reply(200, {"ok": True})


def _seed(db: Path) -> None:
    seed_open_request(db, T0, "Which Koha version do you run for serials?")


def test_verbose_alerts_never_log_the_webhook_url(tmp_path: Path) -> None:
    """Slack-style webhook URLs carry their token in the path: ``-v`` must not print it (httpx logs every URL)."""
    with FakeWebhook() as hook:
        config = tmp_path / "peerdesk.toml"
        config.write_text(f'[database]\npath = "p.duckdb"\n[alerts]\nafter = "4h"\n'
                          f'webhook_url = "{hook.base}/hooks/{SECRET}"\n')
        _seed(tmp_path / "p.duckdb")
        at = (T0 + timedelta(hours=5)).isoformat()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "peerdesk"), "--config", str(config), "-v", "alerts", "--send",
             "--as-of", at, "--format", "json"],
            capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)[0]["webhook"].startswith("sent")
        assert len(hook.requests) == 1 and SECRET in hook.requests[0].path
    assert SECRET not in done.stderr, done.stderr
    assert SECRET not in done.stdout
