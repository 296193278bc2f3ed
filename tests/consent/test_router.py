"""The consent HTTP API with real sign-in: create, version, revoke, decide, bad input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.outbox import OutboxEvent
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

Signed = Callable[[Account], StaffClient]


def _consent(harbour: uuid.UUID, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grantor": {"relationship": "self"},
        "method": "written",
        "provisions": [
            {
                "recipients": [{"organisation_id": str(harbour)}],
                "purposes": ["referral"],
                "categories": ["identity", "needs"],
            }
        ],
    }
    body.update(changes)
    return body


def _client(http: StaffClient) -> str:
    created = http.post(
        "/consent/clients",
        json={
            "identity": {"name": "Amal Haddad", "birth_date": "1988-04-02"},
            "identifiers": [{"system": "urn:northside:case", "value": uuid.uuid4().hex[:8]}],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_record_decide_amend_revoke(
    make_account: MakeAccount, make_org: MakeOrg, staff_client: Signed, db: Session
) -> None:
    http = staff_client(make_account())
    harbour = make_org(org_type="child_protection")
    person = _client(http)
    made = http.post(f"/consent/clients/{person}/consents", json=_consent(harbour.id))
    assert made.status_code == 201, made.text
    series = made.json()["series_id"]
    ask = {
        "client_id": person,
        "recipient_organisation_id": str(harbour.id),
        "purpose": "referral",
        "categories": ["identity", "health"],
    }
    decided = http.post("/consent/$decide", json=ask).json()
    assert decided["permit"] is True
    assert decided["permitted_categories"] == ["identity"]
    assert decided["consent_version"] == made.json()["id"]

    amended = http.post(
        f"/consent/consents/{series}/versions",
        json=_consent(
            harbour.id,
            provisions=[
                {
                    "recipients": [{"organisation_type": "child_protection"}],
                    "purposes": ["referral"],
                    "categories": ["health"],
                }
            ],
        ),
    )
    assert amended.status_code == 201, amended.text
    assert amended.json()["version"] == 2
    decided = http.post("/consent/$decide", json=ask).json()
    assert decided["permitted_categories"] == ["health"]  # the org type came from the hub

    revoked = http.post(f"/consent/consents/{series}/revoke", json={})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "inactive"
    assert http.post("/consent/$decide", json=ask).json()["permit"] is False
    history = http.get(f"/consent/consents/{series}/versions").json()
    assert [v["version"] for v in history] == [1, 2, 3]
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.task == "consent.revoked")).all()
    assert [e.payload["consent_id"] for e in events] == [series]


BAD = {
    "no grantor": ({"grantor": None}, "grantor-missing"),
    "guardian without relationship": (
        {"grantor": {"client_id": "GUARDIAN"}},
        "grantor-relationship-missing",
    ),
    "no provisions": ({"provisions": []}, "provision-missing"),
    "no recipient": (
        {"provisions": [{"purposes": ["referral"], "categories": ["identity"]}]},
        "recipient-missing",
    ),
    "no purpose": (
        {
            "provisions": [
                {"recipients": [{"organisation_type": "health"}], "categories": ["needs"]}
            ]
        },
        "purpose-missing",
    ),
    "period ends first": (
        {"period_start": "2026-05-01T00:00:00Z", "period_end": "2026-04-01T00:00:00Z"},
        "period-order",
    ),
    "verbal without witness": ({"method": "verbal"}, "witness-missing"),
}


def test_bad_consents_are_refused_audited_and_change_nothing(
    make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    http = staff_client(make_account())
    person, guardian = _client(http), _client(http)
    harbour = make_account().org.id
    for name, (changes, code) in BAD.items():
        body = _consent(harbour, **changes)
        if body.get("grantor") and body["grantor"].get("client_id") == "GUARDIAN":
            body["grantor"]["client_id"] = guardian
        answer = http.post(f"/consent/clients/{person}/consents", json=body)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["code"] == "consent-invalid", name
        refused = db.scalars(
            select(AuditRecord)
            .where(AuditRecord.subject == f"Patient/{person}")
            .where(AuditRecord.action == "consent.create")
            .order_by(AuditRecord.seq.desc())
        ).first()
        assert refused is not None
        assert (refused.outcome, refused.detail["refused"]) == ("denied", code), name
    assert http.get(f"/consent/clients/{person}/consents").json() == []
    # a recipient the network does not have (a typo) is refused, naming the element
    unknown = http.post(f"/consent/clients/{person}/consents", json=_consent(uuid.uuid4()))
    assert unknown.status_code == 422, unknown.text
    assert "provisions[0].recipients[0].organisation_id" in unknown.text
    assert http.get(f"/consent/clients/{person}/consents").json() == []


def test_another_organisation_cannot_revoke_or_see(
    make_account: MakeAccount, staff_client: Signed, db: Session
) -> None:
    ours = staff_client(make_account())
    person = _client(ours)
    harbour = make_account().org.id
    series = ours.post(f"/consent/clients/{person}/consents", json=_consent(harbour)).json()[
        "series_id"
    ]
    theirs = staff_client(make_account(roles=(Role.ORG_ADMIN,)))
    assert theirs.post(f"/consent/consents/{series}/revoke", json={}).status_code == 404
    assert theirs.get(f"/consent/clients/{person}").status_code == 404
    ask = {
        "client_id": person,
        "recipient_organisation_id": str(uuid.uuid4()),
        "purpose": "referral",
        "categories": ["identity"],
    }
    assert theirs.post("/consent/$decide", json=ask).status_code == 404
    assert ours.get(f"/consent/consents/{series}").json()["status"] == "active"
    denied = db.scalars(
        select(AuditRecord).where(
            AuditRecord.subject == f"Consent/{series}", AuditRecord.outcome == "denied"
        )
    ).all()
    assert denied


def test_a_named_recipient_sees_what_consent_permits(
    make_account: MakeAccount, staff_client: Signed
) -> None:
    ours = staff_client(make_account())
    harbour_account = make_account(roles=(Role.CASE_WORKER,))
    person = _client(ours)
    body = _consent(harbour_account.org.id)
    body["provisions"][0]["purposes"] = ["service-coordination"]
    assert ours.post(f"/consent/clients/{person}/consents", json=body).status_code == 201
    seen = staff_client(harbour_account).get(f"/consent/clients/{person}").json()
    assert seen["identity"]["name"] == "Amal Haddad"
    assert seen["identity"].get("contact") is None
    assert seen["identifiers"] == []  # Northside's case numbers are Northside's
