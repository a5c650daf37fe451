"""Review: the overdue-alert e-mail must carry the headers RFC 5322 requires (Date) and the ones big providers
insist on (Message-ID).

``email.message.EmailMessage`` adds neither, and smtplib sends what it is given.
Postfix only adds missing headers for local clients, and Gmail refuses a message
without a Message-ID ("550-5.7.1 Messages missing a valid Message-ID header are
not accepted"): the alert would fail every cycle. A Message-ID derived from the
requests announced also lets a receiver drop a copy, as the webhook's
Idempotency-Key does.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import email.utils
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pipeline.core.settings import AlertSettings, Settings
from pipeline.waiting.alerts import send_alerts
from tests.support import free_port, seed_open_request

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(envelope.original_content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture()
def smtp() -> tuple[Inbox, int]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _seed(db: Path) -> None:
    seed_open_request(db, T0)


def test_the_alert_email_has_a_date_and_a_message_id(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = Settings(db_path=tmp_path / "p.duckdb", state_dir=tmp_path / "state", timeout=2.0,
                        alerts=AlertSettings(enabled=True, after=timedelta(hours=4), email_to=("org@x.org",),
                                             email_from="Peerdesk <desk@library.example>", smtp_host="127.0.0.1",
                                             smtp_port=port, smtp_starttls=False))
    _seed(settings.db_path)
    now = T0 + timedelta(hours=5)
    report = asyncio.run(send_alerts(settings, now))
    assert report is not None and report.summary_line() == "alerts: email sent for 1"
    [raw] = inbox.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Date"] is not None and email.utils.parsedate_to_datetime(message["Date"]) == now
    message_id = message["Message-ID"]
    assert message_id is not None and message_id.startswith("<") and message_id.endswith("@library.example>")
