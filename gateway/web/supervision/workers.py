"""`/ui/team/workers`: each staff member's open items (caseload), received and sent; and
`/ui/team/workers/{id}`: one person's open items with reassign controls."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from gateway.web.shell import SupervisorDep
from gateway.web.supervision.dashboard import team_page
from gateway.web.supervision.drill import DONE, assignment_rows
from gateway.web.supervision.filters import Text
from gateway.workflow import queries, stats, trends

__all__ = ["routes"]

routes = APIRouter(include_in_schema=False)
PER_PAGE = 25


@routes.get("/team/workers", response_class=HTMLResponse)
def workers(staff: SupervisorDep) -> HTMLResponse:
    received = trends.caseload(staff.session, staff.caller, side=stats.Side.RECEIVED)
    sent = {
        load.user_id: load
        for load in trends.caseload(staff.session, staff.caller, side=stats.Side.SENT)
    }
    rows: list[dict[str, Any]] = []
    for load in received:
        other = sent.pop(load.user_id, None)
        rows.append({"received": load, "sent": other or trends.Load(load.user_id, load.name, 0, 0)})
    for load in sent.values():  # assigned only on the sending side
        rows.append({"received": trends.Load(load.user_id, load.name, 0, 0), "sent": load})
    rows.sort(key=lambda r: (r["received"].user_id is None, r["received"].name or ""))
    return team_page(staff, "supervision/workers.html", "workers", rows=rows, errors=[])


@routes.get("/team/workers/{user_id}", response_class=HTMLResponse)
def worker(
    user_id: uuid.UUID,
    staff: SupervisorDep,
    done: Text = "",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> HTMLResponse:
    try:
        person = trends.worker(staff.session, staff.caller, user_id)
    except trends.WorkerNotFound as exc:
        raise HTTPException(404) from exc
    filters = queries.Filters(
        box="all",
        assignee=person.id,
        status=list(stats.WAITING),
        sort="authored",
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    found, total = queries.search(staff.session, staff.caller, filters)
    here = f"/ui/team/workers/{person.id}"
    return team_page(
        staff,
        "supervision/worker.html",
        "workers",
        person=person,
        total=total,
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        page_url=here,
        here_url=f"{here}?page={page}" if page > 1 else here,
        done=staff.gettext(DONE[done]) if done in DONE else "",
        errors=[],
        **assignment_rows(staff, found),
    )
