"""Document factory for the route-walking isolation test."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from gateway.documents import service
from tests.consent.factories import staff

PDF = b"%PDF-1.7\n% isolation test\n%%EOF\n"


def document_of(db: Session, org_id: uuid.UUID, client_id: uuid.UUID) -> uuid.UUID:
    """A document organisation `org_id` uploaded about its client `client_id`."""
    document = service.store(
        db,
        staff(org_id),
        client_id=client_id,
        referral_id=None,
        title="Isolation test document",
        content_type="application/pdf",
        data=PDF,
    )
    return document.id
