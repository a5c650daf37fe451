"""Review: the webhook's readable ``text`` is shown by Slack as mrkdwn, where ``<...>`` are control sequences.

Slack documents that ``&``, ``<`` and ``>`` in a message's text must be escaped
(``&amp;``, ``&lt;``, ``&gt;``): unescaped, ``<!channel>`` notifies every member of
the channel and ``<https://evil.example|https://x.org/ana/1>`` shows one link while
opening another. The snippet of a post's text in the alert is written by whoever
posted under the tag, so it must not be able to do either.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.core.settings import AlertSettings, Settings
from pipeline.waiting.alerts import send_alerts
from tests.fakes.server import FakeServer, Reply, Request
from tests.support import seed_open_request

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOSTILE = "Help <!channel> with serials? See <https://evil.example/steal|https://x.org/ana/1> & thanks"


class Hook(FakeServer):
    def route(self, request: Request) -> Reply:
        return Reply(200, {"ok": True})


def _seed(db: Path) -> None:
    seed_open_request(db, T0, HOSTILE)


def test_post_text_cannot_send_slack_control_sequences_through_the_webhook(tmp_path: Path) -> None:
    with Hook() as hook:
        settings = Settings(db_path=tmp_path / "p.duckdb", state_dir=tmp_path / "state", timeout=2.0,
                            alerts=AlertSettings(enabled=True, after=timedelta(hours=4), webhook_url=hook.base + "/h"))
        _seed(settings.db_path)
        report = asyncio.run(send_alerts(settings, T0 + timedelta(hours=5)))
        assert report is not None and report.summary_line() == "alerts: webhook sent for 1"
        [request] = hook.requests
        body = json.loads(request.body)
    text = body["text"]
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "&lt;!channel&gt;" in text and "&amp; thanks" in text  # shown as written, once Slack unescapes it
    assert "https://x.org/ana/1" in text  # the real link is still there
    assert body["requests"][0]["text"] == HOSTILE  # programs get the text as it is
