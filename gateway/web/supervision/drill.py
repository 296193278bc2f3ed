"""`/ui/team/referrals`: the referrals behind one number of the dashboard (the same filters
plus the figure's own: status, reason, age, open, late, first contact missed), with a
reassign control per row; `/ui/team/assign`: the reassignment itself."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from gateway.auth import people
from gateway.web.i18n import N_, REASON_LABELS, STATUS_LABELS
from gateway.web.referrals.rows import ACTION_LABELS, rows_of
from gateway.web.shell import Staff, SupervisorDep, go, parse_uuid, safe_next
from gateway.web.supervision.dashboard import AGE_LABELS, team_page
from gateway.web.supervision.filters import KINDS, Chosen, Text, choose
from gateway.workflow import access, queries, trends
from gateway.workflow import resend as resend_service
from gateway.workflow.errors import ReferralNotFound
from kernel.errors import RefhubError

__all__ = ["assignment_rows", "routes"]

routes = APIRouter(include_in_schema=False)
PER_PAGE = 25
Field = Annotated[str, Form(max_length=2000)]
DONE = {
    "assigned": N_("Reassigned. The list shows the new assignee."),
    "refused": N_("The reassignment was refused: pick a staff member of your organisation."),
}


def _what(staff: Staff, c: Chosen, figure: dict[str, str]) -> list[str]:
    """The figure's own narrowing, in words (the page's heading says what is listed)."""
    g = staff.gettext
    words = []
    if figure["late"]:
        words.append(g("Late now (past the answer, start or first-contact deadline)"))
    if figure["missed"]:
        words.append(g("Handovers whose first contact with the client is overdue"))
    if figure["waiting"]:
        words.append(g("Open (sent and not finished)"))
    if figure["status"]:
        words.append(g("Status: %(s)s") % {"s": g(STATUS_LABELS.get(figure["status"], "?"))})
    if figure["reason"]:
        reason = REASON_LABELS.get(figure["reason"])
        words.append(g("Reason: %(r)s") % {"r": g(reason) if reason else g("No reason given")})
    if figure["age"] in AGE_LABELS:
        words.append(g("Open for: %(a)s") % {"a": g(AGE_LABELS[figure["age"]])})
    if c.kind:
        words.append(g(KINDS[c.kind]))
    return words


def assignment_rows(staff: Staff, found: list[Any]) -> dict[str, Any]:
    """The rows of a list with reassign controls: rows, people to pick from."""
    return {
        "rows": rows_of(staff.session, staff.caller, found),
        "staff_members": [
            (str(uid), name) for uid, name in people.assignable(staff.session, staff.caller)
        ],
        "action_labels": ACTION_LABELS,
    }


@routes.get("/team/referrals", response_class=HTMLResponse)
def referrals(
    staff: SupervisorDep,
    side: Text = "",
    period: Text = "",
    since: Text = "",
    until: Text = "",
    counterpart: Text = "",
    worker: Text = "",
    kind: Text = "",
    status: Text = "",
    reason: Text = "",
    age: Text = "",
    waiting: Text = "",
    late: Text = "",
    missed: Text = "",
    done: Text = "",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> HTMLResponse:
    c = choose(
        staff,
        side=side,
        period=period or ("all" if late else ""),
        since=since,
        until=until,
        counterpart=counterpart,
        worker=worker,
        kind=kind,
    )
    figure = {
        "status": status if status in STATUS_LABELS else "",
        "reason": reason if reason in REASON_LABELS or reason == "unspecified" else "",
        "age": age if age in AGE_LABELS else "",
        "waiting": "1" if waiting else "",
        "late": "1" if late else "",
        "missed": "1" if missed else "",
    }
    found: list[Any] = []
    total = 0
    if not c.errors:
        clause = trends.drill_clause(
            staff.session,
            staff.caller,
            side=c.stats_side,
            since=c.since_at,
            until=c.until_at,
            narrowing=c.narrowing,
            status=figure["status"] or None,
            reason=figure["reason"] or None,
            age=figure["age"] or None,
            waiting=bool(figure["waiting"]),
            late=bool(figure["late"]),
            missed=bool(figure["missed"]),
        )
        filters = queries.Filters(
            box="outbox" if c.side == "sent" else "inbox",
            also=[clause],
            sort="authored",
            offset=(page - 1) * PER_PAGE,
            limit=PER_PAGE,
        )
        found, total = queries.search(staff.session, staff.caller, filters)
    here = c.query(window=True, **figure)
    return team_page(
        staff,
        "supervision/referrals.html",
        "late" if figure["late"] and c.side == "received" and not c.worker else "",
        status=422 if c.errors else 200,
        errors=c.errors,
        chosen=c,
        what=_what(staff, c, figure),
        total=total,
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        page_url="/ui/team/referrals?" + here,
        here_url="/ui/team/referrals?" + (f"{here}&page={page}" if page > 1 else here),
        back_url="/ui/team?" + c.query(),
        counterpart_name=_counterpart_name(staff, c),
        worker_name=_worker_name(staff, c),
        done=staff.gettext(DONE[done]) if done in DONE else "",
        **assignment_rows(staff, found),
    )


def _counterpart_name(staff: Staff, c: Chosen) -> str | None:
    if not c.counterpart:
        return None
    names = dict(trends.counterparts(staff.session, staff.caller, side=c.stats_side))
    return names.get(uuid.UUID(c.counterpart))


def _worker_name(staff: Staff, c: Chosen) -> str | None:
    if c.worker == "none":
        return staff.gettext("Nobody yet")
    uid = parse_uuid(c.worker) if c.worker else None
    if uid is None:
        return None
    try:
        return trends.worker(staff.session, staff.caller, uid).name
    except trends.WorkerNotFound:
        return None


def _with(url: str, **params: str) -> str:
    """`url` with `params` (replacing those of the same name), without its fragment."""
    path, _, query = url.partition("#")[0].partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in params]
    return f"{path}?{urlencode([*kept, *params.items()])}"


@routes.post("/team/assign", response_class=HTMLResponse)
def assign(
    staff: SupervisorDep,
    referral_id: Field = "",
    assignee: Field = "",
    next: Field = "/ui/team",
    csrf_token: Field = "",
) -> Response:
    """Reassign the organisation's side of a referral to a staff member (and their team),
    or to nobody; back to the list it was done from."""
    staff.check_csrf(csrf_token)
    back = safe_next(next)
    rid = parse_uuid(referral_id)
    chosen = parse_uuid(assignee) if assignee else None
    if rid is None or (assignee and chosen is None):
        raise HTTPException(404)
    try:
        team = trends.worker(staff.session, staff.caller, chosen).team if chosen else None
        referral = access.get_visible(staff.session, staff.caller, rid, for_update=True)
        resend_service.assign(staff.session, staff.caller, referral, chosen, team)
    except (ReferralNotFound, trends.WorkerNotFound) as exc:
        raise HTTPException(404) from exc
    except RefhubError:
        return go(_with(back, done="refused"))
    return go(_with(back, done="assigned") + f"#row-{rid}")
