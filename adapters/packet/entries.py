"""Building packet entries: hub-issued ids, ``urn:uuid:`` fullUrls, small JSON helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import codes
from adapters.summary import model as m

__all__ = ["EntryBuilder", "Json", "cc", "domain_cc", "name", "org", "telecom"]

Json = dict[str, Any]


def name(value: m.Name | None) -> list[Json]:
    """A summary name as a FHIR HumanName list."""
    if value is None:
        return []
    out: Json = {}
    if value.family:
        out["family"] = value.family
    if value.given:
        out["given"] = [value.given]
    return [out]


def telecom(phone: str | None, email: str | None = None) -> list[Json]:
    """Phone and email as FHIR ContactPoints."""
    out = []
    if phone:
        out.append({"system": "phone", "value": phone})
    if email:
        out.append({"system": "email", "value": email})
    return out


def org(agency: m.OrganizationRef) -> Json:
    """An agency as a Reference: its hub ``Organization/<id>`` when known, and its name."""
    out: Json = {"display": agency.name}
    if agency.reference:
        out["reference"] = agency.reference
    return out


def cc(codings: list[Json], text: str | None = None) -> Json:
    """A CodeableConcept."""
    out: Json = {"coding": codings}
    if text:
        out["text"] = text
    return out


def domain_cc(domain: str | None) -> list[Json]:
    """A case-domain category list (empty when there is no domain)."""
    return [{"coding": codes.DOMAINS[domain].codings()}] if domain else []


class EntryBuilder:
    """Collects Bundle entries; each added resource gets a fresh hub id."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.new_id = new_id
        self.entries: list[Json] = []

    def add(self, resource: Json) -> Json:
        """Give the resource a hub id, append it, return a Reference to it."""
        rid = self.new_id()
        resource["id"] = rid
        self.entries.append(
            {
                "fullUrl": f"urn:uuid:{rid}",
                "resource": {k: v for k, v in resource.items() if v not in (None, [], {})},
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
        return {"reference": f"urn:uuid:{rid}"}

    def worker(self, worker: m.Worker | None, agency: m.OrganizationRef) -> Json | None:
        """Add a case worker (Practitioner + PractitionerRole); Reference to the role."""
        if worker is None:
            return None
        person = self.add({"resourceType": "Practitioner", "name": [{"text": worker.name}]})
        role: Json = {
            "resourceType": "PractitionerRole",
            "practitioner": person,
            "organization": org(agency),
            "telecom": telecom(worker.phone, worker.email),
        }
        if worker.position:
            role["code"] = [{"text": worker.position}]
        return self.add(role)
