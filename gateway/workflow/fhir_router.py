"""The workflow's FHIR R4 surface: `POST /fhir` (transaction), Task search/read/update,
ServiceRequest read.

Gravity's "light" mode for receivers without a server: they search their inbox with
`GET /fhir/Task?owner=...&status=requested&_include=Task:focus`, read the packet's
ServiceRequest, and `PUT /fhir/Task/{id}` to accept, reject or complete it. Errors are
OperationOutcomes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.task import Task
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import MalformedInput
from adapters.encoding import load_json
from directory.errors import BadSearchParameter
from directory.fhir_search import bundle, fhir_response, id_list, number, params, token
from directory.models import DirOrganization
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession, RuntimeDep, release
from gateway.errors import error_responses
from gateway.http.openapi import fhir_body
from gateway.workflow import access, content, fhir, queries, thread
from gateway.workflow.change import Change, change
from gateway.workflow.errors import NotAllowedChange, ReferralRefused, SubmissionInvalid
from gateway.workflow.models import Referral
from gateway.workflow.router import (
    SubmissionBody,
    etag,
    parse_if_match,
    read_submission,
    signed_or_plain,
)
from gateway.workflow.states import BUSINESS_STATUS_SYSTEM, REASON_SYSTEM
from gateway.workflow.submit import org_reference, submit
from kernel.caller import Caller

__all__ = ["CAPABILITY", "router"]

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

CAPABILITY: list[dict[str, Any]] = [
    {
        "type": "Task",
        "profile": "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-TaskForReferralManagement",
        "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "update"}],
        "versioning": "versioned-update",
        "conditionalUpdate": False,
        "searchInclude": ["Task:focus"],
        "searchParam": [
            {"name": name, "type": kind}
            for name, kind in (
                ("_id", "token"),
                ("owner", "reference"),
                ("requester", "reference"),
                ("status", "token"),
                ("business-status", "token"),
                ("_lastUpdated", "date"),
                ("patient", "reference"),
                ("focus", "reference"),
            )
        ],
    },
    {
        "type": "Communication",
        "interaction": [{"code": "create"}, {"code": "search-type"}],
        "searchParam": [{"name": "part-of", "type": "reference"}],
    },
    {
        "type": "ServiceRequest",
        "profile": "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ServiceRequest",
        "interaction": [{"code": "read"}],
    },
]


def _org_ids(session: Session, value: str, param: str) -> list[uuid.UUID]:
    """Organization ids as the directory lists them, or network organisation ids."""
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


@router.get("/Task", summary="Search referral Tasks (inbox and outbox)")
def search_tasks(
    request: Request, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    used = params(request, TASK_PARAMS)
    filters = queries.Filters()
    includes: set[str] = set()
    page, count, total_only = 1, 20, False
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
            includes.add(value)
    filters.offset, filters.limit = (page - 1) * count, count
    rows, total = queries.search(session, caller, filters)
    if total_only:
        rows = []
    matches = [fhir.task_resource(session, r, with_outputs=False) for r in rows]
    included: list[dict[str, Any]] = []
    if includes:
        for r in rows:
            try:
                included.append(_service_request(session, caller, r))
            except ReferralRefused:  # consent gone: the ServiceRequest is not disclosed
                continue
    base_url = runtime.settings.public_base_url
    return bundle(request, used, matches, included, total, page, count, base_url=base_url)


@router.get("/Task/{task_id}", summary="Read a referral Task", responses=error_responses(401, 404))
def read_task(task_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> JSONResponse:
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, task_id)
    response = fhir_response(fhir.task_resource(session, referral))
    response.headers["ETag"] = etag(referral)
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
    body = _json(body_in.data)
    try:
        Task.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SubmissionInvalid(f"Not a valid Task: {where}: {first.get('msg')}") from None
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
    reason, reason_text = _reason(body.get("statusReason"))
    same_reason = (reason, reason_text) == (referral.status_reason, referral.status_reason_text)
    outputs = None
    new_outputs = (body.get("output"), body.get("contained"))
    if new_outputs != (current.get("output"), current.get("contained")):
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


@router.get(
    "/ServiceRequest/{request_id}",
    summary="Read a referral's ServiceRequest (consent-checked)",
    responses=error_responses(401, 403, 404),
)
def read_service_request(
    request_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> JSONResponse:
    access.require_scope(caller, "ServiceRequest", "r")
    referral = session.scalars(
        select(Referral).where(
            Referral.service_request_id == request_id, access.visible_clause(caller)
        )
    ).first()
    if referral is None:
        access.get_visible(session, caller, request_id)  # the same audited 404
        raise AssertionError("unreachable")
    return fhir_response(_service_request(session, caller, referral))


@router.post(
    "",
    summary="Submit a referral as a FHIR transaction Bundle",
    responses=error_responses(400, 401, 403, 409, 413, 422),
    openapi_extra=fhir_body(
        "Bundle", type={"const": "transaction"}, entry={"type": "array", "minItems": 1}
    ),
)
def transaction(
    runtime: RuntimeDep,
    caller: CurrentCaller,
    session: DbSession,
    submitted: SubmissionBody,
    idempotency_key: str | None = Header(None, max_length=200),
) -> JSONResponse:
    """A transaction Bundle holding one referral packet (Patient, ServiceRequest, Task...).

    Answers a transaction-response Bundle whose Task entry has the hub's Task location.
    """
    data = signed_or_plain(session, caller, submitted)
    body = _json(data)
    if body.get("resourceType") != "Bundle" or body.get("type") != "transaction":
        raise SubmissionInvalid("POST /fhir takes a Bundle of type transaction.")
    release(session)  # parsing holds no database lock
    packet = read_submission(data, "fhir")
    done = submit(
        session,
        caller,
        packet=packet,
        source_format="fhir",
        idempotency_key=idempotency_key,
        digest=hashlib.sha256(b"fhir\0" + data).hexdigest(),
    )
    referral = done.referral
    base = runtime.settings.public_base_url + "/fhir"
    stored = content.open_packet(session, referral)
    entries = []
    for entry in stored.get("entry", []):
        resource = entry.get("resource") or {}
        kind, rid = resource.get("resourceType"), resource.get("id")
        status = "201 Created"
        location = f"{kind}/{rid}"
        if kind == "Task":
            location = f"Task/{referral.id}/_history/{referral.version}"
        entries.append(
            {
                "response": {
                    "status": status if done.created else "200 OK",
                    "location": location,
                    "etag": etag(referral) if kind == "Task" else None,
                }
            }
        )
    for item in entries:
        item["response"] = {k: v for k, v in item["response"].items() if v is not None}
    response = fhir_response(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "link": [{"relation": "self", "url": base}],
            "entry": entries,
        },
        status=200,
    )
    response.headers["Location"] = f"{base}/Task/{referral.id}"
    if not done.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = load_json(data.decode("utf-8"), expected="a FHIR resource in JSON")
    except UnicodeDecodeError:
        raise SubmissionInvalid("The body is not UTF-8 JSON.") from None
    except MalformedInput as exc:
        raise SubmissionInvalid(f"The body is not usable JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise SubmissionInvalid("The body must be a FHIR resource (a JSON object).")
    return value


def _reason(concept: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if not concept:
        return None, None
    code = None
    for coding in concept.get("coding", []):
        if coding.get("system") in (None, REASON_SYSTEM):
            code = coding.get("code")
    return code, concept.get("text")


def _service_request(session: Session, caller: Caller, referral: Referral) -> dict[str, Any]:
    packet = content.packet_for(session, caller, referral, access.party_of(referral, caller))
    for entry in packet.get("entry", []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "ServiceRequest":
            return dict(resource)
    raise SubmissionInvalid("The stored packet has no ServiceRequest.")


_TASK_REFERENCE = r"^(Task/)?[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$"


@router.get(
    "/Communication",
    summary="Search a referral's thread (part-of=Task/<id>)",
    responses=error_responses(400, 401, 403, 404),
    openapi_extra={  # read by `params`, not by FastAPI: documented here
        "parameters": [
            {
                "name": "part-of",
                "in": "query",
                "required": True,
                "description": "The referral's Task (Task/<id>).",
                "schema": {"type": "string", "pattern": _TASK_REFERENCE},
            }
        ]
    },
)
def search_communications(
    request: Request, caller: CurrentCaller, session: DbSession, runtime: RuntimeDep
) -> JSONResponse:
    used = params(request, ("part-of", "_count", "_page", "_format"))
    task_ids = [tid for key, value in used if key == "part-of" for tid in id_list(value, key)]
    if len(task_ids) != 1:
        raise BadSearchParameter("part-of", "name exactly one Task (part-of=Task/<id>)")
    referral, rows = thread.messages(session, caller, task_ids[0])
    resources = [
        thread.communication_resource(
            referral,
            m,
            thread.open_text(session, referral, m),
            lambda org: org_reference(session, org),
        )
        for m in rows
    ]
    count = max(len(resources), 1)
    base_url = runtime.settings.public_base_url
    return bundle(request, used, resources, [], len(resources), 1, count, base_url=base_url)


@router.post(
    "/Communication",
    summary="Send a message in a referral's thread",
    responses=error_responses(400, 401, 403, 404, 422),
    openapi_extra=fhir_body("Communication"),
)
def create_communication(
    runtime: RuntimeDep, caller: CurrentCaller, session: DbSession, submitted: SubmissionBody
) -> JSONResponse:
    """A Communication `partOf` the referral's Task, with one `contentString` payload (and
    optionally `contentAttachment` URLs of documents stored in the hub)."""
    body = _json(submitted.data)
    if body.get("resourceType") != "Communication":
        raise SubmissionInvalid("POST /fhir/Communication takes a Communication.")
    try:
        Communication.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SubmissionInvalid(f"Not a valid Communication: {where}: {first.get('msg')}") from None
    task_id = None
    for part in body.get("partOf", []):
        task_id = task_id or _task_id(part.get("reference"))
    if task_id is None:
        raise SubmissionInvalid("Communication.partOf must name the referral's Task (Task/<id>).")
    texts = [p["contentString"] for p in body.get("payload", []) if p.get("contentString")]
    documents = [
        doc
        for p in body.get("payload", [])
        if (doc := _document_id((p.get("contentAttachment") or {}).get("url")))
    ]
    if len(texts) != 1:
        raise SubmissionInvalid("Send one payload.contentString per Communication.")
    in_response_to = None
    for ref in body.get("inResponseTo", []):
        in_response_to = in_response_to or _id_of(ref.get("reference"), "Communication")
    message = thread.post(
        session,
        caller,
        task_id,
        text=texts[0],
        in_response_to=in_response_to,
        document_ids=documents,
    )
    referral = access.get_visible(session, caller, task_id)
    resource = thread.communication_resource(
        referral, message, texts[0], lambda org: org_reference(session, org)
    )
    response = fhir_response(resource, status=201)
    base_url = runtime.settings.public_base_url
    response.headers["Location"] = f"{base_url}/fhir/Communication/{message.id}"
    return response


def _id_of(reference: str | None, kind: str) -> uuid.UUID | None:
    if not reference or not reference.startswith(kind + "/"):
        return None
    try:
        return uuid.UUID(reference.split("/")[1])
    except ValueError:
        return None


def _task_id(reference: str | None) -> uuid.UUID | None:
    return _id_of(reference, "Task")


def _document_id(url: str | None) -> uuid.UUID | None:
    if not url or "/documents/" not in url:
        return None
    try:
        return uuid.UUID(url.split("/documents/")[1].split("/")[0])
    except ValueError:
        return None
