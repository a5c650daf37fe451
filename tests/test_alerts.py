"""Overdue alerts: e-mail through a local SMTP server, a webhook on 127.0.0.1, at most once per channel."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from pipeline.cli.commands import cli
from pipeline.core import store
from pipeline.core.settings import AlertSettings, Settings
from pipeline.waiting.alerts import send_alerts
from tests.fakes.server import FakeServer, Reply, Request
from tests.support import free_port

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FakeWebhook(FakeServer):
    def route(self, request: Request) -> Reply:
        return Reply(200, {"ok": True})

    def bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture()
def smtp() -> tuple[Inbox, int]:
    inbox = Inbox()

    def authenticate(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        inbox.logins.append(data.login.decode())
        return AuthResult(success=data.password == b"s3cret-pw")

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


def _seed(db: Path) -> None:
    """Ana asks at T0, Bea answers nothing; Cy asks at T0+3h; Dee's request is answered by Bea within the hour."""
    with store.writing(db) as con:
        for account, bot in (("ana@x.org", False), ("bea@x.org", False), ("cy@x.org", False), ("dee@x.org", False),
                             ("bot@x.org", True)):
            con.execute("INSERT INTO account_store (account, platform, handle, bot, first_seen_at, last_seen_at) "
                        "VALUES (?, 'mastodon', ?, ?, ?, ?)", [account, account, bot, T0, T0])

        def post(uri: str, author: str, minutes: int, text: str, request: bool, root: str | None = None) -> None:
            con.execute(
                "INSERT INTO post_store (uri, platform, url, author, created_at, text, lang, tags, visibility, "
                "reply_to, reply_root, via, first_seen_at, updated_at, is_request) "
                "VALUES (?, 'mastodon', ?, ?, ?, ?, 'en', ['sololibrarians'], 'public', ?, ?, ?, ?, ?, ?)",
                [uri, uri.replace("u:", "https://x.org/"), author, T0 + timedelta(minutes=minutes), text, root,
                 root, "thread" if root else "tag", T0, T0, request])

        post("u:ana/1", "ana@x.org", 0, "Which Koha version do you run for serials?", True)
        post("u:cy/2", "cy@x.org", 180, "Any tips for weeding a law collection?", True)
        post("u:dee/3", "dee@x.org", 0, "Where do you buy archival boxes?", True)
        post("u:bea/4", "bea@x.org", 50, "Gaylord, usually.", False, root="u:dee/3")
        post("u:bot/5", "bot@x.org", 10, "Digest", False, root="u:ana/1")  # a bot is no answer


def _settings(tmp_path: Path, **alerts: object) -> Settings:
    return Settings(db_path=tmp_path / "p.duckdb", state_dir=tmp_path / "state", timeout=1.0,
                    alerts=AlertSettings(enabled=True, after=timedelta(hours=4), **alerts))  # type: ignore[arg-type]


def _send(settings: Settings, minutes: int):  # noqa: ANN202
    return asyncio.run(send_alerts(settings, T0 + timedelta(minutes=minutes)))


def _table(settings: Settings, name: str) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()


