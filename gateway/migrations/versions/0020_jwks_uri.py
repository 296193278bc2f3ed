"""System clients whose public keys are fetched from a JWKS URL (`jwks_uri`).

`gateway_auth_client.jwks_uri` (nullable: existing clients keep their registered keys) and
`gateway_auth_access_token.client_key_id` made nullable: a token got with a key fetched
from the URL has no registered key row. Existing rows are untouched.

The downgrade deletes the access tokens without a registered key (they live five minutes)
before making the column required again, then drops `jwks_uri`; clients registered by URL
are left without keys and get no tokens until keys are registered for them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_auth_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jwks_uri", sa.String(length=2048), nullable=True))
    with op.batch_alter_table("gateway_auth_access_token", schema=None) as batch_op:
        batch_op.alter_column("client_key_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    tokens = sa.table("gateway_auth_access_token", sa.column("client_key_id", sa.Uuid()))
    op.execute(tokens.delete().where(tokens.c.client_key_id.is_(None)))
    with op.batch_alter_table("gateway_auth_access_token", schema=None) as batch_op:
        batch_op.alter_column("client_key_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("gateway_auth_client", schema=None) as batch_op:
        batch_op.drop_column("jwks_uri")
