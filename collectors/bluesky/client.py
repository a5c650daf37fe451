"""Bluesky poller: tag searches and curated list feeds, through the atproto ``Client``.

The collector reports and the pipeline decides: it turns XRPC answers into
:mod:`collectors.records` and hands them out one committable :class:`Page` at a
time, with the account facts consent needs (self-labels, bot label,
description). It never filters an author out, and it never emits a post it
could not parse.

How each source resumes (the cursor value is always the ISO time of the newest
post seen, where a post's time is its *sortAt*: the earlier of ``createdAt`` and
``indexedAt``, which is what search's ``since``/``until`` filter on, and which a
clock-skewed ``createdAt`` in the future cannot push ahead of reality):

* Each pass re-reads the hour below the cursor (:data:`LATE_OVERLAP`): a post
  that becomes visible late (an author's clock behind, an indexing backlog)
  carries a sortAt below posts already seen, and would otherwise be skipped.
  The writes are idempotent, so the overlap costs a short page, not duplicates.
* ``bluesky:search:<tag>``: ``searchPosts q="#tag" sort=latest since=<cursor - overlap>``,
  newest first, so only the last page of a complete pass carries the cursor.
  A query returns 10,000 hits at most; a pass that hits that cap continues with
  a new query whose ``until`` is the oldest time seen (window narrowing). The
  AppView drops hidden posts (blocks, takedowns) from a page but keeps its
  cursor, so a short or empty page with a cursor is followed, and the cap is
  counted in results asked for, not results shown.
* ``bluesky:list:<at-uri>``: ``getListFeed`` pages until posts older than the
  cursor (less the overlap) appear. Without credentials list feeds, profiles and threads are
  read from the public AppView (``settings.appview``), which serves them without
  a login; a PDS only serves them to a logged-in account.

One connection (:class:`BlueskyConnection`) does the manners for every call:
User-Agent, timeout, request counting, the ``ratelimit-*`` headers and 429,
retries of 5xx and timeouts, token refresh, and the saved session.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
from atproto_client.models.common import XrpcError
from atproto_client.models.dot_dict import DotDict
from atproto_client.request import Request, Response

from collectors.bluesky.transport import AnswerTooSlow, BoundedTransport
from collectors.clean_text import clean_account, clean_post
from collectors.http_bounds import BadEncoding, TooLarge
from collectors.records import (
    BLUESKY,
    VIA_LIST,
    VIA_TAG,
    VIA_THREAD,
    Account,
    Page,
    Post,
    Sighting,
    SourceReport,
)

log = logging.getLogger(__name__)

PUBLIC_APPVIEW = "https://public.api.bsky.app"
SEARCH_RESULT_CAP = 10_000  # hits one searchPosts query can page through
LATE_OVERLAP = timedelta(hours=1)  # how far below its cursor each pass re-reads
MAX_LOGINS = 2  # createSession calls per run: the first, and one after a revoked session
MAX_RATE_WAIT = 60.0  # seconds worth waiting for a rate-limit window; longer ends the cycle
PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles accepts 25 actors
# Pages one cursor key (a tag search, a list feed) may read per cycle: 20,000 posts at 100 a page. A pass
# stopped there saves no position (newest first cannot resume half-way) and is read again next cycle.
MAX_PAGES = 200
NO_CREDENTIALS_NOTE = "Bluesky tag search skipped: it needs an account"  # the pipeline says how to give it one
_AUTH_ERRORS = {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired", "AuthRequired"}


@dataclass(frozen=True)
class BlueskySettings:
    """What the collector needs, built by the pipeline from its configuration (no secrets here).

    ``appview``, ``page_size`` and ``thread_depth`` have production defaults and
    exist so tests can point anonymous reads at a fake and page through a small
    sample.
    """

    service: str  # the PDS that signs in and searches
    tags: tuple[str, ...]  # lower-case, no '#'
    lists: tuple[str, ...]  # at:// list URIs or https://bsky.app/profile/<actor>/lists/<rkey> links
    since: datetime  # first-run backfill bound, UTC aware
    session_path: Path  # exported session (0600), never the database
    user_agent: str
    timeout: float = 20.0
    max_retries: int = 3
    appview: str = PUBLIC_APPVIEW  # anonymous reads (lists, profiles, threads) without credentials
    page_size: int = 100  # searchPosts/getListFeed limit (max 100)
    thread_depth: int = 100  # getPostThread depth (max 1000)
    max_pages: int = MAX_PAGES  # per cursor key per cycle


# ---------------------------------------------------------------- errors


class BlueskyError(Exception):
    """Root of what this collector raises. The text is one line, safe to show: never a secret."""


class LoginRefused(BlueskyError):
    """The account could not sign in: nothing that needs it can be polled this cycle."""


class RateLimited(BlueskyError):
    """The rate-limit window is too long to wait for: this source stops for the cycle."""


class RequestFailed(BlueskyError):
    """A request failed for good (after retries), with the XRPC error name when there was one."""

    def __init__(self, what: str, status: int | None, error: str | None, detail: str = "") -> None:
        self.status, self.error = status, error
        super().__init__(f"{what}: {status or 'no answer'} {error or ''} {detail}".strip())


class TooSlow(RequestFailed):
    """No whole answer within the request's deadline (a trickling server): not retried."""

    def __init__(self, what: str, detail: str) -> None:
        BlueskyError.__init__(self, f"{what}: {detail}")
        self.status, self.error = None, "Deadline"


