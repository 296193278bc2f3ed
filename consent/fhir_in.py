"""Reading posted FHIR R4 resources: a Consent into a consent draft, a Patient into a client's
identity. Pure (no session): what needs the database (do the organisations exist, is the
client visible) is checked by the router and the services.

Every refusal names the element at fault as a FHIRPath (`Consent.provision.actor[0]
.reference`), which the OperationOutcome carries in `issue.expression`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from consent import standard_codes
from consent.errors import ConsentInvalid
from consent.models import ProvisionKind, Purpose
from consent.schemas import ConsentCreate, IdentifierIn, IdentityIn, ProvisionIn

__all__ = ["EXT", "ReadConsent", "ReadPatient", "read_consent", "read_patient"]

Json = dict[str, Any]
_SD = "https://refhub.org/fhir/StructureDefinition/"
#: refhub's Consent extensions a posted Consent may carry.
EXT = {
    "method": _SD + "consent-method",
    "witness": _SD + "consent-witness",
    "grantor": _SD + "consent-grantor-relationship",
    "org_type": _SD + "consent-recipient-organisation-type",
}


@dataclass
class ReadConsent:
    """What a posted Consent says: the client, the draft, and every Organization it names
    (id, element) for the router to check they exist."""

    client_id: uuid.UUID
    draft: ConsentCreate
    status: str
    organisations: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    custodians: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def _fhirpath(root: str, loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a FHIRPath (`Consent.provision.actor[0].role`)."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "__root__":
            path += f".{part}"
    return path


def _invalid(message: str, element: str) -> ConsentInvalid:
    return ConsentInvalid(f"{element}: {message}", element=element)


def _reference_id(value: Any, kind: str, element: str) -> uuid.UUID:
    prefix = f"{kind}/"
    if isinstance(value, str) and value.startswith(prefix):
        try:
            return uuid.UUID(value[len(prefix) :])
        except ValueError:
            pass
    raise _invalid(f"expected a reference {prefix}<id> to a record of this hub", element)


def _ext(resource: Json, key: str) -> Any:
    for item in resource.get("extension") or []:
        if item.get("url") == EXT[key]:
            return item.get("valueCode") or item.get("valueString")
    return None


def _purposes(item: Json, where: str) -> list[Purpose]:
    out: list[Purpose] = []
    for index, coding in enumerate(item.get("purpose") or []):
        found = standard_codes.purposes_for(coding.get("system"), coding.get("code"))
        if found is None:
            raise _invalid(
                f"unknown purpose {coding.get('system')}|{coding.get('code')}; use "
                f"{standard_codes.PURPOSE_SYSTEM} or {standard_codes.ACT_REASON} "
                f"({', '.join(standard_codes.PURPOSE_CODES)})",
                f"{where}.purpose[{index}]",
            )
        out += [p for p in found if p not in out]
    return out


def _categories(item: Json, where: str, *, permit: bool) -> list[Any]:
    out: list[Any] = []
    for member in ("class", "securityLabel"):
        for index, coding in enumerate(item.get(member) or []):
            found = standard_codes.categories_for(
                coding.get("system"), coding.get("code"), permit=permit
            )
            if isinstance(found, str):
                raise _invalid(found, f"{where}.{member}[{index}]")
            out += [c for c in found if c not in out]
    return out


def _provision(item: Json, where: str, orgs: list[tuple[uuid.UUID, str]]) -> ProvisionIn:
    recipients: list[Any] = []
    for index, actor in enumerate(item.get("actor") or []):
        element = f"{where}.actor[{index}].reference"
        org = _reference_id(
            (actor.get("reference") or {}).get("reference"), "Organization", element
        )
        orgs.append((org, element))
        recipients.append({"organisation_id": org})
    for index, ext in enumerate(item.get("modifierExtension") or []):
        element = f"{where}.modifierExtension[{index}]"
        if ext.get("url") != EXT["org_type"]:
            raise _invalid(f"unknown modifierExtension {ext.get('url')}", element)
        recipients.append({"organisation_type": (ext.get("valueCoding") or {}).get("code")})
    kind = item.get("type") or ProvisionKind.PERMIT.value
    period = item.get("period") or {}
    try:
        return ProvisionIn.model_validate(
            {
                "kind": kind,
                "recipients": recipients,
                "purposes": _purposes(item, where),
                "categories": _categories(item, where, permit=kind == ProvisionKind.PERMIT),
                "period_start": period.get("start"),
                "period_end": period.get("end"),
            }
        )
    except ValidationError as exc:
        raise _invalid(
            f"not a provision this hub can record ({exc.errors()[0]['msg']})", where
        ) from None


def _rules(root: Json) -> bool:
    return any(root.get(k) for k in ("actor", "purpose", "class", "securityLabel"))


def read_consent(resource: Json) -> ReadConsent:
    """The client, draft and named organisations of a posted R4 Consent.

    The provisions are either nested under a root provision (refhub's own shape: a deny
    root carrying the period, permits and denies inside) or, for a simple consent, the
    root provision alone (its `type`, `actor`, `purpose`, `class`). Missing grantor,
    recipients or purposes are left for the service to refuse (audited).

    Raises:
        ConsentInvalid: not a valid R4 Consent, or something in it this hub cannot record
            (the element is named).
    """
    try:
        Consent.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        element = _fhirpath("Consent", first["loc"])
        raise _invalid(
            f"not a valid FHIR R4 Consent ({exc.error_count()} problems: {first['msg']})",
            element,
        ) from None
    scope = (resource.get("scope") or {}).get("coding") or []
    if not any(c.get("code") == "patient-privacy" for c in scope):
        raise _invalid("only patient-privacy consents are accepted", "Consent.scope")
    categories = [c for cat in resource.get("category") or [] for c in cat.get("coding") or []]
    if not any(c.get("code") == "IDSCL" for c in categories):
        raise _invalid("an information-disclosure consent needs IDSCL", "Consent.category")
    client_id = _reference_id(
        (resource.get("patient") or {}).get("reference"), "Patient", "Consent.patient.reference"
    )
    performers = resource.get("performer") or []
    grantor: Json | None = None
    if performers:
        relationship = _ext(resource, "grantor")
        ref = performers[0].get("reference")
        grantor_id = (
            _reference_id(ref, "Patient", "Consent.performer[0].reference") if ref else None
        )
        if relationship is None and grantor_id == client_id:
            relationship = "self"
        grantor = {"relationship": relationship, "client_id": grantor_id}
    custodians = [
        (
            _reference_id(
                c.get("reference"), "Organization", f"Consent.organization[{i}].reference"
            ),
            f"Consent.organization[{i}].reference",
        )
        for i, c in enumerate(resource.get("organization") or [])
    ]
    orgs: list[tuple[uuid.UUID, str]] = []
    root = resource.get("provision") or {}
    nested = root.get("provision") or []
    if nested and _rules(root):
        raise _invalid(
            "put the rules either in the root provision alone or in nested provisions "
            "under a deny root, not both",
            "Consent.provision",
        )
    if nested:
        provisions = [
            _provision(item, f"Consent.provision.provision[{i}]", orgs)
            for i, item in enumerate(nested)
        ]
    else:
        provisions = [_provision(root, "Consent.provision", orgs)] if _rules(root) else []
    period = root.get("period") or {}
    values = {
        "grantor": grantor,
        "method": _ext(resource, "method") or "electronic",
        "witness": _ext(resource, "witness"),
        "period_start": period.get("start"),
        "period_end": period.get("end"),
        "language": (resource.get("sourceAttachment") or {}).get("language") or "en",
        "provisions": provisions,
    }
    try:
        draft = ConsentCreate.model_validate(values)
    except ValidationError as exc:
        member = str(exc.errors()[0]["loc"][0])
        element = {
            "grantor": "Consent.performer",
            "method": "Consent.extension",
            "witness": "Consent.extension",
            "period_start": "Consent.provision.period.start",
            "period_end": "Consent.provision.period.end",
            "language": "Consent.sourceAttachment.language",
        }.get(member, "Consent")
        raise _invalid(f"not recorded as given ({exc.errors()[0]['msg']})", element) from None
    return ReadConsent(client_id, draft, str(resource.get("status")), orgs, custodians)


@dataclass
class ReadPatient:
    """The identity and the caller's identifiers a posted Patient gives."""

    identity: IdentityIn
    identifiers: list[IdentifierIn]


