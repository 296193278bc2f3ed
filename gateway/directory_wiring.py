"""Gateway side of the directory: the network organisations it may not read itself.

The directory never imports the gateway; the composition root hands it `MEMBERS`, with
which `/fhir/Organization` resolves a network organisation that has no listing (one
organisation, one FHIR identity: `Organization/<network organisation id>`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.dependencies import Member
from directory.models import DirOrganization
from gateway.auth.models import Organisation, OrgStatus

__all__ = ["MEMBERS", "GatewayMembers"]

#: Organisations that are (or were) network members; applicants and rejected ones are not.
_MEMBER_STATUSES = (OrgStatus.ACTIVE.value, OrgStatus.SUSPENDED.value)


class GatewayMembers:
    """`directory.dependencies.NetworkMembers` over the identity tables."""

    def unlisted(self, session: Session, ids: Collection[uuid.UUID]) -> list[Member]:
        wanted = list(set(ids))
        if not wanted:
            return []
        listed = select(DirOrganization.id).where(DirOrganization.id.in_(wanted))
        rows = session.scalars(
            select(Organisation)
            .where(
                Organisation.id.in_(wanted),
                Organisation.id.not_in(listed),
                Organisation.status.in_(_MEMBER_STATUSES),
            )
            .order_by(Organisation.id)
        )
        return [
            Member(
                id=org.id,
                name=org.name,
                org_type=org.org_type,
                active=org.status == OrgStatus.ACTIVE.value,
                updated_at=org.updated_at,
            )
            for org in rows
        ]


MEMBERS = GatewayMembers()
