"""Case notes through the HTTP API, signed-in staff of two organisations, real database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.workflow.models import Case, CaseNote
from kernel.audit import AuditRecord
from kernel.caller import Role
from tests.consent.factories import make_client, staff
from tests.gateway.staff import Account, MakeAccount, StaffClient

TEXT = "Home visit with Amal and her daughter; school enrolment form signed together."
NOTE = {
    "contacted_at": "2026-11-30T14:30:00+01:00",
    "kind": "home-visit",
    "interpreter": True,
    "interpreter_language": "Arabic",
    "duration_minutes": 45,
    "participants": "Amal, her daughter Lina, interpreter",
    "text": TEXT,
}


@dataclass
class Setting:
    worker: StaffClient
    account: Account
    other: StaffClient
    other_org: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID


@pytest.fixture
def setting(
    db: Session, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> Setting:
    account = make_account(roles=(Role.CASE_WORKER,))
    person = make_client(db, staff(account.org.id), name="Amal Notes")
    case = Case(client_id=person.id, owner_org_id=account.org.id, opened_by_org_id=account.org.id)
    db.add(case)
    db.flush()
    other = make_account(roles=(Role.CASE_WORKER, Role.SUPERVISOR))
    return Setting(
        staff_client(account), account, staff_client(other), other.org.id, case.id, person.id
    )


def _count(db: Session, client_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(CaseNote).where(CaseNote.client_id == client_id)
    return int(db.scalar(query) or 0)


def test_a_worker_writes_reads_and_corrects_a_note(db: Session, setting: Setting) -> None:
    url = f"/cases/{setting.case_id}/notes"
    written = setting.worker.post(url, json=NOTE)
    assert written.status_code == 201, written.text
    note = written.json()
    assert note["text"] == TEXT and note["kind"] == "home-visit"
    assert note["contacted_at"].startswith("2026-11-30T13:30:00")  # the contact, in UTC
    assert note["interpreter"] is True and note["interpreter_language"] == "Arabic"
    assert note["author"] == {"id": str(setting.account.user.id), "name": "Test User"}
    assert note["client_id"] == str(setting.client_id)

    fixed = setting.worker.post(
        url,
        json={
            **NOTE,
            "text": "Correction: the form was signed by her husband.",
            "corrects": note["id"],
        },
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["corrects"] == note["id"]

    listed = setting.worker.get(url)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [fixed.json()["id"], note["id"]]  # the original stays
    assert items[1]["corrected_by"] == [fixed.json()["id"]] and items[1]["text"] == TEXT
    actions = db.scalars(
        select(AuditRecord.action).where(
            AuditRecord.subject == f"Patient/{setting.client_id}",
            AuditRecord.actor == f"user:{setting.account.user.id}",
            AuditRecord.action.like("case-note.%"),
        )
    ).all()
    assert sorted(actions) == ["case-note.read", "case-note.write", "case-note.write"]


def test_another_organisation_gets_404_and_its_attempt_is_audited(
    db: Session, setting: Setting
) -> None:
    url = f"/cases/{setting.case_id}/notes"
    assert setting.worker.post(url, json=NOTE).status_code == 201
    read = setting.other.get(url)
    assert read.status_code == 404 and read.json()["code"] == "case-not-found"
    assert TEXT not in read.text
    assert setting.other.post(url, json=NOTE).status_code == 404
    assert setting.other.get(f"/cases/{uuid.uuid4()}/notes").status_code == 404
    assert _count(db, setting.client_id) == 1
    denied = db.scalars(
        select(AuditRecord).where(
            AuditRecord.subject == f"EpisodeOfCare/{setting.case_id}",
            AuditRecord.outcome == "denied",
        )
    ).all()
    assert {r.action for r in denied} == {"case-note.read", "case-note.write"}


def test_only_case_workers_and_supervisors_work_with_notes(
    db: Session,
    setting: Setting,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    admin = staff_client(make_account(org=setting.account.org, roles=(Role.ORG_ADMIN,)))
    url = f"/cases/{setting.case_id}/notes"
    assert admin.get(url).status_code == 403
    assert admin.post(url, json=NOTE).status_code == 403
    supervisor = staff_client(make_account(org=setting.account.org, roles=(Role.SUPERVISOR,)))
    assert supervisor.post(url, json=NOTE).status_code == 201
    assert setting.worker.get(url).json()["total"] == 1  # one organisation, one record


def test_a_former_owner_still_reads_its_own_notes_only(db: Session, setting: Setting) -> None:
    url = f"/cases/{setting.case_id}/notes"
    assert setting.worker.post(url, json=NOTE).status_code == 201
    case = db.get(Case, setting.case_id)
    assert case is not None
    # a handover moved the case to the other organisation (as change._handover_step does)
    receiver = setting.other
    case.owner_org_id = setting.other_org
    db.flush()
    assert setting.worker.get(url).json()["total"] == 1  # what it wrote, still readable
    assert setting.worker.post(url, json=NOTE).status_code == 404  # no longer its case
    assert receiver.get(url).json()["items"] == []  # nothing shared yet
    assert receiver.post(url, json={**NOTE, "text": "Receiver's first call"}).status_code == 201
    assert setting.worker.get(url).json()["total"] == 1


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"contacted_at": "2999-01-01T10:00:00Z"}, "body.contacted_at"),
        ({"text": "   "}, "body.text"),
        ({"text": "x" * 20001}, "body.text"),
        ({"kind": "telepathy"}, "body.kind"),
        ({"corrects": str(uuid.uuid4())}, "body.corrects"),
        ({"interpreter": False}, "body.interpreter_language"),
        ({"duration_minutes": 0}, "body.duration_minutes"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    db: Session, setting: Setting, change: dict[str, object], location: str
) -> None:
    refused = setting.worker.post(f"/cases/{setting.case_id}/notes", json={**NOTE, **change})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert location in [e["location"] for e in refused.json()["errors"]]
    assert _count(db, setting.client_id) == 0


def test_a_correction_must_be_of_a_note_of_this_case(db: Session, setting: Setting) -> None:
    first = setting.worker.post(f"/cases/{setting.case_id}/notes", json=NOTE).json()
    second_case = Case(
        client_id=setting.client_id,
        owner_org_id=setting.account.org.id,
        opened_by_org_id=setting.account.org.id,
    )
    db.add(second_case)
    db.flush()
    moved = setting.worker.post(
        f"/cases/{second_case.id}/notes", json={**NOTE, "corrects": first["id"]}
    )
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["location"] == "body.corrects"
    assert _count(db, setting.client_id) == 1


def test_notes_are_sealed_and_erasure_makes_them_unreadable(
    db: Session,
    setting: Setting,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    url = f"/cases/{setting.case_id}/notes"
    assert setting.worker.post(url, json=NOTE).status_code == 201
    stored = db.scalars(select(CaseNote).where(CaseNote.case_id == setting.case_id)).one()
    for secret in (TEXT, "Lina", "Arabic"):
        assert secret.encode() not in stored.sealed
    assert stored.contacted_at == dt.datetime(2026, 11, 30, 13, 30, tzinfo=dt.UTC)

    hub = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    erased = hub.post(
        f"/admin/clients/{setting.client_id}/$erase",
        json={"basis": "data-subject-request", "reason": "Request DSR-7 received in writing"},
    )
    assert erased.status_code == 200, erased.text
    after = setting.worker.get(url)
    assert after.status_code == 410 and after.json()["code"] == "client-erased"
    assert TEXT not in after.text
    assert setting.worker.post(url, json=NOTE).status_code == 410
