"""HSDS 3.0 JSON for directory rows (pure mapping, no queries).

Optional HSDS fields with no value are left out (the schemas type them as non-null).
Populations served are HSDS attributes whose taxonomy term is in the population taxonomy;
categories and types are attributes with their own taxonomies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from directory.details import Details
from directory.hsds_merge import merge
from directory.models import (
    DirLocation,
    DirOrganization,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from directory.vocabulary import POPULATION_SYSTEM, POPULATIONS

__all__ = [
    "HSDS_VERSION",
    "location_document",
    "modelled_document",
    "organization_document",
    "population_term_id",
    "service_at_location_document",
    "service_document",
    "taxonomy_document",
    "term_document",
    "without_organization",
]

HSDS_VERSION = "3.0"
POPULATION_TAXONOMY_ID = uuid.uuid5(uuid.NAMESPACE_URL, POPULATION_SYSTEM)
#: The population taxonomy's id in documents written before migration 0015 (old URL).
LEGACY_POPULATION_TAXONOMY_ID = uuid.uuid5(
    uuid.NAMESPACE_URL, "https://refhub.example.org/CodeSystem/population-served"
)


def population_term_id(code: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{POPULATION_SYSTEM}#{code}")


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def taxonomy_document(taxonomy: Taxonomy) -> dict[str, Any]:
    return _clean(
        {
            "id": str(taxonomy.id),
            "name": taxonomy.name,
            "description": taxonomy.description or taxonomy.name,
            "uri": taxonomy.uri,
            "version": taxonomy.version,
        }
    )


def term_document(term: TaxonomyTerm, taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    return _clean(
        {
            "id": str(term.id),
            "code": term.code,
            "name": term.name,
            "description": term.description or term.name,
            "parent_id": str(term.parent_id) if term.parent_id else None,
            "taxonomy": taxonomy.name if taxonomy is not None else None,
            "taxonomy_id": str(term.taxonomy_id),
            "taxonomy_detail": taxonomy_document(taxonomy) if taxonomy is not None else None,
            "term_uri": term.term_uri,
        }
    )


def _population_term(code: str) -> dict[str, Any]:
    return {
        "id": str(population_term_id(code)),
        "code": code,
        "name": POPULATIONS.get(code, code),
        "description": f"Service for {POPULATIONS.get(code, code)}",
        "taxonomy": "refhub populations served",
        "taxonomy_id": str(POPULATION_TAXONOMY_ID),
        "taxonomy_detail": {
            "id": str(POPULATION_TAXONOMY_ID),
            "name": "refhub populations served",
            "description": "Populations a service is for.",
            "uri": POPULATION_SYSTEM,
        },
        "term_uri": f"{POPULATION_SYSTEM}#{code}",
    }


def _attribute(link_id: uuid.UUID, term: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(link_id, term["id"])),
        "link_id": str(link_id),
        "link_type": "service",
        "link_entity": "service",
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }


def organization_document(org: DirOrganization) -> dict[str, Any]:
    doc = _clean(
        {
            "id": str(org.id),
            "name": org.name,
            "alternate_name": org.alternate_name,
            "description": org.description or org.name,
            "email": org.email,
            "website": org.website,
        }
    )
    if org.identifier:
        doc["organization_identifiers"] = [
            {
                "id": str(uuid.uuid5(org.id, org.identifier)),
                "organization_id": str(org.id),
                "identifier_type": org.identifier_type or "local",
                "identifier": org.identifier,
            }
        ]
    doc["phones"] = [{"organization_id": str(org.id), **p} for p in org.phones]
    return doc


def location_document(loc: DirLocation) -> dict[str, Any]:
    doc = _clean(
        {
            "id": str(loc.id),
            "location_type": loc.location_type,
            "organization_id": str(loc.organization_id),
            "name": loc.name,
            "description": loc.description,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
        }
    )
    if loc.address_1 and loc.city and loc.postal_code and loc.country:
        doc["addresses"] = [
            _clean(
                {
                    "id": str(uuid.uuid5(loc.id, "address")),
                    "location_id": str(loc.id),
                    "address_1": loc.address_1,
                    "city": loc.city,
                    "region": loc.region,
                    "state_province": loc.state_province or loc.region or loc.city,
                    "postal_code": loc.postal_code,
                    "country": loc.country,
                    "address_type": "physical",
                }
            )
        ]
    doc["accessibility"] = [{"location_id": str(loc.id), **a} for a in loc.accessibility]
    doc["phones"] = [{"location_id": str(loc.id), **p} for p in loc.phones]
    return doc


def service_at_location_document(
    sal: ServiceAtLocation, loc: DirLocation, service: dict[str, Any]
) -> dict[str, Any]:
    """One `/service_at_locations` row: the link, its location and its service's document
    (the link as the full service document has it, with its contacts, phones, schedules)."""
    nested = service.get("service_at_locations")
    found = [x for x in nested if x.get("id") == str(sal.id)] if isinstance(nested, list) else []
    link = found[0] if found else {}
    return _clean(
        {
            "id": str(sal.id),
            "service_id": str(sal.service_id),
            "location_id": str(loc.id),
            "description": sal.description,
            **{k: v for k, v in link.items() if k not in ("service", "location")},
            "service": service,
            "location": link.get("location") or location_document(loc),
        }
    )


def without_organization(service: dict[str, Any]) -> dict[str, Any]:
    """A service document nested in its organization's (no `organization` inside)."""
    return {k: v for k, v in service.items() if k != "organization"}


