"""``peerdesk init``, ``forget``, ``mark`` and ``repair``: the configuration file, the database and what it keeps.

Each body is a few lines calling :mod:`pipeline.forgetting`, :mod:`pipeline.followlist.curation` or
:mod:`pipeline.core.recover`. Registered on the main group by :mod:`pipeline.cli.commands`, which this module
does not import.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import forgetting
from pipeline.cli.common import BadConfig, Failed, check_out, handle_errors, settings_of, write_out
from pipeline.cli.options import db_option
from pipeline.core import store
from pipeline.core.account_names import UnknownAccount, forget_target
from pipeline.core.config import CONFIG_NAME
from pipeline.core.settings import DEFAULT_TOML

_handle_errors = handle_errors()


@click.command()
@click.option("--path", type=click.Path(dir_okay=False), default=CONFIG_NAME, show_default=True,
              help="Where to write the configuration.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented peerdesk.toml with defaults for the solo-librarian community."""
    target = Path(path)
    if target.exists() and not force:
        raise BadConfig(f"{target} already exists (use --force to overwrite)")
    check_out(target, "--path")
    write_out(target, DEFAULT_TOML, "--path")
    click.echo(f"wrote {target}: edit the tags and instances, then run 'peerdesk collect'")


@click.command()
@click.argument("account")
@click.option("--unseen", is_flag=True,
              help="Keep ACCOUNT out even though nothing is stored under it yet (user@domain or a DID only).")
@click.pass_context
@handle_errors(usage=(UnknownAccount,))
def forget(ctx: click.Context, account: str, unseen: bool) -> None:
    """Purge ACCOUNT (user@domain, a DID, a Bluesky handle or a profile URL) and keep it out from now on."""
    with store.writing(settings_of(ctx).db_path) as con:
        key, already = forget_target(con, account, unseen=unseen)
        removed = forgetting.forget(con, key)
    named = key if account.strip().lstrip("@").lower() == key else f"{account.strip()} ({key})"
    if already:
        click.echo(f"{named} was already forgotten: {removed} posts removed; it will not be stored again")
    else:
        click.echo(f"forgot {named}: {removed} posts removed; it will not be stored again")


@click.command()
@click.argument("uri", metavar="URI_OR_URL")
@click.option("--request", "as_request", is_flag=True, help="It is a help request, whatever the rules say.")
@click.option("--not-request", "not_request", is_flag=True, help="It is not a help request.")
@click.option("--resolved", is_flag=True, help="The request is resolved.")
@click.option("--reopen", is_flag=True, help="The request is open again.")
@click.option("--note", default=None, help="Why, for the other curators.")
@click.pass_context
@_handle_errors
def mark(ctx: click.Context, uri: str, as_request: bool, not_request: bool, resolved: bool, reopen: bool,
         note: str | None) -> None:
    """Record a curator's decision about a post, named by its uri or web URL (it survives re-collection)."""
    from pipeline.followlist.curation import UnknownPost, stored_uri
    from pipeline.followlist.curation import mark as mark_post

    chosen = [d for d, on in (("request", as_request), ("not-request", not_request), ("resolved", resolved),
                              ("reopen", reopen)) if on]
    if not chosen:
        raise BadConfig("say what to mark: --request, --not-request, --resolved or --reopen")
    if len(chosen) > 1:
        raise BadConfig(f"give one decision, not {' and '.join('--' + d for d in chosen)}")
    decision = chosen[0]
    with store.writing(settings_of(ctx).db_path) as con:
        try:
            target = stored_uri(con, uri)
            mark_post(con, target, decision, note=note)
        except UnknownPost as exc:
            raise Failed(str(exc)) from None
    click.echo(f"marked {target}: {decision}")


@click.command()
@db_option("The file to check (default: [database] path).")
@_handle_errors
@click.pass_context
def repair(ctx: click.Context, db_path: Path | None) -> None:
    """Check the database file; if damaged, rebuild it from every table that still reads."""
    from pipeline.core.recover import Unrecoverable
    from pipeline.core.recover import repair as rebuild

    path = db_path or settings_of(ctx).db_path
    try:
        outcome = rebuild(path, store.now_utc(), click.echo)
    except Unrecoverable as exc:
        raise Failed(f"{path}: {exc}") from None
    if outcome.sound:
        click.echo(f"{path} reads whole: nothing to repair", err=True)
    elif any(t.error for t in outcome.tables):
        raise Failed(f"{path} rebuilt without the tables marked NOT copied; the damaged file is {outcome.kept_as}")


COMMANDS = (init, forget, mark, repair)
