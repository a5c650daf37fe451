"""An account's profile as its home server gives it: what confirms (or withdraws) an opt-out seen on a copy.

``GET /api/v1/accounts/lookup?acct=user`` is public on Mastodon. Kept apart
from :mod:`collectors.mastodon.trust`, which decides who speaks for a domain:
this only asks the home server, and parses its answer with
:func:`collectors.mastodon.parse.parse_account` like every other account.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from collectors.mastodon.api import Instance, MastodonError, NotFound
from collectors.mastodon.parse import parse_account
from collectors.records import Account

LOOKUP_PATH = "/api/v1/accounts/lookup"


async def home_profile(home: Instance, key: str) -> Account | None:
    """The profile of ``user@domain`` as its home server ``home`` gives it; None when it knows no such user.

    ``GET /api/v1/accounts/lookup?acct=user`` is public on Mastodon. ``home``
    is the server the key's domain is reached at, so it speaks for that
    domain, and the account is returned under ``key``. Raises
    :class:`MastodonError` (:class:`Unreachable` included) when it could not say.
    """
    user = key.rpartition("@")[0]
    try:
        body, _ = await home.get(LOOKUP_PATH, [("acct", user)])
    except NotFound:
        return None
    if not isinstance(body, dict) or "@" in str(body.get("acct", "")):
        raise MastodonError(f"{home.host}: {LOOKUP_PATH}?acct={quote(user)} did not answer one of its own accounts")
    try:
        account = parse_account(body, home.host)
    except (ValueError, TypeError) as exc:
        raise MastodonError(f"{home.host}: {LOOKUP_PATH}?acct={quote(user)} is not an account ({exc})") from None
    return replace(account, key=key, handle=key)
