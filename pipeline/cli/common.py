"""What every peerdesk command module shares: exit statuses, error translation, writing output files.

Command groups live in their own modules and must not import :mod:`pipeline.cli.commands`,
which registers them; they all come here instead, so a failure reads and exits the same
everywhere. Shared options and their value parsers are in :mod:`pipeline.cli.options`.
"""

from __future__ import annotations

import errno
import functools
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import duckdb

from pipeline.cli.options import config_option
from pipeline.core import store
from pipeline.core.config_checks import ConfigError
from pipeline.core.database_file import BadDatabase
from pipeline.core.settings import Settings


class Failed(click.ClickException):
    """The work could not be done: one line on stderr, exit status 1."""

    exit_code = 1


class BadConfig(click.ClickException):
    """Configuration or usage problems: one line on stderr, exit status 2."""

    exit_code = 2


class PeerdeskGroup(click.Group):
    """The root group: every mistake ends in one line on stderr, and ``--config`` works after any command.

    Click would print usage errors in four lines and let an unexpected exception
    end in a traceback; people reading a cron mail or a terminal want one line
    saying what is wrong. The traceback is still there with ``--verbose``.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # name -> "module:attribute": a command's module (and what it imports: atproto, pandas, the detector)
        # is loaded only when that command runs or a help page lists it, so `peerdesk demo` starts quickly.
        self.lazy_commands = dict(lazy_commands or {})

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _accept_config(cmd)
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not the command {cmd_name!r}")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def load_all(self) -> dict[str, click.Command]:
        """Every command, loaded: for walking the whole tree (the help tests, the README check)."""
        for name in self.lazy_commands:
            self.get_command(click.Context(self), name)
        return self.commands

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt, EOFError):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # `peerdesk posts | head`: the reader left, nothing to say
                raise
            raise Unexpected(_unexpected(exc, verbose=bool(ctx.params.get("verbose")))) from None
        except Exception as exc:
            raise Unexpected(_unexpected(exc, verbose=bool(ctx.params.get("verbose")))) from None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except Unexpected as exc:
            click.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                sys.exit(130)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                click.echo(_unexpected(exc, verbose=False), err=True)
            sys.exit(1)
        except Exception as exc:  # raised before a command ran (while parsing): still one line
            click.echo(_unexpected(exc, verbose=False), err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


class Unexpected(click.ClickException):
    """A defect or an unforeseen failure, reported as ``peerdesk: error: ...``: exit status 1."""

    exit_code = 1

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


def _unexpected(exc: BaseException, *, verbose: bool) -> str:
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"peerdesk: error: {type(exc).__name__}: {text}"[:500]


def _accept_config(cmd: click.Command) -> None:
    """Give a command, and every command of a group, the shared ``--config`` option (once)."""
    if not any(p.name == "config_path" for p in cmd.params):
        config_option(cmd)
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _accept_config(sub)


def settings_of(ctx: click.Context) -> Settings:
    """The settings the root group loads lazily (so `--help` works with a broken file)."""
    return ctx.find_root().obj["settings"]()


def handle_errors(*failures: type[BaseException], usage: tuple[type[BaseException], ...] = ()
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn library errors into one-line CLI errors: ``usage`` ones exit 2, ``failures`` exit 1."""
    usage_errors = (ConfigError, BadDatabase, *usage)
    failed_errors = (store.DatabaseBusy, store.NoDatabase, store.DamagedDatabase, *failures)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except usage_errors as exc:
                raise BadConfig(str(exc)) from None
            except failed_errors as exc:
                raise Failed(str(exc)) from None
            except duckdb.Error as exc:  # a damaged block found mid-query, past a connect that worked
                damaged = store.damage(exc)
                if damaged is None:
                    raise
                raise Failed(str(damaged)) from None
        return wrapper

    return decorate


def check_out(target: Path, hint: str = "--out") -> None:
    """Refuse an output file that cannot be written before any work is done: a usage error naming ``hint``."""
    if target.is_dir():
        raise click.BadParameter(f"{target} is a directory; give a file name", param_hint=hint)
    folder = target.parent
    if not folder.is_dir():
        raise click.BadParameter(f"{target}: the folder {folder} does not exist", param_hint=hint)
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise click.BadParameter(f"{target}: not allowed to write there", param_hint=hint)


def write_out(target: Path, text: str, hint: str = "--out") -> None:
    """Write a whole file or nothing: a reader never sees half of it, and a failure leaves no stray temp file."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise click.BadParameter(f"{target}: cannot write it: {exc.strerror or exc}", param_hint=hint) from None
