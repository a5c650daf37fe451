"""``peerdesk summary``: preview the weekly summary for Mastodon and Bluesky, and publish it with ``--post``.

The command body only wires library functions together: :func:`pipeline.summary.compose.compose_summary`
composes, :func:`pipeline.summary.publish.publish_thread` posts what is missing. It does
not import :mod:`pipeline.cli.commands` (which registers it); its errors and exit statuses
come from :mod:`pipeline.cli.common`, like every other command's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
import duckdb

from pipeline.cli.common import BadConfig, Failed, handle_errors, settings_of
from pipeline.cli.options import PLATFORM_LIST, as_of_option, format_option, parse_platforms
from pipeline.core import store
from pipeline.core.settings import Settings
from pipeline.platforms import label
from pipeline.signin import needs
from pipeline.summary.compose import Summary, compose_summary, last_complete_week, parse_week
from pipeline.summary.previews import PREVIEWS
from pipeline.summary.publish import (
    PLATFORMS,
    Planned,
    Posted,
    ThreadReport,
    planned_posts,
    thread_state,
)

_handle_errors = handle_errors()


@click.command()
@click.option("--week", "week_text", default=None, metavar="YYYY-Www",
              help="The ISO week (UTC) to summarise, e.g. 2026-W47 (default: the last complete week).")
@click.option("--post", "platforms", default=None, metavar="PLATFORMS",
              help=f"Publish to {PLATFORM_LIST} instead of only showing the posts.",
              callback=lambda ctx, param, value: parse_platforms(value, "--post") if value is not None else [])
@click.option("--force", is_flag=True, help="With --post: publish a week that is not over yet.")
@as_of_option()
@format_option(["text", "json"], default="text", help="How to print the preview.")
@click.pass_context
@_handle_errors
def summary(ctx: click.Context, week_text: str | None, platforms: list[str], force: bool, as_of: datetime,
            fmt: str) -> None:
    """The weekly summary posts for Mastodon and Bluesky: shown as they will appear, published with --post."""
    settings = settings_of(ctx)
    try:
        week = parse_week(week_text) if week_text else last_complete_week(as_of)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    if platforms and as_of < week.end and not force:
        raise BadConfig(f"{week} is not over until {week.end:%Y-%m-%d %H:%M} UTC, so its figures are incomplete; "
                        "use --force to post it anyway")
    from pipeline.summary.publishers import PUBLISHERS  # Mastodon.py and atproto load only to post

    for platform in platforms:  # what is missing is said before anything is composed or sent
        try:
            PUBLISHERS[platform].check(settings)
        except needs.Missing as exc:
            raise BadConfig(str(exc)) from None
    learnt = _prepare(settings)
    with store.reading(settings.db_path) as con:
        composed = compose_summary(con, settings, week, as_of=as_of, **learnt)
        try:
            states = {p: thread_state(con, composed, p) for p in PLATFORMS}
        except duckdb.CatalogException:  # a file no writer has opened since migration 3: nothing published
            states = {p: (planned_posts(composed, p), []) for p in PLATFORMS}
    if not platforms:
        click.echo(render_preview(composed, states, settings, fmt), nl=False)
        return
    reports = []
    for platform in platforms:
        items, done = states[platform]
        if len(done) >= len(items):  # nothing to post: not even a login
            reports.append(ThreadReport(platform, week.label, total=len(items), already=len(done)))
        else:
            reports.append(PUBLISHERS[platform].publish(settings, composed))
    for report in reports:
        click.echo(report.line(), err=not report.ok)
    failed = [r.platform for r in reports if not r.ok]
    if failed:
        raise Failed(f"publishing failed on {', '.join(failed)}")


# ---------------------------------------------------------------- posting


def _prepare(settings: Settings) -> dict[str, Any]:
    """What each platform must learn before composing (Mastodon: its instance's limits); a problem is one line."""
    learnt: dict[str, Any] = {}
    for platform in PLATFORMS:
        found, problem = PREVIEWS[platform].prepare(settings)
        if problem:
            click.echo(problem, err=True)
        learnt.update(found)
    return learnt


# ---------------------------------------------------------------- the preview


def render_preview(composed: Summary, states: dict[str, tuple[list[Planned], list[Posted]]], settings: Settings,
                   fmt: str = "text") -> str:
    """Every thread exactly as it will be posted (or was: a thread under way shows its saved texts)."""
    threads = {}
    for platform, (items, done) in states.items():
        shape = PREVIEWS[platform]
        posted = {p.seq: p for p in done}
        threads[platform] = [
            {"text": item.text, **({"facets": item.facets} if shape.facets else {}),
             "length": shape.length(composed, item.text),
             "posted_url": posted[i].url if i in posted else None}
            for i, item in enumerate(items, 1)]
    if fmt == "json":
        return json.dumps({
            "week": composed.week.label, "as_of": composed.as_of.isoformat(), "complete": composed.complete,
            **{platform: {**PREVIEWS[platform].about(composed, settings), "posts": posts}
               for platform, posts in threads.items()},
        }, ensure_ascii=False, indent=2) + "\n"
    out: list[str] = []
    if not composed.complete:
        out.append(f"({composed.week} is not over yet: figures as of {composed.as_of:%Y-%m-%d %H:%M} UTC)\n")
    for platform, posts in threads.items():
        shape = PREVIEWS[platform]
        out.append(_header(label(platform), posts, shape.detail(composed, settings)))
        out += _posts(posts, shape.unit)
    return "\n".join(out)


def _header(name: str, posts: Sequence[dict], detail: str) -> str:
    done = sum(1 for p in posts if p["posted_url"])
    state = f", {done} already posted" if done else ""
    return f"=== {name}: {len(posts)} post{'s' if len(posts) != 1 else ''}{state} ({detail}) ==="


def _posts(posts: Sequence[dict], unit: str) -> list[str]:
    out = []
    for i, post in enumerate(posts, 1):
        posted = f", posted: {post['posted_url']}" if post["posted_url"] else ""
        out.append(f"--- {i}/{len(posts)}: {post['length']} {unit}{posted} ---")
        out.append(post["text"])
        out.append("")
    return out