class MalformedAnswer(BlueskyError):
    """The server answered something that is not the expected JSON shape (or larger than its cap)."""


class PassStopped(BlueskyError):
    """A paging pass made no progress (a cursor came back) or reached :data:`MAX_PAGES`; its position stays."""


class PostGone(BlueskyError):
    """getPostThread says the post no longer exists (deleted, or its account is gone)."""


# ---------------------------------------------------------------- times


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an atproto datetime string, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the lexicon requires an offset; a naive time is ambiguous
        return None
    return parsed.astimezone(UTC)


def format_time(when: datetime) -> str:
    """Milliseconds and a Z: the form atproto writes and the search ``since``/``until`` accept."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sort_time(view: Mapping[str, Any]) -> datetime | None:
    """The post's sortAt: the earlier of createdAt and indexedAt, the time search filters on."""
    record = view.get("record")
    created = parse_time(record.get("createdAt")) if isinstance(record, dict) else None
    indexed = parse_time(view.get("indexedAt"))
    times = [t for t in (created, indexed) if t is not None]
    return min(times) if times else None


# ---------------------------------------------------------------- parsing


def parse_post_view(view: dict, via: str) -> Post:
    """A :class:`Post` from an ``app.bsky.feed.defs#postView`` dict.

    Raises ValueError with a one-line reason when the view lacks what a post needs
    (an at:// post URI, an author DID and handle, a record with text, a time).
    """
    if not isinstance(view, dict):
        raise ValueError(f"post view is {type(view).__name__}, not an object")
    uri = view.get("uri")
    if not isinstance(uri, str) or not re.fullmatch(r"at://[^/]+/app\.bsky\.feed\.post/[^/]+", uri):
        raise ValueError(f"post view without an at:// post uri ({str(uri)[:80]!r})")
    record = view.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError(f"{uri}: record without text")
    author = parse_author(view.get("author"), uri)
    created = parse_time(record.get("createdAt")) or parse_time(view.get("indexedAt"))
    if created is None:
        raise ValueError(f"{uri}: neither createdAt nor indexedAt is a time")
    cid = view.get("cid")
    return post_from_record(uri, author, record, created, via=via, cid=cid if isinstance(cid, str) else None)


