"""Referral packet → case summary: the reverse of :mod:`adapters.packet.build`.

Packets the hub built read back field for field. Packets normalised from an agency's FHIR
may hold content the summary has no place for; the reader reports it as warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from adapters import codes
from adapters.errors import AdapterError, CaseInvalid, FieldInvalid, UnsupportedContent
from adapters.packet.read_assessment import read_family, read_needs, read_observations, read_plan
from adapters.packet.reader import (
    PacketReader,
    code_of,
    domain_of,
    first,
    name_of,
    org_of,
    telecom_of,
    worker_fields,
    worker_role,
)
from adapters.packet.refs import packet_dict
from adapters.results import AdapterWarning
from adapters.summary.model import CaseSummary

__all__ = ["read_packet"]

Json = dict[str, Any]


def _client(patient: Json, r: PacketReader) -> Json:
    ext = {e.get("url"): e for e in patient.get("extension") or []}
    prefs = None
    if codes.CONTACT_PREFS_EXT in ext:
        sub = {e.get("url"): e for e in ext[codes.CONTACT_PREFS_EXT].get("extension") or []}
        prefs = {
            "method": codes.CONTACT_METHODS.key_of([sub.get("method", {}).get("valueCoding")]),
            "safe_to_contact": sub.get("safe", {}).get("valueBoolean"),
            "instructions": sub.get("instructions", {}).get("valueString"),
        }
    a = first(patient.get("address"))
    address = {
        "line": (a.get("line") or [None])[0],
        "city": a.get("city"),
        "district": a.get("district"),
        "region": a.get("state"),
        "postal_code": a.get("postalCode"),
        "country": a.get("country"),
    }
    identifiers = []
    for i, ident in enumerate(patient.get("identifier") or []):
        kind = codes.IDENTIFIER_TYPES.key_of((ident.get("type") or {}).get("coding"))
        if kind is None:
            r.warn(f"Patient.identifier[{i}]", "identifier type not known; recorded as 'other'")
        identifiers.append(
            {
                "type": kind or "other",
                "value": ident.get("value"),
                "issuer": (ident.get("assigner") or {}).get("display"),
            }
        )
    languages = []
    for comm in patient.get("communication") or []:
        code = first((comm.get("language") or {}).get("coding")).get("code")
        if code:
            languages.append({"code": code, "preferred": bool(comm.get("preferred"))})
    return {
        "name": name_of(patient.get("name")),
        "birth_date": patient.get("birthDate"),
        "gender": patient.get("gender"),
        "identifiers": identifiers,
        "address": address if any(address.values()) else None,
        "phone": telecom_of(patient.get("telecom"), "phone"),
        "email": telecom_of(patient.get("telecom"), "email"),
        "languages": languages,
        "interpreter_needed": ext.get(codes.INTERPRETER_EXT, {}).get("valueBoolean"),
        "contact_preferences": prefs,
    }


def _referral(r: PacketReader, request: Json, task: Json, out: Json) -> None:
    priority = request.get("priority") or task.get("priority") or "routine"
    by_key = {c.code: c.key for c in codes.PRIORITIES.codes}
    if priority not in by_key:
        r.warn("ServiceRequest.priority", f"{priority!r} read as '24h'", "defaulted")
    by_role = worker_role(r.resolve(request.get("requester")))
    requester = task.get("requester") or (
        by_role.get("organization") if by_role else request.get("requester")
    )
    performers = request.get("performer") or []
    owner = task.get("owner") or first(performers)
    service = to_role = None
    for p in performers[1:]:
        target = r.resolve(p)
        if target.get("resourceType") == "PractitionerRole":
            to_role = target
        elif not target:
            service = {"name": p.get("display"), "reference": p.get("reference")}
    channel = None
    for inp in task.get("input") or []:
        if code_of(inp.get("type")) == (codes.CS + "task-input", "delivery-channel"):
            channel = codes.DELIVERY_CHANNELS.key_of(
                (inp.get("valueCodeableConcept") or {}).get("coding")
            )
    out["referral"] = {
        "kind": codes.KINDS.key_of((request.get("code") or {}).get("coding")) or "referral",
        "priority": by_key.get(priority, "24h"),
        "date": str(request.get("authoredOn") or task.get("authoredOn") or "")[:10] or None,
        "referred_by": {
            "organization": org_of(requester, "Task.requester", r),
            "worker": worker_fields(by_role, r) if by_role else None,
        },
        "referred_to": {
            "organization": org_of(owner, "Task.owner", r),
            "service": service,
            "worker": worker_fields(to_role, r) if to_role else None,
        },
        "services_requested": [
            {
                "domain": domain_of(cc, r, f"ServiceRequest.category[{i}]", "other"),
                "details": cc.get("text"),
            }
            for i, cc in enumerate(request.get("category") or [])
        ],
        "delivery_channel": channel,
        "reason": first(request.get("reasonCode")).get("text"),
        "do_not_contact_client": any(
            code_of(cc) == (codes.DO_NOT_CONTACT["system"], codes.DO_NOT_CONTACT["code"])
            for cc in request.get("orderDetail") or []
        ),
    }


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def read_packet(packet: Bundle) -> tuple[CaseSummary, list[AdapterWarning]]:
    """Read a referral packet back into a case summary.

    Args:
        packet: a referral packet (built by the hub or normalised from an agency's FHIR).

    Returns:
        The case summary and warnings for packet content the summary cannot carry.

    Raises:
        CaseInvalid: the packet lacks what a summary needs (a Patient, a ServiceRequest, a
            referral date...); ``errors`` names each FHIR element.
    """
    r = PacketReader(packet_dict(packet))
    try:
        patient = r.one("Patient")
        request = r.one("ServiceRequest")
        task = r.one("Task", required=False)
    except (FieldInvalid, UnsupportedContent) as exc:
        raise CaseInvalid(packet.id or "packet", (exc,)) from exc
    request_url = next(
        (e.get("fullUrl", "") for e in r.entries if e.get("resource") is request), ""
    )
    out: Json = {
        "case_id": first(request.get("identifier")).get("value") or packet.id,
        "client": _client(patient, r),
        "family": read_family(r),
        "needs": [],
        "risks": [],
        "strengths": [],
        "barriers": [],
        "goals": [],
        "services_received": [],
        "summary": first(request.get("note")).get("text"),
        "attachments": [],
    }
    _referral(r, request, task, out)
    read_needs(r, out)
    read_observations(r, out)
    read_plan(r, request_url, out)
    for ref in request.get("supportingInfo") or []:
        if str(ref.get("reference", "")).startswith("Consent/"):
            out["consent"] = {"reference": ref["reference"], "description": ref.get("display")}
    for doc in r.all("DocumentReference"):
        for content in doc.get("content") or []:
            a = content.get("attachment") or {}
            out["attachments"].append(
                {
                    "title": a.get("title") or doc.get("description") or "document",
                    "content_type": a.get("contentType") or "application/octet-stream",
                    "data": a.get("data"),
                    "url": a.get("url"),
                    "language": a.get("language"),
                }
            )
    try:
        summary = CaseSummary.model_validate(_prune(out))
    except ValidationError as exc:
        errors = tuple(
            FieldInvalid(e["msg"], location=".".join(str(x) for x in e["loc"]))
            for e in exc.errors()
        )
        raise CaseInvalid(str(out["case_id"]), errors) from exc
    return summary, r.warnings


def read_packets(
    packets: Sequence[Bundle],
) -> tuple[list[CaseSummary], list[AdapterWarning], list[tuple[int, AdapterError]]]:
    """Read every packet back into a case summary, for the writers.

    Returns the summaries of the packets that read, the warnings found, and the index and
    error of each packet that did not (one bad packet never stops the others).
    """
    summaries: list[CaseSummary] = []
    warnings: list[AdapterWarning] = []
    failures: list[tuple[int, AdapterError]] = []
    for i, packet in enumerate(packets):
        try:
            summary, found = read_packet(packet)
        except CaseInvalid as exc:
            failures.append((i, exc))
            continue
        warnings.extend(found)
        summaries.append(summary)
    return summaries, warnings, failures
