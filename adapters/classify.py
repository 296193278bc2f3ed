"""Which data category each resource and element of a packet belongs to.

One table of rules, used by :func:`adapters.minimise` and by anyone who needs to know what a
packet discloses (consent screens, audit). Structural content (the ServiceRequest and Task
themselves, the requested services' codes, staff, Provenance, links to hub resources) has no
category: it is the referral itself and always travels. Everything that says something about
the client does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from adapters import codes
from adapters.categories import DataCategory
from adapters.packet.refs import Path, format_path, packet_dict

__all__ = ["Classified", "categories_present", "classify", "classify_resource"]

C = DataCategory
Json = dict[str, Any]

_ALWAYS = frozenset({"resourceType", "id", "meta"})
_PATIENT = {
    "identifier": C.IDENTITY,
    "name": C.IDENTITY,
    "gender": C.IDENTITY,
    "birthDate": C.IDENTITY,
    "deceasedBoolean": C.HEALTH,
    "deceasedDateTime": C.HEALTH,
    "maritalStatus": C.FAMILY,
    "multipleBirthBoolean": C.FAMILY,
    "multipleBirthInteger": C.FAMILY,
    "photo": C.IDENTITY,
    "contact": C.FAMILY,
    "telecom": C.CONTACT,
    "address": C.CONTACT,
    "communication": C.CONTACT,
}
_PATIENT_EXT = {codes.INTERPRETER_EXT: C.CONTACT, codes.CONTACT_PREFS_EXT: C.CONTACT}
# Structural resources: kept always; elements listed here carry a category.
_STRUCTURAL_ELEMENTS: dict[str, dict[str, C]] = {
    "ServiceRequest": {"reasonCode": C.NEEDS, "note": C.CASE_NOTES},
    "Task": {"note": C.CASE_NOTES, "description": C.CASE_NOTES},
    "Practitioner": {},
    "PractitionerRole": {},
    "Provenance": {},
    "CarePlan": {"note": C.CASE_NOTES, "description": C.CASE_NOTES},
}
_WHOLE = {"RelatedPerson": C.FAMILY, "DocumentReference": C.DOCUMENTS}


@dataclass(frozen=True)
class Classified:
    """One categorised part of a packet.

    Attributes:
        full_url: the entry's fullUrl.
        resource_type: the entry's resource type.
        path: the element inside the resource (``()`` for the whole resource).
        category: the data category it belongs to.
    """

    full_url: str
    resource_type: str
    path: Path
    category: DataCategory

    @property
    def location(self) -> str:
        """Readable location, e.g. ``Patient.telecom`` or ``Condition``."""
        return ".".join(filter(None, [self.resource_type, format_path(self.path)]))


def _domain_category(concepts: Any, default: C) -> C:
    for cc in concepts if isinstance(concepts, list) else [concepts]:
        for c in (cc or {}).get("coding") or []:
            if c.get("system") == codes.CS + "case-domain" and c.get("code") in codes.DOMAINS:
                return codes.DOMAINS[c["code"]].category
            if c.get("system") == codes.SDOH and c.get("code") in codes.SDOH_TO_DOMAIN:
                return codes.DOMAINS[codes.SDOH_TO_DOMAIN[c["code"]]].category
    return default


def _observation_category(obs: Json) -> C:
    coding = ((obs.get("code") or {}).get("coding") or [{}])[0]
    key = (coding.get("system"), coding.get("code"))
    if key == (codes.CS + "assessment", "minor-care"):
        return C.PROTECTION
    if key == (codes.LOINC, codes.HOUSEHOLD_SIZE_LOINC):
        return C.FAMILY
    if key == (codes.CS + "assessment", "risk"):
        return _domain_category(obs.get("category"), C.PROTECTION)
    if key in {(codes.CS + "assessment", "strength"), (codes.CS + "assessment", "barrier")}:
        return _domain_category(obs.get("category"), C.NEEDS)
    # Any other observation (from an agency's FHIR) is treated as clinical.
    return C.HEALTH


def _resource_category(resource: Json) -> C | None:
    kind = resource.get("resourceType", "")
    if kind in _WHOLE:
        return _WHOLE[kind]
    if kind == "Condition":
        return _domain_category(resource.get("category"), C.HEALTH)
    if kind == "Observation":
        return _observation_category(resource)
    if kind == "Goal":
        return _domain_category(resource.get("category"), C.NEEDS)
    if kind in _STRUCTURAL_ELEMENTS or kind == "Patient":
        return None
    # Packets hold no other types (the FHIR adapter drops them); be conservative anyway.
    return C.CASE_NOTES


def classify_resource(resource: Json) -> list[tuple[Path, DataCategory]]:
    """Categories of one resource (FHIR JSON) and of its elements.

    Returns:
        ``[((), category)]`` when the whole resource belongs to one category, else the
        ``(element path, category)`` of every element that carries a category (elements
        not listed are structural and always travel).
    """
    category = _resource_category(resource)
    if category is not None:
        return [((), category)]
    kind = resource["resourceType"]
    out: list[tuple[Path, DataCategory]] = []
    if kind == "Patient":
        for key, value in resource.items():
            if key == "extension":
                for i, ext in enumerate(value):
                    out.append((("extension", i), _PATIENT_EXT.get(ext.get("url"), C.IDENTITY)))
            elif key not in _ALWAYS and key != "active":
                out.append(((key,), _PATIENT.get(key, C.IDENTITY)))
        return out
    rules = _STRUCTURAL_ELEMENTS[kind]
    for key in resource:
        if key in rules:
            out.append(((key,), rules[key]))
        elif key in {"text", "contained"}:
            out.append(((key,), C.CASE_NOTES))
    if kind == "ServiceRequest":
        for i, cc in enumerate(resource.get("category") or []):
            if "text" in cc:
                out.append((("category", i, "text"), _domain_category(cc, C.NEEDS)))
    if kind == "CarePlan":
        for i, act in enumerate(resource.get("activity") or []):
            if "detail" in act:
                out.append((("activity", i), _domain_category(act["detail"].get("code"), C.NEEDS)))
    return out


def _iter(data: Json) -> Iterator[Classified]:
    for entry in data.get("entry") or []:
        resource = entry.get("resource") or {}
        for path, category in classify_resource(resource):
            yield Classified(entry.get("fullUrl", ""), resource["resourceType"], path, category)


def classify(packet: Bundle | Json) -> list[Classified]:
    """Every categorised resource and element of a packet, in Bundle order.

    Args:
        packet: a referral packet (the Bundle, or its FHIR JSON as `packet_dict` gives it).

    Returns:
        One :class:`Classified` per resource that belongs wholly to a category and per
        categorised element of the structural resources (Patient, ServiceRequest, Task,
        CarePlan...). Content not listed is structural and has no category.
    """
    return list(_iter(packet if isinstance(packet, dict) else packet_dict(packet)))


def categories_present(packet: Bundle | Json) -> frozenset[DataCategory]:
    """The data categories a packet discloses (what a consent must permit to send it whole)."""
    return frozenset(c.category for c in classify(packet))
