"""FHIR Task routes: search (inbox and outbox), read, vread, update.

A search answers each Task exactly as a read does (outputs and contained Procedures
included), so Gravity's "fetch after notification" sees the outcome;
`_include=Task:focus` adds the ServiceRequests the caller may read under consent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.task import Task
from sqlalchemy.orm import Session

from directory.errors import BadSearchParameter
from directory.fhir_search import bundle, fhir_response, id_list, number, params, token
from directory.models import DirOrganization
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession, RuntimeDep
from gateway.errors import error_responses
from gateway.http.openapi import fhir_body
from gateway.workflow import access, fhir, fhir_packet, queries, versions
from gateway.workflow.casework import fhir_router as casework_fhir
from gateway.workflow.change import Change, change
from gateway.workflow.errors import NotAllowedChange, ReferralRefused, SubmissionInvalid
from gateway.workflow.fhir_common import as_json, reason_of, validated
from gateway.workflow.router import SubmissionBody, etag, parse_if_match
from gateway.workflow.states import BUSINESS_STATUS_SYSTEM, REASONS

__all__ = ["TASK_PARAMS", "router"]

router = APIRouter(prefix="/fhir", tags=["fhir"])

TASK_PARAMS = (
    "_id",
    "owner",
    "requester",
    "status",
    "business-status",
    "_lastUpdated",
    "patient",
    "subject",
    "focus",
    "_include",
    "_count",
    "_page",
    "_sort",
    "_format",
)
#: Task fields the owner (receiver) may change with PUT; the requester may change status
#: and statusReason only. Everything else must come back as it was.
_OWNER_FIELDS = frozenset({"status", "statusReason", "businessStatus", "output", "contained"})
_REQUESTER_FIELDS = frozenset({"status", "statusReason", "businessStatus"})
_IGNORED = frozenset({"meta", "lastModified", "text"})


def _org_ids(session: Session, value: str, param: str) -> list[uuid.UUID]:
    """Network organisation ids (directory Organization ids of older links mapped)."""
    out: list[uuid.UUID] = []
    for given in id_list(value, param):
        listed = session.get(DirOrganization, given)
        if listed is not None and listed.owner_organisation_id is not None:
            out.append(listed.owner_organisation_id)
        else:
            out.append(given)
    return out


def _date_filter(filters: queries.Filters, value: str) -> None:
    prefix, stamp = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise BadSearchParameter("_lastUpdated", "use gt, ge, lt or le with an ISO date") from None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if prefix in ("gt", "ge", "sa"):
        filters.updated_after, filters.updated_after_inclusive = when, prefix == "ge"
    elif prefix in ("lt", "le", "eb"):
        step = dt.timedelta(microseconds=1) if prefix == "le" else dt.timedelta()
        filters.updated_before = when + step
    else:
        raise BadSearchParameter("_lastUpdated", "use gt, ge, lt or le")


def _filters(
    session: Session, used: list[tuple[str, str]]
) -> tuple[queries.Filters, bool, int, int, bool]:
    filters = queries.Filters()
    include, page, count, total_only = False, 1, 20, False
    for key, value in used:
        if key == "_id":
            filters.ids += id_list(value, key)
        elif key == "owner":
            filters.owner += _org_ids(session, value, key)
        elif key == "requester":
            filters.requester += _org_ids(session, value, key)
        elif key == "status":
            filters.status += token(value, None, key)
        elif key == "business-status":
            filters.business_status += token(value, BUSINESS_STATUS_SYSTEM, key)
        elif key in ("patient", "subject"):
            filters.client += id_list(value, key)
        elif key == "focus":
            filters.focus += id_list(value, key)
        elif key == "_lastUpdated":
            _date_filter(filters, value)
        elif key == "_count":
            count = number(value, key, 0, 100) or 1
            total_only = value.strip() == "0"
        elif key == "_page":
            page = number(value, key, 1, 100000)
        elif key == "_sort":
            if value not in ("_lastUpdated", "-_lastUpdated"):
                raise BadSearchParameter("_sort", "only _lastUpdated or -_lastUpdated")
            filters.sort = "updated" if value == "_lastUpdated" else "-updated"
        elif key == "_include":
            if value != "Task:focus":
                raise BadSearchParameter("_include", "only Task:focus is supported")
            include = True
    filters.offset, filters.limit = (page - 1) * count, count
    return filters, include, page, count, total_only


@router.get("/Task", summary="Search referral Tasks (inbox and outbox)")
def search_tasks(
    request: Request, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    used = params(request, TASK_PARAMS)
    filters, include, page, count, total_only = _filters(session, used)
    rows, total = queries.search(session, caller, filters)
    if total_only:
        rows = []
    matches = [fhir.task_resource(session, r) for r in rows]  # the same Task as a read
    included: list[dict[str, Any]] = []
    if include:
        for r in rows:
            try:
                included.append(fhir_packet.service_request(session, caller, r))
            except ReferralRefused:  # consent gone: the ServiceRequest is not disclosed
                continue
    base_url = runtime.settings.public_base_url
    return bundle(request, used, matches, included, total, page, count, base_url=base_url)


@router.get(
    "/Task/{task_id}",
    summary="Read a referral Task or a service plan task",
    responses=error_responses(401, 403, 404),
)
def read_task(task_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> JSONResponse:
    """A referral's Task, or a service plan task (`casework.fhir_router`, read only)."""
    if casework_fhir.is_plan_task(session, task_id):
        answer = casework_fhir.read(session, caller, "Task", str(task_id))
        assert answer is not None
        return answer
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, task_id)
    response = fhir_response(fhir.task_resource(session, referral))
    response.headers["ETag"] = etag(referral)
    return response


