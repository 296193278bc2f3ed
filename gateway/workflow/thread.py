"""A referral's conversation (FHIR Communication): questions, answers, documents.

Each message is consent-checked like every disclosure (purpose: the referral's kind; the
text counts as `case-notes`, attached documents as `documents`), sealed under the client's
data key, recorded in the history and delivered to the other side.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients as consent_clients
from consent import decision as consent_decision
from gateway.auth.models import Organisation
from gateway.delivery import outgoing
from gateway.workflow import access, history
from gateway.workflow.documents import check_attachments
from gateway.workflow.errors import NotAllowedChange, ReferralRefused
from gateway.workflow.models import Referral, Status, ThreadMessage
from gateway.workflow.states import Party
from kernel import audit
from kernel.caller import Caller
from kernel.settings import get_settings

__all__ = ["communication_resource", "messages", "open_text", "post"]

_CLOSED_FOR_MESSAGES = frozenset({Status.ENTERED_IN_ERROR})


def _context(message_id: uuid.UUID) -> str:
    return f"message:{message_id}"


def _other_side(referral: Referral, party: Party) -> uuid.UUID:
    return referral.owner_org_id if party is Party.REQUESTER else referral.requester_org_id


def post(
    session: Session,
    caller: Caller,
    referral_id: uuid.UUID,
    *,
    text: str,
    in_response_to: uuid.UUID | None = None,
    document_ids: list[uuid.UUID] | None = None,
) -> ThreadMessage:
    """Send a message to the other side of the referral.

    Raises:
        ReferralNotFound, ReferralRefused (consent does not permit), NotAllowedChange.
    """
    access.require_scope(caller, "Communication", "c")
    referral = access.get_visible(session, caller, referral_id)
    if Status(referral.status) in _CLOSED_FOR_MESSAGES:
        raise NotAllowedChange("This referral was entered in error; it takes no messages.")
    party = access.party_of(referral, caller)
    recipient = _other_side(referral, party)
    if in_response_to is not None:
        earlier = session.get(ThreadMessage, in_response_to)
        if earlier is None or earlier.referral_id != referral.id:
            raise NotAllowedChange("in_response_to must name a message of this referral.")
    check_attachments(session, caller, referral, list(document_ids or []))
    wanted = [DataCategory.CASE_NOTES] + ([DataCategory.DOCUMENTS] if document_ids else [])
    org = session.get(Organisation, recipient)
    decided = consent_decision.decide(
        session,
        caller,
        client_id=referral.client_id,
        recipient_org_id=recipient,
        recipient_org_type=org.org_type if org else None,
        purpose=referral.kind,
        categories=wanted,
    )
    if set(wanted) - decided.permitted_categories:
        raise ReferralRefused(
            "The client's consent does not permit sending case notes"
            + (" or documents" if document_ids else "")
            + " to the other organisation for this referral."
        )
    message = ThreadMessage(
        id=uuid.uuid4(),
        referral_id=referral.id,
        sender_org_id=caller.organisation_id,
        sender_actor=caller.actor,
        recipient_org_id=recipient,
        in_response_to=in_response_to,
        sealed=b"",
        document_ids=[str(d) for d in document_ids or []],
    )
    message.sealed = consent_clients.seal_for_client(
        session, referral.client_id, text.encode(), _context(message.id)
    )
    session.add(message)
    session.flush()
    history.record(session, referral, caller, action="message")
    audit.record(
        session,
        actor=caller.actor,
        action=f"{referral.kind}.message",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{referral.client_id}",
        purpose=referral.kind,
        detail={
            "task": str(referral.id),
            "message": str(message.id),
            "recipient": str(recipient),
            "documents": len(message.document_ids),
        },
    )
    outgoing.queue(
        session,
        kind=outgoing.MessageKind.MESSAGE,
        recipient_org_id=recipient,
        sender_org_id=caller.organisation_id,
        referral_id=referral.id,
        subject_ref=f"Communication/{message.id}",
        dedupe_key=f"message:{message.id}",
    )
    return message


def open_text(session: Session, referral: Referral, message: ThreadMessage) -> str:
    plain = consent_clients.open_for_client(
        session, referral.client_id, message.sealed, _context(message.id)
    )
    return plain.decode()


def messages(
    session: Session, caller: Caller, referral_id: uuid.UUID
) -> tuple[Referral, list[ThreadMessage]]:
    """The thread, oldest first; the receiver reads only under a consent still in force."""
    access.require_scope(caller, "Communication", "r")
    referral = access.get_visible(session, caller, referral_id)
    party = access.party_of(referral, caller)
    if party is Party.OWNER:
        org = session.get(Organisation, caller.organisation_id)
        decided = consent_decision.decide(
            session,
            caller,
            client_id=referral.client_id,
            recipient_org_id=caller.organisation_id,
            recipient_org_type=org.org_type if org else None,
            purpose=referral.kind,
            categories=[DataCategory.CASE_NOTES],
        )
        if not decided.permit:
            raise ReferralRefused(
                "The client's consent for this referral is no longer in force; its thread "
                "cannot be read through the hub."
            )
    rows = list(
        session.scalars(
            select(ThreadMessage)
            .where(ThreadMessage.referral_id == referral.id)
            .order_by(ThreadMessage.sent_at, ThreadMessage.id)
        )
    )
    return referral, rows


def communication_resource(
    referral: Referral, message: ThreadMessage, text: str, org_ref: Any
) -> dict[str, Any]:
    """The message as a FHIR R4 Communication (`partOf` the Task, `about` the ServiceRequest)."""
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(message.id),
        "status": "completed",
        "partOf": [{"reference": f"Task/{referral.id}"}],
        "about": [{"reference": f"ServiceRequest/{referral.service_request_id}"}],
        "subject": {"reference": f"Patient/{referral.client_id}"},
        "sent": message.sent_at.isoformat(),
        "sender": org_ref(message.sender_org_id),
        "recipient": [org_ref(message.recipient_org_id)],
        "payload": [{"contentString": text}],
    }
    if message.in_response_to is not None:
        resource["inResponseTo"] = [{"reference": f"Communication/{message.in_response_to}"}]
    base = get_settings().public_base_url
    for document_id in message.document_ids:
        resource["payload"].append(
            {"contentAttachment": {"url": f"{base}/documents/{document_id}/content"}}
        )
    return resource
