"""Collection health in words: one sentence per state, shared by the Health page and every page's banner."""

from __future__ import annotations

from datetime import datetime

from dashboard import show
from pipeline.core import store


def result(source: dict) -> str:
    """The Result cell: a word, not a colour."""
    if source["skipped"]:
        return "not configured"
    if source["last_ok"]:
        return "ok"
    if source["last_ok_at"] is None:
        return "never worked"
    return "FAILING for over a day" if source["failing_for_a_day"] else "failed"


def since_working(source: dict, now: datetime, tz: str, short: bool = False) -> str:
    """'has never worked (first tried 2m ago)' or 'last worked Tue 24 Nov 2026, 09:00'."""
    if source["last_ok_at"] is None:
        first = source["first_run_at"]
        return f"it has never worked (first tried {show.duration(now - first)} ago)" if first else "it has never worked"
    when = show.local(source["last_ok_at"], tz)
    return f"it last worked {when}" if short else f"Last successful run: {when}"


def skip_reason(message: str | None) -> str:
    return (message or "").removeprefix(store.SKIPPED) or "no account or list set"


def failing(sources: list[dict]) -> list[dict]:
    """The configured sources whose last run failed."""
    return [s for s in sources if not s["skipped"] and s["last_ok"] is False]


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
