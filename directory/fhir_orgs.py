"""Organization (and its address and endpoint filters) for the directory's FHIR routes: who
may see which, and the one identity rule.

One organisation has one FHIR identity: a listing a network organisation owns has the
network organisation's id (`directory.service.upsert_organization`), and a network
organisation without a listing still resolves at `Organization/<id>` for network members,
rendered from what the gateway knows of it (`directory.dependencies.NetworkMembers`).
Imported (unowned) organisations keep their own ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from directory import fhir
from directory.access import Viewer
from directory.dependencies import Member, NetworkMembers
from directory.fhir_search import id_list, token
from directory.models import DirEndpoint, DirLocation, DirOrganization, Visibility

__all__ = [
    "UNLISTED_PARAMS",
    "address_columns",
    "endpoint_status",
    "member_resource",
    "organizations",
    "unlisted_members",
    "unlisted_searched",
    "visible_orgs",
]

#: The search parameters a search may use and still find network organisations without a
#: listing (by `_id`; other filters describe listings).
UNLISTED_PARAMS = frozenset({"_id", "_count", "_page", "_format"})


def visible_orgs(viewer: Viewer) -> Select[DirOrganization]:
    query = select(DirOrganization)
    if viewer.member or viewer.hub_admin:
        return query
    rule = DirOrganization.visibility == Visibility.PUBLIC
    if viewer.organisation_id is not None:
        rule = or_(rule, DirOrganization.owner_organisation_id == viewer.organisation_id)
    return query.where(rule)


def address_columns(key: str) -> list[Any]:
    """The DirLocation columns an address parameter searches (`address`: any part)."""
    loc = DirLocation
    parts = {
        "address-city": [loc.city],
        "address-postalcode": [loc.postal_code],
        "address-country": [loc.country],
        "address-state": [loc.state_province],
    }
    everything = [loc.address_1, loc.city, loc.region, loc.state_province]
    return parts.get(key, [*everything, loc.postal_code, loc.country])


def endpoint_status(value: str) -> ColumnElement[bool]:
    """Endpoint.status is `active` or `off` (DirEndpoint.active); other codes match none."""
    wanted = token(value, fhir.ENDPOINT_STATUS_SYSTEM, "status")
    conditions = [
        DirEndpoint.active.is_(code == "active") for code in wanted if code in {"active", "off"}
    ]
    return or_(*conditions) if conditions else false()


def organizations(
    session: Session, viewer: Viewer, orgs: Sequence[DirOrganization]
) -> list[dict[str, Any]]:
    """Organization resources; network members also see their Endpoint references."""
    endpoints: dict[uuid.UUID, list[uuid.UUID]] = {}
    if viewer.member and orgs:
        rows = session.execute(
            select(DirEndpoint.organization_id, DirEndpoint.id)
            .where(DirEndpoint.organization_id.in_([o.id for o in orgs]))
            .order_by(DirEndpoint.id)
        )
        for org_id, endpoint_id in rows:
            endpoints.setdefault(org_id, []).append(endpoint_id)
    return [fhir.organization_resource(o, endpoints.get(o.id, ())) for o in orgs]


def member_resource(member: Member) -> dict[str, Any]:
    """A network organisation without a listing, as an Organization (name and type)."""
    stand_in = DirOrganization(
        id=member.id,
        name=member.name,
        org_type=member.org_type,
        phones=[],
        email=None,
        website=None,
        alternate_name=None,
        identifier=None,
        updated_at=member.updated_at,
    )
    resource = fhir.organization_resource(stand_in)
    resource["active"] = member.active
    return resource


def unlisted_members(
    session: Session,
    viewer: Viewer,
    members: NetworkMembers | None,
    ids: Collection[uuid.UUID],
) -> list[Member]:
    """The network organisations among `ids` without a listing that `viewer` may see:
    network members and hub admins see every one, an organisation its own."""
    if members is None or not ids:
        return []
    listed = set(session.scalars(select(DirOrganization.id).where(DirOrganization.id.in_(ids))))
    wanted = [i for i in ids if i not in listed]
    if not (viewer.member or viewer.hub_admin):
        wanted = [i for i in wanted if i == viewer.organisation_id]
    return members.unlisted(session, wanted) if wanted else []


def unlisted_searched(
    session: Session,
    viewer: Viewer,
    members: NetworkMembers | None,
    used: list[tuple[str, str]],
) -> list[Member]:
    """The network organisations without a listing an Organization search by `_id` names
    (only such a search: every other filter describes listings)."""
    if not used or any(key not in UNLISTED_PARAMS for key, _ in used):
        return []
    id_sets = [set(id_list(value, key)) for key, value in used if key == "_id"]
    if not id_sets:
        return []
    return unlisted_members(session, viewer, members, sorted(set.intersection(*id_sets)))
