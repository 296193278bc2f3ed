"""Case conferences and family team meetings on the case page: record one — when, who took
part, what was decided, the next meeting, and the agreed actions, each a task of the plan
— with `conferences.record_conference`, as the API's `POST /cases/{id}/conferences`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from gateway import consent_wiring
from gateway.web.casework.common import (
    CasePage,
    PostedDep,
    case_or_page,
    one,
    refusal,
    service_problem,
    shown_day,
    today,
    typed_day,
)
from gateway.web.clients.forms import Problems, attempt
from gateway.web.i18n import N_
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow.casework import conferences, plans
from gateway.workflow.casework.conferences import ActionIn, ConferenceIn, Participant
from gateway.workflow.casework.errors import CaseworkInvalid
from gateway.workflow.casework.models import Responsible
from kernel.errors import RefhubError

__all__ = ["PEOPLE_ROWS", "router"]

router = APIRouter()
PEOPLE_ROWS = 4
ACTION_ROWS = 3


def _choices(staff: Staff) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The network's other active organisations, and who may carry out an action."""
    _ = staff.gettext
    own = staff.caller.organisation_id
    members = consent_wiring.ORGANISATIONS.members(staff.session)
    orgs = [(str(org_id), name) for org_id, name, _type in members if org_id != own]
    who = [("organisation", _("Our organisation")), ("family", _("The family"))]
    who += [(f"partner:{org_id}", name) for org_id, name in orgs]
    return orgs, who


def _page(
    staff: Staff,
    page: CasePage,
    form: dict[str, Any],
    errors: Problems,
    *,
    status: int = 200,
) -> HTMLResponse:
    plan = plans.read_plan(staff.session, staff.caller, page.id)
    goals = [(str(g.id), g.family_words or g.worker_words) for g in plan.goals] if plan else []
    orgs, who = _choices(staff)
    return staff.page(
        "casework/conference_new.html",
        status=status,
        errors=errors,
        form=form,
        goals=goals,
        organisations=orgs,
        who=who,
        has_plan=plan is not None,
        **page.context(),
    )


def _blank(staff: Staff) -> dict[str, Any]:
    return {
        "held_on": shown_day(today(staff)),
        "next_meeting_on": "",
        "decisions": "",
        "people": [{"name": "", "role": "", "org": "", "family": ""} for _ in range(PEOPLE_ROWS)],
        "actions": [{"goal": "", "text": "", "who": "", "due": ""} for _ in range(ACTION_ROWS)],
    }


@router.get("/cases/{case_id}/conferences/new", response_class=HTMLResponse)
def conference_form(staff: StaffDep, case_id: str) -> Response:
    page = case_or_page(staff, case_id, "conference.write")
    if not isinstance(page, CasePage):
        return page
    try:
        return _page(staff, page, _blank(staff), [])
    except RefhubError as error:
        return refusal(staff, error)


def _read(posted: dict[str, list[str]]) -> dict[str, Any]:
    form: dict[str, Any] = {
        "held_on": one(posted, "held_on"),
        "next_meeting_on": one(posted, "next_meeting_on"),
        "decisions": one(posted, "decisions"),
    }
    form["people"] = [
        {
            "name": one(posted, f"person-{i}-name"),
            "role": one(posted, f"person-{i}-role"),
            "org": one(posted, f"person-{i}-org"),
            "family": one(posted, f"person-{i}-family"),
        }
        for i in range(PEOPLE_ROWS)
    ]
    form["actions"] = [
        {
            "goal": one(posted, f"action-{i}-goal"),
            "text": one(posted, f"action-{i}-text"),
            "who": one(posted, f"action-{i}-who"),
            "due": one(posted, f"action-{i}-due"),
        }
        for i in range(ACTION_ROWS)
    ]
    return form


def _parse(staff: Staff, form: dict[str, Any]) -> tuple[ConferenceIn | None, Problems]:
    _ = staff.gettext
    problems: Problems = []
    held = typed_day(
        staff, form["held_on"], "held_on", problems, required=N_("Enter the day of the meeting")
    )
    following = typed_day(staff, form["next_meeting_on"], "next_meeting_on", problems)
    people = [
        Participant(
            name=p["name"].strip()[:200],
            role=p["role"].strip()[:200],
            organisation_id=parse_uuid(p["org"]) if p["org"] else None,
            family_member=p["family"] == "yes",
        )
        for p in form["people"]
        if p["name"].strip()
    ]
    if not people:
        problems.append(
            {"field": "person-0-name", "message": _("Name at least one person who took part")}
        )
    if not form["decisions"].strip():
        problems.append({"field": "decisions", "message": _("Write what was decided")})
    actions: list[ActionIn] = []
    for index, row in enumerate(form["actions"]):
        if not (row["text"].strip() or row["goal"]):
            continue
        goal = parse_uuid(row["goal"])
        if goal is None:
            problems.append(
                {
                    "field": f"action-{index}-goal",
                    "message": _("Choose the goal this action serves"),
                }
            )
        if not row["text"].strip():
            problems.append({"field": f"action-{index}-text", "message": _("Describe the action")})
        due = typed_day(staff, row["due"], f"action-{index}-due", problems)
        who, _sep, org = row["who"].partition(":")
        if who not in ("organisation", "family", "partner"):
            problems.append(
                {"field": f"action-{index}-who", "message": _("Choose who carries out the action")}
            )
            continue
        if goal is not None and row["text"].strip():
            actions.append(
                ActionIn(
                    goal_id=goal,
                    description=row["text"].strip()[:2000],
                    responsible=Responsible(who),
                    responsible_org_id=parse_uuid(org) if who == "partner" else None,
                    due_on=due,
                )
            )
    if problems or held is None:
        return None, problems
    return (
        ConferenceIn(
            held_on=held,
            participants=people,
            decisions=form["decisions"].strip()[:5000],
            actions=actions,
            next_meeting_on=following,
        ),
        [],
    )


def _field(location: str) -> str:
    """A service error's location as this form's field."""
    parts = location.removeprefix("body.").split(".")
    if parts[0] == "participants" and len(parts) > 2:
        return f"person-{parts[1]}-org"
    if parts[0] == "actions" and len(parts) > 2:
        last = {"goal_id": "goal", "responsible_org_id": "who"}.get(parts[2], "text")
        return f"action-{parts[1]}-{last}"
    return parts[0]


@router.post("/cases/{case_id}/conferences/new", response_class=HTMLResponse)
def record_conference(staff: StaffDep, case_id: str, posted: PostedDep) -> Response:
    """Record the conference and its actions, then back to the case."""
    staff.check_csrf(one(posted, "csrf_token"))
    page = case_or_page(staff, case_id, "conference.write")
    if not isinstance(page, CasePage):
        return page
    form = _read(posted)
    body, problems = _parse(staff, form)
    if body is None:
        return _page(staff, page, form, problems, status=422)
    try:
        with attempt(staff.session):
            conferences.record_conference(staff.session, staff.caller, page.id, body)
    except CaseworkInvalid as error:
        problem = service_problem(staff, error)
        problem[0]["field"] = _field(str(error.errors[0]["location"]))
        return _page(staff, page, form, problem, status=422)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/cases/{page.id}?done=conference#conferences")
