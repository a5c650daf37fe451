"""Posting the summary thread to the organiser's home Mastodon instance, and reading its length limits.

``POST /api/v1/statuses`` with ``in_reply_to_id`` for the thread and an
``Idempotency-Key`` header. The key is what makes every retry safe, writes
included: a request whose answer was lost (a timeout, a 502 from a proxy) is
sent again with the same key and the server answers with the status it already
made. So transport errors and 5xx answers are retried here, with backoff, and
a 429 is waited out when its reset is near.

Plain httpx rather than Mastodon.py (whose ``status_post`` also takes an
idempotency key): one endpoint, the project's rate-limit rules, and no new
dependency.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import httpx

from collectors.mastodon_api import error_text, reset_seconds
from collectors.version import USER_AGENT
from pipeline.publish import Planned, Posted, PublishError, Remote, idempotency_key
from pipeline.summary import MastodonLimits, Week

log = logging.getLogger(__name__)

MAX_RATE_WAIT = 60.0  # seconds worth waiting for a rate-limit reset before giving up for this run


def instance_limits(base: str, *, timeout: float = 20.0, client: httpx.Client | None = None
                    ) -> tuple[MastodonLimits, str | None]:
    """``configuration.statuses`` of ``GET /api/v2/instance``; Mastodon's defaults and a reason when unreadable."""
    try:
        if client is None:
            with httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}) as own:
                response = own.get(f"{base}/api/v2/instance")
        else:
            response = client.get(f"{base}/api/v2/instance")
        response.raise_for_status()
        statuses = response.json().get("configuration", {}).get("statuses", {})
        limit = statuses.get("max_characters")
        per_url = statuses.get("characters_reserved_per_url", 23)
        if not isinstance(limit, int) or limit < 1 or not isinstance(per_url, int) or per_url < 0:
            return MastodonLimits(), f"{base}: the instance does not say how long a post may be; assuming 500"
        return MastodonLimits(limit, per_url, known=True), None
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return MastodonLimits(), f"{base}: could not read /api/v2/instance ({type(exc).__name__}); assuming 500"


class MastodonPoster:
    """The organiser's account on their home instance, posting one thread."""

    platform = "mastodon"

    def __init__(self, base: str, token: str, *, community: str, visibility: str = "unlisted",
                 language: str | None = None, timeout: float = 20.0, max_retries: int = 3,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base, self.community, self.visibility, self.language = base, community, visibility, language
        self.max_retries, self._sleep = max_retries, sleep
        self.requests = 0
        self._client = httpx.Client(timeout=timeout, headers={
            "User-Agent": USER_AGENT, "Accept": "application/json", "Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> MastodonPoster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key(self, week: Week, seq: int) -> str:
        return idempotency_key(self.community, week, self.platform, seq)

    def post(self, item: Planned, key: str, thread: Sequence[Posted]) -> Remote:
        body: dict[str, str] = {"status": item.text, "visibility": self.visibility}
        if self.language:
            body["language"] = self.language
        if thread:
            if not thread[-1].remote_id:
                raise PublishError("the previous post of the thread has no status id to reply to")
            body["in_reply_to_id"] = thread[-1].remote_id
        status = self._send(body, key)
        if not isinstance(status, dict) or not isinstance(status.get("id"), str):
            raise PublishError(f"{self.base}: the answer to POST /api/v1/statuses is not a status")
        return Remote(remote_id=status["id"], uri=status.get("uri"), cid=None,
                      url=status.get("url") or status.get("uri"))

    def _send(self, body: dict[str, str], key: str) -> object:
        attempt = waits = 0
        while True:
            try:
                self.requests += 1
                response = self._client.post(f"{self.base}/api/v1/statuses", json=body,
                                             headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:
                if attempt < self.max_retries:  # the same key: the server will not post twice
                    attempt += 1
                    self._sleep(0.5 * 2**attempt)
                    continue
                raise PublishError(f"{self.base}: {type(exc).__name__} posting a status "
                                   f"({attempt + 1} attempts)") from None
            status = response.status_code
            if status == 429:
                reset_in = reset_seconds(response.headers)
                if reset_in is not None and reset_in <= MAX_RATE_WAIT and waits < 2:
                    waits += 1
                    self._sleep(reset_in)
                    continue
                raise PublishError(f"{self.base}: rate limited (429); try again after the reset")
            if status >= 500 and attempt < self.max_retries:
                attempt += 1
                self._sleep(0.5 * 2**attempt)
                continue
            if status in (401, 403):
                raise PublishError(f"{self.base} refused the token ({status}): check PEERDESK_MASTODON_TOKEN "
                                   "(it needs the write:statuses scope)")
            if status >= 400:
                raise PublishError(f"{self.base}: POST /api/v1/statuses answered {status}: {error_text(response)}")
            try:
                return response.json()
            except ValueError:
                raise PublishError(f"{self.base}: the answer to POST /api/v1/statuses is not JSON") from None


