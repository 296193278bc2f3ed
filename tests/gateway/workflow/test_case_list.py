"""An organisation's cases, narrowed to one client (the client's record shows them)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from gateway.workflow import cases
from gateway.workflow.models import Case
from tests.consent.factories import make_client, staff


def test_list_cases_of_one_client(db: Session) -> None:
    worker = staff()
    first, second = make_client(db, worker), make_client(db, worker)
    for client in (first, first, second):
        db.add(
            Case(
                client_id=client.id,
                owner_org_id=worker.organisation_id,
                opened_by_org_id=worker.organisation_id,
            )
        )
    db.add(Case(client_id=first.id, owner_org_id=uuid.uuid4(), opened_by_org_id=uuid.uuid4()))
    db.flush()
    rows, total = cases.list_cases(db, worker, status=None, offset=0, limit=10, client_id=first.id)
    assert total == 2
    assert {c.client_id for c in rows} == {first.id}
    assert cases.list_cases(db, worker, status=None, offset=0, limit=10)[1] == 3
