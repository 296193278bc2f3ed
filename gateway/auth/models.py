"""Organisations of the network and their staff, with sign-in sessions."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow
from kernel.organisations import OrgType

__all__ = ["OrgStatus", "OrgType", "Organisation", "StaffSession", "User"]


class OrgStatus(enum.StrEnum):
    APPLIED = "applied"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class Organisation(Base):
    """A member of the referral network; it acts only while `active`."""

    __tablename__ = "gateway_auth_organisation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    org_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=OrgStatus.APPLIED, index=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    status_reason: Mapped[str | None] = mapped_column(String(500))


class User(Base):
    """A staff member of one organisation."""

    __tablename__ = "gateway_auth_user"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gateway_auth_organisation.id"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    team: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    # Wrong authenticator codes since the last one accepted; a correct password does not
    # reset it, so signing in again does not buy more guesses at the second factor.
    totp_failures: Mapped[int] = mapped_column(default=0)
    # The RFC 6238 time step of the last code accepted: that code, and older ones, are
    # refused from then on (no replay within the code's window).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StaffSession(Base):
    """A server-side sign-in session; the cookie holds a random token, the row its hash."""

    __tablename__ = "gateway_auth_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gateway_auth_user.id"), index=True)
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
