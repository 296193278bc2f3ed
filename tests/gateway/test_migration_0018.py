"""Migration 0018 adds the case-note table beside existing cases (on the run's back-end):
a note refers to its case and to the note it corrects; the downgrade drops the table and
keeps the cases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, inspect

from gateway.migrations import alembic_config, upgrade
from tests.conftest import Databases

_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
_case = sa.table(
    "workflow_case",
    sa.column("id", sa.Uuid()),
    sa.column("client_id", sa.Uuid()),
    sa.column("owner_org_id", sa.Uuid()),
    sa.column("opened_by_org_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("stage", sa.String()),
    sa.column("opened_at", sa.DateTime(timezone=True)),
)
_note = sa.table(
    "workflow_case_note",
    *(
        sa.column(name, sa.Uuid())
        for name in ("id", "case_id", "client_id", "organisation_id", "author_id", "corrects_id")
    ),
    sa.column("author_name", sa.String()),
    sa.column("contacted_at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String()),
    sa.column("interpreter", sa.Boolean()),
    sa.column("duration_minutes", sa.Integer()),
    sa.column("sealed", sa.LargeBinary()),
    sa.column("written_at", sa.DateTime(timezone=True)),
)


def test_0018_adds_case_notes_beside_existing_cases(databases: Databases) -> None:
    engine = create_engine(databases.create(migrate=False))
    try:
        upgrade(engine, "0017")
        case = {
            "id": uuid.uuid4(),
            "client_id": uuid.uuid4(),
            "owner_org_id": uuid.uuid4(),
            "opened_by_org_id": uuid.uuid4(),
            "status": "open",
            "stage": "linking",
            "opened_at": _NOW,
        }
        with engine.begin() as conn:
            conn.execute(_case.insert(), [case])
        upgrade(engine, "0018")
        first = uuid.uuid4()
        note = {
            "case_id": case["id"],
            "client_id": case["client_id"],
            "organisation_id": case["owner_org_id"],
            "author_id": uuid.uuid4(),
            "corrects_id": None,
            "author_name": "Dana Case",
            "contacted_at": _NOW,
            "kind": "phone",
            "interpreter": False,
            "duration_minutes": None,
            "sealed": b"\x00",
            "written_at": _NOW,
        }
        with engine.begin() as conn:
            conn.execute(_note.insert(), [{**note, "id": first}])
            conn.execute(_note.insert(), [{**note, "id": uuid.uuid4(), "corrects_id": first}])
            assert conn.scalar(sa.select(sa.func.count()).select_from(_note)) == 2
        if engine.dialect.name == "postgresql":  # SQLite does not enforce foreign keys here
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(
                    _note.insert(), [{**note, "id": uuid.uuid4(), "case_id": uuid.uuid4()}]
                )
        command.downgrade(alembic_config(engine), "0017")
        assert "workflow_case_note" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.scalar(sa.select(_case.c.id)) == case["id"]
    finally:
        engine.dispose()
