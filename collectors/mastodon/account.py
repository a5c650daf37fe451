"""The organiser's own Mastodon account, through Mastodon.py: signing in, posting, keeping a list.

Everything peerdesk does *as* someone on Mastodon goes through this module and
this one only: the OAuth dance (registering an app, the authorisation URL,
exchanging the code, revoking), ``verify_credentials``, posting a status under
an ``Idempotency-Key`` and the list endpoints. Reading tag and list timelines
stays on the asynchronous httpx client (:mod:`collectors.mastodon.api`): it
reads many instances at once and needs ``any[]``, which Mastodon.py lacks.

Mastodon.py is built with ``ratelimit_method="throw"`` and
``version_check_mode="none"`` (no ``/api/v1/instance`` round trip): a 429 comes back here, where it is waited out
through the ``sleep`` seam when its reset is near (at most ``max_rate_wait``)
and otherwise becomes :class:`collectors.mastodon.api.RateLimited`. Reads, and
writes made safe by an idempotency key, are retried on 5xx and network errors;
other writes are not (the caller's next diff repairs them). Every failure is
one of :mod:`collectors.mastodon.api`'s errors, one line, without the token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)
from mastodon.errors import (
    MastodonError as LibraryError,
)

from collectors.mastodon.api import (
    LoginRequired,
    Malformed,
    MastodonError,
    NotFound,
    RateLimited,
    ServerError,
    Unreachable,
)
from collectors.version import USER_AGENT

# What peerdesk asks for at login, and no more: reading (tag and list timelines, lists, who you follow),
# writing lists (the community list) and writing statuses (the weekly summary).
SCOPES = ("read", "write:lists", "write:statuses")
OOB = "urn:ietf:wg:oauth:2.0:oob"  # no redirect: the instance shows the code for the organiser to paste
APP_NAME = "peerdesk"
APP_WEBSITE = "https://github.com/peerdesk/peerdesk"
MAX_IDS = 40  # account ids per relationships / list-membership request
LIST_SCOPES = "read write:lists"  # what a token for keeping the list needs
STATUS_SCOPES = "write:statuses"  # what a token for posting needs

T = TypeVar("T")


@dataclass(frozen=True)
class App:
    """An application registered on one instance (its client id and secret are secrets too)."""

    base: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class PostedStatus:
    """What the instance answered for a status it made (or had made for the same key)."""

    id: str  # the instance's local id: what a reply's ``in_reply_to_id`` names
    uri: str | None  # the ActivityPub id
    url: str | None  # the web page


def _session(counter: list[int]) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no .netrc, no proxy variables: a token goes to its instance and nowhere else

    def count(response: requests.Response, *args: object, **kwargs: object) -> None:
        counter[0] += 1

    session.hooks["response"].append(count)
    return session


class Account:
    """One signed-in (or signing-in) account on one instance, with the project's retry and rate-limit rules."""

    def __init__(self, base: str, token: str | None = None, *, app: App | None = None, timeout: float = 20.0,
                 max_retries: int = 3, max_rate_wait: float = 60.0, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base, self.max_retries, self.max_rate_wait, self.backoff, self.sleep = (
            base, max_retries, max_rate_wait, backoff, sleep)
        self._count = [0]
        self.api = Mastodon(client_id=app.client_id if app else None,
                            client_secret=app.client_secret if app else None,
                            access_token=token, api_base_url=base, ratelimit_method="throw",
                            request_timeout=timeout, session=_session(self._count),
                            # No version checks, and a version given so that none is ever fetched: after a
                            # login Mastodon.py otherwise asks /api/v1/instance, and recurses without end
                            # when that fails (Mastodon.py 2.x's retrieve_mastodon_version).
                            version_check_mode="none", mastodon_version="4.0.0",
                            user_agent=USER_AGENT)

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._count[0]

    def call(self, what: str, fn: Callable[..., T], *args: Any, retry: bool, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` with bounded retries and waits; failures become our errors, one line each.

        ``retry`` says whether sending the request again is safe (a read, or a write under an idempotency
        key). A 429 is always safe to resend: the server refused it.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(*args, **kwargs)
            except MastodonRatelimitError:
                reset = getattr(self.api, "ratelimit_reset", None)
                wait = max(0.0, float(reset) - time.time()) if reset else None
                if wait is None or wait > self.max_rate_wait or attempt > self.max_retries:
                    shown = "unknown" if wait is None else f"{wait:.0f}s"
                    raise RateLimited(f"{self.host}: rate limited (429) on {what}, reset in {shown}", wait) from None
                self.sleep(wait)
            except (MastodonServerError, MastodonNetworkError) as exc:
                if not retry or attempt > self.max_retries:
                    raise _ours(self.host, what, exc, attempt) from None
                self.sleep(self.backoff * 2 ** (attempt - 1))
            except LibraryError as exc:
                raise _ours(self.host, what, exc, attempt) from None

    # ------------------------------------------------------------------ who
    def verify(self) -> dict:
        """The account the token acts for (``GET /api/v1/accounts/verify_credentials``)."""
        found = self.call("GET /api/v1/accounts/verify_credentials", self.api.account_verify_credentials, retry=True)
        if not isinstance(found, dict) or not found.get("acct"):
            raise Malformed(f"{self.host}: verify_credentials answered no account")
        return dict(found)

    def revoke(self) -> None:
        """Revoke the token (``POST /oauth/revoke``): it stops working at once, on the server's side."""
        self.call("POST /oauth/revoke", self.api.revoke_access_token, retry=True, allow_http=_http(self.base))

    # ------------------------------------------------------------------ posting
    def post_status(self, text: str, *, idempotency_key: str, visibility: str = "public",
                    language: str | None = None, in_reply_to_id: str | None = None) -> PostedStatus:
        """Post ``text`` (as a reply to ``in_reply_to_id`` when given); the same key never makes two statuses."""
        answer = self.call("POST /api/v1/statuses", self.api.status_post, text, in_reply_to_id=in_reply_to_id,
                           visibility=visibility, language=language or None, idempotency_key=idempotency_key,
                           retry=True)
        if not isinstance(answer, dict) or answer.get("id") is None:
            raise Malformed(f"{self.host}: the answer to POST /api/v1/statuses is not a status")
        return PostedStatus(str(answer["id"]), _text(answer.get("uri")), _text(answer.get("url")))

    # ------------------------------------------------------------------ lists
    def lists(self) -> list[dict]:
        """Every list the account owns (List entities: ``id``, ``title``...)."""
        return [dict(x) for x in _array(self.call("GET /api/v1/lists", self.api.lists, retry=True), "lists")
                if isinstance(x, dict)]

    def list_exists(self, list_id: str) -> bool:
        """Whether the list is still there (the organiser may have deleted it on the web)."""
        try:
            self.call(f"GET /api/v1/lists/{list_id}", self.api.list, list_id, retry=True)
        except NotFound:
            return False
        return True

    def create_list(self, title: str) -> str:
        """A new list's id (not retried: a lost answer is found again by its title next run)."""
        made = self.call("POST /api/v1/lists", self.api.list_create, title, retry=False)
        if not isinstance(made, dict) or made.get("id") is None:
            raise Malformed(f"{self.host}: POST /api/v1/lists: the answer has no id")
        return str(made["id"])

    def list_members(self, list_id: str) -> dict[str, str]:
        """The list's members as local account id -> address (``limit=0`` returns all of them at once)."""
        what = f"GET /api/v1/lists/{list_id}/accounts"
        listed = _array(self.call(what, self.api.list_accounts, list_id, limit=0, retry=True), what)
        return {str(a["id"]): str(a.get("acct") or a["id"]) for a in listed if isinstance(a, dict) and "id" in a}

    def add_members(self, list_id: str, account_ids: Sequence[str]) -> None:
        """Add up to :data:`MAX_IDS` followed accounts; the server refuses accounts the owner does not follow."""
        if len(account_ids) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} accounts per request, not {len(account_ids)}")
        self.call(f"POST /api/v1/lists/{list_id}/accounts", self.api.list_accounts_add, list_id, list(account_ids),
                  retry=False)

    def remove_members(self, list_id: str, account_ids: Sequence[str]) -> None:
        """Take accounts off the list (they stay followed)."""
        self.call(f"DELETE /api/v1/lists/{list_id}/accounts", self.api.list_accounts_delete, list_id,
                  list(account_ids), retry=False)

    def lookup(self, acct: str) -> str | None:
        """An address's local account id on this instance, or None when the instance has never seen it."""
        try:
            found = self.call("GET /api/v1/accounts/lookup", self.api.account_lookup, acct, retry=True)
        except NotFound:
            return None
        if not isinstance(found, dict) or found.get("id") is None:
            raise Malformed(f"{self.host}: GET /api/v1/accounts/lookup: the answer has no id")
        return str(found["id"])

    def following(self, account_ids: Sequence[str]) -> dict[str, bool]:
        """Whether the owner follows each local account id, asked :data:`MAX_IDS` at a time."""
        found: dict[str, bool] = {}
        for start in range(0, len(account_ids), MAX_IDS):
            chunk = list(account_ids[start : start + MAX_IDS])
            what = "GET /api/v1/accounts/relationships"
            for rel in _array(self.call(what, self.api.account_relationships, chunk, retry=True), what):
                if isinstance(rel, dict):
                    found[str(rel.get("id"))] = bool(rel.get("following"))
        return found


# ---------------------------------------------------------------------- signing in


def register_app(base: str, *, timeout: float = 20.0) -> App:
    """Register peerdesk on ``base`` (``POST /api/v1/apps``) with :data:`SCOPES` and the out-of-band redirect."""
    counter = [0]
    try:
        client_id, client_secret = Mastodon.create_app(
            APP_NAME, scopes=list(SCOPES), redirect_uris=OOB, website=APP_WEBSITE, api_base_url=base,
            request_timeout=timeout, session=_session(counter), user_agent=USER_AGENT)
    except (KeyError, TypeError):
        raise Malformed(f"{urlsplit(base).netloc}: POST /api/v1/apps answered no client id") from None
    except LibraryError as exc:
        raise _ours(urlsplit(base).netloc, "POST /api/v1/apps", exc, 1) from None
    return App(base, str(client_id), str(client_secret))


def authorisation_url(app: App) -> str:
    """The page where the organiser approves peerdesk and is shown a code."""
    account = Account(app.base, app=app)
    return account.call("authorisation URL", account.api.auth_request_url, redirect_uris=OOB, scopes=list(SCOPES),
                        allow_http=_http(app.base), retry=True)


def exchange_code(app: App, code: str, *, timeout: float = 20.0) -> tuple[str, tuple[str, ...]]:
    """The access token for an authorisation code (``POST /oauth/token``), and the scopes it was granted."""
    account = Account(app.base, app=app, timeout=timeout)
    try:
        token = account.api.log_in(code=code.strip(), redirect_uri=OOB, scopes=list(SCOPES),
                                   allow_http=_http(app.base))
    except MastodonIllegalArgumentError:
        raise LoginRequired(f"{account.host}: the instance did not accept that code (it is single-use and "
                            "expires after 10 minutes: run 'peerdesk login mastodon' again)") from None
    except LibraryError as exc:
        raise _ours(account.host, "POST /oauth/token", exc, 1) from None
    return token, SCOPES


def _ours(host: str, what: str, exc: LibraryError, attempts: int) -> MastodonError:
    """Mastodon.py's exception as ours: one line, naming the call and the server's reason, never a token."""
    if isinstance(exc, MastodonNetworkError):
        return Unreachable(f"{host}: {what} failed: {type(exc).__name__} ({attempts} attempts)")
    if not isinstance(exc, MastodonAPIError) or len(exc.args) < 2:
        return MastodonError(f"{host}: {what} failed: {type(exc).__name__}")
    status, reason = exc.args[1], (exc.args[3] if len(exc.args) > 3 and exc.args[3] else exc.args[2])
    if isinstance(exc, MastodonServerError):
        return ServerError(f"{host}: server error {status} on {what} ({attempts} attempts)")
    if isinstance(exc, MastodonNotFoundError) or status in (404, 410):
        return NotFound(f"{host}: {what} answered {status}")
    if isinstance(exc, MastodonUnauthorizedError) or status == 403:
        return LoginRequired(f"{host}: {what} answered {status}: {str(reason)[:200]}", status)
    return MastodonError(f"{host}: {what} answered {status}: {str(reason)[:200]}")


def _array(body: object, what: str) -> list:
    if not isinstance(body, list):
        raise Malformed(f"{what}: the answer is not an array")
    return body


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _http(base: str) -> bool:
    """Plain http is allowed for OAuth only where the configuration says so (a local test server)."""
    return base.startswith("http://")
