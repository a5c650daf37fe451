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
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

import duckdb

from collectors.mastodon.api import Instance, MastodonError
from collectors.mastodon.lookup import home_profile
from collectors.records import Page, SourceReport
from pipeline.collection.threads import pages_as_they_come

log = logging.getLogger(__name__)

CHECKS_PER_CYCLE = 50  # lookups a cycle spends at most on pending opt-outs, least recently asked first


def cursor_key(account: str) -> str:
    return f"opt-out:{account}"


def pending_opt_outs(con: duckdb.DuckDBPyConnection, limit: int = CHECKS_PER_CYCLE) -> list[str]:
    """Mastodon accounts (``user@domain``) whose opt-out was seen only on a copy, least recently asked first."""
    return [r[0] for r in con.execute(
        "SELECT o.account FROM opt_outs o LEFT JOIN cursors c ON c.cursor_key = 'opt-out:' || o.account "
        "WHERE o.confirmed = false AND o.account LIKE '%_@_%' "
        "ORDER BY c.position NULLS FIRST, o.seen_at, o.account LIMIT ?", [limit]).fetchall()]


async def home_profile_pages(keys: Sequence[str], instance_for: Callable[[str], Instance], report: SourceReport,
                             checked_at: datetime) -> AsyncIterator[Page]:
    """One page per pending account its home server answered for: its profile, as that server gives it.

    ``instance_for`` takes a base URL (``https://<domain>``) and gives the
    Instance to reach it at. An unreachable home yields nothing (asked again
    first next cycle); a home that does not know the account yields only the
    time it was asked.
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

    async for page in pages_as_they_come([check(key) for key in keys]):
        yield page
