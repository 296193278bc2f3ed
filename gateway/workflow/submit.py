"""Submitting a referral or handover: one transaction from packet to outbox.

`submit()` authenticates the side (the caller acts for the sending organisation), resolves
the addressed service in the directory and refuses what cannot be routed (unknown, inactive
or suspended service or organisation, no electronic referrals, no endpoint), finds the
Consent the packet relies on, asks the consent decision point, minimises the packet to the
permitted categories (or refuses with the reason), stores it sealed under the client's data
key, audits the disclosure and queues the delivery, all in the caller's transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import adapters
from consent import clients as consent_clients
from consent import decision as consent_decision
from directory.models import Service
from gateway.auth.errors import Forbidden
from gateway.auth.models import Organisation
from gateway.delivery import outgoing
from gateway.workflow import access, history, routing, versions
from gateway.workflow.addressing import Source, address_packet, org_reference
from gateway.workflow.errors import ReferralRefused, SubmissionInvalid
from gateway.workflow.models import (
    Case,
    CaseStatus,
    Handover,
    Kind,
    OrgThresholds,
    Referral,
    Status,
)
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role
from kernel.db import lock_key, utcnow

__all__ = [
    "HANDOVER_CODE",
    "PACKET_CONTEXT",
    "Preview",
    "Routed",
    "Submitted",
    "org_reference",
    "packet_context",
    "preview",
    "queue_referral",
    "seal_packet",
    "submit",
]

HANDOVER_CODE = "308292007"
DEFAULT_FIRST_CONTACT_DAYS = 5
PACKET_CONTEXT = "packet"
_ACTING = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN)
_PRIORITIES = {"routine", "urgent", "asap", "stat"}


@dataclass(frozen=True)
class Submitted:
    referral: Referral
    created: bool
    withheld: tuple[str, ...] = ()
    #: The packet as stored (minimised, addressed), when this call created the referral.
    packet: dict[str, Any] | None = None


def packet_context(referral_id: uuid.UUID) -> str:
    return f"{PACKET_CONTEXT}:{referral_id}"


def seal_packet(session: Session, referral: Referral, packet: dict[str, Any]) -> None:
    data = json.dumps(packet, separators=(",", ":"), ensure_ascii=False).encode()
    referral.packet = consent_clients.seal_for_client(
        session, referral.client_id, data, packet_context(referral.id)
    )


def _require_acting(caller: Caller) -> None:
    if caller.kind is CallerKind.USER and not caller.has_role(*_ACTING):
        raise Forbidden("Only case workers, supervisors and org admins submit referrals.")
    access.require_scope(caller, "ServiceRequest", "c")


def _thresholds(session: Session, organisation_id: uuid.UUID) -> OrgThresholds | None:
    return session.get(OrgThresholds, organisation_id)


def _ensure_case(session: Session, client_id: uuid.UUID, org_id: uuid.UUID) -> Case:
    case = session.scalars(
        select(Case).where(
            Case.client_id == client_id,
            Case.owner_org_id == org_id,
            Case.status == CaseStatus.OPEN.value,
        )
    ).first()
    if case is None:
        case = Case(client_id=client_id, owner_org_id=org_id, opened_by_org_id=org_id)
        session.add(case)
        session.flush()
    return case


@dataclass(frozen=True)
class Routed:
    """A packet checked for routing, with the consent decision for its receiver."""

    data: dict[str, Any]
    request: dict[str, Any]
    task: dict[str, Any]
    service: Service
    receiver: Organisation
    consent: Any
    kind: Kind
    present: frozenset[adapters.DataCategory]
    decision: consent_decision.Decision


def _route(session: Session, caller: Caller, packet: Bundle) -> Routed:
    data = adapters.packet_dict(packet)  # the one serialisation of the models: JSON on
    requests = routing.entries(data, "ServiceRequest")
    tasks = routing.entries(data, "Task")
    patients = routing.entries(data, "Patient")
    if len(requests) != 1 or len(tasks) != 1 or len(patients) != 1:
        raise routing.invalid(
            "A referral packet holds exactly one Patient, ServiceRequest and Task.", "Bundle"
        )
    sr, task = requests[0], tasks[0]
    service, receiver = routing.resolve_service(session, sr)
    if receiver.id == caller.organisation_id:
        raise routing.invalid(
            "A referral goes to another organisation; this service is your own.",
            "ServiceRequest.performer",
        )
    consent = routing.consent_of(session, caller, sr)
    codes = {c.get("code") for c in (sr.get("code") or {}).get("coding", [])}
    kind = Kind.HANDOVER if HANDOVER_CODE in codes else Kind.REFERRAL
    present = adapters.categories_present(data)
    decided = consent_decision.decide(
        session,
        caller,
        client_id=consent.client_id,
        recipient_org_id=receiver.id,
        recipient_org_type=receiver.org_type,
        purpose=kind.value,
        categories=present,
    )
    return Routed(data, sr, task, service, receiver, consent, kind, present, decided)


@dataclass(frozen=True)
class Preview:
    """What `submit()` would send now: the receiver's view and what consent withholds.

    `minimised` is the packet as the receiver would get it, None when the consent permits
    nothing (then `submit()` would refuse); `withheld` the categories present but not
    permitted.
    """

    routed: Routed
    minimised: Bundle | None
    withheld: tuple[adapters.DataCategory, ...]

    @property
    def permitted(self) -> bool:
        return self.routed.decision.permit


def preview(session: Session, caller: Caller, *, packet: Bundle) -> Preview:
    """Check a packet as `submit()` does and minimise it, storing and sending nothing
    (the consent decision is audited, as every decision is).

    Raises:
        SubmissionInvalid: it cannot be routed (names the element and why), as `submit()`.
    """
    _require_acting(caller)
    routed = _route(session, caller, packet)
    decided = routed.decision
    withheld = tuple(sorted(routed.present - decided.permitted_categories))
    if not decided.permit:
        return Preview(routed, None, withheld)
    minimised, _report = adapters.minimise(packet, decided.permitted_categories)
    return Preview(routed, minimised, withheld)


def submit(
    session: Session,
    caller: Caller,
    *,
    packet: Bundle,
    source_format: str,
    idempotency_key: str | None = None,
    digest: str | None = None,
    source: Source | None = None,
) -> Submitted:
    """Route one packet: see the module docstring for every step.

    Raises:
        SubmissionInvalid: cannot be routed (names the element and why).
        ReferralRefused: consent does not permit it (the decision stays audited).
        IdempotencyConflict: the key was used for a different submission.

    `source` names the sender's own Task and ServiceRequest (see `addressing`).
    """
    _require_acting(caller)
    if idempotency_key:
        # A retry racing its original waits here for the original to commit, then replays it.
        lock_key(session, "referral.idempotency", str(caller.organisation_id), idempotency_key)
        earlier = session.scalars(
            select(Referral).where(
                Referral.requester_org_id == caller.organisation_id,
                Referral.idempotency_key == idempotency_key,
            )
        ).first()
        if earlier is not None:
            if digest is not None and earlier.request_digest != digest:
                raise IdempotencyConflict(
                    "This Idempotency-Key was used for a different submission."
                )
            return Submitted(earlier, created=False)
    routed = _route(session, caller, packet)
    data, sr, task = routed.data, routed.request, routed.task
    service, receiver, consent, kind = routed.service, routed.receiver, routed.consent, routed.kind
    present, decided = routed.present, routed.decision
    if not decided.permit:
        audit.record(
            session,
            actor=caller.actor,
            action=f"{kind.value}.refused",
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=f"Patient/{consent.client_id}",
            purpose=kind.value,
            detail={"recipient": str(receiver.id), "reasons": " ".join(decided.reasons)},
        )
        raise ReferralRefused(
            f"The client's consent does not permit this {kind.value} to {receiver.name} "
            "(no data category may go to it for this purpose). Record or update the "
            "consent, or choose another provider."
        )
    stored, _report = adapters.minimise_json(data, decided.permitted_categories)
    withheld = sorted(c.value for c in present - decided.permitted_categories)
    draft = task.get("status") == Status.DRAFT.value
    referral = Referral(
        id=uuid.UUID(task["id"]),
        kind=kind.value,
        packet_id=uuid.UUID(str(data.get("id"))),
        service_request_id=uuid.UUID(sr["id"]),
        client_id=consent.client_id,
        consent_id=consent.series_id,
        decided_by_consent_version=decided.consent_version,
        requester_org_id=caller.organisation_id,
        requester_actor=caller.actor,
        requester_assignee=caller.id if caller.kind is CallerKind.USER else None,
        requester_team=caller.team,
        owner_org_id=receiver.id,
        service_id=service.id,
        status=(Status.DRAFT if draft else Status.REQUESTED).value,
        business_status=None if draft else "2.0",
        priority=sr.get("priority") if sr.get("priority") in _PRIORITIES else "routine",
        do_not_contact=_do_not_contact(sr),
        categories=" ".join(sorted(c.value for c in decided.permitted_categories)),
        withheld=" ".join(withheld),
        service_codes=_service_codes(sr),
        authored_on=utcnow(),
        packet=b"",
        idempotency_key=idempotency_key or None,
        request_digest=digest,
    )
    address_packet(session, stored, referral, source)
    seal_packet(session, referral, stored)  # before the INSERT, which then carries it
    session.add(referral)
    try:
        session.flush()
    except IntegrityError:  # the hub issues Task ids (uuid4): a clash is not expected
        raise routing.invalid("A referral with this Task id exists already.", "Task.id") from None
    _ensure_case(session, referral.client_id, caller.organisation_id)
    if kind is Kind.HANDOVER:
        thresholds = _thresholds(session, receiver.id)
        days = _first_contact_days(task) or (
            thresholds.first_contact_days if thresholds and thresholds.first_contact_days else None
        )
        session.add(
            Handover(
                referral_id=referral.id,
                from_org_id=caller.organisation_id,
                to_org_id=receiver.id,
                first_contact_days=days or DEFAULT_FIRST_CONTACT_DAYS,
            )
        )
    history.record(
        session, referral, caller, action="submitted", to_status=referral.status, first=True
    )
    versions.store(session, referral)
    audit.record(
        session,
        actor=caller.actor,
        action=f"{kind.value}.submit",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{referral.client_id}",
        purpose=kind.value,
        detail={
            "task": str(referral.id),
            "recipient": str(receiver.id),
            "service": str(service.id),
            "disclosed": referral.categories,
            "withheld": referral.withheld,
            "consent_version": str(decided.consent_version),
            "source_format": source_format,
        },
    )
    if not draft:
        queue_referral(session, referral)
    return Submitted(referral, created=True, withheld=tuple(withheld), packet=stored)


def queue_referral(session: Session, referral: Referral) -> None:
    outgoing.queue(
        session,
        kind=outgoing.MessageKind.REFERRAL,
        recipient_org_id=referral.owner_org_id,
        sender_org_id=referral.requester_org_id,
        referral_id=referral.id,
        subject_ref=f"Task/{referral.id}",
        service_id=referral.service_id,
        dedupe_key=f"referral:{referral.id}",
    )


def _do_not_contact(sr: dict[str, Any]) -> bool:
    return any(
        c.get("code") == "contacting-subject-prohibited"
        for detail in sr.get("orderDetail", [])
        for c in detail.get("coding", [])
    )


def _service_codes(sr: dict[str, Any]) -> list[str]:
    return sorted(
        {
            str(c["code"])
            for cat in sr.get("category", [])
            for c in cat.get("coding", [])
            if c.get("code")
        }
    )


def _first_contact_days(task: dict[str, Any]) -> int | None:
    for item in task.get("input", []):
        codes = {c.get("code") for c in (item.get("type") or {}).get("coding", [])}
        if "first-contact-days" in codes and isinstance(item.get("valueInteger"), int):
            value: int = item["valueInteger"]
            return value if 0 < value <= 90 else None
    return None


class IdempotencyConflict(SubmissionInvalid):
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
