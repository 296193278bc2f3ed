"""Saved versions of directory listings (a table of `directory.models`, kept apart for size)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = ["ServiceVersion"]


class ServiceVersion(Base):
    """One saved version of a listing (its HSDS JSON): who changed it, when, how."""

    __tablename__ = "directory_service_version"
    __table_args__ = (UniqueConstraint("service_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
