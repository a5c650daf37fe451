"""Posting the summary thread to the organiser's home Mastodon instance, and reading its length limits.

This module decides what goes out: each post replies to the one before it,
under the key :func:`pipeline.summary.publish.idempotency_key` gives its week and
position, and whatever the instance refuses becomes one line for the organiser.
The wire side (the ``Idempotency-Key`` header, and the retries that key makes
safe, rate limits, timeouts) is Mastodon.py behind
:class:`collectors.mastodon.account.Account`; reading the instance's limits
stays on the collector's :class:`collectors.mastodon.api.Instance`
(:mod:`collectors.mastodon.instance`).

Publishing is synchronous (:func:`pipeline.summary.publish.publish_thread` commits
between posts), as Mastodon.py is: one client and one connection pool for all
the posts of a thread.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence

from collectors.mastodon.account import STATUS_SCOPES, Account
from collectors.mastodon.api import Instance, LoginRequired, MastodonError, make_client
from collectors.mastodon.instance import INSTANCE_PATH, StatusLimits, instance_info, status_limits
from collectors.records import MASTODON, SourceReport
from pipeline.summary.compose import MastodonLimits, Week
from pipeline.summary.publish import Planned, Posted, PublishError, Remote, TooLong, idempotency_key

# How servers refuse a status for its length: Mastodon "Text character limit of 500 exceeded" (422), GoToSocial
# "exceed max chars (500)" or "status too long" (400).
_LENGTH_REFUSAL = re.compile(r"answered (400|422):.*(character limit|max chars|too long)", re.IGNORECASE)


def instance_limits(base: str, *, timeout: float = 20.0, max_retries: int = 3) -> tuple[MastodonLimits, str | None]:
    """What ``base`` allows a post; Mastodon's defaults and a one-line reason when it cannot be read."""

    async def read() -> StatusLimits | None:
        async with make_client(timeout) as client:
            report = SourceReport(source="mastodon:publish", platform=MASTODON)  # the request count; not shown
            home = Instance(base=base, client=client, report=report, max_retries=max_retries)
            return status_limits(await instance_info(home))

    try:
        found = asyncio.run(read())
    except MastodonError as exc:
        return MastodonLimits(), f"{base}: could not read {INSTANCE_PATH} ({type(exc).__name__}); assuming 500"
    if found is None:
        return MastodonLimits(), f"{base}: the instance does not say how long a post may be; assuming 500"
    return MastodonLimits(found.max_characters, found.characters_reserved_per_url, known=True), None


class MastodonPoster:
    """The organiser's account on their home instance, posting one thread."""

    platform = "mastodon"

    def __init__(self, base: str, token: str, *, community: str, visibility: str = "unlisted",
                 language: str | None = None, timeout: float = 20.0, max_retries: int = 3,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base, self.community, self.visibility, self.language = base, community, visibility, language
        self._home = Account(base, token, timeout=timeout, max_retries=max_retries, sleep=sleep)

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._home.requests

    def close(self) -> None:
        self._home.api.session.close()

    def __enter__(self) -> MastodonPoster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key(self, week: Week, seq: int) -> str:
        return idempotency_key(self.community, week, self.platform, seq)

    def post(self, item: Planned, key: str, thread: Sequence[Posted]) -> Remote:
        if thread and not thread[-1].remote_id:
            raise PublishError("the previous post of the thread has no status id to reply to")
        reply_to = thread[-1].remote_id if thread else None
        try:
            status = self._home.post_status(item.text, idempotency_key=key, visibility=self.visibility,
                                            language=self.language, in_reply_to_id=reply_to)
        except LoginRequired as exc:
            code = f" ({exc.status})" if exc.status else ""
            raise PublishError(f"{self.base} refused the token{code}: sign in again with "
                               f"'peerdesk login mastodon' or check PEERDESK_MASTODON_TOKEN "
                               f"(it needs the {STATUS_SCOPES} scope)") from None
        except MastodonError as exc:
            if _LENGTH_REFUSAL.search(str(exc)):
                raise TooLong(str(exc)) from None
            raise PublishError(str(exc)) from None
        return Remote(remote_id=status.id, uri=status.uri, cid=None, url=status.url or status.uri)

