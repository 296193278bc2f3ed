"""`/workflow/thresholds`: the caller's organisation's monitoring periods.

Any member of the organisation (staff or its system clients) may read them; only its org
admins (staff, not system clients) may change them. Values apply to referrals the
organisation RECEIVES: the monitor reminds it and escalates to the sender on these periods.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import monitor
from gateway.workflow.schemas import ThresholdsIn, ThresholdsOut
from kernel.caller import Caller

__all__ = ["router"]

router = APIRouter(prefix="/workflow", tags=["workflow monitoring"])


def _out(caller: Caller, values: monitor.Thresholds) -> ThresholdsOut:
    return ThresholdsOut(
        organisation_id=caller.organisation_id,
        **asdict(values),
        defaults=asdict(monitor.DEFAULTS),
    )


@router.get("/thresholds", response_model=ThresholdsOut, responses=error_responses(401, 403))
def read_thresholds(caller: CurrentCaller, session: DbSession) -> ThresholdsOut:
    """Your organisation's effective periods (your values, else the defaults) and the
    defaults."""
    return _out(caller, monitor.effective_thresholds(session, caller.organisation_id))


@router.put("/thresholds", response_model=ThresholdsOut, responses=error_responses(401, 403, 422))
def replace_thresholds(
    body: ThresholdsIn, caller: CurrentCaller, session: DbSession
) -> ThresholdsOut:
    """Set your organisation's periods (org admins only). A value left out or null goes
    back to the default. Hours for response, start and escalation; days for first contact.
    """
    values = monitor.update_thresholds(session, caller, values=body.model_dump())
    return _out(caller, values)
