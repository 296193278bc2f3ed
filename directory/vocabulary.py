"""The directory's code systems: service categories and types, populations served, capacity.

Category and type codes live in HSDS taxonomies (rows), so imports can add terms; the
population and capacity vocabularies are fixed here because matching reasons name them.
"""

from __future__ import annotations

__all__ = [
    "CAPACITY_EXTENSION_URL",
    "CAPACITY_SYSTEM",
    "CATEGORY_SYSTEM",
    "LANGUAGE_SYSTEM",
    "POPULATIONS",
    "POPULATION_SYSTEM",
    "TYPE_SYSTEM",
]

CATEGORY_SYSTEM = "https://refhub.example.org/CodeSystem/service-category"
TYPE_SYSTEM = "https://refhub.example.org/CodeSystem/service-type"
POPULATION_SYSTEM = "https://refhub.example.org/CodeSystem/population-served"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
#: Modelled on the Gravity SDOH Clinical Care HealthcareService capacity extension (status
#: + note); the URL is refhub's own because the shared standards carry no published one.
CAPACITY_EXTENSION_URL = "https://refhub.example.org/fhir/StructureDefinition/service-capacity"
CAPACITY_SYSTEM = "https://refhub.example.org/CodeSystem/service-capacity"

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
