"""The referral page's forms: status moves (with a confirmation page before the ones that
end a referral), first contact, messages, assignment, documents. Each form is parsed into
the API's schema and calls the API's service function; a refusal shows the page again with
the reason in the error summary, the input kept."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from gateway.documents import service as documents_service
from gateway.web.referrals.detail import DESTRUCTIVE, move_label, referral_page
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow import access, cases, fhir, thread, views
from gateway.workflow import resend as resend_service
from gateway.workflow.change import Change, change
from gateway.workflow.schemas import AssignIn, MessageIn, OutputIn, StatusIn
from gateway.workflow.states import REASON_REQUIRED
from kernel.errors import RefhubError
from kernel.settings import get_settings

__all__ = ["refused", "routes"]

routes = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=1024)]
LongField = Annotated[str, Form(max_length=10000)]


def refused(staff: Staff, exc: RefhubError) -> None:
    """Undo the refused request's writes (unless the refusal's own record must stay)."""
    if not exc.keeps_writes:
        staff.session.rollback()


def _confirm_page(
    staff: Staff,
    referral_id: uuid.UUID,
    move: str,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    referral = access.get_visible(staff.session, staff.caller, referral_id)
    out = views.referral_out(staff.session, staff.caller, referral)
    if move not in DESTRUCTIVE or move not in out.allowed_moves:
        return referral_page(
            staff,
            referral_id,
            status=409,
            errors=[
                {"field": "", "message": staff.gettext("That step is not open to your side now.")}
            ],
        )
    return staff.page(
        "referrals/confirm.html",
        status=status,
        nav="inbox" if out.your_side == "owner" else "outbox",
        referral=out,
        move=move,
        move_label=move_label(move, out.kind),
        errors=errors or [],
        form=form or {},
    )


@routes.get("/referrals/{referral_id}/confirm/{move}", response_class=HTMLResponse)
def confirm(referral_id: uuid.UUID, move: str, staff: StaffDep) -> HTMLResponse:
    try:
        return _confirm_page(staff, referral_id, move)
    except RefhubError:
        return referral_page(staff, referral_id)


@routes.post("/referrals/{referral_id}/status", response_class=HTMLResponse)
def change_status(
    referral_id: uuid.UUID,
    staff: StaffDep,
    status: Field,
    csrf_token: Field = "",
    reason: Field = "",
    reason_text: Field = "",
    output: LongField = "",
    outcome: LongField = "",
) -> Response:
    staff.check_csrf(csrf_token)
    form = {"reason": reason, "reason_text": reason_text, "output": output, "outcome": outcome}

    def again(code: int, field: str, message: str) -> HTMLResponse:
        errors = [{"field": field, "message": message}]
        if status in DESTRUCTIVE:
            try:
                return _confirm_page(
                    staff, referral_id, status, status=code, errors=errors, form=form
                )
            except RefhubError:
                pass  # not visible: the referral page says so
        return referral_page(staff, referral_id, status=code, errors=errors, form=form)

    reason_field = "reason" if status in DESTRUCTIVE else f"reason-{status}"
    if status in REASON_REQUIRED and not (reason or reason_text.strip()):
        return again(422, reason_field, staff.gettext("A reason is required: choose one."))
    if status == "completed" and not output.strip():
        return again(
            422,
            "output-completed",
            staff.gettext("Say what was done: a referral is completed with its outcome."),
        )
    try:
        outputs = (
            [OutputIn(description=output.strip(), outcome=outcome.strip() or None)]
            if status == "completed" and output.strip()
            else None
        )
        body = StatusIn(
            status=status,
            reason=reason or None,
            reason_text=reason_text.strip() or None,
            outputs=outputs,
        )
    except ValidationError:
        return again(
            422, "output-completed", staff.gettext("Say what was done in at most 500 characters.")
        )
    try:
        referral = access.get_visible(staff.session, staff.caller, referral_id)
        change(
            staff.session,
            staff.caller,
            referral_id,
            Change(
                status=body.status,
                reason=body.reason,
                reason_text=body.reason_text,
                outputs=fhir.outputs_from_simple(
                    [o.model_dump(exclude_none=True) for o in body.outputs], referral
                )
                if body.outputs
                else None,
            ),
        )
    except RefhubError as exc:
        refused(staff, exc)
        return again(exc.status, "", exc.detail)
    return go(f"/ui/referrals/{referral_id}?done=moved")


def _simple(staff: Staff, referral_id: uuid.UUID, done: str, action: object) -> Response:
    try:
        action()  # type: ignore[operator]
    except RefhubError as exc:
        refused(staff, exc)
        return referral_page(
            staff, referral_id, status=exc.status, errors=[{"field": "", "message": exc.detail}]
        )
    return go(f"/ui/referrals/{referral_id}?done={done}")


@routes.post("/referrals/{referral_id}/first-contact", response_class=HTMLResponse)
def first_contact(referral_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "") -> Response:
    staff.check_csrf(csrf_token)
    return _simple(
        staff,
        referral_id,
        "contact",
        lambda: cases.confirm_first_contact(staff.session, staff.caller, referral_id),
    )


@routes.post("/referrals/{referral_id}/messages", response_class=HTMLResponse)
def post_message(
    referral_id: uuid.UUID, staff: StaffDep, text: LongField = "", csrf_token: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    try:
        body = MessageIn(text=text.strip())
    except ValidationError:
        return referral_page(
            staff,
            referral_id,
            status=422,
            form={"text": text},
            errors=[{"field": "message-text", "message": staff.gettext("Write a message first.")}],
        )
    try:
        thread.post(staff.session, staff.caller, referral_id, text=body.text)
    except RefhubError as exc:
        refused(staff, exc)
        return referral_page(
            staff,
            referral_id,
            status=exc.status,
            form={"text": text},
            errors=[{"field": "message-text", "message": exc.detail}],
        )
    return go(f"/ui/referrals/{referral_id}?done=sent")


@routes.post("/referrals/{referral_id}/assign", response_class=HTMLResponse)
def assign(
    referral_id: uuid.UUID, staff: StaffDep, assignee: Field = "", csrf_token: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    chosen = staff.caller.id if assignee == "me" else parse_uuid(assignee) if assignee else None
    body = AssignIn(assignee=chosen)

    def save() -> None:
        referral = access.get_visible(staff.session, staff.caller, referral_id, for_update=True)
        resend_service.assign(staff.session, staff.caller, referral, body.assignee, body.team)

    return _simple(staff, referral_id, "assigned", save)


@routes.post("/referrals/{referral_id}/documents", response_class=HTMLResponse)
def upload(
    referral_id: uuid.UUID,
    staff: StaffDep,
    file: Annotated[UploadFile, File()],
    title: Field = "",
    csrf_token: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    data = file.file.read(get_settings().document_max_bytes + 1)
    try:
        referral = access.get_visible(staff.session, staff.caller, referral_id)
        documents_service.store(
            staff.session,
            staff.caller,
            client_id=referral.client_id,
            referral_id=referral.id,
            title=title,
            content_type=file.content_type or "",
            data=data,
        )
    except RefhubError as exc:
        refused(staff, exc)
        return referral_page(
            staff,
            referral_id,
            status=exc.status,
            form={"title": title},
            errors=[{"field": "document-file", "message": exc.detail}],
        )
    return go(f"/ui/referrals/{referral_id}?done=uploaded")


@routes.get("/referrals/{referral_id}/documents/{document_id}")
def download(referral_id: uuid.UUID, document_id: uuid.UUID, staff: StaffDep) -> Response:
    try:
        document, data = documents_service.open_document(
            staff.session, staff.caller, document_id=document_id
        )
    except RefhubError as exc:
        return referral_page(
            staff, referral_id, status=exc.status, errors=[{"field": "", "message": exc.detail}]
        )
    return Response(
        content=data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="document-{document.id}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
