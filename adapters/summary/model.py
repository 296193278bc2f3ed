"""The refhub case summary: typed model of the hub's own JSON format (one referral).

Modelled on the IASC inter-agency referral form. The published JSON Schema
(``adapters/summary/schema.json``) is generated from these classes; a test keeps the two equal.
Unknown fields are accepted, reported as warnings and ignored (see :mod:`adapters.summary.format`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Collection
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from adapters import codes

__all__ = [
    "Address",
    "Attachment",
    "CaseSummary",
    "Client",
    "ConsentRef",
    "ContactPreferences",
    "FamilyMember",
    "Goal",
    "Identifier",
    "Language",
    "Minor",
    "Name",
    "Need",
    "Note",
    "OrganizationRef",
    "Party",
    "Receiver",
    "Referral",
    "Risk",
    "ServiceReceived",
    "ServiceRef",
    "ServiceRequested",
    "Worker",
]


def _one_of(values: Collection[str], what: str) -> Callable[[str], str]:
    allowed = ", ".join(values)

    def check(v: str) -> str:
        if v not in values:
            raise ValueError(f"unknown {what} {v!r}; expected one of {allowed}")
        return v

    return check


def _check_date(v: str) -> str:
    parts = v.split("-")
    try:
        if len(parts) == 3:
            dt.date.fromisoformat(v)
        elif len(parts) == 2:
            dt.date(int(parts[0]), int(parts[1]), 1)
    except ValueError:
        raise ValueError(f"{v!r} is not a calendar date; expected YYYY-MM-DD") from None
    return v


def _check_base64(v: str) -> str:
    try:
        base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64; expected base64 without line breaks") from None
    return v


def _enum(values: Collection[str], what: str) -> AfterValidator:
    return AfterValidator(_one_of(values, what))


def _schema_enum(values: Collection[str]) -> dict[str, list[str]]:
    return {"enum": list(values)}


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Date = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_check_date)
]
PartialDate = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
    AfterValidator(_check_date),
    Field(description="YYYY, YYYY-MM or YYYY-MM-DD"),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()./-]{2,30}$")
]
Email = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s|]+@[^@\s|]+$")]
LanguageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
    Field(description="BCP 47 language tag, e.g. fa, prs, ar-SY"),
]
DomainKey = Annotated[
    str, _enum(codes.DOMAINS, "domain"), Field(json_schema_extra=_schema_enum(codes.DOMAINS))
]
Gender = Literal["male", "female", "other", "unknown"]


def _ref(kind: str) -> object:
    return StringConstraints(pattern=rf"^{kind}/[A-Za-z0-9\-.]{{1,64}}$")


OrgReference = Annotated[str, _ref("Organization")]
ServiceReference = Annotated[str, _ref("HealthcareService")]
ConsentReference = Annotated[str, _ref("Consent")]


class _Model(BaseModel):
    # Unknown fields are kept long enough to be reported as warnings, then dropped.
    model_config = ConfigDict(extra="allow", frozen=False)


class _NotEmpty(_Model):
    """A block that must say something: FHIR has no empty elements."""

    @model_validator(mode="after")
    def _not_empty(self) -> _NotEmpty:
        if all(getattr(self, f) is None for f in type(self).model_fields):
            raise ValueError("give at least one field or leave the whole block out")
        return self


class Name(_Model):
    """A person's name as written by the agency (not split further)."""

    given: Short | None = None
    family: Short | None = None

    @model_validator(mode="after")
    def _some_part(self) -> Name:
        if self.given is None and self.family is None:
            raise ValueError("a name needs a given or a family part")
        return self


class Identifier(_Model):
    """An identity number: UNHCR individual number, national id, passport..."""

    type: Annotated[
        str,
        _enum(codes.IDENTIFIER_TYPES.keys, "identifier type"),
        Field(json_schema_extra=_schema_enum(codes.IDENTIFIER_TYPES.keys)),
    ]
    value: Short
    issuer: Short | None = None


class Address(_NotEmpty):
    """Where the client lives now (camp, settlement, town)."""

    line: Short | None = None
    city: Short | None = None
    district: Short | None = None
    region: Short | None = None
    postal_code: Short | None = None
    country: Short | None = None


class Language(_Model):
    """A language the client speaks."""

    code: LanguageCode
    preferred: bool = False


class ContactPreferences(_NotEmpty):
    """How and whether the client may be contacted safely."""

    method: (
        Annotated[
            str,
            _enum(codes.CONTACT_METHODS.keys, "contact method"),
            Field(json_schema_extra=_schema_enum(codes.CONTACT_METHODS.keys)),
        ]
        | None
    ) = None
    safe_to_contact: bool | None = None
    instructions: Text | None = None


