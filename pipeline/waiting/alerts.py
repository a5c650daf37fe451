"""Overdue alerts: each help request still open after ``[alerts] after`` is announced once per channel.

Delivery is at most once per request and channel. Before sending, the requests
are *claimed* (``alert_claims``) in a committed transaction; after the send a
success turns the claims into ``alerts_sent`` rows, a sure failure (connection
refused, an error status or SMTP reply) deletes them so the next cycle retries,
and an uncertain one (a timeout after the message went out, a crash) leaves them:
such a request is never announced again on that channel, and ``peerdesk alerts``
lists it as uncertain. A duplicate in someone's inbox is the worse failure for
a tool that nags people; a lost alert is still visible on the dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from collectors.webhook import WebhookError, WebhookUncertain, post_alert
from pipeline.core import queries, store
from pipeline.core.queries.results import Rows
from pipeline.core.settings import Settings
from pipeline.output.formats import human_duration
from pipeline.waiting import alert_email, suggestions

log = logging.getLogger(__name__)


@dataclass
class AlertReport:
    """What one round of alerts did, for the cycle's summary line."""

    newly_overdue: dict[str, int] = field(default_factory=dict)  # channel -> requests due on it
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # channel -> one-line reason; retried next cycle
    uncertain: dict[str, str] = field(default_factory=dict)  # channel -> reason; not retried

    def summary_line(self) -> str:
        if not any(self.newly_overdue.values()):
            return "alerts: nothing newly overdue"
        parts = []
        for channel, due in self.newly_overdue.items():
            if not due:
                continue
            if channel in self.failed:
                parts.append(f"{channel} FAILED for {due} ({self.failed[channel]}; retried next cycle)")
            elif channel in self.uncertain:
                parts.append(f"{channel} uncertain for {due} ({self.uncertain[channel]}; not resent)")
            else:
                parts.append(f"{channel} sent for {self.sent.get(channel, 0)}")
        return "alerts: " + ", ".join(parts)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.uncertain


