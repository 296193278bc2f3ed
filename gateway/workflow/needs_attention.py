"""What needs a supervisor's attention now (the report's attention list): referrals still
waiting on the step they were reminded or escalated about, and handovers whose first
contact with the client is overdue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from gateway.workflow import access, views
from gateway.workflow.figures import Attention, Side
from gateway.workflow.models import Handover, Referral, Status
from gateway.workflow.states import OPEN
from kernel.caller import Caller

__all__ = ["ATTENTION_LIMIT", "WAITING", "attention_clause", "contact_overdue_clause", "listed"]

ATTENTION_LIMIT = 200
#: The open statuses a referral waits in once sent (drafts excluded).
WAITING: tuple[str, ...] = tuple(sorted(s.value for s in OPEN if s is not Status.DRAFT))


def contact_overdue_clause(now: dt.datetime) -> ColumnElement[bool]:
    """A handover's first contact is overdue (Handover columns only)."""
    return and_(
        Handover.first_contact_due_at.is_not(None),
        Handover.first_contact_due_at <= now,
        Handover.first_contact_at.is_(None),
        Handover.closed_at.is_(None),
    )


def attention_clause(now: dt.datetime) -> ColumnElement[bool]:
    """Open and still waiting on the step it was reminded (or escalated) about, or a
    handover flagged for first contact that is still overdue."""
    flagged = select(Handover.referral_id).where(
        Handover.first_contact_flagged_at.is_not(None), contact_overdue_clause(now)
    )
    return or_(
        and_(Referral.status == Status.REQUESTED.value, Referral.reminded_at.is_not(None)),
        and_(
            Referral.status == Status.ACCEPTED.value,
            Referral.started_at.is_(None),
            Referral.reminded_at.is_not(None),
            Referral.reminded_at >= Referral.accepted_at,
        ),
        and_(Referral.status.in_(WAITING), Referral.id.in_(flagged)),
    )


def listed(
    session: Session,
    caller: Caller,
    own: ColumnElement[bool],
    scope: str,
    side: Side,
    now: dt.datetime,
) -> tuple[int, list[Attention]]:
    """How many of the referrals `own` selects need attention now, and (except for the
    network scope: counts only) the first `ATTENTION_LIMIT` of them the caller may see."""
    needs = and_(own, attention_clause(now))
    count = int(session.scalar(select(func.count()).select_from(Referral).where(needs)) or 0)
    if scope == "network":
        return count, []  # a hub admin sees counts, never referral ids
    rows = list(
        session.scalars(
            select(Referral)
            .where(needs, access.visible_clause(caller))
            .order_by(Referral.escalated_at.is_(None), Referral.authored_on, Referral.id)
            .limit(ATTENTION_LIMIT)
        )
    )
    flagged = set(
        session.scalars(
            select(Handover.referral_id).where(
                Handover.referral_id.in_([r.id for r in rows]),
                Handover.first_contact_flagged_at.is_not(None),
            )
        )
    )
    counterparts = {r.id: r.owner_org_id if side is Side.SENT else r.requester_org_id for r in rows}
    names = views.names(session, counterparts.values())
    items = []
    for r in rows:
        counterpart = counterparts[r.id]
        reminded, escalated = r.reminded_at, r.escalated_at
        if escalated is not None and reminded is not None and escalated >= reminded:
            why = "escalated"  # escalated about the wait it was last reminded of
        elif r.id in flagged:
            why = "first-contact-overdue"
        else:
            why = "reminded"
        items.append(
            Attention(
                id=r.id,
                kind=r.kind,
                status=r.status,
                why=why,
                age_hours=round((now - r.authored_on).total_seconds() / 3600, 1),
                reminded_at=r.reminded_at,
                escalated_at=r.escalated_at,
                counterpart_id=counterpart,
                counterpart=names.get(counterpart),
            )
        )
    return count, items