def post_from_record(uri: str, author: Account, record: Mapping[str, Any], created: datetime, *, via: str,
                     cid: str | None, edited_at: datetime | None = None,
                     tags: tuple[str, ...] | None = None) -> Post:
    """A :class:`Post` from an ``app.bsky.feed.post`` record: one mapping for search, threads and Jetstream."""
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    langs = record.get("langs")
    web_actor = author.handle if author.handle != "handle.invalid" else author.key
    return clean_post(Post(
        uri=uri,
        platform=BLUESKY,
        author=author,
        created_at=created,
        text=record["text"],
        url=f"https://bsky.app/profile/{web_actor}/post/{uri.rsplit('/', 1)[1]}",
        edited_at=edited_at,
        lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        tags=record_tags(record) if tags is None else tags,
        reply_to=_ref_uri(reply.get("parent")),
        reply_root=_ref_uri(reply.get("root")),
        quote_of=quoted_uri(record.get("embed")),
        via=via,
        sighting=Sighting(source=BLUESKY, local_id=cid) if cid else None,
    ))


def parse_author(author: object, where: str) -> Account:
    """An :class:`Account` from a profileViewBasic; ``bio`` stays empty (it only comes with getProfiles)."""
    if not isinstance(author, dict) or not str(author.get("did", "")).startswith("did:"):
        raise ValueError(f"{where}: author without a DID")
    handle = author.get("handle")
    if not isinstance(handle, str) or not handle:
        raise ValueError(f"{where}: author without a handle")
    labels = label_values(author.get("labels"))
    web_actor = handle if handle != "handle.invalid" else author["did"]
    return clean_account(Account(
        key=author["did"],
        platform=BLUESKY,
        handle=handle,
        display_name=author.get("displayName") or "",
        url=f"https://bsky.app/profile/{web_actor}",
        bot="bot" in labels,
        labels=labels,
        avatar=author.get("avatar") if isinstance(author.get("avatar"), str) else None,
    ))


def label_values(labels: object) -> tuple[str, ...]:
    """Label values in order, without negations (a ``neg`` label withdraws an earlier one)."""
    if not isinstance(labels, list):
        return ()
    values = [
        x["val"] for x in labels if isinstance(x, dict) and isinstance(x.get("val"), str) and not x.get("neg")
    ]
    return tuple(dict.fromkeys(values))


def record_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    """Hashtags from ``#tag`` facets and the record's ``tags`` array: lower-case, no '#', first seen first."""
    found: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else ():
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#tag":
                found.append(str(feature.get("tag", "")))
    extra = record.get("tags")
    found.extend(t for t in (extra if isinstance(extra, list) else ()) if isinstance(t, str))
    cleaned = (t.strip().lstrip("#＃").lower() for t in found)
    return tuple(dict.fromkeys(t for t in cleaned if t))


def quoted_uri(embed: object) -> str | None:
    """The post a record quotes (``embed.record``, ``embed.recordWithMedia``); a list or feed is no quote."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    ref = embed.get("record")
    if kind == "app.bsky.embed.recordWithMedia" and isinstance(ref, dict):
        ref = ref.get("record")
    elif kind != "app.bsky.embed.record":
        return None
    uri = _ref_uri(ref)
    return uri if uri and "/app.bsky.feed.post/" in uri else None


def _ref_uri(ref: object) -> str | None:
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None


# ---------------------------------------------------------------- the session file


def load_session(path: Path, service: str, handle: str) -> str | None:
    """The saved session string, if it belongs to this service and login; anything else means log in."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("service") != service or saved.get("login") != handle.lower():
        return None
    session = saved.get("session")
    return session if isinstance(session, str) and session.count(":::") == 4 else None


