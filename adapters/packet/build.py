"""Case summary → referral packet (a FHIR R4 transaction Bundle built with the R4B models)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from fhir.resources.R4B.bundle import Bundle

from adapters import codes
from adapters.codes import coding
from adapters.errors import PacketInvalid
from adapters.packet.assessment import assessment, plan
from adapters.packet.entries import EntryBuilder, Json, cc, name, org, telecom
from adapters.packet.refs import packet_from_dict, reference_problems
from adapters.summary import model as m

__all__ = ["ASSEMBLER", "assemble", "build_packet"]

ASSEMBLER = "refhub adapters"


def _patient(s: m.CaseSummary) -> Json:
    c = s.client
    ext: list[Json] = []
    if c.interpreter_needed is not None:
        ext.append({"url": codes.INTERPRETER_EXT, "valueBoolean": c.interpreter_needed})
    if c.contact_preferences is not None:
        p = c.contact_preferences
        sub: list[Json] = []
        if p.method:
            sub.append({"url": "method", "valueCoding": codes.CONTACT_METHODS.coding(p.method)})
        if p.safe_to_contact is not None:
            sub.append({"url": "safe", "valueBoolean": p.safe_to_contact})
        if p.instructions:
            sub.append({"url": "instructions", "valueString": p.instructions})
        ext.append({"url": codes.CONTACT_PREFS_EXT, "extension": sub})
    address: list[Json] = []
    if c.address is not None:
        a = c.address
        fields = {
            "line": [a.line] if a.line else None,
            "city": a.city,
            "district": a.district,
            "state": a.region,
            "postalCode": a.postal_code,
            "country": a.country,
        }
        address.append({k: v for k, v in fields.items() if v})
    identifiers = []
    for ident in c.identifiers:
        i: Json = {"type": cc([codes.IDENTIFIER_TYPES.coding(ident.type)]), "value": ident.value}
        if ident.issuer:
            i["assigner"] = {"display": ident.issuer}
        identifiers.append(i)
    communication = []
    for lang in c.languages:
        comm: Json = {"language": cc([coding(codes.BCP47, lang.code)])}
        if lang.preferred:
            comm["preferred"] = True
        communication.append(comm)
    return {
        "resourceType": "Patient",
        "extension": ext,
        "identifier": identifiers,
        "name": name(c.name),
        "telecom": telecom(c.phone, c.email),
        "gender": c.gender,
        "birthDate": c.birth_date,
        "address": address,
        "communication": communication,
    }


def _related(member: m.FamilyMember, patient: Json) -> Json:
    relationship = [cc([codes.RELATIONSHIPS.coding(member.relationship)])]
    if member.caregiver:
        relationship.append(cc([dict(codes.FAMILY_ROLE_CAREGIVER)]))
    return {
        "resourceType": "RelatedPerson",
        "patient": patient,
        "relationship": relationship,
        "name": name(member.name),
        "telecom": telecom(member.phone),
        "gender": member.gender,
        "birthDate": member.birth_date,
    }


def build_packet(
    summary: m.CaseSummary,
    *,
    source_format: str = "summary",
    new_id: Callable[[], str] | None = None,
    now: dt.datetime | None = None,
) -> Bundle:
    """Build the referral packet for one case summary.

    Args:
        summary: a validated case summary.
        source_format: the registry name of the format the case came in (recorded in the
            Provenance).
        new_id: issues resource ids (default: random UUIDs); pass a deterministic one in
            tests or to re-issue the same ids.
        now: assembly time for Provenance.recorded (default: current UTC time).

    Returns:
        A FHIR R4 transaction Bundle, validated with the R4B models, every reference
        resolving inside the Bundle or to a hub Organization, HealthcareService or Consent.

    Raises:
        PacketInvalid: the packet failed validation (a hub bug, not an input problem).
    """
    b = EntryBuilder(new_id or (lambda: str(uuid.uuid4())))
    r = summary.referral
    patient = b.add(_patient(summary))
    for member in summary.family:
        b.add(_related(member, patient))
    by_role = b.worker(r.referred_by.worker, r.referred_by.organization)
    to_role = b.worker(r.referred_to.worker, r.referred_to.organization)
    reasons, support = assessment(b, summary, patient)
    documents = []
    for att in summary.attachments:
        attachment: Json = {"contentType": att.content_type, "title": att.title}
        attachment.update({"data": att.data} if att.data else {"url": att.url})
        if att.language:
            attachment["language"] = att.language
        doc = {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": patient,
            "content": [{"attachment": attachment}],
        }
        documents.append(b.add(doc))
    if summary.consent is not None:
        consent: Json = {"reference": summary.consent.reference}
        if summary.consent.description:
            consent["display"] = summary.consent.description
        support.insert(0, consent)
    performer = [org(r.referred_to.organization)]
    service = r.referred_to.service
    if service is not None:
        ref: Json = {"reference": service.reference} if service.reference else {}
        performer.append(ref | ({"display": service.name} if service.name else {}))
    if to_role:
        performer.append(to_role)
    priority = codes.PRIORITIES[r.priority].code
    request = b.add(
        {
            "resourceType": "ServiceRequest",
            "identifier": [
                {
                    "system": codes.CASE_ID_SID,
                    "value": summary.case_id,
                    "assigner": org(r.referred_by.organization),
                }
            ],
            "status": "active",
            "intent": "order",
            "category": [
                cc(codes.DOMAINS[x.domain].codings(), x.details) for x in r.services_requested
            ],
            "priority": priority,
            "code": cc([codes.KINDS.coding(r.kind)]),
            "orderDetail": [cc([dict(codes.DO_NOT_CONTACT)])] if r.do_not_contact_client else [],
            "subject": patient,
            "authoredOn": r.date,
            "requester": by_role or org(r.referred_by.organization),
            "performer": performer,
            "reasonCode": [{"text": r.reason}] if r.reason else [],
            "reasonReference": reasons,
            "supportingInfo": support + documents,
            "note": [{"text": summary.summary}] if summary.summary else [],
        }
    )
    task_input = []
    if r.delivery_channel:
        task_input.append(
            {
                "type": cc([dict(codes.TASK_INPUT_CHANNEL)]),
                "valueCodeableConcept": cc([codes.DELIVERY_CHANNELS.coding(r.delivery_channel)]),
            }
        )
    b.add(
        {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "priority": priority,
            "code": cc([coding(codes.TASK_CODE, "fulfill")]),
            "focus": request,
            "for": patient,
            "authoredOn": r.date,
            "requester": org(r.referred_by.organization),
            "owner": org(r.referred_to.organization),
            "input": task_input,
        }
    )
    plan(b, summary, patient, request)
    return assemble(
        b.entries,
        new_id=b.new_id,
        source_format=source_format,
        author=org(r.referred_by.organization),
        now=now,
    )


def assemble(
    entries: list[Json],
    *,
    new_id: Callable[[], str],
    source_format: str,
    author: Json,
    now: dt.datetime | None = None,
) -> Bundle:
    """Add the hub's Provenance to packet entries and wrap them in a transaction Bundle.

    Args:
        entries: Bundle entries with hub-issued ids and ``urn:uuid:`` fullUrls.
        new_id: issues the Provenance and Bundle ids.
        source_format: registry name of the format the content came in.
        author: Reference to the organisation (or person) that supplied the content.
        now: Provenance.recorded (default: current UTC time).

    Returns:
        The validated packet.

    Raises:
        PacketInvalid: the entries do not make a valid packet.
    """
    b = EntryBuilder(new_id)
    b.entries = list(entries)
    recorded = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    targets = [{"reference": e["fullUrl"]} for e in b.entries]
    b.add(
        {
            "resourceType": "Provenance",
            "target": targets,
            "recorded": recorded.isoformat(timespec="seconds"),
            "activity": cc([coding(codes.DATA_OPERATION, "CREATE")]),
            "agent": [
                {"type": cc([coding(codes.PARTICIPANT_TYPE, "author")]), "who": author},
                {
                    "type": cc([coding(codes.PARTICIPANT_TYPE, "assembler")]),
                    "who": {"display": ASSEMBLER},
                },
            ],
            "entity": [
                {
                    "role": "source",
                    "what": {
                        "identifier": {"system": codes.SOURCE_FORMAT_SID, "value": source_format},
                        "display": f"refhub format {source_format!r}",
                    },
                }
            ],
        }
    )
    bundle_id = b.new_id()
    data = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "transaction",
        "timestamp": recorded.isoformat(timespec="seconds"),
        "entry": b.entries,
    }
    packet = packet_from_dict(data)
    # References are checked on the JSON the models were built from (validation keeps
    # reference strings as they are), not on a second serialisation of the models.
    problems = reference_problems(data)
    if problems:
        raise PacketInvalid("; ".join(problems), location="Bundle")
    return packet
