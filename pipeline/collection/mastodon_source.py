"""Mastodon as a source of the collection cycle, and the one place settings become Mastodon clients.

Reading (tag and list timelines, thread contexts, profiles, verification) goes
through the concurrent :class:`collectors.mastodon.api.Instance`, one HTTP
client per server for the whole cycle; acting as the organiser (lists,
posting, sign-in checks) goes through Mastodon.py's
:class:`collectors.mastodon.account.Account`. Both are built here from the
settings, so a timeout, a retry count or the token order is decided once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime

import duckdb

from collectors.mastodon.account import Account, App
from collectors.mastodon.api import Client, Instance, MastodonError, RateLimited, make_client
from collectors.mastodon.poll import poll_lists, poll_tags
from collectors.mastodon.threads import fetch_thread, origin_of
from collectors.records import MASTODON, Page, SourceReport
from pipeline.collection.opt_out_checks import LOOKUPS_PER_CYCLE, due_home_checks, home_profile_pages, pending_opt_outs
from pipeline.collection.threads import DueThread, pages_as_they_come
from pipeline.collection.verify import due_posts, verify_pages
from pipeline.core.settings import Settings
from pipeline.signin import needs
from pipeline.signin.credentials import mastodon_token, token_env_name

Job = tuple[SourceReport, AsyncIterator[Page]]


def account(settings: Settings, base: str, token: str | None, *, app: App | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Account:
    """An account on ``base`` through Mastodon.py, with the configured timeout and retries."""
    return Account(base, token, app=app, timeout=settings.timeout, max_retries=settings.max_retries, sleep=sleep)


def home_token(settings: Settings, purpose: str, scopes: str) -> tuple[str, str]:
    """``[mastodon] home`` and the token for it; :class:`needs.Missing` saying what is missing for ``purpose``."""
    home = settings.mastodon.home
    if not home:
        raise needs.Missing(needs.mastodon_home(purpose))
    token = mastodon_token(settings, home)
    if not token:
        raise needs.Missing(needs.mastodon_token(purpose, home, scopes))
    return home, token


def home_account(settings: Settings, purpose: str, scopes: str, *,
                 sleep: Callable[[float], None] = time.sleep) -> Account:
    """The organiser's own account on ``[mastodon] home``; :class:`needs.Missing` when it cannot be had."""
    home, token = home_token(settings, purpose, scopes)
    return account(settings, home, token, sleep=sleep)


def source_name(base: str) -> str:
    """How a run names an instance: its host for https, the whole base otherwise (a test's local server)."""
    return base.split("://", 1)[1] if base.startswith("https://") else base


class Instances:
    """Readers of Mastodon servers for one cycle: one HTTP client per server, closed with ``clients``.

    Hosts named in ``[mastodon] origins`` are reached at the configured base
    (tests point them at local servers), any other at its https base.
    """

    def __init__(self, settings: Settings, clients: contextlib.AsyncExitStack, *, backoff: float = 0.5,
                 max_rate_wait: float = 60.0, with_tokens: bool = True) -> None:
        self.settings, self._clients, self._with_tokens = settings, clients, with_tokens
        self._backoff, self._max_rate_wait = backoff, max_rate_wait
        self._client_of: dict[str, Client] = {}  # one per server: see make_client
        self.origins = {host.lower(): base for host, base in settings.mastodon.origins}
        self.polled: dict[str, Instance] = {}  # the configured instances, once polled this cycle
        self._reached: dict[tuple[str, str], Instance] = {}

    def instance(self, base: str, report: SourceReport) -> Instance:
        """A reader of ``base`` counting its requests in ``report``."""
        if base not in self._client_of:
            self._client_of[base] = make_client(self.settings.timeout)
            self._clients.push_async_callback(self._client_of[base].aclose)
        token = mastodon_token(self.settings, base) if self._with_tokens else None
        return Instance(base=base, client=self._client_of[base], report=report, token=token,
                        token_env=token_env_name(base), max_in_flight=self.settings.mastodon.max_in_flight,
                        max_retries=self.settings.max_retries, backoff=self._backoff,
                        max_rate_wait=self._max_rate_wait, origins=self.origins)

    def reach(self, base: str, report: SourceReport) -> Instance:
        """Another server, one reader per server and report; a polled one keeps its verified account domain.

        A host a polled instance speaks for (its own, or its verified account
        domain) is reached at that instance: an account's home is named by its
        domain, which may not be the host or scheme the server answers at.
        """
        host = base.split("://", 1)[-1].lower()
        base = self.origins.get(host) or next(
            (polled for polled, inst in self.polled.items() if host in inst.hosts()), base)
        if (base, report.source) not in self._reached:
            self._reached[base, report.source] = self.instance(base, report)
            if base in self.polled:
                self._reached[base, report.source].account_domain = self.polled[base].account_domain
        return self._reached[base, report.source]


