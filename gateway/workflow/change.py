"""Changing a referral: status moves, business status, outputs; handover transfer.

One function, `change()`, for the JSON API, `PUT /fhir/Task` and the web UI: it checks the
caller's side against the state machine (409 with the allowed moves), the reason rules, the
version (`If-Match`, 412), applies the change, writes the history step and the audit record,
and queues the status message to the other side, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery import outgoing
from gateway.workflow import access, content, history, versions
from gateway.workflow.errors import (
    InvalidTransition,
    NotAllowedChange,
    OutputRequired,
    PreconditionFailed,
)
from gateway.workflow.models import Case, CaseStatus, Handover, Kind, Referral, Status
from gateway.workflow.states import (
    BUSINESS_STATUS,
    REASON_REQUIRED,
    REASONS,
    TERMINAL,
    Party,
    allowed_moves,
    may_move,
)
from kernel import audit
from kernel.caller import Caller
from kernel.db import utcnow

__all__ = ["Change", "apply_move", "change", "queue_status"]

#: Business status set with a move unless the caller gives one.
_DEFAULT_BUSINESS = {
    Status.REQUESTED: "2.0",
    Status.ACCEPTED: "3.0",
    Status.REJECTED: "4.0",
    Status.CANCELLED: "6.0",
    Status.COMPLETED: "7.0",
}
#: Business statuses the requester may set (asking the receiver to cancel).
_REQUESTER_BUSINESS = frozenset({"5.2"})


@dataclass
class Change:
    """What a caller asks to change; None leaves a field as it is."""

    status: str | None = None
    reason: str | None = None
    reason_text: str | None = None
    business_status: str | None = None
    outputs: dict[str, Any] | None = None  # {"output": [...], "contained": [...]}
    if_match: int | None = None
    note: str | None = field(default=None, repr=False)


def _check(referral: Referral, party: Party, ask: Change) -> Status | None:
    current = Status(referral.status)
    target: Status | None = None
    if ask.status is not None and ask.status != referral.status:
        try:
            target = Status(ask.status)
        except ValueError:
            raise NotAllowedChange(
                f"Unknown status {ask.status!r}; use one of " + ", ".join(s.value for s in Status)
            ) from None
        if not may_move(current, target, party):
            allowed = allowed_moves(current, party)
            raise InvalidTransition(
                f"The {party.value} cannot move a referral from {current.value} to "
                f"{target.value}. Allowed: {', '.join(allowed) or 'none (it is closed)'}.",
                current=current.value,
                allowed=allowed,
            )
    if ask.reason is not None and ask.reason not in REASONS:
        raise NotAllowedChange(
            f"Unknown reason {ask.reason!r}; use one of {', '.join(REASONS)} (and explain "
            "in reason_text)."
        )
    if target in REASON_REQUIRED and not (ask.reason or (ask.reason_text or "").strip()):
        raise NotAllowedChange(
            f"A reason is required to set {target.value if target else ''} (e.g. "
            "no-capacity, not-eligible, client-unreachable, client-declined)."
        )
    if ask.business_status is not None:
        if ask.business_status not in BUSINESS_STATUS:
            raise NotAllowedChange(
                f"Unknown business status {ask.business_status!r}; use a BSeR code: "
                + ", ".join(BUSINESS_STATUS)
            )
        if party is Party.REQUESTER and ask.business_status not in _REQUESTER_BUSINESS:
            raise NotAllowedChange(
                "The requester may only ask for cancellation (5.2); the receiver reports "
                "the other steps."
            )
    if ask.outputs is not None and party is not Party.OWNER:
        raise NotAllowedChange("Only the receiver (Task owner) reports outputs.")
    outputs = referral.output_count if ask.outputs is None else len(ask.outputs.get("output", []))
    if target is Status.COMPLETED and not outputs:
        # Gravity SDOH CC refer-9: completion SHALL add outputs describing the outcome
        raise OutputRequired(
            "Completing a referral requires an output (Task.output): say what was done "
            "(in FHIR, a Task.output referencing e.g. a contained Procedure)."
        )
    if target is None and ask.status is None and current in TERMINAL:
        raise InvalidTransition(
            f"The referral is {current.value}; it can no longer change.",
            current=current.value,
            allowed=[],
        )
    return target


def change(session: Session, caller: Caller, referral_id: uuid.UUID, ask: Change) -> Referral:
    """Apply `ask` to the referral for `caller`; see the module docstring.

    Raises:
        ReferralNotFound, InvalidTransition (409), NotAllowedChange (422),
        PreconditionFailed (412), Forbidden (a system client without the Task update scope).
    """
    access.require_scope(caller, "Task", "u")
    referral = access.get_visible(session, caller, referral_id, for_update=True)
    party = access.party_of(referral, caller)
    if ask.if_match is not None and ask.if_match != referral.version:
        raise PreconditionFailed(
            f"If-Match names version {ask.if_match}; the referral is at version "
            f"{referral.version}. Read it again and retry.",
            current_version=referral.version,
        )
    target = _check(referral, party, ask)
    unchanged = (ask.business_status, ask.outputs, ask.reason, ask.reason_text) == (None,) * 4
    if target is None and unchanged:
        return referral  # nothing to change: idempotent
    apply_move(session, referral, caller, party, target, ask)
    return referral


def apply_move(
    session: Session,
    referral: Referral,
    caller: Caller | None,
    party: Party | None,
    target: Status | None,
    ask: Change,
    *,
    actor: str | None = None,
) -> None:
    """Write an already-checked change (also used by the hub itself, e.g. on revocation)."""
    now = utcnow()
    before = referral.status
    if target is not None:
        referral.status = target.value
        referral.status_reason = ask.reason
        referral.status_reason_text = (ask.reason_text or "").strip() or None
        _stamp(referral, Status(before), target, now)
        business = ask.business_status or _DEFAULT_BUSINESS.get(target)
        if business:
            referral.business_status = business
    else:
        if ask.business_status is not None:
            referral.business_status = ask.business_status
        if ask.reason is not None or ask.reason_text is not None:
            referral.status_reason = ask.reason
            referral.status_reason_text = (ask.reason_text or "").strip() or None
    if ask.outputs is not None:
        content.seal_outputs(session, referral, ask.outputs)
    referral.version += 1
    referral.updated_at = now
    if referral.kind == Kind.HANDOVER and target is not None:
        _handover_step(session, referral, target, caller, actor, now)
    if target is not None:
        from gateway.workflow.casework import plan_tasks  # casework reads cases, which reads us

        plan_tasks.follow_referral(session, referral)
    history.record(
        session,
        referral,
        caller,
        actor=actor,
        action="status" if target is not None else "update",
        from_status=before,
        to_status=referral.status,
        business_status=referral.business_status,
        reason=referral.status_reason if target is not None else None,
    )
    versions.store(session, referral)
    audit.record(
        session,
        actor=actor or (caller.actor if caller else "system:workflow"),
        action=f"{referral.kind}.status" if target is not None else f"{referral.kind}.update",
        organisation=str(caller.organisation_id) if caller else None,
        subject=f"Task/{referral.id}",
        detail={
            "from": before,
            "to": referral.status,
            "business_status": referral.business_status,
            "reason": referral.status_reason,
            "party": party.value if party else "hub",
            "outputs": referral.output_count,
        },
    )
    if referral.status == Status.DRAFT:
        return
    if before == Status.DRAFT and target is Status.REQUESTED:
        from gateway.workflow.submit import queue_referral

        queue_referral(session, referral)
        return
    receiver_knows = True
    if target in (Status.CANCELLED, Status.ENTERED_IN_ERROR):
        for message in outgoing.undelivered(
            session, referral_id=referral.id, kind=outgoing.MessageKind.REFERRAL
        ):
            outgoing.cancel(session, message, f"referral {referral.status}")
            receiver_knows = False
    queue_status(session, referral, party, receiver_knows=receiver_knows)


def queue_status(
    session: Session,
    referral: Referral,
    party: Party | None,
    *,
    receiver_knows: bool = True,
    tag: str = "",
) -> None:
    """Tell the other side about the Task now (both sides for the hub's own changes).

    A receiver that never got the referral (cancelled before delivery) is not told.
    """
    recipients: list[tuple[uuid.UUID, uuid.UUID]] = []
    if party is not Party.OWNER and receiver_knows:
        recipients.append((referral.owner_org_id, referral.requester_org_id))
    if party is not Party.REQUESTER:
        recipients.append((referral.requester_org_id, referral.owner_org_id))
    for recipient, sender in recipients:
        suffix = f"#{tag}" if tag else ""
        outgoing.queue(
            session,
            kind=outgoing.MessageKind.STATUS,
            recipient_org_id=recipient,
            sender_org_id=sender,
            referral_id=referral.id,
            subject_ref=f"Task/{referral.id}/_history/{referral.version}{suffix}",
            dedupe_key=f"status:{referral.id}:{referral.version}:{recipient}{suffix}",
        )


def _stamp(referral: Referral, before: Status, target: Status, now: dt.datetime) -> None:
    if before is Status.REQUESTED and referral.responded_at is None:
        referral.responded_at = now
    if target is Status.ACCEPTED:
        referral.accepted_at = now
    if target is Status.IN_PROGRESS and referral.started_at is None:
        referral.started_at = now
    if target in TERMINAL:
        referral.closed_at = now


def _handover_step(
    session: Session,
    referral: Referral,
    target: Status,
    caller: Caller | None,
    actor: str | None,
    now: dt.datetime,
) -> None:
    """Acceptance transfers the case to the receiver; completion closes the handover."""
    handover = session.get(Handover, referral.id)
    if handover is None:
        return
    if target is Status.ACCEPTED and handover.transferred_at is None:
        handover.transferred_at = now
        handover.transferred_by = actor or (caller.actor if caller else "system:workflow")
        if handover.first_contact_days:
            handover.first_contact_due_at = now + dt.timedelta(days=handover.first_contact_days)
        case = session.scalars(
            select(Case).where(
                Case.client_id == referral.client_id,
                Case.owner_org_id == referral.requester_org_id,
                Case.status == CaseStatus.OPEN.value,
            )
        ).first()
        if case is None:
            case = Case(
                client_id=referral.client_id,
                owner_org_id=referral.owner_org_id,
                opened_by_org_id=referral.requester_org_id,
            )
            session.add(case)
        else:
            case.owner_org_id = referral.owner_org_id
            from gateway.workflow.casework import plan_tasks

            plan_tasks.move_plan(session, case, referral.owner_org_id, now)
        case.transferred_at = now
        session.flush()
        handover.case_id = case.id
    if target in TERMINAL and handover.transferred_at is not None and handover.closed_at is None:
        handover.closed_at = now  # the sender's read access ends here
