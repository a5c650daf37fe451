"""Which of a stream batch's posts may be stored: its authors' consent, and for a thread reply its root's author's.

A reply is kept because it answers a stored help request, so when the person
who asked opted out (or the AppView no longer shows them), the replies under
their request go too; one who opted out is stored again as an account, so that
the store purges what it holds of them. Plain functions of the batch and the
profiles looked up for it: the opt-outs the database already holds are applied
when the batch is committed (:mod:`pipeline.collection.stream.commit`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from collectors.bluesky.jetstream.events import Event
from collectors.bluesky.jetstream.records import build_post
from collectors.records import VIA_THREAD, Account, Post
from pipeline.core import consent


@dataclass
class Checked:
    """A batch's post events once their authors are known: what may be stored, and what was left out."""

    posts: list[Post]  # the community's own posts (not thread replies)
    replies: list[Post]  # thread replies whose root's author consents
    accounts: list[Account]  # to store again: changed identities, and root authors who opted out
    skipped: int = 0  # left out for consent: no profile to check, or under a refused root
    malformed: list[str] = field(default_factory=list)  # why a record could not be made a post, one per record


def authors_to_check(posts: Sequence[Event], refresh: set[str]) -> set[str]:
    """Whose profiles a batch needs: its posts' authors, the changed identities, and thread replies' root authors."""
    wanted = {e.did for e in posts} | refresh
    wanted |= {did_of(root) for e in posts if e.via == VIA_THREAD and (root := _event_root(e))}
    return wanted


def check_posts(posts: Iterable[Event], refresh: set[str], accounts: Mapping[str, Account | None]) -> Checked:
    """The posts (and thread replies) of these events that consent allows, and the accounts to store again."""
    built: list[Post] = []
    skipped, malformed = 0, []
    for event in posts:
        author = accounts.get(event.did)
        if author is None:
            skipped += 1  # no profile to check consent against
            continue
        try:
            built.append(build_post(event, author))
        except ValueError as exc:
            malformed.append(str(exc))
    refused_roots = {p.reply_root for p in built if p.via == VIA_THREAD and _refused(accounts.get(root_author(p)))}
    replies = [p for p in built if p.via == VIA_THREAD and p.reply_root not in refused_roots]
    skipped += sum(1 for p in built if p.via == VIA_THREAD and p.reply_root in refused_roots)
    # A root's author who opted out goes in as an account, so the store purges what it holds of them.
    gone = {root_author(p) for p in built if p.reply_root in refused_roots}
    changed = [a for d in refresh | gone if (a := accounts.get(d)) is not None]
    return Checked(posts=[p for p in built if p.via != VIA_THREAD], replies=replies, accounts=changed,
                   skipped=skipped, malformed=malformed)


def root_author(post: Post) -> str:
    """The DID of the account whose post heads this post's thread ("" for a post that is not a reply)."""
    return did_of(post.reply_root or "")


def did_of(uri: str) -> str:
    return uri.removeprefix("at://").split("/", 1)[0]


def _event_root(event: Event) -> str | None:
    reply = event.record.get("reply") if event.record else None
    root = reply.get("root") if isinstance(reply, dict) else None
    uri = root.get("uri") if isinstance(root, dict) else None
    return uri if isinstance(uri, str) else None


def _refused(account: Account | None) -> bool:
    return account is None or consent.opt_out_reason(account) is not None
