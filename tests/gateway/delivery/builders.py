"""A stand-in for the workflow's builders: deterministic FHIR payloads from the message row,
and a consent refusal for `Patient/withdrawn`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.delivery.outgoing import (
    Cancelled,
    MessageKind,
    OutgoingMessage,
    Payload,
    register_builder,
)

WITHDRAWN = "Patient/withdrawn"


def build(_session: Session, message: OutgoingMessage) -> Payload:
    if message.subject_ref == WITHDRAWN:
        raise Cancelled("consent-withdrawn")
    task_id = str(message.referral_id or message.id)
    if message.kind == MessageKind.REFERRAL:
        bundle = {
            "resourceType": "Bundle",
            "id": str(message.id),
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:{task_id}",
                    "resource": {"resourceType": "Task", "id": task_id, "status": "requested"},
                    "request": {"method": "PUT", "url": f"Task/{task_id}"},
                }
            ],
        }
        return Payload(bundle, "Bundle", str(message.id), focus=f"Task/{task_id}")
    task = {"resourceType": "Task", "id": task_id, "status": "accepted"}
    return Payload(task, "Task", task_id)


def register() -> None:
    for kind in MessageKind:
        register_builder(kind, build)
