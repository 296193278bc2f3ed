"""The case summary step: the form (written into the draft's case summary, then checked by
the adapters, each error put back at its field) or an uploaded file in a format the API
takes (CSV, case summary JSON, FHIR Bundle), read into the same case summary."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

import adapters
from gateway.documents import service as documents
from gateway.web.compose import form, views
from gateway.web.compose.common import base, open_draft
from gateway.web.shell import Staff, StaffDep, go
from gateway.workflow import drafts
from gateway.workflow.models import ReferralDraft

__all__ = ["router"]

router = APIRouter()
UPLOAD_FORMATS = ("summary", "csv", "fhir")
MAX_UPLOAD = 900 * 1024  # the staff pages' request limit is 1 MB, form included
#: Parts of an uploaded summary the hub fills in itself when sending.
_ROUTING = ("referred_by", "referred_to", "date", "kind")


async def posted(request: Request) -> dict[str, Any]:
    """The posted form, fields as text (several values as a list), a file as bytes."""
    data = await request.form()
    out: dict[str, Any] = {}
    for key in data:
        values = data.getlist(key)
        if isinstance(values[0], UploadFile):
            out[key] = await values[0].read(MAX_UPLOAD + 1)
            out[f"{key}.name"] = values[0].filename or ""
        elif key in ("documents",):
            out[key] = [str(v) for v in values]
        else:
            out[key] = str(values[0])
    return out


Posted = Annotated[dict[str, Any], Depends(posted)]


def _documents(staff: Staff, draft: ReferralDraft) -> list[documents.DocumentView]:
    if draft.client_id is None:
        return []
    return documents.documents_of(staff.session, staff.caller, client_id=draft.client_id)


def errors_for(staff: Staff, built: views.Built) -> list[dict[str, Any]]:
    """The adapters' errors at the form's fields (routing errors are the review's)."""
    out = []
    for location, message in built.errors:
        field = form.field_of(location)
        if field is None:
            continue
        text = form.message_for(field)
        out.append({"field": field, "message": staff.gettext(text) if text else message})
    return out


def _options(staff: Staff, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(key, staff.gettext(label)) for key, label in labels.items()]


def _languages(staff: Staff, summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The offered languages by name, and any other code the summary holds."""
    offered = sorted(_options(staff, form.LANGUAGES), key=lambda pair: pair[1])
    spoken = (summary.get("client") or {}).get("languages") or []
    extra = [(str(x.get("code")), str(x.get("code"))) for x in spoken if isinstance(x, dict)]
    return offered + [pair for pair in extra if pair[0] not in form.LANGUAGES]


def _page(
    staff: Staff,
    draft: ReferralDraft,
    content: dict[str, Any],
    errors: list[dict[str, Any]],
    status: int = 200,
) -> Response:
    return staff.page(
        "compose/summary.html",
        status=status,
        nav="outbox",
        errors=errors,
        draft=draft,
        base=base(draft),
        v=form.form_values(content.get("summary", {})),
        chosen=content.get("documents", []),
        documents=[(str(d.document.id), d.title) for d in _documents(staff, draft)],
        source=content.get("source", "form"),
        domains=_options(staff, form.DOMAIN_LABELS),
        relationships=_options(staff, form.RELATIONSHIP_LABELS),
        contact_methods=_options(staff, form.CONTACT_LABELS),
        priorities=_options(staff, form.PRIORITY_LABELS),
        language_options=_languages(staff, content.get("summary", {})),
        client=views.client_view(staff.session, staff.caller, draft.client_id),
    )


def _with_defaults(staff: Staff, draft: ReferralDraft, content: dict[str, Any]) -> dict[str, Any]:
    """A new summary starts with the client's case reference and preferred language."""
    if content.get("summary"):
        return content
    client = views.client_view(staff.session, staff.caller, draft.client_id)
    start: dict[str, Any] = {}
    if client is not None:
        if client.reference:
            start["case_id"] = client.reference.split(", ")[0]
        language = str(client.identity.get("preferred_language") or "")
        if language:
            start["client"] = {"languages": [{"code": language, "preferred": True}]}
    return {**content, "summary": start}


@router.get("/referrals/drafts/{draft_id}/summary")
def summary_form(draft_id: uuid.UUID, staff: StaffDep, check: int = 0) -> Response:
    draft = open_draft(staff, draft_id)
    if draft.client_id is None:
        return go(base(draft))
    content = _with_defaults(staff, draft, drafts.content_of(staff.session, draft))
    errors: list[dict[str, Any]] = []
    if check:
        errors = errors_for(
            staff, views.build(staff.session, staff.caller, draft, profile=staff.context["profile"])
        )
    return _page(staff, draft, content, errors, 422 if errors else 200)


@router.post("/referrals/drafts/{draft_id}/summary")
def summary_save(draft_id: uuid.UUID, staff: StaffDep, data: Posted) -> Response:
    staff.check_csrf(str(data.get("csrf_token", "")))
    draft = open_draft(staff, draft_id)
    if draft.client_id is None:
        return go(base(draft))
    content = drafts.content_of(staff.session, draft)
    content["summary"] = form.read_form(data, content.get("summary", {}))
    known = {str(d.document.id) for d in _documents(staff, draft)}
    content["documents"] = [d for d in data.get("documents", []) if d in known]
    action = data.get("action", "continue")
    content["complete"] = False
    drafts.save(staff.session, staff.caller, draft, content=content)
    if action == "more":
        return _page(staff, draft, content, [])
    if action == "later":
        return go(f"{base(draft)}?saved=1")
    built = views.build(staff.session, staff.caller, draft, profile=staff.context["profile"])
    errors = errors_for(staff, built)
    if errors:
        return _page(staff, draft, content, errors, 422)
    content["complete"] = True
    drafts.save(staff.session, staff.caller, draft, content=content)
    return go(base(draft))


def _upload_page(
    staff: Staff,
    draft: ReferralDraft,
    errors: list[dict[str, Any]],
    status: int = 200,
    fmt: str = "",
) -> Response:
    return staff.page(
        "compose/upload.html",
        status=status,
        nav="outbox",
        errors=errors,
        draft=draft,
        base=base(draft),
        fmt=fmt,
    )


@router.get("/referrals/drafts/{draft_id}/upload")
def upload_form(draft_id: uuid.UUID, staff: StaffDep) -> Response:
    draft = open_draft(staff, draft_id)
    if draft.client_id is None:
        return go(base(draft))
    return _upload_page(staff, draft, [])


def _read_upload(
    staff: Staff, raw: bytes, fmt: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The uploaded case as a case summary, or the reasons it cannot be read."""

    def problem(message: str, field: str = "file") -> tuple[None, list[dict[str, Any]]]:
        return None, [{"field": field, "message": message}]

    try:
        result = adapters.read(raw, fmt)
    except adapters.AdapterError as exc:
        return problem(
            staff.gettext("The file cannot be read as the format chosen: %(why)s")
            % {"why": str(exc)}
        )
    if len(result.cases) != 1:
        return problem(
            staff.gettext("The file must hold exactly one case; it holds %(n)s.")
            % {"n": len(result.cases)}
        )
    case = result.cases[0]
    if not case.ok or case.packet is None:
        return None, [
            {"field": "file", "message": f"{e.location or staff.gettext('file')}: {e.message}"}
            for e in case.errors
        ]
    try:
        read, _warnings = adapters.read_packet(case.packet)
    except adapters.AdapterError as exc:
        return problem(str(exc))
    summary = adapters.summary_to_json(read)
    referral = summary.get("referral") or {}
    for key in _ROUTING:
        referral.pop(key, None)
    summary.pop("consent", None)
    summary.pop("attachments", None)
    return summary, []


@router.post("/referrals/drafts/{draft_id}/upload")
def upload_save(draft_id: uuid.UUID, staff: StaffDep, data: Posted) -> Response:
    staff.check_csrf(str(data.get("csrf_token", "")))
    draft = open_draft(staff, draft_id)
    if draft.client_id is None:
        return go(base(draft))
    fmt = str(data.get("format", ""))
    raw = data.get("file")
    if fmt not in UPLOAD_FORMATS:
        error = {"field": "format", "message": staff.gettext("Choose the format of the file")}
        return _upload_page(staff, draft, [error], 422)
    if not isinstance(raw, bytes) or not raw:
        error = {"field": "file", "message": staff.gettext("Choose a file to upload")}
        return _upload_page(staff, draft, [error], 422, fmt)
    if len(raw) > MAX_UPLOAD:
        error = {"field": "file", "message": staff.gettext("The file is larger than 900 KB")}
        return _upload_page(staff, draft, [error], 422, fmt)
    summary, errors = _read_upload(staff, raw, fmt)
    if summary is None:
        return _upload_page(staff, draft, errors, 422, fmt)
    content = drafts.content_of(staff.session, draft)
    content.update(summary=summary, source=fmt, complete=False)
    drafts.save(staff.session, staff.caller, draft, content=content)
    return go(f"{base(draft)}/summary?check=1")
