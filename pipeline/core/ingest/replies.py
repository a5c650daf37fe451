"""Reply links: parents named by a local id resolved through sightings, roots carried down threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from collectors.records import Post
from pipeline.core.ingest.keyed import key_chunks, rows_by_key
from pipeline.core.store import registered

MAX_THREAD_DEPTH = 64

# The stored posts kept in ``reply_waits`` as well (migration 8): a reply waiting for a parent named by a local id
# on a known source, or with a parent and no root yet. Every writer of post_store's reply columns keeps it in step.
WAITING = ("(reply_to IS NULL AND reply_to_source IS NOT NULL AND reply_to_local_id IS NOT NULL) "
           "OR (reply_to IS NOT NULL AND reply_root IS NULL)")
WAITING_COLUMNS = "uri, reply_to, reply_to_source, reply_to_local_id, reply_root"


def resolve_reply_parents(con: duckdb.DuckDBPyConnection, arrived: Sequence[Post],
                          sighted: Mapping[tuple[str, str], str]) -> None:
    """Link replies to their parents and roots as soon as both ends are stored.

    Mastodon names a parent by its local id on the instance where the reply
    was seen; once that id has been sighted, we know the parent's uri. A reply's
    root (the help request it answers) is its parent's root, or the parent.

    Only what this batch can have changed is looked at, so a commit costs the
    same however many posts are stored: the posts that ``arrived`` (their
    parents, walked upwards through the primary key), and in ``reply_waits``
    (the replies still waiting, apart from the stored posts) those waiting for
    a local id ``sighted`` now and those below any of these (walked downwards,
    a level of a thread per read). ``reply_waits`` is brought in step with the
    links written, in the caller's transaction.

    ``sighted`` holds the sightings first stored by this batch, with their uris:
    a reply waiting for an id sighted earlier was linked when it arrived, so
    only these can link stored replies, and reading them back is not needed.
    """
    if not arrived and not sighted:
        return
    waiting = [(p.uri, p.sighting.source, p.reply_to_local) for p in arrived
               if p.reply_to is None and p.reply_to_local is not None and p.sighting is not None]
    # Each side of a link is found from the small end: the stored replies (in reply_waits) naming a parent
    # sighted now, and the new replies' parents among the sightings, through the local id's index.
    with registered(con, "sighted_ids", pa.table({
                "source": pa.array([s for s, _ in sighted], pa.string()),
                "local_id": pa.array([i for _, i in sighted], pa.string()),
                "uri": pa.array(list(sighted.values()), pa.string())})):
        found = con.execute(
            """
            SELECT p.uri, s.uri FROM reply_waits AS p
            JOIN sighted_ids AS s ON p.reply_to_source = s.source AND p.reply_to_local_id = s.local_id
            WHERE p.reply_to IS NULL
            """).fetchall()
    parents = {(source, local_id): uri for source, local_id, uri in rows_by_key(
        con, "SELECT source, local_id, uri FROM sightings", "local_id", [local_id for _, _, local_id in waiting])}
    found += [(uri, parents[source, local_id]) for uri, source, local_id in waiting if (source, local_id) in parents]
    linked = dict(found)  # written with the roots, in one UPDATE at the end
    start = {p.uri for p in arrived} | linked.keys()
    # uri -> (parent, root): parent None for a top-level post, root None while unknown; absent when not stored
    rows: dict[str, tuple[str | None, str | None]] = {}
    unresolved_parent: set[str] = set()  # replies whose parent is named only by a local id not sighted yet

    def note(uri: str, parent: str | None, root: str | None, local: str | None) -> str | None:
        """Record a stored post's place in its thread; returns the parent still to read, if any."""
        if parent is None and local is not None:
            unresolved_parent.add(uri)
            return None
        rows[uri] = (parent, root)
        return parent if parent is not None and root is None else None

    # What arrived is known without reading it back; the replies linked just now are read.
    wanted = {note(p.uri, linked.get(p.uri, p.reply_to), p.reply_root, p.reply_to_local) for p in arrived}
    wanted |= linked.keys()
    for _ in range(MAX_THREAD_DEPTH + 1):  # upwards: the batch's replies and their ancestors
        wanted = {u for u in wanted if u is not None and u not in rows and u not in unresolved_parent}
        if not wanted:
            break
        wanted = {note(uri, linked.get(uri, parent), root, local) for uri, parent, root, local in rows_by_key(
            con, "SELECT uri, reply_to, reply_root, reply_to_local_id FROM post_store", "uri", wanted)}

    roots: dict[str, str] = {}

    def root_of(uri: str) -> str | None:
        """The root a stored post gives the replies below it: its own, or itself when top-level."""
        if uri in roots:
            return roots[uri]
        if uri not in rows:  # not stored, or waiting for a parent named by a local id
            return None
        parent, root = rows[uri]
        return uri if parent is None else root

    for uri in start:
        chain = [uri]
        while len(chain) <= MAX_THREAD_DEPTH and chain[-1] in rows and chain[-1] not in roots:
            parent, root = rows[chain[-1]]
            if parent is None or root is not None:
                break
            found = root_of(parent)
            if found is not None:
                roots[chain[-1]] = found
                break
            if parent not in rows or parent in chain:  # an unknown parent, or a loop
                break
            chain.append(parent)
        found = roots.get(chain[-1])
        if found is not None:
            for link in chain:
                roots[link] = found

    # Downwards: stored replies waiting below a post that now has a root, or is one.
    frontier = {u: r for u in start | roots.keys() if (r := root_of(u)) is not None}
    seen = set(frontier)
    for _ in range(MAX_THREAD_DEPTH):
        if not frontier:
            break
        below: dict[str, str] = {}
        for uri, parent in _waiting_below(con, set(frontier)):
            if uri not in seen and parent in frontier:
                below[uri] = roots[uri] = frontier[parent]
        seen |= below.keys()
        frontier = below
    if linked or roots:
        changed = sorted(linked.keys() | roots.keys())
        with registered(con, "found_links", pa.table({
                "uri": pa.array(changed, pa.string()),
                "parent": pa.array([linked.get(u) for u in changed], pa.string()),
                "root": pa.array([roots.get(u) for u in changed], pa.string())})):
            for marks, chunk in key_chunks(changed):  # the uris listed: found through the primary key
                con.execute("UPDATE post_store AS p SET reply_to = coalesce(f.parent, p.reply_to), "
                            "reply_root = coalesce(f.root, p.reply_root) FROM found_links AS f "
                            f"WHERE p.uri = f.uri AND p.uri IN ({marks}) "
                            "AND (f.parent IS NOT NULL OR p.reply_root IS DISTINCT FROM f.root)", chunk)
            # The same change to the waiting rows; those complete now leave.
            con.execute("UPDATE reply_waits AS p SET reply_to = coalesce(f.parent, p.reply_to), "
                        "reply_root = coalesce(f.root, p.reply_root) FROM found_links AS f WHERE p.uri = f.uri")
            con.execute(f"DELETE FROM reply_waits WHERE uri IN (SELECT uri FROM found_links) AND NOT ({WAITING})")


def refill_reply_waits(con: duckdb.DuckDBPyConnection) -> None:
    """``reply_waits`` made again from post_store (after ``peerdesk repair`` copied what it could of each)."""
    con.execute("DELETE FROM reply_waits")
    con.execute(f"INSERT INTO reply_waits SELECT {WAITING_COLUMNS} FROM post_store WHERE {WAITING}")


def _waiting_below(con: duckdb.DuckDBPyConnection, parents: set[str]) -> list[tuple[str, str]]:
    """(uri, reply_to) of the stored replies to these posts that have no root yet: all are in ``reply_waits``."""
    with registered(con, "wanted", pa.table({"uri": pa.array(sorted(parents), pa.string())})):
        return con.execute("SELECT uri, reply_to FROM reply_waits "
                           "WHERE reply_root IS NULL AND reply_to IN (SELECT uri FROM wanted)").fetchall()
