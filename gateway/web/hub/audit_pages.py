"""The audit trail: search (actor, subject, action, organisation, period; newest first),
verify the chain and its signed checkpoints as `refhub audit verify` does, and export the
searched records as CSV. Verifying and exporting are audited (`gateway.audit.search`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from gateway.audit import search as audit_search
from gateway.audit import service as audit_service
from gateway.audit.witness import Witnesses
from gateway.auth import people
from gateway.auth.admin import service as admin_service
from gateway.web.hub.common import Field, Text, hub_page
from gateway.web.shell import HubAdminDep, Staff
from kernel.audit import AuditRecord

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
PER_PAGE = 50
FILTERS = ("actor", "subject", "action", "organisation", "since", "until")


def _day(staff: Staff, value: str, field: str, errors: list[dict[str, str]]) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        message = staff.gettext("Enter a date as year-month-day, for example 2026-03-31.")
        errors.append({"field": field, "message": message})
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _filters(
    staff: Staff, form: dict[str, str]
) -> tuple[audit_search.Filters, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    since = _day(staff, form["since"], "since", errors)
    until = _day(staff, form["until"], "until", errors)
    if since and until and until < since:
        message = staff.gettext("The end of the period is before its start.")
        errors.append({"field": "until", "message": message})
    filters = audit_search.Filters(
        actor=form["actor"],
        subject=form["subject"],
        action=form["action"],
        organisation=form["organisation"],
        since=since,
        until=until + dt.timedelta(days=1) if until else None,  # the whole last day
    )
    return filters, errors


def _audit_page(
    staff: Staff,
    form: dict[str, str],
    *,
    page: int = 1,
    code: int = 200,
    report: audit_service.VerifyReport | None = None,
) -> HTMLResponse:
    filters, errors = _filters(staff, form)
    records: Sequence[AuditRecord] = []
    total = 0
    if not errors:
        records, total = audit_search.search(
            staff.session, staff.caller, filters, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
    orgs = admin_service.list_organisations(staff.session, staff.caller)
    kept = {k: v for k, v in form.items() if v}
    return hub_page(
        staff,
        "audit",
        "audit",
        status=422 if errors else code,
        records=records,
        total=total,
        names=people.names_of(staff.session, {r.actor for r in records}),
        org_names={str(org.id): org.name for org in orgs},
        organisations=[(str(org.id), org.name) for org in orgs],
        form=form,
        filtered=bool(kept),
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        page_url="/ui/hub/audit" + (f"?{urlencode(kept)}" if kept else ""),
        report=report,
        last=audit_search.last_verification(staff.session, staff.caller),
        errors=errors,
    )


@routes.get("/hub/audit", response_class=HTMLResponse)
def audit_trail(
    staff: HubAdminDep,
    actor: Text = "",
    subject: Text = "",
    action: Text = "",
    organisation: Text = "",
    since: Text = "",
    until: Text = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    form = dict(zip(FILTERS, (actor, subject, action, organisation, since, until), strict=True))
    return _audit_page(staff, {k: v.strip() for k, v in form.items()}, page=page)


@routes.post("/hub/audit/verify", response_class=HTMLResponse)
def verify(staff: HubAdminDep, csrf_token: Field = "") -> HTMLResponse:
    staff.check_csrf(csrf_token)
    runtime = staff.request.app.state.runtime
    witness = Witnesses.for_settings(runtime.settings).file.read()
    report = audit_search.verify(
        staff.session, staff.caller, runtime.audit_signing_key.public_key(), witness=witness
    )
    return _audit_page(staff, dict.fromkeys(FILTERS, ""), report=report)


@routes.post("/hub/audit/export", response_class=HTMLResponse)
def export(
    staff: HubAdminDep,
    actor: Field = "",
    subject: Field = "",
    action: Field = "",
    organisation: Field = "",
    since: Field = "",
    until: Field = "",
    csrf_token: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    form = dict(zip(FILTERS, (actor, subject, action, organisation, since, until), strict=True))
    form = {k: v.strip() for k, v in form.items()}
    filters, errors = _filters(staff, form)
    if errors:
        return _audit_page(staff, form)
    text, _count = audit_search.export_csv(staff.session, staff.caller, filters)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="refhub-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
