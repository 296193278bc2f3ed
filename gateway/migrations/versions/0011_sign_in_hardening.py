"""Sign-in hardening: the second factor locks, and a code is accepted only once.

`gateway_auth_user.totp_failures` counts wrong authenticator codes since the last accepted
one (a correct password does not reset it); `totp_last_step` is the RFC 6238 time step of
the last accepted code, so that code cannot be replayed within its window. Existing users
start with no failures and no accepted step.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_auth_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    # The models set the default in Python, like every other column: drop the server one.
    with op.batch_alter_table("gateway_auth_user", schema=None) as batch_op:
        batch_op.alter_column("totp_failures", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("gateway_auth_user", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_failures")
