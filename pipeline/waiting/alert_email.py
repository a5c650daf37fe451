"""Sending the overdue-requests e-mail with the standard library's smtplib.

One message per cycle lists every newly overdue request. Errors are sorted like
the webhook's: refused before the message was accepted means it surely was not
delivered (retried next cycle); a connection lost after the DATA was sent means it
may have been (not retried). The password comes from the environment, is only
handed to ``SMTP.login`` and never appears in an error message.
"""

from __future__ import annotations

import email.utils
import smtplib
import socket
import ssl
import threading
import time
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from collectors.http_bounds import deadline_for
from pipeline.core.config import smtp_password
from pipeline.core.settings import AlertSettings


class EmailError(Exception):
    """Not delivered; retrying later is safe."""


class EmailUncertain(Exception):
    """The server may have accepted the message: it is not resent."""


def compose(alerts: AlertSettings, subject: str, text: str, *, when: datetime, key: str) -> EmailMessage:
    """The message, with the ``Date`` RFC 5322 requires and a ``Message-ID`` (some providers refuse mail without
    one) made from ``key``, the same for the same requests, so a receiver can drop a copy should one arrive twice."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = alerts.email_from or ""
    message["To"] = ", ".join(alerts.email_to)
    message["Date"] = email.utils.format_datetime(when)
    domain = email.utils.parseaddr(alerts.email_from or "")[1].rpartition("@")[2] or "peerdesk.invalid"
    message["Message-ID"] = f"<peerdesk-alert-{key}@{domain}>"
    message.set_content(text)
    return message


def send(alerts: AlertSettings, message: EmailMessage, *, timeout: float) -> None:
    """Deliver ``message`` through ``[alerts] smtp_host``: STARTTLS unless ``smtp_starttls = false``."""
    host, port = alerts.smtp_host or "localhost", alerts.smtp_port
    where = f"smtp {host}:{port}"
    smtp = _Deadline(deadline_for(timeout), timeout=timeout)
    try:
        try:
            smtp.connect(host, port)
        except (OSError, smtplib.SMTPException) as exc:
            raise EmailError(f"{where}: could not connect ({smtp.reason(exc)})") from None
        with smtp:
            try:
                smtp.ehlo()
                if alerts.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if alerts.smtp_user:
                    password = smtp_password()
                    if password is None:
                        raise EmailError(f"{where}: smtp_user is set but PEERDESK_SMTP_PASSWORD is not")
                    smtp.login(alerts.smtp_user, password)
            except smtplib.SMTPAuthenticationError as exc:
                raise EmailError(f"{where}: login refused ({exc.smtp_code})") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise EmailError(f"{where}: {smtp.reason(exc)}") from None
            try:
                refused = smtp.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                raise EmailError(f"{where}: message refused ({_reason(exc)})") from None
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise EmailUncertain(f"{where}: connection lost while sending ({smtp.reason(exc)})") from None
            if refused:
                # Some recipients took it: resending would duplicate it for them.
                raise EmailUncertain(f"{where}: refused for {len(refused)} of {len(alerts.email_to)} recipients")
    except smtplib.SMTPServerDisconnected:
        pass  # QUIT after a delivered message: nothing lost
    finally:
        smtp.close()  # and the deadline's timer with it


class _Deadline(smtplib.SMTP):
    """smtplib's client with a wall-clock deadline over the whole exchange, as every HTTP request has.

    ``timeout`` bounds each socket read only: a server sending a byte every few
    seconds would hold the cycle for as long as it liked. Past the deadline the
    socket is shut down, so whichever blocking call is in hand fails at once.
    """

    def __init__(self, deadline: float, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.deadline, self.expired = deadline, False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._done = False
        # Watched in short sleeps, not a threading.Timer: a timed wait never ends under faketime, which the test
        # suite runs under, while sleeps and the monotonic clock keep their pace there.
        self._ends = time.monotonic() + deadline
        threading.Thread(target=self._watch, name="smtp-deadline", daemon=True).start()

    def _watch(self) -> None:
        while not self._done:
            if time.monotonic() >= self._ends:
                self._expire()
                return
            time.sleep(0.05)

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self._host = host  # what STARTTLS checks the certificate against: smtplib sets it only when __init__ connects
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        sock = super()._get_socket(host, port, timeout)
        with self._lock:
            self._socket = sock
            if self.expired:
                sock.close()
                raise TimeoutError("deadline passed while connecting")
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reason(self, exc: BaseException) -> str:
        return f"no answer within {self.deadline:g} s" if self.expired else _reason(exc)

    def close(self) -> None:
        self._done = True
        super().close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipients refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return type(exc).__name__
