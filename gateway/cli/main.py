"""`refhub`: serve the hub, run workers, migrate, load demo data, verify the audit chain.

Every command loads the settings first; a bad setting or an unreachable dependency ends
the command with one line on stderr saying what is wrong and how to fix it (exit code 2).

The commands' modules are imported when a command runs, not when `refhub` starts: most of
them need the whole hub (about 2.5 s of imports), and `refhub --version`, a start-up error
or a sub-command should not pay for the others.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from kernel import __version__
from kernel.errors import StartupError

__all__ = ["app", "main"]

#: name -> (module, attribute): a `typer.Typer` of sub-commands or one command's function.
COMMANDS = {
    "serve": ("gateway.cli.processes", "serve"),
    "worker": ("gateway.cli.processes", "worker"),
    "beat": ("gateway.cli.processes", "beat"),
    "demo": ("gateway.cli.demo", "demo_app"),
    "db": ("gateway.cli.db", "app"),
    "audit": ("gateway.cli.audit", "app"),
    "keys": ("gateway.cli.keys", "app"),
    "clients": ("gateway.cli.clients", "app"),
    "outbox": ("gateway.cli.outbox", "app"),
    "directory": ("gateway.cli.directory", "app"),
    "convert": ("gateway.cli.convert", "convert"),
}


class LazyCommands(TyperGroup):
    """refhub's commands, each imported from its module when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command `cmd_name` (its module imported now), or None if there is none."""
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):  # a group, even of one sub-command
            command: Any = typer.main.get_group(target)
        else:
            single = typer.Typer()
            single.command(cmd_name)(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        return command


app = typer.Typer(
    name="refhub",
    help="refhub: referral and handover hub for case management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyCommands,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"refhub {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """refhub: referral and handover hub for case management."""


def main() -> None:
    """Console-script entry point: turns start-up errors into one clear line."""
    try:
        app()
    except StartupError as exc:
        sys.stderr.write(f"refhub: error: {exc.detail}\n")
        sys.exit(2)
