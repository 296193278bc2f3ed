"""What the plan's services share: the organisation's planning rules, finding the plan of
a case open for writing, and refusing (audited) before anything is changed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.workflow.casework import access
from gateway.workflow.casework.errors import CaseClosed, CaseworkInvalid, PlanItemNotFound
from gateway.workflow.casework.models import OrgPlanSettings, Plan
from gateway.workflow.models import Case, CaseStatus
from kernel import audit
from kernel.caller import Caller

__all__ = [
    "audit_case",
    "invalid",
    "open_case",
    "plan_for_write",
    "plan_of_case",
    "settings_of",
]


def settings_of(session: Session, organisation_id: uuid.UUID) -> OrgPlanSettings:
    """The organisation's planning rules (the defaults when it set none)."""
    found = session.get(OrgPlanSettings, organisation_id)
    return found or OrgPlanSettings(
        organisation_id=organisation_id,
        review_every_days=90,
        goal_domain_required=True,
        goal_target_required=True,
    )


def audit_case(session: Session, caller: Caller, action: str, case: Case, **detail: Any) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        organisation=str(caller.organisation_id),
        subject=f"Patient/{case.client_id}",
        detail={"case": str(case.id), **{k: str(v) for k, v in detail.items()}},
    )


def invalid(
    session: Session, caller: Caller, action: str, case: Case, detail: str, location: str
) -> CaseworkInvalid:
    access.refused(session, caller, action, f"EpisodeOfCare/{case.id}", location)
    return CaseworkInvalid(detail, location=location)


def open_case(session: Session, caller: Caller, case_id: uuid.UUID, action: str) -> Case:
    case = access.owned_case(session, caller, case_id, action=action, for_update=True)
    if case.status != CaseStatus.OPEN:
        access.refused(session, caller, action, f"EpisodeOfCare/{case.id}", "closed")
        raise CaseClosed("The case is closed: its plan is kept as it was at closure.")
    return case


def plan_of_case(session: Session, case_id: uuid.UUID) -> Plan | None:
    return session.scalars(select(Plan).where(Plan.case_id == case_id)).first()


def plan_for_write(
    session: Session, caller: Caller, case_id: uuid.UUID, action: str
) -> tuple[Case, Plan]:
    case = open_case(session, caller, case_id, action)
    plan = plan_of_case(session, case.id)
    if plan is None:
        access.refused(session, caller, action, f"EpisodeOfCare/{case.id}", "no-plan")
        raise PlanItemNotFound("The case has no plan yet: write the plan first.")
    return case, plan
