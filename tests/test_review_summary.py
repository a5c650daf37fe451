"""Review: a deleted post leaves the weekly summary too, newcomers' welcome included."""

from __future__ import annotations

from pathlib import Path

from pipeline.core import store
from pipeline.core.settings import Settings
from pipeline.summary.compose import compose_summary
from tests.support import SAMPLE_NOW

WEEK = "2026-W47"


def _newcomers(db: Path) -> list[str]:
    with store.reading(db) as con:
        facts = compose_summary(con, Settings(), WEEK, as_of=SAMPLE_NOW).facts
    assert facts.newcomers is not None
    return [p.account for p in facts.newcomers.people]


def test_someone_whose_community_posts_were_all_deleted_is_not_welcomed_by_name(db: Path) -> None:
    """Kwame's first community post falls in the sample week, so the summary welcomes him by name. He deletes it
    (found deleted on re-check: ``store.mark_deleted``, the path every deletion takes); the post has left every
    view, and a public welcome built on it would still name him, and notify him with ``[summary] mentions``."""
    assert "kwame@mastodon.social" in _newcomers(db)
    with store.writing(db) as con:
        uris = [r[0] for r in con.execute(
            "SELECT uri FROM post_store WHERE author = 'kwame@mastodon.social' AND via <> 'thread'").fetchall()]
        assert uris
        store.mark_deleted(con, uris, SAMPLE_NOW)
    assert "kwame@mastodon.social" not in _newcomers(db)
