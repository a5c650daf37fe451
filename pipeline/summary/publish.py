"""Publishing a week's summary thread: idempotent, and resumed rather than restarted after a failure.

Each post is recorded in ``published_posts`` (one row per post, committed the
moment the platform accepted it), so a second run for the same week and
platform posts nothing and a run that failed half-way continues the thread
where it stopped. The thread's texts are saved in ``app_state`` together with
its first post, and a resumed run posts those saved texts, not a fresh
composition whose figures may have moved since: a thread never mixes two
versions of the summary.

The one gap a local record cannot close is a crash after the platform accepted
a post and before the row was committed. Both platforms close it with a key
derived from the community, week, platform and position in the thread: on
Mastodon the ``Idempotency-Key`` header (the server answers a repeated key
with the status it already created), on Bluesky the record key (a second
``createRecord`` at that key is refused, and the existing record is read back).

The database is opened only for those short reads and commits, never while a
request is in flight, so a collector sharing the file waits milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import duckdb

from collectors.records import BLUESKY, MASTODON
from pipeline.core import store
from pipeline.platforms import NAMES
from pipeline.summary.compose import Summary, Week

log = logging.getLogger(__name__)

PLATFORMS = NAMES  # the platforms a summary is composed and published for


class PublishError(Exception):
    """A post was not accepted; one line for the organiser, never a secret."""


class TooLong(PublishError):
    """The platform refused a post for its length: its count differs from ours (GoToSocial counts links in full)."""


MAX_SPLITS = 8  # posts cut in two after a length refusal, per run
_MARKER = re.compile(r"\n\n(\d+)/(\d+)$")  # the "2/5" paragraph that ends each post of a thread


@dataclass(frozen=True)
class Planned:
    """One post of the thread as it will be sent: its text, and its facets on Bluesky."""

    text: str
    facets: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Remote:
    """What the platform answered for an accepted post."""

    remote_id: str | None
    uri: str | None
    cid: str | None
    url: str | None


@dataclass(frozen=True)
class Posted:
    """A ``published_posts`` row."""

    seq: int
    idempotency_key: str
    remote_id: str | None
    uri: str | None
    cid: str | None
    url: str | None
    text: str
    posted_at: datetime


class Poster(Protocol):
    """A platform that can post one item of a thread, as a reply to what came before it."""

    platform: str

    def key(self, week: Week, seq: int) -> str:
        """The same key every time for this week and position: what makes a retry harmless."""
        ...

    def post(self, item: Planned, key: str, thread: Sequence[Posted]) -> Remote:
        """Send ``item`` as a reply to ``thread[-1]`` (the thread's root is ``thread[0]``); raise PublishError."""
        ...


@dataclass
class ThreadReport:
    platform: str
    week: str
    total: int = 0
    already: int = 0  # posts found recorded before this run
    posted: list[Posted] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """One line for the terminal or a cron mail."""
        done = self.already + len(self.posted)
        first = self.posted[0].url if self.posted and self.already == 0 else None
        if self.error:
            where = f" after {done} of {self.total} posts" if self.total else ""
            hint = "; run again to continue the thread" if done else ""
            return f"{self.platform}: FAILED{where}: {self.error}{hint}"
        if not self.total:
            return f"{self.platform}: nothing to post for {self.week} (the template gave no text)"
        if not self.posted:
            return f"{self.platform}: {self.week} already published ({self.already} posts)"
        verb = "continued" if self.already else "posted"
        return f"{self.platform}: {verb} {self.week}, {done} of {self.total} posts" + (f": {first}" if first else "")


# ---------------------------------------------------------------- keys


def community_hash(community: str) -> str:
    """Eight hex digits naming the community, so two communities posting from one account never share a key."""
    return hashlib.sha256(community.encode("utf-8")).hexdigest()[:8]


def idempotency_key(community: str, week: Week, platform: str, seq: int) -> str:
    return f"peerdesk-summary-{week.label}-{platform}-{seq}-{community_hash(community)}"


# ---------------------------------------------------------------- the record


def _plan_key(week: str, platform: str) -> str:
    return f"summary:{week}:{platform}"


# Each platform's thread as the summary composed it, keyed like pipeline.platforms.NAMES.
PLANNED: dict[str, Callable[[Summary], list[Planned]]] = {
    MASTODON: lambda summary: [Planned(text) for text in summary.mastodon],
    BLUESKY: lambda summary: [Planned(post.text, post.facets) for post in summary.bluesky],
}


def planned_posts(summary: Summary, platform: str) -> list[Planned]:
    if platform not in PLANNED:
        raise ValueError(f"unknown platform {platform!r} (known: {', '.join(PLATFORMS)})")
    return PLANNED[platform](summary)


def published(con: duckdb.DuckDBPyConnection, week: str, platform: str) -> list[Posted]:
    """The posts recorded for a week and platform, in thread order."""
    rows = con.execute(
        "SELECT seq, idempotency_key, remote_id, uri, cid, url, text, posted_at FROM published_posts "
        "WHERE week = ? AND platform = ? ORDER BY seq", [week, platform]).fetchall()
    return [Posted(*row) for row in rows]


def saved_plan(con: duckdb.DuckDBPyConnection, week: str, platform: str) -> list[Planned] | None:
    """The thread as it was composed when its first post went out, if it did."""
    row = con.execute("SELECT value FROM app_state WHERE key = ?", [_plan_key(week, platform)]).fetchall()
    if not row:
        return None
    return [Planned(item["text"], item.get("facets") or []) for item in json.loads(row[0][0])["posts"]]


def thread_state(con: duckdb.DuckDBPyConnection, summary: Summary, platform: str
                 ) -> tuple[list[Planned], list[Posted]]:
    """What a publish run would work from: the saved thread once one post is out, else the fresh one."""
    done = published(con, summary.week.label, platform)
    plan = saved_plan(con, summary.week.label, platform) if done else None
    return plan or planned_posts(summary, platform), done


def split_refused(items: list[Planned], index: int) -> list[Planned] | None:
    """The thread with ``items[index]`` cut in two near its middle and the posts from there on renumbered.

    None when the post cannot be cut (one unbroken line, or facets, whose byte
    offsets a cut would break: Bluesky's limits are counted exactly anyway).
    Posts before ``index`` are out already and keep their numbers.
    """
    if items[index].facets:
        return None
    halves = _halve(_MARKER.sub("", items[index].text))
    if halves is None:
        return None
    rest = [_MARKER.sub("", p.text) for p in items[index + 1:]]
    bodies = [p.text for p in items[:index]] + list(halves) + rest
    total = len(bodies)
    return [Planned(text if i < index else f"{text}\n\n{i + 1}/{total}") for i, text in enumerate(bodies)]


def _halve(text: str) -> tuple[str, str] | None:
    """``text`` in two at the break nearest its middle: a blank line, else a line break, else a sentence or word."""
    middle = len(text) / 2
    for pattern in (r"\n\n", r"\n", r"(?<=[.!?]) ", r" "):
        cuts = [m.start() for m in re.finditer(pattern, text) if text[:m.start()].strip() and text[m.end():].strip()]
        if cuts:
            at = min(cuts, key=lambda c: abs(c - middle))
            return text[:at].rstrip(), text[at:].lstrip()
    return None


def _save_plan(con: duckdb.DuckDBPyConnection, week: str, platform: str, plan: list[Planned], when: datetime) -> None:
    value = json.dumps({"posts": [asdict(p) for p in plan]}, ensure_ascii=False)
    con.execute("INSERT INTO app_state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at", [_plan_key(week, platform), value, when])


def _record(con: duckdb.DuckDBPyConnection, week: str, platform: str, row: Posted, plan: list[Planned] | None
            ) -> None:
    with store.transaction(con):
        # Two runs at once (overlapping cron jobs) send the same keys, so the platform hands both the same
        # post; whichever records it first wins, and the other's row and thread are the same post anyway.
        if con.execute("SELECT count(*) FROM published_posts WHERE week = ? AND platform = ? AND seq = ?",
                       [week, platform, row.seq]).fetchall()[0][0]:
            return
        con.execute("INSERT INTO published_posts (week, platform, seq, idempotency_key, remote_id, uri, cid, url,"
                    " text, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [week, platform, row.seq, row.idempotency_key, row.remote_id, row.uri, row.cid, row.url,
                     row.text, row.posted_at])
        if plan is not None:
            _save_plan(con, week, platform, plan, row.posted_at)


