"""Naming an account: the one place that turns what an organiser typed into an account key.

People copy a name from wherever they saw it: ``user@domain`` or ``@user@domain``
from Mastodon, a handle or a profile link from Bluesky, a profile page from the
browser. Every command that takes an account (``follows approve|reject|reset``,
``forget``) comes through :func:`resolve_account`, so they all accept the same
names and agree on whom a name means. Keys are the stable ones (README "Data
model"): ``user@home-domain`` lower-cased for Mastodon, the DID for Bluesky, never
the handle, which its owner can change (and hand to someone else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

import duckdb

from collectors.records import BLUESKY

_DID = re.compile(r"did:(plc|web):[A-Za-z0-9._:%-]+")
_ACCT = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*(:\d+)?")  # a port for servers on a local address
_HANDLE = re.compile(r"[\w-]+(\.[\w-]+)+")
_BLUESKY_WEB = frozenset({"bsky.app", "www.bsky.app", "staging.bsky.app"})


class UnknownAccount(LookupError):
    """Nothing stored answers to this name: peerdesk only acts on accounts it has seen."""


class AmbiguousAccount(UnknownAccount):
    """More than one stored account answers to this name (a handle that moved from one DID to another)."""


@dataclass(frozen=True)
class AccountName:
    """What a typed name can mean, before the database is asked.

    ``key`` is the stable key the name spells out by itself (a DID, ``user@domain``);
    ``handle`` a Bluesky handle to look up; ``profile`` a Mastodon profile page
    (``host/@user``, scheme left out) to look up, because a server whose web host
    differs from its users' domain keys them by the domain, not the host.
    """

    text: str
    key: str | None = None
    handle: str | None = None
    profile: str | None = None


def parse_name(text: str) -> AccountName:
    """Read a name as an organiser types it; raises :class:`UnknownAccount` for one that names nobody."""
    name = text.strip()
    if not name:
        raise UnknownAccount("an empty account name: give user@domain, a DID, a Bluesky handle or a profile URL")
    if "://" in name:
        return _parse_url(name)
    if name.startswith("did:"):
        if not _DID.fullmatch(name):
            raise UnknownAccount(f"{name}: not a DID (did:plc:… or did:web:…)")
        return AccountName(name, key=name)
    bare = name.removeprefix("@").lower()
    if "@" in bare:
        if not _ACCT.fullmatch(bare):
            raise UnknownAccount(f"{name}: not an account name (user@domain)")
        user, domain = bare.split("@", 1)
        return AccountName(name, key=bare, profile=f"{domain}/@{user}")
    if not _HANDLE.fullmatch(bare):
        raise UnknownAccount(f"{name}: not an account name (user@domain, a DID, a Bluesky handle or a profile URL)")
    return AccountName(name, handle=bare)


def _parse_url(name: str) -> AccountName:
    parts = urlsplit(name)
    host = (parts.hostname or "").lower()
    if parts.port:
        host = f"{host}:{parts.port}"
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if parts.scheme not in ("http", "https") or not host:
        raise UnknownAccount(f"{name}: not a profile URL")
    if host in _BLUESKY_WEB:
        if len(segments) >= 2 and segments[0] == "profile":
            ident = segments[1]
            if ident.startswith("did:"):
                return replace(parse_name(ident), text=name)
            return AccountName(name, handle=ident.lower())
        raise UnknownAccount(f"{name}: not a Bluesky profile URL (https://bsky.app/profile/<handle or DID>)")
    if segments and segments[0].startswith("@") and len(segments[0]) > 1:
        user = segments[0][1:].lower()
        if "@" in user:  # a remote account's page on another server: https://glammr.us/@bea@example.org
            return AccountName(name, key=parse_name(user).key, profile=None)
        return AccountName(name, key=f"{user}@{host}", profile=f"{host}/@{user}")
    if len(segments) >= 2 and segments[0] == "users":
        user = segments[1].lower()
        return AccountName(name, key=f"{user}@{host}", profile=f"{host}/@{user}")
    raise UnknownAccount(f"{name}: not a profile URL (https://host/@user, https://host/users/user, "
                         "https://bsky.app/profile/<handle or DID>)")


def is_stable_key(name: AccountName) -> bool:
    """Does the name itself spell a stable key, so a refusal can be kept for an account never seen?

    A Bluesky handle does not: it points at a DID only through the network, and
    its owner can change it. Nor does a Mastodon profile URL's host: a split-domain
    server shows ``user@example.org`` at ``https://social.example.org/@user``.
    """
    return name.key is not None and name.handle is None and not _from_web_host(name)


def _from_web_host(name: AccountName) -> bool:
    """Was the key made from a profile URL's host (``https://host/@user``), which may not be the account's domain?"""
    return "://" in name.text and name.profile is not None


def matches(con: duckdb.DuckDBPyConnection, name: AccountName) -> list[str]:
    """Every account key the name may mean: stored, decided about, or already forgotten."""
    rows = con.execute(
        """
        WITH known AS (
            SELECT account, platform, handle, url FROM account_store
            UNION ALL SELECT account, NULL, NULL, NULL FROM follow_decisions
            UNION ALL SELECT account, NULL, NULL, NULL FROM forgotten
        )
        SELECT DISTINCT account FROM known
        WHERE account = $key
           OR ($handle IS NOT NULL AND platform = $bluesky AND lower(handle) = $handle)
           OR ($profile IS NOT NULL AND regexp_replace(lower(url), '^https?://', '') = $profile)
        ORDER BY account
        """,
        {"key": name.key, "handle": name.handle, "profile": name.profile, "bluesky": BLUESKY},
    ).fetchall()
    return [r[0] for r in rows]


def resolve_account(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """The one account key for what an organiser typed, or :class:`UnknownAccount` / :class:`AmbiguousAccount`.

    An account counts as known when it is stored, has a follow-list decision (an
    approved account that later opted out is no longer stored, but can still be
    rejected) or was forgotten.
    """
    name = parse_name(text)
    return _only(name, matches(con, name))


def forget_target(con: duckdb.DuckDBPyConnection, text: str, *, unseen: bool = False) -> tuple[str, bool]:
    """The key ``peerdesk forget`` acts on, and whether it was forgotten before.

    A name that matches nobody is refused, so a typo never passes for a purge.
    With ``unseen``, a name that spells a stable key (``user@domain``, a DID) is
    taken as it is: someone who asks before peerdesk ever saw them is kept out
    all the same. A handle cannot be: it names a DID only through the network.
    """
    name = parse_name(text)
    found = matches(con, name)
    if not found and unseen:
        if _from_web_host(name):
            raise UnknownAccount(f"{name.text}: a profile URL's host need not be its account's domain; give the "
                                 "account as user@domain")
        if not is_stable_key(name):
            raise UnknownAccount(f"{name.text}: a Bluesky handle can only be forgotten once its account is stored "
                                 "(handles change hands); give its DID")
        found = [name.key]  # type: ignore[list-item]
    if not found and is_stable_key(name):
        raise UnknownAccount(f"{name.text}: not a stored account; check the spelling, or add --unseen to keep it "
                             "out before it is ever collected")
    key = _only(name, found)
    already = con.execute("SELECT count(*) FROM forgotten WHERE account = ?", [key]).fetchall()[0][0]
    return key, bool(already)


def _only(name: AccountName, found: list[str]) -> str:
    if len(found) > 1:
        raise AmbiguousAccount(f"{name.text}: more than one account answers to this name ({', '.join(found)}); "
                               "give one of them")
    if not found:
        what = "no stored Bluesky account has this handle" if name.handle else "not a stored account"
        raise UnknownAccount(f"{name.text}: {what} (peerdesk only knows accounts it has seen)")
    return found[0]
