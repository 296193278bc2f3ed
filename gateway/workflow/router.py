"""`/referrals`: submit, list (inbox/outbox), read, change, assign and re-send referrals.

The same workflow as `/fhir` (Task, transaction Bundle), in plain JSON for the web UI and
for agencies without a FHIR stack. Every route authenticates the caller and answers 404 for
referrals its organisation may not see.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

import adapters
from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession, release
from gateway.errors import error_responses
from gateway.http.body import Body, body_reader
from gateway.http.openapi import FHIR_BUNDLE_INPUT, SUMMARY_INPUT
from gateway.workflow import (
    access,
    content,
    fhir,
    history,
    inbound,
    queries,
    resend,
    thread,
    views,
)
from gateway.workflow.change import Change, change
from gateway.workflow.errors import PreconditionFailed, SubmissionInvalid
from gateway.workflow.models import Referral, ThreadMessage
from gateway.workflow.schemas import (
    AssignIn,
    EventOut,
    MessageIn,
    MessageOut,
    OrgRef,
    ReferralList,
    ReferralOut,
    ResendIn,
    StatusIn,
)
from gateway.workflow.submit import Submitted, submit
from kernel.caller import Caller
from kernel.inputs import IsoDateTime

__all__ = [
    "MAX_SUBMISSION_BYTES",
    "SubmissionBody",
    "case_packet",
    "etag",
    "parse_if_match",
    "read_submission",
    "router",
    "signed_or_plain",
]

router = APIRouter(prefix="/referrals", tags=["referrals"])
MAX_SUBMISSION_BYTES = 5 * 1024 * 1024
_FORMATS = ("summary", "csv", "fhir")
_COMPACT_JWS = {
    "type": "string",
    "description": "A compact JWS whose payload is the referral in `format`.",
    "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$",
}


def etag(referral: Referral) -> str:
    return f'W/"{referral.version}"'


def parse_if_match(value: str | None) -> int | None:
    """`W/"3"` or `"3"` → 3; anything else is a 412 (it cannot match)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        raise PreconditionFailed(
            f'If-Match must be an ETag this hub issued (W/"<version>"), not {value!r}.',
            current_version=-1,
        )
    return int(text)


SubmissionBody = Annotated[Body, Depends(body_reader(MAX_SUBMISSION_BYTES, "referral"))]
"""A submission's bytes, read on the event loop; everything after runs in the thread pool."""


def signed_or_plain(session: Session, caller: Caller, body: Body) -> bytes:
    """The submitted bytes; a compact JWS (`application/jose`) is verified first."""
    if body.media_type == inbound.JOSE:
        return inbound.verify_signed(session, caller, body.data).payload
    return body.data


def read_submission(data: bytes, source: str) -> Any:
    """One case from an agency's format → its packet (or every reason it failed)."""
    result = adapters.read(data, source)
    if len(result.cases) != 1:
        raise SubmissionInvalid(
            f"Submit one case per referral; this input holds {len(result.cases)}. "
            "Split it, or try it first with POST /convert."
        )
    return case_packet(result.cases[0])


def case_packet(case: Any) -> Any:
    """The packet of one read case (or every reason it failed)."""
    if not case.ok or case.packet is None:
        raise SubmissionInvalid(
            "The case summary has errors; nothing was stored.",
            errors=[{"location": e.location or "input", "message": e.message} for e in case.errors],
        )
    return case.packet


def _digest(source: str, data: bytes) -> str:
    return hashlib.sha256(source.encode() + b"\0" + data).hexdigest()


def respond(session: DbSession, caller: Caller, done: Submitted, response: Response) -> ReferralOut:
    response.headers["ETag"] = etag(done.referral)
    response.headers["Location"] = f"/referrals/{done.referral.id}"
    if not done.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return views.referral_out(session, caller, done.referral)


