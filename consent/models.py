"""Consent tables: clients (data subjects), their links, consent records and page tokens.

Consent records are append-only: a change, a revocation or an expiry adds a new version
of the same series; the latest version of a series is the one in force. Nothing here is
ever updated except the single-use state of page tokens and sessions.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, new_id, utcnow

__all__ = [
    "Client",
    "ClientIdentifier",
    "ClientLink",
    "ConsentRecord",
    "ConsentStatus",
    "ErasureBasis",
    "GrantMethod",
    "GrantorRelationship",
    "LinkKind",
    "PageSession",
    "PageToken",
    "Provision",
    "ProvisionKind",
    "ProvisionRecipient",
    "Purpose",
    "RevokedVia",
]


class Purpose(enum.StrEnum):
    """Why data may be disclosed."""

    REFERRAL = "referral"
    HANDOVER = "handover"
    SERVICE_COORDINATION = "service-coordination"
    FOLLOW_UP = "follow-up"


class ProvisionKind(enum.StrEnum):
    PERMIT = "permit"
    DENY = "deny"


class ConsentStatus(enum.StrEnum):
    """FHIR R4 consent-state-codes used by the hub."""

    ACTIVE = "active"
    INACTIVE = "inactive"  # revoked or expired: see `revoked_via`


class GrantMethod(enum.StrEnum):
    WRITTEN = "written"
    VERBAL = "verbal"  # needs a witness
    ELECTRONIC = "electronic"


class GrantorRelationship(enum.StrEnum):
    """Who gave consent: the client, or someone with the right to decide for them."""

    SELF = "self"
    PARENT = "parent"
    GUARDIAN = "guardian"
    LEGAL_REPRESENTATIVE = "legal-representative"


class RevokedVia(enum.StrEnum):
    STAFF = "staff"  # on the client's instruction
    CLIENT = "client"  # on the consent page
    EXPIRY = "expiry"  # the period ended (sweep task)
    ERASURE = "erasure"  # the client's data was erased (crypto-shredding)


class ErasureBasis(enum.StrEnum):
    """The legal ground on which a client's data is erased."""

    RETENTION_ENDED = "retention-ended"
    DATA_SUBJECT_REQUEST = "data-subject-request"
    COURT_ORDER = "court-order"


class LinkKind(enum.StrEnum):
    FAMILY = "family"
    GUARDIAN = "guardian"  # `related_id` is the guardian of `client_id`


class Client(Base):
    """A data subject. `id` is the hub-wide pseudonym; identity is encrypted at rest.

    `wrapped_key` is the client's data key wrapped by the key-encryption key `kek_id`;
    erasure sets it (and `identity_ciphertext`) to NULL, which makes everything sealed for
    the client unreadable, and records when and on which basis (`erased_at`,
    `erasure_basis`). `kek_id` then still names the KEK that wrapped the destroyed key.
    """

    __tablename__ = "consent_client"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    registered_by_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kek_id: Mapped[str] = mapped_column(String(32), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    identity_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Counts changes of the identity (FHIR Patient.meta.versionId); only the current
    #: version is kept.
    identity_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[dt.datetime | None]
    erasure_basis: Mapped[str | None] = mapped_column(String(40))


class ClientIdentifier(Base):
    """The identifier one agency uses for a client (its case number)."""

    __tablename__ = "consent_client_identifier"
    __table_args__ = (UniqueConstraint("organisation_id", "system", "value"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    organisation_id: Mapped[uuid.UUID]
    system: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClientLink(Base):
    """A family member of a client, or a guardian of a child, with the relationship."""

    __tablename__ = "consent_client_link"
    __table_args__ = (UniqueConstraint("client_id", "related_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    related_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    relationship: Mapped[str] = mapped_column(String(40))
    created_by_org_id: Mapped[uuid.UUID]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConsentRecord(Base):
    """One version of a consent. Never updated: changes add the next version."""

    __tablename__ = "consent_record"
    __table_args__ = (
        UniqueConstraint("series_id", "version"),
        CheckConstraint("period_end IS NULL OR period_end > period_start", name="period_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    series_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int]
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    recorded_by_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    grantor_relationship: Mapped[str] = mapped_column(String(40))
    grantor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consent_client.id"))
    method: Mapped[str] = mapped_column(String(20))
    witness: Mapped[str | None] = mapped_column(String(200))
    period_start: Mapped[dt.datetime]
    period_end: Mapped[dt.datetime | None] = mapped_column(index=True)
    revoked_via: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(10), default="en")


class Provision(Base):
    """A permit or deny rule of one consent version.

    `purposes` and `categories` are space-separated codes with a leading and trailing
    space (`" referral handover "`), so a portable LIKE finds one code. Empty means "any"
    (allowed for deny rules only; a permit must name what it permits).
    """

    __tablename__ = "consent_provision"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_record.id"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    purposes: Mapped[str] = mapped_column(String(200))
    categories: Mapped[str] = mapped_column(String(300))
    period_start: Mapped[dt.datetime | None]
    period_end: Mapped[dt.datetime | None]


class ProvisionRecipient(Base):
    """Who a provision is about: one organisation, or every organisation of a type."""

    __tablename__ = "consent_provision_recipient"
    __table_args__ = (
        CheckConstraint(
            "(organisation_id IS NULL) <> (organisation_type IS NULL)", name="one_recipient"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_provision.id"), index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    organisation_type: Mapped[str | None] = mapped_column(String(40))


class PageToken(Base):
    """A single-use, expiring consent-page link; only hashes are stored."""

    __tablename__ = "consent_page_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    check_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    failed_checks: Mapped[int] = mapped_column(default=0)


class PageSession(Base):
    """The short session a used page token was exchanged for (cookie holds the secret)."""

    __tablename__ = "consent_page_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_client.id"), index=True)
    token_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_page_token.id"))
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
