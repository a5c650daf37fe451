"""Verdicts on posts: worked out ahead, while the page is on its way to the writer, and taken when it is stored."""

from __future__ import annotations

from collectors.records import VIA_THREAD, Page, Post
from pipeline.detector import pool
from pipeline.detector.rules import Verdict, classify


def _verdict(post: Post) -> Verdict:
    ahead = _verdicts.pop((post.text, post.lang), None)
    if ahead is None:
        return classify(post.text, post.lang)
    return ahead if isinstance(ahead, Verdict) else ahead.verdict()


# Verdicts worked out ahead by :func:`preclassify` (or on their way back from a worker), taken (and dropped)
# when the post is stored.
_verdicts: dict[tuple[str, str | None], Verdict | pool.Ahead] = {}
_VERDICTS_HELD = 50_000  # pages that never reach the writer must not grow it without end


def preclassify(page: Page) -> None:
    """Start classifying a page's posts before it reaches the writer, and return without waiting.

    The writer holds the database, and classifying is the largest share of a post's Python work: the posts go to
    worker processes (``pipeline.detector.pool``), so that work runs on the other cores while this thread parses
    the next page and the writer stores the last. A page too small to be worth the round trip, or any page when
    there are no workers, is classified here, on the thread that parsed it. Purely an optimisation: a post whose
    verdict is not waiting is classified when stored.
    """
    if len(_verdicts) > _VERDICTS_HELD:
        _verdicts.clear()
    keys = list(dict.fromkeys(key for post in page.posts  # a federated copy: once
                              if _may_ask(post) and (key := (post.text, post.lang)) not in _verdicts))
    sent = pool.shared().submit(keys) if len(keys) >= pool.WORTH_IT else None
    if sent is None:
        for key in keys:
            _verdicts[key] = classify(*key)
    else:
        _verdicts.update(zip(keys, sent, strict=True))


def release(pages: list[Page]) -> None:
    """Drop whatever verdicts these pages' posts still have waiting, once the writer is done with the pages.

    A post the writer did not store (an opted-out or private one, an older copy of a post) never takes its
    verdict, and a verdict on its way back from a worker holds its whole message (256 posts' texts and answers):
    kept, one such post in a message held that message for good, and a long backfill grew by hundreds of MB.
    """
    for page in pages:
        for post in page.posts:
            _verdicts.pop((post.text, post.lang), None)


def _may_ask(post: Post) -> bool:
    """Only top-level posts found for themselves can be requests; replies are answers."""
    return post.reply_to is None and post.reply_to_local is None and post.via != VIA_THREAD
