"""The community follow-list: candidates, the organiser's decisions, and who may be listed.

Candidates are the active peers (ranked by helpfulness: first responses, then
replies to others, then posts) and the members of the watched Bluesky lists.
The organiser approves or rejects each; decisions live in ``follow_decisions``,
which collection never writes, so they survive re-collection.

Consent is checked here, at the moment of listing, not when a decision is made:
an account approved last month that has since opted out, asked to be forgotten,
turned into a bot or switched ``discoverable`` off is dropped from every export
and named in :attr:`Listing.dropped` so the command can say so. The CLI, the
exports, the sync and the dashboard all come through :func:`candidates` and
:func:`listing`, so they never disagree about who is on the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from collectors.records import BLUESKY, MASTODON, VIA_LIST
from pipeline.core import queries
from pipeline.core.account_names import UnknownAccount as UnknownAccount  # re-exported: the CLI and tests catch it here
from pipeline.core.account_names import resolve_account
from pipeline.core.consent import NO_UNAUTHENTICATED
from pipeline.core.store import now_utc, transaction

DECISIONS = ("approved", "rejected", "pending")
DEFAULT_WINDOW = timedelta(weeks=12)  # how far back activity counts towards a candidate's rank


class NotListable(ValueError):
    """The account may not be put on the follow-list (it opted out, is a bot, is not discoverable...)."""


class OutdatedDatabase(RuntimeError):
    """The file predates the follow-list tables; a read-only connection cannot add them."""


@dataclass
class Listing:
    """Who is on the follow-list now, most helpful first, and the approved accounts consent keeps off it."""

    members: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # each with a "reason"

    def on(self, platform: str) -> list[dict[str, Any]]:
        return [m for m in self.members if m["platform"] == platform]


def exclusion_reason(row: dict[str, Any]) -> str | None:
    """Why consent keeps this account off the list, from the columns :func:`_accounts` selects."""
    if row.get("forgotten"):
        return "asked to be forgotten"
    if row.get("opt_out"):
        return f"opted out ({row['opt_out']})"
    if row.get("platform") is None:  # purged from account_store by something other than the above
        return "no longer stored"
    if row.get("bot"):
        return "bot"
    if row.get("discoverable") is False:
        return "not discoverable"
    if NO_UNAUTHENTICATED in (row.get("labels") or []):
        return NO_UNAUTHENTICATED
    return None


# ---------------------------------------------------------------- decisions


def decide(con: duckdb.DuckDBPyConnection, accounts: Sequence[str], decision: str, note: str | None = None,
           *, when: datetime | None = None) -> list[str]:
    """Record the organiser's decision for each account (names as :func:`account_names.resolve_account` takes them).

    All or nothing: an unknown name, or approving an account consent keeps off
    the list, raises before anything is written. A ``note`` of None keeps the
    previous note. Returns the account keys, in the order given.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}")
    when = when or now_utc()
    keys = list(dict.fromkeys(resolve_account(con, a) for a in accounts))
    if decision == "approved":
        rows = {r["account"]: r for r in _accounts(con, keys)}
        refused = [f"{k}: {exclusion_reason(rows[k])}" for k in keys if exclusion_reason(rows[k])]
        if refused:
            raise NotListable("cannot approve " + "; ".join(refused))
    with transaction(con):
        for key in keys:
            con.execute(
                "INSERT INTO follow_decisions VALUES ($k, $d, $n, $w) ON CONFLICT (account) DO UPDATE SET "
                "decision = excluded.decision, note = coalesce($n, follow_decisions.note), "
                "decided_at = excluded.decided_at",
                {"k": key, "d": decision, "n": note, "w": when},
            )
    return keys