def payload(rows: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """The webhook body: ``text`` for people (Slack/Mattermost show it), ``requests`` for programs."""
    return {
        "text": chat_escaped(message_text(rows, settings)),
        "requests": [
            {"uri": r["uri"], "url": r["url"] or r["uri"], "platform": r["platform"], "author": r["handle"],
             "created_at": r["created_at"].isoformat(), "waiting_seconds": int(r["waiting"].total_seconds()),
             "text": r["text"],
             "suggested_peers": [{"account": p["account"], "handle": p["handle"], "reasons": p["reasons"]}
                                 for p in r.get("suggested_peers", [])]}
            for r in rows
        ],
    }


def chat_escaped(text: str) -> str:
    """Text as Slack's mrkdwn shows it literally: ``<!channel>`` or ``<url|label>`` in a post must not ping a channel
    or disguise a link. Slack asks for exactly these three escapes; Mattermost's Markdown shows them as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subject(rows: list[dict[str, Any]], settings: Settings) -> str:
    n = len(rows)
    return (f"{settings.community}: {n} help request{'s' if n != 1 else ''} waiting over "
            f"{human_duration(settings.alerts.after)}")


def message_text(rows: list[dict[str, Any]], settings: Settings) -> str:
    """Plain text listing each request: who asked, how long ago, the link and who could answer."""
    lines = [subject(rows, settings) + ":", ""]
    for r in rows:
        snippet = " ".join((r["text"] or "").split())
        snippet = snippet if len(snippet) <= 140 else snippet[:139] + "…"
        lines.append(f"- {r['handle']}, waiting {human_duration(r['waiting'])}: {snippet}")
        lines.append(f"  {r['url'] or r['uri']}")
        if r.get("suggested_peers"):
            lines.append(f"  could answer: {suggestions.peer_line(r['suggested_peers'])}")
    return "\n".join(lines)


def _due(settings: Settings, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Claim, per channel, the overdue requests neither sent nor claimed on it; commits the claims."""
    alerts = settings.alerts
    horizon = timedelta(days=settings.thread_horizon_days)  # older threads are not re-checked: status unknown
    with store.writing(settings.db_path) as con:
        rows = queries.overdue_requests(con, now, after=alerts.after, horizon=horizon)
        due = {ch: [r for r in rows if ch not in r["sent"] and ch not in r["uncertain"]] for ch in alerts.channels}
        if not any(due.values()):
            return due
        peers = suggestions.suggested_peers(con, now)
        for channel_rows in due.values():
            for r in channel_rows:
                r["suggested_peers"] = peers.get(r["uri"], [])
        with store.transaction(con):
            for channel, channel_rows in due.items():
                con.executemany("INSERT INTO alert_claims VALUES (?, ?, ?)",
                                [[r["uri"], channel, now] for r in channel_rows])
    return due


def _settle(settings: Settings, channel: str, uris: list[str], outcome: str, now: datetime) -> None:
    """Turn claims into sent rows, or drop them to retry; uncertain ones are left as they are."""
    with store.writing(settings.db_path) as con, store.transaction(con):
        if outcome == "sent":
            con.executemany("INSERT OR IGNORE INTO alerts_sent VALUES (?, ?, ?)", [[u, channel, now] for u in uris])
        if outcome in ("sent", "failed"):
            con.executemany("DELETE FROM alert_claims WHERE uri = ? AND channel = ?", [[u, channel] for u in uris])


async def _deliver(settings: Settings, channel: str, rows: list[dict[str, Any]], now: datetime) -> None:
    key = hashlib.sha256("\n".join([channel, *sorted(r["uri"] for r in rows)]).encode()).hexdigest()[:32]
    if channel == "email":
        message = alert_email.compose(settings.alerts, subject(rows, settings), message_text(rows, settings),
                                      when=now, key=key)
        await asyncio.to_thread(alert_email.send, settings.alerts, message, timeout=settings.timeout)
    else:
        await post_alert(settings.alerts.webhook_url or "", payload(rows, settings), timeout=settings.timeout,
                         idempotency_key=key)


async def send_alerts(settings: Settings, now: datetime, lock: asyncio.Lock | None = None) -> AlertReport | None:
    """Announce newly overdue requests on every configured channel; ``None`` when alerts are not configured.

    ``lock`` is the process's writer lock (``peerdesk run``): held around the
    database work, never around the network.
    """
    if not settings.alerts.channels:
        return None
    report = AlertReport()
    async with lock or contextlib.nullcontext():
        due = await asyncio.to_thread(_due, settings, now)
    for channel, rows in due.items():
        report.newly_overdue[channel] = len(rows)
        if not rows:
            continue
        uris = [r["uri"] for r in rows]
        outcome = "sent"
        try:
            await _deliver(settings, channel, rows, now)
            report.sent[channel] = len(rows)
        except (WebhookError, alert_email.EmailError) as exc:
            outcome, report.failed[channel] = "failed", str(exc)
        except (WebhookUncertain, alert_email.EmailUncertain) as exc:
            outcome, report.uncertain[channel] = "uncertain", str(exc)
        if outcome != "sent":
            log.warning("alerts: %s: %s", channel, report.failed.get(channel) or report.uncertain.get(channel))
        async with lock or contextlib.nullcontext():
            await asyncio.to_thread(_settle, settings, channel, uris, outcome, now)
    return report


def overdue_rows(con: Any, settings: Settings, as_of: datetime, fmt: str) -> list[dict[str, Any]]:
    """``peerdesk alerts``: each overdue request with its per-channel state and who could answer it."""
    rows = queries.overdue_requests(con, as_of, after=settings.alerts.after)
    peers = suggestions.suggested_peers(con, as_of) if rows else {}
    channels = settings.alerts.channels or ("email", "webhook")
    out = Rows()  # knows its columns with no rows, so a CSV keeps its header
    out.columns = ("created_at", "waiting", "author", *channels, "could_answer", "url",
                   *(("uri", "text", "suggested_peers") if fmt == "json" else ()))
    for r in rows:
        state = {ch: ("sent " + r["sent"][ch].isoformat(timespec="minutes") if ch in r["sent"]
                      else "uncertain" if ch in r["uncertain"] else "not yet")
                 for ch in channels}
        row = {"created_at": r["created_at"], "waiting": r["waiting"], "author": r["handle"], **state,
               "could_answer": suggestions.peer_line(peers.get(r["uri"], [])), "url": r["url"] or r["uri"]}
        if fmt == "json":
            row.update(uri=r["uri"], text=r["text"], suggested_peers=peers.get(r["uri"], []))
        out.append(row)
    return out
