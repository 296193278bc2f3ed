"""Deliveries: dead letters with their last error, re-run one or a selection (through
`dead_letters.retry`, as `POST /admin/outbox/dead-letters/{id}/retry` does), and every
endpoint's delivery health across the network."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from gateway.delivery import dead_letters, network_health
from gateway.web.hub.common import Field, hub_page, refused
from gateway.web.shell import HubAdminDep, Staff, go, parse_uuid
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
PER_PAGE = 50


def _page(
    staff: Staff,
    *,
    page: int = 1,
    code: int = 200,
    errors: list[dict[str, str]] | None = None,
    retried: int = 0,
    chosen: tuple[str, ...] = (),
) -> HTMLResponse:
    total = dead_letters.count(staff.session, staff.caller)
    letters = dead_letters.list_dead_letters(
        staff.session, staff.caller, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    return hub_page(
        staff,
        "deliveries",
        "deliveries",
        status=code,
        letters=letters,
        total=total,
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        page_url="/ui/hub/deliveries",
        health=network_health.network_health(staff.session, staff.caller),
        window_days=network_health.FAILURE_WINDOW.days,
        retried=retried,
        chosen=chosen,
        errors=errors or [],
    )


@routes.get("/hub/deliveries", response_class=HTMLResponse)
def deliveries(
    staff: HubAdminDep,
    retried: Annotated[int, Query(ge=0, le=10000)] = 0,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> HTMLResponse:
    return _page(staff, page=page, retried=retried)


@routes.post("/hub/deliveries/retry", response_class=HTMLResponse)
def retry(
    staff: HubAdminDep,
    event: Annotated[list[str] | None, Form(max_length=200)] = None,
    csrf_token: Field = "",
) -> Response:
    staff.check_csrf(csrf_token)
    chosen = [parse_uuid(value) for value in (event or [])[:PER_PAGE]]
    ids: list[uuid.UUID] = [value for value in chosen if value is not None]
    if not ids:
        message = staff.gettext("Choose at least one dead letter to re-run.")
        return _page(staff, code=422, errors=[{"field": "event", "message": message}])
    try:
        for event_id in ids:
            dead_letters.retry(staff.session, staff.caller, event_id)
    except RefhubError as exc:
        errors = refused(staff, exc)
        return _page(staff, code=exc.status, errors=errors, chosen=tuple(event or ()))
    return go(f"/ui/hub/deliveries?retried={len(ids)}")
