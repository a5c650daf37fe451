"""``peerdesk login``, ``logout`` and ``whoami``: signing in once instead of pasting hand-made tokens.

Each command body is a few lines calling :mod:`pipeline.signin.accounts`, which does
the work; this module only talks to the organiser (prompts, the browser, the
one line each). Like the other command modules it does not import
:mod:`pipeline.cli.commands`, which registers it.
"""

from __future__ import annotations

import os
import sys
import webbrowser

import click

from pipeline.cli.common import Failed, handle_errors, settings_of
from pipeline.cli.options import PLATFORM, format_option
from pipeline.output.formats import render
from pipeline.signin import accounts

_handle_errors = handle_errors(accounts.AccountError, usage=(accounts.UsageError,))


def _has_display() -> bool:
    """A browser can be opened: a desktop session on Linux, or macOS."""
    return sys.platform == "darwin" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@click.group()
def login() -> None:
    """Sign in to Mastodon or Bluesky once; the session is kept in a 0600 file under [database] state_dir."""


@login.command("mastodon")
@click.argument("instance", required=False)
@click.option("--code", default=None, help="The authorisation code the instance showed (for scripts: run once "
                                           "without it to get the URL).")
@click.pass_context
@_handle_errors
def login_mastodon(ctx: click.Context, instance: str | None, code: str | None) -> None:
    """Sign in to a Mastodon instance (default [mastodon] home) through its authorisation page."""
    settings = settings_of(ctx)
    pending = accounts.start_mastodon_login(settings, instance)
    if code is None:
        click.echo(f"Open this page, approve peerdesk (scopes: {' '.join(accounts.MASTODON_SCOPES)}), "
                   f"then paste the code it shows:\n{pending.url}")
        if _has_display():
            webbrowser.open(pending.url)
        try:
            code = click.prompt("Code", hide_input=True, err=True)
        except click.Abort:
            raise Failed("no code given: run 'peerdesk login mastodon --code CODE' with the code the page "
                         "showed") from None
    done = accounts.finish_mastodon_login(settings, pending, code)
    click.echo(f"signed in to {done.host} as @{done.acct} (scopes: {' '.join(done.scopes)}); "
               f"the token is kept in {done.path} (readable by you only)")


@login.command("bluesky")
@click.option("--handle", default=None, help="Your handle, e.g. you.bsky.social (asked when not given).")
@click.pass_context
@_handle_errors
def login_bluesky(ctx: click.Context, handle: str | None) -> None:
    """Sign in to Bluesky with an app password; only the session is kept, never the password."""
    settings = settings_of(ctx)
    handle = handle or click.prompt("Handle", err=True)
    password = click.prompt("App password (Settings > Privacy and security > App passwords)", hide_input=True,
                            err=True)
    done = accounts.bluesky_login(settings, handle, password)
    click.echo(f"signed in to Bluesky as @{done.acct}; the session is kept in {done.path} (readable by you only)")


@click.command()
@click.argument("platform", type=PLATFORM)
@click.argument("instance", required=False)
@click.pass_context
@_handle_errors
def logout(ctx: click.Context, platform: str, instance: str | None) -> None:
    """Revoke the saved token or session on the server, then delete it here."""
    settings = settings_of(ctx)
    if platform == "mastodon":
        click.echo(accounts.mastodon_logout(settings, instance))
    else:
        click.echo(accounts.bluesky_logout(settings))


@click.command()
@format_option()
@click.pass_context
@_handle_errors
def whoami(ctx: click.Context, fmt: str) -> None:
    """Which accounts peerdesk acts as, and with which scopes: one line each."""
    rows = accounts.whoami(settings_of(ctx))
    if not rows:
        click.echo("peerdesk acts as nobody: run 'peerdesk login mastodon' or 'peerdesk login bluesky'", err=True)
    render(rows, fmt)
