"""The packet's resources as the hub serves them one by one: ids and resolvable references.

Inside the stored packet (a Bundle) resources point at each other by `urn:uuid:`; outside a
Bundle that resolves to nothing, so every resource read through `/fhir` has its references
rewritten to what the hub serves:

- the Patient → `Patient/{client id}` (the client record, read through consent);
- the ServiceRequest → `ServiceRequest/{id}`, the Task → `Task/{referral id}`;
- every other packet resource (Condition, Observation, Goal, DocumentReference, CarePlan,
  RelatedPerson, Practitioner, PractitionerRole, Provenance) → `{type}/{public id}`, the
  public id being the referral id and the resource id in hex, one after the other (64
  characters, FHIR's limit), so a read finds its referral and its consent check at once;
- organisations → `Organization/{network organisation id}`; a reference the hub cannot
  resolve keeps only its display (or goes).

Every read goes through `content.packet_for`, the consent check of `/referrals/{id}/packet`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from directory.models import DirOrganization
from gateway.auth.models import Organisation
from gateway.workflow import access, content, gravity
from gateway.workflow.addressing import URL_SYSTEM, org_reference
from gateway.workflow.errors import ReferralNotFound
from gateway.workflow.models import Referral
from kernel.caller import Caller

__all__ = [
    "SERVED_KINDS",
    "packet_resource",
    "public_id",
    "served_packet",
    "service_request",
    "split_id",
]

#: Packet resource types readable by id at `/fhir/{type}/{public id}`.
SERVED_KINDS = (
    "Condition",
    "Observation",
    "Goal",
    "DocumentReference",
    "CarePlan",
    "RelatedPerson",
    "Practitioner",
    "PractitionerRole",
    "Provenance",
)
_KEPT_KINDS = frozenset({"Consent", "HealthcareService", "Location", "Endpoint"})


def public_id(referral_id: uuid.UUID, resource_id: str) -> str | None:
    """The id a packet resource has at the hub (None if its packet id is not a UUID)."""
    try:
        return referral_id.hex + uuid.UUID(resource_id).hex
    except ValueError:
        return None


def split_id(value: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(referral id, packet resource id) from a public id, or None if it is not one."""
    if len(value) != 64:
        return None
    try:
        return uuid.UUID(value[:32]), uuid.UUID(value[32:])
    except ValueError:
        return None


def _served_reference(referral: Referral, kind: str, rid: str) -> str | None:
    if kind == "Patient":
        return f"Patient/{referral.client_id}"
    if kind == "Task":
        return f"Task/{referral.id}"
    if kind == "ServiceRequest":
        return f"ServiceRequest/{referral.service_request_id}"
    if kind in SERVED_KINDS and (pid := public_id(referral.id, rid)):
        return f"{kind}/{pid}"
    return None


def _index(referral: Referral, packet: dict[str, Any]) -> dict[str, str | None]:
    index: dict[str, str | None] = {}
    for entry in packet.get("entry", []):
        resource = entry.get("resource") or {}
        kind, rid = resource.get("resourceType", ""), str(resource.get("id", ""))
        served = _served_reference(referral, kind, rid)
        for key in (entry.get("fullUrl"), f"{kind}/{rid}", f"urn:uuid:{rid}"):
            if key:
                index[key] = served
    return index


def _organisation(session: Session, reference: str) -> str | None:
    try:
        given = uuid.UUID(reference.split("/", 1)[1])
    except ValueError:
        return None
    if session.get(Organisation, given) is not None:
        return reference
    listed = session.get(DirOrganization, given)
    if listed is not None and listed.owner_organisation_id is not None:
        return f"Organization/{listed.owner_organisation_id}"
    return None


def _target(session: Session, index: dict[str, str | None], reference: str) -> str | None:
    if reference.startswith("#") or reference.startswith(("http://", "https://")):
        return reference
    if reference in index:
        return index[reference]
    kind = reference.split("/", 1)[0]
    if kind == "Organization" and reference.count("/") == 1:
        return _organisation(session, reference)
    if kind in _KEPT_KINDS and reference.count("/") == 1:
        return reference
    return None


def _rewrite(session: Session, index: dict[str, str | None], node: Any) -> Any:
    """A copy of `node` with every reference resolvable (or removed); None if empty."""
    if isinstance(node, list):
        items = [_rewrite(session, index, item) for item in node]
        kept = [item for item in items if item is not None]
        return kept or None
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    ident = node.get("identifier")
    if "reference" not in node and node.get("type") and isinstance(ident, dict):
        url = str(ident.get("value") or "")
        if ident.get("system") == URL_SYSTEM and url.startswith(("https://", "http://")):
            out["reference"] = url  # the sender's own resource (coordination platform)
    for key, value in node.items():
        if key == "reference" and isinstance(value, str):
            target = _target(session, index, value)
            if target is not None:
                out[key] = target
            continue
        if key == "contained":
            out[key] = value  # contained resources point at each other with '#'
            continue
        rewritten = _rewrite(session, index, value)
        if rewritten is not None:
            out[key] = rewritten
    return out or None


def _served(
    session: Session, referral: Referral, index: dict[str, str | None], resource: dict[str, Any]
) -> dict[str, Any]:
    kind, rid = resource["resourceType"], str(resource.get("id", ""))
    served = _rewrite(session, index, resource) or {}
    location = _served_reference(referral, kind, rid)
    served["id"] = location.split("/", 1)[1] if location else rid
    served["meta"] = {"versionId": "1", "lastUpdated": referral.authored_on.isoformat()}
    if kind == "ServiceRequest":
        _service_request_parties(session, referral, served)
    return served


def _service_request_parties(session: Session, referral: Referral, request: dict[str, Any]) -> None:
    """Requester and performer as the network organisations of the referral."""
    request["requester"] = org_reference(session, referral.requester_org_id)
    services = [
        p
        for p in request.get("performer", [])
        if str(p.get("reference", "")).startswith("HealthcareService/")
    ]
    request["performer"] = [org_reference(session, referral.owner_org_id), *services]
    gravity.ensure_sdoh_category(request)


def served_packet(session: Session, caller: Caller, referral: Referral) -> list[dict[str, Any]]:
    """Every resource of the packet the caller may read now, references rewritten.

    Raises:
        ReferralRefused: the receiver's consent is gone (nothing is disclosed).
    """
    packet = content.packet_for(session, caller, referral, access.party_of(referral, caller))
    index = _index(referral, packet)
    return [
        _served(session, referral, index, entry["resource"])
        for entry in packet.get("entry", [])
        if entry.get("resource")
    ]


def service_request(session: Session, caller: Caller, referral: Referral) -> dict[str, Any]:
    """The referral's ServiceRequest as the caller may read it now."""
    for resource in served_packet(session, caller, referral):
        if resource["resourceType"] == "ServiceRequest":
            return resource
    raise ReferralNotFound("The stored packet has no ServiceRequest.")


def packet_resource(session: Session, caller: Caller, kind: str, value: str) -> dict[str, Any]:
    """One packet resource by its public id, under the referral's visibility and consent.

    Raises:
        ReferralNotFound: no such resource, or not visible to the caller (or withheld).
        ReferralRefused: the receiver's consent is gone.
    """
    ids = split_id(value)
    if ids is None or kind not in SERVED_KINDS:
        raise ReferralNotFound(f"No such {kind}.")
    referral = access.get_visible(session, caller, ids[0])
    wanted = public_id(referral.id, str(ids[1]))
    for resource in served_packet(session, caller, referral):
        if resource["resourceType"] == kind and resource["id"] == wanted:
            return resource
    raise ReferralNotFound(f"No such {kind}.")
