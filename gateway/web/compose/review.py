"""Check your answers, send, and the confirmation.

The review shows exactly what the receiver will get: the case summary the draft makes,
checked and minimised as `submit()` will (`gateway.workflow.submit.preview`: the service
routable, the consent in force, the consent decision), rendered with the adapters' HTML
summary; and, category by category, what consent withholds. "Send referral" calls
`submit()` itself, the function `POST /referrals` calls, with the draft's idempotency key.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

import adapters
from consent.i18n import CATEGORY_LABELS
from gateway.web.clients.forms import attempt
from gateway.web.compose import views
from gateway.web.compose.common import base, draft_of, open_draft, tasks_of
from gateway.web.compose.summary import errors_for
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow import drafts
from gateway.workflow.casework import plan_tasks
from gateway.workflow.errors import ReferralRefused, SubmissionInvalid
from gateway.workflow.models import DraftStatus, ReferralDraft
from gateway.workflow.submit import preview, submit
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter()
Field = Annotated[str, Form(max_length=1024)]


def _refusal(staff: Staff, draft: ReferralDraft, error: Exception) -> dict[str, Any]:
    """The refusal in words, with the way forward (record a consent, choose a service)."""
    text = str(getattr(error, "detail", "") or error)
    where = ""
    for item in getattr(error, "errors", None) or []:
        where = where or str(item.get("location", ""))
    if isinstance(error, ReferralRefused):
        cause = "consent"
    elif where == "ServiceRequest.supportingInfo":
        cause = "consent-gone"
    elif where == "ServiceRequest.performer":
        cause = "service"
    else:
        cause = "other"
    return {"cause": cause, "text": text, "client_id": draft.client_id}


def _categories(present: frozenset[adapters.DataCategory], withheld: tuple[Any, ...]) -> list[Any]:
    return [
        {
            "code": c.value,
            "label": CATEGORY_LABELS.get(c.value, c.display),
            "sent": c not in withheld,
        }
        for c in sorted(present, key=lambda c: list(adapters.DataCategory).index(c))
    ]


def review_page(
    staff: Staff, draft: ReferralDraft, status: int = 200, refusal: Any = None
) -> Response:
    tasks = tasks_of(staff, draft)
    if tasks["review"] == "blocked":
        return go(f"{base(draft)}?incomplete=1")
    built = views.build(staff.session, staff.caller, draft, profile=staff.context["profile"])
    if built.packet is None:
        if errors_for(staff, built):
            return go(f"{base(draft)}/summary?check=1")
        problems = [{"field": None, "message": f"{loc}: {msg}"} for loc, msg in built.errors]
        return staff.page(
            "compose/review.html",
            status=422,
            nav="outbox",
            errors=problems,
            draft=draft,
            base=base(draft),
            receiver=None,
            categories=[],
            refusal=None,
            client=None,
            service=None,
            consent=None,
        )
    context: dict[str, Any] = {"receiver": None, "categories": [], "refusal": refusal}
    try:
        seen = preview(staff.session, staff.caller, packet=built.packet)
    except SubmissionInvalid as exc:
        context["refusal"] = _refusal(staff, draft, exc)
        status = 422
    else:
        context["categories"] = _categories(seen.routed.present, seen.withheld)
        if seen.minimised is None:
            context["refusal"] = context["refusal"] or _refusal(
                staff, draft, ReferralRefused("The client's consent does not permit this.")
            )
            status = 403
        else:
            context["receiver"] = views.receiver_html(seen.minimised, staff.language)
    consents = (
        views.consents_of(staff.session, staff.caller, draft.client_id) if draft.client_id else []
    )
    return staff.page(
        "compose/review.html",
        status=status,
        nav="outbox",
        errors=[],
        draft=draft,
        base=base(draft),
        client=views.client_view(staff.session, staff.caller, draft.client_id),
        service=views.service_view(staff.session, staff.caller, draft.service_id),
        consent=next((c for c in consents if c.id == draft.consent_id), None),
        **context,
    )


@router.get("/referrals/drafts/{draft_id}/review")
def review(draft_id: uuid.UUID, staff: StaffDep) -> Response:
    return review_page(staff, open_draft(staff, draft_id))


@router.post("/referrals/drafts/{draft_id}/send")
def send(draft_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "") -> Response:
    """Send once: the draft is locked, a sent draft answers with its confirmation, and
    `submit()` replays the first referral for the draft's idempotency key."""
    staff.check_csrf(csrf_token)
    draft = draft_of(staff, draft_id, for_update=True)
    if draft.status == DraftStatus.SENT:
        return go(f"{base(draft)}/sent")
    built = views.build(staff.session, staff.caller, draft, profile=staff.context["profile"])
    if built.packet is None:
        return go(f"{base(draft)}/review")
    content = drafts.content_of(staff.session, draft)
    source = str(content.get("source") or "summary")
    try:
        done = submit(
            staff.session,
            staff.caller,
            packet=built.packet,
            source_format=source if source in ("summary", "csv", "fhir") else "summary",
            idempotency_key=drafts.draft_key(draft),
        )
    except (ReferralRefused, SubmissionInvalid) as exc:
        return review_page(
            staff,
            draft,
            403 if isinstance(exc, ReferralRefused) else 422,
            refusal=_refusal(staff, draft, exc),
        )
    drafts.mark_sent(staff.session, draft, done.referral.id)
    _fulfil_task(staff, content.get("plan_task"), done.referral.id)
    return go(f"{base(draft)}/sent")


def _fulfil_task(staff: Staff, task: object, referral_id: uuid.UUID) -> None:
    """The draft started from a plan task: the referral now fulfils it. The referral is
    sent whatever happens here (a task closed or relinked meanwhile is left as it is)."""
    task_id = parse_uuid(str(task)) if task else None
    found = plan_tasks.task_to_refer(staff.session, staff.caller, task_id) if task_id else None
    if found is None:
        return
    try:
        with attempt(staff.session):
            plan_tasks.link_referral(
                staff.session, staff.caller, found[0].case_id, found[0].id, referral_id
            )
    except RefhubError:
        return


@router.get("/referrals/drafts/{draft_id}/sent")
def sent(draft_id: uuid.UUID, staff: StaffDep) -> Response:
    draft = draft_of(staff, draft_id)
    if draft.status != DraftStatus.SENT or draft.referral_id is None:
        return go(base(draft))
    return staff.page(
        "compose/sent.html",
        nav="outbox",
        errors=[],
        draft=draft,
        referral_id=draft.referral_id,
        service=views.service_view(staff.session, staff.caller, draft.service_id),
        client=views.client_view(staff.session, staff.caller, draft.client_id),
    )
