"""The inbox and the outbox: filter (status, client, assignee, late), sort, page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from gateway.auth import people
from gateway.web.i18n import N_
from gateway.web.referrals.rows import ACTION_LABELS, rows_of
from gateway.web.shell import StaffDep, parse_uuid
from gateway.workflow import monitor, queries
from gateway.workflow.states import OPEN
from kernel.db import utcnow
from kernel.errors import RefhubError

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
PER_PAGE = 25
SORT_LABELS = {
    "-updated": N_("Recently changed first"),
    "updated": N_("Least recently changed first"),
    "-authored": N_("Newest first"),
    "authored": N_("Oldest first"),
}
STATUS_CHOICES = (
    "requested",
    "accepted",
    "in-progress",
    "on-hold",
    "completed",
    "rejected",
    "cancelled",
    "failed",
)
Text = Annotated[str, Query(max_length=100)]


def _box(
    staff: StaffDep,
    box: str,
    *,
    status: str,
    client: str,
    assignee: str,
    overdue: str,
    sort: str,
    page: int,
) -> HTMLResponse:
    caller = staff.caller
    client_id = parse_uuid(client) if client else None
    assignee_id = caller.id if assignee == "me" else parse_uuid(assignee) if assignee else None
    sort = sort if sort in SORT_LABELS else "-updated"
    statuses = sorted(s.value for s in OPEN) if status == "open" else []
    if status in STATUS_CHOICES:
        statuses = [status]
    filters = queries.Filters(
        box=box,
        status=statuses,
        client=[client_id] if client_id else [],
        assignee=assignee_id,
        unassigned=assignee == "none",
        overdue=monitor.overdue_clause(staff.session, utcnow()) if overdue else None,
        sort=sort,
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    errors = []
    try:
        found, total = queries.search(staff.session, caller, filters)
    except RefhubError as exc:
        found, total = [], 0
        errors.append({"field": "", "message": exc.detail})
    rows = rows_of(staff.session, caller, found)
    chosen = {
        "status": status,
        "client": client if client_id else "",
        "assignee": assignee,
        "overdue": "1" if overdue else "",
        "sort": sort,
    }
    kept = {k: v for k, v in chosen.items() if v and not (k == "sort" and v == "-updated")}
    client_name = next((r.client.name for r in rows if r.referral.client_id == client_id), None)
    return staff.page(
        "referrals/list.html",
        nav=box,
        box=box,
        rows=rows,
        total=total,
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        chosen=chosen,
        filtered=bool(set(kept) - {"sort"}),
        page_url=f"/ui/{box}?{urlencode(kept)}" if kept else f"/ui/{box}",
        client_name=client_name,
        statuses=STATUS_CHOICES,
        sorts=SORT_LABELS,
        staff_members=people.assignable(staff.session, caller),
        action_labels=ACTION_LABELS,
        errors=errors,
    )


def _route(box: str) -> None:
    def page(
        staff: StaffDep,
        status: Text = "",
        client: Text = "",
        assignee: Text = "",
        overdue: Text = "",
        sort: Text = "-updated",
        page: Annotated[int, Query(ge=1, le=10000)] = 1,
    ) -> HTMLResponse:
        return _box(
            staff,
            box,
            status=status,
            client=client,
            assignee=assignee,
            overdue=overdue,
            sort=sort,
            page=page,
        )

    page.__name__ = box
    routes.add_api_route(f"/{box}", page, methods=["GET"], response_class=HTMLResponse)


_route("inbox")
_route("outbox")
