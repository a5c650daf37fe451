"""``peerdesk forget``: an account purged on request and its refusal remembered, in one transaction.

Apart from :mod:`pipeline.core.store` because forgetting reaches past storage: the
summary threads kept for publishing must stop naming the account too.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.core.store import now_utc, purge_accounts, transaction
from pipeline.summary.publish import unname


def forget(con: duckdb.DuckDBPyConnection, account: str, *, when: datetime | None = None) -> int:
    """Purge an account on request and remember the refusal, in one transaction; returns the posts removed.

    ``account`` is a stable key (``user@domain`` or a DID, as
    :func:`pipeline.core.account_names.resolve_account` gives it), never a handle.
    More goes than on an opt-out: the follow-list decision too (an opt-out keeps
    it, so the organiser hears why the list shrank; here the organiser asked),
    the sticky opt-out row the refusal supersedes, and the account's name in the
    summary threads kept for publishing.
    """
    with transaction(con):
        names = [account, *(r[0] for r in con.execute(
            "SELECT handle FROM account_store WHERE account = ?", [account]).fetchall())]
        removed = purge_accounts(con, [account])
        con.execute("DELETE FROM follow_decisions WHERE account = ?", [account])
        con.execute("DELETE FROM opt_outs WHERE account = ?", [account])
        unname(con, account, names)
        con.execute(
            "INSERT INTO forgotten VALUES (?, ?) ON CONFLICT (account) DO NOTHING", [account, when or now_utc()]
        )
    return removed
