"""The service plan's FHIR routes: `GET /fhir/CarePlan`, `/fhir/Goal`, `/fhir/Condition`
searches here; reads share `/fhir/{type}/{id}` with the referral packets' resources
(`gateway.workflow.fhir_reads`, `fhir_tasks`), which hand canonical-UUID ids to `read`.

Plan tasks are read (`GET /fhir/Task/{id}`) and reached from `CarePlan.activity`; they are
not in `GET /fhir/Task`, which is the referral inbox and outbox search.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from directory.errors import BadSearchParameter
from directory.fhir_search import bundle, fhir_response, id_list, number, params, token
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession, RuntimeDep
from gateway.errors import error_responses
from gateway.workflow.casework import fhir, fhir_access, fhir_service
from gateway.workflow.casework.models import PlanTask
from gateway.workflow.casework.schemas import Lifecycle
from kernel.caller import Caller

__all__ = ["CAPABILITY", "PLAN_KINDS", "TASK_DOCUMENTATION", "is_plan_task", "read", "router"]

router = APIRouter(prefix="/fhir", tags=["fhir"])
_ERRORS = error_responses(400, 401, 403)
_COMMON = ("patient", "subject", "_count", "_page", "_format")
_PARAMS: dict[str, tuple[str, ...]] = {
    "CarePlan": _COMMON,
    "Goal": (*_COMMON, "lifecycle-status"),
    "Condition": _COMMON,
}
_LIFECYCLE = "http://hl7.org/fhir/goal-status"


#: Packet resource types that are the service plan's too when the id is a canonical UUID.
PLAN_KINDS = ("CarePlan", "Goal", "Condition")


def is_plan_task(session: Session, task_id: uuid.UUID) -> bool:
    """Whether `Task/{task_id}` is a plan task (else it is a referral's Task)."""
    return session.get(PlanTask, task_id) is not None


def read(session: Session, caller: Caller, kind: str, value: str) -> JSONResponse | None:
    """The plan resource `kind/value` as FHIR JSON, or None when `value` is not a plan id
    (a canonical UUID): the caller then reads the referral packets' resource."""
    rid = fhir_access.plan_id(value)
    if rid is None or kind not in fhir_service.KINDS:
        return None
    return fhir_response(fhir_service.read(session, caller, kind, rid))


def _search(
    request: Request, caller: Caller, session: Session, base: str, kind: str
) -> JSONResponse:
    used = params(request, _PARAMS[kind])
    patients: list[uuid.UUID] = []
    lifecycle: list[str] = []
    page, count = 1, 20
    for key, value in used:
        if key in ("patient", "subject"):
            patients += id_list(value, key)
        elif key == "lifecycle-status":
            lifecycle += token(value, _LIFECYCLE, key)
            for code in lifecycle:
                if code not in {s.value for s in Lifecycle}:
                    raise BadSearchParameter(key, f"{code!r} is not a goal-status code")
        elif key == "_count":
            count = number(value, key, 0, 100) or 1
        elif key == "_page":
            page = number(value, key, 1, 100000)
    found = fhir_service.search(session, caller, kind, patients=patients, lifecycle=lifecycle)
    start = (page - 1) * count
    return bundle(
        request, used, found[start : start + count], [], len(found), page, count, base_url=base
    )


@router.get("/CarePlan", summary="Search service plans (CarePlan)", responses=_ERRORS)
def search_care_plans(
    request: Request, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    """The organisation's plans, and of others' open cases the plans whose goals it serves
    (only those goals, its own tasks) while consent permits. `patient=Patient/{id}`."""
    return _search(request, caller, session, runtime.settings.public_base_url, "CarePlan")


@router.get("/Goal", summary="Search plan goals (SDOHCC-Goal)", responses=_ERRORS)
def search_goals(
    request: Request, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    """Goals of the organisation's plans, and the goals it serves of others' open cases
    while consent permits. `patient=`, `lifecycle-status=` (goal-status codes)."""
    return _search(request, caller, session, runtime.settings.public_base_url, "Goal")


@router.get("/Condition", summary="Search assessed needs and barriers", responses=_ERRORS)
def search_conditions(
    request: Request, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    """Needs and barriers of the latest assessment of the organisation's plans; for a
    partner, those the goals it serves address, within consent. `patient=`."""
    return _search(request, caller, session, runtime.settings.public_base_url, "Condition")


def _params(kind: str) -> list[dict[str, str]]:
    kinds = {"lifecycle-status": "token"}
    return [
        {"name": name, "type": kinds.get(name, "reference")}
        for name in _PARAMS[kind]
        if not name.startswith("_")
    ]


#: What the CapabilityStatement adds to the packet resources' entries of these types.
_SHARED = (
    " Ids of 64 hex characters are a referral packet's (vread version 1); canonical UUID ids"
    " are the shared service plan's (read and search only, no versions), readable by the"
    " organisation holding the case and by partners for the goals they serve under consent."
)
CAPABILITY: dict[str, dict[str, Any]] = {
    "CarePlan": {
        "search": _params("CarePlan"),
        "documentation": "A referral packet's CarePlan, or a case's service plan." + _SHARED,
    },
    "Goal": {
        "search": _params("Goal"),
        "supportedProfile": [fhir.GOAL_PROFILE],
        "documentation": "A referral packet's Goal, or a service plan goal (SDOHCC-Goal)."
        + _SHARED,
    },
    "Condition": {
        "search": _params("Condition"),
        "documentation": "A referral packet's Condition, or a need or barrier of the latest"
        " assessment of a case with a service plan (id: the assessment item's)." + _SHARED,
    },
}
#: The Task entry's note: plan tasks are read by id, not searched.
TASK_DOCUMENTATION = (
    "Referral Tasks (SDOHCC-TaskForReferralManagement): search, read, vread, update. A "
    "service plan task (intent plan) is read by its id only (GET /fhir/Task/{id}, reached "
    "from CarePlan.activity); it is not in the Task search."
)