def decisions(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Every recorded decision by account key (decision, note, decided_at)."""
    rows = _rows(con, "SELECT account, decision, note, decided_at FROM follow_decisions")
    return {r["account"]: r for r in rows}


# ---------------------------------------------------------------- candidates and the listing


def candidates(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime | None = None,
               decision: str | None = None, platform: str | None = None,
               include_excluded: bool = False) -> list[dict[str, Any]]:
    """Accounts the organiser might list, most helpful first, each with its decision ("pending" by default).

    The pool: everyone active since ``since`` (default 12 weeks before ``as_of``),
    members of watched Bluesky lists, and every account with a decision. Accounts
    consent keeps off the list are left out unless ``include_excluded``, in which
    case ``excluded`` says why.
    """
    _require_tables(con)
    since = since or as_of - DEFAULT_WINDOW
    activity = {p["account"]: p for p in queries.peers(con, as_of, since=since, include_bots=True)}
    list_members = {r[0] for r in con.execute(
        "SELECT DISTINCT author FROM post_store WHERE via = ? AND platform = ? AND deleted_at IS NULL",
        [VIA_LIST, BLUESKY]).fetchall()}
    pool = set(activity) | list_members | set(decisions(con))
    rows = []
    for acc in _accounts(con, sorted(pool)):
        act = activity.get(acc["account"], {})
        reason = exclusion_reason(acc)
        row = {
            "account": acc["account"],
            "platform": acc["platform"] or _platform_of(acc["account"]),
            "handle": acc["handle"] or acc["account"],
            "display_name": acc["display_name"] or "",
            "decision": acc["decision"] or "pending",
            "first_responses": int(act.get("first_responses") or 0),
            "replies_to_others": int(act.get("replies_to_others") or 0),
            "requests_asked": int(act.get("requests_asked") or 0),
            "posts": int(act.get("posts") or 0),
            "median_response_time": act.get("median_response_time"),
            "list_member": acc["account"] in list_members,
            "note": acc["note"],
            "decided_at": acc["decided_at"],
            "url": acc["url"],
            "last_seen_at": acc["last_seen_at"],
            "excluded": reason,
        }
        if (reason and not include_excluded) or (decision and row["decision"] != decision):
            continue
        if platform and row["platform"] != platform:
            continue
        rows.append(row)
    rows.sort(key=lambda r: (-r["first_responses"], -r["replies_to_others"], -r["posts"], r["account"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return [{"rank": r.pop("rank"), **r} for r in rows]


def listing(con: duckdb.DuckDBPyConnection, as_of: datetime, *, since: datetime | None = None) -> Listing:
    """The approved accounts consent allows, most helpful first; the approved ones it does not, in ``dropped``."""
    rows = candidates(con, as_of, since=since, decision="approved", include_excluded=True)
    result = Listing()
    for row in rows:
        (result.dropped if row["excluded"] else result.members).append(row)
    for rank, row in enumerate(result.members, 1):
        row["rank"] = rank
    return result


def dropped_lines(listing_: Listing) -> list[str]:
    """One line per approved account left off, for stderr: the organiser should know why the list shrank."""
    return [f"dropped {d['handle']} ({d['account']}): {d['excluded']}" if d["handle"] != d["account"]
            else f"dropped {d['account']}: {d['excluded']}" for d in listing_.dropped]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _require_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Read-only connections do not migrate: say what to do instead of failing on a missing table."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'follow_decisions'").fetchall()
    if not found[0][0]:
        raise OutdatedDatabase("the database predates the follow-list: run 'peerdesk collect' (or 'peerdesk "
                               "follows approve', which writes) once to upgrade it")


def _platform_of(key: str) -> str:
    return BLUESKY if key.startswith("did:") else MASTODON


def _accounts(con: duckdb.DuckDBPyConnection, keys: list[str]) -> list[dict[str, Any]]:
    """Stored facts, decision and consent state for each key, stored or not (one row per key)."""
    if not keys:
        return []
    return _rows(
        con,
        """
        SELECT k.account, a.platform, a.handle, a.display_name, a.url, a.bot, a.discoverable, a.labels,
               a.last_seen_at, d.decision, d.note, d.decided_at,
               f.account IS NOT NULL AS forgotten, o.reason AS opt_out
        FROM (SELECT DISTINCT unnest($keys::VARCHAR[]) AS account) k
        LEFT JOIN account_store a ON a.account = k.account
        LEFT JOIN follow_decisions d ON d.account = k.account
        LEFT JOIN forgotten f ON f.account = k.account
        LEFT JOIN opt_outs o ON o.account = k.account
        ORDER BY k.account
        """,
        {"keys": keys},
    )
