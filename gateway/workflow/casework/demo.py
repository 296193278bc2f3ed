"""Demo case plan: Northside's case for client NW-2002 assessed, with a plan whose family goal
is served by Harbour through the completed tracing referral (so the goal shows progress on
both sides and in Harbour's shared plans), a housing goal, a review and a linked note.
Loaded once, after the demo referrals (`gateway.workflow.demo`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.models import ClientIdentifier
from gateway.auth.demo import DEMO_DOMAIN
from gateway.workflow import demo as referrals_demo
from gateway.workflow import notes
from gateway.workflow.casework import assessments, goals, opening, plan_tasks, plans
from gateway.workflow.casework.models import Assessment, Domain, Responsible, TaskStatus
from gateway.workflow.casework.schemas import (
    Disengagement,
    GoalIn,
    PlanIn,
    Strategy,
    TaskIn,
    TaskUpdate,
)
from gateway.workflow.models import Referral
from kernel.settings import Settings

__all__ = ["load"]

CLIENT = "NW-2002"


def load(session: Session, settings: Settings) -> list[str]:
    """Seed the demo case plan (once)."""
    worker = referrals_demo.staff_of(session, f"caseworker@northside.{DEMO_DOMAIN}")
    if worker is None:
        return ["Case plan demo: skipped (demo staff missing)"]
    client_id = session.scalars(
        select(ClientIdentifier.client_id).where(
            ClientIdentifier.value == CLIENT,
            ClientIdentifier.organisation_id == worker.organisation_id,
        )
    ).first()
    if client_id is None:
        return ["Case plan demo: skipped (demo client missing)"]
    case, _new = opening.open_case(session, worker, client_id)
    line = f"Case plan:      client {CLIENT} at Northside, its family goal served by Harbour"
    if session.scalars(select(Assessment.id).where(Assessment.case_id == case.id)).first():
        return [line]
    today = dt.date.today()
    assessed = assessments.record_assessment(
        session,
        worker,
        case.id,
        assessments.AssessmentIn.model_validate(
            {
                "assessed_on": today - dt.timedelta(days=20),
                "domains": {
                    "family-social": {
                        "strengths": [{"text": "Keeps in touch with a cousin in Amman"}],
                        "needs": [{"text": "Contact with her mother, lost since 2022"}],
                        "barriers": [{"text": "No address or phone number", "severity": "high"}],
                    },
                    "housing": {
                        "needs": [{"text": "The lease ends in three months", "severity": "medium"}]
                    },
                },
                "participants": "Client, her cousin (by phone), Arabic interpreter",
                "family_view": "Finding my mother comes first; then a place to stay.",
            }
        ),
    )
    family = assessed.domains[Domain.FAMILY_SOCIAL]
    barrier, strength, need = (family.barriers[0].id, family.strengths[0].id, family.needs[0].id)
    assert barrier is not None  # the hub gave every item an id
    assert strength is not None
    assert need is not None
    plans.put_plan(
        session,
        worker,
        case.id,
        PlanIn(
            strategies=[Strategy(item_id=barrier, text="Tracing through Harbour")],
            strength_uses=[Strategy(item_id=strength, text="The cousin asks relatives")],
            disengagement=Disengagement(
                ends_when="Contact restored and a lease signed",
                how="A last visit with the interpreter",
                keep_going="The cousin's support; Harbour's drop-in on Thursdays",
            ),
        ),
    )
    contact = goals.add_goal(
        session,
        worker,
        case.id,
        GoalIn(
            domain=Domain.FAMILY_SOCIAL,
            target_on=today + dt.timedelta(days=60),
            family_words="Speak to my mother again",
            worker_words="Contact restored with the client's mother",
            measure="A first phone call",
            addresses=[need],
        ),
    )
    home = goals.add_goal(
        session,
        worker,
        case.id,
        GoalIn(
            domain=Domain.HOUSING,
            target_on=today + dt.timedelta(days=90),
            worker_words="A stable flat before the lease ends",
            measure="A signed lease",
        ),
    )
    tracing = plan_tasks.add_task(
        session, worker, case.id, contact.id, TaskIn(description="Tracing request to Harbour")
    )
    done = session.scalars(
        select(Referral.id).where(
            Referral.idempotency_key == "demo-completed",
            Referral.requester_org_id == worker.organisation_id,
        )
    ).first()
    if done is not None:
        plan_tasks.link_referral(session, worker, case.id, tracing.id, done)
    letter = plan_tasks.add_task(
        session,
        worker,
        case.id,
        contact.id,
        TaskIn(
            description="Write a letter for the cousin to pass on",
            responsible=Responsible.FAMILY,
        ),
    )
    plan_tasks.update_task(
        session,
        worker,
        letter.id,
        TaskUpdate(status=TaskStatus.IN_PROGRESS, status_note="Draft read together"),
    )
    plan_tasks.add_task(
        session,
        worker,
        case.id,
        home.id,
        TaskIn(description="Visit two flats with the client", due_on=today + dt.timedelta(days=14)),
    )
    notes.add_note(
        session,
        worker,
        case.id,
        notes.NoteIn(
            contacted_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
            kind=notes.ContactKind.PHONE,
            text="Harbour restored contact with her mother; she wants to write to her too.",
            goal_ids=[contact.id],
            share_with_partners=True,
        ),
    )
    return [line]