@router.get(
    "/Task/{task_id}/_history/{version}",
    summary="Read a version of a referral Task (vread)",
    responses=error_responses(401, 404),
)
def vread_task(
    task_id: uuid.UUID, version: int, caller: CurrentCaller, session: DbSession
) -> JSONResponse:
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, task_id)
    response = fhir_response(versions.task_version(session, referral, version))
    response.headers["ETag"] = f'W/"{version}"'
    return response


@router.put(
    "/Task/{task_id}",
    summary="Update a referral Task (status, reason, business status, outputs)",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
    openapi_extra=fhir_body("Task", status={"type": "string"}, intent={"const": "order"}),
)
def update_task(
    task_id: uuid.UUID,
    caller: CurrentCaller,
    session: DbSession,
    body_in: SubmissionBody,
    if_match: str | None = Header(None),
) -> JSONResponse:
    """Completing (`status` completed) needs at least one `output` (Gravity refer-9)."""
    body = as_json(body_in.data)
    validated(Task, body, "Task")
    if body.get("id") != str(task_id):
        raise SubmissionInvalid("The Task's id must match the URL (FHIR update).")
    referral = access.get_visible(session, caller, task_id)
    party = access.party_of(referral, caller)
    current = fhir.task_resource(session, referral)
    allowed = _OWNER_FIELDS if party.value == "owner" else _REQUESTER_FIELDS
    changed = sorted(
        key
        for key in set(current) | set(body)
        if key not in _IGNORED and current.get(key) != body.get(key) and key not in allowed
    )
    if changed:
        raise NotAllowedChange(
            f"The {party.value} may change only {', '.join(sorted(allowed))}; "
            f"these differ from the stored Task: {', '.join(changed)}."
        )
    version = parse_if_match(if_match)
    if version is None and (body.get("meta") or {}).get("versionId", "").isdigit():
        version = int(body["meta"]["versionId"])
    reason, reason_text = reason_of(body.get("statusReason"))
    if reason and reason_text == REASONS.get(reason) and not referral.status_reason_text:
        reason_text = None  # the display the hub fills in, not a text of the caller's
    same_reason = (reason, reason_text) == (referral.status_reason, referral.status_reason_text)
    outputs = None
    if (body.get("output"), body.get("contained")) != (
        current.get("output"),
        current.get("contained"),
    ):
        outputs = fhir.check_outputs(
            {"output": body.get("output") or [], "contained": body.get("contained") or []}
        )
    business = None
    for coding in (body.get("businessStatus") or {}).get("coding", []):
        if coding.get("system") in (None, BUSINESS_STATUS_SYSTEM):
            business = coding.get("code")
    if business == referral.business_status:
        business = None
    updated = change(
        session,
        caller,
        task_id,
        Change(
            status=body.get("status"),
            reason=None if same_reason else reason,
            reason_text=None if same_reason else reason_text,
            business_status=business,
            outputs=outputs,
            if_match=version,
        ),
    )
    response = fhir_response(fhir.task_resource(session, updated))
    response.headers["ETag"] = etag(updated)
    return response
