"""The signed-in account's Mastodon lists as a source: list timelines polled like tag timelines, over real HTTP."""

from __future__ import annotations

from pathlib import Path

from pipeline.core import store
from pipeline.core.settings import MastodonSettings, Settings
from pipeline.signin import credentials
from tests.fakes.mastodon import FakeMastodon, graph_of, make_account, make_status
from tests.support import NOW, mastodon_settings, run_once

TOKEN = "organiser-token"


def _settings(tmp_path: Path, base: str, lists: tuple[str, ...]) -> Settings:
    settings = mastodon_settings(tmp_path)
    return Settings(**{**settings.__dict__, "mastodon": MastodonSettings(instances=(), home=base, lists=lists,
                                                                          fetch_from_origin=False)})


def _sign_in(settings: Settings, base: str) -> None:
    """What `peerdesk login mastodon` leaves behind (no environment variable at all)."""
    credentials.save_mastodon(settings.state_dir, credentials.MastodonLogin(
        base=base, access_token=TOKEN, scopes=("read", "write:lists", "write:statuses"), client_id="cid",
        client_secret="secret", acct="organiser"))


def _rows(settings: Settings, sql: str, *params: object) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(sql, list(params)).fetchall()


def test_a_list_is_polled_forward_and_its_members_untagged_requests_count(tmp_path: Path) -> None:
    bea, cy = make_account("bea", account_id="2"), make_account("cy", account_id="3")
    asking = make_status(110, author=bea, tags=(), created_at="2026-11-20T10:00:00.000Z",
                         text="Does anyone know a good ILS for a one-person school library? Any recommendations?")
    other = make_status(111, author=cy, tags=(), created_at="2026-11-20T11:00:00.000Z", text="Lunch was nice.")
    with FakeMastodon([other, asking], token=TOKEN) as server:
        graph = graph_of(server)
        graph.know(bea, followed=True)
        graph.add_list("Solo librarians", "77")
        graph.members["77"] = ["2"]
        settings = _settings(tmp_path, server.base, ("Solo librarians",))
        _sign_in(settings, server.base)

        first = run_once(settings)[f"{server.base} lists"]
        assert first.ok and first.stored.new_posts == 1
        timeline = server.requests_to("/api/v1/timelines/list/")
        assert [r.path for r in timeline] == ["/api/v1/timelines/list/77"]
        assert timeline[0].headers["Authorization"] == f"Bearer {TOKEN}"
        key = f"mastodon:{server.base}:list:77"
        assert _rows(settings, "SELECT position FROM cursors WHERE cursor_key = ?", key) == [("110",)]
        assert _rows(settings, "SELECT via FROM post_store") == [("list",)]
        requests = _rows(settings, "SELECT author FROM help_requests_at(?)", NOW)
        assert requests == [("bea@glammr.us",)]  # no tag, yet a community request: she is on the list

        server.add(make_status(120, author=bea, tags=(), created_at="2026-11-21T10:00:00.000Z", text="Thanks!"))
        second = run_once(settings)[f"{server.base} lists"]
        assert second.ok and second.stored.new_posts == 1
        assert server.requests_to("/api/v1/timelines/list/")[-1].param("min_id") is not None
        assert _rows(settings, "SELECT position FROM cursors WHERE cursor_key = ?", key) == [("120",)]


def test_lists_without_a_login_say_so_and_read_nothing(tmp_path: Path) -> None:
    with FakeMastodon([], token=TOKEN) as server:
        settings = _settings(tmp_path, server.base, ("77",))
        outcome = run_once(settings)[f"{server.base} lists"]
        assert "run 'peerdesk login mastodon'" in outcome.report.note
        assert server.requests_to("/api/v1/") == []


def test_an_unknown_list_costs_that_list_only(tmp_path: Path) -> None:
    bea = make_account("bea", account_id="2")
    with FakeMastodon([make_status(110, author=bea, tags=())], token=TOKEN) as server:
        graph_of(server).add_list("Solo librarians", "77")
        graph_of(server).members["77"] = ["2"]
        settings = _settings(tmp_path, server.base, ("No such list", "77"))
        _sign_in(settings, server.base)
        outcome = run_once(settings)[f"{server.base} lists"]
        assert outcome.stored.new_posts == 1
        assert any("you have no list 'No such list'" in e for e in outcome.report.errors)
