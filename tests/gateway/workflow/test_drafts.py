"""Referral drafts (sealed, the author's and supervisors' only) and `submit.preview`
(what `submit()` would send, storing nothing)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import adapters
from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.auth.models import Organisation, OrgStatus
from gateway.workflow import drafts
from gateway.workflow.errors import NotAllowedChange, ReferralNotFound
from gateway.workflow.models import DraftStatus, Kind, Referral
from gateway.workflow.submit import preview, submit
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import grant, make_client, permit
from tests.directory.factories import editor, make_listing
from tests.gateway.workflow.conftest import EXAMPLE


def worker(org_id: uuid.UUID, *roles: Role) -> Caller:
    return Caller(
        CallerKind.USER, uuid.uuid4(), org_id, roles=frozenset(roles or (Role.CASE_WORKER,))
    )


def test_a_draft_is_sealed_and_seen_by_its_author_and_supervisors(db: Session) -> None:
    org = uuid.uuid4()
    author, colleague, supervisor = worker(org), worker(org), worker(org, Role.SUPERVISOR)
    client = make_client(db, author)
    draft = drafts.create(db, author, kind=Kind.REFERRAL, client_id=client.id)
    drafts.save(db, author, draft, content={"summary": {"case_id": "Private case 42"}})
    assert draft.content is not None and b"Private case 42" not in draft.content
    assert drafts.content_of(db, draft)["summary"]["case_id"] == "Private case 42"
    assert drafts.get(db, supervisor, draft.id) is draft
    assert [d.id for d in drafts.list_open(db, author)] == [draft.id]
    with pytest.raises(ReferralNotFound):
        drafts.get(db, colleague, draft.id)
    with pytest.raises(ReferralNotFound):
        drafts.get(db, worker(uuid.uuid4(), Role.ORG_ADMIN), draft.id)


def test_a_sent_draft_keeps_no_content_and_cannot_change(db: Session) -> None:
    author = worker(uuid.uuid4())
    client = make_client(db, author)
    draft = drafts.create(db, author, kind=Kind.HANDOVER, client_id=client.id)
    drafts.save(db, author, draft, content={"summary": {}})
    referral_id = uuid.uuid4()
    draft.status = DraftStatus.SENT.value  # as mark_sent, without a referral row
    draft.content = None
    assert drafts.content_of(db, draft) == {}
    with pytest.raises(NotAllowedChange):
        drafts.save(db, author, draft, content={"summary": {"case_id": "x"}})
    with pytest.raises(NotAllowedChange):
        drafts.discard(db, author, draft)
    assert drafts.draft_key(draft) == f"draft:{draft.id}" != str(referral_id)


def test_preview_minimises_as_submit_would_and_stores_nothing(db: Session) -> None:
    receiver = Organisation(
        name="Receiver", org_type="health", status=OrgStatus.ACTIVE.value, contact_email="r@x.org"
    )
    db.add(receiver)
    db.flush()
    service_id = make_listing(db, receiver.id, accepts_electronic_referrals=True)
    directory_service.set_endpoint(
        db,
        editor(receiver.id),
        body=EndpointIn(connection_type="rest-hook", address="https://receiver.example/hook"),
    )
    sender = worker(uuid.uuid4(), Role.SUPERVISOR)
    client = make_client(db, sender)
    consent = grant(
        db,
        sender,
        client,
        permit(
            org=receiver.id,
            purposes=(Purpose.REFERRAL,),
            categories=(DataCategory.IDENTITY, DataCategory.NEEDS),
        ),
    )
    summary = json.loads(EXAMPLE.read_text())
    summary["referral"]["referred_to"]["service"] = {"reference": f"HealthcareService/{service_id}"}
    summary["consent"] = {"reference": f"Consent/{consent.series_id}"}
    packet = adapters.read(json.dumps(summary).encode(), "summary").cases[0].packet
    assert packet is not None
    seen = preview(db, sender, packet=packet)
    assert seen.permitted and seen.minimised is not None
    assert DataCategory.HEALTH in seen.withheld and DataCategory.NEEDS not in seen.withheld
    assert adapters.categories_present(seen.minimised) <= {
        DataCategory.IDENTITY,
        DataCategory.NEEDS,
    }
    mine = Referral.requester_org_id == sender.organisation_id
    assert db.scalar(select(func.count()).select_from(Referral).where(mine)) == 0
    done = submit(db, sender, packet=packet, source_format="summary")
    assert set(done.withheld) == {c.value for c in seen.withheld}
