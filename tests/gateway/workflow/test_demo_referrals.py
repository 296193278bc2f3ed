"""`refhub demo` seeds a living network: referrals in every state and a handover, once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.auth.models import Organisation
from gateway.demo import load_demo
from gateway.workflow.casework.models import Goal, Plan, PlanTask
from gateway.workflow.demo import HARBOUR, NORTHSIDE
from gateway.workflow.models import Handover, Referral, ReferralEvent
from kernel.settings import Settings
from tests.gateway.auth.factories import make_client as make_system_client
from tests.gateway.workflow.conftest import SCOPES, bearer


def _counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Referral)) or 0,
        db.scalar(select(func.count()).select_from(ReferralEvent)) or 0,
        db.scalar(select(func.count()).select_from(Handover)) or 0,
    )


def test_demo_seeds_referrals_in_every_state_once(
    app: FastAPI, db: Session, settings: Settings, tmp_path: Path
) -> None:
    local = settings.model_copy(update={"data_dir": tmp_path})
    first = load_demo(db, local)
    seeded = _counts(db)
    second = load_demo(db, local)
    assert _counts(db) == seeded
    assert len(first) == len(second)
    assert any("6 demo referrals added" in line for line in first)
    assert any("0 demo referrals added" in line for line in second)

    # other tests' committed referrals may share the run's database: only the demo's count
    demo_orgs = select(Organisation.id).where(Organisation.name.in_([NORTHSIDE, HARBOUR]))
    rows = db.scalars(
        select(Referral)
        .where(Referral.requester_org_id.in_(demo_orgs))
        .order_by(Referral.authored_on)
    ).all()
    states = Counter(r.status for r in rows)
    assert states == Counter(
        {"requested": 2, "accepted": 2, "in-progress": 1, "rejected": 1, "completed": 1}
    )
    declined = next(r for r in rows if r.status == "rejected")
    assert declined.status_reason == "no-capacity"
    assert any(r.resent_from_id == declined.id for r in rows)
    completed = next(r for r in rows if r.status == "completed")
    assert completed.output_count == 1
    assert any(r.do_not_contact for r in rows)
    plan_goals = db.scalars(
        select(Goal).join(Plan, Plan.id == Goal.plan_id).where(Plan.owner_org_id.in_(demo_orgs))
    ).all()
    assert sorted(g.domain or "" for g in plan_goals) == ["family-social", "housing"]
    linked = db.scalars(select(PlanTask).where(PlanTask.referral_id == completed.id)).one()
    assert linked.status == "completed"  # the tracing task follows its referral
    handover = db.scalars(select(Handover).where(Handover.from_org_id.in_(demo_orgs))).one()
    assert handover.transferred_at is not None and handover.first_contact_at is None
    assert handover.first_contact_due_at is not None

    # the receiver's system client sees the inbox through the API
    harbour = db.get(Organisation, handover.to_org_id)
    assert harbour is not None
    registered = make_system_client(db, harbour, algs=("ES384",), scopes=SCOPES)
    headers = bearer(app, registered, " ".join(SCOPES))
    http = TestClient(app)
    inbox = http.get("/referrals?box=inbox&per_page=50", headers=headers).json()
    assert inbox["total"] == len(rows)
    record = http.get(f"/referrals/{handover.referral_id}/handover", headers=headers).json()
    assert "Enrolled in school before the next term" in record["open_goals"]
    assert "Emergency shelter found" not in record["open_goals"]  # completed
    messages = http.get(f"/referrals/{next(r.id for r in rows if r.do_not_contact)}/messages",
                        headers=headers)  # fmt: skip
    assert len(messages.json()) == 2