def test_each_newly_overdue_request_is_sent_once_per_channel(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with FakeWebhook() as hook:
        settings = _settings(tmp_path, email_to=("org@x.org",), email_from="desk@x.org", smtp_host="127.0.0.1",
                             smtp_port=port, smtp_starttls=False, webhook_url=hook.base + "/hooks/T0K3N")
        _seed(settings.db_path)
        assert _send(settings, 200).summary_line() == "alerts: nothing newly overdue"  # 3h20 < 4h
        report = _send(settings, 300)
        assert report.summary_line() == "alerts: email sent for 1, webhook sent for 1"
        [(sender, rcpts, content)] = inbox.messages
        assert (sender, rcpts) == ("desk@x.org", ["org@x.org"])
        assert "https://x.org/ana/1" in content and "waiting 5h 00m" in content
        assert "dee/3" not in content  # answered before its turn
        [body] = hook.bodies()
        assert [r["uri"] for r in body["requests"]] == ["u:ana/1"]
        assert body["requests"][0]["waiting_seconds"] == 5 * 3600
        assert body["requests"][0]["author"] == "ana@x.org"
        assert set(body["requests"][0]) >= {"uri", "url", "author", "created_at", "waiting_seconds",
                                            "suggested_peers"}
        assert "Which Koha version" in body["text"]
        assert _send(settings, 301).summary_line() == "alerts: nothing newly overdue"
        _send(settings, 7 * 60 + 1)  # Cy's turn; Ana's is not repeated
        assert [json.loads(r.body)["requests"][0]["uri"] for r in hook.requests] == ["u:ana/1", "u:cy/2"]
        assert len(inbox.messages) == 2 and "ana/1" not in inbox.messages[1][2]
    sent = _table(settings, "alerts_sent")
    assert [(u, c) for u, c, _ in sent] == [("u:ana/1", "email"), ("u:ana/1", "webhook"),
                                            ("u:cy/2", "email"), ("u:cy/2", "webhook")]
    assert _table(settings, "alert_claims") == []


def test_a_failing_webhook_is_retried_next_cycle_and_not_duplicated(tmp_path: Path) -> None:
    with FakeWebhook() as hook:
        settings = _settings(tmp_path, webhook_url=hook.base + "/hook")
        _seed(settings.db_path)
        hook.inject(Reply(503, "busy"))
        report = _send(settings, 300)
        assert report.summary_line() == "alerts: webhook FAILED for 1 (webhook http://127.0.0.1: HTTP 503; " \
                                        "retried next cycle)"
        assert _table(settings, "alerts_sent") == [] and _table(settings, "alert_claims") == []
        assert _send(settings, 315).summary_line() == "alerts: webhook sent for 1"
        assert _send(settings, 330).summary_line() == "alerts: nothing newly overdue"
        assert [b["requests"][0]["uri"] for b in hook.bodies()] == ["u:ana/1", "u:ana/1"]  # the 503, the retry
    assert [(u, c) for u, c, _ in _table(settings, "alerts_sent")] == [("u:ana/1", "webhook")]


def test_a_timeout_after_sending_is_not_resent(tmp_path: Path) -> None:
    with FakeWebhook() as hook:
        settings = _settings(tmp_path, webhook_url=hook.base + "/hook")
        _seed(settings.db_path)
        hook.inject(Reply(200, "late", delay=1.5))  # longer than the 1 s timeout
        assert "webhook uncertain for 1" in _send(settings, 300).summary_line()
        assert _send(settings, 315).summary_line() == "alerts: nothing newly overdue"
        assert len(hook.requests) == 1
    assert [(u, c) for u, c, _ in _table(settings, "alert_claims")] == [("u:ana/1", "webhook")]


def test_refused_smtp_is_retried_and_the_password_is_never_shown(tmp_path: Path, smtp: tuple[Inbox, int],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp
    monkeypatch.setenv("PEERDESK_SMTP_PASSWORD", "s3cret-pw")
    settings = _settings(tmp_path, email_to=("org@x.org",), email_from="desk@x.org", smtp_host="127.0.0.1",
                         smtp_port=free_port(), smtp_starttls=False, smtp_user="desk")
    _seed(settings.db_path)
    report = _send(settings, 300)
    assert report.failed["email"].startswith("smtp 127.0.0.1:") and "could not connect" in report.failed["email"]
    settings = dataclasses.replace(settings, alerts=dataclasses.replace(settings.alerts, smtp_port=port))
    assert _send(settings, 315).summary_line() == "alerts: email sent for 1"
    assert inbox.logins == ["desk"] and len(inbox.messages) == 1
    monkeypatch.setenv("PEERDESK_SMTP_PASSWORD", "wrong")
    with store.writing(settings.db_path) as con:
        con.execute("DELETE FROM alerts_sent")
    assert "email" in _send(settings, 330).failed and len(inbox.messages) == 1  # a refused login sends nothing
    everything = caplog.text + str(_table(settings, "alerts_sent")) + str(report)
    assert "s3cret" not in everything and "wrong" not in everything


def test_starttls_is_required_unless_switched_off(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = _settings(tmp_path, email_to=("org@x.org",), email_from="desk@x.org", smtp_host="127.0.0.1",
                         smtp_port=port)
    _seed(settings.db_path)
    report = _send(settings, 300)
    assert "email" in report.failed and inbox.messages == []  # never falls back to plain text


def test_resolved_requests_are_not_sent(tmp_path: Path) -> None:
    with FakeWebhook() as hook:
        settings = _settings(tmp_path, webhook_url=hook.base + "/hook")
        _seed(settings.db_path)
        with store.writing(settings.db_path) as con:
            con.execute("INSERT INTO curation (uri, resolved_at, decided_at) VALUES ('u:ana/1', ?, ?)",
                        [T0 + timedelta(hours=1), T0 + timedelta(hours=1)])
        assert _send(settings, 300).summary_line() == "alerts: nothing newly overdue"
        assert hook.requests == []


def test_without_alerts_nothing_is_sent(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "p.duckdb")
    assert asyncio.run(send_alerts(settings, T0)) is None


def test_the_alerts_command_sends_and_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeWebhook() as hook:
        config = tmp_path / "peerdesk.toml"
        config.write_text(f'[database]\npath = "p.duckdb"\n[alerts]\nafter = "4h"\nwebhook_url = "{hook.base}/x"\n')
        _seed(tmp_path / "p.duckdb")
        runner = CliRunner()
        at = (T0 + timedelta(hours=5)).isoformat()
        result = runner.invoke(cli, ["--config", str(config), "alerts", "--send", "--as-of", at, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert "alerts: webhook sent for 1" in result.stderr
        [row] = json.loads(result.stdout)
        assert row["uri"] == "u:ana/1" and row["webhook"].startswith("sent 2026-11-20T14:00")
        result = runner.invoke(cli, ["--config", str(config), "alerts", "--sent", "--format", "csv"])
        assert result.exit_code == 0 and "webhook,sent,u:ana/1" in result.stdout
        assert len(hook.requests) == 1


@pytest.mark.parametrize(("table", "message"), [
    ('after = "30s"', "[alerts] after: '30s' is shorter than a minute"),
    ('after = "soon"', "[alerts] after: 'soon' is not a duration"),
    ('email_to = ["a@x.org"]\nsmtp_host = "mail.x.org"', "[alerts] email_from: required when email_to is set"),
    ('email_to = ["a@x.org"]\nemail_from = "b@x.org"', "[alerts] smtp_host: required when email_to is set"),
    ('email_to = ["a@x.org\\nBcc: c@y.org"]', "[alerts] email_to[0]:"),
    ('webhook_url = "ftp://x.org/T0K3N"', "[alerts] webhook_url: not an http(s) URL"),
    ("smtp_port = 0", "[alerts] smtp_port: must be between 1 and 65535"),
    ("smtp_starttls = 1", "[alerts] smtp_starttls: expected true/false"),
    ("password = 'x'", "[alerts] password: unknown key"),
])
def test_bad_alert_settings_are_one_line_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    from pipeline.core.config import load_settings
    from pipeline.core.config_checks import ConfigError

    path = tmp_path / "peerdesk.toml"
    path.write_text(f"[alerts]\n{table}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert "T0K3N" not in str(error.value)


def test_alert_settings_defaults(tmp_path: Path) -> None:
    from pipeline.core.config import load_settings

    path = tmp_path / "peerdesk.toml"
    path.write_text("[community]\nname = 'x'\n")
    assert load_settings(path).alerts == AlertSettings() and AlertSettings().after == timedelta(hours=24)
    path.write_text('[alerts]\nemail_to = ["a@x.org"]\nemail_from = "b@x.org"\nsmtp_host = "localhost"\n'
                    'webhook_url = "https://chat.x.org/hooks/abc"\n')
    alerts = load_settings(path).alerts
    assert alerts.channels == ("email", "webhook") and alerts.smtp_port == 587 and alerts.smtp_starttls


def test_response_times_show_the_share_answered_within_after(tmp_path: Path) -> None:
    config = tmp_path / "peerdesk.toml"
    config.write_text('[database]\npath = "p.duckdb"\n[alerts]\nafter = "40m"\n')
    _seed(tmp_path / "p.duckdb")
    at = (T0 + timedelta(hours=10)).isoformat()
    result = CliRunner().invoke(cli, ["--config", str(config), "response-times", "--as-of", at, "--format", "json"])
    [week] = json.loads(result.stdout)
    assert week["requests"] == 3 and week["answered_within_target"] == 0  # Dee waited 50 minutes
    config.write_text('[database]\npath = "p.duckdb"\n[alerts]\nafter = "1h"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "response-times", "--as-of", at, "--format", "json"])
    assert json.loads(result.stdout)[0]["answered_within_target"] == pytest.approx(1 / 3)


def test_collect_ends_with_the_alerts_line(tmp_path: Path) -> None:
    from tests.fakes.mastodon import FakeMastodon, make_status

    # The cycle runs on the process clock (now); the request is an hour old by that clock, whatever the date.
    posted = (store.now_utc() - timedelta(hours=1)).isoformat().replace("+00:00", ".000Z")
    status = make_status(1, text="Does anyone know a good ILS for a law library?", created_at=posted)
    with FakeMastodon([status]) as server, FakeWebhook() as hook:
        config = tmp_path / "peerdesk.toml"
        config.write_text(f"[database]\npath = 'db.duckdb'\n[mastodon]\nfetch_from_origin = false\n"
                          f"instances = ['{server.base}']\n[collect]\nmax_retries = 0\ntimeout = 2\n"
                          f"[alerts]\nafter = '30m'\nwebhook_url = '{hook.base}/secret-path'\n")
        result = CliRunner().invoke(cli, ["--config", str(config), "collect"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == "alerts: webhook sent for 1"
        assert "secret-path" not in result.output
        [body] = hook.bodies()
        assert "law library" in body["text"]


def test_the_service_cycle_line_carries_the_alerts(tmp_path: Path) -> None:
    from pipeline.collection.service import _alerts_part
    from pipeline.collection.stream.run import StreamOptions
    from pipeline.core.writer import Writer

    with FakeWebhook() as hook:
        settings = _settings(tmp_path, webhook_url=hook.base + "/hook")
        _seed(settings.db_path)
        options = StreamOptions(clock=lambda: T0 + timedelta(hours=5))
        hook.inject(Reply(500, "down"))
        part = asyncio.run(_alerts_part(settings, options, Writer(settings.db_path)))
        assert part == "; alerts: webhook FAILED for 1 (webhook http://127.0.0.1: HTTP 500; retried next cycle)"
        part = asyncio.run(_alerts_part(settings, options, Writer(settings.db_path)))
        assert part == "; alerts: webhook sent for 1"
    assert asyncio.run(_alerts_part(Settings(db_path=tmp_path / "p.duckdb"), options, Writer(tmp_path / "p.duckdb"))) \
        == ""


def test_a_crash_between_sending_and_recording_never_sends_twice(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.waiting.alerts as alerts_module
    from pipeline.core import queries

    def crash(*args: object) -> None:
        raise RuntimeError("killed")

    with FakeWebhook() as hook:
        settings = _settings(tmp_path, webhook_url=hook.base + "/hook")
        _seed(settings.db_path)
        with monkeypatch.context() as patched:
            patched.setattr(alerts_module, "_settle", crash)
            with pytest.raises(RuntimeError):
                _send(settings, 300)
        assert len(hook.requests) == 1  # it went out; the record did not
        assert _send(settings, 315).summary_line() == "alerts: nothing newly overdue"
        assert len(hook.requests) == 1
    with store.reading(settings.db_path) as con:
        [row] = queries.alerts_log(con)
    assert (row["channel"], row["state"], row["uri"]) == ("webhook", "uncertain", "u:ana/1")
