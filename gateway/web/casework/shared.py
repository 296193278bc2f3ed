"""The plans partner agencies serve (`/ui/shared-plans`): the goals the organisation
serves in other organisations' plans (`shared.shared_goals`), grouped by client, with its
own tasks and a form per task to update its status and note (`plan_tasks.update_task`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from consent import clients as consent_clients
from gateway.web.casework.common import PostedDep, one, refusal, service_problem
from gateway.web.casework.labels import DOMAIN_LABELS, TASK_STATUS_LABELS
from gateway.web.casework.tasks import parse_task_update
from gateway.web.clients.forms import Problems, attempt
from gateway.web.clients.labels import CATEGORY_LABELS
from gateway.web.clients.record import shown_identity
from gateway.web.shell import Staff, StaffDep, go, parse_uuid
from gateway.workflow.casework import plan_tasks, shared
from gateway.workflow.casework.errors import ConsentNotPermitting, PlanItemNotFound
from gateway.workflow.casework.schemas import SharedGoal
from kernel.errors import RefhubError

__all__ = ["router"]

router = APIRouter()


def _name_of(staff: Staff, client_id: uuid.UUID) -> str:
    """The client's name as far as their consent lets the organisation see it."""
    try:
        client = consent_clients.get_client(staff.session, staff.caller, client_id=client_id)
        return str(shown_identity(staff.session, staff.caller, client).get("name") or "")
    except RefhubError:
        return ""


def _grouped(staff: Staff, items: list[SharedGoal]) -> list[dict[str, Any]]:
    by_client: dict[uuid.UUID, list[SharedGoal]] = defaultdict(list)
    for item in items:
        by_client[item.client_id].append(item)
    return [
        {"client_id": client_id, "name": _name_of(staff, client_id), "goals": goals}
        for client_id, goals in by_client.items()
    ]


def _page(
    staff: Staff,
    errors: Problems,
    *,
    forms: dict[str, dict[str, str]] | None = None,
    status: int = 200,
    banner: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        with attempt(staff.session):
            items = shared.shared_goals(staff.session, staff.caller)
    except RefhubError as error:
        return refusal(staff, error)
    return staff.page(
        "casework/shared.html",
        status=status,
        nav="home",
        errors=errors,
        banner=banner,
        clients=_grouped(staff, items),
        forms=forms or {},
        domain_labels=DOMAIN_LABELS,
        category_labels=CATEGORY_LABELS,
        task_status_labels=TASK_STATUS_LABELS,
    )


@router.get("/shared-plans", response_class=HTMLResponse)
def shared_plans(staff: StaffDep, done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The goals the organisation serves for other organisations, with its own tasks."""
    banner = None
    if done == "task":
        banner = {
            "kind": "ok",
            "text": staff.gettext("Task updated. The organisation holding the plan sees it now."),
        }
    return _page(staff, [], banner=banner)


@router.post("/shared-plans/tasks/{task_id}", response_class=HTMLResponse)
def update_shared_task(staff: StaffDep, task_id: str, posted: PostedDep) -> Response:
    """Update one of the organisation's tasks in another organisation's plan."""
    staff.check_csrf(one(posted, "csrf_token"))
    prefix = f"task-{task_id[:36]}-"
    form = {"status": one(posted, "status"), "status_note": one(posted, "status_note")}
    forms = {task_id[:36]: form}
    found = parse_uuid(task_id)
    if found is None:
        return _page(staff, [{"field": "", "message": staff.gettext("No such task.")}], status=404)
    body, problems = parse_task_update(staff, form["status"], form["status_note"], prefix)
    if body is None:
        return _page(staff, problems, forms=forms, status=422)
    try:
        with attempt(staff.session):
            plan_tasks.update_task(staff.session, staff.caller, found, body)
    except (PlanItemNotFound, ConsentNotPermitting) as error:
        return _page(staff, service_problem(staff, error), forms=forms, status=error.status)
    except RefhubError as error:
        return refusal(staff, error)
    return go(f"/ui/shared-plans?done=task#task-{found}")
