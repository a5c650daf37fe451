"""Keep a Bluesky curate list (and optionally a starter pack) in step with the approved follow-list.

Everything is a diff against the server, every run: the list's items are read
from the signed-in account's own repository (``com.atproto.repo.listRecords``,
which the PDS answers at once, unlike the AppView's ``getList``), compared with
the approved Bluesky accounts, and only the difference is written, in
``applyWrites`` batches (removals first, so a starter pack never holds more than
150). Running it twice writes nothing the second time, and a run that fails
part-way leaves a state the next run completes.

The list's AT-URI is kept in ``app_state``. A new list's record key is chosen
and saved *before* the record is written, and the record is written with
``putRecord`` at that key: a run that dies between the two leaves a key that the
next run writes again, never a second list.

All requests go through the collector's :class:`collectors.bluesky.connection.BlueskyConnection`
(one session, saved and reused; the ``ratelimit-*`` headers and 429 honoured;
5xx retried), so there is one Bluesky client in the project.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from collectors.bluesky.connection import BlueskyConnection
from collectors.bluesky.errors import BlueskyError
from collectors.bluesky.lexicon import (
    LIST_DESCRIPTION,
    LIST_NAME,
    STARTER_PACK_DESCRIPTION,
    STARTER_PACK_NAME,
    Limit,
    fit,
)
from collectors.bluesky.parse import format_time
from collectors.bluesky.repo import BlueskyRepo
from collectors.bluesky.tid import new_tid
from collectors.records import BLUESKY, SourceReport
from pipeline.collection import bluesky_source
from pipeline.core import store
from pipeline.core.settings import Settings
from pipeline.followlist import candidates as follows
from pipeline.signin import needs
from pipeline.summary.render import BlueskyPost, Tag, Text, bluesky_text

LIST = "app.bsky.graph.list"
LISTITEM = "app.bsky.graph.listitem"
STARTERPACK = "app.bsky.graph.starterpack"
CURATELIST = "app.bsky.graph.defs#curatelist"
REFERENCELIST = "app.bsky.graph.defs#referencelist"
STARTER_PACK_MAX = 150  # what the Bluesky app lets a starter pack hold
WRITE_BATCH = 100  # writes per applyWrites call (a PDS takes 200 at most)
LIST_KEY = "follows:bluesky:list"
PACK_LIST_KEY = "follows:bluesky:starter-pack-list"
PACK_KEY = "follows:bluesky:starter-pack"
PURPOSE = "syncing the Bluesky list"


class SyncError(RuntimeError):
    """The sync cannot start (no credentials, no home instance); one line for the organiser."""


# ---------------------------------------------------------------- what a sync did


@dataclass(frozen=True)
class Change:
    action: str  # "create" (a list or starter pack record), "add" or "remove" (a member), "dedupe" (a second item)
    target: str  # which list: "curate list", "starter pack list", "starter pack", "Mastodon list"
    subject: str  # the account key, or the record's name
    label: str = ""  # how people know the account (its handle), when it differs from the key

    def line(self, applied: bool) -> str:
        verb = {"create": "created", "add": "added", "remove": "removed", "dedupe": "removed"}[self.action] if (
            applied) else f"would {'remove' if self.action == 'dedupe' else self.action}"
        who = f"{self.label} ({self.subject})" if self.label and self.label != self.subject else self.subject
        if self.action == "dedupe":
            return f"{verb} a duplicate item of {who} from the {self.target}"
        if self.action == "create":
            return f"{verb} {self.target} '{self.subject}'"
        return f"{verb} {who} {'to' if self.action == 'add' else 'from'} the {self.target}"


@dataclass
class SyncReport:
    """The changes a sync made (or would make), the accounts it could not handle, and why it stopped."""

    platform: str
    applied: bool
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # accounts it cannot add, one line each
    error: str | None = None  # set when the run stopped part-way

    def lines(self) -> list[str]:
        return [c.line(self.applied) for c in self.changes]

    def summary(self) -> str:
        counts = {a: sum(c.action == a for c in self.changes) for a in ("add", "remove", "dedupe")}
        head = (f"{self.platform}: {counts['add']} {'added' if self.applied else 'to add'}, "
                f"{counts['remove']} {'removed' if self.applied else 'to remove'}")
        if counts["dedupe"]:
            head += f", {counts['dedupe']} duplicate items {'removed' if self.applied else 'to remove'}"
        if self.problems:
            head += f", {len(self.problems)} cannot be added (listed above)"
        if self.error:
            return f"{head} before it stopped: {self.error}; run it again to finish"
        if not self.applied:
            return head + " (dry run: nothing written; add --apply to write)"
        return head if self.changes or self.problems else f"{self.platform}: already in step, nothing written"


# ---------------------------------------------------------------- named state


class StateStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


def load_state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM app_state").fetchall())


def save_state(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO app_state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value, updated_at = excluded.updated_at",
        [key, value, store.now_utc()],
    )


@dataclass
class DbState:
    """``app_state`` in the database file, each write holding the file only as long as it lasts.

    The sync spends most of its time on the network; the collector may want the file meanwhile.
    """

    path: Path
    values: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        with store.writing(self.path) as con:
            save_state(con, key, value)
        self.values[key] = value


# ---------------------------------------------------------------- the signed-in repository


def open_repo(conn: BlueskyConnection) -> BlueskyRepo:
    """The signed-in account's repository; a connection without an account is a SyncError for the organiser."""
    try:
        return BlueskyRepo(bluesky_source.signed_in(conn, PURPOSE))
    except needs.Missing as exc:
        raise SyncError(str(exc)) from None


