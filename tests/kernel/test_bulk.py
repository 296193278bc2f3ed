"""Bulk inserts (PostgreSQL COPY, INSERT elsewhere) store what an INSERT stores."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from directory.models import DirEndpoint, DirOrganization
from kernel.bulk import among, insert_rows
from kernel.db import utcnow

_COMPARED = ("description", "visibility", "phones", "alternate_name", "identifier")


def _read(db: Session, org_id: uuid.UUID) -> DirOrganization:
    db.expire_all()
    found = db.get(DirOrganization, org_id)
    assert found is not None
    return found


def test_copied_rows_match_inserted_rows(db: Session) -> None:
    """Values, Python-side defaults, JSON (None as JSON null) and timestamps come out the
    same whichever way a row went in."""
    values = {"alternate_name": None, "phones": [{"number": "+44 20 7946 0000"}]}
    bulk_id, plain_id = uuid.uuid4(), uuid.uuid4()
    insert_rows(db, DirOrganization, [{"id": bulk_id, "name": "Copied", **values}])
    db.execute(insert(DirOrganization), [{"id": plain_id, "name": "Inserted", **values}])
    bulk, plain = _read(db, bulk_id), _read(db, plain_id)
    for name in _COMPARED:
        assert getattr(bulk, name) == getattr(plain, name), name
    assert bulk.description == "" and bulk.phones == values["phones"]
    assert bulk.created_at.tzinfo is not None
    assert abs(bulk.created_at - utcnow()) < dt.timedelta(minutes=5)

    endpoints = [
        {"organization_id": bulk_id, "connection_type": "rest-hook", "address": "https://a"},
    ]
    insert_rows(db, DirEndpoint, [{**endpoints[0], "public_jwk": None}])
    db.execute(insert(DirEndpoint), [{**endpoints[0], "public_jwk": None}])
    stored = db.execute(
        select(DirEndpoint.public_jwk.is_(None), DirEndpoint.payload_types).where(
            DirEndpoint.organization_id == bulk_id
        )
    ).all()
    assert len(stored) == 2 and stored[0] == stored[1]  # both JSON null, both default []


def test_a_refused_row_fails_the_whole_batch_like_an_insert(db: Session) -> None:
    kept = uuid.uuid4()
    insert_rows(db, DirOrganization, [{"id": kept, "name": "Kept"}])
    with pytest.raises(DBAPIError), db.begin_nested():
        insert_rows(
            db,
            DirOrganization,
            [{"id": uuid.uuid4(), "name": "New"}, {"id": kept, "name": "Duplicate id"}],
        )
    names = db.scalars(select(DirOrganization.name).where(DirOrganization.name != "")).all()
    assert "Kept" in names and "New" not in names and "Duplicate id" not in names


def test_among_finds_the_listed_ids_and_nothing_for_none(db: Session) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    insert_rows(db, DirOrganization, [{"id": i, "name": f"Org {n}"} for n, i in enumerate(ids)])
    asked = [ids[0], ids[2], uuid.uuid4()]
    found = db.scalars(select(DirOrganization.id).where(among(db, DirOrganization.id, asked)))
    assert set(found) == {ids[0], ids[2]}
    none = db.scalars(select(DirOrganization.id).where(among(db, DirOrganization.id, [])))
    assert list(none) == []


def test_empty_json_lists_are_stored_as_lists(db: Session) -> None:
    org_id = uuid.uuid4()
    insert_rows(db, DirOrganization, [{"id": org_id, "name": "Empty", "phones": []}])
    assert _read(db, org_id).phones == []
