"""Keep a list on the organiser's own Mastodon account in step with the approved follow-list.

A Mastodon list only holds accounts its owner follows, and peerdesk never
follows anyone on the organiser's behalf: it looks each approved account up on
the home instance, checks the relationship, adds the followed ones and reports
the others, one line each. Like the Bluesky sync it diffs against the server
every run, so a second run writes nothing and an interrupted one is finished by
the next. The list's id is kept in ``app_state``; a list created by a run that
died before saving it is found again by its title.

This module decides; :mod:`collectors.mastodon_lists` speaks HTTP, through the
same :class:`collectors.mastodon_api.Instance` (User-Agent, timeouts, rate
limits, retries) as the collector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from collectors import mastodon_lists as remote
from collectors.mastodon_api import Instance, MastodonError, Sleep, make_client
from collectors.records import MASTODON, SourceReport
from pipeline import follows, store
from pipeline.config import Settings, mastodon_token
from pipeline.follow_sync import Change, DbState, StateStore, SyncError, SyncReport, load_state

LIST_KEY = "follows:mastodon:list:"  # + the home instance's base URL


async def sync_mastodon(home: Instance, members: Sequence[dict[str, Any]], state: StateStore, *, title: str,
                        apply: bool) -> SyncReport:
    """Make the list titled ``title`` hold exactly the approved accounts the organiser follows."""
    report = SyncReport("mastodon", applied=apply)
    try:
        list_id = await _find_list(home, state, title, report, apply=apply)
        ids = await _lookup(home, [m["account"] for m in members], report)
        following = await remote.following(home, list(ids.values()))
        for acct, account_id in ids.items():
            if not following.get(account_id):
                report.problems.append(f"cannot add {acct}: you do not follow it (a Mastodon list only holds "
                                       "accounts you follow; follow it, then run this again)")
        current = await remote.list_members(home, list_id) if list_id else {}
        removes = [i for i in current if i not in set(ids.values())]
        adds = [(acct, i) for acct, i in ids.items() if following.get(i) and i not in current]
        if not (apply and list_id):
            report.changes += [Change("remove", "Mastodon list", current[i]) for i in removes]
            report.changes += [Change("add", "Mastodon list", acct) for acct, _ in adds]
            return report
        if removes:  # each change is reported once the server has accepted it
            await remote.remove_members(home, list_id, removes)
            report.changes += [Change("remove", "Mastodon list", current[i]) for i in removes]
        for start in range(0, len(adds), remote.MAX_IDS):
            chunk = adds[start : start + remote.MAX_IDS]
            await remote.add_members(home, list_id, [i for _, i in chunk])
            report.changes += [Change("add", "Mastodon list", acct) for acct, _ in chunk]
    except MastodonError as e:
        report.error = str(e)
    return report


async def _find_list(home: Instance, state: StateStore, title: str, report: SyncReport, *, apply: bool
                     ) -> str | None:
    """The list's id: the saved one, else one with the same title, else a new one (None in a dry run)."""
    key = LIST_KEY + home.base
    saved = state.get(key)
    if saved and await remote.list_exists(home, saved):
        return saved  # otherwise it was deleted on the web: find or make another
    for found in await remote.lists(home):
        if found.get("title") == title and found.get("id") is not None:
            if apply:
                state.set(key, str(found["id"]))
            return str(found["id"])
    report.changes.append(Change("create", "Mastodon list", title))
    if not apply:
        return None
    created = await remote.create_list(home, title)
    state.set(key, created)
    return created


async def _lookup(home: Instance, accts: Sequence[str], report: SyncReport) -> dict[str, str]:
    """Each address's local id on the home instance; the ones it has never seen are reported."""
    ids: dict[str, str] = {}
    for acct in accts:
        account_id = await remote.lookup(home, acct)
        if account_id is None:
            report.problems.append(f"cannot add {acct}: your instance does not know it yet (search for it there "
                                   "and follow it, then run this again)")
        else:
            ids[acct] = account_id
    return ids


def mastodon_follow_sync(settings: Settings, *, apply: bool, as_of: datetime | None = None,
                         sleep: Sleep = asyncio.sleep) -> tuple[SyncReport, follows.Listing]:
    """Read the approved Mastodon accounts, then sync the list on ``[mastodon] home`` with PEERDESK_MASTODON_TOKEN.

    The database is read first and not held while the network is used.
    """
    home = settings.mastodon.home
    if not home:
        raise SyncError("set [mastodon] home to your own instance: the list is kept on your account there")
    token = mastodon_token(settings, home)
    if not token:
        raise SyncError(f"set PEERDESK_MASTODON_TOKEN to an access token for your account on {home} "
                        f"(scopes: {remote.TOKEN_SCOPES})")
    with store.reading(settings.db_path) as con:
        listing = follows.listing(con, as_of or store.now_utc())
        state = DbState(settings.db_path, load_state(con))

    async def run() -> SyncReport:
        async with make_client(settings.timeout) as client:
            report = SourceReport(source="mastodon:follows", platform=MASTODON)  # the request counts; not shown
            instance = Instance(base=home, client=client, report=report, token=token,
                                max_retries=settings.max_retries, sleep=sleep)
            return await sync_mastodon(instance, listing.on(MASTODON), state, title=settings.community, apply=apply)

    return asyncio.run(run()), listing
