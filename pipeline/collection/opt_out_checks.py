"""Confirming opt-outs seen only on other servers' copies, with each account's home server.

A server is believed only about its own accounts (design.md "Trust"). An
opt-out (``#nobot`` in a bio, ``noindex``) on another instance's copy of a
profile hides the account at once: consent errs on the side of hiding, so
:mod:`pipeline.core.ingest` stores none of its posts and takes the stored ones out
of every view (``opt_outs.confirmed = false``). It becomes the sticky refusal
that purges everything only when the home server shows it. The home server's
profile arrives either when that server is polled, or from here: each cycle
the pending ones are looked up there (``GET /api/v1/accounts/lookup``) and
the answer is stored as a page from that server, so an opt-out at home
confirms the refusal and a clean profile clears it and gives the hidden posts
back. A home server that cannot be reached, or that does not know the account,
leaves it pending (still hidden) for a later cycle; a pending one is never
promoted (follow-lists and summaries read ``opt_outs`` whatever its state).
When each was last asked is kept as a cursor (``opt-out:<account>``), so
the least recently asked go first.

``noindex`` needs more: Mastodon serializes it for its own accounts only
(``attribute :noindex, if: :local?``), so a copy never shows it and nothing
claims it. Every stored Mastodon account is therefore asked about at home too,
after the pending opt-outs and within the same budget: first the never asked
(newest first), then those answered over :data:`RECHECK_AFTER` ago (someone
can turn ``noindex`` on later), least recently asked first. The same lookup
page carries the answer, so ``noindex: true`` purges through the normal ingest
path; ``noindex: false``, or a server that omits it (GoToSocial, Pleroma),
leaves the account stored until the next re-check. When each was last asked is
kept as ``home:<account>`` (an ISO time). A home that could not say is counted
as asked :data:`RECHECK_AFTER` before, so it is due again next cycle but waits
its turn instead of taking the budget from everyone else; the account stays
stored meanwhile (copies are trusted to add accounts, and we cannot know).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

import duckdb

from collectors.mastodon.api import Instance, LoginRequired, MastodonError
from collectors.mastodon.lookup import home_profile
from collectors.records import MASTODON, Page, SourceReport
from pipeline.collection.threads import pages_as_they_come

log = logging.getLogger(__name__)

CHECKS_PER_CYCLE = 50  # lookups a cycle spends at most on pending opt-outs, least recently asked first
LOOKUPS_PER_CYCLE = 100  # lookups a cycle spends at most in all: pending opt-outs first, then home checks
RECHECK_AFTER = timedelta(days=30)  # a home that answered is asked again after this: noindex can be set later
HOME_PREFIX = "home:"


def cursor_key(account: str) -> str:
    return f"opt-out:{account}"


def home_cursor_key(account: str) -> str:
    return f"{HOME_PREFIX}{account}"


def pending_opt_outs(con: duckdb.DuckDBPyConnection, limit: int = CHECKS_PER_CYCLE) -> list[str]:
    """Mastodon accounts (``user@domain``) whose opt-out was seen only on a copy, least recently asked first."""
    return [r[0] for r in con.execute(
        "SELECT o.account FROM opt_outs o LEFT JOIN cursors c ON c.cursor_key = 'opt-out:' || o.account "
        "WHERE o.confirmed = false AND o.account LIKE '%_@_%' "
        "ORDER BY c.position NULLS FIRST, o.seen_at, o.account LIMIT ?", [limit]).fetchall()]


def due_home_checks(con: duckdb.DuckDBPyConnection, now: datetime, limit: int) -> list[str]:
    """Stored Mastodon accounts whose home is due a ``noindex`` lookup, at most ``limit``.

    Never asked first (newest first: their posts are the ones being read now),
    then those last asked before ``now - RECHECK_AFTER``, least recently asked
    first. Reads ``account_store``, ``opt_outs`` and the ``home:`` cursors only,
    so its cost follows the accounts, not the posts. Accounts with an opt-out
    on record are left out: a pending one is asked by :func:`pending_opt_outs`.
    """
    if limit <= 0:
        return []
    return [r[0] for r in con.execute(
        """
        SELECT a.account
        FROM account_store a
        LEFT JOIN (SELECT cursor_key, TRY_CAST(position AS TIMESTAMPTZ) AS asked FROM cursors
                   WHERE cursor_key >= $lo AND cursor_key < $hi) c ON c.cursor_key = $prefix || a.account
        WHERE a.platform = $platform AND a.account LIKE '%_@_%'
          AND (c.asked IS NULL OR c.asked <= $stale)
          AND a.account NOT IN (SELECT account FROM opt_outs)
        ORDER BY c.asked NULLS FIRST, a.first_seen_at DESC, a.account
        LIMIT $limit
        """,
        {"lo": HOME_PREFIX, "hi": HOME_PREFIX[:-1] + chr(ord(HOME_PREFIX[-1]) + 1), "prefix": HOME_PREFIX,
         "platform": MASTODON, "stale": now - RECHECK_AFTER, "limit": limit}).fetchall()]


async def home_profile_pages(keys: Sequence[str], instance_for: Callable[[str], Instance], report: SourceReport,
                             checked_at: datetime, homes: Sequence[str] = ()) -> AsyncIterator[Page]:
    """One page per account its home server answered for: its profile, as that server gives it.

    ``keys`` are pending opt-outs, ``homes`` accounts due a ``noindex`` check
    (:func:`due_home_checks`); all are asked concurrently. ``instance_for``
    takes a base URL (``https://<domain>``) and gives the Instance to reach it
    at. For a pending opt-out an unreachable home yields nothing (asked again
    first next cycle) and one that does not know the account yields only the
    time it was asked. For a home check, either yields only a time that makes
    it due again next cycle, behind those waiting longer.
    """

    async def check(key: str) -> Page | None:
        domain = key.rpartition("@")[2]
        try:
            account = await home_profile(instance_for(f"https://{domain}"), key)
        except MastodonError as exc:
            report.errors.append(f"opt-out of {key} not confirmed yet: {exc}")
            return None
        asked = Page(cursor_key=cursor_key(key), cursor=checked_at.isoformat(), speaks_for=frozenset({domain}))
        if account is None:
            log.info("opt-out of %s not confirmed: %s does not know the account; it stays hidden", key, domain)
        else:
            asked.accounts.append(account)
        return asked

    async def check_home(key: str) -> Page:
        domain = key.rpartition("@")[2]
        unanswered = Page(cursor_key=home_cursor_key(key), cursor=(checked_at - RECHECK_AFTER).isoformat(),
                          speaks_for=frozenset())
        try:
            account = await home_profile(instance_for(f"https://{domain}"), key)
        except LoginRequired as exc:  # GoToSocial shows profiles to its own users only: asking sooner changes nothing
            report.errors.append(f"noindex of {key} not known: {exc}; it stays stored, asked again in "
                                 f"{RECHECK_AFTER.days} days")
            return Page(cursor_key=home_cursor_key(key), cursor=checked_at.isoformat(), speaks_for=frozenset())
        except MastodonError as exc:
            report.errors.append(f"noindex of {key} not known: {exc}; it stays stored, asked again next cycle")
            return unanswered
        if account is None:
            report.errors.append(f"noindex of {key} not known: {domain} does not know the account; "
                                 "it stays stored, asked again next cycle")
            return unanswered
        return Page(accounts=[account], cursor_key=home_cursor_key(key), cursor=checked_at.isoformat(),
                    speaks_for=frozenset({domain}))

    async for page in pages_as_they_come([*(check(key) for key in keys), *(check_home(key) for key in homes)]):
        yield page
        if page.accounts and page.cursor_key == cursor_key(page.accounts[0].key):
            # A home that answered about a pending opt-out has answered about noindex too, until the re-check.
            yield Page(cursor_key=home_cursor_key(page.accounts[0].key), cursor=page.cursor, speaks_for=frozenset())
