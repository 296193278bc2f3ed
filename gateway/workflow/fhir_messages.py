"""FHIR Communication routes: a referral's thread (search, send, read, vread).

Messages never change once sent: each has one version (`/_history/1`). Reads are checked
as the thread is (the receiver reads only under a consent still in force).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.communication import Communication
from sqlalchemy.orm import Session

from directory.errors import BadSearchParameter
from directory.fhir_search import bundle, fhir_response, id_list, params
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession, RuntimeDep
from gateway.errors import error_responses
from gateway.http.openapi import fhir_body
from gateway.workflow import access, thread
from gateway.workflow.addressing import org_reference
from gateway.workflow.errors import ReferralNotFound, SubmissionInvalid
from gateway.workflow.fhir_common import as_json, id_of, validated
from gateway.workflow.models import Referral, ThreadMessage
from gateway.workflow.router import SubmissionBody
from kernel.caller import Caller

__all__ = ["router"]

router = APIRouter(prefix="/fhir", tags=["fhir"])

_TASK_REFERENCE = r"^(Task/)?[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$"


def _resource(session: Session, referral: Referral, message: ThreadMessage) -> dict[str, Any]:
    resource = thread.communication_resource(
        referral,
        message,
        thread.open_text(session, referral, message),
        lambda org: org_reference(session, org),
    )
    resource["meta"] = {"versionId": "1", "lastUpdated": message.sent_at.isoformat()}
    return resource


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
    resources = [_resource(session, referral, m) for m in rows]
    count = max(len(resources), 1)
    base_url = runtime.settings.public_base_url
    return bundle(request, used, resources, [], len(resources), 1, count, base_url=base_url)


def _message(session: Session, caller: Caller, message_id: uuid.UUID) -> dict[str, Any]:
    access.require_scope(caller, "Communication", "r")
    found = session.get(ThreadMessage, message_id)
    if found is None:
        raise ReferralNotFound("No such Communication.")
    referral, rows = thread.messages(session, caller, found.referral_id)
    for row in rows:
        if row.id == message_id:
            return _resource(session, referral, row)
    raise ReferralNotFound("No such Communication.")


@router.get(
    "/Communication/{message_id}",
    summary="Read a message of a referral's thread",
    responses=error_responses(401, 403, 404),
)
def read_communication(
    message_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> JSONResponse:
    return fhir_response(_message(session, caller, message_id))


@router.get(
    "/Communication/{message_id}/_history/{version}",
    summary="Read a version of a message (vread; messages have version 1)",
    responses=error_responses(401, 403, 404),
)
def vread_communication(
    message_id: uuid.UUID, version: str, caller: CurrentCaller, session: DbSession
) -> JSONResponse:
    if version != "1":
        raise ReferralNotFound(f"The Communication has no version {version}.")
    return fhir_response(_message(session, caller, message_id))


def _document_id(url: str | None) -> uuid.UUID | None:
    if not url or "/documents/" not in url:
        return None
    try:
        return uuid.UUID(url.split("/documents/")[1].split("/")[0])
    except ValueError:
        return None


def read_communication_body(body: dict[str, Any]) -> tuple[uuid.UUID, str, Any, list[uuid.UUID]]:
    """(Task id, text, in-response-to id, document ids) of a Communication to send."""
    if body.get("resourceType") != "Communication":
        raise SubmissionInvalid("POST /fhir/Communication takes a Communication.")
    validated(Communication, body, "Communication")
    task_id = None
    for part in body.get("partOf", []):
        task_id = task_id or id_of(part.get("reference"), "Task")
    if task_id is None:
        raise SubmissionInvalid(
            "Communication.partOf must name the referral's Task (Task/<id>).",
            errors=[{"location": "Communication.partOf", "message": "name Task/<id>"}],
        )
    texts = [p["contentString"] for p in body.get("payload", []) if p.get("contentString")]
    documents = [
        doc
        for p in body.get("payload", [])
        if (doc := _document_id((p.get("contentAttachment") or {}).get("url")))
    ]
    if len(texts) != 1:
        raise SubmissionInvalid(
            "Send one payload.contentString per Communication.",
            errors=[{"location": "Communication.payload", "message": "one contentString"}],
        )
    in_response_to = None
    for ref in body.get("inResponseTo", []):
        in_response_to = in_response_to or id_of(ref.get("reference"), "Communication")
    return task_id, texts[0], in_response_to, documents


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
    optionally `contentAttachment` URLs of documents stored in the hub). The answer's
    `Location` (`/fhir/Communication/{id}/_history/1`) reads the message."""
    task_id, text, in_response_to, documents = read_communication_body(as_json(submitted.data))
    message = thread.post(
        session,
        caller,
        task_id,
        text=text,
        in_response_to=in_response_to,
        document_ids=documents,
    )
    referral = access.get_visible(session, caller, task_id)
    resource = thread.communication_resource(
        referral, message, text, lambda org: org_reference(session, org)
    )
    resource["meta"] = {"versionId": "1", "lastUpdated": message.sent_at.isoformat()}
    response = fhir_response(resource, status=201)
    base_url = runtime.settings.public_base_url
    response.headers["Location"] = f"{base_url}/fhir/Communication/{message.id}/_history/1"
    response.headers["ETag"] = 'W/"1"'
    return response
