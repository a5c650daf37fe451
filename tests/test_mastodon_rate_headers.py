"""How long the Mastodon client waits when a server says "not now", in each form servers say it.

Mastodon sends ``X-RateLimit-Reset`` as an ISO 8601 time; older GoToSocial sends it as a unix
time; GoToSocial's throttling answers 503 with ``Retry-After: 30``; HTTP allows ``Retry-After``
as seconds or an HTTP-date. The client runs over real HTTP against a local fake instance, with
its sleep replaced by one that only records how long it was asked to wait.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from collectors.mastodon.api import (
    Instance,
    RateLimited,
    ServerError,
    make_client,
    reset_seconds,
    retry_after_seconds,
    wait_seconds,
)
from collectors.records import MASTODON, SourceReport
from pipeline.core import store
from tests.fakes.mastodon import MASTODON_INSTANCE, FakeMastodon, make_status
from tests.fakes.server import Reply
from tests.support import mastodon_settings, run_once

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
TOO_MANY = {"error": "Too many requests"}


def _call(server: FakeMastodon, method: str = "GET", path: str = "/api/v2/instance", *, max_rate_wait: float = 60.0,
          idempotency_key: str | None = None) -> tuple[object, SourceReport, list[float]]:
    """One request through :class:`Instance`; what it answered, its report, and the waits it asked for."""
    report = SourceReport(source="fake", platform=MASTODON)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def go() -> object:
        async with make_client(5.0) as client:
            inst = Instance(base=server.base, client=client, report=report, max_rate_wait=max_rate_wait,
                            backoff=0.01, sleep=sleep)
            body, _ = await inst.request(method, path, idempotency_key=idempotency_key)
            return body

    return asyncio.run(go()), report, waits


# -- reading the headers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "seconds"), [
    ("2026-11-20T10:05:00.000Z", 300.0),  # Mastodon
    ("2026-11-20T10:05:00", 300.0),  # no zone: UTC
    (str(int(NOW.timestamp()) + 45), 45.0),  # older GoToSocial: a unix time
    ("12", 12.0),  # a number of seconds from now
    (" 7 ", 7.0),
    ("0", 0.0),
    (str(int(NOW.timestamp()) - 60), 0.0),  # a reset already past
    ("2026-11-20T09:00:00Z", 0.0),
])
def test_reset_seconds_reads_iso_times_unix_times_and_delays(value: str, seconds: float) -> None:
    assert reset_seconds(httpx.Headers({"X-RateLimit-Reset": value}), NOW) == seconds


@pytest.mark.parametrize("value", ["", "soon", "-5", "1.5e9", "12s", "Fri, 20 Nov 2026 10:05:00 GMT", "9" * 400])
def test_an_unreadable_reset_is_none(value: str) -> None:
    assert reset_seconds(httpx.Headers({"X-RateLimit-Reset": value}), NOW) is None
    assert reset_seconds(httpx.Headers({}), NOW) is None


def test_the_header_name_is_matched_whatever_its_case() -> None:
    gotosocial = httpx.Headers({"X-Ratelimit-Reset": str(int(NOW.timestamp()) + 30)})
    assert reset_seconds(gotosocial, NOW) == 30.0


@pytest.mark.parametrize(("value", "seconds"), [
    ("30", 30.0),
    ("Fri, 20 Nov 2026 10:00:20 GMT", 20.0),
    ("Fri, 20 Nov 2026 09:00:00 GMT", 0.0),  # a date already past
    (str(int(NOW.timestamp()) + 15), 15.0),  # not what RFC 9110 allows, but never meant as 56 years
])
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": value}), NOW) == seconds


@pytest.mark.parametrize("value", ["", "soon", "-1", "30.5", "Fri, 99 Nov 2026 10:00:20 GMT", "2026-11-20T10:05Z"])
def test_an_unreadable_retry_after_is_none(value: str) -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": value}), NOW) is None


def test_a_429_prefers_retry_after_and_falls_back_to_the_reset() -> None:
    reset = {"X-RateLimit-Reset": "2026-11-20T10:05:00Z"}
    assert wait_seconds(httpx.Headers({**reset, "Retry-After": "10"}), NOW) == 10.0
    assert wait_seconds(httpx.Headers({**reset, "Retry-After": "later"}), NOW) == 300.0
    assert wait_seconds(httpx.Headers(reset), NOW) == 300.0
    assert wait_seconds(httpx.Headers({}), NOW) is None


# -- acting on them --------------------------------------------------------------------------------

def test_a_429_with_a_unix_time_reset_is_waited_out() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(429, TOO_MANY, {"X-Ratelimit-Reset": str(int(time.time()) + 30)}))
        body, report, waits = _call(server)
        assert isinstance(body, dict) and body["domain"] == server.domain
        assert len(waits) == 1 and 28 <= waits[0] <= 30
        assert report.rate_limit_waits == 1 and len(server.requests) == 2


def test_a_429_with_a_reset_in_seconds_is_waited_out() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(429, TOO_MANY, {"X-RateLimit-Reset": "2"}))
        _, report, waits = _call(server)
        assert waits == [2.0] and report.rate_limit_waits == 1


def test_a_429_with_an_http_date_retry_after_is_waited_out() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    with FakeMastodon() as server:
        server.inject(Reply(429, TOO_MANY, {"Retry-After": when, "X-RateLimit-Reset": "3600"}))
        _, report, waits = _call(server)
        assert len(waits) == 1 and 18 <= waits[0] <= 20  # Retry-After, not the far reset
        assert report.rate_limit_waits == 1


def test_a_429_with_an_unreadable_reset_still_leaves_the_instance() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(429, TOO_MANY, {"X-RateLimit-Reset": "whenever"}))
        with pytest.raises(RateLimited, match=r"rate limited \(429\), reset in unknown time$") as caught:
            _call(server)
        assert caught.value.reset_in is None and len(server.requests) == 1


def test_a_503_with_retry_after_is_waited_out_and_then_succeeds() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(503, "<html>Service Unavailable</html>", {"Retry-After": "30"}))
        body, report, waits = _call(server)
        assert isinstance(body, dict) and body["domain"] == server.domain
        assert waits == [30.0]  # what the server asked, not the 0.01 s backoff
        assert report.rate_limit_waits == 1 and len(server.requests) == 2


def test_a_503_with_a_long_retry_after_leaves_the_instance_at_once() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(503, "Service Unavailable", {"Retry-After": "3600"}))
        with pytest.raises(RateLimited, match=r"busy \(503\) on /api/v2/instance, retry after 3600s$") as caught:
            _call(server)
        assert caught.value.reset_in == 3600.0 and "\n" not in str(caught.value)
        assert len(server.requests) == 1


def test_503s_with_retry_after_are_retried_a_bounded_number_of_times() -> None:
    with FakeMastodon() as server:
        server.inject(*[Reply(503, "Service Unavailable", {"Retry-After": "1"})] * 10)
        with pytest.raises(ServerError, match=r"server error 503 on /api/v2/instance \(4 attempts\)$"):
            _call(server)
        assert len(server.requests) == 4  # max_retries 3, as for any 5xx


def test_a_503_with_retry_after_on_a_plain_write_is_not_retried() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(503, "Service Unavailable", {"Retry-After": "5"}))
        with pytest.raises(ServerError, match=r"server error 503 on POST /api/v1/statuses \(1 attempts\)$"):
            _call(server, "POST", "/api/v1/statuses")
        assert len(server.requests) == 1


def test_a_503_with_retry_after_on_an_idempotent_write_is_waited_out() -> None:
    with FakeMastodon() as server:
        server.inject(Reply(503, "Service Unavailable", {"Retry-After": "5"}), Reply(200, {"id": "1"}))
        body, _, waits = _call(server, "POST", "/api/v1/statuses", idempotency_key="k")
        assert body == {"id": "1"} and waits == [5.0]


def test_a_long_503_retry_after_in_a_cycle_is_left_for_the_next_cycle(tmp_path: Path) -> None:
    with FakeMastodon([make_status(1)]) as server:
        server.inject(Reply(200, MASTODON_INSTANCE), Reply(503, "Service Unavailable", {"Retry-After": "3600"}))
        settings = mastodon_settings(tmp_path, server.base)
        outcome = run_once(settings)[server.base]
        assert outcome.ok and outcome.stored.new_posts == 0
        assert "rate limited" in outcome.summary_line() and "retry after 3600s" in outcome.summary_line()
        assert len(server.requests) == 2
        with store.reading(settings.db_path) as con:
            tag_cursors = con.execute("SELECT count(*) FROM cursors WHERE cursor_key LIKE 'mastodon:%:tag:%'")
            assert tag_cursors.fetchall() == [(0,)]
        assert run_once(settings)[server.base].stored.new_posts == 1
