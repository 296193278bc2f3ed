"""Erasure of a client's data by a hub admin: `POST /admin/clients/{person_id}/$erase`.

`person_id` is a data subject (`Patient/<id>`, as under `/consent/clients/`), not a
system client. The work is `consent.erasure.erase_client` (crypto-shredding); here only
who may ask: staff with the `hub_admin` role. Every attempt is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from consent import erasure as consent_erasure
from consent.models import ErasureBasis
from gateway.auth.dependencies import CurrentCaller
from gateway.auth.errors import Forbidden
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import erasure as workflow_erasure
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind

__all__ = ["ErasureIn", "ErasureOut", "erase", "router"]

router = APIRouter(prefix="/admin", tags=["administration"])


class ErasureNotPermitted(Forbidden):
    """Only hub admins erase; the refused attempt stays in the audit chain."""

    keeps_writes = True


class ErasureIn(BaseModel):
    basis: ErasureBasis = Field(description="The legal ground for the erasure.")
    reason: str = Field(
        min_length=consent_erasure.MIN_REASON,
        max_length=2000,
        description="Why (e.g. the request or order reference). Only a digest is audited.",
    )


class ErasureOut(BaseModel):
    client_id: uuid.UUID
    basis: ErasureBasis
    erased_at: dt.datetime
    consents_ended: int
    identifiers_removed: int


def erase(
    session: Session, caller: Caller, *, person_id: uuid.UUID, body: ErasureIn
) -> consent_erasure.Erasure:
    """Erase a client's data if the caller is a hub admin (staff).

    Raises:
        ErasureNotPermitted: not a hub admin (403, audited).
        ConsentNotFound, AlreadyErased, ConsentInvalid: see `consent.erasure.erase_client`.
    """
    if not (caller.kind is CallerKind.USER and caller.is_hub_admin):
        audit.record(
            session,
            actor=caller.actor,
            action=consent_erasure.ERASE_ACTION,
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=f"Patient/{person_id}",
            detail={"refused": "role"},
        )
        raise ErasureNotPermitted("Only a hub admin may erase a client's data.")
    done = consent_erasure.erase_client(
        session,
        actor=caller.actor,
        organisation_id=caller.organisation_id,
        client_id=person_id,
        basis=body.basis,
        reason=body.reason,
    )
    workflow_erasure.forget_client_text(session, person_id)
    return done


@router.post(
    "/clients/{person_id}/$erase",
    response_model=ErasureOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def erase_route(
    person_id: uuid.UUID, body: ErasureIn, caller: CurrentCaller, session: DbSession
) -> ErasureOut:
    """Erase a client's data (hub admins): destroys the client's data key, so their
    identity, packets, messages and documents can never be read again, here or in any
    backup; ends their consents. Answers 409 if the client was erased before."""
    done = erase(session, caller, person_id=person_id, body=body)
    return ErasureOut(
        client_id=done.client_id,
        basis=done.basis,
        erased_at=done.erased_at,
        consents_ended=done.consents_ended,
        identifiers_removed=done.identifiers_removed,
    )
