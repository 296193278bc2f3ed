"""Inbox and outbox: searching the referrals a caller may see (JSON lists and FHIR Task)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from gateway.workflow.access import require_scope, visible_clause
from gateway.workflow.models import Referral
from kernel.caller import Caller

__all__ = ["SORTS", "Filters", "search"]

SORTS = {
    "-updated": Referral.updated_at.desc(),
    "updated": Referral.updated_at.asc(),
    "-authored": Referral.authored_on.desc(),
    "authored": Referral.authored_on.asc(),
}


@dataclass
class Filters:
    """Search criteria; every given one narrows (AND); lists inside are OR."""

    box: str = "all"  # inbox (we are the owner) | outbox (we are the requester) | all
    owner: list[uuid.UUID] = field(default_factory=list)
    requester: list[uuid.UUID] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    business_status: list[str] = field(default_factory=list)
    kind: str | None = None
    client: list[uuid.UUID] = field(default_factory=list)
    focus: list[uuid.UUID] = field(default_factory=list)
    ids: list[uuid.UUID] = field(default_factory=list)
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    updated_after_inclusive: bool = False
    #: the caller's side assigned to this staff member (`unassigned`: to nobody)
    assignee: uuid.UUID | None = None
    unassigned: bool = False
    #: late on the receiver's side (`monitor.overdue_clause`), given as that clause
    overdue: ColumnElement[bool] | None = None
    #: further conditions from the service behind a figure (e.g. `trends.drill_clause`),
    #: so that a list shows exactly the referrals a figure counted
    also: list[ColumnElement[bool]] = field(default_factory=list)
    sort: str = "-updated"
    offset: int = 0
    limit: int = 20


def _conditions(caller: Caller, f: Filters) -> list[ColumnElement[bool]]:
    rules: list[ColumnElement[bool]] = [visible_clause(caller)]
    if f.box == "inbox":
        rules.append(Referral.owner_org_id == caller.organisation_id)
    elif f.box == "outbox":
        rules.append(Referral.requester_org_id == caller.organisation_id)
    if f.owner:
        rules.append(Referral.owner_org_id.in_(f.owner))
    if f.requester:
        rules.append(Referral.requester_org_id.in_(f.requester))
    if f.status:
        rules.append(Referral.status.in_(f.status))
    if f.business_status:
        rules.append(Referral.business_status.in_(f.business_status))
    if f.kind:
        rules.append(Referral.kind == f.kind)
    if f.client:
        rules.append(Referral.client_id.in_(f.client))
    if f.focus:
        rules.append(Referral.service_request_id.in_(f.focus))
    if f.ids:
        rules.append(Referral.id.in_(f.ids))
    if f.updated_after is not None:
        rules.append(
            Referral.updated_at >= f.updated_after
            if f.updated_after_inclusive
            else Referral.updated_at > f.updated_after
        )
    if f.updated_before is not None:
        rules.append(Referral.updated_at < f.updated_before)
    if f.assignee is not None or f.unassigned:
        rules.append(_assigned(caller, f))
    if f.overdue is not None:
        rules.append(f.overdue)
    rules.extend(f.also)
    return rules


def _assigned(caller: Caller, f: Filters) -> ColumnElement[bool]:
    """Assigned (to `f.assignee`, or to nobody) on the caller's side of each referral."""
    org = caller.organisation_id
    sides = []
    if f.box in ("inbox", "all"):
        column = Referral.owner_assignee
        test = column.is_(None) if f.unassigned else column == f.assignee
        sides.append(and_(Referral.owner_org_id == org, test))
    if f.box in ("outbox", "all"):
        column = Referral.requester_assignee
        test = column.is_(None) if f.unassigned else column == f.assignee
        sides.append(and_(Referral.requester_org_id == org, test))
    return or_(*sides)


def search(session: Session, caller: Caller, f: Filters) -> tuple[list[Referral], int]:
    """One page of the referrals matching `f` that `caller` may see, and the total."""
    require_scope(caller, "Task", "s")
    rules = _conditions(caller, f)
    total = session.scalar(select(func.count()).select_from(Referral).where(*rules)) or 0
    rows = session.scalars(
        select(Referral)
        .where(*rules)
        .order_by(SORTS.get(f.sort, SORTS["-updated"]), Referral.id)
        .offset(f.offset)
        .limit(f.limit)
    )
    return list(rows), int(total)