def list_items(repo: BlueskyRepo, list_uri: str) -> dict[str, list[str]]:
    """The list's items as subject DID -> record keys (two keys for one DID are a duplicate to remove)."""
    found: dict[str, list[str]] = {}
    for r in repo.records(LISTITEM):
        value = r.get("value")
        if isinstance(value, dict) and value.get("list") == list_uri and isinstance(value.get("subject"), str):
            found.setdefault(value["subject"], []).append(str(r.get("uri", "")).rsplit("/", 1)[-1])
    return found


# ---------------------------------------------------------------- the sync


@dataclass(frozen=True)
class ListSpec:
    """One list to keep in step: where its URI is kept, its record, and who should be on it."""

    state_key: str
    target: str  # for messages
    record: dict
    members: Sequence[tuple[str, str]]  # (DID, handle), in order


def sync_bluesky(repo: BlueskyRepo, members: Sequence[dict[str, Any]], state: StateStore, *, name: str,
                 description: BlueskyPost, apply: bool, starter_pack: bool, now: datetime,
                 batch: int = WRITE_BATCH) -> SyncReport:
    """Make the curate list (and, with ``starter_pack``, the starter pack) match ``members`` exactly.

    Every string is cut to its lexicon's limits (bytes and graphemes) before
    anything is written: a PDS refuses a whole record for one string too long.
    """
    report = SyncReport("bluesky", applied=apply)
    created = format_time(now)
    wanted = [(m["account"], m.get("handle") or m["account"]) for m in members]
    try:
        _sync_list(repo, state, ListSpec(LIST_KEY, "curate list", {
            "$type": LIST, "purpose": CURATELIST, "name": fit(name, LIST_NAME),
            **_described(description, LIST_DESCRIPTION), "createdAt": created}, wanted),
            report, apply=apply, created=created, batch=batch)
        if starter_pack:
            pack_list = _sync_list(repo, state, ListSpec(PACK_LIST_KEY, "starter pack list", {
                "$type": LIST, "purpose": REFERENCELIST, "name": fit(name, LIST_NAME), "createdAt": created},
                wanted[:STARTER_PACK_MAX]), report, apply=apply, created=created, batch=batch)
            _ensure_record(repo, state, PACK_KEY, STARTERPACK, "starter pack", {
                "$type": STARTERPACK, "name": fit(name, STARTER_PACK_NAME),
                **_described(description, STARTER_PACK_DESCRIPTION), "list": pack_list, "createdAt": created},
                report, apply=apply)
    except BlueskyError as e:
        report.error = str(e)
    return report


def describe(community: str, tag: str) -> BlueskyPost:
    """The list's description, its ``#tag`` a tag facet as the Bluesky app writes it."""
    return bluesky_text((((Text(f"People of the {community} community ("), Tag(tag),
                           Text(") who help each other, chosen by its organiser.")),),))


def _described(description: BlueskyPost, limit: Limit) -> dict:
    """``description`` and ``descriptionFacets`` fitted to ``limit``; facets past a cut are dropped."""
    text = fit(description.text, limit)
    size = len(text.encode("utf-8"))
    facets = [f for f in description.facets if f["index"]["byteEnd"] <= size]
    return {"description": text, **({"descriptionFacets": facets} if facets else {})}


