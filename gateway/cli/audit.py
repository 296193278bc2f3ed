"""`refhub audit`: verify the audit chain; sign a checkpoint now."""

from __future__ import annotations

import json

import typer

from gateway.audit import service as audit_service
from gateway.cli.context import cli_runtime
from kernel.db import transaction

app = typer.Typer(help="The audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Check every record and signed checkpoint; exit 1 if anything was altered or removed."""
    runtime = cli_runtime(check_schema=True)
    public_key = runtime.audit_signing_key.public_key()
    with runtime.sessions() as session:
        report = audit_service.verify_chain(session, public_key)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        typer.echo(
            f"{report.records} records, {report.checkpoints} signed checkpoints, "
            f"head at {report.head_seq}"
        )
        for problem in report.problems:
            typer.echo(f"PROBLEM: {problem}")
        typer.echo("audit chain OK" if report.ok else "audit chain FAILED verification")
    raise typer.Exit(0 if report.ok else 1)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign the current chain head now (also done every minute by the scheduler)."""
    runtime = cli_runtime(check_schema=True)
    with transaction(runtime.sessions) as session:
        written = audit_service.write_checkpoint(session, runtime.audit_signing_key)
        message = f"checkpoint signed at record {written.seq}" if written else "nothing new to sign"
    typer.echo(message)
