"""The consent vocabulary: the data categories a packet's contents fall into.

Consent decisions permit categories per recipient; :func:`adapters.minimise` keeps only
permitted ones. The categories are published as the FHIR CodeSystem
``https://refhub.org/fhir/CodeSystem/data-category`` (see :func:`data_category_code_system`).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from adapters.errors import FieldInvalid

__all__ = [
    "DATA_CATEGORY_SYSTEM",
    "DataCategory",
    "data_category_code_system",
    "parse_categories",
]

DATA_CATEGORY_SYSTEM = "https://refhub.org/fhir/CodeSystem/data-category"


class DataCategory(StrEnum):
    """A kind of personal data, as named in consents."""

    IDENTITY = "identity"
    CONTACT = "contact"
    FAMILY = "family"
    NEEDS = "needs"
    HEALTH = "health"
    PROTECTION = "protection"
    LEGAL_STATUS = "legal-status"
    CASE_NOTES = "case-notes"
    DOCUMENTS = "documents"

    @property
    def display(self) -> str:
        """Short human label (English)."""
        return _DEFINITIONS[self][0]

    @property
    def definition(self) -> str:
        """What belongs in this category."""
        return _DEFINITIONS[self][1]

    def coding(self) -> dict[str, str]:
        """This category as a FHIR Coding."""
        return {"system": DATA_CATEGORY_SYSTEM, "code": self.value, "display": self.display}


_DEFINITIONS: dict[DataCategory, tuple[str, str]] = {
    DataCategory.IDENTITY: (
        "Identity",
        "Names, birth date, gender and identity numbers (UNHCR, national id, passport).",
    ),
    DataCategory.CONTACT: (
        "Contact",
        "Address, phone, email, languages, interpreter needs, contact preferences and safe "
        "contact instructions.",
    ),
    DataCategory.FAMILY: (
        "Family",
        "Family members and their relationship to the client, caregivers, household size.",
    ),
    DataCategory.NEEDS: (
        "Needs and assessment",
        "Needs, strengths, barriers, goals, the service plan and services already received "
        "in non-sensitive domains, and the reason for referral.",
    ),
    DataCategory.HEALTH: (
        "Health",
        "Physical and mental health, disability and nutrition needs, risks and goals.",
    ),
    DataCategory.PROTECTION: (
        "Protection and safety",
        "Child protection, gender-based violence, trafficking and safety risks and needs; "
        "separated or unaccompanied status of a minor.",
    ),
    DataCategory.LEGAL_STATUS: (
        "Legal status",
        "Asylum and refugee status, civil documentation and legal assistance needs.",
    ),
    DataCategory.CASE_NOTES: (
        "Case notes",
        "Free-text case summary and notes written by case workers.",
    ),
    DataCategory.DOCUMENTS: ("Documents", "Attached documents (DocumentReference)."),
}


def parse_categories(values: Iterable[str]) -> frozenset[DataCategory]:
    """Turn category codes (from a consent decision or a query string) into categories.

    Args:
        values: category codes such as ``"identity"`` or ``"legal-status"``.

    Returns:
        The set of categories.

    Raises:
        FieldInvalid: a value is not a known category code (the message lists them).
    """
    out: set[DataCategory] = set()
    for v in values:
        try:
            out.add(DataCategory(v))
        except ValueError:
            raise FieldInvalid(
                f"unknown data category {v!r}",
                location="categories",
                expected="one of " + ", ".join(c.value for c in DataCategory),
            ) from None
    return frozenset(out)


def data_category_code_system() -> dict[str, Any]:
    """The data categories as a FHIR R4 CodeSystem resource (JSON), for the hub to publish."""
    return {
        "resourceType": "CodeSystem",
        "id": "data-category",
        "url": DATA_CATEGORY_SYSTEM,
        "name": "RefhubDataCategory",
        "title": "refhub data categories",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "description": "Kinds of personal data named in refhub consents and used to "
        "minimise referral packets.",
        "concept": [
            {"code": c.value, "display": c.display, "definition": c.definition}
            for c in DataCategory
        ],
    }