# ---------------------------------------------------------------- publishing


def publish_thread(db_path: Path | str, summary: Summary, poster: Poster, *,
                   clock: Callable[[], datetime] = store.now_utc) -> ThreadReport:
    """Post what is missing of ``summary``'s thread on ``poster``'s platform; never raises PublishError."""
    week, platform = summary.week.label, poster.platform
    report = ThreadReport(platform, week)
    with store.writing(db_path) as con:  # a writer: it brings an older file's schema up to date
        items, done = thread_state(con, summary, platform)
    if done and len(done) < len(items) and [p.seq for p in done] != list(range(1, len(done) + 1)):
        report.error = f"published_posts holds a broken thread for {week} (seq {[p.seq for p in done]})"
        return report
    report.total, report.already = len(items), len(done)
    thread = list(done)
    seq, splits = len(done) + 1, 0
    while seq <= len(items):
        item, key = items[seq - 1], poster.key(summary.week, seq)
        try:
            remote = poster.post(item, key, thread)
        except TooLong as exc:
            cut = split_refused(items, seq - 1) if splits < MAX_SPLITS else None
            if cut is None:
                report.error = str(exc)
                return report
            # The refused post made nothing, so its key is free for the first half. Once a post is out the
            # saved plan is what later runs continue from: it changes before anything more is sent.
            items, splits, report.total = cut, splits + 1, len(cut)
            log.info("%s: post %d for %s was refused for its length; cut in two (%d posts now)",
                     platform, seq, week, len(items))
            if done or thread:
                with store.writing(db_path) as con, store.transaction(con):
                    _save_plan(con, week, platform, items, clock())
            continue
        except PublishError as exc:
            report.error = str(exc)
            log.warning("%s: post %d of %d for %s failed: %s", platform, seq, len(items), week, exc)
            return report
        row = Posted(seq, key, remote.remote_id, remote.uri, remote.cid, remote.url, item.text, clock())
        with store.writing(db_path) as con:
            _record(con, week, platform, row, items if seq == 1 else None)
        thread.append(row)
        report.posted.append(row)
        seq += 1
    return report


