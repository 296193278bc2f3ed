"""Listings for tests: an organisation listing and one service owned by a network org."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.schemas import LocationIn, OrganizationIn, ServiceIn
from kernel.caller import Caller, CallerKind, Role


def editor(org_id: uuid.UUID) -> Caller:
    return Caller(CallerKind.USER, uuid.uuid4(), org_id, roles=frozenset({Role.ORG_ADMIN}))


def make_listing(db: Session, org_id: uuid.UUID, **fields: object) -> uuid.UUID:
    caller = editor(org_id)
    if directory_service.own_organization(db, org_id) is None:
        directory_service.upsert_organization(
            db, caller, body=OrganizationIn(name=f"Listing org {org_id.hex[:6]}")
        )
    body = ServiceIn.model_validate(
        {
            "name": "Test housing service",
            "categories": ["housing"],
            "languages": ["en"],
            "locations": [LocationIn(city="Lisbon", latitude=38.72, longitude=-9.14)],
            **fields,
        }
    )
    return directory_service.create_service(db, caller, body=body).id
