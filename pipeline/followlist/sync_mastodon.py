"""Keep a list on the organiser's own Mastodon account in step with the approved follow-list.

A Mastodon list only holds accounts its owner follows, and peerdesk never
follows anyone on the organiser's behalf: it looks each approved account up on
the home instance, checks the relationship, adds the followed ones and reports
the others, one line each. Like the Bluesky sync it diffs against the server
every run, so a second run writes nothing and an interrupted one is finished by
the next. The list's id is kept in ``app_state``; a list created by a run that
died before saving it is found again by its title.

This module decides; :class:`collectors.mastodon.account.Account` speaks to the
instance through Mastodon.py (User-Agent, timeouts, bounded rate-limit waits,
reads retried, writes not).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from collectors.mastodon.account import LIST_SCOPES, MAX_IDS, Account
from collectors.mastodon.api import LoginRequired, MastodonError
from collectors.records import MASTODON
from pipeline.collection import mastodon_source
from pipeline.collection.mastodon_source import home_token
from pipeline.core import store
from pipeline.core.settings import Settings
from pipeline.followlist import candidates as follows
from pipeline.followlist.sync_bluesky import Change, DbState, StateStore, SyncError, SyncReport, load_state
from pipeline.signin import needs

LIST_KEY = "follows:mastodon:list:"  # + the home instance's base URL


def sync_mastodon(home: Account, members: Sequence[dict[str, Any]], state: StateStore, *, title: str,
                        apply: bool) -> SyncReport:
    """Make the list titled ``title`` hold exactly the approved accounts the organiser follows."""
    report = SyncReport("mastodon", applied=apply)
    try:
        list_id = _find_list(home, state, title, report, apply=apply)
        ids = _lookup(home, [m["account"] for m in members], report)
        following = home.following(list(ids.values()))
        for acct, account_id in ids.items():
            if not following.get(account_id):
                report.problems.append(f"cannot add {acct}: you do not follow it (a Mastodon list only holds "
                                       "accounts you follow; follow it, then run this again)")
        current = home.list_members(list_id) if list_id else {}
        removes = [i for i in current if i not in set(ids.values())]
        adds = [(acct, i) for acct, i in ids.items() if following.get(i) and i not in current]
        if not (apply and list_id):
            report.changes += [Change("remove", "Mastodon list", current[i]) for i in removes]
            report.changes += [Change("add", "Mastodon list", acct) for acct, _ in adds]
            return report
        if removes:  # each change is reported once the server has accepted it
            home.remove_members(list_id, removes)
            report.changes += [Change("remove", "Mastodon list", current[i]) for i in removes]
        for start in range(0, len(adds), MAX_IDS):
            chunk = adds[start : start + MAX_IDS]
            home.add_members(list_id, [i for _, i in chunk])
            report.changes += [Change("add", "Mastodon list", acct) for acct, _ in chunk]
    except LoginRequired as e:  # the usual cause with a hand-made token: a missing scope
        report.error = f"{e}; the token needs the scopes {LIST_SCOPES}"
    except MastodonError as e:
        report.error = str(e)
    return report


def _find_list(home: Account, state: StateStore, title: str, report: SyncReport, *, apply: bool
                     ) -> str | None:
    """The list's id: the saved one, else one with the same title, else a new one (None in a dry run)."""
    key = LIST_KEY + home.base
    saved = state.get(key)
    if saved and home.list_exists(saved):
        return saved  # otherwise it was deleted on the web: find or make another
    for found in home.lists():
        if found.get("title") == title and found.get("id") is not None:
            if apply:
                state.set(key, str(found["id"]))
            return str(found["id"])
    report.changes.append(Change("create", "Mastodon list", title))
    if not apply:
        return None
    created = home.create_list(title)
    state.set(key, created)
    return created


def _lookup(home: Account, accts: Sequence[str], report: SyncReport) -> dict[str, str]:
    """Each address's local id on the home instance; the ones it has never seen are reported."""
    ids: dict[str, str] = {}
    for acct in accts:
        account_id = home.lookup(acct)
        if account_id is None:
            report.problems.append(f"cannot add {acct}: your instance does not know it yet (search for it there "
                                   "and follow it, then run this again)")
        else:
            ids[acct] = account_id
    return ids


def mastodon_follow_sync(settings: Settings, *, apply: bool, as_of: datetime | None = None,
                         sleep: Callable[[float], None] = time.sleep) -> tuple[SyncReport, follows.Listing]:
    """Read the approved Mastodon accounts, then sync the list on ``[mastodon] home`` as the signed-in account.

    The database is read first and not held while the network is used.
    """
    try:
        home, token = home_token(settings, "syncing the Mastodon list", LIST_SCOPES)
    except needs.Missing as exc:
        raise SyncError(str(exc)) from None
    with store.reading(settings.db_path) as con:
        listing = follows.listing(con, as_of or store.now_utc())
        state = DbState(settings.db_path, load_state(con))

    account = mastodon_source.account(settings, home, token, sleep=sleep)
    try:
        return sync_mastodon(account, listing.on(MASTODON), state, title=settings.community, apply=apply), listing
    finally:
        account.api.session.close()
