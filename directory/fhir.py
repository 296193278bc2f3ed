"""FHIR R4 resources for directory rows: HealthcareService, Organization, Location, Endpoint.

Plain R4 JSON (only elements R4 has); tests validate it with fhir.resources. Populations
served are coded in HealthcareService.specialty (system `POPULATION_SYSTEM`); capacity is
an extension modelled on Gravity's (status + note).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from directory.details import Details
from directory.models import DirEndpoint, DirLocation, DirOrganization
from directory.vocabulary import (
    CAPACITY_EXTENSION_URL,
    CAPACITY_GRAVITY_CODES,
    CAPACITY_GRAVITY_SYSTEM,
    CAPACITY_SYSTEM,
    LANGUAGE_SYSTEM,
    POPULATION_SYSTEM,
    POPULATIONS,
    WAIT_TIME_EXTENSION_URL,
)

__all__ = [
    "CONNECTION_SYSTEM",
    "ENDPOINT_STATUS_SYSTEM",
    "capacity_extensions",
    "endpoint_resource",
    "healthcare_service",
    "location_resource",
    "organization_resource",
]

_FHIR_DAYS = {
    "MO": "mon",
    "TU": "tue",
    "WE": "wed",
    "TH": "thu",
    "FR": "fri",
    "SA": "sat",
    "SU": "sun",
}
CONNECTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
ENDPOINT_STATUS_SYSTEM = "http://hl7.org/fhir/endpoint-status"
_REFERRAL_METHOD = "http://terminology.hl7.org/CodeSystem/service-referral-method"


def _meta(updated: dt.datetime) -> dict[str, Any]:
    return {"lastUpdated": updated.astimezone(dt.UTC).isoformat(timespec="seconds")}


def healthcare_service(details: Details, *, members: bool) -> dict[str, Any]:
    s = details.service
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": str(s.id),
        "meta": _meta(s.updated_at),
        "active": s.status == "active",
        "providedBy": {"reference": f"Organization/{s.organization_id}"},
        "name": s.name,
    }
    categories = [t for t in details.terms if t.term.parent_id is None and t.taxonomy.uri]
    types = [t for t in details.terms if t.term.parent_id is not None and t.taxonomy.uri]
    if categories:
        resource["category"] = [
            {"coding": [{"system": t.taxonomy.uri, "code": t.term.code, "display": t.term.name}]}
            for t in categories
        ]
    if types:
        resource["type"] = [
            {"coding": [{"system": t.taxonomy.uri, "code": t.term.code, "display": t.term.name}]}
            for t in types
        ]
    if details.populations:
        resource["specialty"] = [
            {"coding": [{"system": POPULATION_SYSTEM, "code": c, "display": POPULATIONS[c]}]}
            for c in details.populations
        ]
    if details.locations:
        resource["location"] = [{"reference": f"Location/{loc.id}"} for _, loc in details.locations]
    if s.description:
        resource["comment"] = s.description[:1000]
    if s.intake_requirements:
        resource["extraDetails"] = s.intake_requirements
    telecom = [{"system": "phone", "value": p["number"]} for p in s.phones]
    telecom += [{"system": "email", "value": s.email}] if s.email else []
    telecom += [{"system": "url", "value": s.url}] if s.url else []
    if telecom:
        resource["telecom"] = telecom
    if s.eligibility_description:
        resource["eligibility"] = [{"comment": s.eligibility_description}]
    if s.program:
        resource["program"] = [{"text": s.program}]
    if details.languages:
        resource["communication"] = [
            {"coding": [{"system": LANGUAGE_SYSTEM, "code": code}]} for code in details.languages
        ]
    methods = ["phone"] + (["elec"] if s.accepts_electronic_referrals else [])
    resource["referralMethod"] = [
        {"coding": [{"system": _REFERRAL_METHOD, "code": code}]} for code in methods
    ]
    if details.schedules:
        resource["availableTime"] = [
            {
                "daysOfWeek": [_FHIR_DAYS[d] for d in sched.byday.split(",")],
                "availableStartTime": sched.opens_at + ":00",
                "availableEndTime": sched.closes_at + ":00",
            }
            for sched in details.schedules
        ]
    if s.capacity:
        resource["extension"] = capacity_extensions(s.capacity, s.capacity_note, s.wait_time_days)
    if members and details.endpoint is not None:
        resource["endpoint"] = [{"reference": f"Endpoint/{details.endpoint.id}"}]
    return resource


def capacity_extensions(
    capacity: str, note: str | None, wait_days: int | None
) -> list[dict[str, Any]]:
    """Gravity's capacity status extension (status, and notes: the note and the expected
    wait in words), plus refhub's wait-time extension with the number of days."""
    gravity = CAPACITY_GRAVITY_CODES.get(capacity)
    coding = (
        {"system": CAPACITY_GRAVITY_SYSTEM, "code": gravity[0], "display": gravity[1]}
        if gravity
        else {"system": CAPACITY_SYSTEM, "code": capacity}
    )
    parts: list[dict[str, Any]] = [
        {"url": "capacityStatus", "valueCodeableConcept": {"coding": [coding]}}
    ]
    notes = [text for text in (note, _wait_words(wait_days)) if text]
    if notes:
        parts.append({"url": "capacityNotes", "valueString": "; ".join(notes)})
    out: list[dict[str, Any]] = [{"url": CAPACITY_EXTENSION_URL, "extension": parts}]
    if wait_days is not None:
        out.append({"url": WAIT_TIME_EXTENSION_URL, "valueInteger": wait_days})
    return out


