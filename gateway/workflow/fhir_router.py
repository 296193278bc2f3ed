"""The workflow's FHIR R4 surface, assembled: transaction, Task, ServiceRequest and the
packet's resources, Communication; and what of it the CapabilityStatement lists.

Gravity's "light" mode for receivers without a server: they search their inbox with
`GET /fhir/Task?owner=Organization/{id}&status=requested&_include=Task:focus`, read the
packet's ServiceRequest and the resources it references, and `PUT /fhir/Task/{id}` to
accept, reject or complete it (with an output). Errors are OperationOutcomes. The routes
live in `fhir_transaction`, `fhir_tasks`, `fhir_reads` and `fhir_messages`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.workflow import fhir_messages, fhir_packet, fhir_reads, fhir_tasks, fhir_transaction

__all__ = ["CAPABILITY", "router"]

router = APIRouter()
for _part in (fhir_transaction, fhir_tasks, fhir_reads, fhir_messages):
    router.include_router(_part.router)

_READ_VREAD = [{"code": "read"}, {"code": "vread"}]
_SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/"

CAPABILITY: list[dict[str, Any]] = [
    {
        "type": "Task",
        "profile": _SDOHCC + "SDOHCC-TaskForReferralManagement",
        "interaction": [*_READ_VREAD, {"code": "search-type"}, {"code": "update"}],
        "versioning": "versioned-update",
        "readHistory": False,
        "conditionalUpdate": False,
        "searchInclude": ["Task:focus"],
        "searchParam": [
            {"name": name, "type": kind}
            for name, kind in (
                ("_id", "token"),
                ("owner", "reference"),
                ("requester", "reference"),
                ("status", "token"),
                ("business-status", "token"),
                ("_lastUpdated", "date"),
                ("patient", "reference"),
                ("subject", "reference"),
                ("focus", "reference"),
            )
        ],
    },
    {
        "type": "Communication",
        "interaction": [*_READ_VREAD, {"code": "create"}, {"code": "search-type"}],
        "versioning": "versioned",
        "searchParam": [{"name": "part-of", "type": "reference"}],
    },
    {
        "type": "ServiceRequest",
        "profile": _SDOHCC + "SDOHCC-ServiceRequest",
        "interaction": list(_READ_VREAD),
        "versioning": "versioned",
    },
    *(
        {"type": kind, "interaction": list(_READ_VREAD), "versioning": "versioned"}
        for kind in fhir_packet.SERVED_KINDS
    ),
]
