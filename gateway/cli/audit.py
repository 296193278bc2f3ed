"""`refhub audit`: verify the audit chain against its witness; sign a checkpoint now."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gateway.audit import service as audit_service
from gateway.audit.errors import WitnessUnavailable
from gateway.audit.witness import FileWitness, Witnesses
from gateway.cli.context import cli_runtime
from kernel.db import transaction

app = typer.Typer(help="The audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    witness_file: Path | None = typer.Option(
        None,
        "--witness",
        help="Check against this witness file (a copy kept off the machine) instead of "
        "the one in REFHUB_AUDIT_WITNESS_DIR.",
        dir_okay=False,
    ),
) -> None:
    """Check every record, signed checkpoint and witnessed checkpoint; exit 1 if anything
    was altered or removed."""
    runtime = cli_runtime(check_schema=True)
    public_key = runtime.audit_signing_key.public_key()
    witness = (
        FileWitness(witness_file)
        if witness_file is not None
        else Witnesses.for_settings(runtime.settings).file
    ).read()
    with runtime.sessions() as session:
        report = audit_service.verify_chain(session, public_key, witness=witness)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        typer.echo(
            f"{report.records} records, {report.checkpoints} signed checkpoints, "
            f"head at {report.head_seq}"
        )
        typer.echo(
            f"witness {report.witness}: {report.witnessed_checkpoints} checkpoints, "
            f"the last at record {report.witnessed_seq}; {report.unwitnessed_checkpoints} "
            f"signed checkpoints not yet witnessed; {report.uncovered_records} records "
            "not covered by any checkpoint"
        )
        for problem in report.problems:
            typer.echo(f"PROBLEM: {problem}")
        typer.echo("audit chain OK" if report.ok else "audit chain FAILED verification")
    raise typer.Exit(0 if report.ok else 1)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign the current chain head now and append it to the witness (the scheduler also
    does, at REFHUB_AUDIT_CHECKPOINT_EVERY_RECORDS records or _SECONDS seconds)."""
    runtime = cli_runtime(check_schema=True)
    witnesses = Witnesses.for_settings(runtime.settings)
    with transaction(runtime.sessions) as session:
        written = audit_service.write_checkpoint(session, runtime.audit_signing_key)
        message = f"checkpoint signed at record {written.seq}" if written else "nothing new to sign"
        pending = audit_service.unwitnessed_checkpoints(session, witness=witnesses.file)
    typer.echo(message)
    # after the commit: the witness only ever holds checkpoints the database has
    try:
        appended = witnesses.export(pending)
    except WitnessUnavailable as exc:
        typer.echo(f"the witness was not written: {exc.detail}; the scheduler retries", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{appended} new checkpoints in the witness {witnesses.file.path}")
