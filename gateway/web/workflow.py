"""Staff web UI for referrals: inbox, outbox, a referral's page and its forms.

The pages call the same service functions as the JSON API (`queries.search`, `change`,
`thread.post`, `cases.confirm_first_contact`) with the signed-in staff member as caller,
so the same rules, history and audit apply. Every form post carries the session's CSRF
token; a refused change re-renders the page with the reason. No JavaScript is needed.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gateway.auth import service as auth_service
from gateway.dependencies import DbSession
from gateway.web.pages import csrf_ok, go, page, session_state
from gateway.workflow import access, cases, fhir, history, queries, thread, views
from gateway.workflow.change import Change, change
from gateway.workflow.errors import NotAllowedChange, ReferralNotFound, ReferralRefused
from gateway.workflow.models import Kind
from gateway.workflow.states import BUSINESS_STATUS, REASON_REQUIRED, REASONS
from kernel.caller import Caller
from kernel.db import utcnow
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
Field = Annotated[str, Form(max_length=1024)]
LongField = Annotated[str, Form(max_length=10000)]
PER_PAGE = 25
#: The button each move gets on a referral's page.
MOVE_LABELS = {
    "accepted": "Accept",
    "rejected": "Decline",
    "in-progress": "Start",
    "on-hold": "Put on hold",
    "completed": "Complete",
    "failed": "Mark as failed",
    "cancelled": "Cancel",
    "entered-in-error": "Mark as entered in error",
}


def _signed_in(request: Request, session: Session) -> tuple[auth_service.SessionState | None, str]:
    """The session if the staff member may use the pages now, else where to send them."""
    state = session_state(request, session)
    if state is None:
        return None, "/ui/login"
    if not state.mfa_passed or state.must_change_password:
        return None, "/ui/"
    return state, ""


def _base(session: Session, state: auth_service.SessionState) -> dict[str, Any]:
    return {
        "caller": state.caller,
        "csrf_token": state.csrf_token,
        "profile": auth_service.describe(session, state.caller),
    }


def _age(value: Any) -> str:
    seconds = int((utcnow() - value).total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _box(request: Request, session: Session, box: str, page_no: int) -> Response:
    state, elsewhere = _signed_in(request, session)
    if state is None:
        return go(elsewhere)
    try:
        rows, total = queries.search(
            session,
            state.caller,
            queries.Filters(box=box, offset=(page_no - 1) * PER_PAGE, limit=PER_PAGE),
        )
    except RefhubError as exc:
        return page(
            request, "referrals.html", status=exc.status, box=box, items=[], total=0,
            page_no=1, pages=1, error=exc.detail, **_base(session, state),
        )  # fmt: skip
    items = [(r, _age(r.updated_at)) for r in views.referrals_out(session, state.caller, rows)]
    return page(
        request,
        "referrals.html",
        box=box,
        items=items,
        total=total,
        page_no=page_no,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        **_base(session, state),
    )


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request, session: DbSession, page_no: Annotated[int, Query(alias="page", ge=1)] = 1
) -> Response:
    return _box(request, session, "inbox", page_no)


@router.get("/outbox", response_class=HTMLResponse)
def outbox(
    request: Request, session: DbSession, page_no: Annotated[int, Query(alias="page", ge=1)] = 1
) -> Response:
    return _box(request, session, "outbox", page_no)


def _detail(
    request: Request,
    session: Session,
    state: auth_service.SessionState,
    referral_id: uuid.UUID,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    caller: Caller = state.caller
    try:
        referral = access.get_visible(session, caller, referral_id)
    except ReferralNotFound as exc:
        return page(request, "referral.html", status=404, referral=None, error=exc.detail,
                    **_base(session, state))  # fmt: skip
    out = views.referral_out(session, caller, referral)
    messages: list[dict[str, Any]] | None
    try:
        _, rows = thread.messages(session, caller, referral_id)
        names = views.names(session, {referral.requester_org_id, referral.owner_org_id})
        messages = [
            {
                "sender": names.get(m.sender_org_id, "?"),
                "sent_at": m.sent_at,
                "text": thread.open_text(session, referral, m),
            }
            for m in rows
        ]
    except ReferralRefused:
        messages = None
    handover = None
    if referral.kind == Kind.HANDOVER:
        handover = cases.handover_record(session, caller, referral_id)
    return page(
        request,
        "referral.html",
        status=status,
        error=error,
        notice=notice,
        referral=out,
        events=history.events_of(session, referral),
        messages=messages,
        handover=handover,
        moves=[(m, MOVE_LABELS.get(m, m), m in REASON_REQUIRED) for m in out.allowed_moves],
        reasons=REASONS,
        business_statuses=BUSINESS_STATUS,
        **_base(session, state),
    )


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
def referral_page(referral_id: uuid.UUID, request: Request, session: DbSession) -> Response:
    state, elsewhere = _signed_in(request, session)
    if state is None:
        return go(elsewhere)
    notice = {"moved": "Status changed.", "contact": "First contact recorded.",
              "sent": "Message sent."}.get(request.query_params.get("done", ""))  # fmt: skip
    return _detail(request, session, state, referral_id, notice=notice)


def _act(
    request: Request,
    session: Session,
    referral_id: uuid.UUID,
    csrf_token: str,
    action: Any,
    done: str,
) -> Response:
    """Run one form's service call; redirect on success, re-render with the reason if not."""
    state, elsewhere = _signed_in(request, session)
    if state is None:
        return go(elsewhere)
    if not csrf_ok(csrf_token, state.csrf_token):
        return _detail(request, session, state, referral_id, status=403,
                       error="The form expired; please try again.")  # fmt: skip
    try:
        action(state.caller)
    except RefhubError as exc:
        if not exc.keeps_writes:
            session.rollback()
        return _detail(request, session, state, referral_id, status=exc.status, error=exc.detail)
    return go(f"/ui/referrals/{referral_id}?done={done}")


@router.post("/referrals/{referral_id}/status", response_class=HTMLResponse)
def change_status(
    referral_id: uuid.UUID,
    request: Request,
    session: DbSession,
    status: Field,
    csrf_token: Field = "",
    reason: Field = "",
    reason_text: Field = "",
    output: Field = "",
) -> Response:
    def move(caller: Caller) -> None:
        outputs = None
        if status == "completed" and output.strip():
            referral = access.get_visible(session, caller, referral_id)
            outputs = fhir.outputs_from_simple(
                [{"description": output.strip()[:500]}], referral.client_id
            )
        change(
            session,
            caller,
            referral_id,
            Change(
                status=status,
                reason=reason or None,
                reason_text=reason_text.strip() or None,
                outputs=outputs,
            ),
        )

    return _act(request, session, referral_id, csrf_token, move, "moved")


@router.post("/referrals/{referral_id}/first-contact", response_class=HTMLResponse)
def first_contact(
    referral_id: uuid.UUID, request: Request, session: DbSession, csrf_token: Field = ""
) -> Response:
    def confirm(caller: Caller) -> None:
        cases.confirm_first_contact(session, caller, referral_id)

    return _act(request, session, referral_id, csrf_token, confirm, "contact")


@router.post("/referrals/{referral_id}/messages", response_class=HTMLResponse)
def post_message(
    referral_id: uuid.UUID,
    request: Request,
    session: DbSession,
    text: LongField = "",
    csrf_token: Field = "",
) -> Response:
    def send(caller: Caller) -> None:
        if not text.strip():
            raise NotAllowedChange("Write a message first.")
        thread.post(session, caller, referral_id, text=text.strip())

    return _act(request, session, referral_id, csrf_token, send, "sent")
