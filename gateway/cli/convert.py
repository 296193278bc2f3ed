"""`refhub convert`: convert a file between formats on the command line (nothing is stored)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

import adapters

__all__ = ["convert"]


def convert(
    source_file: Annotated[Path, typer.Argument(help="Input file, or - for standard input.")],
    source: Annotated[str, typer.Option("--from", help="summary, csv or fhir")],
    target: Annotated[str, typer.Option("--to", help="fhir, summary, csv or html")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the outputs (default: standard output).")
    ] = None,
    language: Annotated[str, typer.Option(help="Language of HTML summaries.")] = "en",
) -> None:
    """Convert a case summary, CSV export or FHIR Bundle; report every case that fails.

    Exit code 0 when every case converted, 1 when some failed (the others are still
    written), 2 when the input as a whole cannot be read.
    """
    data = sys.stdin.buffer.read() if str(source_file) == "-" else source_file.read_bytes()
    try:
        result = adapters.convert(data, source, target, language=language)
    except adapters.AdapterError as exc:
        typer.echo(f"refhub: error: {exc}", err=True)
        raise typer.Exit(2) from None
    for warning in result.warnings:
        typer.echo(f"warning: {warning.location}: {warning.message}", err=True)
    for case in result.cases:
        for issue in case.warnings:
            typer.echo(f"warning: case {case.key}: {issue.location}: {issue.message}", err=True)
        for error in case.errors:
            typer.echo(f"error: case {case.key}: {error}", err=True)
    if out is None:
        for output in result.outputs:
            typer.echo(output.content)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for output in result.outputs:
            (out / output.filename).write_text(output.content, encoding="utf-8")
            typer.echo(f"wrote {out / output.filename}")
    raise typer.Exit(0 if result.ok else 1)