class Client(_Model):
    """The person the referral is about."""

    name: Name | None = None
    birth_date: PartialDate | None = None
    gender: Gender | None = None
    identifiers: list[Identifier] = []
    address: Address | None = None
    phone: Phone | None = None
    email: Email | None = None
    languages: list[Language] = []
    interpreter_needed: bool | None = None
    contact_preferences: ContactPreferences | None = None


class Minor(_Model):
    """IASC minor block: only for a client under 18."""

    separation: Literal["accompanied", "separated", "unaccompanied"]
    caregiver_informed: bool | None = None
    caregiver_not_informed_reason: Text | None = None


class FamilyMember(_Model):
    """A family or household member (FHIR RelatedPerson)."""

    relationship: Annotated[
        str,
        _enum(codes.RELATIONSHIPS.keys, "relationship"),
        Field(json_schema_extra=_schema_enum(codes.RELATIONSHIPS.keys)),
    ]
    name: Name | None = None
    birth_date: PartialDate | None = None
    gender: Gender | None = None
    caregiver: bool = False
    phone: Phone | None = None


class OrganizationRef(_Model):
    """An agency: its hub directory reference when known, and its name."""

    name: Short
    reference: OrgReference | None = None


class ServiceRef(_NotEmpty):
    """A service in the hub directory."""

    name: Short | None = None
    reference: ServiceReference | None = None


class Worker(_Model):
    """A case worker or focal point."""

    name: Short
    position: Short | None = None
    phone: Phone | None = None
    email: Email | None = None


class Party(_Model):
    """Referred by: the agency and its case worker."""

    organization: OrganizationRef
    worker: Worker | None = None


class Receiver(_Model):
    """Referred to: the agency, the service and the focal point."""

    organization: OrganizationRef
    service: ServiceRef | None = None
    worker: Worker | None = None


class ServiceRequested(_Model):
    """A service asked for (IASC checklist), with optional details."""

    domain: DomainKey
    details: Text | None = None


class Referral(_Model):
    """What is asked, by whom, of whom, how urgently."""

    kind: Literal["referral", "handover"] = "referral"
    priority: Literal["24h", "72h", "2weeks"]
    date: Date
    referred_by: Party
    referred_to: Receiver
    services_requested: Annotated[list[ServiceRequested], Field(min_length=1)]
    delivery_channel: (
        Annotated[
            str,
            _enum(codes.DELIVERY_CHANNELS.keys, "delivery channel"),
            Field(json_schema_extra=_schema_enum(codes.DELIVERY_CHANNELS.keys)),
        ]
        | None
    ) = None
    reason: Text | None = None
    do_not_contact_client: bool = False


class Need(_Model):
    """A need or vulnerability (FHIR Condition)."""

    domain: DomainKey
    description: Text | None = None
    severity: Literal["mild", "moderate", "severe"] | None = None


class Risk(_Model):
    """A risk identified at assessment (FHIR Observation)."""

    domain: DomainKey
    level: Literal["low", "moderate", "high"] | None = None
    description: Text | None = None


class Note(_Model):
    """A strength or barrier from the assessment (FHIR Observation)."""

    description: Text
    domain: DomainKey | None = None


class Goal(_Model):
    """A service-plan goal (FHIR Goal, listed in the CarePlan)."""

    description: Text
    domain: DomainKey | None = None
    status: Literal[
        "proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled"
    ] = "active"
    target_date: Date | None = None


class ServiceReceived(_Model):
    """A service already provided (a completed CarePlan activity)."""

    domain: DomainKey
    details: Text | None = None
    provider: Short | None = None
    date: Date | None = None


class ConsentRef(_Model):
    """The hub Consent the referral relies on; it names both agencies."""

    reference: ConsentReference
    description: Short | None = None


class Attachment(_Model):
    """A document, inline (base64 ``data``) or by ``url``; exactly one of the two."""

    title: Short
    content_type: Annotated[str, StringConstraints(pattern=r"^[\w.+-]+/[\w.+-]+$")]
    data: Annotated[str, AfterValidator(_check_base64)] | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    language: LanguageCode | None = None

    @model_validator(mode="after")
    def _data_or_url(self) -> Attachment:
        if (self.data is None) == (self.url is None):
            raise ValueError("an attachment needs exactly one of data or url")
        return self


class CaseSummary(_Model):
    """One referral or handover in the refhub case summary format (version 1)."""

    version: Literal["1"] = "1"
    case_id: Annotated[Short, Field(description="the referring agency's case code")]
    referral: Referral
    client: Client
    minor: Minor | None = None
    household_size: Annotated[int, Field(ge=1, le=100)] | None = None
    family: list[FamilyMember] = []
    needs: list[Need] = []
    risks: list[Risk] = []
    strengths: list[Note] = []
    barriers: list[Note] = []
    goals: list[Goal] = []
    services_received: list[ServiceReceived] = []
    consent: ConsentRef | None = None
    summary: Text | None = None
    attachments: list[Attachment] = []
