"""Case notes against the plan: a note names the goals and tasks it shows progress on
(`CaseNoteLink`), and may be shared with the partner agencies serving those goals.

A shared note reaches a partner only through the goals it links: the partner must serve
the goal and the client's consent must permit, for service coordination, both the goal's
category and `case-notes` (decided at every read by `shared`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.workflow.casework.models import CaseNoteLink, Goal, PlanTask

__all__ = ["MAX_LINKS", "check", "links_of", "store"]

MAX_LINKS = 20


def check(
    session: Session,
    case_id: uuid.UUID,
    goal_ids: Sequence[uuid.UUID],
    task_ids: Sequence[uuid.UUID],
) -> tuple[str, str] | None:
    """What is wrong with the links of a note on `case_id` (message, field), or None."""
    if goal_ids:
        found = set(
            session.scalars(select(Goal.id).where(Goal.id.in_(goal_ids), Goal.case_id == case_id))
        )
        for index, goal_id in enumerate(goal_ids):
            if goal_id not in found:
                return "This is not a goal of this case's plan.", f"body.goal_ids.{index}"
    if task_ids:
        found = set(
            session.scalars(
                select(PlanTask.id).where(PlanTask.id.in_(task_ids), PlanTask.case_id == case_id)
            )
        )
        for index, task_id in enumerate(task_ids):
            if task_id not in found:
                return "This is not a task of this case's plan.", f"body.task_ids.{index}"
    return None


def store(
    session: Session,
    note_id: uuid.UUID,
    goal_ids: Sequence[uuid.UUID],
    task_ids: Sequence[uuid.UUID],
) -> None:
    """Record the note's links (a task's goal counts as linked too)."""
    goals = dict.fromkeys(goal_ids)
    if task_ids:
        for task_id, goal_id in session.execute(
            select(PlanTask.id, PlanTask.goal_id).where(PlanTask.id.in_(task_ids))
        ):
            session.add(CaseNoteLink(note_id=note_id, goal_id=goal_id, task_id=task_id))
            goals.pop(goal_id, None)
    for goal_id in goals:
        session.add(CaseNoteLink(note_id=note_id, goal_id=goal_id))


def links_of(
    session: Session, note_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]]:
    """Each note's linked goals and tasks."""
    out: dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]] = defaultdict(lambda: ([], []))
    if not note_ids:
        return {}
    for link in session.scalars(
        select(CaseNoteLink).where(CaseNoteLink.note_id.in_(note_ids)).order_by(CaseNoteLink.id)
    ):
        goals, tasks = out[link.note_id]
        if link.goal_id is not None and link.goal_id not in goals:
            goals.append(link.goal_id)
        if link.task_id is not None:
            tasks.append(link.task_id)
    return dict(out)
