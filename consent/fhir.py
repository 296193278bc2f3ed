"""FHIR R4 mapping of consents and clients (Consent, Patient).

A consent version is an R4 Consent as the Gravity SDOH Clinical Care IG profiles it
(scope patient-privacy, category IDSCL, patient, dateTime, organization, source[x]),
with policyRule OPTIN (nothing is disclosed unless a provision permits it), and the
provisions nested under a root `deny` provision carrying the consent period:

    provision (deny, period)            <- R5: Consent.decision = deny, Consent.period
      provision (permit|deny, period,   <- R5: Consent.provision (decision per provision)
                 actor[IRCP], purpose, class)

The internal model already has a top-level decision (deny by default), grantees and
provisions, so an R5/R6 Consent is a mapping of the same rows. Recipients named by
organisation *type* travel in a modifierExtension: a reader that does not understand it
must not treat the provision as applying to everyone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.patient import Patient

from adapters import DataCategory
from consent import fhir_in
from consent.models import ConsentRecord, Provision, ProvisionRecipient
from consent.schemas import ConsentCreate
from consent.standard_codes import ACT_CODE, PURPOSE_SYSTEM

__all__ = [
    "CAPABILITY",
    "EXT",
    "PURPOSE_SYSTEM",
    "consent_from_fhir",
    "consent_to_fhir",
    "patient_to_fhir",
]

SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ORG_TYPE_SYSTEM = "https://refhub.org/fhir/CodeSystem/organisation-type"
_SD = "https://refhub.org/fhir/StructureDefinition/"
EXT = {**fhir_in.EXT, "revoked_via": _SD + "consent-revoked-via"}

Json = dict[str, Any]

#: CapabilityStatement.rest.resource entries for what consent serves.
CAPABILITY: tuple[Json, ...] = (
    {
        "type": "Consent",
        "interaction": [
            {"code": "create"},
            {"code": "read"},
            {"code": "vread"},
            {"code": "update"},
            {"code": "search-type"},
        ],
        "versioning": "versioned",
        "readHistory": True,
        "updateCreate": False,
        "conditionalUpdate": False,
        "searchParam": [
            {"name": "patient", "type": "reference"},
            {"name": "status", "type": "token"},
            {"name": "actor", "type": "reference"},
            {"name": "purpose", "type": "token"},
            {"name": "period", "type": "date"},
        ],
    },
    {
        "type": "Patient",
        "interaction": [
            {"code": "create"},
            {"code": "read"},
            {"code": "vread"},
            {"code": "update"},
        ],
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": True,
    },
)
Provisions = list[tuple[Provision, list[ProvisionRecipient]]]


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _period(start: dt.datetime | None, end: dt.datetime | None) -> Json | None:
    period = {}
    if start is not None:
        period["start"] = _instant(start)
    if end is not None:
        period["end"] = _instant(end)
    return period or None


def _nested(provision: Provision, recipients: list[ProvisionRecipient]) -> Json:
    out: Json = {"type": provision.kind}
    period = _period(provision.period_start, provision.period_end)
    if period:
        out["period"] = period
    types = [r.organisation_type for r in recipients if r.organisation_type]
    if types:
        out["modifierExtension"] = [
            {"url": EXT["org_type"], "valueCoding": {"system": ORG_TYPE_SYSTEM, "code": t}}
            for t in types
        ]
    orgs = [r.organisation_id for r in recipients if r.organisation_id]
    if orgs:
        out["actor"] = [
            {
                "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},
                "reference": {"reference": f"Organization/{org}"},
            }
            for org in orgs
        ]
    if provision.purposes.split():
        out["purpose"] = [{"system": PURPOSE_SYSTEM, "code": p} for p in provision.purposes.split()]
    if provision.categories.split():
        out["class"] = [DataCategory(c).coding() for c in provision.categories.split()]
    return out


def consent_to_fhir(record: ConsentRecord, provisions: Provisions) -> Json:
    """One consent version as an R4 Consent (validated with fhir.resources; ppc-1/2 hold)."""
    patient = f"Patient/{record.client_id}"
    grantor = f"Patient/{record.grantor_id}" if record.grantor_id else patient
    extensions: list[Json] = [
        {"url": EXT["method"], "valueCode": record.method},
        {"url": EXT["grantor"], "valueCode": record.grantor_relationship},
    ]
    if record.witness:
        extensions.append({"url": EXT["witness"], "valueString": record.witness})
    if record.revoked_via:
        extensions.append({"url": EXT["revoked_via"], "valueCode": record.revoked_via})
    performer: Json = {"reference": grantor}
    if record.grantor_relationship != "self" and not record.grantor_id:
        performer = {"display": f"{record.grantor_relationship} of the client"}
    resource: Json = {
        "resourceType": "Consent",
        "id": str(record.series_id),
        "meta": {"versionId": str(record.version), "lastUpdated": _instant(record.recorded_at)},
        "extension": extensions,
        "status": record.status,
        "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": ACT_CODE, "code": "IDSCL"}]}],
        "patient": {"reference": patient},
        "dateTime": _instant(record.recorded_at),
        "performer": [performer],
        "organization": [{"reference": f"Organization/{record.recorded_by_org_id}"}],
        "sourceAttachment": {
            "language": record.language,
            "title": f"Consent recorded in refhub ({record.method})",
            "creation": _instant(record.recorded_at),
        },
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
        "provision": {
            "type": "deny",
            "period": _period(record.period_start, record.period_end),
            "provision": [_nested(p, r) for p, r in provisions],
        },
    }
    Consent.model_validate(resource)
    return resource


def consent_from_fhir(resource: Json) -> tuple[uuid.UUID, ConsentCreate]:
    """The client and consent a posted R4 Consent describes (see `consent.fhir_in`).

    Raises:
        ConsentInvalid: not a valid R4 Consent, or not one this hub can record.
    """
    read = fhir_in.read_consent(resource)
    return read.client_id, read.draft


def patient_to_fhir(
    client_id: uuid.UUID,
    identity: dict[str, Any],
    identifiers: list[tuple[str, str]],
    version: int | None = None,
) -> Json:
    """The client as an R4 Patient: the pseudonymous id, the caller's own identifiers, and
    only the identity fields the caller may see; `version` is the identity's version."""
    resource: Json = {"resourceType": "Patient", "id": str(client_id)}
    if version is not None:
        resource["meta"] = {"versionId": str(version)}
    if identifiers:
        resource["identifier"] = [{"system": s, "value": v} for s, v in identifiers]
    if identity.get("name"):
        resource["name"] = [{"text": identity["name"]}]
    if identity.get("birth_date"):
        resource["birthDate"] = str(identity["birth_date"])
    if identity.get("contact"):
        contact = str(identity["contact"])
        resource["telecom"] = [{"system": "email" if "@" in contact else "phone", "value": contact}]
    if identity.get("preferred_language"):
        resource["communication"] = [
            {
                "language": {
                    "coding": [
                        {"system": "urn:ietf:bcp:47", "code": identity["preferred_language"]}
                    ]
                },
                "preferred": True,
            }
        ]
    Patient.model_validate(resource)
    return resource