async def thread_pages(threads: Sequence[DueThread], instance_for: Callable[[str], Instance], report: SourceReport,
                       checked_at: datetime, fetch_from_origin: bool) -> AsyncIterator[Page]:
    """One page per re-checked Mastodon request: its replies, or its deletion.

    Threads are fetched concurrently (each instance still bounds its own requests in
    flight) and yielded as they arrive. A thread no place would give costs that
    thread only; it stays due.
    """

    async def check(thread: DueThread) -> Page | None:
        places: list[tuple[Instance, str]] = []
        origin = origin_of(thread.uri)
        if origin and fetch_from_origin:
            places.append((instance_for(origin[0]), origin[1]))
        places += [(instance_for(source), local_id) for source, local_id in thread.sightings
                   if not origin or source != origin[0]]
        if not places:
            return None
        try:
            return await fetch_thread(places, thread.uri, checked_at.isoformat())
        except MastodonError as exc:
            report.errors.append(f"thread of {thread.uri}: {exc}")
            return None

    async for page in pages_as_they_come([check(t) for t in threads if t.platform == MASTODON]):
        yield page


async def reported(report: SourceReport, pages: AsyncIterator[Page]) -> AsyncIterator[Page]:
    """A Mastodon failure ends this source only, said in its report: a long rate-limit window is a note for the
    next cycle, any other error a failed source. The pages already yielded stay committed."""
    try:
        async for page in pages:
            yield page
    except RateLimited as exc:
        report.errors.append(str(exc))
        report.note = report.note or f"rate limited; left for the next cycle ({exc})"
    except MastodonError as exc:
        report.failed = True
        report.errors.append(str(exc))


class MastodonCycle:
    """Mastodon's part of one collection cycle: what it polls, and what it re-checks after."""

    platform = MASTODON

    def __init__(self, settings: Settings, since: datetime, clients: contextlib.AsyncExitStack, *,
                 backoff: float, max_rate_wait: float) -> None:
        self.settings, self.since = settings, since
        self.instances = Instances(settings, clients, backoff=backoff, max_rate_wait=max_rate_wait)

    def polls(self, cursors: Mapping[str, str]) -> list[Job]:
        """Each instance's tag timelines, and the home account's lists as one more source."""
        jobs: list[Job] = []
        settings = self.settings
        for base in settings.mastodon.instances:
            report = SourceReport(source=source_name(base), platform=MASTODON)
            self.instances.polled[base] = self.instances.instance(base, report)
            jobs.append((report, reported(report, poll_tags(self.instances.polled[base], settings.tags, cursors,
                                                            self.since))))
        home = settings.mastodon.home
        if home and settings.mastodon.lists:
            report = SourceReport(source=f"{source_name(home)} lists", platform=MASTODON)
            jobs.append((report, reported(report, poll_lists(self.instances.instance(home, report),
                                                             settings.mastodon.lists, cursors, self.since))))
        return jobs

    def skipped(self) -> list[SourceReport]:
        """Nothing to record as skipped: an instance that is not configured is not a source."""
        return []

    def rechecks(self, con: duckdb.DuckDBPyConnection, due: Sequence[DueThread], now: datetime) -> list[Job]:
        """Home servers asked about opt-outs seen only on copies, then about ``noindex`` (which copies never carry);
        due threads; and posts due a verification."""
        jobs: list[Job] = []
        reach = self.instances.reach
        pending = pending_opt_outs(con)
        homes = due_home_checks(con, now, LOOKUPS_PER_CYCLE - len(pending))
        if pending or homes:
            consent = SourceReport(source="consent:mastodon", platform=MASTODON)
            jobs.append((consent, home_profile_pages(pending, lambda base: reach(base, consent), consent, now,
                                                     homes)))
        if any(t.platform == MASTODON for t in due):
            threads = SourceReport(source="threads:mastodon", platform=MASTODON)
            jobs.append((threads, thread_pages(due, lambda base: reach(base, threads), threads, now,
                                                        self.settings.mastodon.fetch_from_origin)))
        to_verify = due_posts(con, now)
        if to_verify:
            verify = SourceReport(source="verify:mastodon", platform=MASTODON)
            jobs.append((verify, verify_pages(to_verify, lambda base: reach(base, verify), verify, now)))
        return [(report, reported(report, pages)) for report, pages in jobs]
