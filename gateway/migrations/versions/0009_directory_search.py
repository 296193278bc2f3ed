"""Directory radius search: service-at-location rows carry what the search filters on.

`directory_service_at_location.latitude/longitude` (copied from `directory_location`) with
an index on them, and `search_keys` (the service's taxonomy terms and languages, `t:<term
id>` and `l:<code>`, space-separated), kept in sync by `directory.service` and
`directory.importer`. A search within a radius then reads the service-location rows in the
box instead of joining all of them to the locations; on PostgreSQL a GIN index on the keys
(as an array; built in, no extension) is ANDed with the box index. SQLite gets the columns
and the box index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


_SAL = sa.table(
    "directory_service_at_location",
    sa.column("id", sa.Uuid()),
    sa.column("service_id", sa.Uuid()),
    sa.column("search_keys", sa.Text()),
)
_TERM = sa.table(
    "directory_service_term", sa.column("service_id", sa.Uuid()), sa.column("term_id", sa.Uuid())
)
_LANGUAGE = sa.table(
    "directory_service_language", sa.column("service_id", sa.Uuid()), sa.column("code", sa.Text())
)


def _fill_search_keys() -> None:
    """The format of `directory.search.search_keys` (copied: a migration does not change)."""
    bind = op.get_bind()
    terms: dict[uuid.UUID, set[str]] = defaultdict(set)
    languages: dict[uuid.UUID, set[str]] = defaultdict(set)
    for service_id, term_id in bind.execute(sa.select(_TERM.c.service_id, _TERM.c.term_id)):
        terms[service_id].add(f"t:{term_id}")
    for service_id, code in bind.execute(sa.select(_LANGUAGE.c.service_id, _LANGUAGE.c.code)):
        languages[service_id].add(f"l:{code}")
    rows = [
        {"sal_id": sal_id, "keys": " ".join(sorted(terms[sid]) + sorted(languages[sid]))}
        for sal_id, sid in bind.execute(sa.select(_SAL.c.id, _SAL.c.service_id))
    ]
    if rows:
        bind.execute(
            _SAL.update()
            .where(_SAL.c.id == sa.bindparam("sal_id"))
            .values(search_keys=sa.bindparam("keys")),
            rows,
        )


def upgrade() -> None:
    with op.batch_alter_table("directory_service_at_location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("search_keys", sa.Text(), nullable=True))
    op.execute(
        "UPDATE directory_service_at_location SET"
        " latitude = (SELECT l.latitude FROM directory_location l"
        " WHERE l.id = directory_service_at_location.location_id),"
        " longitude = (SELECT l.longitude FROM directory_location l"
        " WHERE l.id = directory_service_at_location.location_id)"
    )
    _fill_search_keys()
    with op.batch_alter_table("directory_service_at_location", schema=None) as batch_op:
        batch_op.alter_column("search_keys", existing_type=sa.Text(), nullable=False)
        batch_op.create_index(
            "ix_directory_service_at_location_lat_lon",
            ["latitude", "longitude", "service_id"],
            unique=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        # The keys as an array, GIN-indexed (PostgreSQL only; see the models). fastupdate off:
        # a pending list, which only VACUUM merges, made each search scan it (10 ms after an
        # import of 100,000 services).
        op.create_index(
            "ix_directory_service_at_location_search_keys",
            "directory_service_at_location",
            [sa.text("string_to_array(search_keys, ' ')")],
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(
            "ix_directory_service_at_location_search_keys",
            table_name="directory_service_at_location",
        )
    with op.batch_alter_table("directory_service_at_location", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_service_at_location_lat_lon")
        batch_op.drop_column("search_keys")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
