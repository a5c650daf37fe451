"""What peerdesk prints never carries a control character from elsewhere: a terminal acts on escape sequences
(writing the clipboard, retitling the window, showing one link while opening another), and posts, display names
and servers' error messages are written by strangers."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace

import httpx

from collectors.bluesky.settings import BlueskySettings
from collectors.mastodon.api import error_text
from pipeline.cli.commands import _PrintableFormatter
from pipeline.output.formats import render
from tests.fakes import bluesky as fake_bluesky
from tests.fakes.bluesky import FakeBluesky, XrpcError
from tests.test_bluesky_collector import SINCE, UA, run

ESCAPES = "\x1b]52;c;ZXZpbA==\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\x9b2J\x7f\x00"
UNSAFE = set("\x1b\x07\x9b\x7f\x00")


def rows() -> list[dict]:
    """A row as one stored before parsers dropped control characters."""
    return [{"author": f"zoe{ESCAPES}", "text": f"Any tips?{ESCAPES}", "tags": ["solo", f"x{ESCAPES}"], "n": 3}]


def printed(fmt: str) -> str:
    out = io.StringIO()
    render(rows(), fmt, out)
    return out.getvalue()


def test_tables_and_csv_show_replacement_characters_instead() -> None:
    for fmt in ("table", "csv"):
        text = printed(fmt)
        assert not UNSAFE & set(text), fmt
        assert "Any tips?\ufffd]52;c;ZXZpbA==\ufffd" in text


def test_json_escapes_them_and_parses_back_to_the_same_strings() -> None:
    text = printed("json")
    assert not UNSAFE & set(text)
    assert json.loads(text) == rows()


def test_log_lines_quote_servers_without_their_control_characters() -> None:
    record = logging.LogRecord("collectors", logging.WARNING, __file__, 1, "skipped %s", (f"post{ESCAPES}",), None)
    line = _PrintableFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line.startswith("WARNING collectors: skipped post\ufffd]52") and not UNSAFE & set(line)


def test_a_mastodon_error_message_is_shown_without_them() -> None:
    body = json.dumps({"error": f"Record not found{ESCAPES}"}).encode()
    text = error_text(httpx.Response(404, content=body), body)
    assert text.startswith("Record not found\ufffd") and not UNSAFE & set(text)


def test_a_bluesky_error_message_is_shown_without_them(tmp_path, monkeypatch, caplog) -> None:
    def hostile(fake: FakeBluesky, call: object) -> dict:
        raise XrpcError(500, "InternalServerError", f"oops{ESCAPES}")

    monkeypatch.setitem(fake_bluesky._ROUTES, "app.bsky.graph.getList", hostile)
    with FakeBluesky() as fake:
        settings = BlueskySettings(service=fake.url, appview=fake.url, tags=(), since=SINCE, user_agent=UA,
                                   lists=("at://did:plc:gone/app.bsky.graph.list/3kgone",), timeout=2.0,
                                   session_path=tmp_path / "session.json")
        run(replace(settings, page_size=5))
    assert "oops\ufffd" in caplog.text and not UNSAFE & set(caplog.text)
