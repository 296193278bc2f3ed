"""Directory tasks: the daily sweep that flags listings their owners have not confirmed.

There is no e-mail: the flag (`stale_notified_at`, shown as `refhub.stale` in the owner's
listing) and an audit record addressed to the owning organisation are what the owner sees.
Confirming or editing the listing clears the flag (`directory.service`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Service
from kernel import audit
from kernel.db import utcnow
from kernel.outbox import task

__all__ = ["STALE_AFTER_MONTHS", "SWEEP_EVERY_SECONDS", "flag_stale", "flag_stale_listings"]

#: A listing not confirmed for this many months is flagged to its owner.
STALE_AFTER_MONTHS = 6
SWEEP_EVERY_SECONDS = 24 * 3600.0
_ACTOR = "system:directory.flag_stale"
_BATCH = 500
_DAYS_PER_MONTH = 30.44


def stale_cutoff(now: dt.datetime, months: int = STALE_AFTER_MONTHS) -> dt.datetime:
    """Listings confirmed before this moment are stale."""
    return now - dt.timedelta(days=round(months * _DAYS_PER_MONTH))


def flag_stale_listings(
    session: Session, *, now: dt.datetime | None = None, months: int = STALE_AFTER_MONTHS
) -> int:
    """Flag every listing not confirmed for `months` and not yet flagged; one audit record
    per listing, addressed to its owner. Returns how many were flagged (idempotent: a
    flagged listing is not flagged again until it is confirmed)."""
    moment = now or utcnow()
    flagged = 0
    while True:
        due = session.scalars(
            select(Service)
            .where(
                Service.confirmed_at < stale_cutoff(moment, months),
                Service.stale_notified_at.is_(None),
            )
            .order_by(Service.confirmed_at, Service.id)
            .limit(_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return flagged
        for service in due:
            service.stale_notified_at = moment
            audit.record(
                session,
                actor=_ACTOR,
                action="directory.service.stale",
                organisation=str(service.owner_organisation_id)
                if service.owner_organisation_id
                else None,
                subject=f"HealthcareService/{service.id}",
                detail={
                    "confirmed_at": service.confirmed_at.isoformat(),
                    "months": months,
                },
            )
        session.flush()
        flagged += len(due)


@task("directory.flag_stale", every_seconds=SWEEP_EVERY_SECONDS)
def flag_stale(session: Session) -> None:
    """Daily: flag listings not confirmed for `STALE_AFTER_MONTHS` months."""
    flag_stale_listings(session)
