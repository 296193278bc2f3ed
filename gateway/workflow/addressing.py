"""How the hub names organisations and completes the packet it stores.

Organisations are referenced by their network organisation id (`Organization/{id}`, the id
`/fhir/Organization` serves). A stored packet names both organisations on its Task, and its
ServiceRequest gets what the Gravity profile asks for when the sender left it out:
`authoredOn` (the time the hub took the referral), `requester` (the sending organisation)
and an SDOHCC category. When the sender runs its own FHIR server (its Bundle entries have
absolute `fullUrl`s), the hub acts as the IG's coordination platform (refer-1): the stored
ServiceRequest becomes a `filler-order` `basedOn` the sender's ServiceRequest, and the
stored Task is `partOf` the sender's Task (logical references by URL in the packet;
resolvable `reference`s in the hub's FHIR reads).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.auth.models import Organisation
from gateway.workflow import gravity
from gateway.workflow.models import Referral
from gateway.workflow.states import business_status_concept
from kernel.db import held

__all__ = [
    "ORG_SID",
    "URL_SYSTEM",
    "Source",
    "address_packet",
    "org_reference",
    "source_of",
    "source_reference",
]

ORG_SID = "https://refhub.org/fhir/sid/organisation"
URL_SYSTEM = "urn:ietf:rfc:3986"


def org_reference(session: Session, organisation_id: uuid.UUID) -> dict[str, Any]:
    """A Reference to a network organisation: `Organization/{network organisation id}`."""
    org = held(session, Organisation, organisation_id)
    ref: dict[str, Any] = {
        "reference": f"Organization/{organisation_id}",
        "identifier": {"system": ORG_SID, "value": str(organisation_id)},
    }
    if org is not None:
        ref["display"] = org.name
    return ref


@dataclass(frozen=True)
class Source:
    """Where the sender's own Task and ServiceRequest live (absolute URLs), if anywhere."""

    task: str | None = None
    request: str | None = None


def source_of(bundle: dict[str, Any]) -> Source:
    """The sender's own Task and ServiceRequest URLs: absolute http(s) entry fullUrls."""
    found: dict[str, str] = {}
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        kind = (entry.get("resource") or {}).get("resourceType")
        url = str(entry.get("fullUrl") or "")
        if kind in ("Task", "ServiceRequest") and url.startswith(("https://", "http://")):
            found.setdefault(kind, url)
    return Source(task=found.get("Task"), request=found.get("ServiceRequest"))


def source_reference(kind: str, url: str) -> dict[str, Any]:
    """A Reference to the sender's own resource, by its URL as identifier (a packet's
    references resolve inside it; the hub's FHIR reads add `reference`, see
    `fhir_packet`)."""
    return {"type": kind, "identifier": {"system": URL_SYSTEM, "value": url}}


def address_packet(
    session: Session, packet: dict[str, Any], referral: Referral, source: Source | None = None
) -> None:
    """Complete the packet about to be stored (see the module docstring)."""
    for entry in packet.get("entry", []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Task":
            resource["requester"] = org_reference(session, referral.requester_org_id)
            resource["owner"] = org_reference(session, referral.owner_org_id)
            resource["status"] = referral.status
            if referral.business_status:
                resource["businessStatus"] = business_status_concept(referral.business_status)
            if source and source.task:
                resource["partOf"] = [source_reference("Task", source.task)]
        elif resource.get("resourceType") == "ServiceRequest":
            resource.setdefault("authoredOn", referral.authored_on.isoformat())
            if not (resource.get("requester") or {}).get("reference"):
                resource["requester"] = org_reference(session, referral.requester_org_id)
            gravity.ensure_sdoh_category(resource)
            if source and source.request:
                resource["intent"] = "filler-order"
                resource["basedOn"] = [source_reference("ServiceRequest", source.request)]
