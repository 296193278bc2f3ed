"""`/workflow/thresholds`: members read their organisation's periods; org admins change
them; system clients and other roles may not; every change is audited."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.conftest import Network

DEFAULTS = {
    "response_hours": 72,
    "start_hours": 168,
    "escalation_hours": 72,
    "first_contact_days": 5,
}

SignedIn = Callable[[Account], StaffClient]


def _put(client: StaffClient, body: dict[str, object]) -> httpx.Response:
    return client.http.put("/workflow/thresholds", json=body, headers={"X-CSRF-Token": client.csrf})


def test_defaults_until_an_org_admin_sets_values(
    network: Network, make_account: MakeAccount, staff_client: SignedIn, db: Session
) -> None:
    admin_account = make_account(org=network.receiver.org, roles=(Role.ORG_ADMIN,))
    admin = staff_client(admin_account)
    worker = staff_client(make_account(org=network.receiver.org))

    seen = worker.get("/workflow/thresholds")
    assert seen.status_code == 200, seen.text
    assert seen.json() == {
        "organisation_id": str(network.receiver.id),
        **DEFAULTS,
        "defaults": DEFAULTS,
    }
    assert network.receiver.get("/workflow/thresholds").json()["response_hours"] == 72

    changed = _put(admin, {"response_hours": 24, "first_contact_days": 2})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "organisation_id": str(network.receiver.id),
        **DEFAULTS,
        "response_hours": 24,
        "first_contact_days": 2,
        "defaults": DEFAULTS,
    }
    assert worker.get("/workflow/thresholds").json()["response_hours"] == 24
    # another organisation keeps its own (default) values
    assert network.sender.get("/workflow/thresholds").json()["response_hours"] == 72

    # PUT replaces: what is left out goes back to the default
    again = _put(admin, {"escalation_hours": 12})
    assert again.json()["response_hours"] == 72
    assert again.json()["escalation_hours"] == 12

    db.commit()  # the audit chain is written at commit
    records = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "workflow.thresholds.update",
            AuditRecord.organisation == str(network.receiver.id),
        )
    ).all()
    assert len(records) == 2
    assert {r.actor for r in records} == {f"user:{admin_account.user.id}"}


def test_only_org_admins_change_thresholds(
    network: Network, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    for role in (Role.CASE_WORKER, Role.SUPERVISOR):
        client = staff_client(make_account(org=network.receiver.org, roles=(role,)))
        refused = _put(client, {"response_hours": 1})
        assert refused.status_code == 403, (role, refused.text)
    hub = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    assert _put(hub, {"response_hours": 1}).status_code == 403
    system = network.receiver.put("/workflow/thresholds", json={"response_hours": 1})
    assert system.status_code == 403, system.text
    assert network.receiver.get("/workflow/thresholds").json()["response_hours"] == 72


def test_values_are_checked(
    network: Network, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    admin = staff_client(make_account(org=network.receiver.org, roles=(Role.ORG_ADMIN,)))
    for body in ({"response_hours": 0}, {"first_contact_days": 400}, {"surprise": 1}):
        refused = _put(admin, body)
        assert refused.status_code == 422, (body, refused.text)
