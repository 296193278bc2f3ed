"""`/cases` (an organisation's cases, closure) and the handover routes under `/referrals`:
the handover record both sides read, and the receiver's first-contact confirmation.

Every route authenticates the caller; another organisation's case or handover is a 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import cases
from gateway.workflow.schemas import CaseCloseIn, CaseOut, HandoverOut

__all__ = ["CaseList", "FirstContactIn", "cases_router", "handover_router"]

cases_router = APIRouter(prefix="/cases", tags=["cases"])
handover_router = APIRouter(prefix="/referrals", tags=["referrals"])


class CaseList(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    per_page: int


class FirstContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacted_at: dt.datetime | None = None


@cases_router.get("", response_model=CaseList, responses=error_responses(401, 403))
def list_cases(
    caller: CurrentCaller,
    session: DbSession,
    status: Literal["open", "closed"] | None = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CaseList:
    """Your organisation's cases (open, closed or both), newest first."""
    rows, total = cases.list_cases(
        session, caller, status=status, offset=(page - 1) * per_page, limit=per_page
    )
    return CaseList(
        items=[cases.case_out(session, c) for c in rows], total=total, page=page, per_page=per_page
    )


@cases_router.get("/{case_id}", response_model=CaseOut, responses=error_responses(401, 403, 404))
def read_case(case_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> CaseOut:
    """One of your organisation's cases, with its closure record once closed."""
    case = cases.get_case(session, caller, case_id)
    return cases.case_out(session, case, with_closure=True)


@cases_router.post(
    "/{case_id}/close", response_model=CaseOut, responses=error_responses(401, 403, 404, 409, 422)
)
def close_case(
    case_id: uuid.UUID, body: CaseCloseIn, caller: CurrentCaller, session: DbSession
) -> CaseOut:
    """Close the case: the reason, the outcome and the client's continuation plan.

    Refused (409) while a handover of the client involving your organisation is open.
    """
    case = cases.close_case(session, caller, case_id, body)
    return cases.case_out(session, case, with_closure=True)


@handover_router.get(
    "/{referral_id}/handover", response_model=HandoverOut, responses=error_responses(401, 403, 404)
)
def read_handover(referral_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> HandoverOut:
    """The handover record: what was transferred, by whom, when, open goals, next steps."""
    return cases.handover_record(session, caller, referral_id)


@handover_router.post(
    "/{referral_id}/first-contact",
    response_model=HandoverOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def confirm_first_contact(
    referral_id: uuid.UUID,
    caller: CurrentCaller,
    session: DbSession,
    body: FirstContactIn | None = None,
) -> HandoverOut:
    """The receiver confirms first contact with the client (the sender is told)."""
    cases.confirm_first_contact(
        session, caller, referral_id, contacted_at=body.contacted_at if body else None
    )
    return cases.handover_record(session, caller, referral_id)
