"""Delivery health across the network, for hub admins: per directory endpoint, the last
successful push, the failures of the last days and the last error, and how many messages
to its organisation still wait. Read-only (`gateway.delivery.health` is one organisation's
own view)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from directory import models as directory_models
from gateway.delivery.dead_letters import OperatorOnly
from gateway.delivery.models import DeliveryAttempt, MessageState, OutgoingMessage
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["FAILURE_WINDOW", "EndpointHealth", "network_health"]

#: How far back failures are counted.
FAILURE_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class EndpointHealth:
    endpoint_id: uuid.UUID
    name: str | None
    address: str
    connection_type: str
    active: bool
    organisation: str  # the directory organisation the endpoint belongs to
    last_success: dt.datetime | None
    last_failure: dt.datetime | None
    failures: int  # attempts that did not deliver, within FAILURE_WINDOW
    last_error: str | None
    backlog: int  # messages to the owning network organisation not yet delivered

    @property
    def failing(self) -> bool:
        """Its latest push failed (or it never delivered but tried)."""
        if self.last_failure is None:
            return False
        return self.last_success is None or self.last_failure > self.last_success


def _last_error(session: Session, endpoint_id: uuid.UUID) -> str | None:
    return session.scalars(
        select(DeliveryAttempt.error)
        .where(
            DeliveryAttempt.target == f"Endpoint/{endpoint_id}",
            DeliveryAttempt.outcome != "delivered",
        )
        .order_by(DeliveryAttempt.started_at.desc())
        .limit(1)
    ).first()


def network_health(
    session: Session, caller: Caller, *, limit: int = 200, now: dt.datetime | None = None
) -> list[EndpointHealth]:
    """Every directory endpoint with its delivery figures: failing ones first, then the
    busiest backlogs. Hub admins only."""
    if not caller.is_hub_admin:
        raise OperatorOnly("Only hub admins may see the network's delivery health.")
    since = (now or utcnow()) - FAILURE_WINDOW
    delivered = DeliveryAttempt.outcome == "delivered"
    attempts = (
        select(
            DeliveryAttempt.target.label("target"),
            func.max(case((delivered, DeliveryAttempt.started_at))).label("last_success"),
            func.max(case((~delivered, DeliveryAttempt.started_at))).label("last_failure"),
            func.sum(case((~delivered & (DeliveryAttempt.started_at >= since), 1), else_=0)).label(
                "failures"
            ),
        )
        .where(DeliveryAttempt.target.startswith("Endpoint/"))
        .group_by(DeliveryAttempt.target)
        .subquery()
    )
    waiting = (
        select(OutgoingMessage.recipient_org_id.label("org"), func.count().label("backlog"))
        .where(OutgoingMessage.state == MessageState.PENDING)
        .group_by(OutgoingMessage.recipient_org_id)
        .subquery()
    )
    endpoint, org = directory_models.DirEndpoint, directory_models.DirOrganization
    rows = session.execute(
        select(endpoint, org.name, org.owner_organisation_id, waiting.c.backlog)
        .join(org, org.id == endpoint.organization_id)
        .outerjoin(waiting, waiting.c.org == org.owner_organisation_id)
        .limit(limit)
    ).all()
    figures = {row.target: row for row in session.execute(select(attempts))}
    out = []
    for ep, org_name, _owner, backlog in rows:
        seen = figures.get(f"Endpoint/{ep.id}")  # (targets are written as `Endpoint/<uuid>`)
        out.append(
            EndpointHealth(
                endpoint_id=ep.id,
                name=ep.name,
                address=ep.address,
                connection_type=ep.connection_type,
                active=ep.active,
                organisation=org_name,
                last_success=seen.last_success if seen else None,
                last_failure=seen.last_failure if seen else None,
                failures=int(seen.failures or 0) if seen else 0,
                last_error=None,
                backlog=int(backlog or 0),
            )
        )
    out = [
        replace(h, last_error=_last_error(session, h.endpoint_id)) if h.failing else h for h in out
    ]
    out.sort(key=lambda h: (not h.failing, -h.failures, -h.backlog, h.organisation))
    return out
