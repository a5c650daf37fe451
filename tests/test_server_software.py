"""Servers that ignore ``any[]`` (GoToSocial) are read one tag per request; Mastodon keeps its groups.

Found against a real GoToSocial 0.19.2 (docs/notes/real-servers.md): a post carrying only the second
tag of a group never came back, because its tag timeline reads the path's tag alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.mastodon.software import from_instance, from_nodeinfo, honours_any
from pipeline.core import store
from tests.fakes.mastodon import FakeMastodon, make_status
from tests.fakes.server import Reply
from tests.support import mastodon_settings, run_once

TAGS = ("sololibrarians", "onepersonlibrary", "lawlibrarians")
# /api/v2/instance as GoToSocial 0.19.2 answers it (the fields this concerns).
GTS_INSTANCE = {"domain": "gts.example", "account_domain": "gts.example", "version": "0.19.2+git-ffd5be1",
                "source_url": "https://codeberg.org/superseriousbusiness/gotosocial", "configuration": {}}


def _rows(settings, sql: str) -> list[tuple]:
    with store.reading(settings.db_path) as con:
        return con.execute(sql).fetchall()


def _posts() -> list[dict]:
    return [make_status(3, tags=("lawlibrarians",)), make_status(2, tags=("onepersonlibrary",)),
            make_status(1, tags=("sololibrarians",))]


def test_a_server_that_ignores_any_is_asked_one_tag_per_request_and_misses_nothing(tmp_path: Path) -> None:
    with FakeMastodon(_posts(), instance=GTS_INSTANCE, ignores_any=True, unknown_tag_404=True) as server:
        netloc = server.base.split("://", 1)[1]  # GoToSocial reached at host:port names that its domain
        server.instance = {**GTS_INSTANCE, "domain": netloc, "account_domain": netloc}
        settings = mastodon_settings(tmp_path, server.base, tags=TAGS)
        assert run_once(settings)[server.base].stored.new_posts == 3
        timeline = server.requests_to("/api/v1/timelines/tag/")
        assert sorted(r.path.rsplit("/", 1)[1] for r in timeline) == sorted(TAGS)
        assert all("any[]" not in r.query for r in timeline)
        server.add(make_status(4, tags=("onepersonlibrary",)))
        assert run_once(settings)[server.base].stored.new_posts == 1  # later cycles: each tag from its own cursor
        assert len(server.requests_to("/api/v2/instance")) == 1  # the kind is remembered
    assert _rows(settings, "SELECT cursor_key, position FROM cursors WHERE cursor_key LIKE '%:software'") == [
        (f"mastodon:{server.base}:software", "gotosocial 0.19.2+git-ffd5be1")]
    assert sorted(k.rsplit(":", 1)[1] for (k,) in _rows(settings, "SELECT cursor_key FROM cursors "
                                                                   "WHERE cursor_key LIKE '%:tag:%'")) == sorted(TAGS)


def test_mastodon_keeps_one_request_per_group(tmp_path: Path) -> None:
    with FakeMastodon(_posts()) as server:
        settings = mastodon_settings(tmp_path, server.base, tags=TAGS)
        assert run_once(settings)[server.base].stored.new_posts == 3
        run_once(settings)
        assert len(server.requests_to("/api/v1/timelines/tag/")) == 2  # one group, one request a cycle
        assert [r.path for r in server.requests if not r.path.startswith(("/api/v1/timelines/", "/api/v1/statuses/"))
                ] == [
            "/api/v2/instance", "/api/v1/tags/sololibrarians"]


def test_a_store_from_before_kinds_were_kept_asks_once_then_splits(tmp_path: Path) -> None:
    with FakeMastodon(_posts(), instance=GTS_INSTANCE, ignores_any=True) as server:
        settings = mastodon_settings(tmp_path, server.base, tags=TAGS)
        run_once(settings)
        with store.writing(settings.db_path) as con:
            con.execute("DELETE FROM cursors WHERE cursor_key LIKE '%:software' OR cursor_key LIKE '%:tag:%'")
            con.execute("INSERT INTO cursors VALUES (?, ?, now())",
                        [f"mastodon:{server.base}:tag:{'+'.join(TAGS)}", "3"])
        server.requests.clear()
        run_once(settings)
        assert len(server.requests_to("/api/v2/instance")) == 1
        assert sorted(r.path.rsplit("/", 1)[1] for r in server.requests_to("/api/v1/timelines/tag/")) == sorted(TAGS)


def test_a_server_that_will_not_say_is_asked_by_nodeinfo_and_else_one_tag_at_a_time(tmp_path: Path) -> None:
    class Quiet(FakeMastodon):
        def route(self, request):  # type: ignore[no-untyped-def]
            if request.path == "/api/v2/instance":
                return Reply(404, {"error": "Not Found"})
            if request.path == "/.well-known/nodeinfo":
                return Reply(200, {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                                              "href": f"{self.base}/nodeinfo/2.0"}]})
            if request.path == "/nodeinfo/2.0":
                return Reply(200, {"version": "2.0", "software": {"name": "gotosocial", "version": "0.19.2"}})
            return super().route(request)

    with Quiet(_posts(), ignores_any=True) as server:
        settings = mastodon_settings(tmp_path, server.base, tags=TAGS)
        assert run_once(settings)[server.base].stored.new_posts == 3
    assert _rows(settings, "SELECT position FROM cursors WHERE cursor_key LIKE '%:software'") == [
        ("gotosocial 0.19.2",)]


@pytest.mark.parametrize(("info", "kind", "honoured"), [
    ({"version": "4.5.0", "source_url": "https://github.com/mastodon/mastodon"}, "mastodon 4.5.0", True),
    ({"version": "4.3.2+glitch", "source_url": "https://github.com/glitch-soc/mastodon"}, "mastodon 4.3.2+glitch",
     True),
    ({"version": "4.5.0"}, "mastodon 4.5.0", True),
    (GTS_INSTANCE, "gotosocial 0.19.2+git-ffd5be1", False),
    # instance-inject-mastodon-version: the version looks like Mastodon's, the source does not.
    ({**GTS_INSTANCE, "version": "3.5.3+0.19.2+git-ffd5be1"}, "gotosocial 3.5.3+0.19.2+git-ffd5be1", False),
    ({"version": "2.7.2 (compatible; Akkoma 3.13.2)"}, "akkoma 2.7.2", True),
    ({"version": "2.7.2 (compatible; Pleroma 2.6.0)"}, "pleroma 2.7.2", True),
    ({"domain": "x"}, None, False),
    ("not an object", None, False),
])
def test_kinds_from_the_instance_document(info: object, kind: str | None, honoured: bool) -> None:
    assert from_instance(info) == kind
    assert honours_any(kind) is honoured


def test_kinds_from_nodeinfo() -> None:
    assert from_nodeinfo({"software": {"name": "Mastodon", "version": "4.5.0"}}) == "mastodon 4.5.0"
    assert from_nodeinfo({"software": {"name": "sharkey", "version": "2025.2"}}) == "sharkey 2025.2"
    assert not honours_any("sharkey 2025.2")
    assert from_nodeinfo({"software": "?"}) is None
