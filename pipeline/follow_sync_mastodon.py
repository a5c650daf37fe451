"""Keep a list on the organiser's own Mastodon account in step with the approved follow-list.

A Mastodon list only holds accounts its owner follows, and peerdesk never
follows anyone on the organiser's behalf: it looks each approved account up on
the home instance (``GET /api/v1/accounts/lookup``), checks the relationship
(``GET /api/v1/accounts/relationships``), adds the followed ones and reports the
others, one line each. Like the Bluesky sync it diffs against the server every
run (``GET /api/v1/lists/:id/accounts?limit=0``), so a second run writes nothing
and an interrupted one is finished by the next. The list's id is kept in
``app_state``; a list created by a run that died before saving it is found
again by its title.

Plain httpx rather than Mastodon.py: five endpoints, the same rate-limit rules as
the read side (``X-RateLimit-Reset`` honoured, 429 waited out when short), and no
new dependency. Reads are retried on 5xx and timeouts; writes are not, since the
next run's diff repairs whatever a failed write left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx

from collectors.mastodon_api import (
    LoginRequired,
    Malformed,
    MastodonError,
    NotFound,
    RateLimited,
    ServerError,
    Unreachable,
    reset_seconds,
)
from collectors.records import MASTODON
from collectors.version import USER_AGENT
from pipeline import follows, store
from pipeline.config import Settings, mastodon_token
from pipeline.follow_sync import Change, DbState, StateStore, SyncError, SyncReport, load_state

LIST_KEY = "follows:mastodon:list:"  # + the home instance's base URL
CHUNK = 40  # account ids per relationships / list-membership request
TOKEN_SCOPES = "read:accounts read:follows read:lists write:lists"


class MastodonAccount:
    """The organiser's own account on their home instance, through one httpx client with manners."""

    def __init__(self, base: str, token: str, *, timeout: float = 20.0, max_retries: int = 3,
                 max_rate_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base, self.max_retries, self.max_rate_wait, self._sleep = base, max_retries, max_rate_wait, sleep
        self.requests = self.rate_limit_waits = 0
        self._client = httpx.Client(
            base_url=base, timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Authorization": f"Bearer {token}"},
        )
        self._pause_until: float | None = None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> MastodonAccount:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, *, params: Any = None, data: Any = None) -> Any:
        """One API call's JSON; raises a :class:`collectors.mastodon_api.MastodonError` subclass."""
        attempt = limited = 0
        while True:
            self._wait()
            try:
                self.requests += 1
                response = self._client.request(method, path, params=params, data=data)
            except httpx.TransportError as e:
                if method == "GET" and attempt < self.max_retries:
                    attempt += 1
                    self._sleep(0.5 * 2**attempt)
                    continue
                raise Unreachable(f"{self.base}: {type(e).__name__} on {method} {path}") from None
            status = response.status_code
            if status == 429:  # refused, so not performed: safe to send again after the reset
                reset_in = reset_seconds(response.headers)
                if reset_in is not None and reset_in <= self.max_rate_wait and limited < 2:
                    limited += 1
                    self.rate_limit_waits += 1
                    self._sleep(reset_in)
                    continue
                raise RateLimited(f"{self.base}: rate limited (429); try again after the reset", reset_in)
            if status >= 500 and method == "GET" and attempt < self.max_retries:
                attempt += 1
                self._sleep(0.5 * 2**attempt)
                continue
            self._note_budget(response.headers)
            return _answer(response, self.base, method, path)

    def _note_budget(self, headers: httpx.Headers) -> None:
        if (headers.get("X-RateLimit-Remaining") or "").strip() == "0":
            reset_in = reset_seconds(headers)
            if reset_in is not None:
                self._pause_until = time.monotonic() + reset_in

    def _wait(self) -> None:
        """A spent budget waits for its reset (when short) instead of earning a 429."""
        if self._pause_until is None:
            return
        wait, self._pause_until = self._pause_until - time.monotonic(), None
        if wait > self.max_rate_wait:
            raise RateLimited(f"{self.base}: the rate-limit budget is spent; try again in {wait:.0f}s", wait)
        if wait > 0:
            self.rate_limit_waits += 1
            self._sleep(wait)


def _answer(response: httpx.Response, base: str, method: str, path: str) -> Any:
    status = response.status_code
    where = f"{base}: {method} {path} answered {status}"
    if status in (401, 403):
        raise LoginRequired(f"{where}: the token was refused (it needs the scopes {TOKEN_SCOPES})")
    if status in (404, 410):
        raise NotFound(where)
    if status >= 500:
        raise ServerError(where)
    try:
        body = response.json()
    except ValueError:
        raise Malformed(f"{where} with something that is not JSON") from None
    if status >= 400:
        raise MastodonError(f"{where}: {body.get('error', '') if isinstance(body, dict) else ''}".rstrip(": "))
    return body


