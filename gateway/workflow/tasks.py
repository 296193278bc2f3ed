"""The workflow's side of delivery and revocation.

- Payload builders for every message kind, run by the delivery task just before sending:
  each re-reads the referral and asks the consent decision point again; a referral whose
  consent is gone is cancelled (reason `consent-revoked`) and its message is not sent.
- The revocation listener: when a client's consent ends, every open referral of the client
  that no consent still permits is cancelled if it has not reached its receiver yet;
  otherwise the receiver is sent a revocation notice, and its reads through the hub stop
  (every read asks the decision point).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import adapters
from consent import tasks as consent_tasks
from consent.errors import ClientErased
from gateway.delivery import outgoing
from gateway.delivery.models import OutgoingMessage
from gateway.workflow import content, fhir, thread
from gateway.workflow.change import Change, apply_move
from gateway.workflow.models import Referral, Status, ThreadMessage
from gateway.workflow.states import OPEN
from gateway.workflow.submit import org_reference
from kernel import audit
from kernel.caller import Caller, CallerKind

__all__ = ["HUB", "cancel_for_consent", "on_revoked"]

HUB_ACTOR = "system:workflow"
HUB = uuid.UUID("00000000-0000-0000-0000-00000000f10b")


def _hub(referral: Referral) -> Caller:
    """The hub acting on a referral's behalf (decisions are audited under the sender)."""
    return Caller(kind=CallerKind.SYSTEM, id=HUB, organisation_id=referral.requester_org_id)


def _referral(session: Session, message: OutgoingMessage) -> Referral:
    referral = session.get(Referral, message.referral_id) if message.referral_id else None
    if referral is None:
        raise outgoing.Cancelled("referral-missing")
    return referral


