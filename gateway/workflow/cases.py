"""Cases, first contact and handover records: the responsibility a handover moves.

- A case is one organisation's responsibility for a client. It is opened when the
  organisation first refers the client, and moves to the receiver when a handover is
  accepted (`change._handover_step`). Only the owning organisation reads or closes it.
- Closing a case records the reason (a code, in clear) and the outcome and the client's
  continuation plan (sealed under the client's key, context `case-closure:<case id>`).
  It is refused while a handover of the client that involves the organisation is still
  open (sent and not answered, or received and not completed): acceptance of a pending
  handover moves this very case record, and a received one keeps the sender's access
  until it is completed. Ordinary referrals still open do not block closure (the other
  service carries on); their ids are kept in the sealed closure record.
- First contact: the receiver of a transferred handover confirms it reached the client;
  the sender is told (a status notice tagged `first-contact`).
- The handover record is what both sides read: what was transferred (the open goals of
  the packet, as consent lets the reader see them now), by whom, when, next steps.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from gateway.auth.errors import Forbidden
from gateway.workflow import access, content, history, versions, views
from gateway.workflow.casework.models import Goal
from gateway.workflow.casework.schemas import OPEN_LIFECYCLES
from gateway.workflow.change import queue_status
from gateway.workflow.errors import NotAllowedChange, ReferralRefused, WorkflowError
from gateway.workflow.models import Case, CaseStatus, Handover, Kind, Referral, Status
from gateway.workflow.schemas import CaseCloseIn, CaseOut, HandoverOut, OrgRef
from gateway.workflow.states import OPEN, TERMINAL, Party
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow

__all__ = [
    "CaseNotClosable",
    "CaseNotFound",
    "FirstContactRefused",
    "HandoverNotFound",
    "case_out",
    "close_case",
    "closure_context",
    "confirm_first_contact",
    "get_case",
    "handover_record",
    "list_cases",
    "open_closure",
]

#: FHIR resource whose SMART scopes govern cases (a case is an EpisodeOfCare).
CASE_RESOURCE = "EpisodeOfCare"
_ACTING = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN)
_DONE_GOALS = frozenset({"completed", "cancelled", "rejected", "entered-in-error"})
#: Statuses in which a transferred handover may still record first contact.
_CONTACTABLE = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED})
_CLOCK_SKEW = dt.timedelta(minutes=5)


class CaseNotFound(WorkflowError):
    """No such case, or not one the caller's organisation owns (the same answer)."""

    status = 404
    code = "case-not-found"
    title = "Case not found"
    keeps_writes = True  # the refused look-up is audited


class CaseNotClosable(WorkflowError):
    """The case is closed already, or a handover of the client is still open."""

    status = 409
    code = "case-not-closable"
    title = "Case cannot be closed now"

    def __init__(
        self,
        detail: str,
        *,
        open_handovers: list[uuid.UUID] | None = None,
        open_goals: list[uuid.UUID] | None = None,
    ) -> None:
        super().__init__(detail)
        self.extra = {
            "open_handovers": [str(i) for i in open_handovers or []],
            "open_goals": [str(i) for i in open_goals or []],
        }


class HandoverNotFound(WorkflowError):
    """The referral is not a handover (or not visible: then `ReferralNotFound`)."""

    status = 404
    code = "handover-not-found"
    title = "Handover not found"


class FirstContactRefused(WorkflowError):
    """First contact cannot be recorded now (not transferred, or the handover ended)."""

    status = 409
    code = "first-contact-refused"
    title = "First contact cannot be recorded"


def closure_context(case_id: uuid.UUID) -> str:
    return f"case-closure:{case_id}"


def _require_acting(caller: Caller, letter: str) -> None:
    if caller.kind is CallerKind.USER and not caller.has_role(*_ACTING):
        raise Forbidden("Only case workers, supervisors and org admins work with cases.")
    access.require_scope(caller, CASE_RESOURCE, letter)


