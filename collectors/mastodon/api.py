"""A thin asynchronous client for the Mastodon REST API.

Why not Mastodon.py here: polling many instances at once wants asyncio and a
per-host limit on requests in flight, hashtag groups need ``any[]`` (which
Mastodon.py's ``timeline_hashtag`` does not take), and a malformed item must
cost that item rather than the page. Everything about retries, timeouts and
rate limits lives in :meth:`Instance.request` (:meth:`Instance.get` for reads),
the one seam tests drive. What peerdesk does as the organiser's account
(signing in, posting, keeping a list) goes through Mastodon.py instead, in
:mod:`collectors.mastodon.account`, which raises the errors defined here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from collectors import json_decode
from collectors.clean_text import without_controls
from collectors.http_bounds import (
    ACCEPT_ENCODING,
    DOCUMENT_CAP,
    PAGE_CAP,
    BadEncoding,
    CappedBody,
    TooLarge,
    deadline_for,
)
from collectors.records import SourceReport
from collectors.version import USER_AGENT

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Decode = Callable[[bytes], object]  # an answer's bytes to what the caller reads; ValueError when not JSON


class MastodonError(Exception):
    """Root of what can go wrong talking to one instance; messages are one line, secret-free."""


class Unreachable(MastodonError):
    """Connection refused, DNS failure, timeouts past the retry budget, no whole answer by the deadline, redirects."""


class ServerError(MastodonError):
    """5xx answers past the retry budget."""


class RateLimited(MastodonError):
    def __init__(self, message: str, reset_in: float | None) -> None:
        super().__init__(message)
        self.reset_in = reset_in


class LoginRequired(MastodonError):
    """401/403 (422 on a read): a token is missing, refused, or lacks a scope for this call."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # which refusal it was, for a message to the organiser that names it


class NotFound(MastodonError):
    """404 or 410: the thing is gone (a deleted status, an unknown tag is an empty list instead)."""


class NotSupported(MastodonError):
    """405 or 501: the server has no such call (GoToSocial answers 405 to ``GET /api/v1/statuses``)."""


class Malformed(MastodonError):
    """The answer was not the JSON shape the API documents (an HTML error page, truncated JSON...)."""