def save_session(path: Path, service: str, handle: str, session: str) -> None:
    """Write the session where only its owner can read it: created 0600, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"service": service, "login": handle.lower(), "session": session}, out)
    os.chmod(tmp, 0o600)  # in case an older file of that name existed with a wider mode
    os.replace(tmp, path)


# ---------------------------------------------------------------- the connection


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
                error = _error_name(e)
                if reauth and not reauthed and (isinstance(e, LoginRequiredError) or error in _AUTH_ERRORS):
                    reauthed = True
                    self._reauthenticate(expired=error == "ExpiredToken")
                    continue
                raise _failed(what, e) from None
            except (NetworkError, RequestException, httpx.HTTPError) as e:
                response = getattr(e, "response", None)
                status = response.status_code if isinstance(response, Response) else None
                if (status is None or status >= 500) and attempt < self.settings.max_retries:
                    attempt += 1
                    log.info("bluesky: %s failed (%s); retry %d", what, status or "no answer", attempt)
                    self._sleep(min(0.5 * 2**attempt, 8.0))
                    continue
                raise _failed(what, e) from None
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
        A failure here fails the page: a post without its author's bio could be
        stored against its author's wish.
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
        return [replace(p, author=self._account_with_profile(p.author)) for p in posts]

    def _account_with_profile(self, account: Account) -> Account:
        profile = self._profiles.get(account.key) or {}
        bio = profile.get("description")
        labels = tuple(dict.fromkeys(account.labels + label_values(profile.get("labels"))))
        return clean_account(replace(
            account,
            bio=bio if isinstance(bio, str) else "",
            labels=labels,
            bot=account.bot or "bot" in labels,
        ))

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


def _error_name(e: Exception) -> str | None:
    response = getattr(e, "response", None)
    content = response.content if isinstance(response, Response) else None
    return content.error if isinstance(content, XrpcError) else None


def _failed(what: str, e: Exception) -> RequestFailed:
    """Our own one-line description: the exception's text could carry more than we want to show."""
    response = getattr(e, "response", None)
    response = response if isinstance(response, Response) else None
    content = response.content if response is not None else None
    detail = (content.message or "")[:160] if isinstance(content, XrpcError) else ""
    return RequestFailed(
        what,
        response.status_code if response is not None else None,
        _error_name(e) or type(e).__name__,
        detail,
    )


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


# ---------------------------------------------------------------- polling


