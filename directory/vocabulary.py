"""The directory's code systems: service categories and types, populations served, capacity.

Category and type codes live in HSDS taxonomies (rows), so imports can add terms; the
population and capacity vocabularies are fixed here because matching reasons name them.
"""

from __future__ import annotations

__all__ = [
    "CAPACITY_EXTENSION_URL",
    "CAPACITY_GRAVITY_CODES",
    "CAPACITY_GRAVITY_SYSTEM",
    "CAPACITY_SYSTEM",
    "CATEGORY_SYSTEM",
    "LANGUAGE_SYSTEM",
    "LEGACY_SYSTEM_PREFIX",
    "POPULATIONS",
    "POPULATION_SYSTEM",
    "SYSTEM_PREFIX",
    "TYPE_SYSTEM",
    "WAIT_TIME_EXTENSION_URL",
    "current_system",
]

#: The hub's canonical URL for its own code systems (as in `consent.fhir`); documents written
#: before migration 0015 named them under `LEGACY_SYSTEM_PREFIX`, which imports still read.
SYSTEM_PREFIX = "https://refhub.org/fhir/CodeSystem/"
LEGACY_SYSTEM_PREFIX = "https://refhub.example.org/CodeSystem/"
CATEGORY_SYSTEM = "https://refhub.org/fhir/CodeSystem/service-category"
TYPE_SYSTEM = "https://refhub.org/fhir/CodeSystem/service-type"
POPULATION_SYSTEM = "https://refhub.org/fhir/CodeSystem/population-served"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
#: The Gravity Project's SDOH Clinical Care HealthcareService capacity status extension
#: (STU3): `capacityStatus` (CodeableConcept, extensible binding to SDOHCC-ValueSetCapacityStatus)
#: and `capacityNotes` (string).
_SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
CAPACITY_EXTENSION_URL = (
    f"{_SDOHCC}/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacityStatus"
)
CAPACITY_GRAVITY_SYSTEM = f"{_SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
#: refhub's capacity codes -> Gravity's; a code Gravity lacks is sent in refhub's system.
CAPACITY_GRAVITY_CODES = {
    "capacity": ("capacity", "Capacity"),
    "no-capacity": ("no-capacity", "No Capacity"),
    "waitlist": ("no-capacity-has-waitlist", "No Capacity - Has Waitlist"),
}
CAPACITY_SYSTEM = "https://refhub.org/fhir/CodeSystem/service-capacity"
#: The expected wait in days, machine-readable beside Gravity's notes.
WAIT_TIME_EXTENSION_URL = "https://refhub.org/fhir/StructureDefinition/wait-time-days"

#: Populations served: code -> label used in search results and matching reasons.
POPULATIONS: dict[str, str] = {
    "survivors-of-violence": "survivors of violence",
    "survivors-of-torture": "survivors of torture",
    "women-and-girls-at-risk": "women and girls at risk",
    "children-at-risk": "children at risk",
    "unaccompanied-minors": "unaccompanied or separated minors",
    "people-with-disabilities": "people with disabilities",
    "lgbtiq": "LGBTIQ+ people",
    "older-people": "older people",
    "families-with-young-children": "families with children under 5",
}


def current_system(uri: str | None) -> str | None:
    """`uri` with the pre-0015 prefix of refhub's code systems replaced by the canonical one."""
    if uri is not None and uri.startswith(LEGACY_SYSTEM_PREFIX):
        return SYSTEM_PREFIX + uri[len(LEGACY_SYSTEM_PREFIX) :]
    return uri
