"""Who may read and change a case's assessment, plan, conferences and reviews: one place.

- The **owner** is the organisation holding the case (`Case.owner_org_id`; a handover moves
  it, and with it the plan). Its case workers and supervisors read and write everything of
  the case; its org admins read nothing of it (they administer, they do not do case work).
- A **partner** is another organisation serving a goal of the plan: responsible for one of
  the goal's tasks, or the receiver of the referral a task started. A partner reads the
  goals it serves and their tasks, and updates the status of its own tasks, only while the
  client's consent permits the goal's data category to it for service coordination; the
  consent is decided at every read (`consent.decision.decide`, no cache), so a revocation
  ends the partner's view at once.
- Anyone else gets the case's 404 (audited, the same answer as a case that does not exist).
- Client content is sealed under the client's data key, context `<kind>:<row id>`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients as consent_clients
from consent.decision import decide
from consent.models import Purpose
from gateway.auth.errors import Forbidden
from gateway.auth.models import Organisation
from gateway.workflow.cases import CaseNotFound
from gateway.workflow.casework.models import Domain, Goal, PlanTask
from gateway.workflow.models import Case, Referral
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role

__all__ = [
    "CASE_ROLES",
    "category_of",
    "does_case_work",
    "goals_shared_with",
    "open_sealed",
    "owned_case",
    "refused",
    "seal",
]

CASE_ROLES = (Role.CASE_WORKER, Role.SUPERVISOR)

_CATEGORY = {
    Domain.SAFETY: DataCategory.PROTECTION,
    Domain.HEALTH: DataCategory.HEALTH,
    Domain.LEGAL_DOCUMENTATION: DataCategory.LEGAL_STATUS,
    Domain.FAMILY_SOCIAL: DataCategory.FAMILY,
    Domain.CHILD_DEVELOPMENT: DataCategory.FAMILY,
}


def category_of(domain: str | None) -> DataCategory:
    """The consent data category a goal of `domain` is shared under (`needs` otherwise)."""
    try:
        return _CATEGORY.get(Domain(domain), DataCategory.NEEDS) if domain else DataCategory.NEEDS
    except ValueError:
        return DataCategory.NEEDS


def does_case_work(caller: Caller) -> bool:
    """Case workers and supervisors (people, not system clients) do case work."""
    return caller.kind is CallerKind.USER and caller.has_role(*CASE_ROLES)


def refused(
    session: Session,
    caller: Caller,
    action: str,
    subject: str,
    reason: str,
    **detail: Any,
) -> None:
    """Audit a refused attempt (nothing else is written)."""
    audit.record(
        session,
        actor=caller.actor,
        action=action,
        outcome=Outcome.DENIED,
        organisation=str(caller.organisation_id),
        subject=subject,
        detail={"refused": reason, **{k: str(v) for k, v in detail.items()}},
    )


def owned_case(
    session: Session, caller: Caller, case_id: uuid.UUID, *, action: str, for_update: bool = False
) -> Case:
    """The case, if the caller does case work at the organisation holding it.

    Raises:
        Forbidden: the caller is not a case worker or supervisor (audited).
        CaseNotFound: no such case, or not the caller's organisation's (audited).
    """
    subject = f"EpisodeOfCare/{case_id}"
    if not does_case_work(caller):
        refused(session, caller, action, subject, "role")
        raise Forbidden("Only case workers and supervisors do case work.")
    query = select(Case).where(Case.id == case_id, Case.owner_org_id == caller.organisation_id)
    if for_update:
        query = query.with_for_update()
    case = session.scalars(query).first()
    if case is None:
        refused(session, caller, action, subject, "not-found")
        raise CaseNotFound("No such case.")
    return case


def goals_shared_with(
    session: Session, caller: Caller, goals: Iterable[Goal]
) -> dict[uuid.UUID, DataCategory]:
    """Of `goals` (one client's), those the caller's organisation serves as a partner and
    may see now under the client's consent, each with the category that permitted it.

    One consent decision per category asked (each audited by `decide`)."""
    org = caller.organisation_id
    goals = list(goals)
    if not goals or org is None:
        return {}
    served = set(
        session.scalars(
            select(PlanTask.goal_id)
            .outerjoin(Referral, Referral.id == PlanTask.referral_id)
            .where(
                PlanTask.goal_id.in_([g.id for g in goals]),
                or_(PlanTask.responsible_org_id == org, Referral.owner_org_id == org),
            )
        )
    )
    wanted = [g for g in goals if g.id in served]
    if not wanted:
        return {}
    categories = {DataCategory(g.category) for g in wanted}
    organisation = session.get(Organisation, org)
    decision = decide(
        session,
        caller,
        client_id=wanted[0].client_id,
        recipient_org_id=org,
        recipient_org_type=organisation.org_type if organisation else None,
        purpose=Purpose.SERVICE_COORDINATION,
        categories=categories,
    )
    return {
        g.id: DataCategory(g.category)
        for g in wanted
        if DataCategory(g.category) in decision.permitted_categories
    }


def seal(session: Session, client_id: uuid.UUID, kind: str, row_id: uuid.UUID, data: Any) -> bytes:
    """`data` as compact JSON sealed under the client's key (context `<kind>:<row_id>`)."""
    plain = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return consent_clients.seal_for_client(session, client_id, plain, f"{kind}:{row_id}")


def open_sealed(
    session: Session, client_id: uuid.UUID, kind: str, row_id: uuid.UUID, sealed: bytes
) -> Any:
    """The JSON sealed by `seal` (raises ClientErased once the client's key is destroyed)."""
    plain = consent_clients.open_for_client(session, client_id, sealed, f"{kind}:{row_id}")
    return json.loads(plain)
