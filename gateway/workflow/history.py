"""A referral's history: every step, in order, with the time it took since the last one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.workflow.models import Referral, ReferralEvent
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["events_of", "record"]


def record(
    session: Session,
    referral: Referral,
    caller: Caller | None,
    *,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    business_status: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
    at: dt.datetime | None = None,
    first: bool = False,
) -> ReferralEvent:
    """Append one step (at `at`, default now); `elapsed_seconds` is the time since the
    previous step. `first`: the referral was created in this transaction, so this is its
    first step (nothing to look up; written with the transaction's other rows)."""
    last = None
    if not first:
        last = session.execute(
            select(ReferralEvent.seq, ReferralEvent.at)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.seq.desc())
            .limit(1)
        ).first()
    now = at or utcnow()
    event = ReferralEvent(
        referral_id=referral.id,
        seq=(last.seq + 1) if last else 1,
        at=now,
        actor=actor or (caller.actor if caller else "system:workflow"),
        organisation_id=caller.organisation_id if caller else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        business_status=business_status,
        reason=reason,
        elapsed_seconds=int((now - last.at).total_seconds()) if last else None,
    )
    session.add(event)
    if not first:
        session.flush()
    return event


def events_of(session: Session, referral: Referral) -> list[ReferralEvent]:
    return list(
        session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.seq)
        )
    )
