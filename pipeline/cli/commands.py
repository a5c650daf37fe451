"""peerdesk: watch a professional community's hashtags on Mastodon and Bluesky.

Each command body is a few lines calling library functions; shared options are
decorators (:mod:`pipeline.cli.options`). Exit status: 0 ok, 1 failed, 2 bad usage or
configuration. Errors go to stderr in one line. This module holds the group and
registers the commands, which live in one module per job.
"""

from __future__ import annotations

import functools
import logging
import sys

import click

from collectors.version import __version__
from pipeline.cli.account import login, logout, whoami
from pipeline.cli.common import BadConfig, PeerdeskGroup
from pipeline.cli.database import COMMANDS as DATABASE_COMMANDS
from pipeline.cli.detector import detector
from pipeline.cli.follows import follows
from pipeline.cli.options import config_option
from pipeline.cli.reports import COMMANDS as REPORT_COMMANDS
from pipeline.cli.stream import collect, run, stream
from pipeline.cli.summary import summary
from pipeline.cli.viewer import COMMANDS as VIEWER_COMMANDS
from pipeline.core.config import find_config, load_settings
from pipeline.core.config_checks import ConfigError
from pipeline.core.settings import Settings

log = logging.getLogger("peerdesk")


@click.group(cls=PeerdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="peerdesk")
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log details to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Watch a community's hashtags on Mastodon and Bluesky: open help requests, active peers, response times."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)

    @functools.cache
    def settings() -> Settings:
        try:  # read when first needed: a command's own --config (options.config_option) may have replaced it
            return load_settings(find_config(ctx.obj["config_path"]))
        except ConfigError as exc:
            raise BadConfig(str(exc)) from None

    ctx.ensure_object(dict).setdefault("config_path", None)
    ctx.obj["settings"] = settings


for _command in (*DATABASE_COMMANDS, *REPORT_COMMANDS, *VIEWER_COMMANDS, collect, stream, run, follows, summary,
                 detector, login, logout, whoami):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="peerdesk")