@dataclass
class Instance:
    """One Mastodon server as seen by the collector: its base URL, client and limits."""

    base: str
    client: httpx.AsyncClient
    report: SourceReport
    token: str | None = None
    token_env: str = ""  # where the organiser would put a token, for messages
    max_in_flight: int = 2
    max_retries: int = 3
    max_rate_wait: float = 60.0  # wait for a reset this short; beyond it, leave for the next cycle
    backoff: float = 0.5
    sleep: Sleep = asyncio.sleep
    dead: bool = False  # set once it proved unreachable: not asked again this cycle
    account_domain: str | None = None  # the domain in its users' handles, once verified (see mastodon_trust)
    deadline: float | None = None  # seconds for a whole request, body included; None: from the client's timeout
    origins: Mapping[str, str] = field(default_factory=dict)  # host -> base URL it is reached at (settings)
    _gate: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.max_in_flight)
        if self.deadline is None:
            self.deadline = deadline_for(self.client.timeout.read or 20.0)

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc

    def hosts(self) -> frozenset[str]:
        """The host names this server speaks for: its own, those configured to be reached here, its account domain.

        A server is believed only about its own posts (their uri's host) and
        accounts (their key's domain); see design.md "Trust".
        """
        names = {self.host.lower(), *(h.lower() for h, base in self.origins.items() if base == self.base)}
        if self.account_domain:
            names.add(self.account_domain)
        return frozenset(names)

    def base_of(self, host: str) -> str:
        """Where another host is reached: as configured (tests point hosts at 127.0.0.1), else over https."""
        return self.origins.get(host.lower()) or f"https://{host.lower()}"

    async def get(self, path: str, params: list[tuple[str, str]] | None = None,
                  decode: Decode = json_decode.loads) -> tuple[object, httpx.Headers]:
        """GET a JSON document, retrying 5xx and timeouts, honouring rate limits.

        ``decode`` reads the body: timelines and contexts pass a decoder from :mod:`collectors.mastodon.entities`,
        which gives typed statuses; everything else gets the plain JSON of :func:`collectors.json_decode.loads`.
        """
        return await self.request("GET", path, params=params, decode=decode)

    async def request(self, method: str, path: str, *, params: list[tuple[str, str]] | None = None,
                      data: Mapping[str, str | list[str]] | None = None, json_body: Mapping[str, object] | None = None,
                      idempotency_key: str | None = None, decode: Decode = json_decode.loads
                      ) -> tuple[object, httpx.Headers]:
        """One API call's JSON and headers, with the same manners for reads and writes.

        A 429 is waited out when its reset is near, whatever the method: the
        server refused the request, so sending it again is safe. A GET is retried
        after a timeout or a 5xx; a write is not, since one whose answer was lost
        may have been performed, unless it carries an ``idempotency_key``. That
        key goes out as the ``Idempotency-Key`` header, and an endpoint that
        honours it (``POST /api/v1/statuses``: for an hour) answers a repeat with
        what the first request made, so the write is retried like a read. A 422
        means "log in" only on a read; on a write it is the server refusing what
        was asked, a plain :class:`MastodonError`. ``data`` is sent as a form,
        ``json_body`` as JSON.

        How long to wait comes from the server when it says (see
        :func:`wait_seconds`): a 429 prefers ``Retry-After`` to
        ``X-RateLimit-Reset``, and a 503 with ``Retry-After`` (GoToSocial's
        throttling) is retried after that long rather than the usual backoff.
        Either, when the wait is past ``max_rate_wait``, raises
        :class:`RateLimited` so the instance is left for the next cycle. A 503
        on a write that may not be retried stays a :class:`ServerError`.

        Every exchange ends by ``deadline`` (headers and body), and its body is
        decoded under a cap (:mod:`collectors.http_bounds`): a server that
        trickles is :class:`Unreachable` for the cycle without a retry, one that
        answers too much or JSON nested too deeply is :class:`Malformed`.
        """
        if self.dead:
            raise Unreachable(f"{self.host}: unreachable earlier in this cycle")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = self.base + path
        what = path if method == "GET" else f"{method} {path}"
        retryable = method == "GET" or bool(idempotency_key)
        retries = self.max_retries if retryable else 0
        headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what CappedBody decodes
        cap = PAGE_CAP if path.startswith("/api/v1/timelines/") or path.endswith("/context") else DOCUMENT_CAP
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._gate:
                    self.report.requests += 1
                    response, body = await self._send(method, url, params, data, json_body, headers, cap)
            except TimeoutError:  # the deadline, not a read timeout: a trickling server is not asked again
                if retryable:
                    self.dead = True
                raise Unreachable(f"{self.host}: no whole answer to {what} within {self.deadline:g}s") from None
            except (TooLarge, BadEncoding) as exc:
                raise Malformed(f"{self.host}: {what}: {exc}") from None
            except httpx.TooManyRedirects:
                if retryable:
                    self.dead = True
                raise Unreachable(f"{self.host}: {what} redirects in a loop (too many redirects)") from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                reason = _transport_reason(exc)
                if attempt > retries:
                    if retryable:  # an unretried write's one lost answer proves nothing about the server
                        self.dead = True
                    raise Unreachable(f"{self.host}: {reason} ({attempt} attempts)") from None
                await self.sleep(self._delay(attempt))
                continue
            except httpx.HTTPError as exc:  # an unusable URL or answer (a redirect to nowhere...)
                raise MastodonError(f"{self.host}: {what} failed: {type(exc).__name__}") from None
            status = response.status_code
            if status == 429:
                reset_in = wait_seconds(response.headers)
                if reset_in is not None and reset_in <= self.max_rate_wait and attempt <= self.max_retries:
                    self.report.rate_limit_waits += 1
                    await self.sleep(reset_in)
                    continue
                raise RateLimited(f"{self.host}: rate limited (429), reset in {_fmt(reset_in)}", reset_in)
            if status >= 500:
                asked = retry_after_seconds(response.headers) if status == 503 and retryable else None
                if asked is not None and asked > self.max_rate_wait:
                    raise RateLimited(f"{self.host}: busy (503) on {what}, retry after {_fmt(asked)}", asked)
                if attempt > retries:
                    raise ServerError(f"{self.host}: server error {status} on {what} ({attempt} attempts)")
                if asked is not None:
                    self.report.rate_limit_waits += 1
                    await self.sleep(asked)
                else:
                    await self.sleep(self._delay(attempt))
                continue
            if status in (401, 403) or (status == 422 and method == "GET"):
                raise LoginRequired(f"{self.host}: {what} answered {status}: {error_text(response, body)}", status)
            if status in (404, 410):
                raise NotFound(f"{self.host}: {what} answered {status}")
            if status in (405, 501):
                raise NotSupported(f"{self.host}: {what} answered {status}: {error_text(response, body)}")
            if status >= 400:
                raise MastodonError(f"{self.host}: {what} answered {status}: {error_text(response, body)}")
            await self._pace(response.headers)
            return _json(response, body, self.host, what, decode), response.headers

    async def _send(self, method: str, url: str, params: list[tuple[str, str]] | None,
                    data: Mapping[str, str | list[str]] | None, json_body: Mapping[str, object] | None,
                    headers: dict[str, str], cap: int) -> tuple[httpx.Response, bytes]:
        """One exchange, its body read raw and decoded under ``cap``, all within the deadline.

        httpx's timeout bounds each read; only a limit around the whole exchange
        stops a server that keeps a request alive with a byte every few seconds.
        """
        async with asyncio.timeout(self.deadline):
            async with self.client.stream(method, url, params=params, data=data, json=json_body,
                                          headers=headers) as response:
                reader = CappedBody(response.headers.get("content-encoding"), cap)
                async for chunk in response.aiter_raw():
                    reader.feed(chunk)
                return response, reader.body()

    def _delay(self, attempt: int) -> float:
        return self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)

    async def _pace(self, headers: httpx.Headers) -> None:
        """When the budget is spent, wait for the reset before the next request rather than earn a 429."""
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.strip() == "0":
            reset_in = reset_seconds(headers)
            if reset_in is not None and 0 < reset_in <= self.max_rate_wait:
                self.report.rate_limit_waits += 1
                await self.sleep(reset_in)


