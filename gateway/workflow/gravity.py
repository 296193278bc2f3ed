"""Gravity SDOH Clinical Care vocabulary the hub writes: categories, outputs, Procedures."""

from __future__ import annotations

from typing import Any

from adapters import codes

__all__ = [
    "PROCEDURE_PROFILE",
    "RESULTING_ACTIVITY",
    "SDOHCC",
    "SOCIAL_SERVICE_PROCEDURE",
    "ensure_sdoh_category",
    "sdoh_category",
]

SDOHCC = codes.SDOH
PROCEDURE_PROFILE = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-Procedure"
#: Task.output type for what the CBO did (the IG's PerformedActivityReference slice).
RESULTING_ACTIVITY = {
    "coding": [{"system": SDOHCC, "code": "resulting-activity", "display": "Resulting Activity"}]
}
#: SNOMED CT "Social service procedure": the Procedure code when the performer gives none.
SOCIAL_SERVICE_PROCEDURE = {
    "system": codes.SNOMED,
    "code": "410606002",
    "display": "Social service procedure",
}
_UNSPECIFIED = {
    "system": SDOHCC,
    "code": "sdoh-category-unspecified",
    "display": "SDOH Category Unspecified",
}


def sdoh_category(service_codes: list[str]) -> dict[str, Any]:
    """The SDOH category of a referral's service kinds (refhub case domains), or
    `sdoh-category-unspecified` when none maps."""
    for key in service_codes:
        domain = codes.DOMAINS.get(key)
        if domain is not None and domain.sdoh:
            return {"coding": [{"system": SDOHCC, "code": domain.sdoh}]}
    return {"coding": [dict(_UNSPECIFIED)]}


def ensure_sdoh_category(request: dict[str, Any]) -> None:
    """Give a ServiceRequest an SDOHCC category (the IG's SDOH slice) if it has none:
    each refhub case domain with an SDOH equivalent gets its code; otherwise
    `sdoh-category-unspecified` is added."""
    categories = request.get("category") or []
    has_sdoh = False
    for category in categories:
        codings = category.get("coding") or []
        if any(c.get("system") == SDOHCC for c in codings):
            has_sdoh = True
            continue
        for c in list(codings):
            domain = codes.DOMAINS.get(str(c.get("code")))
            if c.get("system") == codes.CS + "case-domain" and domain and domain.sdoh:
                codings.append({"system": SDOHCC, "code": domain.sdoh})
                has_sdoh = True
                break
    if not has_sdoh:
        categories.append({"coding": [dict(_UNSPECIFIED)]})
    request["category"] = categories