# ---------------------------------------------------------------- forgetting


def _name_pattern(names: Sequence[str]) -> re.Pattern[str]:
    """A name as a summary writes it, plain or as a mention, and not as part of a longer name."""
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(rf"(?<![\w@.-])@?(?:{alternatives})(?![\w@-]|\.\w)", re.IGNORECASE)


def unname(con: duckdb.DuckDBPyConnection, account: str, names: Sequence[str]) -> int:
    """Take a forgotten account out of the summary threads kept here; returns how many were changed.

    Posts already out keep their place in the thread (a resumed run replies to
    them) but their recorded text loses the name. A saved thread whose posts
    still to be sent would name the account is dropped, so a resumed run
    composes the rest afresh, without it: better a thread of two versions than
    one that names someone who asked to be forgotten.
    """
    pattern = _name_pattern(names)
    changed = 0
    for week, platform, seq, text in con.execute(
            "SELECT week, platform, seq, text FROM published_posts ORDER BY ALL").fetchall():
        if pattern.search(text):
            con.execute("UPDATE published_posts SET text = ? WHERE week = ? AND platform = ? AND seq = ?",
                        [pattern.sub("someone", text), week, platform, seq])
            changed += 1
    for key, value in con.execute("SELECT key, value FROM app_state WHERE starts_with(key, 'summary:')").fetchall():
        _, week, platform = key.split(":", 2)
        posts = json.loads(value)["posts"]
        sent = len(published(con, week, platform))
        if any(_names(item, pattern, account) for item in posts[sent:]):
            con.execute("DELETE FROM app_state WHERE key = ?", [key])
            changed += 1
        elif any(_names(item, pattern, account) for item in posts[:sent]):
            # Never sent again: only their number matters to a resumed run, so their facets can go.
            scrubbed = [{"text": pattern.sub("someone", p["text"]), "facets": []} if i < sent else p
                        for i, p in enumerate(posts)]
            con.execute("UPDATE app_state SET value = ? WHERE key = ?",
                        [json.dumps({"posts": scrubbed}, ensure_ascii=False), key])
            changed += 1
    return changed


def _names(item: dict, pattern: re.Pattern[str], account: str) -> bool:
    return bool(pattern.search(item["text"])) or any(
        f.get("did") == account for facet in item.get("facets") or [] for f in facet.get("features", []))
