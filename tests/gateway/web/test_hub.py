"""The hub administrator's console over HTTP: organisations' membership, the directory
moderation queue, dead letters, the audit trail (search, verify, export) and the keys."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from directory import service as directory_service
from directory.models import Service
from directory.schemas import ServiceIn
from gateway.auth.models import Organisation, OrgStatus
from kernel import outbox
from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.directory.factories import editor, make_listing
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient
from tests.gateway.test_audit_verify import disable_guard

Signed = Callable[[Account], StaffClient]


@pytest.fixture
def admin(make_account: MakeAccount, staff_client: Signed) -> StaffClient:
    return staff_client(make_account(roles=(Role.HUB_ADMIN,)))


def _post(client: StaffClient, url: str, **data: str | list[str]) -> httpx.Response:
    answer: httpx.Response = client.http.post(
        url, data={"csrf_token": client.csrf, **data}, follow_redirects=False
    )
    return answer


def _records(db: Session, subject: str) -> list[str]:
    rows = db.scalars(
        select(AuditRecord.action).where(AuditRecord.subject == subject).order_by(AuditRecord.seq)
    )
    return list(rows)


def test_the_overview_says_what_needs_attention(
    admin: StaffClient, make_org: MakeOrg, make_account: MakeAccount, staff_client: Signed
) -> None:
    make_org(name="Waiting Org", status=OrgStatus.APPLIED)
    page = admin.get("/ui/hub")
    assert page.status_code == 200
    assert "organisations waiting for approval" in page.text
    assert "directory listings to review" in page.text
    assert "dead letters" in page.text
    assert 'aria-current="page"' in page.text  # the console's tab row marks the overview
    worker = staff_client(make_account(roles=(Role.ORG_ADMIN, Role.SUPERVISOR)))
    refused = worker.get("/ui/hub/organisations")
    assert refused.status_code == 403 and "You cannot use this page" in refused.text


def test_approve_suspend_reinstate_are_stored_and_audited(
    admin: StaffClient, make_org: MakeOrg, db: Session
) -> None:
    org = make_org(name=f"Applicant {uuid.uuid4().hex[:6]}", status=OrgStatus.APPLIED)
    listed = admin.get("/ui/hub/organisations?status=applied")
    assert org.name in listed.text and "Waiting for approval" in listed.text

    answer = _post(admin, f"/ui/hub/organisations/{org.id}/status", action="approve")
    assert answer.status_code == 303
    db.refresh(org)
    assert org.status == "active"
    assert "The organisation is approved" in admin.get(answer.headers["location"]).text

    confirm = admin.get(f"/ui/hub/organisations/{org.id}/confirm/suspend")
    assert confirm.status_code == 200 and "Every session and system token" in confirm.text
    _post(admin, f"/ui/hub/organisations/{org.id}/status", action="suspend", reason="Fraud")
    db.refresh(org)
    assert (org.status, org.status_reason) == ("suspended", "Fraud")

    _post(admin, f"/ui/hub/organisations/{org.id}/status", action="reactivate", reason="")
    db.refresh(org)
    assert org.status == "active"
    assert _records(db, f"Organization/{org.id}") == [
        "organisation.approve",
        "organisation.suspend",
        "organisation.reactivate",
    ]


def test_reject_needs_a_reason_and_shows_the_form_again(
    admin: StaffClient, make_org: MakeOrg, db: Session
) -> None:
    org = make_org(status=OrgStatus.APPLIED)
    page = _post(admin, f"/ui/hub/organisations/{org.id}/status", action="reject", reason=" ")
    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert 'href="#reason"' in page.text
    db.refresh(org)
    assert org.status == "applied"
    _post(admin, f"/ui/hub/organisations/{org.id}/status", action="reject", reason="Unknown")
    db.refresh(org)
    assert (org.status, org.status_reason) == ("rejected", "Unknown")
    # a move the rules refuse (a rejected organisation cannot be suspended) is said in words
    again = _post(admin, f"/ui/hub/organisations/{org.id}/status", action="suspend", reason="x")
    assert again.status_code == 409 and "From rejected" in again.text
    missing = admin.get(f"/ui/hub/organisations/{uuid.uuid4()}/confirm/suspend")
    assert missing.status_code == 404


def _queue(admin: StaffClient, name: str) -> str:
    """The queue's table (what waits), found by the listing's name."""
    page = admin.get("/ui/hub/moderation", params={"name": name}).text
    return page.split("listings waiting", 1)[-1].split('id="suspended"', 1)[0]


def test_the_moderation_queue_holds_new_and_changed_listings(
    admin: StaffClient, db: Session
) -> None:
    owner = uuid.uuid4()
    name = f"Queue shelter {uuid.uuid4().hex[:6]}"
    service_id = make_listing(db, owner, name=name)
    page = _queue(admin, name)
    assert name in page and "New listing" in page

    version = db.get(Service, service_id).version  # type: ignore[union-attr]
    _post(admin, f"/ui/hub/moderation/{service_id}/approve", version=str(version))
    assert name not in _queue(admin, name)
    assert "directory.service.review" in _records(db, f"HealthcareService/{service_id}")

    body = ServiceIn.model_validate(
        {"name": name, "categories": ["housing"], "languages": ["en", "ar"]}
    )
    directory_service.update_service(db, editor(owner), service_id=service_id, body=body)
    page = _queue(admin, name)
    assert name in page and "you reviewed version 1" in page and "languages" in page


def test_a_listing_changed_meanwhile_is_not_approved_blindly(
    admin: StaffClient, db: Session
) -> None:
    service_id = make_listing(db, uuid.uuid4(), name="Changing service")
    db.commit()  # the refusal below rolls back the request's work, not the listing
    page = _post(admin, f"/ui/hub/moderation/{service_id}/approve", version="99")
    assert page.status_code == 409
    assert "changed while you were looking" in page.text
    assert db.get(Service, service_id).reviewed_version is None  # type: ignore[union-attr]


def test_reject_suspends_and_hides_the_listing_and_it_can_be_restored(
    admin: StaffClient, db: Session, client: TestClient
) -> None:
    name = f"Rejected service {uuid.uuid4().hex[:6]}"
    service_id = make_listing(db, uuid.uuid4(), name=name)
    assert client.get(f"/directory/services/{service_id}").status_code == 200
    confirm = admin.get(f"/ui/hub/moderation/{service_id}/reject")
    assert "The listing's owner sees this." in confirm.text

    refused = _post(admin, f"/ui/hub/moderation/{service_id}/reject", reason="")
    assert refused.status_code == 422
    assert "Give a reason" in refused.text

    _post(admin, f"/ui/hub/moderation/{service_id}/reject", reason="Not a real service")
    service = db.get(Service, service_id)
    assert service is not None
    db.refresh(service)
    assert (service.moderation, service.moderation_reason) == ("suspended", "Not a real service")
    assert client.get(f"/directory/services/{service_id}").status_code == 404
    found = client.get("/directory/services", params={"q": name}).json()
    assert str(service_id) not in str(found)
    assert name not in _queue(admin, name)  # the verdict was a review
    assert name in admin.get("/ui/hub/moderation").text.split('id="suspended"', 1)[1]

    _post(admin, f"/ui/hub/moderation/{service_id}/restore", reason="Checked by phone")
    db.refresh(service)
    assert service.moderation == "ok"
    assert client.get(f"/directory/services/{service_id}").status_code == 200


def test_a_dead_letter_is_queued_again(admin: StaffClient, db: Session) -> None:
    event = outbox.OutboxEvent(
        task="delivery.push",
        payload={"message_id": str(uuid.uuid4())},
        state=outbox.EventState.FAILED,
        attempts=8,
        last_error="receiver-refused: http-503",
    )
    db.add(event)
    db.flush()
    page = admin.get("/ui/hub/deliveries")
    assert "receiver-refused: http-503" in page.text and "Delivery endpoints" in page.text

    nothing = _post(admin, "/ui/hub/deliveries/retry")
    assert nothing.status_code == 422
    assert "Choose at least one dead letter" in nothing.text

    answer = _post(admin, "/ui/hub/deliveries/retry", event=[str(event.id)])
    assert answer.status_code == 303
    db.refresh(event)
    assert (event.state, event.attempts) == ("pending", 0)
    assert _records(db, f"OutboxEvent/{event.id}") == ["outbox.retry"]
    assert "1 dead letter is queued again" in admin.get(answer.headers["location"]).text


def test_the_audit_search_filters(admin: StaffClient, make_org: MakeOrg, db: Session) -> None:
    org = make_org(status=OrgStatus.APPLIED)
    _post(admin, f"/ui/hub/organisations/{org.id}/status", action="approve")
    subject = f"Organization/{org.id}"
    page = admin.get("/ui/hub/audit", params={"subject": subject})
    assert "1 record" in page.text and "organisation.approve" in page.text
    assert "Test User" in page.text  # the actor by name, not by id
    none = admin.get("/ui/hub/audit", params={"subject": subject, "action": "user."})
    assert "No record matches this search." in none.text
    by_name = admin.get("/ui/hub/audit", params={"subject": subject, "actor": "test user"})
    assert "organisation.approve" in by_name.text
    later = admin.get("/ui/hub/audit", params={"subject": subject, "since": "2999-01-01"})
    assert "No record matches" in later.text
    bad = admin.get("/ui/hub/audit", params={"since": "31/12/2026"})
    assert bad.status_code == 422 and "Enter a date as year-month-day" in bad.text


def test_verify_reports_an_intact_chain_then_a_tampered_record(
    admin: StaffClient, make_org: MakeOrg, db: Session, backend: str
) -> None:
    org = make_org(status=OrgStatus.APPLIED)
    _post(admin, f"/ui/hub/organisations/{org.id}/status", action="approve")
    page = _post(admin, "/ui/hub/audit/verify")
    assert page.status_code == 200
    assert "The audit chain is intact." in page.text
    assert "records checked" in page.text

    record = db.scalars(
        select(AuditRecord).where(AuditRecord.subject == f"Organization/{org.id}")
    ).one()
    disable_guard(db.connection(), backend)  # in the test's transaction: undone after it
    db.execute(update(AuditRecord).where(AuditRecord.id == record.id).values(detail={"x": 1}))
    page = _post(admin, "/ui/hub/audit/verify")
    assert "The audit chain FAILED verification." in page.text
    assert f"record {record.seq} was altered" in page.text
    assert "audit.verify" in [
        r.action for r in db.scalars(select(AuditRecord).where(AuditRecord.actor.like("user:%")))
    ]


def test_export_downloads_the_searched_records(
    admin: StaffClient, make_org: MakeOrg, db: Session
) -> None:
    org = make_org(status=OrgStatus.APPLIED)
    _post(admin, f"/ui/hub/organisations/{org.id}/status", action="approve")
    answer = _post(admin, "/ui/hub/audit/export", subject=f"Organization/{org.id}")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    lines = answer.text.strip().splitlines()
    assert lines[0].startswith("seq,recorded_at,actor")
    assert len(lines) == 2 and "organisation.approve" in lines[1]
    exported = db.scalars(select(AuditRecord).where(AuditRecord.action == "audit.export")).all()
    assert any(r.detail.get("subject") == f"Organization/{org.id}" for r in exported)


def test_the_keys_page_shows_the_keyring(admin: StaffClient) -> None:
    page = admin.get("/ui/hub/keys")
    assert page.status_code == 200
    assert "Current KEK" in page.text and "Rotation" in page.text


def test_organisation_rows_show_type_contact_and_listing(
    admin: StaffClient, make_org: MakeOrg, db: Session
) -> None:
    org: Organisation = make_org(name=f"Typed {uuid.uuid4().hex[:6]}", org_type="child_protection")
    page = admin.get("/ui/hub/organisations?status=active")
    row = page.text.split(org.name, 1)[1].split("</tr>", 1)[0]
    assert "office@example.org" in row and "None yet" in row


def _hub_routes() -> list[tuple[str, str]]:
    """Every route of the console, from its modules (the app nests included routers)."""
    from fastapi.routing import APIRoute

    from gateway.web.hub import audit_pages, deliveries, keys, landing, moderation, organisations

    found: list[tuple[str, str]] = []
    for part in (landing, organisations, moderation, deliveries, audit_pages, keys):
        for route in part.routes.routes:
            assert isinstance(route, APIRoute)
            found.extend((method, "/ui" + route.path) for method in sorted(route.methods or ()))
    return found


def test_only_hub_admins_reach_the_console(
    make_account: MakeAccount, staff_client: Signed, make_org: MakeOrg, db: Session
) -> None:
    routes = _hub_routes()
    assert len(routes) >= 12
    org = make_org(status=OrgStatus.APPLIED)
    others = [
        staff_client(make_account(roles=(Role.CASE_WORKER,))),
        staff_client(make_account(roles=tuple(r for r in Role if r != Role.HUB_ADMIN))),
    ]
    for method, path in routes:
        url = path.replace("{org_id}", str(org.id)).replace("{action}", "reject")
        url = url.replace("{verdict}", "reject").replace("{service_id}", str(uuid.uuid4()))
        for other in others:
            answer = other.http.request(
                method,
                url,
                data={"csrf_token": other.csrf, "action": "approve"} if method == "POST" else None,
                follow_redirects=False,
            )
            assert answer.status_code == 403, (method, path)
            assert "You cannot use this page" in answer.text, (method, path)
    db.refresh(org)
    assert org.status == "applied"
