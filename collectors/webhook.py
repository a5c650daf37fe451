"""Posting one JSON alert to a chat webhook (Slack, Mattermost, a custom endpoint).

HTTP lives in ``collectors/``; the pipeline decides what to send and records it.
Failures are sorted by what they say about delivery, because the caller promises
at most one delivery per request: a refused connection or an error status means
the message surely did not arrive (safe to retry later); a timeout after the body
went out means it may have arrived (not retried). The URL often embeds a token,
so no message here ever contains it: only its scheme and host.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from collectors.http_bounds import deadline_for
from collectors.version import USER_AGENT

ANSWER_CAP = 64 * 1024  # a webhook answers "ok" or a line of JSON; more is not read


class WebhookError(Exception):
    """The alert was not delivered; retrying later is safe."""


class WebhookUncertain(Exception):
    """The body went out but no answer came back: it may have been delivered, so it is not resent."""


def safe_target(url: str) -> str:
    """The URL as it may be shown: scheme and host only (webhook paths carry tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


class _HideUrl(logging.Filter):
    """httpx logs every request's full URL (``HTTP Request: POST <url>``, shown by ``-v``): while the webhook is
    called, a URL on its host names only the scheme and host, since the path is the token."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.netloc, self.shown = urlsplit(url).netloc.lower(), safe_target(url) + "/..."

    def _hidden(self, arg: object) -> bool:
        return isinstance(arg, httpx.URL) and arg.netloc.decode("ascii", "replace").lower() == self.netloc

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(map(self._hidden, record.args)):
            record.args = tuple(self.shown if self._hidden(a) else a for a in record.args)
        return True


async def post_alert(url: str, body: dict[str, Any], *, timeout: float, idempotency_key: str) -> int:
    """POST ``body`` as JSON; returns the status. Raises WebhookError or WebhookUncertain with one-line reasons.

    ``idempotency_key`` is sent as ``Idempotency-Key`` so that a receiver which
    honours it can drop a copy, should one ever arrive twice.
    """
    target = safe_target(url)
    headers = {"User-Agent": USER_AGENT, "Idempotency-Key": idempotency_key}
    hide = _HideUrl(url)
    httpx_log = logging.getLogger("httpx")
    httpx_log.addFilter(hide)
    deadline = deadline_for(timeout)
    status: int | None = None
    try:
        # A whole request has a deadline, as every other one peerdesk makes: httpx bounds each read only, and a
        # receiver trickling its answer would hold the cycle. Only the status matters: at most ANSWER_CAP of the
        # answer is read (to end the exchange cleanly), and a status once received stands whatever the body does.
        async with asyncio.timeout(deadline), httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            async with client.stream("POST", url, json=body, headers=headers) as response:
                status, size = response.status_code, 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > ANSWER_CAP:
                        break
    except TimeoutError:
        if status is None:
            raise WebhookUncertain(f"webhook {target}: no answer within {deadline:g} s") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise WebhookError(f"webhook {target}: could not connect ({type(exc).__name__})") from None
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        if status is None:
            raise WebhookUncertain(f"webhook {target}: no answer after sending ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        if status is None:
            raise WebhookError(f"webhook {target}: {type(exc).__name__}") from None
    finally:
        httpx_log.removeFilter(hide)
    assert status is not None
    if status >= 300:
        raise WebhookError(f"webhook {target}: HTTP {status}")
    return status