def poll_bluesky(
    settings: BlueskySettings,
    handle: str | None,
    password: str | None,
    cursors: Mapping[str, str],
    report: SourceReport,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Iterator[Page]:
    """Every watched tag (search) and list (feed) since its cursor, as committable pages.

    A failure costs what it touches: a malformed post that post, a failed or
    malformed page the rest of its cursor key (its cursor stays where it was), a
    refused login or a long rate-limit window the rest of the cycle. Nothing raises.
    """
    yielded = 0
    try:
        with open_bluesky(settings, handle, password, report, sleep=sleep, clock=clock) as conn:
            if conn.pds is None and settings.tags:
                _add_note(report, NO_CREDENTIALS_NOTE)
            for key, job in _jobs(conn, settings, cursors):
                try:
                    for page in job():
                        yielded += 1
                        yield page
                except (LoginRefused, RateLimited):
                    raise
                except PassStopped as e:  # said in the summary line: the source worked, only partly
                    report.errors.append(f"{key}: {e}")
                    _add_note(report, f"{key}: {e}")
                    log.warning("bluesky: %s stopped: %s", key, e)
                except BlueskyError as e:
                    report.errors.append(f"{key}: {e}")
                    log.warning("bluesky: %s stopped: %s", key, e)
    except LoginRefused as e:
        report.failed = True
        _add_note(report, str(e))
        log.warning("bluesky: %s", e)
    except RateLimited as e:
        report.failed = report.failed or yielded == 0
        _add_note(report, str(e))
        log.warning("bluesky: %s", e)
    except BlueskyError as e:  # signing in failed for another reason (server down, garbage answer)
        report.failed = True
        _add_note(report, f"Bluesky could not be polled: {e}")
        log.warning("bluesky: could not be polled: %s", e)


def _jobs(
    conn: BlueskyConnection, settings: BlueskySettings, cursors: Mapping[str, str]
) -> list[tuple[str, Callable[[], Iterator[Page]]]]:
    """One job per cursor key: searches only with an account, lists either way."""
    jobs: list[tuple[str, Callable[[], Iterator[Page]]]] = []
    if conn.pds is not None:
        for tag in settings.tags:
            key = f"bluesky:search:{tag}"
            jobs.append((key, lambda t=tag, k=key: search_tag(conn, t, cursors.get(k))))
    for ref in settings.lists:
        jobs.append((f"bluesky:list:{ref}", lambda r=ref: _list_job(conn, r, cursors)))
    return jobs


def _add_note(report: SourceReport, note: str) -> None:
    report.note = f"{report.note}; {note}" if report.note else note


def _start(
    cursor: str | None, settings: BlueskySettings, report: SourceReport, key: str
) -> tuple[datetime, datetime | None]:
    """The pass's inclusive lower bound, and the saved position it resumes from (None on a first run).

    The bound is the position less :data:`LATE_OVERLAP`; the cursor a pass saves
    never moves below the position.
    """
    if cursor:
        parsed = parse_time(cursor)
        if parsed is not None:
            return parsed - LATE_OVERLAP, parsed
        report.errors.append(f"{key}: unreadable cursor {cursor[:40]!r}; backfilling from the start")
    return settings.since.astimezone(UTC), None


def _parse_items(conn: BlueskyConnection, key: str, views: list, via: str) -> list[tuple[Post, datetime]]:
    """Parsed posts with their sortAt; a malformed one costs itself and a line in ``report.errors``."""
    parsed: list[tuple[Post, datetime]] = []
    for view in views:
        try:
            post = parse_post_view(view, via)
        except ValueError as e:
            conn.report.errors.append(f"{key}: skipped a post: {e}")
            continue
        parsed.append((post, sort_time(view) or post.created_at))
    return parsed


@dataclass
class _Window:
    """One searchPosts query being paged: the pass narrows to a new window at the result cap."""

    until: datetime | None = None
    cursor: str | None = None
    asked: int = 0  # results this query has been asked for: the cap counts those, shown or hidden
    new: int = 0  # posts it contributed that the pass had not seen
    oldest: datetime | None = None
    given: set[str] = field(default_factory=set)  # its paging cursors: one coming back means no progress


def search_tag(conn: BlueskyConnection, tag: str, cursor: str | None) -> Iterator[Page]:
    """One complete search pass for ``#tag``, newest first, narrowing the time window at the result cap.

    Pages carry ``cursor=None`` until the pass is complete; the last one carries the
    newest time seen. A query stops at 10,000 hits: when it ends still above the
    bound (10,000 results asked for, a full last page without a next cursor, or a
    400 answer to a deep cursor), the pass goes on with ``until`` = the oldest
    time seen plus 1 ms (``until`` is exclusive; the overlap is deduplicated).
    """
    key = f"bluesky:search:{tag}"
    bound, newest = _start(cursor, conn.settings, conn.report, key)
    seen: set[str] = set()
    window = _Window()
    for _ in _page_budget(conn.settings, "app.bsky.feed.searchPosts"):
        body = _search_page(conn, tag, bound, window)
        views = body.get("posts") if body is not None else []
        if not isinstance(views, list):
            raise MalformedAnswer("app.bsky.feed.searchPosts: no posts array")
        items = _parse_items(conn, key, views, VIA_TAG)
        fresh = [(p, t) for p, t in items if p.uri not in seen and t >= bound]
        seen.update(p.uri for p, _ in items)
        reached_bound = any(t < bound for _, t in items)
        window.asked, window.new = window.asked + conn.settings.page_size, window.new + len(fresh)
        window.oldest = min([t for _, t in items] + ([window.oldest] if window.oldest else []), default=None)
        newest = max([t for _, t in fresh] + ([newest] if newest else []), default=None)
        step = "done" if reached_bound else _next_step(body, len(views), window, conn.settings.page_size)
        if step == "narrow" and window.new == 0:
            conn.report.errors.append(f"{key}: a capped search window gave nothing new; stopped narrowing")
            step = "done"
        repeated = step == "more" and _cursor(body) in window.given
        posts = conn.with_bios([p for p, _ in fresh])
        if posts or (step == "done" and newest is not None):
            yield Page(
                posts=posts,
                cursor_key=key,
                cursor=format_time(newest) if step == "done" and newest is not None else None,
            )
        if step == "done":
            return
        if repeated:
            raise _repeated("app.bsky.feed.searchPosts")
        if step == "narrow":
            log.info("bluesky: %s reached the result cap; narrowing to before %s", key, window.oldest)
            window = _Window(until=window.oldest + timedelta(milliseconds=1))
        else:
            window.cursor = _cursor(body)
            window.given.add(window.cursor)  # type: ignore[arg-type]


def _page_budget(settings: BlueskySettings, nsid: str) -> Iterator[int]:
    """Page numbers up to ``settings.max_pages``; asking for one more stops the pass (its position stays)."""
    yield from range(settings.max_pages)
    raise PassStopped(f"{nsid}: stopped after {settings.max_pages} pages (the per-cycle limit); "
                      "the pass is read again next cycle")


def _repeated(nsid: str) -> PassStopped:
    return PassStopped(f"{nsid} gave a paging cursor it had given before; stopped the pass, its position stays")


def _search_page(conn: BlueskyConnection, tag: str, bound: datetime, window: _Window) -> dict | None:
    """One searchPosts page; None when the server refuses a deep cursor (400), which is the cap."""
    params = models.AppBskyFeedSearchPosts.Params(
        q=f"#{tag}",
        sort="latest",
        limit=conn.settings.page_size,
        since=format_time(bound),
        until=format_time(window.until) if window.until else None,
        cursor=window.cursor,
    )
    try:
        return conn.query("app.bsky.feed.searchPosts", params, client=conn.pds)
    except RequestFailed as e:
        if window.cursor is None or window.asked == 0 or e.status != 400 or e.error in _AUTH_ERRORS:
            raise
        return None


def _cursor(body: dict | None) -> str | None:
    """The answer's paging cursor; anything but a non-empty string means there is no next page."""
    value = body.get("cursor") if body is not None else None
    return value if isinstance(value, str) and value else None


def _next_step(body: dict | None, page_len: int, window: _Window, page_size: int) -> str:
    """After a page above the bound: "more" (follow the cursor), "narrow" (the cap was hit) or "done".

    A page may be short, even empty, and still have a cursor: the AppView drops
    what it will not show after the search service filled the page.
    """
    next_cursor = _cursor(body)
    if window.asked >= SEARCH_RESULT_CAP or body is None:
        return "narrow"
    if next_cursor and next_cursor != window.cursor:
        return "more"
    if page_len >= page_size:
        return "narrow"  # a full page with no way on: cut off, not exhausted
    return "done"


def _list_job(conn: BlueskyConnection, ref: str, cursors: Mapping[str, str]) -> Iterator[Page]:
    list_uri = conn.resolve_list(ref)
    key = f"bluesky:list:{list_uri}"
    return list_feed(conn, list_uri, cursors.get(key))


def list_feed(conn: BlueskyConnection, list_uri: str, cursor: str | None) -> Iterator[Page]:
    """Posts of a curated list's members since the cursor, newest first (``via=VIA_LIST``).

    They count whether or not they carry a tag. Reposts are skipped: the post is
    not the member's own. Paging stops at the first post older than the cursor
    less the overlap (the first run: older than ``settings.since``). A page the
    AppView emptied (blocks, takedowns) but gave a cursor is paged past.
    """
    settings, report = conn.settings, conn.report
    key = f"bluesky:list:{list_uri}"
    bound, newest = _start(cursor, settings, report, key)
    page_cursor: str | None = None
    given: set[str] = set()  # every paging cursor of this pass: one coming back means no progress
    for _ in _page_budget(settings, "app.bsky.feed.getListFeed"):
        body = conn.query(
            "app.bsky.feed.getListFeed",
            models.AppBskyFeedGetListFeed.Params(list=list_uri, limit=settings.page_size, cursor=page_cursor),
        )
        feed = body.get("feed")
        if not isinstance(feed, list):
            raise MalformedAnswer("app.bsky.feed.getListFeed: no feed array")
        views = [item.get("post") for item in feed if isinstance(item, dict) and not item.get("reason")]
        views += [None for item in feed if not isinstance(item, dict)]  # reported as malformed below
        items = _parse_items(conn, key, views, VIA_LIST)
        fresh = [(p, t) for p, t in items if t >= bound]
        reached_bound = len(fresh) < len(items)
        if fresh:
            top = max(t for _, t in fresh)
            newest = top if newest is None or top > newest else newest
        page_cursor = _cursor(body)
        done = reached_bound or not page_cursor
        repeated = not done and page_cursor in given
        given.add(page_cursor or "")
        posts = conn.with_bios([p for p, _ in fresh])
        if posts or done:
            yield Page(
                posts=posts,
                cursor_key=key,
                cursor=format_time(newest) if done and newest is not None else None,
            )
        if done:
            return
        if repeated:
            raise _repeated("app.bsky.feed.getListFeed")


# ---------------------------------------------------------------- threads


def fetch_thread(
    source: BlueskyConnection | BlueskySettings, uri: str, *, report: SourceReport | None = None
) -> list[Post]:
    """The replies under a post (not the post itself), oldest first, as ``VIA_THREAD`` posts.

    Used to re-check help requests, whose answers rarely carry the tag. Given
    settings instead of a connection, it reads the public AppView without an
    account. Replies that are gone or blocked are left out; a malformed reply
    costs itself (a line in ``report.errors``). Raises :class:`PostGone` when the
    post itself no longer exists, so the pipeline can blank it, and another
    :class:`BlueskyError` when the thread could not be read.
    """
    if isinstance(source, BlueskySettings):
        with open_bluesky(
            source, None, None, report or SourceReport(source=BLUESKY, platform=BLUESKY)
        ) as conn:
            return _fetch_thread(conn, uri)
    return _fetch_thread(source, uri)


def _fetch_thread(conn: BlueskyConnection, uri: str) -> list[Post]:
    params = models.AppBskyFeedGetPostThread.Params(
        uri=uri, depth=conn.settings.thread_depth, parent_height=0
    )
    try:
        body = conn.query("app.bsky.feed.getPostThread", params)
    except RequestFailed as e:
        if e.error == "NotFound":
            raise PostGone(f"{uri} no longer exists") from None
        raise
    replies = thread_replies(body, uri, conn.report.errors)
    return conn.with_bios(replies)


def thread_replies(body: dict, uri: str, errors: list[str]) -> list[Post]:
    """The replies in a getPostThread answer, oldest first; raises PostGone for a deleted root."""
    thread = body.get("thread")
    if not isinstance(thread, dict):
        raise MalformedAnswer("app.bsky.feed.getPostThread: no thread")
    if thread.get("$type") == "app.bsky.feed.defs#notFoundPost":
        raise PostGone(f"{uri} no longer exists")
    if thread.get("$type") == "app.bsky.feed.defs#blockedPost":
        raise BlueskyError(f"{uri}: the thread is blocked for this account")
    replies: list[Post] = []
    stack = list(thread.get("replies") or [])
    while stack:
        node = stack.pop()
        if (
            not isinstance(node, dict)
            or node.get("$type", "app.bsky.feed.defs#threadViewPost") != "app.bsky.feed.defs#threadViewPost"
        ):
            continue  # notFoundPost / blockedPost placeholders: nothing to store
        try:
            replies.append(parse_post_view(node.get("post"), VIA_THREAD))
        except ValueError as e:
            errors.append(f"thread {uri}: skipped a reply: {e}")
        stack.extend(node.get("replies") or [])
    replies.sort(key=lambda p: (p.created_at, p.uri))
    return replies
