"""Verdicts on posts: worked out ahead, while the page is on its way to the writer, and taken when it is stored."""

from __future__ import annotations

from collectors.records import VIA_THREAD, Page, Post
from pipeline.detector.rules import Verdict, classify


def _verdict(post: Post) -> Verdict:
    verdict = _verdicts.pop((post.text, post.lang), None)
    return verdict if verdict is not None else classify(post.text, post.lang)


# Verdicts worked out ahead by :func:`preclassify`, taken (and dropped) when the post is stored.
_verdicts: dict[tuple[str, str | None], Verdict] = {}
_VERDICTS_HELD = 50_000  # pages that never reach the writer must not grow it without end


def preclassify(page: Page) -> None:
    """Classify a page's posts before it reaches the writer, on the thread that parsed it.

    The writer holds the database; the thread that fetched and parsed the page
    is otherwise waiting on the network. Classifying there keeps the writer's
    share of the work short. Purely an optimisation: a post whose verdict is
    not waiting is classified when stored.
    """
    if len(_verdicts) > _VERDICTS_HELD:
        _verdicts.clear()
    for post in page.posts:
        if _may_ask(post) and (key := (post.text, post.lang)) not in _verdicts:  # a federated copy: once
            _verdicts[key] = classify(post.text, post.lang)


def _may_ask(post: Post) -> bool:
    """Only top-level posts found for themselves can be requests; replies are answers."""
    return post.reply_to is None and post.reply_to_local is None and post.via != VIA_THREAD
