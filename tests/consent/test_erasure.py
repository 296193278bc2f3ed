"""Erasure by crypto-shredding: the client's data key is destroyed, every sealed copy of
their data stays in place but never opens again, consents end, decisions deny, the audit
chain keeps the fact (who, when, basis) and never the content."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory as C
from consent import clients, decision, erasure, service
from consent.errors import AlreadyErased, ClientErased, ConsentInvalid, ConsentNotFound
from consent.models import Client, ClientIdentifier, ConsentRecord, ErasureBasis, Purpose
from consent.schemas import IdentifierIn, IdentityIn
from kernel.audit import AuditRecord
from kernel.caller import Caller, Role
from kernel.outbox import OutboxEvent
from tests.consent.factories import grant, make_client, permit, staff

REASON = "Data subject request DSR-2026-0042"


@pytest.fixture
def sender() -> Caller:
    return staff(uuid.uuid4(), Role.CASE_WORKER)


def _erase(db: Session, client_id: uuid.UUID, **kwargs: object) -> erasure.Erasure:
    values: dict[str, object] = {
        "actor": "user:00000000-0000-4000-8000-0000000000ad",
        "organisation_id": None,
        "client_id": client_id,
        "basis": ErasureBasis.DATA_SUBJECT_REQUEST,
        "reason": REASON,
    }
    values.update(kwargs)
    return erasure.erase_client(db, **values)  # type: ignore[arg-type]


def _decide(db: Session, caller: Caller, client: Client, org: uuid.UUID) -> decision.Decision:
    return decision.decide(
        db,
        caller,
        client_id=client.id,
        recipient_org_id=org,
        recipient_org_type=None,
        purpose=Purpose.REFERRAL,
        categories=(C.IDENTITY, C.NEEDS),
    )


def test_a_sealed_packet_stays_stored_but_never_opens_again(db: Session, sender: Caller) -> None:
    client = make_client(db, sender, name="Erased Person Qx")
    packet = b'{"resourceType": "Bundle", "name": "Erased Person Qx"}'
    sealed = clients.seal_for_client(db, client.id, packet, "packet:1")
    assert clients.open_for_client(db, client.id, sealed, "packet:1") == packet
    assert clients.identity_of(client)["name"] == "Erased Person Qx"

    _erase(db, client.id)
    db.expire_all()

    row = db.get(Client, client.id)
    assert row is not None and row.wrapped_key is None and row.identity_ciphertext is None
    assert row.erased_at is not None and row.erasure_basis == "data-subject-request"
    assert b"Erased Person" not in sealed  # the ciphertext is still there, and opaque
    with pytest.raises(ClientErased) as raised:
        clients.open_for_client(db, client.id, sealed, "packet:1")
    assert raised.value.status == 410
    with pytest.raises(ClientErased):
        clients.identity_of(row)
    with pytest.raises(ClientErased):  # nothing new can be stored for the client
        clients.seal_for_client(db, client.id, b"more", "packet:2")


def test_consents_end_and_every_decision_denies(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    harbour = uuid.uuid4()
    record = grant(db, sender, client, permit(org=harbour))
    assert _decide(db, sender, client, harbour).permit

    done = _erase(db, client.id)
    assert done.consents_ended == 1

    latest = service.current_version(db, sender, series_id=record.series_id)
    assert (latest.status, latest.revoked_via) == ("inactive", "erasure")
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.task == "consent.revoked")).all()
    assert [e.payload["via"] for e in events if e.payload["client_id"] == str(client.id)] == [
        "erasure"
    ]
    answer = _decide(db, sender, client, harbour)
    assert not answer.permit
    assert answer.reasons == ("identity:client-erased", "needs:client-erased")
    # no consent can be recorded after the erasure, and an override does not disclose
    with pytest.raises(ClientErased):
        grant(db, sender, client, permit(org=harbour))
    assert not _decide(db, sender, client, harbour).permit
    supervisor = staff(sender.organisation_id, Role.SUPERVISOR)
    override = decision.decide(
        db,
        supervisor,
        client_id=client.id,
        recipient_org_id=harbour,
        recipient_org_type=None,
        purpose=Purpose.REFERRAL,
        categories=(C.IDENTITY,),
        override_code="risk-to-life",
        override_reason="Imminent danger reported by phone",
    )
    assert not override.permit


def test_agency_case_numbers_are_removed(db: Session, sender: Caller) -> None:
    client = clients.register_client(
        db,
        sender,
        identity=IdentityIn.model_validate({"name": "Case Number Person"}),
        identifiers=[IdentifierIn(system="https://agency.example/case", value="C-991")],
    )
    assert _erase(db, client.id).identifiers_removed == 1
    rows = db.scalars(select(ClientIdentifier).where(ClientIdentifier.client_id == client.id))
    assert rows.all() == []


def test_the_audit_chain_keeps_the_fact_not_the_content(db: Session, sender: Caller) -> None:
    client = make_client(db, sender, name="Audit Person Zw")
    _erase(db, client.id, basis=ErasureBasis.COURT_ORDER)
    db.commit()
    rows = db.scalars(
        select(AuditRecord).where(
            AuditRecord.subject == f"Patient/{client.id}", AuditRecord.action == "client.erase"
        )
    ).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.outcome == "success" and row.actor.startswith("user:")
    assert row.detail["basis"] == "court-order"
    assert len(row.detail["reason_digest"]) == 64
    assert "DSR-2026" not in str(row.detail) and "Audit Person" not in str(row.detail)


def test_erasing_twice_is_a_clear_conflict_and_changes_nothing(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    first = _erase(db, client.id)
    with pytest.raises(AlreadyErased) as raised:
        _erase(db, client.id, basis=ErasureBasis.RETENTION_ENDED)
    assert raised.value.status == 409 and "already erased" in raised.value.detail
    row = db.get(Client, client.id)
    assert row is not None and row.erasure_basis == first.basis.value


def test_a_reason_is_required_and_an_unknown_client_is_not_found(
    db: Session, sender: Caller
) -> None:
    client = make_client(db, sender)
    with pytest.raises(ConsentInvalid):
        _erase(db, client.id, reason="because")
    assert db.get(Client, client.id).wrapped_key is not None  # type: ignore[union-attr]
    with pytest.raises(ConsentNotFound):
        _erase(db, uuid.uuid4())


def test_the_registering_organisation_still_sees_the_pseudonym(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    _erase(db, client.id)
    found = clients.get_client(db, sender, client_id=client.id)
    assert found.id == client.id
    latest = db.scalars(select(ConsentRecord).where(ConsentRecord.client_id == client.id)).all()
    assert latest == []


def test_no_consent_can_be_recorded_for_an_erased_client(db: Session, sender: Caller) -> None:
    client = make_client(db, sender)
    _erase(db, client.id)
    with pytest.raises(ClientErased):
        grant(db, sender, client, permit(org=uuid.uuid4()))
