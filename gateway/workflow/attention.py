"""What needs a person's attention: per referral (late, the next step is theirs, a message
waits for their answer) and, for the home page, today's counts on their side.

Read-only; every query starts from `access.visible_clause`, so a case worker counts what
they may see (their own, their team's and the unassigned intake) and a supervisor their
organisation's side.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from gateway.workflow import access, monitor
from gateway.workflow.models import Handover, Kind, Referral, Status, ThreadMessage
from gateway.workflow.resend import RESENDABLE
from gateway.workflow.states import OPEN
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["Flags", "TeamRow", "Today", "flags", "today"]

_OPEN = [s.value for s in OPEN]
_RESENDABLE = [s.value for s in RESENDABLE]


@dataclass(frozen=True)
class Flags:
    """One row's flags. `action`: answer | start | first-contact | resend | reply | None."""

    overdue: bool
    action: str | None
    awaiting_reply: bool


def _last_senders(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Who wrote last in each referral's thread (organisation ids)."""
    last: dict[uuid.UUID, uuid.UUID] = {}
    rows = session.execute(
        select(ThreadMessage.referral_id, ThreadMessage.sender_org_id)
        .where(ThreadMessage.referral_id.in_(ids))
        .order_by(ThreadMessage.sent_at, ThreadMessage.id)
    )
    for referral_id, sender in rows:
        last[referral_id] = sender
    return last


def _other_spoke_last(caller: Caller) -> ColumnElement[bool]:
    """The newest message of the referral's thread is from the other organisation."""
    newest = (
        select(ThreadMessage.sender_org_id)
        .where(ThreadMessage.referral_id == Referral.id)
        .order_by(ThreadMessage.sent_at.desc(), ThreadMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return newest != caller.organisation_id


def _awaiting_contact() -> ColumnElement[bool]:
    waiting = select(Handover.referral_id).where(
        Handover.transferred_at.is_not(None),
        Handover.first_contact_at.is_(None),
        Handover.closed_at.is_(None),
    )
    return and_(Referral.kind == Kind.HANDOVER.value, Referral.id.in_(waiting))


def _not_resent() -> ColumnElement[bool]:
    later = aliased(Referral)  # the same table: an alias, so it is not correlated
    return Referral.id.not_in(select(later.resent_from_id).where(later.resent_from_id.is_not(None)))


def flags(
    session: Session, caller: Caller, referrals: Sequence[Referral], *, now: dt.datetime | None
) -> dict[uuid.UUID, Flags]:
    """The flags of each referral (all visible to `caller`), in a few queries."""
    ids = [r.id for r in referrals]
    if not ids:
        return {}
    moment = now or utcnow()
    late = set(
        session.scalars(
            select(Referral.id).where(Referral.id.in_(ids), monitor.overdue_clause(session, moment))
        )
    )
    contact = set(
        session.scalars(select(Referral.id).where(Referral.id.in_(ids), _awaiting_contact()))
    )
    resent = set(
        session.scalars(select(Referral.resent_from_id).where(Referral.resent_from_id.in_(ids)))
    )
    last = _last_senders(session, ids)
    out = {}
    for r in referrals:
        ours = caller.organisation_id
        reply = r.id in last and last[r.id] != ours and r.status != Status.ENTERED_IN_ERROR
        action: str | None = None
        if r.owner_org_id == ours:
            if r.status == Status.REQUESTED:
                action = "answer"
            elif r.status == Status.ACCEPTED and r.started_at is None and r.kind == Kind.REFERRAL:
                action = "start"
            elif r.id in contact:
                action = "first-contact"
        elif r.status in _RESENDABLE and r.id not in resent and r.kind == Kind.REFERRAL:
            action = "resend"
        if action is None and reply:
            action = "reply"
        out[r.id] = Flags(overdue=r.id in late, action=action, awaiting_reply=reply)
    return out


@dataclass(frozen=True)
class TeamRow:
    """One staff member's open referrals on the organisation's side (None: unassigned)."""

    assignee: uuid.UUID | None
    open: int
    overdue: int


@dataclass
class Today:
    """The counts of the home page, and a few of each item (newest first)."""

    to_answer: int = 0
    overdue: int = 0
    first_contacts: int = 0
    awaiting_reply: int = 0
    to_resend: int = 0
    mine_open: int = 0
    items: dict[str, list[Referral]] = field(default_factory=dict)
    team: list[TeamRow] = field(default_factory=list)


def _count_and_some(
    session: Session, where: ColumnElement[bool], some: int
) -> tuple[int, list[Referral]]:
    total = int(session.scalar(select(func.count()).select_from(Referral).where(where)) or 0)
    rows = list(
        session.scalars(
            select(Referral).where(where).order_by(Referral.authored_on, Referral.id).limit(some)
        )
    )
    return total, rows


def today(
    session: Session,
    caller: Caller,
    *,
    team: bool = False,
    now: dt.datetime | None = None,
    some: int = 5,
) -> Today:
    """What needs `caller`'s attention now: referrals to answer, late ones, first contacts
    to confirm, threads waiting for an answer, declined referrals to send elsewhere, their
    own open items; with `team`, the open and late referrals per assignee of their side."""
    moment = now or utcnow()
    org = caller.organisation_id
    seen = access.visible_clause(caller)
    received = and_(seen, Referral.owner_org_id == org)
    late = monitor.overdue_clause(session, moment)
    wheres = {
        "to_answer": and_(received, Referral.status == Status.REQUESTED.value),
        "overdue": and_(seen, late),
        "first_contacts": and_(received, Referral.status.in_(_OPEN), _awaiting_contact()),
        "awaiting_reply": and_(
            seen, Referral.status != Status.ENTERED_IN_ERROR.value, _other_spoke_last(caller)
        ),
        "to_resend": and_(
            seen,
            Referral.requester_org_id == org,
            Referral.kind == Kind.REFERRAL.value,
            Referral.status.in_(_RESENDABLE),
            _not_resent(),
        ),
        "mine_open": and_(
            seen,
            Referral.status.in_(_OPEN),
            or_(
                and_(Referral.owner_org_id == org, Referral.owner_assignee == caller.id),
                and_(Referral.requester_org_id == org, Referral.requester_assignee == caller.id),
            ),
        ),
    }
    found = Today()
    for name, where in wheres.items():
        total, rows = _count_and_some(session, where, some)
        setattr(found, name, total)
        found.items[name] = rows
    if team:
        found.team = _team(session, caller, received, late)
    return found


def _team(
    session: Session, caller: Caller, received: ColumnElement[bool], late: ColumnElement[bool]
) -> list[TeamRow]:
    """Open received referrals per assignee, with how many are late (most first)."""
    rows = session.execute(
        select(
            Referral.owner_assignee,
            func.count(),
            func.count(Referral.id).filter(late),
        )
        .where(received, Referral.status.in_(_OPEN))
        .group_by(Referral.owner_assignee)
    )
    team = [TeamRow(assignee, int(n), int(k)) for assignee, n, k in rows]
    return sorted(team, key=lambda t: (-t.overdue, -t.open, str(t.assignee)))
