"""One connection to Bluesky (:class:`BlueskyConnection`) that does the manners for every call.

User-Agent, timeout, request counting, the ``ratelimit-*`` headers and 429,
retries of 5xx and timeouts, token refresh, and the saved session are written
once here, so the pollers (:mod:`collectors.bluesky.poll`), threads, the
signed-in repository and the pipeline's publishers share them. Without
credentials, reads go to the public AppView (``settings.appview``), which
serves list feeds, profiles and threads without a login.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from atproto import Client, SessionEvent, models
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.models.dot_dict import DotDict
from atproto_client.request import Request, Response

from collectors.bluesky.errors import (
    AUTH_ERRORS,
    BlueskyError,
    LoginRefused,
    MalformedAnswer,
    RateLimited,
    RequestFailed,
    TooSlow,
    error_name,
    request_failed,
)
from collectors.bluesky.parse import with_profile
from collectors.bluesky.session import load_session, save_session
from collectors.bluesky.settings import BlueskySettings
from collectors.bluesky.transport import AnswerTooSlow, BoundedTransport
from collectors.http_bounds import BadEncoding, TooLarge
from collectors.records import Post, SourceReport

log = logging.getLogger(__name__)

MAX_LOGINS = 2  # createSession calls per run: the first, and one after a revoked session
MAX_RATE_WAIT = 60.0  # seconds worth waiting for a rate-limit window; longer ends the cycle
PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles accepts 25 actors


class BlueskyConnection:
    """One cycle's link to Bluesky: an authenticated PDS client (if any) and an anonymous AppView one.

    Every request goes through :meth:`query` (reads) or :meth:`procedure`
    (writes), which share the one place for retries, rate limits, token refresh
    and counting, so each rule is written once.
    """

    def __init__(
        self,
        settings: BlueskySettings,
        report: SourceReport,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings, self.report = settings, report
        self._sleep, self._clock = sleep, clock
        self._blocked_until: float | None = None
        self._credentials: tuple[str, str | None] | None = None
        self._logins = 0
        self.pds: Client | None = None
        self._public: Client | None = None
        self._profiles: dict[str, dict] = {}
        self._resolved: dict[str, str] = {}

    # -- clients

    def _new_client(self, base_url: str) -> Client:
        request = Request(
            timeout=self.settings.timeout,
            transport=BoundedTransport(self.settings.timeout),
            event_hooks={"request": [self._on_request], "response": [self._on_response]},
        )
        client = Client(base_url, request=request)
        client.request.add_additional_header("User-Agent", self.settings.user_agent)
        return client

    @property
    def reader(self) -> Client:
        """The client for reads that do not need an account: the PDS when signed in, else the AppView."""
        if self.pds is not None:
            return self.pds
        if self._public is None:
            self._public = self._new_client(self.settings.appview)
        return self._public

    def close(self) -> None:
        for client in (self.pds, self._public):
            if client is not None:
                client.request.close()

    def _on_request(self, request: httpx.Request) -> None:
        self.report.requests += 1
        log.debug("bluesky: %s %s", request.method, request.url.path)

    def _on_response(self, response: httpx.Response) -> None:
        """Remember an exhausted budget, so the next request waits or the source stops."""
        remaining, reset = (
            response.headers.get("ratelimit-remaining"),
            response.headers.get("ratelimit-reset"),
        )
        if remaining is not None and reset is not None and remaining.strip() == "0":
            try:
                self._blocked_until = float(reset)
            except ValueError:
                pass

    # -- signing in

    def login(self, handle: str, password: str | None) -> None:
        """Reuse the saved session when it is for this service and handle; otherwise create one.

        Without a password (after ``peerdesk login bluesky``) the saved session is all there is.

        The session is saved on creation and on every refresh (``on_session_change``),
        so the next run starts from it: createSession is limited to 30 per 5 minutes.
        """
        self._credentials = (handle, password)
        client = self._new_client(self.settings.service)
        client.on_session_change(lambda event, session: self._saved(event, session.export()))
        self.pds = client
        saved = load_session(self.settings.session_path, self.settings.service, handle)
        if saved:
            try:
                client.login(session_string=saved, fetch_bsky_profile=False)
                log.info("bluesky: reusing the saved session for %s", handle)
                return
            except (ValueError, LoginRequiredError):
                log.info("bluesky: the saved session is unreadable; signing in again")
        self._create_session()

    def _saved(self, event: SessionEvent, session: str) -> None:
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH) and self._credentials:
            save_session(self.settings.session_path, self.settings.service, self._credentials[0], session)

    def _create_session(self) -> None:
        assert self.pds is not None and self._credentials is not None
        handle, password = self._credentials
        if not password:
            raise LoginRefused(f"the saved Bluesky session for {handle} no longer works: sign in again "
                               "with an app password")
        self._logins += 1
        if self._logins > MAX_LOGINS:  # createSession is limited to 30 per 5 minutes: never loop on it
            raise LoginRefused(f"Bluesky keeps rejecting new sessions for {handle}; stopped for this cycle")
        try:
            self._call(
                lambda: self.pds.login(handle, password, fetch_bsky_profile=False),
                "createSession",
                reauth=False,
            )
        except RequestFailed as e:
            if e.status in (400, 401, 403):
                raise LoginRefused(
                    f"Bluesky refused the login for {handle} ({e.error or e.status}): check "
                    "the handle and the app password"
                ) from None
            raise
        log.info("bluesky: signed in as %s (new session saved)", handle)

    def _reauthenticate(self, expired: bool) -> None:
        """Refresh an expired access token; if the refresh token is no good either, sign in again.

        atproto refreshes on its own when the token's ``exp`` is near; this covers a
        server that disagrees (400 ExpiredToken) and a revoked session.
        """
        pds = self.pds
        assert pds is not None
        if expired:
            try:
                # The SDK's own refresh (it fires on_session_change, which saves the session).
                self._call(pds._refresh_and_set_session, "refreshSession", reauth=False)
                log.info("bluesky: session refreshed")
                return
            except RequestFailed as e:
                if e.status not in (400, 401, 403) and e.error != "LoginRequiredError":
                    raise  # the server is unwell, not the session: signing in would not help
                log.info("bluesky: the session could not be refreshed; signing in again")
        self._create_session()

    # -- requests

    def query(self, nsid: str, params: Any, *, client: Client | None = None) -> dict:
        """One XRPC query's JSON body (retried, rate-limited, counted); raises a :class:`BlueskyError`."""
        client = client or self.reader
        response = self._call(
            lambda: client.invoke_query(nsid, params=params), nsid, reauth=client is self.pds
        )
        body = response.content
        if not isinstance(body, dict):
            raise MalformedAnswer(f"{nsid}: the answer is not a JSON object")
        return body

    def procedure(self, nsid: str, data: Mapping[str, Any]) -> dict:
        """Send one XRPC procedure (a write) as the signed-in account; its JSON answer, or ``{}`` when it has none.

        Writes go through the same request path as reads (retries, rate-limit
        waits, token refresh, counting), so the pipeline never needs the SDK
        client itself. A retried write is only safe when it is idempotent: write
        to a record key you chose (``putRecord``, ``createRecord`` with ``rkey``).
        Raises :class:`LoginRefused` when the connection is not signed in, and
        another :class:`BlueskyError` when the write fails.
        """
        pds = self.pds
        if pds is None:
            raise LoginRefused(f"{nsid} needs a signed-in Bluesky account")
        # The encoding is named explicitly: the SDK sets Content-Type only from a lexicon's input_encoding, and a
        # PDS refuses a body without one ("Request encoding (Content-Type) required but not provided").
        response = self._call(lambda: pds.invoke_procedure(nsid, data=DotDict(dict(data)),
                                                           input_encoding="application/json"), nsid, reauth=True)
        return response.content if isinstance(response.content, dict) else {}

    def _call(self, send: Callable[[], Any], what: str, *, reauth: bool) -> Any:
        attempt = limited = 0
        reauthed = False
        while True:
            self._wait_for_budget()
            try:
                return send()
            except RateLimitExceededError:
                limited += 1
                if self._blocked_until is None or limited > 2:
                    self._blocked_until = self._clock() + MAX_RATE_WAIT + 1  # no usable reset: stop
                continue
            except (BadRequestError, UnauthorizedError, LoginRequiredError) as e:
                error = error_name(e)
                if reauth and not reauthed and (isinstance(e, LoginRequiredError) or error in AUTH_ERRORS):
                    reauthed = True
                    self._reauthenticate(expired=error == "ExpiredToken")
                    continue
                raise request_failed(what, e) from None
            except (NetworkError, RequestException, httpx.HTTPError) as e:
                response = getattr(e, "response", None)
                status = response.status_code if isinstance(response, Response) else None
                if (status is None or status >= 500) and attempt < self.settings.max_retries:
                    attempt += 1
                    log.info("bluesky: %s failed (%s); retry %d", what, status or "no answer", attempt)
                    self._sleep(min(0.5 * 2**attempt, 8.0))
                    continue
                raise request_failed(what, e) from None
            except ValueError:  # pydantic-core could not decode a body that claimed to be JSON (or nested too deep)
                raise MalformedAnswer(f"{what}: the answer is not valid JSON") from None
            except (TooLarge, BadEncoding) as e:
                raise MalformedAnswer(f"{what}: {e}") from None
            except AnswerTooSlow as e:  # not retried: a trickling server would hold the cycle max_retries times over
                raise TooSlow(what, str(e)) from None

    def _wait_for_budget(self) -> None:
        """Before a request: wait out a short rate-limit window, or stop the source on a long one."""
        if self._blocked_until is None:
            return
        wait = self._blocked_until - self._clock()
        if wait > MAX_RATE_WAIT:
            until = datetime.fromtimestamp(self._blocked_until, UTC).strftime("%H:%M UTC")
            raise RateLimited(f"Bluesky rate limit reached; it resets at {until}, polling resumes next cycle")
        self._blocked_until = None
        if wait > 0:
            self.report.rate_limit_waits += 1
            log.info("bluesky: rate limit reached; waiting %.0f s", wait)
            self._sleep(wait)

    # -- lookups shared by the sources

    def with_bios(self, posts: list[Post]) -> list[Post]:
        """Fill each author's ``bio`` and labels from getProfiles (cached for the run).

        ProfileViewBasic has no description, and consent reads #nobot/#noindex there.
        A failure here fails the page, and a post whose author has no profile in
        the answer is left out: a post without its author's bio could be stored
        against its author's wish.
        """
        missing = list(dict.fromkeys(p.author.key for p in posts if p.author.key not in self._profiles))
        for start in range(0, len(missing), PROFILES_PER_CALL):
            chunk = missing[start : start + PROFILES_PER_CALL]
            body = self.query(
                "app.bsky.actor.getProfiles", models.AppBskyActorGetProfiles.Params(actors=chunk)
            )
            profiles = body.get("profiles")
            if not isinstance(profiles, list):
                raise MalformedAnswer("app.bsky.actor.getProfiles: no profiles array")
            for profile in profiles:
                if isinstance(profile, dict) and isinstance(profile.get("did"), str):
                    self._profiles[profile["did"]] = profile
            for did in chunk:
                self._profiles.setdefault(did, {})  # gone or hidden: ask once per run
        # An author getProfiles does not show (deactivated or taken down since, or a profile the AppView could not
        # read) has a bio nobody can check: the post is left out, as the stream leaves it out.
        unchecked = [p.uri for p in posts if not self._profiles.get(p.author.key)]
        if unchecked:
            log.info("bluesky: left out %d post(s) whose author's profile could not be read", len(unchecked))
        return [replace(p, author=with_profile(p.author, self._profiles[p.author.key]))
                for p in posts if self._profiles.get(p.author.key)]

    def resolve_list(self, ref: str) -> str:
        """An at:// list URI with a DID authority, from an at:// URI or a bsky.app link."""
        m = re.fullmatch(r"https://bsky\.app/profile/([^/]+)/lists/([^/?#]+)/?", ref) or re.fullmatch(
            r"at://([^/]+)/app\.bsky\.graph\.list/([^/?#]+)", ref
        )
        if not m:
            raise BlueskyError(f"{ref!r} is neither an at:// list URI nor a bsky.app list link")
        actor, rkey = m.groups()
        if not actor.startswith("did:"):
            if actor not in self._resolved:
                body = self.query(
                    "com.atproto.identity.resolveHandle",
                    models.ComAtprotoIdentityResolveHandle.Params(handle=actor),
                )
                if not str(body.get("did", "")).startswith("did:"):
                    raise MalformedAnswer("com.atproto.identity.resolveHandle: no DID")
                self._resolved[actor] = body["did"]
            actor = self._resolved[actor]
        return f"at://{actor}/app.bsky.graph.list/{rkey}"



@contextmanager
def open_bluesky(
    settings: BlueskySettings,
    handle: str | None,
    password: str | None,
    report: SourceReport,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Iterator[BlueskyConnection]:
    """A connection, signed in when both credentials, or a handle and its saved session, are given.

    Raises :class:`LoginRefused` when the account cannot sign in.
    """
    conn = BlueskyConnection(settings, report, sleep=sleep, clock=clock)
    try:
        if handle and (password or load_session(settings.session_path, settings.service, handle)):
            conn.login(handle, password)
        yield conn
    finally:
        conn.close()
