"""Standard codes a FHIR Consent may use for purposes and data classes, mapped to refhub's.

refhub decides on its own purposes (`consent.models.Purpose`) and data categories
(`adapters.DataCategory`); its own code systems stay accepted. A posted Consent may also
use the standard codes below. A mapping never lets a consent disclose more than it says:

- A purpose maps to the refhub purposes that are *within* it (a consent "for treatment"
  permits a referral or a handover for services; it does not become a consent for
  everything).
- A data class maps to the refhub category that *covers* it. refhub cannot separate part
  of a category from the rest, so such a code narrows nothing in a permit: it is accepted
  in a **deny** provision (denying the whole covering category, the safe side) and refused
  in a permit. Codes naming exactly a category (`exact`) are accepted in both.

Sources:
- HL7 v3 ActReason (purpose of use), http://terminology.hl7.org/CodeSystem/v3-ActReason,
  THO 6.x: TREAT, ETREAT, CAREMGT, COC, HOPERAT. HOPERAT is mapped because HIPAA's "health
  care operations" include case management and care coordination (45 CFR 164.501).
- HL7 v3 ActCode, information sensitivity policy (value set
  v3-ActInformationSensitivityPolicy), http://terminology.hl7.org/CodeSystem/v3-ActCode.
- FHIR R4 resource types (http://hl7.org/fhir/resource-types), which R4's
  Consent.provision.class binding (ConsentContentClass, extensible) includes.
- LOINC / SNOMED CT: no class there names one of refhub's categories (LOINC document
  types are note kinds, SNOMED CT record artefacts are not consent categories), so none is
  mapped rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters import DATA_CATEGORY_SYSTEM, DataCategory
from consent.models import Purpose

__all__ = [
    "ACT_CODE",
    "ACT_REASON",
    "CLASS_CODES",
    "PURPOSE_CODES",
    "RESOURCE_TYPES",
    "ClassMapping",
    "categories_for",
    "purposes_for",
]

ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
PURPOSE_SYSTEM = "https://refhub.org/fhir/CodeSystem/consent-purpose"

#: v3-ActReason code -> (display, the refhub purposes within it).
PURPOSE_CODES: dict[str, tuple[str, tuple[Purpose, ...]]] = {
    "TREAT": ("treatment", (Purpose.REFERRAL, Purpose.HANDOVER)),
    "ETREAT": ("emergency treatment", (Purpose.REFERRAL,)),
    "CAREMGT": ("care management", (Purpose.SERVICE_COORDINATION, Purpose.FOLLOW_UP)),
    "COC": ("coordination of care", (Purpose.SERVICE_COORDINATION,)),
    "HOPERAT": ("healthcare operations", (Purpose.SERVICE_COORDINATION,)),
}


@dataclass(frozen=True)
class ClassMapping:
    """A standard data class: the refhub categories covering it; `exact` when they are
    exactly what it names (then a permit may use it too)."""

    display: str
    categories: tuple[DataCategory, ...]
    exact: bool = False


_HEALTH = (DataCategory.HEALTH,)
#: (system, code) -> mapping.
CLASS_CODES: dict[tuple[str, str], ClassMapping] = {
    (ACT_CODE, "PSY"): ClassMapping("psychiatry disorder information sensitivity", _HEALTH),
    (ACT_CODE, "PSYTHPN"): ClassMapping("psychotherapy note information sensitivity", _HEALTH),
    (ACT_CODE, "MH"): ClassMapping("mental health information sensitivity", _HEALTH),
    (ACT_CODE, "BH"): ClassMapping("behavioral health information sensitivity", _HEALTH),
    (ACT_CODE, "ETH"): ClassMapping("substance abuse information sensitivity", _HEALTH),
    (ACT_CODE, "SUD"): ClassMapping("substance use disorder information sensitivity", _HEALTH),
    (ACT_CODE, "HIV"): ClassMapping("HIV/AIDS information sensitivity", _HEALTH),
    (ACT_CODE, "STD"): ClassMapping(
        "sexually transmitted disease information sensitivity", _HEALTH
    ),
    (ACT_CODE, "SEX"): ClassMapping(
        "sexuality and reproductive health information sensitivity", _HEALTH
    ),
    (ACT_CODE, "GDIS"): ClassMapping("genetic disease information sensitivity", _HEALTH),
    (ACT_CODE, "SCA"): ClassMapping("sickle cell anemia information sensitivity", _HEALTH),
    (ACT_CODE, "SDV"): ClassMapping(
        "sexual assault, abuse, or domestic violence information sensitivity",
        (DataCategory.PROTECTION,),
    ),
    (ACT_CODE, "SOC"): ClassMapping(
        "social services information sensitivity", (DataCategory.NEEDS,)
    ),
    (RESOURCE_TYPES, "Patient"): ClassMapping(
        "Patient", (DataCategory.IDENTITY, DataCategory.CONTACT), exact=True
    ),
    (RESOURCE_TYPES, "RelatedPerson"): ClassMapping(
        "RelatedPerson", (DataCategory.FAMILY,), exact=True
    ),
    (RESOURCE_TYPES, "DocumentReference"): ClassMapping(
        "DocumentReference", (DataCategory.DOCUMENTS,), exact=True
    ),
}


def purposes_for(system: str | None, code: str | None) -> tuple[Purpose, ...] | None:
    """The refhub purposes a purpose Coding stands for; None if the code is unknown."""
    if system == PURPOSE_SYSTEM:
        try:
            return (Purpose(str(code)),)
        except ValueError:
            return None
    if system == ACT_REASON and code in PURPOSE_CODES:
        return PURPOSE_CODES[code][1]
    return None


def categories_for(
    system: str | None, code: str | None, *, permit: bool
) -> tuple[DataCategory, ...] | str:
    """The refhub categories a data-class Coding stands for, or why it is refused
    (unknown, or a part of a category used in a permit)."""
    if system == DATA_CATEGORY_SYSTEM:
        try:
            return (DataCategory(str(code)),)
        except ValueError:
            return f"{code!r} is not a refhub data category"
    mapping = CLASS_CODES.get((str(system), str(code)))
    if mapping is None:
        return f"{system}|{code} is not a data class this hub knows"
    if permit and not mapping.exact:
        names = ", ".join(c.value for c in mapping.categories)
        return (
            f"{system}|{code} names part of refhub's category {names}; a permit cannot "
            f"disclose only that part. Permit the category ({DATA_CATEGORY_SYSTEM}|{names}) "
            "or use the code in a deny provision."
        )
    return mapping.categories
