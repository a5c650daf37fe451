"""Opt-outs in a batch: remembered, confirmed or claimed, cleared only by the home server, and their posts hidden."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from collectors.records import Account
from pipeline.core.store import registered


def stored_accounts(con: duckdb.DuckDBPyConnection, keys: set[str]) -> list[str]:
    """Those of ``keys`` with anything stored: every stored post's author has an account row."""
    if not keys:
        return []
    with registered(con, "refused_keys", pa.table({"account": pa.array(sorted(keys), pa.string())})):
        return [r[0] for r in con.execute(
            "SELECT account FROM account_store SEMI JOIN refused_keys USING (account) ORDER BY account").fetchall()]



def still_opted_out(con: duckdb.DuckDBPyConnection, home_copies: dict[str, Account], candidates: set[str]
                     ) -> tuple[set[str], set[str]]:
    """Of ``candidates`` (accounts seen without an opt-out now), those an earlier opt-out still keeps out.

    Returns them, and those of them whose opt-out is confirmed (sticky). Only
    the home server's profile clears an opt-out, confirmed or claimed: a copy
    elsewhere may be stale or made up. A bio or field opt-out is visible
    everywhere, so a clean bio at home clears it; a ``noindex`` opt-out only
    clears when the home copy states ``noindex: false``. A cleared claim gives
    the account's hidden posts back.
    """
    if not candidates:
        return set(), set()
    with registered(con, "candidates", pa.table({"account": pa.array(sorted(candidates), pa.string())})):
        known = {account: (reason, confirmed) for account, reason, confirmed in con.execute(
            "SELECT o.account, o.reason, coalesce(o.confirmed, true) FROM opt_outs o JOIN candidates c USING (account)"
        ).fetchall()}
    cleared = sorted(k for k, (reason, _) in known.items()
                     if k in home_copies and (reason != "noindex" or home_copies[k].noindex is False))
    if cleared:
        with registered(con, "cleared", pa.table({"account": pa.array(cleared, pa.string())})):
            con.execute("DELETE FROM opt_outs WHERE account IN (SELECT account FROM cleared)")
            con.execute("UPDATE post_store SET deleted_at = NULL WHERE uri IN "
                        "(SELECT uri FROM hidden_posts WHERE account IN (SELECT account FROM cleared))")
            con.execute("DELETE FROM hidden_posts WHERE account IN (SELECT account FROM cleared)")
    still = set(known) - set(cleared)
    return still, {k for k in still if known[k][1]}


def remember_opt_outs(con: duckdb.DuckDBPyConnection, reasons: dict[str, str], now: datetime, *,
                       confirmed: bool) -> None:
    """Record opt-outs; a claim from a copy never turns a confirmed opt-out back into a claim."""
    table = pa.table({"account": list(reasons), "reason": list(reasons.values())})
    with registered(con, "new_opt_outs", table):
        if confirmed:
            con.execute(
                "INSERT INTO opt_outs SELECT account, reason, $now, true FROM new_opt_outs ON CONFLICT (account) "
                "DO UPDATE SET reason = excluded.reason, seen_at = excluded.seen_at, confirmed = true",
                {"now": now},
            )
        else:
            con.execute("INSERT INTO opt_outs SELECT account, reason, $now, false FROM new_opt_outs "
                        "ON CONFLICT (account) DO NOTHING", {"now": now})


def hide_posts(con: duckdb.DuckDBPyConnection, keys: list[str], now: datetime) -> int:
    """Take an account's stored posts out of every view, keeping them to give back if its home says so."""
    with registered(con, "hide_keys", pa.table({"account": pa.array(keys, pa.string())})):
        con.execute(
            "INSERT INTO hidden_posts SELECT uri, author, $now FROM post_store "
            "WHERE author IN (SELECT account FROM hide_keys) AND deleted_at IS NULL ON CONFLICT (uri) DO NOTHING",
            {"now": now},
        )
        return int(con.execute(
            "UPDATE post_store SET deleted_at = $now WHERE deleted_at IS NULL AND uri IN "
            "(SELECT uri FROM hidden_posts WHERE account IN (SELECT account FROM hide_keys))",
            {"now": now},
        ).fetchall()[0][0])


def forget_hidden(con: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    with registered(con, "purged_keys", pa.table({"account": pa.array(keys, pa.string())})):
        con.execute("DELETE FROM hidden_posts WHERE account IN (SELECT account FROM purged_keys)")
