"""`refhub outbox`: list, inspect and re-run dead letters (actor `system:cli`, audited)."""

from __future__ import annotations

import json
import uuid

import typer

from gateway.cli.context import cli_runtime
from gateway.delivery import dead_letters
from kernel.db import transaction

app = typer.Typer(help="Outbox dead letters.", no_args_is_help=True)
ACTOR = "system:cli"


@app.command("dead-letters")
def list_command(task: str | None = typer.Option(None, help="Only this task.")) -> None:
    """List work that failed for good, newest first."""
    runtime = cli_runtime(check_schema=True)
    with runtime.sessions() as session:
        total = dead_letters.count(session, ACTOR, task=task)
        rows = dead_letters.list_dead_letters(session, ACTOR, task=task, limit=200)
        typer.echo(f"{total} dead letter(s)")
        for row in rows:
            error = (row.last_error or "").splitlines()[0][:100] if row.last_error else ""
            typer.echo(f"{row.id}  {row.task:<28} attempts={row.attempts}  {error}")


@app.command("show")
def show_command(event_id: uuid.UUID) -> None:
    """Show one event with its payload (ids only) and last error."""
    runtime = cli_runtime(check_schema=True)
    with runtime.sessions() as session:
        row = dead_letters.get(session, ACTOR, event_id)
        typer.echo(
            json.dumps(
                {
                    "id": str(row.id),
                    "task": row.task,
                    "state": row.state,
                    "attempts": row.attempts,
                    "payload": row.payload,
                    "created_at": row.created_at.isoformat(),
                    "last_error": row.last_error,
                },
                indent=2,
            )
        )


@app.command("retry")
def retry_command(event_id: uuid.UUID) -> None:
    """Queue a dead letter again with a fresh attempt budget (audited)."""
    runtime = cli_runtime(check_schema=True)
    with transaction(runtime.sessions) as session:
        row = dead_letters.retry(session, ACTOR, event_id)
        typer.echo(f"{row.id} queued again ({row.task})")