def reset_seconds(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds until ``X-RateLimit-Reset``, or None if absent/unreadable; a time already past is 0.

    Mastodon sends an ISO 8601 time; older GoToSocial (ulule/limiter) sends a unix time in
    seconds. An all-digits value is taken as a unix time when past 1e9 (2001), and otherwise
    as a number of seconds from now.
    """
    return _header_seconds(headers.get("X-RateLimit-Reset"), now, _iso_time)


def retry_after_seconds(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds ``Retry-After`` asks for, or None if absent/unreadable; a time already past is 0.

    RFC 9110 §10.2.3 allows a number of seconds or an HTTP-date. A number past 1e9 is
    read as a unix time, as in :func:`reset_seconds`: no server means a 31-year wait.
    """
    return _header_seconds(headers.get("Retry-After"), now, parsedate_to_datetime)


def _header_seconds(value: str | None, now: datetime | None, parse_time: Callable[[str], datetime]
                    ) -> float | None:
    if not value:
        return None
    value = value.strip()
    now = now or datetime.now(UTC)
    if _DIGITS.fullmatch(value):
        return _from_number(value, now)
    try:
        when = parse_time(value)
    except (TypeError, ValueError):
        return None
    return _until(when, now)


def _iso_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wait_seconds(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """How long a 429 asks us to wait: ``Retry-After`` if readable, else ``X-RateLimit-Reset``.

    ``Retry-After`` is the server's answer about this refused request (RFC 6585 §4), while
    ``X-RateLimit-Reset`` only says when one window resets: a server with several limits
    (per account and per IP on Mastodon) may name a window other than the one that refused.
    """
    after = retry_after_seconds(headers, now)
    return after if after is not None else reset_seconds(headers, now)


_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²" and other scripts' digits
_EPOCH_AFTER = 1e9  # an all-digits value past this is a unix time (2001-09-09), not a delay


def _from_number(value: str, now: datetime) -> float | None:
    number = float(value)  # ASCII digits always parse; past float's range they make inf
    if math.isinf(number):
        return None
    if number > _EPOCH_AFTER:
        number -= now.timestamp()
    return max(0.0, number)


def _until(when: datetime, now: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _json(response: httpx.Response, body: bytes, host: str, path: str, decode: Decode = json_decode.loads
          ) -> object:
    try:
        return decode(body)
    except RecursionError:  # nesting deeper than Python's stack: this answer only, never the caller
        raise Malformed(f"{host}: {path} answered JSON nested too deeply to read") from None
    except ValueError:
        kind = response.headers.get("content-type", "unknown type").split(";")[0]
        raise Malformed(f"{host}: {path} answered {response.status_code} with {kind} that is not JSON") from None


def error_text(response: httpx.Response, body: bytes) -> str:
    """The `error` a Mastodon answer carries, short, or the HTTP reason."""
    try:
        answer = json_decode.loads(body)
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            return without_controls(answer["error"][:200])  # shown to people, on terminals too
    except (ValueError, RecursionError):
        pass
    return response.reason_phrase or "error"


def _transport_reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return type(exc).__name__


def _fmt(seconds: float | None) -> str:
    return "unknown time" if seconds is None else f"{seconds:.0f}s"


def make_client(timeout: float, max_connections: int = 100) -> httpx.AsyncClient:
    """A pooled client: an identifying User-Agent and a timeout on every request.

    A cycle gives each instance a client of its own: httpcore looks through every
    connection of a pool for each request, so one pool for fifty instances spends
    more CPU choosing connections than sending. They share one TLS context, whose
    making (reading the CA bundle) is what a new client costs.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=True,
        verify=_tls(),
    )


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's own default context (certifi's CAs, or ``SSL_CERT_FILE``), made once per process."""
    return httpx.create_ssl_context()


Client = httpx.AsyncClient  # what make_client returns, named here so callers need no HTTP import of their own
