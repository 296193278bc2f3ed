"""Opening a case for a client at engagement, before any referral (a referral sent or a
handover accepted opens one too): the first stage of case work, where the assessment and
the plan are written."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from gateway.auth.errors import Forbidden
from gateway.workflow.casework import access
from gateway.workflow.models import Case, CaseStatus
from kernel import audit
from kernel.caller import Caller

__all__ = ["open_case"]


def open_case(session: Session, caller: Caller, client_id: uuid.UUID) -> tuple[Case, bool]:
    """The organisation's open case for the client: the one it has, or a new one
    (`True` when opened now; audited).

    Raises:
        Forbidden (not a case worker or supervisor), ConsentNotFound (no such client, or
        not one the organisation may see), ClientErased.
    """
    if not access.does_case_work(caller):
        access.refused(session, caller, "case.open", f"Patient/{client_id}", "role")
        raise Forbidden("Only case workers and supervisors open cases.")
    client = consent_clients.get_client(session, caller, client_id=client_id)
    org = caller.organisation_id
    assert org is not None  # a person always acts for an organisation
    found = session.scalars(
        select(Case).where(
            Case.client_id == client.id,
            Case.owner_org_id == org,
            Case.status == CaseStatus.OPEN.value,
        )
    ).first()
    if found is not None:
        return found, False
    case = Case(client_id=client.id, owner_org_id=org, opened_by_org_id=org, stage="engagement")
    session.add(case)
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="case.open",
        organisation=str(org),
        subject=f"Patient/{client.id}",
        detail={"case": str(case.id)},
    )
    return case, True
