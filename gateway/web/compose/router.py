"""Staff pages of the compose area (see the package docstring): starting a referral or
handover, the task list of a draft, and its steps kind, client, service and consent.

Each step is one question on its own page (GOV.UK "one thing per page"); the task list
shows what is done and what is left, in any order, and leads to the review. The case
summary, the upload, the review and sending are in `summary.py` and `review.py`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from consent.i18n import CATEGORY_LABELS, ORG_TYPE_LABELS, PURPOSE_LABELS
from gateway.web.compose import review, summary, views
from gateway.web.compose.common import base, open_draft, tasks_of
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow import drafts
from gateway.workflow.casework import plan_tasks
from gateway.workflow.models import Kind, ReferralDraft
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
Field = Annotated[str, Form(max_length=1024)]
KIND_LABELS = {"referral": "Referral", "handover": "Handover"}


@router.get("/referrals/new")
def start(
    staff: StaffDep, client: str = "", service: str = "", kind: str = "", task: str = ""
) -> Response:
    """What are you sending? (the client, service and plan task from a link are kept)."""
    return staff.page(
        "compose/start.html",
        nav="outbox",
        errors=[],
        client=client[:40],
        service=service[:40],
        task=task[:40],
        kind=kind if kind in KIND_LABELS else "",
        open_drafts=len(drafts.list_open(staff.session, staff.caller, limit=50)),
    )


@router.post("/referrals/new")
def create(
    staff: StaffDep,
    csrf_token: Field = "",
    kind: Field = "",
    client: Field = "",
    service: Field = "",
    task: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    if kind not in KIND_LABELS:
        error = {"field": "kind", "message": staff.gettext("Choose a referral or a handover")}
        return staff.page(
            "compose/start.html",
            status=422,
            nav="outbox",
            errors=[error],
            client=client,
            service=service,
            task=task,
            kind="",
            open_drafts=0,
        )
    client_id = parse_uuid(client) if client else None
    if client_id is not None and views.client_view(staff.session, staff.caller, client_id) is None:
        client_id = None
    service_id = parse_uuid(service) if service else None
    task_id = parse_uuid(task) if task else None
    for_task = plan_tasks.task_to_refer(staff.session, staff.caller, task_id) if task_id else None
    if for_task is not None:
        client_id = for_task[0].client_id
    draft = drafts.create(
        staff.session, staff.caller, kind=Kind(kind), client_id=client_id, service_id=service_id
    )
    if for_task is not None:
        # the referral carries the goal it serves; sending links it to the task
        content = {"plan_task": str(for_task[0].id), "summary": {"goals": [for_task[1]]}}
        drafts.save(staff.session, staff.caller, draft, content=content)
    return go(base(draft))


@router.get("/referrals/drafts")
def list_drafts(staff: StaffDep, deleted: int = 0) -> Response:
    rows = []
    for draft in drafts.list_open(staff.session, staff.caller):
        client = views.client_view(staff.session, staff.caller, draft.client_id)
        service = views.service_view(staff.session, staff.caller, draft.service_id)
        rows.append({"draft": draft, "client": client, "service": service})
    banner = {"kind": "ok", "text": staff.gettext("The draft was deleted.")} if deleted else None
    return staff.page("compose/drafts.html", nav="outbox", errors=[], banner=banner, rows=rows)


@router.get("/referrals/drafts/{draft_id}")
def task_list(
    draft_id: uuid.UUID, staff: StaffDep, saved: int = 0, incomplete: int = 0
) -> Response:
    draft = open_draft(staff, draft_id)
    banner = None
    if saved:
        text = N_("Your draft is saved. You can come back to it from Your drafts.")
        banner = {"kind": "ok", "text": staff.gettext(text)}
    elif incomplete:
        text = N_("Complete the parts not marked Completed before checking and sending.")
        banner = {"kind": "warn", "text": staff.gettext(text)}
    return staff.page(
        "compose/tasks.html",
        nav="outbox",
        errors=[],
        banner=banner,
        draft=draft,
        base=base(draft),
        tasks=tasks_of(staff, draft),
        client=views.client_view(staff.session, staff.caller, draft.client_id),
        service=views.service_view(staff.session, staff.caller, draft.service_id),
    )


@router.get("/referrals/drafts/{draft_id}/kind")
def kind_form(draft_id: uuid.UUID, staff: StaffDep) -> Response:
    draft = open_draft(staff, draft_id)
    return staff.page("compose/kind.html", nav="outbox", errors=[], draft=draft, base=base(draft))


@router.post("/referrals/drafts/{draft_id}/kind")
def kind_save(
    draft_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "", kind: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    draft = open_draft(staff, draft_id)
    if kind not in KIND_LABELS:
        error = {"field": "kind", "message": staff.gettext("Choose a referral or a handover")}
        return staff.page(
            "compose/kind.html",
            status=422,
            nav="outbox",
            errors=[error],
            draft=draft,
            base=base(draft),
        )
    drafts.save(staff.session, staff.caller, draft, kind=Kind(kind))
    return go(base(draft))


@router.get("/referrals/drafts/{draft_id}/client")
def client_form(draft_id: uuid.UUID, staff: StaffDep, q: str = "") -> Response:
    draft = open_draft(staff, draft_id)
    found = views.find_clients(staff.session, staff.caller, q.strip()[:200])
    return staff.page(
        "compose/client.html",
        nav="outbox",
        errors=[],
        draft=draft,
        base=base(draft),
        q=q,
        found=found,
        current=views.client_view(staff.session, staff.caller, draft.client_id),
    )


@router.post("/referrals/drafts/{draft_id}/client")
def client_save(
    draft_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "", client: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    draft = open_draft(staff, draft_id)
    client_id = parse_uuid(client)
    if client_id is None or views.client_view(staff.session, staff.caller, client_id) is None:
        error = {"field": "q", "message": staff.gettext("Choose the client from the list")}
        return staff.page(
            "compose/client.html",
            status=422,
            nav="outbox",
            errors=[error],
            draft=draft,
            base=base(draft),
            q="",
            found=views.find_clients(staff.session, staff.caller, ""),
            current=None,
        )
    drafts.save(staff.session, staff.caller, draft, client_id=client_id)
    return go(base(draft))


@router.get("/referrals/drafts/{draft_id}/service")
def service_form(draft_id: uuid.UUID, staff: StaffDep, q: str = "") -> Response:
    draft = open_draft(staff, draft_id)
    found = views.find_services(staff.session, staff.caller, q.strip()[:200]) if q.strip() else []
    return staff.page(
        "compose/service.html",
        nav="outbox",
        errors=[],
        draft=draft,
        base=base(draft),
        q=q,
        found=found,
        searched=bool(q.strip()),
        current=views.service_view(staff.session, staff.caller, draft.service_id),
    )


@router.post("/referrals/drafts/{draft_id}/service")
def service_save(
    draft_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "", service: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    draft = open_draft(staff, draft_id)
    service_id = parse_uuid(service)
    if service_id is None or views.service_view(staff.session, staff.caller, service_id) is None:
        error = {"field": "q", "message": staff.gettext("Search for the service and choose it")}
        return staff.page(
            "compose/service.html",
            status=422,
            nav="outbox",
            errors=[error],
            draft=draft,
            base=base(draft),
            q="",
            found=[],
            searched=False,
            current=None,
        )
    drafts.save(staff.session, staff.caller, draft, service_id=service_id)
    return go(base(draft))


def _consent_page(
    staff: Staff, draft: ReferralDraft, errors: list[Any], status: int = 200
) -> Response:
    if draft.client_id is None:
        return go(base(draft))
    return staff.page(
        "compose/consent.html",
        status=status,
        nav="outbox",
        errors=errors,
        draft=draft,
        base=base(draft),
        consents=views.consents_of(staff.session, staff.caller, draft.client_id),
        client=views.client_view(staff.session, staff.caller, draft.client_id),
        categories=CATEGORY_LABELS,
        purposes=PURPOSE_LABELS,
        org_types=ORG_TYPE_LABELS,
    )


@router.get("/referrals/drafts/{draft_id}/consent")
def consent_form(draft_id: uuid.UUID, staff: StaffDep) -> Response:
    return _consent_page(staff, open_draft(staff, draft_id), [])


@router.post("/referrals/drafts/{draft_id}/consent")
def consent_save(
    draft_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "", consent: Field = ""
) -> Response:
    staff.check_csrf(csrf_token)
    draft = open_draft(staff, draft_id)
    chosen = parse_uuid(consent)
    known = (
        {c.id for c in views.consents_of(staff.session, staff.caller, draft.client_id)}
        if draft.client_id
        else set()
    )
    if chosen is None or chosen not in known:
        error = {"field": "consent", "message": staff.gettext("Choose the consent this relies on")}
        return _consent_page(staff, draft, [error], 422)
    drafts.save(staff.session, staff.caller, draft, consent_id=chosen)
    return go(base(draft))


@router.get("/referrals/drafts/{draft_id}/delete")
def delete_form(draft_id: uuid.UUID, staff: StaffDep) -> Response:
    draft = open_draft(staff, draft_id)
    return staff.page("compose/delete.html", nav="outbox", errors=[], draft=draft, base=base(draft))


@router.post("/referrals/drafts/{draft_id}/delete")
def delete(draft_id: uuid.UUID, staff: StaffDep, csrf_token: Field = "") -> Response:
    staff.check_csrf(csrf_token)
    draft = open_draft(staff, draft_id)
    try:
        drafts.discard(staff.session, staff.caller, draft)
    except RefhubError:
        return go(base(draft))
    return go("/ui/referrals/drafts?deleted=1")


router.include_router(summary.router)
router.include_router(review.router)