def _wait_words(days: int | None) -> str | None:
    if days is None:
        return None
    return "no wait expected" if days == 0 else f"expected wait {days} day{'s' * (days != 1)}"


def organization_resource(
    org: DirOrganization, endpoint_ids: Sequence[uuid.UUID] = ()
) -> dict[str, Any]:
    """`endpoint_ids`: the organisation's endpoints, given only to network members."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(org.id),
        "meta": _meta(org.updated_at),
        "active": True,
        "name": org.name,
    }
    if org.alternate_name:
        resource["alias"] = [org.alternate_name]
    if org.identifier:
        resource["identifier"] = [
            {
                "system": f"urn:refhub:identifier:{org.identifier_type or 'local'}",
                "value": org.identifier,
            }
        ]
    if org.org_type:
        resource["type"] = [
            {
                "coding": [
                    {
                        "system": "https://refhub.org/fhir/CodeSystem/organisation-type",
                        "code": org.org_type,
                    }
                ]
            }
        ]
    telecom = [{"system": "phone", "value": p["number"]} for p in org.phones]
    telecom += [{"system": "email", "value": org.email}] if org.email else []
    telecom += [{"system": "url", "value": org.website}] if org.website else []
    if telecom:
        resource["telecom"] = telecom
    if endpoint_ids:
        resource["endpoint"] = [{"reference": f"Endpoint/{i}"} for i in endpoint_ids]
    return resource


def location_resource(loc: DirLocation) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(loc.id),
        "meta": _meta(loc.updated_at),
        "status": "active",
        "mode": "instance",
        "managingOrganization": {"reference": f"Organization/{loc.organization_id}"},
    }
    if loc.name:
        resource["name"] = loc.name
    if loc.description:
        resource["description"] = loc.description
    address = {
        k: v
        for k, v in {
            "line": [loc.address_1] if loc.address_1 else None,
            "city": loc.city,
            "district": loc.region,
            "state": loc.state_province,
            "postalCode": loc.postal_code,
            "country": loc.country,
        }.items()
        if v
    }
    if address:
        resource["address"] = address
    if loc.latitude is not None and loc.longitude is not None:
        resource["position"] = {"latitude": loc.latitude, "longitude": loc.longitude}
    if loc.location_type == "virtual":
        resource["physicalType"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                    "code": "vi",
                }
            ]
        }
    return resource


def endpoint_resource(endpoint: DirEndpoint) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Endpoint",
        "id": str(endpoint.id),
        "meta": _meta(endpoint.updated_at),
        "status": "active" if endpoint.active else "off",
        "connectionType": {"system": CONNECTION_SYSTEM, "code": endpoint.connection_type},
        "managingOrganization": {"reference": f"Organization/{endpoint.organization_id}"},
        "payloadType": [{"text": t} for t in endpoint.payload_types] or [{"text": "any"}],
        "payloadMimeType": [t for t in endpoint.payload_types if "/" in t],
        "address": endpoint.address,
    }
    if not resource["payloadMimeType"]:
        del resource["payloadMimeType"]
    if endpoint.name:
        resource["name"] = endpoint.name
    if endpoint.public_jwk:
        resource["extension"] = [
            {
                "url": "https://refhub.org/fhir/StructureDefinition/endpoint-public-jwk",
                "valueString": __import__("json").dumps(endpoint.public_jwk, sort_keys=True),
            }
        ]
    return resource


def _capability(
    kind: str, params: list[tuple[str, str]], *, modifiers: bool = False, **extra: Any
) -> dict[str, Any]:
    """`modifiers`: string parameters take `:exact` and `:contains`."""
    common = [("_id", "token"), ("_lastUpdated", "date"), ("_count", "number")]
    return {
        "type": kind,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [_param(n, t, modifiers) for n, t in common + params],
        **extra,
    }


def _param(name: str, kind: str, modifiers: bool) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "type": kind}
    if kind == "string" and modifiers:
        param["documentation"] = "Starts-with by default; :exact and :contains supported."
    return param


_ADDRESS = [
    ("name", "string"),
    ("address", "string"),
    ("address-city", "string"),
    ("address-postalcode", "string"),
    ("address-country", "string"),
    ("address-state", "string"),
]

#: `_include` / `_revinclude` values the FHIR routes (`directory.fhir_router`) support.
HS_INCLUDES = (
    "HealthcareService:organization",
    "HealthcareService:providedBy",  # the older name, kept as an alias of :organization
    "HealthcareService:location",
    "HealthcareService:endpoint",
)
ORG_INCLUDES = ("Organization:endpoint",)
ORG_REVINCLUDES = ("HealthcareService:organization", "Location:organization")
LOC_INCLUDES = ("Location:organization",)
LOC_REVINCLUDES = ("HealthcareService:location",)

#: CapabilityStatement.rest.resource entries for the directory's FHIR resources.
#: How an Organization id is to be read (CapabilityStatement.rest.resource.documentation).
ORGANIZATION_IDENTITY = (
    "One organisation, one id: a network organisation's Organization id is the id every "
    "Consent, Task, ServiceRequest and referral names. A network organisation without a "
    "directory listing still reads at Organization/{id} (name, type, active) for network "
    "members, and a search by _id alone finds it; imported organisations keep their ids."
)
CAPABILITY: list[dict[str, Any]] = [
    _capability(
        "HealthcareService",
        [
            ("name", "string"),
            ("organization", "reference"),
            ("location", "reference"),
            ("program", "string"),
            ("communication", "token"),
            ("service-category", "token"),
            ("service-type", "token"),
            ("specialty", "token"),
            ("active", "token"),
        ],
        searchInclude=list(HS_INCLUDES),
    ),
    _capability(
        "Organization",
        [*_ADDRESS, ("type", "token"), ("identifier", "token")],
        modifiers=True,
        searchInclude=list(ORG_INCLUDES),
        searchRevInclude=list(ORG_REVINCLUDES),
        documentation=ORGANIZATION_IDENTITY,
    ),
    _capability(
        "Location",
        [*_ADDRESS, ("organization", "reference")],
        modifiers=True,
        searchInclude=list(LOC_INCLUDES),
        searchRevInclude=list(LOC_REVINCLUDES),
    ),
    _capability(
        "Endpoint",
        [("organization", "reference"), ("connection-type", "token"), ("status", "token")],
    ),
]
