"""A commit's pages applied as if one after the other, each statement run once for all of them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from collectors.records import Account, Page, Post
from pipeline.core import consent
from pipeline.core.ingest.accounts import upsert_accounts
from pipeline.core.ingest.opt_outs import forget_hidden, hide_posts, remember_opt_outs, still_opted_out, stored_accounts
from pipeline.core.ingest.posts import insert_sightings, upsert_posts
from pipeline.core.ingest.replies import resolve_reply_parents
from pipeline.core.ingest.verdicts import release
from pipeline.core.store import forgotten_accounts, mark_deleted, now_utc, purge_accounts, registered, transaction

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StoreResult:
    new_posts: int = 0
    new_requests: int = 0  # new posts that are help requests
    updated_posts: int = 0
    skipped_private: int = 0
    skipped_opted_out: int = 0
    purged_posts: int = 0
    deleted_posts: int = 0
    hidden_posts: int = 0  # of accounts whose opt-out, seen on a copy, awaits their home server
    skipped_untrusted: int = 0  # a server's own post credited to another server's account

    def add(self, other: StoreResult) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def store_page(con: duckdb.DuckDBPyConnection, page: Page, *, forgotten: set[str] | None = None,
               now: datetime | None = None) -> StoreResult:
    """Store one page and move its cursor, atomically."""
    with transaction(con):
        return store_pages_in_transaction(con, [page], forgotten=forgotten, now=now)[0]


def store_pages_in_transaction(con: duckdb.DuckDBPyConnection, pages: list[Page], *,
                               forgotten: set[str] | None = None, now: datetime | None = None,
                               link_replies: bool = True) -> list[StoreResult]:
    """Store several pages as one batch inside the caller's transaction; one result per page.

    The pages are applied as if one after the other (the newest edit of a post
    wins, an opt-out anywhere refuses the account everywhere, the last cursor of
    a key wins), but every statement runs once for all of them: a statement
    costs milliseconds whatever its size, so a commit of sixty small pages would
    otherwise spend its time in round trips. New posts are credited to the first
    page that carried them.

    Trust (design.md): a server is believed only about its own posts and
    accounts (``Page.speaks_for``). Another instance's copy may add a post or an
    account not stored yet, but its edits and profile changes are ignored; an
    opt-out on such a copy hides the account at once and stays a claim
    (``opt_outs.confirmed = false``) until the home server shows it.
    """
    try:
        return _store(con, pages, forgotten, now or now_utc(), link_replies)
    finally:
        release(pages)


def _store(con: duckdb.DuckDBPyConnection, pages: list[Page], forgotten: set[str] | None, now: datetime,
           link_replies: bool) -> list[StoreResult]:
    results = [StoreResult() for _ in pages]
    if forgotten is None:
        forgotten = forgotten_accounts(con)

    accounts: dict[str, Account] = {}
    home: set[str] = set()  # accounts whose profile in this batch comes from their home server
    confirmed: dict[str, str] = {}  # opt-outs shown by the account's home server: sticky, purge
    claimed: dict[str, str] = {}  # opt-outs seen only on other servers' copies: hide until confirmed
    first_page: dict[str, int] = {}  # account -> first page that carried it
    checked: set[tuple[int, bool]] = set()  # Account objects already judged (parsers reuse one per profile)
    for i, page in enumerate(pages):
        for account in [*page.accounts, *(p.author for p in page.posts)]:
            from_home = page.is_from_home(account)
            if from_home or account.key not in home:  # a copy never stands in for the home server's profile
                accounts[account.key] = account
            if from_home:
                home.add(account.key)
            first_page.setdefault(account.key, i)
            if (id(account), from_home) in checked:
                continue
            checked.add((id(account), from_home))
            reason = consent.opt_out_reason(account)
            if reason:
                (confirmed if from_home else claimed).setdefault(account.key, reason)
    claimed = {k: r for k, r in claimed.items() if k not in home}  # the home server's word, here, settles it
    still, sticky = still_opted_out(con, {k: accounts[k] for k in home}, accounts.keys() - confirmed.keys()
                                     - claimed.keys())
    refused = set(confirmed) | set(claimed) | (forgotten & accounts.keys()) | still
    if confirmed:
        remember_opt_outs(con, confirmed, now, confirmed=True)
    if claimed:
        remember_opt_outs(con, claimed, now, confirmed=False)

    keep: dict[str, Post] = {}
    from_origin: dict[str, bool] = {}  # uri -> whether the kept copy is its own server's
    credit: dict[str, int] = {}  # uri -> first page that carried it
    sightings: dict[tuple[str, str], str] = {}
    for i, page in enumerate(pages):
        result = results[i]
        for post in page.posts:
            if post.author.key in refused:
                result.skipped_opted_out += 1
                continue
            if not consent.storable_post(post):
                result.skipped_private += 1
                continue
            origin = page.is_from_origin(post)
            if origin and not page.is_from_home(post.author):
                # A server's own post names its own users; one by another server's account is made up.
                result.skipped_untrusted += 1
                log.warning("skipped %s: a post of that server, by %s of another", post.uri, post.author.key)
                continue
            if post.sighting is not None:
                sightings.setdefault((post.sighting.source, post.sighting.local_id), post.uri)
            previous = keep.get(post.uri)
            if previous is None:
                keep[post.uri] = post
                credit[post.uri] = i
                from_origin[post.uri] = origin
            elif (origin and not from_origin[post.uri]) or (origin == from_origin[post.uri] and _newer(post, previous)):
                keep[post.uri] = post  # the insert keeps one row per uri: the origin's copy, then the newest edit
                from_origin[post.uri] = origin

    sticky |= set(confirmed) | (forgotten & accounts.keys())
    for i, group in _by_first_page(stored_accounts(con, sticky), first_page).items():
        results[i].purged_posts = purge_accounts(con, group)
        forget_hidden(con, group)
    for i, group in _by_first_page(sorted(claimed), first_page).items():
        results[i].hidden_posts = hide_posts(con, group, now)
    if keep:
        new, requests, updated = upsert_posts(con, list(keep.values()), [from_origin[u] for u in keep], now)
        for uri in new:
            results[credit[uri]].new_posts += 1
        for uri in requests:
            results[credit[uri]].new_requests += 1
        for uri in updated:
            results[credit[uri]].updated_posts += 1
        sighted = insert_sightings(con, sightings, now)
        if link_replies:
            resolve_reply_parents(con, [keep[uri] for uri in new], sighted)
    # Kept: the authors of stored posts and the accounts a page names (list members, profiles
    # looked up for consent). Someone seen only through a post we may not keep is not stored.
    named = {a.key for page in pages for a in page.accounts} | {p.author.key for p in keep.values()}
    upsert_accounts(con, [a for key, a in accounts.items() if key in named and key not in refused], home, now)
    for i, page in enumerate(pages):
        if page.deleted:
            results[i].deleted_posts = mark_deleted(con, page.deleted, now)
    cursors = {page.cursor_key: page.cursor for page in pages if page.cursor_key and page.cursor is not None}
    if cursors:
        _save_cursors(con, cursors, now)
    return results


def _save_cursors(con: duckdb.DuckDBPyConnection, cursors: dict[str, str], now: datetime) -> None:
    with registered(con, "batch_cursors", pa.table({"cursor_key": list(cursors), "position": list(cursors.values())})):
        con.execute(
            "INSERT INTO cursors SELECT cursor_key, position, $now FROM batch_cursors ON CONFLICT (cursor_key) "
            "DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
            {"now": now},
        )



def _by_first_page(keys: list[str], first_page: dict[str, int]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for key in keys:
        groups.setdefault(first_page[key], []).append(key)
    return groups

def _newer(a: Post, b: Post) -> bool:
    if a.edited_at is None:
        return False
    return b.edited_at is None or a.edited_at > b.edited_at
