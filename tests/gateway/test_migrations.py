"""Migrations and models agree, on the run's back-end, and the history is one line."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from gateway.migrations import alembic_config, current_revision, head_revision, upgrade
from gateway.schema import metadata
from tests.conftest import Databases


def test_migrated_database_matches_the_models(databases: Databases) -> None:
    engine = create_engine(databases.create())
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_history_is_linear_and_reversible(databases: Databases) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(len(rev._normalized_down_revisions) <= 1 for rev in revisions)

    engine = create_engine(databases.create(migrate=False))
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(engine), "base")
        assert current_revision(engine) is None
        assert not set(metadata.tables) & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
_subscription = sa.table(
    "delivery_subscription",
    sa.column("id", sa.Uuid()),
    sa.column("organisation_id", sa.Uuid()),
    *(
        sa.column(name, sa.String())
        for name in ("resource_type", "criteria", "endpoint", "content", "reason", "status")
    ),
    sa.column("events_since_start", sa.Integer()),
    sa.column("created_by", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_heartbeat = sa.column("heartbeat_seconds", sa.Integer())
_message = sa.table(
    "delivery_message",
    sa.column("id", sa.Uuid()),
    sa.column("recipient_org_id", sa.Uuid()),
    *(sa.column(name, sa.String()) for name in ("kind", "subject_ref", "state", "channels")),
    sa.column("attempts", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_content = (sa.column("content", sa.LargeBinary()), sa.column("content_client_id", sa.Uuid()))
_event = sa.table(
    "kernel_outbox_event",
    sa.column("id", sa.Uuid()),
    sa.column("task", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("state", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("available_at", sa.DateTime(timezone=True)),
    sa.column("attempts", sa.Integer()),
)


def _subscription_row(subscription_id: uuid.UUID, content: str) -> dict[str, object]:
    return {
        "id": subscription_id,
        "organisation_id": uuid.uuid4(),
        "resource_type": "Task",
        "criteria": "Task?owner=Organization/x",
        "endpoint": "https://receiver.example.org/n",
        "content": content,
        "reason": "",
        "status": "active",
        "events_since_start": 3,
        "created_by": "user:x",
        "created_at": _NOW,
    }


def test_0016_moves_packed_heartbeats_and_stored_notices_to_their_columns(
    databases: Databases,
) -> None:
    engine = create_engine(databases.create(migrate=False))
    beating, plain, message_id, client_id = (uuid.uuid4() for _ in range(4))
    sealed = b"\x00sealed-under-the-client-key\xff"
    try:
        upgrade(engine, "0015")
        with engine.begin() as conn:
            conn.execute(
                _subscription.insert(),
                [_subscription_row(beating, "id-only;hb=300"), _subscription_row(plain, "id-only")],
            )
            conn.execute(
                _message.insert(),
                [
                    {
                        "id": message_id,
                        "recipient_org_id": uuid.uuid4(),
                        "kind": "status",
                        "subject_ref": "Task/t1",
                        "state": "pending",
                        "channels": "",
                        "attempts": 0,
                        "created_at": _NOW,
                    }
                ],
            )
            snapshot = f"{client_id}:{base64.b64encode(sealed).decode()}"
            conn.execute(
                _event.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "task": "delivery.send",
                        "payload": {"message_id": str(message_id), "snapshot": snapshot},
                        "state": "pending",
                        "created_at": _NOW,
                        "available_at": _NOW,
                        "attempts": 0,
                    }
                ],
            )
        upgrade(engine, "0016")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(_subscription.c.id, _subscription.c.content, _heartbeat).select_from(
                    _subscription
                )
            ).all()
            assert {tuple(r) for r in rows} == {
                (beating, "id-only", 300),
                (plain, "id-only", None),
            }
            stored = conn.execute(sa.select(*_content).select_from(_message)).one()
            assert tuple(stored) == (sealed, client_id)
            assert conn.scalar(sa.select(_event.c.payload)) == {"message_id": str(message_id)}
        command.downgrade(alembic_config(engine), "0015")
        with engine.connect() as conn:
            packed = dict(
                conn.execute(sa.select(_subscription.c.id, _subscription.c.content)).all()
            )
            assert packed == {beating: "id-only;hb=300", plain: "id-only"}
    finally:
        engine.dispose()


def _filler(column: sa.Column[Any]) -> object:
    """A value of the column's type, for a row whose content does not matter."""
    kind = getattr(column.type, "impl", column.type)  # UTCDateTime decorates DateTime
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return _NOW
    if isinstance(kind, sa.LargeBinary):
        return b""
    if isinstance(kind, sa.JSON):
        return []
    return "x"


def test_0017_adds_one_task_version_per_referral_and_version_beside_existing_referrals(
    databases: Databases,
) -> None:
    engine = create_engine(databases.create(migrate=False))
    try:
        upgrade(engine, "0016")
        model = metadata.tables["workflow_referral"]
        required = [c["name"] for c in inspect(engine).get_columns(model.name) if not c["nullable"]]
        referrals = sa.table(model.name, *(sa.column(n, model.c[n].type) for n in required))
        row = {n: _filler(model.c[n]) for n in required}
        with engine.begin() as conn:
            conn.execute(referrals.insert(), [row])
        upgrade(engine, "0017")
        versions = metadata.tables["workflow_task_version"]
        kept = {"referral_id": row["id"], "version": 1, "sealed": b"\x00", "created_at": _NOW}
        with engine.begin() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(versions)) == 0
            conn.execute(versions.insert(), [{"id": uuid.uuid4(), **kept}])
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(versions.insert(), [{"id": uuid.uuid4(), **kept}])
        command.downgrade(alembic_config(engine), "0016")
        assert "workflow_task_version" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.scalar(sa.select(referrals.c.id)) == row["id"]
    finally:
        engine.dispose()
