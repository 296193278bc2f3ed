"""Which HSDS 3.0 document an imported object is, told by its shape (no database access).

HSDS objects carry no type field, so the importer tells them apart by their required and
distinctive fields: a service has `status`, a location `location_type`, an organization
nested `services` or a field only organizations have, a service_at_location a nested
`service` or `location` (or both links), a taxonomy_term `code`, `taxonomy_id`,
`taxonomy_detail`, `parent_id` or `term_uri`, a taxonomy only taxonomy fields with `uri` or
`version`. What fits none of these (or could be two of them) is refused with the reason;
nothing is guessed into an organization.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from directory.hsds_tabular import SKIPPED

__all__ = ["KINDS", "Shape", "expand", "kind_of", "not_kept"]

KINDS = ("service", "organization", "location", "taxonomy", "taxonomy_term")

_TERM_KEYS = {"code", "taxonomy_id", "taxonomy_detail", "parent_id", "term_uri", "taxonomy"}
_ORGANIZATION_KEYS = {
    "alternate_name",
    "email",
    "website",
    "tax_status",
    "tax_id",
    "year_incorporated",
    "legal_status",
    "logo",
    "parent_organization_id",
    "funding",
    "contacts",
    "phones",
    "locations",
    "programs",
    "organization_identifiers",
    "additional_websites",
}
_TAXONOMY_KEYS = {
    "id",
    "name",
    "description",
    "uri",
    "version",
    "metadata",
    "attributes",
    "taxonomy_terms",
}
#: What refhub stores of a document imported on its own (not within a service, whose
#: document is kept whole): the other fields are listed in the import report.
_KEPT = {
    "organization": {
        "id",
        "name",
        "alternate_name",
        "description",
        "email",
        "website",
        "organization_identifiers",
        "phones",
    },
    "location": {
        "id",
        "location_type",
        "organization_id",
        "name",
        "description",
        "latitude",
        "longitude",
        "addresses",
        "accessibility",
        "phones",
    },
    "taxonomy": {"id", "name", "description", "uri", "version", "taxonomy_terms"},
    "taxonomy_term": {
        "id",
        "code",
        "name",
        "description",
        "parent_id",
        "taxonomy",
        "taxonomy_id",
        "taxonomy_detail",
        "term_uri",
    },
}

#: (kind, document) or ("refused", reason) for one imported object.
Shape = tuple[str, Any]


def kind_of(doc: Any) -> Shape:
    """The HSDS document type of `doc` (with the document), or ("refused", why)."""
    if not isinstance(doc, dict):
        return "refused", "not a JSON object"
    if SKIPPED in doc:
        return "skipped", doc[SKIPPED]
    keys = set(doc)
    if "status" in keys:
        return "service", doc
    if "location_type" in keys:
        return "location", doc
    if isinstance(doc.get("services"), list):
        return "organization", doc
    if (
        isinstance(doc.get("service"), dict)
        or isinstance(doc.get("location"), dict)
        or {"service_id", "location_id"} <= keys
    ):
        return "service_at_location", doc
    if keys & _TERM_KEYS:
        return "taxonomy_term", doc
    if keys & {"organization", "organization_id"}:
        return "service", doc  # a service without status: refused by its check, named
    if keys & _ORGANIZATION_KEYS:
        return "organization", doc
    if keys <= _TAXONOMY_KEYS and keys & {"uri", "version"}:
        return "taxonomy", doc
    if keys <= _TAXONOMY_KEYS:
        return "refused", (
            "only id, name and description: could be an organization or a taxonomy "
            "(an organization names e.g. email or website, a taxonomy its uri or version)"
        )
    return "refused", (
        "not an HSDS service (status), organization, location (location_type), "
        "service_at_location, taxonomy or taxonomy_term; fields: " + ", ".join(sorted(keys))
    )


def not_kept(kind: str, doc: dict[str, Any]) -> list[str]:
    """The fields of a document of type `kind` imported on its own that refhub does not
    store (sorted); none for services."""
    kept = _KEPT.get(kind)
    if kept is None:
        return []
    return sorted(k for k, v in doc.items() if k not in kept and v not in (None, "", []))


def _service_at_location(doc: dict[str, Any]) -> Shape:
    """A service_at_location imported as its nested service, with this link in it."""
    service = doc.get("service")
    if not isinstance(service, dict):
        return "refused", (
            f"service_at_location {doc.get('id')}: no nested service to import it with "
            "(import the service document, which lists its service_at_locations)"
        )
    link = {k: v for k, v in doc.items() if k != "service"}
    links = service.get("service_at_locations")
    others = (
        [x for x in links if not (isinstance(x, dict) and x.get("id") == doc.get("id"))]
        if (isinstance(links, list))
        else []
    )
    return "service", {**service, "service_at_locations": [*others, link]}


def expand(documents: Iterable[Any]) -> Iterator[Shape]:
    """Each object as the document type it is: an organization's nested services as
    services (carrying their organization), an organization without services as itself, a
    service_at_location as its service."""
    for doc in documents:
        kind, value = kind_of(doc)
        if kind == "service_at_location":
            kind, value = _service_at_location(value)
        if kind == "taxonomy":
            terms = value.get("taxonomy_terms")
            detail = {k: v for k, v in value.items() if k != "taxonomy_terms"}
            yield kind, detail
            for term in terms if isinstance(terms, list) else []:
                if isinstance(term, dict):
                    yield "taxonomy_term", {"taxonomy_detail": detail, **term}
            continue
        if kind != "organization":
            yield kind, value
            continue
        services = value["services"] if isinstance(value.get("services"), list) else []
        org = {k: v for k, v in value.items() if k != "services"}
        if not services:
            yield "organization", org
        for nested in services:
            if isinstance(nested, dict):
                yield "service", {**nested, "organization": org}
            else:
                yield "refused", "organization.services: an item is not a JSON object"