def _sync_list(repo: BlueskyRepo, state: StateStore, spec: ListSpec, report: SyncReport, *, apply: bool,
               created: str, batch: int) -> str:
    known = state.get(spec.state_key) is not None  # a list never saved has no items to read
    uri = _ensure_record(repo, state, spec.state_key, LIST, spec.target, spec.record, report, apply=apply)
    current = list_items(repo, uri) if known else {}
    wanted = dict(spec.members)
    planned: list[tuple[list[dict], Change]] = []  # removals first: a starter pack never exceeds 150
    for did, rkeys in sorted(current.items()):
        keep = 1 if did in wanted else 0  # of duplicates, the oldest item stays
        for n, rkey in enumerate(sorted(rkeys)[keep:]):
            change = Change("remove" if not keep and n == 0 else "dedupe", spec.target, did, wanted.get(did, ""))
            planned.append(([{"$type": "com.atproto.repo.applyWrites#delete", "collection": LISTITEM,
                              "rkey": rkey}], change))
    for did, handle in spec.members:
        if did not in current:
            # The record key is chosen here, not by the PDS: a batch whose answer was lost can then be checked
            # item by item, and a retry that finds the items made creates nothing twice.
            planned.append(([{"$type": "com.atproto.repo.applyWrites#create", "collection": LISTITEM,
                              "rkey": new_tid(),
                              "value": {"$type": LISTITEM, "subject": did, "list": uri, "createdAt": created}}],
                            Change("add", spec.target, did, handle)))
    if not apply:
        report.changes += [change for _, change in planned]
        return uri
    for start in range(0, len(planned), batch):
        chunk = planned[start:start + batch]
        writes = [w for entry, _ in chunk for w in entry]
        try:
            repo.apply(writes)
        except BlueskyError:
            if not _landed(list_items(repo, uri), writes):
                raise
            # The PDS made the writes but the answer was lost (and a retry was refused as a duplicate).
        report.changes += [change for _, change in chunk]  # only what the server holds is reported as done
    return uri


def _landed(items: dict[str, list[str]], writes: list[dict]) -> bool:
    """Whether the list's items show every write of a batch done: its creates there, its deletes gone."""
    present = {rkey for rkeys in items.values() for rkey in rkeys}
    return all((w["rkey"] in present) == w["$type"].endswith("#create") for w in writes)


def _ensure_record(repo: BlueskyRepo, state: StateStore, key: str, collection: str, target: str, record: dict,
                   report: SyncReport, *, apply: bool) -> str:
    """The record's AT-URI; a missing record is created, its key saved before it is written."""
    uri = state.get(key)
    if uri and not uri.startswith(f"at://{repo.did}/{collection}/"):
        uri = None  # kept for another account (the credentials changed): start one for this account
    rkey = uri.rsplit("/", 1)[1] if uri else new_tid()
    if uri and repo.get(collection, rkey) is not None:
        return uri
    uri = f"at://{repo.did}/{collection}/{rkey}"
    if apply:
        if state.get(key) != uri:
            state.set(key, uri)
        repo.put(collection, rkey, record)
    report.changes.append(Change("create", target, record["name"]))
    return uri


# ---------------------------------------------------------------- from the settings (CLI and dashboard)


def bluesky_follow_sync(settings: Settings, *, apply: bool, starter_pack: bool = False,
                        as_of: datetime | None = None, sleep: Callable[[float], None] = time.sleep,
                        batch: int = WRITE_BATCH) -> tuple[SyncReport, follows.Listing]:
    """Read the approved Bluesky accounts, then sync the signed-in account's list.

    The database is read first and not held while the network is used.
    """
    as_of = as_of or store.now_utc()
    try:
        bluesky_source.require_account(settings, PURPOSE)
    except needs.Missing as exc:
        raise SyncError(str(exc)) from None
    with store.reading(settings.db_path) as con:
        listing = follows.listing(con, as_of)
        state = DbState(settings.db_path, load_state(con))
    report = SourceReport(source="bluesky:follows", platform=BLUESKY)
    tag = settings.tags[0] if settings.tags else ""
    description = describe(settings.community, tag)
    try:
        with bluesky_source.connect(settings, report, since=as_of, sleep=sleep) as conn:
            result = sync_bluesky(open_repo(conn), listing.on(BLUESKY), state, name=settings.community,
                                  description=description, apply=apply, starter_pack=starter_pack, now=as_of,
                                  batch=batch)
    except BlueskyError as e:
        result = SyncReport("bluesky", applied=apply, error=str(e))
    return result, listing
