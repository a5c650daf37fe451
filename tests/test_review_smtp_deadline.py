"""Review: an SMTP server that trickles its replies must not hold a collection cycle for ever.

smtplib's ``timeout`` bounds each socket read; a server (or a middlebox) sending one
byte of its greeting every half second never trips it, so ``send_alerts`` (and the
``peerdesk collect`` or ``peerdesk run`` cycle that ends with it) waited as long as
the server liked. Every other request peerdesk makes has a wall-clock deadline of
three read timeouts (README "Bounds").
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pipeline.core.settings import AlertSettings, Settings
from pipeline.waiting import alert_email
from pipeline.waiting.alerts import send_alerts
from tests.support import free_port, seed_open_request

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class TricklingSmtp:
    """Accepts connections and sends its 220 greeting one byte every ``pace`` seconds, then more of the same."""

    def __init__(self, pace: float = 0.5) -> None:
        self.pace = pace
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TricklingSmtp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.close()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            for byte in b"220-slow.example ESMTP" * 3:  # 66 bytes: 33 s
                time.sleep(self.pace)  # not stop.wait(pace): a timed wait never ends under faketime
                if self.stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return


def _seed(db: Path) -> None:
    seed_open_request(db, T0)


def test_a_trickling_smtp_server_is_cut_off_at_the_request_deadline(tmp_path: Path) -> None:
    with TricklingSmtp() as smtp:
        settings = Settings(db_path=tmp_path / "p.duckdb", state_dir=tmp_path / "state", timeout=1.0,
                            alerts=AlertSettings(enabled=True, after=timedelta(hours=4), email_to=("org@x.org",),
                                                 email_from="desk@x.org", smtp_host="127.0.0.1", smtp_port=smtp.port,
                                                 smtp_starttls=False))
        _seed(settings.db_path)
        started = time.monotonic()
        report = asyncio.run(send_alerts(settings, T0 + timedelta(hours=5)))
        took = time.monotonic() - started
    assert took < 10, f"the cycle waited {took:.0f} s for an SMTP server"  # deadline: 3 x the 1 s timeout
    # Nothing was sent before the greeting ended: a sure failure, retried next cycle.
    assert report is not None and "email FAILED for 1" in report.summary_line()
    assert "no answer within 3 s" in report.failed["email"]


def test_starttls_still_checks_the_certificate_against_the_configured_host(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline's client connects after it is made: STARTTLS must still verify the certificate for smtp_host."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    delivered: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            delivered.append(envelope.original_content)  # type: ignore[attr-defined]
            return "250 OK"

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    controller.start()
    trusting = ssl.create_default_context
    monkeypatch.setattr(alert_email.ssl, "create_default_context", lambda: trusting(cafile=str(cert)))
    try:
        settings = Settings(db_path=tmp_path / "p.duckdb", state_dir=tmp_path / "state", timeout=2.0,
                            alerts=AlertSettings(enabled=True, after=timedelta(hours=4), email_to=("org@x.org",),
                                                 email_from="desk@x.org", smtp_host="localhost", smtp_port=port))
        _seed(settings.db_path)
        report = asyncio.run(send_alerts(settings, T0 + timedelta(hours=5)))
    finally:
        controller.stop()
    assert report is not None and report.summary_line() == "alerts: email sent for 1", report
    assert len(delivered) == 1
