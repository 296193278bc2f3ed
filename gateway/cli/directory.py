"""`refhub directory`: import and export listings as HSDS 3.0 (nested JSON or tabular CSV)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from directory import exporter as directory_exporter
from directory import importer as directory_importer
from directory.access import Viewer
from gateway.cli.context import cli_runtime

__all__ = ["app"]

app = typer.Typer(help="The service directory: HSDS import and export.", no_args_is_help=True)
ACTOR = "system:cli"


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="HSDS JSON file, or tabular folder (CSV files).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; change nothing.")
    ] = False,
    source_format: Annotated[
        str | None, typer.Option("--format", help="json or tabular (default: by the path).")
    ] = None,
    organization: Annotated[
        uuid.UUID | None,
        typer.Option(
            "--organization",
            help="Directory organization id for services and locations that name none.",
        ),
    ] = None,
) -> None:
    """Upsert listings by their ids; report each record that failed, and why.

    Exit code 0 when every record was imported, 1 when some failed (the others are
    imported), 2 when the input as a whole cannot be read.
    """
    runtime = cli_runtime(check_schema=True)
    err = Console(stderr=True)
    try:
        documents = directory_importer.read_documents(path, source_format)
    except (ValueError, OSError) as exc:
        typer.echo(f"refhub: error: {exc}", err=True)
        raise typer.Exit(2) from None
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress, runtime.sessions() as session:
        bar = progress.add_task("import", total=len(documents))
        report = directory_importer.import_documents(
            session,
            ACTOR,
            documents=documents,
            source=f"{source_format or 'auto'}:{path.name}",
            on_progress=lambda done: progress.update(bar, completed=done),
            default_organization=organization,
        )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    for problem in report.warnings:
        typer.echo(f"warning: {problem.record}: {problem.reason}", err=True)
    for problem in report.errors:
        typer.echo(f"error: {problem.record}: {problem.reason}", err=True)
    counts = report.counts()
    summary = ", ".join(f"{value} {key}" for key, value in counts.items())
    typer.echo(("dry run, nothing changed: " if dry_run else "imported: ") + summary)
    raise typer.Exit(1 if report.errors else 0)


@app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="JSON file, or folder for the tabular form.")],
    target_format: Annotated[str, typer.Option("--format", help="json or tabular")] = "json",
    public: Annotated[
        bool, typer.Option("--public", help="Only what the public sees, no network fields.")
    ] = False,
) -> None:
    """Write the directory as HSDS 3.0 (hub admin view, with refhub's network extension)."""
    runtime = cli_runtime(check_schema=True)
    viewer = Viewer.anonymous() if public else Viewer(member=True, hub_admin=True)
    try:
        with runtime.sessions() as session:
            written = directory_exporter.export_path(
                session, viewer, path=path, target_format=target_format
            )
    except ValueError as exc:
        typer.echo(f"refhub: error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"exported {written} services to {path} ({target_format})")
