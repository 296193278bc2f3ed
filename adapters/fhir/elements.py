"""What an agency's FHIR Bundle may carry into a packet: resource types and their elements.

Anything else is dropped with a warning (or, for modifier extensions, refused): a packet
holds only content whose data category the hub knows, so that minimisation is complete.
"""

from __future__ import annotations

__all__ = ["CARRIED", "HUB_RESOURCE_TYPES", "PATIENT_EXTENSIONS"]

from adapters import codes

_COMMON = frozenset({"resourceType", "id"})

CARRIED: dict[str, frozenset[str]] = {
    kind: _COMMON | frozenset(elements.split())
    for kind, elements in {
        "Patient": "active identifier name telecom gender birthDate address communication "
        "extension",
        "RelatedPerson": "active identifier patient relationship name telecom gender birthDate "
        "address communication",
        "Practitioner": "active name telecom",
        "PractitionerRole": "active practitioner organization code telecom",
        "ServiceRequest": "identifier basedOn status intent category priority code orderDetail "
        "subject authoredOn requester performer reasonCode reasonReference supportingInfo note",
        "Task": "identifier status statusReason businessStatus intent priority code description "
        "focus for authoredOn lastModified requester owner input output note",
        "Condition": "clinicalStatus verificationStatus category severity code subject "
        "onsetDateTime onsetString recordedDate note",
        "Observation": "status category code subject effectiveDateTime issued valueQuantity "
        "valueCodeableConcept valueString valueBoolean valueInteger component note",
        "Goal": "lifecycleStatus achievementStatus category priority description subject "
        "startDate target note",
        "CarePlan": "status intent category title description subject period goal activity note",
        "DocumentReference": "status docStatus type category subject date description content",
        "Provenance": "target occurredDateTime recorded activity agent entity reason",
    }.items()
}

# Resources the hub keeps itself (directory, consent registry); supplied inline they are
# handed to the hub, and references to them become logical references.
HUB_RESOURCE_TYPES = frozenset({"Organization", "HealthcareService", "Consent"})

PATIENT_EXTENSIONS = frozenset({codes.INTERPRETER_EXT, codes.CONTACT_PREFS_EXT})