@router.post(
    "",
    status_code=201,
    response_model=ReferralOut,
    responses=error_responses(400, 401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The referral in the format `format` names (a JWS wraps one).",
            "content": {
                "application/json": {"schema": SUMMARY_INPUT},
                "text/csv": {"schema": {"type": "string"}},
                "application/fhir+json": {"schema": FHIR_BUNDLE_INPUT},
                "application/jose": {"schema": _COMPACT_JWS},
            },
        }
    },
)
def submit_referral(
    response: Response,
    caller: CurrentCaller,
    session: DbSession,
    body: SubmissionBody,
    source: Annotated[
        str, Query(alias="format", json_schema_extra={"enum": list(_FORMATS)})
    ] = "summary",
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ReferralOut:
    """Submit one referral or handover (a case summary, a CSV family, or a FHIR Bundle).

    Consent is checked and the packet minimised before anything is stored; the answer says
    what was disclosed and withheld. Send an `Idempotency-Key` header to make retries safe:
    the same key with the same body answers the first result, with another body 422.
    """
    if source not in _FORMATS:
        raise SubmissionInvalid(f"format must be one of {', '.join(_FORMATS)}")
    data = signed_or_plain(session, caller, body)
    release(session)  # parsing holds no database lock
    packet = read_submission(data, source)
    done = submit(
        session,
        caller,
        packet=packet,
        source_format=source,
        idempotency_key=idempotency_key,
        digest=_digest(source, data),
    )
    return respond(session, caller, done, response)


@router.get("", response_model=ReferralList, responses=error_responses(400, 401, 403))
def list_referrals(
    caller: CurrentCaller,
    session: DbSession,
    box: Annotated[str, Query(pattern="^(inbox|outbox|all)$")] = "all",
    status: Annotated[str | None, Query(description="comma-separated Task statuses")] = None,
    business_status: str | None = None,
    kind: Annotated[str | None, Query(pattern="^(referral|handover)$")] = None,
    client: uuid.UUID | None = None,
    updated_since: IsoDateTime | None = None,
    sort: Annotated[str, Query(pattern="^-?(updated|authored)$")] = "-updated",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReferralList:
    """The inbox (referrals to us), the outbox (from us), or both; newest change first."""
    filters = queries.Filters(
        box=box,
        status=[s for s in (status or "").split(",") if s],
        business_status=[s for s in (business_status or "").split(",") if s],
        kind=kind,
        client=[client] if client else [],
        updated_after=updated_since,
        updated_after_inclusive=True,
        sort=sort,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    rows, total = queries.search(session, caller, filters)
    return ReferralList(
        items=views.referrals_out(session, caller, rows), total=total, page=page, per_page=per_page
    )


@router.get("/{referral_id}", response_model=ReferralOut, responses=error_responses(401, 404))
def read_referral(
    referral_id: uuid.UUID, response: Response, caller: CurrentCaller, session: DbSession
) -> ReferralOut:
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, referral_id)
    response.headers["ETag"] = etag(referral)
    return views.referral_out(session, caller, referral)


@router.get(
    "/{referral_id}/packet",
    responses={
        200: {"content": {"application/fhir+json": {}}},
        **error_responses(401, 403, 404, 410),
    },
)
def read_packet(referral_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> JSONResponse:
    """The referral packet (FHIR Bundle) as your side may read it now under the consent."""
    access.require_scope(caller, "ServiceRequest", "r")
    referral = access.get_visible(session, caller, referral_id)
    packet = content.packet_for(session, caller, referral, access.party_of(referral, caller))
    return JSONResponse(packet, media_type="application/fhir+json")


@router.post(
    "/{referral_id}/status",
    response_model=ReferralOut,
    responses=error_responses(401, 403, 404, 409, 412, 422),
)
def change_status(
    referral_id: uuid.UUID,
    body: StatusIn,
    response: Response,
    caller: CurrentCaller,
    session: DbSession,
    if_match: Annotated[str | None, Header()] = None,
) -> ReferralOut:
    """Move the referral (accept, reject, start, hold, complete, fail, cancel...).

    A 409 lists the moves your side may make from the current status; a stale `If-Match`
    is a 412. Reasons are required for rejected, cancelled, on-hold and failed.
    """
    referral = access.get_visible(session, caller, referral_id)
    outputs = (
        fhir.outputs_from_simple([o.model_dump(exclude_none=True) for o in body.outputs],
                                 referral)
        if body.outputs is not None
        else None
    )  # fmt: skip
    updated = change(
        session,
        caller,
        referral_id,
        Change(
            status=body.status,
            reason=body.reason,
            reason_text=body.reason_text,
            business_status=body.business_status,
            outputs=outputs,
            if_match=parse_if_match(if_match),
        ),
    )
    response.headers["ETag"] = etag(updated)
    return views.referral_out(session, caller, updated)


@router.get(
    "/{referral_id}/events", response_model=list[EventOut], responses=error_responses(401, 404)
)
def referral_events(
    referral_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> list[EventOut]:
    """Where the referral has been: every step with who, when and the time it took."""
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, referral_id)
    return [
        EventOut.model_validate(e, from_attributes=True)
        for e in history.events_of(session, referral)
    ]


@router.post(
    "/{referral_id}/assign",
    response_model=ReferralOut,
    responses=error_responses(401, 403, 404, 422),
)
def assign(
    referral_id: uuid.UUID, body: AssignIn, caller: CurrentCaller, session: DbSession
) -> ReferralOut:
    """Assign your side of the referral to a case worker and/or team.

    Supervisors and org admins assign anyone; a case worker may take an unassigned referral
    for themselves.
    """
    referral = access.get_visible(session, caller, referral_id, for_update=True)
    updated = resend.assign(session, caller, referral, body.assignee, body.team)
    return views.referral_out(session, caller, updated)


@router.post(
    "/{referral_id}/resend",
    status_code=201,
    response_model=ReferralOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def resend_referral(
    referral_id: uuid.UUID,
    body: ResendIn,
    response: Response,
    caller: CurrentCaller,
    session: DbSession,
) -> ReferralOut:
    """Send a declined (or cancelled, failed) referral on to another service.

    The new referral carries the same case under a fresh consent decision for the new
    receiver; it links back to the first (`resent_from`).
    """
    done = resend.resend(
        session,
        caller,
        referral_id,
        service_id=body.service_id,
        idempotency_key=body.idempotency_key,
    )
    return respond(session, caller, done, response)


@router.get(
    "/{referral_id}/messages",
    response_model=list[MessageOut],
    responses=error_responses(401, 403, 404),
)
def list_messages(
    referral_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> list[MessageOut]:
    """The referral's conversation, oldest first."""
    referral, rows = thread.messages(session, caller, referral_id)
    org_names = views.names(session, {referral.requester_org_id, referral.owner_org_id})
    return [_message_out(m, thread.open_text(session, referral, m), org_names) for m in rows]


@router.post(
    "/{referral_id}/messages",
    status_code=201,
    response_model=MessageOut,
    responses=error_responses(401, 403, 404, 422),
)
def post_message(
    referral_id: uuid.UUID, body: MessageIn, caller: CurrentCaller, session: DbSession
) -> MessageOut:
    """Ask or answer the other side (consent-checked; delivered like every message)."""
    m = thread.post(
        session,
        caller,
        referral_id,
        text=body.text,
        in_response_to=body.in_response_to,
        document_ids=body.document_ids,
    )
    org_names = views.names(session, {m.sender_org_id, m.recipient_org_id})
    return _message_out(m, body.text, org_names)


def _message_out(m: ThreadMessage, text: str, org_names: dict[uuid.UUID, str]) -> MessageOut:
    return MessageOut(
        id=m.id,
        referral_id=m.referral_id,
        sender=OrgRef(id=m.sender_org_id, name=org_names.get(m.sender_org_id)),
        recipient=OrgRef(id=m.recipient_org_id, name=org_names.get(m.recipient_org_id)),
        sent_at=m.sent_at,
        text=text,
        in_response_to=m.in_response_to,
        document_ids=[uuid.UUID(d) for d in m.document_ids],
    )
