"""Documents in referrals: who may attach them, and who may read them.

Registered with `gateway.documents.access` when the workflow is loaded:
- a document may be attached to a referral by either side of it, about its client;
- the other side of the referral may read it while it can see the referral and the
  client's consent permits `documents` to its organisation for the referral's purpose
  (asked again at every read).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DataCategory
from gateway.documents import access as document_access
from gateway.documents import service as documents_service
from gateway.documents.errors import DocumentInvalid
from gateway.documents.models import Document
from gateway.workflow import access, content
from gateway.workflow.errors import NotAllowedChange, ReferralNotFound
from gateway.workflow.models import Referral
from kernel.caller import Caller

__all__ = ["attachable", "check_attachments", "of_referral", "readable_through_referral"]


def attachable(
    session: Session, caller: Caller, referral_id: uuid.UUID, client_id: uuid.UUID
) -> None:
    try:
        referral = access.get_visible(session, caller, referral_id)
    except ReferralNotFound:
        raise DocumentInvalid("No such referral for your organisation.") from None
    if referral.client_id != client_id:
        raise DocumentInvalid("The document's client is not the referral's client.")


def readable_through_referral(session: Session, caller: Caller, document: Document) -> bool:
    if document.referral_id is None:
        return False
    referral = session.scalars(
        select(Referral).where(Referral.id == document.referral_id, access.visible_clause(caller))
    ).first()
    if referral is None or referral.client_id != document.client_id:
        return False
    parties = {referral.requester_org_id, referral.owner_org_id}
    if document.organisation_id not in parties or caller.organisation_id not in parties:
        return False
    decided = content.current_permission(
        session, caller, referral, caller.organisation_id, referral.kind
    )
    return DataCategory.DOCUMENTS in decided.permitted_categories


def check_attachments(
    session: Session, caller: Caller, referral: Referral, document_ids: list[uuid.UUID]
) -> None:
    """Thread attachments must be documents of this referral uploaded by the caller's side."""
    for document_id in document_ids:
        document = session.get(Document, document_id)
        if (
            document is None
            or document.referral_id != referral.id
            or document.organisation_id != caller.organisation_id
        ):
            raise NotAllowedChange(
                f"Document {document_id} is not one your organisation attached to this "
                "referral (upload it with POST /documents and referral_id first)."
            )


def of_referral(
    session: Session, caller: Caller, referral: Referral
) -> list[documents_service.DocumentView]:
    """The documents attached to the referral that the caller may read now (either side's
    uploads, as the access rules allow), oldest first, with their titles; each audited as
    viewed."""
    rows = session.scalars(
        select(Document)
        .where(Document.referral_id == referral.id)
        .order_by(Document.created_at, Document.id)
    )
    return [
        documents_service.describe(session, caller, document_id=d.id)
        for d in rows
        if document_access.ACCESS.may_read(session, caller, d)
    ]


document_access.register_referral_check(attachable)
document_access.register_read_rule(readable_through_referral)
