"""Subscriptions and status notices get columns of their own.

- `delivery_message.content` / `content_client_id`: a status notice's content as built at
  its event, sealed under the client's data key (it was kept in its `delivery.send` outbox
  event's payload, `snapshot`, against the outbox's ids-only rule). Existing snapshots are
  moved onto their message and the payloads put back to `{"message_id": ...}`.
- `delivery_subscription.heartbeat_seconds`: the backport heartbeat period (it was packed
  into `content` as `id-only;hb=300`); existing packed values are parsed and `content`
  restored to its plain code.
- `delivery_subscription_event`: the event number (and time) each message was given per
  subscription, so a retried notification repeats its number.
- `ix_delivery_attempt_target_started_at`: the heartbeat check's "latest push to this
  subscription".

The downgrade packs heartbeat periods back into `content` and drops the rest (a status
notice whose stored content is dropped is built when sent, as before it was stored).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_HB = ";hb="
_subscription = sa.table(
    "delivery_subscription",
    sa.column("id", sa.Uuid()),
    sa.column("content", sa.String()),
    sa.column("heartbeat_seconds", sa.Integer()),
)
_message = sa.table(
    "delivery_message",
    sa.column("id", sa.Uuid()),
    sa.column("content", sa.LargeBinary()),
    sa.column("content_client_id", sa.Uuid()),
)
_event = sa.table(
    "kernel_outbox_event",
    sa.column("id", sa.Uuid()),
    sa.column("task", sa.String()),
    sa.column("payload", sa.JSON()),
)


def _unpack_heartbeats(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.select(_subscription.c.id, _subscription.c.content).where(
            _subscription.c.content.like(f"%{_HB}%")
        )
    ).all()
    for subscription_id, content in rows:
        code, _, setting = str(content).partition(_HB)
        period = int(setting) if setting.isdigit() else None
        conn.execute(
            _subscription.update()
            .where(_subscription.c.id == subscription_id)
            .values(content=code or "id-only", heartbeat_seconds=period)
        )


def _pack_heartbeats(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.select(
            _subscription.c.id, _subscription.c.content, _subscription.c.heartbeat_seconds
        ).where(_subscription.c.heartbeat_seconds.is_not(None))
    ).all()
    for subscription_id, content, period in rows:
        conn.execute(
            _subscription.update()
            .where(_subscription.c.id == subscription_id)
            .values(content=f"{content}{_HB}{period}")
        )


def _sealed(snapshot: Any) -> tuple[uuid.UUID, bytes] | None:
    """(client id, sealed bytes) from a `client:base64` snapshot, None if unreadable."""
    if not isinstance(snapshot, str):
        return None
    client, _, sealed = snapshot.partition(":")
    try:
        return uuid.UUID(client), base64.b64decode(sealed, validate=True)
    except (ValueError, binascii.Error):
        return None


def _move_snapshots(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.select(_event.c.id, _event.c.payload).where(
            _event.c.task == "delivery.send",
            sa.cast(_event.c.payload, sa.Text()).like('%"snapshot"%'),
        )
    ).all()
    for event_id, payload in rows:
        if not isinstance(payload, dict) or "snapshot" not in payload:
            continue
        sealed = _sealed(payload["snapshot"])
        message_id = payload.get("message_id")
        if sealed is not None and isinstance(message_id, str):
            client_id, content = sealed
            conn.execute(
                _message.update()
                .where(_message.c.id == uuid.UUID(message_id), _message.c.content.is_(None))
                .values(content=content, content_client_id=client_id)
            )
        ids_only = {k: v for k, v in payload.items() if k != "snapshot"}
        conn.execute(_event.update().where(_event.c.id == event_id).values(payload=ids_only))


def upgrade() -> None:
    with op.batch_alter_table("delivery_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("content_client_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("delivery_subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_attempt_target_started_at", ["target", "started_at"], unique=False
        )
    op.create_table(
        "delivery_subscription_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("event_number", sa.Integer(), nullable=False),
        sa.Column("occurred_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["delivery_message.id"],
            name=op.f("fk_delivery_subscription_event_message_id_delivery_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["delivery_subscription.id"],
            name=op.f("fk_delivery_subscription_event_subscription_id_delivery_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_subscription_event")),
        sa.UniqueConstraint(
            "subscription_id",
            "message_id",
            name=op.f("uq_delivery_subscription_event_subscription_id_message_id"),
        ),
    )
    with op.batch_alter_table("delivery_subscription_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_subscription_event_message_id"), ["message_id"], unique=False
        )
    conn = op.get_bind()
    _unpack_heartbeats(conn)
    _move_snapshots(conn)


def downgrade() -> None:
    _pack_heartbeats(op.get_bind())
    with op.batch_alter_table("delivery_subscription_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_subscription_event_message_id"))
    op.drop_table("delivery_subscription_event")
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempt_target_started_at")
    with op.batch_alter_table("delivery_subscription", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_seconds")
    with op.batch_alter_table("delivery_message", schema=None) as batch_op:
        batch_op.drop_column("content_client_id")
        batch_op.drop_column("content")
