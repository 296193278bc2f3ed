"""Signed checkpoints of the audit chain head."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id

__all__ = ["AuditCheckpoint"]


class AuditCheckpoint(Base):
    """The chain head at one moment, signed with the hub's Ed25519 audit key.

    A checkpoint pins the hash of record `seq`; deleting records after it, or rewriting
    the chain before it, no longer verifies. Only the key file can make a new signature.
    """

    __tablename__ = "gateway_audit_checkpoint"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
