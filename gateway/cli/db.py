"""`refhub db`: apply and inspect database migrations."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError

from gateway.cli.context import cli_runtime
from gateway.migrations import current_revision, head_revision, upgrade
from kernel.errors import StartupError

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration (creates the embedded database if needed)."""
    runtime = cli_runtime()
    if runtime.settings.is_sqlite:
        runtime.settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(runtime.engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StartupError(
            f"cannot migrate {runtime.database_label} ({reason}); start the database or fix "
            "REFHUB_DATABASE_URL"
        ) from None
    typer.echo(f"Database {runtime.database_label} is at {head_revision()}.")


@app.command("current")
def current_command() -> None:
    """Print the database's migration revision and the one this refhub needs."""
    runtime = cli_runtime()
    try:
        current = current_revision(runtime.engine)
    except OperationalError:
        runtime.check_database()
        raise
    typer.echo(f"current: {current or 'none'}  head: {head_revision()}")
