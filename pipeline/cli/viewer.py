"""``peerdesk demo`` and ``peerdesk dashboard``: the two commands that open the dashboard in a browser.

The Streamlit process itself is started by :mod:`pipeline.cli.launch`; this module checks the port and the
database first, so a mistake is one line here rather than a traceback in the browser. Registered on the main
group by :mod:`pipeline.cli.commands`, which this module does not import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from pipeline.cli.common import BadConfig, handle_errors, settings_of
from pipeline.cli.launch import dashboard_url
from pipeline.cli.options import db_option, port_option
from pipeline.collection.demo import DEMO_DB, load_demo
from pipeline.core import queries, store

_handle_errors = handle_errors()


# The help is written from DEMO_DB, so it names the file the command really builds.
@click.command(help=f"Load the bundled sample community into {DEMO_DB} (newest post at now) and open the dashboard.")
@db_option(f"Where to build the demo database (default {DEMO_DB}).")
@click.option("--no-dashboard", is_flag=True, help="Only build the database; do not open the dashboard.")
@port_option("Port for the dashboard.")
@_handle_errors
def demo(db_path: Path | None, no_dashboard: bool, port: int) -> None:
    from pipeline.cli.launch import check_port, serve, start_dashboard, stop  # looked up here: tests replace them

    target = db_path or DEMO_DB
    server = None
    if not no_dashboard:
        _port_or_exit(check_port, port)  # before rebuilding: a taken port must not cost the curator's marks
        # Started before the sample is loaded: Streamlit's own start overlaps the load. Nobody is sent to the
        # page before the database is whole: the address is printed, and the browser opened, after the load.
        server = start_dashboard(target, port=port, welcome=False)
    try:
        loaded = load_demo(target)
        s = loaded.stored
        with store.reading(loaded.path) as con:  # what the database holds, not what was handled on the way
            posts = queries.totals(con)["posts"]
            requests_held = queries.count_help_requests(con, store.now_utc(), status=None)
    except BaseException:
        if server is not None:
            stop(server)
        raise
    click.echo(
        f"demo: loaded {posts} posts ({requests_held} help requests) from {loaded.instances} sample sources "
        f"into {loaded.path} ({s.deleted_posts} deleted, {s.skipped_private} non-public and "
        f"{s.skipped_opted_out} opted-out posts left out, times shifted by {loaded.shift.days} days)"
    )
    for error in loaded.errors:
        click.echo(f"demo: {error}", err=True)
    if server is None:
        return
    _say_opening(port)
    sys.exit(serve(server, port, open_browser=True))


@click.command()
@port_option("Port to serve on.")
@db_option("Database to show (default: [database] path).")
@click.pass_context
@_handle_errors
def dashboard(ctx: click.Context, port: int, db_path: Path | None) -> None:
    """Open the dashboard (Streamlit) on the database, in a browser when there is a display."""
    from pipeline.cli.launch import check_port, run_dashboard  # looked up here: tests replace them

    db = db_path or settings_of(ctx).db_path
    with store.reading(db):  # a missing or foreign file is said here, in one line, rather than in the browser
        pass
    _port_or_exit(check_port, port)
    _say_opening(port)
    sys.exit(run_dashboard(db, port=port, config=settings_of(ctx).source_file, open_browser=True))


def _port_or_exit(check: Callable[[int], int | None], port: int) -> None:
    """Exit 2 with a free port to try when ``port`` is taken (Streamlit would pick another one silently)."""
    other = check(port)
    if other is not None:
        raise BadConfig(f"port {port} is taken: use --port {other}")


def _say_opening(port: int) -> None:
    from pipeline.cli.launch import can_open_browser

    where = dashboard_url(port)
    if can_open_browser():
        click.echo(f"dashboard: opening {where} in your browser (Ctrl-C to stop)")
    else:
        click.echo(f"dashboard: {where} (no display here, so no browser was opened: open that address; "
                   "Ctrl-C to stop)")


COMMANDS = (demo, dashboard)
