"""`refhub`: serve the hub, run workers, migrate, load demo data, verify the audit chain.

Every command loads the settings first; a bad setting or an unreachable dependency ends
the command with one line on stderr saying what is wrong and how to fix it (exit code 2).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.auth import credentials
from gateway.auth import demo as auth_demo
from gateway.cli import audit as audit_cli
from gateway.cli import clients as clients_cli
from gateway.cli import convert as convert_cli
from gateway.cli import db as db_cli
from gateway.cli import directory as directory_cli
from gateway.cli import keys as keys_cli
from gateway.cli import outbox as outbox_cli
from gateway.cli import processes
from gateway.cli.context import cli_runtime
from gateway.demo import load_demo
from kernel import __version__
from kernel.db import transaction
from kernel.errors import StartupError

__all__ = ["app", "main"]

app = typer.Typer(
    name="refhub",
    help="refhub: referral and handover hub for case management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(clients_cli.app, name="clients")
app.add_typer(outbox_cli.app, name="outbox")
app.add_typer(directory_cli.app, name="directory")
app.command("serve")(processes.serve)
app.command("worker")(processes.worker)
app.command("beat")(processes.beat)
app.command("convert")(convert_cli.convert)


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


demo_app = typer.Typer(
    help="Demo data: `refhub demo` loads it; `refhub demo code EMAIL` gives a sign-in code.",
    invoke_without_command=True,
)
app.add_typer(demo_app, name="demo")


@demo_app.callback()
def demo(ctx: typer.Context) -> None:
    """Load demo data (idempotent) and print how to sign in and call the API."""
    if ctx.invoked_subcommand is not None:
        return
    if cli_runtime().settings.is_sqlite:  # the embedded hub prepares its own data folder
        db_cli.upgrade_command()
        keys_cli.init()
    runtime = cli_runtime(check_schema=True)
    with transaction(runtime.sessions) as session:
        lines = load_demo(session, runtime.settings)
    typer.echo("Demo data is loaded.")
    for line in lines:
        typer.echo(f"  {line}".replace("`refhub ", f"`{_command()} "))


def _command() -> str:
    """How to run refhub again as this shell can: `refhub` if that is on PATH and is this
    program, else the path it was started by (`.venv/bin/refhub` after `make run`)."""
    started = Path(sys.argv[0]).resolve()
    found = shutil.which("refhub")
    if found and Path(found).resolve() == started:
        return "refhub"
    try:
        return str(started.relative_to(Path.cwd()))
    except ValueError:
        return str(started)


@demo_app.command("code")
def demo_code(email: str) -> None:
    """Print the current authenticator code of a demo account (demo accounts only)."""
    if not email.lower().endswith("." + auth_demo.DEMO_DOMAIN):
        raise StartupError(f"only demo accounts (…@….{auth_demo.DEMO_DOMAIN}) have known codes")
    typer.echo(credentials.totp_code(auth_demo.demo_totp_secret(email.lower())))


def main() -> None:
    """Console-script entry point: turns start-up errors into one clear line."""
    try:
        app()
    except StartupError as exc:
        sys.stderr.write(f"refhub: error: {exc.detail}\n")
        sys.exit(2)