def list_cases(
    session: Session,
    caller: Caller,
    *,
    status: str | None,
    offset: int,
    limit: int,
    client_id: uuid.UUID | None = None,
) -> tuple[list[Case], int]:
    """One page of the cases the caller's organisation owns (newest first), and the total;
    with `client_id`, only that client's."""
    _require_acting(caller, "s")
    rules = [Case.owner_org_id == caller.organisation_id]
    if status is not None:
        rules.append(Case.status == status)
    if client_id is not None:
        rules.append(Case.client_id == client_id)
    total = session.scalar(select(func.count()).select_from(Case).where(*rules)) or 0
    rows = session.scalars(
        select(Case)
        .where(*rules)
        .order_by(Case.opened_at.desc(), Case.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def get_case(
    session: Session, caller: Caller, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    """The case if the caller's organisation owns it.

    Raises:
        CaseNotFound: no such case, or another organisation's (audited, the same answer).
    """
    _require_acting(caller, "r")
    query = select(Case).where(Case.id == case_id, Case.owner_org_id == caller.organisation_id)
    if for_update:
        query = query.with_for_update()
    case = session.scalars(query).first()
    if case is None:
        audit.record(
            session,
            actor=caller.actor,
            action="case.read",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=f"EpisodeOfCare/{case_id}",
        )
        raise CaseNotFound("No such case.")
    return case


def open_closure(session: Session, case: Case) -> dict[str, Any] | None:
    """The sealed closure record (reason, outcome, continuation plan), if closed."""
    if case.closure is None:
        return None
    plain = consent_clients.open_for_client(
        session, case.client_id, case.closure, closure_context(case.id)
    )
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value


def case_out(session: Session, case: Case, *, with_closure: bool = False) -> CaseOut:
    org_names = views.names(session, {case.owner_org_id, case.opened_by_org_id})
    return CaseOut(
        id=case.id,
        client_id=case.client_id,
        owner=OrgRef(id=case.owner_org_id, name=org_names.get(case.owner_org_id)),
        opened_by=OrgRef(id=case.opened_by_org_id, name=org_names.get(case.opened_by_org_id)),
        status=case.status,
        stage=case.stage,
        opened_at=case.opened_at,
        transferred_at=case.transferred_at,
        closed_at=case.closed_at,
        closure_reason=case.closure_reason,
        closure=open_closure(session, case) if with_closure else None,
    )


def _open_referrals(session: Session, org_id: uuid.UUID, client_id: uuid.UUID) -> list[Referral]:
    """Referrals and handovers of the client the organisation is a party to, still open."""
    return list(
        session.scalars(
            select(Referral)
            .where(
                Referral.client_id == client_id,
                (Referral.requester_org_id == org_id) | (Referral.owner_org_id == org_id),
                Referral.status.in_([s.value for s in OPEN]),
            )
            .order_by(Referral.authored_on)
        )
    )


def close_case(session: Session, caller: Caller, case_id: uuid.UUID, body: CaseCloseIn) -> Case:
    """Close the organisation's case with the outcome and continuation plan (sealed).

    Raises:
        CaseNotFound, Forbidden, CaseNotClosable (closed already, a handover of the
        client involving the organisation is still open, or goals of the plan are open).
    """
    _require_acting(caller, "u")
    case = get_case(session, caller, case_id, for_update=True)
    if case.status == CaseStatus.CLOSED:
        raise CaseNotClosable("The case is closed already.")
    still_open = _open_referrals(session, caller.organisation_id, case.client_id)
    handovers = [r.id for r in still_open if r.kind == Kind.HANDOVER]
    if handovers:
        raise CaseNotClosable(
            "A handover of this client is still open: the sender waits for an answer "
            "(cancel it, or let the receiver answer), or the receiver completes it before "
            "closing the case.",
            open_handovers=handovers,
        )
    open_goals = list(
        session.scalars(
            select(Goal.id).where(
                Goal.case_id == case.id,
                Goal.lifecycle_status.in_([g.value for g in OPEN_LIFECYCLES]),
            )
        )
    )
    if open_goals:
        raise CaseNotClosable(
            "Goals of the plan are still open: mark each one completed, cancelled or "
            "rejected (or hand the case over) before closing the case.",
            open_goals=open_goals,
        )
    now = utcnow()
    record = {
        "reason": body.reason,
        "outcome": body.outcome,
        "continuation_plan": body.continuation_plan,
        "closed_by": caller.actor,
        "closed_at": now.isoformat(),
        "open_referrals": [str(r.id) for r in still_open],
    }
    data = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
    case.closure = consent_clients.seal_for_client(
        session, case.client_id, data, closure_context(case.id)
    )
    case.status = CaseStatus.CLOSED.value
    case.stage = "closed"
    case.closure_reason = body.reason
    case.closed_at = now
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="case.close",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{case.client_id}",
        detail={
            "case": str(case.id),
            "reason": body.reason,
            "open_referrals": len(still_open),
        },
    )
    return case


def _handover_of(session: Session, referral: Referral) -> Handover:
    handover = session.get(Handover, referral.id) if referral.kind == Kind.HANDOVER else None
    if handover is None:
        raise HandoverNotFound("This referral is not a handover.")
    return handover


def confirm_first_contact(
    session: Session,
    caller: Caller,
    referral_id: uuid.UUID,
    *,
    contacted_at: dt.datetime | None = None,
) -> tuple[Referral, Handover]:
    """The receiver records first contact with the client; the sender is told.

    Repeating it changes nothing (the first confirmation stands).

    Raises:
        ReferralNotFound, HandoverNotFound, Forbidden (the sender, or no Task update
        scope), FirstContactRefused (not transferred yet, or the handover ended without
        the service), NotAllowedChange (a time in the future or before the transfer).
    """
    access.require_scope(caller, "Task", "u")
    if caller.kind is CallerKind.USER and not caller.has_role(*_ACTING):
        raise Forbidden("Only case workers, supervisors and org admins confirm first contact.")
    referral = access.get_visible(session, caller, referral_id, for_update=True)
    handover = _handover_of(session, referral)
    if access.party_of(referral, caller) is not Party.OWNER:
        raise Forbidden("Only the receiving organisation confirms first contact.")
    if handover.first_contact_at is not None:
        return referral, handover
    if handover.transferred_at is None:
        raise FirstContactRefused("Accept the handover first; then confirm first contact.")
    if Status(referral.status) not in _CONTACTABLE:
        raise FirstContactRefused(
            f"The handover is {referral.status}; first contact is no longer recorded."
        )
    now = utcnow()
    when = contacted_at or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when > now + _CLOCK_SKEW or when < handover.transferred_at - _CLOCK_SKEW:
        raise NotAllowedChange("First contact lies between the transfer and now.")
    handover.first_contact_at = when
    referral.version += 1
    referral.updated_at = now
    session.flush()
    history.record(session, referral, caller, action="first-contact")
    versions.store(session, referral)
    overdue = handover.first_contact_due_at is not None and when > handover.first_contact_due_at
    audit.record(
        session,
        actor=caller.actor,
        action="handover.first-contact",
        organisation=str(caller.organisation_id),
        subject=f"Task/{referral.id}",
        detail={"overdue": overdue},
    )
    queue_status(session, referral, Party.OWNER, tag="first-contact")
    return referral, handover


def _goals_and_steps(packet: dict[str, Any]) -> tuple[list[str], list[str]]:
    goals: list[str] = []
    steps: list[str] = []
    for entry in packet.get("entry", []):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        if kind == "Goal" and resource.get("lifecycleStatus") not in _DONE_GOALS:
            text = (resource.get("description") or {}).get("text")
            if text:
                goals.append(str(text))
        elif kind == "ServiceRequest":
            for category in resource.get("category", []):
                text = category.get("text") or next(
                    (c.get("display") for c in category.get("coding", []) if c.get("display")),
                    None,
                )
                if text:
                    steps.append(str(text))
    return goals, steps


def handover_record(session: Session, caller: Caller, referral_id: uuid.UUID) -> HandoverOut:
    """The handover as the caller's side may read it now (both sides; 404 for others).

    Open goals and requested services come from the packet as consent lets the reader
    see it now; when it no longer does, they are left out (None) and the rest remains.

    Raises:
        ReferralNotFound (also the sender after the handover closed), HandoverNotFound.
    """
    access.require_scope(caller, "Task", "r")
    referral = access.get_visible(session, caller, referral_id)
    handover = _handover_of(session, referral)
    party = access.party_of(referral, caller)
    goals: list[str] | None
    try:
        goals, services = _goals_and_steps(content.packet_for(session, caller, referral, party))
    except ReferralRefused:
        goals, services = None, []
    org_names = views.names(session, {handover.from_org_id, handover.to_org_id})
    steps = [f"Requested: {s}" for s in services]
    if Status(referral.status) in TERMINAL and handover.transferred_at is None:
        steps.append(f"The handover ended ({referral.status}) before the transfer.")
    elif handover.transferred_at is None:
        steps.append(f"Awaiting acceptance by {org_names.get(handover.to_org_id, 'the receiver')}.")
    elif handover.first_contact_at is None:
        due = handover.first_contact_due_at
        steps.append(
            "Confirm first contact with the client"
            + (f" by {due:%Y-%m-%d}" if due else "")
            + (" (without contacting the client directly)" if referral.do_not_contact else "")
            + "."
        )
    if handover.transferred_at is not None and handover.closed_at is None:
        steps.append("The receiver completes the handover to close it.")
    return views.handover_out(
        handover, org_names, open_goals=goals, next_steps="\n".join(steps) or None
    )
