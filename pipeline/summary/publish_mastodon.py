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
import contextlib
import re
from collections.abc import Sequence

from collectors.mastodon.account import STATUS_SCOPES, Account
from collectors.mastodon.api import LoginRequired, MastodonError
from collectors.mastodon.instance import INSTANCE_PATH, StatusLimits, instance_info, status_limits
from collectors.records import MASTODON, SourceReport
from pipeline.collection.mastodon_source import Instances, home_account, home_token
from pipeline.core.settings import Settings
from pipeline.signin import needs
from pipeline.summary.compose import MastodonLimits, Summary, Week
from pipeline.summary.publish import (
    Planned,
    Posted,
    PublishError,
    Remote,
    ThreadReport,
    TooLong,
    idempotency_key,
    publish_thread,
)

# How servers refuse a status for its length: Mastodon "Text character limit of 500 exceeded" (422), GoToSocial
# "exceed max chars (500)" or "status too long" (400).
_LENGTH_REFUSAL = re.compile(r"answered (400|422):.*(character limit|max chars|too long)", re.IGNORECASE)
PURPOSE = "posting to Mastodon"


def instance_limits(settings: Settings) -> tuple[MastodonLimits, str | None]:
    """What ``[mastodon] home`` allows a post; Mastodon's defaults and a one-line reason when it cannot be read."""
    base = settings.mastodon.home
    if not base:
        return MastodonLimits(), None

    async def read() -> StatusLimits | None:
        async with contextlib.AsyncExitStack() as clients:
            report = SourceReport(source="mastodon:publish", platform=MASTODON)  # the request count; not shown
            home = Instances(settings, clients, with_tokens=False).instance(base, report)
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

    def __init__(self, home: Account, *, community: str, visibility: str = "unlisted",
                 language: str | None = None) -> None:
        self.base, self.community, self.visibility, self.language = home.base, community, visibility, language
        self._home = home

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
            raise PublishError(needs.mastodon_token_refused(self.base, exc.status, STATUS_SCOPES)) from None
        except MastodonError as exc:
            if _LENGTH_REFUSAL.search(str(exc)):
                raise TooLong(str(exc)) from None
            raise PublishError(str(exc)) from None
        return Remote(remote_id=status.id, uri=status.uri, cid=None, url=status.url or status.uri)



def check(settings: Settings) -> None:
    """:class:`needs.Missing` before anything is composed or sent, when there is no account to post as."""
    home_token(settings, PURPOSE, STATUS_SCOPES)


def publish(settings: Settings, composed: Summary) -> ThreadReport:
    """Post what is missing of the week's thread as the organiser's home account."""
    home = home_account(settings, PURPOSE, STATUS_SCOPES)
    with MastodonPoster(home, community=settings.community, visibility=composed.options.visibility,
                        language=composed.language) as poster:
        return publish_thread(settings.db_path, composed, poster)
