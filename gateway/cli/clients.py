"""`refhub clients`: operator actions on clients (data subjects): erasure (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from consent import erasure as consent_erasure
from consent import errors as consent_errors
from consent.models import ErasureBasis
from gateway.cli.context import cli_runtime
from gateway.workflow import erasure as workflow_erasure
from kernel.db import transaction
from kernel.errors import StartupError

app = typer.Typer(help="Clients (data subjects).", no_args_is_help=True)
ACTOR = "system:cli"


@app.command("erase")
def erase(
    client_id: Annotated[uuid.UUID, typer.Argument(help="The client's id (Patient/<id>).")],
    basis: Annotated[ErasureBasis, typer.Option(help="The legal ground for the erasure.")],
    reason: Annotated[
        str, typer.Option(help="Why, e.g. the request or order reference (digest audited).")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a client's data for good by destroying their data key (crypto-shredding):
    identity, packets, messages and documents become unreadable here and in every backup.
    Asks you to type the id again unless --yes."""
    runtime = cli_runtime(check_schema=True)
    if not yes:
        typer.echo(
            f"This destroys the data key of client {client_id}: their data can never be "
            "read again, and this cannot be undone."
        )
        typed = typer.prompt("Type the client id again to confirm")
        if typed.strip().lower() != str(client_id):
            raise StartupError("the id typed does not match; nothing was erased")
    try:
        with transaction(runtime.sessions) as session:
            done = consent_erasure.erase_client(
                session,
                actor=ACTOR,
                organisation_id=None,
                client_id=client_id,
                basis=basis,
                reason=reason,
            )
            workflow_erasure.forget_client_text(session, client_id)
    except consent_errors.ConsentError as exc:
        raise StartupError(exc.detail) from None
    typer.echo(
        f"client {done.client_id} erased ({done.basis.value}) at {done.erased_at.isoformat()}: "
        f"{done.consents_ended} consent(s) ended, {done.identifiers_removed} identifier(s) "
        "removed"
    )
