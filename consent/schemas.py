"""API shapes of the consent package (tables live in models.py).

Inputs are deliberately permissive about what is *missing* (grantor, recipients,
purposes): the service refuses such consents itself so that each refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters import DataCategory
from consent.models import GrantMethod, GrantorRelationship, LinkKind, ProvisionKind, Purpose
from kernel.inputs import IsoDate, IsoDateTime, StrictInt
from kernel.organisations import OrgType

__all__ = [
    "ClientCreate",
    "ClientRead",
    "ConsentCreate",
    "ConsentRead",
    "DecideRequest",
    "DecisionRead",
    "GrantorIn",
    "IdentifierIn",
    "IdentityIn",
    "LinkCreate",
    "LinkRead",
    "PageLinkCreate",
    "PageLinkRead",
    "ProvisionIn",
    "ProvisionRead",
    "RecipientIn",
    "RevokeRequest",
    "consent_read",
]

Language = Literal["en", "fr", "ar", "uk"]


class IdentityIn(BaseModel):
    """The minimal identity kept (encrypted) for consent and matching."""

    name: str = Field(min_length=1, max_length=200)
    birth_date: IsoDate | None = None
    preferred_language: Language = "en"
    contact: str | None = Field(default=None, max_length=200, description="Phone or email.")


class IdentifierIn(BaseModel):
    system: str = Field(min_length=1, max_length=200, description="The agency's id namespace.")
    value: str = Field(min_length=1, max_length=100)


class ClientCreate(BaseModel):
    identity: IdentityIn
    identifiers: list[IdentifierIn] = Field(default_factory=list, max_length=20)


class IdentifierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organisation_id: uuid.UUID
    system: str
    value: str


class ClientRead(BaseModel):
    """A client as its registering organisation sees it (identity included)."""

    id: uuid.UUID
    registered_by_org_id: uuid.UUID
    created_at: dt.datetime
    identity: IdentityIn | None = None
    identifiers: list[IdentifierRead] = Field(default_factory=list)


class LinkCreate(BaseModel):
    related_id: uuid.UUID
    kind: LinkKind
    relationship: str = Field(min_length=1, max_length=40)


class LinkRead(LinkCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: uuid.UUID


class RecipientIn(BaseModel):
    organisation_id: uuid.UUID | None = None
    organisation_type: OrgType | None = None


class ProvisionIn(BaseModel):
    kind: ProvisionKind = ProvisionKind.PERMIT
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=50)
    purposes: list[Purpose] = Field(default_factory=list)
    categories: list[DataCategory] = Field(default_factory=list)
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


class GrantorIn(BaseModel):
    relationship: GrantorRelationship | None = None
    client_id: uuid.UUID | None = Field(
        default=None, description="The guardian's own client record, if registered."
    )


class ConsentCreate(BaseModel):
    grantor: GrantorIn | None = None
    method: GrantMethod
    witness: str | None = Field(default=None, max_length=200)
    period_start: IsoDateTime | None = None
    period_end: IsoDateTime | None = None
    language: Language = "en"
    provisions: list[ProvisionIn] = Field(default_factory=list, max_length=50)


class ProvisionRead(BaseModel):
    kind: ProvisionKind
    recipients: list[RecipientIn]
    purposes: list[str]
    categories: list[str]
    period_start: dt.datetime | None
    period_end: dt.datetime | None


class ConsentRead(BaseModel):
    id: uuid.UUID = Field(description="This version's id.")
    series_id: uuid.UUID
    version: int
    client_id: uuid.UUID
    status: str
    revoked_via: str | None
    recorded_by_org_id: uuid.UUID
    recorded_at: dt.datetime
    grantor_relationship: str
    grantor_id: uuid.UUID | None
    method: str
    witness: str | None
    period_start: dt.datetime
    period_end: dt.datetime | None
    language: str
    provisions: list[ProvisionRead]


class RevokeRequest(BaseModel):
    reason: Literal["client-instruction", "client-withdrew", "recorded-in-error"] = (
        "client-instruction"
    )


class DecideRequest(BaseModel):
    client_id: uuid.UUID
    recipient_organisation_id: uuid.UUID
    purpose: Purpose
    categories: list[DataCategory] = Field(min_length=1)
    override_code: str | None = None
    override_reason: str | None = Field(default=None, max_length=1000)


class DecisionRead(BaseModel):
    permit: bool
    permitted_categories: list[DataCategory]
    consent_version: uuid.UUID | None
    consent_versions: list[uuid.UUID]
    reasons: list[str]
    override: bool


class PageLinkCreate(BaseModel):
    language: Language | None = None
    second_check: Literal["code", "birth-date"] = "code"
    valid_minutes: StrictInt = Field(default=60 * 24, ge=5, le=60 * 24 * 7)


class PageLinkRead(BaseModel):
    url: str
    expires_at: dt.datetime
    code: str | None = Field(description="The short code to give the client (once).")


def consent_read(record: Any, provisions: list[tuple[Any, list[Any]]]) -> ConsentRead:
    """The API shape of one consent version (a `ConsentRecord` and its provisions)."""
    return ConsentRead(
        id=record.id,
        series_id=record.series_id,
        version=record.version,
        client_id=record.client_id,
        status=record.status,
        revoked_via=record.revoked_via,
        recorded_by_org_id=record.recorded_by_org_id,
        recorded_at=record.recorded_at,
        grantor_relationship=record.grantor_relationship,
        grantor_id=record.grantor_id,
        method=record.method,
        witness=record.witness,
        period_start=record.period_start,
        period_end=record.period_end,
        language=record.language,
        provisions=[
            ProvisionRead(
                kind=ProvisionKind(p.kind),
                recipients=[
                    RecipientIn(
                        organisation_id=r.organisation_id,
                        organisation_type=OrgType(r.organisation_type)
                        if r.organisation_type
                        else None,
                    )
                    for r in recipients
                ],
                purposes=p.purposes.split(),
                categories=p.categories.split(),
                period_start=p.period_start,
                period_end=p.period_end,
            )
            for p, recipients in provisions
        ],
    )
