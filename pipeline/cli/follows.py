"""``peerdesk follows``: curate the community follow-list, export it, and sync it to Bluesky and Mastodon.

Each command body is a few lines calling :mod:`pipeline.followlist.candidates`,
:mod:`pipeline.followlist.exports` and the syncs, which the dashboard calls too.
This module does not import :mod:`pipeline.cli.commands` (which registers this group),
and takes its errors and exit statuses from :mod:`pipeline.cli.common`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from pipeline.cli.common import Failed, check_out, handle_errors, settings_of, write_out
from pipeline.cli.options import CANDIDATE_WEEKS, as_of_option, format_option, platform_option, weeks_option
from pipeline.core import store
from pipeline.followlist import candidates as follows_lib
from pipeline.followlist import exports as follow_exports
from pipeline.followlist.sync_bluesky import SyncError, SyncReport
from pipeline.output.formats import render

_settings = settings_of
_handle_errors = handle_errors(follows_lib.UnknownAccount, follows_lib.NotListable, follows_lib.OutdatedDatabase,
                               usage=(SyncError,))


ranked_as_of = as_of_option("Rank activity as of this date/time (ISO 8601; default now).")
ranked_weeks = weeks_option(CANDIDATE_WEEKS, "How many weeks of activity count towards a candidate's rank.")
apply_option = click.option("--apply/--dry-run", default=False,
                            help="Write the changes (default: --dry-run, which only prints them).")


@click.group()
def follows() -> None:
    """The community follow-list: candidates, decisions, exports, and Bluesky/Mastodon lists."""


@follows.command()
@click.option("--decision", type=click.Choice([*follows_lib.DECISIONS, "all"]), default="all", show_default=True,
              help="Only candidates with this decision.")
@platform_option()
@ranked_weeks
@ranked_as_of
@format_option()
@click.pass_context
@_handle_errors
def candidates(ctx: click.Context, decision: str, platform: str | None, weeks: int, as_of: datetime,
               fmt: str) -> None:
    """Candidates for the follow-list, most helpful first, with the organiser's decisions."""
    settings = _settings(ctx)
    with store.reading(settings.db_path) as con:
        rows = follows_lib.candidates(con, as_of, since=as_of - timedelta(weeks=weeks),
                                      decision=None if decision == "all" else decision, platform=platform)
    columns = ("rank", "handle", "platform", "display_name", "decision", "first_responses", "replies_to_others",
               "posts", "list_member", "note")
    render([{k: r[k] for k in columns} for r in rows] if fmt == "table" else rows, fmt, tz=settings.timezone)


def _decide_command(decision: str, summary: str) -> click.Command:
    @click.argument("accounts", nargs=-1, required=True, metavar="ACCOUNT...")
    @click.option("--note", default=None, help="Why, for the other organisers (kept with the decision).")
    @click.pass_context
    @_handle_errors
    def command(ctx: click.Context, accounts: tuple[str, ...], note: str | None) -> None:
        with store.writing(_settings(ctx).db_path) as con:
            keys = follows_lib.decide(con, accounts, decision, note)
        for key in keys:
            click.echo(f"{decision} {key}")

    command.__doc__ = summary
    return click.command()(command)


follows.add_command(_decide_command(
    "approved", "Approve ACCOUNT... for the follow-list (user@domain, @user@domain, a DID or a Bluesky handle)."),
    "approve")
follows.add_command(_decide_command("rejected", "Keep ACCOUNT... off the follow-list."), "reject")
follows.add_command(_decide_command("pending", "Undo the decision about ACCOUNT... (back to pending)."), "reset")


@follows.command()
@format_option(follow_exports.FORMATS, required=True,
               help="mastodon-csv (following import), mastodon-lists-csv (lists import), opml (feed readers), "
                    "json or csv (everything known, for other tools).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of stdout.")
@ranked_weeks
@ranked_as_of
@click.pass_context
@_handle_errors
def export(ctx: click.Context, fmt: str, out_path: str | None, weeks: int, as_of: datetime) -> None:
    """Export the approved follow-list in a format Mastodon, Bluesky tools or feed readers import."""
    settings = _settings(ctx)
    if out_path is not None:
        check_out(Path(out_path))
    with store.reading(settings.db_path) as con:
        listing = follows_lib.listing(con, as_of, since=as_of - timedelta(weeks=weeks))
    _say_dropped(listing)
    text = follow_exports.render(fmt, listing.members, community=settings.community, generated_at=as_of)
    if out_path is None:
        click.echo(text, nl=False)
        return
    target = Path(out_path)
    write_out(target, text)
    held = follow_exports.written(fmt, listing.members)
    left = len(listing.members) - held
    click.echo(f"wrote {held} account{'s' if held != 1 else ''} to {target}"
               + (f" ({left} on other platforms left out: this format holds Mastodon accounts only)" if left else ""),
               err=True)


@follows.command("sync-bluesky")
@click.option("--starter-pack", is_flag=True, help="Also keep a starter pack (the 150 most helpful) in step.")
@apply_option
@click.pass_context
@_handle_errors
def sync_bluesky(ctx: click.Context, starter_pack: bool, apply: bool) -> None:
    """Make a Bluesky list on your account hold exactly the approved Bluesky accounts."""
    from pipeline.followlist.sync_bluesky import bluesky_follow_sync

    report, listing = bluesky_follow_sync(_settings(ctx), apply=apply, starter_pack=starter_pack)
    _finish(report, listing)


@follows.command("sync-mastodon")
@apply_option
@click.pass_context
@_handle_errors
def sync_mastodon(ctx: click.Context, apply: bool) -> None:
    """Make a list on your Mastodon account hold exactly the approved accounts you follow."""
    from pipeline.followlist.sync_mastodon import mastodon_follow_sync

    report, listing = mastodon_follow_sync(_settings(ctx), apply=apply)
    _finish(report, listing)


def _say_dropped(listing: follows_lib.Listing) -> None:
    for line in follows_lib.dropped_lines(listing):
        click.echo(line, err=True)


def _finish(report: SyncReport, listing: follows_lib.Listing) -> None:
    _say_dropped(listing)
    for line in report.lines():
        click.echo(line)
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.error:
        raise Failed(report.summary())
    click.echo(report.summary())
