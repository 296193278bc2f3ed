"""What a partner agency sees of other organisations' plans: the goals it serves, with only
its own tasks, while each client's consent permits the goal's category to it (decided now,
one decision per client, each audited). Open cases only; the rest is the owner's."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients as consent_clients
from consent.decision import decide
from consent.models import Purpose
from gateway.auth.errors import Forbidden
from gateway.auth.models import Organisation
from gateway.workflow.casework import access, goals, plan_tasks
from gateway.workflow.casework.models import CaseNoteLink, Goal, PlanTask
from gateway.workflow.casework.schemas import SharedGoal, SharedNote, TaskOut
from gateway.workflow.models import Case, CaseNote, CaseStatus, Referral
from kernel import audit
from kernel.caller import Caller

__all__ = ["shared_goals"]

LIMIT = 200


def shared_goals(
    session: Session, caller: Caller, *, client_id: uuid.UUID | None = None
) -> list[SharedGoal]:
    """The goals the caller's organisation serves for other organisations' open cases, with
    its own tasks, newest first, as consent permits now (at most 200; audited).

    Raises:
        Forbidden: not a case worker or supervisor.
    """
    if not access.does_case_work(caller):
        access.refused(session, caller, "plan.shared.read", "Goal", "role")
        raise Forbidden("Only case workers and supervisors see shared plans.")
    org = caller.organisation_id
    query = (
        select(Goal)
        .join(PlanTask, PlanTask.goal_id == Goal.id)
        .outerjoin(Referral, Referral.id == PlanTask.referral_id)
        .join(Case, Case.id == Goal.case_id)
        .where(
            or_(PlanTask.responsible_org_id == org, Referral.owner_org_id == org),
            Case.owner_org_id != org,
            Case.status == CaseStatus.OPEN.value,
        )
        .distinct()
        .order_by(Goal.updated_at.desc())
    )
    if client_id is not None:
        query = query.where(Goal.client_id == client_id)
    served = list(session.scalars(query.limit(LIMIT)))
    by_client: dict[uuid.UUID, list[Goal]] = defaultdict(list)
    for goal in served:
        by_client[goal.client_id].append(goal)
    out: list[SharedGoal] = []
    owners: dict[uuid.UUID, uuid.UUID] = {}
    for client, theirs in by_client.items():
        permitted = access.goals_shared_with(session, caller, theirs)
        notes = _shared_notes(session, caller, client, list(permitted))
        for goal in theirs:
            if goal.id not in permitted or org is None:
                continue
            case = session.get(Case, goal.case_id)
            if case is None:
                continue
            owners[goal.id] = case.owner_org_id
            every = plan_tasks.tasks_of(session, [goal.id])
            own = _own_tasks(session, every, org)
            out.append(
                SharedGoal(
                    goal=goals.goal_out(session, goal, own, progress_of=every),
                    client_id=client,
                    owner_org_id=case.owner_org_id,
                    owner_org_name=None,
                    permitted_by=permitted[goal.id].value,
                    notes=notes.get(goal.id, []),
                )
            )
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(set(owners.values())))
    )
    names = {row.id: row.name for row in rows}
    for item in out:
        item.owner_org_name = names.get(item.owner_org_id)
    audit.record(
        session,
        actor=caller.actor,
        action="plan.shared.read",
        organisation=str(org),
        subject="Goal",
        detail={"goals": len(out), "clients": len(by_client)},
    )
    return out


def _shared_notes(
    session: Session, caller: Caller, client_id: uuid.UUID, goal_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[SharedNote]]:
    """The notes shared through the goals, newest contact first, if the client's consent
    permits case notes to the caller's organisation now (one decision, audited)."""
    if not goal_ids or caller.organisation_id is None:
        return {}
    rows = session.execute(
        select(CaseNoteLink.goal_id, CaseNote)
        .join(CaseNote, CaseNote.id == CaseNoteLink.note_id)
        .where(CaseNoteLink.goal_id.in_(goal_ids), CaseNote.share_with_partners.is_(True))
        .order_by(CaseNote.contacted_at.desc())
    ).all()
    if not rows:
        return {}
    organisation = session.get(Organisation, caller.organisation_id)
    decision = decide(
        session,
        caller,
        client_id=client_id,
        recipient_org_id=caller.organisation_id,
        recipient_org_type=organisation.org_type if organisation else None,
        purpose=Purpose.SERVICE_COORDINATION,
        categories={DataCategory.CASE_NOTES},
    )
    if DataCategory.CASE_NOTES not in decision.permitted_categories:
        return {}
    out: dict[uuid.UUID, list[SharedNote]] = defaultdict(list)
    for goal_id, note in rows:
        if goal_id is None or any(n.id == note.id for n in out[goal_id]):
            continue
        plain = consent_clients.open_for_client(
            session, note.client_id, note.sealed, f"case-note:{note.id}"
        )
        out[goal_id].append(
            SharedNote(
                id=note.id,
                contacted_at=note.contacted_at,
                kind=note.kind,
                text=json.loads(plain)["text"],
                author_name=note.author_name,
            )
        )
    return dict(out)


def _own_tasks(session: Session, tasks: list[TaskOut], org: uuid.UUID) -> list[TaskOut]:
    """Of opened `tasks`, those the partner `org` carries out (responsible for it, or the
    receiver of the referral fulfilling it); nothing is opened again."""
    out = []
    for task in tasks:
        referral = session.get(Referral, task.referral_id) if task.referral_id else None
        if task.responsible_org_id == org or (referral and referral.owner_org_id == org):
            out.append(task)
    return out
