"""What the stream follows, read back from the database at a cost that does not grow with it.

Every minute the stream re-reads the roots (help requests other sources stored,
within the thread horizon) and the accounts with something stored (whose
deletions and departures must be applied). Roots are read from the requests
posted within the horizon only. Accounts are read whole when the stream starts
and once a day; in between, only the accounts stored since the last read are
added (``first_seen_at`` is written once, so recent rows sit in the newest row
groups and DuckDB skips the others), and those refused meanwhile (forgotten,
or whose opt-out their home confirmed: nothing of theirs is stored) are
dropped, as are the accounts the stream itself purged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from collectors.records import BLUESKY
from pipeline.core.store import now_utc

# (now, start of the thread horizon, accounts stored since: None to read them all)
KnownWindow = tuple[datetime, datetime, datetime | None]


@dataclass(frozen=True)
class Known:
    """Roots within the horizon, and accounts: all of them (``complete``), or those new and gone since a time."""

    roots: set[str]
    dids: set[str]
    gone: set[str] = field(default_factory=set)
    complete: bool = True


def load_known(con: duckdb.DuckDBPyConnection, now: datetime, since: datetime,
               accounts_since: datetime | None = None) -> Known:
    """Bluesky help requests posted since ``since``, and the accounts with something stored (see :class:`Known`)."""
    roots = {r[0] for r in con.execute(
        "SELECT uri FROM help_requests_at($now, since := $since) WHERE platform = $p",
        {"now": now, "since": since, "p": BLUESKY}).fetchall()}
    if accounts_since is None:
        dids = {r[0] for r in con.execute(
            "SELECT account FROM account_store WHERE platform = $p "
            "UNION SELECT author FROM post_store WHERE platform = $p", {"p": BLUESKY}).fetchall()}
        return Known(roots, dids)
    dids = {r[0] for r in con.execute(
        "SELECT account FROM account_store WHERE platform = $p AND first_seen_at >= $t "
        "UNION SELECT author FROM post_store WHERE platform = $p AND first_seen_at >= $t",
        {"p": BLUESKY, "t": accounts_since}).fetchall()}
    gone = {r[0] for r in con.execute(
        "SELECT account FROM forgotten UNION SELECT account FROM opt_outs WHERE confirmed").fetchall()}
    return Known(roots, dids - gone, gone, complete=False)


@dataclass
class KnownAccounts:
    """The stream's own copy of the accounts with something stored, kept current by reading what changed.

    ``margin``: rows are stamped with the time their transaction began, so each
    read asks again for a little before the previous one was taken in, in case
    another process committed meanwhile.
    """

    full_every: float = 86_400.0
    margin: timedelta = timedelta(minutes=10)
    dids: set[str] = field(default_factory=set)
    mark: datetime | None = None  # stored up to this time: all in dids
    last_full: float = 0.0

    def since(self) -> datetime | None:
        """What the next read asks for: accounts stored since then, or None for all of them."""
        if self.mark is None or time.monotonic() - self.last_full >= self.full_every:
            return None
        return self.mark

    def apply(self, known: Known) -> set[str]:
        """Take in a read just made; returns the whole set."""
        if known.complete:
            self.dids = set(known.dids)
            self.last_full = time.monotonic()
        else:
            self.dids = (self.dids - known.gone) | known.dids
        self.mark = now_utc() - self.margin  # the clock ingest stamps rows with
        return self.dids

    def purged(self, dids: list[str]) -> None:
        """Accounts the stream removed itself (they left Bluesky)."""
        self.dids.difference_update(dids)

