"""Changing a client through FHIR: find by identifier, the organisation's own client, and
update of the identity (re-encrypted under the client's data key, its version counted).

With `consent.clients`, the writer of client rows; reads start from `get_client` (the
organisation scope of `consent.scope`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import vault
from consent.clients import (
    check_identifiers_free,
    get_client,
    identifiers_of,
    keyring,
    require_acting,
    subject_of,
)
from consent.errors import ClientErased, ConsentNotFound
from consent.models import Client, ClientIdentifier
from consent.schemas import IdentifierIn, IdentityIn
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller

__all__ = ["find_by_identifier", "own_client", "update_client"]


def find_by_identifier(
    session: Session, caller: Caller, *, system: str | None, value: str
) -> list[uuid.UUID]:
    """The caller's organisation's clients holding the identifier (`system` None: any)."""
    query = select(ClientIdentifier.client_id).where(
        ClientIdentifier.organisation_id == caller.organisation_id,
        ClientIdentifier.value == value,
    )
    if system is not None:
        query = query.where(ClientIdentifier.system == system)
    return sorted(set(session.scalars(query)))


def own_client(session: Session, caller: Caller, *, client_id: uuid.UUID) -> Client:
    """A client the caller's organisation registered (the one that may change it).

    Raises:
        ConsentNotFound: no such client, or another organisation's (audited).
    """
    client = get_client(session, caller, client_id=client_id)
    if client.registered_by_org_id != caller.organisation_id:
        audit.record(
            session,
            actor=caller.actor,
            action="client.update",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=subject_of(client_id),
        )
        raise ConsentNotFound("No such client.")
    return client


def update_client(
    session: Session,
    caller: Caller,
    *,
    client_id: uuid.UUID,
    identity: IdentityIn,
    identifiers: Sequence[IdentifierIn],
) -> Client:
    """Replace the identity of a client the caller's organisation registered, and that
    organisation's identifiers of it; the identity's version goes up by one.

    Raises:
        ConsentNotFound: not the caller's organisation's client.
        ClientErased: the client's data was erased.
        ClientIdentifierTaken: another client of the organisation has an identifier.
    """
    require_acting(session, caller, "client.update", subject_of(client_id))
    client = own_client(session, caller, client_id=client_id)
    if client.wrapped_key is None:
        raise ClientErased("This client's data was erased.")
    mine = [
        i for i in identifiers_of(session, client.id) if i.organisation_id == caller.organisation_id
    ]
    held = {(i.system, i.value) for i in mine}
    wanted = {(i.system, i.value) for i in identifiers}
    check_identifiers_free(
        session, caller, [i for i in identifiers if (i.system, i.value) not in held]
    )
    for row in mine:
        if (row.system, row.value) not in wanted:
            session.delete(row)
    for system, value in sorted(wanted - held):
        session.add(
            ClientIdentifier(
                client_id=client.id,
                organisation_id=caller.organisation_id,
                system=system,
                value=value,
            )
        )
    kek = keyring().get(client.kek_id)
    client.identity_ciphertext = vault.reseal_identity(
        kek, client.id, client.wrapped_key, identity.model_dump(mode="json")
    )
    client.identity_version += 1
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="client.update",
        organisation=str(caller.organisation_id),
        subject=subject_of(client.id),
        detail={"version": client.identity_version, "identifiers": len(wanted)},
    )
    return client
