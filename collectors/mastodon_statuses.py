"""Posting a status on the organiser's home Mastodon instance: the wire side of publishing the summary.

``POST /api/v1/statuses`` always carries an ``Idempotency-Key``: the server
answers a repeated key (for an hour) with the status it already made, so a
request whose answer was lost (a timeout, a 502 from a proxy) can be sent
again. :meth:`collectors.mastodon_api.Instance.request` therefore retries this
write on 5xx answers and timeouts, as it does reads, and waits out a near 429.

Plain httpx rather than Mastodon.py (whose ``status_post`` also takes an
idempotency key): one endpoint, the project's rate-limit rules, and no new
dependency. Which key, which thread and what to remember belong to the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.mastodon_api import Instance, Malformed

STATUSES_PATH = "/api/v1/statuses"
TOKEN_SCOPES = "write:statuses"  # what a token for posting needs


@dataclass(frozen=True)
class PostedStatus:
    """What the instance answered for a status it made (or had made for the same key)."""

    id: str  # the instance's local id: what a reply's ``in_reply_to_id`` names
    uri: str | None  # the ActivityPub id
    url: str | None  # the web page


async def post_status(inst: Instance, text: str, *, idempotency_key: str, visibility: str = "public",
                      language: str | None = None, in_reply_to_id: str | None = None) -> PostedStatus:
    """Post ``text`` (as a reply to ``in_reply_to_id`` when given); the same key never makes two statuses."""
    body: dict[str, object] = {"status": text, "visibility": visibility}
    if language:
        body["language"] = language
    if in_reply_to_id:
        body["in_reply_to_id"] = in_reply_to_id
    answer, _ = await inst.request("POST", STATUSES_PATH, json_body=body, idempotency_key=idempotency_key)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise Malformed(f"{inst.host}: the answer to POST {STATUSES_PATH} is not a status")
    return PostedStatus(answer["id"], _text(answer.get("uri")), _text(answer.get("url")))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