def cancel_for_consent(session: Session, referral: Referral) -> None:
    """End an open referral whose consent is gone (the hub's own move, both sides told).

    The referral row is locked and read again first: the worker delivering it, the
    receiver pulling its inbox and the revocation's own task may all find the consent gone
    at the same moment, and only the first may cancel (a second would write the same Task
    version and fail on its unique key)."""
    session.scalars(
        select(Referral)
        .where(Referral.id == referral.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if Status(referral.status) not in OPEN:
        return
    apply_move(
        session,
        referral,
        None,
        None,
        Status.CANCELLED,
        Change(
            status=Status.CANCELLED.value,
            reason="consent-revoked",
            reason_text="The client's consent no longer permits this referral.",
        ),
        actor=HUB_ACTOR,
    )


def _permitted(session: Session, referral: Referral) -> Any:
    return content.current_permission(
        session, _hub(referral), referral, referral.owner_org_id, referral.kind
    )


def build_referral(session: Session, message: OutgoingMessage) -> outgoing.Payload:
    referral = _referral(session, message)
    if Status(referral.status) not in OPEN or referral.status == Status.DRAFT:
        raise outgoing.Cancelled(f"referral-{referral.status}")
    decided = _permitted(session, referral)
    if not decided.permit:
        cancel_for_consent(session, referral)
        raise outgoing.Cancelled("consent-revoked")
    bundle = content.open_packet(session, referral)
    stored = frozenset(referral.categories.split())
    if not stored <= {c.value for c in decided.permitted_categories}:
        # Consent narrowed since the packet was stored (minimised to `stored`): minimise again.
        bundle, _ = adapters.minimise_json(bundle, decided.permitted_categories)
    task = fhir.task_resource(session, referral, with_outputs=False)
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Task":
            for key in ("status", "businessStatus", "owner", "requester", "meta", "identifier"):
                if key in task:
                    resource[key] = task[key]
    audit.record(
        session,
        actor=HUB_ACTOR,
        action=f"{referral.kind}.disclose",
        organisation=str(referral.requester_org_id),
        subject=f"Patient/{referral.client_id}",
        purpose=referral.kind,
        detail={
            "task": str(referral.id),
            "recipient": str(referral.owner_org_id),
            "message": str(message.id),
            "disclosed": " ".join(sorted(c.value for c in decided.permitted_categories)),
        },
    )
    return outgoing.Payload(
        resource=bundle,
        resource_type="Bundle",
        resource_id=str(bundle.get("id")),
        focus=f"Task/{referral.id}",
    )


def build_status(session: Session, message: OutgoingMessage) -> outgoing.Payload:
    referral = _referral(session, message)
    task = fhir.task_resource(session, referral)
    notice = message.subject_ref.partition("#")[2]
    if notice:
        task["meta"].setdefault("tag", []).append(
            {"system": "https://refhub.org/fhir/CodeSystem/workflow-notice", "code": notice}
        )
    return outgoing.Payload(
        resource=task,
        resource_type="Task",
        resource_id=str(referral.id),
        focus=f"Task/{referral.id}",
    )


def build_message(session: Session, message: OutgoingMessage) -> outgoing.Payload:
    referral = _referral(session, message)
    message_id = uuid.UUID(message.subject_ref.split("/", 1)[1])
    row = session.get(ThreadMessage, message_id)
    if row is None:
        raise outgoing.Cancelled("message-missing")
    if row.recipient_org_id == referral.owner_org_id:
        decided = _permitted(session, referral)
        if not decided.permit:
            cancel_for_consent(session, referral)
            raise outgoing.Cancelled("consent-revoked")
    text = thread.open_text(session, referral, row)
    resource = thread.communication_resource(
        referral, row, text, lambda org: org_reference(session, org)
    )
    return outgoing.Payload(
        resource=resource,
        resource_type="Communication",
        resource_id=str(row.id),
        focus=f"Task/{referral.id}",
    )


def build_revocation(session: Session, message: OutgoingMessage) -> outgoing.Payload:
    referral = _referral(session, message)
    notice = {
        "resourceType": "Parameters",
        "id": str(message.id),
        "parameter": [
            {"name": "event", "valueCode": "consent-revoked"},
            {"name": "task", "valueReference": {"reference": f"Task/{referral.id}"}},
            {"name": "consent", "valueReference": {"reference": f"Consent/{referral.consent_id}"}},
            {
                "name": "instruction",
                "valueString": "The client withdrew consent: stop using and sharing the data "
                "received with this referral, as your retention rules allow.",
            },
        ],
    }
    return outgoing.Payload(
        resource=notice,
        resource_type="Parameters",
        resource_id=str(message.id),
        focus=f"Task/{referral.id}",
    )


def on_revoked(session: Session, consent_id: uuid.UUID, client_id: uuid.UUID) -> None:
    """A consent of the client ended: see the module docstring."""
    rows = session.scalars(
        select(Referral)
        .where(Referral.client_id == client_id, Referral.status.in_([s.value for s in OPEN]))
        .order_by(Referral.authored_on)
        .with_for_update()
    ).all()
    for referral in rows:
        if referral.status == Status.DRAFT or _permitted(session, referral).permit:
            continue
        if outgoing.undelivered(
            session, referral_id=referral.id, kind=outgoing.MessageKind.REFERRAL
        ):
            cancel_for_consent(session, referral)  # never reached the receiver: withdrawn
            continue
        outgoing.queue(  # the receiver holds it: tell it; its reads through the hub stop
            session,
            kind=outgoing.MessageKind.REVOCATION,
            recipient_org_id=referral.owner_org_id,
            sender_org_id=referral.requester_org_id,
            referral_id=referral.id,
            subject_ref=f"Consent/{consent_id}",
            dedupe_key=f"revocation:{referral.id}:{consent_id}",
        )
        audit.record(
            session,
            actor=HUB_ACTOR,
            action=f"{referral.kind}.consent-revoked",
            organisation=str(referral.requester_org_id),
            subject=f"Task/{referral.id}",
            detail={"consent": str(consent_id), "recipient": str(referral.owner_org_id)},
        )


def _unless_erased(builder: outgoing.Builder) -> outgoing.Builder:
    """A client erased meanwhile: the message is cancelled, not retried or dead-lettered."""

    def build(session: Session, message: OutgoingMessage) -> outgoing.Payload:
        try:
            return builder(session, message)
        except ClientErased:
            raise outgoing.Cancelled("client-erased") from None

    return build


outgoing.register_builder(outgoing.MessageKind.REFERRAL, _unless_erased(build_referral))
outgoing.register_builder(outgoing.MessageKind.STATUS, _unless_erased(build_status))
outgoing.register_builder(outgoing.MessageKind.MESSAGE, _unless_erased(build_message))
outgoing.register_builder(outgoing.MessageKind.REVOCATION, build_revocation)
consent_tasks.add_revocation_listener(on_revoked)
