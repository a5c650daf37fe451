"""Stored Mastodon posts are re-verified on their origin, so an ordinary post's deletion is seen too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.core import store
from pipeline.core.settings import MastodonSettings, Settings
from tests.fakes.mastodon import FakeMastodon, make_account, make_status
from tests.fakes.server import Reply
from tests.support import mastodon_settings, run_once

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ANA, BEA = make_account("ana", account_id="1"), make_account("bea", account_id="2")


def _statuses() -> list[dict]:
    """Two ordinary posts (not requests, so no thread is re-read) and one more."""
    at = (T0 + timedelta(minutes=1)).isoformat().replace("+00:00", ".000Z")
    return [make_status(i, author=ANA if i % 2 else BEA, text=f"Our library newsletter number {i} is out",
                        created_at=at) for i in (3, 2, 1)]


def _settings(tmp_path: Path, server: FakeMastodon) -> Settings:
    settings = mastodon_settings(tmp_path, server.base)
    return dataclasses.replace(settings, mastodon=MastodonSettings(
        instances=(server.base,), fetch_from_origin=True, origins=(("glammr.us", server.base),)))


def _texts(settings: Settings) -> dict[str, str | None]:
    with store.reading(settings.db_path) as con:
        return dict(con.execute("SELECT split_part(uri, '/', -1), text FROM post_store").fetchall())


def _lookups(server: FakeMastodon) -> list:
    return [r for r in server.requests if r.path.startswith("/api/v1/statuses") and r.method == "GET"]


def test_a_deleted_ordinary_post_loses_its_text_on_its_first_verification(tmp_path: Path) -> None:
    with FakeMastodon(_statuses()) as server:
        settings = _settings(tmp_path, server)
        run_once(settings, now=T0 + timedelta(hours=1))
        assert _lookups(server) == []  # nothing is due before a day has passed
        server.deleted.add("2")
        outcome = run_once(settings, now=T0 + timedelta(days=1, hours=1))["verify:mastodon"]
        [lookup] = _lookups(server)
        assert lookup.path == "/api/v1/statuses" and sorted(lookup.query["id[]"]) == ["1", "2", "3"]
        assert outcome.ok and outcome.stored.deleted_posts == 1
        run_once(settings, now=T0 + timedelta(days=2))
        assert len(_lookups(server)) == 1  # verified once on the ladder's first step; next at 7 days
    texts = _texts(settings)
    assert texts["2"] is None and texts["1"] and texts["3"]


@pytest.mark.parametrize("no_batch_status", [404, 405])  # older Mastodon; GoToSocial (only POST there)
def test_servers_without_the_batch_lookup_are_asked_one_status_at_a_time(tmp_path: Path, no_batch_status: int
                                                                        ) -> None:
    with FakeMastodon(_statuses(), batch_lookup=False, no_batch_status=no_batch_status) as server:
        settings = _settings(tmp_path, server)
        run_once(settings, now=T0 + timedelta(hours=1))
        server.deleted.add("3")
        run_once(settings, now=T0 + timedelta(days=1, hours=1))
        paths = sorted(r.path for r in _lookups(server))
    assert paths == ["/api/v1/statuses", "/api/v1/statuses/1", "/api/v1/statuses/2", "/api/v1/statuses/3"]
    assert _texts(settings)["3"] is None and _texts(settings)["1"] and _texts(settings)["2"]


def test_a_server_that_ignores_the_ids_deletes_nothing(tmp_path: Path) -> None:
    """An empty list for every batch is not taken as "all gone": each post is confirmed on its own."""
    with FakeMastodon(_statuses()) as server:
        settings = _settings(tmp_path, server)
        run_once(settings, now=T0 + timedelta(hours=1))
        real = server.route

        def ignoring(request):  # noqa: ANN001, ANN202
            if request.path == "/api/v1/statuses" and request.method == "GET":
                return Reply(200, [], server._rate_headers())
            return real(request)

        server.route = ignoring  # type: ignore[method-assign]
        run_once(settings, now=T0 + timedelta(days=1, hours=1))
    assert all(_texts(settings).values())


def test_an_unreachable_origin_deletes_nothing_and_leaves_the_posts_due(tmp_path: Path) -> None:
    with FakeMastodon(_statuses()) as server:
        settings = _settings(tmp_path, server)
        run_once(settings, now=T0 + timedelta(hours=1))
    settings = dataclasses.replace(settings, mastodon=MastodonSettings(
        instances=(), fetch_from_origin=True, origins=(("glammr.us", "http://127.0.0.1:9"),)))
    outcome = run_once(settings, now=T0 + timedelta(days=1, hours=1))["verify:mastodon"]
    assert outcome.report.errors and outcome.stored.deleted_posts == 0
    assert all(_texts(settings).values())
    with store.reading(settings.db_path) as con:
        assert con.execute("SELECT count(*) FROM cursors WHERE cursor_key LIKE 'verify:%'").fetchall() == [(0,)]
