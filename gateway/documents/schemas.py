"""Document API shapes: metadata only (the content is served as itself)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel

from gateway.documents.service import DocumentView

__all__ = ["DocumentRead"]


class DocumentRead(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    organisation_id: uuid.UUID
    referral_id: uuid.UUID | None
    title: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime

    @classmethod
    def of(cls, view: DocumentView) -> DocumentRead:
        d = view.document
        return cls(
            id=d.id,
            client_id=d.client_id,
            organisation_id=d.organisation_id,
            referral_id=d.referral_id,
            title=view.title,
            content_type=d.content_type,
            size=d.size,
            sha256=d.sha256,
            created_at=d.created_at,
        )