def sync_mastodon(api: MastodonAccount, members: Sequence[dict[str, Any]], state: StateStore, *, title: str,
                  apply: bool) -> SyncReport:
    """Make the list titled ``title`` hold exactly the approved accounts the organiser follows."""
    report = SyncReport("mastodon", applied=apply)
    try:
        list_id = _find_list(api, state, title, report, apply=apply)
        ids = _lookup(api, [m["account"] for m in members], report)
        following = _following(api, list(ids.values()))
        for acct, account_id in ids.items():
            if not following.get(account_id):
                report.problems.append(f"cannot add {acct}: you do not follow it (a Mastodon list only holds "
                                       "accounts you follow; follow it, then run this again)")
        current: dict[str, str] = {}
        if list_id:
            listed = api.call("GET", f"/api/v1/lists/{list_id}/accounts", params={"limit": 0})
            current = {str(a["id"]): str(a.get("acct", a["id"])) for a in listed if isinstance(a, dict)}
        removes = [i for i in current if i not in set(ids.values())]
        adds = [(acct, i) for acct, i in ids.items() if following.get(i) and i not in current]
        if not (apply and list_id):
            report.changes += [Change("remove", "Mastodon list", current[i]) for i in removes]
            report.changes += [Change("add", "Mastodon list", acct) for acct, _ in adds]
            return report
        if removes:  # each change is reported once the server has accepted it
            api.call("DELETE", f"/api/v1/lists/{list_id}/accounts", params=[("account_ids[]", i) for i in removes])
            report.changes += [Change("remove", "Mastodon list", current[i]) for i in removes]
        for start in range(0, len(adds), CHUNK):
            chunk = adds[start : start + CHUNK]
            api.call("POST", f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": [i for _, i in chunk]})
            report.changes += [Change("add", "Mastodon list", acct) for acct, _ in chunk]
    except MastodonError as e:
        report.error = str(e)
    return report


def _find_list(api: MastodonAccount, state: StateStore, title: str, report: SyncReport, *, apply: bool
               ) -> str | None:
    """The list's id: the saved one, else one with the same title, else a new one (None in a dry run)."""
    key = LIST_KEY + api.base
    saved = state.get(key)
    if saved:
        try:
            api.call("GET", f"/api/v1/lists/{saved}")
            return saved
        except NotFound:
            pass  # deleted on the web: find or make another
    for found in api.call("GET", "/api/v1/lists"):
        if isinstance(found, dict) and found.get("title") == title:
            if apply:
                state.set(key, str(found["id"]))
            return str(found["id"])
    report.changes.append(Change("create", "Mastodon list", title))
    if not apply:
        return None
    created = api.call("POST", "/api/v1/lists", data={"title": title})
    state.set(key, str(created["id"]))
    return str(created["id"])


def _lookup(api: MastodonAccount, accts: Sequence[str], report: SyncReport) -> dict[str, str]:
    """Each address's local id on the home instance; the ones it has never seen are reported."""
    ids: dict[str, str] = {}
    for acct in accts:
        try:
            ids[acct] = str(api.call("GET", "/api/v1/accounts/lookup", params={"acct": acct})["id"])
        except NotFound:
            report.problems.append(f"cannot add {acct}: your instance does not know it yet (search for it there "
                                   "and follow it, then run this again)")
    return ids


def _following(api: MastodonAccount, ids: list[str]) -> dict[str, bool]:
    following: dict[str, bool] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for rel in api.call("GET", "/api/v1/accounts/relationships", params=[("id[]", i) for i in chunk]):
            if isinstance(rel, dict):
                following[str(rel.get("id"))] = bool(rel.get("following"))
    return following


def mastodon_follow_sync(settings: Settings, *, apply: bool, as_of: datetime | None = None,
                         sleep: Callable[[float], None] = time.sleep) -> tuple[SyncReport, follows.Listing]:
    """Read the approved Mastodon accounts, then sync the list on ``[mastodon] home`` with PEERDESK_MASTODON_TOKEN."""
    home = settings.mastodon.home
    if not home:
        raise SyncError("set [mastodon] home to your own instance: the list is kept on your account there")
    token = mastodon_token(settings, home)
    if not token:
        raise SyncError(f"set PEERDESK_MASTODON_TOKEN to an access token for your account on {home} "
                        f"(scopes: {TOKEN_SCOPES})")
    with store.reading(settings.db_path) as con:
        listing = follows.listing(con, as_of or store.now_utc())
        state = DbState(settings.db_path, load_state(con))
    with MastodonAccount(home, token, timeout=settings.timeout, max_retries=settings.max_retries,
                         sleep=sleep) as api:
        report = sync_mastodon(api, listing.on(MASTODON), state, title=settings.community, apply=apply)
    return report, listing
