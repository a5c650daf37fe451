"""peerdesk: watch a professional community's hashtags on Mastodon and Bluesky.

Each command body is a few lines calling library functions; shared options are
decorators (:mod:`pipeline.cli.options`). Exit status: 0 ok, 1 failed, 2 bad usage or
configuration. Errors go to stderr in one line. This module holds the group and
names the commands, which live in one module per job and are imported when used.
"""

from __future__ import annotations

import functools
import logging
import sys

import click

from collectors.clean_text import without_controls
from collectors.version import __version__
from pipeline.cli.common import BadConfig, PeerdeskGroup
from pipeline.cli.options import config_option
from pipeline.core.config import find_config, load_settings
from pipeline.core.config_checks import ConfigError
from pipeline.core.settings import Settings

log = logging.getLogger("peerdesk")


def _commands(module: str, *names: str) -> dict[str, str]:
    """``name -> "module:attribute"`` for commands whose function is named as the command (``-`` as ``_``)."""
    return {name: f"pipeline.cli.{module}:{name.replace('-', '_')}" for name in names}


# Every command, by the module that holds it. A module is imported only when one of its commands runs, or when a
# help page lists them all: `peerdesk demo` never loads atproto, Mastodon.py or the detector's training code.
COMMANDS = {
    **_commands("database", "init", "forget", "mark", "repair"),
    **_commands("reports", "posts", "accounts", "sources", "requests", "peers", "response-times", "alerts", "export"),
    **_commands("viewer", "demo", "dashboard"),
    **_commands("stream", "collect", "stream", "run"),
    **_commands("follows", "follows"),
    **_commands("summary", "summary"),
    **_commands("detector", "detector"),
    **_commands("account", "login", "logout", "whoami"),
}


@click.group(cls=PeerdeskGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="peerdesk")
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log details to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Watch a community's hashtags on Mastodon and Bluesky: open help requests, active peers, response times."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])
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


class _PrintableFormatter(logging.Formatter):
    """Log lines without control characters: they quote what servers said (an error, a uri), and a terminal
    would act on an escape sequence in it."""

    def format(self, record: logging.LogRecord) -> str:
        return without_controls(super().format(record))


def main() -> None:
    cli(prog_name="peerdesk")
