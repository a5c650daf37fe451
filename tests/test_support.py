"""The shared test helpers keep their promises: waits end on the condition, the deadline or the process's end."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer, Reply, Request
from tests.support import GaveUp, ended, wait_until


def test_wait_until_returns_the_first_truthy_answer() -> None:
    answers = iter([0, None, "", 7, 8])
    assert wait_until(lambda: next(answers), 5, "the seventh") == 7


def test_wait_until_names_what_it_waited_for_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="waited 0.1 s for the sky to fall"):
        wait_until(lambda: False, 0.1, "the sky to fall")
    assert time.monotonic() - started < 2


def test_wait_until_gives_up_as_soon_as_the_process_it_waits_on_exits() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit('bad config')"], stderr=subprocess.PIPE,
                            text=True)
    started = time.monotonic()
    with pytest.raises(GaveUp, match="exited 1: bad config"):
        wait_until(lambda: False, 30, "a line", unless=ended(proc))
    assert time.monotonic() - started < 20


class _Echo(FakeServer):
    def route(self, request: Request) -> Reply:
        return Reply(200, {"method": request.method, "path": request.path, "q": request.param("q")})


def test_a_fake_server_answers_its_methods_and_records_each_request() -> None:
    with _Echo() as server, httpx.Client(base_url=server.base) as client:
        assert client.get("/x", params={"q": "1"}).json() == {"method": "GET", "path": "/x", "q": "1"}
        assert client.delete("/x").status_code == 501  # not one of FakeServer's methods
        assert [(r.method, r.path) for r in server.requests] == [("GET", "/x")]


def test_injected_faults_come_first_in_order() -> None:
    with FakeMastodon([]) as server, httpx.Client(base_url=server.base) as client:
        server.inject(Reply(503, "down"), Reply(200, b"[]", {"Content-Type": "text/plain"}))
        assert client.get("/api/v1/timelines/tag/x").status_code == 503
        second = client.get("/api/v1/timelines/tag/x")
        assert second.headers["content-type"] == "text/plain" and second.json() == []
        assert client.delete("/api/v1/lists/1/accounts").status_code != 501  # Mastodon's list writes use DELETE
