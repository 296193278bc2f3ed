"""Directory search: an index of what a search reads of every matching service.

`ix_directory_service_listing` on (id, status, moderation, visibility, organization_id,
owner_organisation_id, name): a search first picks its page and total from the matching
services' ids, visibility and names, which PostgreSQL (and SQLite) can then read from this
index alone instead of the wide service rows; a category search over 100,000 services went
from a sequential scan of the table to index-only lookups.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Copied from `directory.models.LISTING_COLUMNS` (a migration does not change with the models).
_COLUMNS = [
    "id",
    "status",
    "moderation",
    "visibility",
    "organization_id",
    "owner_organisation_id",
    "name",
]


def upgrade() -> None:
    op.create_index("ix_directory_service_listing", "directory_service", _COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_directory_service_listing", table_name="directory_service")