def service_document(
    details: Details, *, members: bool = False, full: bool = True
) -> dict[str, Any]:
    """The listing as an HSDS 3.0 service; `full` nests related objects (the `/services/{id}`
    shape), otherwise the list shape. `members` adds refhub's network-only extension.

    An imported listing gives back its document as imported wherever refhub has not changed
    it since (`directory.hsds_merge`): fields refhub does not model come back as given."""
    s = details.service
    doc = modelled_document(details)
    if s.hsds_source is not None and s.hsds_base is not None:
        doc = merge(s.hsds_source, s.hsds_base, doc)
    if not members:
        doc = {k: v for k, v in doc.items() if k != "refhub"}
    if not full:
        doc = {
            k: v for k, v in doc.items() if k == "organization" or not isinstance(v, list | dict)
        }
    return doc


def modelled_document(details: Details) -> dict[str, Any]:
    """The full document refhub writes from its rows (with its network extension)."""
    s = details.service
    sid = str(s.id)
    doc = _clean(
        {
            "id": sid,
            "organization_id": str(s.organization_id),
            "name": s.name,
            "alternate_name": s.alternate_name,
            "description": s.description,
            "url": s.url,
            "email": s.email,
            "status": s.status,
            "application_process": s.application_process,
            "fees_description": s.fees_description,
            "eligibility_description": s.eligibility_description,
            "minimum_age": s.minimum_age,
            "maximum_age": s.maximum_age,
            "alert": s.capacity_note,
            "last_modified": _when(s.updated_at),
        }
    )
    doc["organization"] = organization_document(details.organization)
    doc["phones"] = [{"service_id": sid, **p} for p in s.phones]
    doc["contacts"] = [
        {
            **c,
            "service_id": sid,
            "phones": [_clean({**p, "contact_id": c.get("id")}) for p in c.get("phones", [])],
        }
        for c in s.contacts
    ]
    doc["cost_options"] = [{**c, "service_id": sid} for c in s.cost_options]
    doc["required_documents"] = [{"service_id": sid, **d} for d in s.required_documents]
    doc["languages"] = [
        {"id": str(uuid.uuid5(s.id, "lang:" + code)), "service_id": sid, "code": code}
        for code in details.languages
    ]
    doc["schedules"] = [
        _clean(
            {
                "id": str(sched.id),
                "service_id": sid,
                "timezone": _utc_offset(s.timezone, s.updated_at),
                "freq": "WEEKLY",
                "byday": sched.byday,
                "opens_at": sched.opens_at,
                "closes_at": sched.closes_at,
                "description": sched.description,
            }
        )
        for sched in details.schedules
    ]
    doc["service_areas"] = [
        _clean(
            {
                "id": str(area.id),
                "service_id": sid,
                "name": area.name,
                "description": area.description,
                "extent": _geojson_text(area.extent),
                "extent_type": "geojson",
            }
        )
        for area in details.areas
    ]
    doc["service_at_locations"] = [
        _clean(
            {
                "id": str(sal.id),
                "service_id": sid,
                "location_id": str(loc.id),
                "description": sal.description,
                "location": location_document(loc),
            }
        )
        for sal, loc in details.locations
    ]
    attributes = [_attribute(s.id, term_document(t.term, t.taxonomy)) for t in details.terms]
    attributes += [_attribute(s.id, _population_term(code)) for code in details.populations]
    doc["attributes"] = attributes
    doc["refhub"] = network_extras(details)
    return doc


def network_extras(details: Details) -> dict[str, Any]:
    """What HSDS 3.0 has no field for (kept beside it, never shown to the public)."""
    s = details.service
    endpoint = details.endpoint
    return _clean(
        {
            "visibility": s.visibility,
            "moderation": s.moderation,
            "owner_organisation_id": str(s.owner_organisation_id)
            if s.owner_organisation_id
            else None,
            "accepts_electronic_referrals": s.accepts_electronic_referrals,
            "capacity": s.capacity,
            "capacity_note": s.capacity_note,
            "wait_time_days": s.wait_time_days,
            "intake_requirements": s.intake_requirements,
            "program": s.program,
            "timezone": s.timezone,
            "populations": details.populations,
            "confirmed_at": _when(s.confirmed_at),
            "stale": s.stale_notified_at is not None,
            "stale_since": _when(s.stale_notified_at) if s.stale_notified_at else None,
            "endpoint": _clean(
                {
                    "id": str(endpoint.id),
                    "connection_type": endpoint.connection_type,
                    "address": endpoint.address,
                    "payload_types": endpoint.payload_types,
                    "public_jwk": endpoint.public_jwk,
                    "active": endpoint.active,
                }
            )
            if endpoint is not None
            else None,
        }
    )


def _utc_offset(zone: str, at: dt.datetime) -> float:
    """HSDS 3.0 schedule.timezone is a number (UTC offset in hours): the zone's offset when
    the listing last changed (a document that changes only when the listing does)."""
    import zoneinfo

    offset = at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else 0.0


def _geojson_text(extent: dict[str, Any] | None) -> str | None:
    import json

    return json.dumps(extent, separators=(",", ":")) if extent is not None else None
