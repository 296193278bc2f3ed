"""Who may see and act on a referral: the one place the rule is written.

- Only the two organisations of a referral ever see it: the requester (sender) and the
  owner (receiver). Anyone else gets 404, as if it did not exist.
- Within an organisation: supervisors and org admins see all of their side's referrals;
  a case worker sees those assigned to them or to their team, and, on the receiving side,
  the unassigned ones (the intake queue). System clients act for the whole organisation
  within their SMART scopes (`system/Task.rs`, `system/Task.u`, ...).
- A referral the sender holds as a draft (`Task.status` draft, not yet requested) is the
  sender's alone: the receiver sees it once it is requested.
- A hub admin administers the network and sees no referral content.
- For a handover, the sender keeps read access only until the handover is closed
  (`Handover.closed_at`); client content it reads is still narrowed by consent.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from gateway.auth.clients.scopes import scope_allows
from gateway.auth.errors import Forbidden
from gateway.workflow.errors import ReferralNotFound
from gateway.workflow.models import Handover, Kind, Referral, Status
from gateway.workflow.states import Party
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role

__all__ = [
    "get_visible",
    "party_of",
    "require_scope",
    "sees_everything_of_side",
    "visible_clause",
]

_WIDE = (Role.SUPERVISOR, Role.ORG_ADMIN)


def require_scope(caller: Caller, resource: str, letter: str) -> None:
    """System clients need a SMART scope for the resource; staff are governed by roles."""
    if caller.kind is CallerKind.CLIENT and not scope_allows(caller.scopes, resource, letter):
        raise Forbidden(f"Your access token has no {resource} scope for this.")


def sees_everything_of_side(caller: Caller) -> bool:
    return caller.kind is not CallerKind.USER or caller.has_role(*_WIDE)


def _handover_open() -> ColumnElement[bool]:
    closed = select(Handover.referral_id).where(Handover.closed_at.is_not(None))
    return or_(Referral.kind != Kind.HANDOVER.value, Referral.id.not_in(closed))


def visible_clause(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition selecting the referrals `caller` may see."""
    if caller.kind is CallerKind.USER and not caller.has_role(
        Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN
    ):
        return false()
    org = caller.organisation_id
    sender = and_(Referral.requester_org_id == org, _handover_open())
    receiver = and_(Referral.owner_org_id == org, Referral.status != Status.DRAFT.value)
    if sees_everything_of_side(caller):
        return or_(sender, receiver)
    mine_sent = [Referral.requester_assignee == caller.id]
    mine_received = [Referral.owner_assignee == caller.id, Referral.owner_assignee.is_(None)]
    if caller.team:
        mine_sent.append(Referral.requester_team == caller.team)
        mine_received.append(Referral.owner_team == caller.team)
    return or_(and_(sender, or_(*mine_sent)), and_(receiver, or_(*mine_received)))


def party_of(referral: Referral, caller: Caller) -> Party:
    """The side `caller` is on (the referral is already known to be visible)."""
    if caller.organisation_id == referral.owner_org_id:
        return Party.OWNER
    return Party.REQUESTER


def get_visible(
    session: Session, caller: Caller, referral_id: uuid.UUID, *, for_update: bool = False
) -> Referral:
    """The referral if `caller` may see it (locked for update when asked).

    Raises:
        ReferralNotFound: no such referral, or not visible (audited, the same answer).
    """
    query = select(Referral).where(Referral.id == referral_id, visible_clause(caller))
    if for_update:
        query = query.with_for_update()  # fresh values: see kernel.db._locked_reads_refresh
    referral = session.scalars(query).first()
    if referral is None:
        audit.record(
            session,
            actor=caller.actor,
            action="referral.read",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=f"Task/{referral_id}",
        )
        raise ReferralNotFound("No such referral.")
    return referral
