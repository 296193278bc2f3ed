"""Erasure of a client's data by crypto-shredding: destroy the client's data key.

Everything sealed for the client (identity, packets, thread messages, documents) is
encrypted under that one data key, so deleting its wrapped copy makes every copy of the
data unreadable, in this database and in every backup of it (backups hold only wrapped
keys; the KEK that could unwrap an old copy is kept apart and destroyed when retired).

The client row stays (the pseudonym is what the audit chain and other records point to),
with `erased_at` and `erasure_basis`. Consents in force end (`RevokedVia.ERASURE`, with
their `consent.revoked` outbox events, so pending deliveries are cancelled), the agencies'
plaintext case numbers for the client are deleted, open consent-page sessions end. The
audit chain records who erased, when, on which basis and a digest of the stated reason:
never content. Who may erase is the caller's business (hub admins, the operator's CLI).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from consent import service
from consent.clients import subject_of
from consent.errors import AlreadyErased, ConsentInvalid, ConsentNotFound
from consent.models import (
    Client,
    ClientIdentifier,
    ConsentRecord,
    ConsentStatus,
    ErasureBasis,
    PageSession,
    RevokedVia,
)
from consent.scope import is_latest
from kernel import audit
from kernel.audit import Outcome
from kernel.crypto import sha256_hex
from kernel.db import utcnow

__all__ = ["ERASE_ACTION", "MIN_REASON", "Erasure", "erase_client"]

ERASE_ACTION = "client.erase"
#: A stated reason is required (its digest is audited), at least this long.
MIN_REASON = 10


@dataclass(frozen=True)
class Erasure:
    """What an erasure did (counts only)."""

    client_id: uuid.UUID
    basis: ErasureBasis
    erased_at: dt.datetime
    consents_ended: int
    identifiers_removed: int


def erase_client(
    session: Session,
    *,
    actor: str,
    organisation_id: uuid.UUID | None,
    client_id: uuid.UUID,
    basis: ErasureBasis,
    reason: str,
) -> Erasure:
    """Erase the client's data by destroying its data key (see the module docstring).

    Flushes; the caller commits. Authorisation is checked by the caller.

    Raises:
        ConsentNotFound: no such client.
        ConsentInvalid: no stated reason (audited).
        AlreadyErased: the client was erased before (409, audited, nothing changes).
    """
    subject = subject_of(client_id)
    organisation = str(organisation_id) if organisation_id else None

    def refused(code: str) -> None:
        audit.record(
            session,
            actor=actor,
            action=ERASE_ACTION,
            outcome=Outcome.DENIED,
            organisation=organisation,
            subject=subject,
            detail={"refused": code, "basis": basis.value},
        )

    client = session.scalars(select(Client).where(Client.id == client_id).with_for_update()).first()
    if client is None:
        raise ConsentNotFound("No such client.")
    if client.erased_at is not None or client.wrapped_key is None:
        refused("already-erased")
        when = client.erased_at.isoformat() if client.erased_at else "earlier"
        raise AlreadyErased(
            f"This client's data was already erased ({when}, {client.erasure_basis}); "
            "there is nothing left to destroy."
        )
    if len(reason.strip()) < MIN_REASON:
        refused("reason-missing")
        raise ConsentInvalid(
            f"State the reason for the erasure (at least {MIN_REASON} characters)."
        )
    now = utcnow()
    ended = _end_consents(session, client_id, actor=actor, organisation_id=organisation_id)
    removed = session.execute(
        delete(ClientIdentifier).where(ClientIdentifier.client_id == client_id)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        update(PageSession)
        .where(PageSession.client_id == client_id, PageSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    client.wrapped_key = None
    client.identity_ciphertext = None
    client.erased_at = now
    client.erasure_basis = basis.value
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=ERASE_ACTION,
        organisation=organisation,
        subject=subject,
        detail={
            "basis": basis.value,
            "reason_digest": sha256_hex(reason.strip().encode()),
            "consents_ended": ended,
            "identifiers_removed": int(removed or 0),
            "kek": client.kek_id,
        },
    )
    return Erasure(
        client_id=client_id,
        basis=basis,
        erased_at=now,
        consents_ended=ended,
        identifiers_removed=int(removed or 0),
    )


def _end_consents(
    session: Session, client_id: uuid.UUID, *, actor: str, organisation_id: uuid.UUID | None
) -> int:
    """Add the inactive version to every consent of the client still active."""
    active = list(
        session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.client_id == client_id,
                ConsentRecord.status == ConsentStatus.ACTIVE.value,
                is_latest(),
            )
        )
    )
    for record in active:
        service.revoke_record(
            session,
            record,
            actor=actor,
            organisation=organisation_id,
            via=RevokedVia.ERASURE,
            reason="client-erased",
        )
    return len(active)
