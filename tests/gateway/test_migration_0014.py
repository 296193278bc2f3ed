"""Migration 0014 re-keys an owned directory listing to its network organisation's id,
keeping its locations, endpoints, services and saved versions (on the run's back-end)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy import create_engine

from gateway.migrations import upgrade
from tests.conftest import Databases

_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
_org = sa.table(
    "directory_organization",
    sa.column("id", sa.Uuid()),
    sa.column("owner_organisation_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("visibility", sa.String()),
    sa.column("phones", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_location = sa.table(
    "directory_location",
    sa.column("id", sa.Uuid()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("location_type", sa.String()),
    sa.column("accessibility", sa.JSON()),
    sa.column("phones", sa.JSON()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_endpoint = sa.table(
    "directory_endpoint",
    sa.column("id", sa.Uuid()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("connection_type", sa.String()),
    sa.column("address", sa.String()),
    sa.column("payload_types", sa.JSON()),
    sa.column("active", sa.Boolean()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_service = sa.table(
    "directory_service",
    sa.column("id", sa.Uuid()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("owner_organisation_id", sa.Uuid()),
    sa.column("endpoint_id", sa.Uuid()),
    *(
        sa.column(name, sa.String())
        for name in ("name", "status", "visibility", "moderation", "timezone", "search_text")
    ),
    *(
        sa.column(name, sa.JSON())
        for name in ("contacts", "phones", "cost_options", "required_documents")
    ),
    sa.column("accepts_electronic_referrals", sa.Boolean()),
    sa.column("version", sa.Integer()),
    *(
        sa.column(name, sa.DateTime(timezone=True))
        for name in ("created_at", "updated_at", "confirmed_at")
    ),
)
_version = sa.table(
    "directory_service_version",
    sa.column("id", sa.Uuid()),
    sa.column("service_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("change", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("changed_at", sa.DateTime(timezone=True)),
    sa.column("snapshot", sa.JSON()),
)


def _org_row(org_id: uuid.UUID, owner: uuid.UUID | None, name: str) -> dict[str, object]:
    return {
        "id": org_id,
        "owner_organisation_id": owner,
        "name": name,
        "description": "",
        "visibility": "public",
        "phones": [],
        "created_at": _NOW,
        "updated_at": _NOW,
    }


def test_owned_listing_takes_the_network_id_and_keeps_its_data(databases: Databases) -> None:
    engine = create_engine(databases.create(migrate=False))
    owner, listing, imported = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    location, endpoint, service = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        upgrade(engine, "0013")
        with engine.begin() as conn:
            conn.execute(
                _org.insert(),
                [_org_row(listing, owner, "Owned"), _org_row(imported, None, "Imported")],
            )
            conn.execute(
                _location.insert(),
                [
                    {
                        "id": location,
                        "organization_id": listing,
                        "name": "Office",
                        "location_type": "physical",
                        "accessibility": [],
                        "phones": [],
                        "updated_at": _NOW,
                    }
                ],
            )
            conn.execute(
                _endpoint.insert(),
                [
                    {
                        "id": endpoint,
                        "organization_id": listing,
                        "connection_type": "rest-hook",
                        "address": "https://r.example/hook",
                        "payload_types": [],
                        "active": True,
                        "updated_at": _NOW,
                    }
                ],
            )
            conn.execute(
                _service.insert(),
                [
                    {
                        "id": service,
                        "organization_id": listing,
                        "owner_organisation_id": owner,
                        "endpoint_id": endpoint,
                        "name": "Counselling",
                        "status": "active",
                        "visibility": "public",
                        "moderation": "ok",
                        "timezone": "UTC",
                        "search_text": "counselling",
                        "contacts": [],
                        "phones": [],
                        "cost_options": [],
                        "required_documents": [],
                        "accepts_electronic_referrals": True,
                        "version": 1,
                        "created_at": _NOW,
                        "updated_at": _NOW,
                        "confirmed_at": _NOW,
                    }
                ],
            )
            conn.execute(
                _version.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "service_id": service,
                        "version": 1,
                        "change": "create",
                        "actor": "user:x",
                        "changed_at": _NOW,
                        "snapshot": {
                            "id": str(service),
                            "organization_id": str(listing),
                            "name": "Counselling",
                        },
                    }
                ],
            )
        upgrade(engine, "0014")
        with engine.connect() as conn:
            orgs = dict(conn.execute(sa.select(_org.c.id, _org.c.name)).all())
            assert orgs == {owner: "Owned", imported: "Imported"}  # imported keeps its id
            assert conn.scalar(sa.select(_location.c.organization_id)) == owner
            assert conn.scalar(sa.select(_endpoint.c.organization_id)) == owner
            row = conn.execute(sa.select(_service.c.organization_id, _service.c.endpoint_id)).one()
            assert tuple(row) == (owner, endpoint)
            snapshot = conn.scalar(sa.select(_version.c.snapshot))
            assert snapshot["organization_id"] == str(owner)
        upgrade(engine)  # and the rest of the history runs on the re-keyed data
    finally:
        engine.dispose()
