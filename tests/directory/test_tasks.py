"""The stale-listing sweep, run through the registered task in a rolled-back session."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Service
from directory.tasks import STALE_AFTER_MONTHS, SWEEP_EVERY_SECONDS
from kernel import outbox
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.db import utcnow
from tests.directory.factories import make_listing
from tests.gateway.staff import MakeAccount, StaffClient


def _sweep(db: Session) -> None:
    spec = outbox.registered_tasks()["directory.flag_stale"]
    assert spec.every_seconds == SWEEP_EVERY_SECONDS == 86400
    spec.handler(db)


def test_sweep_flags_unconfirmed_listings_to_their_owners(
    db: Session, make_account: MakeAccount, staff_client: Any
) -> None:
    owner = make_account(roles=(Role.ORG_ADMIN,))
    old = make_listing(db, owner.org.id, name="Old listing")
    fresh = make_listing(db, owner.org.id, name="Fresh listing")
    other = make_listing(db, uuid.uuid4(), name="Nearly stale")
    months = dt.timedelta(days=31 * STALE_AFTER_MONTHS)
    for sid, age in ((old, months), (fresh, dt.timedelta(days=3)), (other, months / 1.3)):
        service = db.get(Service, sid)
        assert service is not None
        service.confirmed_at = utcnow() - age
    db.flush()

    _sweep(db)
    _sweep(db)  # idempotent: a flagged listing is not flagged again
    flagged = {
        s.id: s.stale_notified_at for s in db.scalars(select(Service).where(Service.id.in_(
            [old, fresh, other])))
    }  # fmt: skip
    assert flagged[old] is not None
    assert flagged[fresh] is None and flagged[other] is None
    db.commit()  # the audit chain is written at commit (a savepoint of the test transaction)
    records = db.scalars(
        select(AuditRecord).where(AuditRecord.action == "directory.service.stale")
    ).all()
    mine = [r for r in records if r.subject == f"HealthcareService/{old}"]
    assert len(mine) == 1
    assert mine[0].organisation == str(owner.org.id)
    assert mine[0].actor == "system:directory.flag_stale"
    assert not [r for r in records if r.subject in (f"HealthcareService/{fresh}",)]

    client: StaffClient = staff_client(owner)
    listing = client.get(f"/directory/services/{old}").json()["refhub"]
    assert listing["stale"] is True and listing["stale_since"]
    assert client.get(f"/directory/services/{fresh}").json()["refhub"]["stale"] is False
    assert client.post(f"/directory/services/{old}/confirm").status_code == 200
    assert client.get(f"/directory/services/{old}").json()["refhub"]["stale"] is False
