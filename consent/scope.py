"""Organisation scope for consent data: the one place that says which clients a caller sees.

A caller's organisation sees a client it registered, or one for whom a consent in force
holds a permit naming that organisation itself. A grant to an organisation *type* lets the
decision point permit a disclosure addressed to such an organisation, but does not make
the client visible to every organisation of that type. Every read starts here.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import aliased

from consent.models import (
    Client,
    ConsentRecord,
    ConsentStatus,
    Provision,
    ProvisionKind,
    ProvisionRecipient,
)
from kernel.caller import Caller

__all__ = ["in_force", "is_latest", "visible_client_ids"]


def is_latest() -> ColumnElement[bool]:
    """`ConsentRecord` is the newest version of its series (the one that counts)."""
    newer = aliased(ConsentRecord)
    return ~exists(
        select(newer.id).where(
            newer.series_id == ConsentRecord.series_id, newer.version > ConsentRecord.version
        )
    )


def in_force(now: dt.datetime) -> ColumnElement[bool]:
    """`ConsentRecord` is the latest version, active, and its period covers `now`."""
    return and_(
        is_latest(),
        ConsentRecord.status == ConsentStatus.ACTIVE.value,
        ConsentRecord.period_start <= now,
        or_(ConsentRecord.period_end.is_(None), ConsentRecord.period_end > now),
    )


def visible_client_ids(caller: Caller, now: dt.datetime) -> Select[uuid.UUID]:
    """The ids of the clients `caller`'s organisation may see, as a subquery-ready select."""
    org = caller.organisation_id
    registered = select(Client.id).where(Client.registered_by_org_id == org)
    granted = (
        select(ConsentRecord.client_id)
        .join(Provision, Provision.record_id == ConsentRecord.id)
        .join(ProvisionRecipient, ProvisionRecipient.provision_id == Provision.id)
        .where(
            ProvisionRecipient.organisation_id == org,
            Provision.kind == ProvisionKind.PERMIT.value,
            in_force(now),
        )
    )
    return select(Client.id).where(or_(Client.id.in_(registered), Client.id.in_(granted)))
