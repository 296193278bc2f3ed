"""`refhub demo`: load the demo data; `refhub demo code EMAIL`: a demo account's code."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import typer

from gateway.auth import credentials
from gateway.auth import demo as auth_demo
from gateway.cli import db as db_cli
from gateway.cli import keys as keys_cli
from gateway.cli.context import cli_runtime
from gateway.demo import load_demo
from kernel.db import transaction
from kernel.errors import StartupError

__all__ = ["demo_app"]

demo_app = typer.Typer(
    help="Demo data: `refhub demo` loads it; `refhub demo code EMAIL` gives a sign-in code.",
    invoke_without_command=True,
)


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
