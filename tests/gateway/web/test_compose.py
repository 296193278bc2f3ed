"""New referral / handover pages: the task list, the steps, the case summary form, the
review of what is shared and withheld, sending once, drafts resumed."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent.models import Purpose
from directory import service as directory_service
from directory.schemas import EndpointIn
from gateway.workflow.models import DraftStatus, Referral, ReferralDraft
from kernel.caller import Caller, CallerKind, Role
from tests.consent.factories import grant, make_client, permit
from tests.directory.factories import editor, make_listing
from tests.gateway.staff import Account, MakeAccount, MakeOrg, StaffClient

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "summary.json"


@dataclass
class Scene:
    web: StaffClient
    account: Account
    client_id: uuid.UUID
    consent_id: uuid.UUID
    service_id: uuid.UUID
    receiver_name: str

    def post(self, url: str, data: dict[str, object], **kw: object) -> object:
        return self.web.http.post(
            url, data={"csrf_token": self.web.csrf, **data}, follow_redirects=False, **kw
        )


def caller_of(account: Account) -> Caller:
    return Caller(
        CallerKind.USER,
        account.user.id,
        account.org.id,
        roles=frozenset(Role(r) for r in account.user.roles),
    )


@pytest.fixture
def scene(
    db: Session,
    make_org: MakeOrg,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> Scene:
    sender = make_org(name="Harbour Resettlement")
    account = make_account(sender)
    receiver = make_org(name="Safe Harbour Counselling", org_type="torture_survivor_service")
    service_id = make_listing(
        db, receiver.id, name="Trauma counselling", accepts_electronic_referrals=True
    )
    directory_service.set_endpoint(
        db,
        editor(receiver.id),
        body=EndpointIn(connection_type="rest-hook", address="https://safe.example/hook"),
    )
    worker = caller_of(account)
    client = make_client(db, worker, name="Amal Haddad")
    record = grant(
        db,
        worker,
        client,
        permit(
            org=receiver.id,
            purposes=(Purpose.REFERRAL, Purpose.HANDOVER),
            categories=(DataCategory.IDENTITY, DataCategory.NEEDS, DataCategory.FAMILY),
        ),
    )
    db.commit()
    return Scene(
        staff_client(account), account, client.id, record.series_id, service_id, receiver.name
    )


def start(scene: Scene) -> str:
    """A draft with client and service from the link, consent chosen: its address."""
    page = scene.web.get(f"/ui/referrals/new?client={scene.client_id}&service={scene.service_id}")
    assert page.status_code == 200
    assert "What are you sending?" in page.text
    made = scene.post(
        "/ui/referrals/new",
        {"kind": "referral", "client": str(scene.client_id), "service": str(scene.service_id)},
    )
    assert made.status_code == 303  # type: ignore[attr-defined]
    base: str = made.headers["location"]  # type: ignore[attr-defined]
    chosen = scene.post(f"{base}/consent", {"consent": str(scene.consent_id)})
    assert chosen.status_code == 303  # type: ignore[attr-defined]
    return base


SUMMARY = {
    "case_id": "HR-2026-7",
    "priority": "72h",
    "need-rows": "2",
    "need-0-domain": "mhpss",
    "need-0-details": "Trauma-informed counselling, Dari-speaking counsellor",
    "need-1-domain": "shelter",
    "need-1-details": "Housing ends in 60 days",
    "strengths": "Strong family support\nWorked as a bookkeeper",
    "barriers": "No transport",
    "goals": "First session within 30 days",
    "family-rows": "1",
    "family-0-given": "Laila",
    "family-0-family": "Haddad",
    "family-0-relationship": "wife",
    "family-0-birth": "1989",
    "language-0": "prs",
    "language-1": "ps",
    "interpreter": "yes",
    "contact_method": "phone",
    "safe_to_contact": "yes",
    "contact_instructions": "Call mornings; no voice messages",
    "notes": "Prefers a male counsellor.",
    "action": "continue",
}


def test_a_complete_form_sends_one_referral(scene: Scene, db: Session) -> None:
    base = start(scene)
    tasks = scene.web.get(base)
    assert "Amal Haddad" in tasks.text and "Trauma counselling" in tasks.text
    saved = scene.post(f"{base}/summary", SUMMARY)
    assert saved.status_code == 303, saved.text  # type: ignore[attr-defined]
    assert "Check your answers" in scene.web.get(base).text
    review = scene.web.get(f"{base}/review")
    assert review.status_code == 200, review.text
    assert "Housing ends in 60 days" in review.text
    assert "Laila" in review.text  # family is permitted
    assert "Send referral" in review.text
    sent = scene.post(f"{base}/send", {})
    assert sent.status_code == 303  # type: ignore[attr-defined]
    assert sent.headers["location"] == f"{base}/sent"  # type: ignore[attr-defined]
    confirmation = scene.web.get(f"{base}/sent")
    referral = db.scalars(
        select(Referral).where(Referral.requester_org_id == scene.account.org.id)
    ).one()
    assert str(referral.id) in confirmation.text
    assert "What happens next" in confirmation.text
    assert f"/ui/referrals/{referral.id}" in confirmation.text
    assert referral.client_id == scene.client_id and referral.status == "requested"
    assert referral.service_id == scene.service_id
    draft = db.scalars(select(ReferralDraft).where(ReferralDraft.referral_id == referral.id)).one()
    assert draft.status == DraftStatus.SENT and draft.content is None


def test_a_field_error_comes_back_at_its_field_with_the_input_kept(scene: Scene) -> None:
    base = start(scene)
    bad = {**SUMMARY, "family-0-birth": "1989-13-40", "priority": ""}
    page = scene.post(f"{base}/summary", bad)
    assert page.status_code == 422  # type: ignore[attr-defined]
    text = page.text  # type: ignore[attr-defined]
    assert 'href="#family-0-birth"' in text and 'href="#priority"' in text
    assert 'id="family-0-birth-error"' in text
    assert "Enter the birth date as YYYY, YYYY-MM or YYYY-MM-DD" in text
    assert 'value="1989-13-40"' in text  # what was typed is kept
    assert "Trauma-informed counselling, Dari-speaking counsellor" in text
    assert "Cannot start yet" in scene.web.get(base).text  # not ready to send


def test_the_review_lists_what_consent_withholds(scene: Scene) -> None:
    base = start(scene)
    scene.post(f"{base}/summary", SUMMARY)
    review = scene.web.get(f"{base}/review")
    assert review.status_code == 200
    # mhpss is health, contact preferences and languages are contact: not in the consent
    assert "Health: withheld, not sent" in review.text
    assert "Contact: withheld, not sent" in review.text
    assert "Needs and assessment: sent" in review.text
    receiver_view = review.text.split('class="card receiver-view"')[1]
    assert "Dari-speaking" not in receiver_view  # the health need is not in what is sent
    assert "Housing ends in 60 days" in receiver_view
    assert "no voice messages" not in receiver_view


def test_a_double_submit_sends_once(scene: Scene, db: Session) -> None:
    base = start(scene)
    scene.post(f"{base}/summary", SUMMARY)
    first = scene.post(f"{base}/send", {})
    second = scene.post(f"{base}/send", {})
    assert first.headers["location"] == second.headers["location"] == f"{base}/sent"  # type: ignore[attr-defined]
    count = db.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.requester_org_id == scene.account.org.id)
    )
    assert count == 1


def test_a_draft_resumes(scene: Scene, db: Session) -> None:
    base = start(scene)
    later = scene.post(f"{base}/summary", {**SUMMARY, "action": "later"})
    assert later.headers["location"] == f"{base}?saved=1"  # type: ignore[attr-defined]
    drafts = scene.web.get("/ui/referrals/drafts")
    assert "Amal Haddad" in drafts.text and base in drafts.text
    form = scene.web.get(f"{base}/summary")
    assert "Trauma-informed counselling, Dari-speaking counsellor" in form.text
    assert 'value="Laila"' in form.text
    stored = db.scalars(
        select(ReferralDraft).where(ReferralDraft.client_id == scene.client_id)
    ).one()
    assert b"Laila" not in (stored.content or b"")  # sealed under the client's key


def test_a_refusal_says_what_to_do(scene: Scene, db: Session, make_org: MakeOrg) -> None:
    other = make_org(name="Elsewhere Housing", org_type="housing")
    service_id = make_listing(db, other.id, name="Housing help", accepts_electronic_referrals=True)
    directory_service.set_endpoint(
        db,
        editor(other.id),
        body=EndpointIn(connection_type="rest-hook", address="https://else.example/hook"),
    )
    db.commit()
    base = start(scene)
    scene.post(f"{base}/service", {"service": str(service_id)})
    scene.post(f"{base}/summary", SUMMARY)
    review = scene.web.get(f"{base}/review")
    assert review.status_code == 403
    assert "consent does not allow sending this" in review.text
    assert f"/ui/clients/{scene.client_id}/consents/new" in review.text
    assert "Choose another service" in review.text
    assert "Send referral" not in review.text


def test_an_upload_fills_the_form(scene: Scene) -> None:
    base = start(scene)
    summary = json.loads(EXAMPLE.read_text())
    page = scene.web.http.post(
        f"{base}/upload",
        data={"csrf_token": scene.web.csrf, "format": "summary"},
        files={"file": ("case.json", json.dumps(summary).encode(), "application/json")},
        follow_redirects=True,
    )
    assert page.status_code == 200, page.text
    assert "These answers come from the file you uploaded" in page.text
    assert "School enrolment support for two children" in page.text
    assert re.search(r'value="SRS-2026-0123"', page.text)


def test_a_referral_started_from_a_plan_task_fulfils_it(scene: Scene, db: Session) -> None:
    from gateway.workflow.casework.models import PlanTask

    web = scene.web
    case = web.post("/cases", json={"client_id": str(scene.client_id)}).json()
    assessed = web.post(
        f"/cases/{case['id']}/assessments",
        json={"assessed_on": "2026-11-01", "domains": {"health": {"needs": [{"text": "Sleep"}]}}},
    )
    assert assessed.status_code == 201, assessed.text
    assert web.put(f"/cases/{case['id']}/plan", json={}).status_code == 200
    goal = web.post(
        f"/cases/{case['id']}/plan/goals",
        json={"domain": "health", "target_on": "2027-02-01", "worker_words": "Counselling started"},
    ).json()
    task = web.post(
        f"/cases/{case['id']}/plan/goals/{goal['id']}/tasks",
        json={"description": "Refer to trauma counselling"},
    ).json()

    page = web.get(f"/ui/referrals/new?task={task['id']}&service={scene.service_id}")
    assert f'name="task" value="{task["id"]}"' in page.text
    made = scene.post(
        "/ui/referrals/new",
        {"kind": "referral", "task": task["id"], "service": str(scene.service_id)},
    )
    base: str = made.headers["location"]  # type: ignore[attr-defined]
    scene.post(f"{base}/consent", {"consent": str(scene.consent_id)})
    form = web.get(f"{base}/summary")
    assert "Counselling started" in form.text  # the goal it serves, carried
    saved = scene.post(f"{base}/summary", {**SUMMARY, "goals": "Counselling started"})
    assert saved.status_code == 303, saved.text  # type: ignore[attr-defined]
    sent = scene.post(f"{base}/send", {})
    assert sent.headers["location"] == f"{base}/sent"  # type: ignore[attr-defined]
    referral = db.scalars(
        select(Referral).where(Referral.requester_org_id == scene.account.org.id)
    ).one()
    row = db.get(PlanTask, uuid.UUID(task["id"]))
    assert row is not None and row.referral_id == referral.id
    plan = web.get(f"/cases/{case['id']}/plan").json()
    linked = plan["goals"][0]["tasks"][0]
    assert linked["referral_status"] == "requested" and linked["responsible"] == "partner"