def _name(resource: Json) -> str | None:
    for item in resource.get("name") or []:
        if item.get("text"):
            return str(item["text"])
        parts = [*(item.get("given") or []), item.get("family")]
        text = " ".join(str(p) for p in parts if p)
        if text:
            return text
    return None


def read_patient(resource: Json) -> ReadPatient:
    """What the hub keeps of a posted R4 Patient: name, birthDate, one phone or email,
    the preferred language and the identifiers (the caller's own). Nothing else is stored
    (the hub keeps a minimal identity); the answer shows what was kept.

    Raises:
        ConsentInvalid: not a valid R4 Patient, or without a name (the element is named).
    """
    if resource.get("resourceType") != "Patient":
        raise _invalid("expected a Patient", "Patient.resourceType")
    try:
        Patient.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        element = _fhirpath("Patient", first["loc"])
        raise _invalid(f"not a valid FHIR R4 Patient ({first['msg']})", element) from None
    name = _name(resource)
    if not name:
        raise _invalid("a client needs a name (text, or given and family)", "Patient.name")
    contact = next(
        (
            str(t["value"])
            for t in resource.get("telecom") or []
            if t.get("system") in ("phone", "email", "sms") and t.get("value")
        ),
        None,
    )
    languages = [
        coding.get("code")
        for comm in resource.get("communication") or []
        for coding in (comm.get("language") or {}).get("coding") or []
        if coding.get("code") and (comm.get("preferred") or len(resource["communication"]) == 1)
    ]
    values: Json = {"name": name, "birth_date": resource.get("birthDate"), "contact": contact}
    if languages:
        values["preferred_language"] = languages[0]
    try:
        identity = IdentityIn.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = {
            "name": "Patient.name",
            "birth_date": "Patient.birthDate",
            "contact": "Patient.telecom",
            "preferred_language": "Patient.communication",
        }.get(str(first["loc"][0]), "Patient")
        raise _invalid(f"not kept as given ({first['msg']})", where) from None
    identifiers: list[IdentifierIn] = []
    for index, item in enumerate(resource.get("identifier") or []):
        if not item.get("system") or not item.get("value"):
            raise _invalid("an identifier needs system and value", f"Patient.identifier[{index}]")
        try:
            identifiers.append(IdentifierIn(system=item["system"], value=item["value"]))
        except ValidationError as exc:
            raise _invalid(exc.errors()[0]["msg"], f"Patient.identifier[{index}]") from None
    return ReadPatient(identity, identifiers)
