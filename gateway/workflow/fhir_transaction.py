"""`POST /fhir`: a transaction Bundle holding one referral packet, or thread messages.

The transaction-response has one entry per request entry, in order. An entry the hub
stored answers `201 Created` (`200 OK` on an idempotent replay) and a `location` that
reads: `Task/{id}/_history/{n}`, `ServiceRequest/{id}/_history/1`,
`{type}/{public id}/_history/1` for the packet's other resources (see `fhir_packet`), and
`Patient/{client id}` for the Patient (the client record the Consent names). An entry the
hub did not store (a category the client's consent withholds from the receiver, a resource
type packets do not carry, an inline Organization/HealthcareService/Consent, which a
packet references instead) answers `204 No Content` with an OperationOutcome saying why.
A Bundle of Communications only posts each as a thread message
(`Communication/{id}/_history/1`).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

import adapters
from adapters.fhir.elements import CARRIED
from directory.fhir_search import fhir_response
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession, RuntimeDep, release
from gateway.errors import error_responses
from gateway.http.openapi import fhir_body
from gateway.workflow import addressing, content, fhir_packet, thread
from gateway.workflow.errors import SubmissionInvalid
from gateway.workflow.fhir_common import as_json
from gateway.workflow.fhir_messages import read_communication_body
from gateway.workflow.models import Referral
from gateway.workflow.router import SubmissionBody, case_packet, etag, signed_or_plain
from gateway.workflow.submit import Submitted, submit
from kernel.caller import Caller

__all__ = ["router"]

router = APIRouter(prefix="/fhir", tags=["fhir"])


def _not_stored(why: str) -> dict[str, Any]:
    return {
        "status": "204 No Content",
        "outcome": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": why}],
        },
    }


def _stored_location(referral: Referral, resource: dict[str, Any]) -> str | None:
    kind, rid = resource["resourceType"], str(resource.get("id"))
    if kind == "Patient":
        return f"Patient/{referral.client_id}"
    if kind == "Task":
        return f"Task/{referral.id}/_history/{referral.version}"
    if kind == "ServiceRequest":
        return f"ServiceRequest/{referral.service_request_id}/_history/1"
    pid = fhir_packet.public_id(referral.id, rid)
    return f"{kind}/{pid}/_history/1" if pid and kind in fhir_packet.SERVED_KINDS else None


def _stored_by_issued_id(
    session: Session, packet: Any, done: Submitted
) -> dict[str, dict[str, Any]]:
    """The stored resources by the id this request's normalisation issued them."""
    if done.packet is not None:  # stored by this request: under the ids issued here
        return {str(e["resource"]["id"]): e["resource"] for e in done.packet.get("entry", [])}
    # A replay: the packet as normalised now, minimised as stored, has the same entries in
    # the same order as the stored packet, under new ids, so ids map by position.
    referral = done.referral
    mine, _ = adapters.minimise_json(adapters.packet_dict(packet), referral.categories.split())
    stored = content.open_packet(session, referral).get("entry", [])
    same: dict[str, dict[str, Any]] = {}
    for m, s in zip(mine.get("entry", []), stored, strict=False):
        if m["resource"]["resourceType"] == s["resource"]["resourceType"]:
            same[str(m["resource"]["id"])] = s["resource"]
    return same


def _responses(
    session: Session, body: dict[str, Any], issued: list[str], packet: Any, done: Submitted
) -> list[dict[str, Any]]:
    """One response per request entry, in order (see the module docstring)."""
    referral, created = done.referral, done.created
    same = _stored_by_issued_id(session, packet, done)
    ids = iter(issued)
    out: list[dict[str, Any]] = []
    for entry in body.get("entry") or []:
        kind = (
            (entry.get("resource") or {}).get("resourceType") if isinstance(entry, dict) else None
        )
        if kind not in CARRIED:
            out.append({"response": _not_stored(
                f"{kind or 'An entry without a resource'} is not stored with a referral; "
                "a packet references the hub's Organization, HealthcareService and Consent."
            )})  # fmt: skip
            continue
        resource = same.get(next(ids, ""))
        location = _stored_location(referral, resource) if resource else None
        if resource is None or location is None:
            out.append({"response": _not_stored(
                f"This {kind} was not stored: the client's consent does not permit it to "
                "go to the receiver (see the referral's withheld categories)."
            )})  # fmt: skip
            continue
        answer = {"status": "201 Created" if created and kind != "Patient" else "200 OK"}
        answer["location"] = location
        if kind == "Task":
            answer["etag"] = etag(referral)
        out.append({"response": answer})
    return out


def _messages(session: Session, caller: Caller, body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    parsed = [read_communication_body(e["resource"]) for e in body["entry"]]  # all, first
    for task_id, text, in_response_to, documents in parsed:
        message = thread.post(
            session, caller, task_id, text=text, in_response_to=in_response_to,
            document_ids=documents,
        )  # fmt: skip
        out.append(
            {
                "response": {
                    "status": "201 Created",
                    "location": f"Communication/{message.id}/_history/1",
                    "etag": 'W/"1"',
                }
            }
        )
    return out


def _response_bundle(base: str, entries: list[dict[str, Any]]) -> JSONResponse:
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "link": [{"relation": "self", "url": base}],
            "entry": entries,
        },
        status=200,
    )


@router.post(
    "",
    summary="Submit a referral (or thread messages) as a FHIR transaction Bundle",
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
    """A transaction Bundle holding one referral packet (Patient, ServiceRequest, Task...),
    or only Communications; see the module docstring for the response entries."""
    data = signed_or_plain(session, caller, submitted)
    body = as_json(data)
    if body.get("resourceType") != "Bundle" or body.get("type") != "transaction":
        raise SubmissionInvalid("POST /fhir takes a Bundle of type transaction.")
    base = runtime.settings.public_base_url + "/fhir"
    entries = body.get("entry") if isinstance(body.get("entry"), list) else None
    if entries and all(
        isinstance(e, dict) and (e.get("resource") or {}).get("resourceType") == "Communication"
        for e in entries
    ):
        return _response_bundle(base, _messages(session, caller, body))
    release(session)  # parsing holds no database lock
    issued: list[str] = []

    def new_id() -> str:
        issued.append(str(uuid.uuid4()))
        return issued[-1]

    packet = case_packet(adapters.normalise_bundle(body, new_id=new_id))
    done = submit(
        session,
        caller,
        packet=packet,
        source_format="fhir",
        idempotency_key=idempotency_key,
        digest=hashlib.sha256(b"fhir\0" + data).hexdigest(),
        source=addressing.source_of(body),
    )
    referral = done.referral
    response = _response_bundle(base, _responses(session, body, issued, packet, done))
    response.headers["Location"] = f"{base}/Task/{referral.id}"
    if not done.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response
