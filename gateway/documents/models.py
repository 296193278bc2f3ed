"""The document table: one attachment about one client, sealed under the client's data key.

`ciphertext` and `title_ciphertext` are sealed with `consent.clients.seal_for_client`
(contexts `document:<id>` and `document-title:<id>`), so erasing the client makes both
unreadable. `sha256` is the digest of the plaintext, for the integrity checks of whoever
receives the document; `size` and `content_type` are checked on the way in.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = ["Document"]


class Document(Base):
    """An attachment. Never updated; `organisation_id` is the uploading organisation."""

    __tablename__ = "document"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    title_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
