"""One organisation, one FHIR identity: an owned directory listing takes its owner's id.

A network organisation (`organisation.id`, U) used to have a directory listing row
(`directory_organization`) with an id of its own (D) and `owner_organisation_id = U`.
Consents, Tasks and referrals name U while `/fhir/Organization` answered D, so an integrator
could not use what it read. From now on an owned listing's id is its owner's id: every owned
row with `id != owner_organisation_id` is copied under id U, its locations, endpoints and
services (`organization_id`) are repointed to U, the saved listing versions' snapshots that
named D name U, and row D is deleted. Imported (unowned) organisations keep their ids.

Patients become updatable through FHIR, so `consent_client.identity_version` counts the
changes of a client's identity (Patient.meta.versionId); existing clients are at version 1.

The downgrade drops that column and leaves the organisation ids as they are (the old ids
were arbitrary and nothing needs them back).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# directory_organization as of 0013 (a later migration may add columns; this one runs first).
_organization = sa.table(
    "directory_organization",
    sa.column("id", sa.Uuid()),
    sa.column("owner_organisation_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("alternate_name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("email", sa.String()),
    sa.column("website", sa.String()),
    sa.column("identifier", sa.String()),
    sa.column("identifier_type", sa.String()),
    sa.column("org_type", sa.String()),
    sa.column("visibility", sa.String()),
    sa.column("phones", sa.JSON()),
    sa.column("created_at", kernel.db.UTCDateTime(timezone=True)),
    sa.column("updated_at", kernel.db.UTCDateTime(timezone=True)),
)
_children = [
    sa.table(name, sa.column("organization_id", sa.Uuid()))
    for name in ("directory_location", "directory_endpoint", "directory_service")
]
_service = sa.table(
    "directory_service", sa.column("id", sa.Uuid()), sa.column("organization_id", sa.Uuid())
)
_version = sa.table(
    "directory_service_version",
    sa.column("id", sa.Uuid()),
    sa.column("service_id", sa.Uuid()),
    sa.column("snapshot", sa.JSON()),
)


def _renamed(value: Any, old: str, new: str) -> Any:
    """`value` (JSON) with every string equal to `old` replaced by `new`."""
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return new if value == old else value


def _rekey(conn: sa.Connection, old: uuid.UUID, new: uuid.UUID) -> None:
    org = _organization
    copied = [c for c in org.c if c.name != "id"]
    conn.execute(
        org.insert().from_select(
            ["id", *(c.name for c in copied)],
            sa.select(sa.literal(new, sa.Uuid()), *copied).where(org.c.id == old),
        )
    )
    for child in _children:
        conn.execute(
            child.update().where(child.c.organization_id == old).values(organization_id=new)
        )
    services = sa.select(_service.c.id).where(_service.c.organization_id == new)
    for vid, snapshot in conn.execute(
        sa.select(_version.c.id, _version.c.snapshot).where(_version.c.service_id.in_(services))
    ):
        renamed = _renamed(snapshot, str(old), str(new))
        if renamed != snapshot:
            conn.execute(_version.update().where(_version.c.id == vid).values(snapshot=renamed))
    conn.execute(org.delete().where(org.c.id == old))


def upgrade() -> None:
    with op.batch_alter_table("consent_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("identity_version", sa.Integer(), server_default="1", nullable=False)
        )
    conn = op.get_bind()
    org = _organization
    taken = set(conn.scalars(sa.select(org.c.id)))
    rows = conn.execute(
        sa.select(org.c.id, org.c.owner_organisation_id)
        .where(org.c.owner_organisation_id.is_not(None), org.c.id != org.c.owner_organisation_id)
        .order_by(org.c.created_at, org.c.id)
    ).all()
    for old, owner in rows:
        if owner in taken:  # the owner already has a listing under its own id
            continue
        _rekey(conn, old, owner)
        taken.add(owner)


def downgrade() -> None:
    with op.batch_alter_table("consent_client", schema=None) as batch_op:
        batch_op.drop_column("identity_version")
