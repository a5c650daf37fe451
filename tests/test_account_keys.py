"""One person, one key: a local account is keyed the same whichever endpoint delivered it.

Found against a real GoToSocial reached as ``127.0.0.1:port`` (docs/notes/real-servers.md): its tag
timeline keyed Alice ``alice@127.0.0.1:18680`` (the instance's ``domain``) and the thread fetch
``alice@127.0.0.1`` (her uri's host without the port), so her own follow-up answered her question and
an opt-out purged half of her rows.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.core import queries, store
from pipeline.core.settings import MastodonSettings, Settings
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.fakes.server import Reply
from tests.support import mastodon_settings, run_once

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", ".000Z")


def _alice_asks_and_follows_up(web_host: str, **account: object) -> list[dict]:
    alice = make_account("alice", web_host, on=web_host, **account)  # type: ignore[arg-type]
    return [
        make_status(11, author=alice, host=web_host, text="(It must run on Windows.)", tags=(),
                    in_reply_to_id="10", created_at=_at(5)),
        make_status(10, author=alice, host=web_host, text="Does anyone know a good ILS for a law library?",
                    created_at=_at(0)),
    ]


def _settings(tmp_path: Path, server: FakeMastodon, web_host: str) -> Settings:
    settings = mastodon_settings(tmp_path, server.base)
    return dataclasses.replace(settings, mastodon=MastodonSettings(
        instances=(server.base,), fetch_from_origin=True, origins=((web_host, server.base),)))


def _authors(settings: Settings) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute("SELECT DISTINCT author FROM posts ORDER BY 1").fetchall()


def _status(settings: Settings) -> list[str]:
    with store.reading(settings.db_path) as con:
        return [r["status"] for r in queries.help_requests(con, T0 + timedelta(days=1), status=None)]


def _server_on_a_port() -> tuple[FakeMastodon, str]:
    """A server whose users are ``user@127.0.0.1:port``, as GoToSocial names them when its host has a port."""
    server = FakeMastodon()
    server.__enter__()
    netloc = server.base.split("://", 1)[1]
    server.instance = {"domain": netloc, "version": "0.19.2", "configuration": {},
                       "source_url": "https://codeberg.org/superseriousbusiness/gotosocial"}
    return server, netloc


def test_a_server_on_a_port_keys_her_the_same_in_the_timeline_and_the_thread(tmp_path: Path) -> None:
    server, netloc = _server_on_a_port()
    with server:
        server.add(*_alice_asks_and_follows_up(netloc))
        settings = _settings(tmp_path, server, netloc)
        assert run_once(settings)["threads:mastodon"].stored.new_posts == 1
    assert _authors(settings) == [(f"alice@{netloc}",)]
    assert _status(settings) == ["open"]  # her own follow-up is not an answer


def test_a_split_domain_servers_thread_keys_her_by_the_account_domain(tmp_path: Path) -> None:
    # example.com's users are @alice@example.com; the server is reached (and its uris name) another host.
    with FakeMastodon(instance={"domain": "example.com", "version": "4.5.0", "configuration": {}}) as server:
        web_host = server.base.split("://", 1)[1]
        server.add(*_alice_asks_and_follows_up(web_host))
        settings = _settings(tmp_path, server, web_host)
        settings = dataclasses.replace(settings, mastodon=dataclasses.replace(  # example.com vouches for it
            settings.mastodon, origins=((web_host, server.base), ("example.com", server.base))))
        run_once(settings)
    assert _authors(settings) == [("alice@example.com",)]
    assert _status(settings) == ["open"]


def test_her_opt_out_purges_every_row_of_hers(tmp_path: Path) -> None:
    server, netloc = _server_on_a_port()
    with server:
        server.add(*_alice_asks_and_follows_up(netloc))
        settings = _settings(tmp_path, server, netloc)
        run_once(settings)
        opted_out = make_account("alice", netloc, on=netloc, note="<p>Please no bots #nobot</p>")
        server.add(make_status(12, author=opted_out, host=netloc, text="Another question?", created_at=_at(60)))
        outcome = run_once(settings)[server.base]
        assert outcome.stored.purged_posts == 2  # the question from the timeline and the follow-up from the thread
    with store.reading(settings.db_path) as con:
        assert con.execute("SELECT count(*) FROM post_store").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM account_store").fetchall() == [(0,)]


class _NoInstanceDocument(FakeMastodon):
    """A server that will not describe itself (``/api/v2/instance`` 404): only her uri says where she lives."""

    def route(self, request):  # type: ignore[no-untyped-def]
        if request.path == "/api/v2/instance":
            return Reply(404, {"error": "Not Found"})
        return super().route(request)


def test_without_a_domain_her_uri_host_keeps_its_port(tmp_path: Path) -> None:
    with _NoInstanceDocument() as home, FakeMastodon() as other:
        netloc = home.base.split("://", 1)[1]
        question, _ = _alice_asks_and_follows_up(netloc)[::-1]
        home.add(question)
        elsewhere = {**question["account"], "acct": f"alice@{netloc}"}
        other.add(make_status(77, number=12, author=elsewhere, text="Which ILS do you use?", created_at=_at(9)))
        settings = mastodon_settings(tmp_path, home.base, other.base)
        run_once(settings)
    assert _authors(settings) == [(f"alice@{netloc}",)]  # as every other server and a profile URL name her
